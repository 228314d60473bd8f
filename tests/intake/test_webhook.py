"""The signed webhook: the second alert channel, retried like email.

A real HTTP receiver (http.server in a thread) takes the POSTs; it can answer
200 or 500, hang past the sender's timeout, or be down, and come back.
"""

import datetime
import hashlib
import hmac
import json
import secrets
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from intake.checks import alert_settings_check
from intake.models import Case, CaseEvent
from intake.selectors import failing_alert_count
from tests.intake.alert_receivers import (
    ALERTS_START,
    HANG,
    REFUSE,
    WEBHOOK_SECRET,
    submit_emergency,
    wait_for,
)
from tests.test_settings import run_manage

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
START = ALERTS_START
PHI = ("Zoë", "Quillfeather", "1958", "555-0177", "5550177", "zoe.quill")


def run_job() -> None:
    call_command("escalate_emergencies", verbosity=0)


def test_webhook_gets_signed_json_with_the_reference_tier_flags_and_link_only(
    mail_server, webhook, django_capture_on_commit_callbacks, settings, clock
):
    settings.CLINIC_BASE_URL = "https://intake.example.org"
    case = submit_emergency(
        django_capture_on_commit_callbacks, saddle_numbness="yes", bladder_retention="yes"
    )

    [request] = webhook.accepted
    assert request.path == "/clinic-alerts"
    assert request.headers["Content-Type"] == "application/json"
    assert request.signature_valid(WEBHOOK_SECRET)
    expected = hmac.new(WEBHOOK_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Clinic-Signature"] == f"sha256={expected}"
    delivery = case.alert_deliveries.get(channel="webhook")
    assert request.json == {
        "clinic": settings.CLINIC_NAME,
        "delivery_id": delivery.pk,
        "kind": "alert",
        "escalation": False,
        "reference": case.reference,
        "tier": "emergency",
        "flags": ["saddle_numbness", "bladder"],
        "flag_labels": ["Numbness between the legs (saddle)", "Bladder problems"],
        "case_url": f"https://intake.example.org/admin/intake/case/{case.pk}/change/",
        "timestamp": int(START.timestamp()),
    }
    for detail in PHI:
        assert detail not in request.body.decode()
    assert delivery.state == "sent"
    assert len(mail_server.messages) == 1  # email as well: two channels
    assert "Alert webhook sent to the webhook." in case.events.values_list("summary", flat=True)


def test_a_forged_or_altered_body_fails_the_signature_check(
    mail_server, webhook, django_capture_on_commit_callbacks
):
    submit_emergency(django_capture_on_commit_callbacks)
    [request] = webhook.accepted
    assert not request.signature_valid("another-secret")
    request.body = request.body.replace(b'"kind":"alert"', b'"kind":"test!"')
    assert not request.signature_valid(WEBHOOK_SECRET)


def test_receiver_answering_500_then_200_gets_the_alert_on_a_retry(
    mail_server, webhook, django_capture_on_commit_callbacks, clock
):
    webhook.set_mode(REFUSE)
    case = submit_emergency(django_capture_on_commit_callbacks)
    delivery = case.alert_deliveries.get(channel="webhook")
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_error) == ("pending", "HTTPError 500")
    assert case.alert_state == "failing"
    assert failing_alert_count() == 1

    webhook.set_mode("accept")
    clock.shift(datetime.timedelta(seconds=30))
    run_job()

    delivery.refresh_from_db()
    assert delivery.state == "sent"
    assert [(a.outcome, a.error_type) for a in delivery.attempt_log.all()] == [
        ("failed", "HTTPError 500"),
        ("sent", ""),
    ]
    assert len(webhook.requests) == 2
    assert len(webhook.accepted) == 1
    # Each try is signed afresh with the time it was sent.
    assert webhook.accepted[0].json["timestamp"] == int(timezone.now().timestamp())
    assert Case.objects.get(pk=case.pk).alert_state == "sent"
    assert failing_alert_count() == 0


def test_a_receiver_that_hangs_past_the_timeout_is_a_failure_then_it_comes_back(
    mail_server, webhook, django_capture_on_commit_callbacks, settings, clock
):
    settings.CLINIC_ALERT_WEBHOOK_TIMEOUT = 0.3
    webhook.hang_seconds = 5
    webhook.set_mode(HANG)
    case = submit_emergency(django_capture_on_commit_callbacks)

    delivery = case.alert_deliveries.get(channel="webhook")
    assert (delivery.state, delivery.last_error) == ("pending", "TimeoutError")
    assert webhook.accepted == []

    webhook.set_mode("accept")
    clock.shift(datetime.timedelta(seconds=30))
    run_job()
    delivery.refresh_from_db()
    assert delivery.state == "sent"
    wait_for(lambda: webhook.accepted, what="the webhook")


def test_a_receiver_that_is_down_is_a_failure_then_it_comes_back(
    mail_server, webhook, django_capture_on_commit_callbacks, clock
):
    webhook.stop()
    case = submit_emergency(django_capture_on_commit_callbacks)
    delivery = case.alert_deliveries.get(channel="webhook")
    assert (delivery.state, delivery.last_error) == ("pending", "ConnectionRefusedError")
    # The email went out: the case's other channel is unaffected.
    assert case.alert_deliveries.get(channel="email").state == "sent"
    assert case.alert_state == "failing"

    webhook.start()
    clock.shift(datetime.timedelta(seconds=30))
    run_job()
    assert len(webhook.accepted) == 1
    case.refresh_from_db()
    assert case.alert_state == "sent"
    summaries = list(
        case.events.filter(kind=CaseEvent.Kind.ALERT).values_list("summary", flat=True)
    )
    assert summaries == [
        "Alert email sent to 1 address(es).",
        "Alert webhook NOT delivered (ConnectionRefusedError); retrying until it goes through.",
        "Alert webhook delivered to the webhook after 2 attempts "
        "(recovered: it had failed since 10:40).",
    ]


def test_a_redirect_is_not_a_delivery(
    mail_server, webhook, django_capture_on_commit_callbacks, settings
):
    """A receiver that redirects elsewhere has not taken the alert: it is retried."""
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from threading import Thread

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.send_response(307)
            self.send_header("Location", webhook.url)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Redirect)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.CLINIC_ALERT_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/"
        case = submit_emergency(django_capture_on_commit_callbacks)
    finally:
        server.shutdown()
        server.server_close()
    delivery = case.alert_deliveries.get(channel="webhook")
    assert (delivery.state, delivery.last_error) == ("pending", "HTTPError 307")
    assert webhook.requests == []


def test_no_webhook_delivery_when_no_webhook_is_set(
    mail_server, django_capture_on_commit_callbacks, settings
):
    settings.CLINIC_ALERT_WEBHOOK_URL = ""
    case = submit_emergency(django_capture_on_commit_callbacks)
    assert list(case.alert_deliveries.values_list("channel", flat=True)) == ["email"]


# Settings and deploy checks -------------------------------------------------------


PRODUCTION_ENV = {
    "DJANGO_DEBUG": "off",
    "DJANGO_ALLOWED_HOSTS": "intake.clinic.example",
    "CLINIC_ALERT_EMAILS": "oncall@clinic.example",
    "CLINIC_ESCALATION_EMAILS": "lead@clinic.example",
    "CLINIC_BASE_URL": "https://intake.clinic.example",
    "DATABASE_URL": "sqlite:////tmp/clinic-deploy-check.sqlite3",
    "CLINIC_TRUSTED_PROXIES": "127.0.0.1",
}


def test_a_webhook_url_without_a_secret_stops_the_app():
    env = {
        **PRODUCTION_ENV,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "CLINIC_ALERT_WEBHOOK_URL": "https://pager.example.org/hook",
    }
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "CLINIC_ALERT_WEBHOOK_SECRET" in result.stderr


def test_deploy_check_is_clean_with_a_signed_https_webhook():
    env = {
        **PRODUCTION_ENV,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "CLINIC_ALERT_WEBHOOK_URL": "https://pager.example.org/hook",
        "CLINIC_ALERT_WEBHOOK_SECRET": secrets.token_urlsafe(32),
    }
    result = run_manage("check", "--deploy", "--fail-level", "DEBUG", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_warns_without_escalation_addresses():
    env = {**PRODUCTION_ENV, "DJANGO_SECRET_KEY": secrets.token_urlsafe(64)}
    env.pop("CLINIC_ESCALATION_EMAILS")
    result = run_manage("check", "--deploy", env=env)
    assert "intake.W003" in result.stdout + result.stderr


def test_deploy_check_warns_about_a_plain_http_or_unsigned_webhook(settings):
    settings.CLINIC_ESCALATION_EMAILS = ["lead@example.org"]
    settings.CLINIC_BASE_URL = "https://intake.example.org"
    settings.CLINIC_ALERT_WEBHOOK_URL = "http://pager.example.org/hook"
    settings.CLINIC_ALERT_WEBHOOK_SECRET = ""
    ids = {problem.id for problem in alert_settings_check(None)}
    assert ids == {"intake.W004", "intake.W005"}

    settings.CLINIC_ALERT_WEBHOOK_URL = "https://pager.example.org/hook"
    settings.CLINIC_ALERT_WEBHOOK_SECRET = "s" * 40
    assert alert_settings_check(None) == []


def test_receiver_side_verification_recipe_from_the_readme():
    """The README's recipe: HMAC the raw body, compare in constant time, check the timestamp."""
    body = json.dumps({"reference": "C-TEST123", "timestamp": int(START.timestamp())}).encode()
    from intake.alerts import webhook_signature

    header = webhook_signature(body, WEBHOOK_SECRET)
    expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(header, expected)
