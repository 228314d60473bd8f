"""The append-only audit log of who saw and changed protected health information."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.append_only import AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet


class AuditLogIsAppendOnly(AppendOnlyError):
    pass


class AuditEntry(AppendOnlyModel):
    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        LIST = "list", _("Listed")
        CHANGE = "change", _("Changed")
        EXPORT = "export", _("Exported")
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Login failed")
        LOGOUT = "logout", _("Logged out")
        PURGE = "purge", _("Purged")

    created_at = models.DateTimeField(
        _("when"), default=timezone.now, editable=False, db_index=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices, db_index=True)
    object_type = models.CharField(_("object type"), max_length=50, blank=True, db_index=True)
    object_id = models.CharField(_("object id"), max_length=50, blank=True)
    object_label = models.CharField(_("object"), max_length=100, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    method = models.CharField(_("method"), max_length=10, blank=True)
    status_code = models.PositiveSmallIntegerField(_("response"), null=True, blank=True)
    ip_address = models.CharField(_("from address"), max_length=45, blank=True)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)
    #: What a list, search or export held: the search term, the filters, the
    #: case references exported. Staff-only access-controlled data, like the rest.
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()
    append_only_error = AuditLogIsAppendOnly
    chain_fields = (
        "created_at",
        "user_id",
        "username",
        "action",
        "object_type",
        "object_id",
        "object_label",
        "path",
        "method",
        "status_code",
        "ip_address",
        "user_agent",
        "details",
    )

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        who = self.username or "-"
        return f"{self.created_at:%Y-%m-%d %H:%M} {who} {self.action} {self.object_label}"
