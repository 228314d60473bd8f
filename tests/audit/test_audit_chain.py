"""The audit log and the case timelines are tamper-evident (issue 18, finding 5).

Each row's ``chain_hash`` chains it to the row before; ``manage.py
verify_audit_chain`` names the first row whose link is broken or missing. The
tampering here is done in the database itself, as someone who gets past the
application would: on PostgreSQL the append-only trigger is switched off inside
the test's transaction first, as the tables' owner (the test user) can.
"""

import datetime
import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from audit.models import AuditEntry
from audit.services import audit_record
from clinic.append_only import chain_existing_rows, chain_hash, chain_verify
from intake.models import CaseEvent
from intake.services import case_add_note, case_reassess_all
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

HASH = "0123456789abcdef" * 4


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def run_sql(template: str, params=(), *, model=None, **names) -> None:
    """Run ``template`` with ``{table}`` as ``model``'s quoted table name (and ``names``)."""
    sql = template.format(table=table(model), **names) if model is not None else template
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))


@pytest.fixture
def tamperable():
    """Switch off the append-only triggers for this test's transaction (PostgreSQL)."""
    if connection.vendor == "postgresql":
        for model in (AuditEntry, CaseEvent):
            run_sql("ALTER TABLE {table} DISABLE TRIGGER USER", model=model)


def verify() -> tuple[str, bool]:
    out = StringIO()
    try:
        call_command("verify_audit_chain", stdout=out)
    except CommandError:
        return out.getvalue(), False
    return out.getvalue(), True


def five_audit_entries() -> list[AuditEntry]:
    staff = UserFactory(username="auditor")
    return [
        audit_record(
            request=None,
            action="view",
            user=staff,
            object_type="case",
            object_id=number,
            object_label=f"CASE-{number}",
            details={"filters": {"tier": "urgent", "b": [1, 2]}, "term": "ñ"},
        )
        for number in range(5)
    ]


def five_timeline_entries() -> list[CaseEvent]:
    case = CaseFactory()
    staff = UserFactory(username="clinician")
    for number in range(5):
        case_add_note(case=case, text=f"note {number}", by=staff)
    return list(CaseEvent.objects.order_by("pk"))


def test_a_clean_log_and_clean_timelines_verify():
    entries = five_audit_entries()
    events = five_timeline_entries()

    out, intact = verify()

    assert intact
    assert f"audit_auditentry: {len(entries)} rows checked, chain intact." in out
    assert f"intake_caseevent: {len(events)} rows checked, chain intact." in out


def test_each_row_is_chained_to_the_one_before_it():
    entries = five_audit_entries()

    previous = ""
    for entry in AuditEntry.objects.order_by("pk"):
        assert entry.chain_hash == chain_hash(previous, entry, AuditEntry.chain_fields)
        previous = entry.chain_hash
    assert previous == entries[-1].chain_hash
    assert len({entry.chain_hash for entry in entries}) == len(entries)


def test_the_head_hash_can_be_printed_to_keep_elsewhere():
    entries = five_audit_entries()
    out = StringIO()

    call_command("verify_audit_chain", "--head", stdout=out)

    assert f"audit_auditentry head: id {entries[-1].pk} {entries[-1].chain_hash}" in out.getvalue()
    assert "intake_caseevent head: id None -" in out.getvalue()


def changed_username(rows):
    run_sql(
        "UPDATE {table} SET username = 'someone else' WHERE id = %s", [rows[2].pk], model=AuditEntry
    )
    return rows[2]


def changed_author(rows):
    other = UserFactory(username="other")
    run_sql(
        "UPDATE {table} SET author_id = %s WHERE id = %s", [other.pk, rows[2].pk], model=CaseEvent
    )
    return rows[2]


def changed_summary(rows):
    run_sql(
        "UPDATE {table} SET summary = 'Nothing happened' WHERE id = %s",
        [rows[2].pk],
        model=CaseEvent,
    )
    return rows[2]


def changed_details(rows):
    changed = '{"term": "x"}'
    run_sql(
        "UPDATE {table} SET details = %s WHERE id = %s", [changed, rows[1].pk], model=AuditEntry
    )
    return rows[1]


def deleted_middle_row(rows):
    model = type(rows[0])
    run_sql("DELETE FROM {table} WHERE id = %s", [rows[2].pk], model=model)
    return rows[3]


def swapped_created_at(rows):
    model = type(rows[0])
    earlier = rows[1].created_at - datetime.timedelta(days=3)
    adapt = connection.ops.adapt_datetimefield_value
    swap = "UPDATE {table} SET created_at = %s WHERE id = %s"
    run_sql(swap, [adapt(earlier), rows[3].pk], model=model)
    run_sql(swap, [adapt(rows[3].created_at), rows[1].pk], model=model)
    return rows[1]


def backdated_insert(rows):
    """A copy of the first row, a week older, with a made-up hash, added at the end."""
    model = type(rows[0])
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    values = [
        "%s" if column in ("created_at", "chain_hash") else connection.ops.quote_name(column)
        for column in columns
    ]
    created_at = rows[0].created_at - datetime.timedelta(days=7)
    params = [
        connection.ops.adapt_datetimefield_value(created_at) if column == "created_at" else HASH
        for column in columns
        if column in ("created_at", "chain_hash")
    ]
    run_sql(
        "INSERT INTO {table} ({columns}) SELECT {values} FROM {table} WHERE id = %s",
        [*params, rows[0].pk],
        model=model,
        columns=", ".join(map(connection.ops.quote_name, columns)),
        values=", ".join(values),
    )
    return model.objects.order_by("-pk").first()


def removed_hash(rows):
    model = type(rows[0])
    run_sql("UPDATE {table} SET chain_hash = '' WHERE id = %s", [rows[4].pk], model=model)
    return rows[4]


AUDIT_TAMPERING = [changed_username, changed_details, deleted_middle_row, swapped_created_at]
AUDIT_TAMPERING += [backdated_insert, removed_hash]
TIMELINE_TAMPERING = [changed_author, changed_summary, deleted_middle_row, swapped_created_at]
TIMELINE_TAMPERING += [backdated_insert, removed_hash]


@pytest.mark.parametrize("tamper", AUDIT_TAMPERING, ids=lambda tamper: tamper.__name__)
def test_tampering_with_the_audit_log_is_reported_at_the_right_row(tamperable, tamper):
    rows = five_audit_entries()
    five_timeline_entries()

    reported = tamper(rows)
    out, intact = verify()

    assert not intact
    assert f"audit_auditentry: BROKEN at row id {reported.pk}:" in out
    assert "intake_caseevent: 5 rows checked, chain intact." in out


@pytest.mark.parametrize("tamper", TIMELINE_TAMPERING, ids=lambda tamper: tamper.__name__)
def test_tampering_with_a_case_timeline_is_reported_at_the_right_row(tamperable, tamper):
    five_audit_entries()
    rows = five_timeline_entries()

    reported = tamper(rows)
    out, intact = verify()

    assert not intact
    assert f"intake_caseevent: BROKEN at row id {reported.pk}:" in out
    assert "audit_auditentry: 5 rows checked, chain intact." in out
    expected = "no hash" if tamper is removed_hash else "hash does not match"
    assert expected in out


def test_the_report_counts_the_rows_checked_up_to_the_break(tamperable):
    rows = five_audit_entries()
    changed_username(rows)

    check = chain_verify(AuditEntry)

    assert check.first_break.row_id == rows[2].pk
    assert check.rows_checked == 3


def test_bulk_create_chains_the_rows_in_the_order_given():
    case = CaseFactory()
    audit_record(request=None, action="view", object_label="before")
    first, second, third = CaseEvent.objects.bulk_create(
        CaseEvent(case=case, kind=CaseEvent.Kind.NOTE, summary=f"bulk {n}") for n in range(3)
    )

    assert first.pk < second.pk < third.pk
    assert second.chain_hash == chain_hash(first.chain_hash, second, CaseEvent.chain_fields)
    assert third.chain_hash == chain_hash(second.chain_hash, third, CaseEvent.chain_fields)
    assert chain_verify(CaseEvent).first_break is None


def test_the_reassessment_keeps_the_timeline_chain_valid(django_capture_on_commit_callbacks):
    both_legs_worse = {"weak_side": "both", "weakness_onset": "weeks", "weakness_trend": "worse"}
    staff = UserFactory(username="clinician")
    for number in range(3):
        case = CaseFactory(
            changes=both_legs_worse,
            tier="urgent",
            flags=["progressive_weakness"],
            priority=40,
            rules_version=1,
        )
        case_add_note(case=case, text=f"before {number}", by=staff)

    with django_capture_on_commit_callbacks(execute=True):
        counts = case_reassess_all(batch_size=2)

    assert counts.raised == 3
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.REASSESSMENT).count() == 3
    check = chain_verify(CaseEvent)
    assert check.first_break is None
    assert check.rows_checked == CaseEvent.objects.count()


def test_the_migration_chains_stored_rows_in_id_order_and_keeps_the_trigger():
    entries = five_audit_entries()
    if connection.vendor == "postgresql":
        # A migration runs in a transaction of its own; this test's transaction
        # still holds the inserts' deferred foreign-key checks, which would stop
        # the ALTER TABLE.
        run_sql("SET CONSTRAINTS ALL IMMEDIATE")
        run_sql("ALTER TABLE {table} DISABLE TRIGGER USER", model=AuditEntry)
    run_sql("UPDATE {table} SET chain_hash = ''", model=AuditEntry)
    if connection.vendor == "postgresql":
        run_sql("ALTER TABLE {table} ENABLE TRIGGER USER", model=AuditEntry)
    assert chain_verify(AuditEntry).first_break is not None

    chain_existing_rows(AuditEntry, AuditEntry.chain_fields, "default")

    assert chain_verify(AuditEntry).first_break is None
    stored = list(AuditEntry.objects.order_by("pk").values_list("chain_hash", flat=True))
    assert stored == [entry.chain_hash for entry in entries]
    if connection.vendor == "postgresql":
        # The append-only trigger is back on afterwards.
        with pytest.raises(DatabaseError), transaction.atomic():
            run_sql("UPDATE {table} SET username = 'y'", model=AuditEntry)


@pytest.mark.django_db(transaction=True)
def test_concurrent_inserts_on_postgresql_keep_one_chain():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer in at a time; the advisory lock is PostgreSQL's")
    writers, per_writer = 4, 15
    start = threading.Barrier(writers)
    failures = []

    def write(number: int) -> None:
        try:
            start.wait()
            for row in range(per_writer):
                with transaction.atomic():
                    audit_record(request=None, action="view", object_label=f"{number}-{row}")
                    # Slow commits, so the next writer would read a stale head
                    # were it not made to wait for this one.
                    connections["default"].cursor().execute("SELECT pg_sleep(0.002)")
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=write, args=(number,)) for number in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    check = chain_verify(AuditEntry)
    assert check.rows_checked == writers * per_writer
    assert check.first_break is None
