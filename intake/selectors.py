"""Reads of intake data that views and the admin share."""

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import AlertDelivery, Case, IntakeDraft
from .services import draft_token_hash


def _draft_token_hash(raw_token: str | None) -> str | None:
    """The stored hash of a browser's draft token, or None for no or an absurd token."""
    if not raw_token or len(raw_token) > 100:
        return None
    return draft_token_hash(raw_token)


def _draft_cutoff() -> datetime.datetime:
    """Drafts untouched since before this have expired."""
    return timezone.now() - datetime.timedelta(hours=settings.CLINIC_DRAFT_HOURS)


def draft_for_token(raw_token: str | None) -> IntakeDraft | None:
    """The browser's draft if its token is known and it has not expired.

    Every questionnaire request reads its draft, so this is the cheapest read
    Django offers: written-out SQL (``raw``), which skips building the query
    and costs about half the CPU of the same ``filter()`` (docs/performance.md).
    ``token_hash`` is unique, so there is at most one row.
    """
    token_hash = _draft_token_hash(raw_token)
    if token_hash is None:
        return None
    drafts = IntakeDraft.objects.raw(
        "SELECT * FROM intake_intakedraft WHERE token_hash = %s", [token_hash]
    )
    draft = next(iter(drafts), None)
    return draft if draft is not None and draft.updated_at >= _draft_cutoff() else None


def submitted_case_for_token(raw_token: str | None) -> Case | None:
    """The case this browser's questionnaire became, if its draft is known and not expired.

    The confirmation page's read: the draft and its case in one statement,
    written out like ``draft_for_token``'s.
    """
    token_hash = _draft_token_hash(raw_token)
    if token_hash is None:
        return None
    cases = Case.objects.raw(
        "SELECT c.* FROM intake_case c JOIN intake_intakedraft d ON d.case_id = c.id "
        "WHERE d.token_hash = %s AND d.updated_at >= %s",
        [token_hash, _draft_cutoff()],
    )
    return next(iter(cases), None)


def cases_past_retention(*, now: datetime.datetime, retention_days: int):
    """Closed cases untouched for longer than the retention period that still hold answers."""
    cutoff = now - datetime.timedelta(days=retention_days)
    return (
        Case.objects.filter(status=Case.Status.CLOSED, updated_at__lt=cutoff)
        .exclude(answers={}, reasons=[])
        .order_by("pk")
    )


#: A delivery still waiting this long past its try counts as failing: nothing
#: is taking tasks (the worker is down), even if no attempt has failed yet.
ALERT_STALLED_AFTER = datetime.timedelta(minutes=2)


def failing_alert_count(*, now: datetime.datetime | None = None) -> int:
    """How many cases have an alert or escalation that is not getting through.

    For the red banner on the admin home page: a delivery that has failed and
    not yet gone through, or one left untried for ``ALERT_STALLED_AFTER`` past
    its time. One query over the partial index ``alert_delivery_due`` (pending
    deliveries only), however many alerts were ever sent.
    """
    stalled = (now or timezone.now()) - ALERT_STALLED_AFTER
    return (
        AlertDelivery.objects.filter(state=AlertDelivery.State.PENDING)
        .filter(~Q(last_error="") | Q(next_attempt_at__lt=stalled))
        .values("case_id")
        .distinct()
        .count()
    )
