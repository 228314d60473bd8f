"""Re-assessing stored cases when the triage rules change, on a copy of the seeded database.

    .venv/bin/python -m bench.reassess                                # copy of clinic_bench_1000000
    .venv/bin/python -m bench.reassess --source clinic_bench_1000     # a quick try

What the deploy of rules version 2 does to a database of version-1 cases
(``migrate``, then ``manage.py reassess_cases``), timed on a copy of the
seeded database (``clinic_bench_reassess``, dropped at the end; the seeded
one is never written to):

1. The copy is taken back to before version 2. ``migrate intake 0007`` drops
   ``rules_version`` (its partial index and check go with it, and so does
   what later migrations added), and the cases still in the clinic's hands
   (new, in review, contacted, scheduled) get what the first rules table
   stored: answers without what version 2 added (the
   age, night pain, steroids, osteoporosis), "falls" answered by everyone
   ("no" where version 2 no longer asks it), and the tier, flags, reasons and
   priority that version 1's ``triage.assess`` gives them (``intake/triage.py``
   at ``RULES_V1_COMMIT``, read with git). Then VACUUM ANALYZE. Closed cases
   are not read by the re-assessment and keep the seed's answers.
2. ``migrate intake 0008``, timed statement by statement: every case becomes
   version 1 through the column's database default. Then the later
   migrations, if any (timed, not part of this measure).
3. ``case_reassess_all`` (what ``reassess_cases`` runs), in this process under
   production settings (the database task backend, so each new emergency's
   alert is a task row written with its batch), timed, with the SQL time by
   kind of statement and the time of each batch's read.
4. The same again: it should find nothing.
5. Checks (PASS/FAIL): nothing older than the current version left among the
   cases in the clinic's hands, closed cases untouched, one timeline entry per
   changed case, an alert stored for each new emergency, nothing for the
   second run.
"""

import argparse
import json
import re
import subprocess
import sys
import time
import types
from collections import defaultdict
from contextlib import contextmanager

import psycopg
from psycopg import sql

from . import common

#: The last commit with the first rules table (intake/triage.py, rules version 1).
RULES_V1_COMMIT = "85369c3feaab18e3905e23dcbaf9868834ebc9a1"
#: Answers version 2 added: a version-1 case never has them.
VERSION_2_CODES = ("age", "night_pain", "steroid_use", "osteoporosis")
MIGRATION_BEFORE = "0007"
MIGRATION = "0008"
COPY_NAME = f"{common.BENCH_PREFIX}_reassess"
BATCH_READ = "read a batch (SELECT ... FOR UPDATE)"


def rules_version_1() -> types.ModuleType:
    """Version 1's ``intake/triage.py`` (a pure module: no imports but the stdlib)."""
    source = subprocess.run(  # noqa: S603 - git, fixed arguments
        ["git", "show", f"{RULES_V1_COMMIT}:intake/triage.py"],  # noqa: S607
        cwd=common.ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType("bench_triage_rules_v1")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{RULES_V1_COMMIT[:7]}:intake/triage.py", "exec"), module.__dict__)  # noqa: S102 - our own history
    return module


def as_version_1(answers: dict) -> dict:
    """The answers as the version-1 questionnaire stored them."""
    old = {code: value for code, value in answers.items() if code not in VERSION_2_CODES}
    old.setdefault("falls", "no")  # everyone was asked; only a given-way leg makes a fall
    return old


def copy_database(source: str, target: str) -> float:
    """CREATE DATABASE target TEMPLATE source; waits for other sessions to leave the source."""
    common.drop_database(target)
    with common.admin_connection() as conn:
        version = int(conn.execute("SHOW server_version_num").fetchone()[0])
    # PostgreSQL 15 copies through the WAL by default: slower for 2 GB.
    strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}" + strategy).format(
        sql.Identifier(common.bench_database_name(target)),
        sql.Identifier(common.bench_database_name(source)),
    )
    started = time.perf_counter()
    for attempt in range(30):
        try:
            with common.admin_connection() as conn:
                conn.execute(statement)
            return time.perf_counter() - started
        except psycopg.errors.ObjectInUse:
            if attempt == 29:
                raise
            time.sleep(1)  # autovacuum or another session on the source
    raise AssertionError("unreachable")


def make_version_1(database: str, active_statuses: tuple[str, ...]) -> dict[str, int]:
    """Give the cases in the clinic's hands the answers and assessment of rules version 1."""
    from intake.services import answers_for_triage

    triage_v1 = rules_version_1()
    tiers: dict[str, int] = defaultdict(int)
    with psycopg.connect(common.database_url(database)) as conn:
        rows = conn.execute(
            "SELECT id, answers FROM intake_case WHERE status = ANY(%s) ORDER BY id",
            [list(active_statuses)],
        ).fetchall()
        conn.execute(
            "CREATE TEMPORARY TABLE version_1 (id bigint PRIMARY KEY, answers jsonb, "
            "tier varchar(20), flags jsonb, reasons jsonb, priority smallint)"
        )
        with conn.cursor().copy("COPY version_1 FROM STDIN") as copy:
            for case_id, answers in rows:
                old = as_version_1(answers)
                assessment = triage_v1.assess(answers_for_triage(old))
                tiers[assessment.tier] += 1
                copy.write_row(
                    (
                        case_id,
                        json.dumps(old, ensure_ascii=False),
                        assessment.tier,
                        json.dumps(list(assessment.flags)),
                        json.dumps(list(assessment.reasons), ensure_ascii=False),
                        assessment.priority,
                    )
                )
        conn.execute(
            "UPDATE intake_case AS c SET answers = v.answers, tier = v.tier, flags = v.flags, "
            "reasons = v.reasons, priority = v.priority FROM version_1 AS v WHERE c.id = v.id"
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) intake_case")
    return dict(tiers)


class StatementTimer:
    """Adds up SQL time by kind of statement; keeps each one's time in order."""

    def __init__(self, classify):
        self.classify = classify
        self.seconds: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)
        self.each: dict[str, list[float]] = defaultdict(list)
        self.text: dict[str, str] = {}

    def __call__(self, execute, statement, params, many, context):
        started = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            took = time.perf_counter() - started
            kind = self.classify(statement)
            self.seconds[kind] += took
            self.count[kind] += 1
            self.each[kind].append(took)
            self.text.setdefault(kind, " ".join(statement.split()))

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


@contextmanager
def timed_commits(connection):
    """Time each COMMIT of ``connection`` (transaction.atomic calls connection.commit())."""
    seconds: list[float] = []
    commit = connection.commit

    def timed_commit():
        started = time.perf_counter()
        try:
            commit()
        finally:
            seconds.append(time.perf_counter() - started)

    connection.commit = timed_commit
    try:
        yield seconds
    finally:
        del connection.commit  # the class's method again


def reassessment_kind(statement: str) -> str:
    text = " ".join(statement.split())
    if text.startswith("SELECT") and "FOR UPDATE" in text:
        if 'ORDER BY "intake_case"."id"' in text:
            return BATCH_READ
        return "lock one row (SELECT ... FOR UPDATE)"
    if text.startswith('UPDATE "intake_case"'):
        return "write the batch (bulk_update)" if "CASE WHEN" in text else "update one case"
    if text.startswith('INSERT INTO "intake_caseevent"'):
        return "timeline entries (bulk_create)"
    if text.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
        return "savepoints"
    return "other: " + re.sub(r"\d+", "N", text)[:60]


def migration_kind(statement: str) -> str:
    return " ".join(statement.split())


def explain_batch_query(batch_size: int) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the re-assessment's first batch, rolled back.

    The service's own batch query (``intake.services.reassessment_batch``)
    for the oldest version.
    """
    from django.db import connection, transaction

    from intake.services import reassessment_batch

    with transaction.atomic():
        query = reassessment_batch(version=1, after_id=0, size=batch_size)
        statement, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def run(batch_size: int) -> int:
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from intake import triage
    from intake.models import AlertDelivery, Case, CaseEvent
    from intake.services import case_reassess_all

    active = tuple(str(status) for status in Case.ACTIVE_STATUSES)
    by_status = dict(Case.objects.values_list("status").annotate(n=Count("id")).order_by())
    total = sum(by_status.values())
    in_hands = sum(by_status.get(status, 0) for status in active)
    closed = by_status.get(str(Case.Status.CLOSED), 0)
    print(
        f"cases: {total:,}; in the clinic's hands ({', '.join(active)}): {in_hands:,} "
        f"({in_hands / total:.1%}: "
        + ", ".join(f"{status} {by_status.get(status, 0):,}" for status in active)
        + f"); closed {closed:,}; others {total - in_hands - closed:,}"
    )

    common.heading(
        f"1. Back to rules version 1 (migrate intake {MIGRATION_BEFORE}, version-1 answers)"
    )
    started = time.perf_counter()
    call_command("migrate", "intake", MIGRATION_BEFORE, verbosity=0)
    connection.close()
    tiers_v1 = make_version_1(connection.settings_dict["NAME"], active)
    print(
        f"{time.perf_counter() - started:.1f} s; version 1 gives the {in_hands:,} cases in "
        "the clinic's hands: "
        + ", ".join(f"{tier} {tiers_v1.get(tier, 0):,}" for tier in triage.TIERS)
    )

    common.heading(f"2. migrate intake {MIGRATION} (rules_version, its partial index and check)")
    timer = StatementTimer(migration_kind)
    with connection.execute_wrapper(timer):
        started = time.perf_counter()
        call_command("migrate", "intake", MIGRATION, verbosity=0)
        migrate_seconds = time.perf_counter() - started
    ddl = [
        (text, timer.seconds[text])
        for text in timer.seconds
        if text.startswith(("ALTER", "CREATE"))
    ]
    for text, took in ddl:
        print(f"{took * 1000:9.1f} ms  {text[:150]}{' ...' if len(text) > 150 else ''}")
    ddl_seconds = sum(took for _text, took in ddl)
    print(
        f"migrate {migrate_seconds:.1f} s in all, of which the schema changes above "
        f"{ddl_seconds:.1f} s: in one transaction, holding an ACCESS EXCLUSIVE lock on "
        "intake_case (no reads or writes of cases) from the ALTER TABLE to the commit"
    )
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    later = time.perf_counter() - started
    print(f"(the later migrations, not part of rules version 2: {later:.1f} s)")
    connection.close()

    common.heading(f"EXPLAIN (ANALYZE, BUFFERS) of the first batch's read ({batch_size} cases)")
    print(explain_batch_query(batch_size))

    tasks_before = DBTaskResult.objects.count()
    run_started = timezone.now()
    events_before = CaseEvent.objects.filter(kind=CaseEvent.Kind.REASSESSMENT).count()

    common.heading(
        f"3. case_reassess_all(batch_size={batch_size}) with rules version {triage.RULES_VERSION}"
    )
    timer = StatementTimer(reassessment_kind)
    with connection.execute_wrapper(timer), timed_commits(connection) as commits:
        cpu_started = time.process_time()
        started = time.perf_counter()
        counts = case_reassess_all(batch_size=batch_size)
        first_seconds = time.perf_counter() - started
        first_cpu = time.process_time() - cpu_started
    print(counts.as_text())
    rate = counts.checked / first_seconds if first_seconds else float("nan")
    print(
        f"REASSESS {counts.checked:,} cases checked in {first_seconds:.1f} s "
        f"({rate:,.0f} cases/s): "
        f"raised {counts.raised:,} (of them new emergencies {counts.new_emergencies:,}), "
        f"kept a higher tier {counts.kept_higher:,}, red flags changed only "
        f"{counts.changed_flags:,}, unchanged "
        f"{counts.checked - counts.raised - counts.kept_higher - counts.changed_flags:,}"
    )
    print(
        f"of the {first_seconds:.1f} s: this process's CPU {first_cpu:.1f} s (Python: "
        f"triage, the ORM, the driver); SQL statements as seen by the app "
        f"{timer.total:.1f} s; {len(commits)} commits {sum(commits):.1f} s "
        f"(max {max(commits, default=0) * 1000:.0f} ms); the rest "
        f"{first_seconds - first_cpu - timer.total - sum(commits):.1f} s"
    )
    print(f"{'statement':<60} {'count':>6} {'total s':>8} {'mean ms':>8} {'max ms':>8}")
    for kind, seconds in sorted(timer.seconds.items(), key=lambda item: -item[1]):
        print(
            f"{kind[:60]:<60} {timer.count[kind]:>6} {seconds:>8.2f} "
            f"{seconds / timer.count[kind] * 1000:>8.1f} {max(timer.each[kind]) * 1000:>8.1f}"
        )
    reads = timer.each[BATCH_READ]
    if len(reads) >= 3:
        tenth = max(len(reads) // 10, 1)
        print(
            "batch reads in order, ms: first "
            + ", ".join(f"{took * 1000:.1f}" for took in reads[:3])
            + f"; first tenth mean {sum(reads[:tenth]) / tenth * 1000:.1f}, last tenth mean "
            f"{sum(reads[-tenth:]) / tenth * 1000:.1f}; the last (finds nothing) "
            f"{reads[-1] * 1000:.1f}"
        )
    print(f"the batch read as run: {timer.text.get(BATCH_READ, '')[:400]}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT before->>'tier', after->>'tier', after ? 'tier_kept', count(*) "
            "FROM intake_caseevent WHERE kind = 'reassessment' GROUP BY 1, 2, 3 ORDER BY 4 DESC"
        )
        changes = cursor.fetchall()
    print("timeline entries written, version 1 tier -> version 2 tier:")
    for before, after, kept, number in changes:
        kept_words = f"(kept {before})" if kept else ""
        print(f"  {before:>9} -> {after:<9} {kept_words:<16} {number:>7,}")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.status, count(*), count(*) FILTER (WHERE c.acknowledged_at IS NULL) "
            "FROM intake_caseevent AS e JOIN intake_case AS c ON c.id = e.case_id "
            "WHERE e.kind = 'reassessment' AND e.after->>'tier' = 'emergency' "
            "AND e.before->>'tier' <> 'emergency' GROUP BY 1 ORDER BY 2 DESC"
        )
        new_emergencies = cursor.fetchall()
    print(
        "new emergencies by status (not yet acknowledged): "
        + ", ".join(f"{status} {number:,} ({open_:,})" for status, number, open_ in new_emergencies)
    )

    common.heading("4. The same again (idempotent)")
    timer = StatementTimer(reassessment_kind)
    with connection.execute_wrapper(timer):
        started = time.perf_counter()
        again = case_reassess_all(batch_size=batch_size)
        second_seconds = time.perf_counter() - started
    print(again.as_text())
    print(
        f"REASSESS AGAIN {again.checked:,} cases checked in {second_seconds * 1000:.1f} ms "
        f"({timer.total * 1000:.1f} ms of it SQL, {sum(timer.count.values())} statement(s))"
    )
    common.heading("EXPLAIN (ANALYZE, BUFFERS) of the second run's read")
    print(explain_batch_query(batch_size))

    common.heading("Checks")
    left = Case.objects.filter(status__in=active, rules_version__lt=triage.RULES_VERSION).count()
    closed_touched = Case.objects.exclude(status__in=active).exclude(rules_version=1).count()
    events = CaseEvent.objects.filter(kind=CaseEvent.Kind.REASSESSMENT).count() - events_before
    tasks = DBTaskResult.objects.count() - tasks_before
    alerted = (
        AlertDelivery.objects.filter(kind=AlertDelivery.Kind.ALERT, created_at__gte=run_started)
        .values("case_id")
        .distinct()
        .count()
    )
    changed = counts.raised + counts.kept_higher + counts.changed_flags
    checks = [
        (
            counts.checked == in_hands,
            f"checked {counts.checked:,} = cases in the clinic's hands {in_hands:,}",
        ),
        (
            left == 0,
            f"cases in the clinic's hands still below version {triage.RULES_VERSION}: {left}",
        ),
        (closed_touched == 0, f"other cases no longer at version 1: {closed_touched}"),
        (
            events == changed,
            f"timeline entries {events:,} = raised + kept + flags changed {changed:,}",
        ),
        (
            alerted == counts.new_emergencies and tasks >= alerted,
            f"cases with an alert stored {alerted:,} = new emergencies "
            f"{counts.new_emergencies:,} (tasks queued in the database: {tasks:,})",
        ),
        (again.checked == 0, f"second run checked {again.checked}"),
    ]
    for ok, text in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return sum(not ok for ok, _text in checks)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=f"{common.BENCH_PREFIX}_1000000")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the service's")
    args = parser.parse_args(argv)
    common.bench_database_name(args.source)
    if not common.database_exists(args.source):
        raise SystemExit(
            f"{args.source} does not exist: run bench.seed first (see docs/performance.md)"
        )

    common.heading(f"Re-assessing stored cases with new rules: a copy of {args.source}")
    print(common.machine_description())
    print(common.python_speed())
    copy_seconds = copy_database(args.source, COPY_NAME)
    print(f"copied {args.source} to {COPY_NAME} in {copy_seconds:.1f} s")
    try:
        common.use_environment(common.production_env(COPY_NAME))
        from django.db import connections

        from intake.services import REASSESS_BATCH_SIZE

        failures = run(args.batch_size or REASSESS_BATCH_SIZE)
        print(common.python_speed())
        connections.close_all()
    finally:
        common.drop_database(COPY_NAME)
        print(f"dropped {COPY_NAME}")
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
