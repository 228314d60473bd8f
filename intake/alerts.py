"""Emergency alerts and escalations: stored per channel, retried until delivered.

SPEC "Cases": an alert is never silently lost. How one travels:

1. Whenever a case becomes an emergency, ``emergency_alert_queue`` stores one
   ``AlertDelivery`` per channel (email to ``CLINIC_ALERT_EMAILS``; the signed
   webhook when ``CLINIC_ALERT_WEBHOOK_URL`` is set) in the transaction that
   made the emergency, and queues a ``deliver_alert`` task for each: with the
   database task backend the task row commits with the case; with the
   immediate backend (development, tests) it runs once the case is committed.
2. ``alert_delivery_attempt`` (the task's body) claims a delivery that is due
   by moving its next try into the future, sends it outside any transaction,
   then records the outcome: an ``AlertAttempt`` row (time, outcome, error
   *type* only), the delivery sent or left pending with the next try after an
   exponential backoff (a new task ``run_after`` then), the case's
   ``alert_state`` for the queue row, and timeline entries for sent, first
   failure and recovery. Nothing marks a delivery sent before the server or
   receiver has accepted it; an attempt cut short by a crash is found and
   logged as "Interrupted" by the next one.
3. ``manage.py escalate_emergencies`` (every minute; ``intake/escalation.py``)
   re-queues any pending delivery whose try is overdue (a worker killed mid-send, a lost task) and
   escalates open emergencies nobody has acknowledged in time, or whose alert
   has been failing for ``CLINIC_ALERT_FAILOVER_MINUTES`` (so an alert that
   cannot go out on one channel reaches people on the other).

Delivery is at least once: a crash between the send and the record of it
repeats the message; nothing ever skips it. Webhook receivers can drop
repeats by ``delivery_id``.
"""

import datetime
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language_info
from django_tasks_db import DatabaseBackend

from . import triage
from .models import AlertAttempt, AlertDelivery, Case, CaseEvent

logger = logging.getLogger(__name__)

Channel = AlertDelivery.Channel
Kind = AlertDelivery.Kind
State = AlertDelivery.State

#: ``Case.alert_state`` values, as the queue row shows them.
ALERT_PENDING = "pending"
ALERT_SENT = "sent"
ALERT_FAILING = "failing"

#: The error type recorded for an attempt that never reported back (the
#: worker was killed or lost its database mid-send).
INTERRUPTED = "Interrupted"


class AlertNotSent(Exception):
    """Our own reasons a delivery cannot be attempted (recorded like any failure)."""


class NoAlertAddresses(AlertNotSent):
    pass


class WebhookNotConfigured(AlertNotSent):
    pass


class EmailNotAccepted(AlertNotSent):
    pass


# Timing -----------------------------------------------------------------------


def retry_delay(attempts: int) -> datetime.timedelta:
    """How long to wait after the ``attempts``-th try before the next one.

    ``CLINIC_ALERT_RETRY_SECONDS`` (30 s) after the first, doubling each time
    up to ``CLINIC_ALERT_RETRY_MAX_SECONDS`` (10 minutes), then at that pace
    for as long as it takes: a delivery is never given up.
    """
    base = max(settings.CLINIC_ALERT_RETRY_SECONDS, 1)
    cap = max(settings.CLINIC_ALERT_RETRY_MAX_SECONDS, base)
    doublings = min(max(attempts - 1, 0), 30)
    return datetime.timedelta(seconds=min(base * 2**doublings, cap))


# Messages (the reference, tier, flags in words and the link: no other PHI) ---------


def case_url(case: Case) -> str:
    return settings.CLINIC_BASE_URL + reverse("admin:intake_case_change", args=[case.pk])


def patient_language_note(language_code: str) -> str:
    """For staff, in English: the language the patient used, when it is not English."""
    code = (language_code or "").split("-")[0].lower()
    if not code or code == "en":
        return ""
    try:
        name = get_language_info(code)["name"]
    except KeyError:
        name = code
    return f"the patient answered in {name} and may prefer to be spoken to in {name}."


def _flags_in_words(case: Case) -> str:
    return ", ".join(triage.flag_label(flag) for flag in case.flags) or "none recorded"


def emergency_alert_message(case: Case) -> tuple[str, str]:
    """Subject and body for the alert: reference, flags and a link, no other PHI.

    Always in English for staff. When the patient answered in another language
    (Spanish), the body says so, so whoever calls them can plan for it.
    """
    subject = f"[{settings.CLINIC_NAME}] EMERGENCY intake {case.reference}"
    body = (
        "An intake questionnaire was triaged as an emergency.\n\n"
        + _case_lines(case)
        + "\nPlease review it now. Patient details are in the staff system only."
    )
    return subject, body


def escalation_message(case: Case, *, number: int, now: datetime.datetime) -> tuple[str, str]:
    """Subject and body for escalation ``number`` of an emergency: no PHI either."""
    waited = max(int((now - (case.emergency_since or case.submitted_at)).total_seconds() // 60), 0)
    subject = (
        f"[{settings.CLINIC_NAME}] ESCALATION {number}: EMERGENCY intake {case.reference} "
        "not acknowledged"
    )
    if case.acknowledged_at is not None:
        state = "It has been acknowledged since this escalation was raised."
    else:
        state = (
            "Nobody has acknowledged it in the staff system "
            f"{waited} minutes after it became an emergency."
        )
    failing = (
        "\nThe first alert could not be delivered on every channel.\n"
        if case.alert_state == ALERT_FAILING
        else ""
    )
    body = (
        f"Escalation {number} for an emergency intake case.\n{state}\n{failing}\n"
        + _case_lines(case)
        + "\nPlease open it now and acknowledge it, or make sure someone does."
        " Patient details are in the staff system only."
    )
    return subject, body


def _case_lines(case: Case) -> str:
    language = patient_language_note(case.language)
    return (
        f"Case: {case.reference}\n"
        f"Red flags: {_flags_in_words(case)}\n"
        + (f"Language: {language}\n" if language else "")
        + f"Open the case: {case_url(case)}\n"
    )


def webhook_payload(
    case: Case, delivery: AlertDelivery, *, now: datetime.datetime
) -> dict[str, object]:
    """The webhook's JSON: the case reference, tier, flags and link, nothing else.

    ``timestamp`` (Unix seconds) is inside the signed body so a receiver can
    refuse a replayed request; ``delivery_id`` is the same on every retry of
    one delivery, so a receiver can drop repeats (delivery is at least once).
    """
    escalation = delivery.kind == Kind.ESCALATION
    return {
        "clinic": settings.CLINIC_NAME,
        "delivery_id": delivery.pk,
        "kind": delivery.kind,
        "escalation": delivery.escalation_number if escalation else False,
        "reference": case.reference,
        "tier": case.tier,
        "flags": list(case.flags),
        "flag_labels": [triage.flag_label(flag) for flag in case.flags],
        "case_url": case_url(case),
        "timestamp": int(now.timestamp()),
    }


def webhook_signature(body: bytes, secret: str) -> str:
    """``X-Clinic-Signature``: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# Sending (no database transaction is open while these run) -------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: the alert must reach the configured receiver itself."""

    def redirect_request(self, *args, **kwargs):
        return None


_webhook_opener = urllib.request.build_opener(_NoRedirects)


def _send_email(delivery: AlertDelivery, case: Case, *, now: datetime.datetime) -> None:
    recipients = list(delivery.recipients) or _email_recipients(delivery.kind)
    if not recipients:
        raise NoAlertAddresses("no alert addresses are set")
    if delivery.kind == Kind.ESCALATION:
        subject, body = escalation_message(case, number=delivery.escalation_number, now=now)
    else:
        subject, body = emergency_alert_message(case)
    if send_mail(subject, body, None, recipients, fail_silently=False) < 1:
        raise EmailNotAccepted("the mail backend sent nothing")


def _post_webhook(delivery: AlertDelivery, case: Case, *, now: datetime.datetime) -> None:
    url = settings.CLINIC_ALERT_WEBHOOK_URL
    secret = settings.CLINIC_ALERT_WEBHOOK_SECRET
    if not url or not secret:
        raise WebhookNotConfigured("the webhook URL or secret is no longer set")
    body = json.dumps(webhook_payload(case, delivery, now=now), separators=(",", ":")).encode()
    request = urllib.request.Request(  # noqa: S310 - settings allow only http(s) URLs
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "clinic-intake-alerts",
            "X-Clinic-Signature": webhook_signature(body, secret),
        },
    )
    # Any status outside 2xx raises HTTPError; a hang ends at the timeout.
    with _webhook_opener.open(request, timeout=settings.CLINIC_ALERT_WEBHOOK_TIMEOUT) as response:
        response.read(1024)


_SENDERS = {Channel.EMAIL: _send_email, Channel.WEBHOOK: _post_webhook}


def _error_type(error: BaseException) -> str:
    """The type of a failure, never its message (it may hold addresses)."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTPError {error.code}"
    if isinstance(error, urllib.error.URLError) and isinstance(error.reason, BaseException):
        return type(error.reason).__name__
    return type(error).__name__


# Creating deliveries ------------------------------------------------------------


def _email_recipients(kind: str) -> list[str]:
    if kind == Kind.ESCALATION and settings.CLINIC_ESCALATION_EMAILS:
        return list(settings.CLINIC_ESCALATION_EMAILS)
    return list(settings.CLINIC_ALERT_EMAILS)


def deliveries_create(
    *, case_id: int, kind: str, number: int, now: datetime.datetime
) -> list[AlertDelivery]:
    # Email always: with no address set it fails loudly (and is retried, so
    # it goes out once one is set) instead of vanishing.
    deliveries = [
        AlertDelivery(
            case_id=case_id,
            channel=Channel.EMAIL,
            kind=kind,
            escalation_number=number,
            recipients=_email_recipients(kind),
            created_at=now,
            next_attempt_at=now,
        )
    ]
    if settings.CLINIC_ALERT_WEBHOOK_URL:
        deliveries.append(
            AlertDelivery(
                case_id=case_id,
                channel=Channel.WEBHOOK,
                kind=kind,
                escalation_number=number,
                created_at=now,
                next_attempt_at=now,
            )
        )
    return AlertDelivery.objects.bulk_create(deliveries)


def deliveries_enqueue(delivery_ids: list[int]) -> None:
    """Queue a try of each delivery once the current transaction commits.

    The database backend stores the task in this transaction (it commits with
    the delivery or not at all); a backend that runs tasks at once waits for
    the commit, so no message names a change that was rolled back.
    """
    from .tasks import deliver_alert

    if isinstance(deliver_alert.get_backend(), DatabaseBackend):
        for delivery_id in delivery_ids:
            deliver_alert.enqueue(delivery_id=delivery_id)
    else:

        def enqueue_all():
            for delivery_id in delivery_ids:
                deliver_alert.enqueue(delivery_id=delivery_id)

        transaction.on_commit(enqueue_all)


def emergency_alert_queue(*, case_id: int) -> list[AlertDelivery]:
    """Store and queue the alert for a case that has just become an emergency.

    Call it inside the transaction that made the emergency, after the case is
    saved: the deliveries commit with it or not at all. A case that becomes
    an emergency again later gets a new alert (numbered 1, 2, ...).
    """
    now = timezone.now()
    with transaction.atomic():
        last = AlertDelivery.objects.filter(case_id=case_id, kind=Kind.ALERT).aggregate(
            last=Max("escalation_number")
        )["last"]
        deliveries = deliveries_create(
            case_id=case_id, kind=Kind.ALERT, number=0 if last is None else last + 1, now=now
        )
        _case_alert_state_refresh(case_id=case_id, now=now)
        deliveries_enqueue([delivery.pk for delivery in deliveries])
    return deliveries


# Attempting a delivery ----------------------------------------------------------


def alert_delivery_attempt(*, delivery_id: int) -> str:
    """Try to deliver one pending alert once; returns "sent", "failed" or "not due".

    The delivery is claimed in a short transaction (its next try moved past
    this one's timeout, so a duplicate task or the job leaves it alone), sent
    with no transaction or lock held, and the outcome recorded in a second
    transaction. A failure is never raised: it is recorded and retried.
    """
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            AlertDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, state=State.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return "not due"  # sent, being tried by another worker, or not due yet
        if delivery.attempts > delivery.attempt_log.count():
            # The last try never reported back: the worker died mid-send.
            _record_failure(delivery, error_type=INTERRUPTED, now=now)
        delivery.attempts += 1
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        delivery.save(update_fields=["attempts", "next_attempt_at"])

    case = Case.objects.get(pk=delivery.case_id)
    try:
        _SENDERS[delivery.channel](delivery, case, now=now)
    except Exception as error:
        error_type = _error_type(error)
        logger.warning(
            "%s %s for case %s not delivered (%s); attempt %d, will retry",
            delivery.get_kind_display(),
            delivery.channel,
            case.reference,
            error_type,
            delivery.attempts,
        )
    else:
        error_type = None
    _record_outcome(delivery_id=delivery.pk, error_type=error_type)
    return "sent" if error_type is None else "failed"


def _record_outcome(*, delivery_id: int, error_type: str | None) -> None:
    now = timezone.now()
    with transaction.atomic():
        delivery = AlertDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.state == State.SENT:
            # A duplicate try (after a crash) overlapped one that delivered it.
            AlertAttempt.objects.create(
                delivery=delivery,
                at=now,
                outcome=AlertAttempt.Outcome.FAILED if error_type else AlertAttempt.Outcome.SENT,
                error_type=error_type or "",
            )
            return
        if error_type is None:
            _record_success(delivery, now=now)
            return
        _record_failure(delivery, error_type=error_type, now=now)
        from .tasks import deliver_alert

        if deliver_alert.get_backend().supports_defer:
            # Stored in this transaction with the failure. Backends that cannot
            # defer (immediate) rely on the scheduled job to try again.
            deliver_alert.using(run_after=delivery.next_attempt_at).enqueue(delivery_id=delivery.pk)


def _describe(delivery: AlertDelivery) -> str:
    what = "Alert" if delivery.kind == Kind.ALERT else f"Escalation {delivery.escalation_number}"
    return f"{what} {'email' if delivery.channel == Channel.EMAIL else 'webhook'}"


def _record_success(delivery: AlertDelivery, *, now: datetime.datetime) -> None:
    AlertAttempt.objects.create(delivery=delivery, at=now, outcome=AlertAttempt.Outcome.SENT)
    recovered = bool(delivery.last_error)
    delivery.state = State.SENT
    delivery.sent_at = now
    delivery.last_error = ""
    delivery.save(update_fields=["state", "sent_at", "last_error"])
    if delivery.channel == Channel.EMAIL:
        to = f"to {len(delivery.recipients or _email_recipients(delivery.kind))} address(es)"
    else:
        to = "to the webhook"
    if recovered:
        first_failure = (
            delivery.attempt_log.filter(outcome=AlertAttempt.Outcome.FAILED)
            .order_by("at")
            .values_list("at", flat=True)
            .first()
        )
        since = f"{timezone.localtime(first_failure):%H:%M}" if first_failure else "earlier"
        summary = (
            f"{_describe(delivery)} delivered {to} after {delivery.attempts} attempts "
            f"(recovered: it had failed since {since})."
        )
    else:
        summary = f"{_describe(delivery)} sent {to}."
    CaseEvent.objects.create(case_id=delivery.case_id, kind=CaseEvent.Kind.ALERT, summary=summary)
    _case_alert_state_refresh(case_id=delivery.case_id, now=now)


def _record_failure(delivery: AlertDelivery, *, error_type: str, now: datetime.datetime) -> None:
    AlertAttempt.objects.create(
        delivery=delivery, at=now, outcome=AlertAttempt.Outcome.FAILED, error_type=error_type
    )
    first_failure = not delivery.last_error
    delivery.last_error = error_type[:100]
    delivery.next_attempt_at = now + retry_delay(max(delivery.attempts, 1))
    delivery.save(update_fields=["last_error", "next_attempt_at"])
    if first_failure:
        CaseEvent.objects.create(
            case_id=delivery.case_id,
            kind=CaseEvent.Kind.ALERT,
            summary=(
                f"{_describe(delivery)} NOT delivered ({error_type}); "
                "retrying until it goes through."
            ),
        )
    _case_alert_state_refresh(case_id=delivery.case_id, now=now)


def _case_alert_state_refresh(*, case_id: int, now: datetime.datetime) -> None:
    """Keep ``Case.alert_state`` in step with the case's deliveries.

    ``failing`` (since the first failure) while any delivery has failed and
    not yet gone through; else ``pending`` (since it was queued) while an
    alert waits for its first try; else ``sent`` with the time the alert
    was delivered. Stored on the case so the queue row needs no query.
    """
    case = Case.objects.select_for_update().only("alert_state", "alert_state_at").get(pk=case_id)
    deliveries = list(
        AlertDelivery.objects.filter(case_id=case_id).only("kind", "state", "last_error", "sent_at")
    )
    alerts = [delivery for delivery in deliveries if delivery.kind == Kind.ALERT]
    if any(d.state == State.PENDING and d.last_error for d in deliveries):
        state = ALERT_FAILING
        since = case.alert_state_at if case.alert_state == ALERT_FAILING else now
    elif any(d.state == State.PENDING for d in alerts):
        state = ALERT_PENDING
        since = case.alert_state_at if case.alert_state == ALERT_PENDING else now
    elif alerts:
        state = ALERT_SENT
        since = max(d.sent_at for d in alerts)
    else:
        return
    if (state, since) != (case.alert_state, case.alert_state_at):
        Case.objects.filter(pk=case_id).update(
            alert_state=state, alert_state_at=since, updated_at=now
        )
