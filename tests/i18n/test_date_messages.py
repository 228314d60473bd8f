"""The questionnaire's date limits are explained in Spanish too."""

import datetime

import pytest
import time_machine

from tests.intake.questionnaire import post_step

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 11, 26, 12, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.mark.parametrize(
    ("step", "changes", "field", "spanish"),
    [
        ("about", {"date_of_birth": "2026-11-26"}, "date_of_birth", "no puede ser hoy"),
        ("about", {"appointment_date": "9999-01-01"}, "appointment_date", "Faltan más de 2 años"),
        ("legs", {"symptoms_started": "0001-01-01"}, "symptoms_started", "hace más de 120 años"),
    ],
)
def test_date_limits_in_spanish(spanish_client, step, changes, field, spanish):
    response = post_step(spanish_client, step, changes)
    assert spanish in " ".join(response.context["form"].errors[field])


def test_symptoms_before_birth_in_spanish(spanish_client):
    post_step(spanish_client, "about")
    response = post_step(spanish_client, "legs", {"symptoms_started": "1950-01-01"})
    errors = " ".join(response.context["form"].errors["symptoms_started"])
    assert "anterior a su fecha de nacimiento" in errors
