"""Writing audit entries (the only way anything is added to the audit log)."""

from django.http import HttpRequest

from clinic.client_ip import client_ip

from .models import AuditEntry


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
) -> AuditEntry:
    """Append one audit entry: who, when, what and from where.

    ``object_label`` must never hold health information: a case reference or
    a record id, not a name.
    """
    if user is None and request is not None:
        request_user = getattr(request, "user", None)
        if request_user is not None and request_user.is_authenticated:
            user = request_user
    if user is not None and not username:
        username = user.get_username()
    return AuditEntry.objects.create(
        user=user,
        username=username[:150],
        action=action,
        object_type=object_type[:50],
        object_id=str(object_id)[:50],
        object_label=object_label[:100],
        path=(request.path or "")[:300] if request else "",
        method=(request.method or "") if request else "",
        status_code=status_code,
        ip_address=client_ip(request)[:45] if request else "",
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:200] if request else "",
    )
