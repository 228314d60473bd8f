"""Sending invitations and their reminders (issue 21), by email and by text message.

How one message travels (the design of ``intake/alerts.py``'s deliveries):

1. ``queue_invitation_messages`` stores one ``InvitationMessage`` per channel
   the invitation has (email, text message), once: the unique constraint
   ``invitation_message_once`` makes a repeat call, or two at once, find the
   rows already there. A ``send_invitation_message`` task is queued for each
   new row when the transaction commits.
2. ``invitation_message_attempt`` (the task's body) claims a message that is
   due by moving its next try into the future, checks again that it is still
   wanted (never for a cancelled appointment or a closed link; a reminder
   never once the questionnaire is finished, a case exists or reminders are
   stopped: then it is "skipped", with the reason), sends it with no
   transaction open, and records the outcome on the row: ``attempts``,
   ``last_attempt_at``, then ``sent_at``, or the error type in
   ``last_error`` and the next try after a backoff. A refusal that will not
   change, the last allowed try, or an expired link make it "failed".
3. ``manage.py send_invitation_reminders`` (every five minutes) queues the
   reminders that have come due (``send_due_reminders``) and another try of
   every pending message whose try is overdue (``invitation_messages_requeue_due``).

What a patient receives names the clinic, the date and time, their link, the
link that stops reminders and the clinic's phone: never their name or
anything about their health (the subject line least of all).
"""

import datetime
import logging
import smtplib
import urllib.error

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Case as SQLCase
from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from . import sms
from .invitations import invitation_token, invitation_url
from .models import Appointment, Invitation, InvitationMessage

logger = logging.getLogger(__name__)

Kind = InvitationMessage.Kind
Channel = InvitationMessage.Channel
State = InvitationMessage.State

#: At most this many invitations get reminders, and messages are re-queued,
#: per run of the job; the next run (five minutes later) takes the rest.
JOB_BATCH = 5000


# Queueing -------------------------------------------------------------------------


def invitation_channels(invitation: Invitation) -> list[str]:
    """The channels an invitation's messages go by: email and/or text message."""
    channels = []
    if invitation.email:
        channels.append(Channel.EMAIL)
    if invitation.mobile:
        channels.append(Channel.SMS)
    return channels


def queue_invitation_messages(
    *,
    invitation: Invitation,
    kind: str = Kind.INVITATION,
    hours_before: int = 0,
    resend_number: int = 0,
    send_at: datetime.datetime | None = None,
) -> list[InvitationMessage]:
    """Store one message per channel of ``invitation`` and queue its sending after the commit.

    ``send_at``: a later time for the first try (a follow-up scheduled ahead);
    the message then waits in the table and the job queues it once its time
    has come (``invitation_messages_requeue_due``).

    Exactly once: a message already stored for this invitation, kind, channel,
    ``hours_before`` and ``resend_number`` is returned as it is and not queued
    again (its own retries take care of it). Call it inside the transaction
    that calls for the message, or on its own. Whether the message is still
    wanted is checked when it is sent, not here.
    """
    messages, _created = _messages_store(
        invitation=invitation,
        kind=kind,
        hours_before=hours_before,
        resend_number=resend_number,
        send_at=send_at,
    )
    return messages


def _messages_store(
    *,
    invitation: Invitation,
    kind: str,
    hours_before: int,
    resend_number: int,
    send_at: datetime.datetime | None = None,
) -> tuple[list[InvitationMessage], int]:
    """``queue_invitation_messages``, also saying how many messages are new."""
    now = timezone.now()
    first_try = max(send_at or now, now)
    messages, created_ids = [], []
    with transaction.atomic():
        for channel in invitation_channels(invitation):
            # get_or_create reads again after an IntegrityError, so two calls
            # at once (two runs of the job) still make one row.
            message, created = InvitationMessage.objects.get_or_create(
                invitation=invitation,
                kind=kind,
                channel=channel,
                hours_before=hours_before,
                resend_number=resend_number,
                defaults={"created_at": now, "next_attempt_at": first_try},
            )
            messages.append(message)
            if created:
                created_ids.append(message.pk)
        if created_ids and first_try <= now:
            transaction.on_commit(lambda: invitation_messages_enqueue(created_ids))
    return messages, len(created_ids)


def invitation_messages_queue_new(
    invitations: list[Invitation], *, kind: str = Kind.INVITATION, hours_before: int = 0
) -> list[InvitationMessage]:
    """``queue_invitation_messages`` for many invitations that have no such message yet.

    The same rows and the same tasks queued on commit, written with one
    INSERT per thousand messages instead of a look-up and an insert each (for
    an import of thousands of appointments, or the reminders due in one run).
    A message already stored makes the unique constraint raise
    ``IntegrityError`` and nothing is stored: use it only where none can be.
    """
    now = timezone.now()
    messages = [
        InvitationMessage(
            invitation=invitation,
            kind=kind,
            channel=channel,
            hours_before=hours_before,
            resend_number=0,
            created_at=now,
            next_attempt_at=now,
        )
        for invitation in invitations
        for channel in invitation_channels(invitation)
    ]
    with transaction.atomic():
        created = InvitationMessage.objects.bulk_create(messages, batch_size=1000)
        message_ids = [message.pk for message in created]
        if message_ids:
            transaction.on_commit(lambda: invitation_messages_enqueue(message_ids))
    return created


#: Messages tried by one task when many are queued at once (``send_invitation_messages``).
ENQUEUE_BATCH = 50


def invitation_messages_enqueue(message_ids: list[int]) -> None:
    """Queue one try of each message: a task for one, a task per ``ENQUEUE_BATCH`` for many."""
    from .tasks import send_invitation_message, send_invitation_messages

    if len(message_ids) == 1:
        send_invitation_message.enqueue(message_id=message_ids[0])
        return
    for start in range(0, len(message_ids), ENQUEUE_BATCH):
        send_invitation_messages.enqueue(message_ids=message_ids[start : start + ENQUEUE_BATCH])


# Timing ---------------------------------------------------------------------------


def message_retry_delay(attempts: int) -> datetime.timedelta:
    """How long to wait after the ``attempts``-th failed try before the next one.

    ``CLINIC_INVITATION_RETRY_SECONDS`` after the first, doubling each time up
    to ``CLINIC_INVITATION_RETRY_MAX_SECONDS``.
    """
    base = max(settings.CLINIC_INVITATION_RETRY_SECONDS, 1)
    cap = max(settings.CLINIC_INVITATION_RETRY_MAX_SECONDS, base)
    doublings = min(max(attempts - 1, 0), 30)
    return datetime.timedelta(seconds=min(base * 2**doublings, cap))


# What the patient receives --------------------------------------------------------


def stop_reminders_url(invitation: Invitation) -> str:
    path = reverse("intake:invitation_stop", kwargs={"token": invitation_token(invitation)})
    return settings.CLINIC_BASE_URL + path


def message_context(message: InvitationMessage) -> dict[str, object]:
    invitation = message.invitation
    appointment = invitation.appointment
    return {
        "clinic": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "emergency": settings.CLINIC_EMERGENCY_NUMBER,
        "starts_at": timezone.localtime(appointment.starts_at) if appointment else None,
        "expires_at": timezone.localtime(invitation.expires_at),
        "link": invitation_url(invitation),
        "stop_link": stop_reminders_url(invitation),
        "reminder": message.kind == Kind.REMINDER,
    }


def _templates(invitation: Invitation) -> str:
    """The wording's family: before a visit, or a follow-up asking how the patient is now."""
    return "intake/email/invitation" if invitation.appointment_id else "intake/email/follow_up"


def invitation_email(message: InvitationMessage) -> EmailMultiAlternatives:
    """The email for a message, plain text with an HTML version, in the patient's language."""
    context = message_context(message)
    with translation.override(message.invitation.language):
        family = _templates(message.invitation)
        subject = render_to_string(f"{family}_subject.txt", context)
        text = render_to_string(f"{family}.txt", context)
        html = render_to_string(f"{family}.html", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[message.invitation.email],
    )
    email.attach_alternative(html, "text/html")
    return email


def invitation_sms_text(message: InvitationMessage) -> str:
    """The text message for a message: short, in the patient's language."""
    with translation.override(message.invitation.language):
        text = render_to_string(
            f"{_templates(message.invitation)}_sms.txt", message_context(message)
        )
    return "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())


# Sending (no database transaction is open while these run) -------------------------


class MessageNotAccepted(Exception):
    """The mail backend returned without sending."""


def _send_email(message: InvitationMessage) -> None:
    if invitation_email(message).send(fail_silently=False) < 1:
        raise MessageNotAccepted("the mail backend sent nothing")


def _send_sms(message: InvitationMessage) -> None:
    sms.send_sms(
        to=message.invitation.mobile,
        body=invitation_sms_text(message),
        reference=f"invitation-message-{message.pk}",
    )


_SENDERS = {Channel.EMAIL: _send_email, Channel.SMS: _send_sms}


def _smtp_codes(error: BaseException) -> list[int]:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return [code for code, _text in error.recipients.values()]
    if isinstance(error, smtplib.SMTPResponseException):
        return [error.smtp_code]
    return []


def _error_type(error: BaseException) -> str:
    """The type of a failure and its status code, never its message (it may hold addresses)."""
    if isinstance(error, sms.SMSRefused) and error.__cause__ is not None:
        return _error_type(error.__cause__)
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTPError {error.code}"
    if isinstance(error, urllib.error.URLError) and isinstance(error.reason, BaseException):
        return type(error.reason).__name__
    codes = _smtp_codes(error)
    if codes:
        return f"{type(error).__name__} {codes[0]}"
    return type(error).__name__


def _refused_for_good(error: BaseException) -> bool:
    """A refusal that trying again will not change: a 5xx from the mail server, or the gateway's."""
    if isinstance(error, sms.SMSRefused):
        return True
    codes = _smtp_codes(error)
    return bool(codes) and all(code >= 500 for code in codes)


# Attempting a message -------------------------------------------------------------


def why_not_send(message: InvitationMessage, *, now: datetime.datetime) -> str:
    """Why a message must not go out now (for staff, in English); "" when it may."""
    invitation = message.invitation
    appointment = invitation.appointment
    if appointment is not None and appointment.status == Appointment.Status.CANCELLED:
        return "appointment cancelled"
    if invitation.locked_at is not None:
        return "link locked"
    if invitation.finished_at is not None:
        return "questionnaire finished"
    if now >= invitation.expires_at:
        return "link expired"
    if not (invitation.email if message.channel == Channel.EMAIL else invitation.mobile):
        return "address removed"
    if message.kind == Kind.REMINDER:
        if invitation.reminders_stopped_at is not None:
            return "reminders stopped"
        if invitation.case_id is not None:
            return "answers already sent"
        if appointment is not None and now >= appointment.starts_at:
            return "appointment started"
    return ""


def invitation_message_attempt(*, message_id: int) -> str:
    """Try to send one pending message once; returns "sent", "failed", "skipped" or "not due".

    The message is claimed in a short transaction (its next try moved on, so a
    duplicate task or the job leaves it alone), sent with no transaction or
    lock held, and the outcome recorded in a second transaction. A failure is
    never raised: it is recorded and retried, or given up for good.
    """
    now = timezone.now()
    with transaction.atomic():
        message = (
            InvitationMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("invitation__appointment")
            .filter(pk=message_id, state=State.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if message is None:
            return "not due"  # sent, being tried by another worker, or not due yet
        reason = why_not_send(message, now=now)
        if reason:
            message.state = State.SKIPPED
            message.last_error = reason
            message.save(update_fields=["state", "last_error"])
            return "skipped"
        message.attempts += 1
        message.last_attempt_at = now
        # Past this try's timeout: a worker killed mid-send is retried by the job.
        message.next_attempt_at = now + message_retry_delay(message.attempts)
        message.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])

    try:
        _SENDERS[message.channel](message)
    except Exception as error:
        error_type, for_good = _error_type(error), _refused_for_good(error)
        logger.warning(
            "%s %s %s not sent (%s); attempt %d%s",
            message.get_kind_display(),
            message.channel,
            message.pk,
            error_type,
            message.attempts,
            ", not retried" if for_good else "",
        )
    else:
        error_type, for_good = None, False
    return _record_outcome(message_id=message.pk, error_type=error_type, for_good=for_good)


def _record_outcome(*, message_id: int, error_type: str | None, for_good: bool) -> str:
    now = timezone.now()
    with transaction.atomic():
        message = (
            InvitationMessage.objects.select_for_update(of=("self",))
            .select_related("invitation")
            .get(pk=message_id)
        )
        if message.state != State.PENDING:
            return message.state  # a duplicate try (after a crash) overlapped this one
        if error_type is None:
            message.state = State.SENT
            message.sent_at = now
            message.last_error = ""
            message.save(update_fields=["state", "sent_at", "last_error"])
            return "sent"
        message.last_error = error_type[:200]
        message.next_attempt_at = now + message_retry_delay(message.attempts)
        if (
            for_good
            or message.attempts >= settings.CLINIC_INVITATION_SEND_ATTEMPTS
            or message.next_attempt_at >= message.invitation.expires_at
        ):
            message.state = State.FAILED
        message.save(update_fields=["state", "last_error", "next_attempt_at"])
        if message.state == State.FAILED:
            return "failed"
        from .tasks import send_invitation_message

        if send_invitation_message.get_backend().supports_defer:
            # Stored in this transaction with the failure. Backends that cannot
            # defer (immediate) rely on the scheduled job to try again.
            send_invitation_message.using(run_after=message.next_attempt_at).enqueue(
                message_id=message.pk
            )
    return "failed"


def invitation_messages_requeue_due(*, now: datetime.datetime | None = None) -> int:
    """Queue a try of every pending message whose next try has come; returns how many.

    Covers what a retry task cannot: a worker killed mid-send, a task lost
    with its queue, and task backends that cannot schedule (the immediate
    backend, where this job is the only retry). With a backend that
    schedules retries, a message is left alone until its own retry is one
    backoff step late. One query on the partial index ``invitation_message_due``.
    """
    from .tasks import send_invitation_message

    now = now or timezone.now()
    late = now
    if send_invitation_message.get_backend().supports_defer:
        late -= datetime.timedelta(seconds=settings.CLINIC_INVITATION_RETRY_SECONDS)
    due = list(
        InvitationMessage.objects.filter(state=State.PENDING, next_attempt_at__lte=late)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:JOB_BATCH]
    )
    invitation_messages_enqueue(due)
    return len(due)


# Reminders ------------------------------------------------------------------------


def due_reminders(now: datetime.datetime) -> QuerySet[Invitation]:
    """Invitations due a reminder now, each annotated with its step (``due_hours``).

    Steps are ``CLINIC_REMINDER_HOURS`` before the appointment (72 and 24 by
    default); for a follow-up, which has no appointment, before the end of its
    link's last day. Step ``h`` is due from ``h`` hours before the appointment until
    the next step's time (the last step: until the appointment starts), so a
    job that was down sends only the latest step, not a burst of old ones;
    and only if the invitation was sent (``send_after``) before the step's time (one made two
    days ahead gets its invitation and the 24-hour reminder, no 72-hour one).
    Never a step already queued, and never once the questionnaire is
    finished or has a case, reminders are stopped, the link locked or
    expired, or the appointment cancelled.

    One query: the invitation conditions are the predicate of the partial
    index ``invitation_waiting``, read for the links expiring within the
    largest step and two days, so the cost follows the appointments of the
    next few days, not the invitations stored.
    """
    steps = sorted(settings.CLINIC_REMINDER_HOURS, reverse=True)
    if not steps:
        return Invitation.objects.none()
    # What the steps count back from: the visit, or for a follow-up (no visit)
    # the end of its link's last day.
    deadline = F("deadline")
    whens = []
    for index, hours in enumerate(steps):
        before = datetime.timedelta(hours=hours)
        # The next step's time ends this one's window; the last ends at the deadline.
        window_end = datetime.timedelta(hours=steps[index + 1]) if index + 1 < len(steps) else None
        condition = Q(
            deadline__lte=now + before,
            send_after__lte=deadline - Value(before),
        )
        condition &= Q(deadline__gt=now + (window_end or datetime.timedelta()))
        whens.append(When(condition, then=Value(hours)))
    already_queued = InvitationMessage.objects.filter(
        invitation=OuterRef("pk"), kind=Kind.REMINDER, hours_before=OuterRef("due_hours")
    )
    return (
        Invitation.objects.filter(
            Q(appointment__isnull=True) | Q(appointment__status=Appointment.Status.BOOKED),
            case__isnull=True,
            finished_at__isnull=True,
            reminders_stopped_at__isnull=True,
            locked_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=now + datetime.timedelta(hours=steps[0], days=2),
        )
        .annotate(deadline=Coalesce("appointment__starts_at", "expires_at"))
        .annotate(due_hours=SQLCase(*whens, default=None, output_field=IntegerField()))
        .filter(due_hours__isnull=False)
        .filter(~Exists(already_queued))
        .select_related("appointment")
        .order_by("expires_at", "pk")
    )


def send_due_reminders(now: datetime.datetime | None = None) -> int:
    """Queue the reminders that are due now (``due_reminders``); returns how many were queued.

    One per step per invitation however often it runs, two runs at once
    included. The due invitations have no reminder for their step yet, so
    they are all stored with one INSERT per thousand messages; if another run
    stored some meanwhile, the unique constraint ``invitation_message_once``
    refuses the batch and it is stored again one invitation at a time, each
    finding what is already there. Only new messages are queued.
    """
    now = now or timezone.now()
    due = list(due_reminders(now)[:JOB_BATCH])
    steps: dict[int, list[Invitation]] = {}
    for invitation in due:
        steps.setdefault(invitation.due_hours, []).append(invitation)
    try:
        with transaction.atomic():
            for hours, invitations in steps.items():
                invitation_messages_queue_new(invitations, kind=Kind.REMINDER, hours_before=hours)
        return len(due)
    except IntegrityError:
        logger.info("Another run stored some of these reminders; storing them one by one")
    queued = 0
    for invitation in due:
        _messages, created = _messages_store(
            invitation=invitation,
            kind=Kind.REMINDER,
            hours_before=invitation.due_hours,
            resend_number=0,
        )
        queued += bool(created)
    return queued
