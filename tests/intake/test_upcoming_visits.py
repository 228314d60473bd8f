"""Upcoming visits (issue 21): staff see a day or week of appointments and act on them.

Each appointment shows its invitation's state in words (finished ones with
the case's tier and a link to it), open emergencies first, with the count of
each state. Resend and cancel are POSTs with the CSRF token, through the
services, recorded in the audit log and, with a case, on its timeline. The
page's number of queries does not grow with its rows.
"""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEntry
from intake.invitations import (
    NewAppointment,
    appointment_cancel,
    appointment_create,
    invitation_check_birth_date,
    invitation_stop_reminders,
)
from intake.models import Appointment, Case, CaseEvent, Invitation, InvitationMessage
from intake.roles import CLINIC_MANAGER, CLINICIAN, FRONT_DESK, ensure_staff_roles
from intake.visits import VisitState
from tests.factories import staff_in
from tests.intake.questionnaire import fill_all, post_step
from tests.intake.test_invitations import BORN, confirm

pytestmark = pytest.mark.django_db

VISITS_URL = "/admin/intake/appointment/"
NOW = datetime.datetime(2026, 11, 26, 8, 0, tzinfo=datetime.UTC)
DAY = datetime.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def frozen_clock(settings):
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(NOW, tick=False):
        yield


def staff_client(role: str | None, **kwargs) -> Client:
    ensure_staff_roles()
    user = staff_in(role, username=f"visits-{(role or 'none').replace(' ', '-').lower()}", **kwargs)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def front_desk():
    return staff_client(FRONT_DESK)


def book(last_name: str, hour: int, minute: int = 0, *, day: datetime.date = DAY, **changes):
    values = {
        "first_name": "Test",
        "last_name": last_name,
        "date_of_birth": BORN,
        "starts_at": datetime.datetime.combine(
            day, datetime.time(hour, minute), tzinfo=datetime.UTC
        ),
        "email": f"{last_name.lower()}@example.com",
        "mobile": "555 010 0123",
    }
    values.update(changes)
    return appointment_create(new=NewAppointment(**values), by=None)


def mark_messages(invitation: Invitation, state: str) -> None:
    """Messages as the sending task leaves them (the sending itself is tested elsewhere)."""
    from intake.invitation_sending import queue_invitation_messages

    queue_invitation_messages(invitation=invitation)
    InvitationMessage.objects.filter(invitation=invitation).update(state=state)


def visits_page(client: Client, **query):
    response = client.get(VISITS_URL, query or {"day": DAY.isoformat()})
    assert response.status_code == 200
    return response


def states_on(response) -> dict[str, str]:
    """Patient last name -> state, in the order shown."""
    return {
        row["appointment"].patient.last_name: row["appointment"].visit_state
        for row in response.context["rows"]
    }


def csrf_token(client: Client) -> str:
    return visits_page(client).context["csrf_token"]


# The states -------------------------------------------------------------------------------


def test_each_appointment_shows_its_state_in_words_and_the_counts(front_desk):
    book("NotSent", 9)
    mark_messages(book("Sent", 9, 15), InvitationMessage.State.SENT)
    mark_messages(book("Bounced", 9, 30), InvitationMessage.State.FAILED)
    opened = book("Opened", 9, 45)
    mark_messages(opened, InvitationMessage.State.SENT)
    Invitation.objects.filter(pk=opened.pk).update(opened_at=NOW)
    invitation_stop_reminders(invitation=book("Stopped", 10))
    locked = book("Locked", 10, 15)
    for _try in range(3):
        invitation_check_birth_date(invitation=locked, typed=datetime.date(2000, 1, 1))
    appointment_cancel(appointment=book("Cancelled", 10, 30).appointment, by=None)
    book("OtherDay", 9, day=DAY + datetime.timedelta(days=1))

    response = visits_page(front_desk)

    assert states_on(response) == {
        "NotSent": "not_sent",
        "Sent": "sent",
        "Bounced": "bounced",
        "Opened": "opened",
        "Stopped": "stopped",
        "Locked": "locked",
        "Cancelled": "cancelled",
    }
    counts = {state: count for state, _label, _meaning, count in response.context["counts"]}
    assert counts == {
        "cancelled": 1,
        "finished": 0,
        "locked": 1,
        "not_finished": 0,
        "stopped": 1,
        "opened": 1,
        "bounced": 1,
        "sent": 1,
        "not_sent": 1,
    }
    page = response.content.decode()
    for words in ("not sent", "sent", "bounced", "opened", "reminders stopped", "locked"):
        assert f">{words}</strong>" in page
    assert ">cancelled</strong>" in page
    assert "7 appointments, by state" in page
    assert "30 Nov 2026, 09:15" in page  # the staff time format


def test_a_finished_questionnaire_shows_its_tier_and_links_to_its_case(front_desk):
    invitation = book("Finisher", 11)
    patient = Client()
    confirm(patient, invitation, BORN)
    fill_all(patient)
    case = Case.objects.get()

    response = visits_page(front_desk)

    assert states_on(response) == {"Finisher": VisitState.FINISHED}
    page = response.content.decode()
    assert ">finished</strong>" in page
    tier = str(Case.Tier(case.tier).label)
    assert f'<span class="case-tier case-tier-{case.tier}">{tier}</span>' in page
    assert f'href="{reverse("admin:intake_case_change", args=[case.pk])}"' in page
    assert case.reference in page


def test_open_emergencies_come_first_and_an_unfinished_one_says_so(front_desk):
    book("Early", 8, 30)
    invitation = book("Emergency", 16)
    patient = Client()
    confirm(patient, invitation, BORN)
    fill_all(patient, stop_before="warning-signs")
    post_step(patient, "warning-signs", {"saddle_numbness": "yes"})
    assert Case.objects.get().tier == "emergency"

    response = visits_page(front_desk)

    assert list(states_on(response).items()) == [
        ("Emergency", VisitState.NOT_FINISHED),
        ("Early", VisitState.NOT_SENT),
    ]
    assert 'case-tier-emergency">Emergency</span>' in response.content.decode()


def test_a_visit_whose_time_came_without_finishing_is_not_finished(front_desk):
    today = NOW.date()
    book("Missed", 7, day=today)  # 07:00 today, an hour ago
    response = visits_page(front_desk, day=today.isoformat())
    assert states_on(response) == {"Missed": VisitState.NOT_FINISHED}


def test_a_week_runs_monday_to_sunday(front_desk):
    monday = DAY  # 30 Nov 2026 is a Monday
    for offset, name in [(-1, "Sunday"), (0, "Monday"), (6, "NextSunday"), (7, "NextMonday")]:
        book(name, 9, day=monday + datetime.timedelta(days=offset))

    response = visits_page(front_desk, day="2026-12-02", span="week")

    assert list(states_on(response)) == ["Monday", "NextSunday"]
    assert "Week of 30 Nov 2026 to 6 Dec 2026" in response.content.decode()


def test_no_day_chosen_shows_today_and_a_wrong_one_too(front_desk):
    book("Today", 12, day=NOW.date())
    assert list(states_on(visits_page(front_desk, span="day"))) == ["Today"]
    wrong = visits_page(front_desk, day="2026-13-45", span="fortnight")
    assert list(states_on(wrong)) == ["Today"]
    assert "That is not a day" in wrong.content.decode()


def test_a_long_day_is_shown_in_pages_and_counted_whole(front_desk, monkeypatch):
    from intake.admin import appointments

    monkeypatch.setattr(appointments, "VISITS_PER_PAGE", 2)
    for minute in range(5):
        book(f"Paged{minute}", 9, minute)
    second = visits_page(front_desk, day=DAY.isoformat(), span="day", p="2")
    assert list(states_on(second)) == ["Paged2", "Paged3"]
    assert second.context["total"] == 5
    assert "Page 2 of 3" in second.content.decode()
    assert "p=3" in second.content.decode()


def test_each_view_of_the_list_is_audited(front_desk):
    book("Audited", 9)
    visits_page(front_desk)
    entry = AuditEntry.objects.get(action="list", object_type="appointment")
    assert entry.user == front_desk.user
    assert entry.details == {"from": "2026-11-30", "span": "day", "appointments": 1}


# Resend and cancel ------------------------------------------------------------------------


def resend(client: Client, invitation: Invitation, token: str | None = None):
    url = reverse("admin:intake_appointment_resend", args=[invitation.appointment_id])
    data = {"day": DAY.isoformat(), "span": "day"}
    if token is not None:
        data["csrfmiddlewaretoken"] = token
    return client.post(url, data)


def test_resend_queues_the_next_resend_and_is_audited(front_desk):
    invitation = book("Again", 9)
    mark_messages(invitation, InvitationMessage.State.SENT)
    token = csrf_token(front_desk)

    first = resend(front_desk, invitation, token)
    resend(front_desk, invitation, token)

    assert first.status_code == 302
    assert first["Location"] == f"{VISITS_URL}?day=2026-11-30&span=day"
    resent = InvitationMessage.objects.filter(invitation=invitation, resend_number__gt=0)
    assert sorted(resent.values_list("resend_number", "channel")) == [
        (1, "email"),
        (1, "sms"),
        (2, "email"),
        (2, "sms"),
    ]
    entries = AuditEntry.objects.filter(action="appointment.resend").order_by("pk")
    assert [e.details["resend_number"] for e in entries] == [1, 2]
    assert {e.user for e in entries} == {front_desk.user}
    assert entries[0].object_id == str(invitation.appointment_id)


def test_resend_and_cancel_of_a_visit_with_a_case_go_on_its_timeline(front_desk):
    invitation = book("WithCase", 15)
    patient = Client()
    confirm(patient, invitation, BORN)
    fill_all(patient, stop_before="warning-signs")
    post_step(patient, "warning-signs", {"saddle_numbness": "yes"})
    case = Case.objects.get()
    token = csrf_token(front_desk)

    resend(front_desk, invitation, token)
    cancel_url = reverse("admin:intake_appointment_cancel", args=[invitation.appointment_id])
    front_desk.post(cancel_url, {"csrfmiddlewaretoken": token})

    notes = list(CaseEvent.objects.filter(case=case, kind="note").values_list("summary", "author"))
    assert notes == [
        ("Questionnaire link sent to the patient again (resend 1).", front_desk.user.pk),
        ("Appointment of 30 Nov 2026, 15:00 cancelled.", front_desk.user.pk),
    ]


def test_cancel_asks_first_then_cancels_through_the_service(front_desk):
    invitation = book("Cancelme", 9)
    url = reverse("admin:intake_appointment_cancel", args=[invitation.appointment_id])

    question = front_desk.get(url, {"day": DAY.isoformat(), "span": "week"})
    assert question.status_code == 200
    assert "Cancel the appointment of Test Cancelme on 30 Nov 2026, 09:00?" in (
        question.content.decode()
    )
    assert Appointment.objects.get().status == "booked"

    token = question.context["csrf_token"]
    response = front_desk.post(url, {"csrfmiddlewaretoken": token, "day": "2026-11-30"})

    assert response.status_code == 302
    assert Appointment.objects.get().status == "cancelled"
    entry = AuditEntry.objects.get(action="appointment.cancel")
    assert entry.user == front_desk.user
    assert entry.object_id == str(invitation.appointment_id)
    page = visits_page(front_desk)
    assert states_on(page) == {"Cancelme": "cancelled"}
    # A cancelled visit offers neither button; cancelling again changes nothing.
    assert page.context["rows"][0]["can_cancel"] is False
    assert page.context["rows"][0]["can_resend"] is False
    again = front_desk.post(url, {"csrfmiddlewaretoken": token})
    assert again.status_code == 302
    assert AuditEntry.objects.filter(action="appointment.cancel").count() == 1


def test_a_cancelled_or_finished_visit_is_not_resent(front_desk):
    invitation = book("NoResend", 9)
    appointment_cancel(appointment=invitation.appointment, by=None)
    resend(front_desk, invitation, csrf_token(front_desk))
    assert not InvitationMessage.objects.filter(resend_number__gt=0).exists()
    assert not AuditEntry.objects.filter(action="appointment.resend").exists()


def test_resend_and_cancel_need_post_and_the_csrf_token(front_desk):
    invitation = book("Csrf", 9)
    cancel_url = reverse("admin:intake_appointment_cancel", args=[invitation.appointment_id])
    resend_url = reverse("admin:intake_appointment_resend", args=[invitation.appointment_id])

    assert front_desk.get(resend_url).status_code == 405
    assert resend(front_desk, invitation).status_code == 403
    assert front_desk.post(cancel_url, {}).status_code == 403

    assert Appointment.objects.get().status == "booked"
    assert not InvitationMessage.objects.exists()


def test_resend_and_cancel_of_no_such_appointment_are_404(front_desk):
    token = csrf_token(front_desk)
    for name in ("resend", "cancel"):
        for key in ("999999", "'", "99999999999999999999999"):
            url = f"{VISITS_URL}{key}/{name}/"
            assert front_desk.post(url, {"csrfmiddlewaretoken": token}).status_code == 404


# Who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [FRONT_DESK, CLINICIAN, CLINIC_MANAGER])
def test_front_desk_and_above_see_and_act(role):
    client = staff_client(role)
    invitation = book("Role", 9)
    page = visits_page(client)
    assert page.context["can_change"] is True
    resend(client, invitation, page.context["csrf_token"])
    assert InvitationMessage.objects.filter(resend_number=1).exists()


def test_staff_without_the_permission_are_refused():
    client = staff_client(None)
    invitation = book("Refused", 9)
    assert client.get(VISITS_URL).status_code == 403
    cancel_url = reverse("admin:intake_appointment_cancel", args=[invitation.appointment_id])
    assert client.get(cancel_url).status_code == 403
    unchecked = Client()  # without CSRF checks, so the refusal is the permission's
    unchecked.force_login(client.user)
    assert unchecked.post(cancel_url).status_code == 403
    assert resend(unchecked, invitation).status_code == 403
    assert Appointment.objects.get().status == "booked"
    assert not InvitationMessage.objects.exists()


def test_the_appointment_page_is_read_only(front_desk):
    invitation = book("Page", 9)
    url = reverse("admin:intake_appointment_change", args=[invitation.appointment_id])
    page = front_desk.get(url)
    assert page.status_code == 200
    assert "30 Nov 2026, 09:00" in page.content.decode()
    assert ">not sent</strong>" in page.content.decode()
    viewed = AuditEntry.objects.get(action="view", object_type="appointment")
    assert (viewed.user, viewed.object_id) == (front_desk.user, str(invitation.appointment_id))
    delete = reverse("admin:intake_appointment_delete", args=[invitation.appointment_id])
    assert front_desk.get(delete).status_code == 403


# Queries --------------------------------------------------------------------------------------


def add_visits(count: int, *, hour: int) -> None:
    for number in range(count):
        invitation = book(f"Many{hour}x{number}", hour, number % 60)
        if number % 3 == 0:
            mark_messages(invitation, InvitationMessage.State.SENT)
        if number % 5 == 0:
            Invitation.objects.filter(pk=invitation.pk).update(opened_at=NOW)
        if number % 7 == 0:
            appointment_cancel(appointment=invitation.appointment, by=None)


def queries_for(client: Client, query: dict) -> int:
    client.get(VISITS_URL, query)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(VISITS_URL, query)
    assert response.status_code == 200
    return sum(1 for query in queries if "SAVEPOINT" not in query["sql"])


@pytest.mark.parametrize("query", [{"day": "2026-11-30"}, {"day": "2026-11-30", "span": "week"}])
def test_the_page_makes_the_same_queries_for_few_and_many_visits(front_desk, query):
    # A finished visit with a case, so the case columns are read too.
    invitation = book("Finisher", 7)
    patient = Client()
    confirm(patient, invitation, BORN)
    fill_all(patient)
    add_visits(3, hour=8)
    few = queries_for(front_desk, query)
    add_visits(80, hour=12)
    many = queries_for(front_desk, query)
    assert len(front_desk.get(VISITS_URL, query).context["rows"]) == 84
    assert few == many, f"{few} queries with few visits, {many} with many"
    # The session (read and saved), the user, permissions (2), the counts, the rows,
    # the audit entry (the chain's head, the insert).
    assert many <= 9
