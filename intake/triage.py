"""Red-flag triage of intake answers (SPEC "Triage (rules version 2)").

``assess`` is a pure function of the stored answers: no database, no request,
no clock. That keeps it cheap to re-run when staff correct an answer or the
rules change, and easy to test exhaustively.

The rules are data. Each row of the SPEC's red-flag table is a ``_Rule`` whose
condition is a small tree of ``Yes``/``Is``/``AgeAtLeast``/``AllOf``/``AnyOf``
nodes over answer codes. The same tree is

- evaluated here by ``assess``;
- partly evaluated for the questionnaire (``emergency_conditions_for_step``),
  so the browser can warn the patient the moment an answer makes the answers
  so far an emergency, without a second copy of the rules in JavaScript;
- walked by the staff screens to mark which answers raised a flag
  (``FLAG_ANSWERS``).

The patient-facing promises and the list of emergency signs live beside this
module in ``intake/advice.py`` and a test keeps the two in step.

A question that was not asked counts as not reported, and only an explicit
"yes" (or "unsure", or the choice named) counts: a missing, blank or malformed
value must never raise a flag it does not state, nor hide one it does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: The version of the rules below. Each case stores the version that assessed
#: it; when this changes, ``case_reassess_all`` re-assesses the open cases.
#: Version 1 was the first table (``sexual`` an emergency; no
#: ``infection_weakness``, ``bilateral_leg_pain`` or ``fracture_risk``; narrower
#: ``bilateral_weakness`` and ``cancer_weakness``).
RULES_VERSION = 2

EMERGENCY, URGENT, SOON, ROUTINE = "emergency", "urgent", "soon", "routine"
TIERS = (EMERGENCY, URGENT, SOON, ROUTINE)  # most urgent first
QUEUE_TIERS = (EMERGENCY, URGENT)

# Stored on the case so the red-flag queue is one indexed query ordered by
# (priority, submitted_at): saddle numbness and bladder problems are the
# strongest signs of cauda equina syndrome, so they lead the queue.
PRIORITY_SADDLE_AND_BLADDER = 10
PRIORITY_SADDLE_OR_BLADDER = 20
PRIORITY_EMERGENCY = 30
PRIORITY_URGENT = 40
PRIORITY_SOON = 50
PRIORITY_ROUTINE = 60

YES, NO, UNSURE = "yes", "no", "unsure"

# Short names of the cauda equina questions, in SPEC order; reused in reasons.
_CES_NAMES = {
    "saddle_numbness": "numbness between the legs",
    "bladder_retention": "difficulty passing urine",
    "bladder_sensation": "loss of bladder feeling",
    "bladder_stream": "weak stream",
    "bladder_incontinence": "leaking urine",
    "bowel_incontinence": "loss of bowel control or feeling",
    "sexual_dysfunction": "sexual problems",
}
CES_CODES: tuple[str, ...] = tuple(_CES_NAMES)
BLADDER_CODES: tuple[str, ...] = (
    "bladder_retention",
    "bladder_sensation",
    "bladder_stream",
    "bladder_incontinence",
)
# "unsure" to the sexual function question stores "prefer not to say", which is
# a patient's right, not an uncertain symptom.
CES_UNSURE_CODES: tuple[str, ...] = tuple(
    code for code in CES_CODES if code != "sexual_dysfunction"
)

WEAK_SIDES = ("left", "right", "both")
FAST_ONSETS = ("hours", "days")
_LEGS = {"left": "the left leg", "right": "the right leg", "both": "both legs"}
_FAST_ONSET = {"hours": "within hours", "days": "over days"}
_INFECTION_SIGNS = {
    "fever": "fever or chills",
    "infection_risk": "a risk of infection (drug injection, weak immunity "
    "or a recent spinal procedure or infection)",
}
_FRACTURE_RISKS = {
    "osteoporosis": "thin bones (osteoporosis)",
    "steroid_use": "long-term steroid tablets",
}


# Reading the answers ------------------------------------------------------------


def _value(answers: Mapping[str, object], code: str) -> str | None:
    """An answer trimmed and lower-cased; anything but a string is "not answered".

    Answers may come from hand-corrected admin fields, so "Yes " is yes; None,
    booleans and numbers are not an answer to a yes/no or choice question.
    """
    raw = answers.get(code)
    return raw.strip().lower() if isinstance(raw, str) else None


#: The oldest age the questionnaire accepts (SPEC "About you": age 0-120).
MAX_AGE = 120


def age_of(answers: Mapping[str, object]) -> int | None:
    """The stored ``age`` in whole years, or None when unknown.

    An int (not a bool) or a string of digits, as a hand correction might
    store it; anything else, or an age outside 0-120 (the questionnaire's
    limits), is unknown, and no age condition holds for an unknown age.
    """
    raw = answers.get("age")
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        text = raw.strip()
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        raw = int(text) if text.isascii() and text.isdecimal() else None
    if isinstance(raw, int) and 0 <= raw <= MAX_AGE:
        return raw
    return None


# Conditions: a small tree, evaluated here and partly evaluated for the browser --


class Condition:
    """A test of the answers. Subclasses are immutable and comparable."""

    def holds(self, answers: Mapping[str, object]) -> bool:
        raise NotImplementedError

    def residual(self, known: Mapping[str, object], open_codes: frozenset[str]) -> object:
        """Partly evaluate: codes in ``open_codes`` are still being answered.

        Returns True or False when the outcome no longer depends on them, else
        a JSON-friendly tree (lists) over those codes for the browser.
        """
        raise NotImplementedError

    def answer_values(self) -> dict[str, frozenset[str]]:
        """Which values of which codes can help this condition hold."""
        raise NotImplementedError


@dataclass(frozen=True)
class Is(Condition):
    """The answer to ``code`` is one of ``values`` (compared trimmed, lower-case)."""

    code: str
    values: tuple[str, ...]

    def holds(self, answers):
        return _value(answers, self.code) in self.values

    def residual(self, known, open_codes):
        if self.code in open_codes:
            return ["is", self.code, list(self.values)]
        return self.holds(known)

    def answer_values(self):
        return {self.code: frozenset(self.values)}


def Yes(code: str) -> Is:  # noqa: N802 - reads as the table does
    return Is(code, (YES,))


def Unsure(code: str) -> Is:  # noqa: N802
    return Is(code, (UNSURE,))


@dataclass(frozen=True)
class AgeAtLeast(Condition):
    """The patient's age (``age``, whole years on the day sent) is known and >= ``years``."""

    years: int

    def holds(self, answers):
        age = age_of(answers)
        return age is not None and age >= self.years

    def residual(self, known, open_codes):
        # The age comes from the first step, so it is always known or absent.
        return self.holds(known)

    def answer_values(self):
        return {}


@dataclass(frozen=True)
class AllOf(Condition):
    parts: tuple[Condition, ...]

    def holds(self, answers):
        return all(part.holds(answers) for part in self.parts)

    def residual(self, known, open_codes):
        left = []
        for part in self.parts:
            result = part.residual(known, open_codes)
            if result is False:
                return False
            if result is not True:
                left.append(result)
        if not left:
            return True
        return left[0] if len(left) == 1 else ["all", *left]

    def answer_values(self):
        return _merge(part.answer_values() for part in self.parts)


@dataclass(frozen=True)
class AnyOf(Condition):
    parts: tuple[Condition, ...]

    def holds(self, answers):
        return any(part.holds(answers) for part in self.parts)

    def residual(self, known, open_codes):
        left = []
        for part in self.parts:
            result = part.residual(known, open_codes)
            if result is True:
                return True
            if result is not False:
                left.append(result)
        if not left:
            return False
        return left[0] if len(left) == 1 else ["any", *left]

    def answer_values(self):
        return _merge(part.answer_values() for part in self.parts)


def all_of(*parts: Condition) -> AllOf:
    return AllOf(parts)


def any_of(*parts: Condition) -> AnyOf:
    return AnyOf(parts)


def any_yes(*codes: str) -> AnyOf:
    return AnyOf(tuple(Yes(code) for code in codes))


def _merge(mappings) -> dict[str, frozenset[str]]:
    merged: dict[str, frozenset[str]] = {}
    for mapping in mappings:
        for code, values in mapping.items():
            merged[code] = merged.get(code, frozenset()) | values
    return merged


# The SPEC's words, as conditions ----------------------------------------------

#: "leg weakness": a weak leg, or a leg that gives way, or a foot or leg that is
#: hard to lift, whatever the patient calls it.
LEG_WEAKNESS = any_of(
    Is("weak_side", WEAK_SIDES),
    any_yes("leg_gives_way", "falls", "foot_lift_difficulty", "leg_lift_difficulty"),
)
#: "new or worsening weakness".
NEW_OR_WORSENING_WEAKNESS = all_of(
    Is("weak_side", WEAK_SIDES),
    any_of(Is("weakness_onset", FAST_ONSETS), Is("weakness_trend", ("worse",))),
)
#: "any cauda equina yes": any question of the warning-signs step answered yes.
ANY_CAUDA_EQUINA_YES = any_yes(*CES_CODES)
_INFECTION_SIGN = any_yes(*_INFECTION_SIGNS)


# The rules ------------------------------------------------------------------


def _listed(phrases: list[str]) -> str:
    """Join phrases as staff would say them: "a, b and c"."""
    if len(phrases) < 2:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def _yes_names(answers: Mapping[str, object], names: Mapping[str, str]) -> str:
    """The names of the questions answered yes, so staff see exactly what was reported."""
    return _listed([name for code, name in names.items() if _value(answers, code) == YES])


def _weakness_words(answers: Mapping[str, object]) -> str:
    """What the patient reported of leg weakness, in staff words."""
    side = _value(answers, "weak_side")
    words = [f"weakness in {_LEGS[side]}"] if side in _LEGS else []
    words += [
        name
        for code, name in (
            ("leg_gives_way", "a leg giving way"),
            ("falls", "falls"),
            ("foot_lift_difficulty", "trouble lifting the foot"),
            ("leg_lift_difficulty", "trouble lifting the leg"),
        )
        if _value(answers, code) == YES
    ]
    return _listed(words)


def _cancer_signs(answers: Mapping[str, object]) -> str:
    signs = []
    if LEG_WEAKNESS.holds(answers):
        signs.append(_weakness_words(answers))
    for code, name in (
        ("balance_problems", "unsteady walking"),
        ("leg_numbness", "numbness in a leg"),
        ("pain_both_legs", "new pain down both legs"),
    ):
        if _value(answers, code) == YES:
            signs.append(name)
    if _value(answers, "pain_pattern") in ("back_of_leg", "front_of_thigh"):
        signs.append("nerve pain down the leg")
    if ANY_CAUDA_EQUINA_YES.holds(answers):
        signs.append("cauda equina warning signs")
    return _listed(signs)


def _fast_or_worse(answers: Mapping[str, object]) -> str:
    parts = []
    onset = _value(answers, "weakness_onset")
    if onset in _FAST_ONSET:
        parts.append(f"came on {_FAST_ONSET[onset]}")
    if _value(answers, "weakness_trend") == "worse":
        parts.append("getting worse")
    if _value(answers, "foot_lift_difficulty") == YES:
        parts.append("with trouble lifting the foot")
    return _listed(parts)


def _malignancy_signs(answers: Mapping[str, object]) -> str:
    signs = [
        name
        for code, name in (
            ("cancer_history", "a history of cancer"),
            ("weight_loss", "unexplained weight loss"),
        )
        if _value(answers, code) == YES
    ]
    if _value(answers, "night_pain") == YES and AgeAtLeast(50).holds(answers):
        signs.append(f"night pain at age {age_of(answers)}")
    return _listed(signs)


def _fracture_risks(answers: Mapping[str, object]) -> str:
    risks = [f"age {age_of(answers)}"] if AgeAtLeast(70).holds(answers) else []
    risks += [name for code, name in _FRACTURE_RISKS.items() if _value(answers, code) == YES]
    return _listed(risks)


@dataclass(frozen=True)
class _Rule:
    """One row of the SPEC's red-flag table.

    ``reason`` is only called when ``condition`` holds, so it may rely on it.
    """

    flag: str
    tier: str
    label: str
    condition: Condition
    reason: Callable[[Mapping[str, object]], str]


_CES = "Possible cauda equina syndrome: "

# Most important first: this order is the flags' order everywhere.
_RULES: tuple[_Rule, ...] = (
    _Rule(
        "saddle_numbness",
        EMERGENCY,
        "Numbness between the legs (saddle)",
        Yes("saddle_numbness"),
        lambda a: _CES + "new numbness or altered feeling between the legs (saddle area).",
    ),
    _Rule(
        "bladder",
        EMERGENCY,
        "Bladder problems",
        any_yes(*BLADDER_CODES),
        lambda a: (
            _CES
            + f"new bladder problems ({_yes_names(a, {c: _CES_NAMES[c] for c in BLADDER_CODES})})."
        ),
    ),
    _Rule(
        "bowel",
        EMERGENCY,
        "Bowel control problems",
        Yes("bowel_incontinence"),
        lambda a: _CES + "new loss of bowel control or of the feeling of needing to go.",
    ),
    _Rule(
        "bilateral_weakness",
        EMERGENCY,
        "Both legs weak: new, worsening or foot drop",
        all_of(
            Is("weak_side", ("both",)),
            any_of(
                Is("weakness_onset", FAST_ONSETS),
                Is("weakness_trend", ("worse",)),
                Yes("foot_lift_difficulty"),
            ),
        ),
        lambda a: (
            f"Both legs are weak ({_fast_or_worse(a)}): "
            "possible cauda equina syndrome or spinal cord compression."
        ),
    ),
    _Rule(
        "cancer_weakness",
        EMERGENCY,
        "Cancer with nerve symptoms (possible MSCC)",
        all_of(
            Yes("cancer_history"),
            any_of(
                LEG_WEAKNESS,
                Yes("balance_problems"),
                Yes("leg_numbness"),
                Is("pain_pattern", ("back_of_leg", "front_of_thigh")),
                Yes("pain_both_legs"),
                ANY_CAUDA_EQUINA_YES,
            ),
        ),
        lambda a: (
            f"A history of cancer with {_cancer_signs(a)}: possible metastatic spinal cord "
            "compression; contact the MSCC team immediately (NICE)."
        ),
    ),
    _Rule(
        "infection_weakness",
        EMERGENCY,
        "Infection signs with new or worsening weakness",
        all_of(_INFECTION_SIGN, NEW_OR_WORSENING_WEAKNESS),
        lambda a: (
            f"{_yes_names(a, _INFECTION_SIGNS).capitalize()} with weakness in "
            f"{_LEGS[_value(a, 'weak_side')]} that is new or getting worse: possible spinal "
            "infection or abscess pressing on nerves."
        ),
    ),
    _Rule(
        "sexual",
        URGENT,
        "New sexual problems",
        Yes("sexual_dysfunction"),
        lambda a: (
            "New problem with sexual function: alone it is unlikely to be cauda equina "
            "syndrome (GIRFT), but ask about the other warning signs."
        ),
    ),
    _Rule(
        "ces_unsure",
        URGENT,
        "Not sure about warning signs",
        any_of(*(Unsure(code) for code in CES_UNSURE_CODES)),
        lambda a: (
            "Not sure about cauda equina warning signs ("
            + _listed([_CES_NAMES[c] for c in CES_UNSURE_CODES if _value(a, c) == UNSURE])
            + "): call to check."
        ),
    ),
    _Rule(
        "progressive_weakness",
        URGENT,
        "Weakness getting worse",
        all_of(Is("weak_side", WEAK_SIDES), Is("weakness_trend", ("worse",))),
        lambda a: f"Weakness in {_LEGS[_value(a, 'weak_side')]} is getting worse.",
    ),
    _Rule(
        "bilateral_leg_pain",
        URGENT,
        "New or worse pain down both legs",
        Yes("pain_both_legs"),
        lambda a: (
            "New or worsening pain down both legs: possible central disc prolapse "
            "(ask about cauda equina warning signs)."
        ),
    ),
    _Rule(
        "infection",
        URGENT,
        "Back pain with infection signs",
        all_of(_INFECTION_SIGN, Yes("back_pain")),
        lambda a: f"Back pain with {_yes_names(a, _INFECTION_SIGNS)}: possible spinal infection.",
    ),
    _Rule(
        "malignancy",
        URGENT,
        "Back pain with cancer signs",
        all_of(
            Yes("back_pain"),
            any_of(
                Yes("cancer_history"),
                Yes("weight_loss"),
                all_of(Yes("night_pain"), AgeAtLeast(50)),
            ),
        ),
        lambda a: f"Back pain with {_malignancy_signs(a)}: possible cancer in the spine.",
    ),
    _Rule(
        "fracture_risk",
        URGENT,
        "Injury with a fracture risk",
        all_of(
            Yes("back_pain"),
            Yes("recent_trauma"),
            any_of(AgeAtLeast(70), Yes("osteoporosis"), Yes("steroid_use")),
        ),
        lambda a: (
            f"Back pain after a recent injury, with {_fracture_risks(a)}: possible spinal fracture."
        ),
    ),
    _Rule(
        "trauma",
        URGENT,
        "Injury with leg weakness",
        all_of(Yes("recent_trauma"), LEG_WEAKNESS),
        lambda a: f"Recent injury with {_weakness_words(a)}: possible fracture or nerve injury.",
    ),
    _Rule(
        "foot_drop",
        URGENT,
        "Foot drop",
        Yes("foot_lift_difficulty"),
        lambda a: "Trouble lifting the front of the foot: possible foot drop.",
    ),
)

FLAG_ORDER: tuple[str, ...] = tuple(rule.flag for rule in _RULES)
FLAG_TIERS: dict[str, str] = {rule.flag: rule.tier for rule in _RULES}
FLAG_LABELS: dict[str, str] = {rule.flag: rule.label for rule in _RULES}
EMERGENCY_FLAGS: tuple[str, ...] = tuple(f for f in FLAG_ORDER if FLAG_TIERS[f] == EMERGENCY)
#: Which answers (code -> values) can help raise each flag; the case page marks them.
FLAG_ANSWERS: dict[str, dict[str, frozenset[str]]] = {
    rule.flag: rule.condition.answer_values() for rule in _RULES
}

# Without a red flag, these make a case "soon" rather than "routine": signs of
# weakness or instability that need seeing, though not today.
_SOON_REASONS: tuple[tuple[Condition, str], ...] = (
    (Is("weak_side", ("both",)), "Both legs feel weak."),
    (Yes("leg_gives_way"), "A leg has given way."),
    (Yes("falls"), "Has fallen because a leg gave way."),
    (Yes("balance_problems"), "Unsteady walking or loss of balance."),
    (Yes("leg_lift_difficulty"), "Trouble lifting the whole leg."),
    (Yes("night_pain"), "Back pain at night that wakes them or stops sleep."),
)
_ROUTINE_REASON = "No red flags reported."

_TIER_PRIORITY = {
    EMERGENCY: PRIORITY_EMERGENCY,
    URGENT: PRIORITY_URGENT,
    SOON: PRIORITY_SOON,
    ROUTINE: PRIORITY_ROUTINE,
}
# Keyed by how many of saddle_numbness and bladder were raised.
_CAUDA_EQUINA_PRIORITY = {2: PRIORITY_SADDLE_AND_BLADDER, 1: PRIORITY_SADDLE_OR_BLADDER}


@dataclass(frozen=True)
class Assessment:
    """The triage result stored on a case.

    ``reasons`` has one sentence for staff per flag, in the same order. With no
    flag, it says instead why the case is soon (one sentence per sign found) or
    routine, so staff never see an unexplained tier.
    """

    tier: str
    flags: tuple[str, ...]
    reasons: tuple[str, ...]
    priority: int
    rules_version: int = RULES_VERSION

    @property
    def is_emergency(self) -> bool:
        return self.tier == EMERGENCY

    @property
    def in_queue_tier(self) -> bool:
        return self.tier in QUEUE_TIERS


def assess(answers: Mapping[str, object]) -> Assessment:
    """Triage the answers: red flags, tier, reasons for staff and queue priority."""
    raised = [rule for rule in _RULES if rule.condition.holds(answers)]
    if raised:
        tier = min((rule.tier for rule in raised), key=TIERS.index)
        reasons = [rule.reason(answers) for rule in raised]
    else:
        reasons = [reason for condition, reason in _SOON_REASONS if condition.holds(answers)]
        tier = SOON if reasons else ROUTINE
        reasons = reasons or [_ROUTINE_REASON]
    flags = tuple(rule.flag for rule in raised)
    cauda_equina = len({"saddle_numbness", "bladder"}.intersection(flags))
    return Assessment(
        tier=tier,
        flags=flags,
        reasons=tuple(reasons),
        priority=_CAUDA_EQUINA_PRIORITY.get(cauda_equina, _TIER_PRIORITY[tier]),
    )


def tier_is_higher(tier: str, than: str) -> bool:
    """Whether ``tier`` is more urgent than ``than`` (an unknown tier ranks lowest)."""

    def rank(name: str) -> int:
        return TIERS.index(name) if name in TIERS else len(TIERS)

    return rank(tier) < rank(than)


def emergency_conditions_for_step(
    answers_so_far: Mapping[str, object], step_codes: frozenset[str]
) -> list[list]:
    """For the browser: what answers on this step would make the answers an emergency.

    Each emergency rule is evaluated with the answers already given on the
    other steps; what is left depends only on this step's questions and is
    returned as JSON-friendly trees (``["is", code, values]``, ``["all", ...]``,
    ``["any", ...]``; see static/js/intake.js). An empty list means no answer
    on this step can make it an emergency. The step's own saved answers are
    left out of ``answers_so_far`` by the caller: the browser reads them from
    the form as the patient changes them.
    """
    known = {code: value for code, value in answers_so_far.items() if code not in step_codes}
    conditions = []
    for rule in _RULES:
        if rule.tier != EMERGENCY:
            continue
        residual = rule.condition.residual(known, step_codes)
        if residual is True:
            # Already an emergency without this step: the page says so itself.
            return [["always"]]
        if residual is not False:
            conditions.append(residual)
    return conditions


def flag_label(flag: str) -> str:
    """Short words for staff for a flag code; an unknown code is shown as is."""
    return FLAG_LABELS.get(flag, flag)
