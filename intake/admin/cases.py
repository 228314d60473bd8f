"""All cases and the case page, with its forms and the views behind its buttons.

The case page is read-only; each of its buttons posts to a small view
(``CaseAdmin.get_urls``) that checks its own permission and calls one service
from ``intake/services.py``. The export screens come from
``intake/exports/admin.py`` and the clinic dashboard's URLs from
``intake/dashboard_views.py``.
"""

import copy
import datetime
import logging

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from .. import triage
from ..course import since_last_time
from ..dashboard_views import dashboard_urls
from ..exports.admin import CaseExportAdminMixin
from ..invitations import FollowUpRefused, follow_up_schedule
from ..models import Case
from ..selectors import case_chain, previous_case
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
    escalation_in_words,
    language_in_words,
    phone_link,
    staff_date,
    staff_datetime,
    symptom_questions,
    unanswered_questions,
    visit_in_words,
)
from ..trends import answer_trend, trend_chart_svg
from .common import (
    PERM_ADD_NOTE,
    PERM_ASSIGN,
    PERM_CHANGE_STATUS,
    PERM_CORRECT_ANSWERS,
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
    staff_display_name,
)

logger = logging.getLogger(__name__)

NOTE_MAX_LENGTH = 5000


def next_statuses(status: str) -> list[Case.Status]:
    """The statuses a case may move to from ``status``, in the usual order of work."""
    allowed = ALLOWED_TRANSITIONS.get(status, frozenset())
    return [choice for choice in Case.Status if choice in allowed]


class CaseChangeList(LeanCaseRowsMixin, ChangeList):
    pass


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


class FollowUpForm(forms.Form):
    """When to ask the patient how they are now (issue 22)."""

    WHEN_CHOICES = [
        ("now", _("Now")),
        ("2", _("In 2 weeks")),
        ("6", _("In 6 weeks")),
        ("date", _("On a date")),
    ]
    when = forms.ChoiceField(
        label=_("Send"), choices=WHEN_CHOICES, initial="2", widget=forms.RadioSelect
    )
    day = forms.DateField(
        label=_("Date"),
        required=False,
        help_text=_("YYYY-MM-DD, in the next year; sent at 9:00 clinic time."),
        widget=forms.DateInput({"type": "date"}),
    )

    def send_at(self):
        """The moment to send: None for now."""
        when, day = self.cleaned_data["when"], self.cleaned_data.get("day")
        now = timezone.now()
        if when == "now":
            return None
        if when == "date":
            return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 0)))
        return now + datetime.timedelta(weeks=int(when))

    def clean(self):
        data = super().clean()
        if data.get("when") == "date":
            day = data.get("day")
            today = timezone.localdate()
            if day is None:
                self.add_error("day", gettext("Please choose the date."))
            elif not today < day <= today + datetime.timedelta(days=366):
                self.add_error("day", gettext("Please choose a date in the next year."))
        return data


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
    list_select_related = ("patient", "assigned_to", "invitation__appointment")
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

    @admin.display(description=_("appointment"))
    def appointment_on(self, case: Case) -> str:
        return visit_in_words(case)

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
            **self.follow_up_context(request, case),
        }

    @staticmethod
    def follow_up_context(request: HttpRequest, case: Case) -> dict:
        """The case's chain (baseline and follow-ups), what changed, and the follow-up form."""
        chain = case_chain(case)  # one query
        previous = previous_case(chain, case)
        worse, new = since_last_time(previous, case)
        return {
            "chain": chain,
            "previous_case": previous,
            "new_since_last_time": new,
            "worse_since_last_time": worse,
            "trend": answer_trend(chain) if len(chain) > 1 else None,
            "trend_chart": trend_chart_svg(chain) if len(chain) > 1 else None,
            "follow_up_form": (
                FollowUpForm() if request.user.has_perm(PERM_CHANGE_STATUS) else None
            ),
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
                "<path:object_id>/follow-up/",
                wrap(self.follow_up_view),
                name=f"{prefix}_follow_up",
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

    @method_decorator(require_POST)
    def follow_up_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Send the patient a follow-up questionnaire, now or later (``follow_up_schedule``)."""
        case = self._case_for(request, object_id, PERM_CHANGE_STATUS)
        form = FollowUpForm(request.POST)
        if not form.is_valid():
            self._report_form_errors(request, form, gettext("No follow-up sent."))
            return self._back_to_case(case)
        try:
            invitation = follow_up_schedule(case=case, by=request.user, send_at=form.send_at())
        except FollowUpRefused as refused:
            self.message_user(request, str(refused), messages.ERROR)
        else:
            self.message_user(
                request,
                gettext("Follow-up questionnaire: sent from %(time)s.")
                % {"time": staff_datetime(invitation.send_after)},
                messages.SUCCESS,
            )
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
