"""The live emergency advice follows the version-2 rules, not a list of single answers.

The page's script evaluates the emergency rules the server sends (already
applied to the answers on the other pages): combinations of answers on one
page, and answers that only matter with what was said earlier.
"""

import pytest

from tests.browser.helpers import complete_step, expect, fill_answers
from tests.intake.questionnaire import ABOUT, HEALTH, LEGS, PAIN, WARNING_SIGNS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_both_legs_weakening_shows_the_advice_only_for_the_combination_the_rules_name(pages):
    patient = pages.phone()
    patient.goto("/intake/")
    complete_step(patient, "about", {**ABOUT, "last_name": "Browser-Both-Legs"}, "legs")
    live_advice = patient.locator("#emergency-advice-live")

    # Both legs weak over weeks and staying the same: not an emergency.
    fill_answers(
        patient, {**LEGS, "weak_side": "both", "weakness_onset": "weeks", "weakness_trend": "same"}
    )
    expect(live_advice).to_be_hidden()
    # Getting worse: an emergency (GIRFT: progressive weakness of both legs).
    fill_answers(patient, {"weakness_trend": "worse"})
    expect(live_advice).to_be_visible()
    expect(live_advice).to_contain_text("Go to an emergency department now")
    # Back to the same, but the toes catch (foot drop): an emergency again.
    fill_answers(patient, {"weakness_trend": "same", "foot_lift_difficulty": "yes"})
    expect(live_advice).to_be_visible()
    # One leg only: not this rule.
    fill_answers(patient, {"weak_side": "left"})
    expect(live_advice).to_be_hidden()


def test_falls_is_asked_only_when_a_leg_has_given_way(pages):
    patient = pages.phone()
    patient.goto("/intake/")
    complete_step(patient, "about", {**ABOUT, "last_name": "Browser-Falls"}, "legs")
    falls = patient.locator("#div_id_falls")

    fill_answers(patient, {"leg_gives_way": "no"})
    expect(falls).to_be_hidden()
    fill_answers(patient, {"leg_gives_way": "unsure"})
    expect(falls).to_be_visible()
    fill_answers(patient, {"leg_gives_way": "yes"})
    expect(falls).to_be_visible()


def test_cancer_after_a_numb_leg_shows_the_advice_on_the_last_page(pages):
    patient = pages.phone()
    patient.goto("/intake/")
    complete_step(patient, "about", {**ABOUT, "last_name": "Browser-Cancer"}, "legs")
    no_weak_leg = {
        code: value
        for code, value in LEGS.items()
        if code not in ("weakness_onset", "weakness_trend")
    }
    complete_step(patient, "legs", {**no_weak_leg, "weak_side": "neither"}, "pain")
    complete_step(patient, "pain", {**PAIN, "leg_numbness": "yes"}, "warning-signs")
    complete_step(patient, "warning-signs", WARNING_SIGNS, "health")
    live_advice = patient.locator("#emergency-advice-live")
    fill_answers(patient, HEALTH)
    expect(live_advice).to_be_hidden()

    # NICE: cancer with sensory loss in a leg: contact the MSCC team immediately.
    fill_answers(patient, {"cancer_history": "yes"})
    expect(live_advice).to_be_visible()
    fill_answers(patient, {"cancer_history": "no"})
    expect(live_advice).to_be_hidden()
