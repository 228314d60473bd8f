"""Dates in the questionnaire are real dates in the patient's life.

A date of birth is a real past date (SPEC: age 0-120), so not today; the leg
problems started within the patient's lifetime (not before their date of
birth, given on the first step, nor more than 120 years ago); an appointment
is at most two years ahead. Each refusal is a message beside the field.
"""

import datetime

import pytest
import time_machine
from django.urls import reverse

from intake.models import Case
from tests.intake.questionnaire import ABOUT, days_from_today, fill_all, post_step, send_answers

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 26)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 11, 26, 12, tzinfo=datetime.UTC), tick=False):
        yield


def errors(response, field: str) -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(response.context["form"].errors.get(field, []))


def test_a_date_of_birth_of_today_is_refused(client):
    response = post_step(client, "about", {"date_of_birth": "2026-11-26"})
    assert "cannot be today" in errors(response, "date_of_birth")


def test_a_date_of_birth_of_yesterday_is_accepted(client):
    assert post_step(client, "about", {"date_of_birth": "2026-11-25"}).status_code == 302


@pytest.mark.parametrize("day", ["9999-12-31", "2028-11-27", "2030-01-01"])
def test_an_appointment_more_than_two_years_ahead_is_refused(client, day):
    response = post_step(client, "about", {"appointment_date": day})
    assert "more than 2 years away" in errors(response, "appointment_date")


def test_an_appointment_two_years_ahead_is_accepted(client):
    assert post_step(client, "about", {"appointment_date": "2028-11-26"}).status_code == 302


@pytest.mark.parametrize("day", ["0001-01-01", "1900-01-01", "1958-04-01"])
def test_leg_problems_cannot_start_before_the_patients_date_of_birth(client, day):
    post_step(client, "about")  # born 1958-04-02
    response = post_step(client, "legs", {"symptoms_started": day})
    assert "before your date of birth" in errors(response, "symptoms_started")
    year, month, date = day.split("-")  # what was typed stays on the page, in its boxes
    assert f'name="symptoms_started_year" value="{year}"' in response.text
    assert f'name="symptoms_started_day" value="{int(date)}"' in response.text


def test_leg_problems_can_start_on_the_day_of_birth(client):
    post_step(client, "about")
    assert (
        post_step(client, "legs", {"symptoms_started": ABOUT["date_of_birth"]}).status_code == 302
    )


def test_leg_problems_more_than_120_years_ago_are_refused_without_a_date_of_birth(client):
    # The legs step posted with no first step behind it (a hand-made request).
    response = post_step(client, "legs", {"symptoms_started": "0001-01-01"})
    assert "more than 120 years ago" in errors(response, "symptoms_started")


def test_a_date_of_birth_changed_after_the_leg_problems_started_stops_the_submission(client):
    post_step(client, "about")
    post_step(client, "legs", {"symptoms_started": "2000-05-01"})
    # The patient goes back and gives a later date of birth.
    assert post_step(client, "about", {"date_of_birth": "2010-03-03"}).status_code == 302
    assert client.get(reverse("intake:step", kwargs={"step": "pain"})).url == reverse(
        "intake:step", kwargs={"step": "legs"}
    )
    response = post_step(client, "legs", {"symptoms_started": "2000-05-01"})
    assert "before your date of birth" in errors(response, "symptoms_started")
    for slug in ("pain", "warning-signs"):
        post_step(client, slug)
    post_step(client, "health")
    assert send_answers(client).url == reverse("intake:step", kwargs={"step": "legs"})
    assert Case.objects.count() == 0
    assert post_step(client, "legs", {"symptoms_started": "2011-05-01"}).status_code == 302
    assert send_answers(client).url == reverse("intake:done")
    assert Case.objects.get().answers["symptoms_started"] == "2011-05-01"


def test_today_stays_valid_for_each_bound(client):
    fill_all(
        client, {"appointment_date": days_from_today(0), "symptoms_started": days_from_today(0)}
    )
    assert Case.objects.count() == 1


# Day, month and year boxes (issue 19): no date can be read two ways.


def born(day: str, month: str, year: str) -> dict:
    return {
        "date_of_birth": "",
        "date_of_birth_day": day,
        "date_of_birth_month": month,
        "date_of_birth_year": year,
    }


@pytest.mark.parametrize(
    ("day", "month", "year", "stored"),
    [
        ("27", "3", "1951", "1951-03-27"),
        ("27", "03", "1951", "1951-03-27"),
        ("5", "4", "1951", "1951-04-05"),  # 5 April, in English and Spanish alike
        ("27", "March", "1951", "1951-03-27"),
        ("27", "mar.", "1951", "1951-03-27"),
        ("5", "abril", "1951", "1951-04-05"),
        ("5", "Setiembre", "1951", "1951-09-05"),
        (" 1 ", " ENE ", " 1951 ", "1951-01-01"),
    ],
)
def test_a_date_of_birth_in_boxes_is_the_day_typed(client, day, month, year, stored):
    assert post_step(client, "about", born(day, month, year)).status_code == 302
    draft_answers = client.get(reverse("intake:step", kwargs={"step": "about"})).context["form"]
    assert draft_answers.initial["date_of_birth"] == [day, month, year]
    fill_all(client, {"date_of_birth": stored})
    assert str(Case.objects.get().patient.date_of_birth) == stored


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("", "3", "1951", "Please add the day you were born."),
        ("27", "", "1951", "Please add the month you were born."),
        ("27", "3", "", "Please add the year you were born."),
        ("27", "13", "1951", "as a number from 1 to 12, or as its name"),
        ("27", "Marchember", "1951", "as a number from 1 to 12, or as its name"),
        ("27", "3", "51", "Please write the year with 4 numbers"),
        ("31", "2", "1951", "Please enter a real date"),
        ("٢٧", "3", "1951", "Please enter a real date"),  # not digits we can read for sure
    ],
)
def test_a_date_of_birth_in_boxes_that_cannot_be_read_is_a_clear_message(
    client, day, month, year, message
):
    response = post_step(client, "about", born(day, month, year))
    assert message in errors(response, "date_of_birth")
    # What was typed stays in its boxes.
    assert f'name="date_of_birth_month" value="{month}"' in response.text or not month


def test_when_the_leg_problems_started_may_be_a_month_and_year(client):
    post_step(client, "about")
    started = {
        "symptoms_started": "",
        "symptoms_started_day": "",
        "symptoms_started_month": "octubre",
        "symptoms_started_year": "2026",
    }
    assert post_step(client, "legs", started).status_code == 302
    assert client.get(reverse("intake:check")).status_code == 302  # other steps to answer
    fill_all(client, {"symptoms_started": "2026-10-01"})
    assert Case.objects.get().answers["symptoms_started"] == "2026-10-01"


def test_a_month_and_year_in_the_future_is_refused(client):
    post_step(client, "about")
    started = {"symptoms_started_month": "12", "symptoms_started_year": "2026"}
    response = post_step(client, "legs", {"symptoms_started": "", **started})
    assert "in the future" in errors(response, "symptoms_started")


def test_the_check_page_writes_dates_with_the_months_name(client):
    fill_all(client, stop_before="check")
    page = client.get(reverse("intake:check")).text
    assert "2 April 1958" in page  # ABOUT's date of birth, 1958-04-02
    client.cookies["django_language"] = "es"
    assert "2 de abril de 1958" in client.get(reverse("intake:check")).text
