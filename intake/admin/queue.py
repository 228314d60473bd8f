"""The red-flag queue: open emergency and urgent cases, most dangerous first.

Its own filters and changelist (the order staff cannot change) sit here, with
the live-queue endpoints that the queue page and the admin home poll.
"""

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from .. import triage
from ..course import new_flag_labels, worsening
from ..models import Case, RedFlagCase
from ..selectors import red_flag_queue_state, with_last_contact_attempt, with_previous_answers
from ..templatetags.intake_admin import (
    clinic_time,
    is_other_language,
    language_in_words,
    phone_link,
    staff_datetime,
    visit_in_words,
    waited_for,
)
from .common import (
    STAFF_HEADER_STYLESHEET,
    STYLESHEET,
    AssignedFilter,
    CaseActionsMixin,
    CaseColumnsMixin,
    EstimatedCountPaginator,
    FastActionCheckboxMixin,
    LeanCaseRowsMixin,
    PatientSearchMixin,
    ReadOnlyAdminMixin,
    RedFlagFilter,
)

#: The staff pages' script that keeps the queue and the admin home up to date.
LIVE_QUEUE_SCRIPT = "intake/live_queue.js"
#: Sent by the live-queue script when it fetches the queue again by itself.
LIVE_REFRESH_HEADER = "X-Live-Refresh"


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


# Filters of the queue only ------------------------------------------------------


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
    list_select_related = ("patient", "assigned_to", "acknowledged_by", "invitation__appointment")
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
        return with_previous_answers(
            with_last_contact_attempt(
                RedFlagCase.objects.red_flag_queue().select_related(*self.list_select_related)
            )
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
        ``get_queryset``) and, under it, the visit: see ``visit_in_words``."""
        if case.last_contact_at is None:
            contact = gettext("not contacted yet")
        else:
            contact = gettext("contacted %(time)s") % {"time": staff_datetime(case.last_contact_at)}
        visit = visit_in_words(case, short=True)
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
            "{}{}{}",
            self.tier_in_words(case),
            follow_up_html(case),
            self.emergency_handling_html(case, can_acknowledge=False),
        )

    @admin.display(description=_("tier"))
    def tier_and_handling_with_acknowledge(self, case: Case) -> str:
        """As ``tier_and_handling``, with an Acknowledge button on unacknowledged emergencies."""
        return format_html(
            "{}{}{}",
            self.tier_in_words(case),
            follow_up_html(case),
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


def follow_up_html(case: Case) -> str:
    """For a follow-up (issue 22): so marked, its new red flags, and whether it is worse.

    Against the previous case of its chain, read in the queue's own query
    (``selectors.with_previous_answers``). Empty for a first case.
    """
    if case.baseline_id is None or case.previous_answers is None:
        return ""
    parts = [format_html('<span class="case-follow-up">{}</span>', gettext("follow-up"))]
    new = new_flag_labels(case.previous_flags, case.flags)
    if new:
        parts.append(
            format_html(
                '<span class="case-new-flags">{}</span>',
                gettext("new since last time: %(flags)s") % {"flags": ", ".join(new)},
            )
        )
    if worsening(case.previous_answers, case.follow_up_answers or {}):
        parts.append(
            format_html('<strong class="case-worse">{}</strong>', gettext("worse since last time"))
        )
    return format_html_join("", "{}", ((part,) for part in parts))
