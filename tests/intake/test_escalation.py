"""Emergencies nobody acknowledges are escalated on time, repeatedly, until someone does.

``manage.py escalate_emergencies`` runs every minute in production (a systemd
timer). Here time is moved with time-machine and the job run by hand; the
escalations go through a real SMTP server and a real webhook receiver.
"""

import datetime
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from intake import escalation
from intake.models import AlertDelivery, Case, CaseEvent
from intake.services import case_acknowledge, case_change_status
from tests.factories import CaseFactory, UserFactory
from tests.intake.alert_receivers import ALERTS_START, REFUSE, submit_emergency

pytestmark = pytest.mark.django_db

START = ALERTS_START
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def escalation_settings(settings):
    settings.CLINIC_EMERGENCY_OVERDUE_MINUTES = 15
    settings.CLINIC_ESCALATION_REPEAT_MINUTES = 15
    settings.CLINIC_ALERT_FAILOVER_MINUTES = 5
    settings.CLINIC_ESCALATION_EMAILS = ["lead@example.com", "manager@example.com"]


def run_job(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("escalate_emergencies", verbosity=0)


def escalation_subjects(mail_server) -> list[str]:
    return [subject for subject in mail_server.subjects() if "ESCALATION" in subject]


def test_unacknowledged_emergency_is_escalated_on_time_then_every_repeat_until_acknowledged(
    mail_server, webhook, django_capture_on_commit_callbacks, clock
):
    case = submit_emergency(django_capture_on_commit_callbacks)
    clock.shift(15 * MINUTE - datetime.timedelta(seconds=1))
    run_job(django_capture_on_commit_callbacks)
    assert escalation_subjects(mail_server) == []

    clock.shift(datetime.timedelta(seconds=1))  # 15 minutes: overdue
    run_job(django_capture_on_commit_callbacks)
    assert escalation_subjects(mail_server) == [
        f"[Spine and Nerve Clinic] ESCALATION 1: EMERGENCY intake {case.reference} not acknowledged"
    ]
    assert mail_server.envelopes[-1] == ["lead@example.com", "manager@example.com"]
    assert "Nobody has acknowledged it in the staff system 15 minutes" in mail_server.bodies()[-1]
    [hook] = [r.json for r in webhook.accepted if r.json["kind"] == "escalation"]
    assert (hook["reference"], hook["escalation"]) == (case.reference, 1)
    case.refresh_from_db()
    assert (case.escalation_count, case.escalated_at) == (1, timezone.now())
    [entry] = case.events.filter(kind=CaseEvent.Kind.ESCALATION)
    assert entry.summary == (
        "Escalation 1: not acknowledged 15 minutes after it became an emergency; "
        "sent to 2 escalation address(es) and the webhook."
    )

    clock.shift(14 * MINUTE)
    run_job(django_capture_on_commit_callbacks)  # 29 minutes: not yet again
    assert len(escalation_subjects(mail_server)) == 1
    clock.shift(MINUTE)
    run_job(django_capture_on_commit_callbacks)  # 30 minutes: escalation 2
    assert len(escalation_subjects(mail_server)) == 2
    assert "ESCALATION 2:" in escalation_subjects(mail_server)[-1]
    assert [r.json["escalation"] for r in webhook.accepted] == [False, 1, 2]

    case_acknowledge(case=case, by=UserFactory(username="nurse-kim"))
    for _ in range(3):
        clock.shift(15 * MINUTE)
        run_job(django_capture_on_commit_callbacks)
    assert len(escalation_subjects(mail_server)) == 2
    case.refresh_from_db()
    assert case.escalation_count == 2
    assert list(
        case.events.filter(kind=CaseEvent.Kind.ESCALATION).values_list("after", flat=True)
    ) == [
        {"escalation": 1, "channels": ["email", "webhook"]},
        {"escalation": 2, "channels": ["email", "webhook"]},
    ]


@pytest.mark.parametrize("status", ["in_review", "contacted", "sent_to_emergency"])
def test_moving_the_emergency_on_stops_its_escalation(
    mail_server, django_capture_on_commit_callbacks, clock, status
):
    case = submit_emergency(django_capture_on_commit_callbacks)
    clock.shift(15 * MINUTE)
    run_job(django_capture_on_commit_callbacks)
    assert len(escalation_subjects(mail_server)) == 1

    case_change_status(case=case, to_status=status, by=UserFactory())
    clock.shift(60 * MINUTE)
    run_job(django_capture_on_commit_callbacks)
    assert len(escalation_subjects(mail_server)) == 1


def test_an_emergency_acknowledged_in_time_is_never_escalated(
    mail_server, django_capture_on_commit_callbacks, clock
):
    case = submit_emergency(django_capture_on_commit_callbacks)
    clock.shift(5 * MINUTE)
    case_acknowledge(case=case, by=UserFactory())
    clock.shift(60 * MINUTE)
    run_job(django_capture_on_commit_callbacks)
    assert escalation_subjects(mail_server) == []
    assert not case.events.filter(kind=CaseEvent.Kind.ESCALATION).exists()


def test_urgent_and_closed_cases_are_not_escalated(
    mail_server, django_capture_on_commit_callbacks, clock
):
    CaseFactory(changes={"sexual_dysfunction": "yes"}, submitted_at=START - 60 * MINUTE)
    CaseFactory(
        changes={"saddle_numbness": "yes"}, status="closed", submitted_at=START - 60 * MINUTE
    )
    run_job(django_capture_on_commit_callbacks)
    assert mail_server.messages == []
    assert AlertDelivery.objects.count() == 0


def test_email_failing_escalates_on_the_webhook_before_the_case_is_overdue(
    mail_server, webhook, django_capture_on_commit_callbacks, clock
):
    mail_server.stop()
    case = submit_emergency(django_capture_on_commit_callbacks)
    assert case.alert_state == "failing"
    clock.shift(4 * MINUTE)
    run_job(django_capture_on_commit_callbacks)
    assert [r.json["kind"] for r in webhook.accepted] == ["alert"]

    clock.shift(MINUTE)  # failing for 5 minutes
    run_job(django_capture_on_commit_callbacks)
    assert [(r.json["kind"], r.json["escalation"]) for r in webhook.accepted] == [
        ("alert", False),
        ("escalation", 1),
    ]
    [entry] = case.events.filter(kind=CaseEvent.Kind.ESCALATION)
    assert entry.summary.startswith(
        "Escalation 1: its alert has not been delivered since 10:40; sent to"
    )


def test_webhook_failing_escalates_by_email(
    mail_server, webhook, django_capture_on_commit_callbacks, clock
):
    webhook.set_mode(REFUSE)
    case = submit_emergency(django_capture_on_commit_callbacks)
    assert case.alert_state == "failing"
    clock.shift(5 * MINUTE)
    run_job(django_capture_on_commit_callbacks)
    [subject] = escalation_subjects(mail_server)
    assert "ESCALATION 1" in subject
    assert "could not be delivered on every channel" in mail_server.bodies()[-1]
    assert mail_server.envelopes[-1] == ["lead@example.com", "manager@example.com"]


def test_without_escalation_addresses_the_on_call_addresses_get_the_escalation(
    mail_server, django_capture_on_commit_callbacks, settings, clock
):
    settings.CLINIC_ESCALATION_EMAILS = []
    case = submit_emergency(django_capture_on_commit_callbacks)
    clock.shift(15 * MINUTE)
    run_job(django_capture_on_commit_callbacks)
    assert mail_server.envelopes[-1] == ["oncall@example.com"]
    [entry] = case.events.filter(kind=CaseEvent.Kind.ESCALATION)
    assert "the on-call addresses (no escalation addresses are set)" in entry.summary


def test_a_failing_escalation_is_retried_like_an_alert(
    mail_server, django_capture_on_commit_callbacks, clock
):
    case = submit_emergency(django_capture_on_commit_callbacks)
    mail_server.stop()
    clock.shift(15 * MINUTE)
    run_job(django_capture_on_commit_callbacks)
    escalation = case.alert_deliveries.get(kind="escalation")
    assert (escalation.state, escalation.last_error) == ("pending", "ConnectionRefusedError")
    assert Case.objects.get(pk=case.pk).alert_state == "failing"

    mail_server.start()
    clock.shift(datetime.timedelta(seconds=30))
    run_job(django_capture_on_commit_callbacks)
    escalation.refresh_from_db()
    assert escalation.state == "sent"
    assert len(escalation_subjects(mail_server)) == 1
    assert Case.objects.get(pk=case.pk).alert_state == "sent"


def test_running_the_job_twice_escalates_once(
    mail_server, django_capture_on_commit_callbacks, clock
):
    case = submit_emergency(django_capture_on_commit_callbacks)
    clock.shift(15 * MINUTE)
    run_job(django_capture_on_commit_callbacks)
    run_job(django_capture_on_commit_callbacks)
    assert Case.objects.get(pk=case.pk).escalation_count == 1
    assert case.alert_deliveries.filter(kind="escalation").count() == 1


def make_quiet_cases(count: int) -> None:
    """Cases the job must not touch: acknowledged, closed, urgent, recent emergencies."""
    staff = UserFactory()
    for index in range(count):
        kind = index % 4
        if kind == 0:
            CaseFactory(
                changes={"saddle_numbness": "yes"},
                submitted_at=START - 60 * MINUTE,
                acknowledged_at=START - 50 * MINUTE,
                acknowledged_by=staff,
            )
        elif kind == 1:
            CaseFactory(
                changes={"bladder_retention": "yes"},
                status="closed",
                submitted_at=START - 60 * MINUTE,
            )
        elif kind == 2:
            CaseFactory(changes={"foot_lift_difficulty": "yes"}, submitted_at=START - 600 * MINUTE)
        else:
            CaseFactory(changes={"bowel_incontinence": "yes"}, submitted_at=START - MINUTE)


def job_queries(django_capture_on_commit_callbacks) -> int:
    with CaptureQueriesContext(connection) as queries:
        run_job(django_capture_on_commit_callbacks)
    return len(queries)


def test_the_escalation_check_costs_the_same_however_many_cases_are_stored(
    django_capture_on_commit_callbacks, clock
):
    """Two queries (due deliveries, due emergencies) with 8 or 200 cases stored."""
    make_quiet_cases(8)
    few = job_queries(django_capture_on_commit_callbacks)
    make_quiet_cases(192)
    many = job_queries(django_capture_on_commit_callbacks)
    assert few == many == 2


def test_each_escalation_costs_the_same_number_of_queries(
    django_capture_on_commit_callbacks, settings, clock
):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

    def overdue_emergencies(count):
        for _ in range(count):
            CaseFactory(changes={"saddle_numbness": "yes"}, submitted_at=START - 20 * MINUTE)

    overdue_emergencies(2)
    two = job_queries(django_capture_on_commit_callbacks)
    clock.shift(MINUTE)  # the first two are not due again for 15 minutes
    overdue_emergencies(6)
    six = job_queries(django_capture_on_commit_callbacks)
    assert Case.objects.filter(escalation_count=1).count() == 8
    assert (six - 2) == 3 * (two - 2)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="partial indexes: PostgreSQL plan")
def test_the_escalation_query_reads_the_unacknowledged_emergency_index(clock):
    make_quiet_cases(8)
    query = escalation.cases_due_for_escalation(now=timezone.now()).values_list("pk", flat=True)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    assert "case_unacknowledged_emergency" in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="partial indexes: PostgreSQL plan")
def test_the_due_deliveries_query_reads_the_due_index(clock):
    query = AlertDelivery.objects.filter(state="pending", next_attempt_at__lte=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        due_plan = query.values_list("pk", "next_attempt_at").explain()
    assert "alert_delivery_due" in due_plan


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)")
def test_a_case_locked_by_another_job_run_is_skipped_not_escalated_twice(settings):
    """SELECT ... FOR UPDATE SKIP LOCKED: a second run at the same moment passes the case by."""
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    case = CaseFactory(
        changes={"saddle_numbness": "yes"}, submitted_at=timezone.now() - 20 * MINUTE
    )
    locked = threading.Event()
    release = threading.Event()

    def other_run_holding_the_case():
        from django.db import connections

        try:
            with transaction.atomic():
                Case.objects.select_for_update().get(pk=case.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    other = threading.Thread(target=other_run_holding_the_case)
    other.start()
    try:
        assert locked.wait(10)
        assert escalation.emergencies_escalate() == []
    finally:
        release.set()
        other.join()
    assert escalation.emergencies_escalate() == [case.reference]
    assert escalation.emergencies_escalate() == []
    assert Case.objects.get(pk=case.pk).escalation_count == 1


def test_the_deploy_units_run_the_job_every_minute():
    from pathlib import Path

    units = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
    timer = (units / "clinic-escalate.timer").read_text()
    service = (units / "clinic-escalate.service").read_text()
    assert "OnCalendar=*-*-* *:*:00" in timer
    assert "AccuracySec=1s" in timer
    assert "Unit=clinic-escalate.service" in timer
    assert "manage.py escalate_emergencies" in service


def test_a_case_that_becomes_an_emergency_again_must_be_acknowledged_again(superuser):
    """Acknowledging one emergency does not acknowledge a new one on the same case."""
    from intake.services import case_correct_answer

    case = CaseFactory(changes={"saddle_numbness": "yes"})
    case_acknowledge(case=case, by=superuser)
    case_correct_answer(
        case=case, code="saddle_numbness", value="no", by=superuser, reason="Misread."
    )
    case.refresh_from_db()
    assert case.tier != "emergency" and case.acknowledged_at is not None

    case_correct_answer(
        case=case, code="bladder_retention", value="yes", by=superuser, reason="Rang: new."
    )

    case.refresh_from_db()
    assert case.tier == "emergency"
    assert case.acknowledged_at is None and case.acknowledged_by is None
    assert Case.objects.filter(pk=case.pk, acknowledged_at__isnull=True).exists()


def test_a_case_raised_to_an_emergency_late_escalates_from_when_it_was_raised(superuser, clock):
    """Re-assessed or corrected days after it was sent, it is not overdue the same minute."""
    from intake.services import case_correct_answer

    case = CaseFactory(
        changes={"foot_lift_difficulty": "yes"}, submitted_at=START - datetime.timedelta(days=2)
    )
    case_correct_answer(
        case=case, code="saddle_numbness", value="yes", by=superuser, reason="Rang: new."
    )

    clock.shift(14 * MINUTE)
    assert escalation.emergencies_escalate() == []
    clock.shift(2 * MINUTE)
    assert escalation.emergencies_escalate() == [case.reference]
