"""The emergency alert email: sent after commit, no PHI beyond the reference, never loses a case.

These use Django's in-memory outbox and mail backends that fail; the real SMTP
server, retries and escalation are in test_alert_delivery.py and test_escalation.py.
"""

import smtplib
import uuid

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from intake.models import Case, CaseEvent
from intake.services import case_submit
from tests.factories import SUBMISSION_DETAILS, complete_answers

pytestmark = pytest.mark.django_db

DETAILS = SUBMISSION_DETAILS
PHI = ("Zoë", "Quillfeather", "1958", "23/11", "Nov", "555-0177", "5550177", "zoe.quill")


class ExplodingEmailBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPConnectError(421, "mail server unavailable")


def submit(**changes) -> Case:
    return case_submit(
        details=DETAILS, answers=complete_answers(**changes), submission_token=uuid.uuid4()
    )


def alert_entries(case: Case) -> list[CaseEvent]:
    return list(case.events.filter(kind=CaseEvent.Kind.ALERT))


def test_emergency_case_alerts_after_commit_with_reference_flags_and_link(
    django_capture_on_commit_callbacks, settings
):
    settings.CLINIC_BASE_URL = "https://intake.example.org"
    with django_capture_on_commit_callbacks(execute=True):
        case = submit(saddle_numbness="yes", bladder_sensation="yes")

    [message] = mail.outbox
    assert message.to == ["oncall@example.com"]
    assert case.reference in message.subject
    assert "EMERGENCY" in message.subject
    assert case.reference in message.body
    assert "Numbness between the legs (saddle)" in message.body
    assert "Bladder problems" in message.body
    assert f"https://intake.example.org/admin/intake/case/{case.pk}/change/" in message.body
    [entry] = alert_entries(case)
    assert entry.summary == "Alert email sent to 1 address(es)."


def test_alert_names_no_patient_details(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submit(bowel_incontinence="yes")

    [message] = mail.outbox
    text = f"{message.subject}\n{message.body}"
    for detail in PHI:
        assert detail not in text
    assert "1958-11-23" not in text


def test_no_email_before_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = submit(saddle_numbness="yes")
    assert len(callbacks) == 1
    assert mail.outbox == []
    assert alert_entries(case) == []

    callbacks[0]()
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "changes", [{}, {"foot_lift_difficulty": "yes"}, {"saddle_numbness": "unsure"}]
)
def test_no_alert_for_cases_that_are_not_emergencies(django_capture_on_commit_callbacks, changes):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        case = submit(**changes)
    assert callbacks == []
    assert mail.outbox == []
    assert alert_entries(case) == []


def test_failing_mail_server_keeps_the_case_and_says_so_on_the_timeline(
    django_capture_on_commit_callbacks, settings
):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.ExplodingEmailBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        case = submit(saddle_numbness="yes")

    case.refresh_from_db()
    assert case.tier == "emergency"
    assert mail.outbox == []
    [entry] = alert_entries(case)
    assert entry.summary == (
        "Alert email NOT delivered (SMTPConnectError); retrying until it goes through."
    )
    assert case.alert_state == "failing"
    assert case.alert_deliveries.get().state == "pending"


class ResetEmailBackend(BaseEmailBackend):
    """A connection reset half-way: not an SMTP error, still a failure."""

    def send_messages(self, email_messages):
        raise ConnectionResetError("connection reset by peer")


def test_any_error_from_the_mail_backend_is_recorded_not_raised(
    django_capture_on_commit_callbacks, settings
):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.ResetEmailBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        case = submit(bladder_retention="yes")

    case.refresh_from_db()
    assert case.status == Case.Status.NEW
    [entry] = alert_entries(case)
    assert "NOT delivered (ConnectionResetError)" in entry.summary


def test_without_alert_addresses_the_timeline_says_no_email_went(
    django_capture_on_commit_callbacks, settings
):
    settings.CLINIC_ALERT_EMAILS = []
    with django_capture_on_commit_callbacks(execute=True):
        case = submit(saddle_numbness="yes")
    assert mail.outbox == []
    [entry] = alert_entries(case)
    assert entry.summary == (
        "Alert email NOT delivered (NoAlertAddresses); retrying until it goes through."
    )


def test_a_correction_that_makes_a_case_an_emergency_alerts_on_call(
    django_capture_on_commit_callbacks,
):
    from intake.services import case_correct_answer
    from tests.factories import UserFactory

    case = submit()
    assert case.tier != "emergency"
    with django_capture_on_commit_callbacks(execute=True):
        case_correct_answer(
            case=case,
            code="bladder_retention",
            value="yes",
            by=UserFactory(),
            reason="Patient phoned: cannot pass urine since this morning.",
        )
    assert len(mail.outbox) == 1
    assert case.reference in mail.outbox[0].subject


def test_a_correction_within_an_emergency_sends_no_second_alert(
    django_capture_on_commit_callbacks,
):
    from intake.services import case_correct_answer
    from tests.factories import UserFactory

    with django_capture_on_commit_callbacks(execute=True):
        case = submit(saddle_numbness="yes")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        case_correct_answer(
            case=case, code="bladder_stream", value="yes", by=UserFactory(), reason="Called."
        )
    assert mail.outbox == []
