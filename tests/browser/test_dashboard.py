"""A clinician opens the clinic dashboard at 1280x800: titled charts, their numbers beside them."""

import datetime

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from intake.models import Case
from tests.factories import CaseFactory

from .helpers import assert_no_serious_axe_violations, expect, horizontal_overflow, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DASHBOARD_URL = "/admin/intake/case/dashboard/"


def reviewed_case(tier: str, *, sent: datetime.datetime, waited_minutes: int, **kwargs) -> Case:
    return CaseFactory(
        tier=tier,
        submitted_at=sent,
        reviewed_at=sent + datetime.timedelta(minutes=waited_minutes),
        **kwargs,
    )


def test_the_dashboard_shows_titled_charts_and_their_numbers_at_desktop_size(pages, clinician):
    # Two emergencies sent on the same day a week ago, reviewed after 10 and 30
    # minutes: that week's emergency median is 20 minutes, its 90th percentile 28.
    sent = timezone.localtime(timezone.now() - datetime.timedelta(days=7)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    reviewed_case("emergency", sent=sent, waited_minutes=10, status=Case.Status.CLOSED)
    reviewed_case(
        "emergency",
        sent=sent + datetime.timedelta(minutes=5),
        waited_minutes=30,
        status=Case.Status.IN_REVIEW,
        assigned_to=clinician,
    )
    day = timezone.localtime(sent).date()
    week_label = date_format(day - datetime.timedelta(days=day.weekday()), "j M")

    page = pages.desktop()
    log_in(page, clinician, next_url=DASHBOARD_URL)
    expect(page.locator("h1")).to_have_text("Clinic dashboard")

    charts = page.get_by_role("img")
    expect(page.locator("svg.clinic-chart")).to_have_count(4)
    expect(charts.filter(has_text="Cases sent each week, by tier")).to_have_count(1)
    median_chart = page.get_by_role("img", name="Median minutes to first review each week")
    expect(median_chart).to_be_visible()
    expect(median_chart.locator("title")).to_have_text("Median minutes to first review each week")

    review_table = page.locator(
        "table", has=page.locator("caption", has_text="Minutes from sending")
    )
    week_row = review_table.locator("tbody tr", has=page.locator(f'th:text-is("{week_label}")'))
    # Emergency is the first tier: its median and 90th percentile come first.
    expect(week_row.locator("td").nth(0)).to_have_text("20")
    expect(week_row.locator("td").nth(1)).to_have_text("28")

    cases_table = page.locator(
        "table", has=page.locator("caption", has_text="Cases sent each week")
    )
    cases_row = cases_table.locator("tbody tr", has=page.locator(f'th:text-is("{week_label}")'))
    expect(cases_row.locator("td").nth(0)).to_have_text("2")

    assignees = page.locator("table", has=page.locator("caption", has_text="by assignee"))
    expect(assignees.locator("tr", has_text="Cara Clinician").locator("td")).to_have_text("1")

    # Each chart has its table beside it (the open cases' second table, by assignee, wraps).
    charts_and_tables = zip(
        page.locator("svg.clinic-chart").all(),
        page.locator(".dashboard-figure table").all(),
        strict=False,
    )
    for chart, table in charts_and_tables:
        chart_box, table_box = chart.bounding_box(), table.bounding_box()
        assert table_box["x"] >= chart_box["x"] + chart_box["width"], table.inner_text()[:40]
        assert table_box["y"] < chart_box["y"] + chart_box["height"]
    assert horizontal_overflow(page) == 0
    pages.shot(page, "dashboard")
    assert_no_serious_axe_violations(page, "clinic dashboard")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the figures (CSV)").click()
    assert download.value.suggested_filename.startswith("clinic-dashboard-")
