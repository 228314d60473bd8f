from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from audit.models import AuditEntry
from clinic.append_only import chain_verify
from intake.models import CaseEvent

CHAINED_MODELS = (AuditEntry, CaseEvent)


class Command(BaseCommand):
    help = (
        "Walk the audit log and the case timelines in id order, check each row's hash chain "
        "and report the first broken or missing link per table. Exits non-zero if any."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--head",
            action="store_true",
            help="Also print each table's newest id and hash, to keep somewhere else.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, head, database, **options):
        broken = []
        for model in CHAINED_MODELS:
            check = chain_verify(model, using=database)
            if check.first_break is None:
                self.stdout.write(
                    f"{check.table}: {check.rows_checked} rows checked, chain intact."
                )
            else:
                found = check.first_break
                broken.append(check.table)
                self.stdout.write(
                    f"{check.table}: BROKEN at row id {found.row_id}: {found.problem} "
                    f"({check.rows_checked} rows checked)."
                )
            if head:
                self.stdout.write(f"{check.table} head: id {check.head_id} {check.head or '-'}")
        if broken:
            raise CommandError(f"Broken hash chain in {', '.join(broken)}.")
