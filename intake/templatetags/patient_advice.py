"""The tier promises and emergency signs (intake/advice.py) for patient pages.

Every patient-facing page that tells a patient what will happen or when to go
to an emergency department reads them through these tags, so the pages and
the triage rules cannot drift apart.
"""

from django import template

from intake import advice

register = template.Library()


@register.simple_tag
def emergency_signs() -> tuple[advice.EmergencySign, ...]:
    """The "go to an emergency department now" signs, one per emergency rule."""
    return advice.EMERGENCY_SIGNS


@register.simple_tag
def emergency_signs_heading() -> str:
    return advice.EMERGENCY_SIGNS_HEADING


@register.simple_tag
def tier_promise(tier: str) -> dict[str, object]:
    """What ``tier`` promises the patient: heading, text, whether to list the signs."""
    promise = advice.TIER_PROMISES[tier]
    return {
        "tier": tier,
        "heading": promise.heading,
        "text": advice.promise_text(tier),
        "lists_emergency_signs": promise.lists_emergency_signs,
        "clinic_alerted": advice.CLINIC_ALERTED,
    }
