"""Patients: read-only (they come from the questionnaire), each with their cases."""

from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from ..models import Case, Patient
from ..templatetags.intake_admin import staff_date, staff_datetime
from ..trends import answer_trend, trend_chart_svg
from .common import (
    STYLESHEET,
    CaseColumnsMixin,
    EstimatedCountPaginator,
    PatientSearchMixin,
    ReadOnlyAdminMixin,
)


class PatientCaseInline(ReadOnlyAdminMixin, CaseColumnsMixin, admin.TabularInline):
    """The patient's cases, newest first, each linking to its case page; read-only."""

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

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The patient's cases over time: each chain's trend (issue 22), in one query."""
        if obj is not None:
            context["trends"] = patient_trends(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description=_("cases"), ordering="number_of_cases")
    def case_count(self, patient: Patient) -> int:
        return patient.number_of_cases


def patient_trends(patient: Patient) -> list[dict]:
    """For each of the patient's chains with a follow-up: its trend table and chart.

    Every case of the patient is read in one query and grouped by chain
    (``Case.baseline``) in Python, so 50 follow-ups cost what one does.
    """
    chains: dict[int, list[Case]] = {}
    for case in Case.objects.filter(patient=patient).order_by("submitted_at", "pk"):
        chains.setdefault(case.baseline_id or case.pk, []).append(case)
    return [
        {
            "trend": answer_trend(chain),
            "chart": trend_chart_svg(chain, id_prefix=f"trend-chart-{root}"),
        }
        for root, chain in chains.items()
        if len(chain) > 1
    ]
