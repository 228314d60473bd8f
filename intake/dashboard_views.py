"""The clinic dashboard page and its CSV, in the staff admin.

Registered by ``CaseAdmin.get_urls`` through ``dashboard_urls`` (so the
admin site checks the staff login, two-factor and hostile parameters first).
The URL names are outside the ``intake_case_`` prefix on purpose: the audit
middleware records those as views of patient data, and the dashboard shows
counts only, like the admin home page's red-flag summary.

Charts are drawn here as SVG (no JavaScript, nothing from another site), each
with a title and description for screen readers and the same numbers in a
table beside it.
"""

import csv
import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from .dashboard import PROMISING_TIERS, TIERS, Dashboard, TierWeek, clinic_dashboard
from .exports.csv import csv_safe
from .models import Case, overdue_limit_in_words

#: Who may see the dashboard: anyone who may read the cases (every staff role).
DASHBOARD_PERMISSION = "intake.view_case"


def minutes(value: datetime.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 60, 1)


def number_text(value: float | None) -> str:
    """A figure as the tables and CSV print it: "—" for none, no ".0" for whole numbers."""
    if value is None:
        return "—"
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


def share_percent(week: TierWeek) -> float | None:
    share = week.share_in_time
    return None if share is None else round(share * 100, 1)


# SVG charts -------------------------------------------------------------------------

CHART_WIDTH = 520
CHART_HEIGHT = 220
MARGIN_LEFT = 44
MARGIN_BOTTOM = 34
MARGIN_TOP = 12
#: One colour per series, told apart by their legend text too (never colour alone).
SERIES_CLASSES = ("series-1", "series-2", "series-3", "series-4")


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]


def bar_chart_svg(*, title: str, description: str, labels: list[str], series: list[Series]) -> str:
    """A grouped bar chart as inline SVG, ``role="img"`` with a title and description.

    Missing values (None) draw no bar. The axis runs from 0 to the largest value.
    """
    largest = max((value for s in series for value in s.values if value), default=0) or 1
    plot_width = CHART_WIDTH - MARGIN_LEFT - 8
    plot_height = CHART_HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    group_width = plot_width / max(len(labels), 1)
    bar_width = max(group_width * 0.8 / max(len(series), 1), 1)
    parts = []
    for tick in (0, 0.5, 1):
        y = MARGIN_TOP + plot_height * (1 - tick)
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>',
                MARGIN_LEFT,
                CHART_WIDTH - 8,
                f"{y:.1f}",
                f"{y:.1f}",
                MARGIN_LEFT - 4,
                f"{y + 4:.1f}",
                number_text(round(largest * tick, 1)),
            )
        )
    for index, label in enumerate(labels):
        group_x = MARGIN_LEFT + index * group_width + group_width * 0.1
        for number, one in enumerate(series):
            value = one.values[index]
            if not value:
                continue
            height = plot_height * value / largest
            parts.append(
                format_html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}"/>',
                    SERIES_CLASSES[number % len(SERIES_CLASSES)],
                    f"{group_x + number * bar_width:.1f}",
                    f"{MARGIN_TOP + plot_height - height:.1f}",
                    f"{bar_width:.1f}",
                    f"{height:.1f}",
                )
            )
        parts.append(
            format_html(
                '<text class="label" x="{}" y="{}" text-anchor="middle">{}</text>',
                f"{MARGIN_LEFT + (index + 0.5) * group_width:.1f}",
                CHART_HEIGHT - MARGIN_BOTTOM + 14,
                label,
            )
        )
    legend = format_html_join(
        "",
        '<rect class="{}" x="{}" y="{}" width="10" height="10"/>'
        '<text class="legend" x="{}" y="{}">{}</text>',
        (
            (
                SERIES_CLASSES[number % len(SERIES_CLASSES)],
                MARGIN_LEFT + number * 130,
                CHART_HEIGHT - 12,
                MARGIN_LEFT + number * 130 + 14,
                CHART_HEIGHT - 3,
                one.name,
            )
            for number, one in enumerate(series)
        ),
    )
    return format_html(
        '<svg class="clinic-chart" role="img" viewBox="0 0 {} {}" width="{}" height="{}" '
        'xmlns="http://www.w3.org/2000/svg" aria-labelledby="{}-title {}-desc">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}{}</svg>',
        CHART_WIDTH,
        CHART_HEIGHT,
        CHART_WIDTH,
        CHART_HEIGHT,
        _chart_id(title),
        _chart_id(title),
        _chart_id(title),
        title,
        _chart_id(title),
        description,
        format_html_join("", "{}", ((part,) for part in parts)),
        legend,
    )


def _chart_id(title: str) -> str:
    return "chart-" + "".join(ch if ch.isalnum() else "-" for ch in title.lower())[:40]


# The page ---------------------------------------------------------------------------


def _tier_label(tier: str) -> str:
    return str(Case.Tier(tier).label)


def _week_label(day: datetime.date) -> str:
    return date_format(day, "j M")


def _weekly_rows(dashboard: Dashboard) -> list[dict]:
    """One row per week, each tier's figures in TIERS order, for the tables."""
    rows = []
    for start in dashboard.week_starts:
        weeks = [dashboard.weekly[(start, tier)] for tier in TIERS]
        rows.append(
            {
                "start": start,
                "cases": [week.cases for week in weeks],
                "review": [
                    (
                        number_text(minutes(week.median_review)),
                        number_text(minutes(week.p90_review)),
                    )
                    for week in weeks
                ],
                "share": [
                    number_text(share_percent(week))
                    for week in weeks
                    if week.tier in PROMISING_TIERS
                ],
            }
        )
    return rows


def dashboard_context(dashboard: Dashboard) -> dict:
    labels = [_week_label(start) for start in dashboard.week_starts]
    tier_names = [_tier_label(tier) for tier in TIERS]
    promising_names = [_tier_label(tier) for tier in PROMISING_TIERS]
    charts = {
        "cases": bar_chart_svg(
            title=gettext("Cases sent each week, by tier"),
            description=gettext("The numbers are in the table beside this chart."),
            labels=labels,
            series=[
                Series(_tier_label(tier), [week.cases for week in dashboard.week(tier)])
                for tier in TIERS
            ],
        ),
        "median": bar_chart_svg(
            title=gettext("Median minutes to first review each week"),
            description=gettext("Emergency and urgent cases. The numbers are in the table."),
            labels=labels,
            series=[
                Series(
                    _tier_label(tier),
                    [minutes(week.median_review) for week in dashboard.week(tier)],
                )
                for tier in PROMISING_TIERS
            ],
        ),
        "share": bar_chart_svg(
            title=gettext("Per cent reviewed within the promised time each week"),
            description=gettext("Emergency and urgent cases. The numbers are in the table."),
            labels=labels,
            series=[
                Series(_tier_label(tier), [share_percent(week) for week in dashboard.week(tier)])
                for tier in PROMISING_TIERS
            ],
        ),
        "open": bar_chart_svg(
            title=gettext("Open cases by status"),
            description=gettext("The numbers are in the table beside this chart."),
            labels=[str(Case.Status(status).label) for status in dashboard.open_by_status],
            series=[
                Series(
                    _tier_label(tier),
                    [tiers[tier] for tiers in dashboard.open_by_status.values()],
                )
                for tier in TIERS
            ],
        ),
    }
    return {
        "dashboard": dashboard,
        "charts": charts,
        "tier_names": tier_names,
        "promising_names": promising_names,
        "weekly_rows": _weekly_rows(dashboard),
        "emergency_limit": overdue_limit_in_words(PROMISING_TIERS[0]),
        "urgent_limit": overdue_limit_in_words(PROMISING_TIERS[1]),
        "overdue_rows": [
            (_tier_label(tier), count) for tier, count in dashboard.overdue_now.items()
        ],
        "open_rows": [
            (str(Case.Status(status).label), [tiers[tier] for tier in TIERS], sum(tiers.values()))
            for status, tiers in dashboard.open_by_status.items()
        ],
        "assignee_rows": [
            (item.name or gettext("Nobody"), item.cases) for item in dashboard.open_by_assignee
        ],
    }


def _check_permission(request: HttpRequest) -> None:
    if not request.user.has_perm(DASHBOARD_PERMISSION):
        raise PermissionDenied


@require_safe
def dashboard_view(request: HttpRequest, *, admin_site) -> HttpResponse:
    """How the clinic is doing: the last 12 weeks' review times, and the cases open now."""
    _check_permission(request)
    context = {
        **admin_site.each_context(request),
        "title": gettext("Clinic dashboard"),
        # Each chart has its table beside it: the page needs the sidebar's width.
        "is_nav_sidebar_enabled": False,
        **dashboard_context(clinic_dashboard()),
    }
    return TemplateResponse(request, "admin/intake/dashboard.html", context)


def dashboard_csv_rows(dashboard: Dashboard) -> list[list[str]]:
    """The dashboard's figures as CSV rows: one table per week and tier, then the counts now."""
    rows = [
        [
            "week_starting",
            "tier",
            "cases",
            "reviewed",
            "median_minutes_to_first_review",
            "p90_minutes_to_first_review",
            "due",
            "reviewed_within_promised_time",
            "percent_within_promised_time",
        ]
    ]
    for start in dashboard.week_starts:
        for tier in TIERS:
            week = dashboard.weekly[(start, tier)]
            share = share_percent(week)
            rows.append(
                [
                    start.isoformat(),
                    tier,
                    str(week.cases),
                    str(week.reviewed),
                    "" if week.median_review is None else number_text(minutes(week.median_review)),
                    "" if week.p90_review is None else number_text(minutes(week.p90_review)),
                    str(week.due) if week.promises_review else "",
                    str(week.reviewed_in_time) if week.promises_review else "",
                    "" if share is None else number_text(share),
                ]
            )
    rows += [[], ["figure", "tier_or_status_or_assignee", "cases"]]
    now = dashboard.now.isoformat(timespec="seconds")
    rows += [
        [f"overdue_now at {now}", tier, str(count)] for tier, count in dashboard.overdue_now.items()
    ]
    rows.append([f"alerts_not_delivered at {now}", "", str(dashboard.alerts_not_delivered)])
    for status, tiers in dashboard.open_by_status.items():
        rows += [[f"open_by_status {status}", tier, str(tiers[tier])] for tier in TIERS]
    rows += [
        ["open_by_assignee", csv_safe(item.name or "nobody"), str(item.cases)]
        for item in dashboard.open_by_assignee
    ]
    return rows


@require_safe
def dashboard_csv_view(request: HttpRequest, *, admin_site) -> HttpResponse:
    """The dashboard's figures as a CSV download."""
    _check_permission(request)
    dashboard = clinic_dashboard()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"clinic-dashboard-{dashboard.now:%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    csv.writer(response).writerows(dashboard_csv_rows(dashboard))
    return response


def dashboard_urls(admin_site) -> list[URLPattern]:
    """The dashboard's URLs, for a ModelAdmin's ``get_urls`` to put before its own."""

    def bound(view):
        def view_for_site(request: HttpRequest) -> HttpResponse:
            return view(request, admin_site=admin_site)

        view_for_site.__name__ = view.__name__
        view_for_site.__doc__ = view.__doc__
        return admin_site.admin_view(view_for_site)

    return [
        path("dashboard/", bound(dashboard_view), name="clinic_dashboard"),
        path("dashboard/figures.csv", bound(dashboard_csv_view), name="clinic_dashboard_csv"),
    ]
