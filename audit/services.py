"""Writing audit entries (the only way anything is added to the audit log)."""

from django.http import HttpRequest

from clinic.client_ip import client_ip

from .models import AuditEntry


def _text(value: object, limit: int) -> str:
    """``value`` as text fit for a column: NUL removed (PostgreSQL refuses it), cut to size.

    Paths, ids and usernames come from the request as typed, hostile ones
    included; the entry is still written, without the bytes no column can hold.
    """
    return str(value).replace("\x00", "")[:limit]


def _json_safe(value: object) -> object:
    """``value`` with NUL removed from every string in it (PostgreSQL's jsonb refuses them)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_json_safe(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def audit_record(
    *,
    request: HttpRequest | None,
    action: str,
    user=None,
    username: str = "",
    object_type: str = "",
    object_id: object = "",
    object_label: str = "",
    status_code: int | None = None,
    details: dict | None = None,
) -> AuditEntry:
    """Append one audit entry: who, when, what and from where.

    ``object_label`` must never hold health information: a case reference or
    a record id, not a name. ``details`` says what a list, search or export
    held (the search term, filters, exported references); the audit log is
    staff-only, so a search term may be kept there, but never in the logs.
    """
    if user is None and request is not None:
        request_user = getattr(request, "user", None)
        if request_user is not None and request_user.is_authenticated:
            user = request_user
    if user is not None and not username:
        username = user.get_username()
    return AuditEntry.objects.create(
        user=user,
        username=_text(username, 150),
        action=action,
        object_type=_text(object_type, 50),
        object_id=_text(object_id, 50),
        object_label=_text(object_label, 100),
        path=_text(request.path or "", 300) if request else "",
        method=_text(request.method or "", 10) if request else "",
        status_code=status_code,
        ip_address=_text(client_ip(request), 45) if request else "",
        user_agent=_text(request.META.get("HTTP_USER_AGENT", ""), 200) if request else "",
        details=_json_safe(details or {}),
    )


#: The list page's own parameters that are neither a search nor a filter.
LIST_PAGE_PARAMETERS = {"p", "o", "e", "_popup", "_to_field"}


def list_details(request) -> dict:
    """What a list page was asked for: the search term and the filters, as typed.

    The term may hold a patient's name: it goes in the audit table (staff
    data, access-controlled) and nowhere else.
    """
    details = {}
    search = request.GET.get("q", "")
    if search:
        details["search"] = search
    filters = {
        key: values if len(values) > 1 else values[0]
        for key, values in request.GET.lists()
        if key != "q" and key not in LIST_PAGE_PARAMETERS
    }
    if filters:
        details["filters"] = filters
    return details
