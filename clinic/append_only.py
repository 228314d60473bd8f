"""A PostgreSQL trigger that makes a table append-only, for use in migrations.

The application already refuses to change or delete these rows; the trigger
makes the rule hold for anything else that connects to the database too.
TRUNCATE (test flushes, full restores) is not affected. Other databases
(SQLite in development) rely on the application-level guard alone.
"""

from django.db import migrations


def append_only_trigger(table: str) -> migrations.RunPython:
    function = f"{table}_append_only"
    create = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table} is append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {function}
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
"""
    drop = f"""
DROP TRIGGER IF EXISTS {function} ON {table};
DROP FUNCTION IF EXISTS {function}();
"""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # params=None: the SQL has a literal % for RAISE, not a placeholder.
            schema_editor.execute(create, params=None)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(drop, params=None)

    return migrations.RunPython(forwards, backwards)
