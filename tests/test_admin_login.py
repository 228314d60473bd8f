"""The staff login goes somewhere real after signing in, never to another site."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"  # UserFactory's


@pytest.mark.parametrize(
    "unsafe_next",
    ["https://evil.example/", "//evil.example/admin/", "http://testserver.evil.example/", ""],
)
def test_a_login_with_an_unsafe_next_lands_on_the_admin_home(client, unsafe_next):
    UserFactory(username="frontdesk", is_superuser=True)
    response = client.post(
        reverse("admin:login"),
        {"username": "frontdesk", "password": PASSWORD, "next": unsafe_next},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert client.get(response["Location"]).status_code == 200


def test_a_login_with_a_safe_next_goes_there(client):
    UserFactory(username="frontdesk", is_superuser=True)
    queue = reverse("admin:intake_redflagcase_changelist")
    response = client.post(
        reverse("admin:login"), {"username": "frontdesk", "password": PASSWORD, "next": queue}
    )
    assert response["Location"] == queue
