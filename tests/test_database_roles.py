"""Least privilege in PostgreSQL (issue 18, finding 5): the app role cannot rewrite history.

The PostgreSQL tests create a role with a unique name, run ``manage.py
database_roles`` for it as the owner (the test user, who owns the test
database's tables), then ``SET ROLE`` to it on the test connection and try
what an attacker with the app's credentials would. Everything runs inside the
test's transaction, so the role and its grants vanish with the rollback; the
role is dropped afterwards in case anything outlived it.
"""

import contextlib
import io
import uuid

import psycopg
import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from psycopg import errors, sql

from audit.models import AuditEntry
from audit.services import audit_record
from clinic.database_roles import PASSWORD_ENV, append_only_tables
from intake.models import Case, CaseEvent
from intake.services import case_change_status, case_submit
from tests.factories import SUBMISSION_DETAILS, UserFactory, complete_answers

ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="database roles and grants exist on PostgreSQL only (SQLite has no roles)",
)


@pytest.mark.django_db
def test_the_command_says_sqlite_has_no_roles():
    if connection.vendor == "postgresql":
        pytest.skip("this is the SQLite message")
    with pytest.raises(CommandError, match="SQLite has no roles"):
        call_command("database_roles", app_role="clinic_app")


def test_the_audit_log_and_case_timelines_are_the_append_only_tables():
    assert {"audit_auditentry", "intake_caseevent"} <= set(append_only_tables())


# PostgreSQL: what the app role can and cannot do ----------------------------------


@pytest.fixture
def app_role():
    """A unique role name; dropped at the end if it outlived the test's transaction."""
    name = f"clinic_app_test_{uuid.uuid4().hex[:12]}"
    yield name
    if connection.vendor != "postgresql":
        return
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone():
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


@pytest.fixture
def granted_role(db, app_role):
    call_command("database_roles", app_role=app_role, stdout=io.StringIO())
    return app_role


@contextlib.contextmanager
def acting_as(role: str):
    """Run the Django connection's statements as ``role`` (the test user may SET ROLE)."""
    with connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{role}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def refused(statement: str, params=None):
    """Run ``statement`` and return the PostgreSQL error it raised (None if it ran)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    except DatabaseError as error:
        return error.__cause__
    return None


def user_triggers(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [table],
        )
        return [name for (name,) in cursor.fetchall()]


def stored_rows() -> None:
    """One audit entry and one timeline entry, written as the owner."""
    case = case_submit(
        details=SUBMISSION_DETAILS, answers=complete_answers(), submission_token=uuid.uuid4()
    )
    audit_record(request=None, action=AuditEntry.Action.VIEW, username="x", object_id=case.pk)
    assert CaseEvent.objects.filter(case=case).exists()


@ON_POSTGRESQL
@pytest.mark.parametrize("table", append_only_tables())
@pytest.mark.parametrize(
    "statement",
    ["UPDATE {table} SET id = id", "DELETE FROM {table}", "TRUNCATE {table}"],
    ids=["update", "delete", "truncate"],
)
def test_the_app_role_cannot_change_or_remove_audit_and_timeline_rows(
    granted_role, table, statement
):
    stored_rows()
    with acting_as(granted_role):
        error = refused(statement.format(table=table))
    # Refused for want of the right, before any trigger is asked.
    assert isinstance(error, errors.InsufficientPrivilege), error


@ON_POSTGRESQL
@pytest.mark.parametrize("table", append_only_tables())
def test_the_app_role_cannot_disable_drop_or_alter_the_triggers(granted_role, table):
    triggers = user_triggers(table)
    assert triggers, f"{table} has no append-only trigger to protect"
    attempts = [
        f"ALTER TABLE {table} DISABLE TRIGGER ALL",
        f"ALTER TABLE {table} DISABLE TRIGGER USER",
        *(f"ALTER TABLE {table} DISABLE TRIGGER {name}" for name in triggers),
        *(f"DROP TRIGGER {name} ON {table}" for name in triggers),
        f"ALTER TABLE {table} ADD COLUMN sneaky integer",
        f"ALTER TABLE {table} OWNER TO CURRENT_USER",
        f"DROP TABLE {table} CASCADE",
        f"CREATE TRIGGER sneaky BEFORE INSERT ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",
        "SET session_replication_role = replica",  # would skip every trigger
    ]
    with acting_as(granted_role):
        for statement in attempts:
            error = refused(statement)
            assert isinstance(error, errors.InsufficientPrivilege), (statement, error)
    assert user_triggers(table) == triggers


@ON_POSTGRESQL
def test_the_app_role_owns_nothing(granted_role):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = %s)",
            [granted_role],
        )
        assert cursor.fetchone()[0] == 0


@ON_POSTGRESQL
def test_the_app_role_submits_a_case_and_changes_its_status_through_the_services(granted_role):
    with acting_as(granted_role):
        staff = UserFactory(username="roles-clinician")
        case = case_submit(
            details=SUBMISSION_DETAILS, answers=complete_answers(), submission_token=uuid.uuid4()
        )
        case_change_status(case=case, to_status=Case.Status.IN_REVIEW, by=staff, note="Called.")
        entry = audit_record(
            request=None, action=AuditEntry.Action.VIEW, user=staff, object_id=case.pk
        )
        # Reads back what it wrote: INSERT and SELECT on the append-only tables.
        kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
        assert CaseEvent.Kind.STATUS in kinds
        assert AuditEntry.objects.get(pk=entry.pk).user == staff
        assert Case.objects.get(pk=case.pk).status == Case.Status.IN_REVIEW
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == granted_role


@ON_POSTGRESQL
def test_the_app_role_uses_the_cache_and_sessions(granted_role):
    from django.contrib.sessions.backends.db import SessionStore

    with acting_as(granted_role):
        cache.set("roles-test", "kept")  # the table createcachetable made
        assert cache.get("roles-test") == "kept"
        cache.delete("roles-test")
        session = SessionStore()
        session["step"] = "about-you"
        session.create()
        assert SessionStore(session_key=session.session_key).load() == {"step": "about-you"}
        session.delete()


@ON_POSTGRESQL
def test_the_app_role_has_exactly_the_rights_it_needs_on_every_table(granted_role):
    append_only = set(append_only_tables())
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        assert settings.CACHES["default"]["LOCATION"] in tables
        assert "django_tasks_database_dbtaskresult" in tables  # the task queue
        rights = {}
        for table in tables:
            cursor.execute(
                "SELECT has_table_privilege(%s, %s, 'SELECT'), "
                "has_table_privilege(%s, %s, 'INSERT'), has_table_privilege(%s, %s, 'UPDATE'), "
                "has_table_privilege(%s, %s, 'DELETE'), has_table_privilege(%s, %s, 'TRUNCATE'), "
                "has_table_privilege(%s, %s, 'TRIGGER')",
                [granted_role, table] * 6,
            )
            rights[table] = cursor.fetchone()
        cursor.execute(
            "SELECT c.relname, has_sequence_privilege(%s, c.oid, 'USAGE'), "
            "has_sequence_privilege(%s, c.oid, 'UPDATE') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'S' AND n.nspname = current_schema()",
            [granted_role, granted_role],
        )
        sequences = cursor.fetchall()
    expected = {
        table: (True, True, False, False, False, False)
        if table in append_only
        else (True, True, True, True, False, False)
        for table in tables
    }
    assert rights == expected
    assert sequences
    assert all(usage and not update for _name, usage, update in sequences), sequences


@ON_POSTGRESQL
def test_tables_the_owner_creates_later_are_granted_by_default(granted_role):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE roles_test_later (id bigserial PRIMARY KEY, note text)")
    with acting_as(granted_role), connection.cursor() as cursor:
        cursor.execute("INSERT INTO roles_test_later (note) VALUES ('a')")
        cursor.execute("UPDATE roles_test_later SET note = 'b'")
        cursor.execute("DELETE FROM roles_test_later")


@ON_POSTGRESQL
def test_running_the_command_again_changes_nothing(granted_role):
    def privileges():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
                "WHERE grantee = %s ORDER BY 1, 2",
                [granted_role],
            )
            return cursor.fetchall()

    before = privileges()
    call_command("database_roles", app_role=granted_role, stdout=io.StringIO())
    assert privileges() == before
    assert ("audit_auditentry", "INSERT") in before
    assert ("audit_auditentry", "UPDATE") not in before


@ON_POSTGRESQL
def test_print_shows_the_sql_and_changes_nothing(db, app_role, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "not-to-be-printed")
    out = io.StringIO()
    call_command("database_roles", app_role=app_role, print_only=True, stdout=out)
    printed = out.getvalue()
    for table in append_only_tables():
        assert f'REVOKE UPDATE, DELETE, TRUNCATE ON "{table}" FROM "{app_role}";' in printed
    assert "ALTER DEFAULT PRIVILEGES" in printed
    assert "not-to-be-printed" not in printed
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
        assert cursor.fetchone() is None


@ON_POSTGRESQL
def test_a_password_makes_a_login_role_and_none_a_nologin_role(db, app_role, monkeypatch):
    def can_login(name):
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", [name])
            return cursor.fetchone()[0]

    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    call_command("database_roles", app_role=app_role, stdout=io.StringIO())
    assert can_login(app_role) is False
    monkeypatch.setenv(PASSWORD_ENV, "a-long-random-password")
    call_command("database_roles", app_role=app_role, stdout=io.StringIO())
    assert can_login(app_role) is True


@ON_POSTGRESQL
def test_an_app_role_that_could_act_as_the_owner_is_refused(db, app_role):
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{app_role}" NOLOGIN')
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
        cursor.execute(f'GRANT "{owner}" TO "{app_role}"')
    with pytest.raises(CommandError, match="member of"):
        call_command("database_roles", app_role=app_role, stdout=io.StringIO())
    with pytest.raises(CommandError, match="is the role running this command"):
        call_command("database_roles", app_role=owner)


@ON_POSTGRESQL
def test_an_app_role_that_owns_a_table_is_refused(db, app_role):
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{app_role}" NOLOGIN')
        cache_table = settings.CACHES["default"]["LOCATION"]
        cursor.execute(f'ALTER TABLE {cache_table} OWNER TO "{app_role}"')
    with pytest.raises(CommandError, match="owns clinic_cache"):
        call_command("database_roles", app_role=app_role, stdout=io.StringIO())


def test_the_readme_explains_the_two_roles():
    readme = (settings.BASE_DIR / "README.md").read_text()
    for name in ("DATABASE_MIGRATE_URL", PASSWORD_ENV, "manage.py database_roles"):
        assert name in readme
