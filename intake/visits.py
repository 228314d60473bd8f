"""The visits of a day or a week for "Upcoming visits", each with its invitation's state.

The state is worked out by the database (``visit_state``), so the page's
counts and its order (open emergencies first) cost one query each, whatever
the number of visits.
"""

import datetime

from django.db.models import Case as SqlCase
from django.db.models import (
    CharField,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Appointment, Case, InvitationMessage


class VisitState:
    """The state of an appointment's invitation, in words; the first that applies wins."""

    CANCELLED = "cancelled"
    FINISHED = "finished"
    LOCKED = "locked"
    NOT_FINISHED = "not_finished"
    STOPPED = "stopped"
    OPENED = "opened"
    BOUNCED = "bounced"
    SENT = "sent"
    NOT_SENT = "not_sent"

    LABELS = {
        CANCELLED: _("cancelled"),
        FINISHED: _("finished"),
        LOCKED: _("locked"),
        NOT_FINISHED: _("not finished"),
        STOPPED: _("reminders stopped"),
        OPENED: _("opened"),
        BOUNCED: _("bounced"),
        SENT: _("sent"),
        NOT_SENT: _("not sent"),
    }
    MEANINGS = {
        CANCELLED: _("The appointment was cancelled: the link no longer opens."),
        FINISHED: _("The patient sent the whole questionnaire; its tier and case are shown."),
        LOCKED: _("Three wrong dates of birth were typed on the link: it is locked."),
        NOT_FINISHED: _(
            "Answers were sent early at a warning sign, or the visit time came, "
            "and the questionnaire is not finished."
        ),
        STOPPED: _("The patient asked for no more reminders."),
        OPENED: _("The patient opened the link but has not finished."),
        BOUNCED: _("A message could not be sent and none has gone out."),
        SENT: _("The link was sent; the patient has not opened it yet."),
        NOT_SENT: _("No message has gone out yet."),
    }


def _state_expression(now: datetime.datetime) -> SqlCase:
    """The state as SQL, so the counts and the order are worked out by the database."""
    messages = InvitationMessage.objects.filter(invitation=OuterRef("invitation"))
    sent = Exists(messages.filter(state=InvitationMessage.State.SENT))
    failed = Exists(messages.filter(state=InvitationMessage.State.FAILED))
    return SqlCase(
        When(status=Appointment.Status.CANCELLED, then=Value(VisitState.CANCELLED)),
        When(invitation__finished_at__isnull=False, then=Value(VisitState.FINISHED)),
        When(invitation__locked_at__isnull=False, then=Value(VisitState.LOCKED)),
        When(
            Q(invitation__case__isnull=False) | Q(starts_at__lte=now),
            then=Value(VisitState.NOT_FINISHED),
        ),
        When(invitation__reminders_stopped_at__isnull=False, then=Value(VisitState.STOPPED)),
        When(invitation__opened_at__isnull=False, then=Value(VisitState.OPENED)),
        When(failed & ~sent, then=Value(VisitState.BOUNCED)),
        When(sent, then=Value(VisitState.SENT)),
        default=Value(VisitState.NOT_SENT),
        output_field=CharField(),
    )


def upcoming_visits(
    *, start: datetime.datetime, end: datetime.datetime, now: datetime.datetime | None = None
) -> QuerySet[Appointment]:
    """Appointments from ``start`` to before ``end``, open emergencies first, then by time.

    Each carries ``visit_state`` (a ``VisitState``), its patient, invitation and
    case, all in one query.
    """
    now = now or timezone.now()
    open_emergency = SqlCase(
        When(
            invitation__case__tier=Case.Tier.EMERGENCY,
            invitation__case__status__in=Case.OPEN_STATUSES,
            then=Value(0),
        ),
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        Appointment.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .select_related("patient", "invitation", "invitation__case")
        .annotate(visit_state=_state_expression(now), emergency_last=open_emergency)
        .order_by("emergency_last", "starts_at", "pk")
    )


def visit_state_counts(visits: QuerySet[Appointment]) -> dict[str, int]:
    """How many of ``visits`` are in each state (every state listed, zeros too); one query."""
    found = dict(
        visits.order_by()
        .values_list("visit_state")
        .annotate(number=Count("pk"))
        .values_list("visit_state", "number")
    )
    return {state: found.get(state, 0) for state in VisitState.LABELS}
