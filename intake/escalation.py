"""The scheduled job's work (``manage.py escalate_emergencies``, every minute).

Escalates open emergencies nobody has acknowledged in time, or whose alert
keeps failing, and queues another try of alert deliveries whose try is
overdue (see ``intake/alerts.py`` for how deliveries are stored and tried).
Each part starts with one query on a partial index, so a run costs the same
however many cases and alerts are stored.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from . import triage
from .alerts import ALERT_FAILING, deliveries_create, deliveries_enqueue
from .models import AlertDelivery, Case, CaseEvent

logger = logging.getLogger(__name__)

#: At most this many deliveries re-queued, and cases escalated, per run; the
#: next run (a minute later) takes the rest.
JOB_BATCH = 500

#: A pending delivery this far past its try means no worker is taking tasks.
STALLED_AFTER = datetime.timedelta(minutes=5)


def cases_due_for_escalation(*, now: datetime.datetime) -> QuerySet[Case]:
    """Open emergencies nobody has acknowledged that are due an escalation now.

    Due: waiting longer than ``CLINIC_EMERGENCY_OVERDUE_MINUTES``, or an alert
    failing for ``CLINIC_ALERT_FAILOVER_MINUTES``; and never escalated, or
    last escalated ``CLINIC_ESCALATION_REPEAT_MINUTES`` ago. The first three
    conditions are the predicate of the partial index
    ``case_unacknowledged_emergency``, so this reads only unacknowledged open
    emergencies, however many cases are stored.
    """
    overdue = now - datetime.timedelta(minutes=settings.CLINIC_EMERGENCY_OVERDUE_MINUTES)
    failover = now - datetime.timedelta(minutes=settings.CLINIC_ALERT_FAILOVER_MINUTES)
    repeat = now - datetime.timedelta(minutes=settings.CLINIC_ESCALATION_REPEAT_MINUTES)
    return (
        Case.objects.filter(
            status__in=Case.OPEN_STATUSES, tier=triage.EMERGENCY, acknowledged_at__isnull=True
        )
        .filter(
            Q(emergency_since__lte=overdue)
            | Q(alert_state=ALERT_FAILING, alert_state_at__lte=failover)
        )
        .filter(Q(escalated_at__isnull=True) | Q(escalated_at__lte=repeat))
        .order_by("emergency_since")
    )


def emergencies_escalate(*, now: datetime.datetime | None = None) -> list[str]:
    """Escalate every emergency due an escalation (see ``cases_due_for_escalation``).

    One query finds them; each is then escalated in its own transaction under
    ``SELECT ... FOR UPDATE SKIP LOCKED`` with the conditions checked again,
    so two runs of the job at once never escalate a case twice. Returns the
    references escalated.
    """
    now = now or timezone.now()
    due = list(cases_due_for_escalation(now=now).values_list("pk", flat=True)[:JOB_BATCH])
    escalated = []
    for case_id in due:
        with transaction.atomic():
            case = (
                cases_due_for_escalation(now=now)
                .select_for_update(skip_locked=True)
                .filter(pk=case_id)
                .first()
            )
            if case is None:
                continue  # acknowledged meanwhile, or another run has it
            _case_escalate(case, now=now)
            escalated.append(case.reference)
    return escalated


def _case_escalate(case: Case, *, now: datetime.datetime) -> None:
    number = case.escalation_count + 1
    overdue_after = datetime.timedelta(minutes=settings.CLINIC_EMERGENCY_OVERDUE_MINUTES)
    if now - case.emergency_since >= overdue_after:
        minutes = int((now - case.emergency_since).total_seconds() // 60)
        reason = f"not acknowledged {minutes} minutes after it became an emergency"
    else:
        since = timezone.localtime(case.alert_state_at)
        reason = f"its alert has not been delivered since {since:%H:%M}"
    deliveries = deliveries_create(
        case_id=case.pk, kind=AlertDelivery.Kind.ESCALATION, number=number, now=now
    )
    if settings.CLINIC_ESCALATION_EMAILS:
        to = [f"{len(settings.CLINIC_ESCALATION_EMAILS)} escalation address(es)"]
    else:
        to = ["the on-call addresses (no escalation addresses are set)"]
    if any(delivery.channel == AlertDelivery.Channel.WEBHOOK for delivery in deliveries):
        to.append("the webhook")
    Case.objects.filter(pk=case.pk).update(
        escalated_at=now, escalation_count=number, updated_at=now
    )
    CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.ESCALATION,
        summary=f"Escalation {number}: {reason}; sent to {' and '.join(to)}.",
        after={"escalation": number, "channels": [delivery.channel for delivery in deliveries]},
    )
    deliveries_enqueue([delivery.pk for delivery in deliveries])


def alert_deliveries_requeue_due(*, now: datetime.datetime | None = None) -> int:
    """Queue a try of every pending delivery whose next try is overdue; returns how many.

    Covers what a retry task cannot: a worker killed mid-send (its task never
    finishes and nothing else would try again), a task lost with its queue,
    and task backends that cannot schedule (the immediate backend, where this
    job is the only retry). With a backend that schedules retries, a delivery
    is left alone until its own retry is one backoff step late. One query on
    the partial index ``alert_delivery_due``.
    """
    from .tasks import deliver_alert

    now = now or timezone.now()
    late = now
    if deliver_alert.get_backend().supports_defer:
        late -= datetime.timedelta(seconds=settings.CLINIC_ALERT_RETRY_SECONDS)
    due = list(
        AlertDelivery.objects.filter(state=AlertDelivery.State.PENDING, next_attempt_at__lte=late)
        .order_by("next_attempt_at")
        .values_list("pk", "next_attempt_at")[:JOB_BATCH]
    )
    if late < now and due and now - due[0][1] > STALLED_AFTER:
        logger.error(
            "Emergency alert deliveries are %d minutes overdue: is the worker "
            "(manage.py db_worker) running?",
            (now - due[0][1]).total_seconds() // 60,
        )
    for delivery_id, _next_attempt_at in due:
        deliver_alert.enqueue(delivery_id=delivery_id)
    return len(due)
