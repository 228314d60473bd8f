import json
import sys

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEntry
from audit.services import audit_record
from intake.exports.patient_record import patient_record
from intake.models import Patient


class Command(BaseCommand):
    help = (
        "Write everything held about one patient as JSON (for a records request). "
        "The export is recorded in the audit log."
    )

    def add_arguments(self, parser):
        parser.add_argument("patient_id", type=int, help="the patient's id (see the admin)")
        parser.add_argument("--requested-by", required=True, help="staff username making it")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, patient_id, requested_by, output=None, **options):
        try:
            record = patient_record(patient_id)
        except Patient.DoesNotExist:
            raise CommandError(f"No patient with id {patient_id}.") from None
        text = json.dumps(record, ensure_ascii=False, indent=2)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            sys.stdout.write(text + "\n")
        audit_record(
            request=None,
            action=AuditEntry.Action.EXPORT,
            username=requested_by,
            object_type="patient",
            object_id=patient_id,
            object_label=f"patient {patient_id} ({len(record['cases'])} cases)",
        )
