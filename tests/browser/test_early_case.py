"""A patient who follows the advice and leaves is not lost (issue 17).

Answering "yes" to numbness between the legs sends the answers so far in the
background at once; the patient closes the tab; the case is in the queue and
the alert went. Another patient finishes every step: still one case.
"""

import pytest

from intake.models import Case
from tests.browser.helpers import (
    case_reference,
    complete_step,
    expect,
    fill_answers,
    press_forward,
    send_from_check_page,
)
from tests.intake.questionnaire import ABOUT, HEALTH, LEGS, PAIN, WARNING_SIGNS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def start_to_the_warning_signs(patient, last_name: str) -> None:
    patient.goto("/intake/")
    complete_step(patient, "about", {**ABOUT, "last_name": last_name}, "legs")
    complete_step(patient, "legs", LEGS, "pain")
    complete_step(patient, "pain", PAIN, "warning-signs")


def test_a_patient_who_answers_yes_and_closes_the_tab_is_in_the_queue(pages, mailoutbox):
    patient = pages.phone()
    start_to_the_warning_signs(patient, "Browser-Leaves")

    # Only the first question answered: the rest of the page is still blank.
    fill_answers(patient, {"saddle_numbness": "yes"})
    sent = patient.locator("#emergency-sent")
    expect(sent).to_be_visible()
    expect(sent).to_contain_text("Your answers have been sent to the clinic")
    reference = patient.locator("#emergency-sent-reference").inner_text()
    patient.close()

    case = Case.objects.get()
    assert case.reference == reference
    assert case.created_early and case.tier == "emergency"
    assert case.answers["saddle_numbness"] == "yes"
    assert [message.subject for message in mailoutbox] == [
        f"[Spine and Nerve Clinic] EMERGENCY intake {reference}"
    ]
    staff = pages.desktop()
    staff.goto("/admin/login/")  # the queue itself is checked in test_emergency_case.py
    assert Case.objects.red_flag_queue().filter(pk=case.pk).exists()


def test_a_patient_who_finishes_every_step_still_has_one_case_with_every_answer(pages):
    patient = pages.phone()
    start_to_the_warning_signs(patient, "Browser-Finishes")
    fill_answers(patient, {**WARNING_SIGNS, "saddle_numbness": "yes"})
    expect(patient.locator("#emergency-sent")).to_be_visible()
    press_forward(patient)
    expect(patient.get_by_role("alert")).to_contain_text(
        "We have sent your answers to the clinic and told the team on call."
    )
    fill_answers(patient, {**HEALTH, "diabetes": "yes"})
    press_forward(patient)
    send_from_check_page(patient)
    reference = case_reference(patient)

    case = Case.objects.get()
    assert case.reference == reference
    assert case.completed_at is not None
    assert case.answers["diabetes"] == "yes"
    assert case.answers["bladder_retention"] == "no"
