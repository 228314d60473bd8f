"""The questionnaire codes a condition page can relate to (SPEC: "The questionnaire").

A condition's ``related_codes`` entry is either a bare code, meaning "answered yes",
or ``code=value`` for a particular answer (``pain_pattern=back_of_leg``,
``weak_side=both``, ``saddle_numbness=unsure``). Keeping the list here lets the
admin reject a mistyped code, which would otherwise silently never match.
"""

import functools

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

YES_NO = ("yes", "no")
YES_NO_UNSURE = ("yes", "no", "unsure")

#: Every questionnaire code that can be matched, with the answers it can have.
ANSWER_CODES: dict[str, tuple[str, ...]] = {
    # Your legs
    "leg_gives_way": YES_NO_UNSURE,
    "weak_side": ("left", "right", "both", "neither"),
    "weakness_onset": ("hours", "days", "weeks"),
    "weakness_trend": ("worse", "same", "better"),
    "falls": YES_NO,
    "foot_lift_difficulty": YES_NO,
    "leg_lift_difficulty": YES_NO,
    "balance_problems": YES_NO,
    # Pain and feeling
    "back_pain": YES_NO,
    "pain_pattern": ("back_of_leg", "front_of_thigh", "buttock", "none", "other"),
    "pain_both_legs": YES_NO,
    "leg_numbness": YES_NO,
    "feet_numbness": YES_NO,
    "burning_pain": YES_NO,
    "walking_pain": YES_NO,
    "night_pain": YES_NO,
    # Urgent warning signs (cauda equina)
    "saddle_numbness": YES_NO_UNSURE,
    "bladder_retention": YES_NO_UNSURE,
    "bladder_sensation": YES_NO_UNSURE,
    "bladder_stream": YES_NO_UNSURE,
    "bladder_incontinence": YES_NO_UNSURE,
    "bowel_incontinence": YES_NO_UNSURE,
    "sexual_dysfunction": YES_NO_UNSURE,
    # Health background
    "diabetes": YES_NO_UNSURE,
    "cancer_history": YES_NO,
    "weight_loss": YES_NO,
    "fever": YES_NO,
    "infection_risk": YES_NO,
    "recent_trauma": YES_NO,
    "steroid_use": YES_NO,
    "osteoporosis": YES_NO_UNSURE,
    "statin_use": YES_NO,
    "recent_illness": YES_NO,
}


@functools.lru_cache(maxsize=1024)
def parse_related_code(related_code: str) -> tuple[str, str]:
    """Split ``code`` or ``code=value`` into ``(code, expected answer)``.

    Kept per process: every questionnaire's topics split the library's codes again.
    """
    code, separator, value = related_code.partition("=")
    return code.strip(), (value.strip() if separator else "yes")


def validate_related_codes(value: object) -> None:
    """Reject anything but a list of known codes with answers the questionnaire can give."""
    if not isinstance(value, list):
        raise ValidationError(_("Related codes must be a list."), code="invalid")
    problems = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            problems.append(_("Each related code must be a non-empty piece of text."))
            continue
        code, expected = parse_related_code(item)
        allowed = ANSWER_CODES.get(code)
        if allowed is None:
            problems.append(_("“%(code)s” is not a questionnaire code.") % {"code": code})
        elif expected not in allowed:
            problems.append(
                _("“%(value)s” is not a possible answer to “%(code)s” (possible: %(allowed)s).")
                % {"value": expected, "code": code, "allowed": ", ".join(allowed)}
            )
    if problems:
        raise ValidationError(problems, code="invalid")
