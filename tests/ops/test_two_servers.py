"""Two app servers, one PostgreSQL: nothing a user needs lives in a process.

Two gunicorn processes with production settings serve the same test database
on different ports. A patient starts the questionnaire on one and finishes on
the other; a staff member logs in on one and works on the other.
"""

import re

import pytest
from django.db import connection
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from intake.models import Case
from tests.factories import UserFactory
from tests.intake.questionnaire import STEP_DATA, STEP_ORDER, step_url
from tests.ops.servers import AppServer, Browser, collect_static

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL shared by two processes"
    ),
]


@pytest.fixture
def two_servers(tmp_path):
    static_root = collect_static(tmp_path / "static")
    servers = [AppServer(static_root=static_root) for _ in range(2)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_patient_starts_on_one_server_and_finishes_on_the_other(two_servers):
    first, second = two_servers
    browser = Browser()
    for index, slug in enumerate(STEP_ORDER):
        server = first if index < 2 else second  # switch servers halfway
        page = browser.get(server, step_url(slug))
        assert page.status == 200, (slug, page.status)
        response = browser.post(server, step_url(slug), STEP_DATA[slug], csrf_from=page)
        assert response.status == 302, (slug, response.status, response.text[:500])
    # Checked on the second server, sent from the first.
    check = browser.get(second, "/intake/check/")
    assert check.status == 200, check.status
    response = browser.post(first, "/intake/check/", {"action": "send"}, csrf_from=check)
    assert response.status == 302, (response.status, response.text[:500])

    done = browser.get(first, "/intake/done/")
    case = Case.objects.get()
    assert done.status == 200
    assert case.reference in done.text


def test_staff_session_works_on_both_servers(two_servers, settings):
    first, second = two_servers
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # as served
    user = UserFactory(username="clinician", is_superuser=True)
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)

    browser = Browser()
    login = browser.get(first, "/admin/login/")
    response = browser.post(
        first,
        "/admin/login/?next=/admin/",
        {
            "username": "clinician",
            "password": "correct-horse-battery-staple",
            "otp_device": device.persistent_id,
            "otp_token": f"{totp(device.bin_key):06d}",
        },
        csrf_from=login,
    )
    assert response.status == 302, re.findall(
        r"errornote[^<]*<[^>]*>[^<]*|<li>[^<]*</li>", response.text
    )
    for server in (first, second):
        queue = browser.get(server, "/admin/intake/redflagcase/")
        assert queue.status == 200, server.port
        assert "Red-flag queue" in queue.text
