"""The staff admin site: Django's, plus two-factor login when CLINIC_REQUIRE_2FA is on."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp.admin import OTPAdminAuthenticationForm


class ClinicAdminSite(admin.AdminSite):
    site_header = "Clinic intake: staff"
    site_title = "Clinic intake staff"
    index_title = "Cases and content"

    @property
    def login_form(self):
        if settings.CLINIC_REQUIRE_2FA:
            return OTPAdminAuthenticationForm
        return AdminAuthenticationForm

    @property
    def login_template(self):
        return "otp/admin111/login.html" if settings.CLINIC_REQUIRE_2FA else None

    def has_permission(self, request):
        """Staff may in only when active, staff and, if 2FA is required, verified by a device."""
        allowed = super().has_permission(request)
        if allowed and settings.CLINIC_REQUIRE_2FA:
            return request.user.is_verified()
        return allowed
