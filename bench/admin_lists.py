"""The red-flag queue and the all-cases list at two sizes, in one run.

    .venv/bin/python -m bench.admin_lists --small clinic_bench_1000 --large clinic_bench_1000000

Both pages are rendered through the real admin views (the whole middleware
stack, sessions, two-factor check, audit entry) by Django's test client, in
this process, as a logged-in staff user of the "Clinician" role with a
verified two-factor device, under production-like settings (DEBUG off,
compressed manifest static files). The two databases are measured in
alternating rounds so that the noise of a shared machine hits both alike.

Printed per page and size: median and 90th-percentile server time, SQL
queries per page, the time those queries took in the database (as seen by
the app: round trip included) and the ratio page time / SQL time, the rows
shown, and EXPLAIN (ANALYZE, BUFFERS) of the main list queries.
"""

import re
import time
from contextlib import contextmanager

from . import common

QUEUE_URL = "/admin/intake/redflagcase/"
CASES_URL = "/admin/intake/case/"
PATIENTS_URL = "/admin/intake/patient/"
# The patients list has no target of its own; it is measured for information.
PAGES = (("red-flag queue", QUEUE_URL), ("all cases", CASES_URL), ("patients", PATIENTS_URL))
BENCH_USERNAME = "bench-clinician"

# Targets from the issue. Its limit was 10 statements; a page that writes its
# audit entry also reads the audit log's newest hash to chain it to (issue 18,
# finding 5), so 11 (tests/intake/test_query_counts.py says the same).
MAX_QUERIES = 11
QUEUE_GROWTH_LIMIT = 1.5
CASES_LIST_LIMIT_MS = 300.0


class QueryTimer:
    """Counts the page's SQL queries and adds up the time each took."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0
        self.statements: list[tuple[str, float]] = []
        self.keep = False

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            self.count += 1
            self.seconds += took
            if self.keep:
                raw_cursor = context["cursor"].cursor
                query = context["connection"].ops.last_executed_query(raw_cursor, sql, params)
                self.statements.append((" ".join(query.split()), took))


@contextmanager
def timed_queries(connection, keep: bool = False):
    timer = QueryTimer()
    timer.keep = keep
    with connection.execute_wrapper(timer):
        yield timer


def staff_client(connection_name: str):
    """A test client logged in as a Clinician with a verified two-factor device."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from intake.roles import CLINICIAN

    user, _ = get_user_model().objects.get_or_create(
        username=BENCH_USERNAME,
        defaults={"is_staff": True, "first_name": "Bench", "last_name": "Clinician"},
    )
    user.groups.add(Group.objects.get(name=CLINICIAN))
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="bench", defaults={"confirmed": True}
    )
    client = Client(HTTP_USER_AGENT=f"bench.admin_lists ({connection_name})")
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def rows_shown(html: bytes) -> int:
    """Rows of the result table (its header row aside)."""
    table = html.split(b'id="result_list"', 1)
    return max(table[1].count(b"<tr") - 1, 0) if len(table) == 2 else 0


def fetch(client, url: str):
    response = client.get(url, secure=True)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return response


def explain(connection, statement: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement)
        return "\n".join(row[0] for row in cursor.fetchall())


def main_list_queries(statements: list[tuple[str, float]]) -> list[str]:
    """The page's queries on the case table (the list itself and its count)."""
    return [sql for sql, _took in statements if 'FROM "intake_case"' in sql]


def run(small: str, large: str, rounds: int, warmup: int) -> int:
    from django.db import connections

    sizes = {}
    wrappers = common.two_size_connections(small, large)
    clients = {}
    for name, wrapper in wrappers.items():
        connections["default"] = wrapper
        from intake.models import Case

        sizes[name] = Case.objects.count()
        clients[name] = staff_client(name)

    samples = {(name, url): [] for name in wrappers for _label, url in PAGES}
    sql_samples = {(name, url): [] for name in wrappers for _label, url in PAGES}
    queries = {}
    rows = {}
    for round_number in range(warmup + rounds):
        order = list(wrappers) if round_number % 2 == 0 else list(reversed(wrappers))
        for name in order:
            wrapper = wrappers[name]
            connections["default"] = wrapper
            for _label, url in PAGES:
                with timed_queries(wrapper) as timer:
                    started = time.perf_counter()
                    response = fetch(clients[name], url)
                    took = time.perf_counter() - started
                if round_number < warmup:
                    continue
                samples[(name, url)].append(took)
                sql_samples[(name, url)].append(timer.seconds)
                queries.setdefault((name, url), set()).add(timer.count)
                rows[(name, url)] = rows_shown(response.content)

    # One more request per page, keeping the SQL, for the list and EXPLAIN.
    statements = {}
    for name, wrapper in wrappers.items():
        connections["default"] = wrapper
        for _label, url in PAGES:
            with timed_queries(wrapper, keep=True) as timer:
                fetch(clients[name], url)
            statements[(name, url)] = timer.statements

    common.heading("Results (server time of the whole request, in this process)")
    print(
        f"{'page':<16}{'cases':>11}{'rows':>6}{'median ms':>11}{'p90 ms':>9}"
        f"{'queries':>9}{'SQL ms':>9}{'page/SQL':>10}"
    )
    medians = {}
    for label, url in PAGES:
        for name in wrappers:
            times = [t * 1000 for t in samples[(name, url)]]
            sql_ms = common.median([t * 1000 for t in sql_samples[(name, url)]])
            medians[(name, url)] = common.median(times)
            count = "/".join(str(c) for c in sorted(queries[(name, url)]))
            print(
                f"{label:<16}{sizes[name]:>11,}{rows[(name, url)]:>6}{common.median(times):>11.1f}"
                f"{common.percentile(times, 0.9):>9.1f}{count:>9}{sql_ms:>9.1f}"
                f"{common.median(times) / sql_ms:>10.1f}"
            )

    for label, url in PAGES:
        connections["default"] = wrappers[large]
        common.heading(f"SQL of the {label} page at {sizes[large]:,} cases")
        for sql, took in statements[(large, url)]:
            print(f"{took * 1000:7.2f} ms  {sql[:220]}{' ...' if len(sql) > 220 else ''}")
        for name in (small, large):
            connections["default"] = wrappers[name]
            for sql in main_list_queries(statements[(name, url)]):
                common.heading(f"EXPLAIN {label} at {sizes[name]:,} cases: {sql[:90]} ...")
                print(explain(wrappers[name], sql))

    targets = common.Targets()
    verdict = targets.check

    for label, url in PAGES:
        counts = queries[(small, url)] | queries[(large, url)]
        verdict(
            len(counts) == 1 and max(counts) <= MAX_QUERIES,
            f"{label}: queries per page {sorted(counts)} at both sizes "
            f"(same, at most {MAX_QUERIES})",
        )
    growth = medians[(large, QUEUE_URL)] / medians[(small, QUEUE_URL)]
    verdict(
        growth <= QUEUE_GROWTH_LIMIT,
        f"red-flag queue: median at {sizes[large]:,} is {growth:.2f}x the median at "
        f"{sizes[small]:,} (limit {QUEUE_GROWTH_LIMIT}x)",
    )
    cases_ms = medians[(large, CASES_URL)]
    verdict(
        cases_ms < CASES_LIST_LIMIT_MS,
        f"all cases: median {cases_ms:.1f} ms at {sizes[large]:,} cases "
        f"(limit {CASES_LIST_LIMIT_MS:.0f} ms)",
    )
    counts_all = [
        sql
        for key, found in statements.items()
        for sql, _took in found
        if re.search(r'SELECT COUNT\(\*\) AS "__count" FROM "intake_case"\s*$', sql)
    ]
    verdict(not counts_all, "no unfiltered COUNT(*) over the case table on any page view")
    for wrapper in wrappers.values():
        wrapper.close()
    return targets.failures


def main(argv: list[str] | None = None) -> None:
    args = common.two_sizes_arguments(
        __doc__, argv, rounds=40, rounds_help="measured requests per page", warmup=5
    )
    common.run_at_two_sizes("Admin list pages", run, args)


if __name__ == "__main__":
    main()
