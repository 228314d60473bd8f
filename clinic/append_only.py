"""Append-only tables (case timelines, the audit log).

Two layers: ``AppendOnlyModel`` and ``AppendOnlyQuerySet`` make the
application refuse to change or delete a stored row, and
``append_only_trigger`` (used in migrations) makes PostgreSQL refuse it for
anything else that connects too. TRUNCATE (test flushes, full restores) is not
affected. SQLite in development relies on the application layer alone.
"""

from django.db import migrations, models


class AppendOnlyError(Exception):
    """A stored row of an append-only table was about to be changed or deleted."""


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk updates and deletes are refused with the model's own error."""

    def update(self, **kwargs):
        raise self.model.append_only_error(f"{self.model._meta.verbose_name_plural}: no changes.")

    def delete(self):
        raise self.model.append_only_error(f"{self.model._meta.verbose_name_plural}: no deletes.")


class AppendOnlyModel(models.Model):
    """A row is written once; saving it again or deleting it raises ``append_only_error``."""

    append_only_error: type[AppendOnlyError] = AppendOnlyError

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise self.append_only_error(f"{self._meta.verbose_name} cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise self.append_only_error(f"{self._meta.verbose_name} cannot be deleted.")


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
