"""Patients: read-only (they come from the questionnaire), each with their cases."""

from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from ..models import Case, Patient
from ..templatetags.intake_admin import staff_date, staff_datetime
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

    @admin.display(description=_("cases"), ordering="number_of_cases")
    def case_count(self, patient: Patient) -> int:
        return patient.number_of_cases
