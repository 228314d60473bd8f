from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = _("Intake and cases")

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import checks  # noqa: F401  (registers the deploy checks)
        from .roles import ensure_staff_roles_after_migrate

        # Permissions of apps migrated after intake exist only once migrate
        # finishes; grant them to the staff roles then.
        post_migrate.connect(ensure_staff_roles_after_migrate, sender=self)
