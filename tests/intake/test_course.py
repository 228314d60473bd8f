"""Tests for "new since last time" and "worse since last time" (issue 22, ``intake.course``).

What counts as worse is written out here from the issue rather than read from
``intake.course``: the two weakness rules as tables of the pairs of answers
that count, the pain rule as arithmetic, and the new flags of the weakness
answers from the SPEC's red-flag table. Every combination of the weakness and
pain answers is checked (both sides, including missing and unreadable values);
property tests cover answers in general. None of these tests needs a database.
"""

import dataclasses
import itertools

import pytest
from django.utils.functional import Promise
from django.utils.translation import override
from hypothesis import given, settings
from hypothesis import strategies as st

from intake import triage
from intake.course import (
    NEW_RED_FLAG,
    PAIN_UP,
    WEAKNESS_SPREAD,
    WEAKNESS_WORSE,
    Worsening,
    is_worse,
    new_flags,
    worsening,
)

MISSING = object()  # the key is absent from the answers

# --- the issue, written out -------------------------------------------------

#: ``weak_side`` as stored: the four choices, a value that is not a choice, and absent.
WEAK_SIDE_VALUES = ("left", "right", "both", "neither", "unsure", MISSING)
#: ``weakness_trend`` as stored: the three choices, a value that is not a choice, and absent.
TREND_VALUES = ("worse", "same", "better", "", MISSING)
PAIN_VALUES = (*range(11), MISSING)

#: (weak_side before, weak_side now) that are "weakness has spread to the other leg".
SPREAD = {("left", "both"), ("right", "both")}
#: (trend before, trend now) that are "weakness is now getting worse", where a leg is weak.
NOW_WORSE = {("same", "worse"), ("better", "worse")}
#: Legs the trend question is asked about (SPEC: asked when ``weak_side`` is not neither).
WEAK = {"left", "right", "both"}

WORDS = {
    WEAKNESS_SPREAD: "weakness has spread to the other leg",
    WEAKNESS_WORSE: "weakness is now getting worse",
}


def answers(**values):
    return {code: value for code, value in values.items() if value is not MISSING}


def weakness_flags(side, trend):
    """The SPEC's red flags raised by these two answers alone, in table order."""
    flags = []
    if side == "both" and trend == "worse":
        flags.append("bilateral_weakness")
    if side in WEAK and trend == "worse":
        flags.append("progressive_weakness")
    return flags


def as_tuples(found):
    """Worsenings as plain (code, words, flag), the words in English."""
    with override("en"):
        return [(item.code, str(item.words), item.flag) for item in found]


def name(value):
    return "missing" if value is MISSING else repr(value)


# --- every weakness combination -----------------------------------------------

WEAKNESS_COMBINATIONS = list(itertools.product(WEAK_SIDE_VALUES, TREND_VALUES, repeat=2))


@pytest.mark.parametrize(
    ("side_before", "trend_before", "side_now", "trend_now"),
    WEAKNESS_COMBINATIONS,
    ids=["-".join(name(value) for value in combination) for combination in WEAKNESS_COMBINATIONS],
)
def test_weakness_answers_are_worse_exactly_as_the_issue_says(
    side_before, trend_before, side_now, trend_now
):
    previous = answers(weak_side=side_before, weakness_trend=trend_before)
    current = answers(weak_side=side_now, weakness_trend=trend_now)
    expected = [
        (NEW_RED_FLAG, f"new red flag: {triage.FLAG_LABELS[flag]}", flag)
        for flag in weakness_flags(side_now, trend_now)
        if flag not in weakness_flags(side_before, trend_before)
    ]
    if (side_before, side_now) in SPREAD:
        expected.append((WEAKNESS_SPREAD, WORDS[WEAKNESS_SPREAD], ""))
    if side_before in WEAK and side_now in WEAK and (trend_before, trend_now) in NOW_WORSE:
        expected.append((WEAKNESS_WORSE, WORDS[WEAKNESS_WORSE], ""))

    assert as_tuples(worsening(previous, current)) == expected
    assert is_worse(previous, current) is bool(expected)


def test_the_weakness_tables_name_real_answers():
    """Guards the tables above: a typo there would make a row silently never match."""
    choices = {"left", "right", "both", "neither"}
    assert {side for pair in SPREAD for side in pair} <= choices
    assert {trend for pair in NOW_WORSE for trend in pair} <= {"worse", "same", "better"}
    assert len(WEAKNESS_COMBINATIONS) == (6 * 5) ** 2


# --- every pain combination ---------------------------------------------------

PAIN_COMBINATIONS = list(itertools.product(PAIN_VALUES, repeat=2))


@pytest.mark.parametrize(
    ("before", "now"),
    PAIN_COMBINATIONS,
    ids=[f"{name(before)}-{name(now)}" for before, now in PAIN_COMBINATIONS],
)
def test_pain_is_worse_when_the_score_rose_by_3_or_more(before, now):
    # Other answers that stay the same must not change the outcome.
    steady = {"weak_side": "left", "weakness_trend": "same", "back_pain": "yes"}
    previous = {**steady, **answers(pain_score=before)}
    current = {**steady, **answers(pain_score=now)}
    rose_by_3 = before is not MISSING and now is not MISSING and now - before >= 3
    expected = [(PAIN_UP, f"pain score up from {before} to {now}", "")] if rose_by_3 else []

    assert as_tuples(worsening(previous, current)) == expected
    assert is_worse(previous, current) is rose_by_3


def test_the_pain_boundary():
    assert is_worse({"pain_score": 4}, {"pain_score": 7})
    assert not is_worse({"pain_score": 4}, {"pain_score": 6})
    assert is_worse({"pain_score": 0}, {"pain_score": 10})
    assert not is_worse({"pain_score": 10}, {"pain_score": 0})


@pytest.mark.parametrize(
    "unreadable", [None, True, False, 11, -1, 7.0, "seven", "", "٧", "3.5", [7], {"score": 7}]
)
def test_an_unreadable_pain_score_is_no_score(unreadable):
    assert not is_worse({"pain_score": 0}, {"pain_score": unreadable})
    assert not is_worse({"pain_score": unreadable}, {"pain_score": 0})
    assert not is_worse({"pain_score": unreadable}, {"pain_score": 10})


def test_a_pain_score_corrected_by_hand_as_text_is_read():
    found = worsening({"pain_score": " 2"}, {"pain_score": "9 "})

    assert as_tuples(found) == [(PAIN_UP, "pain score up from 2 to 9", "")]
    assert is_worse({"pain_score": "2"}, {"pain_score": 5})
    assert not is_worse({"pain_score": "2"}, {"pain_score": 4})


# --- answers as hand corrections leave them ----------------------------------


def test_answers_are_read_trimmed_and_in_any_case():
    previous = {"weak_side": " Left", "weakness_trend": "SAME "}
    current = {"weak_side": "BOTH\n", "weakness_trend": "Worse"}

    codes = [item.code for item in worsening(previous, current)]

    assert codes == [NEW_RED_FLAG, NEW_RED_FLAG, WEAKNESS_SPREAD, WEAKNESS_WORSE]


@pytest.mark.parametrize("unreadable", [None, 1, True, ["left"], ""])
def test_a_weak_side_that_is_not_text_is_no_answer(unreadable):
    assert not is_worse({"weak_side": unreadable}, {"weak_side": "both"})
    assert not is_worse(
        {"weak_side": unreadable, "weakness_trend": "same"},
        {"weak_side": unreadable, "weakness_trend": "worse"},
    )


def test_a_trend_stored_where_it_was_not_asked_does_not_count():
    # SPEC: the trend is asked only when a leg is weak; a stale value is not an answer.
    assert not is_worse(
        {"weak_side": "neither", "weakness_trend": "same"},
        {"weak_side": "neither", "weakness_trend": "worse"},
    )
    # Weakness that is new and getting worse is a new red flag, not a change of trend.
    found = worsening({"weak_side": "neither"}, {"weak_side": "left", "weakness_trend": "worse"})
    assert [(item.code, item.flag) for item in found] == [(NEW_RED_FLAG, "progressive_weakness")]


# --- new red flags -----------------------------------------------------------


def test_a_new_warning_sign_is_a_new_red_flag_in_words():
    found = worsening(
        {"saddle_numbness": "no", "weak_side": "left"},
        {"saddle_numbness": "yes", "weak_side": "both"},
    )

    assert as_tuples(found) == [
        (NEW_RED_FLAG, "new red flag: Numbness between the legs (saddle)", "saddle_numbness"),
        (WEAKNESS_SPREAD, "weakness has spread to the other leg", ""),
    ]


def test_a_flag_the_previous_answers_already_raised_is_not_new():
    both = {"saddle_numbness": "yes", "bladder_retention": "yes"}

    assert worsening(both, {**both, "bowel_incontinence": "yes"}) == [
        Worsening(NEW_RED_FLAG, "new red flag: Bowel control problems", flag="bowel")
    ]
    assert worsening(both, both) == []


def test_flags_are_judged_by_the_current_rules_on_both_sides():
    """A baseline stored under older rules may lack a flag today's rules raise from its answers.

    ``worsening`` takes answers, not stored flags, so such a flag is not new.
    """
    pain_both_legs = {"pain_both_legs": "yes"}  # ``bilateral_leg_pain`` is new in rules v2

    assert worsening(pain_both_legs, pain_both_legs) == []
    assert [item.flag for item in worsening({}, pain_both_legs)] == ["bilateral_leg_pain"]


def test_unsure_about_a_warning_sign_is_a_new_flag():
    found = worsening({"bladder_stream": "no"}, {"bladder_stream": "unsure"})

    assert [item.flag for item in found] == ["ces_unsure"]


def test_missing_previous_answers_count_only_through_new_flags():
    current = {
        "weak_side": "both",
        "weakness_trend": "worse",
        "pain_score": 10,
        "saddle_numbness": "yes",
    }

    found = worsening({}, current)

    assert {item.code for item in found} == {NEW_RED_FLAG}
    assert [item.flag for item in found] == list(triage.assess(current).flags)
    assert worsening(current, {}) == []


def test_everything_at_once_comes_in_a_fixed_order():
    previous = {"weak_side": "right", "weakness_trend": "better", "pain_score": 1}
    current = {
        "weak_side": "both",
        "weakness_trend": "worse",
        "pain_score": 8,
        "saddle_numbness": "yes",
        "bladder_incontinence": "yes",
    }

    assert as_tuples(worsening(previous, current)) == [
        (NEW_RED_FLAG, "new red flag: Numbness between the legs (saddle)", "saddle_numbness"),
        (NEW_RED_FLAG, "new red flag: Bladder problems", "bladder"),
        (
            NEW_RED_FLAG,
            "new red flag: Both legs weak: new, worsening or foot drop",
            "bilateral_weakness",
        ),
        (NEW_RED_FLAG, "new red flag: Weakness getting worse", "progressive_weakness"),
        (WEAKNESS_SPREAD, "weakness has spread to the other leg", ""),
        (WEAKNESS_WORSE, "weakness is now getting worse", ""),
        (PAIN_UP, "pain score up from 1 to 8", ""),
    ]


def test_the_issues_example_follow_up_is_worse():
    """Issue 22's done-when: the other leg is weak now, and numbness between the legs."""
    baseline = {"weak_side": "left", "weakness_trend": "same", "saddle_numbness": "no"}
    follow_up = {"weak_side": "both", "weakness_trend": "same", "saddle_numbness": "yes"}

    assert [(item.code, item.flag) for item in worsening(baseline, follow_up)] == [
        (NEW_RED_FLAG, "saddle_numbness"),
        (WEAKNESS_SPREAD, ""),
    ]
    assert is_worse(baseline, follow_up)
    assert not is_worse(follow_up, baseline)


# --- new_flags ---------------------------------------------------------------


def test_new_flags_keeps_the_current_order():
    assert new_flags(["foot_drop"], ["saddle_numbness", "foot_drop", "bowel"]) == [
        "saddle_numbness",
        "bowel",
    ]
    assert new_flags(("bowel", "saddle_numbness"), ("saddle_numbness", "bowel")) == []


def test_new_flags_with_nothing_before_or_now():
    assert new_flags([], ["bladder"]) == ["bladder"]
    assert new_flags(None, ["bladder"]) == ["bladder"]  # no stored flags: every flag is new
    assert new_flags(["bladder"], []) == []
    assert new_flags(["bladder"], None) == []


def test_new_flags_lists_a_repeated_flag_once_and_keeps_unknown_codes():
    assert new_flags([], ["bowel", "bowel", "retired_rule"]) == ["bowel", "retired_rule"]


# --- the result's shape ------------------------------------------------------


def test_a_worsening_is_immutable_and_its_words_are_lazy():
    """Lazy words are put into the reader's language when shown, not when compared."""
    with override("es"):
        found = worsening(
            {"pain_score": 0, "weak_side": "left"}, {"pain_score": 5, "weak_side": "both"}
        )

    assert [item.code for item in found] == [WEAKNESS_SPREAD, PAIN_UP]
    for item in found:
        assert isinstance(item.words, Promise)
        with pytest.raises(dataclasses.FrozenInstanceError):
            item.code = "other"  # type: ignore[misc]


# --- properties over generated answers --------------------------------------

YES_NO_UNSURE = ("yes", "no", "unsure")
YES_NO = ("yes", "no")
DOMAINS = {
    **{code: YES_NO_UNSURE for code in (*triage.CES_CODES, "leg_gives_way", "osteoporosis")},
    **{
        code: YES_NO
        for code in (
            "falls",
            "foot_lift_difficulty",
            "leg_lift_difficulty",
            "balance_problems",
            "back_pain",
            "pain_both_legs",
            "leg_numbness",
            "night_pain",
            "cancer_history",
            "weight_loss",
            "fever",
            "infection_risk",
            "recent_trauma",
            "steroid_use",
        )
    },
    "weak_side": ("left", "right", "both", "neither"),
    "weakness_onset": ("hours", "days", "weeks"),
    "weakness_trend": ("worse", "same", "better"),
    "pain_pattern": ("back_of_leg", "front_of_thigh", "buttock", "none", "other"),
}


def _messy(value: str) -> st.SearchStrategy[str]:
    """A stored answer as a hand correction might leave it: case and spaces vary."""
    return st.sampled_from([value, value.upper(), value.title(), f" {value} "])


answer_sets = st.fixed_dictionaries(
    {},
    optional={
        **{code: st.sampled_from(values).flatmap(_messy) for code, values in DOMAINS.items()},
        "age": st.integers(min_value=0, max_value=120),
        "pain_score": st.integers(min_value=0, max_value=10),
    },
)
PROPERTY_SETTINGS = settings(database=None, max_examples=300, deadline=None)


@PROPERTY_SETTINGS
@given(answer_sets)
def test_answers_compared_with_themselves_are_never_worse(answers_):
    assert worsening(answers_, answers_) == []
    assert not is_worse(answers_, dict(answers_))


@PROPERTY_SETTINGS
@given(answer_sets, answer_sets)
def test_worse_one_way_is_never_the_same_worse_the_other_way(previous, current):
    forward = {(item.code, item.flag) for item in worsening(previous, current)}
    backward = {(item.code, item.flag) for item in worsening(current, previous)}

    assert not forward & backward


@PROPERTY_SETTINGS
@given(answer_sets, answer_sets)
def test_worsening_is_in_the_fixed_order_and_is_worse_agrees(previous, current):
    found = worsening(previous, current)
    order = [NEW_RED_FLAG, WEAKNESS_SPREAD, WEAKNESS_WORSE, PAIN_UP]
    flags = [item.flag for item in found if item.code == NEW_RED_FLAG]

    assert [item.code for item in found] == sorted((item.code for item in found), key=order.index)
    assert [item.code for item in found].count(NEW_RED_FLAG) == len(flags)
    assert all(item.flag == "" for item in found if item.code != NEW_RED_FLAG)
    assert flags == [
        flag for flag in triage.assess(current).flags if flag not in triage.assess(previous).flags
    ]
    assert is_worse(previous, current) is bool(found)


@PROPERTY_SETTINGS
@given(answer_sets)
def test_missing_answers_on_either_side_count_only_through_new_flags(answers_):
    assert {item.code for item in worsening({}, answers_)} <= {NEW_RED_FLAG}
    assert worsening(answers_, {}) == []


#: A single answer that raises each of these flags whatever else was answered.
RED_FLAG_ANSWERS = {
    "saddle_numbness": ("saddle_numbness", "yes"),
    "bladder": ("bladder_retention", "yes"),
    "bowel": ("bowel_incontinence", "yes"),
    "sexual": ("sexual_dysfunction", "yes"),
    "ces_unsure": ("bladder_sensation", "unsure"),
    "bilateral_leg_pain": ("pain_both_legs", "yes"),
    "foot_drop": ("foot_lift_difficulty", "yes"),
}


@PROPERTY_SETTINGS
@given(answer_sets, st.sampled_from(sorted(RED_FLAG_ANSWERS)))
def test_adding_a_red_flag_answer_yields_that_new_flag(answers_, flag):
    code, value = RED_FLAG_ANSWERS[flag]
    previous = {
        key: answer
        for key, answer in answers_.items()
        if key not in triage.CES_CODES and key != code
    }
    # Without any warning-sign answer and without the flag's own answer, the flag is not raised.
    assert flag not in triage.assess(previous).flags

    found = worsening(previous, {**previous, code: value})

    assert flag in [item.flag for item in found if item.code == NEW_RED_FLAG]
    assert is_worse(previous, {**previous, code: value})


@PROPERTY_SETTINGS
@given(answer_sets, st.integers(0, 10), st.integers(0, 10))
def test_only_the_pain_score_changing_is_worse_only_by_pain(answers_, before, now):
    found = worsening({**answers_, "pain_score": before}, {**answers_, "pain_score": now})

    assert as_tuples(found) == (
        [(PAIN_UP, f"pain score up from {before} to {now}", "")] if now - before >= 3 else []
    )
