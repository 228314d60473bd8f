"""Questionnaire rate-limit counters: one per client, counted per fixed window."""

import datetime
import io

import pytest
from django.core.management import call_command

from intake.models import RateLimitCounter
from intake.services import parse_rate, rate_limit_hit

pytestmark = pytest.mark.django_db

NOON = datetime.datetime(2026, 11, 20, 12, 0, 5, tzinfo=datetime.UTC)


def hit(key="intake:198.51.100.7", *, at=NOON, period=60):
    return rate_limit_hit(key=key, period_seconds=period, now=at)


def test_each_post_from_a_client_is_counted():
    assert [hit() for _ in range(4)] == [1, 2, 3, 4]


def test_clients_are_counted_apart():
    hit("intake:198.51.100.7")
    hit("intake:198.51.100.7")
    assert hit("intake:198.51.100.8") == 1


def test_a_new_window_starts_the_count_again():
    hit(at=NOON)
    hit(at=NOON + datetime.timedelta(seconds=54))  # 12:00:59, same minute
    assert hit(at=NOON + datetime.timedelta(seconds=55)) == 1  # 12:01:00
    assert hit(at=NOON + datetime.timedelta(seconds=56)) == 2
    assert RateLimitCounter.objects.count() == 1


def test_the_address_is_stored_only_as_a_hash():
    hit("intake:198.51.100.7")
    counter = RateLimitCounter.objects.get()
    assert "198.51.100" not in counter.key_hash
    assert len(counter.key_hash) == 64


def test_old_counters_are_purged_with_the_drafts():
    hit("intake:old", at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2))
    hit("intake:recent", at=datetime.datetime.now(datetime.UTC))
    call_command("purge_intake_drafts", stdout=io.StringIO())
    assert RateLimitCounter.objects.count() == 1


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("120/m", (120, 60)), ("5/s", (5, 1)), (" 1000 / h ", (1000, 3600)), ("20/d", (20, 86400))],
)
def test_rates_are_read(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["", "fast", "0/m", "-1/m", "120/w", "120", "1.5/m"])
def test_nonsense_rates_are_refused(rate):
    with pytest.raises(ValueError, match="is not a rate"):
        parse_rate(rate)


def test_a_nonsense_rate_stops_the_system_check(settings):
    from django.core.management.base import SystemCheckError

    settings.CLINIC_INTAKE_RATE = "fast"
    with pytest.raises(SystemCheckError, match="CLINIC_INTAKE_RATE"):
        call_command("check")
