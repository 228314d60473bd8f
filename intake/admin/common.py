"""What the staff screens share: permissions, search, the paginator, columns, actions.

The red-flag queue (``queue.py``), all cases with the case page (``cases.py``)
and the patients (``patients.py``) build their admins from these pieces, so a
column, a filter or a list action reads and behaves the same on every list.
"""

import datetime
import re

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import triage
from ..models import Case
from ..services import CaseError, case_assign, case_change_status
from ..templatetags.intake_admin import (
    acknowledgement_in_words,
    alert_state_in_words,
    escalation_in_words,
    staff_name,
    symptoms_began,
    waited_for,
)

PERM_CHANGE_STATUS = "intake.change_case_status"
PERM_ASSIGN = "intake.assign_case"
PERM_ADD_NOTE = "intake.add_case_note"
PERM_CORRECT_ANSWERS = "intake.correct_case_answers"

# get_tier_display() rebuilds its lookup table on every call; list rows use this.
TIER_LABELS = dict(Case.Tier.choices)
STYLESHEET = "intake/admin.css"
#: The case page's header and the queue's new columns (issue 20).
STAFF_HEADER_STYLESHEET = "intake/staff_header.css"
#: The one form every Acknowledge button of the queue submits (see the queue's template).
ACKNOWLEDGE_FORM_ID = "case-acknowledge-form"

staff_display_name = staff_name


# Search -----------------------------------------------------------------------

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PHONE_LIKE = re.compile(r"^[0-9 +()./-]+$")
MIN_PHONE_DIGITS = 4


def search_terms(search_term: str) -> list[str]:
    """Split a search box entry the way the admin does ("quoted words" stay together)."""
    terms = []
    for bit in smart_split(search_term):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
            bit = unescape_string_literal(bit)
        if bit.strip():
            terms.append(bit.strip())
    return terms


def patient_search_filter(search_term: str, text_fields: tuple[str, ...], patient_prefix: str) -> Q:
    """Every term must match: text fields, or the date of birth, or the phone digits.

    A date of birth typed as YYYY-MM-DD is an exact match on the date; digits
    typed with or without spaces and dashes match the normalised phone number,
    so "555 0100" finds "555-0100".
    """
    wanted = Q()
    for term in search_terms(search_term):
        matches = Q.create([(f"{name}__icontains", term) for name in text_fields], connector=Q.OR)
        if _ISO_DATE.match(term):
            try:
                born = datetime.date.fromisoformat(term)
            except ValueError:
                pass
            else:
                matches |= Q(**{f"{patient_prefix}date_of_birth": born})
        digits = re.sub(r"\D", "", term)
        if _PHONE_LIKE.match(term) and len(digits) >= MIN_PHONE_DIGITS:
            matches |= Q(**{f"{patient_prefix}phone_key__contains": digits})
        wanted &= matches
    return wanted


class PatientSearchMixin:
    """Search by the declared text fields plus date of birth and phone digits."""

    patient_prefix = "patient__"

    def get_search_results(self, request, queryset, search_term):
        """Match names, reference and phone as text; also dates of birth and phone digits."""
        if not search_term.strip():
            return queryset, False
        wanted = patient_search_filter(search_term, tuple(self.search_fields), self.patient_prefix)
        return queryset.filter(wanted), False


# List performance -----------------------------------------------------------------


class EstimatedCountPaginator(Paginator):
    """Exact counts, except for the unfiltered list of a big PostgreSQL table.

    Counting a million cases exactly reads the whole table (an index of it at
    best) on every view of the list. For the unfiltered list PostgreSQL's own
    statistics give the size, scaled to the table's current size the way the
    planner does it, to within a few percent and for free. With any filter or
    search, or below ``estimate_from`` rows, the count is exact. Either way it
    is one query, so a page's query count does not depend on the table's size.
    """

    estimate_from = 50_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        connection = connections[queryset.db]
        query = queryset.query
        if (
            connection.vendor != "postgresql"
            or query.where
            or query.distinct
            or query.combinator
            or query.is_sliced
            or query.group_by is not None
        ):
            return super().count
        table = connection.ops.quote_name(queryset.model._meta.db_table)
        with connection.cursor() as cursor:
            # One statement either way: the exact count (an InitPlan) only runs
            # when the statistics say the table is small or was never analysed.
            cursor.execute(
                f"""
                SELECT CASE
                    WHEN c.reltuples >= %s AND c.relpages > 0 THEN
                        (c.reltuples / c.relpages
                         * (pg_relation_size(c.oid) / current_setting('block_size')::int))::bigint
                    ELSE (SELECT COUNT(*) FROM {table})
                END
                FROM pg_class c WHERE c.oid = %s::regclass
                """,  # noqa: S608 - the table name is the model's own, quoted
                [self.estimate_from, table],
            )
            return int(cursor.fetchone()[0])


class LeanCaseRowsMixin:
    """List rows without the stored answers and reasons.

    They are the bulk of a case row (about a kilobyte of JSON) and no list
    column shows them; the case page loads them. Deferred rather than ``only()``
    so that a new column never turns into one query per row.
    """

    def get_queryset(self, request, exclude_parameters=None):
        """The list's cases, without the large JSON fields no column shows."""
        queryset = super().get_queryset(request, exclude_parameters)
        return queryset.defer("answers", "reasons")


# Filters ---------------------------------------------------------------------


class RedFlagFilter(admin.SimpleListFilter):
    title = _("red flag")
    parameter_name = "flag"

    def lookups(self, request, model_admin):
        return [(flag, triage.flag_label(flag)) for flag in triage.FLAG_ORDER]

    def queryset(self, request, queryset):
        flag = self.value()
        if flag not in triage.FLAG_LABELS:
            return queryset
        if connections[queryset.db].features.supports_json_field_contains:
            return queryset.filter(flags__contains=[flag])
        # SQLite has no JSON containment: match the quoted code in the stored list.
        return queryset.filter(flags__icontains=f'"{flag}"')


class AssignedFilter(admin.SimpleListFilter):
    title = _("assigned to")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", _("Me")), ("nobody", _("Nobody")), ("others", _("Someone else"))]

    def queryset(self, request, queryset):
        match self.value():
            case "me":
                return queryset.filter(assigned_to=request.user)
            case "nobody":
                return queryset.filter(assigned_to__isnull=True)
            case "others":
                return queryset.filter(assigned_to__isnull=False).exclude(assigned_to=request.user)
        return queryset


# Columns and actions shared by the queue and the case list ----------------------


class FastActionCheckboxMixin:
    """The row checkbox for list actions, without rendering a widget template per row."""

    def action_checkbox(self, obj):
        """Exactly the HTML of Django's own checkbox (a test compares them), built directly.

        Django renders a form widget template for every row's checkbox, which
        was about a third of the time spent on a 100-row list.
        """
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )


class CaseColumnsMixin:
    """List columns for a case, all read from the case and its select_related rows."""

    @admin.display(description=_("tier"), ordering="priority")
    def tier_in_words(self, case: Case) -> str:
        overdue = (
            format_html(' <strong class="case-overdue">{}</strong>', gettext("OVERDUE"))
            if case.is_overdue
            else ""
        )
        return format_html(
            '<span class="case-tier case-tier-{}">{}</span>{}',
            case.tier,
            TIER_LABELS.get(case.tier, case.tier),
            overdue,
        )

    @admin.display(description=_("red flags"))
    def flags_in_words(self, case: Case) -> str:
        if not case.flags:
            return gettext("none")
        return format_html(
            '<ul class="case-flag-list">{}</ul>',
            format_html_join(
                "", '<li class="case-flag">{}</li>', ((label,) for label in case.flag_labels)
            ),
        )

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_name(self, case: Case) -> str:
        return str(case.patient)

    @admin.display(description=_("age"))
    def patient_age(self, case: Case) -> int:
        return case.patient.age

    @admin.display(description=_("date of birth"), ordering="patient__date_of_birth")
    def patient_date_of_birth(self, case: Case) -> datetime.date:
        return case.patient.date_of_birth

    @admin.display(description=_("phone"))
    def patient_phone(self, case: Case) -> str:
        return case.patient.phone

    @admin.display(description=_("waited for"), ordering="submitted_at")
    def waited(self, case: Case) -> str:
        return waited_for(case.submitted_at)

    @admin.display(description=_("symptoms began"), ordering="-symptoms_started")
    def symptoms_began_ago(self, case: Case) -> str:
        return symptoms_began(case.symptoms_started)

    @admin.display(description=_("assigned to"), ordering="assigned_to__username")
    def assignee(self, case: Case) -> str:
        return staff_display_name(case.assigned_to) or gettext("nobody")

    def emergency_handling_html(self, case: Case, *, can_acknowledge: bool) -> str:
        """Acknowledgement (with its button), escalations and the alert's delivery, in words.

        Read from the case's own columns and its ``acknowledged_by`` (selected
        with the row), so a list needs no query per row. The button belongs to
        the page's one acknowledge form (``form="case-acknowledge-form"``): a
        form cannot sit inside the list's own form.
        """
        lines = []
        acknowledged = acknowledgement_in_words(case)
        if acknowledged and case.acknowledged_at is None:
            button = ""
            if can_acknowledge and case.is_open:
                button = format_html(
                    ' <button type="submit" form="{}" formaction="{}" '
                    'class="button case-acknowledge-button">{}'
                    '<span class="visually-hidden"> {}</span></button>',
                    ACKNOWLEDGE_FORM_ID,
                    reverse(
                        "admin:intake_case_acknowledge",
                        args=(quote(case.pk),),
                        current_app=self.admin_site.name,
                    ),
                    gettext("Acknowledge"),
                    case.reference,
                )
            lines.append(
                format_html(
                    '<span class="case-handling case-not-acknowledged">'
                    "<strong>{}</strong>{}</span>",
                    acknowledged,
                    button,
                )
            )
        elif acknowledged:
            lines.append(
                format_html('<span class="case-handling case-acknowledged">{}</span>', acknowledged)
            )
        escalated = escalation_in_words(case)
        if escalated:
            lines.append(
                format_html('<span class="case-handling case-escalated">{}</span>', escalated)
            )
        alert = alert_state_in_words(case)
        if alert:
            lines.append(
                format_html(
                    '<span class="case-handling case-alert case-alert-{}">{}</span>',
                    case.alert_state,
                    format_html("<strong>{}</strong>", alert)
                    if case.alert_state == "failing"
                    else alert,
                )
            )
        return format_html_join("", "{}", ((line,) for line in lines))


class CaseActionsMixin:
    """List actions for the common moves; each calls a service, case by case.

    A move the transition map refuses is reported for that case as a message
    and the others still go ahead: one stale row never blocks the rest.
    """

    actions = [
        "assign_to_me",
        "mark_in_review",
        "mark_contacted",
        "mark_scheduled",
        "mark_sent_to_emergency",
        "mark_closed",
    ]

    def has_change_status_permission(self, request: HttpRequest) -> bool:
        """May change a case's status (actions and the case page)."""
        return request.user.has_perm(PERM_CHANGE_STATUS)

    def has_assign_permission(self, request: HttpRequest) -> bool:
        """May assign cases to staff."""
        return request.user.has_perm(PERM_ASSIGN)

    def _apply_to_selected(
        self, request: HttpRequest, queryset: QuerySet, apply, *, refused: str, done: str
    ) -> None:
        """Run one service per selected case; a refused case becomes a message, never a 500.

        ``refused`` is formatted with the case reference and the reason, ``done``
        with the references that succeeded.
        """
        succeeded = []
        for case in queryset:
            try:
                apply(case)
            except CaseError as error:
                self.message_user(
                    request,
                    refused % {"reference": case.reference, "reason": error},
                    messages.WARNING,
                )
            else:
                succeeded.append(case.reference)
        if succeeded:
            self.message_user(
                request, done % {"references": ", ".join(succeeded)}, messages.SUCCESS
            )

    def _move_selected(self, request: HttpRequest, queryset: QuerySet, to_status: str) -> None:
        self._apply_to_selected(
            request,
            queryset,
            lambda case: case_change_status(case=case, to_status=to_status, by=request.user),
            refused=gettext("%(reference)s not changed: %(reason)s"),
            done=gettext("Now “%(status)s”: %%(references)s.")
            % {"status": Case.Status(to_status).label},
        )

    @admin.action(description=_("Assign to me"), permissions=["assign"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply_to_selected(
            request,
            queryset,
            lambda case: case_assign(case=case, assignee=request.user, by=request.user),
            refused=gettext("%(reference)s not assigned: %(reason)s"),
            done=gettext("Assigned to you: %(references)s."),
        )

    @admin.action(description=_("Mark in review"), permissions=["change_status"])
    def mark_in_review(self, request, queryset):
        self._move_selected(request, queryset, Case.Status.IN_REVIEW)

    @admin.action(description=_("Mark contacted"), permissions=["change_status"])
    def mark_contacted(self, request, queryset):
        self._move_selected(request, queryset, Case.Status.CONTACTED)

    @admin.action(description=_("Mark visit booked"), permissions=["change_status"])
    def mark_scheduled(self, request, queryset):
        self._move_selected(request, queryset, Case.Status.SCHEDULED)

    @admin.action(description=_("Sent to emergency"), permissions=["change_status"])
    def mark_sent_to_emergency(self, request, queryset):
        self._move_selected(request, queryset, Case.Status.SENT_TO_EMERGENCY)

    @admin.action(description=_("Close"), permissions=["change_status"])
    def mark_closed(self, request, queryset):
        self._move_selected(request, queryset, Case.Status.CLOSED)


class ReadOnlyAdminMixin:
    """Rows that only the questionnaire and the services create and change."""

    def has_add_permission(self, request, obj=None) -> bool:
        """Cases and patients come only from the questionnaire."""
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        """No raw editing: every change to a case goes through a service view."""
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        """Clinical records are never deleted from the admin."""
        return False
