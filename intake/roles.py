"""Staff roles as Django groups, and the permissions each role holds.

The groups are created by a data migration and can be re-created at any time
with ``manage.py ensure_staff_roles``: ``ensure_staff_roles`` is idempotent and
only ever adds what is missing, so permissions a manager granted by hand are
kept.

Permissions are normally created by Django's ``post_migrate`` signal, which runs
after *all* migrations; a data migration runs before it. So the function first
creates any missing permissions itself. The conditions app's permissions are
granted by app label, whatever models it has at the time: run the command (or
the ``post_migrate`` receiver below) after that app gains a model.
"""

from collections.abc import Iterable, Mapping

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q

FRONT_DESK = "Front desk"
CLINICIAN = "Clinician"
CLINIC_MANAGER = "Clinic manager"

#: Reading the red-flag queue, the case list and patients.
_VIEW_CASES = (
    "intake.view_case",
    "intake.view_redflagcase",
    "intake.view_patient",
)
#: The everyday case handling the front desk does.
_HANDLE_CASES = (
    "intake.change_case_status",
    "intake.assign_case",
    "intake.add_case_note",
)
#: Appointments and their invitations (issue 21), front desk and above: see
#: "Upcoming visits", enter or import appointments, resend a link or cancel.
#: "change" is used only by those two actions; nobody edits or deletes a row.
_APPOINTMENTS = (
    "intake.view_appointment",
    "intake.add_appointment",
    "intake.change_appointment",
)

#: Role name -> "app_label.codename" permissions. "app_label.*" grants every
#: permission that app has (the education content, which may gain models), except
#: changing or deleting its history rows, which are only viewed.
STAFF_ROLE_PERMISSIONS: Mapping[str, tuple[str, ...]] = {
    FRONT_DESK: (*_VIEW_CASES, *_HANDLE_CASES, *_APPOINTMENTS),
    CLINICIAN: (*_VIEW_CASES, *_HANDLE_CASES, "intake.correct_case_answers", *_APPOINTMENTS),
    CLINIC_MANAGER: (
        *_VIEW_CASES,
        *_APPOINTMENTS,
        "conditions.*",
        # Users are deactivated, never deleted: their names are on case timelines.
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        # Roles are defined here, in code: managers put people in them but cannot
        # edit what a role may do (that would let them grant themselves anything).
        "auth.view_group",
        # Read and filter the audit log (nobody can change it).
        "audit.view_auditentry",
    ),
}


def _create_missing_permissions(apps, using: str) -> None:
    """Create content types and permissions that post_migrate has not made yet.

    In a migration, ``apps`` holds historical app configs without a
    ``models_module``, which ``create_permissions`` reads as "no models"; it is
    set for the call (the usual data-migration idiom).
    """
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        if models_module is None and not app_config.models:
            continue
        app_config.models_module = models_module or True
        try:
            create_permissions(app_config, verbosity=0, using=using, apps=apps)
        finally:
            app_config.models_module = models_module


def _permission_filter(names: Iterable[str]) -> Q:
    """One filter for permissions given as "app_label.codename" or "app_label.*"."""
    wanted = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".", 1)
        if codename == "*":
            # History rows (django-simple-history) are evidence: view them, never edit.
            history_edit = Q(content_type__model__startswith="historical") & ~Q(
                codename__startswith="view_"
            )
            wanted |= Q(content_type__app_label=app_label) & ~history_edit
        else:
            wanted |= Q(content_type__app_label=app_label, codename=codename)
    return wanted


def ensure_staff_roles(*, apps=global_apps, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the staff groups if missing and give each its permissions (safe to repeat).

    ``apps`` is the app registry to use: the historical one inside a migration,
    the real one otherwise.
    """
    _create_missing_permissions(apps, using)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, names in STAFF_ROLE_PERMISSIONS.items():
        group, _created = group_model.objects.using(using).get_or_create(name=role)
        group.permissions.add(
            *permission_model.objects.using(using).filter(_permission_filter(names))
        )


# Who may give whom which powers ------------------------------------------------------


def held_permissions(user) -> set[str]:
    """Every permission ``user`` holds ("app_label.codename"), directly or through groups.

    Read from the database whether or not the account is active (Django's
    backend reports none for an inactive one, which would make a deactivated
    clinician look powerless and so editable by anyone). A superuser holds all.
    """
    from django.contrib.auth.models import Permission

    permissions = Permission.objects.all()
    if not user.is_superuser:
        permissions = permissions.filter(Q(user=user) | Q(group__user=user))
    return {
        f"{app_label}.{codename}"
        for app_label, codename in permissions.values_list(
            "content_type__app_label", "codename"
        ).distinct()
    }


def grantable_groups(user):
    """The groups (roles) ``user`` may put someone in: those whose every permission they hold.

    A clinic manager may make someone a clinic manager, but not a clinician:
    whoever creates an account sets its password, so granting a role one does
    not hold would be granting it to oneself.
    """
    from django.contrib.auth.models import Group, Permission

    if user.is_superuser:
        return Group.objects.all()
    held = held_permissions(user)
    beyond = [
        pk
        for pk, app_label, codename in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
        if f"{app_label}.{codename}" not in held
    ]
    return Group.objects.exclude(permissions__in=beyond)


def may_manage_account(actor, account) -> bool:
    """Whether ``actor`` may change ``account`` (details, password, roles) at all.

    Only a superuser changes a superuser's account; anyone else only accounts
    holding no permission they lack themselves. Setting the password of an
    account with more powers would let them sign in with those powers.
    """
    if actor.is_superuser:
        return True
    if account.is_superuser:
        return False
    return held_permissions(account) <= held_permissions(actor)


def ensure_staff_roles_after_migrate(sender, *, apps=global_apps, using=DEFAULT_DB_ALIAS, **kwargs):
    """``post_migrate`` receiver: keep the roles complete after every migrate.

    Connect it once, e.g. in ``IntakeConfig.ready``::

        post_migrate.connect(ensure_staff_roles_after_migrate, sender=self)
    """
    ensure_staff_roles(apps=apps, using=using)
