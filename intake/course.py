"""The course of a case: what is new, and what is worse, since last time.

A follow-up is its own case whose answers are compared with the previous
case's answers (its baseline, or the follow-up before it). These comparisons
sit beside ``intake.triage`` and, like it, are pure functions of the answers:
no database, no request, no clock.

- ``new_flags``: the red flags of the follow-up that the previous assessment
  did not have ("new since last time" on the queue and the case page).
- ``worsening``: why the follow-up is "worse since last time" (issue 22): a new
  red flag, weakness that spread to the other leg, weakness now getting
  worse, or a pain score up by 3 or more. ``is_worse`` says whether there is
  any.

The answers are read as triage reads them (SPEC "Triage"): a string answer is
compared trimmed and lower-case, so a hand correction such as "Both " counts;
anything else, and a missing key, is not an answer. A missing or unreadable
answer on either side never makes a case worse, because a question that was
not asked (or a purged case) is not a symptom that changed. The one
exception is a new red flag, which triage decides from each set of answers as
a whole, the same way it does for any case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from . import triage

#: What makes a follow-up worse, in the order ``worsening`` lists them.
NEW_RED_FLAG = "new_red_flag"
WEAKNESS_SPREAD = "weakness_spread"
WEAKNESS_WORSE = "weakness_worse"
PAIN_UP = "pain_up"
WORSENING_ORDER: tuple[str, ...] = (NEW_RED_FLAG, WEAKNESS_SPREAD, WEAKNESS_WORSE, PAIN_UP)

#: A rise of this many points or more on the 0-10 pain score is worse.
PAIN_RISE = 3
MAX_PAIN_SCORE = 10

# Weakness in one leg can spread; "both" is where it spreads to.
_ONE_LEG = ("left", "right")
# Trend answers that can move to "worse"; "worse" itself cannot.
_NOT_WORSE_TRENDS = ("same", "better")


@dataclass(frozen=True)
class Worsening:
    """One way a follow-up is worse than last time.

    ``code`` is one of ``WORSENING_ORDER``; ``words`` says it to staff in plain
    English, translated when shown; ``flag`` is the triage flag code for a new
    red flag and empty otherwise.
    """

    code: str
    words: str
    flag: str = ""


def _interpolate(message: str, params: Mapping[str, object]) -> str:
    return message % params


# Fill in the words when they are shown, so they are in the reader's language
# then, not in the language active when the comparison ran.
_interpolate_lazy = lazy(_interpolate, str)


def new_flags(
    previous_flags: Iterable[str] | None, current_flags: Iterable[str] | None
) -> list[str]:
    """The current red flags that the previous assessment did not have, in the current order.

    Compare flags from the same rules version: the stored flags of a closed
    baseline may come from older rules, and a rule change is not a change in
    the patient (``worsening`` re-assesses both answer sets for that reason).
    No previous flags (None) means none, so every current flag is new; a flag
    listed twice is listed once.
    """
    previous = set(previous_flags or ())
    found: list[str] = []
    for flag in current_flags or ():
        if flag not in previous and flag not in found:
            found.append(flag)
    return found


def since_last_time(previous, current) -> tuple[list[Worsening], list[str]]:
    """What got worse, and the new red flags in words, from the case ``previous`` to ``current``.

    Both are cases (anything with ``answers`` and ``flags``); nothing for a
    first case (``previous`` None). For the case page and the summary alike.
    """
    if previous is None:
        return [], []
    return (
        worsening(previous.answers, current.answers),
        new_flag_labels(previous.flags, current.flags),
    )


def new_flag_labels(
    previous_flags: Iterable[str] | None, current_flags: Iterable[str] | None
) -> list[str]:
    """``new_flags`` in words for staff."""
    return [triage.flag_label(flag) for flag in new_flags(previous_flags, current_flags)]


def worsening(
    previous_answers: Mapping[str, object], current_answers: Mapping[str, object]
) -> list[Worsening]:
    """Why the current answers are worse than the previous ones; empty when they are not.

    In ``WORSENING_ORDER``, new red flags in triage's order:

    - a new red flag: both answer sets are assessed by the current rules
      (``triage.assess``), so only a change in the answers can make a flag new;
    - weakness spread to the other leg: ``weak_side`` was one leg (left or
      right) and is both now. Neither, missing or an unknown value before is
      not a spread (no leg was weak, as far as we know; the triage flags
      decide whether new weakness in both legs is urgent), and a move from
      one leg to the other is a change of side, not a spread;
    - weakness now getting worse: ``weakness_trend`` was "same" or "better"
      and is "worse" now. The trend counts only where it was asked, that is
      when ``weak_side`` on the same side names a leg, as for triage's
      "progressive weakness"; "worse" both times is not *now* worse;
    - the pain score rose by 3 or more (0-10; an int, or a string of digits
      as a hand correction leaves it; anything else is no score).

    A new red flag and a change in the answers may say the same thing twice
    (weakness now getting worse can also raise "progressive weakness"): the
    flag is what triage concludes, the rest is how the answers moved, and
    staff see both.
    """
    found = [
        Worsening(
            NEW_RED_FLAG,
            _interpolate_lazy(_("new red flag: %(flag)s"), {"flag": triage.flag_label(flag)}),
            flag=flag,
        )
        for flag in new_flags(
            triage.assess(previous_answers).flags, triage.assess(current_answers).flags
        )
    ]
    if weakness_spread(previous_answers, current_answers):
        found.append(Worsening(WEAKNESS_SPREAD, _("weakness has spread to the other leg")))
    if weakness_now_worse(previous_answers, current_answers):
        found.append(Worsening(WEAKNESS_WORSE, _("weakness is now getting worse")))
    before, after = pain_score_of(previous_answers), pain_score_of(current_answers)
    if before is not None and after is not None and after - before >= PAIN_RISE:
        found.append(
            Worsening(
                PAIN_UP,
                _interpolate_lazy(
                    _("pain score up from %(before)s to %(after)s"),
                    {"before": before, "after": after},
                ),
            )
        )
    return found


def is_worse(previous_answers: Mapping[str, object], current_answers: Mapping[str, object]) -> bool:
    """Whether the current answers are worse than the previous ones ("worse since last time")."""
    return bool(worsening(previous_answers, current_answers))


def weakness_spread(
    previous_answers: Mapping[str, object], current_answers: Mapping[str, object]
) -> bool:
    """One leg was weak before and both are now (see ``worsening``)."""
    return (
        _choice(previous_answers, "weak_side") in _ONE_LEG
        and _choice(current_answers, "weak_side") == "both"
    )


def weakness_now_worse(
    previous_answers: Mapping[str, object], current_answers: Mapping[str, object]
) -> bool:
    """The weakness trend moved to "worse" from "same" or "better" (see ``worsening``)."""
    return (
        _weakness_trend(previous_answers) in _NOT_WORSE_TRENDS
        and _weakness_trend(current_answers) == "worse"
    )


def pain_score_of(answers: Mapping[str, object]) -> int | None:
    """The stored ``pain_score`` (0-10), or None when missing or not a score.

    An int (not a bool) or a string of ASCII digits, as for ``triage.age_of``.
    """
    raw = answers.get("pain_score")
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        text = raw.strip()
        raw = int(text) if text.isascii() and text.isdecimal() else None
    if isinstance(raw, int) and 0 <= raw <= MAX_PAIN_SCORE:
        return raw
    return None


def _choice(answers: Mapping[str, object], code: str) -> str | None:
    """A choice answer trimmed and lower-cased, as triage reads it; None if not a string."""
    raw = answers.get(code)
    return raw.strip().lower() if isinstance(raw, str) else None


def _weakness_trend(answers: Mapping[str, object]) -> str | None:
    """The weakness trend where it was asked (a leg is weak), else None."""
    if _choice(answers, "weak_side") not in triage.WEAK_SIDES:
        return None
    return _choice(answers, "weakness_trend")
