"""The patient's questionnaire, walked over HTTP as a browser would."""

import datetime
import json
import re

import pytest
import time_machine
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone

from intake.models import Case, CaseEvent, IntakeDraft, Patient
from intake.views import DRAFT_COOKIE
from tests.intake.questionnaire import (
    ABOUT,
    STEP_DATA,
    STEP_ORDER,
    WARNING_SIGNS,
    days_from_today,
    fill_all,
    post_step,
    send_answers,
    step_url,
)

pytestmark = pytest.mark.django_db

REFERENCE = re.compile(r"C-[ACDEFGHJKMNPQRTUVWXY34679]{7}")


def test_landing_page_links_to_questionnaire_and_conditions(client):
    response = client.get("/")
    assert response.status_code == 200
    assert reverse("intake:start") in response.text
    assert "/conditions/" in response.text


def test_first_step_is_on_intake_page_with_progress(client):
    response = client.get("/intake/")
    assert response.status_code == 200
    assert "Step 1 of 5" in response.text
    assert 'name="first_name"' in response.text
    for part in ("day", "month", "year"):
        assert f'name="date_of_birth_{part}"' in response.text


def test_the_first_step_posted_to_intake_itself_starts_the_questionnaire(client):
    response = client.post(reverse("intake:start"), STEP_DATA["about"])
    assert response["Location"] == step_url("legs")
    assert IntakeDraft.objects.get().answers["about"]["date_of_birth"] == "1958-04-02"


def test_full_walk_creates_one_case_with_answers_and_patient(client):
    response = fill_all(client)
    assert response["Location"] == reverse("intake:done")

    case = Case.objects.get()
    assert REFERENCE.fullmatch(case.reference)
    assert case.patient.first_name == "Zoë"
    assert case.patient.last_name == "Ñandú-Example"
    assert case.patient.date_of_birth == datetime.date(1958, 4, 2)
    assert case.answers["weak_side"] == "left"
    assert case.answers["pain_score"] == 6
    assert case.answers["symptoms_started"] == "2026-01-10"
    assert case.symptoms_started == datetime.date(2026, 1, 10)
    assert "first_name" not in case.answers  # identity lives on the patient
    assert case.tier == "routine"
    assert case.status == "new"
    assert case.consented_at is not None
    assert list(case.events.values_list("kind", flat=True)) == [CaseEvent.Kind.SUBMITTED]

    done = client.get(reverse("intake:done"))
    assert done.status_code == 200
    assert case.reference in done.text
    assert "We will read your answers before your visit" in done.text
    assert "Please get emergency care now" not in done.text


def test_every_cauda_equina_question_is_asked_of_everyone(client):
    fill_all(client, {"weak_side": "neither"}, stop_before="warning-signs")
    page = client.get(step_url("warning-signs")).text
    for code in WARNING_SIGNS:
        assert f'name="{code}"' in page
    # The bare word "saddle" (also a bicycle seat) is not used with patients.
    assert "saddle" not in page.lower().replace("saddle_numbness", "")


@pytest.mark.parametrize("code", list(WARNING_SIGNS))
def test_unanswered_red_flag_question_is_an_error_not_a_no(client, code):
    fill_all(client, stop_before="warning-signs")
    response = post_step(client, "warning-signs", {code: ""})
    assert response.status_code == 200
    assert "Please answer this question" in response.text
    assert 'id="error-summary"' in response.text
    assert Case.objects.count() == 0


def test_emergency_answer_shows_advice_on_next_step_and_confirmation(client):
    fill_all(client, stop_before="warning-signs")
    response = post_step(client, "warning-signs", {"saddle_numbness": "yes"})
    assert response.status_code == 302
    health = client.get(step_url("health"))
    assert "Please get emergency care now" in health.text
    assert "emergency department" in health.text

    post_step(client, "health")
    done = client.get(reverse("intake:done"))
    assert "Please get emergency care now" in done.text
    case = Case.objects.get()
    assert case.tier == "emergency"
    assert case.flags[0] == "saddle_numbness"


def test_questionnaire_page_carries_live_warning_for_script(client):
    fill_all(client, stop_before="warning-signs")
    page = client.get(step_url("warning-signs")).text
    assert 'id="emergency-advice-live"' in page
    conditions = re.search(
        r'<script id="emergency-conditions" type="application/json">(.*?)</script>', page
    ).group(1)
    assert ["is", "saddle_numbness", ["yes"]] in json.loads(conditions)
    assert "js/intake.js" in page
    assert "<script>" not in page  # no inline scripts (CSP)


def test_back_keeps_answers_including_unfinished_ones(client):
    fill_all(client, stop_before="pain")
    # Half-filled step, then Back: nothing typed is lost.
    response = client.post(step_url("pain"), {"back_pain": "yes", "action": "back"})
    assert response["Location"] == step_url("legs")
    legs_page = client.get(step_url("legs")).text
    assert re.search(r'value="left"[^>]*checked', legs_page)
    pain_page = client.get(step_url("pain")).text
    assert re.search(r'name="back_pain" value="yes"[^>]*checked', pain_page)


def test_resume_in_a_new_browser_session_with_the_same_cookie(client, django_app_client=None):
    fill_all(client, stop_before="pain")
    token = client.cookies[DRAFT_COOKIE].value
    cookie = client.cookies[DRAFT_COOKIE]
    assert cookie["httponly"]
    assert int(cookie["max-age"]) == 24 * 3600

    from django.test import Client

    later = Client()  # the browser was closed; its persistent cookie survives
    later.cookies[DRAFT_COOKIE] = token
    # /intake/ brings them back to the first step they have not finished.
    first = later.get(reverse("intake:start"))
    assert first["Location"] == step_url("pain") + "?resumed=1"
    assert "Welcome back" in later.get(first["Location"]).text
    assert 'value="Zoë"' in later.get(step_url("about")).text
    # Moving between steps is not a return: no second welcome.
    assert "Welcome back" not in later.get(step_url("pain")).text


def test_cannot_skip_ahead_to_a_later_step(client):
    response = client.get(step_url("health"))
    assert response["Location"] == step_url("about")
    post_step(client, "about")
    response = client.get(step_url("warning-signs"))
    assert response["Location"] == step_url("legs")


def test_each_saved_step_keeps_its_cleaned_answers_or_none(client):
    fill_all(client, stop_before="pain")
    client.post(step_url("pain"), {"back_pain": "yes", "action": "back"})
    draft = IntakeDraft.objects.get()
    assert draft.answers["about"]["date_of_birth"] == "1958-04-02"
    assert "consent" in draft.answers["about"]
    assert draft.answers["legs"]["weak_side"] == "left"
    assert draft.answers["pain"] is None  # half-filled, saved by Back: not valid
    # Back from a valid step keeps it valid, so the patient can go on past it.
    client.post(step_url("legs"), {**STEP_DATA["legs"], "action": "back"})
    assert IntakeDraft.objects.get().answers["legs"]["weak_side"] == "left"
    assert client.get(step_url("pain")).status_code == 200
    # Correcting a step to something invalid blocks the steps after it again.
    client.post(step_url("legs"), {**STEP_DATA["legs"], "weak_side": "", "action": "back"})
    assert IntakeDraft.objects.get().answers["legs"] is None
    assert client.get(step_url("pain"))["Location"] == step_url("legs")


def test_draft_saved_before_answers_were_kept_still_resumes(client):
    fill_all(client, stop_before="warning-signs")
    IntakeDraft.objects.update(answers={})  # as drafts saved by the earlier release
    response = client.get(step_url("warning-signs"))
    assert response.status_code == 200
    assert post_step(client, "warning-signs")["Location"] == step_url("health")
    assert post_step(client, "health")["Location"] == reverse("intake:check")
    assert send_answers(client)["Location"] == reverse("intake:done")
    assert Case.objects.get().answers["weak_side"] == "left"


def test_the_draft_knows_whether_its_answers_were_all_checked_today(client):
    evening = timezone.make_aware(datetime.datetime(2026, 3, 10, 21, 0))
    with time_machine.travel(evening, tick=False):
        fill_all(client, stop_before="pain")
        assert IntakeDraft.objects.get().answers_checked_on == datetime.date(2026, 3, 10)
    with time_machine.travel(evening + datetime.timedelta(hours=4), tick=False):
        post_step(client, "pain")
    assert IntakeDraft.objects.get().answers_checked_on is None  # checked on two days


def test_answers_are_checked_again_when_sent(client):
    """An appointment date that was today when typed is in the past the next morning."""
    evening = timezone.make_aware(datetime.datetime(2026, 3, 10, 21, 0))
    with time_machine.travel(evening, tick=False):
        fill_all(client, {"appointment_date": "2026-03-10"}, stop_before="health")
    with time_machine.travel(evening + datetime.timedelta(hours=12), tick=False):
        assert post_step(client, "health")["Location"] == reverse("intake:check")
        assert IntakeDraft.objects.get().answers["about"]["appointment_date"] == "2026-03-10"
        assert client.get(reverse("intake:check"))["Location"] == step_url("about")
        assert send_answers(client)["Location"] == step_url("about")
    assert Case.objects.count() == 0


def test_draft_expires_after_24_hours_and_is_purged(client):
    from django.core.management import call_command

    with time_machine.travel(timezone.now() - datetime.timedelta(hours=25), tick=False):
        fill_all(client, stop_before="pain")
    assert IntakeDraft.objects.count() == 1
    page = client.get(reverse("intake:start")).text
    assert "Welcome back" not in page
    assert "Zoë" not in page
    call_command("purge_intake_drafts")
    assert IntakeDraft.objects.count() == 0


def test_recent_draft_is_not_purged(client):
    from django.core.management import call_command

    fill_all(client, stop_before="pain")
    call_command("purge_intake_drafts")
    assert IntakeDraft.objects.count() == 1


def test_answers_sent_twice_make_one_case(client):
    fill_all(client, stop_before="health")
    # Double click on the last step: both saves go to the check page, nothing is sent.
    assert post_step(client, "health")["Location"] == reverse("intake:check")
    assert post_step(client, "health")["Location"] == reverse("intake:check")
    assert Case.objects.count() == 0
    first = send_answers(client)
    second = send_answers(client)  # double click / refresh / retry
    assert first["Location"] == second["Location"] == reverse("intake:done")
    assert Case.objects.count() == 1
    assert Patient.objects.count() == 1


def test_submitted_draft_holds_no_copy_of_answers(client):
    fill_all(client)
    draft = IntakeDraft.objects.get()
    assert draft.case is not None
    assert draft.data == {}
    assert draft.answers == {}


def test_confirmation_shows_the_case_until_the_draft_expires(client):
    fill_all(client)
    reference = Case.objects.get().reference
    assert reference in client.get(reverse("intake:done")).text

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=25), tick=False):
        response = client.get(reverse("intake:done"))
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:start")


def test_confirmation_is_private_to_the_submitting_browser(client):
    from django.test import Client

    fill_all(client)
    stranger = Client()
    response = stranger.get(reverse("intake:done"))
    assert response.status_code == 302
    assert Case.objects.get().reference not in stranger.get(reverse("intake:start")).text


def test_returning_patient_gets_a_new_case_on_the_same_record(client):
    fill_all(client)
    client.post(reverse("intake:start_again"))
    fill_all(client, {"last_name": "ñandú-example", "phone": "(555) 010-0199", "first_name": "Zoe"})
    assert Case.objects.count() == 2
    assert Patient.objects.count() == 1
    # The record keeps the name it had; the new case keeps what was typed.
    assert Patient.objects.get().first_name == "Zoë"
    assert Case.objects.order_by("pk").last().details["first_name"] == "Zoe"


def test_start_again_after_submitting_starts_a_fresh_questionnaire(client):
    fill_all(client)
    client.post(reverse("intake:start_again"))
    page = client.get(reverse("intake:start")).text
    assert "Zoë" not in page
    assert client.get(reverse("intake:done")).status_code == 302


# Validation: each rule, with the message beside the field and answers kept.


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"date_of_birth": days_from_today(1)}, "date_of_birth", "cannot be in the future"),
        ({"date_of_birth": "1890-01-01"}, "date_of_birth", "more than 120 years ago"),
        ({"date_of_birth": "31/12/1960"}, "date_of_birth", "real date"),
        ({"date_of_birth": ""}, "date_of_birth", "enter your date of birth"),
        ({"first_name": "  "}, "first_name", "enter your first name"),
        ({"appointment_date": days_from_today(-1)}, "appointment_date", "in the past"),
        ({"phone": "call me"}, "phone", "phone number"),
        ({"phone": "12"}, "phone", "phone number"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"consent": ""}, "consent", "tick this box"),
        ({"first_name": "A" * 101}, "first_name", "100 characters or fewer"),
        ({"last_name": "Bad\x07Name"}, "last_name", "special or invisible"),
    ],
)
def test_about_you_validation(client, changes, field, message):
    response = post_step(client, "about", changes)
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    assert message in " ".join(form.errors[field])
    assert 'id="error-summary"' in response.text
    # The other answers are still filled in.
    if field != "phone":
        assert 'value="555 010 0199"' in response.text


def test_appointment_today_and_real_dates_accepted(client):
    response = post_step(client, "about", {"appointment_date": days_from_today(0)})
    assert response.status_code == 302


def test_symptom_start_in_the_future_is_refused(client):
    post_step(client, "about")
    response = post_step(client, "legs", {"symptoms_started": days_from_today(2)})
    assert response.status_code == 200
    assert "in the future" in " ".join(response.context["form"].errors["symptoms_started"])


def test_weakness_details_required_only_when_a_leg_is_weak(client):
    post_step(client, "about")
    response = post_step(client, "legs", {"weakness_onset": "", "weakness_trend": ""})
    errors = response.context["form"].errors
    assert "weakness_onset" in errors and "weakness_trend" in errors

    response = post_step(
        client, "legs", {"weak_side": "neither", "weakness_onset": "hours", "weakness_trend": ""}
    )
    assert response.status_code == 302
    fill_all(client, {"weak_side": "neither", "weakness_onset": "hours"})
    case = Case.objects.get()
    # Not asked when no leg is weak, so nothing stored for it.
    assert "weakness_onset" not in case.answers
    assert "weakness_trend" not in case.answers


def test_unknown_choice_value_is_refused(client):
    post_step(client, "about")
    response = post_step(client, "legs", {"weak_side": "middle"})
    assert "weak_side" in response.context["form"].errors


def test_pain_score_must_be_0_to_10(client):
    fill_all(client, stop_before="pain")
    response = post_step(client, "pain", {"pain_score": "11"})
    assert "pain_score" in response.context["form"].errors


def test_free_text_is_stored_as_typed_and_shown_escaped(client, superuser_client):
    hostile = '<script>alert("x")</script> 💊 O\'Brien & co'
    fill_all(client, {"medications": hostile, "other_notes": "line one\nline two"})
    case = Case.objects.get()
    assert case.answers["medications"] == hostile
    assert case.answers["other_notes"] == "line one\nline two"


def test_free_text_over_its_limit_is_kept_whole_with_a_plain_message(client):
    fill_all(client, stop_before="health")
    response = post_step(client, "health", {"other_notes": "x" * 9999})
    assert response.status_code == 200
    assert response.context["form"].errors["other_notes"] == [
        "This is too long. Please make it 2,000 characters or fewer. It has 9,999 now."
    ]
    assert "Ensure this value" not in response.text
    assert "x" * 9999 in response.text  # nothing cut: the patient shortens it themselves
    assert "You have 7,999 characters too many." in response.text
    assert 'maxlength="' not in response.text  # the browser must not cut it silently either
    assert Case.objects.count() == 0


def test_each_text_box_says_how_much_it_takes(client):
    fill_all(client, stop_before="health")
    page = client.get(step_url("health")).text
    assert "You can write up to 1,000 characters." in page
    assert "You can write up to 2,000 characters." in page
    assert 'data-limit="2000"' in page


def test_hostile_text_is_escaped_when_redisplayed(client):
    response = post_step(client, "about", {"first_name": "<b>bold</b>", "phone": "nope"})
    assert "<b>bold</b>" not in response.text
    assert "&lt;b&gt;bold&lt;/b&gt;" in response.text


# Bad requests and failures.


def test_oversized_post_is_a_400_not_a_500(client):
    response = client.post(step_url("about"), {**ABOUT, "other": "x" * 200_000})
    assert response.status_code == 400
    assert "555-0100" in response.text  # the calm page gives the clinic phone


def test_too_many_fields_is_a_400(client):
    data = {f"f{n}": "x" for n in range(500)}
    response = client.post(step_url("about"), data)
    assert response.status_code == 400


def test_malformed_multipart_is_a_400(client):
    response = client.generic(
        "POST",
        step_url("about"),
        b"--broken\r\nnot really multipart",
        content_type="multipart/form-data; boundary=",
    )
    assert response.status_code == 400


def test_non_utf8_post_does_not_crash(client):
    response = client.generic(
        "POST",
        step_url("about"),
        b"first_name=%FF%FE&last_name=\xff\xfe",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (200, 400)


def test_unknown_step_is_a_friendly_404(client):
    response = client.get("/intake/no-such-step/")
    assert response.status_code == 404
    assert "555-0100" in response.text


def test_database_down_at_submit_shows_calm_page_and_leaves_nothing(client, monkeypatch):
    fill_all(client, {"medications": "ibuprofen"}, stop_before="check")

    def database_down(**kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("intake.views.case_submit", database_down)
    response = send_answers(client)
    assert response.status_code == 503
    assert "could not send your answers" in response.text
    assert "555-0100" in response.text
    assert "ibuprofen" in response.text  # the patient's answers are still there to send
    assert Case.objects.count() == 0
    assert Patient.objects.count() == 0

    monkeypatch.undo()
    send_answers(client)
    assert Case.objects.get().answers["medications"] == "ibuprofen"


def test_failure_inside_the_transaction_leaves_no_half_written_case(client, monkeypatch):
    fill_all(client, stop_before="health")

    def event_write_fails(*args, **kwargs):
        raise DatabaseError("server closed the connection")

    post_step(client, "health")
    monkeypatch.setattr("intake.services.CaseEvent.objects.create", event_write_fails)
    response = send_answers(client)
    assert response.status_code == 503
    assert Case.objects.count() == 0
    assert Patient.objects.count() == 0


@pytest.mark.parametrize("slug", STEP_ORDER)
def test_every_step_page_renders(client, slug):
    fill_all(client, stop_before=slug)
    response = client.get(step_url(slug))
    assert response.status_code == 200
    assert f"Step {STEP_ORDER.index(slug) + 1} of 5" in response.text


def test_nul_characters_are_a_400_and_store_nothing(client):
    response = post_step(client, "about", {"first_name": "Zo\x00ë"})
    assert response.status_code == 400
    assert IntakeDraft.objects.count() == 0


def test_expired_form_token_gets_a_calm_page(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(step_url("about"), {"first_name": "Zoë"})
    assert response.status_code == 403
    assert "This page has expired" in response.text
    assert "555-0100" in response.text
