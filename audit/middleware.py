"""Record staff access to patient records in the admin, one entry per request.

Done here, by URL name, rather than in each admin class, so every page that
shows a case or a patient (change pages, history pages, extra case screens,
the lists) is covered without each screen remembering to log itself. A list
page such as the red-flag queue is one entry per view, never one per row.
"""

from .models import AuditEntry
from .services import audit_record, list_details

# Admin URL names start with "<app>_<model>_"; these models hold patient data.
PHI_MODELS = {
    "intake_case": "case",
    "intake_redflagcase": "case",
    "intake_patient": "patient",
    "intake_caseevent": "case event",
    "audit_auditentry": "audit entry",
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _phi_model(url_name: str) -> tuple[str, str] | None:
    for prefix, object_type in PHI_MODELS.items():
        if url_name.startswith(prefix + "_"):
            return prefix, object_type
    return None


#: The largest id a case can have (a 64-bit primary key).
MAX_CASE_ID = 2**63 - 1


def _case_label(object_id: str) -> str:
    """The case's reference, or "" when the id in the URL names no case.

    The id is whatever was typed in the address (a quote, a huge number): only
    a plain number in the key's range is looked up, so a hostile id gets the
    admin's own 302 or 404 rather than an error here.
    """
    from intake.models import Case

    if not (object_id.isascii() and object_id.isdigit() and int(object_id) <= MAX_CASE_ID):
        return ""
    reference = Case.objects.filter(pk=object_id).values_list("reference", flat=True).first()
    return reference or f"case {object_id}"


class AdminAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        if (
            match is None
            or "admin" not in match.namespaces
            or user is None
            or not user.is_authenticated
        ):
            return response
        self._record(request, match, response)
        return response

    def _record(self, request, match, response):
        url_name = match.url_name or ""
        phi = _phi_model(url_name)
        changing = request.method in UNSAFE_METHODS
        if phi is None and not changing:
            return  # browsing content or settings pages: not patient data
        object_id = str(match.kwargs.get("object_id", "") or match.kwargs.get("pk", ""))
        object_type = phi[1] if phi else url_name.rsplit("_", 1)[0]
        if changing:
            action = AuditEntry.Action.CHANGE
        elif object_id:
            action = AuditEntry.Action.VIEW
        else:
            action = AuditEntry.Action.LIST
        label = ""
        if object_id and object_type == "case":
            label = _case_label(object_id)
        elif object_id:
            label = f"{object_type} {object_id}"
        audit_record(
            request=request,
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_label=label,
            status_code=response.status_code,
            details=list_details(request) if action == AuditEntry.Action.LIST else None,
        )
