"""Fault tests: emergency alerts survive a mail server down, a failing webhook and a killed worker.

Production's path end to end on PostgreSQL: cases are stored with the
database task backend (the deliveries and their tasks commit with the case),
real ``manage.py db_worker`` processes with production settings deliver them
to a real local SMTP server (aiosmtpd) and a real local webhook receiver
(http.server), and the escalation job runs as it would from its timer. Retry
waits are shortened to 1-2 seconds through the same environment variables
production uses, so each test takes seconds.
"""

import datetime
import subprocess
import sys
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from intake.models import AlertDelivery, Case
from intake.selectors import failing_alert_count
from intake.services import case_acknowledge, case_submit
from tests.factories import UserFactory, complete_answers
from tests.intake.alert_receivers import (
    ACCEPT,
    HANG,
    REFUSE,
    WEBHOOK_SECRET,
    SMTPServer,
    WebhookReceiver,
    wait_for,
)
from tests.ops.servers import ROOT, production_env

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL shared by the test and its worker processes",
    ),
]

MINUTE = datetime.timedelta(minutes=1)


class Worker:
    """``manage.py db_worker`` in its own process, with production settings."""

    def __init__(self, env: dict[str, str], log_path):
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()/kill()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.1",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=self.log,
        )

    def kill(self) -> None:
        """SIGKILL: no clean-up, no chance to record anything (a crash, an OOM kill)."""
        self.process.kill()
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if not self.log.closed:
            self.log.close()


@pytest.fixture
def mail_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def alert_settings(settings, webhook):
    """This process stores tasks in the database, as the web servers do in production."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.CLINIC_ALERT_RETRY_SECONDS = 1
    settings.CLINIC_ALERT_RETRY_MAX_SECONDS = 2
    settings.CLINIC_ALERT_WEBHOOK_URL = webhook.url
    settings.CLINIC_ALERT_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.CLINIC_ESCALATION_EMAILS = ["lead@example.com"]
    return settings


@pytest.fixture
def start_worker(mail_server, webhook, alert_settings, tmp_path):
    workers: list[Worker] = []

    def start(**extra: str) -> Worker:
        env = production_env(
            **{
                "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(mail_server.port),
                "EMAIL_TIMEOUT": "1",
                "CLINIC_ALERT_WEBHOOK_URL": webhook.url,
                "CLINIC_ALERT_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "CLINIC_ALERT_WEBHOOK_TIMEOUT": "1",
                "CLINIC_ALERT_RETRY_SECONDS": "1",
                "CLINIC_ALERT_RETRY_MAX_SECONDS": "2",
                "CLINIC_ESCALATION_EMAILS": "lead@example.com",
                **extra,
            }
        )
        worker = Worker(env, tmp_path / f"worker-{len(workers)}.log")
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def submit_emergency(number: int = 0) -> Case:
    return case_submit(
        details={
            "first_name": "Testy",
            "last_name": f"Fault{number}",
            "date_of_birth": "1960-02-03",
            "phone": f"555 010 01{number:02d}",
        },
        answers=complete_answers(saddle_numbness="yes"),
        submission_token=uuid.uuid4(),
    )


def failed_tries(delivery_id: int) -> int:
    return AlertDelivery.objects.get(pk=delivery_id).attempt_log.filter(outcome="failed").count()


def all_sent(queryset) -> bool:
    return queryset.exists() and not queryset.filter(state="pending").exists()


def run_job() -> None:
    call_command("escalate_emergencies", verbosity=0)


def test_mail_server_down_during_several_emergencies_then_up_delivers_every_alert(
    mail_server, start_worker
):
    mail_server.stop()
    start_worker()
    cases = [submit_emergency(number) for number in range(3)]
    emails = AlertDelivery.objects.filter(channel="email", kind="alert")
    wait_for(
        lambda: all(failed_tries(pk) >= 2 for pk in emails.values_list("pk", flat=True)),
        what="every alert email to fail twice",
    )
    cases += [submit_emergency(number) for number in range(3, 5)]  # still down
    assert failing_alert_count() >= 3
    assert Case.objects.get(pk=cases[0].pk).alert_state == "failing"

    mail_server.start()
    wait_for(lambda: all_sent(emails) and emails.count() == 5, what="every alert email")

    subjects = mail_server.subjects()
    for case in cases:
        # Every alert delivered (at least once; a duplicate after a crash is allowed).
        assert sum(case.reference in subject for subject in subjects) >= 1
    assert Case.objects.filter(pk__in=[c.pk for c in cases], alert_state="sent").count() == 5
    wait_for(lambda: failing_alert_count() == 0, what="the webhook alerts too")


def test_webhook_answering_500_then_200_gets_the_alert(webhook, start_worker):
    webhook.set_mode(REFUSE)
    start_worker()
    case = submit_emergency()
    hook = AlertDelivery.objects.get(case=case, channel="webhook")
    wait_for(lambda: failed_tries(hook.pk) >= 2, what="two failed webhook tries")
    assert AlertDelivery.objects.get(pk=hook.pk).last_error == "HTTPError 500"

    webhook.set_mode(ACCEPT)
    wait_for(lambda: all_sent(AlertDelivery.objects.filter(pk=hook.pk)), what="the webhook")
    [request] = webhook.accepted
    assert request.signature_valid(WEBHOOK_SECRET)
    assert (request.json["reference"], request.json["kind"]) == (case.reference, "alert")
    wait_for(lambda: Case.objects.get(pk=case.pk).alert_state == "sent", what="alert sent")


def test_a_worker_killed_during_a_send_is_followed_by_a_delivery_after_restart(
    webhook, start_worker
):
    webhook.hang_seconds = 60
    webhook.set_mode(HANG)
    # This worker waits on the receiver for up to 30 s: it is killed while it waits.
    first = start_worker(CLINIC_ALERT_WEBHOOK_TIMEOUT="30")
    case = submit_emergency()
    hook = AlertDelivery.objects.get(case=case, channel="webhook")
    assert webhook.hanging.wait(20), "the worker never reached the webhook"
    first.kill()

    stuck = AlertDelivery.objects.get(pk=hook.pk)
    assert (stuck.state, stuck.attempts, stuck.attempt_log.count()) == ("pending", 1, 0)
    webhook.set_mode(ACCEPT)
    seen_before_restart = len(webhook.requests)
    start_worker()

    def delivered_after_the_job_requeues_it():
        run_job()  # the timer's job: the killed worker's task will never finish
        return all_sent(AlertDelivery.objects.filter(pk=hook.pk))

    wait_for(delivered_after_the_job_requeues_it, interval=0.5, what="the webhook delivery")
    delivery = AlertDelivery.objects.get(pk=hook.pk)
    assert [(a.outcome, a.error_type) for a in delivery.attempt_log.all()] == [
        ("failed", "Interrupted"),
        ("sent", ""),
    ]
    assert len(webhook.requests) > seen_before_restart
    assert webhook.requests[-1].json["delivery_id"] == delivery.pk


def test_an_emergency_nobody_acknowledges_is_escalated_on_time_repeatedly_until_acknowledged(
    mail_server, webhook, start_worker, alert_settings
):
    start_worker()
    case = submit_emergency()
    wait_for(lambda: Case.objects.get(pk=case.pk).alert_state == "sent", what="the alert")

    def escalation_emails() -> list[str]:
        return [subject for subject in mail_server.subjects() if "ESCALATION" in subject]

    # 14 minutes unacknowledged: not yet.
    Case.objects.filter(pk=case.pk).update(emergency_since=timezone.now() - 14 * MINUTE)
    run_job()
    assert not AlertDelivery.objects.filter(case=case, kind="escalation").exists()

    # 15 minutes: escalated, by email to the escalation address and on the webhook.
    Case.objects.filter(pk=case.pk).update(emergency_since=timezone.now() - 15 * MINUTE)
    run_job()
    wait_for(lambda: len(escalation_emails()) == 1, what="escalation 1 by email")
    assert mail_server.envelopes[-1] == ["lead@example.com"]
    wait_for(
        lambda: [r.json["escalation"] for r in webhook.accepted] == [False, 1],
        what="escalation 1 on the webhook",
    )
    run_job()  # a minute later: not again yet
    assert AlertDelivery.objects.filter(case=case, kind="escalation").count() == 2

    # Another CLINIC_ESCALATION_REPEAT_MINUTES: escalation 2.
    Case.objects.filter(pk=case.pk).update(escalated_at=timezone.now() - 15 * MINUTE)
    run_job()
    wait_for(lambda: len(escalation_emails()) == 2, what="escalation 2 by email")
    assert "ESCALATION 2" in escalation_emails()[-1]

    case_acknowledge(case=case, by=UserFactory())
    Case.objects.filter(pk=case.pk).update(escalated_at=timezone.now() - 60 * MINUTE)
    run_job()
    assert Case.objects.get(pk=case.pk).escalation_count == 2
    assert AlertDelivery.objects.filter(case=case, kind="escalation").count() == 4
    wait_for(lambda: all_sent(AlertDelivery.objects.filter(case=case)), what="every delivery sent")
    assert len(escalation_emails()) == 2
