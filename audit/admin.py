from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: managers read and filter the log; nobody edits or deletes it."""

    list_display = (
        "created_at",
        "username",
        "action",
        "object_type",
        "object_label",
        "status_code",
        "ip_address",
    )
    list_filter = ("action", "object_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("username", "object_label", "object_id", "ip_address", "path")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    show_full_result_count = False
    readonly_fields = [field.name for field in AuditEntry._meta.fields]
    fieldsets = (
        (None, {"fields": ("created_at", "user", "username", "action")}),
        (_("What"), {"fields": ("object_type", "object_id", "object_label")}),
        (
            _("Where from"),
            {"fields": ("path", "method", "status_code", "ip_address", "user_agent")},
        ),
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
