"""One row read or written with written-out SQL, for the few statements every patient runs.

Each page of the questionnaire reads the patient's draft, and each answer
saves it. Through the ORM, building those statements cost more CPU than
running them (docs/performance.md, section 6). These helpers keep the ORM's
meaning, only skipping the building:

* ``read_one`` selects every column of a model, converts each value exactly
  as the ORM does (the database backend's converters, then the field's own,
  such as JSON), and returns a model instance (``Model.from_db``), as a
  queryset would;
* ``write_fields`` updates some fields of one row by primary key, each value
  prepared by its field (``get_db_prep_value``) as ``QuerySet.update`` does.
  Like ``QuerySet.update`` it sends no signals and runs no ``save()``.
* ``insert_row`` inserts a new instance as ``save(force_insert=True)`` does
  for a model without parents (each field's ``pre_save``, such as
  ``auto_now``, then ``get_db_prep_save``; a field left to its ``db_default``
  gets that value; the new primary key read back with ``RETURNING``), with
  its statement built once per process. It is meant for models nothing
  listens to: if a ``pre_save`` or ``post_save`` receiver is connected for
  the model, it saves through Django instead, so the signals are sent.

Both go through Django's database cursor, so transactions, query logging
and execute wrappers (such as the tests' statement counters) see them.
"""

import functools

from django.db import connections, models, router
from django.db.models.expressions import DatabaseDefault, Value
from django.db.models.fields import AutoFieldMixin
from django.db.models.signals import post_save, pre_save


def read_one(model: type[models.Model], where: str, params: list) -> models.Model | None:
    """The one row of ``model`` matching ``where`` (SQL with %s placeholders), or None.

    ``where`` must match at most one row (a unique column); a second row is ignored.
    """
    alias = router.db_for_read(model)
    connection = connections[alias]
    fields = model._meta.concrete_fields
    table = model._meta.db_table
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    sql = f"SELECT {columns} FROM {connection.ops.quote_name(table)} WHERE {where}"  # noqa: S608 - names from the model, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = [
        _from_db(field, value, table, connection) for field, value in zip(fields, row, strict=True)
    ]
    return model.from_db(alias, [field.attname for field in fields], values)


def _from_db(field: models.Field, value: object, table: str, connection) -> object:
    """A value read from ``field``'s column, converted as the ORM converts it."""
    column = field.get_col(table)
    for convert in (
        *connection.ops.get_db_converters(column),
        *field.get_db_converters(connection),
    ):
        value = convert(value, column, connection)
    return value


def write_fields(instance: models.Model, names: list[str]) -> int:
    """Store the ``names`` fields of ``instance`` in its row; how many rows changed (0 or 1)."""
    model = type(instance)
    connection = connections[router.db_for_write(model, instance=instance)]
    quote = connection.ops.quote_name
    assignments, params = [], []
    for name in names:
        field = model._meta.get_field(name)
        assignments.append(f"{quote(field.column)} = %s")
        params.append(
            field.get_db_prep_value(getattr(instance, field.attname), connection, prepared=False)
        )
    pk = model._meta.pk
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {', '.join(assignments)} "  # noqa: S608 - names from the model, values as parameters
        f"WHERE {quote(pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, pk.get_db_prep_value(instance.pk, connection)])
        return cursor.rowcount


@functools.cache
def _insert_sql(
    model: type[models.Model], alias: str, unique: tuple[str, ...] = ()
) -> tuple[str, tuple[models.Field, ...]]:
    """The INSERT for every concrete field of ``model`` but an automatic primary key.

    ``unique``: the fields of a unique constraint; a row that matches one
    already stored is not inserted, and the stored row's key is returned.
    """
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta = model._meta
    fields = tuple(
        field
        for field in meta.concrete_fields
        if not (field.primary_key and isinstance(field, AutoFieldMixin))
    )
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608 - names from the model, values as parameters
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
    )
    if unique:
        # The update writes a matching key with itself, only so RETURNING gives the row.
        columns = [quote(meta.get_field(name).column) for name in unique]
        first = columns[0]
        sql += f"ON CONFLICT ({', '.join(columns)}) DO UPDATE SET {first} = EXCLUDED.{first} "
    return sql + f"RETURNING {quote(meta.pk.column)}", fields


def insert_row(
    instance: models.Model, using: str | None = None, *, unless_stored: tuple[str, ...] = ()
) -> None:
    """Insert ``instance`` as a new row and give it its primary key (see the module's notes).

    ``unless_stored``: the fields of a unique constraint; if a row with the
    same values is stored already, nothing is written and ``instance`` gets
    that row's key (as ``bulk_create(update_conflicts=True)`` with the first
    of these fields as ``update_fields``, in one statement).
    """
    model = type(instance)
    if model._meta.parents:
        raise TypeError(f"{model.__name__} has parent models: save() it instead")
    alias = using or router.db_for_write(model, instance=instance)
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        # Something listens to this model's saves now: let Django's save send them.
        if unless_stored:
            raise TypeError(f"{model.__name__} has save listeners: use bulk_create instead")
        models.Model.save(instance, force_insert=True, using=alias)
        return
    connection = connections[alias]
    sql, fields = _insert_sql(model, alias, unless_stored)
    params = []
    for field in fields:
        value = field.pre_save(instance, True)
        if isinstance(value, DatabaseDefault):
            # What the database would put there, as save() reads it back.
            default = field._db_default_expression  # the literal, as a Value
            if not isinstance(default, Value):
                raise TypeError(f"{field.name} has a computed db_default: save() it instead")
            value = default.value
            setattr(instance, field.attname, value)
        params.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (pk,) = cursor.fetchone()
    pk = _from_db(model._meta.pk, pk, model._meta.db_table, connection)
    if instance.pk is None or unless_stored:
        instance.pk = pk
    instance._state.adding = False
    instance._state.db = alias
