"""No 500 for signed-in staff, whatever is typed into a staff address (issue 18, finding 6).

A hostile object id (a quote, a huge number), a NUL byte in a list filter or an
API reference (PostgreSQL refuses NUL with a DataError), a date drill-down
year too large for Python's dates: each gets a 400, 404 or the admin's own
redirect, never a server error. The property-based walk below tries every
admin URL pattern (the admin site's own, every model admin's, the case
admin's extra screens) and the FHIR API with hostile values as each role; run
it on PostgreSQL too (``DATABASE_URL=postgres://...``), where NUL bytes fail.
"""

import re
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from intake import api_urls
from intake.roles import CLINIC_MANAGER, CLINICIAN, FRONT_DESK, ensure_staff_roles
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

SUPERUSER = "superuser"
NO_ROLE = "staff without a role"
ROLES = (FRONT_DESK, CLINICIAN, CLINIC_MANAGER, SUPERUSER, NO_ROLE)


def staff_user(role: str):
    from django.contrib.auth.models import Group

    if role == SUPERUSER:
        return UserFactory(username="fuzz-superuser", is_superuser=True)
    user = UserFactory(username=f"fuzz-{role.replace(' ', '-').lower()}")
    if role != NO_ROLE:
        ensure_staff_roles()
        user.groups.add(Group.objects.get(name=role))
    return user


# The reported cases, one by one ---------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/admin/intake/case/'/change/",
        "/admin/intake/case/'/summary/",
        "/admin/intake/case/'/summary.pdf",
        "/admin/intake/case/'/fhir.json",
        "/admin/intake/case/'/history/",
        "/admin/intake/case/'/correct-answer/?code=saddle_numbness",
        "/admin/intake/redflagcase/'/change/",
        "/admin/intake/patient/'/change/",
        "/admin/intake/case/99999999999999999999/change/",
        "/admin/intake/case/?tier=%00",
        "/admin/intake/case/?q=%00",
        "/admin/intake/redflagcase/?tier=%00",
        "/admin/intake/case/%00/change/",
        "/admin/audit/auditentry/?created_at__year=99999999999999999999",
        "/admin/audit/auditentry/?created_at__year=2026&created_at__month=99999999999999999999",
        "/api/cases/%00/fhir/",
        "/api/cases/" + "X" * 5000 + "/fhir/",
    ],
)
def test_hostile_addresses_reported_in_the_attack_give_no_server_error(superuser_client, path):
    CaseFactory()
    response = superuser_client.get(path)
    assert response.status_code in (302, 400, 404), response.status_code


# Every admin URL pattern, property-based -----------------------------------------------


def _route(pattern) -> str:
    """A URL pattern's text with each parameter as ``{}`` (path() and re_path() alike)."""
    text = str(pattern.pattern)
    text = re.sub(r"\(\?P<\w+>[^)]*\)", "{}", text)  # re_path(r"^(?P<app_label>auth|...)/$")
    text = re.sub(r"\([^)]*\)", "{}", text)  # re_path(r"^([^/]+)/history/([^/]+)/$")
    text = re.sub(r"<(?:\w+:)?\w+>", "{}", text)  # path("<path:object_id>/change/")
    return text.lstrip("^").rstrip("$").replace("\\", "")


def _walk(patterns, prefix: str):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + _route(pattern))
        elif isinstance(pattern, URLPattern):
            yield pattern.name or "", prefix + _route(pattern)


STAFF_ROUTES = sorted(
    {
        *_walk(admin.site.get_urls(), "/admin/"),
        *_walk(api_urls.urlpatterns, "/api/"),
    }
)
# Signing out ends the session the walk runs in; it takes no id or filter anyway.
STAFF_ROUTES = [(name, route) for name, route in STAFF_ROUTES if name != "logout"]

HOSTILE_VALUES = st.one_of(
    st.sampled_from(
        [
            "'",
            '"',
            "1'",
            "\x00",
            "1\x00",
            "%00",
            "99999999999999999999",
            "-1",
            "0",
            "1e309",
            "NaN",
            "9" * 400,
            "x" * 6000,
            "../../../../etc/passwd",
            "..%2F..%2Fetc%2Fpasswd",
            "Zoë Ñúñez 漢字 😀",
            "\u202e\ufeff",
            "<script>alert(1)</script>",
            "'; DROP TABLE intake_case; --",
            "%' OR '1'='1",
            "2026-13-45",
            "_5F",
            "1/2/3",
        ]
    ),
    st.text(max_size=60),
)
QUERY_PARAMETERS = [
    "q",
    "p",
    "o",
    "e",
    "all",
    "tier",
    "tier__exact",
    "status",
    "status__exact",
    "flag",
    "assigned",
    "action__exact",
    "object_type__exact",
    "created_at__year",
    "created_at__month",
    "created_at__day",
    "created_at__gte",
    "submitted_at__gte",
    "submitted_at__lt",
    "paper",
    "code",
    "next",
    "_changelist_filters",
    "_to_field",
    "_popup",
]
WALK = hypothesis_settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def staff_clients(db):
    """One signed-in client per role (a case and patient exist, so real ids resolve)."""
    CaseFactory(changes={"saddle_numbness": "yes"})
    clients = {}
    for role in ROLES:
        client = Client()
        client.force_login(staff_user(role))
        clients[role] = client
    return clients


def test_the_walk_covers_the_case_admins_extra_screens_and_the_api():
    names = {name for name, _route in STAFF_ROUTES}
    assert {
        "intake_case_summary",
        "intake_case_summary_pdf",
        "intake_case_fhir",
        "intake_case_correct_answer",
        "intake_case_history",
        "intake_case_change",
        "intake_redflagcase_changelist",
        "auth_user_password_change",
        "audit_auditentry_changelist",
        "case_fhir",
    } <= names


@pytest.mark.parametrize(("name", "route"), STAFF_ROUTES, ids=[n or r for n, r in STAFF_ROUTES])
@WALK
@given(
    role=st.sampled_from(ROLES),
    value=HOSTILE_VALUES,
    parameters=st.dictionaries(st.sampled_from(QUERY_PARAMETERS), HOSTILE_VALUES, max_size=3),
    method=st.sampled_from(["get", "post"]),
)
def test_no_staff_address_gives_a_server_error(
    staff_clients, name, route, role, value, parameters, method
):
    path = route.replace("{}", quote(value, safe="/"))
    client = staff_clients[role]
    send = client.get if method == "get" else client.post
    if method == "post":
        path += "?" + "&".join(f"{k}={quote(v)}" for k, v in parameters.items())
        response = send(path, {})
    else:
        response = send(path, parameters)
    assert response.status_code < 500, (role, method, path, parameters)
