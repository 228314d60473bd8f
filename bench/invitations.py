"""Invitations at a clinic network's scale (issue 21): the CSV import and the reminder job.

    .venv/bin/python -m bench.invitations                     # 5,000 rows; 10,000 and 1,000,000
    .venv/bin/python -m bench.invitations --rows 5000 --sizes 10000 1000000 --rounds 30

Two parts, each on PostgreSQL under production-like settings:

* **The import**: a CSV file of ``--rows`` obviously fake appointments (the
  columns the admin's import page documents) is checked
  (``appointments_check_csv``: what the preview shows) and imported
  (``appointments_import_csv``: appointments, patients, invitations and their
  queued messages) into a fresh database, each timed with its statements
  counted. Both run inside a staff member's web request, so each must end
  well inside gunicorn's worker timeout (``gunicorn.conf.py``, 30 s): the
  target is half of it.
* **The reminder job's query** (``due_reminders``): timed at two sizes of
  stored invitations, each with the same 500 appointments in the next four
  days still waiting (every other invitation is for a past visit, finished,
  or stopped), in alternating rounds; its statements counted and its plan
  printed (EXPLAIN ANALYZE) at the larger size. Targets: one statement, and
  the larger size within 1.5 times the smaller (the same work, whatever is
  stored).

The databases for the reminder query (``clinic_bench_invitations_<size>``)
are seeded with SQL (``generate_series``) and kept for the next run; the
import's database is made afresh and dropped.
"""

import argparse
import csv
import datetime
import io
import random
import time

from . import common

IMPORT_DATABASE = f"{common.BENCH_PREFIX}_invitations_import"
#: Appointments still waiting in the next days, the same at every size.
WAITING = 500
#: Half of gunicorn's worker timeout (gunicorn.conf.py): the import runs in a request.
IMPORT_LIMIT_SECONDS = 15.0
MAX_SIZE_RATIO = 1.5


def sized_database(size: int) -> str:
    return f"{common.BENCH_PREFIX}_invitations_{size}"


def fake_csv(rows: int, *, today: datetime.date, seed: int = 21) -> bytes:
    """``rows`` fake appointments over the next week, in the import's documented columns."""
    from intake import appointment_import as columns

    rng = random.Random(seed)  # noqa: S311 - fake people
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            columns.FIRST_NAME,
            columns.LAST_NAME,
            columns.DATE_OF_BIRTH,
            columns.EMAIL,
            columns.MOBILE,
            columns.LANGUAGE,
            columns.APPOINTMENT_DATE,
            columns.APPOINTMENT_TIME,
            columns.NOTE,
        ]
    )
    for number in range(rows):
        day = today + datetime.timedelta(days=1 + number % 7)
        minutes = 8 * 60 + (number // 7 % 40) * 15
        born = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(60 * 365))
        writer.writerow(
            [
                "Test",
                f"Import-{number:05d}",
                born.isoformat(),
                f"test.import.{number}@example.com" if number % 3 else "",
                f"555 {number // 10000:03d} {number % 10000:04d}" if number % 3 != 1 else "",
                "es" if number % 5 == 0 else "en",
                day.isoformat(),
                f"{minutes // 60:02d}:{minutes % 60:02d}",
                "Benchmark row (fake person)." if number % 4 == 0 else "",
            ]
        )
    return out.getvalue().encode()


def seed_invitations(name: str, size: int) -> None:
    """``size`` invitations in ``name``: ``WAITING`` still waiting, the rest for past visits.

    Written with SQL so a million take a minute, not an hour; every row is
    what the services would write (patients, appointments, invitations).
    """
    import psycopg

    common.drop_database(name)
    common.create_database(name)
    common.migrate(name)
    with psycopg.connect(common.database_url(name)) as conn:
        conn.execute(
            """
            INSERT INTO intake_patient
                (id, first_name, last_name, date_of_birth, phone, email,
                 last_name_key, phone_key, created_at)
            SELECT n, 'Test', 'Seeded-' || n, DATE '1950-01-01' + (n %% 20000),
                   '555 ' || lpad((n %% 10000000)::text, 7, '0'), '',
                   'seeded-' || n, '555' || lpad((n %% 10000000)::text, 7, '0'),
                   now() - interval '400 days'
            FROM generate_series(1, %(size)s) AS n
            """,
            {"size": size},
        )
        # The last WAITING appointments are in the next four days; the others
        # spread over the past year, a tenth of them finished, a tenth stopped.
        conn.execute(
            """
            INSERT INTO intake_appointment
                (id, patient_id, starts_at, note, status, created_at)
            SELECT n, n,
                   CASE WHEN n > %(size)s - %(waiting)s
                        THEN now() + (n %% 96) * interval '1 hour' + interval '30 minutes'
                        ELSE now() - (n %% 365) * interval '1 day' - interval '1 day' END,
                   '', 'booked', now() - interval '10 days'
            FROM generate_series(1, %(size)s) AS n
            """,
            {"size": size, "waiting": WAITING},
        )
        conn.execute(
            """
            INSERT INTO intake_invitation
                (id, appointment_id, token_salt, token_hash, email, mobile, language,
                 expires_at, failed_checks, created_at, finished_at, reminders_stopped_at)
            SELECT a.id, a.id, md5(a.id::text), encode(sha256(a.id::text::bytea), 'hex'),
                   'test.seeded.' || a.id || '@example.com', '', 'en',
                   date_trunc('day', a.starts_at) + interval '1 day' - interval '1 microsecond',
                   0, a.created_at,
                   CASE WHEN a.id <= %(size)s - %(waiting)s AND a.id %% 10 = 0
                        THEN a.starts_at - interval '1 day' END,
                   CASE WHEN a.id <= %(size)s - %(waiting)s AND a.id %% 10 = 1
                        THEN a.starts_at - interval '2 days' END
            FROM intake_appointment a
            """,
            {"size": size, "waiting": WAITING},
        )
        for table in ("intake_patient", "intake_appointment", "intake_invitation"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608, E501 - fixed names
            )
        conn.commit()
    with psycopg.connect(common.database_url(name), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def move_waiting_to(name: str, size: int, now: datetime.datetime) -> None:
    """Put the ``WAITING`` appointments in the four days after ``now`` again.

    The seeded databases are kept between runs, so without this their
    upcoming visits would drift into the past; both sizes get the same times.
    """
    import psycopg

    with psycopg.connect(common.database_url(name)) as conn:
        conn.execute(
            """
            UPDATE intake_appointment
            SET starts_at = %(now)s + ((id - (%(size)s - %(waiting)s)) %% 96) * interval '1 hour'
                            + interval '30 minutes'
            WHERE id > %(size)s - %(waiting)s
            """,
            {"now": now, "size": size, "waiting": WAITING},
        )
        conn.execute(
            """
            UPDATE intake_invitation i
            SET expires_at = date_trunc('day', a.starts_at) + interval '1 day'
                             - interval '1 microsecond',
                created_at = %(now)s - interval '10 days'
            FROM intake_appointment a
            WHERE a.id = i.appointment_id AND a.id > %(size)s - %(waiting)s
            """,
            {"now": now, "size": size, "waiting": WAITING},
        )
        conn.commit()
    # As autovacuum would soon: the moved rows' old versions out of the indexes.
    with psycopg.connect(common.database_url(name), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE intake_appointment, intake_invitation")


def seeded(name: str, size: int) -> bool:
    if not common.database_exists(name):
        return False
    import psycopg

    try:
        with psycopg.connect(common.database_url(name), connect_timeout=5) as conn:
            found = conn.execute("SELECT count(*) FROM intake_invitation").fetchone()[0]
    except psycopg.Error:
        return False
    return found == size and common.migrated(name)


def measure_import(rows: int) -> list[tuple[bool, str]]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from intake.appointment_import import appointments_check_csv, appointments_import_csv
    from intake.models import Invitation, InvitationMessage

    from .admin_lists import timed_queries

    content = fake_csv(rows, today=timezone.localdate())
    staff = get_user_model().objects.create_user("bench-front-desk", password=None)
    common.heading(f"Import of {rows:,} appointments ({len(content) / 1024:.0f} KiB of CSV)")
    with timed_queries(connection) as checking:
        started = time.perf_counter()
        checked = appointments_check_csv(content=content)
        check_seconds = time.perf_counter() - started
    if not checked.is_valid:
        raise SystemExit(f"the benchmark's own file has problems: {checked.problems[:5]}")
    with timed_queries(connection) as importing:
        started = time.perf_counter()
        invitations = appointments_import_csv(content=content, by=staff)
        import_seconds = time.perf_counter() - started
    stored = Invitation.objects.count()
    messages = InvitationMessage.objects.count()
    print(f"check (the preview): {check_seconds:.2f} s, {checking.count} statements")
    print(
        f"import: {import_seconds:.2f} s ({rows / import_seconds:,.0f} rows/s), "
        f"{importing.count} statements; {stored:,} invitations, {messages:,} messages queued"
    )
    limit = f"under {IMPORT_LIMIT_SECONDS:.0f} s"
    return [
        (
            len(invitations) == rows == stored,
            f"every row imported once ({stored:,} invitations for {rows:,} rows)",
        ),
        (
            check_seconds < IMPORT_LIMIT_SECONDS,
            f"check of {rows:,} rows {check_seconds:.1f} s ({limit})",
        ),
        (
            import_seconds < IMPORT_LIMIT_SECONDS,
            f"import of {rows:,} rows {import_seconds:.1f} s ({limit})",
        ),
    ]


def measure_due_query(sizes: list[int], rounds: int) -> list[tuple[bool, str]]:
    from django.db import connections
    from django.utils import timezone

    from intake.invitation_sending import due_reminders

    from .admin_lists import explain, timed_queries

    base = connections["default"]
    wrappers = {
        sized_database(size): type(base)(
            {**base.settings_dict, "NAME": sized_database(size)}, alias="default"
        )
        for size in sizes
    }
    common.heading(f"The reminder job's query at {' and '.join(f'{s:,}' for s in sizes)}")
    now = timezone.now()
    for size in sizes:
        move_waiting_to(sized_database(size), size, now)
    samples: dict[str, list[float]] = {name: [] for name in wrappers}
    found: dict[str, int] = {}
    statements: dict[str, int] = {}
    for round_number in range(rounds + 2):
        order = list(wrappers) if round_number % 2 == 0 else list(reversed(wrappers))
        for name in order:
            connections["default"] = wrappers[name]
            with timed_queries(connections["default"]) as timer:
                started = time.perf_counter()
                due = list(due_reminders(now))
                took = time.perf_counter() - started
            if round_number >= 2:  # two rounds to warm up
                samples[name].append(took * 1000)
            found[name], statements[name] = len(due), timer.count
    for name, size in zip(wrappers, sizes, strict=True):
        print(
            f"{size:>11,} invitations: median {common.median(samples[name]):.2f} ms, "
            f"p90 {common.percentile(samples[name], 0.9):.2f} ms, {found[name]} due, "
            f"{statements[name]} statement(s)"
        )
    small, large = list(wrappers)
    connections["default"] = wrappers[large]
    sql, params = due_reminders(now).query.sql_with_params()
    with connections["default"].cursor() as cursor:
        statement = cursor.mogrify(sql, params)
    print(f"\nEXPLAIN at {sizes[-1]:,}:\n{explain(connections['default'], statement)}")
    ratio = common.median(samples[large]) / common.median(samples[small])
    return [
        (
            all(count == 1 for count in statements.values()),
            f"one statement at every size ({', '.join(map(str, statements.values()))})",
        ),
        (
            found[small] == found[large],
            f"the same reminders due at both sizes ({found[small]} and {found[large]})",
        ),
        (
            ratio <= MAX_SIZE_RATIO,
            f"{sizes[-1]:,} invitations {ratio:.2f}x the time at {sizes[0]:,} "
            f"(at most {MAX_SIZE_RATIO}x)",
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args(argv)

    common.heading("Invitations: the CSV import and the reminder job (issue 21)")
    print(common.machine_description())
    for size in args.sizes:
        name = sized_database(size)
        if args.reseed or not seeded(name, size):
            started = time.perf_counter()
            seed_invitations(name, size)
            print(f"seeded {name}: {size:,} invitations in {time.perf_counter() - started:.0f} s")
    common.drop_database(IMPORT_DATABASE)
    common.create_database(IMPORT_DATABASE)
    common.migrate(IMPORT_DATABASE)
    common.use_environment(common.production_env(IMPORT_DATABASE))
    try:
        from django.db import connections

        checks = measure_import(args.rows)
        connections["default"].close()
        checks += measure_due_query(args.sizes, args.rounds)
    finally:
        from django.db import connections

        for connection in connections.all():
            connection.close()
        common.drop_database(IMPORT_DATABASE)
    targets = common.Targets()
    for ok, text in checks:
        targets.check(ok, text)
    raise SystemExit(1 if targets.failures else 0)


if __name__ == "__main__":
    main()
