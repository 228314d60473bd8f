"""Clinic tablet mode (issue 19): a shared device that forgets the last patient.

Over HTTP, as the tablet's browser and the member of staff who sets it up would.
The patient pages are the real step and finish templates with the tablet
include added where the lead has not added it yet (``tablet_templates``).
"""

import datetime

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import signing
from django.urls import reverse

from audit.models import AuditEntry
from intake.models import Case, IntakeDraft
from intake.roles import CLINIC_MANAGER, CLINICIAN, FRONT_DESK
from intake.tablet import TABLET_COOKIE, TABLET_SALT, is_clinic_tablet
from intake.views import DRAFT_COOKIE
from tests.factories import staff_in
from tests.intake.questionnaire import ABOUT, fill_all, post_step

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 2, 14, 0, tzinfo=datetime.UTC)
SWITCH_URL = "/admin/intake/case/clinic-tablet/"
KEEP_ALIVE_URL = "/intake/tablet/keep-alive/"
CLEAR_URL = "/intake/tablet/clear/"
CLEARED = "For privacy, the last answers on this tablet were cleared."
HAND_BACK = "Please hand the tablet back to the front desk."
SADDLE = {"saddle_numbness": "yes"}
#: What only the previous patient typed; none of it may reach the next one.
PREVIOUS_PATIENT = (ABOUT["first_name"], ABOUT["last_name"], ABOUT["phone"])


def make_tablet(client, device: str = "front-desk-1"):
    client.cookies[TABLET_COOKIE] = signing.dumps({"device": device}, salt=TABLET_SALT)
    return client


def page_text(response) -> str:
    return response.content.decode()


def shows_previous_patient(response) -> bool:
    return any(value in page_text(response) for value in PREVIOUS_PATIENT)


def draft_cookie_dropped(response) -> bool:
    morsel = response.cookies.get(DRAFT_COOKIE)
    return morsel is not None and morsel.value == "" and morsel["max-age"] == 0


@pytest.fixture(autouse=True)
def idle_time(settings):
    settings.CLINIC_TABLET_IDLE_SECONDS = 300


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def tablet(client):
    return make_tablet(client)


def later(clock, seconds: int) -> None:
    clock.move_to(NOW + datetime.timedelta(seconds=seconds))


# The device cookie -------------------------------------------------------------------


def test_front_desk_makes_this_device_a_clinic_tablet_and_it_is_audited(client, settings):
    settings.SESSION_COOKIE_SECURE = False
    desk = staff_in(FRONT_DESK)
    client.force_login(desk)

    page = client.get(SWITCH_URL)
    assert page.status_code == 200
    assert "This device is not a clinic tablet." in page_text(page)
    assert "left untouched for 5 minutes is cleared" in page_text(page)

    response = client.post(SWITCH_URL, {"tablet": "on"})

    assert response.status_code == 302
    cookie = response.cookies[TABLET_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == 400 * 86400
    assert not cookie["secure"]  # plain HTTP in development
    device = signing.loads(cookie.value, salt=TABLET_SALT)["device"]
    entry = AuditEntry.objects.get(object_type="clinic tablet")
    assert (entry.user, entry.action, entry.object_id) == (desk, "change", device)
    assert entry.details == {"clinic_tablet": True}
    assert "This device is a clinic tablet." in page_text(client.get(SWITCH_URL))


def test_the_device_cookie_is_secure_over_https(client, settings):
    settings.SESSION_COOKIE_SECURE = False
    client.force_login(staff_in(CLINICIAN))

    response = client.post(SWITCH_URL, {"tablet": "on"}, secure=True)

    assert response.cookies[TABLET_COOKIE]["secure"] is True


def test_switching_tablet_mode_off_drops_the_cookie_and_is_audited(client):
    client.force_login(staff_in(FRONT_DESK))
    make_tablet(client, device="desk-2")

    response = client.post(SWITCH_URL, {"tablet": "off"})

    assert response.cookies[TABLET_COOKIE].value == ""
    assert response.cookies[TABLET_COOKIE]["max-age"] == 0
    entry = AuditEntry.objects.get(object_type="clinic tablet")
    assert (entry.object_id, entry.details) == ("desk-2", {"clinic_tablet": False})


def test_the_switch_takes_only_on_or_off(client):
    client.force_login(staff_in(FRONT_DESK))

    response = client.post(SWITCH_URL, {"tablet": "maybe"})

    assert response.status_code == 400
    assert TABLET_COOKIE not in response.cookies
    assert not AuditEntry.objects.filter(object_type="clinic tablet").exists()


@pytest.mark.parametrize("role", [CLINIC_MANAGER, None])
def test_staff_without_the_permission_cannot_switch_tablet_mode(client, role):
    client.force_login(staff_in(role))

    assert client.get(SWITCH_URL).status_code == 403
    response = client.post(SWITCH_URL, {"tablet": "on"})

    assert response.status_code == 403
    assert TABLET_COOKIE not in response.cookies
    assert not AuditEntry.objects.filter(object_type="clinic tablet").exists()


def test_nobody_signed_out_reaches_the_switch(client):
    response = client.post(SWITCH_URL, {"tablet": "on"})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert TABLET_COOKIE not in response.cookies


def test_a_tampered_or_foreign_device_cookie_is_not_a_tablet(rf):
    genuine = signing.dumps({"device": "desk-1"}, salt=TABLET_SALT)
    forged = {
        "tampered": genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"),
        "other salt": signing.dumps({"device": "desk-1"}, salt="some.other.use"),
        "unsigned": "desk-1",
        "no device": signing.dumps({"tablet": True}, salt=TABLET_SALT),
    }
    request = rf.get("/intake/")
    request.COOKIES[TABLET_COOKIE] = genuine
    assert is_clinic_tablet(request)
    for name, value in forged.items():
        request.COOKIES[TABLET_COOKIE] = value
        assert not is_clinic_tablet(request), name


def test_the_device_cookie_expires_after_the_cookie_age(rf, settings):
    settings.CLINIC_TABLET_COOKIE_DAYS = 400
    with time_machine.travel(NOW, tick=False) as clock:
        value = signing.dumps({"device": "desk-1"}, salt=TABLET_SALT)
        request = rf.get("/intake/")
        request.COOKIES[TABLET_COOKIE] = value
        clock.move_to(NOW + datetime.timedelta(days=399))
        assert is_clinic_tablet(request)
        clock.move_to(NOW + datetime.timedelta(days=401))
        assert not is_clinic_tablet(request)


# The idle questionnaire -------------------------------------------------------------


def test_an_idle_questionnaire_on_a_tablet_is_wiped_before_the_next_person_sees_it(tablet, clock):
    post_step(tablet, "about")
    assert IntakeDraft.objects.count() == 1

    later(clock, 301)
    response = tablet.get(reverse("intake:start"), follow=True)

    assert not shows_previous_patient(response)
    assert CLEARED in page_text(response)
    assert not IntakeDraft.objects.exists()
    assert tablet.cookies[DRAFT_COOKIE].value == ""  # the browser was told to drop it


def test_the_last_patients_language_goes_with_their_answers(tablet, clock, settings):
    tablet.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    post_step(tablet, "about")

    later(clock, 301)
    response = tablet.get(reverse("intake:start"))

    assert response.headers["Content-Language"] == "en"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME]["max-age"] == 0


def test_a_language_chosen_while_answering_stays(tablet, clock, settings):
    tablet.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    post_step(tablet, "about")

    later(clock, 200)
    response = tablet.get(reverse("intake:start"))

    assert response.headers["Content-Language"] == "es"
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_wipe_drops_the_draft_cookie_in_the_response(tablet, clock):
    post_step(tablet, "about")

    later(clock, 301)
    response = tablet.post(KEEP_ALIVE_URL)

    assert response.json() == {"cleared": True}
    assert draft_cookie_dropped(response)
    assert not IntakeDraft.objects.exists()


def test_a_draft_used_within_the_idle_time_is_kept(tablet, clock):
    post_step(tablet, "about")
    draft = IntakeDraft.objects.get()

    later(clock, 299)
    response = post_step(tablet, "legs")

    assert response.status_code == 302
    assert CLEARED not in page_text(tablet.get(response["Location"]))
    assert set(IntakeDraft.objects.get(pk=draft.pk).data) == {"about", "legs"}


def test_a_new_patient_after_a_wipe_starts_a_new_questionnaire(tablet, clock):
    post_step(tablet, "about")
    first = IntakeDraft.objects.get()

    later(clock, 600)
    response = post_step(tablet, "about", {"first_name": "Next", "last_name": "Person"})

    assert response.status_code == 302
    draft = IntakeDraft.objects.get()
    assert draft.pk != first.pk
    assert draft.data["about"]["first_name"] == "Next"
    assert response.cookies[DRAFT_COOKIE].value  # the new questionnaire's cookie is kept


def test_a_case_sent_early_stays_when_its_draft_is_wiped(tablet, clock):
    fill_all(tablet, SADDLE, stop_before="health")
    case = Case.objects.get()
    assert case.created_early

    later(clock, 301)
    response = tablet.get(reverse("intake:start"), follow=True)

    assert not IntakeDraft.objects.exists()
    assert not shows_previous_patient(response)
    assert case.reference not in page_text(response)
    kept = Case.objects.get(pk=case.pk)
    assert kept.answers["saddle_numbness"] == "yes"


def test_keep_alive_extends_the_idle_time(tablet, clock):
    post_step(tablet, "about")

    later(clock, 250)
    response = tablet.post(KEEP_ALIVE_URL)
    assert response.json() == {"cleared": False, "seconds_left": 300}

    later(clock, 250 + 299)  # 549 s after the answers, 299 s after the keep-alive
    assert post_step(tablet, "legs").status_code == 302
    assert set(IntakeDraft.objects.get().data) == {"about", "legs"}


def test_keep_alive_is_csrf_protected_and_post_only(tablet, clock):
    post_step(tablet, "about")
    before = IntakeDraft.objects.get().updated_at
    strict = tablet.__class__(enforce_csrf_checks=True)
    strict.cookies = tablet.cookies  # the same browser, posting without the page's token

    later(clock, 100)
    assert strict.post(KEEP_ALIVE_URL).status_code == 403
    assert strict.get(KEEP_ALIVE_URL).status_code == 405
    assert IntakeDraft.objects.get().updated_at == before


def test_the_step_page_on_a_tablet_carries_the_idle_warning(tablet, clock):
    post_step(tablet, "about")

    later(clock, 120)
    page = page_text(tablet.get(reverse("intake:start"), follow=True))

    assert 'id="tablet-idle-warning"' in page
    assert "Are you still there?" in page
    assert "For your privacy, your answers will be cleared in 1 minute." in page
    assert "I am still here" in page
    assert 'data-seconds-left="180"' in page
    assert 'data-has-draft="1"' in page
    assert f'data-keep-alive-url="{KEEP_ALIVE_URL}"' in page
    assert "js/tablet" in page
    assert CLEARED not in page


def test_the_warning_counts_from_the_save_on_a_page_shown_again_with_errors(tablet, clock):
    post_step(tablet, "about")

    later(clock, 250)
    page = post_step(tablet, "legs", {"leg_gives_way": ""})

    assert page.status_code == 200  # the step again, saying what is missing
    assert 'data-seconds-left="300"' in page_text(page)


def test_the_page_script_clears_the_questionnaire_and_the_start_page_says_so(tablet, clock):
    post_step(tablet, "about")

    later(clock, 30)
    response = tablet.post(CLEAR_URL)

    assert response.status_code == 302
    assert response["Location"] == reverse("intake:start") + "?cleared=1"
    assert draft_cookie_dropped(response)
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME]["max-age"] == 0
    assert not IntakeDraft.objects.exists()
    start = tablet.get(response["Location"])
    assert CLEARED in page_text(start)
    assert 'data-has-draft="0"' in page_text(start)  # nothing left for the script to clear
    assert not shows_previous_patient(start)


# The finish page ------------------------------------------------------------------------


def test_the_finish_page_on_a_tablet_asks_for_the_tablet_back_and_forgets_everything(tablet, clock):
    fill_all(tablet)
    case = Case.objects.get()

    done = tablet.get(reverse("intake:done"))

    page = page_text(done)
    assert case.reference in page
    assert HAND_BACK in page
    assert f'<meta http-equiv="refresh" content="60; url={reverse("intake:start")}">' in page
    assert draft_cookie_dropped(done)
    assert not IntakeDraft.objects.exists()
    # A reload or Back shows nothing of it.
    again = tablet.get(reverse("intake:done"), follow=True)
    assert case.reference not in page_text(again)
    assert not shows_previous_patient(again)


# Personal devices ---------------------------------------------------------------------------


def test_a_personal_device_keeps_its_questionnaire_through_a_long_pause(client, clock):
    post_step(client, "about")
    draft = IntakeDraft.objects.get()

    later(clock, 3600)
    page = client.get(reverse("intake:start"), follow=True)
    response = post_step(client, "legs")

    assert response.status_code == 302
    assert set(IntakeDraft.objects.get(pk=draft.pk).data) == {"about", "legs"}
    assert "tablet-idle" not in page_text(page)
    assert CLEARED not in page_text(client.get(reverse("intake:start") + "?cleared=1"))


def test_a_personal_device_finish_page_is_unchanged(client, clock):
    fill_all(client)

    done = client.get(reverse("intake:done"))

    assert HAND_BACK not in page_text(done)
    assert "http-equiv" not in page_text(done)
    assert DRAFT_COOKIE not in done.cookies
    assert IntakeDraft.objects.count() == 1
