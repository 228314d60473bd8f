"""The clinic dashboard: figures against hand-worked fixtures, who sees it, queries, CSV.

The clock is frozen at Thursday 12 March 2026, 11:00 in New York (EDT, UTC-4):
this week starts on Monday 9 March (clinic time), the twelve weeks on Monday
22 December 2025. Emergencies promise a first review within 15 minutes,
urgent cases within 4 hours (the defaults).
"""

import csv
import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from intake.dashboard import clinic_dashboard, percentile
from intake.models import AlertDelivery, Case
from intake.roles import CLINIC_MANAGER, CLINICIAN, FRONT_DESK, ensure_staff_roles
from tests.factories import CaseFactory, UserFactory, staff_in

pytestmark = pytest.mark.django_db

CLINIC = zoneinfo.ZoneInfo("America/New_York")
NOW = datetime.datetime(2026, 3, 12, 11, 0, tzinfo=CLINIC)
THIS_WEEK = datetime.date(2026, 3, 9)
LAST_WEEK = datetime.date(2026, 3, 2)
FIRST_WEEK = datetime.date(2025, 12, 22)
DASHBOARD_URL = "admin:clinic_dashboard"
CSV_URL = "admin:clinic_dashboard_csv"


@pytest.fixture(autouse=True)
def _clinic_clock(settings):
    settings.TIME_ZONE = "America/New_York"
    settings.CLINIC_EMERGENCY_OVERDUE_MINUTES = 15
    settings.CLINIC_URGENT_OVERDUE_HOURS = 4
    with time_machine.travel(NOW, tick=False):
        yield


def local(day: int, hour: int, minute: int = 0, month: int = 3, year: int = 2026):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=CLINIC)


def case(tier: str, submitted: datetime.datetime, *, waited_minutes=None, **kwargs) -> Case:
    reviewed = (
        None if waited_minutes is None else submitted + datetime.timedelta(minutes=waited_minutes)
    )
    return CaseFactory(tier=tier, submitted_at=submitted, reviewed_at=reviewed, **kwargs)


@pytest.fixture
def dana():
    return UserFactory(username="dana", first_name="Dana", last_name="Example")


@pytest.fixture
def clinic_cases(dana):
    """The hand-worked week (see each line) plus the window's edges."""
    cases = {
        # Emergencies this week: 10 and 30 minutes to review, one waiting 2 hours
        # (overdue now), one sent 10 minutes ago (not yet due).
        "e1": case(
            "emergency", local(9, 10), waited_minutes=10, status="in_review", assigned_to=dana
        ),
        "e2": case("emergency", local(10, 10), waited_minutes=30, status="closed"),
        "e3": case("emergency", local(12, 10, 50)),
        "e4": case("emergency", local(11, 9)),
        # Urgent this week: 60 minutes (in time) and 5 hours (late).
        "u1": case("urgent", local(9, 8), waited_minutes=60, status="contacted", assigned_to=dana),
        "u2": case("urgent", local(11, 9), waited_minutes=300, status="in_review"),
        # Sunday 23:30 in New York is Monday 03:30 UTC: last week, in clinic time.
        "r1": case("routine", local(8, 23, 30), waited_minutes=2 * 24 * 60, status="closed"),
        # The first week starts at midnight on Monday 22 December; the evening before is out.
        "s_first": case(
            "soon", local(22, 0, 30, month=12, year=2025), status="scheduled", waited_minutes=90
        ),
        "s_before": case(
            "soon", local(21, 23, 0, month=12, year=2025), status="closed", waited_minutes=5
        ),
    }
    AlertDelivery.objects.create(
        case=cases["e4"],
        channel=AlertDelivery.Channel.EMAIL,
        kind=AlertDelivery.Kind.ALERT,
        last_error="SMTPServerDisconnected",
    )
    return cases


def test_percentile_interpolates_as_postgresql_percentile_cont():
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([10.0, 30.0], 0.5) == 20.0
    assert percentile([10.0, 30.0], 0.9) == pytest.approx(28.0)
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5


def test_the_twelve_weeks_start_on_mondays_in_clinic_time():
    dashboard = clinic_dashboard()
    assert len(dashboard.week_starts) == 12
    assert dashboard.week_starts[0] == FIRST_WEEK
    assert dashboard.week_starts[-1] == THIS_WEEK
    assert all(day.weekday() == 0 for day in dashboard.week_starts)


def test_an_empty_clinic_shows_zeros_and_no_times():
    dashboard = clinic_dashboard()
    week = dashboard.weekly[(THIS_WEEK, "emergency")]
    assert (week.cases, week.reviewed, week.due, week.reviewed_in_time) == (0, 0, 0, 0)
    assert week.median_review is None and week.share_in_time is None
    assert dashboard.overdue_now == {"emergency": 0, "urgent": 0}
    assert dashboard.alerts_not_delivered == 0
    assert dashboard.open_total == 0
    assert dashboard.open_by_assignee == []


def test_weekly_emergency_figures_match_the_hand_worked_week(clinic_cases):
    week = clinic_dashboard().weekly[(THIS_WEEK, "emergency")]
    assert week.cases == 4
    assert week.reviewed == 2
    assert week.median_review == datetime.timedelta(minutes=20)
    assert week.p90_review == datetime.timedelta(minutes=28)
    # e1 in time; e2 late; e4 waiting past its 15 minutes; e3 not yet due.
    assert (week.reviewed_in_time, week.due) == (1, 3)
    assert week.share_in_time == pytest.approx(1 / 3)


def test_weekly_urgent_figures_match_the_hand_worked_week(clinic_cases):
    week = clinic_dashboard().weekly[(THIS_WEEK, "urgent")]
    assert (week.cases, week.reviewed) == (2, 2)
    assert week.median_review == datetime.timedelta(minutes=180)
    assert week.p90_review == datetime.timedelta(minutes=276)
    assert (week.reviewed_in_time, week.due, week.share_in_time) == (1, 2, 0.5)


def test_weeks_are_counted_in_clinic_time_and_the_window_has_twelve(clinic_cases):
    dashboard = clinic_dashboard()
    routine_last_week = dashboard.weekly[(LAST_WEEK, "routine")]
    assert routine_last_week.cases == 1
    assert routine_last_week.median_review == datetime.timedelta(days=2)
    # Routine cases promise no review time: no share, whatever their wait.
    assert routine_last_week.share_in_time is None
    assert dashboard.weekly[(THIS_WEEK, "routine")].cases == 0
    assert dashboard.weekly[(FIRST_WEEK, "soon")].cases == 1
    total = sum(week.cases for week in dashboard.weekly.values())
    assert total == len(clinic_cases) - 1  # all but the Sunday before the first week


def test_overdue_alerts_and_open_cases_now(clinic_cases, dana):
    dashboard = clinic_dashboard()
    assert dashboard.overdue_now == {"emergency": 1, "urgent": 0}
    assert dashboard.alerts_not_delivered == 1
    assert dashboard.open_by_status == {
        "new": {"emergency": 2, "urgent": 0, "soon": 0, "routine": 0},
        "in_review": {"emergency": 1, "urgent": 1, "soon": 0, "routine": 0},
        "contacted": {"emergency": 0, "urgent": 1, "soon": 0, "routine": 0},
    }
    assert [(item.name, item.cases) for item in dashboard.open_by_assignee] == [
        ("", 3),
        ("Dana Example", 2),
    ]


def test_a_case_reviewed_exactly_at_its_limit_is_in_time():
    case("urgent", local(10, 9), waited_minutes=240, status="in_review")
    week = clinic_dashboard().weekly[(THIS_WEEK, "urgent")]
    assert (week.reviewed_in_time, week.due) == (1, 1)


# Who sees it ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [FRONT_DESK, CLINICIAN, CLINIC_MANAGER])
def test_every_staff_role_sees_the_dashboard_and_its_csv(client, role):
    ensure_staff_roles()
    client.force_login(staff_in(role))
    page = client.get(reverse(DASHBOARD_URL))
    assert page.status_code == 200
    assert b"Clinic dashboard" in page.content
    assert client.get(reverse(CSV_URL)).status_code == 200


def test_staff_without_a_role_may_not_see_it(client):
    client.force_login(UserFactory())
    assert client.get(reverse(DASHBOARD_URL)).status_code == 403
    assert client.get(reverse(CSV_URL)).status_code == 403


def test_signed_out_visitors_are_sent_to_the_login_page(client):
    response = client.get(reverse(DASHBOARD_URL))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_the_dashboard_only_answers_reads(superuser_client):
    assert superuser_client.post(reverse(DASHBOARD_URL)).status_code == 405


# The page ---------------------------------------------------------------------------


def test_the_page_shows_each_chart_as_an_svg_with_a_title_and_its_numbers(
    superuser_client, clinic_cases
):
    html = superuser_client.get(reverse(DASHBOARD_URL)).content.decode()
    assert html.count('<svg class="clinic-chart" role="img"') == 4
    assert "<title" in html and "Cases sent each week, by tier</title>" in html
    assert "Median minutes to first review each week</title>" in html
    # The emergency medians and 90th percentiles of this week, in minutes.
    assert '<td class="number">20</td><td class="number">28</td>' in html
    assert '<td class="number">180</td><td class="number">276</td>' in html
    assert '<td class="number">33.3</td><td class="number">50</td>' in html
    assert "Dana Example" in html and "Nobody" in html
    assert "<script" not in html.split('id="content-main"', 1)[1]


# Queries ----------------------------------------------------------------------------

#: Session, user, the weekly aggregate (and on SQLite the review times), the
#: queue's counts, failing alerts, open cases, their assignees' names; the rest
#: are the admin's own (permissions, the navigation sidebar).
MAX_QUERIES = 12


def many_cases(staff: list) -> None:
    for number in range(120):
        tier = ("emergency", "urgent", "soon", "routine")[number % 4]
        status = ("new", "in_review", "contacted", "closed")[number % 4]
        submitted = NOW - datetime.timedelta(hours=13 * number)
        case(
            tier,
            submitted,
            waited_minutes=None if status == "new" else number % 300,
            status=status,
            assigned_to=staff[number % len(staff)] if status != "new" else None,
        )


@pytest.mark.parametrize("rows", ["few", "many"])
def test_the_page_makes_a_bounded_number_of_queries(
    superuser_client, django_assert_max_num_queries, rows
):
    if rows == "few":
        case("emergency", local(11, 9), status="in_review", assigned_to=UserFactory())
    else:
        many_cases([UserFactory() for _ in range(8)])
    with django_assert_max_num_queries(MAX_QUERIES):
        assert superuser_client.get(reverse(DASHBOARD_URL)).status_code == 200


@pytest.mark.parametrize("rows", ["few", "many"])
def test_the_figures_take_the_same_few_queries_at_any_size(django_assert_num_queries, rows):
    if rows == "few":
        case("emergency", local(11, 9), status="in_review", assigned_to=UserFactory())
    else:
        many_cases([UserFactory() for _ in range(8)])
    from django.db import connection

    expected = 5 if connection.vendor == "postgresql" else 6
    with django_assert_num_queries(expected):
        clinic_dashboard()


# CSV --------------------------------------------------------------------------------


def csv_rows(client) -> list[list[str]]:
    response = client.get(reverse(CSV_URL))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert (
        response["Content-Disposition"] == 'attachment; filename="clinic-dashboard-2026-03-12.csv"'
    )
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_csv_holds_every_week_and_tier_and_the_counts_now(superuser_client, clinic_cases):
    rows = csv_rows(superuser_client)
    header = rows[0]
    assert header[:5] == [
        "week_starting",
        "tier",
        "cases",
        "reviewed",
        "median_minutes_to_first_review",
    ]
    weekly = [dict(zip(header, row, strict=True)) for row in rows[1:49]]
    assert len({(row["week_starting"], row["tier"]) for row in weekly}) == 12 * 4
    emergency = next(
        row for row in weekly if (row["week_starting"], row["tier"]) == ("2026-03-09", "emergency")
    )
    assert emergency == {
        "week_starting": "2026-03-09",
        "tier": "emergency",
        "cases": "4",
        "reviewed": "2",
        "median_minutes_to_first_review": "20",
        "p90_minutes_to_first_review": "28",
        "due": "3",
        "reviewed_within_promised_time": "1",
        "percent_within_promised_time": "33.3",
    }
    routine = next(
        row for row in weekly if (row["week_starting"], row["tier"]) == ("2026-03-02", "routine")
    )
    assert routine["median_minutes_to_first_review"] == "2880"
    assert routine["due"] == routine["percent_within_promised_time"] == ""
    now_rows = rows[50:]
    assert ["overdue_now at 2026-03-12T15:00:00+00:00", "emergency", "1"] in now_rows
    assert ["alerts_not_delivered at 2026-03-12T15:00:00+00:00", "", "1"] in now_rows
    assert ["open_by_status new", "emergency", "2"] in now_rows
    assert ["open_by_assignee", "Dana Example", "2"] in now_rows
    assert ["open_by_assignee", "nobody", "3"] in now_rows


def test_a_name_that_looks_like_a_formula_is_text_in_the_csv(superuser_client):
    mallory = UserFactory(username="mallory", first_name="=HYPERLINK(1)", last_name="")
    case("urgent", local(11, 9), status="new", assigned_to=mallory)
    assert ["open_by_assignee", "'=HYPERLINK(1)", "1"] in csv_rows(superuser_client)
