"""Questionnaire rate-limit counters: one per client, a sliding window from two fixed ones."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.test import Client

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


def test_the_last_minutes_posts_still_count_just_after_the_window_turns():
    """A fixed window let twice the limit through across a boundary (issue 18)."""
    for _ in range(120):
        hit(at=NOON + datetime.timedelta(seconds=54))  # 12:00:59
    # 12:01:00: the sliding minute still holds all 120 of 12:00:59.
    assert hit(at=NOON + datetime.timedelta(seconds=55)) == pytest.approx(121)
    # 12:01:30: half of the last minute is still inside the sliding minute.
    assert hit(at=NOON + datetime.timedelta(seconds=85)) == pytest.approx(2 + 60)
    assert RateLimitCounter.objects.count() == 1


def test_a_quiet_minute_clears_the_count():
    for _ in range(50):
        hit(at=NOON)
    # Two windows later nothing of the burst is left.
    assert hit(at=NOON + datetime.timedelta(seconds=125)) == 1


def test_the_limit_holds_across_a_window_boundary(client, settings):
    """120 a minute: a burst at the end of one minute and one at the start of the next."""
    import time_machine

    from tests.intake.questionnaire import post_step

    settings.CLINIC_RATELIMIT = True
    settings.CLINIC_INTAKE_RATE = "20/m"
    statuses = []
    with time_machine.travel(datetime.datetime(2026, 11, 20, 12, 0, 58, tzinfo=datetime.UTC)):
        statuses += [post_step(Client(), "about").status_code for _ in range(20)]
    with time_machine.travel(datetime.datetime(2026, 11, 20, 12, 1, 1, tzinfo=datetime.UTC)):
        statuses += [post_step(Client(), "about").status_code for _ in range(20)]
    assert statuses[:20].count(429) == 0
    assert statuses[20:].count(429) >= 18


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


def test_only_starting_a_questionnaire_counts(settings):
    """A draft's later posts need its secret token, and it sends one case at most."""
    from intake.models import Case
    from tests.intake.questionnaire import STEP_ORDER, fill_all, post_step, send_answers

    settings.CLINIC_RATELIMIT = True
    settings.CLINIC_INTAKE_RATE = "2/m"
    patient = Client()
    fill_all(patient, stop_before="check")  # five steps, one questionnaire started
    for slug in STEP_ORDER:  # going back over every step
        assert post_step(patient, slug).status_code == 302
    assert send_answers(patient).status_code == 302
    assert Case.objects.count() == 1
    assert post_step(Client(), "about").status_code == 302  # the second questionnaire
    assert post_step(Client(), "about").status_code == 429  # the third, within the minute
