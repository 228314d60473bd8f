"""Reads of intake data that views and the admin share."""

import datetime
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, router
from django.db.models import Case as SqlCase
from django.db.models import F, JSONField, OuterRef, Q, QuerySet, Subquery, When
from django.utils import timezone

from clinic.rows import read_one

from . import triage
from .models import (
    AlertAttempt,
    AlertDelivery,
    Appointment,
    Case,
    CaseEvent,
    IntakeDraft,
    Invitation,
    overdue_after,
)
from .services import draft_token_hash


def _draft_token_hash(raw_token: str | None) -> str | None:
    """The stored hash of a browser's draft token, or None for no or an absurd token."""
    if not raw_token or len(raw_token) > 100:
        return None
    return draft_token_hash(raw_token)


def _draft_cutoff() -> datetime.datetime:
    """Drafts untouched since before this have expired."""
    return timezone.now() - datetime.timedelta(hours=settings.CLINIC_DRAFT_HOURS)


def draft_for_token(raw_token: str | None) -> IntakeDraft | None:
    """The browser's draft if its token is known and it has not expired.

    Every questionnaire request reads its draft, so the statement is written
    out (``clinic.rows.read_one``): building it through the ORM cost more CPU
    than running it (docs/performance.md). ``token_hash`` is unique, so there
    is at most one row.
    """
    token_hash = _draft_token_hash(raw_token)
    if token_hash is None:
        return None
    draft = read_one(IntakeDraft, "token_hash = %s", [token_hash])
    return draft if draft is not None and draft.updated_at >= _draft_cutoff() else None


def submitted_case_for_token(raw_token: str | None) -> Case | None:
    """The case this browser's questionnaire became, if its draft is known and not expired.

    The confirmation page's read: the draft and its case in one statement,
    written out like ``draft_for_token``'s.
    """
    token_hash = _draft_token_hash(raw_token)
    if token_hash is None:
        return None
    return read_one(
        Case,
        "id = (SELECT case_id FROM intake_intakedraft WHERE token_hash = %s AND updated_at >= %s)",
        [token_hash, _draft_cutoff()],
    )


# Follow-ups (issue 22) ----------------------------------------------------------


def case_chain(case: Case) -> list[Case]:
    """The baseline and its follow-ups in time order, for any case of the chain; one query."""
    root = case.baseline_id or case.pk
    return list(
        Case.objects.filter(Q(pk=root) | Q(baseline_id=root))
        .select_related("patient")
        .order_by("submitted_at", "pk")
    )


def previous_case(chain: list[Case], case: Case) -> Case | None:
    """The case before ``case`` in its chain (what a follow-up is compared with), if any."""
    before = None
    for member in chain:
        if member.pk == case.pk:
            return before
        before = member
    return None


def with_previous_answers(cases: QuerySet[Case]) -> QuerySet[Case]:
    """``cases`` with ``previous_answers`` and ``previous_flags`` for each follow-up.

    The previous case of the chain: the latest case sent before this one among
    the baseline and its follow-ups. Correlated subqueries in the list's own
    query, so a list of follow-ups reads no case a row; both are None for a
    baseline (a case that is not a follow-up).
    """
    previous = (
        Case.objects.filter(
            Q(pk=OuterRef("baseline_id")) | Q(baseline_id=OuterRef("baseline_id")),
            submitted_at__lt=OuterRef("submitted_at"),
        )
        .exclude(pk=OuterRef("pk"))
        .order_by("-submitted_at", "-pk")
    )
    return cases.annotate(
        previous_answers=Subquery(previous.values("answers")[:1]),
        previous_flags=Subquery(previous.values("flags")[:1]),
        # A list that defers the answers still needs a follow-up's own to compare.
        follow_up_answers=SqlCase(
            When(baseline__isnull=False, then=F("answers")),
            default=None,
            output_field=JSONField(),
        ),
    )


def booked_appointment(case: Case) -> Appointment | None:
    """The appointment a case was sent for through its invitation, if it was (issue 21).

    Select ``invitation__appointment`` with the case to read it without a query.
    """
    try:
        invitation = case.invitation
    except Invitation.DoesNotExist:
        return None
    return invitation.appointment if invitation is not None else None


def cases_past_retention(*, now: datetime.datetime, retention_days: int):
    """Closed cases untouched for longer than the retention period that still hold answers."""
    cutoff = now - datetime.timedelta(days=retention_days)
    return (
        Case.objects.filter(status=Case.Status.CLOSED, updated_at__lt=cutoff)
        .exclude(answers={}, reasons=[])
        .order_by("pk")
    )


#: A delivery still waiting this long past its try counts as failing: nothing
#: is taking tasks (the worker is down), even if no attempt has failed yet.
ALERT_STALLED_AFTER = datetime.timedelta(minutes=2)


def failing_alert_count(*, now: datetime.datetime | None = None) -> int:
    """How many cases have an alert or escalation that is not getting through.

    For the red banner on the admin home page: a delivery that has failed and
    not yet gone through, or one left untried for ``ALERT_STALLED_AFTER`` past
    its time. One query over the partial index ``alert_delivery_due`` (pending
    deliveries only), however many alerts were ever sent.
    """
    stalled = (now or timezone.now()) - ALERT_STALLED_AFTER
    return (
        AlertDelivery.objects.filter(state=AlertDelivery.State.PENDING)
        .filter(~Q(last_error="") | Q(next_attempt_at__lt=stalled))
        .values("case_id")
        .distinct()
        .count()
    )


# The red-flag queue's live state ---------------------------------------------------


@dataclass(frozen=True)
class RedFlagQueueState:
    """What an open queue or admin home page needs to know to stay current.

    ``version`` changes whenever the queue's counts change (a case arrives,
    leaves, changes tier, is first reviewed or turns overdue), anything is
    recorded about any case (a timeline entry, an alert delivery or attempt:
    every service writes one in the same transaction as its change) or an
    alert delivery stalls (the red banner's ``failing_alert_count``). It is
    worked out from the database alone, so every app server gives the same
    version for the same state.
    """

    emergencies: int
    emergencies_overdue: int
    urgent: int
    urgent_overdue: int
    newest_emergency_at: datetime.datetime | None
    version: str

    def as_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "emergencies": self.emergencies,
            "emergencies_overdue": self.emergencies_overdue,
            "urgent": self.urgent,
            "urgent_overdue": self.urgent_overdue,
            "newest_emergency_at": (
                self.newest_emergency_at.isoformat() if self.newest_emergency_at else None
            ),
        }


def _aware(value) -> datetime.datetime | None:
    """A datetime from raw SQL: PostgreSQL gives one, SQLite its UTC text."""
    if value is None or isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.UTC)


def red_flag_queue_state(*, now: datetime.datetime | None = None) -> RedFlagQueueState:
    """The queue's counts and a version token, in ONE query whatever the table's size.

    The counts read only the partial index ``case_red_flag_summary`` (an
    index-only scan over the queue's rows, never the closed cases), and the
    three "something was recorded" signals are the newest primary keys of the
    timeline, alert deliveries and alert attempts (one index entry each). The
    deliveries stalled past their time (``failing_alert_count``'s other half,
    which no write marks) are counted on the partial index ``alert_delivery_due``
    of pending deliveries, so the red banner follows them too.

    Columns outside the queue's index (``updated_at``, ``alert_state``) are left out
    on purpose: reading them means reading every queued row from the table,
    which cost 9 ms instead of 1 ms on the benchmark's 5,000-case queue.

    Sequence numbers are handed out before commit, so two changes committing
    in the opposite order within the same moment as a poll could leave the
    later one unseen until the next change; a new or re-tiered emergency is
    never missed that way, because it changes the counts, which are exact.
    """
    now = now or timezone.now()
    connection = connections[router.db_for_read(Case)]
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    emergency_limit = now - overdue_after(triage.EMERGENCY)
    urgent_limit = now - overdue_after(triage.URGENT)
    statuses = [str(status) for status in Case.OPEN_STATUSES]
    tiers = list(triage.QUEUE_TIERS)
    sql = f"""
        SELECT
            COUNT(CASE WHEN c.tier = %s THEN 1 END),
            COUNT(CASE WHEN c.tier = %s AND c.reviewed_at IS NULL
                        AND c.submitted_at < %s THEN 1 END),
            COUNT(CASE WHEN c.tier = %s THEN 1 END),
            COUNT(CASE WHEN c.tier = %s AND c.reviewed_at IS NULL
                        AND c.submitted_at < %s THEN 1 END),
            MAX(CASE WHEN c.tier = %s THEN c.submitted_at END),
            COUNT(c.reviewed_at),
            COALESCE(SUM(c.id), 0),
            (SELECT MAX(e.id) FROM {quote(CaseEvent._meta.db_table)} e),
            (SELECT MAX(d.id) FROM {quote(AlertDelivery._meta.db_table)} d),
            (SELECT MAX(a.id) FROM {quote(AlertAttempt._meta.db_table)} a),
            (SELECT COUNT(*) FROM {quote(AlertDelivery._meta.db_table)} d
              WHERE d.state = %s AND d.next_attempt_at < %s)
        FROM {quote(Case._meta.db_table)} c
        WHERE c.status IN ({", ".join(["%s"] * len(statuses))})
          AND c.tier IN ({", ".join(["%s"] * len(tiers))})
    """  # noqa: S608 - table names are the models' own, quoted; values are parameters
    params = [
        triage.EMERGENCY,
        triage.EMERGENCY,
        adapt(emergency_limit),
        triage.URGENT,
        triage.URGENT,
        adapt(urgent_limit),
        triage.EMERGENCY,
        str(AlertDelivery.State.PENDING),
        adapt(now - ALERT_STALLED_AFTER),
        *statuses,
        *tiers,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    emergencies, emergencies_overdue, urgent, urgent_overdue, newest = row[:5]
    newest = _aware(newest)
    fingerprint = repr((*row[:4], newest.isoformat() if newest else None, *row[5:]))
    return RedFlagQueueState(
        emergencies=emergencies,
        emergencies_overdue=emergencies_overdue,
        urgent=urgent,
        urgent_overdue=urgent_overdue,
        newest_emergency_at=newest,
        version=hashlib.sha256(fingerprint.encode()).hexdigest()[:24],
    )


# The red-flag queue's rows ----------------------------------------------------


def with_last_contact_attempt(cases: QuerySet[Case]) -> QuerySet[Case]:
    """``cases`` with ``last_contact_at``: when the case last moved to "contacted".

    The timeline has no kind of its own for a phone attempt: staff record one
    by moving the case to "contacted" (a status entry whose ``after`` says so),
    so that is the last contact attempt. A correlated subquery over the
    timeline's (case, time) index, in the list's own query: no query per row.
    """
    contacted = (
        CaseEvent.objects.filter(
            case=OuterRef("pk"),
            kind=CaseEvent.Kind.STATUS,
            after__status=Case.Status.CONTACTED.value,
        )
        .order_by("-created_at", "-pk")
        .values("created_at")[:1]
    )
    return cases.annotate(last_contact_at=Subquery(contacted))
