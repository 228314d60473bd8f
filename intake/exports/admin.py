"""Exports from the case admin: printable summary, PDF, FHIR JSON and CSV.

``CaseExportAdminMixin`` gives ``CaseAdmin`` its export screens (added to its
``get_urls``) and the "Export selected as CSV" list action. Each screen needs
the staff site's own login (``admin_view``) and ``intake.view_case``, and
writes one EXPORT entry to the audit log.
"""

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.services import list_details

from ..models import Case
from . import fhir
from .csv import cases_for_csv, csv_lines
from .pdf import PAPER_SIZES, summary_pdf
from .summary import case_summary
from .views import PERM_VIEW_CASE, audit_export, fhir_json_response


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


class CaseExportAdminMixin:
    """Export screens and the CSV action for the case admin (see the module docstring)."""

    def export_urls(self) -> list:
        """The export screens' URLs; ``get_urls`` puts them before the admin's own."""
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("export.csv", wrap(self.export_csv_view), name=f"{prefix}_export_csv"),
            path(
                "fhir-questionnaire.json",
                wrap(self.fhir_questionnaire_view),
                name=f"{prefix}_fhir_questionnaire",
            ),
            path("<path:object_id>/summary/", wrap(self.summary_view), name=f"{prefix}_summary"),
            path(
                "<path:object_id>/summary.pdf",
                wrap(self.summary_pdf_view),
                name=f"{prefix}_summary_pdf",
            ),
            path("<path:object_id>/fhir.json", wrap(self.fhir_view), name=f"{prefix}_fhir"),
        ]

    def has_export_permission(self, request: HttpRequest) -> bool:
        """May export cases (summaries, FHIR, CSV): anyone who may view them."""
        return request.user.has_perm(PERM_VIEW_CASE)

    def _case_to_export(self, request: HttpRequest, object_id: str) -> Case:
        if not self.has_export_permission(request):
            raise PermissionDenied
        case = self.get_object(request, unquote(object_id))
        if case is None:
            raise Http404(gettext("No case with that ID."))
        return case

    # One case --------------------------------------------------------------

    def summary_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The one-page clinical summary, laid out for printing (A4 or Letter)."""
        case = self._case_to_export(request, object_id)
        audit_export(request, object_type="case", object_id=case.pk, label=case.reference)
        pk = quote(case.pk)
        pdf_url = reverse(
            "admin:intake_case_summary_pdf", args=(pk,), current_app=self.admin_site.name
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "case": case,
            "summary": case_summary(case=case, generated_by=request.user),
            "case_url": reverse(
                "admin:intake_case_change", args=(pk,), current_app=self.admin_site.name
            ),
            "pdf_urls": [(label, f"{pdf_url}?paper={key}") for key, label in PAPER_SIZES.items()],
        }
        return TemplateResponse(request, "admin/intake/case/summary.html", context)

    def summary_pdf_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The clinical summary as a PDF download (``?paper=a4`` or ``letter``)."""
        case = self._case_to_export(request, object_id)
        paper = request.GET.get("paper", "a4").lower()
        if paper not in PAPER_SIZES:
            paper = "a4"
        content = summary_pdf(case_summary(case=case, generated_by=request.user), paper=paper)
        audit_export(request, object_type="case", object_id=case.pk, label=case.reference)
        response = HttpResponse(content, content_type="application/pdf")
        return _attachment(response, f"{case.reference}-summary.pdf")

    def fhir_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The case as a FHIR R4 Bundle (Patient and QuestionnaireResponse), downloaded."""
        case = self._case_to_export(request, object_id)
        bundle = fhir.case_bundle(case)
        audit_export(request, object_type="case", object_id=case.pk, label=case.reference)
        return fhir_json_response(bundle, filename=f"{case.reference}-fhir.json")

    def fhir_questionnaire_view(self, request: HttpRequest) -> HttpResponse:
        """The questionnaire as a FHIR R4 Questionnaire, downloaded."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        audit_export(request, object_type="questionnaire", object_id=fhir.QUESTIONNAIRE_ID)
        return fhir_json_response(
            fhir.questionnaire_resource(), filename="intake-questionnaire-fhir.json"
        )

    # Lists -------------------------------------------------------------------

    def export_csv_view(self, request: HttpRequest) -> HttpResponse:
        """The case list as CSV, with the same filters and search as the list page."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        try:
            cases = self._filtered_cases(request)
        except IncorrectLookupParameters:
            self.message_user(request, gettext("Those list filters are not valid."), messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:intake_case_changelist", current_app=self.admin_site.name)
            )
        return self._csv_response(request, cases)

    @admin.action(description=_("Export selected as CSV"), permissions=["export"])
    def export_selected_as_csv(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        return self._csv_response(request, queryset)

    def _filtered_cases(self, request: HttpRequest) -> QuerySet:
        """The list page's cases for this request's filters, search and order.

        Built with the list page's own ChangeList, so the CSV holds exactly the
        rows the list shows, all pages of them, without its page query and count.
        """
        changelist_class = self.get_changelist(request)

        class ExportChangeList(changelist_class):
            def get_results(self, request):
                """No page to show: the export reads every matching row itself."""

        list_display = list(self.get_list_display(request))
        if self.get_actions(request):
            # Keep the column numbers of ?o= (sorting) the same as on the list page.
            list_display = ["action_checkbox", *list_display]
        changelist = ExportChangeList(
            request,
            self.model,
            list_display,
            self.get_list_display_links(request, list_display),
            self.get_list_filter(request),
            self.date_hierarchy,
            self.get_search_fields(request),
            self.get_list_select_related(request),
            self.list_per_page,
            self.list_max_show_all,
            self.list_editable,
            self,
            self.get_sortable_by(request),
            self.search_help_text,
        )
        return changelist.queryset

    def _csv_response(self, request: HttpRequest, cases: QuerySet) -> HttpResponse:
        cases = cases_for_csv(cases)
        # Which cases, not only how many: the references in the file's order, and
        # the search and filters that chose them (for ticked rows, the list's).
        references = list(cases.values_list("reference", flat=True))
        label = gettext("%(count)d cases (CSV)") % {"count": len(references)}
        details = {**list_details(request), "references": references}
        audit_export(request, object_type="case", label=label, details=details)
        response = StreamingHttpResponse(csv_lines(cases), content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return _attachment(response, f"cases-{stamp}.csv")
