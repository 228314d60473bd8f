"""The staff FHIR API: the questionnaire and each case as FHIR R4 JSON.

``GET /api/fhir/Questionnaire/intake/`` and ``GET /api/cases/<reference>/fhir/``
(a Bundle of the Patient and the QuestionnaireResponse). Staff sign in through
the admin and use the same session; the rules are the admin's (active staff,
two-factor verified when required) plus the ``intake.view_case`` permission.

An API answers in JSON, never with the admin's HTML login redirect: 401 when
nobody is signed in, 403 without the rights, 404 for an unknown reference,
each as a FHIR ``OperationOutcome`` carrying no patient data. Every export is
written to the audit log.
"""

import json
from collections.abc import Callable
from functools import wraps

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audit.models import AuditEntry
from audit.services import audit_record

from ..models import Case
from . import fhir

PERM_VIEW_CASE = "intake.view_case"
REFERENCE_MAX_LENGTH = Case._meta.get_field("reference").max_length


def may_export_cases(request: HttpRequest) -> bool:
    """Signed in to the staff site (active, staff, 2FA when required) and may view cases."""
    return admin.site.has_permission(request) and request.user.has_perm(PERM_VIEW_CASE)


def audit_export(
    request: HttpRequest,
    *,
    object_type: str,
    object_id: object = "",
    label: str = "",
    details: dict | None = None,
    status_code: int = 200,
) -> None:
    """One audit entry for an export. ``label`` is a reference or a count, never PHI.

    ``details`` holds what a list export contained (its case references and
    the filters and search that chose them); ``status_code`` 404 records a
    lookup of a case that does not exist.
    """
    audit_record(
        request=request,
        action=AuditEntry.Action.EXPORT,
        object_type=object_type,
        object_id=object_id,
        object_label=label,
        details=details,
        status_code=status_code,
    )


def fhir_json_response(resource: dict, *, status: int = 200, filename: str = "") -> HttpResponse:
    response = HttpResponse(
        json.dumps(resource, ensure_ascii=False, indent=2),
        content_type=fhir.FHIR_JSON,
        status=status,
    )
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def operation_outcome(status: int, code: str, message: str) -> HttpResponse:
    """A FHIR error body: what went wrong, and nothing about any patient."""
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    response = fhir_json_response(outcome, status=status)
    if status == 401:
        # Session sign-in through the staff site; there is no HTTP auth scheme to offer.
        response["WWW-Authenticate"] = 'Session realm="clinic staff", login="/admin/login/"'
    return response


def staff_fhir_api(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET only, never cached, and only for staff who may view cases; JSON errors otherwise."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return operation_outcome(401, "login", "Sign in as staff first.")
        if not may_export_cases(request):
            return operation_outcome(403, "forbidden", "You may not export cases.")
        return view(request, *args, **kwargs)

    return never_cache(require_GET(guarded))


@staff_fhir_api
def fhir_questionnaire(request: HttpRequest) -> HttpResponse:
    """The intake questionnaire as a FHIR R4 Questionnaire."""
    audit_export(request, object_type="questionnaire", object_id=fhir.QUESTIONNAIRE_ID)
    return fhir_json_response(fhir.questionnaire_resource())


@staff_fhir_api
def case_fhir_bundle(request: HttpRequest, reference: str) -> HttpResponse:
    """One case (looked up by its reference) as a Bundle of Patient and QuestionnaireResponse.

    A reference that names no case is audited too: someone guessing references
    leaves a trail. One that could never be stored (too long, or a NUL byte,
    which PostgreSQL cannot compare) is not looked up at all.
    """
    reference = reference.upper()
    case = None
    if len(reference) <= REFERENCE_MAX_LENGTH and "\x00" not in reference:
        case = Case.objects.select_related("patient").filter(reference=reference).first()
    if case is None:
        audit_export(request, object_type="case", label=reference, status_code=404)
        return operation_outcome(404, "not-found", "No case with that reference.")
    audit_export(request, object_type="case", object_id=case.pk, label=case.reference)
    return fhir_json_response(fhir.case_bundle(case))
