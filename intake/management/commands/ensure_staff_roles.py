from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from intake.roles import STAFF_ROLE_PERMISSIONS, ensure_staff_roles


class Command(BaseCommand):
    help = (
        "Create the staff groups (Front desk, Clinician, Clinic manager) if missing and "
        "give them their permissions. Safe to run again; never removes anything."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **options):
        ensure_staff_roles(using=options["database"])
        self.stdout.write(
            self.style.SUCCESS("Staff roles ready: " + ", ".join(STAFF_ROLE_PERMISSIONS) + ".")
        )
