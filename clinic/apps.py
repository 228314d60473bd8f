from django.contrib.admin.apps import AdminConfig


class ClinicAdminConfig(AdminConfig):
    """Django's admin with our site class (two-factor login when required)."""

    default_site = "clinic.admin_site.ClinicAdminSite"

    def ready(self):
        super().ready()  # every app's admin.py registers its models here
        from django.contrib import admin

        from clinic.admin_site import restrict_to_superusers, superuser_only_models

        # The System section's screens themselves, not only its place on the home page.
        for model in superuser_only_models(admin.site):
            restrict_to_superusers(admin.site, model)
