"""Forwarded addresses and schemes are believed only from our own proxies.

X-Forwarded-For and X-Forwarded-Proto count only when the connection comes
from an address in CLINIC_TRUSTED_PROXIES; otherwise the peer (REMOTE_ADDR) is
the client, for the staff login lockout, the questionnaire's rate limit and
the audit log alike. Malformed forwarded values are ignored, never a 500.
"""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from intake.models import Case
from tests.factories import CaseFactory, UserFactory
from tests.intake.questionnaire import post_step

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.50"  # talks to the app directly, not through our proxy
PROXY = "10.0.0.1"
LOGIN = "admin:login"
PASSWORD = "correct-horse-battery-staple"  # UserFactory's


@pytest.fixture(autouse=True)
def _our_proxies(settings):
    settings.CLINIC_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]


def wrong_password(client, username="frontdesk", **headers):
    return client.post(reverse(LOGIN), {"username": username, "password": "nope"}, **headers)


def right_password(client, username="frontdesk", **headers):
    return client.post(reverse(LOGIN), {"username": username, "password": PASSWORD}, **headers)


def test_wrong_passwords_with_a_new_forwarded_address_each_time_lock_the_account(client):
    UserFactory(username="frontdesk", is_superuser=True)
    for n in range(30):
        wrong_password(client, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    response = right_password(client, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert response.status_code == 429
    assert client.get(reverse("admin:index"), REMOTE_ADDR=ATTACKER).status_code == 302
    # One lockout record, for the address that really sent the guesses.
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [ATTACKER]


def test_a_locked_account_cannot_log_in_by_sending_a_new_forwarded_address(client, settings):
    UserFactory(username="frontdesk", is_superuser=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        wrong_password(client, REMOTE_ADDR=ATTACKER)
    response = right_password(client, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429
    assert client.get(reverse("admin:index"), REMOTE_ADDR=ATTACKER).status_code == 302


def test_the_questionnaire_rate_limit_counts_the_peer_not_the_forwarded_address(settings):
    settings.CLINIC_INTAKE_RATE = "2/m"
    statuses = [
        post_step(
            Client(), "about", REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
        ).status_code
        for n in range(3)
    ]
    assert statuses == [302, 302, 429]


def test_the_audit_log_stores_the_peer_not_the_forwarded_address(client):
    UserFactory(username="frontdesk", is_superuser=True)
    wrong_password(client, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.77")
    failed = AuditEntry.objects.get(action="login_failed")
    assert failed.ip_address == ATTACKER

    right_password(client, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.78")
    case = CaseFactory()
    client.get(
        reverse("admin:intake_case_change", args=[case.pk]),
        REMOTE_ADDR=ATTACKER,
        HTTP_X_FORWARDED_FOR="192.0.2.79",
    )
    viewed = AuditEntry.objects.filter(action="view").latest("pk")
    assert viewed.ip_address == ATTACKER


@pytest.mark.parametrize(
    ("peer", "forwarded", "client_address"),
    [
        # Our proxy appended the address it saw.
        (PROXY, "198.51.100.9", "198.51.100.9"),
        # Two of our proxies; what the client wrote itself (left) is not believed.
        (PROXY, "6.6.6.6, 198.51.100.9, 10.0.0.7", "198.51.100.9"),
        ("127.0.0.1", "2001:db8::5", "2001:db8::5"),
        # A request from inside our network, through our proxies only.
        (PROXY, "10.0.0.7", "10.0.0.7"),
        # No header at all: the proxy itself.
        (PROXY, "", PROXY),
    ],
)
def test_a_trusted_proxys_forwarded_address_is_believed(client, peer, forwarded, client_address):
    UserFactory(username="frontdesk", is_superuser=True)
    wrong_password(client, REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert AuditEntry.objects.get(action="login_failed").ip_address == client_address
    assert AccessAttempt.objects.get().ip_address == client_address


def test_patients_behind_a_trusted_proxy_are_rate_limited_one_by_one(settings):
    settings.CLINIC_INTAKE_RATE = "1/m"
    for n in range(3):
        response = post_step(
            Client(), "about", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
        )
        assert response.status_code == 302
    spoofed = post_step(
        Client(), "about", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.99, 192.0.2.0"
    )
    assert spoofed.status_code == 429  # the address our proxy saw, not the one written in front
    assert Case.objects.count() == 0


def test_with_no_trusted_proxy_listed_nobody_is_believed(client, settings):
    settings.CLINIC_TRUSTED_PROXIES = []
    UserFactory(username="frontdesk", is_superuser=True)
    wrong_password(client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert AuditEntry.objects.get(action="login_failed").ip_address == "127.0.0.1"


class TestForwardedProto:
    """`X-Forwarded-Proto: https` makes a request secure only from a trusted proxy."""

    @pytest.fixture(autouse=True)
    def _redirect_to_https(self, settings):
        settings.SECURE_SSL_REDIRECT = True

    def test_from_an_untrusted_peer_the_request_is_not_secure(self, client):
        response = client.get(
            reverse("intake:start"), REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_PROTO="https"
        )
        assert response.status_code == 301
        assert response["Location"].startswith("https://")

    def test_from_a_trusted_proxy_the_request_is_secure(self, client):
        response = client.get(
            reverse("intake:start"), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https"
        )
        assert response.status_code == 200


MALFORMED = [
    "not-an-ip",
    "1.2.3.4, garbage",
    "garbage, 1.2.3.4",
    "1.2.3.4:8080",
    "[2001:db8::1]:443",
    "fe80::1%eth0",
    "999.1.1.1",
    " , ,",
    "1.2.3.4\x00",
    "<script>",
    "1.2.3.4, " * 20_000 + "5.6.7.8",
    "x" * 100_000,
]


@pytest.mark.parametrize("peer", [ATTACKER, PROXY])
@pytest.mark.parametrize("forwarded", MALFORMED, ids=lambda value: repr(value[:20]))
def test_malformed_forwarded_addresses_never_500_at_login(client, peer, forwarded):
    UserFactory(username="frontdesk", is_superuser=True)
    response = wrong_password(client, REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == 200
    # Stored as a real address: the peer, or what our proxy appended after the junk.
    stored = AccessAttempt.objects.get().ip_address
    assert stored in {peer, "1.2.3.4", "5.6.7.8"}
    assert AuditEntry.objects.get(action="login_failed").ip_address == stored
    response = right_password(client, REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == 302


@pytest.mark.parametrize("forwarded", MALFORMED, ids=lambda value: repr(value[:20]))
def test_malformed_forwarded_addresses_never_500_on_the_questionnaire(forwarded):
    response = post_step(Client(), "about", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == 302


def test_the_junk_a_client_puts_in_front_of_our_proxys_entry_is_ignored(client):
    UserFactory(username="frontdesk", is_superuser=True)
    wrong_password(client, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="garbage, 198.51.100.9")
    assert AccessAttempt.objects.get().ip_address == "198.51.100.9"
