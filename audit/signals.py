"""Logins, failed logins and logouts go into the audit log."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from clinic.admin_site import SECOND_FACTOR_FAILED

from .models import AuditEntry
from .services import audit_record


@receiver(user_logged_in, dispatch_uid="audit_login")
def record_login(sender, request, user, **kwargs):
    audit_record(request=request, action=AuditEntry.Action.LOGIN, user=user)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def record_logout(sender, request, user, **kwargs):
    audit_record(request=request, action=AuditEntry.Action.LOGOUT, user=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def record_login_failed(sender, credentials, request=None, **kwargs):
    # The attempted username only; never the password or the code.
    second_factor = bool(credentials.get(SECOND_FACTOR_FAILED))
    audit_record(
        request=request,
        action=AuditEntry.Action.LOGIN_FAILED,
        username=str(credentials.get("username", ""))[:150],
        object_label="right password, wrong or missing one-time code" if second_factor else "",
    )
