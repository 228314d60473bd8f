from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
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
        (_("What"), {"fields": ("object_type", "object_id", "object_label", "details")}),
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


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Clinic managers run staff accounts, but cannot raise anyone's powers above their own.

    Only a superuser may grant superuser status or single permissions, or
    change a superuser's account; managers give access through the staff role
    groups. Accounts are deactivated, never deleted: names stay on timelines.
    """

    _SUPERUSER_ONLY_FIELDS = ("is_superuser", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += self._SUPERUSER_ONLY_FIELDS
        return fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False
