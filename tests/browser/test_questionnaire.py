"""Patients filling in the questionnaire in a real browser, as they do: on a phone,
with the keyboard only, going back, coming back later, and without JavaScript."""

import re

import pytest

from intake.models import Case
from tests.browser.helpers import (
    CHECK_TITLE,
    case_reference,
    complete_step,
    date_parts,
    expect,
    expect_step,
    fill_answers,
    focused,
    horizontal_overflow,
    key_in_step,
    press_forward,
    tab_to_text,
)
from tests.intake.questionnaire import (
    ABOUT,
    HEALTH,
    LEGS,
    PAIN,
    STEP_DATA,
    STEP_ORDER,
    WARNING_SIGNS,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_phone_patient_completes_the_questionnaire_with_the_keyboard_only(pages):
    page = pages.phone()
    page.goto("/")

    # The first Tab shows the skip link; Enter on it jumps past the header.
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to main content"
    expect(page.locator(".skip-link")).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    tab_to_text(page, "Start the questionnaire", limit=10)
    page.keyboard.press("Enter")

    for slug, next_slug in zip(STEP_ORDER, [*STEP_ORDER[1:], None], strict=True):
        expect_step(page, slug)
        assert horizontal_overflow(page) == 0, f"{slug} scrolls sideways on a phone"
        pages.shot(page, f"phone-{slug}")
        key_in_step(page, STEP_DATA[slug])
        if next_slug:
            expect_step(page, next_slug)

    # Every answer is shown once more before it is sent; Send is reached with Tab.
    expect(page.locator("h1")).to_have_text(CHECK_TITLE)
    assert horizontal_overflow(page) == 0
    pages.shot(page, "phone-check")
    tab_to_text(page, "Send my answers", limit=120)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Thank you. We have your answers.")
    assert horizontal_overflow(page) == 0
    reference = case_reference(page)
    expect(page.locator(".emergency-advice")).to_have_count(0)

    case = Case.objects.select_related("patient").get()
    assert case.reference == reference
    assert (case.patient.first_name, case.patient.last_name) == ("Zoë", "Ñandú-Example")
    assert str(case.patient.date_of_birth) == ABOUT["date_of_birth"]
    expected = {**LEGS, **PAIN, **WARNING_SIGNS, **HEALTH, "pain_score": 6}
    assert {code: case.answers.get(code, "") for code in expected} == expected


def test_back_and_resume_keep_the_answers(pages):
    page = pages.phone()
    page.goto("/intake/")
    complete_step(page, "about", ABOUT, "legs")
    complete_step(page, "legs", LEGS, "pain")

    # Half the pain step answered, then Back: both steps keep what was given.
    fill_answers(page, {"back_pain": "yes", "pain_score": "7"})
    page.get_by_role("button", name="Back").click()
    expect_step(page, "legs")
    expect(page.get_by_role("radio", name="My left leg")).to_be_checked()
    started = page.get_by_role("group", name="When did these leg problems start?")
    for part, value in date_parts(LEGS["symptoms_started"]).items():
        expect(started.get_by_label(part.capitalize())).to_have_value(value)
    press_forward(page)
    expect_step(page, "pain")
    expect(page.locator('input[name="back_pain"][value="yes"]')).to_be_checked()
    expect(page.locator('input[name="pain_score"][value="7"]')).to_be_checked()

    # The patient closes the browser and comes back on the same device.
    saved_state = page.context.storage_state()
    page.context.close()
    page = pages.phone(storage_state=saved_state)
    page.goto("/intake/")
    # Straight back to the first step not finished, not to step 1.
    expect_step(page, "pain")
    expect(page.get_by_text("Welcome back.")).to_be_visible()
    expect(page.locator('input[name="pain_score"][value="7"]')).to_be_checked()
    page.get_by_role("button", name="Back").click()
    page.get_by_role("button", name="Back").click()
    expect_step(page, "about")
    expect(page.get_by_text("Welcome back.")).to_have_count(0)
    expect(page.get_by_label("First name")).to_have_value(ABOUT["first_name"])
    born = page.get_by_role("group", name="Date of birth")
    expect(born.get_by_label("Year")).to_have_value(ABOUT["date_of_birth"][:4])
    press_forward(page)
    press_forward(page)  # legs, as answered before
    expect_step(page, "pain")

    complete_step(page, "pain", PAIN, "warning-signs")
    complete_step(page, "warning-signs", WARNING_SIGNS, "health")
    complete_step(page, "health", HEALTH, None)
    case = Case.objects.get()
    assert case.answers["pain_score"] == int(PAIN["pain_score"])
    assert case.answers["weak_side"] == LEGS["weak_side"]


def test_validation_errors_are_announced_and_take_the_focus(pages):
    page = pages.phone()
    page.goto("/intake/")
    fill_answers(page, {"first_name": ABOUT["first_name"], "phone": "call me"})
    press_forward(page)

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("role", "alert")
    assert focused(page)["id"] == "error-summary"
    expect(summary.get_by_role("link")).to_have_text(
        ["Last name", "Date of birth", "Phone number", re.compile("^I understand")]
    )
    # What was typed stays; each message is read out with its field.
    expect(page.get_by_label("First name")).to_have_value(ABOUT["first_name"])
    expect(page.get_by_label("Phone number")).to_have_value("call me")
    expect(page.get_by_label("Last name")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Last name")).to_have_accessible_description(
        re.compile("Please enter your last name")
    )
    expect(page.get_by_label("Phone number")).to_have_accessible_description(
        re.compile("Please enter a phone number using digits")
    )
    # Colour is never the only sign of a problem: every red field has its message.
    for field in page.locator("[aria-invalid=true]").all():
        error_ids = [i for i in field.get_attribute("aria-describedby").split() if "error" in i]
        assert error_ids and page.locator(f"#{error_ids[0]}").inner_text().strip()
    assert horizontal_overflow(page) == 0
    pages.shot(page, "about-errors")

    # From the summary, the keyboard goes straight to the first problem.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Last name")).to_be_focused()

    # A red-flag question left unanswered is an error, never a silent "no".
    complete_step(page, "about", ABOUT, "legs")
    complete_step(page, "legs", LEGS, "pain")
    complete_step(page, "pain", PAIN, "warning-signs")
    fill_answers(page, {**WARNING_SIGNS, "saddle_numbness": ""})
    press_forward(page)
    expect_step(page, "warning-signs")
    assert focused(page)["id"] == "error-summary"
    question = page.get_by_role("group", name=re.compile("odd feeling between your legs"))
    expect(question).to_have_accessible_description(re.compile("Please answer this question"))
    expect(page.locator('input[name="bladder_retention"][value="no"]')).to_be_checked()


def test_questionnaire_works_without_javascript(pages):
    page = pages.phone(java_script_enabled=False)
    page.goto("/intake/")
    press_forward(page)
    expect(page.locator("#error-summary")).to_have_attribute("role", "alert")
    complete_step(page, "about", ABOUT, "legs")

    # Without the script the follow-up questions wait until an answer asks them.
    how_fast = page.get_by_role("group", name=re.compile("how fast did the weakness", re.I))
    expect(how_fast).to_be_hidden()
    neither = {**LEGS, "weak_side": "neither", "weakness_onset": "", "weakness_trend": ""}
    complete_step(page, "legs", neither, "pain")
    complete_step(page, "pain", PAIN, "warning-signs")

    # The instant warning needs the script; without it the next page warns.
    fill_answers(page, {**WARNING_SIGNS, "bladder_retention": "yes"})
    expect(page.locator("#emergency-advice-live")).to_be_hidden()
    press_forward(page)
    expect_step(page, "health")
    advice = page.get_by_role("alert").filter(has_text="Please get emergency care now")
    expect(advice).to_be_visible()
    expect(advice).to_contain_text("Go to an emergency department now")

    fill_answers(page, HEALTH)
    press_forward(page)
    expect(page.locator("h1")).to_have_text(CHECK_TITLE)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.locator("h1")).to_have_text(re.compile("^Thank you"))
    expect(page.get_by_role("alert")).to_contain_text("Go to an emergency department now")
    case = Case.objects.get(reference=case_reference(page))
    assert case.tier == "emergency"
    assert "weakness_onset" not in case.answers
