"""On PostgreSQL, the database itself refuses to change or delete timeline rows.

The application already refuses (CaseEvent.save/delete and its queryset);
this makes the rule hold for anything else that connects to the database
too. TRUNCATE (used by test flushes and full restores) is not affected.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION intake_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'intake_caseevent is append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER intake_caseevent_append_only
    BEFORE UPDATE OR DELETE ON intake_caseevent
    FOR EACH ROW EXECUTE FUNCTION intake_caseevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS intake_caseevent_append_only ON intake_caseevent;
DROP FUNCTION IF EXISTS intake_caseevent_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
