import datetime

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from intake.services import draft_purge_expired


class Command(BaseCommand):
    help = "Delete unfinished questionnaires older than CLINIC_DRAFT_HOURS (run it hourly)."

    def handle(self, *args, **options):
        cutoff = timezone.now() - datetime.timedelta(hours=settings.CLINIC_DRAFT_HOURS)
        deleted = draft_purge_expired(older_than=cutoff)
        self.stdout.write(
            f"Deleted {deleted} unfinished questionnaire(s) "
            f"untouched since {cutoff:%Y-%m-%d %H:%M %Z}."
        )
