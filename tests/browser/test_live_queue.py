"""Staff with the red-flag queue or the admin home page open see a new emergency by themselves.

The page polls the live endpoint every 5 seconds and swaps its rows and
summary in place when the queue changed (intake/static/intake/live_queue.js);
a new emergency must show within 10 seconds, without a reload and without
losing what the staff member had ticked.
"""

import re

import pytest
from django.contrib.sessions.models import Session

from intake.models import AlertDelivery, Case
from tests.factories import CaseFactory

from .helpers import assert_no_serious_axe_violations, expect, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

QUEUE_URL = "/admin/intake/redflagcase/"
WITHIN_10_SECONDS = 10_000
SADDLE = {"saddle_numbness": "yes"}


def mark_page(page) -> None:
    """A mark that a reload would wipe out."""
    page.evaluate("() => { window.notReloaded = true; }")


def not_reloaded(page) -> bool:
    return page.evaluate("() => window.notReloaded === true")


def test_a_new_emergency_appears_in_the_open_queue_without_a_reload(pages, clinician):
    older = CaseFactory(changes=SADDLE)
    urgent = CaseFactory(changes={"foot_lift_difficulty": "yes"})
    page = pages.desktop()
    log_in(page, clinician, QUEUE_URL)
    expect(page).to_have_title(re.compile(r"^\(1\) Red-flag queue \|"))
    live = page.locator("#live-queue")
    expect(live).to_be_visible()
    sound = page.get_by_label("Play a sound for a new emergency (remembered in this browser)")
    expect(sound).not_to_be_checked()  # off by default
    sound.check()
    expect(live).to_have_attribute("data-beeps", "1")  # a sample when switched on
    rows = page.locator("#result_list tbody tr")
    rows.filter(has_text=urgent.reference).locator("input.action-select").check()
    mark_page(page)

    new = CaseFactory(changes=SADDLE)

    new_row = rows.filter(has_text=new.reference)
    expect(new_row).to_be_visible(timeout=WITHIN_10_SECONDS)
    assert not_reloaded(page)
    expect(page).to_have_title(re.compile(r"^\(2\) Red-flag queue \|"))
    expect(page.locator("#live-queue-announcer")).to_have_text(
        f"New emergency: {new.reference}. 2 open emergencies."
    )
    expect(live).to_have_attribute("data-beeps", "2")
    expect(page.locator(".red-flag-summary")).to_contain_text("2 open emergencies")
    # The staff member's place: what they ticked is still ticked, and counted.
    expect(rows.filter(has_text=urgent.reference).locator("input.action-select")).to_be_checked()
    expect(new_row.locator("input.action-select")).not_to_be_checked()
    expect(page.locator(".action-counter")).to_have_text("1 of 3 selected")
    expect(rows).to_have_count(3)
    assert rows.first.inner_text().count(new.reference) or rows.nth(1).inner_text().count(
        new.reference
    )
    pages.shot(page, "queue-after-a-new-emergency")

    # A change to a row shows too: a colleague acknowledges the older emergency.
    older.refresh_from_db()
    from intake.services import case_acknowledge
    from tests.factories import UserFactory

    case_acknowledge(case=older, by=UserFactory(first_name="Ana", last_name="Reyes"))
    expect(rows.filter(has_text=older.reference)).to_contain_text(
        "acknowledged by Ana Reyes", timeout=WITHIN_10_SECONDS
    )
    assert not_reloaded(page)
    assert_no_serious_axe_violations(page, "live red-flag queue")

    # The choice of sound is remembered in this browser.
    page.reload()
    expect(sound).to_be_checked()


def test_acknowledge_from_the_queue_row_in_one_click(pages, clinician):
    emergency = CaseFactory(changes=SADDLE)
    page = pages.desktop()
    log_in(page, clinician, QUEUE_URL + "?tier=emergency")
    row = page.locator("#result_list tbody tr").filter(has_text=emergency.reference)
    expect(row).to_contain_text("NOT acknowledged")

    row.get_by_role("button", name=f"Acknowledge {emergency.reference}").click()

    expect(page.locator(".messagelist")).to_contain_text(
        f"You acknowledged emergency {emergency.reference}"
    )
    assert page.url.endswith(QUEUE_URL + "?tier=emergency")
    expect(row).to_contain_text("acknowledged by Cara Clinician at ")
    emergency.refresh_from_db()
    assert emergency.acknowledged_by == clinician


def test_the_admin_home_page_counts_a_new_emergency_and_shows_a_failing_alert(pages, clinician):
    page = pages.desktop()
    log_in(page, clinician, "/admin/")
    summary = page.locator(".red-flag-summary")
    expect(summary).to_contain_text("0 open emergencies")
    expect(page.locator(".alert-failing-banner")).to_have_count(0)
    mark_page(page)

    case = CaseFactory(changes=SADDLE)

    expect(summary).to_contain_text("1 open emergency", timeout=WITHIN_10_SECONDS)
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    expect(page.locator("#live-queue-announcer")).to_have_text(
        "New emergency in the red-flag queue. 1 open emergency."
    )

    AlertDelivery.objects.create(
        case=case, channel="email", kind="alert", attempts=1, last_error="SMTPConnectError"
    )
    Case.objects.filter(pk=case.pk).update(alert_state="failing")
    banner = page.locator(".alert-failing-banner")
    expect(banner).to_contain_text(
        "An emergency alert is NOT being delivered", timeout=WITHIN_10_SECONDS
    )
    assert not_reloaded(page)
    pages.shot(page, "home-with-a-failing-alert")
    assert_no_serious_axe_violations(page, "admin home with the failing-alert banner")


def test_live_updates_say_loudly_when_they_stop(pages, clinician):
    page = pages.desktop()
    log_in(page, clinician, QUEUE_URL)
    expect(page.locator("#live-queue-checked")).to_contain_text(
        "Last checked", timeout=WITHIN_10_SECONDS
    )

    Session.objects.all().delete()  # logged out, as after 30 minutes idle

    expect(page.locator("#live-queue-stopped")).to_contain_text(
        "Live updates have STOPPED: you are no longer logged in", timeout=WITHIN_10_SECONDS
    )
    expect(page).to_have_title(re.compile(r"^\(!\) Not updating: Red-flag queue"))


def test_the_staff_members_place_is_kept_when_rows_arrive_above_it(pages, clinician):
    urgent = [CaseFactory(changes={"foot_lift_difficulty": "yes"}) for _ in range(20)]
    page = pages.desktop()
    log_in(page, clinician, QUEUE_URL)
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(20)
    watched = rows.filter(has_text=urgent[12].reference)
    watched.scroll_into_view_if_needed()
    page.evaluate("(y) => window.scrollBy(0, y)", 150)
    top_before = watched.bounding_box()["y"]
    scrolled_before = page.evaluate("() => window.scrollY")
    link = watched.locator(".field-reference a")
    link.focus()
    mark_page(page)

    new = CaseFactory(changes=SADDLE)

    expect(rows.filter(has_text=new.reference)).to_have_count(1, timeout=WITHIN_10_SECONDS)
    assert not_reloaded(page)
    # The row they were reading is where it was: the page scrolled by the new row's height.
    assert abs(watched.bounding_box()["y"] - top_before) <= 2
    assert page.evaluate("() => window.scrollY") > scrolled_before
    expect(link).to_be_focused()
    expect(page.locator("#live-queue-announcer")).to_contain_text(f"New emergency: {new.reference}")
