"""Every write to patients, cases, the timeline and drafts goes through here.

Each state change runs in one transaction together with its timeline entry;
side effects (the alert email) are queued with ``transaction.on_commit`` so
they only happen for data that really was stored.
"""

import datetime
import hashlib
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from clinic.rows import insert_row, write_fields

from . import triage
from .models import Case, CaseEvent, IntakeDraft, Patient, RateLimitCounter, age_in_years

Status = Case.Status

# Capitals and digits without look-alikes (no 0/O, 1/I/L, 5/S, 2/Z, 8/B).
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
REFERENCE_LENGTH = 7

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    # A new case must be looked at before it can be booked or closed.
    Status.NEW: frozenset({Status.IN_REVIEW, Status.CONTACTED, Status.SENT_TO_EMERGENCY}),
    Status.IN_REVIEW: frozenset(
        {Status.CONTACTED, Status.SCHEDULED, Status.SENT_TO_EMERGENCY, Status.CLOSED}
    ),
    Status.CONTACTED: frozenset(
        {Status.IN_REVIEW, Status.SCHEDULED, Status.SENT_TO_EMERGENCY, Status.CLOSED}
    ),
    Status.SCHEDULED: frozenset({Status.CONTACTED, Status.SENT_TO_EMERGENCY, Status.CLOSED}),
    Status.SENT_TO_EMERGENCY: frozenset({Status.CLOSED}),
    # Reopening goes back to review, so someone looks again.
    Status.CLOSED: frozenset({Status.IN_REVIEW}),
}


class CaseError(Exception):
    """A requested change to a case that the rules do not allow."""


class StatusTransitionNotAllowed(CaseError):
    pass


def new_case_reference() -> str:
    """A short, unguessable reference such as C-7K3P9QX (never a sequence)."""
    return "C-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def normalise_last_name(last_name: str) -> str:
    return " ".join(last_name.split()).casefold()


def normalise_phone(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def patient_get_or_create(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: datetime.date,
    phone: str,
    email: str = "",
) -> Patient:
    """Find the patient by last name + date of birth + phone, or create them.

    A returning patient's record is never changed here: an anonymous
    questionnaire must not rename anyone (issue 18). What they typed this time
    is kept on the new case (``Case.details``), and staff decide whether the
    record should take it (``patient_update_from_case``). One statement either
    way (``INSERT ... ON CONFLICT``; the update rewrites a matching key with
    itself, only to return the record's id), so the same person sending twice
    at the same moment cannot make two records. The patient returned carries
    the record's id and what was typed this time.
    """
    patient = Patient(
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        phone=phone,
        email=email,
        last_name_key=normalise_last_name(last_name),
        phone_key=normalise_phone(phone),
    )
    insert_row(patient, unless_stored=("last_name_key", "date_of_birth", "phone_key"))
    return patient


def answers_for_triage(answers: Mapping[str, object]) -> dict[str, object]:
    """Stored answers as triage reads them (ISO date strings back to dates)."""
    result = dict(answers)
    started = result.get("symptoms_started")
    if isinstance(started, str):
        try:
            result["symptoms_started"] = datetime.date.fromisoformat(started)
        except ValueError:
            result.pop("symptoms_started")
    return result


def answers_with_age(
    *, answers: Mapping[str, object], date_of_birth: object, on: datetime.date | None = None
) -> dict[str, object]:
    """The answers with ``age``: whole years on ``on`` (today), as triage reads it.

    SPEC: the age on the day the answers are sent, stored with the answers. No
    usable date of birth means no ``age`` (unknown: no age condition holds).
    """
    result = dict(answers)
    if date_of_birth:
        try:
            born = _as_date(date_of_birth)
        except ValueError:
            return result
        result["age"] = age_in_years(born, on or timezone.localdate())
    return result


#: The case fields ``_apply_assessment`` may change.
ASSESSMENT_FIELDS = (
    "tier",
    "flags",
    "reasons",
    "priority",
    "rules_version",
    "acknowledged_at",
    "acknowledged_by",
    "emergency_since",
)


def _apply_assessment(case: Case, assessment: triage.Assessment) -> None:
    if assessment.is_emergency and case.tier != triage.EMERGENCY:
        # A new emergency (a correction, later answers, new rules): whoever
        # acknowledged the case before acknowledged something else, so it must
        # be acknowledged again or it escalates.
        case.acknowledged_at = None
        case.acknowledged_by = None
        case.emergency_since = timezone.now()
    case.tier = assessment.tier
    case.flags = list(assessment.flags)
    case.reasons = list(assessment.reasons)
    case.priority = assessment.priority
    case.rules_version = assessment.rules_version


# Tries at a free random reference before giving up (each is taken with a
# chance of about one in 6,000 even with a million cases stored).
REFERENCE_ATTEMPTS = 5


def case_submit(
    *,
    details: Mapping[str, object],
    answers: Mapping[str, object],
    submission_token: uuid.UUID,
    language: str = "en",
    early: bool = False,
    patient: Patient | None = None,
    follow_up_of: Case | None = None,
) -> Case:
    """Store a finished questionnaire as a new case, exactly once per submission token.

    ``follow_up_of``: a case of the patient's chain this questionnaire follows
    up (issue 22); the new case is linked to the chain's baseline.

    ``patient``: the record the case belongs to when the clinic already knows
    (a questionnaire opened from the patient's invitation); otherwise the
    record is found or made from the details typed (``patient_get_or_create``).

    ``early``: the answers so far have just made an emergency, so the case is
    made now, before the patient finishes (SPEC "Patient-facing safety"); the
    rest is added later with ``case_add_answers``.

    ``details`` holds the "About you" answers, ``answers`` the symptom codes.
    Posting the same submission again (double click, refresh, retry) returns
    the case made the first time: the unique submission token refuses the
    second case, and the first is looked up only then (a retry is rare, so the
    usual submission runs no extra query). If the random case reference is
    already taken, the whole submission is stored again under a new one.
    """
    for attempt in range(1, REFERENCE_ATTEMPTS + 1):
        reference = new_case_reference()
        try:
            return _case_create(
                details=details,
                answers=answers,
                submission_token=submission_token,
                language=language,
                reference=reference,
                early=early,
                patient=patient,
                follow_up_of=follow_up_of,
            )
        except IntegrityError:
            # Nothing was stored. Sent before (a retry), or a parallel request
            # with the same token won the race: use that case.
            existing = Case.objects.filter(submission_token=submission_token).first()
            if existing is not None:
                return existing
            taken = Case.objects.filter(reference=reference).exists()
            if not taken or attempt == REFERENCE_ATTEMPTS:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def _case_create(
    *, details, answers, submission_token, language, reference, early, patient, follow_up_of
) -> Case:
    answers = answers_with_age(answers=answers, date_of_birth=details["date_of_birth"])
    assessment = triage.assess(answers_for_triage(answers))
    started = answers.get("symptoms_started")
    appointment = details.get("appointment_date")
    with transaction.atomic():
        if patient is None:
            patient = patient_get_or_create(
                first_name=details["first_name"],
                last_name=details["last_name"],
                date_of_birth=_as_date(details["date_of_birth"]),
                phone=details["phone"],
                email=details.get("email") or "",
            )
        case = Case(
            patient=patient,
            reference=reference,
            submission_token=submission_token,
            details=details_as_typed(details),
            answers=dict(answers),
            language=language,
            appointment_date=_as_date(appointment) if appointment else None,
            symptoms_started=_as_date(started) if started else None,
            consented_at=timezone.now(),
            created_early=early,
            baseline_id=(follow_up_of.baseline_id or follow_up_of.pk) if follow_up_of else None,
        )
        if not early:
            case.completed_at = case.submitted_at
        _apply_assessment(case, assessment)
        # Written-out INSERT (nothing listens to a case's save): the CPU of every send.
        insert_row(case)
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.SUBMITTED,
            summary=(
                f"Sent at the first warning sign, before the patient finished; "
                f"triage: {assessment.tier}."
                if early
                else f"Questionnaire submitted by the patient; triage: {assessment.tier}."
            ),
            after={"tier": assessment.tier, "flags": list(assessment.flags)},
        )
        if assessment.is_emergency:
            from .tasks import queue_emergency_alert

            queue_emergency_alert(case.pk)
    return case


def case_add_answers(*, case: Case, answers: Mapping[str, object], complete: bool = False) -> Case:
    """Add what the patient answered after their case was made early, and re-triage.

    ``answers`` are all the symptom answers given so far (with ``age``).
    Recorded on the timeline when anything changed. A later answer never
    lowers the tier of the case (staff were already alerted; a clinician
    decides), and the alert goes out only if the tier has now risen to an
    emergency. ``complete``: the patient sent the last step.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        merged = {**case.answers, **answers}
        changed = {code for code in merged if merged.get(code) != case.answers.get(code)}
        fields = []
        if complete and case.completed_at is None:
            case.completed_at = timezone.now()
            fields.append("completed_at")
        if changed:
            before = {"tier": case.tier, "flags": list(case.flags)}
            assessment = triage.assess(answers_for_triage(merged))
            case.answers = merged
            started = merged.get("symptoms_started")
            case.symptoms_started = _as_date(started) if started else None
            fields += ["answers", "symptoms_started"]
            kept = triage.tier_is_higher(case.tier, assessment.tier)
            if kept:
                summary = (
                    f"The patient added answers; the rules now give {assessment.tier}, "
                    f"but the tier stays {case.tier} until a clinician decides."
                )
            else:
                _apply_assessment(case, assessment)
                fields += [*ASSESSMENT_FIELDS]
                summary = f"The patient added answers; triage {before['tier']} → {assessment.tier}."
            CaseEvent.objects.create(
                case=case,
                kind=CaseEvent.Kind.ANSWERS_ADDED,
                summary=summary,
                before=before,
                after={
                    "tier": assessment.tier,
                    "flags": list(assessment.flags),
                    "answered": sorted(changed - {"age"}),
                },
            )
            if assessment.is_emergency and before["tier"] != triage.EMERGENCY:
                from .tasks import queue_emergency_alert

                queue_emergency_alert(case.pk)
        if fields:
            case.save(update_fields=[*fields, "updated_at"])
    return case


#: The "About you" details a case keeps as typed, in the order staff read them.
DETAILS_FIELDS = ("first_name", "last_name", "date_of_birth", "phone", "email")


def details_as_typed(details: Mapping[str, object]) -> dict[str, str]:
    """The patient's details for ``Case.details``: text as typed, the date as ISO."""
    kept = {}
    for name in DETAILS_FIELDS:
        value = details.get(name)
        if isinstance(value, datetime.date):
            value = value.isoformat()
        kept[name] = "" if value is None else str(value)
    return kept


def case_details_differences(case: Case) -> list[tuple[str, str, str]]:
    """(field, on the patient record, typed on this case) where they differ.

    The fields that match a returning patient (last name, date of birth,
    phone) differ only in how they were written; a blank email typed this
    time is not a difference (the patient left it out).
    """
    if not case.details:
        return []
    patient = case.patient
    record = {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "phone": patient.phone,
        "email": patient.email,
    }
    return [
        (name, record[name], case.details.get(name, ""))
        for name in DETAILS_FIELDS
        if case.details.get(name, "") != record[name]
        and not (name == "email" and not case.details.get(name))
    ]


def patient_update_from_case(*, case: Case, by: AbstractBaseUser) -> Case:
    """Staff accept the details typed on this case onto the patient record.

    Only names, phone and email change (the matching keys stay equal, since the
    case matched them); recorded on the case's timeline with before and after.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("patient").get(pk=case.pk)
        differences = [d for d in case_details_differences(case) if d[0] != "date_of_birth"]
        if not differences:
            raise CaseError("The patient record already has these details.")
        patient = Patient.objects.select_for_update().get(pk=case.patient_id)
        for name, _on_record, typed in differences:
            setattr(patient, name, typed)
        patient.save(update_fields=[name for name, _record, _typed in differences])
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.NOTE,
            author=by,
            summary="Patient record updated with the details typed on this case.",
            before={"patient": {name: old for name, old, _typed in differences}},
            after={"patient": {name: typed for name, _old, typed in differences}},
        )
    return case


def _as_date(value: object) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def case_change_status(*, case: Case, to_status: str, by: AbstractBaseUser, note: str = "") -> Case:
    """Move a case to another status if the transition map allows it, and record it."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        from_status = case.status
        if to_status not in ALLOWED_TRANSITIONS.get(from_status, frozenset()):
            raise StatusTransitionNotAllowed(
                f"A case cannot move from “{Status(from_status).label}” to "
                f"“{Status(to_status).label if to_status in Status.values else to_status}”."
            )
        case.status = to_status
        fields = ["status", "updated_at"]
        if from_status == Status.NEW and case.reviewed_at is None:
            case.reviewed_at = timezone.now()
            fields.append("reviewed_at")
        if to_status in ACKNOWLEDGING_STATUSES and _needs_acknowledging(case):
            # Someone is handling the emergency: it stops escalating.
            case.acknowledged_at = timezone.now()
            case.acknowledged_by = by
            fields += ["acknowledged_at", "acknowledged_by"]
        case.save(update_fields=fields)
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.STATUS,
            author=by,
            summary=f"Status: {Status(from_status).label} → {Status(to_status).label}.",
            text=note,
            before={"status": from_status},
            after={"status": to_status},
        )
        _automatic_follow_up(case, to_status)
    return case


def _automatic_follow_up(case: Case, to_status: str) -> None:
    """Schedule the follow-up the settings ask for when a case is closed or its visit booked.

    ``CLINIC_FOLLOW_UP_AFTER_CLOSED_WEEKS`` / ``..._AFTER_BOOKED_WEEKS`` (0: off).
    One waiting follow-up per case at most; a case without answers or a
    patient without an address gets none (nothing to send, nothing lost:
    staff can still send one by hand).
    """
    weeks = {
        Status.CLOSED: settings.CLINIC_FOLLOW_UP_AFTER_CLOSED_WEEKS,
        Status.SCHEDULED: settings.CLINIC_FOLLOW_UP_AFTER_BOOKED_WEEKS,
    }.get(to_status, 0)
    if not weeks:
        return
    from .invitations import FollowUpRefused, follow_up_schedule  # it imports this module

    now = timezone.now()
    if case.follow_up_invitations.filter(send_after__gt=now).exists():
        return
    try:
        follow_up_schedule(case=case, by=None, send_at=now + datetime.timedelta(weeks=weeks))
    except FollowUpRefused:
        return


#: Moving an emergency to one of these acknowledges it (SPEC "Cases").
ACKNOWLEDGING_STATUSES = frozenset(
    {Status.IN_REVIEW, Status.CONTACTED, Status.SCHEDULED, Status.SENT_TO_EMERGENCY}
)


def _needs_acknowledging(case: Case) -> bool:
    return case.tier == triage.EMERGENCY and case.acknowledged_at is None


def case_acknowledge(*, case: Case, by: AbstractBaseUser) -> Case:
    """A staff member says they have seen this emergency and are handling it.

    Stops its escalation and counts as its first review; recorded on the
    timeline. Acknowledging twice, or a case that is not an emergency, changes
    nothing.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if not _needs_acknowledging(case):
            return case
        now = timezone.now()
        case.acknowledged_at = now
        case.acknowledged_by = by
        fields = ["acknowledged_at", "acknowledged_by", "updated_at"]
        if case.reviewed_at is None:
            case.reviewed_at = now
            fields.append("reviewed_at")
        case.save(update_fields=fields)
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.ACKNOWLEDGED,
            author=by,
            summary=f"Emergency acknowledged by {by.get_username()}.",
        )
    return case


def case_assign(*, case: Case, assignee: AbstractBaseUser | None, by: AbstractBaseUser) -> Case:
    """Give a case to a staff member (or to nobody), and record it."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        before = case.assigned_to
        if assignee is not None and not assignee.is_staff:
            raise CaseError("Cases can only be assigned to staff members.")
        if (before.pk if before else None) == (assignee.pk if assignee else None):
            return case
        case.assigned_to = assignee
        case.save(update_fields=["assigned_to", "updated_at"])
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.ASSIGNMENT,
            author=by,
            summary=(f"Assigned to {assignee.get_username()}." if assignee else "Unassigned."),
            before={"assigned_to": before.get_username() if before else None},
            after={"assigned_to": assignee.get_username() if assignee else None},
        )
    return case


def case_add_note(*, case: Case, text: str, by: AbstractBaseUser) -> CaseEvent:
    """Add a free-text note (for example a phone call) to the case timeline."""
    text = text.strip()
    if not text:
        raise CaseError("A note cannot be empty.")
    return CaseEvent.objects.create(
        case=case, kind=CaseEvent.Kind.NOTE, author=by, summary="Note added.", text=text
    )


def case_correct_answer(
    *, case: Case, code: str, value: object, by: AbstractBaseUser, reason: str
) -> Case:
    """Change one stored answer, re-run triage, and record both changes.

    ``value`` must already be validated (the admin uses the questionnaire's
    own field to clean it); ``None`` removes the answer ("not asked").
    """
    reason = reason.strip()
    if not reason:
        raise CaseError("Please say why the answer is being corrected.")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        answers = dict(case.answers)
        old_value = answers.get(code)
        if isinstance(value, datetime.date):
            value = value.isoformat()
        if value is None or value == "":
            answers.pop(code, None)
        else:
            answers[code] = value
        if answers.get(code) == old_value:
            raise CaseError("The new answer is the same as the old one.")
        before_triage = {"tier": case.tier, "flags": list(case.flags)}
        assessment = triage.assess(answers_for_triage(answers))
        case.answers = answers
        _apply_assessment(case, assessment)
        if code == "symptoms_started":
            case.symptoms_started = _as_date(value) if value else None
        case.save()
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.CORRECTION,
            author=by,
            summary=(
                f"Answer “{code}” corrected; triage {before_triage['tier']} → {assessment.tier}."
            ),
            text=reason,
            before={"answer": {code: old_value}, **before_triage},
            after={
                "answer": {code: answers.get(code)},
                "tier": assessment.tier,
                "flags": list(assessment.flags),
            },
        )
        if assessment.is_emergency and before_triage["tier"] != triage.EMERGENCY:
            # The case has just become an emergency: the on-call team hears of
            # it the same way as of a new one.
            from .tasks import queue_emergency_alert

            queue_emergency_alert(case.pk)
    return case


def case_purge_answers(*, case: Case, retention_days: int) -> Case:
    """Remove a closed case's answers and reasons under the retention policy.

    The case row, its reference, tier, red-flag codes and timeline stay (the
    record of what the clinic did); the patient's answers go. Recorded on the
    timeline in the same transaction.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status != Status.CLOSED:
            raise CaseError("Only closed cases can have their answers removed.")
        if not case.answers and not case.reasons:
            return case
        case.answers = {}
        case.reasons = []
        case.save(update_fields=["answers", "reasons", "updated_at"])
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.NOTE,
            summary=f"Answers removed: closed for more than {retention_days} days.",
        )
    return case


# Drafts -------------------------------------------------------------------


def draft_token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def draft_create(
    *, step: str, data: Mapping[str, str], answers: dict | None
) -> tuple[IntakeDraft, str]:
    """Start a draft with the first step saved (see ``draft_save_step``).

    Returns it with the raw token the browser keeps.
    """
    raw_token = secrets.token_urlsafe(32)
    draft = IntakeDraft(
        token_hash=draft_token_hash(raw_token),
        data={step: dict(data)},
        answers={step: answers},
        answers_checked_on=timezone.localdate(),
    )
    insert_row(draft)  # every new patient's first post; nothing listens to the save
    return draft, raw_token


def draft_save_step(
    *, draft: IntakeDraft, step: str, data: Mapping[str, str], answers: dict | None
) -> None:
    """Keep what the patient typed on one step, valid or not, so nothing is lost.

    ``answers`` are the step's cleaned answers if ``data`` passed validation,
    else None; showing the later steps relies on them (``IntakeDraft.answers``).
    """
    draft.data = {**draft.data, step: dict(data)}
    draft.answers = {**draft.answers, step: answers}
    if draft.answers_checked_on != timezone.localdate():
        draft.answers_checked_on = None  # some were checked on another day
    draft.updated_at = timezone.now()
    # One written-out UPDATE, as QuerySet.update() would send: this runs on every step.
    write_fields(draft, ["data", "answers", "answers_checked_on", "updated_at"])


def draft_link_early_case(*, draft: IntakeDraft, case: Case) -> None:
    """Tie the draft to the case made early; the patient may go on answering.

    The draft keeps its answers so the remaining steps can be shown and sent
    (``draft_mark_submitted`` drops them when the patient finishes or stops).
    """
    draft.case = case
    draft.updated_at = timezone.now()
    draft.save(update_fields=["case", "updated_at"])


def draft_mark_submitted(*, draft: IntakeDraft, case: Case) -> None:
    """Link the draft to its case and drop the copy of the answers it held."""
    draft.case = case
    draft.data = {}
    draft.answers = {}
    draft.answers_checked_on = None
    draft.updated_at = timezone.now()
    write_fields(draft, ["case", "data", "answers", "answers_checked_on", "updated_at"])


def draft_delete(*, draft: IntakeDraft) -> None:
    """Delete a draft and the answers it holds; a case it sent early stays with the clinic."""
    IntakeDraft.objects.filter(pk=draft.pk).delete()


def draft_purge_expired(*, older_than: datetime.datetime) -> int:
    """Delete drafts untouched since ``older_than``; returns how many went."""
    deleted, _ = IntakeDraft.objects.filter(updated_at__lt=older_than).delete()
    return deleted


# Rate limits --------------------------------------------------------------

RATE_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE_PATTERN = re.compile(r"^\s*([1-9][0-9]*)\s*/\s*([smhd])\s*$")

_COUNTERS = RateLimitCounter._meta.db_table
RATE_LIMIT_HIT_SQL = f"""
INSERT INTO {_COUNTERS} (key_hash, window_start, hits, prev_hits) VALUES (%s, %s, 1, 0)
ON CONFLICT (key_hash) DO UPDATE SET
    prev_hits = CASE WHEN {_COUNTERS}.window_start = excluded.window_start
                     THEN {_COUNTERS}.prev_hits
                     WHEN {_COUNTERS}.window_start = %s THEN {_COUNTERS}.hits
                     ELSE 0 END,
    hits = CASE WHEN {_COUNTERS}.window_start = excluded.window_start
                THEN {_COUNTERS}.hits + 1 ELSE 1 END,
    window_start = excluded.window_start
RETURNING hits, prev_hits
"""  # noqa: S608 - the table name is the model's, not input


def parse_rate(rate: str) -> tuple[int, int]:
    """``"120/m"`` -> (120 requests, per 60 seconds); s, m, h and d are understood."""
    match = RATE_PATTERN.match(rate)
    if match is None:
        raise ValueError(f"{rate!r} is not a rate such as 120/m (requests per s, m, h or d)")
    return int(match[1]), RATE_PERIODS[match[2]]


def rate_limit_hit(*, key: str, period_seconds: int, now: datetime.datetime | None = None) -> float:
    """Count one request from ``key``; return how many it made in the last ``period_seconds``.

    A sliding window, estimated from two fixed ones (``period_seconds`` long,
    from the Unix epoch): this window's requests plus the previous window's,
    weighted by how much of it the sliding window still covers. A fixed window
    alone let about twice the limit through across a boundary (issue 18).
    One statement that inserts, counts on, or moves the client's row on
    (``INSERT ... ON CONFLICT ... RETURNING``), so requests arriving together
    each get their own count and nothing else is read or written.
    """
    now = now or timezone.now()
    seconds = now.timestamp()
    start = int(seconds) // period_seconds * period_seconds
    connection = connections[RateLimitCounter.objects.db]

    def at(epoch: int):
        moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
        return connection.ops.adapt_datetimefield_value(moment)

    with connection.cursor() as cursor:
        cursor.execute(
            RATE_LIMIT_HIT_SQL,
            [hashlib.sha256(key.encode()).hexdigest(), at(start), at(start - period_seconds)],
        )
        hits, previous = cursor.fetchone()
    still_covered = (period_seconds - (seconds - start)) / period_seconds
    return hits + previous * still_covered


def rate_limit_purge(*, older_than: datetime.datetime) -> int:
    """Delete counters whose window started before ``older_than``; returns how many went."""
    deleted, _ = RateLimitCounter.objects.filter(window_start__lt=older_than).delete()
    return deleted


# Rules versions -------------------------------------------------------------

#: Cases re-assessed per transaction: short row locks, so staff working on a
#: case wait at most for one batch.
REASSESS_BATCH_SIZE = 500


@dataclass
class ReassessmentCounts:
    """What one re-assessment run did (``case_reassess_all``)."""

    checked: int = 0
    raised: int = 0
    kept_higher: int = 0
    changed_flags: int = 0
    new_emergencies: int = 0

    def as_text(self) -> str:
        return (
            f"{self.checked} case(s) re-assessed with rules version {triage.RULES_VERSION}: "
            f"{self.raised} raised to a more urgent tier ({self.new_emergencies} now "
            f"emergencies, alerted), {self.kept_higher} kept a tier the new rules would "
            f"lower (for a clinician to decide), {self.changed_flags} changed red flags only."
        )


def case_reassess_all(*, batch_size: int = REASSESS_BATCH_SIZE) -> ReassessmentCounts:
    """Re-assess every case still in the clinic's hands with the current rules.

    SPEC "Rules versions": cases whose status is new, in review, contacted or
    scheduled and whose ``rules_version`` is older than ``RULES_VERSION``. A
    tier that rises is applied at once with a timeline entry (and the alert,
    if the case is now an emergency); a tier that would fall is kept and the
    timeline says what the new rules give, for a clinician to decide. Closed
    cases keep the assessment they had.

    Idempotent: a re-assessed case carries the new version, so running it again
    finds nothing. Safe with app servers running: each batch locks its rows
    (``SELECT ... FOR UPDATE``) and re-checks them, so a correction made by
    staff in the meantime (which re-assesses with the current rules itself)
    is never overwritten. Batches walk the partial index
    ``case_rules_version_active`` in id order, reading no closed case.
    """
    counts = ReassessmentCounts()
    # One older version at a time: with an equality on rules_version the
    # partial index (rules_version, id) returns the rows in id order, so each
    # batch is an index range scan (a "<" made PostgreSQL walk the primary key
    # through every closed case instead; docs/performance.md).
    for version in range(1, triage.RULES_VERSION):
        after_id = 0
        while True:
            with transaction.atomic():
                batch = list(
                    reassessment_batch(version=version, after_id=after_id, size=batch_size)
                )
                if not batch:
                    break
                after_id = batch[-1].pk
                _reassess_batch(batch, counts)
    return counts


def reassessment_batch(*, version: int, after_id: int, size: int):
    """The next ``size`` active cases assessed by ``version``, after ``after_id``, locked.

    An equality on rules_version, so the partial index (rules_version, id)
    returns them in id order (docs/performance.md explains the plan).
    """
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("patient")
        .filter(status__in=Case.ACTIVE_STATUSES, rules_version=version, pk__gt=after_id)
        .order_by("rules_version", "pk")[:size]
    )


def _update_cases(cases: list[Case], field_names: list[str]) -> None:
    """Write these fields of each case: one UPDATE per case, sent together.

    ``bulk_update`` builds one CASE WHEN branch per case for every field,
    which cost most of a re-assessment's time (docs/performance.md); the same
    simple statement repeated (``executemany``, pipelined by psycopg) is
    several times faster.
    """
    fields = [Case._meta.get_field(name) for name in field_names]
    connection = connections[Case.objects.db]
    table = connection.ops.quote_name(Case._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    sql = f"UPDATE {table} SET {assignments} WHERE id = %s"  # noqa: S608 - our own columns
    rows = [
        [f.get_db_prep_save(getattr(case, f.attname), connection) for f in fields] + [case.pk]
        for case in cases
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _reassess_batch(cases: list[Case], counts: ReassessmentCounts) -> None:
    events = []
    emergencies = []
    for case in cases:
        counts.checked += 1
        answers = dict(case.answers)
        if "age" not in answers and case.patient.date_of_birth:
            # Stored before the age was kept with the answers: the age on the
            # day the answers were sent, as a submission today would store it.
            submitted_on = timezone.localdate(case.submitted_at)
            answers["age"] = age_in_years(case.patient.date_of_birth, submitted_on)
        assessment = triage.assess(answers_for_triage(answers))
        before = {"tier": case.tier, "flags": list(case.flags), "rules_version": case.rules_version}
        after = {
            "tier": assessment.tier,
            "flags": list(assessment.flags),
            "rules_version": assessment.rules_version,
        }
        version = f"rules version {assessment.rules_version}"
        case.answers = answers
        if triage.tier_is_higher(case.tier, assessment.tier):
            counts.kept_higher += 1
            case.rules_version = assessment.rules_version
            events.append(
                CaseEvent(
                    case=case,
                    kind=CaseEvent.Kind.REASSESSMENT,
                    summary=(
                        f"Re-assessed with {version}: it would give {assessment.tier}, "
                        f"but the tier stays {case.tier} until a clinician decides."
                    ),
                    text="New rules' reasons: " + " ".join(assessment.reasons),
                    before=before,
                    after={**after, "tier_kept": case.tier},
                )
            )
            continue
        raised = triage.tier_is_higher(assessment.tier, case.tier)
        changed = raised or before["flags"] != after["flags"]
        if raised:
            counts.raised += 1
            if assessment.is_emergency:
                counts.new_emergencies += 1
                emergencies.append(case.pk)
        elif changed:
            counts.changed_flags += 1
        _apply_assessment(case, assessment)
        if changed:
            events.append(
                CaseEvent(
                    case=case,
                    kind=CaseEvent.Kind.REASSESSMENT,
                    summary=(
                        f"Re-assessed with {version}: triage {before['tier']} → {assessment.tier}."
                    ),
                    before=before,
                    after=after,
                )
            )
    _update_cases(cases, ["answers", *ASSESSMENT_FIELDS])
    CaseEvent.objects.bulk_create(events)
    if emergencies:
        from .tasks import queue_emergency_alert

        for case_id in emergencies:
            queue_emergency_alert(case_id)
