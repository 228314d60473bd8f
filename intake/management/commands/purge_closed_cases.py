from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import audit_record
from intake.selectors import cases_past_retention
from intake.services import case_purge_answers


class Command(BaseCommand):
    help = (
        "Remove the answers of closed cases whose last activity is older than "
        "CLINIC_CASE_RETENTION_DAYS (run it daily). Each removal is written to the "
        "case timeline and the audit log."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be removed; change nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        days = settings.CLINIC_CASE_RETENTION_DAYS
        purged = 0
        for case in cases_past_retention(now=timezone.now(), retention_days=days).iterator():
            purged += 1
            if dry_run:
                self.stdout.write(f"would remove answers of {case.reference}")
                continue
            case_purge_answers(case=case, retention_days=days)
            audit_record(
                request=None,
                action=AuditEntry.Action.PURGE,
                username="retention-policy",
                object_type="case",
                object_id=case.pk,
                object_label=case.reference,
            )
            self.stdout.write(f"removed answers of {case.reference}")
        verb = "Would remove" if dry_run else "Removed"
        self.stdout.write(f"{verb} answers of {purged} closed case(s) older than {days} days.")
