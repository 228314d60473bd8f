"""Emergency alerts are delivered, retried with backoff until they are, and show their state.

A real SMTP server (aiosmtpd) listens on a local port and Django's real SMTP
backend sends to it; the server is stopped to make the mail server "down".
The immediate task backend runs each try in-process, and the scheduled job
(``escalate_emergencies``) is the retry, as in development; the PostgreSQL
fault tests in tests/ops run the same with ``db_worker`` processes.
"""

import datetime
import uuid

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from intake import alerts
from intake.models import AlertAttempt, AlertDelivery, Case, CaseEvent
from intake.selectors import failing_alert_count
from intake.services import case_correct_answer, case_submit
from intake.tasks import deliver_alert
from tests.factories import SUBMISSION_DETAILS, UserFactory, complete_answers
from tests.intake.alert_receivers import running_mail_server

pytestmark = pytest.mark.django_db

PHI = ("Zoë", "Quillfeather", "1958", "23/11", "Nov", "555-0177", "5550177", "zoe.quill")
START = datetime.datetime(2026, 11, 26, 10, 40, tzinfo=datetime.UTC)


@pytest.fixture
def mail_server(settings):
    with running_mail_server(settings) as server:
        yield server


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def submit(**changes) -> Case:
    return case_submit(
        details=SUBMISSION_DETAILS,
        answers=complete_answers(**changes),
        submission_token=uuid.uuid4(),
    )


def submit_emergency(django_capture_on_commit_callbacks, **changes) -> Case:
    with django_capture_on_commit_callbacks(execute=True):
        case = submit(**(changes or {"saddle_numbness": "yes"}))
    case.refresh_from_db()
    return case


def run_job() -> None:
    call_command("escalate_emergencies", verbosity=0)


def alert_summaries(case: Case) -> list[str]:
    return list(case.events.filter(kind=CaseEvent.Kind.ALERT).values_list("summary", flat=True))


def test_emergency_alert_reaches_the_mail_server_with_reference_flags_and_link(
    mail_server, django_capture_on_commit_callbacks, settings, clock
):
    settings.CLINIC_BASE_URL = "https://intake.example.org"
    case = submit_emergency(
        django_capture_on_commit_callbacks, saddle_numbness="yes", bladder_sensation="yes"
    )

    [message] = mail_server.messages
    assert mail_server.envelopes == [["oncall@example.com"]]
    assert message["Subject"] == f"[{settings.CLINIC_NAME}] EMERGENCY intake {case.reference}"
    [body] = mail_server.bodies()
    assert "Numbness between the legs (saddle)" in body
    assert "Bladder problems" in body
    assert f"https://intake.example.org/admin/intake/case/{case.pk}/change/" in body
    [delivery] = case.alert_deliveries.all()
    assert (delivery.channel, delivery.kind, delivery.state) == ("email", "alert", "sent")
    assert delivery.sent_at == START
    assert [(a.outcome, a.error_type) for a in delivery.attempt_log.all()] == [("sent", "")]
    assert (case.alert_state, case.alert_state_at) == ("sent", START)
    assert alert_summaries(case) == ["Alert email sent to 1 address(es)."]


def test_alert_names_no_patient_details(mail_server, django_capture_on_commit_callbacks):
    submit_emergency(django_capture_on_commit_callbacks, bowel_incontinence="yes")
    [message] = mail_server.messages
    text = f"{message['Subject']}\n{mail_server.bodies()[0]}"
    for detail in PHI:
        assert detail not in text
    assert "1958-11-23" not in text


def test_alert_says_when_the_patient_answered_in_spanish(
    mail_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case_submit(
            details=SUBMISSION_DETAILS,
            answers=complete_answers(saddle_numbness="yes"),
            submission_token=uuid.uuid4(),
            language="es",
        )
    assert "the patient answered in Spanish" in mail_server.bodies()[0]


def test_the_alert_is_stored_with_the_case_and_sent_only_after_the_commit(
    mail_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = submit(saddle_numbness="yes")
    [delivery] = AlertDelivery.objects.filter(case=case)
    assert delivery.state == "pending"
    assert Case.objects.get(pk=case.pk).alert_state == "pending"
    assert mail_server.messages == []

    for callback in callbacks:
        callback()
    assert len(mail_server.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_emergency_leaves_no_alert(mail_server):
    with pytest.raises(RuntimeError), transaction.atomic():
        submit(saddle_numbness="yes")
        raise RuntimeError("the request failed after the insert")
    assert AlertDelivery.objects.count() == 0
    assert mail_server.messages == []


@pytest.mark.parametrize(
    "changes", [{}, {"foot_lift_difficulty": "yes"}, {"saddle_numbness": "unsure"}]
)
def test_no_alert_for_cases_that_are_not_emergencies(
    mail_server, django_capture_on_commit_callbacks, changes
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        case = submit(**changes)
    assert callbacks == []
    assert not AlertDelivery.objects.exists()
    assert mail_server.messages == []
    assert Case.objects.get(pk=case.pk).alert_state == ""


def test_mail_server_down_leaves_the_alert_pending_and_shows_it_failing(
    mail_server, django_capture_on_commit_callbacks, clock
):
    mail_server.stop()
    case = submit_emergency(django_capture_on_commit_callbacks)

    assert Case.objects.filter(pk=case.pk, tier="emergency").exists()
    [delivery] = case.alert_deliveries.all()
    assert delivery.state == "pending"  # never recorded as done
    assert delivery.attempts == 1
    assert delivery.last_error == "ConnectionRefusedError"
    assert delivery.next_attempt_at == START + datetime.timedelta(seconds=30)
    [attempt] = delivery.attempt_log.all()
    assert (attempt.at, attempt.outcome, attempt.error_type) == (
        START,
        "failed",
        "ConnectionRefusedError",
    )
    assert (case.alert_state, case.alert_state_at) == ("failing", START)
    assert alert_summaries(case) == [
        "Alert email NOT delivered (ConnectionRefusedError); retrying until it goes through."
    ]
    assert failing_alert_count() == 1


def test_a_refusing_mail_server_is_a_failure_too(mail_server, django_capture_on_commit_callbacks):
    mail_server.mode = "refuse"
    case = submit_emergency(django_capture_on_commit_callbacks)
    [delivery] = case.alert_deliveries.all()
    assert (delivery.state, delivery.last_error) == ("pending", "SMTPDataError")
    assert mail_server.messages == []


def test_retries_back_off_doubling_to_ten_minutes_and_never_give_up(
    mail_server, django_capture_on_commit_callbacks, clock
):
    """30 s, 1, 2, 4, 8 minutes, then every 10 minutes: after 24 hours as well."""
    mail_server.stop()
    case = submit_emergency(django_capture_on_commit_callbacks)
    delivery = case.alert_deliveries.get()

    waits = []
    for _ in range(7):
        delivery.refresh_from_db()
        wait = delivery.next_attempt_at - timezone.now()
        waits.append(int(wait.total_seconds()))
        clock.shift(wait - datetime.timedelta(seconds=1))
        run_job()  # one second early: not tried
        assert delivery.attempt_log.count() == len(waits)
        clock.shift(datetime.timedelta(seconds=1))
        run_job()
        assert delivery.attempt_log.count() == len(waits) + 1
    assert waits == [30, 60, 120, 240, 480, 600, 600]

    clock.shift(datetime.timedelta(hours=25))
    run_job()
    delivery.refresh_from_db()
    assert delivery.state == "pending"
    assert delivery.attempts == 9
    assert delivery.next_attempt_at == timezone.now() + datetime.timedelta(minutes=10)
    # One timeline line for the failure, not one per try.
    assert [s for s in alert_summaries(case) if s.startswith("Alert email")] == [
        "Alert email NOT delivered (ConnectionRefusedError); retrying until it goes through."
    ]


def test_alert_failing_while_the_mail_server_is_down_is_delivered_once_it_is_back(
    mail_server, django_capture_on_commit_callbacks, clock
):
    mail_server.stop()
    case = submit_emergency(django_capture_on_commit_callbacks)
    clock.shift(datetime.timedelta(seconds=30))
    run_job()
    clock.shift(datetime.timedelta(seconds=60))
    run_job()

    mail_server.start()
    clock.shift(datetime.timedelta(seconds=119))
    run_job()  # not due yet
    assert mail_server.messages == []
    clock.shift(datetime.timedelta(seconds=1))
    run_job()

    assert len(mail_server.messages) == 1
    assert case.reference in mail_server.subjects()[0]
    delivery = case.alert_deliveries.get()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("sent", 4, "")
    assert [a.outcome for a in delivery.attempt_log.all()] == ["failed"] * 3 + ["sent"]
    case.refresh_from_db()
    assert (case.alert_state, case.alert_state_at) == ("sent", timezone.now())
    assert alert_summaries(case)[-1] == (
        "Alert email delivered to 1 address(es) after 4 attempts "
        "(recovered: it had failed since 10:40)."
    )
    assert failing_alert_count() == 0
    run_job()
    assert len(mail_server.messages) == 1  # delivered once, never again


def test_a_second_task_for_the_same_delivery_does_not_send_it_again(
    mail_server, django_capture_on_commit_callbacks
):
    case = submit_emergency(django_capture_on_commit_callbacks)
    delivery = case.alert_deliveries.get()
    assert deliver_alert.call(delivery_id=delivery.pk) == "not due"
    run_job()
    assert len(mail_server.messages) == 1


def test_an_attempt_in_progress_is_left_to_finish(
    mail_server, django_capture_on_commit_callbacks, clock
):
    """A claimed delivery's next try is in the future: the job and other tasks leave it alone."""
    mail_server.stop()
    with django_capture_on_commit_callbacks(execute=False):
        case = submit(saddle_numbness="yes")
    delivery = case.alert_deliveries.get()
    # A worker claims it (as alert_delivery_attempt does) and is still sending:
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        attempts=1, next_attempt_at=START + datetime.timedelta(seconds=30)
    )
    mail_server.start()
    run_job()
    assert deliver_alert.call(delivery_id=delivery.pk) == "not due"
    assert mail_server.messages == []


def test_an_attempt_cut_short_by_a_crash_is_logged_as_interrupted_and_tried_again(
    mail_server, django_capture_on_commit_callbacks, clock
):
    """A worker killed mid-send leaves a claimed delivery with no outcome; the job picks it up."""
    with django_capture_on_commit_callbacks(execute=False):
        case = submit(saddle_numbness="yes")
    delivery = case.alert_deliveries.get()
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        attempts=1, next_attempt_at=START + datetime.timedelta(seconds=30)
    )

    clock.shift(datetime.timedelta(seconds=30))
    run_job()

    delivery.refresh_from_db()
    assert delivery.state == "sent"
    assert [(a.outcome, a.error_type) for a in delivery.attempt_log.all()] == [
        ("failed", "Interrupted"),
        ("sent", ""),
    ]
    assert len(mail_server.messages) == 1
    assert alert_summaries(case) == [
        "Alert email NOT delivered (Interrupted); retrying until it goes through.",
        "Alert email delivered to 1 address(es) after 2 attempts "
        "(recovered: it had failed since 10:40).",
    ]


def test_without_alert_addresses_the_alert_fails_loudly_and_goes_out_once_they_are_set(
    mail_server, django_capture_on_commit_callbacks, settings, clock
):
    settings.CLINIC_ALERT_EMAILS = []
    case = submit_emergency(django_capture_on_commit_callbacks)
    delivery = case.alert_deliveries.get()
    assert (delivery.state, delivery.last_error) == ("pending", "NoAlertAddresses")
    assert case.alert_state == "failing"
    assert failing_alert_count() == 1

    settings.CLINIC_ALERT_EMAILS = ["late-oncall@example.com"]
    clock.shift(datetime.timedelta(seconds=30))
    run_job()
    assert mail_server.envelopes == [["late-oncall@example.com"]]
    assert failing_alert_count() == 0


def test_a_correction_that_makes_a_case_an_emergency_alerts_on_call(
    mail_server, django_capture_on_commit_callbacks
):
    case = submit()
    with django_capture_on_commit_callbacks(execute=True):
        case_correct_answer(
            case=case,
            code="bladder_retention",
            value="yes",
            by=UserFactory(),
            reason="Patient phoned: cannot pass urine since this morning.",
        )
    assert mail_server.subjects() == [f"[Spine and Nerve Clinic] EMERGENCY intake {case.reference}"]
    assert Case.objects.get(pk=case.pk).alert_state == "sent"


def test_a_correction_within_an_emergency_sends_no_second_alert(
    mail_server, django_capture_on_commit_callbacks
):
    case = submit_emergency(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        case_correct_answer(
            case=case, code="bladder_stream", value="yes", by=UserFactory(), reason="Called."
        )
    assert len(mail_server.messages) == 1
    assert case.alert_deliveries.count() == 1


def test_a_case_that_becomes_an_emergency_again_is_alerted_again(
    mail_server, django_capture_on_commit_callbacks
):
    case = submit_emergency(django_capture_on_commit_callbacks)
    staff = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        case_correct_answer(
            case=case, code="saddle_numbness", value="no", by=staff, reason="Misread."
        )
        case_correct_answer(
            case=case, code="bowel_incontinence", value="yes", by=staff, reason="Phoned."
        )
    assert len(mail_server.messages) == 2
    assert sorted(case.alert_deliveries.values_list("escalation_number", flat=True)) == [0, 1]


def test_failing_alert_count_is_one_query_and_counts_cases_not_tries(
    mail_server, django_capture_on_commit_callbacks, django_assert_num_queries, clock
):
    submit_emergency(django_capture_on_commit_callbacks)  # delivered
    mail_server.stop()
    failing = [submit_emergency(django_capture_on_commit_callbacks) for _ in range(2)]
    clock.shift(datetime.timedelta(seconds=30))
    run_job()  # each failing case now has two failed tries

    with django_assert_num_queries(1):
        assert failing_alert_count() == 2

    mail_server.start()
    clock.shift(datetime.timedelta(seconds=60))
    run_job()
    assert failing_alert_count() == 0
    assert all(Case.objects.get(pk=case.pk).alert_state == "sent" for case in failing)


def test_failing_alert_count_includes_alerts_nobody_is_trying(
    mail_server, django_capture_on_commit_callbacks, clock
):
    """No worker running: nothing has failed, but the alert is not going out either."""
    with django_capture_on_commit_callbacks(execute=False):
        submit(saddle_numbness="yes")
    assert failing_alert_count() == 0
    clock.shift(datetime.timedelta(minutes=2, seconds=1))
    assert failing_alert_count() == 1


def test_retry_delay_table(settings):
    settings.CLINIC_ALERT_RETRY_SECONDS = 30
    settings.CLINIC_ALERT_RETRY_MAX_SECONDS = 600
    delays = [alerts.retry_delay(n).total_seconds() for n in range(1, 9)]
    assert delays == [30, 60, 120, 240, 480, 600, 600, 600]
    assert alerts.retry_delay(10_000).total_seconds() == 600


def test_attempt_rows_keep_the_error_type_only(mail_server, django_capture_on_commit_callbacks):
    mail_server.stop()
    submit_emergency(django_capture_on_commit_callbacks)
    [attempt] = AlertAttempt.objects.all()
    assert attempt.error_type == "ConnectionRefusedError"
    assert "127.0.0.1" not in attempt.error_type


@pytest.mark.skipif(connection.vendor != "postgresql", reason="partial indexes: PostgreSQL plan")
def test_failing_alert_count_reads_the_pending_deliveries_index_only(
    mail_server, django_capture_on_commit_callbacks
):
    mail_server.stop()
    submit_emergency(django_capture_on_commit_callbacks)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        with CaptureQueriesContext(connection) as queries:
            failing_alert_count()
        [query] = queries.captured_queries
        cursor.execute("EXPLAIN " + query["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "alert_delivery_due" in plan
