import datetime

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from intake.services import draft_purge_expired, rate_limit_purge


class Command(BaseCommand):
    help = (
        "Delete unfinished questionnaires older than CLINIC_DRAFT_HOURS, and rate-limit "
        "counters of past days (run it hourly)."
    )

    def handle(self, *args, **options):
        cutoff = timezone.now() - datetime.timedelta(hours=settings.CLINIC_DRAFT_HOURS)
        deleted = draft_purge_expired(older_than=cutoff)
        self.stdout.write(
            f"Deleted {deleted} unfinished questionnaire(s) "
            f"untouched since {cutoff:%Y-%m-%d %H:%M %Z}."
        )
        # No rate in use counts over more than a day.
        counters = rate_limit_purge(older_than=timezone.now() - datetime.timedelta(days=1))
        self.stdout.write(f"Deleted {counters} rate-limit counter(s) of past days.")
