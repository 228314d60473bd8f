import pytest
from django.contrib.auth.models import Permission

from tests.factories import UserFactory


@pytest.fixture
def content_editor(db):
    """Staff with the clinic manager's rights over the library (no superuser shortcut)."""
    user = UserFactory(username="manager")
    codenames = [
        f"{action}_{model}"
        for action in ("view", "add", "change")
        for model in ("condition", "reference")
    ]
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="conditions", codename__in=codenames)
    )
    return user


@pytest.fixture
def editor_client(client, content_editor):
    client.force_login(content_editor)
    return client
