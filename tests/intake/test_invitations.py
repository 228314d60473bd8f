"""Appointments and their personal questionnaire links (issue 21)."""

import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from intake.invitations import (
    NewAppointment,
    appointment_cancel,
    appointment_create,
    invitation_for_token,
    invitation_token,
    invitation_url,
    token_hash,
)
from intake.models import Appointment, Case, IntakeDraft, Invitation, Patient
from tests.intake.questionnaire import fill_all, post_step, step_url

pytestmark = pytest.mark.django_db

BORN = datetime.date(1958, 4, 2)


def new_appointment(**changes) -> NewAppointment:
    values = {
        "first_name": "Test",
        "last_name": "Invited-Example",
        "date_of_birth": BORN,
        "starts_at": timezone.now() + datetime.timedelta(days=3),
        "email": "test.invited@example.com",
        "mobile": "555 010 0123",
        "language": "en",
    }
    values.update(changes)
    return NewAppointment(**values)


@pytest.fixture
def invitation():
    return appointment_create(new=new_appointment(), by=None)


def link(invitation: Invitation) -> str:
    return reverse("intake:invitation", kwargs={"token": invitation_token(invitation)})


CONFIRM = "/intake/invite/"


def open_link(client, invitation: Invitation):
    """Open the link as the patient does: it sends the browser on to the date-of-birth page."""
    response = client.get(link(invitation))
    assert response.status_code == 302 and response["Location"] == CONFIRM
    return client.get(CONFIRM)


def confirm(client, invitation: Invitation, day: datetime.date):
    open_link(client, invitation)
    return client.post(CONFIRM, birth_date(day))


def birth_date(day: datetime.date) -> dict:
    return {
        "date_of_birth_day": str(day.day),
        "date_of_birth_month": str(day.month),
        "date_of_birth_year": str(day.year),
    }


def test_the_link_is_stored_only_as_a_hash_and_stays_the_same(invitation):
    token = invitation_token(invitation)
    stored = Invitation.objects.get(pk=invitation.pk)
    assert len(token) >= 64
    assert stored.token_hash == token_hash(token)
    assert token not in str(Invitation.objects.filter(pk=invitation.pk).values().get())
    assert invitation_token(stored) == token  # a reminder days later carries the same link
    assert invitation_url(stored).endswith(f"/intake/invite/{token}/")
    assert invitation_for_token(token) == invitation
    other = "1" if token[-1] == "0" else "0"
    assert invitation_for_token(token[:-1] + other) is None


def test_the_link_works_until_the_end_of_the_appointment_day(invitation):
    day_end = timezone.localtime(invitation.expires_at)
    starts = timezone.localtime(invitation.appointment.starts_at)
    assert day_end.date() == starts.date()
    assert (day_end + datetime.timedelta(microseconds=1)).time() == datetime.time(0, 0)
    assert invitation.usable(day_end - datetime.timedelta(seconds=1))
    assert not invitation.usable(day_end + datetime.timedelta(seconds=1))


def test_an_invitation_needs_an_address():
    with pytest.raises(ValueError):
        appointment_create(new=new_appointment(email="", mobile=""), by=None)


def test_opening_the_link_asks_the_date_of_birth_and_shows_nothing_of_the_patient(
    client, invitation
):
    response = open_link(client, invitation)
    page = response.content.decode()
    assert response.status_code == 200
    assert "date of birth" in page
    assert invitation_token(invitation) not in page
    for private in ("Invited-Example", "Test ", "555 010 0123", "test.invited", "1958"):
        assert private not in page
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )


def closed_page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 404
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return re.sub(r"/intake/invite/[^/\"]*/", "", page)


def test_every_link_that_does_not_open_gets_the_same_calm_page(client, invitation):
    unknown = closed_page(client, reverse("intake:invitation", kwargs={"token": "x" * 64}))
    assert "This link does not work now" in unknown and "555-0100" in unknown

    expired = appointment_create(
        new=new_appointment(
            last_name="Expired-Example", starts_at=timezone.now() - datetime.timedelta(days=2)
        ),
        by=None,
    )
    cancelled = appointment_create(new=new_appointment(last_name="Cancelled-Example"), by=None)
    appointment_cancel(appointment=cancelled.appointment, by=None)
    finished = appointment_create(new=new_appointment(last_name="Finished-Example"), by=None)
    Invitation.objects.filter(pk=finished.pk).update(finished_at=timezone.now())
    locked = appointment_create(new=new_appointment(last_name="Locked-Example"), by=None)
    Invitation.objects.filter(pk=locked.pk).update(locked_at=timezone.now())

    for closed in (expired, cancelled, finished, locked):
        assert closed_page(client, link(closed)) == unknown


def test_three_wrong_dates_of_birth_lock_the_link_and_tell_the_clinic(client, invitation):
    wrong = birth_date(datetime.date(1958, 4, 3))
    open_link(client, invitation)
    first = client.post(CONFIRM, wrong)
    assert first.status_code == 200
    assert "You can try 2 more times." in first.content.decode()
    second = client.post(CONFIRM, wrong)
    assert "You can try 1 more time." in second.content.decode()

    third = client.post(CONFIRM, wrong)

    assert third.status_code == 404
    invitation.refresh_from_db()
    assert invitation.locked_at is not None and invitation.failed_checks == 3
    entry = AuditEntry.objects.get(action="invitation.locked")
    assert entry.object_id == str(invitation.appointment_id)
    # The right date now opens nothing.
    assert client.post(CONFIRM, birth_date(BORN)).status_code == 404
    assert client.get(link(invitation)).status_code == 404
    assert not IntakeDraft.objects.exists()


def test_the_right_date_of_birth_starts_the_questionnaire_with_about_you_filled_in(
    client, invitation
):
    response = confirm(client, invitation, BORN)

    assert response.status_code == 302 and response["Location"] == step_url("about")
    page = client.get(step_url("about")).content.decode()
    assert 'value="Invited-Example"' in page
    assert 'value="555 010 0123"' in page
    invitation.refresh_from_db()
    assert invitation.opened_at is not None
    # Opening the link again in the same browser resumes the same questionnaire.
    again = confirm(client, invitation, BORN)
    assert again["Location"] == reverse("intake:start")
    assert IntakeDraft.objects.count() == 1


def test_the_case_belongs_to_the_invited_patient_and_the_appointment(client, invitation):
    confirm(client, invitation, BORN)
    # The patient corrects their name and phone: the case still belongs to
    # the clinic's record, found without any matching by name or phone.
    fill_all(client, {"last_name": "Typed-Differently", "phone": "555 010 0999"})

    case = Case.objects.get()
    invitation.refresh_from_db()
    assert invitation.case == case and invitation.finished_at is not None
    assert case.patient_id == invitation.appointment.patient_id
    assert case.details["last_name"] == "Typed-Differently"
    assert Patient.objects.count() == 1
    assert not invitation.usable()


def test_an_emergency_answer_through_the_link_makes_the_case_at_once(client, invitation):
    confirm(client, invitation, BORN)
    fill_all(client, stop_before="warning-signs")
    post_step(client, "warning-signs", {"saddle_numbness": "yes"})

    case = Case.objects.get()
    assert case.tier == "emergency"
    invitation.refresh_from_db()
    assert invitation.case == case and invitation.finished_at is None
    assert case.patient_id == invitation.appointment.patient_id


def test_the_patient_can_stop_reminders_once_and_it_is_recorded(client, invitation):
    path = reverse("intake:invitation_stop", kwargs={"token": invitation_token(invitation)})
    assert "Stop the reminders" in client.get(path).content.decode()

    response = client.post(path)
    client.post(path)

    assert "We will not send you more reminders" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.reminders_stopped_at is not None
    assert AuditEntry.objects.filter(action="invitation.stopped").count() == 1


def test_the_link_opens_in_the_invitation_language(client):
    spanish = appointment_create(new=new_appointment(language="es"), by=None)
    page = open_link(client, spanish).content.decode()
    assert 'lang="es"' in page


def test_a_cancelled_appointment_is_recorded(invitation):
    appointment_cancel(appointment=invitation.appointment, by=None)
    assert invitation.appointment.status == Appointment.Status.CANCELLED
    assert AuditEntry.objects.filter(action="appointment.cancel").count() == 1


def test_the_date_of_birth_page_without_an_opened_link_is_the_calm_page(client):
    assert client.get(CONFIRM).status_code == 404
    client.cookies["clinic_invitation"] = "forged"
    assert client.post(CONFIRM, birth_date(BORN)).status_code == 404


def test_staff_see_the_booked_visit_with_its_time_on_the_queue_and_the_case(
    superuser_client, settings
):
    settings.TIME_ZONE = "America/Chicago"
    client = Client()  # the patient's phone
    starts = timezone.make_aware(datetime.datetime(2026, 12, 3, 9, 30))
    invited = appointment_create(new=new_appointment(starts_at=starts), by=None)
    with time_machine.travel(starts - datetime.timedelta(days=1), tick=False):
        confirm(client, invited, BORN)
        fill_all(client, {"saddle_numbness": "yes"})
    case = Case.objects.get()

    queue = superuser_client.get(reverse("admin:intake_redflagcase_changelist"))
    page = superuser_client.get(reverse("admin:intake_case_change", args=[case.pk]))

    assert "visit 3 Dec 2026, 09:30" in queue.content.decode()
    assert "visit 3 Dec 2026, 09:30" in page.content.decode()
    appointment_cancel(appointment=invited.appointment, by=None)
    page = superuser_client.get(reverse("admin:intake_case_change", args=[case.pk]))
    assert "visit 3 Dec 2026, 09:30 (cancelled)" in page.content.decode()


def test_demo_appointments_give_a_working_link_once(client):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=out)  # the link is printed on every run

    assert Appointment.objects.count() == 3
    assert set(Invitation.objects.values_list("language", flat=True)) == {"en", "es"}
    printed = re.search(r"Try a patient's link: \S+(/intake/invite/\w+/)", out.getvalue())
    assert printed, out.getvalue()
    assert client.get(printed.group(1))["Location"] == CONFIRM
    assert client.post(CONFIRM, birth_date(BORN))["Location"] == step_url("about")
    for patient in Patient.objects.filter(appointments__isnull=False):
        assert patient.first_name == "Demo" and patient.email.endswith(("@example.com", ""))


def test_many_appointments_are_stored_in_a_few_statements_each_like_one(
    django_assert_max_num_queries,
):
    from intake.invitations import appointments_create_many
    from intake.services import patient_get_or_create

    known = patient_get_or_create(
        first_name="Known",
        last_name="Already-Example",
        date_of_birth=BORN,
        phone="555 010 0777",
    )
    starts = timezone.now() + datetime.timedelta(days=2)
    news = [
        new_appointment(
            last_name=f"Many-{number:04d}", starts_at=starts, mobile=f"555 {number:04d}"
        )
        for number in range(2_500)
    ]
    news.append(new_appointment(last_name="Many-0001", starts_at=starts, mobile="555 0001"))
    news.append(
        new_appointment(
            first_name="Typed-Otherwise", last_name="already-example ", mobile="555-010-0777"
        )
    )

    # Savepoint, patients, appointments and invitations (three batches each),
    # the audit chain's head and its entry.
    with django_assert_max_num_queries(14):
        invitations = appointments_create_many(news=news, by=None)

    assert [i.appointment.patient.last_name for i in invitations[:3]] == [
        "Many-0000",
        "Many-0001",
        "Many-0002",
    ]
    assert Invitation.objects.count() == len(news) == len(invitations)
    # One patient with two visits in the file shares one record; a known one is found, unchanged.
    assert invitations[1].appointment.patient_id == invitations[-2].appointment.patient_id
    assert invitations[-1].appointment.patient_id == known.pk
    assert Patient.objects.get(pk=known.pk).first_name == "Known"
    assert invitation_for_token(invitation_token(invitations[-1])) == invitations[-1]
    entry = AuditEntry.objects.get(action="appointment.import")
    assert len(entry.details["appointments"]) == len(news)


def test_after_the_secret_key_changes_the_link_sent_next_is_the_one_that_opens(client, settings):
    old_link = link(
        Invitation.objects.get(pk=appointment_create(new=new_appointment(), by=None).pk)
    )
    settings.SECRET_KEY = "rotated-" + "k" * 60

    invitation = Invitation.objects.get()
    sent = invitation_url(invitation)  # what the next message carries

    assert client.get(old_link).status_code == 404
    new_path = sent.removeprefix(settings.CLINIC_BASE_URL)
    assert new_path != old_link
    assert client.get(new_path)["Location"] == CONFIRM
    assert invitation_url(Invitation.objects.get()) == sent  # stable once moved
