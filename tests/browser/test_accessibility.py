"""axe-core in every patient page and the staff queue and case pages, zoom and
reflow, labels, and words wherever colour carries a meaning.

axe-core's own rules decide the violations; any of "serious" or "critical"
impact fails the test. Everything axe reports (moderate and minor too) is
written to test-artifacts/browser/axe-summary.txt.
"""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from intake.models import Case
from tests.browser.helpers import (
    assert_no_serious_axe_violations,
    complete_step,
    expect,
    expect_step,
    horizontal_overflow,
    log_in,
    press_forward,
    unlabelled_controls,
)
from tests.factories import CaseFactory
from tests.intake.questionnaire import STEP_DATA, STEP_ORDER

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CONDITION_WITH_EMERGENCY_BOX = "/conditions/cauda-equina-syndrome/"
CONDITION_PAGE = "/conditions/lumbar-radiculopathy-sciatica/"
# A 1280 x 800 window zoomed to 200 % lays pages out in 640 x 400 CSS pixels.
ZOOM_200 = {"width": 640, "height": 400}


def test_every_patient_page_passes_axe_on_a_phone(pages):
    page = pages.phone()
    for url, label in [
        ("/", "landing"),
        ("/conditions/", "conditions list"),
        (CONDITION_PAGE, "condition page"),
        (CONDITION_WITH_EMERGENCY_BOX, "condition page with the emergency box"),
    ]:
        page.goto(url)
        assert_no_serious_axe_violations(page, label)

    page.goto("/intake/")
    press_forward(page)  # nothing answered: the error state
    expect(page.locator("#error-summary")).to_be_visible()
    assert_no_serious_axe_violations(page, "about you, with errors")

    for slug, next_slug in zip(STEP_ORDER, [*STEP_ORDER[1:], None], strict=True):
        expect_step(page, slug)
        assert unlabelled_controls(page) == [], slug
        if slug != "about":
            assert_no_serious_axe_violations(page, f"step {slug}")
        if slug == "warning-signs":
            # Unanswered red-flag questions: errors on radio groups.
            press_forward(page)
            expect(page.locator("#error-summary")).to_be_visible()
            assert_no_serious_axe_violations(page, "warning signs, with errors")
        complete_step(page, slug, STEP_DATA[slug], next_slug)

    assert_no_serious_axe_violations(page, "confirmation")


def test_questionnaire_reflows_at_200_percent_zoom_and_at_320_pixels(pages):
    """WCAG reflow: zoomed in, the questionnaire never scrolls sideways."""
    zoomed = pages.new(viewport=ZOOM_200, device_scale_factor=2)
    narrow = pages.new(viewport={"width": 320, "height": 640})
    for page in (zoomed, narrow):
        width = page.viewport_size["width"]
        page.goto("/")
        assert horizontal_overflow(page) == 0, f"landing at {width}px"
        page.goto("/intake/")
        press_forward(page)
        assert horizontal_overflow(page) == 0, f"errors at {width}px"
        for slug, next_slug in zip(STEP_ORDER, [*STEP_ORDER[1:], None], strict=True):
            assert horizontal_overflow(page) == 0, f"{slug} at {width}px"
            complete_step(page, slug, STEP_DATA[slug], next_slug)
        assert horizontal_overflow(page) == 0, f"confirmation at {width}px"
        page.goto(CONDITION_WITH_EMERGENCY_BOX)
        assert horizontal_overflow(page) == 0, f"condition page at {width}px"
    pages.shot(zoomed, "confirmation-at-200-percent")


@pytest.fixture
def queue_with_every_kind_of_case():
    """The demo cases `make run` shows, plus one assigned case with a history."""
    call_command("seed_demo", stdout=io.StringIO())
    return Case.objects.filter(tier__in=["emergency", "urgent"]).count()


def test_staff_queue_and_case_pages_pass_axe_and_say_everything_in_words(
    pages, clinician, queue_with_every_kind_of_case
):
    overdue = CaseFactory(
        changes={"bladder_incontinence": "yes"},
        submitted_at=timezone.now() - datetime.timedelta(hours=1),
    )
    page = pages.desktop()
    log_in(page, clinician, "/admin/")
    assert_no_serious_axe_violations(page, "admin index with the red-flag summary")

    page.goto("/admin/intake/redflagcase/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(queue_with_every_kind_of_case + 1)
    assert_no_serious_axe_violations(page, "red-flag queue")
    # On a 1280 px screen every column, status and assignee included, is in view.
    results = page.locator("#changelist .results")
    assert results.evaluate("element => element.scrollWidth - element.clientWidth") <= 0
    # Colour is never the only signal: every coloured badge and flag has words.
    for row in rows.all():
        tier = row.locator(".case-tier").text_content().strip()
        assert tier in {"Emergency", "Urgent"}, tier
        flags = row.locator(".case-flag").all_text_contents()
        assert flags and all(text.strip() for text in flags), row.inner_text()
    overdue_row = rows.filter(has_text=overdue.reference)
    expect(overdue_row.locator(".case-overdue")).to_have_text("OVERDUE")

    overdue_row.get_by_role("link", name=overdue.reference).click()
    expect(page.locator("h1")).to_have_text(f"Case {overdue.reference}")
    assert unlabelled_controls(page) == []
    assert_no_serious_axe_violations(page, "case page")
    expect(page.locator(".case-triage .case-tier")).to_have_text("Emergency")
    expect(page.locator(".case-triage .case-overdue")).to_have_text("OVERDUE")
    red_rows = page.locator("tr.case-answer-red-flag")
    expect(red_rows).to_have_count(1)
    expect(red_rows).to_contain_text("RED FLAG:")

    page.get_by_label("Question:").select_option("bladder_incontinence")
    page.get_by_role("button", name="Correct this answer…").click()
    expect(page.locator("h1")).to_have_text("Correct an answer")
    assert unlabelled_controls(page) == []
    assert_no_serious_axe_violations(page, "correct an answer")

    phone = pages.phone(storage_state=page.context.storage_state())
    phone.goto("/admin/intake/redflagcase/")
    assert_no_serious_axe_violations(phone, "red-flag queue on a phone")
