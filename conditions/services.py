"""Writes to the education library.

Edits made through the admin are recorded by django-simple-history (who, when,
and each field's old and new value). Publishing goes through here so that it is
recorded the same way, row by row, instead of a bulk ``update()`` that would
leave no history.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from .models import Condition


def condition_set_published(
    *,
    condition: Condition,
    is_published: bool,
    changed_by: AbstractBaseUser | None = None,
) -> Condition:
    """Publish or unpublish one page, recording who did it in its history.

    Does nothing (and records nothing) when the page is already in that state.
    """
    if condition.is_published == is_published:
        return condition
    with transaction.atomic():
        condition.is_published = is_published
        if changed_by is not None:
            condition._history_user = changed_by
        condition._change_reason = _("Published") if is_published else _("Unpublished")
        condition.save(update_fields=["is_published", "updated_at"])
    return condition
