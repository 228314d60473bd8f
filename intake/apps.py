from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = _("Intake and cases")

    def ready(self):
        from django.db.models.signals import post_migrate
        from django.utils.autoreload import file_changed

        from . import checks  # noqa: F401  (registers the deploy checks)
        from .kept_pages import forget_kept_pages_when_a_template_changes
        from .roles import ensure_staff_roles_after_migrate

        # runserver: pages kept in memory follow an edited template at once.
        file_changed.connect(forget_kept_pages_when_a_template_changes, dispatch_uid="kept-pages")

        # Permissions of apps migrated after intake exist only once migrate
        # finishes; grant them to the staff roles then.
        post_migrate.connect(ensure_staff_roles_after_migrate, sender=self)
