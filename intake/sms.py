"""Text messages to patients (issue 21), through a backend chosen by ``CLINIC_SMS_BACKEND``.

- ``console`` (development): prints each message, sends nothing.
- ``http``: a generic HTTP gateway. Each message is one JSON POST of
  ``{"to", "body", "reference", "timestamp"}`` to ``CLINIC_SMS_GATEWAY_URL``,
  signed like the emergency webhook (``X-Clinic-Signature: sha256=<hex>``,
  the HMAC-SHA256 of the raw body under ``CLINIC_SMS_GATEWAY_KEY``). The
  README's "Invitations and reminders" section is the gateway's contract.
- or the dotted path of a class with the same ``send`` method.

A backend raises on failure; ``SMSRefused`` means the gateway will never
take this message (400 or 422: a number it cannot reach), so it is not
tried again.
"""

import json
import sys
import threading
import urllib.error
import urllib.request
from typing import TextIO

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from .alerts import _webhook_opener, webhook_signature

#: Short names for ``CLINIC_SMS_BACKEND``.
BACKENDS = {
    "console": "intake.sms.ConsoleBackend",
    "http": "intake.sms.HTTPGatewayBackend",
}


class SMSNotSent(Exception):
    """A message the backend could not hand over; tried again later."""


class SMSRefused(SMSNotSent):
    """The gateway refused the message for good (400 or 422): not tried again."""


class SMSGatewayNotConfigured(SMSNotSent):
    pass


class BaseBackend:
    def send(self, *, to: str, body: str, reference: str) -> None:
        """Hand one message to the network; return only once it is accepted."""
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Development: the message is printed, like Django's console email backend."""

    _lock = threading.Lock()

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream

    def send(self, *, to: str, body: str, reference: str) -> None:
        stream = self.stream or sys.stdout
        with self._lock:
            stream.write(f"Text message {reference} to {to}:\n{body}\n{'-' * 40}\n")
            stream.flush()


#: Answers that mean the gateway will never take this message (a number it
#: cannot reach, a body it will not send). Every other failure is tried again:
#: 401, 403 or 404 are a key or an address for the clinic to put right.
REFUSED_STATUSES = {400, 422}


class HTTPGatewayBackend(BaseBackend):
    """A generic HTTP SMS gateway: one signed JSON POST per message; 2xx means accepted."""

    def send(self, *, to: str, body: str, reference: str) -> None:
        url = settings.CLINIC_SMS_GATEWAY_URL
        key = settings.CLINIC_SMS_GATEWAY_KEY
        if not url or not key:
            raise SMSGatewayNotConfigured("CLINIC_SMS_GATEWAY_URL or its key is not set")
        payload = {
            "to": to,
            "body": body,
            "reference": reference,
            # Signed with the rest, so the gateway can refuse a replayed request.
            "timestamp": int(timezone.now().timestamp()),
        }
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        request = urllib.request.Request(  # noqa: S310 - settings allow only http(s) URLs
            url,
            data=data,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "clinic-intake-sms",
                "X-Clinic-Signature": webhook_signature(data, key),
            },
        )
        try:
            # A redirect is a failure, as for the alert webhook: the message
            # must reach the configured gateway itself. A hang ends at the timeout.
            with _webhook_opener.open(
                request, timeout=settings.CLINIC_SMS_GATEWAY_TIMEOUT
            ) as response:
                response.read(1024)
        except urllib.error.HTTPError as error:
            if error.code in REFUSED_STATUSES:
                raise SMSRefused(f"HTTPError {error.code}") from error
            raise


def sms_backend() -> BaseBackend:
    """The backend ``CLINIC_SMS_BACKEND`` names (a short name or a dotted path)."""
    name = settings.CLINIC_SMS_BACKEND
    return import_string(BACKENDS.get(name, name))()


def send_sms(*, to: str, body: str, reference: str) -> None:
    """Send one text message through the configured backend; raises if it was not accepted."""
    sms_backend().send(to=to, body=body, reference=reference)
