"""Each patient step and the red-flag queue, at phone and desktop widths.

Every page is photographed into the test's trail (kept under
``test-artifacts/browser/`` when a test fails) and must not scroll sideways.
With ``CLINIC_UPDATE_SCREENSHOTS=1`` (``make screenshots``) a few of them are
also written to ``docs/screenshots/`` for the README: the visible window only,
so each file stays small.
"""

import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.browser.helpers import (
    CHECK_TITLE,
    answer_step,
    complete_step,
    expect,
    expect_step,
    fill_answers,
    horizontal_overflow,
    log_in,
    send_from_check_page,
)
from tests.intake.questionnaire import STEP_DATA, STEP_ORDER

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DOCS_DIR = Path(settings.BASE_DIR) / "docs" / "screenshots"
UPDATE_DOCS = os.environ.get("CLINIC_UPDATE_SCREENSHOTS") == "1"
# (width, page) pairs that go into docs/screenshots/ as "<width>-<page>.png".
DOCS_SHOTS = {
    ("desktop", "landing"),
    ("phone", "about"),
    ("phone", "legs"),
    ("phone", "warning-signs-emergency-advice"),
    ("phone", "check"),
    ("phone", "confirmation"),
    ("desktop", "queue"),
    ("desktop", "case"),
    ("desktop", "dashboard"),
}
DOCS_MAX_BYTES = 300_000


def photograph(pages, page, width: str, name: str) -> None:
    pages.shot(page, f"{width}-{name}")
    if UPDATE_DOCS and (width, name) in DOCS_SHOTS:
        DOCS_DIR.mkdir(parents=True, exist_ok=True)
        path = DOCS_DIR / f"{width}-{name}.png"
        page.screenshot(path=path)
        assert path.stat().st_size < DOCS_MAX_BYTES, f"{path.name} is too large for the docs"


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_each_step_and_the_queue_fit_the_screen(pages, clinician, width):
    call_command("seed_demo", stdout=io.StringIO())
    open_page = pages.phone if width == "phone" else pages.desktop
    page = open_page()

    page.goto("/")
    assert horizontal_overflow(page) == 0
    photograph(pages, page, width, "landing")
    page.get_by_role("link", name="Start the questionnaire").click()
    for slug, next_slug in zip(STEP_ORDER, [*STEP_ORDER[1:], None], strict=True):
        expect_step(page, slug)
        assert horizontal_overflow(page) == 0, f"{slug} scrolls sideways at {width} width"
        photograph(pages, page, width, slug)
        if slug == "warning-signs":
            fill_answers(page, {"saddle_numbness": "yes"})
            expect(page.locator("#emergency-advice-live")).to_be_visible()
            assert horizontal_overflow(page) == 0
            photograph(pages, page, width, "warning-signs-emergency-advice")
        if next_slug is None:
            answer_step(page, STEP_DATA[slug])
            expect(page.locator("h1")).to_have_text(CHECK_TITLE)
            assert horizontal_overflow(page) == 0
            page.locator("h1").evaluate("heading => heading.scrollIntoView()")
            photograph(pages, page, width, "check")
            send_from_check_page(page)
        else:
            complete_step(page, slug, STEP_DATA[slug], next_slug)
    # The "yes" was sent to the clinic the moment it was chosen; changing it
    # afterwards never lowers the case (a clinician decides), so the advice stays.
    expect(page.locator(".emergency-advice")).to_have_count(1)
    assert horizontal_overflow(page) == 0
    photograph(pages, page, width, "confirmation")

    staff = open_page()
    log_in(staff, clinician, "/admin/intake/redflagcase/")
    rows = staff.locator("#result_list tbody tr")
    expect(rows.first).to_contain_text("Saddle-Bladder")
    photograph(pages, staff, width, "queue")
    rows.first.locator(".field-reference a").click()
    expect(staff.locator("h1")).to_contain_text("Case C-")
    photograph(pages, staff, width, "case")
    staff.goto("/admin/intake/case/dashboard/")
    expect(staff.locator("svg").first).to_be_visible()
    assert horizontal_overflow(staff) == 0 or width == "phone"
    photograph(pages, staff, width, "dashboard")
