"""Sending invitations (issue 21): by email through a real local SMTP server and by
text message through a real local HTTP gateway that checks each request's signature.

Nothing in the sending code is replaced: Django's SMTP backend and urllib talk
to the receivers over real sockets, and the tasks run as the app runs them.
"""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from intake.invitation_sending import (
    invitation_message_attempt,
    invitation_sms_text,
    queue_invitation_messages,
)
from intake.invitations import (
    NewAppointment,
    appointment_cancel,
    appointment_create,
    invitation_stop_reminders,
    invitation_url,
)
from intake.models import Invitation, InvitationMessage
from intake.sms import ConsoleBackend
from tests.factories import CaseFactory
from tests.intake.alert_receivers import REFUSE, SMS_KEY, running_sms_gateway

pytestmark = pytest.mark.django_db

Kind = InvitationMessage.Kind
State = InvitationMessage.State

#: When the clock stands still in these tests; the appointment is five days on.
START = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC)
APPOINTMENT = datetime.datetime(2026, 12, 5, 14, 30, tzinfo=datetime.UTC)

LAST_NAME = "Sending-Example"


@pytest.fixture
def sms_gateway(settings):
    with running_sms_gateway(settings) as gateway:
        yield gateway


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def retry_settings(settings):
    settings.CLINIC_INVITATION_RETRY_SECONDS = 60
    settings.CLINIC_INVITATION_RETRY_MAX_SECONDS = 3600
    settings.CLINIC_INVITATION_SEND_ATTEMPTS = 4
    return settings


# Helpers ---------------------------------------------------------------------------


def new_appointment(**changes) -> NewAppointment:
    values = {
        "first_name": "Test",
        "last_name": LAST_NAME,
        "date_of_birth": datetime.date(1961, 5, 17),
        "starts_at": APPOINTMENT,
        "email": "test.sending@example.com",
        "mobile": "555 010 0199",
        "language": "en",
    }
    values.update(changes)
    return NewAppointment(**values)


def invite(capture, **changes) -> tuple[Invitation, list[InvitationMessage]]:
    """Make an appointment and queue its invitation as staff do; sent once it commits."""
    invitation = appointment_create(new=new_appointment(**changes), by=None)
    with capture(execute=True):
        messages = queue_invitation_messages(invitation=invitation)
    for message in messages:
        message.refresh_from_db()
    return invitation, messages


def by_channel(messages) -> dict[str, InvitationMessage]:
    return {message.channel: message for message in messages}


def run_job(capture) -> str:
    out = io.StringIO()
    with capture(execute=True):
        call_command("send_invitation_reminders", stdout=out)
    return out.getvalue()


def html_part(message) -> str:
    parts = [part for part in message.walk() if part.get_content_type() == "text/html"]
    assert len(parts) == 1
    return parts[0].get_payload(decode=True).decode()


def text_part(message) -> str:
    parts = [part for part in message.walk() if part.get_content_type() == "text/plain"]
    assert len(parts) == 1
    return parts[0].get_payload(decode=True).decode()


# Queueing ---------------------------------------------------------------------------


def test_one_message_per_channel_and_never_twice(django_capture_on_commit_callbacks):
    invitation = appointment_create(new=new_appointment(), by=None)
    with django_capture_on_commit_callbacks() as callbacks:
        first = queue_invitation_messages(invitation=invitation)
    assert sorted(message.channel for message in first) == ["email", "sms"]
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks:
        again = queue_invitation_messages(invitation=invitation)
    assert [message.pk for message in again] == [message.pk for message in first]
    assert callbacks == []  # nothing queued twice
    assert InvitationMessage.objects.filter(invitation=invitation).count() == 2


def test_only_the_channels_the_invitation_has():
    invitation = appointment_create(new=new_appointment(mobile=""), by=None)
    assert [m.channel for m in queue_invitation_messages(invitation=invitation)] == ["email"]
    texted = appointment_create(new=new_appointment(email="", last_name="Text-Example"), by=None)
    assert [m.channel for m in queue_invitation_messages(invitation=texted)] == ["sms"]


def test_a_resend_is_a_new_message(django_capture_on_commit_callbacks, mail_server, clock):
    invitation, _first = invite(django_capture_on_commit_callbacks, mobile="")
    with django_capture_on_commit_callbacks(execute=True):
        resent = queue_invitation_messages(invitation=invitation, resend_number=1)
    assert len(mail_server.messages) == 2
    assert InvitationMessage.objects.get(pk=resent[0].pk).state == State.SENT


def test_nothing_is_sent_when_the_transaction_is_rolled_back(
    django_capture_on_commit_callbacks, mail_server, clock
):
    from django.db import transaction

    invitation = appointment_create(new=new_appointment(mobile=""), by=None)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queue_invitation_messages(invitation=invitation)
        raise RuntimeError("the caller failed after queueing")
    assert mail_server.messages == []
    assert not InvitationMessage.objects.exists()


# What the patient receives -------------------------------------------------------------


def test_the_email_has_the_clinic_date_link_stop_link_and_phone_and_no_name(
    django_capture_on_commit_callbacks, mail_server, clock, settings
):
    invitation, messages = invite(django_capture_on_commit_callbacks, mobile="")

    [email] = mail_server.messages
    assert mail_server.envelopes == [["test.sending@example.com"]]
    [subject] = mail_server.subjects()
    assert subject == f"{settings.CLINIC_NAME}: your visit on 5 Dec 2026"
    text, html = text_part(email), html_part(email)
    link = invitation_url(invitation)
    stop = link + "stop-reminders/"
    for body in (text, html):
        assert settings.CLINIC_NAME in body
        assert "5 Dec 2026" in body and "14:30" in body
        assert link in body and stop in body
        assert settings.CLINIC_PHONE in body
    # No name and nothing of the patient's anywhere in the message.
    raw = email.as_string()
    assert LAST_NAME not in raw and "Test " not in subject and "1961" not in raw

    [message] = messages
    assert message.state == State.SENT and message.attempts == 1
    assert message.sent_at == START and message.last_attempt_at == START
    assert message.last_error == ""


def test_the_email_is_in_the_invitation_language(
    django_capture_on_commit_callbacks, mail_server, clock
):
    invite(django_capture_on_commit_callbacks, mobile="", language="es")
    [email] = mail_server.messages
    assert "5 de diciembre de 2026" in mail_server.subjects()[0]
    assert '<html lang="es">' in html_part(email)
    assert "5 de diciembre de 2026" in text_part(email)


def test_the_text_message_goes_to_the_gateway_signed(
    django_capture_on_commit_callbacks, sms_gateway, clock, settings
):
    invitation, messages = invite(django_capture_on_commit_callbacks, email="")

    [request] = sms_gateway.accepted
    assert request.signature_valid(SMS_KEY)
    assert request.headers["Content-Type"].startswith("application/json")
    payload = request.json
    [message] = messages
    assert set(payload) == {"to", "body", "reference", "timestamp"}
    assert payload["to"] == "555 010 0199"
    assert payload["reference"] == f"invitation-message-{message.pk}"
    assert payload["timestamp"] == int(START.timestamp())
    body = payload["body"]
    assert body.startswith(f"{settings.CLINIC_NAME}: ")
    assert "5 Dec 2026" in body and "14:30" in body
    assert invitation_url(invitation) in body
    assert invitation_url(invitation) + "stop-reminders/" in body
    assert settings.CLINIC_PHONE in body
    assert LAST_NAME not in body
    assert message.state == State.SENT and message.attempts == 1 and message.sent_at == START


def test_the_console_backend_prints_the_text_message(settings):
    invitation = appointment_create(new=new_appointment(email=""), by=None)
    [message] = queue_invitation_messages(invitation=invitation)
    stream = io.StringIO()
    ConsoleBackend(stream).send(
        to="555 010 0199", body=invitation_sms_text(message), reference="r1"
    )
    assert "Text message r1 to 555 010 0199" in stream.getvalue()
    assert invitation_url(invitation) in stream.getvalue()


# Failures and retries ----------------------------------------------------------------


def test_an_email_refused_is_retried_with_backoff_until_it_goes_through(
    django_capture_on_commit_callbacks, mail_server, clock, retry_settings
):
    mail_server.mode = REFUSE
    _invitation, [message] = invite(django_capture_on_commit_callbacks, mobile="")

    assert message.state == State.PENDING and message.attempts == 1
    assert message.last_error == "SMTPDataError 451"
    assert message.next_attempt_at == START + datetime.timedelta(seconds=60)

    # Not before its time.
    clock.move_to(START + datetime.timedelta(seconds=59))
    run_job(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.attempts == 1 and mail_server.messages == []

    # Second try fails too: the wait doubles.
    clock.move_to(START + datetime.timedelta(seconds=60))
    assert "another try of 1 overdue message" in run_job(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.attempts == 2 and message.state == State.PENDING
    assert message.next_attempt_at == START + datetime.timedelta(seconds=60 + 120)

    # The server is back: the third try goes through.
    mail_server.mode = "accept"
    clock.move_to(START + datetime.timedelta(seconds=180))
    run_job(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.state == State.SENT and message.attempts == 3
    assert message.sent_at == START + datetime.timedelta(seconds=180)
    assert message.last_error == ""
    assert len(mail_server.messages) == 1

    # And never again.
    clock.move_to(START + datetime.timedelta(hours=2))
    run_job(django_capture_on_commit_callbacks)
    assert len(mail_server.messages) == 1


def test_a_mail_server_that_is_down_is_retried(
    django_capture_on_commit_callbacks, mail_server, clock, retry_settings
):
    mail_server.stop()
    _invitation, [message] = invite(django_capture_on_commit_callbacks, mobile="")
    assert message.state == State.PENDING and message.last_error == "ConnectionRefusedError"

    mail_server.start()
    clock.move_to(message.next_attempt_at)
    run_job(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.state == State.SENT and message.attempts == 2
    assert len(mail_server.messages) == 1


def test_a_text_message_failing_at_the_gateway_is_retried_then_sent(
    django_capture_on_commit_callbacks, sms_gateway, clock, retry_settings
):
    sms_gateway.answers = [500, 503]
    _invitation, [message] = invite(django_capture_on_commit_callbacks, email="")
    assert message.state == State.PENDING and message.last_error == "HTTPError 500"

    clock.move_to(message.next_attempt_at)
    run_job(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.state == State.PENDING and message.last_error == "HTTPError 503"

    clock.move_to(message.next_attempt_at)
    run_job(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.state == State.SENT and message.attempts == 3
    # Every try carried the same reference, so the gateway can drop repeats.
    references = {request.json["reference"] for request in sms_gateway.requests}
    assert references == {f"invitation-message-{message.pk}"}
    assert len(sms_gateway.accepted) == 1


def test_a_gateway_that_refuses_the_number_is_not_asked_again(
    django_capture_on_commit_callbacks, sms_gateway, clock, retry_settings
):
    sms_gateway.answers = [400]
    _invitation, [message] = invite(django_capture_on_commit_callbacks, email="")
    assert message.state == State.FAILED and message.last_error == "HTTPError 400"

    clock.move_to(START + datetime.timedelta(hours=3))
    run_job(django_capture_on_commit_callbacks)
    assert len(sms_gateway.requests) == 1


def test_a_wrong_gateway_key_is_refused_by_the_gateway_and_retried(
    django_capture_on_commit_callbacks, settings, clock, retry_settings
):
    with running_sms_gateway(settings, key="not-the-gateway-key-" + "x" * 40) as gateway:
        _invitation, [message] = invite(django_capture_on_commit_callbacks, email="")
        assert gateway.accepted == [] and len(gateway.requests) == 1
        # A key to put right, not a number the gateway cannot reach: tried again.
        assert message.state == State.PENDING and message.last_error == "HTTPError 401"

        settings.CLINIC_SMS_GATEWAY_KEY = SMS_KEY
        clock.move_to(message.next_attempt_at)
        run_job(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.state == State.SENT and len(gateway.accepted) == 1


def test_a_gateway_too_slow_to_answer_is_retried(
    django_capture_on_commit_callbacks, sms_gateway, clock, settings, retry_settings
):
    settings.CLINIC_SMS_GATEWAY_URL = "http://127.0.0.1:9/nothing-listens-here"
    _invitation, [message] = invite(django_capture_on_commit_callbacks, email="")
    assert message.state == State.PENDING and message.last_error == "ConnectionRefusedError"

    settings.CLINIC_SMS_GATEWAY_URL = sms_gateway.url
    clock.move_to(message.next_attempt_at)
    run_job(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.state == State.SENT


def test_a_message_is_given_up_after_the_last_allowed_try(
    django_capture_on_commit_callbacks, mail_server, clock, retry_settings
):
    mail_server.mode = REFUSE
    _invitation, [message] = invite(django_capture_on_commit_callbacks, mobile="")
    for _ in range(5):
        clock.move_to(message.next_attempt_at)
        run_job(django_capture_on_commit_callbacks)
        message.refresh_from_db()
    assert message.state == State.FAILED and message.attempts == 4
    assert mail_server.data_commands == 4


def test_a_failure_queues_the_retry_with_a_backend_that_can_wait(
    django_capture_on_commit_callbacks, mail_server, clock, settings, retry_settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    mail_server.mode = REFUSE
    invitation = appointment_create(new=new_appointment(mobile=""), by=None)
    with django_capture_on_commit_callbacks(execute=True):
        [message] = queue_invitation_messages(invitation=invitation)
    [first] = DBTaskResult.objects.all()
    assert first.task_path == "intake.tasks.send_invitation_message"

    assert invitation_message_attempt(message_id=message.pk) == "failed"
    retry = DBTaskResult.objects.exclude(pk=first.pk).get()
    assert retry.run_after == START + datetime.timedelta(seconds=60)
    # The job leaves it to that task until it is a step late.
    clock.move_to(START + datetime.timedelta(seconds=61))
    run_job(django_capture_on_commit_callbacks)
    assert DBTaskResult.objects.count() == 2


def test_a_duplicate_task_sends_nothing_more(
    django_capture_on_commit_callbacks, mail_server, clock
):
    _invitation, [message] = invite(django_capture_on_commit_callbacks, mobile="")
    assert invitation_message_attempt(message_id=message.pk) == "not due"
    assert len(mail_server.messages) == 1


# Never for an appointment or link that is closed ------------------------------------------


def queue_then(capture, invitation, change, **queue_args) -> list[InvitationMessage]:
    """Queue messages, make ``change`` before they are tried, then let them be tried."""
    with capture(execute=True):
        messages = queue_invitation_messages(invitation=invitation, **queue_args)
        change(invitation)
    for message in messages:
        message.refresh_from_db()
    return messages


def test_nothing_is_sent_for_a_cancelled_appointment(
    django_capture_on_commit_callbacks, mail_server, sms_gateway, clock
):
    invitation = appointment_create(new=new_appointment(), by=None)
    messages = queue_then(
        django_capture_on_commit_callbacks,
        invitation,
        lambda inv: appointment_cancel(appointment=inv.appointment, by=None),
    )
    assert {(m.state, m.last_error) for m in messages} == {(State.SKIPPED, "appointment cancelled")}
    assert mail_server.messages == [] and sms_gateway.requests == []
    assert all(m.attempts == 0 for m in messages)


@pytest.mark.parametrize(
    ("field", "reason"),
    [("finished_at", "questionnaire finished"), ("locked_at", "link locked")],
)
def test_nothing_is_sent_for_a_finished_or_locked_link(
    django_capture_on_commit_callbacks, mail_server, sms_gateway, clock, field, reason
):
    invitation = appointment_create(new=new_appointment(), by=None)
    messages = queue_then(
        django_capture_on_commit_callbacks,
        invitation,
        lambda inv: Invitation.objects.filter(pk=inv.pk).update(**{field: timezone.now()}),
    )
    assert {(m.state, m.last_error) for m in messages} == {(State.SKIPPED, reason)}
    assert mail_server.messages == [] and sms_gateway.requests == []


def test_nothing_is_sent_once_the_link_has_expired(
    django_capture_on_commit_callbacks, mail_server, clock
):
    invitation = appointment_create(new=new_appointment(mobile=""), by=None)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        [message] = queue_invitation_messages(invitation=invitation)
    clock.move_to(invitation.expires_at)  # the task waited in the queue too long
    for callback in callbacks:
        callback()
    message.refresh_from_db()
    assert (message.state, message.last_error) == (State.SKIPPED, "link expired")
    assert mail_server.messages == []


def test_a_retry_never_outlives_the_link(
    django_capture_on_commit_callbacks, mail_server, clock, retry_settings
):
    mail_server.mode = REFUSE
    # The appointment is today, so the link expires at midnight.
    starts_at = START.replace(hour=23, minute=58)
    _invitation, [message] = invite(
        django_capture_on_commit_callbacks, mobile="", starts_at=starts_at
    )
    assert message.state == State.PENDING
    clock.move_to(START.replace(hour=23, minute=59, second=30))
    run_job(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.state == State.FAILED and message.attempts == 2


def test_stopped_reminders_stop_reminders_but_not_the_invitation(
    django_capture_on_commit_callbacks, mail_server, clock
):
    invitation = appointment_create(new=new_appointment(mobile=""), by=None)
    invitation_stop_reminders(invitation=invitation)
    reminders = queue_then(
        django_capture_on_commit_callbacks,
        invitation,
        lambda inv: None,
        kind=Kind.REMINDER,
        hours_before=24,
    )
    assert [(m.state, m.last_error) for m in reminders] == [(State.SKIPPED, "reminders stopped")]
    assert mail_server.messages == []
    # Staff sending the link again is not a reminder: it goes.
    with django_capture_on_commit_callbacks(execute=True):
        queue_invitation_messages(invitation=invitation, resend_number=1)
    assert len(mail_server.messages) == 1


def test_no_reminder_once_a_case_was_sent_early(
    django_capture_on_commit_callbacks, mail_server, clock
):
    invitation = appointment_create(new=new_appointment(mobile=""), by=None)
    case = CaseFactory(patient=invitation.appointment.patient)
    reminders = queue_then(
        django_capture_on_commit_callbacks,
        invitation,
        lambda inv: Invitation.objects.filter(pk=inv.pk).update(case=case),
        kind=Kind.REMINDER,
        hours_before=24,
    )
    assert [(m.state, m.last_error) for m in reminders] == [(State.SKIPPED, "answers already sent")]
    assert mail_server.messages == []


def test_many_messages_are_queued_in_batches_and_each_is_sent_once(
    django_capture_on_commit_callbacks, mail_server, clock, settings
):
    from intake.invitation_sending import ENQUEUE_BATCH, invitation_messages_queue_new
    from intake.invitations import appointments_create_many
    from intake.tasks import send_invitation_messages

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    news = [new_appointment(last_name=f"Batch-{number:03d}", mobile="") for number in range(120)]
    invitations = appointments_create_many(news=news, by=None)
    with django_capture_on_commit_callbacks(execute=True):
        messages = invitation_messages_queue_new(invitations)

    tasks = list(DBTaskResult.objects.all())
    assert len(messages) == 120
    assert len(tasks) == 3 == -(-120 // ENQUEUE_BATCH)
    assert {task.task_path for task in tasks} == {"intake.tasks.send_invitation_messages"}
    for task in tasks:  # as the worker runs them
        assert send_invitation_messages.call(**task.args_kwargs["kwargs"]) == {
            "sent": len(task.args_kwargs["kwargs"]["message_ids"])
        }
    assert len(mail_server.subjects()) == 120
    assert set(InvitationMessage.objects.values_list("state", flat=True)) == {"sent"}
    # A task run twice (a worker restarted) sends nothing more.
    again = tasks[0].args_kwargs["kwargs"]
    assert send_invitation_messages.call(**again) == {"not due": len(again["message_ids"])}
    assert len(mail_server.subjects()) == 120
