"""What patients are told: the tier promises and the emergency signs, written once.

This is the patient-facing half of the triage table (SPEC "What each tier
promises"), kept beside ``intake/triage.py`` so the two change together. Every
patient-facing page reads it: the questionnaire's live advice, the
confirmation page, the landing page, the education library's emergency box
(``templatetags/patient_advice.py``). ``tests/intake/test_advice.py`` proves
that each emergency sign shown is an emergency row of the rules, and that every
emergency row has a sign.

Words: plain English at a reading age of about 11, each sign framed as new or
getting worse, as the national cauda equina pathway asks.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from . import triage


@dataclass(frozen=True)
class EmergencySign:
    """One "go to an emergency department now" sign, in patient words.

    ``flag`` is the emergency row of the rules that the sign stands for.
    """

    flag: str
    text: str


#: In the order of the rules' table. Exactly the emergency rows, no others.
EMERGENCY_SIGNS: tuple[EmergencySign, ...] = (
    EmergencySign(
        "saddle_numbness",
        _(
            "New numbness, tingling or an odd feeling between your legs: around your "
            "genitals or back passage (bottom), or on your buttocks or inner thighs. "
            "A small patch counts."
        ),
    ),
    EmergencySign(
        "bladder",
        _(
            "New trouble with peeing: it is hard to start, the flow is weak, it is hard to "
            "feel when your bladder is full or when you pee, or you leak pee without warning."
        ),
    ),
    EmergencySign(
        "bowel",
        _("New trouble controlling your bowels, or it is hard to feel when you need to poo."),
    ),
    EmergencySign(
        "bilateral_weakness",
        _(
            "Both legs are weak, and it came on in hours or days, is getting worse, or "
            "your toes catch or your foot slaps down when you walk."
        ),
    ),
    EmergencySign(
        "cancer_weakness",
        _(
            "You have or have had cancer, and now have weakness, numbness or nerve pain "
            "in a leg, trouble walking or with balance, or any sign on this list."
        ),
    ),
    EmergencySign(
        "infection_weakness",
        _(
            "A fever or chills, or a high risk of infection, with a leg that has become "
            "weak in the last few days or is getting weaker."
        ),
    ),
)


@dataclass(frozen=True)
class TierPromise:
    """What one tier promises the patient (SPEC "What each tier promises").

    ``promise`` may name ``%(clinic_phone)s`` and ``%(emergency_number)s``;
    ``promise_text`` fills them in. ``lists_emergency_signs``: the page also
    lists the signs that mean going to an emergency department at once.
    """

    tier: str
    heading: str
    promise: str
    lists_emergency_signs: bool


TIER_PROMISES: dict[str, TierPromise] = {
    triage.EMERGENCY: TierPromise(
        triage.EMERGENCY,
        _("Please get emergency care now"),
        _(
            "Go to an emergency department now, or call %(emergency_number)s. "
            "Do not wait for your appointment, and do not wait to see if it gets better."
        ),
        lists_emergency_signs=False,
    ),
    triage.URGENT: TierPromise(
        triage.URGENT,
        _("A clinician will phone you today"),
        _(
            "Some of your answers mean a clinician needs to speak to you today. If you sent "
            "this outside opening hours, they will phone you the next working morning. If "
            "nobody has called by then, please call us on %(clinic_phone)s."
        ),
        lists_emergency_signs=True,
    ),
    triage.SOON: TierPromise(
        triage.SOON,
        _("We will contact you in the next few days"),
        _(
            "The clinic will contact you within a few working days, before your visit. "
            "You can call us on %(clinic_phone)s."
        ),
        lists_emergency_signs=True,
    ),
    triage.ROUTINE: TierPromise(
        triage.ROUTINE,
        _("We will read your answers before your visit"),
        _(
            "The clinic team will read your answers before your visit. If we need to know "
            "more, we will phone you. You can call us on %(clinic_phone)s."
        ),
        lists_emergency_signs=True,
    ),
}

#: Said with the emergency promise once the case is stored and the alert queued.
CLINIC_ALERTED = _("We have sent your answers to the clinic and told the team on call.")
#: Heading over the list of signs, on every page that lists them.
EMERGENCY_SIGNS_HEADING = _("Go to an emergency department now if you have any of these")


def promise_text(tier: str) -> str:
    """The promise of ``tier`` in the active language, with the clinic's numbers."""
    return TIER_PROMISES[tier].promise % {
        "clinic_phone": settings.CLINIC_PHONE,
        "emergency_number": settings.CLINIC_EMERGENCY_NUMBER,
    }
