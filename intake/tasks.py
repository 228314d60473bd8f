"""Background work: delivering emergency alerts and escalations (see intake/alerts.py)."""

from collections import Counter

from django.db import transaction
from django.tasks import task

from . import alerts
from .alerts import emergency_alert_message, patient_language_note
from .models import AlertDelivery

__all__ = [
    "deliver_alert",
    "emergency_alert_message",
    "patient_language_note",
    "queue_emergency_alert",
    "send_emergency_alert",
]


@task
def deliver_alert(delivery_id: int) -> str:
    """Try one stored alert delivery once; a failure is recorded and retried, never raised."""
    return alerts.alert_delivery_attempt(delivery_id=delivery_id)


@task
def send_emergency_alert(case_id: int) -> int:
    """Tasks queued by app servers still on the previous release during a rolling deploy.

    They queued this task instead of storing deliveries: store the case's
    alert now (once; the job retries it like any other). Returns how many
    deliveries were made.
    """
    with transaction.atomic():
        if AlertDelivery.objects.filter(case_id=case_id, kind=AlertDelivery.Kind.ALERT).exists():
            return 0
        return len(alerts.emergency_alert_queue(case_id=case_id))


def queue_emergency_alert(case_id: int) -> None:
    """Alert the on-call team about a case that has just become an emergency.

    Call it inside the transaction that made the emergency, after the case is
    saved: one delivery per channel is stored in that transaction (so the
    alert commits with the case or not at all) and tried once it commits,
    then retried until it is delivered (``alerts.emergency_alert_queue``).
    """
    alerts.emergency_alert_queue(case_id=case_id)


@task
def send_invitation_message(message_id: int) -> str:
    """Try one stored invitation or reminder message once (see intake/invitation_sending.py).

    A failure is recorded on the message and retried, never raised.
    """
    from .invitation_sending import invitation_message_attempt

    return invitation_message_attempt(message_id=message_id)


@task
def send_invitation_messages(message_ids: list[int]) -> dict[str, int]:
    """Try several stored messages once each, in turn: an import's or a reminder run's.

    One task per batch rather than one per message: queuing a task is a
    statement of its own, and an import of 5,000 appointments queues about
    6,700 messages. Each message is claimed, sent and recorded on its own
    (``invitation_message_attempt``), so a failure is retried alone, and a
    worker stopped half-way leaves the rest pending for the job to queue
    again. Returns how many ended each way.
    """
    from .invitation_sending import invitation_message_attempt

    return dict(Counter(invitation_message_attempt(message_id=pk) for pk in message_ids))
