"""Tests for the pure triage rules (SPEC "Triage" and "The red-flag queue").

The expected tiers and priorities are written out here from the SPEC rather
than read from ``intake.triage``, so a wrong table in the module fails a test.
"""

import dataclasses
import datetime
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.triage import (
    CES_CODES,
    EMERGENCY,
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
    flag_label,
)

# The SPEC's red-flag table, in its order.
SPEC_FLAG_TIERS = {
    "saddle_numbness": "emergency",
    "bladder": "emergency",
    "bowel": "emergency",
    "sexual": "emergency",
    "bilateral_weakness": "emergency",
    "cancer_weakness": "emergency",
    "ces_unsure": "urgent",
    "progressive_weakness": "urgent",
    "infection": "urgent",
    "malignancy": "urgent",
    "trauma": "urgent",
    "foot_drop": "urgent",
}
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
SIDES = ("left", "right", "both")
SOON_YES_CODES = (
    "leg_gives_way",
    "falls",
    "balance_problems",
    "leg_lift_difficulty",
    "pain_both_legs",
)


def spec_priority(tier: str, flags: tuple[str, ...]) -> int:
    """The queue order from the SPEC, as literal numbers."""
    saddle_or_bladder = {"saddle_numbness", "bladder"} & set(flags)
    if len(saddle_or_bladder) == 2:
        return 10
    if saddle_or_bladder:
        return 20
    return {"emergency": 30, "urgent": 40, "soon": 50, "routine": 60}[tier]


# Smallest answers that raise exactly one flag.
ONE_FLAG_CASES = [
    pytest.param("saddle_numbness", {"saddle_numbness": "yes"}, id="saddle_numbness"),
    *(pytest.param("bladder", {code: "yes"}, id=f"bladder-{code}") for code in BLADDER_CODES),
    pytest.param("bowel", {"bowel_incontinence": "yes"}, id="bowel"),
    pytest.param("sexual", {"sexual_dysfunction": "yes"}, id="sexual"),
    *(
        pytest.param(
            "bilateral_weakness",
            {"weak_side": "both", "weakness_onset": onset},
            id=f"bilateral_weakness-{onset}",
        )
        for onset in ("hours", "days")
    ),
    *(
        pytest.param(
            "cancer_weakness",
            {"cancer_history": "yes", "weak_side": side},
            id=f"cancer_weakness-{side}",
        )
        for side in SIDES
    ),
    *(
        pytest.param("ces_unsure", {code: "unsure"}, id=f"ces_unsure-{code}")
        for code in SPEC_CES_CODES
        if code != "sexual_dysfunction"
    ),
    *(
        pytest.param(
            "progressive_weakness",
            {"weak_side": side, "weakness_trend": "worse"},
            id=f"progressive_weakness-{side}",
        )
        for side in SIDES
    ),
    *(
        pytest.param("infection", {sign: "yes", "back_pain": "yes"}, id=f"infection-{sign}")
        for sign in ("fever", "infection_risk")
    ),
    *(
        pytest.param("malignancy", {sign: "yes", "back_pain": "yes"}, id=f"malignancy-{sign}")
        for sign in ("cancer_history", "weight_loss")
    ),
    *(
        pytest.param("trauma", {"recent_trauma": "yes", "weak_side": side}, id=f"trauma-{side}")
        for side in SIDES
    ),
    pytest.param("foot_drop", {"foot_lift_difficulty": "yes"}, id="foot_drop"),
]

# Answers that come close to a flag but raise none, with the tier they get.
NEAR_MISSES = [
    pytest.param({"weak_side": "both", "weakness_onset": "weeks"}, SOON, id="both-weak-over-weeks"),
    pytest.param({"weak_side": "both"}, SOON, id="both-weak-onset-not-asked"),
    pytest.param({"weak_side": "left", "weakness_onset": "hours"}, ROUTINE, id="one-leg-fast"),
    pytest.param({"weak_side": "neither", "weakness_onset": "hours"}, ROUTINE, id="no-leg-fast"),
    pytest.param({"cancer_history": "yes", "weak_side": "neither"}, ROUTINE, id="cancer-no-weak"),
    pytest.param({"cancer_history": "yes"}, ROUTINE, id="cancer-weak-side-not-asked"),
    pytest.param({"cancer_history": "no", "weak_side": "left"}, ROUTINE, id="weak-no-cancer"),
    pytest.param({"sexual_dysfunction": "unsure"}, ROUTINE, id="sexual-prefer-not-to-say"),
    pytest.param({"weak_side": "neither", "weakness_trend": "worse"}, ROUTINE, id="worse-no-weak"),
    pytest.param({"weakness_trend": "worse"}, ROUTINE, id="worse-weak-side-not-asked"),
    pytest.param({"weak_side": "left", "weakness_trend": "same"}, ROUTINE, id="weak-same"),
    pytest.param({"weak_side": "right", "weakness_trend": "better"}, ROUTINE, id="weak-better"),
    pytest.param({"fever": "yes"}, ROUTINE, id="fever-back-pain-not-asked"),
    pytest.param({"fever": "yes", "back_pain": "no"}, ROUTINE, id="fever-no-back-pain"),
    pytest.param({"infection_risk": "yes", "back_pain": "no"}, ROUTINE, id="risk-no-back-pain"),
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
    pytest.param({"recent_trauma": "yes", "weak_side": "neither"}, ROUTINE, id="injury-no-weak"),
    pytest.param({"recent_trauma": "yes"}, ROUTINE, id="injury-weak-side-not-asked"),
    pytest.param({"recent_trauma": "no", "weak_side": "right"}, ROUTINE, id="weak-no-injury"),
    pytest.param({"foot_lift_difficulty": "no"}, ROUTINE, id="foot-lifts"),
    pytest.param(dict.fromkeys(SPEC_CES_CODES, "no"), ROUTINE, id="all-cauda-equina-no"),
]


def answers_raising_every_flag() -> dict[str, str]:
    return {
        "saddle_numbness": "yes",
        "bladder_stream": "yes",
        "bowel_incontinence": "yes",
        "sexual_dysfunction": "yes",
        "weak_side": "both",
        "weakness_onset": "days",
        "cancer_history": "yes",
        "bladder_retention": "unsure",
        "weakness_trend": "worse",
        "fever": "yes",
        "back_pain": "yes",
        "recent_trauma": "yes",
        "foot_lift_difficulty": "yes",
    }


# --- the public constants -------------------------------------------------


def test_flag_order_and_tiers_are_the_spec_table():
    assert tuple(SPEC_FLAG_TIERS) == FLAG_ORDER
    assert FLAG_TIERS == SPEC_FLAG_TIERS


def test_tier_and_answer_constants():
    assert (EMERGENCY, URGENT, SOON, ROUTINE) == ("emergency", "urgent", "soon", "routine")
    assert TIERS == ("emergency", "urgent", "soon", "routine")
    assert QUEUE_TIERS == ("emergency", "urgent")
    assert (YES, NO, UNSURE) == ("yes", "no", "unsure")
    assert CES_CODES == SPEC_CES_CODES


def test_priorities_put_the_queue_groups_in_spec_order():
    assert [
        PRIORITY_SADDLE_AND_BLADDER,
        PRIORITY_SADDLE_OR_BLADDER,
        PRIORITY_EMERGENCY,
        PRIORITY_URGENT,
        PRIORITY_SOON,
        PRIORITY_ROUTINE,
    ] == [10, 20, 30, 40, 50, 60]


# --- each flag on its own -------------------------------------------------


def test_every_flag_has_a_single_flag_case():
    covered = {param.values[0] for param in ONE_FLAG_CASES}
    assert covered == set(SPEC_FLAG_TIERS)


@pytest.mark.parametrize(("flag", "answers"), ONE_FLAG_CASES)
def test_each_flag_alone(flag, answers):
    result = assess(answers)

    assert result.flags == (flag,)
    assert result.tier == SPEC_FLAG_TIERS[flag]
    assert result.priority == spec_priority(result.tier, result.flags)
    assert len(result.reasons) == 1
    reason = result.reasons[0]
    assert reason[0].isupper()
    assert reason.endswith(".")


@pytest.mark.parametrize(("answers", "tier"), NEAR_MISSES)
def test_near_misses_raise_no_flag(answers, tier):
    result = assess(answers)

    assert result.flags == ()
    assert result.tier == tier
    assert result.priority == (50 if tier == SOON else 60)


# --- soon and routine -----------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        ({"weak_side": "both"}, "both legs feel weak"),
        ({"leg_gives_way": "yes"}, "given way"),
        ({"falls": "yes"}, "fallen"),
        ({"balance_problems": "yes"}, "balance"),
        ({"leg_lift_difficulty": "yes"}, "lifting the whole leg"),
        ({"pain_both_legs": "yes"}, "pain down both legs"),
    ],
)
def test_each_soon_sign_alone(answers, words):
    result = assess(answers)

    assert result.tier == SOON
    assert result.flags == ()
    assert result.priority == 50
    assert len(result.reasons) == 1
    assert words in result.reasons[0].lower()


def test_several_soon_signs_each_give_a_reason_in_order():
    result = assess({"pain_both_legs": "yes", "weak_side": "both", "falls": "yes"})

    assert result.tier == SOON
    assert result.reasons == (
        "Both legs feel weak.",
        "Has fallen because a leg gave way.",
        "Pain down both legs.",
    )


@pytest.mark.parametrize("value", ["no", "unsure"])
@pytest.mark.parametrize("code", SOON_YES_CODES)
def test_soon_signs_need_a_yes(code, value):
    assert assess({code: value}).tier == ROUTINE


@pytest.mark.parametrize("side", ["left", "right", "neither"])
def test_one_weak_leg_alone_is_routine(side):
    assert assess({"weak_side": side}).tier == ROUTINE


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param({}, id="nothing-asked"),
        pytest.param(
            {
                **dict.fromkeys(SPEC_CES_CODES, "no"),
                **dict.fromkeys(SOON_YES_CODES, "no"),
                "weak_side": "neither",
                "back_pain": "no",
                "foot_lift_difficulty": "no",
            },
            id="all-no",
        ),
    ],
)
def test_routine_when_nothing_reported(answers):
    assert assess(answers) == Assessment(
        tier=ROUTINE, flags=(), reasons=("No red flags reported.",), priority=60
    )


def test_answers_triage_does_not_read_are_ignored():
    answers = {
        "first_name": "yes",
        "date_of_birth": datetime.date(1960, 1, 1),
        "symptoms_started": datetime.date(2024, 5, 1),
        "pain_score": 10,
        "pain_pattern": "back_of_leg",
        "leg_numbness": "yes",
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


# --- tiers and combinations -----------------------------------------------


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
            {"foot_lift_difficulty": "yes", "falls": "yes", "weak_side": "both"},
            URGENT,
            ("foot_drop",),
            id="urgent-beats-soon",
        ),
        pytest.param(
            {"weak_side": "both", "weakness_onset": "weeks", "weakness_trend": "worse"},
            URGENT,
            ("progressive_weakness",),
            id="slow-both-legs-getting-worse",
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
    ],
)
def test_tier_is_the_most_urgent_flag(answers, tier, flags):
    result = assess(answers)

    assert result.tier == tier
    assert result.flags == flags
    assert len(result.reasons) == len(flags)


def test_flags_can_outrank_soon_signs_without_mentioning_them():
    result = assess({"foot_lift_difficulty": "yes", "falls": "yes"})

    assert "Has fallen because a leg gave way." not in result.reasons


def test_every_flag_together_in_spec_order():
    answers = answers_raising_every_flag()

    forwards = assess(answers)
    backwards = assess(dict(reversed(answers.items())))

    assert forwards.flags == tuple(SPEC_FLAG_TIERS)
    assert backwards == forwards
    assert forwards.tier == EMERGENCY
    assert forwards.priority == 10
    assert len(set(forwards.reasons)) == len(SPEC_FLAG_TIERS)


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
        pytest.param({"bladder_sensation": "yes"}, 20, id="bladder"),
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
        pytest.param({"foot_lift_difficulty": "yes"}, 40, id="foot_drop"),
        pytest.param(
            {"saddle_numbness": "unsure", "bladder_stream": "unsure"},
            40,
            id="saddle+bladder-unsure",
        ),
        pytest.param({"leg_gives_way": "yes"}, 50, id="soon"),
        pytest.param({}, 60, id="routine"),
    ],
)
def test_priority_groups(answers, priority):
    assert assess(answers).priority == priority


# --- unsure ---------------------------------------------------------------


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


def test_unsure_is_not_yes():
    result = assess(dict.fromkeys(SPEC_CES_CODES, "unsure"))

    assert result.flags == ("ces_unsure",)
    assert result.tier == URGENT


# --- reasons for staff ----------------------------------------------------


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
        ({"weak_side": "right", "weakness_trend": "worse"}, ["right leg", "worse"]),
        ({"recent_trauma": "yes", "weak_side": "both"}, ["injury", "both legs"]),
    ],
)
def test_reasons_say_what_was_reported(answers, words):
    (reason,) = assess(answers).reasons

    for word in words:
        assert word in reason


# --- tolerant reading of values -------------------------------------------


@pytest.mark.parametrize("value", ["yes", "YES", " Yes ", "yes\n", "\tyEs"])
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
)
@pytest.mark.parametrize(
    "code", ["saddle_numbness", "bladder_retention", "foot_lift_difficulty", "falls"]
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


@pytest.mark.parametrize("side", [None, "", "neither", "sideways", "bothh", True, 2])
def test_unknown_weak_side_counts_as_neither(side):
    answers = {
        "weak_side": side,
        "weakness_onset": "hours",
        "weakness_trend": "worse",
        "cancer_history": "yes",
        "recent_trauma": "yes",
    }
    assert assess(answers) == assess({**answers, "weak_side": "neither"})
    assert assess(answers).tier == ROUTINE


def test_any_mapping_is_accepted_and_left_unchanged():
    answers = {"saddle_numbness": " yes ", "weak_side": "Both"}
    frozen = MappingProxyType(answers)

    assert assess(frozen).flags == ("saddle_numbness",)
    assert answers == {"saddle_numbness": " yes ", "weak_side": "Both"}


# --- the Assessment -------------------------------------------------------


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


# --- labels ---------------------------------------------------------------


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


# --- properties over random answers ---------------------------------------

YES_NO_CODES = (
    *SPEC_CES_CODES,
    *SOON_YES_CODES,
    "foot_lift_difficulty",
    "back_pain",
    "cancer_history",
    "weight_loss",
    "fever",
    "infection_risk",
    "recent_trauma",
    "diabetes",
)
yes_no_values = st.sampled_from(
    ["yes", "no", "unsure", " Yes ", "NO", "UNSURE ", "", None, True, False, 0, "maybe"]
)
random_answers = st.fixed_dictionaries(
    {},
    optional={
        **dict.fromkeys(YES_NO_CODES, yes_no_values),
        "weak_side": st.sampled_from(["left", "right", "both", "neither", " Both", "", None, "up"]),
        "weakness_onset": st.sampled_from(["hours", "days", "weeks", " DAYS", "", None]),
        "weakness_trend": st.sampled_from(["worse", "same", "better", "WORSE ", None]),
    },
)


@settings(database=None, max_examples=300)
@given(random_answers)
def test_assessment_is_consistent(answers):
    result = assess(answers)

    assert list(result.flags) == sorted(set(result.flags), key=FLAG_ORDER.index)
    if result.flags:
        assert result.tier == min((SPEC_FLAG_TIERS[f] for f in result.flags), key=TIERS.index)
        assert len(result.reasons) == len(result.flags)
    else:
        assert result.tier in (SOON, ROUTINE)
        assert result.reasons
    assert result.priority == spec_priority(result.tier, result.flags)
    assert result.in_queue_tier is bool(result.flags)


@settings(database=None, max_examples=300)
@given(random_answers, st.sampled_from(SPEC_CES_CODES), st.sampled_from(["yes", " YES", "Yes "]))
def test_a_yes_to_any_cauda_equina_question_is_an_emergency(answers, code, yes):
    result = assess({**answers, code: yes})

    assert result.tier == EMERGENCY
    assert result.priority <= 30


@settings(database=None, max_examples=300)
@given(random_answers)
def test_a_question_not_asked_counts_as_not_reported(answers):
    filled = {**dict.fromkeys(YES_NO_CODES, "no"), "weak_side": "neither", **answers}

    assert assess(filled) == assess(answers)
