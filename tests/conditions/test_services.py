"""Publishing through the service keeps a history row per change."""

import pytest

from conditions.models import Condition
from conditions.services import condition_set_published
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_unpublish_records_who_and_why():
    manager = UserFactory(username="manager2")
    condition = Condition.objects.get(slug="spinal-stenosis")
    before = condition.history.count()

    condition_set_published(condition=condition, is_published=False, changed_by=manager)

    condition.refresh_from_db()
    assert condition.is_published is False
    assert condition.history.count() == before + 1
    record = condition.history.latest()
    assert (record.history_user, record.history_change_reason) == (manager, "Unpublished")
    assert record.is_published is False


def test_setting_the_same_state_records_nothing():
    condition = Condition.objects.get(slug="spinal-stenosis")
    before = condition.history.count()
    condition_set_published(condition=condition, is_published=True)
    assert condition.history.count() == before
