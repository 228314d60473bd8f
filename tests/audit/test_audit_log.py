"""Every staff view of a case or patient, every admin change and every login is audited."""

import logging

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEntry, AuditLogIsAppendOnly
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_viewing_a_case_page_is_recorded_with_who_what_and_where(superuser_client, superuser):
    case = CaseFactory()
    before = AuditEntry.objects.count()
    response = superuser_client.get(
        reverse("admin:intake_case_change", args=[case.pk]),
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="TestBrowser/1.0",
    )
    assert response.status_code == 200
    entry = AuditEntry.objects.filter(action="view").latest("pk")
    assert AuditEntry.objects.count() == before + 1
    assert entry.user == superuser
    assert entry.object_type == "case"
    assert entry.object_id == str(case.pk)
    assert entry.object_label == case.reference
    assert entry.ip_address == "203.0.113.9"
    assert entry.user_agent == "TestBrowser/1.0"
    assert entry.status_code == 200
    # No health information in the log: the reference, not the patient's name.
    assert case.patient.last_name not in str(entry.__dict__)


def test_viewing_a_patient_page_is_recorded(superuser_client):
    case = CaseFactory()
    superuser_client.get(reverse("admin:intake_patient_change", args=[case.patient.pk]))
    entry = AuditEntry.objects.latest("pk")
    assert (entry.action, entry.object_type, entry.object_id) == (
        "view",
        "patient",
        str(case.patient.pk),
    )


def test_the_red_flag_queue_is_one_entry_per_view_not_per_row(superuser_client):
    CaseFactory.create_batch(5, changes={"saddle_numbness": "yes"})
    before = AuditEntry.objects.count()
    superuser_client.get(reverse("admin:intake_redflagcase_changelist"))
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.latest("pk")
    assert (entry.action, entry.object_type, entry.object_id) == ("list", "case", "")


def test_browsing_content_pages_is_not_patient_data(superuser_client):
    before = AuditEntry.objects.count()
    superuser_client.get(reverse("admin:conditions_condition_changelist"))
    assert AuditEntry.objects.count() == before


def test_admin_changes_are_recorded(superuser_client):
    user = UserFactory(username="someone")
    superuser_client.post(
        reverse("admin:auth_user_change", args=[user.pk]),
        {
            "username": "someone",
            "is_active": "on",
            "is_staff": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )
    entry = AuditEntry.objects.filter(action="change").latest("pk")
    assert entry.object_type == "auth_user"
    assert entry.object_id == str(user.pk)


def test_login_success_and_failure_are_recorded(client):
    UserFactory(username="frontdesk1")
    client.post(reverse("admin:login"), {"username": "frontdesk1", "password": "wrong-password"})
    failed = AuditEntry.objects.get(action="login_failed")
    assert failed.username == "frontdesk1"
    assert "wrong-password" not in str(failed.__dict__)

    client.post(
        reverse("admin:login"),
        {"username": "frontdesk1", "password": "correct-horse-battery-staple"},
    )
    assert AuditEntry.objects.filter(action="login", username="frontdesk1").exists()


def test_audit_entries_cannot_be_changed_or_deleted():
    entry = AuditEntry.objects.create(action="view", username="x")
    entry.username = "y"
    with pytest.raises(AuditLogIsAppendOnly):
        entry.save()
    with pytest.raises(AuditLogIsAppendOnly):
        entry.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(username="z")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.all().delete()


def test_audit_admin_is_read_only_even_for_superusers(superuser_client):
    entry = AuditEntry.objects.create(action="view", username="x")
    assert superuser_client.get(reverse("admin:audit_auditentry_changelist")).status_code == 200
    assert superuser_client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    response = superuser_client.post(
        reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_database_refuses_raw_update_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    entry = AuditEntry.objects.create(action="view", username="x")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET username = 'y' WHERE id = %s", [entry.pk])


# Audit gaps (issue 18, finding 4) ----------------------------------------------------

PASSWORD = "correct-horse-battery-staple"


def wrong_code(device) -> str:
    return "000000" if totp(device.bin_key) != 0 else "111111"


def test_a_right_password_with_a_wrong_or_missing_code_is_audited_and_locks_out(client, settings):
    settings.CLINIC_REQUIRE_2FA = True
    user = UserFactory(username="clin2fa", is_superuser=True)
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    login = reverse("admin:login")
    attempts = [
        {"otp_device": device.persistent_id, "otp_token": wrong_code(device)},
        {"otp_device": device.persistent_id, "otp_token": ""},
        {},
    ]
    for number in range(settings.AXES_FAILURE_LIMIT):
        client.post(login, {"username": "clin2fa", "password": PASSWORD} | attempts[number % 3])

    failed = AuditEntry.objects.filter(action="login_failed", username="clin2fa")
    assert failed.count() == settings.AXES_FAILURE_LIMIT
    assert {entry.object_label for entry in failed} == {
        "right password, wrong or missing one-time code"
    }
    assert PASSWORD not in str([entry.__dict__ for entry in failed])

    # Locked now: even the right password and the right code are refused.
    response = client.post(
        login,
        {
            "username": "clin2fa",
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": f"{totp(device.bin_key):06d}",
        },
    )
    assert response.status_code == 429
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_wrong_password_is_still_one_failure_not_two(client, settings):
    settings.CLINIC_REQUIRE_2FA = True
    UserFactory(username="clin2fa")
    client.post(reverse("admin:login"), {"username": "clin2fa", "password": "nope"})
    failed = AuditEntry.objects.get(action="login_failed", username="clin2fa")
    assert failed.object_label == ""


def test_an_api_lookup_of_a_case_that_does_not_exist_is_audited(superuser_client, superuser):
    response = superuser_client.get(reverse("api:case_fhir", args=["c-nosuch9"]))

    assert response.status_code == 404
    entry = AuditEntry.objects.latest("pk")
    assert (entry.action, entry.object_type, entry.object_label, entry.status_code) == (
        "export",
        "case",
        "C-NOSUCH9",
        404,
    )
    assert entry.user == superuser


def test_an_api_lookup_with_a_nul_byte_is_a_404_and_audited_without_it(superuser_client):
    response = superuser_client.get("/api/cases/C-%00X/fhir/")

    assert response.status_code == 404
    entry = AuditEntry.objects.latest("pk")
    assert (entry.object_label, entry.status_code) == ("C-X", 404)


def test_a_csv_export_records_its_case_references_and_filters(superuser_client):
    emergencies = [CaseFactory(changes={"saddle_numbness": "yes"}) for _ in range(3)]
    CaseFactory()

    superuser_client.get(
        reverse("admin:intake_case_export_csv"), {"tier__exact": "emergency", "o": "1"}
    )

    entry = AuditEntry.objects.get(action="export")
    assert entry.object_label == "3 cases (CSV)"
    assert sorted(entry.details["references"]) == sorted(case.reference for case in emergencies)
    assert entry.details["filters"] == {"tier__exact": "emergency"}


def test_exporting_ticked_rows_records_their_references_and_the_lists_search(
    superuser_client,
):
    wanted, also, _other = CaseFactory(), CaseFactory(), CaseFactory()

    response = superuser_client.post(
        reverse("admin:intake_case_changelist") + "?q=Testy",
        {"action": "export_selected_as_csv", "_selected_action": [wanted.pk, also.pk]},
    )

    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="export")
    assert sorted(entry.details["references"]) == sorted([wanted.reference, also.reference])
    assert entry.details["search"] == "Testy"


def test_a_search_records_its_term_in_the_audit_log_but_not_in_the_logs(superuser_client, caplog):
    case = CaseFactory()
    term = f"{case.patient.last_name} 555"

    with caplog.at_level(logging.DEBUG):
        superuser_client.get(reverse("admin:intake_case_changelist"), {"q": term, "status": "new"})
        superuser_client.get(reverse("admin:intake_redflagcase_changelist"), {"q": term})
        superuser_client.get(reverse("admin:intake_patient_changelist"), {"q": term})

    lists = AuditEntry.objects.filter(action="list").order_by("pk")
    assert [entry.details.get("search") for entry in lists] == [term, term, term]
    assert lists[0].details["filters"] == {"status": "new"}
    assert case.patient.last_name not in caplog.text


def test_a_wrong_one_time_code_is_not_kept_in_the_lockout_records(client, settings):
    from axes.models import AccessAttempt

    settings.CLINIC_REQUIRE_2FA = True
    user = UserFactory(username="clin2fa", is_superuser=True)
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    code = wrong_code(device)

    client.post(
        reverse("admin:login"),
        {
            "username": "clin2fa",
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": code,
        },
    )

    attempt = AccessAttempt.objects.get()
    assert code not in attempt.post_data
    assert PASSWORD not in attempt.post_data


def test_nobody_reads_another_persons_two_factor_secret_in_the_admin(client):
    owner = UserFactory(username="clin2fa")
    device = TOTPDevice.objects.create(user=owner, name="authenticator", confirmed=True)
    client.force_login(UserFactory(username="root", is_superuser=True))

    page = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))

    assert page.status_code == 200
    assert device.key not in page.content.decode()
