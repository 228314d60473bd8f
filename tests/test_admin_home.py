"""The admin home and sidebar grouped in plain words for each role (issue 20).

Django lists the admin by app ("AXES", "OTP_TOTP", "TASKS DATABASE BACKEND");
the clinic's site (clinic.admin_site.ClinicAdminSite.get_app_list) lists four
sections, Cases, Content, People and security and System, each showing only
what the user's permissions allow, System to superusers only.
"""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client

from clinic.admin_site import OTHER_SECTION, admin_section_of
from intake.roles import CLINIC_MANAGER, CLINICIAN, FRONT_DESK, ensure_staff_roles
from tests.factories import UserFactory, staff_in

pytestmark = pytest.mark.django_db

SUPERUSER = "superuser"
NO_ROLE = "staff without a role"

CASES = ["Red-flag queue", "All cases", "Patients", "Upcoming visits"]
CONTENT = ["Conditions", "References"]
PEOPLE_ALL = [
    "Staff users",
    "Roles",
    "Two-factor devices",
    "Lockouts",
    "Failed sign-ins",
    "Sign-in history",
    "Audit log",
]
SYSTEM = ["Background tasks"]

#: Role -> the home page's sections and their entries, in the order shown.
EXPECTED_HOME = {
    FRONT_DESK: {"Cases": CASES},
    CLINICIAN: {"Cases": CASES},
    CLINIC_MANAGER: {
        "Cases": CASES,
        "Content": CONTENT,
        "People and security": ["Staff users", "Roles", "Audit log"],
    },
    SUPERUSER: {
        "Cases": CASES,
        "Content": CONTENT,
        "People and security": PEOPLE_ALL,
        "System": SYSTEM,
    },
    NO_ROLE: {},
}

#: Django's own words for the apps and models, never shown to staff on these pages.
RAW_NAMES = [
    "AXES",
    "Axes",
    "OTP_TOTP",
    "Otp_Totp",
    "TOTP devices",
    "Tasks Database Backend",
    "Task Results",
    "Authentication and Authorization",
    "Intake and cases",
    "Conditions library",
    "Access attempts",
    "Access logs",
    "Access failures",
    "Groups",
]


def signed_in(role: str) -> Client:
    ensure_staff_roles()
    if role == SUPERUSER:
        user = UserFactory(username="home-superuser", is_superuser=True)
    else:
        user = staff_in(None if role == NO_ROLE else role)
    client = Client()
    client.force_login(user)
    return client


def sections(app_list) -> dict[str, list[str]]:
    return {str(app["name"]): [str(entry["name"]) for entry in app["models"]] for app in app_list}


def visible_text(html: str) -> str:
    """The page's words, without its tags (links hold app labels such as /admin/axes/)."""
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("role", list(EXPECTED_HOME))
def test_each_role_sees_its_sections_and_entries_in_plain_words(role):
    client = signed_in(role)

    response = client.get("/admin/")

    assert response.status_code == 200
    assert sections(response.context["app_list"]) == EXPECTED_HOME[role]
    text = visible_text(response.content.decode())
    for section, entries in EXPECTED_HOME[role].items():
        assert section in text
        for entry in entries:
            assert entry in text
    for section in {"Content", "People and security", "System"} - set(EXPECTED_HOME[role]):
        assert f">{section}<" not in response.content.decode()
    for raw in RAW_NAMES:
        assert raw not in text, raw


@pytest.mark.parametrize("role", list(EXPECTED_HOME))
def test_every_link_on_the_home_page_opens_for_that_user(role):
    client = signed_in(role)
    app_list = client.get("/admin/").context["app_list"]
    links = {app["app_url"] for app in app_list}
    for app in app_list:
        links |= {entry[key] for entry in app["models"] for key in ("admin_url", "add_url")}
    links.discard(None)

    assert len(links) >= len(app_list) + sum(
        len(entries) for entries in EXPECTED_HOME[role].values()
    )
    for link in sorted(links):
        assert client.get(link).status_code == 200, link


@pytest.mark.parametrize("role", list(EXPECTED_HOME))
def test_the_sidebar_follows_the_home_page(role):
    client = signed_in(role)
    home = client.get("/admin/").context["app_list"]

    page = client.get("/admin/password_change/")

    assert page.status_code == 200
    assert sections(page.context["available_apps"]) == sections(home)
    sidebar = page.content.decode().split('id="nav-sidebar"', 1)[1].split("</nav>", 1)[0]
    for raw in RAW_NAMES:
        assert raw not in visible_text(sidebar), raw


def test_a_section_page_lists_that_section_only():
    client = signed_in(CLINIC_MANAGER)

    response = client.get("/admin/sections/people-and-security/")

    assert response.status_code == 200
    assert sections(response.context["app_list"]) == {
        "People and security": ["Staff users", "Roles", "Audit log"]
    }
    assert client.get("/admin/sections/system/").status_code == 404
    assert client.get("/admin/sections/no-such-section/").status_code == 404


def test_app_pages_keep_working_and_speak_in_sections():
    client = signed_in(SUPERUSER)
    app_labels = sorted({model._meta.app_label for model in admin.site._registry})

    for app_label in app_labels:
        response = client.get(f"/admin/{app_label}/")
        assert response.status_code == 200, app_label
        for raw in RAW_NAMES:
            assert raw not in visible_text(response.content.decode()), (app_label, raw)

    axes = client.get("/admin/axes/").context["app_list"]
    assert sections(axes) == {
        "People and security": ["Lockouts", "Failed sign-ins", "Sign-in history"]
    }
    intake = client.get("/admin/intake/").context["app_list"]
    assert sections(intake) == {"Cases": CASES}


def test_app_pages_outside_a_role_are_not_found():
    client = signed_in(FRONT_DESK)

    assert client.get("/admin/intake/").status_code == 200
    for app_label in ("axes", "otp_totp", "django_tasks_database", "conditions", "audit"):
        assert client.get(f"/admin/{app_label}/").status_code == 404, app_label


def test_the_system_section_stays_superuser_only_even_when_permissions_are_granted():
    ensure_staff_roles()
    user = staff_in(CLINIC_MANAGER)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="django_tasks_database")
    )
    client = Client()
    client.force_login(user)

    home = client.get("/admin/")

    assert "System" not in sections(home.context["app_list"])
    assert "Background tasks" not in visible_text(home.content.decode())
    assert client.get("/admin/sections/system/").status_code == 404
    assert client.get("/admin/django_tasks_database/").status_code == 404
    assert client.get("/admin/django_tasks_database/dbtaskresult/").status_code == 403


def test_a_superuser_sees_the_background_tasks():
    client = signed_in(SUPERUSER)

    assert client.get("/admin/sections/system/").status_code == 200
    assert client.get("/admin/django_tasks_database/dbtaskresult/").status_code == 200


def test_every_registered_model_has_a_section():
    # A model of an app no section names would be listed under "Other": name its place.
    homeless = [m._meta.label for m in admin.site._registry if admin_section_of(m) is OTHER_SECTION]
    assert homeless == []
