"""Real local receivers for the alert tests: an SMTP server and a webhook endpoint.

Both listen on 127.0.0.1 on a port of their own and can be told, while a
test runs, to accept, refuse (SMTP: 451; HTTP: 500), hang past the sender's
timeout, or go away entirely and come back on the same port. Nothing in the
sending code is replaced: Django's SMTP backend and urllib talk to them over
real sockets.
"""

import asyncio
import datetime
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

# aiosmtpd logs every SMTP command at INFO; the tests need none of it.
logging.getLogger("mail.log").setLevel(logging.WARNING)

ACCEPT = "accept"
REFUSE = "refuse"
HANG = "hang"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, timeout: float = 20, interval: float = 0.05, what: str = "it"):
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"gave up waiting for {what} after {timeout} s")


class _Inbox:
    """aiosmtpd handler: keeps accepted messages; refuses or stalls when told to."""

    def __init__(self, server: "SMTPServer"):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.server.data_commands += 1
        if self.server.mode == HANG:
            self.server.hanging.set()
            waited = 0.0
            while self.server.mode == HANG and waited < self.server.hang_seconds:
                await asyncio.sleep(0.05)
                waited += 0.05
        if self.server.mode == REFUSE:
            return "451 4.3.0 Mail server busy, try again later"
        with self.server.lock:
            self.server.messages.append(message_from_bytes(envelope.content))
            self.server.envelopes.append(list(envelope.rcpt_tos))
        return "250 2.0.0 Message accepted for delivery"


class SMTPServer:
    """A real SMTP server (aiosmtpd) that can go down and come back on its port."""

    def __init__(self):
        self.port = free_port()
        self.mode = ACCEPT
        self.hang_seconds = 30.0
        self.hanging = threading.Event()
        self.messages: list[Message] = []
        self.envelopes: list[list[str]] = []
        self.data_commands = 0
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(_Inbox(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """The mail server goes away: connections are refused until ``start``."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def mailer_settings(self, *, timeout: float = 1) -> dict:
        """``MAILERS`` for Django's real SMTP backend, pointed at this server."""
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": self.port, "timeout": timeout},
            }
        }

    def subjects(self) -> list[str]:
        with self.lock:
            # Long headers arrive folded over two lines; a mail reader unfolds them.
            return [" ".join(message["Subject"].split()) for message in self.messages]

    def bodies(self) -> list[str]:
        with self.lock:
            return [message.get_payload(decode=True).decode() for message in self.messages]


@dataclass
class WebhookRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def signature_valid(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(self.headers.get("X-Clinic-Signature", ""), expected)


class WebhookReceiver:
    """A real HTTP endpoint (http.server in a thread): answers 200, 500, hangs, or is down."""

    def __init__(self):
        self.port = free_port()
        self.mode = ACCEPT
        self.hang_seconds = 30.0
        self.hanging = threading.Event()
        self.requests: list[WebhookRequest] = []
        self.accepted: list[WebhookRequest] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/clinic-alerts"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                length = int(self.headers.get("Content-Length", 0))
                request = WebhookRequest(self.path, dict(self.headers), self.rfile.read(length))
                with receiver.lock:
                    receiver.requests.append(request)
                if receiver.mode == HANG:
                    receiver.hanging.set()
                    receiver._release.wait(receiver.hang_seconds)
                if receiver.mode == REFUSE:
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"receiver broken")
                    return
                with receiver.lock:
                    receiver.accepted.append(request)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        self._release.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        if mode != HANG:
            self._release.set()  # let a hanging request finish (it answers per the new mode)
        else:
            self._release.clear()
            self.hanging.clear()

    def stop(self) -> None:
        if self._server is not None:
            self._release.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def running_mail_server(settings, *, timeout: float = 1):
    """A real SMTP server for the test, with Django's SMTP backend pointed at it."""
    server = SMTPServer()
    server.start()
    settings.MAILERS = server.mailer_settings(timeout=timeout)
    try:
        yield server
    finally:
        server.stop()


WEBHOOK_SECRET = "test-webhook-secret-" + "k" * 40


@contextmanager
def running_webhook(settings, *, timeout: float = 0.5):
    """A real webhook receiver for the test, configured as the second alert channel."""
    receiver = WebhookReceiver()
    receiver.start()
    settings.CLINIC_ALERT_WEBHOOK_URL = receiver.url
    settings.CLINIC_ALERT_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.CLINIC_ALERT_WEBHOOK_TIMEOUT = timeout
    try:
        yield receiver
    finally:
        receiver.stop()


#: The key the test SMS gateway checks signatures with (invitations, issue 21).
SMS_KEY = "test-sms-gateway-key-" + "s" * 40


class SMSGateway:
    """An HTTP SMS gateway on 127.0.0.1: 401 for a bad signature, else the next of ``answers``.

    ``answers`` is a list of status codes to give, in order; once it is empty
    every request is accepted (200).
    """

    def __init__(self, key: str):
        self.key = key
        self.port = free_port()
        self.answers: list[int] = []
        self.requests: list[WebhookRequest] = []
        self.accepted: list[WebhookRequest] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms"

    def start(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                length = int(self.headers.get("Content-Length", 0))
                request = WebhookRequest(self.path, dict(self.headers), self.rfile.read(length))
                with gateway.lock:
                    gateway.requests.append(request)
                    if not request.signature_valid(gateway.key):
                        status = 401
                    else:
                        status = gateway.answers.pop(0) if gateway.answers else 200
                    if status == 200:
                        gateway.accepted.append(request)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"ok": status == 200}).encode())

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def running_sms_gateway(settings, *, key: str = SMS_KEY):
    """A real SMS gateway for the test, configured as the app's text-message backend."""
    gateway = SMSGateway(SMS_KEY)
    gateway.start()
    settings.CLINIC_SMS_BACKEND = "http"
    settings.CLINIC_SMS_GATEWAY_URL = gateway.url
    settings.CLINIC_SMS_GATEWAY_KEY = key
    settings.CLINIC_SMS_GATEWAY_TIMEOUT = 1
    try:
        yield gateway
    finally:
        gateway.stop()


#: When the clock stands still in the alert tests (the ``clock`` fixture).
ALERTS_START = datetime.datetime(2026, 11, 26, 10, 40, tzinfo=datetime.UTC)


def submit_emergency(django_capture_on_commit_callbacks, **changes):
    """An emergency sent through the service, its alert run after the commit."""
    from intake.services import case_submit
    from tests.factories import SUBMISSION_DETAILS, complete_answers

    with django_capture_on_commit_callbacks(execute=True):
        case = case_submit(
            details=SUBMISSION_DETAILS,
            answers=complete_answers(**(changes or {"saddle_numbness": "yes"})),
            submission_token=uuid.uuid4(),
        )
    case.refresh_from_db()
    return case
