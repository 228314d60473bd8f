import re

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg import sql

from clinic.database_roles import (
    PASSWORD_ENV,
    grant_statements,
    refusals,
    role_plan,
    warnings,
)

# Plain lower-case names only: they appear in SQL and in DATABASE_URL.
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Command(BaseCommand):
    help = (
        "Run as the owner role (DATABASE_MIGRATE_URL) after every migrate: create the app "
        "role if missing and grant it what the app needs, with INSERT and SELECT only on "
        f"the audit log and case timelines. {PASSWORD_ENV} set: the role logs in with that "
        "password. Safe to repeat. --print shows the SQL instead (for a DBA)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--app-role", required=True, help="The role in DATABASE_URL, e.g. clinic_app."
        )
        parser.add_argument(
            "--print",
            action="store_true",
            dest="print_only",
            help="Print the SQL and change nothing (the password is left out).",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, app_role, print_only=False, database=DEFAULT_DB_ALIAS, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError(
                "database_roles is for PostgreSQL: SQLite has no roles (development only)."
            )
        if not ROLE_NAME.match(app_role):
            raise CommandError(f"{app_role!r}: use lower-case letters, digits and _ only.")
        plan = role_plan(connection, app_role=app_role)
        connection.ensure_connection()
        raw = connection.connection

        def quote(name):
            return sql.Identifier(name).as_string(raw)

        def literal(value):
            return sql.Literal(value).as_string(raw)

        problems = refusals(connection, plan)
        if problems:
            raise CommandError("\n".join(problems))
        statements = grant_statements(
            plan, quote=quote, literal=literal, show_password=not print_only
        )
        if print_only:
            self.stdout.write(
                f"-- Run as {plan.owner_role} (the owner) after every migrate.\n"
                + "\n".join(statements)
            )
            return
        with transaction.atomic(using=database), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        for note in warnings(connection, plan):
            self.stderr.write(f"Warning: {note}")
        self.stdout.write(
            f"{app_role}: may read and write the app's tables; INSERT and SELECT only on "
            f"{', '.join(plan.append_only)}; owns nothing. Default privileges set for tables "
            f"{plan.owner_role} creates later."
        )
