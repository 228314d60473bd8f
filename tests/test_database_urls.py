"""Schema commands connect as the owner (DATABASE_MIGRATE_URL); the app never does."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clinic.database_urls import OWNER_COMMANDS, use_owner_database

APP_URL = "postgres://clinic_app:app-secret@db.example:5432/clinic"
OWNER_URL = "postgres://clinic_owner:owner-secret@db.example:5432/clinic"


# Which URL each command uses (manage.py) ------------------------------------------


@pytest.mark.parametrize("command", sorted(OWNER_COMMANDS))
def test_schema_commands_connect_as_the_owner(command):
    environ = {"DATABASE_URL": APP_URL, "DATABASE_MIGRATE_URL": OWNER_URL}
    assert use_owner_database(["manage.py", command, "--noinput"], environ) is True
    assert environ["DATABASE_URL"] == OWNER_URL


@pytest.mark.parametrize(
    "argv", [["manage.py", "runserver"], ["manage.py", "db_worker"], ["manage.py", "shell"]]
)
def test_everything_else_connects_as_the_app(argv):
    environ = {"DATABASE_URL": APP_URL, "DATABASE_MIGRATE_URL": OWNER_URL}
    assert use_owner_database(argv, environ) is False
    assert environ["DATABASE_URL"] == APP_URL


def test_without_a_migrate_url_nothing_changes():
    environ = {"DATABASE_URL": APP_URL}
    assert use_owner_database(["manage.py", "migrate"], environ) is False
    assert environ == {"DATABASE_URL": APP_URL}
    assert use_owner_database(["manage.py", "migrate"], {}) is False  # SQLite default


def test_urls_naming_different_databases_are_refused():
    environ = {
        "DATABASE_URL": APP_URL,
        "DATABASE_MIGRATE_URL": OWNER_URL.replace("/clinic", "/clinic_old"),
    }
    with pytest.raises(SystemExit, match="different databases"):
        use_owner_database(["manage.py", "migrate"], environ)
    assert environ["DATABASE_URL"] == APP_URL


def test_manage_py_applies_it_before_settings_load(tmp_path):
    """The real entry point: a migrate with mismatched URLs stops before touching either."""
    app = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    owner = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    env = {**os.environ, "DJANGO_DEBUG": "1", "DATABASE_URL": app, "DATABASE_MIGRATE_URL": owner}
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "name different databases" in result.stderr
    assert not (tmp_path / "app.sqlite3").exists()
    assert not (tmp_path / "other.sqlite3").exists()
