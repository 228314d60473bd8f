"""The documented backup and restore procedure, end to end on PostgreSQL."""

import shutil
import subprocess
import sys

import pytest
from django.db import connection

from intake.models import Case, CaseEvent
from intake.services import case_add_note, case_change_status
from tests.factories import CaseFactory, UserFactory
from tests.ops.servers import ROOT, production_env

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="pg_dump/pg_restore need PostgreSQL"
    ),
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="PostgreSQL client tools missing"),
]


@pytest.fixture
def restore_target():
    db = connection.settings_dict
    server = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    )
    name = f"{db['NAME']}_restored"
    drop = ["psql", f"{server}/postgres", "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)']
    subprocess.run(drop, check=True)
    yield f"{server}/{name}"
    subprocess.run(drop, check=True)


def test_backup_restores_into_a_fresh_database_with_cases_and_timelines(tmp_path, restore_target):
    staff = UserFactory(username="nurse")
    cases = [CaseFactory(changes={"saddle_numbness": "yes"}), CaseFactory()]
    case_change_status(case=cases[0], to_status="in_review", by=staff)
    case_add_note(case=cases[0], text="Called the patient; sent to ED.", by=staff)
    expected_events = CaseEvent.objects.count()
    assert expected_events >= 2

    env = production_env()
    dump = tmp_path / "clinic.dump"
    subprocess.run([str(ROOT / "bin/backup"), str(dump)], env=env, check=True, timeout=120)
    result = subprocess.run(
        [str(ROOT / "bin/restore"), str(dump), restore_target],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )
    assert "2 cases" in result.stdout

    # The app runs against the restored database: migrations applied, data intact.
    restored = production_env(DATABASE_URL=restore_target)
    check = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check"],
        cwd=ROOT,
        env=restored,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    reference = cases[0].reference
    script = (
        "from intake.models import Case, CaseEvent;"
        "print(sorted(Case.objects.values_list('reference', flat=True)));"
        "print(CaseEvent.objects.count());"
        f"case = Case.objects.get(reference={reference!r});"
        "print(list(case.events.values_list('text', flat=True)))"
    )
    shell = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env=restored,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shell.returncode == 0, shell.stderr
    references, events, notes = shell.stdout.strip().splitlines()
    assert references == str(sorted(Case.objects.values_list("reference", flat=True)))
    assert int(events) == expected_events
    assert "Called the patient; sent to ED." in notes

    # Restoring again over the now-filled database is refused: nothing is overwritten.
    again = subprocess.run(
        [str(ROOT / "bin/restore"), str(dump), restore_target],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode != 0
    assert "Refusing to restore" in again.stderr
