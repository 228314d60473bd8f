"""With the production task backend, the alert is stored with the case (an outbox)."""

import uuid

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from intake.models import Case
from intake.services import case_submit
from tests.factories import complete_answers

DETAILS = {
    "first_name": "Testy",
    "last_name": "Outbox",
    "date_of_birth": "1960-02-03",
    "phone": "555 010 0142",
}


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def submit_emergency() -> Case:
    return case_submit(
        details=DETAILS,
        answers=complete_answers(saddle_numbness="yes"),
        submission_token=uuid.uuid4(),
    )


@pytest.mark.django_db(transaction=True)
def test_alert_is_stored_with_the_case_and_sent_by_the_worker(database_tasks):
    case = submit_emergency()
    # The web process could die now: the alert is already in the database.
    task_row = DBTaskResult.objects.get()
    assert task_row.task_path == "intake.tasks.send_emergency_alert"
    assert task_row.args_kwargs == {"args": [], "kwargs": {"case_id": case.pk}}
    assert mail.outbox == []

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    assert len(mail.outbox) == 1
    assert case.reference in mail.outbox[0].subject
    assert case.events.filter(kind="alert", summary__startswith="Alert email sent").exists()


@pytest.mark.django_db(transaction=True)
def test_no_alert_row_when_the_case_is_rolled_back(database_tasks):
    with pytest.raises(RuntimeError), transaction.atomic():
        submit_emergency()
        raise RuntimeError("the request failed after the insert")
    assert Case.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_non_emergency_cases_queue_no_alert(database_tasks):
    case_submit(details=DETAILS, answers=complete_answers(), submission_token=uuid.uuid4())
    assert DBTaskResult.objects.count() == 0
