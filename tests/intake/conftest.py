"""Fixtures shared by the alert, webhook and escalation tests."""

import pytest
import time_machine

from tests.intake.alert_receivers import ALERTS_START, running_mail_server, running_webhook


@pytest.fixture
def mail_server(settings):
    """A real local SMTP server that the app's mail settings point at."""
    with running_mail_server(settings) as server:
        yield server


@pytest.fixture
def webhook(settings):
    """A real local HTTP receiver that the alert webhook setting points at."""
    with running_webhook(settings) as receiver:
        yield receiver


@pytest.fixture
def clock():
    with time_machine.travel(ALERTS_START, tick=False) as traveller:
        yield traveller
