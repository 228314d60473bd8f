"""Append-only tables (case timelines, the audit log).

Three layers: ``AppendOnlyModel`` and ``AppendOnlyQuerySet`` make the
application refuse to change or delete a stored row, and
``append_only_trigger`` (used in migrations) makes PostgreSQL refuse it for
anything else that connects too. TRUNCATE (test flushes, full restores) is not
affected. SQLite in development relies on the application layer alone.

Third, for whoever gets past both (the tables' owner, a restored copy): every
row carries a SHA-256 hash chained to the previous row (see "Hash chain"
below), so a change, a deletion or an insertion shows when the chain is
checked (``manage.py verify_audit_chain``).
"""

import datetime
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connections, migrations, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .rows import insert_row


class AppendOnlyError(Exception):
    """A stored row of an append-only table was about to be changed or deleted."""


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk updates and deletes are refused with the model's own error; bulk
    inserts are chained in the order given."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if kwargs.get("update_conflicts") or kwargs.get("ignore_conflicts"):
            # A skipped or merged row would leave a hash chained to nothing.
            raise self.model.append_only_error(
                f"{self.model._meta.verbose_name_plural}: inserts only, no conflicts."
            )
        if not objs:
            return objs
        with transaction.atomic(using=self.db, savepoint=False):
            previous = chain_head_locked(self.model, self.db)
            for obj in objs:
                previous = obj.chain_hash = chain_hash(previous, obj, self.model.chain_fields)
            return super().bulk_create(objs, *args, **kwargs)

    def update(self, **kwargs):
        raise self.model.append_only_error(f"{self.model._meta.verbose_name_plural}: no changes.")

    def delete(self):
        raise self.model.append_only_error(f"{self.model._meta.verbose_name_plural}: no deletes.")


class AppendOnlyModel(models.Model):
    """A row is written once; saving it again or deleting it raises ``append_only_error``.

    Each new row is chained: ``chain_hash`` covers the previous row's hash and
    this row's ``chain_fields``. A subclass lists its fields there once and for
    all: adding one later changes the canonical form of every stored row, so it
    needs a new chain (a migration that re-chains), not just a new name here.
    """

    append_only_error: type[AppendOnlyError] = AppendOnlyError
    #: Attribute names hashed into the chain, in no particular order.
    chain_fields: tuple[str, ...] = ()

    chain_hash = models.CharField(
        _("chain hash"), max_length=64, blank=True, default="", editable=False
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise self.append_only_error(f"{self._meta.verbose_name} cannot be changed.")
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            # Locked until the surrounding transaction commits: the next writer
            # reads this row's hash only once it is there to read.
            previous = chain_head_locked(type(self), using)
            self.chain_hash = chain_hash(previous, self, self.chain_fields)
            # Only ever a new row, and nothing listens to these saves: the
            # INSERT written out once per process (clinic.rows).
            insert_row(self, using)

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


# -- Hash chain ---------------------------------------------------------------
#
# Each row of a chained table carries ``chain_hash`` = SHA-256 (hex) of the
# previous row's ``chain_hash`` (in id order; "" for the first row) followed by
# the canonical JSON of the row's own ``chain_fields``. Changing, deleting,
# inserting or reordering a stored row breaks the link at that row or the next
# one, which ``manage.py verify_audit_chain`` reports. Ids are not hashed: they
# are given by the database only at insert time, and the order they give is
# what the chain follows.

CHAIN_BATCH_SIZE = 2000


def _canonical_value(value):
    if isinstance(value, datetime.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, datetime.UTC)
        return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    return value


def chain_canonical(row, fields: Sequence[str]) -> str:
    """The row's ``fields`` as JSON with sorted keys (nested ones too), datetimes
    in ISO 8601 UTC with microseconds, None as null, and no insignificant spaces.

    ``fields`` are attribute names (``case_id``, not ``case``), so the form reads
    the same from a model, a historical model in a migration, or a fresh row.
    """
    values = {
        name: _canonical_value(row._meta.get_field(name).to_python(getattr(row, name)))
        for name in fields
    }
    # A round trip first, so a value reads as it will after the database has
    # stored it (a tuple as a list, an int key of a JSON object as a string).
    values = json.loads(json.dumps(values))
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(previous_hash: str, row, fields: Sequence[str]) -> str:
    """SHA-256 (hex) of the previous row's hash followed by this row's canonical form."""
    canonical = chain_canonical(row, fields)
    return hashlib.sha256((previous_hash + canonical).encode()).hexdigest()


def _chain_lock_key(table: str) -> int:
    digest = hashlib.sha256(f"chain_hash:{table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


#: PostgreSQL: take the table's advisory lock, then read its newest hash, in
#: one statement. A VOLATILE PL/pgSQL function gives each statement inside it a
#: fresh snapshot, so the SELECT sees a row committed by whoever held the lock.
CHAIN_HEAD_FUNCTION = """
CREATE OR REPLACE FUNCTION append_only_chain_head(lock_key bigint, chained_table regclass)
RETURNS text AS $$
DECLARE
    head text;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    EXECUTE format('SELECT chain_hash FROM %s ORDER BY id DESC LIMIT 1', chained_table)
        INTO head;
    RETURN coalesce(head, '');
END;
$$ LANGUAGE plpgsql VOLATILE;
"""


def chain_head_function() -> migrations.RunPython:
    """A migration step that (re)creates ``append_only_chain_head`` on PostgreSQL."""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(CHAIN_HEAD_FUNCTION, params=None)

    # Left in place going backwards: the other chained table may still use it.
    return migrations.RunPython(forwards, migrations.RunPython.noop)


def chain_lock(model, using: str) -> None:
    """Hold the table's chain until the transaction ends (PostgreSQL: a
    transaction-level advisory lock per table; SQLite lets one writer in at a
    time already)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [_chain_lock_key(model._meta.db_table)]
            )


def chain_head_locked(model, using: str) -> str:
    """Lock the table's chain until the transaction ends, then read its newest
    hash ("" for an empty table), so two writers never both chain to the same row.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute("SELECT append_only_chain_head(%s, %s)", [_chain_lock_key(table), table])
            return cursor.fetchone()[0]
    head = (
        model._base_manager.using(using)
        .order_by("-pk")
        .values_list("chain_hash", flat=True)
        .first()
    )
    return head or ""


def chain_rows(queryset, batch_size: int = CHAIN_BATCH_SIZE):
    """Every row of ``queryset`` in id order, ``batch_size`` at a time (by id
    ranges, so memory does not grow with the table and rows may be updated
    while walking)."""
    last_pk = None
    while True:
        batch = queryset.order_by("pk")
        if last_pk is not None:
            batch = batch.filter(pk__gt=last_pk)
        rows = list(batch[:batch_size])
        yield from rows
        if len(rows) < batch_size:
            return
        last_pk = rows[-1].pk


def chain_existing_rows(model, fields: Sequence[str], using: str) -> None:
    """Compute ``chain_hash`` for every stored row, in id order (migrations).

    On PostgreSQL the append-only trigger refuses the UPDATE, so it is switched
    off for this transaction only; migrations run as the tables' owner.
    """
    connection = connections[using]
    table = model._meta.db_table
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        chain_lock(model, using)
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {connection.ops.quote_name(table)} DISABLE TRIGGER USER")
    previous = ""
    batch = []
    for row in chain_rows(model._base_manager.using(using)):
        previous = row.chain_hash = chain_hash(previous, row, fields)
        batch.append(row)
        if len(batch) >= CHAIN_BATCH_SIZE:
            model._base_manager.using(using).bulk_update(batch, ["chain_hash"])
            batch = []
    if batch:
        model._base_manager.using(using).bulk_update(batch, ["chain_hash"])
    if postgresql:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {connection.ops.quote_name(table)} ENABLE TRIGGER USER")


def chain_existing_rows_operation(model_label: str, fields: Sequence[str]) -> migrations.RunPython:
    """A migration step that chains a table's existing rows (``fields`` as of that migration)."""

    def forwards(apps, schema_editor):
        chain_existing_rows(
            apps.get_model(model_label), tuple(fields), schema_editor.connection.alias
        )

    return migrations.RunPython(forwards, migrations.RunPython.noop)


@dataclass
class ChainBreak:
    table: str
    row_id: object
    problem: str


@dataclass
class ChainCheck:
    table: str
    rows_checked: int = 0
    head: str = ""
    head_id: object = None
    first_break: ChainBreak | None = None


def chain_verify(model, using: str = DEFAULT_DB_ALIAS) -> ChainCheck:
    """Walk ``model``'s table in id order and stop at the first broken or missing link."""
    table = model._meta.db_table
    check = ChainCheck(table=table)
    previous = ""
    previous_id = None
    for row in chain_rows(model._base_manager.using(using)):
        check.rows_checked += 1
        stored = row.chain_hash or ""
        if not stored:
            problem = "no hash: written without the chain, or its hash was removed"
        elif stored != chain_hash(previous, row, model.chain_fields):
            after = f"row {previous_id}" if previous_id is not None else "the start of the table"
            problem = (
                f"hash does not match: this row was changed after it was written, "
                f"or a row between {after} and this one was deleted or inserted"
            )
        else:
            previous, previous_id = stored, row.pk
            continue
        check.first_break = ChainBreak(table=table, row_id=row.pk, problem=problem)
        break
    check.head, check.head_id = previous, previous_id
    return check
