"""Background work: the emergency alert email."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils.translation import get_language_info
from django_tasks_db import DatabaseBackend

from . import triage
from .models import Case

logger = logging.getLogger(__name__)


def emergency_alert_message(case: Case) -> tuple[str, str]:
    """Subject and body for the alert: reference, flags and a link, no other PHI.

    Always in English for staff. When the patient answered in another language
    (Spanish), the body says so, so whoever calls them can plan for it.
    """
    flags = ", ".join(triage.flag_label(flag) for flag in case.flags) or "none recorded"
    link = settings.CLINIC_BASE_URL + reverse("admin:intake_case_change", args=[case.pk])
    subject = f"[{settings.CLINIC_NAME}] EMERGENCY intake {case.reference}"
    language = patient_language_note(case.language)
    body = (
        f"An intake questionnaire was triaged as an emergency.\n\n"
        f"Case: {case.reference}\n"
        f"Red flags: {flags}\n"
        + (f"Language: {language}\n" if language else "")
        + f"Open the case: {link}\n\n"
        "Please review it now. Patient details are in the staff system only."
    )
    return subject, body


def patient_language_note(language_code: str) -> str:
    """For staff, in English: the language the patient used, when it is not English."""
    code = (language_code or "").split("-")[0].lower()
    if not code or code == "en":
        return ""
    try:
        name = get_language_info(code)["name"]
    except KeyError:
        name = code
    return f"the patient answered in {name} and may prefer to be spoken to in {name}."


@task
def send_emergency_alert(case_id: int) -> bool:
    """Email CLINIC_ALERT_EMAILS about an emergency case; never raises on mail failure.

    The case is already stored when this runs (it is queued on commit), so a
    failing mail server costs an email, never a case; the failure is logged
    and written on the case's timeline for staff to see.
    """
    from .services import case_record_alert

    case = Case.objects.get(pk=case_id)
    recipients = settings.CLINIC_ALERT_EMAILS
    if not recipients:
        logger.warning(
            "Emergency case %s: CLINIC_ALERT_EMAILS is empty, no alert sent", case.reference
        )
        case_record_alert(case=case, summary="No alert email sent: no alert addresses are set.")
        return False
    subject, body = emergency_alert_message(case)
    try:
        send_mail(subject, body, None, recipients, fail_silently=False)
    except Exception:
        logger.exception("Emergency alert email for case %s could not be sent", case.reference)
        case_record_alert(case=case, summary="Alert email FAILED to send; check the mail server.")
        return False
    case_record_alert(case=case, summary=f"Alert email sent to {len(recipients)} address(es).")
    return True


def queue_emergency_alert(case_id: int) -> None:
    """Queue the alert so it goes out exactly when the case is really stored.

    A backend that stores tasks in the database is given the task inside the
    current transaction: the task row commits with the case (or not at all),
    so a crash right after the commit cannot lose the alert. A backend that
    runs tasks at once waits for the commit instead, so no email ever names a
    case that was rolled back.
    """
    if isinstance(send_emergency_alert.get_backend(), DatabaseBackend):
        send_emergency_alert.enqueue(case_id=case_id)
    else:
        transaction.on_commit(lambda: send_emergency_alert.enqueue(case_id=case_id))
