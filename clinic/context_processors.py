"""Template context shared by every page."""

import re

from django.conf import settings
from django.utils.html import format_html


def phone_link(number: str):
    """A phone number a phone can call with one tap, kept on one line.

    ``tel:`` takes the digits (and a leading +) only; the text stays as the
    clinic writes it, so "555-0100" never breaks into "555-" and "0100".
    """
    dialled = re.sub(r"[^0-9+]", "", number)
    return format_html('<a class="tel-link text-nowrap" href="tel:{}">{}</a>', dialled, number)


def clinic(request):
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "CLINIC_EMERGENCY_NUMBER": settings.CLINIC_EMERGENCY_NUMBER,
        "CLINIC_PHONE_LINK": phone_link(settings.CLINIC_PHONE),
        "CLINIC_EMERGENCY_LINK": phone_link(settings.CLINIC_EMERGENCY_NUMBER),
    }
