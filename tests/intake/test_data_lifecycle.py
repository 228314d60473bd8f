"""Retention of closed cases' answers, and the patient-data export."""

import datetime
import json

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEntry
from intake.models import Case
from intake.services import case_change_status
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def closed_case(days_ago: int, **kwargs) -> Case:
    staff = UserFactory()
    with time_machine.travel(timezone.now() - datetime.timedelta(days=days_ago), tick=False):
        case = CaseFactory(**kwargs)
        case_change_status(case=case, to_status="in_review", by=staff)
        case_change_status(case=case, to_status="closed", by=staff)
    return Case.objects.get(pk=case.pk)


def test_old_closed_cases_lose_their_answers_and_keep_their_record(settings, capsys):
    settings.CLINIC_CASE_RETENTION_DAYS = 365
    old = closed_case(400, changes={"saddle_numbness": "yes"})
    recent = closed_case(100)
    still_open = CaseFactory()
    with time_machine.travel(timezone.now() - datetime.timedelta(days=500), tick=False):
        old_but_open = CaseFactory()

    call_command("purge_closed_cases")
    assert "Removed answers of 1 closed case(s)" in capsys.readouterr().out

    old.refresh_from_db()
    assert old.answers == {} and old.reasons == []
    assert old.reference and old.tier == "emergency" and old.flags == ["saddle_numbness"]
    assert old.events.filter(summary__startswith="Answers removed").exists()
    entry = AuditEntry.objects.get(action="purge")
    assert entry.object_label == old.reference
    for untouched in (recent, still_open, old_but_open):
        untouched.refresh_from_db()
        assert untouched.answers, untouched.reference


def test_dry_run_changes_nothing(settings, capsys):
    settings.CLINIC_CASE_RETENTION_DAYS = 30
    old = closed_case(60)
    call_command("purge_closed_cases", "--dry-run")
    old.refresh_from_db()
    assert old.answers
    assert f"would remove answers of {old.reference}" in capsys.readouterr().out
    assert not AuditEntry.objects.filter(action="purge").exists()


def test_patient_export_has_everything_and_is_audited(tmp_path):
    case = CaseFactory(changes={"medications": "ibuprofen <b>"})
    second = CaseFactory(patient=case.patient)
    out = tmp_path / "export.json"
    call_command(
        "export_patient_data", str(case.patient.pk), "--requested-by", "boss", "--output", str(out)
    )
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["patient"]["last_name"] == case.patient.last_name
    assert {c["reference"] for c in record["cases"]} == {case.reference, second.reference}
    exported = next(c for c in record["cases"] if c["reference"] == case.reference)
    assert exported["answers"]["medications"] == "ibuprofen <b>"
    entry = AuditEntry.objects.get(action="export")
    assert (entry.username, entry.object_type) == ("boss", "patient")
    assert case.patient.last_name not in entry.object_label


def test_export_of_unknown_patient_is_a_clear_error():
    with pytest.raises(CommandError, match="No patient with id 999"):
        call_command("export_patient_data", "999", "--requested-by", "boss")
