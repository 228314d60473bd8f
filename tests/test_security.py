"""Access control, two-factor login, lockout, rate limits and headers."""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from intake.models import Case
from tests.factories import CaseFactory, UserFactory
from tests.intake.questionnaire import fill_all, post_step, step_url

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:index",
        "admin:intake_case_changelist",
        "admin:intake_redflagcase_changelist",
        "admin:intake_patient_changelist",
        "admin:audit_auditentry_changelist",
    ],
)
def test_anonymous_users_reach_no_staff_page(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_anonymous_users_cannot_open_a_case_or_patient_by_id(client):
    case = CaseFactory()
    for url in (
        reverse("admin:intake_case_change", args=[case.pk]),
        reverse("admin:intake_patient_change", args=[case.patient.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert case.patient.last_name.encode() not in response.content


def test_non_staff_users_cannot_use_the_admin(client):
    user = UserFactory(username="patientish", is_staff=False)
    client.force_login(user)
    response = client.get(reverse("admin:intake_case_changelist"))
    assert response.status_code == 302


def test_a_patient_cannot_read_another_patients_draft_by_guessing_cookies(client):
    fill_all(client, stop_before="pain")
    other = Client()
    other.cookies["clinic_intake"] = "guessed-token"
    page = other.get(reverse("intake:start")).text
    assert "Zoë" not in page


class TestTwoFactor:
    @pytest.fixture(autouse=True)
    def _require_2fa(self, settings):
        settings.CLINIC_REQUIRE_2FA = True

    def test_password_alone_does_not_open_the_admin(self, client):
        UserFactory(username="clin", is_superuser=True)
        response = client.post(reverse("admin:login"), {"username": "clin", "password": PASSWORD})
        assert response.status_code == 200  # the form again, asking for a code
        assert client.get(reverse("admin:index")).status_code == 302

    def test_logged_in_but_unverified_session_is_refused(self, client):
        user = UserFactory(username="clin", is_superuser=True)
        client.force_login(user)
        assert client.get(reverse("admin:intake_case_changelist")).status_code == 302

    def test_password_and_authenticator_code_open_the_admin(self, client):
        user = UserFactory(username="clin", is_superuser=True)
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        code = f"{totp(device.bin_key):06d}"
        response = client.post(
            reverse("admin:login"),
            {
                "username": "clin",
                "password": PASSWORD,
                "otp_device": device.persistent_id,
                "otp_token": code,
            },
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        assert client.get(reverse("admin:index")).status_code == 200

    def test_wrong_code_is_refused(self, client):
        user = UserFactory(username="clin", is_superuser=True)
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        client.post(
            reverse("admin:login"),
            {
                "username": "clin",
                "password": PASSWORD,
                "otp_device": device.persistent_id,
                "otp_token": "000000" if totp(device.bin_key) != 0 else "111111",
            },
        )
        assert client.get(reverse("admin:index")).status_code == 302


def test_login_is_locked_after_repeated_failures(client, settings):
    UserFactory(username="frontdesk", is_superuser=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("admin:login"), {"username": "frontdesk", "password": "nope"})
    response = client.post(reverse("admin:login"), {"username": "frontdesk", "password": PASSWORD})
    assert response.status_code == 429
    assert "locked" in response.text.lower()
    assert client.get(reverse("admin:index")).status_code == 302


def test_csp_and_security_headers_on_patient_pages(client):
    response = client.get(reverse("intake:start"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_questionnaire_is_rate_limited_per_address_and_keeps_answers(client, settings):
    settings.CLINIC_INTAKE_RATE = "3/m"
    for _ in range(3):  # three questionnaires started from one address
        post_step(Client(), "about", REMOTE_ADDR="198.51.100.7")
    response = client.post(
        step_url("about"),
        {"first_name": "Kept", "last_name": "Answer", "phone": "555 010 0100"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 429
    assert 'value="Kept"' in response.text
    assert "Please wait a minute" in response.text
    # Another address is not affected.
    assert post_step(Client(), "about", REMOTE_ADDR="198.51.100.8").status_code == 302


def test_rate_limit_uses_the_proxy_supplied_address(client, settings):
    settings.CLINIC_INTAKE_RATE = "2/m"
    settings.CLINIC_TRUSTED_PROXIES = ["10.0.0.1"]
    for n in range(3):
        response = post_step(
            Client(), "about", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
        )
        assert response.status_code == 302  # different patients behind one proxy
    assert Case.objects.count() == 0


class TestStaffRoles:
    """Permissions are enforced, not just hidden."""

    @pytest.fixture
    def member(self, client):
        from django.contrib.auth.models import Group

        def login_as(role):
            user = UserFactory(username=role.lower().replace(" ", "-"))
            user.groups.add(Group.objects.get(name=role))
            client.force_login(user)
            return user

        return login_as

    def test_front_desk_cannot_edit_content_or_read_the_audit_log(self, client, member):
        member("Front desk")
        assert client.get(reverse("admin:conditions_condition_add")).status_code == 403
        assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 403
        assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
        assert client.get(reverse("admin:intake_redflagcase_changelist")).status_code == 200

    def test_clinic_manager_reads_the_audit_log_but_cannot_change_it(self, client, member):
        member("Clinic manager")
        assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 200
        assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403

    def test_clinic_manager_cannot_grant_superuser_or_edit_a_superuser(self, client, member):
        manager = member("Clinic manager")
        boss = UserFactory(username="boss", is_superuser=True)
        # A superuser's account can be viewed, not changed (or taken over).
        response = client.post(
            reverse("admin:auth_user_change", args=[boss.pk]),
            {"username": "boss", "is_active": "", "is_staff": "on"},
        )
        assert response.status_code == 403
        boss.refresh_from_db()
        assert boss.is_active
        password_url = reverse("admin:auth_user_password_change", args=[boss.pk])
        assert client.get(password_url).status_code == 403
        client.post(
            reverse("admin:auth_user_change", args=[manager.pk]),
            {
                "username": manager.username,
                "is_active": "on",
                "is_staff": "on",
                "is_superuser": "on",
                "date_joined_0": "2026-01-01",
                "date_joined_1": "10:00:00",
            },
        )
        manager.refresh_from_db()
        assert not manager.is_superuser
