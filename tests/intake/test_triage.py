"""Tests for the pure triage rules (SPEC "Triage (rules version 2)" and "The red-flag queue").

The expected flags, tiers, their order, the soon/routine rule and the queue
priorities are written out here from the SPEC rather than read from
``intake.triage``, so a wrong table in the module fails a test. ``spec_flags``
below is the SPEC's red-flag table transcribed row by row in plain Python; the
property tests compare ``assess`` with it over generated answers.
"""

import dataclasses
import datetime
import json
from types import MappingProxyType

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from intake import triage
from intake.forms import STEPS
from intake.triage import (
    CES_CODES,
    EMERGENCY,
    FLAG_ANSWERS,
    FLAG_LABELS,
    FLAG_ORDER,
    FLAG_TIERS,
    NO,
    PRIORITY_EMERGENCY,
    PRIORITY_ROUTINE,
    PRIORITY_SADDLE_AND_BLADDER,
    PRIORITY_SADDLE_OR_BLADDER,
    PRIORITY_SOON,
    PRIORITY_URGENT,
    QUEUE_TIERS,
    ROUTINE,
    SOON,
    TIERS,
    UNSURE,
    URGENT,
    YES,
    Assessment,
    assess,
    emergency_conditions_for_step,
    flag_label,
    tier_is_higher,
)

# --- the SPEC, written out --------------------------------------------------

# The SPEC's red-flag table (rules version 2), in its order.
SPEC_FLAG_TIERS = {
    "saddle_numbness": "emergency",
    "bladder": "emergency",
    "bowel": "emergency",
    "bilateral_weakness": "emergency",
    "cancer_weakness": "emergency",
    "infection_weakness": "emergency",
    "sexual": "urgent",
    "ces_unsure": "urgent",
    "progressive_weakness": "urgent",
    "bilateral_leg_pain": "urgent",
    "infection": "urgent",
    "malignancy": "urgent",
    "fracture_risk": "urgent",
    "trauma": "urgent",
    "foot_drop": "urgent",
}
SPEC_TIERS = ("emergency", "urgent", "soon", "routine")  # most urgent first
SPEC_CES_CODES = (
    "saddle_numbness",
    "bladder_retention",
    "bladder_sensation",
    "bladder_stream",
    "bladder_incontinence",
    "bowel_incontinence",
    "sexual_dysfunction",
)
BLADDER_CODES = SPEC_CES_CODES[1:5]
# "unsure" to the sexual function question is "prefer not to say".
CES_UNSURE_CODES = SPEC_CES_CODES[:6]
SIDES = ("left", "right", "both")
LEG_WEAKNESS_YES_CODES = ("leg_gives_way", "falls", "foot_lift_difficulty", "leg_lift_difficulty")
# Without red flags, any of these = yes (or weak_side = both) makes a case soon.
SOON_YES_CODES = ("leg_gives_way", "falls", "balance_problems", "leg_lift_difficulty", "night_pain")

# The questionnaire's codes and value domains (SPEC "The questionnaire").
YES_NO_UNSURE_CODES = (*SPEC_CES_CODES, "leg_gives_way", "diabetes", "osteoporosis")
YES_NO_CODES = (
    "falls",
    "foot_lift_difficulty",
    "leg_lift_difficulty",
    "balance_problems",
    "back_pain",
    "pain_both_legs",
    "leg_numbness",
    "feet_numbness",
    "burning_pain",
    "walking_pain",
    "night_pain",
    "cancer_history",
    "weight_loss",
    "fever",
    "infection_risk",
    "recent_trauma",
    "steroid_use",
    "statin_use",
    "recent_illness",
)
CHOICES = {
    "weak_side": ("left", "right", "both", "neither"),
    "weakness_onset": ("hours", "days", "weeks"),
    "weakness_trend": ("worse", "same", "better"),
    "pain_pattern": ("back_of_leg", "front_of_thigh", "buttock", "none", "other"),
}
ANSWER_CODES = (*YES_NO_UNSURE_CODES, *YES_NO_CODES, *CHOICES)


def spec_priority(tier: str, flags: tuple[str, ...]) -> int:
    """The queue order from the SPEC, as literal numbers."""
    saddle_or_bladder = {"saddle_numbness", "bladder"} & set(flags)
    if len(saddle_or_bladder) == 2:
        return 10
    if saddle_or_bladder:
        return 20
    return {"emergency": 30, "urgent": 40, "soon": 50, "routine": 60}[tier]


def urgency(tier: str) -> int:
    """0 for emergency ... 3 for routine: a lower number is more urgent."""
    return SPEC_TIERS.index(tier)


def _said(answers, code):
    value = answers.get(code)
    return value.strip().lower() if isinstance(value, str) else None


def _yes(answers, code):
    return _said(answers, code) == "yes"


def spec_flags(answers) -> tuple[str, ...]:
    """The SPEC's red-flag table, row by row, for answers from the questionnaire.

    Only for the SPEC's value domains (``age`` a whole number or missing); the
    tests of junk values compare ``assess`` with itself instead.
    """
    side = _said(answers, "weak_side")
    weak_side = side if side in SIDES else "neither"  # not asked is neither
    age = answers.get("age")
    age = age if isinstance(age, int) and not isinstance(age, bool) and age >= 0 else None
    leg_weakness = weak_side != "neither" or any(
        _yes(answers, code) for code in LEG_WEAKNESS_YES_CODES
    )
    new_or_worsening_weakness = weak_side != "neither" and (
        _said(answers, "weakness_onset") in ("hours", "days")
        or _said(answers, "weakness_trend") == "worse"
    )
    any_cauda_equina_yes = any(_yes(answers, code) for code in SPEC_CES_CODES)
    infection_sign = _yes(answers, "fever") or _yes(answers, "infection_risk")
    back_pain = _yes(answers, "back_pain")
    rows = {
        "saddle_numbness": _yes(answers, "saddle_numbness"),
        "bladder": any(_yes(answers, code) for code in BLADDER_CODES),
        "bowel": _yes(answers, "bowel_incontinence"),
        "bilateral_weakness": weak_side == "both"
        and (
            _said(answers, "weakness_onset") in ("hours", "days")
            or _said(answers, "weakness_trend") == "worse"
            or _yes(answers, "foot_lift_difficulty")
        ),
        "cancer_weakness": _yes(answers, "cancer_history")
        and (
            leg_weakness
            or _yes(answers, "balance_problems")
            or _yes(answers, "leg_numbness")
            or _said(answers, "pain_pattern") in ("back_of_leg", "front_of_thigh")
            or _yes(answers, "pain_both_legs")
            or any_cauda_equina_yes
        ),
        "infection_weakness": infection_sign and new_or_worsening_weakness,
        "sexual": _yes(answers, "sexual_dysfunction"),
        "ces_unsure": any(_said(answers, code) == "unsure" for code in CES_UNSURE_CODES),
        "progressive_weakness": weak_side != "neither"
        and _said(answers, "weakness_trend") == "worse",
        "bilateral_leg_pain": _yes(answers, "pain_both_legs"),
        "infection": infection_sign and back_pain,
        "malignancy": back_pain
        and (
            _yes(answers, "cancer_history")
            or _yes(answers, "weight_loss")
            or (_yes(answers, "night_pain") and age is not None and age >= 50)
        ),
        "fracture_risk": back_pain
        and _yes(answers, "recent_trauma")
        and (
            (age is not None and age >= 70)
            or _yes(answers, "osteoporosis")
            or _yes(answers, "steroid_use")
        ),
        "trauma": _yes(answers, "recent_trauma") and leg_weakness,
        "foot_drop": _yes(answers, "foot_lift_difficulty"),
    }
    assert tuple(rows) == tuple(SPEC_FLAG_TIERS)
    return tuple(flag for flag, raised in rows.items() if raised)


def spec_tier(answers) -> str:
    flags = spec_flags(answers)
    if flags:
        return min((SPEC_FLAG_TIERS[flag] for flag in flags), key=urgency)
    side = _said(answers, "weak_side")
    if side == "both" or any(_yes(answers, code) for code in SOON_YES_CODES):
        return "soon"
    return "routine"


def assert_consistent(result: Assessment) -> None:
    """What holds for every assessment, whatever the answers."""
    assert result.tier in SPEC_TIERS
    assert set(result.flags) <= set(SPEC_FLAG_TIERS)
    assert list(result.flags) == sorted(set(result.flags), key=list(SPEC_FLAG_TIERS).index)
    if result.flags:
        assert result.tier == min((SPEC_FLAG_TIERS[f] for f in result.flags), key=urgency)
        assert len(result.reasons) == len(result.flags)
    else:
        assert result.tier in ("soon", "routine")
        assert result.reasons
    assert all(isinstance(reason, str) and reason.strip() for reason in result.reasons)
    assert result.priority == spec_priority(result.tier, result.flags)
    assert result.rules_version == 2


# --- the public constants ---------------------------------------------------


def test_rules_version_is_2_and_every_assessment_carries_it():
    assert triage.RULES_VERSION == 2
    assert assess({}).rules_version == 2
    assert assess({"saddle_numbness": "yes"}).rules_version == 2


def test_flag_order_and_tiers_are_the_spec_version_2_table():
    assert tuple(SPEC_FLAG_TIERS) == FLAG_ORDER
    assert FLAG_TIERS == SPEC_FLAG_TIERS
    assert triage.EMERGENCY_FLAGS == (
        "saddle_numbness",
        "bladder",
        "bowel",
        "bilateral_weakness",
        "cancer_weakness",
        "infection_weakness",
    )


def test_tier_and_answer_constants():
    assert (EMERGENCY, URGENT, SOON, ROUTINE) == ("emergency", "urgent", "soon", "routine")
    assert TIERS == SPEC_TIERS
    assert QUEUE_TIERS == ("emergency", "urgent")
    assert (YES, NO, UNSURE) == ("yes", "no", "unsure")
    assert CES_CODES == SPEC_CES_CODES
    assert triage.BLADDER_CODES == BLADDER_CODES
    assert triage.CES_UNSURE_CODES == CES_UNSURE_CODES


def test_priorities_put_the_queue_groups_in_spec_order():
    assert [
        PRIORITY_SADDLE_AND_BLADDER,
        PRIORITY_SADDLE_OR_BLADDER,
        PRIORITY_EMERGENCY,
        PRIORITY_URGENT,
        PRIORITY_SOON,
        PRIORITY_ROUTINE,
    ] == [10, 20, 30, 40, 50, 60]


def test_the_warning_signs_step_asks_exactly_the_cauda_equina_questions():
    # "any cauda equina yes" is any question of the warning-signs step.
    (step,) = (step for step in STEPS if step.slug == "warning-signs")
    assert tuple(step.form_class.base_fields) == SPEC_CES_CODES


# --- each flag, each branch -------------------------------------------------

# Smallest answers that raise exactly one flag, one case per branch of each OR.
ONE_FLAG_CASES = [
    pytest.param("saddle_numbness", {"saddle_numbness": "yes"}, id="saddle_numbness"),
    *(pytest.param("bladder", {code: "yes"}, id=f"bladder-{code}") for code in BLADDER_CODES),
    pytest.param("bowel", {"bowel_incontinence": "yes"}, id="bowel"),
    *(
        pytest.param(
            "bilateral_weakness",
            {"weak_side": "both", "weakness_onset": onset},
            id=f"bilateral_weakness-onset-{onset}",
        )
        for onset in ("hours", "days")
    ),
    *(
        pytest.param(
            "cancer_weakness",
            {"cancer_history": "yes", **trigger},
            id=f"cancer_weakness-{'-'.join(f'{k}-{v}' for k, v in trigger.items())}",
        )
        for trigger in (
            *({"weak_side": side} for side in SIDES),
            {"leg_gives_way": "yes"},
            {"falls": "yes"},
            {"leg_lift_difficulty": "yes"},
            {"balance_problems": "yes"},
            {"leg_numbness": "yes"},
            {"pain_pattern": "back_of_leg"},
            {"pain_pattern": "front_of_thigh"},
        )
    ),
    *(
        pytest.param(
            "infection_weakness",
            {sign: "yes", "weak_side": side, "weakness_onset": onset},
            id=f"infection_weakness-{sign}-{side}-{onset}",
        )
        for sign in ("fever", "infection_risk")
        for side in ("left", "right")
        for onset in ("hours", "days")
    ),
    pytest.param("sexual", {"sexual_dysfunction": "yes"}, id="sexual"),
    *(
        pytest.param("ces_unsure", {code: "unsure"}, id=f"ces_unsure-{code}")
        for code in CES_UNSURE_CODES
    ),
    *(
        pytest.param(
            "progressive_weakness",
            {"weak_side": side, "weakness_trend": "worse"},
            id=f"progressive_weakness-{side}",
        )
        for side in ("left", "right")
    ),
    pytest.param("bilateral_leg_pain", {"pain_both_legs": "yes"}, id="bilateral_leg_pain"),
    *(
        pytest.param("infection", {sign: "yes", "back_pain": "yes"}, id=f"infection-{sign}")
        for sign in ("fever", "infection_risk")
    ),
    *(
        pytest.param("malignancy", {sign: "yes", "back_pain": "yes"}, id=f"malignancy-{sign}")
        for sign in ("cancer_history", "weight_loss")
    ),
    *(
        pytest.param(
            "malignancy",
            {"night_pain": "yes", "back_pain": "yes", "age": age},
            id=f"malignancy-night_pain-age-{age}",
        )
        for age in (50, 51, 120)
    ),
    *(
        pytest.param(
            "fracture_risk",
            {"back_pain": "yes", "recent_trauma": "yes", **risk},
            id=f"fracture_risk-{'-'.join(f'{k}-{v}' for k, v in risk.items())}",
        )
        for risk in ({"age": 70}, {"age": 95}, {"osteoporosis": "yes"}, {"steroid_use": "yes"})
    ),
    *(
        pytest.param(
            "trauma",
            {"recent_trauma": "yes", **weakness},
            id=f"trauma-{'-'.join(f'{k}-{v}' for k, v in weakness.items())}",
        )
        for weakness in (
            *({"weak_side": side} for side in SIDES),
            {"leg_gives_way": "yes"},
            {"falls": "yes"},
            {"leg_lift_difficulty": "yes"},
        )
    ),
    pytest.param("foot_drop", {"foot_lift_difficulty": "yes"}, id="foot_drop"),
]


def test_every_flag_has_a_single_flag_case():
    covered = {param.values[0] for param in ONE_FLAG_CASES}
    assert covered == set(SPEC_FLAG_TIERS)


@pytest.mark.parametrize(("flag", "answers"), ONE_FLAG_CASES)
def test_each_flag_alone_gets_its_spec_tier_priority_and_one_reason(flag, answers):
    result = assess(answers)

    assert result.flags == (flag,)
    assert result.tier == SPEC_FLAG_TIERS[flag]
    assert result.priority == spec_priority(result.tier, result.flags)
    assert len(result.reasons) == 1
    reason = result.reasons[0]
    assert reason[0].isupper()
    assert reason.endswith(".")


# Branches of a row that also raise another row by definition, with all flags.
OVERLAPPING_BRANCHES = [
    pytest.param(
        {"weak_side": "both", "weakness_trend": "worse"},
        ("bilateral_weakness", "progressive_weakness"),
        id="bilateral_weakness-trend-worse",
    ),
    pytest.param(
        {"weak_side": "both", "foot_lift_difficulty": "yes"},
        ("bilateral_weakness", "foot_drop"),
        id="bilateral_weakness-foot_lift_difficulty",
    ),
    pytest.param(
        {"cancer_history": "yes", "foot_lift_difficulty": "yes"},
        ("cancer_weakness", "foot_drop"),
        id="cancer_weakness-foot_lift_difficulty",
    ),
    pytest.param(
        {"cancer_history": "yes", "pain_both_legs": "yes"},
        ("cancer_weakness", "bilateral_leg_pain"),
        id="cancer_weakness-pain_both_legs",
    ),
    pytest.param(
        {"cancer_history": "yes", "saddle_numbness": "yes"},
        ("saddle_numbness", "cancer_weakness"),
        id="cancer_weakness-saddle_numbness",
    ),
    *(
        pytest.param(
            {"cancer_history": "yes", code: "yes"},
            ("bladder", "cancer_weakness"),
            id=f"cancer_weakness-{code}",
        )
        for code in BLADDER_CODES
    ),
    pytest.param(
        {"cancer_history": "yes", "bowel_incontinence": "yes"},
        ("bowel", "cancer_weakness"),
        id="cancer_weakness-bowel_incontinence",
    ),
    pytest.param(
        {"cancer_history": "yes", "sexual_dysfunction": "yes"},
        ("cancer_weakness", "sexual"),
        id="cancer_weakness-sexual_dysfunction",
    ),
    *(
        pytest.param(
            {sign: "yes", "weak_side": "both", "weakness_onset": "hours"},
            ("bilateral_weakness", "infection_weakness"),
            id=f"infection_weakness-{sign}-both-hours",
        )
        for sign in ("fever", "infection_risk")
    ),
    *(
        pytest.param(
            {sign: "yes", "weak_side": side, "weakness_trend": "worse"},
            ("infection_weakness", "progressive_weakness"),
            id=f"infection_weakness-{sign}-{side}-worse",
        )
        for sign in ("fever", "infection_risk")
        for side in ("left", "right")
    ),
    pytest.param(
        {"weak_side": "both", "weakness_trend": "worse", "weakness_onset": "weeks"},
        ("bilateral_weakness", "progressive_weakness"),
        id="progressive_weakness-both",
    ),
    pytest.param(
        {"recent_trauma": "yes", "foot_lift_difficulty": "yes"},
        ("trauma", "foot_drop"),
        id="trauma-foot_lift_difficulty",
    ),
]


@pytest.mark.parametrize(("answers", "flags"), OVERLAPPING_BRANCHES)
def test_branches_that_overlap_another_row_raise_both_flags_in_table_order(answers, flags):
    result = assess(answers)

    assert result.flags == flags
    assert result.tier == min((SPEC_FLAG_TIERS[flag] for flag in flags), key=urgency)
    assert len(result.reasons) == len(flags)


@pytest.mark.parametrize("code", SPEC_CES_CODES)
def test_cancer_with_any_cauda_equina_yes_is_cancer_weakness(code):
    assert "cancer_weakness" in assess({"cancer_history": "yes", code: "yes"}).flags
    assert "cancer_weakness" not in assess({"cancer_history": "no", code: "yes"}).flags


@pytest.mark.parametrize("pattern", ["buttock", "other", "none", "", "sideways"])
def test_cancer_with_buttock_or_other_pain_pattern_is_not_cancer_weakness(pattern):
    result = assess({"cancer_history": "yes", "pain_pattern": pattern})

    assert result.flags == ()
    assert result.tier == ROUTINE


@pytest.mark.parametrize("code", ["feet_numbness", "burning_pain", "walking_pain", "diabetes"])
def test_cancer_with_nerve_symptoms_outside_the_row_is_not_cancer_weakness(code):
    assert assess({"cancer_history": "yes", code: "yes"}).flags == ()


# Answers that come close to a flag but raise none, with the tier they get.
NEAR_MISSES = [
    pytest.param({"weak_side": "both", "weakness_onset": "weeks"}, SOON, id="both-weak-over-weeks"),
    pytest.param({"weak_side": "both"}, SOON, id="both-weak-onset-not-asked"),
    *(
        pytest.param(
            {
                "weak_side": "both",
                "weakness_onset": "weeks",
                "weakness_trend": trend,
                "foot_lift_difficulty": "no",
            },
            SOON,
            id=f"both-weak-over-weeks-{trend}-foot-lifts",
        )
        for trend in ("same", "better")
    ),
    pytest.param({"weak_side": "left", "weakness_onset": "hours"}, ROUTINE, id="one-leg-fast"),
    pytest.param({"weak_side": "neither", "weakness_onset": "hours"}, ROUTINE, id="no-leg-fast"),
    pytest.param({"weak_side": "left", "foot_lift_difficulty": "no"}, ROUTINE, id="one-leg-lifts"),
    pytest.param({"cancer_history": "yes", "weak_side": "neither"}, ROUTINE, id="cancer-no-weak"),
    pytest.param({"cancer_history": "yes"}, ROUTINE, id="cancer-weak-side-not-asked"),
    pytest.param({"cancer_history": "no", "weak_side": "left"}, ROUTINE, id="weak-no-cancer"),
    pytest.param(
        {"cancer_history": "no", "leg_numbness": "yes", "pain_pattern": "back_of_leg"},
        ROUTINE,
        id="sciatica-no-cancer",
    ),
    pytest.param({"sexual_dysfunction": "unsure"}, ROUTINE, id="sexual-prefer-not-to-say"),
    pytest.param({"weak_side": "neither", "weakness_trend": "worse"}, ROUTINE, id="worse-no-weak"),
    pytest.param({"weakness_trend": "worse"}, ROUTINE, id="worse-weak-side-not-asked"),
    pytest.param({"weak_side": "left", "weakness_trend": "same"}, ROUTINE, id="weak-same"),
    pytest.param({"weak_side": "right", "weakness_trend": "better"}, ROUTINE, id="weak-better"),
    pytest.param({"fever": "yes"}, ROUTINE, id="fever-back-pain-not-asked"),
    pytest.param({"fever": "yes", "back_pain": "no"}, ROUTINE, id="fever-no-back-pain"),
    pytest.param({"infection_risk": "yes", "back_pain": "no"}, ROUTINE, id="risk-no-back-pain"),
    pytest.param(
        {"fever": "yes", "weak_side": "left", "weakness_onset": "weeks", "weakness_trend": "same"},
        ROUTINE,
        id="fever-weak-slow-steady",
    ),
    pytest.param(
        {"fever": "yes", "weak_side": "neither", "weakness_onset": "hours"},
        ROUTINE,
        id="fever-fast-onset-no-weak-side",
    ),
    pytest.param(
        {"infection_risk": "yes", "leg_gives_way": "yes"},
        SOON,
        id="infection-risk-leg-gives-way-no-weak-side",
    ),
    pytest.param(
        {"fever": "no", "infection_risk": "no", "weak_side": "left", "weakness_onset": "hours"},
        ROUTINE,
        id="fast-weakness-no-infection-sign",
    ),
    pytest.param(
        {"back_pain": "yes", "fever": "no", "infection_risk": "no"}, ROUTINE, id="back-pain-only"
    ),
    pytest.param({"cancer_history": "yes", "back_pain": "no"}, ROUTINE, id="cancer-no-back-pain"),
    pytest.param({"weight_loss": "yes", "back_pain": "no"}, ROUTINE, id="weight-no-back-pain"),
    pytest.param(
        {"back_pain": "yes", "cancer_history": "no", "weight_loss": "no"},
        ROUTINE,
        id="back-pain-no-cancer-signs",
    ),
    pytest.param(
        {"night_pain": "yes", "back_pain": "no", "age": 80}, SOON, id="night-pain-80-no-back-pain"
    ),
    pytest.param(
        {"back_pain": "yes", "recent_trauma": "yes", "osteoporosis": "no", "steroid_use": "no"},
        ROUTINE,
        id="injury-back-pain-no-fracture-risk",
    ),
    pytest.param(
        {"recent_trauma": "yes", "osteoporosis": "yes", "age": 90},
        ROUTINE,
        id="injury-fracture-risk-no-back-pain",
    ),
    pytest.param(
        {"back_pain": "yes", "steroid_use": "yes", "age": 90},
        ROUTINE,
        id="back-pain-fracture-risk-no-injury",
    ),
    pytest.param({"recent_trauma": "yes", "weak_side": "neither"}, ROUTINE, id="injury-no-weak"),
    pytest.param({"recent_trauma": "yes"}, ROUTINE, id="injury-weak-side-not-asked"),
    pytest.param({"recent_trauma": "no", "weak_side": "right"}, ROUTINE, id="weak-no-injury"),
    pytest.param(
        {"recent_trauma": "yes", "balance_problems": "yes"}, SOON, id="injury-unsteady-not-weak"
    ),
    pytest.param({"foot_lift_difficulty": "no"}, ROUTINE, id="foot-lifts"),
    pytest.param({"pain_both_legs": "no"}, ROUTINE, id="pain-not-in-both-legs"),
    pytest.param(dict.fromkeys(SPEC_CES_CODES, "no"), ROUTINE, id="all-cauda-equina-no"),
]


@pytest.mark.parametrize(("answers", "tier"), NEAR_MISSES)
def test_near_misses_raise_no_flag(answers, tier):
    result = assess(answers)

    assert result.flags == ()
    assert result.tier == tier
    assert result.priority == (50 if tier == SOON else 60)


# --- the words the SPEC defines ---------------------------------------------

# "leg weakness": weak_side != neither, or any of these four = yes.
LEG_WEAKNESS_ANSWERS = [
    *({"weak_side": side} for side in SIDES),
    *({code: "yes"} for code in LEG_WEAKNESS_YES_CODES),
]
NOT_LEG_WEAKNESS_ANSWERS = [
    {},
    {"weak_side": "neither"},
    *({code: "no"} for code in LEG_WEAKNESS_YES_CODES),
    {"leg_gives_way": "unsure"},
    {"balance_problems": "yes"},
    {"leg_numbness": "yes"},
]


@pytest.mark.parametrize("weakness", LEG_WEAKNESS_ANSWERS, ids=str)
def test_each_kind_of_leg_weakness_with_an_injury_is_trauma(weakness):
    assert "trauma" in assess({"recent_trauma": "yes", **weakness}).flags


@pytest.mark.parametrize("weakness", LEG_WEAKNESS_ANSWERS, ids=str)
def test_each_kind_of_leg_weakness_with_cancer_is_cancer_weakness(weakness):
    result = assess({"cancer_history": "yes", **weakness})

    assert "cancer_weakness" in result.flags
    assert result.tier == EMERGENCY


@pytest.mark.parametrize("answers", NOT_LEG_WEAKNESS_ANSWERS, ids=str)
def test_answers_that_are_not_leg_weakness_with_an_injury_are_not_trauma(answers):
    assert "trauma" not in assess({"recent_trauma": "yes", **answers}).flags


# "new or worsening weakness": a weak side and (onset hours/days or trend worse).
@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize(
    "course",
    [{"weakness_onset": "hours"}, {"weakness_onset": "days"}, {"weakness_trend": "worse"}],
    ids=str,
)
@pytest.mark.parametrize("sign", ["fever", "infection_risk"])
def test_infection_sign_with_each_kind_of_new_or_worsening_weakness_is_an_emergency(
    sign, course, side
):
    result = assess({sign: "yes", "weak_side": side, **course})

    assert "infection_weakness" in result.flags
    assert result.tier == EMERGENCY


@pytest.mark.parametrize(
    "weakness",
    [
        {"weak_side": "left", "weakness_onset": "weeks"},
        {"weak_side": "right", "weakness_trend": "same"},
        {"weak_side": "both", "weakness_onset": "weeks", "weakness_trend": "better"},
        {"weak_side": "left"},
        {"weak_side": "neither", "weakness_onset": "hours", "weakness_trend": "worse"},
        {"weakness_onset": "days", "weakness_trend": "worse"},
        {"leg_gives_way": "yes", "weakness_onset": "hours"},
        {"foot_lift_difficulty": "yes", "weakness_trend": "worse"},
    ],
    ids=str,
)
def test_infection_sign_without_new_or_worsening_weakness_is_not_infection_weakness(weakness):
    result = assess({"fever": "yes", "infection_risk": "yes", **weakness})

    assert "infection_weakness" not in result.flags
    assert result.tier != EMERGENCY


# --- what changed in rules version 2 ----------------------------------------


def test_sexual_problems_alone_are_urgent_not_an_emergency():
    result = assess({"sexual_dysfunction": "yes"})

    assert result.flags == ("sexual",)
    assert result.tier == URGENT
    assert result.priority == 40


def test_sexual_problems_with_cancer_are_an_emergency():
    result = assess({"sexual_dysfunction": "yes", "cancer_history": "yes"})

    assert result.flags == ("cancer_weakness", "sexual")
    assert result.tier == EMERGENCY
    assert result.priority == 30


def test_fever_with_weakness_that_came_on_over_days_is_an_emergency():
    result = assess({"fever": "yes", "weak_side": "left", "weakness_onset": "days"})

    assert result.flags == ("infection_weakness",)
    assert result.tier == EMERGENCY


def test_new_or_worse_pain_down_both_legs_is_urgent_not_a_soon_reason():
    result = assess({"pain_both_legs": "yes"})

    assert result.flags == ("bilateral_leg_pain",)
    assert result.tier == URGENT
    assert result.priority == 40


@pytest.mark.parametrize(
    "risk", [{"age": 70}, {"osteoporosis": "yes"}, {"steroid_use": "yes"}], ids=str
)
def test_back_pain_after_an_injury_with_a_fracture_risk_is_urgent(risk):
    result = assess({"back_pain": "yes", "recent_trauma": "yes", **risk})

    assert result.flags == ("fracture_risk",)
    assert result.tier == URGENT


def test_both_legs_weak_and_getting_worse_over_weeks_is_an_emergency():
    result = assess({"weak_side": "both", "weakness_onset": "weeks", "weakness_trend": "worse"})

    assert result.flags[0] == "bilateral_weakness"
    assert result.tier == EMERGENCY


def test_both_legs_weak_over_weeks_with_foot_drop_is_an_emergency():
    result = assess({"weak_side": "both", "weakness_onset": "weeks", "foot_lift_difficulty": "yes"})

    assert result.flags == ("bilateral_weakness", "foot_drop")
    assert result.tier == EMERGENCY


def test_cancer_with_sciatica_and_numb_leg_without_back_pain_is_an_emergency():
    result = assess(
        {
            "cancer_history": "yes",
            "back_pain": "no",
            "pain_pattern": "back_of_leg",
            "leg_numbness": "yes",
            "weak_side": "neither",
        }
    )

    assert result.flags == ("cancer_weakness",)
    assert result.tier == EMERGENCY
    assert result.priority == 30


def test_cancer_with_unsteady_walking_is_an_emergency():
    result = assess({"cancer_history": "yes", "balance_problems": "yes"})

    assert result.flags == ("cancer_weakness",)
    assert result.tier == EMERGENCY


def test_injury_with_a_leg_that_gives_way_is_urgent_even_without_a_weak_side():
    result = assess({"recent_trauma": "yes", "leg_gives_way": "yes", "weak_side": "neither"})

    assert result.flags == ("trauma",)
    assert result.tier == URGENT


def test_back_pain_at_night_at_50_or_over_is_a_malignancy_flag():
    result = assess({"back_pain": "yes", "night_pain": "yes", "age": 50})

    assert result.flags == ("malignancy",)
    assert result.tier == URGENT


def test_night_pain_alone_is_a_soon_reason():
    result = assess({"night_pain": "yes"})

    assert result.flags == ()
    assert result.tier == SOON
    assert result.priority == 50


# --- age --------------------------------------------------------------------


@pytest.mark.parametrize(("age", "flags"), [(49, ()), (50, ("malignancy",)), (51, ("malignancy",))])
def test_night_back_pain_counts_for_malignancy_from_age_50(age, flags):
    assert assess({"back_pain": "yes", "night_pain": "yes", "age": age}).flags == flags


@pytest.mark.parametrize(
    ("age", "flags"), [(0, ()), (69, ()), (70, ("fracture_risk",)), (71, ("fracture_risk",))]
)
def test_injury_with_back_pain_is_a_fracture_risk_from_age_70(age, flags):
    assert assess({"back_pain": "yes", "recent_trauma": "yes", "age": age}).flags == flags


def test_age_alone_raises_nothing():
    assert assess({"age": 99}).tier == ROUTINE


BACK_PAIN_AT_NIGHT_AFTER_AN_INJURY = {
    "back_pain": "yes",
    "night_pain": "yes",
    "recent_trauma": "yes",
}


def test_a_missing_age_meets_no_age_condition():
    result = assess(BACK_PAIN_AT_NIGHT_AFTER_AN_INJURY)

    assert result.flags == ()
    assert result.tier == SOON  # night pain


def test_triage_reads_the_stored_age_not_the_date_of_birth():
    answers = {**BACK_PAIN_AT_NIGHT_AFTER_AN_INJURY, "date_of_birth": datetime.date(1930, 1, 1)}

    assert assess(answers).flags == ()


@pytest.mark.parametrize(
    "age",
    [
        None,
        True,
        False,
        -1,
        -80,
        "",
        "  ",
        "seventy",
        "80 years",
        "-80",
        "8O",
        "80.5",
        "²",  # a digit to str.isdigit(), but not to int()
        "⁸⁰",
        "½",
        80.5,
        [80],
        b"80",
        {"years": 80},
        datetime.date(1930, 1, 1),
    ],
    ids=repr,
)
def test_an_age_that_is_not_a_whole_number_of_years_is_unknown(age):
    answers = {**BACK_PAIN_AT_NIGHT_AFTER_AN_INJURY, "age": age}

    assert assess(answers) == assess(BACK_PAIN_AT_NIGHT_AFTER_AN_INJURY)


def test_an_age_corrected_by_hand_as_digits_is_read_as_that_age():
    answers = {**BACK_PAIN_AT_NIGHT_AFTER_AN_INJURY, "age": " 75 "}

    assert assess(answers).flags == ("malignancy", "fracture_risk")


# --- soon and routine -------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        ({"weak_side": "both"}, "both legs feel weak"),
        (
            {"weak_side": "both", "weakness_onset": "weeks", "weakness_trend": "same"},
            "both legs feel weak",
        ),
        (
            {
                "weak_side": "both",
                "weakness_onset": "weeks",
                "weakness_trend": "better",
                "foot_lift_difficulty": "no",
            },
            "both legs feel weak",
        ),
        ({"leg_gives_way": "yes"}, "given way"),
        ({"falls": "yes"}, "fallen"),
        ({"balance_problems": "yes"}, "balance"),
        ({"leg_lift_difficulty": "yes"}, "lifting the whole leg"),
        ({"night_pain": "yes"}, "night"),
    ],
    ids=str,
)
def test_each_soon_sign_alone(answers, words):
    result = assess(answers)

    assert result.tier == SOON
    assert result.flags == ()
    assert result.priority == 50
    assert len(result.reasons) == 1
    assert words in result.reasons[0].lower()


def test_several_soon_signs_each_give_a_reason_in_order():
    result = assess(
        {"night_pain": "yes", "balance_problems": "yes", "weak_side": "both", "falls": "yes"}
    )

    assert result.tier == SOON
    assert len(result.reasons) == 4
    both, fallen, balance, night = (reason.lower() for reason in result.reasons)
    assert "both legs" in both
    assert "fallen" in fallen
    assert "balance" in balance
    assert "night" in night


@pytest.mark.parametrize("value", ["no", "unsure"])
@pytest.mark.parametrize("code", SOON_YES_CODES)
def test_soon_signs_need_a_yes(code, value):
    assert assess({code: value}).tier == ROUTINE


@pytest.mark.parametrize("side", ["left", "right", "neither"])
def test_one_weak_leg_alone_is_routine(side):
    assert assess({"weak_side": side}).tier == ROUTINE


@pytest.mark.parametrize(
    "code",
    ["back_pain", "leg_numbness", "feet_numbness", "burning_pain", "walking_pain", "weight_loss"],
)
def test_other_symptoms_alone_are_routine(code):
    assert assess({code: "yes"}).tier == ROUTINE


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param({}, id="nothing-asked"),
        pytest.param(
            {
                **dict.fromkeys(SPEC_CES_CODES, "no"),
                **dict.fromkeys(YES_NO_CODES, "no"),
                "leg_gives_way": "no",
                "diabetes": "no",
                "osteoporosis": "no",
                "weak_side": "neither",
                "pain_pattern": "none",
                "age": 90,
            },
            id="all-no",
        ),
    ],
)
def test_routine_when_nothing_reported(answers):
    assert assess(answers) == Assessment(
        tier=ROUTINE, flags=(), reasons=("No red flags reported.",), priority=60, rules_version=2
    )


def test_answers_triage_does_not_read_are_ignored():
    answers = {
        "first_name": "yes",
        "date_of_birth": datetime.date(1940, 1, 1),
        "symptoms_started": datetime.date(2024, 5, 1),
        "pain_score": 10,
        "feet_numbness": "yes",
        "burning_pain": "yes",
        "walking_pain": "yes",
        "diabetes": "yes",
        "statin_use": "yes",
        "recent_illness": "yes",
        "medications": "yes",
        "other_notes": "saddle_numbness yes",
    }
    assert assess(answers).tier == ROUTINE


# --- tiers and combinations -------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "tier", "flags"),
    [
        pytest.param(
            {"bowel_incontinence": "yes", "foot_lift_difficulty": "yes"},
            EMERGENCY,
            ("bowel", "foot_drop"),
            id="emergency-beats-urgent",
        ),
        pytest.param(
            {"foot_lift_difficulty": "yes", "falls": "yes", "weak_side": "left"},
            URGENT,
            ("foot_drop",),
            id="urgent-beats-soon",
        ),
        pytest.param(
            {"cancer_history": "yes", "back_pain": "yes", "weak_side": "left"},
            EMERGENCY,
            ("cancer_weakness", "malignancy"),
            id="cancer-back-pain-and-weakness",
        ),
        pytest.param(
            {"saddle_numbness": "unsure", "bladder_retention": "yes"},
            EMERGENCY,
            ("bladder", "ces_unsure"),
            id="unsure-and-yes",
        ),
        pytest.param(
            {"recent_trauma": "yes", "weak_side": "right", "weakness_trend": "worse"},
            URGENT,
            ("progressive_weakness", "trauma"),
            id="two-urgent",
        ),
        pytest.param(
            {"fever": "yes", "back_pain": "yes", "weak_side": "left", "weakness_onset": "hours"},
            EMERGENCY,
            ("infection_weakness", "infection"),
            id="infection-with-and-without-weakness",
        ),
        pytest.param(
            {"back_pain": "yes", "recent_trauma": "yes", "age": 80, "leg_gives_way": "yes"},
            URGENT,
            ("fracture_risk", "trauma"),
            id="fracture-risk-and-trauma",
        ),
    ],
)
def test_tier_is_the_most_urgent_flag(answers, tier, flags):
    result = assess(answers)

    assert result.tier == tier
    assert result.flags == flags
    assert len(result.reasons) == len(flags)


def test_flags_can_outrank_soon_signs_without_mentioning_them():
    result = assess({"foot_lift_difficulty": "yes", "falls": "yes"})

    assert result.flags == ("foot_drop",)
    assert not any("fallen" in reason.lower() for reason in result.reasons)


def answers_raising_every_flag() -> dict[str, object]:
    return {
        "saddle_numbness": "yes",
        "bladder_stream": "yes",
        "bowel_incontinence": "yes",
        "weak_side": "both",
        "weakness_onset": "days",
        "cancer_history": "yes",
        "fever": "yes",
        "sexual_dysfunction": "yes",
        "bladder_retention": "unsure",
        "weakness_trend": "worse",
        "pain_both_legs": "yes",
        "back_pain": "yes",
        "recent_trauma": "yes",
        "osteoporosis": "yes",
        "foot_lift_difficulty": "yes",
    }


def test_every_flag_together_in_spec_order_with_one_reason_each():
    answers = answers_raising_every_flag()

    forwards = assess(answers)
    backwards = assess(dict(reversed(answers.items())))

    assert forwards.flags == tuple(SPEC_FLAG_TIERS)
    assert backwards == forwards
    assert forwards.tier == EMERGENCY
    assert forwards.priority == 10
    assert len(forwards.reasons) == len(SPEC_FLAG_TIERS)
    assert len(set(forwards.reasons)) == len(SPEC_FLAG_TIERS)
    assert all(reason[0].isupper() and reason.endswith(".") for reason in forwards.reasons)


@pytest.mark.parametrize(
    ("answers", "priority"),
    [
        pytest.param({"saddle_numbness": "yes", "bladder_stream": "yes"}, 10, id="saddle+bladder"),
        pytest.param(
            {
                "saddle_numbness": "yes",
                **dict.fromkeys(BLADDER_CODES, "yes"),
                "bowel_incontinence": "yes",
                "foot_lift_difficulty": "yes",
            },
            10,
            id="saddle+bladder+more",
        ),
        pytest.param({"saddle_numbness": "yes"}, 20, id="saddle"),
        *(
            pytest.param({code: "yes"}, 20, id=f"bladder-{code}")
            for code in ("bladder_sensation", "bladder_retention")
        ),
        pytest.param(
            {"saddle_numbness": "yes", "bowel_incontinence": "yes"}, 20, id="saddle+bowel"
        ),
        pytest.param(
            {"bladder_incontinence": "yes", "weak_side": "both", "weakness_onset": "hours"},
            20,
            id="bladder+bilateral",
        ),
        pytest.param(
            {"saddle_numbness": "yes", "bladder_retention": "unsure"},
            20,
            id="saddle+bladder-unsure",
        ),
        pytest.param({"bowel_incontinence": "yes"}, 30, id="bowel"),
        pytest.param(
            {"sexual_dysfunction": "yes", "cancer_history": "yes", "weak_side": "left"},
            30,
            id="sexual+cancer_weakness",
        ),
        pytest.param({"weak_side": "both", "weakness_onset": "days"}, 30, id="bilateral"),
        pytest.param(
            {"infection_risk": "yes", "weak_side": "right", "weakness_trend": "worse"},
            30,
            id="infection_weakness",
        ),
        pytest.param({"sexual_dysfunction": "yes"}, 40, id="sexual"),
        pytest.param({"foot_lift_difficulty": "yes"}, 40, id="foot_drop"),
        pytest.param({"pain_both_legs": "yes"}, 40, id="bilateral_leg_pain"),
        pytest.param(
            {"saddle_numbness": "unsure", "bladder_stream": "unsure"},
            40,
            id="saddle+bladder-unsure",
        ),
        pytest.param({"leg_gives_way": "yes"}, 50, id="soon"),
        pytest.param({"night_pain": "yes"}, 50, id="soon-night-pain"),
        pytest.param({}, 60, id="routine"),
    ],
)
def test_priority_groups(answers, priority):
    assert assess(answers).priority == priority


# --- unsure -----------------------------------------------------------------


def test_unsure_reason_names_the_unsure_questions():
    result = assess(
        {"bladder_stream": "unsure", "bowel_incontinence": "unsure", "sexual_dysfunction": "unsure"}
    )

    assert result.flags == ("ces_unsure",)
    assert result.tier == URGENT
    (reason,) = result.reasons
    assert "weak stream" in reason
    assert "bowel" in reason
    assert "sexual" not in reason
    assert "genital" not in reason


def test_unsure_to_every_warning_sign_is_urgent_not_an_emergency():
    result = assess(dict.fromkeys(SPEC_CES_CODES, "unsure"))

    assert result.flags == ("ces_unsure",)
    assert result.tier == URGENT


@pytest.mark.parametrize(
    "answers",
    [
        {"back_pain": "yes", "recent_trauma": "yes", "osteoporosis": "unsure"},
        {"recent_trauma": "yes", "leg_gives_way": "unsure"},
        {"cancer_history": "yes", "leg_gives_way": "unsure"},
        {"leg_gives_way": "unsure"},
        {"cancer_history": "yes", "diabetes": "unsure"},
        # Yes/no questions corrected by hand to "unsure" are not yes either.
        {"cancer_history": "unsure", "weak_side": "left"},
        {"back_pain": "unsure", "cancer_history": "yes"},
        {"fever": "unsure", "back_pain": "yes"},
        {"fever": "unsure", "weak_side": "left", "weakness_onset": "hours"},
        {"recent_trauma": "unsure", "weak_side": "left"},
        {"foot_lift_difficulty": "unsure", "weak_side": "both"},
        {"pain_both_legs": "unsure"},
        {"night_pain": "unsure", "back_pain": "yes", "age": 80},
        {"back_pain": "yes", "recent_trauma": "yes", "steroid_use": "unsure"},
    ],
    ids=str,
)
def test_unsure_never_counts_as_yes_outside_the_warning_signs(answers):
    result = assess(answers)

    assert result.flags == ()
    assert result.tier in (SOON, ROUTINE)


@pytest.mark.parametrize("code", CES_UNSURE_CODES)
def test_unsure_to_a_warning_sign_with_cancer_is_urgent_not_cancer_weakness(code):
    result = assess({"cancer_history": "yes", code: "unsure"})

    assert result.flags == ("ces_unsure",)
    assert result.tier == URGENT


# --- reasons for staff ------------------------------------------------------


def test_bladder_reason_names_the_bladder_answers_that_were_yes():
    result = assess(
        {
            "bladder_retention": "yes",
            "bladder_incontinence": "yes",
            "bladder_stream": "no",
            "bladder_sensation": "unsure",
        }
    )

    assert result.flags == ("bladder", "ces_unsure")
    bladder, unsure = result.reasons
    assert "passing urine" in bladder
    assert "leaking urine" in bladder
    assert "stream" not in bladder
    assert "bladder feeling" not in bladder
    assert "bladder feeling" in unsure


@pytest.mark.parametrize("onset", ["hours", "days"])
def test_bilateral_weakness_reason_says_both_legs_and_how_fast(onset):
    (reason,) = assess({"weak_side": "both", "weakness_onset": onset}).reasons

    assert "both legs" in reason.lower()
    assert onset in reason


def test_cancer_weakness_reason_names_spinal_cord_compression_and_the_leg():
    (reason,) = assess({"cancer_history": "yes", "weak_side": "left"}).reasons

    assert "metastatic spinal cord compression" in reason
    assert "left leg" in reason


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        ({"fever": "yes", "back_pain": "yes"}, ["fever"]),
        ({"infection_risk": "yes", "back_pain": "yes"}, ["risk of infection"]),
        ({"fever": "yes", "infection_risk": "yes", "back_pain": "yes"}, ["fever", "risk"]),
        ({"weight_loss": "yes", "back_pain": "yes"}, ["weight loss"]),
        ({"night_pain": "yes", "back_pain": "yes", "age": 63}, ["night", "63"]),
        ({"weak_side": "right", "weakness_trend": "worse"}, ["right leg", "worse"]),
        ({"recent_trauma": "yes", "weak_side": "both"}, ["injury", "both legs"]),
        ({"recent_trauma": "yes", "leg_gives_way": "yes"}, ["injury", "giving way"]),
        ({"back_pain": "yes", "recent_trauma": "yes", "age": 77}, ["injury", "77", "fracture"]),
        ({"back_pain": "yes", "recent_trauma": "yes", "steroid_use": "yes"}, ["steroid"]),
        (
            {"fever": "yes", "weak_side": "left", "weakness_onset": "days"},
            ["left leg", "fever", "new or getting worse"],
        ),
        ({"pain_both_legs": "yes"}, ["both legs"]),
        ({"sexual_dysfunction": "yes"}, ["sexual"]),
        ({"cancer_history": "yes", "pain_pattern": "front_of_thigh"}, ["cancer", "leg"]),
    ],
    ids=str,
)
def test_reasons_say_what_was_reported(answers, words):
    (reason,) = assess(answers).reasons

    for word in words:
        assert word in reason.lower()


# --- questions not asked and tolerant reading -------------------------------


@pytest.mark.parametrize("value", ["yes", "YES", " Yes ", "Yes ", "yes\n", "\tyEs"])
def test_yes_ignores_case_and_surrounding_space(value):
    assert assess({"saddle_numbness": value}).flags == ("saddle_numbness",)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "  ",
        "no",
        "No",
        True,
        False,
        1,
        0,
        "y",
        "true",
        "yes please",
        "ye s",
        ["yes"],
        b"yes",
    ],
    ids=repr,
)
@pytest.mark.parametrize(
    "code",
    [
        "saddle_numbness",
        "bladder_retention",
        "sexual_dysfunction",
        "foot_lift_difficulty",
        "pain_both_legs",
        "falls",
        "night_pain",
    ],
)
def test_only_the_word_yes_counts_as_yes(code, value):
    result = assess({code: value})

    assert result.flags == ()
    assert result.tier == ROUTINE


@pytest.mark.parametrize("value", ["Unsure", " UNSURE ", "unsure\n"])
def test_unsure_ignores_case_and_surrounding_space(value):
    assert assess({"bowel_incontinence": value}).flags == ("ces_unsure",)


def test_choices_ignore_case_and_surrounding_space():
    result = assess({"weak_side": " Both ", "weakness_onset": "HOURS ", "weakness_trend": " Worse"})

    assert result.flags == ("bilateral_weakness", "progressive_weakness")


@pytest.mark.parametrize("side", [None, "", "neither", "sideways", "bothh", True, 2], ids=repr)
def test_unknown_or_missing_weak_side_counts_as_neither(side):
    answers = {
        "weak_side": side,
        "weakness_onset": "hours",
        "weakness_trend": "worse",
        "cancer_history": "yes",
        "recent_trauma": "yes",
        "fever": "yes",
    }
    without = {code: value for code, value in answers.items() if code != "weak_side"}

    assert assess(answers) == assess({**answers, "weak_side": "neither"}) == assess(without)
    assert assess(answers).tier == ROUTINE


def test_any_mapping_is_accepted_and_left_unchanged():
    answers = {"saddle_numbness": " yes ", "weak_side": "Both"}
    frozen = MappingProxyType(answers)

    assert assess(frozen).flags == ("saddle_numbness",)
    assert answers == {"saddle_numbness": " yes ", "weak_side": "Both"}


# --- the Assessment ---------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "tier", "is_emergency", "in_queue_tier"),
    [
        ({"saddle_numbness": "yes"}, EMERGENCY, True, True),
        ({"foot_lift_difficulty": "yes"}, URGENT, False, True),
        ({"falls": "yes"}, SOON, False, False),
        ({}, ROUTINE, False, False),
    ],
)
def test_assessment_properties(answers, tier, is_emergency, in_queue_tier):
    result = assess(answers)

    assert result.tier == tier
    assert result.is_emergency is is_emergency
    assert result.in_queue_tier is in_queue_tier


def test_assessment_is_immutable():
    result = assess({})

    with pytest.raises(dataclasses.FrozenInstanceError):
        result.tier = EMERGENCY  # type: ignore[misc]


@pytest.mark.parametrize(
    ("tier", "than", "higher"),
    [
        ("emergency", "urgent", True),
        ("urgent", "soon", True),
        ("soon", "routine", True),
        ("urgent", "urgent", False),
        ("routine", "emergency", False),
        ("routine", "not-a-tier", True),
        ("not-a-tier", "routine", False),
    ],
)
def test_tier_is_higher_ranks_tiers_most_urgent_first(tier, than, higher):
    assert tier_is_higher(tier, than) is higher


# --- labels and the answers each flag marks ---------------------------------


def test_every_flag_has_its_own_plain_label():
    assert set(FLAG_LABELS) == set(SPEC_FLAG_TIERS)
    assert all(isinstance(label, str) and label.strip() for label in FLAG_LABELS.values())
    assert len(set(FLAG_LABELS.values())) == len(FLAG_LABELS)
    assert "saddle" in FLAG_LABELS["saddle_numbness"].lower()
    assert "bladder" in FLAG_LABELS["bladder"].lower()


@pytest.mark.parametrize("flag", list(SPEC_FLAG_TIERS))
def test_flag_label_looks_up_the_label(flag):
    assert flag_label(flag) == FLAG_LABELS[flag]
    assert flag_label(flag) != flag


def test_flag_label_falls_back_to_the_code():
    assert flag_label("not_a_flag") == "not_a_flag"


def test_flag_answers_mark_exactly_the_questions_each_row_reads():
    weakness = {"weak_side", *LEG_WEAKNESS_YES_CODES}
    expected = {
        "saddle_numbness": {"saddle_numbness"},
        "bladder": set(BLADDER_CODES),
        "bowel": {"bowel_incontinence"},
        "bilateral_weakness": {
            "weak_side",
            "weakness_onset",
            "weakness_trend",
            "foot_lift_difficulty",
        },
        "cancer_weakness": {
            "cancer_history",
            *weakness,
            "balance_problems",
            "leg_numbness",
            "pain_pattern",
            "pain_both_legs",
            *SPEC_CES_CODES,
        },
        "infection_weakness": {
            "fever",
            "infection_risk",
            "weak_side",
            "weakness_onset",
            "weakness_trend",
        },
        "sexual": {"sexual_dysfunction"},
        "ces_unsure": set(CES_UNSURE_CODES),
        "progressive_weakness": {"weak_side", "weakness_trend"},
        "bilateral_leg_pain": {"pain_both_legs"},
        "infection": {"fever", "infection_risk", "back_pain"},
        "malignancy": {"back_pain", "cancer_history", "weight_loss", "night_pain"},
        "fracture_risk": {"back_pain", "recent_trauma", "osteoporosis", "steroid_use"},
        "trauma": {"recent_trauma", *weakness},
        "foot_drop": {"foot_lift_difficulty"},
    }
    assert {flag: set(codes) for flag, codes in FLAG_ANSWERS.items()} == expected
    assert FLAG_ANSWERS["ces_unsure"]["bladder_stream"] == {"unsure"}
    assert FLAG_ANSWERS["cancer_weakness"]["pain_pattern"] == {"back_of_leg", "front_of_thigh"}


# --- properties over generated answers --------------------------------------


def _messy(value: str) -> st.SearchStrategy[str]:
    """A stored answer as a hand correction might leave it: case and spaces vary."""
    return st.sampled_from([value, value.upper(), value.title(), f" {value} ", f"{value}\n"])


def _domain(values, messy):
    strategy = st.sampled_from(values)
    return strategy.flatmap(_messy) if messy else strategy


def answers_strategy(*, messy: bool = False) -> st.SearchStrategy[dict]:
    """Answer mappings over the SPEC's codes and value domains; any key may be missing."""
    optional = {
        **{code: _domain(("yes", "no", "unsure"), messy) for code in YES_NO_UNSURE_CODES},
        **{code: _domain(("yes", "no"), messy) for code in YES_NO_CODES},
        **{code: _domain(values, messy) for code, values in CHOICES.items()},
        "age": st.integers(min_value=0, max_value=120),
        "pain_score": st.integers(min_value=0, max_value=10),
        "symptoms_started": st.dates(max_value=datetime.date(2030, 1, 1)),
        "medications": st.text(max_size=20),
        "other_notes": st.text(max_size=20),
    }
    return st.fixed_dictionaries({}, optional=optional)


spec_answers = answers_strategy()
messy_answers = answers_strategy(messy=True)
PROPERTY_SETTINGS = settings(database=None, max_examples=300, deadline=None)


@PROPERTY_SETTINGS
@given(messy_answers)
def test_flags_and_tier_match_the_spec_table_for_generated_answers(answers):
    result = assess(answers)

    assert result.flags == spec_flags(answers)
    assert result.tier == spec_tier(answers)


@PROPERTY_SETTINGS
@given(spec_answers)
def test_tier_is_the_most_urgent_flag_and_priority_follows_the_queue_groups(answers):
    result = assess(answers)

    assert_consistent(result)
    assert result.in_queue_tier is bool(result.flags)
    assert result.is_emergency is (result.tier == "emergency")


@PROPERTY_SETTINGS
@given(spec_answers, st.data())
def test_one_more_yes_never_lowers_the_tier(answers, data):
    not_yet_yes = [
        code for code in (*YES_NO_UNSURE_CODES, *YES_NO_CODES) if answers.get(code) != "yes"
    ]
    code = data.draw(st.sampled_from(not_yet_yes), label="code")

    before = assess(answers)
    after = assess({**answers, code: "yes"})

    assert urgency(after.tier) <= urgency(before.tier)


# Each choice's values from least to most worrying; a value on a later level
# never lowers the tier. None stands for "not asked".
CHOICE_LEVELS = {
    "weak_side": ((None, "neither"), ("left", "right"), ("both",)),
    "weakness_onset": ((None, "weeks"), ("days", "hours")),
    "weakness_trend": ((None, "same", "better"), ("worse",)),
    "pain_pattern": ((None, "buttock", "none", "other"), ("back_of_leg", "front_of_thigh")),
}


@PROPERTY_SETTINGS
@given(spec_answers, st.data())
def test_a_more_worrying_choice_never_lowers_the_tier(answers, data):
    code = data.draw(st.sampled_from(sorted(CHOICE_LEVELS)), label="code")
    levels = CHOICE_LEVELS[code]
    (level,) = (i for i, values in enumerate(levels) if answers.get(code) in values)
    higher = [value for values in levels[level + 1 :] for value in values]
    if not higher:
        return
    value = data.draw(st.sampled_from(higher), label="value")

    before = assess(answers)
    after = assess({**answers, code: value})

    assert urgency(after.tier) <= urgency(before.tier)
    assert set(before.flags) <= set(after.flags)


@PROPERTY_SETTINGS
@given(spec_answers, st.data())
def test_removing_an_answer_never_adds_a_flag_or_raises_the_tier(answers, data):
    if not answers:
        return
    code = data.draw(st.sampled_from(sorted(answers)), label="code")

    before = assess(answers)
    after = assess({c: v for c, v in answers.items() if c != code})

    assert set(after.flags) <= set(before.flags)
    assert urgency(after.tier) >= urgency(before.tier)


@PROPERTY_SETTINGS
@given(
    spec_answers, st.integers(min_value=0, max_value=120), st.integers(min_value=0, max_value=120)
)
def test_a_higher_age_never_lowers_the_tier(answers, age, other_age):
    younger, older = sorted((age, other_age))
    unknown = assess({c: v for c, v in answers.items() if c != "age"})
    at_younger = assess({**answers, "age": younger})
    at_older = assess({**answers, "age": older})

    assert urgency(at_older.tier) <= urgency(at_younger.tier) <= urgency(unknown.tier)
    assert set(unknown.flags) <= set(at_younger.flags) <= set(at_older.flags)


@PROPERTY_SETTINGS
@given(spec_answers)
def test_a_question_not_asked_counts_as_not_reported(answers):
    filled = {
        **dict.fromkeys((*YES_NO_UNSURE_CODES, *YES_NO_CODES), "no"),
        "weak_side": "neither",
        **answers,
    }
    assert assess(filled) == assess(answers)


@PROPERTY_SETTINGS
@given(spec_answers, st.sampled_from(SPEC_CES_CODES), _messy("yes"))
def test_a_yes_to_any_cauda_equina_question_except_sexual_alone_is_an_emergency(answers, code, yes):
    result = assess({**answers, code: yes})

    if code == "sexual_dysfunction":
        assert urgency(result.tier) <= urgency("urgent")
    else:
        assert result.tier == EMERGENCY
        assert result.priority <= 30


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(),
    st.text(alphabet="0123456789²³¹⁰⁴⁵½٠١٢٣ -+.", max_size=4),
    st.binary(max_size=8),
    st.dates(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    st.sampled_from(["yes", " YES ", "unsure", "both", "hours", "worse", "back_of_leg"]),
)
junk_answers = st.dictionaries(
    st.one_of(st.sampled_from((*ANSWER_CODES, "age")), st.text(max_size=10)), junk, max_size=25
)


@PROPERTY_SETTINGS
@given(junk_answers)
# The age is only read once back pain and night pain or an injury are reported.
@example({"age": "²", "back_pain": "yes", "recent_trauma": "yes"})
@example({"age": "¹⁰⁰", "back_pain": " Yes", "night_pain": "yes"})
@example({"age": float("nan"), "weak_side": float("inf")})
def test_assess_never_raises_for_junk_values(answers):
    result = assess(answers)

    assert_consistent(result)


# --- the browser's emergency conditions for a step --------------------------


def holds(tree, answers) -> bool:
    """Evaluate one tree from ``emergency_conditions_for_step`` as static/js/intake.js does."""
    op, *args = tree
    if op == "always":
        assert args == []
        return True
    if op == "is":
        code, values = args
        assert isinstance(code, str)
        assert values
        assert all(isinstance(value, str) and value == value.strip().lower() for value in values)
        value = answers.get(code)
        return isinstance(value, str) and value.strip().lower() in values
    if op in ("all", "any"):
        assert args
        results = [holds(part, answers) for part in args]
        return all(results) if op == "all" else any(results)
    raise AssertionError(f"unknown node {tree!r}")


def codes_in(tree) -> set[str]:
    op, *args = tree
    if op == "is":
        return {args[0]}
    return set().union(*(codes_in(part) for part in args)) if op != "always" else set()


def step_codes(slug: str) -> frozenset[str]:
    (step,) = (step for step in STEPS if step.slug == slug)
    return frozenset(step.form_class.base_fields)


def check_step_conditions(answers, codes, stale):
    """The trees for this step hold on its answers exactly when all answers are an emergency."""
    known = {code: value for code, value in answers.items() if code not in codes}
    on_step = {code: value for code, value in answers.items() if code in codes}
    # The step's saved answers may be stale: the browser reads them from the form.
    trees = emergency_conditions_for_step({**known, **stale}, codes)

    assert isinstance(trees, list)
    assert json.loads(json.dumps(trees)) == trees
    assert all(codes_in(tree) <= codes for tree in trees)
    if ["always"] in trees:
        assert trees == [["always"]]
    assert (trees == [["always"]]) is (assess(known).tier == EMERGENCY)
    assert any(holds(tree, on_step) for tree in trees) is (assess(answers).tier == EMERGENCY)


@PROPERTY_SETTINGS
@given(messy_answers, st.sampled_from([step.slug for step in STEPS]), messy_answers)
def test_step_conditions_hold_exactly_when_the_answers_are_an_emergency(answers, slug, stale):
    codes = step_codes(slug)
    check_step_conditions(answers, codes, {c: v for c, v in stale.items() if c in codes})


@PROPERTY_SETTINGS
@given(messy_answers, st.sets(st.sampled_from((*ANSWER_CODES, "age"))), messy_answers)
def test_step_conditions_hold_exactly_when_the_answers_are_an_emergency_for_any_split(
    answers, codes, stale
):
    codes = frozenset(codes)
    check_step_conditions(answers, codes, {c: v for c, v in stale.items() if c in codes})


def test_step_conditions_say_always_when_the_other_steps_already_make_an_emergency():
    trees = emergency_conditions_for_step({"saddle_numbness": "yes"}, step_codes("health"))

    assert trees == [["always"]]


def test_step_conditions_are_empty_on_a_step_without_triage_questions():
    assert emergency_conditions_for_step({"cancer_history": "yes"}, step_codes("about")) == []


@pytest.mark.parametrize(
    ("known", "on_step", "emergency"),
    [
        ({}, {"sexual_dysfunction": "yes"}, False),
        ({"cancer_history": "yes"}, {"sexual_dysfunction": "yes"}, True),
        ({"cancer_history": "no"}, {"bladder_stream": "yes"}, True),
        ({"cancer_history": "yes"}, {"saddle_numbness": "unsure"}, False),
    ],
    ids=str,
)
def test_warning_signs_step_conditions_follow_the_emergency_rows(known, on_step, emergency):
    trees = emergency_conditions_for_step(known, step_codes("warning-signs"))

    assert any(holds(tree, on_step) for tree in trees) is emergency


@pytest.mark.parametrize(
    ("known", "on_step", "emergency"),
    [
        ({}, {"weak_side": "both", "weakness_trend": "worse"}, True),
        ({}, {"weak_side": "both", "foot_lift_difficulty": "yes"}, True),
        ({}, {"weak_side": "left", "weakness_onset": "hours"}, False),
        ({"fever": "yes"}, {"weak_side": "left", "weakness_onset": "hours"}, True),
        ({"fever": "yes"}, {"weak_side": "left", "weakness_onset": "weeks"}, False),
        ({"cancer_history": "yes"}, {"leg_gives_way": "yes"}, True),
        ({"cancer_history": "yes"}, {"leg_gives_way": "unsure"}, False),
    ],
    ids=str,
)
def test_legs_step_conditions_follow_the_emergency_rows(known, on_step, emergency):
    trees = emergency_conditions_for_step(known, step_codes("legs"))

    assert any(holds(tree, on_step) for tree in trees) is emergency
