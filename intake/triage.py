"""Red-flag triage of intake answers.

``assess`` is a pure function of the stored answers: no database, no request,
no clock. That keeps it cheap to re-run when staff correct an answer, and easy
to test exhaustively. The rules are the SPEC's red-flag table, written once as
data (``_RULES``); the public constants are derived from that table so the
queue, the admin and the emails can never disagree with the rules.

A question that was not asked counts as not reported, and only an explicit
"yes" (or "unsure") counts: a missing, blank or malformed value must never
raise a flag it does not state, nor hide one it does.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

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
    "bowel_incontinence": "loss of bowel control",
    "sexual_dysfunction": "genital numbness or sexual problems",
}
CES_CODES: tuple[str, ...] = tuple(_CES_NAMES)
_BLADDER_NAMES = {
    code: _CES_NAMES[code]
    for code in ("bladder_retention", "bladder_sensation", "bladder_stream", "bladder_incontinence")
}
# "unsure" to the sexual function question stores "prefer not to say", which is
# a patient's right, not an uncertain symptom.
_CES_UNSURE_CODES = tuple(code for code in CES_CODES if code != "sexual_dysfunction")

_NEITHER = "neither"
_LEGS = {"left": "the left leg", "right": "the right leg", "both": "both legs"}
_FAST_ONSET = {"hours": "within hours", "days": "over days"}
# Signs that, with back pain, point to a spinal infection or to cancer.
_INFECTION_SIGNS = {
    "fever": "fever or feeling unwell",
    "infection_risk": "a risk of infection (drug injection, weak immunity "
    "or a recent spinal procedure or infection)",
}
_MALIGNANCY_SIGNS = {
    "cancer_history": "a history of cancer",
    "weight_loss": "unexplained weight loss",
}


class _Answers:
    """Tolerant, read-only view of the answers.

    Values are compared after trimming and lower-casing, because answers may
    come from hand-corrected admin fields; anything that is not a string
    (None, booleans, numbers) is treated as not answered.
    """

    def __init__(self, answers: Mapping[str, object]) -> None:
        self._answers = answers

    def value(self, code: str) -> str | None:
        raw = self._answers.get(code)
        return raw.strip().lower() if isinstance(raw, str) else None

    def is_yes(self, code: str) -> bool:
        return self.value(code) == YES

    def any_yes(self, *codes: str) -> bool:
        return any(self.is_yes(code) for code in codes)

    def is_unsure(self, code: str) -> bool:
        return self.value(code) == UNSURE

    @property
    def weak_side(self) -> str:
        """``left``, ``right`` or ``both``; missing or unknown is ``neither``."""
        side = self.value("weak_side")
        return side if side in _LEGS else _NEITHER

    @property
    def has_weakness(self) -> bool:
        return self.weak_side != _NEITHER

    @property
    def weak_legs(self) -> str:
        return _LEGS[self.weak_side]


def _listed(phrases: list[str]) -> str:
    """Join phrases as staff would say them: "a, b and c"."""
    if len(phrases) < 2:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def _yes_names(answers: _Answers, names: Mapping[str, str]) -> str:
    """The names of the questions answered yes, so staff see exactly what was reported."""
    return _listed([name for code, name in names.items() if answers.is_yes(code)])


@dataclass(frozen=True)
class _Rule:
    """One row of the SPEC's red-flag table.

    ``reason`` is only called when ``raised`` is true, so it may rely on it.
    """

    flag: str
    tier: str
    label: str
    raised: Callable[[_Answers], bool]
    reason: Callable[[_Answers], str]


_CES = "Possible cauda equina syndrome: "

# Most important first: this order is the flags' order everywhere.
_RULES = (
    _Rule(
        "saddle_numbness",
        EMERGENCY,
        "Numbness between the legs (saddle)",
        lambda a: a.is_yes("saddle_numbness"),
        lambda a: _CES + "new numbness or altered feeling between the legs (saddle area).",
    ),
    _Rule(
        "bladder",
        EMERGENCY,
        "Bladder problems",
        lambda a: a.any_yes(*_BLADDER_NAMES),
        lambda a: _CES + f"new bladder problems ({_yes_names(a, _BLADDER_NAMES)}).",
    ),
    _Rule(
        "bowel",
        EMERGENCY,
        "Bowel control problems",
        lambda a: a.is_yes("bowel_incontinence"),
        lambda a: _CES + "new loss of bowel control or cannot feel the bowels.",
    ),
    _Rule(
        "sexual",
        EMERGENCY,
        "Genital numbness or sexual problems",
        lambda a: a.is_yes("sexual_dysfunction"),
        lambda a: _CES + "new numbness of the genitals or new problems with sexual function.",
    ),
    _Rule(
        "bilateral_weakness",
        EMERGENCY,
        "Both legs weak, came on quickly",
        lambda a: a.weak_side == "both" and a.value("weakness_onset") in _FAST_ONSET,
        lambda a: (
            f"Both legs are weak, coming on {_FAST_ONSET[a.value('weakness_onset')]}: "
            "possible cauda equina syndrome or spinal cord compression."
        ),
    ),
    _Rule(
        "cancer_weakness",
        EMERGENCY,
        "Leg weakness with a history of cancer",
        lambda a: a.is_yes("cancer_history") and a.has_weakness,
        lambda a: (
            f"Weakness in {a.weak_legs} with a history of cancer: "
            "possible metastatic spinal cord compression."
        ),
    ),
    _Rule(
        "ces_unsure",
        URGENT,
        "Not sure about warning signs",
        lambda a: any(a.is_unsure(code) for code in _CES_UNSURE_CODES),
        lambda a: (
            "Not sure about cauda equina warning signs ("
            + _listed([_CES_NAMES[code] for code in _CES_UNSURE_CODES if a.is_unsure(code)])
            + "): call to check."
        ),
    ),
    _Rule(
        "progressive_weakness",
        URGENT,
        "Weakness getting worse",
        lambda a: a.has_weakness and a.value("weakness_trend") == "worse",
        lambda a: f"Weakness in {a.weak_legs} is getting worse.",
    ),
    _Rule(
        "infection",
        URGENT,
        "Back pain with infection signs",
        lambda a: a.any_yes(*_INFECTION_SIGNS) and a.is_yes("back_pain"),
        lambda a: f"Back pain with {_yes_names(a, _INFECTION_SIGNS)}: possible spinal infection.",
    ),
    _Rule(
        "malignancy",
        URGENT,
        "Back pain with cancer signs",
        lambda a: a.any_yes(*_MALIGNANCY_SIGNS) and a.is_yes("back_pain"),
        lambda a: (
            f"Back pain with {_yes_names(a, _MALIGNANCY_SIGNS)}: possible cancer in the spine."
        ),
    ),
    _Rule(
        "trauma",
        URGENT,
        "Injury with leg weakness",
        lambda a: a.is_yes("recent_trauma") and a.has_weakness,
        lambda a: f"Recent injury with weakness in {a.weak_legs}: possible fracture.",
    ),
    _Rule(
        "foot_drop",
        URGENT,
        "Foot drop",
        lambda a: a.is_yes("foot_lift_difficulty"),
        lambda a: "Trouble lifting the front of the foot: possible foot drop.",
    ),
)

FLAG_ORDER: tuple[str, ...] = tuple(rule.flag for rule in _RULES)
FLAG_TIERS: dict[str, str] = {rule.flag: rule.tier for rule in _RULES}
FLAG_LABELS: dict[str, str] = {rule.flag: rule.label for rule in _RULES}

# Without a red flag, these make a case "soon" rather than "routine": signs of
# weakness or instability that need seeing, though not today.
_SOON_REASONS: tuple[tuple[Callable[[_Answers], bool], str], ...] = (
    (lambda a: a.weak_side == "both", "Both legs feel weak."),
    (lambda a: a.is_yes("leg_gives_way"), "A leg has given way."),
    (lambda a: a.is_yes("falls"), "Has fallen because a leg gave way."),
    (lambda a: a.is_yes("balance_problems"), "Unsteady walking or loss of balance."),
    (lambda a: a.is_yes("leg_lift_difficulty"), "Trouble lifting the whole leg."),
    (lambda a: a.is_yes("pain_both_legs"), "Pain down both legs."),
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

    @property
    def is_emergency(self) -> bool:
        return self.tier == EMERGENCY

    @property
    def in_queue_tier(self) -> bool:
        return self.tier in QUEUE_TIERS


def assess(answers: Mapping[str, object]) -> Assessment:
    """Triage the answers: red flags, tier, reasons for staff and queue priority."""
    read = _Answers(answers)
    raised = [rule for rule in _RULES if rule.raised(read)]
    if raised:
        tier = min((rule.tier for rule in raised), key=TIERS.index)
        reasons = [rule.reason(read) for rule in raised]
    else:
        reasons = [reason for applies, reason in _SOON_REASONS if applies(read)]
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


def flag_label(flag: str) -> str:
    """Short words for staff for a flag code; an unknown code is shown as is."""
    return FLAG_LABELS.get(flag, flag)
