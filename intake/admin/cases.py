"""Staff screens: the red-flag queue, all cases, and patients.

Nothing here writes to a case directly. The case page is read-only; each of its
buttons posts to a small view (``CaseAdmin.get_urls``) that checks its own
permission and calls one service from ``intake/services.py``, and the list
actions call the same services. The admin therefore obeys the same rules
(transition map, timeline entry in the same transaction) as everything else.

Cases and patients come only from the questionnaire, so nobody can add or
delete them here, and the timeline (``CaseEvent``) is not registered at all: it
is shown read-only on the case page.
"""

import copy
import datetime
import logging
import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import DatabaseError, connections, transaction
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from .. import triage
from ..dashboard_views import dashboard_urls
from ..export_admin import CaseExportAdminMixin
from ..models import Case, Patient, RedFlagCase
from ..selectors import red_flag_queue_state, with_last_contact_attempt
from ..services import (
    ALLOWED_TRANSITIONS,
    CaseError,
    case_acknowledge,
    case_add_note,
    case_assign,
    case_change_status,
    case_correct_answer,
)
from ..tablet import clinic_tablet_admin_view
from ..templatetags.intake_admin import (
    Question,
    acknowledgement_in_words,
    alert_state_in_words,
    answer_in_words,
    answer_sections,
    clinic_time,
    escalation_in_words,
    is_other_language,
    language_in_words,
    phone_link,
    staff_date,
    staff_datetime,
    staff_name,
    symptom_questions,
    symptoms_began,
    unanswered_questions,
    waited_for,
)

logger = logging.getLogger(__name__)

PERM_CHANGE_STATUS = "intake.change_case_status"
PERM_ASSIGN = "intake.assign_case"
PERM_ADD_NOTE = "intake.add_case_note"
PERM_CORRECT_ANSWERS = "intake.correct_case_answers"

NOTE_MAX_LENGTH = 5000
# get_tier_display() rebuilds its lookup table on every call; list rows use this.
TIER_LABELS = dict(Case.Tier.choices)
STYLESHEET = "intake/admin.css"
#: The case page's header and the queue's new columns (issue 20).
STAFF_HEADER_STYLESHEET = "intake/staff_header.css"
#: The staff pages' script that keeps the queue and the admin home up to date.
LIVE_QUEUE_SCRIPT = "intake/live_queue.js"
#: The one form every Acknowledge button of the queue submits (see the queue's template).
ACKNOWLEDGE_FORM_ID = "case-acknowledge-form"
#: Sent by the live-queue script when it fetches the queue again by itself.
LIVE_REFRESH_HEADER = "X-Live-Refresh"


def next_statuses(status: str) -> list[Case.Status]:
    """The statuses a case may move to from ``status``, in the usual order of work."""
    allowed = ALLOWED_TRANSITIONS.get(status, frozenset())
    return [choice for choice in Case.Status if choice in allowed]


staff_display_name = staff_name


def leave_session_untouched(request: HttpRequest) -> None:
    """Keep a poll or an automatic refresh from counting as staff activity.

    Sessions end after 30 minutes idle because ``SESSION_SAVE_EVERY_REQUEST``
    saves (and so extends) the session on every response. A page that polls
    every few seconds would otherwise keep an unattended screen logged in for
    ever, and write the session row on every poll. ``SessionMiddleware``
    leaves a request without a session alone, so the session is detached once
    the view (and its template) no longer needs it.
    """
    request.__dict__.pop("session", None)


def _after_rendering(response: HttpResponse, callback) -> None:
    """Run ``callback`` once a template response is rendered (at once for any other)."""
    if hasattr(response, "add_post_render_callback"):
        response.add_post_render_callback(lambda _response: callback())
    else:
        callback()


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


class CaseChangeList(LeanCaseRowsMixin, ChangeList):
    pass


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


class OpenStatusFilter(admin.SimpleListFilter):
    """Only the statuses a queued case can have (closed cases are never queued)."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(status.value, status.label) for status in Case.OPEN_STATUSES]

    def queryset(self, request, queryset):
        if self.value() in Case.OPEN_STATUSES:
            return queryset.filter(status=self.value())
        return queryset


class QueueTierFilter(admin.SimpleListFilter):
    title = _("tier")
    parameter_name = "tier"

    def lookups(self, request, model_admin):
        return [(tier, Case.Tier(tier).label) for tier in triage.QUEUE_TIERS]

    def queryset(self, request, queryset):
        if self.value() in triage.QUEUE_TIERS:
            return queryset.filter(tier=self.value())
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


# The red-flag queue ------------------------------------------------------------


class RedFlagQueueChangeList(LeanCaseRowsMixin, ChangeList):
    """The queue's list: always in the safe order, rows open the case page."""

    def get_ordering(self, request, queryset):
        """The queue's own order (priority, then longest waiting); ?o= is ignored.

        Staff must never be able to sort a dangerous case off the top of the
        queue, so column sorting is off and the order is not negotiable.
        """
        return list(RedFlagCase.objects.red_flag_queue().query.order_by)

    def url_for_result(self, result) -> str:
        """Link rows to the case page, which still works once a case leaves the queue."""
        return self._case_url.replace(self._PK_MARK, str(quote(result.pk)))

    _PK_MARK = "__case_pk__"

    @cached_property
    def _case_url(self) -> str:
        # Resolved once per page rather than once per row.
        return reverse(
            "admin:intake_case_change",
            args=(self._PK_MARK,),
            current_app=self.model_admin.admin_site.name,
        )


@admin.register(RedFlagCase)
class RedFlagCaseAdmin(
    ReadOnlyAdminMixin,
    CaseActionsMixin,
    FastActionCheckboxMixin,
    CaseColumnsMixin,
    PatientSearchMixin,
    admin.ModelAdmin,
):
    """Open emergency and urgent cases, most dangerous and longest waiting first."""

    list_display = (
        "tier_and_handling",
        "reference",
        "flags_in_words",
        "patient_name",
        "patient_age",
        "submitted_when",
        "symptoms_began_ago",
        "contact_and_visit",
        "status",
        "assignee",
    )
    list_display_links = ("reference",)
    list_filter = (RedFlagFilter, OpenStatusFilter, AssignedFilter, QueueTierFilter)
    list_select_related = ("patient", "assigned_to", "acknowledged_by")
    search_fields = ("reference", "patient__first_name", "patient__last_name", "patient__phone")
    search_help_text = _("Reference, name, phone, or date of birth as YYYY-MM-DD.")
    sortable_by = ()
    ordering = None
    # A page of the queue is the 25 most dangerous cases (a healthy clinic's
    # whole queue); "Show all" lists up to 200 on one page. Rendering a row
    # costs about 0.4 ms, so 100 rows per page made the queue of a busy clinic
    # over twice as slow to open as a short one (docs/performance.md).
    list_per_page = 25
    show_facets = admin.ShowFacets.NEVER
    # The queue is already a filtered list: its count is the "cases in the
    # queue" line; a second count of the same rows would add nothing.
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    class Media:
        css = {"all": (STYLESHEET, STAFF_HEADER_STYLESHEET)}
        js = (LIVE_QUEUE_SCRIPT,)

    def get_queryset(self, request):
        """Only the queue (open, emergency or urgent), as one query on the partial index.

        The last contact attempt comes from the timeline as a subquery of the
        same query (``selectors.with_last_contact_attempt``), not a query per row.
        """
        return with_last_contact_attempt(
            RedFlagCase.objects.red_flag_queue().select_related(*self.list_select_related)
        )

    def get_changelist(self, request, **kwargs):
        """A changelist that keeps the queue's order and links rows to the case page."""
        return RedFlagQueueChangeList

    def get_list_display(self, request):
        """The tier column carries the Acknowledge button for staff who may change a status."""
        if not self.has_change_status_permission(request):
            return self.list_display
        return tuple(
            "tier_and_handling_with_acknowledge" if name == "tier_and_handling" else name
            for name in self.list_display
        )

    @admin.display(description=_("patient"))
    def patient_name(self, case: Case) -> str:
        """What the first phone call needs together: name, phone (tap to call), language.

        The language is always written out in words, because an empty cell
        would read as "unknown"; one other than English is marked so the caller
        can plan for it (an interpreter). One cell rather than three columns, so
        the queue, with its newer columns, still fits a 1280 px screen.
        """
        language = language_in_words(case.language)
        if is_other_language(case.language):
            language = format_html('<strong class="case-language-other">{}</strong>', language)
        return format_html(
            '<span class="case-patient-name">{}</span>{}<span class="case-language">{}</span>',
            str(case.patient),
            phone_link(case.patient.phone),
            language,
        )

    @admin.display(description=_("submitted"))
    def submitted_when(self, case: Case) -> str:
        """When the case was sent (one staff format, clinic time), and how long it has waited."""
        return format_html(
            '<time datetime="{}">{}</time><span class="case-waited">{}</span>',
            clinic_time(case.submitted_at).isoformat(),
            staff_datetime(case.submitted_at),
            gettext("waited %(time)s") % {"time": waited_for(case.submitted_at)},
        )

    @admin.display(description=_("last contact · visit"))
    def contact_and_visit(self, case: Case) -> str:
        """The last contact attempt (the last move to "contacted", annotated by
        ``get_queryset``) and, under it, the appointment date."""
        if case.last_contact_at is None:
            contact = gettext("not contacted yet")
        else:
            contact = gettext("contacted %(time)s") % {"time": staff_datetime(case.last_contact_at)}
        if case.appointment_date is None:
            visit = gettext("no visit booked")
        else:
            visit = gettext("visit %(day)s") % {"day": staff_date(case.appointment_date)}
        return format_html(
            '<span class="case-last-contact">{}</span><span class="case-appointment">{}</span>',
            contact,
            visit,
        )

    @admin.display(description=_("tier"))
    def tier_and_handling(self, case: Case) -> str:
        """The tier (and OVERDUE), then for an emergency: acknowledged or not, escalations,
        the alert. Beside the tier, where staff look first, and without widening the queue."""
        return format_html(
            "{}{}",
            self.tier_in_words(case),
            self.emergency_handling_html(case, can_acknowledge=False),
        )

    @admin.display(description=_("tier"))
    def tier_and_handling_with_acknowledge(self, case: Case) -> str:
        """As ``tier_and_handling``, with an Acknowledge button on unacknowledged emergencies."""
        return format_html(
            "{}{}",
            self.tier_in_words(case),
            self.emergency_handling_html(case, can_acknowledge=True),
        )

    def changelist_view(self, request, extra_context=None):
        """The queue under its own name, using the full width so every column shows.

        The navigation sidebar is left out here: staff read this page many times
        a day, and status and assignee must be visible without scrolling sideways.

        The live-queue script fetches this page again (header ``X-Live-Refresh``)
        when the queue has changed: that is a view of the queue and is audited
        as one, but it is not the staff member's doing, so it leaves their
        session's idle time alone.
        """
        context = {"title": gettext("Red-flag queue"), "is_nav_sidebar_enabled": False}
        response = super().changelist_view(request, {**context, **(extra_context or {})})
        if request.headers.get(LIVE_REFRESH_HEADER) == "1":
            _after_rendering(response, lambda: leave_session_untouched(request))
        return response

    # The live queue --------------------------------------------------------

    def get_urls(self):
        """The live-queue endpoints, before the default URLs (whose catch-all would take them).

        Named outside the ``intake_redflagcase_`` prefix on purpose: the audit
        middleware records each admin URL of that prefix as a view of patient
        data, and these answer counts only, like the admin home page's summary.
        A poll therefore writes no audit entry; the queue page itself, fetched
        again when something changed, is audited as every view of it is.
        """
        wrap = self.admin_site.admin_view
        return [
            path("live/", wrap(self.live_state_view), name="red_flag_queue_live"),
            path(
                "live/summary/",
                wrap(self.live_summary_view),
                name="red_flag_queue_live_summary",
            ),
            *super().get_urls(),
        ]

    @method_decorator(require_safe)
    def live_state_view(self, request: HttpRequest) -> HttpResponse:
        """The queue's counts and version as JSON (one query), or 304 if the version is unchanged.

        Polled every few seconds by ``intake/live_queue.js`` on the queue and
        the admin home page, with the last ETag in ``If-None-Match``. The
        version comes from the database alone, so any app server answers the
        same; nothing is kept in the process.
        """
        if not self.has_view_permission(request):
            raise PermissionDenied
        state = red_flag_queue_state()
        leave_session_untouched(request)
        etag = f'"{state.version}"'
        response = get_conditional_response(request, etag=etag) or JsonResponse(state.as_json())
        response["ETag"] = etag
        patch_vary_headers(response, ("Cookie",))
        patch_cache_control(response, private=True, no_cache=True)
        return response

    @method_decorator(require_safe)
    def live_summary_view(self, request: HttpRequest) -> HttpResponse:
        """The admin home page's red-flag summary and alert banner, for the live script."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = TemplateResponse(request, "admin/intake/live_summary.html", {})
        _after_rendering(response, lambda: leave_session_untouched(request))
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """There is one case page; the queue's own change URL leads there."""
        return HttpResponseRedirect(
            reverse("admin:intake_case_change", args=(object_id,), current_app=self.admin_site.name)
        )


# All cases and the case page ----------------------------------------------------


class CaseStatusForm(forms.Form):
    to_status = forms.ChoiceField(
        label=_("New status"),
        error_messages={
            "invalid_choice": _(
                "That status cannot follow the case's current status. The page may be out "
                "of date: nothing was changed."
            ),
            "required": _("Please choose the new status."),
        },
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea({"rows": 2}),
    )

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [
            (status.value, status.label) for status in next_statuses(case.status)
        ]


class CaseAssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("Nobody"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = (
            get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")
        )
        self.fields["assignee"].label_from_instance = staff_display_name


class CaseNoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX_LENGTH,
        help_text=_("For example: called the patient, what they said, what was agreed."),
        widget=forms.Textarea({"rows": 3}),
        error_messages={"required": _("Please write the note.")},
    )


class CorrectionQuestionForm(forms.Form):
    """Pick the question whose answer is to be corrected (sent with GET)."""

    code = forms.ChoiceField(label=_("Question"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        grouped: dict[str, list[tuple[str, str]]] = {}
        for code, question in symptom_questions().items():
            grouped.setdefault(question.section, []).append((code, question.label))
        self.fields["code"].choices = list(grouped.items())


class CaseAnswerCorrectionForm(forms.Form):
    """A new answer to one question, checked by that question's own form field."""

    reason = forms.CharField(
        label=_("Why is it being corrected?"),
        max_length=1000,
        help_text=_("For example: the patient explained on the phone that they meant “no”."),
        widget=forms.Textarea({"rows": 3}),
        error_messages={"required": _("Please say why the answer is being corrected.")},
    )

    def __init__(self, *args, question: Question, **kwargs):
        super().__init__(*args, **kwargs)
        self.question = question
        # The questionnaire's own field (label, choices, validation), shown first.
        self.fields = {"value": copy.deepcopy(question.field), **self.fields}

    def clean_value(self):
        """Run the questionnaire step's own check for this question too (e.g. no future dates)."""
        value = self.cleaned_data["value"]
        step_check = getattr(self.question.form_class, f"clean_{self.question.code}", None)
        if step_check is None:
            return value
        step_form = self.question.form_class()
        step_form.cleaned_data = {self.question.code: value}
        return step_check(step_form)


@admin.register(Case)
class CaseAdmin(
    CaseExportAdminMixin,
    ReadOnlyAdminMixin,
    CaseActionsMixin,
    FastActionCheckboxMixin,
    CaseColumnsMixin,
    PatientSearchMixin,
    admin.ModelAdmin,
):
    """Every case, searchable; its page shows triage, answers and timeline, with buttons."""

    actions = [*CaseActionsMixin.actions, "export_selected_as_csv"]
    list_display = (
        "reference",
        "patient_name",
        "patient_date_of_birth",
        "patient_phone",
        "tier_in_words",
        "flags_in_words",
        "status",
        "assignee",
        "submitted_when",
    )
    list_filter = (
        "tier",
        "status",
        ("submitted_at", admin.DateFieldListFilter),
        RedFlagFilter,
        AssignedFilter,
    )
    list_select_related = ("patient", "assigned_to")
    search_fields = ("reference", "patient__first_name", "patient__last_name", "patient__phone")
    search_help_text = _("Reference, name, phone, or date of birth as YYYY-MM-DD.")
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100
    # Millions of cases: the unfiltered count is PostgreSQL's estimate, and a
    # filtered list is not counted a second time without its filters.
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    # Several short fields per line keep the details to a few lines under the triage.
    fieldsets = (
        (
            _("Patient"),
            {
                "fields": (
                    ("patient_link", "patient_date_of_birth", "patient_age"),
                    ("patient_phone_link", "patient_email"),
                )
            },
        ),
        (
            _("Case"),
            {
                "fields": (
                    ("reference", "status", "assignee"),
                    ("submitted_when", "waited", "reviewed_when"),
                    ("symptoms_started_on", "symptoms_began_ago", "appointment_on"),
                    "language_in_words",
                )
            },
        ),
    )
    readonly_fields = (
        "patient_link",
        "patient_date_of_birth",
        "patient_age",
        "patient_phone_link",
        "patient_email",
        "reference",
        "status",
        "assignee",
        "submitted_when",
        "waited",
        "reviewed_when",
        "symptoms_started_on",
        "symptoms_began_ago",
        "appointment_on",
        "language_in_words",
    )

    class Media:
        css = {"all": (STYLESHEET, STAFF_HEADER_STYLESHEET)}

    def get_queryset(self, request):
        """Cases with their patient and assignee in the same query."""
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_changelist(self, request, **kwargs):
        """The list without the large JSON fields no column shows."""
        return CaseChangeList

    @admin.display(description=_("name"))
    def patient_link(self, case: Case) -> str:
        url = reverse(
            "admin:intake_patient_change",
            args=(case.patient_id,),
            current_app=self.admin_site.name,
        )
        return format_html('<a href="{}">{}</a>', url, case.patient)

    @admin.display(description=_("email"))
    def patient_email(self, case: Case) -> str:
        return case.patient.email or gettext("none given")

    @admin.display(description=_("phone"))
    def patient_phone_link(self, case: Case) -> str:
        return phone_link(case.patient.phone)

    # Dates and times in the one staff format (``staff_datetime``), in clinic time.

    @admin.display(description=_("submitted"), ordering="submitted_at")
    def submitted_when(self, case: Case) -> str:
        return staff_datetime(case.submitted_at)

    @admin.display(description=_("first reviewed"))
    def reviewed_when(self, case: Case) -> str:
        return staff_datetime(case.reviewed_at) or gettext("not yet")

    @admin.display(description=_("symptoms started"))
    def symptoms_started_on(self, case: Case) -> str:
        return staff_date(case.symptoms_started) or gettext("not given")

    @admin.display(description=_("appointment date"))
    def appointment_on(self, case: Case) -> str:
        return staff_date(case.appointment_date) or gettext("none")

    @admin.display(description=_("language"))
    def language_in_words(self, case: Case) -> str:
        """ "Spanish", not "es"."""
        return language_in_words(case.language)

    # The case page ---------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """Add triage, the service forms the user may use, the answers and the timeline."""
        if obj is not None:
            context.update(self.case_page_context(request, obj))
            context["title"] = gettext("Case %(reference)s") % {"reference": obj.reference}
            # The patient's name heads the case header (change_form.html), with
            # phone, age, tier, flags and status; a subtitle would only repeat it.
            context["subtitle"] = None
        return super().render_change_form(request, context, add, change, form_url, obj)

    def case_page_context(self, request: HttpRequest, case: Case) -> dict:
        user = request.user
        can_change_status = user.has_perm(PERM_CHANGE_STATUS)
        return {
            "case": case,
            "triage_tier": case.get_tier_display(),
            "triage_flags": case.flag_labels,
            "triage_reasons": case.reasons,
            "answer_sections": answer_sections(case.answers, case.flags),
            "related_pages": self.related_education_pages(case),
            "timeline": case.events.select_related("author"),
            "status_form": CaseStatusForm(case=case) if can_change_status else None,
            "next_statuses": next_statuses(case.status) if can_change_status else [],
            "assign_form": (
                CaseAssignForm(initial={"assignee": case.assigned_to_id})
                if user.has_perm(PERM_ASSIGN)
                else None
            ),
            "note_form": CaseNoteForm() if user.has_perm(PERM_ADD_NOTE) else None,
            "correction_question_form": (
                CorrectionQuestionForm() if user.has_perm(PERM_CORRECT_ANSWERS) else None
            ),
            "acknowledgement": acknowledgement_in_words(case),
            "can_acknowledge": (
                can_change_status
                and case.is_open
                and case.tier == triage.EMERGENCY
                and case.acknowledged_at is None
            ),
            "escalation": escalation_in_words(case),
            "alert_state_words": alert_state_in_words(case),
            "unanswered_questions": unanswered_questions(case),
        }

    @staticmethod
    def related_education_pages(case: Case) -> list:
        """Education pages for the case's answers; never breaks the case page.

        The pages are a convenience: if the library cannot be read, staff
        still need the case, so the error is logged and the list left empty.
        """
        from conditions.selectors import conditions_for_answers

        try:
            with transaction.atomic():  # keeps an outer transaction usable on failure
                return list(conditions_for_answers(case.answers))
        except DatabaseError:
            logger.exception("Related education pages could not be loaded for %s", case.reference)
            return []

    # Service views ---------------------------------------------------------

    def get_urls(self):
        """The case page's buttons: one POST-only view per service, before the default URLs.

        Also the clinic tablet switch (``intake/tablet.py``), staff's screen for
        the device they are using, at ``clinic-tablet/``.
        """
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            # The clinic dashboard (intake/dashboard_views.py): counts only, not audited.
            *dashboard_urls(self.admin_site),
            path("clinic-tablet/", wrap(self.clinic_tablet_view), name="clinic_tablet"),
            path(
                "<path:object_id>/status/",
                wrap(self.change_status_view),
                name=f"{prefix}_status",
            ),
            path(
                "<path:object_id>/acknowledge/",
                wrap(self.acknowledge_view),
                name=f"{prefix}_acknowledge",
            ),
            path(
                "<path:object_id>/assign/",
                wrap(self.assign_view),
                name=f"{prefix}_assign",
            ),
            path(
                "<path:object_id>/note/",
                wrap(self.add_note_view),
                name=f"{prefix}_note",
            ),
            path(
                "<path:object_id>/correct-answer/",
                wrap(self.correct_answer_view),
                name=f"{prefix}_correct_answer",
            ),
            *self.export_urls(),
            *super().get_urls(),
        ]

    def clinic_tablet_view(self, request: HttpRequest) -> HttpResponse:
        """Make the device in use a clinic tablet, or an ordinary one again."""
        return clinic_tablet_admin_view(request, admin_site=self.admin_site)

    def _case_for(self, request: HttpRequest, object_id: str, permission: str) -> Case:
        """The case, if the user may see it and holds ``permission``; 403 or 404 otherwise."""
        if not request.user.has_perm(permission):
            raise PermissionDenied
        case = self.get_object(request, unquote(object_id))
        if case is None:
            raise Http404(gettext("No case with that ID."))
        if not self.has_view_permission(request, case):
            raise PermissionDenied
        return case

    def _back_to_case(self, case: Case, anchor: str = "") -> HttpResponseRedirect:
        url = reverse(
            "admin:intake_case_change", args=(quote(case.pk),), current_app=self.admin_site.name
        )
        return HttpResponseRedirect(url + (f"#{anchor}" if anchor else ""))

    def _report_form_errors(self, request: HttpRequest, form: forms.Form, what: str) -> None:
        problems = " ".join(str(error) for errors in form.errors.values() for error in errors)
        self.message_user(request, f"{what} {problems}", messages.ERROR)

    @method_decorator(require_POST)
    def change_status_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Move the case to another status through ``case_change_status``."""
        case = self._case_for(request, object_id, PERM_CHANGE_STATUS)
        form = CaseStatusForm(request.POST, case=case)
        if not form.is_valid():
            self._report_form_errors(request, form, gettext("Status not changed."))
            return self._back_to_case(case)
        try:
            case = case_change_status(
                case=case,
                to_status=form.cleaned_data["to_status"],
                by=request.user,
                note=form.cleaned_data["note"],
            )
        except CaseError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.message_user(
                request,
                gettext("%(reference)s is now “%(status)s”.")
                % {"reference": case.reference, "status": case.get_status_display()},
                messages.SUCCESS,
            )
        return self._back_to_case(case)

    @method_decorator(require_POST)
    def acknowledge_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Acknowledge an emergency in one action (``case_acknowledge``), from queue or case.

        Allowed to whoever may change a case's status: moving an emergency to
        "in review" acknowledges it too. Goes back to the page the button was
        on (``next``, if it is one of ours), else to the case page.
        """
        case = self._case_for(request, object_id, PERM_CHANGE_STATUS)
        was_acknowledged = case.acknowledged_at is not None
        case = case_acknowledge(case=case, by=request.user)
        if case.tier != triage.EMERGENCY:
            self.message_user(
                request,
                gettext("%(reference)s is not an emergency: there is nothing to acknowledge.")
                % {"reference": case.reference},
                messages.WARNING,
            )
        elif not was_acknowledged and case.acknowledged_by_id == request.user.pk:
            self.message_user(
                request,
                gettext("You acknowledged emergency %(reference)s: it will not be escalated again.")
                % {"reference": case.reference},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                gettext("%(reference)s was already %(acknowledged)s.")
                % {"reference": case.reference, "acknowledged": acknowledgement_in_words(case)},
                messages.INFO,
            )
        return self._back_to(request, case)

    def _back_to(self, request: HttpRequest, case: Case) -> HttpResponseRedirect:
        """To the form's ``next`` page when it is a page of this site, else the case page."""
        next_url = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return HttpResponseRedirect(next_url)
        return self._back_to_case(case)

    @method_decorator(require_POST)
    def assign_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Assign the case to the user ("Assign to me"), another staff member or nobody."""
        case = self._case_for(request, object_id, PERM_ASSIGN)
        if "assign_to_me" in request.POST:
            assignee = request.user
        else:
            form = CaseAssignForm(request.POST)
            if not form.is_valid():
                self._report_form_errors(request, form, gettext("Not assigned."))
                return self._back_to_case(case)
            assignee = form.cleaned_data["assignee"]
        if case.assigned_to_id == (assignee.pk if assignee else None):
            self.message_user(request, gettext("Nothing changed: that is the current assignment."))
            return self._back_to_case(case)
        try:
            case = case_assign(case=case, assignee=assignee, by=request.user)
        except CaseError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.message_user(
                request,
                gettext("%(reference)s is now assigned to %(who)s.")
                % {
                    "reference": case.reference,
                    "who": staff_display_name(assignee) or gettext("nobody"),
                },
                messages.SUCCESS,
            )
        return self._back_to_case(case)

    @method_decorator(require_POST)
    def add_note_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Add a note (for example a phone call) to the case's timeline."""
        case = self._case_for(request, object_id, PERM_ADD_NOTE)
        form = CaseNoteForm(request.POST)
        if not form.is_valid():
            self._report_form_errors(request, form, gettext("Note not added."))
            return self._back_to_case(case)
        try:
            case_add_note(case=case, text=form.cleaned_data["text"], by=request.user)
        except CaseError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.message_user(request, gettext("Note added."), messages.SUCCESS)
        return self._back_to_case(case, "case-timeline")

    def correct_answer_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Show (GET) and apply (POST) a correction to one answer; triage runs again.

        The question comes from ``?code=``; the new value is checked by that
        question's own questionnaire field, and a reason is required.
        """
        case = self._case_for(request, object_id, PERM_CORRECT_ANSWERS)
        question = symptom_questions().get(request.GET.get("code", ""))
        if question is None:
            self.message_user(
                request, gettext("Please choose a question to correct."), messages.ERROR
            )
            return self._back_to_case(case)
        current = case.answers.get(question.code)
        if request.method == "POST":
            form = CaseAnswerCorrectionForm(request.POST, question=question)
            if form.is_valid():
                return self._apply_correction(request, case, question, form)
        else:
            form = CaseAnswerCorrectionForm(
                question=question, initial={"value": current} if current is not None else {}
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Correct an answer"),
            "subtitle": f"{case.reference} · {case.patient}",
            "original": case,
            "case": case,
            "question": question,
            "current_answer": answer_in_words(question.code, current),
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/intake/case/correct_answer.html", context)

    def _apply_correction(self, request, case, question, form) -> HttpResponse:
        before_tier = case.get_tier_display()
        try:
            case = case_correct_answer(
                case=case,
                code=question.code,
                value=form.cleaned_data["value"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except CaseError as error:
            self.message_user(request, str(error), messages.ERROR)
            return self._back_to_case(case)
        self.message_user(
            request,
            gettext("Answer corrected. Triage: %(before)s → %(after)s.")
            % {"before": before_tier, "after": case.get_tier_display()},
            messages.SUCCESS,
        )
        if case.tier == triage.EMERGENCY:
            self.message_user(
                request,
                gettext("This case is an EMERGENCY: make sure the patient is contacted now."),
                messages.WARNING,
            )
        return self._back_to_case(case)


# Patients -----------------------------------------------------------------------


class PatientCaseInline(CaseColumnsMixin, admin.TabularInline):
    """The patient's cases, newest first, each linking to its case page."""

    model = Case
    fields = (
        "reference",
        "submitted_when",
        "tier_in_words",
        "flags_in_words",
        "status",
        "assignee",
    )
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("cases")

    def get_queryset(self, request):
        """Newest first, with the assignee in the same query."""
        return super().get_queryset(request).select_related("assigned_to").order_by("-submitted_at")

    @admin.display(description=_("submitted"))
    def submitted_when(self, case: Case) -> str:
        return staff_datetime(case.submitted_at)

    def has_add_permission(self, request, obj=None) -> bool:
        """Cases come only from the questionnaire."""
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        """Read-only: cases change through the case page's services."""
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        """Cases are never deleted."""
        return False


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdminMixin, PatientSearchMixin, admin.ModelAdmin):
    """Patients, read-only (they come from the questionnaire), with their cases."""

    list_display = ("__str__", "born_on", "age", "phone", "case_count", "created_when")
    search_fields = ("first_name", "last_name", "phone")
    search_help_text = _("Name, phone, or date of birth as YYYY-MM-DD.")
    patient_prefix = ""
    fields = (
        ("first_name", "last_name"),
        ("born_on", "age"),
        ("phone", "email"),
        "created_when",
    )
    readonly_fields = (
        "first_name",
        "last_name",
        "born_on",
        "age",
        "phone",
        "email",
        "created_when",
    )
    inlines = (PatientCaseInline,)
    show_full_result_count = False

    # Dates and times in the one staff format, as on the case pages.

    @admin.display(description=_("date of birth"), ordering="date_of_birth")
    def born_on(self, patient: Patient) -> str:
        return staff_date(patient.date_of_birth)

    @admin.display(description=_("first seen"), ordering="created_at")
    def created_when(self, patient: Patient) -> str:
        return staff_datetime(patient.created_at)

    paginator = EstimatedCountPaginator

    class Media:
        css = {"all": (STYLESHEET,)}

    def get_queryset(self, request):
        """Patients with their number of cases, in the same query.

        A correlated subquery rather than ``Count`` with a join and GROUP BY:
        PostgreSQL then counts the cases of the hundred patients shown, not of
        every patient before the page is cut.
        """
        cases = (
            Case.objects.filter(patient=OuterRef("pk"))
            .order_by()
            .values("patient")
            .annotate(number=Count("pk"))
            .values("number")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(number_of_cases=Coalesce(Subquery(cases, output_field=IntegerField()), 0))
        )

    @admin.display(description=_("age"))
    def age(self, patient: Patient) -> int:
        return patient.age

    @admin.display(description=_("cases"), ordering="number_of_cases")
    def case_count(self, patient: Patient) -> int:
        return patient.number_of_cases
