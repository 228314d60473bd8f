"""With the production task backend, the alert is stored with the case (an outbox).

The deliveries and their tasks commit in the case's own transaction; the
worker (``db_worker``) sends them; a failed try stores its retry as a task
that runs after the backoff, in the same transaction as the failure.
"""

import datetime
import uuid

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from intake.models import AlertDelivery, Case
from intake.services import case_submit
from intake.tasks import send_emergency_alert
from tests.factories import CaseFactory, complete_answers
from tests.intake.alert_receivers import running_mail_server

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


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_alert_is_stored_with_the_case_and_sent_by_the_worker(database_tasks):
    case = submit_emergency()
    # The web process could die now: the alert is already in the database.
    delivery = AlertDelivery.objects.get()
    assert (delivery.case_id, delivery.channel, delivery.state) == (case.pk, "email", "pending")
    task_row = DBTaskResult.objects.get()
    assert task_row.task_path == "intake.tasks.deliver_alert"
    assert task_row.args_kwargs == {"args": [], "kwargs": {"delivery_id": delivery.pk}}
    assert mail.outbox == []

    run_worker()

    assert len(mail.outbox) == 1
    assert case.reference in mail.outbox[0].subject
    assert case.events.filter(kind="alert", summary__startswith="Alert email sent").exists()
    delivery.refresh_from_db()
    assert delivery.state == "sent"


@pytest.mark.django_db(transaction=True)
def test_a_failed_try_stores_its_retry_as_a_task_that_runs_after_the_backoff(
    database_tasks, settings
):
    with running_mail_server(settings) as mail_server:
        mail_server.stop()
        case = submit_emergency()
        run_worker()

        delivery = AlertDelivery.objects.get(case=case)
        assert (delivery.state, delivery.attempts) == ("pending", 1)
        retry = DBTaskResult.objects.get(status="READY")
        assert retry.args_kwargs["kwargs"] == {"delivery_id": delivery.pk}
        assert retry.run_after == delivery.next_attempt_at
        assert delivery.next_attempt_at > timezone.now() + datetime.timedelta(seconds=25)

        mail_server.start()
        run_worker()  # not due yet: the worker leaves it
        assert mail_server.messages == []
        DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
        AlertDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        run_worker()
        assert len(mail_server.messages) == 1
        assert AlertDelivery.objects.get(pk=delivery.pk).state == "sent"


@pytest.mark.django_db(transaction=True)
def test_no_alert_row_when_the_case_is_rolled_back(database_tasks):
    with pytest.raises(RuntimeError), transaction.atomic():
        submit_emergency()
        raise RuntimeError("the request failed after the insert")
    assert Case.objects.count() == 0
    assert AlertDelivery.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_non_emergency_cases_queue_no_alert(database_tasks):
    case_submit(details=DETAILS, answers=complete_answers(), submission_token=uuid.uuid4())
    assert AlertDelivery.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_by_the_previous_release_still_alerts_once(database_tasks):
    """During a rolling deploy an old app server queues send_emergency_alert(case_id)."""
    case = CaseFactory(changes={"saddle_numbness": "yes"})
    send_emergency_alert.enqueue(case_id=case.pk)
    send_emergency_alert.enqueue(case_id=case.pk)  # and again: still one alert
    run_worker()
    assert AlertDelivery.objects.filter(case=case).count() == 1
    assert len(mail.outbox) == 1
