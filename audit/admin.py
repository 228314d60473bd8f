from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from intake.roles import grantable_groups, may_manage_account

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

    Nobody grants a role, group or permission they do not hold
    (``intake.roles.grantable_groups``); nobody changes an account holding
    powers they lack, its password included (``intake.roles.may_manage_account``),
    and nobody changes their own roles, permissions, superuser or staff status.
    Only a superuser grants superuser status or single permissions. Accounts
    are deactivated, never deleted: names stay on timelines.
    """

    _SUPERUSER_ONLY_FIELDS = ("is_superuser", "user_permissions")
    #: What nobody may change on their own account, superusers included.
    _NOT_ON_ONESELF_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        """Privileges beyond the user's own, and their own privileges, are shown, not edited."""
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += self._SUPERUSER_ONLY_FIELDS
        if obj is not None and obj.pk == request.user.pk:
            fields += self._NOT_ON_ONESELF_FIELDS
        return list(dict.fromkeys(fields))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        """The roles offered (and accepted) are only those the user holds every power of."""
        if db_field.name == "groups":
            kwargs["queryset"] = grantable_groups(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        """Never an account holding powers the user lacks (a superuser's included)."""
        if obj is not None and not may_manage_account(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False
