"""Staff roles: the groups, their permissions, and that the admin enforces them."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from intake.roles import (
    CLINIC_MANAGER,
    CLINICIAN,
    FRONT_DESK,
    STAFF_ROLE_PERMISSIONS,
    ensure_staff_roles,
)
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

CASE_HANDLING = {
    "intake.view_case",
    "intake.view_redflagcase",
    "intake.view_patient",
    "intake.change_case_status",
    "intake.assign_case",
    "intake.add_case_note",
}
#: Front desk and above (issue 21): Upcoming visits, entering and importing, resend and cancel.
APPOINTMENTS = {
    "intake.view_appointment",
    "intake.add_appointment",
    "intake.change_appointment",
}


def staff_in(role: str, **kwargs):
    """A staff member whose only permissions come from ``role``."""
    ensure_staff_roles()  # idempotent; also repairs the groups after a database flush
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=role))
    return user


def group_permissions(role: str) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in Group.objects.get(name=role).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_the_data_migration_created_the_three_roles():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        FRONT_DESK,
        CLINICIAN,
        CLINIC_MANAGER,
    }
    assert group_permissions(FRONT_DESK) == CASE_HANDLING | APPOINTMENTS


def test_front_desk_handles_cases_but_cannot_correct_answers_or_edit_content():
    ensure_staff_roles()
    permissions = group_permissions(FRONT_DESK)
    assert permissions == CASE_HANDLING | APPOINTMENTS
    assert "intake.correct_case_answers" not in permissions
    assert not any(p.startswith(("conditions.", "auth.")) for p in permissions)


def test_clinician_can_do_everything_on_cases_including_corrections():
    ensure_staff_roles()
    assert group_permissions(CLINICIAN) == CASE_HANDLING | APPOINTMENTS | {
        "intake.correct_case_answers"
    }


def test_clinic_manager_edits_content_and_users_and_only_views_cases():
    ensure_staff_roles()
    permissions = group_permissions(CLINIC_MANAGER)
    content = {
        f"conditions.{codename}"
        for codename in Permission.objects.filter(content_type__app_label="conditions")
        .exclude(content_type__model__startswith="historical")
        .values_list("codename", flat=True)
    }
    assert content, "the conditions app should have permissions"
    assert content <= permissions
    assert {"conditions.change_condition", "conditions.add_reference"} <= permissions
    # Content history is evidence: viewable, never editable.
    assert "conditions.view_historicalcondition" in permissions
    assert "conditions.change_historicalcondition" not in permissions
    assert "conditions.delete_historicalcondition" not in permissions
    assert {"auth.change_user", "auth.add_user", "auth.view_group"} <= permissions
    assert "audit.view_auditentry" in permissions
    # Roles are defined in code; a manager cannot edit what a role may do.
    assert not {"auth.change_group", "auth.add_group", "auth.delete_group"} & permissions
    assert "auth.delete_user" not in permissions
    intake = {p for p in permissions if p.startswith("intake.")}
    assert (
        intake
        == {
            "intake.view_case",
            "intake.view_redflagcase",
            "intake.view_patient",
        }
        | APPOINTMENTS
    )


def test_ensure_staff_roles_is_idempotent_and_keeps_extra_grants():
    ensure_staff_roles()
    extra = Permission.objects.get(codename="delete_user")
    Group.objects.get(name=CLINIC_MANAGER).permissions.add(extra)
    before = {role: group_permissions(role) for role in STAFF_ROLE_PERMISSIONS}

    ensure_staff_roles()
    ensure_staff_roles()

    assert {role: group_permissions(role) for role in STAFF_ROLE_PERMISSIONS} == before
    assert Group.objects.filter(name__in=STAFF_ROLE_PERMISSIONS).count() == 3


def test_ensure_staff_roles_recreates_deleted_groups_and_permissions():
    Group.objects.filter(name=FRONT_DESK).delete()
    Permission.objects.filter(codename="assign_case").delete()

    call_command("ensure_staff_roles", verbosity=0)

    assert "intake.assign_case" in group_permissions(FRONT_DESK)


def test_every_permission_a_role_names_exists():
    ensure_staff_roles()
    for names in STAFF_ROLE_PERMISSIONS.values():
        for name in names:
            app_label, codename = name.split(".")
            found = Permission.objects.filter(content_type__app_label=app_label)
            if codename != "*":
                found = found.filter(codename=codename)
            assert found.exists(), name


# Enforced by the admin, not just hidden --------------------------------------------


def case_url(case, name="change"):
    return reverse(f"admin:intake_case_{name}", args=[case.pk])


@pytest.mark.parametrize("role", [FRONT_DESK, CLINICIAN])
def test_front_desk_and_clinicians_handle_cases(client, role):
    client.force_login(staff_in(role))
    case = CaseFactory(changes={"saddle_numbness": "yes"})

    assert client.get(reverse("admin:intake_redflagcase_changelist")).status_code == 200
    page = client.get(case_url(case))
    assert page.status_code == 200
    assert page.context["status_form"] is not None
    assert page.context["assign_form"] is not None
    assert page.context["note_form"] is not None

    assert client.post(case_url(case, "assign"), {"assign_to_me": "1"}).status_code == 302
    assert client.post(case_url(case, "note"), {"text": "Called."}).status_code == 302
    assert client.post(case_url(case, "status"), {"to_status": "in_review"}).status_code == 302
    case.refresh_from_db()
    assert case.status == "in_review"
    assert case.assigned_to is not None
    assert case.events.count() == 3


def test_front_desk_cannot_correct_answers(client):
    client.force_login(staff_in(FRONT_DESK))
    case = CaseFactory()
    url = case_url(case, "correct_answer") + "?code=saddle_numbness"

    assert client.get(case_url(case)).context["correction_question_form"] is None
    assert client.get(url).status_code == 403
    response = client.post(url, {"value": "yes", "reason": "Trying."})

    assert response.status_code == 403
    case.refresh_from_db()
    assert case.answers["saddle_numbness"] == "no"


def test_clinician_can_correct_answers(client):
    client.force_login(staff_in(CLINICIAN))
    case = CaseFactory()
    url = case_url(case, "correct_answer") + "?code=saddle_numbness"

    assert client.get(url).status_code == 200
    assert client.post(url, {"value": "yes", "reason": "Phone call."}).status_code == 302
    case.refresh_from_db()
    assert case.tier == "emergency"


def test_clinic_manager_views_cases_but_cannot_change_them(client):
    client.force_login(staff_in(CLINIC_MANAGER))
    case = CaseFactory(changes={"saddle_numbness": "yes"})

    assert client.get(reverse("admin:intake_redflagcase_changelist")).status_code == 200
    page = client.get(case_url(case))
    assert page.status_code == 200
    for form in ("status_form", "assign_form", "note_form", "correction_question_form"):
        assert page.context[form] is None
    for name, data in [
        ("status", {"to_status": "in_review"}),
        ("assign", {"assign_to_me": "1"}),
        ("note", {"text": "Hello"}),
    ]:
        assert client.post(case_url(case, name), data).status_code == 403
    case.refresh_from_db()
    assert case.status == "new"
    assert case.assigned_to is None
    assert not case.events.exists()


def test_clinic_manager_cannot_use_the_queue_actions(client):
    client.force_login(staff_in(CLINIC_MANAGER))
    case = CaseFactory(changes={"saddle_numbness": "yes"})

    response = client.post(
        reverse("admin:intake_redflagcase_changelist"),
        {"action": "mark_in_review", "_selected_action": [case.pk]},
        follow=True,
    )

    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == "new"


@pytest.mark.parametrize(
    ("role", "allowed"), [(FRONT_DESK, False), (CLINICIAN, False), (CLINIC_MANAGER, True)]
)
def test_only_the_clinic_manager_manages_users(client, role, allowed):
    client.force_login(staff_in(role))
    status = client.get(reverse("admin:auth_user_changelist")).status_code
    assert status == (200 if allowed else 403)


@pytest.mark.parametrize(
    ("role", "allowed"), [(FRONT_DESK, False), (CLINICIAN, False), (CLINIC_MANAGER, True)]
)
def test_only_the_clinic_manager_edits_education_content(client, role, allowed):
    condition_model = apps.get_model("conditions", "Condition")
    if condition_model not in admin.site._registry:
        pytest.skip("the conditions admin is not registered")
    client.force_login(staff_in(role))
    assert client.get(reverse("admin:conditions_condition_changelist")).status_code == (
        200 if allowed else 403
    )
    assert client.get(reverse("admin:conditions_condition_add")).status_code == (
        200 if allowed else 403
    )


def test_staff_without_a_role_see_no_cases(client):
    client.force_login(UserFactory())
    case = CaseFactory(changes={"saddle_numbness": "yes"})
    assert client.get(reverse("admin:intake_redflagcase_changelist")).status_code == 403
    assert client.get(case_url(case)).status_code == 403
    assert client.post(case_url(case, "note"), {"text": "Hi"}).status_code == 403


# Nobody raises powers above their own, nor their own (issue 18, finding 2) -----------

SUPERUSER = "superuser"
NO_ROLE = "no role"
SELF = "themselves"
ROLES = (FRONT_DESK, CLINICIAN, CLINIC_MANAGER)


def account(kind: str, **kwargs):
    """A staff account of one kind: a role, no role, or a superuser."""
    if kind == SUPERUSER:
        return UserFactory(is_superuser=True, **kwargs)
    if kind == NO_ROLE:
        ensure_staff_roles()
        return UserFactory(**kwargs)
    return staff_in(kind, **kwargs)


def change_form_post(user, *, groups, **extra) -> dict:
    """What the user admin's change form posts: the account as it is, with ``groups``."""
    return {
        "username": user.username,
        "first_name": "Changed",
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "is_staff": "on",
        "groups": [group.pk for group in groups],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
        **extra,
    }


def expected_grant(actor: str, target: str, role: str) -> bool:
    """The rule: only a superuser or a holder of every power of ``role``, never on oneself,
    and never on an account with powers the actor lacks."""
    if target == SELF:
        return False
    if actor == SUPERUSER:
        return True
    if actor != CLINIC_MANAGER:  # no auth.change_user at all
        return False
    return target in (CLINIC_MANAGER, NO_ROLE) and role == CLINIC_MANAGER


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", [*ROLES, NO_ROLE, SUPERUSER, SELF])
@pytest.mark.parametrize("actor", [*ROLES, SUPERUSER])
def test_nobody_grants_a_role_beyond_their_own_or_to_themselves(client, actor, target, role):
    """Each role (and a superuser) giving each role to an account of each kind and to themselves."""
    acting = account(actor, username="actor")
    changed = acting if target == SELF else account(target, username="target")
    before = set(changed.groups.values_list("name", flat=True))
    client.force_login(acting)

    response = client.post(
        reverse("admin:auth_user_change", args=[changed.pk]),
        change_form_post(changed, groups=[Group.objects.get(name=role)]),
    )

    changed.refresh_from_db()
    after = set(changed.groups.values_list("name", flat=True))
    if expected_grant(actor, target, role):
        assert response.status_code == 302
        assert after == {role}
    else:
        assert after == before, f"{actor} changed {target}'s roles to {after}"
        assert response.status_code in (200, 302, 403)


@pytest.mark.parametrize("actor", [*ROLES, SUPERUSER])
def test_nobody_changes_their_own_superuser_staff_or_permissions(client, actor):
    acting = account(actor, username="actor")
    was_superuser = acting.is_superuser
    correct = Permission.objects.get(codename="correct_case_answers")
    client.force_login(acting)

    client.post(
        reverse("admin:auth_user_change", args=[acting.pk]),
        change_form_post(
            acting,
            groups=Group.objects.all(),
            is_superuser="on",
            user_permissions=[correct.pk],
        )
        | {"is_staff": ""},
    )

    acting.refresh_from_db()
    assert acting.is_superuser == was_superuser
    assert acting.is_staff
    assert not acting.user_permissions.exists()


def test_a_clinic_manager_posting_the_clinician_role_to_themselves_cannot_correct_answers(
    client,
):
    """The attack as reported: POST groups=<Clinician id> to one's own change page."""
    manager = staff_in(CLINIC_MANAGER)
    client.force_login(manager)
    case = CaseFactory()
    clinician = Group.objects.get(name=CLINICIAN)

    client.post(
        reverse("admin:auth_user_change", args=[manager.pk]),
        change_form_post(manager, groups=[clinician, Group.objects.get(name=CLINIC_MANAGER)]),
    )

    assert not manager.groups.filter(name=CLINICIAN).exists()
    url = reverse("admin:intake_case_correct_answer", args=[case.pk]) + "?code=saddle_numbness"
    assert client.get(url).status_code == 403


def test_a_clinic_manager_is_offered_only_the_roles_they_hold(client):
    client.force_login(staff_in(CLINIC_MANAGER))
    newcomer = UserFactory()

    page = client.get(reverse("admin:auth_user_change", args=[newcomer.pk]))

    offered = set(
        page.context["adminform"].form.fields["groups"].queryset.values_list("name", flat=True)
    )
    assert offered == {CLINIC_MANAGER}


@pytest.mark.parametrize("target", [FRONT_DESK, CLINICIAN, SUPERUSER])
def test_a_clinic_manager_cannot_set_the_password_of_an_account_with_more_powers(client, target):
    client.force_login(staff_in(CLINIC_MANAGER, username="actor"))
    other = account(target, username="target")
    before = other.password

    url = reverse("admin:auth_user_password_change", args=[other.pk])
    assert client.get(url).status_code == 403
    new = "another-long-passphrase-42"
    response = client.post(url, {"password1": new, "password2": new})

    assert response.status_code == 403
    other.refresh_from_db()
    assert other.password == before


def test_a_deactivated_clinician_is_still_beyond_a_clinic_manager(client):
    client.force_login(staff_in(CLINIC_MANAGER, username="actor"))
    former = staff_in(CLINICIAN, username="former", is_active=False)

    response = client.post(
        reverse("admin:auth_user_change", args=[former.pk]),
        change_form_post(former, groups=[Group.objects.get(name=CLINICIAN)]),
    )

    assert response.status_code == 403
    former.refresh_from_db()
    assert not former.is_active


def test_a_clinic_manager_cannot_reach_two_factor_devices(client):
    """Enrolment is done with ``manage.py staff_2fa_enrol`` (see the README): a device's
    page shows its secret, which would let a manager sign in as its owner."""
    client.force_login(staff_in(CLINIC_MANAGER))
    assert client.get(reverse("admin:otp_totp_totpdevice_changelist")).status_code == 403
    assert client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403
