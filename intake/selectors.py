"""Reads of intake data that views and the admin share."""

import datetime

from django.conf import settings
from django.utils import timezone

from .models import Case, IntakeDraft
from .services import draft_token_hash


def draft_for_token(raw_token: str | None, *, with_case: bool = False) -> IntakeDraft | None:
    """The browser's draft if its token is known and it has not expired.

    Every questionnaire request reads its draft, so this is kept to the
    cheapest query: the case is joined only when asked for, and no ordering
    is needed since ``token_hash`` is unique.
    """
    if not raw_token or len(raw_token) > 100:
        return None
    cutoff = timezone.now() - datetime.timedelta(hours=settings.CLINIC_DRAFT_HOURS)
    drafts = IntakeDraft.objects.filter(
        token_hash=draft_token_hash(raw_token), updated_at__gte=cutoff
    )
    if with_case:
        drafts = drafts.select_related("case")
    return next(iter(drafts[:1]), None)


def cases_past_retention(*, now: datetime.datetime, retention_days: int):
    """Closed cases untouched for longer than the retention period that still hold answers."""
    cutoff = now - datetime.timedelta(days=retention_days)
    return (
        Case.objects.filter(status=Case.Status.CLOSED, updated_at__lt=cutoff)
        .exclude(answers={}, reasons=[])
        .order_by("pk")
    )
