"""At 1280x800 the case page answers the first phone call's questions above the fold,
and the queue row shows language, submitted time, last contact attempt and appointment
(issue 20)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import Case
from intake.services import case_change_status
from tests.factories import CaseFactory, PatientFactory

from .helpers import assert_no_serious_axe_violations, expect, horizontal_overflow, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

QUEUE_URL = "/admin/intake/redflagcase/"
FOLD = 800  # the window's height: tests/browser/conftest.py DESKTOP
DATE_TIME = re.compile(r"^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}$")  # "26 Nov 2026, 14:05"


def phoned_spanish_emergency(clinician) -> Case:
    """An emergency in Spanish, with a booked visit, phoned once: every header item is set."""
    patient = PatientFactory(
        first_name="Maria-Guadalupe",
        last_name="Example-Fernandez-Longname",
        date_of_birth=datetime.date(1948, 7, 14),
        phone="+1 (555) 010-4477",
    )
    case = CaseFactory(
        patient=patient,
        changes={"saddle_numbness": "yes", "bladder_retention": "yes", "fever": "yes"},
        submitted_at=timezone.now() - datetime.timedelta(minutes=50),
        appointment_date=timezone.localdate() + datetime.timedelta(days=2),
        language="es",
    )
    return case_change_status(case=case, to_status=Case.Status.CONTACTED, by=clinician)


def bottom_of(locator) -> float:
    box = locator.bounding_box()
    assert box is not None, locator
    return box["y"] + box["height"]


def test_case_header_is_above_the_fold_and_the_way_back_is_the_queue(pages, clinician):
    case = phoned_spanish_emergency(clinician)
    page = pages.desktop()
    log_in(page, clinician, reverse("admin:intake_case_change", args=[case.pk]))

    header = page.locator("header.case-header")
    expect(header).to_be_visible()
    assert page.evaluate("() => window.scrollY") == 0
    phone = header.locator("a.case-phone")
    expect(phone).to_have_attribute("href", "tel:+15550104477")
    expect(phone).to_have_text("+1 (555) 010-4477")
    items = {
        "name": header.get_by_text("Maria-Guadalupe Example-Fernandez-Longname"),
        "phone": phone,
        "age": header.locator(".case-header-age"),
        "tier": header.locator(".case-tier"),
        "saddle flag": header.get_by_text("Numbness between the legs (saddle)"),
        "bladder flag": header.get_by_text("Bladder problems"),
        "status": header.locator(".case-header-status"),
        "language": header.locator(".case-header-language"),
    }
    expect(items["tier"]).to_have_text(re.compile("Emergency", re.I))
    expect(items["status"]).to_have_text("Contacted")
    expect(items["language"]).to_have_text("Spanish")
    expect(items["age"]).to_have_text(re.compile(r"^\d+$"))
    for name, locator in items.items():
        expect(locator).to_be_visible()
        assert bottom_of(locator) <= FOLD, f"{name} is below the fold"
    # The phone number is one piece: one line box, never wrapped.
    assert phone.evaluate("element => element.getClientRects().length") == 1
    assert horizontal_overflow(page) == 0
    assert_no_serious_axe_violations(page, "case page header")

    back = page.get_by_role("button", name="Back to the queue")
    expect(page.get_by_role("button", name="Close", exact=True)).to_have_count(0)
    back.click()
    expect(page).to_have_url(re.compile(re.escape(QUEUE_URL) + "$"))


def test_queue_row_shows_language_submitted_last_contact_and_appointment(pages, clinician):
    case = phoned_spanish_emergency(clinician)
    english = CaseFactory(changes={"foot_lift_difficulty": "yes"})
    page = pages.desktop()
    log_in(page, clinician, QUEUE_URL)

    headings = page.locator("#result_list thead th")
    for heading in ("Patient", "Submitted", "Last contact · visit"):
        expect(headings.filter(has_text=heading)).to_have_count(1)
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    first = rows.nth(0)  # the emergency stays on top
    expect(first).to_contain_text(case.reference)
    patient = first.locator(".field-patient_name")
    expect(patient.locator(".case-language")).to_have_text("Spanish")
    phone = patient.locator("a.case-phone")
    expect(phone).to_have_attribute("href", "tel:+15550104477")
    assert phone.evaluate("element => element.getClientRects().length") == 1
    expect(first.locator(".field-submitted_when time")).to_have_text(DATE_TIME)
    expect(first.locator(".field-submitted_when")).to_contain_text("waited 50 min")
    expect(first.locator(".case-last-contact")).to_have_text(
        re.compile("^contacted " + DATE_TIME.pattern[1:])
    )
    expect(first.locator(".case-appointment")).to_have_text(
        re.compile(r"^visit \d{1,2} [A-Z][a-z]{2} \d{4}$")
    )
    second = rows.nth(1)
    expect(second).to_contain_text(english.reference)
    expect(second.locator(".field-patient_name .case-language")).to_have_text("English")
    expect(second.locator(".case-last-contact")).to_have_text("not contacted yet")
    # Every column, the assignee last, fits the 1280 px window without scrolling sideways.
    assert horizontal_overflow(page) == 0
    for row in (first, second):
        expect(row.locator(".field-assignee")).to_be_in_viewport(ratio=1)
    assert_no_serious_axe_violations(page, "red-flag queue")
