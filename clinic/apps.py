from django.contrib.admin.apps import AdminConfig


class ClinicAdminConfig(AdminConfig):
    """Django's admin with our site class (two-factor login when required)."""

    default_site = "clinic.admin_site.ClinicAdminSite"
