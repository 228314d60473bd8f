"""No copy of a patient's pages is kept by the browser or a proxy (Cache-Control: no-store).

A resumed step shows the previous patient's name, date of birth and phone,
and the confirmation their case reference, often on a shared clinic tablet.
The condition library and the landing page hold no patient data and stay
cacheable.
"""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from intake import urls as intake_urls
from intake.invitations import NewAppointment, appointment_create, invitation_token
from tests.intake.questionnaire import fill_all, post_step, send_answers, step_url

pytestmark = pytest.mark.django_db


def assert_no_store(response):
    assert "no-store" in response.get("Cache-Control", ""), (
        response.status_code,
        response.get("Cache-Control"),
    )


def test_every_questionnaire_page_says_no_store(client, settings):
    pages = {}
    pages["start"] = client.get(reverse("intake:start"))
    post = post_step(client, "about")
    assert_no_store(post)
    pages["step"] = client.get(step_url("legs"))  # a resumed step shows the answers so far
    assert_no_store(post_step(client, "legs", {"symptoms_started": ""}))  # errors shown
    fill_all(client, stop_before="check")
    pages["check"] = client.get(reverse("intake:check"))  # every answer given
    assert pages["check"].status_code == 200
    send_answers(client)
    pages["done"] = client.get(reverse("intake:done"))
    assert pages["done"].status_code == 200
    pages["stop_early"] = client.post(reverse("intake:stop_early"))
    pages["start_again"] = client.post(reverse("intake:start_again"))
    invited = appointment_create(
        new=NewAppointment(
            first_name="Test",
            last_name="Invited-Example",
            date_of_birth=datetime.date(1958, 4, 2),
            starts_at=timezone.now() + datetime.timedelta(days=2),
            email="test.invited@example.com",
        ),
        by=None,
    )
    token = invitation_token(invited)
    pages["invitation"] = client.get(reverse("intake:invitation", kwargs={"token": token}))
    pages["invitation_confirm"] = client.get(reverse("intake:invitation_confirm"))
    assert pages["invitation_confirm"].status_code == 200  # the date-of-birth question
    pages["invitation_stop"] = client.get(
        reverse("intake:invitation_stop", kwargs={"token": token})
    )
    # Every page of the questionnaire's URLs is here, so a new one cannot miss it.
    assert set(pages) == {pattern.name for pattern in intake_urls.urlpatterns}
    for response in pages.values():
        assert_no_store(response)


def test_the_rate_limited_page_with_the_patients_answers_says_no_store(settings):
    settings.CLINIC_INTAKE_RATE = "1/m"
    post_step(Client(), "about")
    response = post_step(Client(), "about")  # a second questionnaire started
    assert response.status_code == 429
    assert_no_store(response)


def test_the_condition_library_stays_cacheable(client):
    for url in ("/", reverse("conditions:list")):
        assert "no-store" not in client.get(url).get("Cache-Control", "")
