"""Least privilege in PostgreSQL: the owner role and the app role (issue 18, finding 5).

The schema belongs to the **owner** role (``DATABASE_MIGRATE_URL``): it runs
``migrate`` and ``createcachetable`` and owns every table, sequence and
trigger. The web and worker processes connect as the **app** role
(``DATABASE_URL``), which owns nothing, so it cannot ``ALTER``, ``DROP`` or
disable a trigger, and which may only ``INSERT`` and ``SELECT`` on the
append-only tables (the audit log and the case timelines): no ``UPDATE``,
``DELETE`` or ``TRUNCATE``.

``grant_statements`` is the whole policy, as SQL the owner runs (``manage.py
database_roles``) or a DBA reads (``--print``). Every statement is safe to
repeat, so the command runs after every ``migrate``: a table added since is
covered by the default privileges, and a new append-only table gets its
``REVOKE`` on the next run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.apps import apps
from django.db.backends.base.base import BaseDatabaseWrapper

from clinic.append_only import AppendOnlyModel

#: Environment variable holding the app role's password. Set: the role is
#: created (or updated) with LOGIN and this password. Unset: a new role is
#: created NOLOGIN (a DBA gives it a password or grants it to a login role),
#: and an existing role's login and password are left as they are.
PASSWORD_ENV = "CLINIC_DB_APP_PASSWORD"  # noqa: S105 - the variable's name, not a password

#: What the app may do on every table but the append-only ones.
TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
#: What the app may do on the append-only tables.
APPEND_ONLY_RIGHTS = "SELECT, INSERT"
#: Never granted anywhere: TRUNCATE empties an append-only table without
#: firing its row triggers; REFERENCES and TRIGGER are schema work.
NEVER_GRANTED = "TRUNCATE, REFERENCES, TRIGGER"


class DatabaseRolesError(Exception):
    """The roles cannot be set up safely as asked; the message says why and what to do."""


def append_only_tables() -> list[str]:
    """The tables whose rows are written once: every concrete ``AppendOnlyModel``."""
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, AppendOnlyModel) and not model._meta.proxy
    )


@dataclass(frozen=True)
class RolePlan:
    app_role: str
    owner_role: str
    schema: str
    append_only: tuple[str, ...]
    login_password: str | None


def grant_statements(plan: RolePlan, *, quote, literal, show_password: bool = True) -> list[str]:
    """The SQL, in order: create the role if missing, grant, default privileges, revoke.

    ``quote`` makes an identifier safe, ``literal`` a string literal (from the
    connection, so names and the password are never pasted in raw). Without
    ``show_password`` (printing for a DBA) the password is left out and a
    comment says how to set it.
    """
    app, owner, schema = quote(plan.app_role), quote(plan.owner_role), quote(plan.schema)
    login = "NOLOGIN" if plan.login_password is None else "LOGIN"
    create = (
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
        f"{literal(plan.app_role)}) THEN CREATE ROLE {app} {login}; END IF; END $$;"
    )
    password = []
    if plan.login_password is not None:
        password = (
            [f"ALTER ROLE {app} LOGIN PASSWORD {literal(plan.login_password)};"]
            if show_password
            else [f"-- Set its password in psql (not shown here): \\password {plan.app_role}"]
        )
    statements = [
        create,
        *password,
        f"GRANT USAGE ON SCHEMA {schema} TO {app};",
        # Current tables and sequences (the owner's: migrations and the cache table).
        f"GRANT {TABLE_RIGHTS} ON ALL TABLES IN SCHEMA {schema} TO {app};",
        f"REVOKE {NEVER_GRANTED} ON ALL TABLES IN SCHEMA {schema} FROM {app};",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {app};",
        f"REVOKE UPDATE ON ALL SEQUENCES IN SCHEMA {schema} FROM {app};",
        # Tables and sequences the owner creates later (new migrations).
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
        f"GRANT {TABLE_RIGHTS} ON TABLES TO {app};",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {app};",
    ]
    for table in plan.append_only:
        statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE ON {quote(table)} FROM {app};")
    return statements


def role_plan(connection: BaseDatabaseWrapper, *, app_role: str) -> RolePlan:
    """What to grant, read from the database the owner is connected to."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_schema()")
        owner, schema = cursor.fetchone()
    return RolePlan(
        app_role=app_role,
        owner_role=owner,
        schema=schema,
        append_only=tuple(append_only_tables()),
        login_password=os.environ.get(PASSWORD_ENV) or None,
    )


def refusals(connection: BaseDatabaseWrapper, plan: RolePlan) -> list[str]:
    """Reasons not to go on: an app role that could act as the owner is no protection."""
    problems = []
    with connection.cursor() as cursor:
        if plan.app_role == plan.owner_role:
            return [
                f"{plan.app_role} is the role running this command (the owner). The app "
                "must connect as a different role."
            ]
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolbypassrls, rolreplication "
            "FROM pg_roles WHERE rolname = %s",
            [plan.app_role],
        )
        row = cursor.fetchone()
        if row is None:
            return problems  # created by the statements
        if any(row):
            problems.append(
                f"{plan.app_role} is a superuser or may create roles, bypass row security "
                "or replicate: it could undo every grant. Use an ordinary role."
            )
        cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [plan.app_role, plan.owner_role])
        if cursor.fetchone()[0]:
            problems.append(
                f"{plan.app_role} is a member of {plan.owner_role}, so it has the owner's "
                f"rights: REVOKE {plan.owner_role} FROM {plan.app_role}."
            )
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = %s) "
            "AND n.nspname = %s ORDER BY c.relname",
            [plan.app_role, plan.schema],
        )
        owned = [name for (name,) in cursor.fetchall()]
        if owned:
            problems.append(
                f"{plan.app_role} owns {', '.join(owned[:10])}"
                f"{' and more' if len(owned) > 10 else ''}: an owner can drop or disable "
                f"triggers. Make {plan.owner_role} the owner (as a superuser: "
                f"REASSIGN OWNED BY {plan.app_role} TO {plan.owner_role})."
            )
    return problems


def warnings(connection: BaseDatabaseWrapper, plan: RolePlan) -> list[str]:
    """Things worth a DBA's look that do not stop the grants."""
    notes = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'S') "
            "AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user) "
            "ORDER BY c.relname",
            [plan.schema],
        )
        foreign = cursor.fetchall()
        if foreign:
            names = ", ".join(f"{name} ({owner})" for name, owner in foreign[:10])
            notes.append(
                f"Not owned by {plan.owner_role}, so not covered here: {names}. Run this "
                "command as the role that runs migrate."
            )
        cursor.execute(
            "SELECT rolname FROM pg_roles WHERE rolname = %s "
            "AND has_schema_privilege(rolname, %s, 'CREATE')",
            [plan.app_role, plan.schema],
        )
        if cursor.fetchone():
            notes.append(
                f"{plan.app_role} may create tables in schema {plan.schema} (PostgreSQL "
                f"before 15 allows everyone): REVOKE CREATE ON SCHEMA {plan.schema} FROM PUBLIC."
            )
    return notes
