"""Reads of intake data that views and the admin share."""

import datetime

from django.conf import settings
from django.utils import timezone

from .models import IntakeDraft
from .services import draft_token_hash


def draft_for_token(raw_token: str | None) -> IntakeDraft | None:
    """The browser's draft if its token is known and it has not expired."""
    if not raw_token or len(raw_token) > 100:
        return None
    cutoff = timezone.now() - datetime.timedelta(hours=settings.CLINIC_DRAFT_HOURS)
    return (
        IntakeDraft.objects.select_related("case")
        .filter(token_hash=draft_token_hash(raw_token), updated_at__gte=cutoff)
        .first()
    )
