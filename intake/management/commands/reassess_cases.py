from django.core.management.base import BaseCommand

from intake import triage
from intake.services import REASSESS_BATCH_SIZE, case_reassess_all


class Command(BaseCommand):
    help = (
        f"Re-assess every case still in the clinic's hands (new, in review, contacted, "
        f"scheduled) that an older rules version assessed, with rules version "
        f"{triage.RULES_VERSION}. Run on every deploy, after migrate; running it again "
        f"changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=REASSESS_BATCH_SIZE,
            help="Cases re-assessed per transaction (default %(default)s).",
        )

    def handle(self, *args, batch_size, **options):
        counts = case_reassess_all(batch_size=batch_size)
        self.stdout.write(counts.as_text())
