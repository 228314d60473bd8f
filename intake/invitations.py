"""Appointments and their personal questionnaire links (issue 21): the services.

Staff enter an appointment (``appointment_create``); it gets one invitation
with a personal link. The link's token is an HMAC of a random salt under the
app's secret key (``invitation_token``): the database keeps the salt and the
token's SHA-256, so a copy of the database opens nobody's link, yet a
reminder sent days later can carry the same link. The link works until the
end of the appointment's day, for one patient: before anything of theirs is
shown, the patient confirms their date of birth, and three wrong tries lock
the link (``invitation_check_birth_date``). Confirmed, the questionnaire
starts with "About you" filled in from the invitation
(``invitation_start_questionnaire``), and the case it sends is tied to the
appointment and to the invitation's patient (``invitation_case_made``).
"""

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext

from audit.services import audit_record

from .models import (
    Appointment,
    Case,
    CaseEvent,
    IntakeDraft,
    Invitation,
    InvitationMessage,
    Patient,
)
from .services import draft_create, normalise_last_name, normalise_phone

LINK_HMAC_PURPOSE = "clinic.invitation-link"


def invitation_token(invitation: Invitation) -> str:
    """The link's token: an HMAC of the invitation's salt under the app's secret key."""
    return salted_hmac(LINK_HMAC_PURPOSE, invitation.token_salt, algorithm="sha256").hexdigest()


def token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def invitation_path(invitation: Invitation) -> str:
    """The link's address as it opens now, for a message or the demo.

    The token follows the app's secret key. If the key has changed since the
    invitation was made (a rotation), the stored hash moves to the new token
    here, before the link is sent: the link in an older message stops working,
    the one in this message opens.
    """
    token = invitation_token(invitation)
    current = token_hash(token)
    if invitation.pk is not None and invitation.token_hash != current:
        Invitation.objects.filter(pk=invitation.pk).update(token_hash=current)
        invitation.token_hash = current
    return reverse("intake:invitation", kwargs={"token": token})


def invitation_url(invitation: Invitation) -> str:
    """The full address sent to the patient (``CLINIC_BASE_URL`` and the link)."""
    return settings.CLINIC_BASE_URL + invitation_path(invitation)


def end_of_day(moment: datetime.datetime) -> datetime.datetime:
    """The last moment of ``moment``'s day in clinic time: when its link stops working."""
    local = timezone.localtime(moment)
    midnight = datetime.datetime.combine(
        local.date() + datetime.timedelta(days=1), datetime.time(), tzinfo=local.tzinfo
    )
    return midnight - datetime.timedelta(microseconds=1)


@dataclass(frozen=True)
class NewAppointment:
    """What staff enter for one appointment, by hand or from a row of a CSV file."""

    first_name: str
    last_name: str
    date_of_birth: datetime.date
    starts_at: datetime.datetime
    email: str = ""
    mobile: str = ""
    language: str = "en"
    note: str = ""


def appointment_create(*, new: NewAppointment, by: AbstractBaseUser | None) -> Invitation:
    """Store an appointment, its patient record (found or made) and its invitation.

    Nothing is sent here; sending is queued by the caller once this commits.
    """
    with transaction.atomic():
        (invitation,) = _store_appointments([new], by=by)
        audit_record(
            request=None,
            user=by,
            action="appointment.create",
            object_type="appointment",
            object_id=invitation.appointment_id,
            details={"invitation": invitation.pk, "starts_at": new.starts_at.isoformat()},
        )
    return invitation


def appointments_create_many(
    *, news: list[NewAppointment], by: AbstractBaseUser | None
) -> list[Invitation]:
    """Store many appointments at once (a day's or a week's import), in order.

    The same rows as ``appointment_create`` for each, written a batch at a
    time (a few statements per thousand appointments, not several per
    appointment), with one audit entry listing every appointment made.
    """
    with transaction.atomic():
        invitations = _store_appointments(news, by=by)
        audit_record(
            request=None,
            user=by,
            action="appointment.import",
            object_type="appointment",
            object_label=f"{len(invitations)} appointments",
            details={"appointments": [invitation.appointment_id for invitation in invitations]},
        )
    return invitations


#: Rows per INSERT when many appointments are stored at once.
BATCH_SIZE = 1000


def _store_appointments(news: list[NewAppointment], *, by) -> list[Invitation]:
    """Patients (found or made), appointments and invitations for ``news``; call in a transaction.

    A patient is found, never changed, by the same key as ``patient_get_or_create``
    (last name, date of birth and phone, normalised); two appointments of one
    patient in the same batch share the record.
    """
    if any(not (new.email or new.mobile) for new in news):
        raise ValueError("an invitation needs an email address or a mobile number")
    patients: dict[tuple, Patient] = {}
    for new in news:
        key = _patient_key(new)
        if key not in patients:
            patients[key] = Patient(
                first_name=new.first_name,
                last_name=new.last_name,
                date_of_birth=new.date_of_birth,
                phone=new.mobile,
                email=new.email,
                last_name_key=key[0],
                phone_key=key[2],
            )
    # The update rewrites a matching key with itself, only to return the record's id.
    Patient.objects.bulk_create(
        list(patients.values()),
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["last_name_key", "date_of_birth", "phone_key"],
        update_fields=["last_name_key"],
    )
    appointments = Appointment.objects.bulk_create(
        [
            Appointment(
                patient_id=patients[_patient_key(new)].pk,
                starts_at=new.starts_at,
                note=new.note,
                created_by=by,
            )
            for new in news
        ],
        batch_size=BATCH_SIZE,
    )
    invitations = []
    for new, appointment in zip(news, appointments, strict=True):
        invitation = Invitation(
            appointment=appointment,
            patient_id=appointment.patient_id,
            email=new.email,
            mobile=new.mobile,
            language=new.language,
            expires_at=end_of_day(new.starts_at),
            token_salt=secrets.token_hex(16),
        )
        invitation.token_hash = token_hash(invitation_token(invitation))
        invitations.append(invitation)
    return Invitation.objects.bulk_create(invitations, batch_size=BATCH_SIZE)


def _patient_key(new: NewAppointment) -> tuple:
    return (normalise_last_name(new.last_name), new.date_of_birth, normalise_phone(new.mobile))


def _audit_target(invitation: Invitation) -> dict[str, object]:
    """What an audit entry about an invitation names: its appointment, or the followed-up case."""
    if invitation.appointment_id is not None:
        return {"object_type": "appointment", "object_id": invitation.appointment_id}
    return {"object_type": "case", "object_id": invitation.follow_up_of_id or ""}


def invitation_for_token(raw_token: str | None) -> Invitation | None:
    """The invitation a link's token opens, whatever its state; None for an unknown token."""
    if not raw_token or len(raw_token) > 100:
        return None
    found = (
        Invitation.objects.select_related("appointment", "patient")
        .filter(token_hash=token_hash(raw_token))
        .first()
    )
    # The hash is unique and looked up by value; compare again in constant time.
    if found is None or not constant_time_compare(invitation_token(found), raw_token):
        return None
    return found


def invitation_check_birth_date(*, invitation: Invitation, typed: datetime.date) -> bool:
    """Whether ``typed`` is the invited patient's date of birth; the third wrong one locks the link.

    Counted in the database (``F()``), so tries from two tabs at once both count.
    A lock is recorded in the audit log for the clinic to see.
    """
    if typed == invitation.patient.date_of_birth:
        return True
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        locked.failed_checks += 1
        update = ["failed_checks"]
        if locked.failed_checks >= Invitation.MAX_BIRTH_DATE_TRIES and locked.locked_at is None:
            locked.locked_at = timezone.now()
            update.append("locked_at")
            audit_record(
                request=None,
                action="invitation.locked",
                **_audit_target(locked),
                details={"invitation": locked.pk, "wrong_dates_of_birth": locked.failed_checks},
            )
        locked.save(update_fields=update)
    invitation.failed_checks, invitation.locked_at = locked.failed_checks, locked.locked_at
    return False


def about_you_as_typed(invitation: Invitation) -> dict[str, str]:
    """The "About you" step as if the patient had typed what the clinic holds for them."""
    patient: Patient = invitation.patient
    born = patient.date_of_birth
    typed = {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "phone": invitation.mobile or patient.phone,
        "email": invitation.email,
    }
    if invitation.follow_up_of_id is not None:
        # Not shown in a follow-up (``AboutYouForm.KNOWN_IN_FOLLOW_UP``): one hidden date.
        typed["date_of_birth"] = born.isoformat()
    else:
        typed.update(
            date_of_birth_day=str(born.day),
            date_of_birth_month=str(born.month),
            date_of_birth_year=str(born.year),
        )
    if invitation.appointment is not None:
        day = timezone.localdate(invitation.appointment.starts_at)
        typed.update(
            appointment_date_day=str(day.day),
            appointment_date_month=str(day.month),
            appointment_date_year=str(day.year),
        )
    return typed


def invitation_start_questionnaire(*, invitation: Invitation) -> tuple[IntakeDraft, str]:
    """A new questionnaire for the invited patient, "About you" filled in but not yet confirmed.

    The patient still reads, corrects and sends that step themselves (and
    ticks the statement about emergencies). Returns the draft and the raw
    token its browser keeps.
    """
    draft, raw_token = draft_create(step="about", data=about_you_as_typed(invitation), answers=None)
    draft.invitation = invitation
    draft.follow_up_of_id = invitation.follow_up_of_id
    draft.save(update_fields=["invitation", "follow_up_of"])
    if invitation.opened_at is None:
        invitation.opened_at = timezone.now()
        invitation.save(update_fields=["opened_at"])
    return draft, raw_token


def invited_patient(draft: IntakeDraft) -> Patient | None:
    """The patient a questionnaire opened from an invitation belongs to, if it was."""
    if draft.invitation_id is None:
        return None
    return Patient.objects.filter(invitations__pk=draft.invitation_id).first()


def invitation_case_made(*, draft: IntakeDraft, case: Case, finished: bool) -> None:
    """Tie the case a questionnaire from an invitation made to that invitation.

    ``finished``: the patient sent the whole questionnaire (not only the
    answers so far, sent early at a warning sign). Reminders stop then.
    """
    if draft.invitation_id is None:
        return
    changes = {"case": case}
    if finished:
        changes["finished_at"] = timezone.now()
    Invitation.objects.filter(pk=draft.invitation_id).update(**changes)


def appointment_cancel(*, appointment: Appointment, by: AbstractBaseUser | None) -> None:
    """Cancel an appointment: its link stops working and no reminder goes out."""
    with transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(
            status=Appointment.Status.CANCELLED, cancelled_at=timezone.now()
        )
        audit_record(
            request=None,
            user=by,
            action="appointment.cancel",
            object_type="appointment",
            object_id=appointment.pk,
        )
    appointment.refresh_from_db()


def invitation_stop_reminders(*, invitation: Invitation) -> None:
    """The patient asked for no more reminders: recorded once, honoured from now on."""
    stopped = Invitation.objects.filter(pk=invitation.pk, reminders_stopped_at__isnull=True).update(
        reminders_stopped_at=timezone.now()
    )
    if stopped:
        audit_record(request=None, action="invitation.stopped", **_audit_target(invitation))
    invitation.refresh_from_db()


# Staff's actions on a visit (Upcoming visits): each writes its audit entry and,
# for an appointment with a case, a timeline entry in the same transaction.


class VisitActionRefused(Exception):
    """The action does not apply to the appointment as it is now (message for staff)."""


def invitation_resend(*, invitation: Invitation, by: AbstractBaseUser) -> list[InvitationMessage]:
    """Send the invitation's link again on every channel it has (the next resend number).

    Refused for a cancelled appointment and for a link that no longer opens
    (locked, finished or expired): the patient could do nothing with it.
    """
    with transaction.atomic():
        invitation = (
            # Only the invitation's row: its appointment (an outer join since
            # follow-ups have none) cannot be locked in the same statement.
            Invitation.objects.select_for_update(of=("self",))
            .select_related("appointment")
            .get(pk=invitation.pk)
        )
        appointment = invitation.appointment
        if appointment is not None and appointment.status == Appointment.Status.CANCELLED:
            raise VisitActionRefused(gettext("The appointment is cancelled."))
        if not invitation.usable():
            raise VisitActionRefused(
                gettext("The link no longer opens (finished, locked or past its day).")
            )
        last = invitation.messages.aggregate(last=Max("resend_number"))["last"] or 0
        resend_number = last + 1
        from .invitation_sending import queue_invitation_messages  # it imports this module

        queued = queue_invitation_messages(invitation=invitation, resend_number=resend_number)
        audit_record(
            request=None,
            user=by,
            action="appointment.resend",
            object_type="appointment",
            object_id=invitation.appointment_id,
            details={
                "invitation": invitation.pk,
                "resend_number": resend_number,
                "channels": [message.channel for message in queued],
            },
        )
        if invitation.case_id is not None:
            CaseEvent.objects.create(
                case_id=invitation.case_id,
                kind=CaseEvent.Kind.NOTE,
                author=by,
                summary=f"Questionnaire link sent to the patient again (resend {resend_number}).",
            )
    return queued


def visit_cancel(*, appointment: Appointment, by: AbstractBaseUser) -> Appointment:
    """Cancel the appointment (``appointment_cancel``) and note it on its case's timeline."""
    from .templatetags.intake_admin import staff_datetime  # the staff's one time format

    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.status == Appointment.Status.CANCELLED:
            raise VisitActionRefused(gettext("The appointment was already cancelled."))
        appointment_cancel(appointment=appointment, by=by)
        case_id = (
            Invitation.objects.filter(appointment=appointment)
            .values_list("case_id", flat=True)
            .first()
        )
        if case_id is not None:
            CaseEvent.objects.create(
                case_id=case_id,
                kind=CaseEvent.Kind.NOTE,
                author=by,
                summary=f"Appointment of {staff_datetime(appointment.starts_at)} cancelled.",
            )
    return appointment


# Follow-ups (issue 22) -----------------------------------------------------------


class FollowUpRefused(Exception):
    """A follow-up cannot be sent for this case (message for staff)."""


def follow_up_schedule(
    *,
    case: Case,
    by: AbstractBaseUser | None,
    send_at: datetime.datetime | None = None,
    email: str | None = None,
    mobile: str | None = None,
) -> Invitation:
    """Ask the patient of ``case`` how they are now: a follow-up link, sent at ``send_at``.

    Now when ``send_at`` is None or past; otherwise the messages wait and the
    reminder job sends them when the time comes. By email and/or text message
    (the patient's record's by default), in the case's language; the link
    works for ``CLINIC_FOLLOW_UP_DAYS`` days and has reminders like a visit's.
    The answers become a new case of the same chain (``Case.baseline``),
    compared with the case before. Refused for a case whose answers were
    deleted after the retention period: there is nothing to compare with.
    """
    from .invitation_sending import queue_invitation_messages  # it imports this module
    from .templatetags.intake_admin import staff_datetime  # the staff's one time format

    now = timezone.now()
    send_at = max(send_at or now, now)
    if not case.answers:
        raise FollowUpRefused(
            gettext("This case's answers were deleted, so there is nothing to compare with.")
        )
    patient = case.patient
    email = patient.email if email is None else email
    mobile = patient.phone if mobile is None else mobile
    if not (email or mobile):
        raise FollowUpRefused(gettext("The patient has no email address or phone number."))
    with transaction.atomic():
        invitation = Invitation(
            patient=patient,
            follow_up_of=case,
            email=email,
            mobile=mobile,
            language=case.language,
            send_after=send_at,
            expires_at=end_of_day(
                send_at + datetime.timedelta(days=settings.CLINIC_FOLLOW_UP_DAYS)
            ),
            token_salt=secrets.token_hex(16),
        )
        invitation.token_hash = token_hash(invitation_token(invitation))
        invitation.save(force_insert=True)
        queue_invitation_messages(invitation=invitation, send_at=send_at)
        audit_record(
            request=None,
            user=by,
            action="followup.schedule",
            object_type="case",
            object_id=case.pk,
            object_label=case.reference,
            details={"invitation": invitation.pk, "send_at": send_at.isoformat()},
        )
        when = (
            "sent to the patient" if send_at <= now else f"scheduled for {staff_datetime(send_at)}"
        )
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.NOTE,
            author=by,
            summary=f"Follow-up questionnaire {when}.",
        )
    return invitation
