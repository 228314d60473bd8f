"""The clinic dashboard's figures: how fast cases are first reviewed, week by week.

Read-only, a bounded number of queries whatever the table's size: the weekly
figures are one aggregate over the last ``WEEKS`` weeks of submissions (the
index ``case_submitted_desc`` finds them), the open cases one aggregate over
the open statuses (``case_status_tier``), overdue cases and failing alerts the
queue's own counts (``red_flag_queue_state``, ``failing_alert_count``).

"First review" is ``Case.reviewed_at``: set once, by the first status change
away from "new" or by acknowledging an emergency (``intake/services.py``).
"Within the promised time" is the tier's overdue limit (SPEC "What each tier
promises", ``overdue_after``): only emergency and urgent cases promise one.
"""

import datetime
import math
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, router
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
)
from django.db.models.functions import TruncWeek
from django.utils import timezone

from . import triage
from .models import Case, overdue_after
from .selectors import failing_alert_count, red_flag_queue_state

#: How many weeks the dashboard shows, the current (unfinished) week last.
WEEKS = 12
TIERS = (triage.EMERGENCY, triage.URGENT, triage.SOON, triage.ROUTINE)
#: Tiers that promise a first review within a time (SPEC "What each tier promises").
PROMISING_TIERS = (triage.EMERGENCY, triage.URGENT)


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression, *, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` percentile of ``values`` as PostgreSQL's percentile_cont gives it.

    Linear interpolation between the two nearest ranks; None for no values.
    """
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


@dataclass(frozen=True)
class TierWeek:
    """One tier's figures for one week (weeks start on Monday, clinic time)."""

    week_start: datetime.date
    tier: str
    cases: int = 0
    reviewed: int = 0
    median_review: datetime.timedelta | None = None
    p90_review: datetime.timedelta | None = None
    #: Cases whose promised time is up, or that were reviewed within it: the
    #: share's denominator (a case sent a minute ago is not yet late).
    due: int = 0
    reviewed_in_time: int = 0

    @property
    def promises_review(self) -> bool:
        return self.tier in PROMISING_TIERS

    @property
    def share_in_time(self) -> float | None:
        """Reviewed within the tier's promised time, of the cases due (0-1), or None."""
        if not self.promises_review or not self.due:
            return None
        return self.reviewed_in_time / self.due


@dataclass(frozen=True)
class AssigneeCount:
    user_id: int | None
    name: str
    cases: int


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard page and its CSV show, worked out at ``now``."""

    now: datetime.datetime
    week_starts: list[datetime.date]
    #: (week start, tier) -> figures, for every week and tier (zeros included).
    weekly: dict[tuple[datetime.date, str], TierWeek]
    overdue_now: dict[str, int]
    alerts_not_delivered: int
    #: status -> tier -> open cases
    open_by_status: dict[str, dict[str, int]] = field(default_factory=dict)
    open_by_assignee: list[AssigneeCount] = field(default_factory=list)

    def week(self, tier: str) -> list[TierWeek]:
        """The tier's figures, oldest week first."""
        return [self.weekly[(start, tier)] for start in self.week_starts]

    @property
    def open_total(self) -> int:
        return sum(sum(tiers.values()) for tiers in self.open_by_status.values())


def clinic_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def dashboard_weeks(now: datetime.datetime) -> list[datetime.date]:
    """The Mondays (clinic time) starting the last ``WEEKS`` weeks, this week last."""
    today = timezone.localtime(now, clinic_zone()).date()
    this_monday = today - datetime.timedelta(days=today.weekday())
    return [this_monday - datetime.timedelta(weeks=back) for back in range(WEEKS - 1, -1, -1)]


def _week_start_moment(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=clinic_zone())


def _in_time_and_due(now: datetime.datetime) -> tuple[Q, Q]:
    """Conditions for "reviewed within the tier's time" and "its time is up or it was"."""
    in_time = Q(pk__in=[])
    due = Q(pk__in=[])
    for tier in PROMISING_TIERS:
        limit = overdue_after(tier)
        reviewed_in_time = Q(tier=tier, reviewed_at__lte=F("submitted_at") + limit)
        in_time |= reviewed_in_time
        due |= reviewed_in_time | Q(tier=tier, submitted_at__lte=now - limit)
    return in_time, due


def _weekly_figures(
    now: datetime.datetime, week_starts: list[datetime.date]
) -> dict[tuple[datetime.date, str], TierWeek]:
    """Per week and tier: one GROUP BY over the window's cases.

    On PostgreSQL the percentiles are worked out in the same query
    (``percentile_cont``); elsewhere (SQLite, for development and tests) from
    the window's review times in Python, a second query over the same window.
    """
    zone = clinic_zone()
    window = Case.objects.filter(submitted_at__gte=_week_start_moment(week_starts[0]))
    wait = ExpressionWrapper(F("reviewed_at") - F("submitted_at"), output_field=DurationField())
    in_time, due = _in_time_and_due(now)
    aggregates = {
        "cases": Count("pk"),
        "reviewed": Count("reviewed_at"),
        "reviewed_in_time": Count("pk", filter=in_time),
        "due": Count("pk", filter=due),
    }
    in_sql = connections[router.db_for_read(Case)].vendor == "postgresql"
    if in_sql:
        aggregates["median_review"] = PercentileCont(
            wait, fraction=0.5, output_field=DurationField()
        )
        aggregates["p90_review"] = PercentileCont(wait, fraction=0.9, output_field=DurationField())
    rows = (
        window.annotate(week=TruncWeek("submitted_at", tzinfo=zone))
        .values("week", "tier")
        .annotate(**aggregates)
        .order_by()
    )
    found = {}
    for row in rows:
        week = timezone.localtime(row.pop("week"), zone).date()
        found[(week, row["tier"])] = row
    if not in_sql:
        waits = defaultdict(list)
        reviewed = (
            window.filter(reviewed_at__isnull=False)
            .annotate(week=TruncWeek("submitted_at", tzinfo=zone), seconds=wait)
            .values_list("week", "tier", "seconds")
            .order_by()
        )
        for week, tier, seconds in reviewed:
            waits[(timezone.localtime(week, zone).date(), tier)].append(seconds.total_seconds())
        for key, values in waits.items():
            median, p90 = percentile(values, 0.5), percentile(values, 0.9)
            found[key]["median_review"] = datetime.timedelta(seconds=median)
            found[key]["p90_review"] = datetime.timedelta(seconds=p90)
    weekly = {}
    for week in week_starts:
        for tier in TIERS:
            row = found.get((week, tier), {})
            row.pop("tier", None)
            weekly[(week, tier)] = TierWeek(week_start=week, tier=tier, **row)
    return weekly


def _open_cases() -> tuple[dict[str, dict[str, int]], list[AssigneeCount]]:
    """Open cases by status and tier, and by assignee: one GROUP BY, then the names."""
    by_status: dict[str, dict[str, int]] = {
        str(status): dict.fromkeys(TIERS, 0) for status in Case.OPEN_STATUSES
    }
    by_assignee: Counter = Counter()
    rows = (
        Case.objects.open()
        .values_list("status", "tier", "assigned_to")
        .annotate(cases=Count("pk"))
        .order_by()
    )
    for status, tier, assignee, cases in rows:
        by_status[status][tier] += cases
        by_assignee[assignee] += cases
    users = get_user_model().objects.in_bulk([pk for pk in by_assignee if pk is not None])
    assignees = [
        AssigneeCount(
            user_id=pk,
            name=(users[pk].get_full_name() or users[pk].get_username()) if pk else "",
            cases=cases,
        )
        for pk, cases in by_assignee.items()
        if pk is None or pk in users
    ]
    # Most cases first; "nobody" (None) sorts by its count like anyone else.
    assignees.sort(key=lambda item: (-item.cases, item.name))
    return by_status, assignees


def clinic_dashboard(*, now: datetime.datetime | None = None) -> Dashboard:
    """The dashboard's figures at ``now`` (default: the current time).

    At most six queries (five on PostgreSQL), each bounded by the 12-week
    window, the open cases or the queue's partial indexes.
    """
    now = now or timezone.now()
    week_starts = dashboard_weeks(now)
    queue = red_flag_queue_state(now=now)
    by_status, by_assignee = _open_cases()
    return Dashboard(
        now=now,
        week_starts=week_starts,
        weekly=_weekly_figures(now, week_starts),
        overdue_now={
            triage.EMERGENCY: queue.emergencies_overdue,
            triage.URGENT: queue.urgent_overdue,
        },
        alerts_not_delivered=failing_alert_count(now=now),
        open_by_status=by_status,
        open_by_assignee=by_assignee,
    )
