"""Reminders (issue 21): one per step of CLINIC_REMINDER_HOURS, exactly on schedule,
never twice, never once the questionnaire is finished, reminders are stopped, the
appointment is cancelled or the link has closed.

Time is frozen; the messages go through a real local SMTP server and a real
local SMS gateway, as in test_invitation_sending.py.
"""

import datetime
import io
import threading

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from intake.invitation_sending import due_reminders, queue_invitation_messages, send_due_reminders
from intake.invitations import (
    NewAppointment,
    appointment_cancel,
    appointment_create,
    invitation_token,
)
from intake.models import Invitation, InvitationMessage
from tests.intake.alert_receivers import wait_for
from tests.intake.questionnaire import fill_all, post_step
from tests.intake.test_invitation_sending import running_sms_gateway, text_part

pytestmark = pytest.mark.django_db

Kind = InvitationMessage.Kind
State = InvitationMessage.State

#: The appointment, and when the invitation is made: a week before.
APPOINTMENT = datetime.datetime(2026, 12, 10, 10, 0, tzinfo=datetime.UTC)
MADE = APPOINTMENT - datetime.timedelta(days=7)
BORN = datetime.date(1955, 8, 23)
HOUR = datetime.timedelta(hours=1)
SECOND = datetime.timedelta(seconds=1)


@pytest.fixture
def clock():
    with time_machine.travel(MADE, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sms_gateway(settings):
    with running_sms_gateway(settings) as gateway:
        yield gateway


@pytest.fixture(autouse=True)
def reminder_hours(settings):
    settings.CLINIC_REMINDER_HOURS = [72, 24]


def invite(capture, *, last_name="Reminded-Example", **changes) -> Invitation:
    """An appointment and its invitation, sent as staff send it."""
    values = {
        "first_name": "Test",
        "last_name": last_name,
        "date_of_birth": BORN,
        "starts_at": APPOINTMENT,
        "email": "test.reminded@example.com",
        "mobile": "",
        "language": "en",
    }
    values.update(changes)
    invitation = appointment_create(new=NewAppointment(**values), by=None)
    with capture(execute=True):
        queue_invitation_messages(invitation=invitation)
    return invitation


def run_job(capture) -> str:
    out = io.StringIO()
    with capture(execute=True):
        call_command("send_invitation_reminders", stdout=out)
    return out.getvalue()


def reminders(invitation: Invitation) -> list[tuple[int, str, str]]:
    return list(
        InvitationMessage.objects.filter(invitation=invitation, kind=Kind.REMINDER)
        .order_by("-hours_before", "channel")
        .values_list("hours_before", "channel", "state")
    )


def reminder_subjects(mail_server) -> list[str]:
    return [subject for subject in mail_server.subjects() if subject.startswith("Reminder")]


# On schedule, once ------------------------------------------------------------------


def test_reminders_go_exactly_on_schedule_and_once(
    django_capture_on_commit_callbacks, mail_server, sms_gateway, clock
):
    invitation = invite(django_capture_on_commit_callbacks, mobile="555 010 0142")
    assert len(mail_server.messages) == 1 and len(sms_gateway.accepted) == 1  # the invitation

    # Not a second early.
    clock.move_to(APPOINTMENT - 72 * HOUR - SECOND)
    assert run_job(django_capture_on_commit_callbacks) == ""
    assert reminders(invitation) == []

    clock.move_to(APPOINTMENT - 72 * HOUR)
    assert "Queued reminders for 1 invitation;" in run_job(django_capture_on_commit_callbacks)
    assert reminders(invitation) == [(72, "email", "sent"), (72, "sms", "sent")]
    assert len(reminder_subjects(mail_server)) == 1
    assert "reminder" in sms_gateway.accepted[-1].json["body"]

    # The job runs again, and again five minutes later: nothing more.
    run_job(django_capture_on_commit_callbacks)
    clock.move_to(APPOINTMENT - 72 * HOUR + 5 * 60 * SECOND)
    run_job(django_capture_on_commit_callbacks)
    assert len(reminders(invitation)) == 2
    assert len(mail_server.messages) == 2 and len(sms_gateway.accepted) == 2

    clock.move_to(APPOINTMENT - 24 * HOUR - SECOND)
    run_job(django_capture_on_commit_callbacks)
    assert len(reminders(invitation)) == 2

    clock.move_to(APPOINTMENT - 24 * HOUR)
    run_job(django_capture_on_commit_callbacks)
    run_job(django_capture_on_commit_callbacks)
    assert reminders(invitation) == [
        (72, "email", "sent"),
        (72, "sms", "sent"),
        (24, "email", "sent"),
        (24, "sms", "sent"),
    ]
    assert len(reminder_subjects(mail_server)) == 2 and len(sms_gateway.accepted) == 3

    # Up to the appointment and after it, nothing more.
    for moment in (APPOINTMENT - SECOND, APPOINTMENT, APPOINTMENT + 6 * HOUR):
        clock.move_to(moment)
        run_job(django_capture_on_commit_callbacks)
    assert len(reminders(invitation)) == 4 and len(mail_server.messages) == 3


def test_the_reminder_says_so_and_keeps_the_same_link(
    django_capture_on_commit_callbacks, mail_server, clock, settings
):
    invitation = invite(django_capture_on_commit_callbacks)
    clock.move_to(APPOINTMENT - 24 * HOUR)
    run_job(django_capture_on_commit_callbacks)
    first, reminder = mail_server.messages
    assert reminder["Subject"] == f"Reminder: {settings.CLINIC_NAME}, your visit on 10 Dec 2026"
    body = text_part(reminder)
    assert "You have not finished our questions yet." in body
    token = invitation_token(invitation)
    assert token in body and token in text_part(first)
    assert "Reminded-Example" not in reminder.as_string()


def test_a_job_that_was_down_sends_only_the_latest_step(
    django_capture_on_commit_callbacks, mail_server, clock
):
    invitation = invite(django_capture_on_commit_callbacks)
    clock.move_to(APPOINTMENT - 20 * HOUR)  # both steps' times have passed
    run_job(django_capture_on_commit_callbacks)
    assert reminders(invitation) == [(24, "email", "sent")]
    run_job(django_capture_on_commit_callbacks)
    assert len(reminder_subjects(mail_server)) == 1


def test_an_invitation_made_after_a_step_gets_only_the_later_steps(
    django_capture_on_commit_callbacks, mail_server, clock
):
    clock.move_to(APPOINTMENT - 48 * HOUR)
    invitation = invite(django_capture_on_commit_callbacks)
    run_job(django_capture_on_commit_callbacks)
    assert reminders(invitation) == []  # not the 72-hour one, just after the invitation

    clock.move_to(APPOINTMENT - 24 * HOUR)
    run_job(django_capture_on_commit_callbacks)
    assert reminders(invitation) == [(24, "email", "sent")]


def test_the_steps_come_from_the_setting(
    django_capture_on_commit_callbacks, mail_server, clock, settings
):
    settings.CLINIC_REMINDER_HOURS = [48]
    invitation = invite(django_capture_on_commit_callbacks)
    for hours in (72, 48, 24, 2):
        clock.move_to(APPOINTMENT - hours * HOUR)
        run_job(django_capture_on_commit_callbacks)
    assert reminders(invitation) == [(48, "email", "sent")]

    settings.CLINIC_REMINDER_HOURS = []
    assert list(due_reminders(APPOINTMENT - HOUR)) == []


def test_two_runs_at_once_store_one_reminder(
    django_capture_on_commit_callbacks, mail_server, clock
):
    invitation = invite(django_capture_on_commit_callbacks)
    clock.move_to(APPOINTMENT - 72 * HOUR)
    # Both runs read the invitation as due before either has queued anything.
    [first_read] = due_reminders(APPOINTMENT - 72 * HOUR)
    [second_read] = due_reminders(APPOINTMENT - 72 * HOUR)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_reminders(APPOINTMENT - 72 * HOUR) == 1
        again = queue_invitation_messages(
            invitation=second_read, kind=Kind.REMINDER, hours_before=second_read.due_hours
        )
    assert first_read.due_hours == 72
    assert [message.state for message in again] == [State.PENDING]  # the first run's row
    assert reminders(invitation) == [(72, "email", "sent")]
    assert len(reminder_subjects(mail_server)) == 1


# Never after finishing, stopping, cancelling, or a closed link -----------------------------


def open_and_confirm(client, invitation: Invitation) -> None:
    link = reverse("intake:invitation", kwargs={"token": invitation_token(invitation)})
    client.get(link)
    day = BORN
    response = client.post(
        "/intake/invite/",
        {
            "date_of_birth_day": str(day.day),
            "date_of_birth_month": str(day.month),
            "date_of_birth_year": str(day.year),
        },
    )
    assert response.status_code == 302


def test_no_reminder_after_the_patient_finishes(
    client, django_capture_on_commit_callbacks, mail_server, clock
):
    invitation = invite(django_capture_on_commit_callbacks)
    clock.move_to(APPOINTMENT - 72 * HOUR)
    run_job(django_capture_on_commit_callbacks)
    assert len(reminders(invitation)) == 1

    clock.move_to(APPOINTMENT - 30 * HOUR)
    open_and_confirm(client, invitation)
    fill_all(client)
    invitation.refresh_from_db()
    assert invitation.finished_at is not None

    for hours in (24, 12, 1):
        clock.move_to(APPOINTMENT - hours * HOUR)
        run_job(django_capture_on_commit_callbacks)
    assert reminders(invitation) == [(72, "email", "sent")]
    assert len(reminder_subjects(mail_server)) == 1


def test_no_reminder_after_an_early_emergency_case(
    client, django_capture_on_commit_callbacks, mail_server, clock
):
    invitation = invite(django_capture_on_commit_callbacks)
    clock.move_to(APPOINTMENT - 30 * HOUR)
    open_and_confirm(client, invitation)
    fill_all(client, stop_before="warning-signs")
    with django_capture_on_commit_callbacks(execute=True):
        post_step(client, "warning-signs", {"saddle_numbness": "yes"})
    invitation.refresh_from_db()
    assert invitation.case is not None and invitation.finished_at is None

    clock.move_to(APPOINTMENT - 24 * HOUR)
    run_job(django_capture_on_commit_callbacks)
    assert reminders(invitation) == []


def test_no_reminder_once_the_patient_stops_them(
    client, django_capture_on_commit_callbacks, mail_server, clock
):
    invitation = invite(django_capture_on_commit_callbacks)
    clock.move_to(APPOINTMENT - 72 * HOUR)
    run_job(django_capture_on_commit_callbacks)

    clock.move_to(APPOINTMENT - 50 * HOUR)
    stop = reverse("intake:invitation_stop", kwargs={"token": invitation_token(invitation)})
    assert client.post(stop).status_code == 200

    clock.move_to(APPOINTMENT - 24 * HOUR)
    run_job(django_capture_on_commit_callbacks)
    assert reminders(invitation) == [(72, "email", "sent")]
    assert len(reminder_subjects(mail_server)) == 1


def test_a_reminder_queued_before_the_stop_is_not_sent(
    client, django_capture_on_commit_callbacks, mail_server, clock
):
    invitation = invite(django_capture_on_commit_callbacks)
    clock.move_to(APPOINTMENT - 24 * HOUR)
    stop = reverse("intake:invitation_stop", kwargs={"token": invitation_token(invitation)})
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_reminders() == 1
        client.post(stop)  # before the task runs
    assert reminders(invitation) == [(24, "email", "skipped")]
    assert reminder_subjects(mail_server) == []


def test_no_reminder_for_a_cancelled_appointment(
    django_capture_on_commit_callbacks, mail_server, clock
):
    invitation = invite(django_capture_on_commit_callbacks)
    appointment_cancel(appointment=invitation.appointment, by=None)
    for hours in (72, 24):
        clock.move_to(APPOINTMENT - hours * HOUR)
        run_job(django_capture_on_commit_callbacks)
    assert reminders(invitation) == []


def test_no_reminder_for_a_locked_link(django_capture_on_commit_callbacks, mail_server, clock):
    invitation = invite(django_capture_on_commit_callbacks)
    Invitation.objects.filter(pk=invitation.pk).update(locked_at=MADE)
    clock.move_to(APPOINTMENT - 24 * HOUR)
    run_job(django_capture_on_commit_callbacks)
    assert reminders(invitation) == []


# The due query -------------------------------------------------------------------------


def many_invitations(count: int) -> None:
    """``count`` invitations in every state, bulk-made (the query's cost is what matters)."""
    for number in range(count):
        invitation = appointment_create(
            new=NewAppointment(
                first_name="Test",
                last_name=f"Many-{number}-Example",
                date_of_birth=BORN,
                starts_at=APPOINTMENT + datetime.timedelta(hours=number % 200),
                email=f"test.many.{number}@example.com",
            ),
            by=None,
        )
        if number % 4 == 1:
            Invitation.objects.filter(pk=invitation.pk).update(finished_at=MADE)
        elif number % 4 == 2:
            Invitation.objects.filter(pk=invitation.pk).update(reminders_stopped_at=MADE)


@pytest.mark.parametrize("count", [1, 60])
def test_the_due_reminders_are_one_query(count, django_assert_num_queries):
    many_invitations(count)
    now = APPOINTMENT - 24 * HOUR
    with django_assert_num_queries(1):
        due = list(due_reminders(now))
    assert due and {invitation.due_hours for invitation in due} <= {24, 72}
    assert all(invitation.appointment.starts_at for invitation in due)  # no query per row


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_the_due_query_reads_the_waiting_invitations_index(django_db_blocker):
    many_invitations(20)
    query = due_reminders(APPOINTMENT - 24 * HOUR)
    with connection.cursor() as cursor:
        # With so few rows the planner would scan the table; forbid that to see
        # which index it can use.
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = query.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "invitation_waiting" in plan, plan


def due_invitations(count: int) -> None:
    for number in range(count):
        appointment_create(
            new=NewAppointment(
                first_name="Test",
                last_name=f"Due-{number}-Example",
                date_of_birth=BORN,
                starts_at=APPOINTMENT,
                email=f"test.due.{number}@example.com",
                mobile="555 010 0150" if number % 2 else "",
            ),
            by=None,
        )


@pytest.mark.parametrize("count", [1, 40])
def test_the_job_stores_the_due_reminders_in_the_same_statements_for_few_or_many(
    count, django_capture_on_commit_callbacks
):
    due_invitations(count)
    with (
        django_capture_on_commit_callbacks() as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        assert send_due_reminders(APPOINTMENT - 24 * HOUR) == count
    # The due query, then one INSERT (savepoints around it).
    assert len([q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]) == 2
    assert len(callbacks) == 1
    assert InvitationMessage.objects.filter(kind=Kind.REMINDER).count() == count + count // 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two writers at once (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_store_each_reminder_once(mail_server):
    """The second run reads before the first commits, then waits on the unique index."""
    due_invitations(3)
    now = APPOINTMENT - 24 * HOUR
    other_run: dict[str, object] = {}

    def second_run():
        try:
            other_run["queued"] = send_due_reminders(now)
        except Exception as error:  # reported below, in the test's thread
            other_run["error"] = error
        finally:
            connections.close_all()

    with transaction.atomic():
        assert send_due_reminders(now) == 3
        thread = threading.Thread(target=second_run)
        thread.start()
        with connection.cursor() as cursor:

            def second_run_waits():
                # pg_locks is read live (pg_stat_activity would be one snapshot
                # for the whole transaction).
                cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                return cursor.fetchone()[0] > 0 or other_run

            wait_for(second_run_waits, what="the second run to wait on the first")
    thread.join(timeout=20)
    assert other_run == {"queued": 0}
    # Three emails and one text message, each stored and sent once.
    assert InvitationMessage.objects.filter(kind=Kind.REMINDER, state=State.SENT).count() == 4
    assert len(mail_server.messages) == 3
