import pytest
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver

from tests.factories import UserFactory


@receiver(setting_changed)
def _forget_template_fragments(**_kwargs):
    """Cached page fragments and kept pages hold the clinic's settings; tests change those."""
    from intake.kept_pages import forget_kept_pages

    caches["template_fragments"].clear()
    forget_kept_pages()


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
    settings.CLINIC_ALERT_EMAILS = ["oncall@example.com"]
    settings.CLINIC_REQUIRE_2FA = False
    settings.SECURE_SSL_REDIRECT = False
    # Real hashing is deliberately slow; tests only need it to be a hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def superuser(db):
    return UserFactory(username="boss", is_superuser=True)


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client
