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
    if not settings.CLINIC_ESCALATION_EMAILS:
        problems.append(
            Warning(
                "CLINIC_ESCALATION_EMAILS is empty: an emergency nobody acknowledges is "
                "escalated only to the on-call addresses that already had the alert.",
                hint="Set it to the addresses of whoever covers when on-call does not answer.",
                id="intake.W003",
            )
        )
    webhook = settings.CLINIC_ALERT_WEBHOOK_URL
    if webhook and not settings.CLINIC_ALERT_WEBHOOK_SECRET.strip():
        problems.append(
            Warning(
                "CLINIC_ALERT_WEBHOOK_URL is set without CLINIC_ALERT_WEBHOOK_SECRET: the "
                "receiver cannot tell our alerts from forged ones.",
                hint="Set CLINIC_ALERT_WEBHOOK_SECRET to a long random value shared with it.",
                id="intake.W004",
            )
        )
    if webhook and not webhook.startswith("https://"):
        problems.append(
            Warning(
                "CLINIC_ALERT_WEBHOOK_URL is not https://: alerts would cross the network "
                "unencrypted.",
                hint="Use the receiver's https:// address.",
                id="intake.W005",
            )
        )
    return problems


@register(deploy=True)
def trusted_proxy_check(app_configs, **kwargs):
    if settings.CLINIC_TRUSTED_PROXIES or not settings.SECURE_SSL_REDIRECT:
        return []
    return [
        Warning(
            "CLINIC_TRUSTED_PROXIES is empty: X-Forwarded-Proto and X-Forwarded-For are "
            "believed from nobody. Behind a TLS proxy every request then looks like plain "
            "HTTP (redirected to HTTPS again and again), and all patients share the proxy's "
            "address for the rate limit and the login lockout.",
            hint="Set it to your proxy's address or network, e.g. 127.0.0.1 for a proxy on "
            "the same machine. Leave it empty only if gunicorn itself terminates TLS.",
            id="intake.W006",
        )
    ]


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
