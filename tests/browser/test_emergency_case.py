"""A patient reports numbness between the legs; staff find the case on top and handle it."""

import datetime
import re

import pytest
from django.utils import timezone

from intake import triage
from intake.models import Case, CaseEvent
from tests.browser.helpers import (
    assert_no_serious_axe_violations,
    case_reference,
    complete_step,
    expect,
    expect_step,
    fill_answers,
    log_in,
    press_forward,
    send_from_check_page,
)
from tests.factories import CaseFactory
from tests.intake.questionnaire import ABOUT, HEALTH, LEGS, PAIN, WARNING_SIGNS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

QUEUE_URL = "/admin/intake/redflagcase/"


def cases_waiting_already():
    """Dangerous cases that have waited longer than the new one, and one not queued."""
    now = timezone.now()
    return {
        "urgent": CaseFactory(
            changes={"foot_lift_difficulty": "yes"},
            submitted_at=now - datetime.timedelta(hours=3),
        ),
        "emergency": CaseFactory(
            changes={"weak_side": "both", "weakness_onset": "hours", "weakness_trend": "worse"},
            submitted_at=now - datetime.timedelta(hours=2),
        ),
        "soon": CaseFactory(
            changes={"falls": "yes"}, submitted_at=now - datetime.timedelta(hours=4)
        ),
    }


def test_patient_is_warned_at_once_and_staff_handle_the_case_from_the_top_of_the_queue(
    pages, clinician
):
    waiting = cases_waiting_already()
    assert waiting["emergency"].tier == "emergency" and waiting["urgent"].tier == "urgent"

    # The patient, on a phone, reports numbness between the legs.
    patient = pages.phone()
    patient.goto("/intake/")
    complete_step(patient, "about", {**ABOUT, "last_name": "Browser-Saddle"}, "legs")
    complete_step(patient, "legs", LEGS, "pain")
    complete_step(patient, "pain", PAIN, "warning-signs")
    live_advice = patient.locator("#emergency-advice-live")
    expect(live_advice).to_be_hidden()
    fill_answers(patient, {"saddle_numbness": "yes"})
    # Before anything is sent: an alert, in words, in view.
    expect(live_advice).to_be_visible()
    expect(live_advice).to_have_attribute("role", "alert")
    expect(live_advice).to_contain_text("Please get emergency care now")
    expect(live_advice).to_contain_text("Go to an emergency department now, or call 911")
    expect(live_advice).to_be_in_viewport()
    pages.shot(patient, "warning-signs-emergency-advice")
    assert_no_serious_axe_violations(patient, "warning signs with the emergency advice shown")
    # Changing the answer back takes the warning away again.
    fill_answers(patient, {"saddle_numbness": "no"})
    expect(live_advice).to_be_hidden()
    fill_answers(patient, {**WARNING_SIGNS, "saddle_numbness": "yes"})
    expect(live_advice).to_be_visible()
    press_forward(patient)
    expect_step(patient, "health")
    expect(patient.get_by_role("alert")).to_contain_text("Go to an emergency department now")
    fill_answers(patient, HEALTH)
    press_forward(patient)
    send_from_check_page(patient)
    expect(patient.get_by_role("alert")).to_contain_text("Go to an emergency department now")
    reference = case_reference(patient)
    pages.shot(patient, "confirmation-emergency")

    # Staff log in and find that case first, above cases that waited longer.
    staff = pages.desktop()
    log_in(staff, clinician, QUEUE_URL)
    expect(staff.locator("h1")).to_have_text("Red-flag queue")
    rows = staff.locator("#result_list tbody tr")
    expect(rows).to_have_count(2 + 1)
    expect(rows.locator(".field-reference")).to_have_text(
        [reference, waiting["emergency"].reference, waiting["urgent"].reference]
    )
    top = rows.first
    expect(top.locator(".case-tier")).to_have_text("Emergency")
    expect(top.locator(".case-flag")).to_have_text([triage.flag_label("saddle_numbness")])
    expect(top.locator(".field-patient_name")).to_contain_text("Browser-Saddle")
    # The emergency that has waited two hours unreviewed says so in words.
    expect(rows.nth(1).locator(".case-overdue")).to_have_text("OVERDUE")
    expect(staff.get_by_text(waiting["soon"].reference)).to_have_count(0)
    pages.shot(staff, "queue")

    top.get_by_role("link", name=reference).click()
    expect(staff.locator("h1")).to_have_text(f"Case {reference}")
    expect(staff.locator(".case-flag-list .case-flag")).to_have_text(
        [f"RED FLAG: {triage.flag_label('saddle_numbness')}"]
    )

    staff.get_by_role("button", name="Assign to me").click()
    expect(staff.locator(".messagelist")).to_contain_text(
        f"{reference} is now assigned to Cara Clinician"
    )

    call = "Called the patient at 10:05. Told them to go to the emergency department now."
    staff.get_by_label("Note:", exact=True).fill(call)
    staff.get_by_role("button", name="Add note").click()
    expect(staff.locator(".messagelist")).to_contain_text("Note added.")

    staff.get_by_role("button", name="Contacted", exact=True).click()
    expect(staff.locator(".messagelist")).to_contain_text(f"{reference} is now “Contacted”.")
    staff.get_by_label("Note (optional):").fill("Patient confirmed they are at the hospital.")
    staff.get_by_role("button", name="Closed", exact=True).click()
    expect(staff.locator(".messagelist")).to_contain_text(f"{reference} is now “Closed”.")
    expect(staff.locator(".case-status-line")).to_contain_text("Status: Closed")

    timeline = staff.locator("#case-timeline")
    expect(timeline.locator(".case-event-alert")).to_contain_text("Alert email sent")
    expect(timeline.locator(".case-event-assignment")).to_contain_text("Cara Clinician")
    expect(timeline.locator(".case-event-note")).to_contain_text(call)
    status_changes = timeline.locator(".case-event-status")
    expect(status_changes).to_have_count(2)
    expect(status_changes.first).to_contain_text("New → Contacted")
    expect(status_changes.last).to_contain_text("Contacted → Closed")
    expect(status_changes.last).to_contain_text("Patient confirmed they are at the hospital.")
    pages.shot(staff, "case-closed")

    case = Case.objects.get(reference=reference)
    assert case.status == Case.Status.CLOSED
    assert case.assigned_to == clinician
    assert list(case.events.values_list("kind", flat=True).order_by("created_at", "pk")) == [
        CaseEvent.Kind.SUBMITTED,  # in the background, the moment "yes" was chosen
        CaseEvent.Kind.ALERT,
        CaseEvent.Kind.ANSWERS_ADDED,  # the rest of the warning-signs page
        CaseEvent.Kind.ANSWERS_ADDED,  # the last step, finished afterwards
        CaseEvent.Kind.ASSIGNMENT,
        CaseEvent.Kind.NOTE,
        CaseEvent.Kind.STATUS,
        CaseEvent.Kind.STATUS,
    ]

    # A closed case leaves the queue.
    staff.goto(QUEUE_URL)
    expect(staff.locator("#result_list tbody tr .field-reference")).to_have_text(
        [waiting["emergency"].reference, waiting["urgent"].reference]
    )
    expect(staff.get_by_text(re.compile(reference))).to_have_count(0)
