"""Issue 19 in a real browser, on a phone, in English and Spanish, with and without JavaScript.

Checking the answers before sending them, coming back where one left off,
dates that cannot be misread, text limits that never cut a word, the
language switch in place, questions that are asked only when they apply,
clearing answers only when the patient confirms, numbers a phone can call.
(Contrast and tap sizes are measured in test_controls.py; tablets in test_tablet.py.)
"""

import re

import pytest

from intake.models import Case
from tests.browser.helpers import (
    CHECK_TITLE,
    answer_step,
    complete_step,
    expect,
    expect_step,
    fill_answers,
    horizontal_overflow,
    press_forward,
)
from tests.intake.questionnaire import ABOUT, HEALTH, LEGS, PAIN, WARNING_SIGNS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

JAVASCRIPT = pytest.mark.parametrize(
    "javascript", [True, False], ids=["with-javascript", "without-javascript"]
)


def in_spanish(page) -> None:
    """Choose Español on the landing page, as a patient would."""
    page.goto("/")
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")


def type_date(page, name: str, day: str, month: str, year: str) -> None:
    for part, value in (("day", day), ("month", month), ("year", year)):
        page.locator(f'[name="{name}_{part}"]').fill(value)


def to_the_check_page(page) -> None:
    page.goto("/intake/")
    complete_step(page, "about", ABOUT, "legs")
    complete_step(page, "legs", LEGS, "pain")
    complete_step(page, "pain", PAIN, "warning-signs")
    complete_step(page, "warning-signs", WARNING_SIGNS, "health")
    fill_answers(page, HEALTH)
    press_forward(page)
    expect(page.locator("h1")).to_have_text(CHECK_TITLE)


@JAVASCRIPT
def test_patient_checks_changes_and_sends_their_answers(pages, javascript):
    page = pages.phone(java_script_enabled=javascript)
    to_the_check_page(page)
    assert horizontal_overflow(page) == 0
    pages.shot(page, "check-your-answers")

    # Every answer in words, under its question; dates with the month's name.
    legs = page.locator("dl").nth(1)
    weak = legs.locator(".check-answers-row").filter(has_text="Which leg feels weak?")
    expect(weak.locator("dd").first).to_have_text("My left leg")
    expect(page.locator(".check-answers-row").filter(has_text="Date of birth")).to_contain_text(
        "2 April 1958"
    )
    expect(page.get_by_text("I understand that nobody watches")).to_have_count(0)
    assert Case.objects.count() == 0  # nothing is sent before "Send my answers"

    # "Change" opens the question, and saving comes straight back here.
    weak.get_by_role("link", name=re.compile("^Change")).click()
    expect_step(page, "legs")
    page.locator('input[name="weak_side"][value="right"]').check()
    page.get_by_role("button", name="Save and go back to your answers").click()
    expect(page.locator("h1")).to_have_text(CHECK_TITLE)
    expect(weak.locator("dd").first).to_have_text("My right leg")

    page.get_by_role("button", name="Send my answers").click()
    expect(page.locator("h1")).to_have_text("Thank you. We have your answers.")
    assert Case.objects.get().answers["weak_side"] == "right"
    # Sent once: Back and Send again show the same case, never a second one.
    page.go_back()
    if page.get_by_role("button", name="Send my answers").count():
        page.get_by_role("button", name="Send my answers").click()
    assert Case.objects.count() == 1


@JAVASCRIPT
@pytest.mark.parametrize(
    ("language", "month", "born_in_words"),
    [("en", "4", "5 April 1951"), ("es", "abril", "5 de abril de 1951")],
)
def test_a_date_of_birth_means_one_day_in_either_language(
    pages, javascript, language, month, born_in_words
):
    page = pages.phone(java_script_enabled=javascript)
    if language == "es":
        in_spanish(page)
    page.goto("/intake/")
    about = {**ABOUT, "date_of_birth": ""}
    fill_answers(page, about)
    # A month that does not exist is a clear message, not a guess.
    type_date(page, "date_of_birth", "5", "13", "1951")
    press_forward(page)
    expect(page.locator("#error-summary")).to_contain_text(
        "1 to 12" if language == "en" else "del 1 al 12"
    )
    type_date(page, "date_of_birth", "5", month, "1951")
    press_forward(page)
    expect_step_number(page, 2)

    for answers in (LEGS, PAIN, WARNING_SIGNS, HEALTH):
        answer_step(page, answers)
    expect(page.locator(".check-answers-row").first).to_be_visible()
    born = page.locator(".check-answers-row").nth(2)
    expect(born.locator("dd").first).to_have_text(born_in_words)
    page.locator('form[action="/intake/check/"] button[type="submit"]').click()
    patient = Case.objects.select_related("patient").get().patient
    assert str(patient.date_of_birth) == "1951-04-05"


def expect_step_number(page, number: int) -> None:
    expect(page.locator("#progress-text")).to_contain_text(str(number))


@JAVASCRIPT
def test_symptoms_start_may_be_only_a_month_and_year(pages, javascript):
    page = pages.phone(java_script_enabled=javascript)
    page.goto("/intake/")
    complete_step(page, "about", ABOUT, "legs")
    type_date(page, "symptoms_started", "", "January", "2026")
    complete_step(page, "legs", {**LEGS, "symptoms_started": ""}, "pain")
    for answers in (PAIN, WARNING_SIGNS, HEALTH):
        answer_step(page, answers)
    started = page.locator(".check-answers-row").filter(has_text="When did these leg problems")
    expect(started.locator("dd").first).to_have_text("January 2026")


@JAVASCRIPT
def test_a_long_note_is_counted_and_never_cut(pages, javascript):
    page = pages.phone(java_script_enabled=javascript)
    page.goto("/intake/")
    complete_step(page, "about", ABOUT, "legs")
    complete_step(page, "legs", LEGS, "pain")
    complete_step(page, "pain", PAIN, "warning-signs")
    complete_step(page, "warning-signs", WARNING_SIGNS, "health")
    notes = page.get_by_label("Is there anything else you want us to know? (optional)")
    expect(notes).to_have_accessible_description(re.compile("You can write up to 2,000 characters"))
    long_note = ("My leg gives way on the stairs. " * 70).strip()  # 2,239 characters
    fill_answers(page, {**HEALTH, "other_notes": ""})
    notes.fill(long_note)
    assert len(notes.input_value()) == len(long_note)  # the browser cut nothing
    if javascript:
        expect(page.locator("#id_other_notes_count")).to_have_text(
            "You have 239 characters too many.", timeout=5_000
        )
    press_forward(page)
    expect_step(page, "health")
    expect(page.locator("#error-summary")).to_contain_text(
        "This is too long. Please make it 2,000 characters or fewer. It has 2,239 now."
    )
    expect(notes).to_have_value(long_note)  # nothing lost
    if not javascript:
        expect(notes).to_have_accessible_description(re.compile("239 characters too many"))
    notes.fill(long_note[:1990])
    press_forward(page)
    expect(page.locator("h1")).to_have_text(CHECK_TITLE)


@JAVASCRIPT
def test_the_header_switches_language_in_place_keeping_typed_answers(pages, javascript):
    page = pages.phone(java_script_enabled=javascript)
    page.goto("/intake/")
    # A new patient who switches on step 1 is not welcomed "back".
    page.get_by_label("First name").fill("Zoë")
    page.locator("header").get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("h1")).to_have_text("Sobre usted")
    expect(page.locator('[name="first_name"]')).to_have_value("Zoë")
    expect(page.locator(".welcome-back")).to_have_count(0)

    fill_answers(page, ABOUT)
    press_forward(page)
    expect(page.locator("h1")).to_have_text("Sus piernas")
    fill_answers(page, {"weak_side": "both", "leg_gives_way": "unsure"})
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("header").get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Your legs")
    assert page.evaluate("window.scrollY") == 0, "the page opened scrolled down"
    assert "#" not in page.url
    expect(page.locator('input[name="weak_side"][value="both"]')).to_be_checked()
    expect(page.locator('input[name="leg_gives_way"][value="unsure"]')).to_be_checked()
    expect(page.locator(".welcome-back")).to_have_count(0)
    # The answers asked only for "unsure" are on the page, as the answers ask them.
    falls = page.get_by_role("group", name="Have you fallen because a leg gave way?")
    expect(falls).to_be_visible()


@JAVASCRIPT
def test_questions_that_do_not_apply_are_not_asked(pages, javascript):
    page = pages.phone(java_script_enabled=javascript)
    page.goto("/intake/")
    complete_step(page, "about", ABOUT, "legs")
    falls = page.get_by_role("group", name="Have you fallen because a leg gave way?")
    how_fast = page.get_by_role("group", name="How fast did the weakness come on?")
    expect(falls).to_be_hidden()
    expect(how_fast).to_be_hidden()
    page.locator('input[name="leg_gives_way"][value="yes"]').check()
    page.locator('input[name="weak_side"][value="left"]').check()
    if javascript:
        expect(falls).to_be_visible()
        expect(how_fast).to_be_visible()
        page.locator('input[name="leg_gives_way"][value="no"]').check()
        expect(falls).to_be_hidden()
    else:
        # Without the script the page asks them once it knows they apply.
        fill_answers(page, {**LEGS, "leg_gives_way": "yes", "weakness_onset": ""})
        fill_answers(page, {"weakness_trend": ""})
        press_forward(page)
        expect(falls).to_be_visible()
        expect(how_fast).to_be_visible()
    # The pain scale has words at both ends.
    fill_answers(page, {**LEGS, "leg_gives_way": "no"})
    press_forward(page)
    expect_step(page, "pain")
    words = page.locator(".pain-scale-words")
    expect(words.get_by_text("0: no pain")).to_be_visible()
    expect(words.get_by_text("10: the worst pain you can imagine")).to_be_visible()


def test_clearing_answers_asks_first_and_then_forgets_them(pages):
    page = pages.phone()
    page.goto("/intake/")
    complete_step(page, "about", ABOUT, "legs")
    page.goto("/intake/")
    expect_step(page, "legs")
    page.get_by_role("link", name="Clear my answers and start again").click()
    expect(page.locator("h1")).to_have_text("Clear your answers?")
    page.get_by_role("link", name="No, keep my answers").click()
    expect_step(page, "legs")

    page.get_by_role("link", name="Clear my answers and start again").click()
    page.get_by_role("button", name="Yes, clear my answers").click()
    expect_step(page, "about")
    expect(page.get_by_label("First name")).to_have_value("")
    expect(page.get_by_text(ABOUT["first_name"])).to_have_count(0)


def test_phone_numbers_are_tap_to_call_and_never_break(pages):
    page = pages.phone()
    page.goto("/intake/")
    for link in page.locator("footer a[href^='tel:']").all():
        assert link.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    expect(page.locator("footer a[href='tel:5550100']")).to_have_text("555-0100")
    expect(page.locator("footer a[href='tel:911']")).to_have_text("911")
