"""Deployment checks (`manage.py check --deploy`) for settings the clinic depends on."""

from django.conf import settings
from django.core.checks import Error, Warning, register

from .services import parse_rate


@register(deploy=True)
def alert_settings_check(app_configs, **kwargs):
    problems = []
    if not settings.CLINIC_ALERT_EMAILS:
        problems.append(
            Warning(
                "CLINIC_ALERT_EMAILS is empty: nobody is emailed when an emergency case arrives.",
                hint="Set it to the on-call addresses, comma-separated.",
                id="intake.W001",
            )
        )
    if not settings.CLINIC_BASE_URL.startswith("https://"):
        problems.append(
            Warning(
                f"CLINIC_BASE_URL is {settings.CLINIC_BASE_URL!r}: links in alert emails "
                "would not reach the site over HTTPS.",
                hint="Set it to the public address, e.g. https://intake.example.org",
                id="intake.W002",
            )
        )
    return problems


@register
def rate_limit_settings_check(app_configs, **kwargs):
    try:
        parse_rate(settings.CLINIC_INTAKE_RATE)
    except ValueError as error:
        return [
            Error(
                f"CLINIC_INTAKE_RATE: {error}.",
                hint="For example 120/m: at most 120 questionnaire posts a minute per address.",
                id="intake.E001",
            )
        ]
    return []
