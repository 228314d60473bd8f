"""The clinic dashboard at two sizes: what opening it, and its CSV, cost.

    .venv/bin/python -m bench.dashboard --small clinic_bench_1000 --large clinic_bench_1000000

Measured through the real admin views (middleware, session, two-factor check,
permissions) by Django's test client in this process, as a logged-in
Clinician with a verified two-factor device, under production-like settings,
in alternating rounds so the noise of a shared machine hits both databases
alike (as ``bench.admin_lists``).

Printed per page and size: median and 90th-percentile server time, SQL
statements per page, their time in the database, the cases in the 12-week
window and the open cases; then each statement's time and EXPLAIN (ANALYZE,
BUFFERS) of the queries on the case table at 1,000,000 cases. Targets (issue
20): the page under 300 ms at 1,000,000 cases, and the same number of queries
at both sizes (bounded: at most ``MAX_QUERIES``).

The seeded database holds about 500 cases a day, so the 12-week window holds
about 42,000 cases at 1,000,000 (and every case at 1,000).
"""

import time

from . import common
from .admin_lists import explain, fetch, staff_client, timed_queries

PAGES = (
    ("dashboard", "/admin/intake/case/dashboard/"),
    ("dashboard CSV", "/admin/intake/case/dashboard/figures.csv"),
)
LIMIT_MS = 300.0
MAX_QUERIES = 12


def run(small: str, large: str, rounds: int, warmup: int) -> int:
    from django.db import connections

    from intake.dashboard import clinic_dashboard

    wrappers = common.two_size_connections(small, large)
    clients, sizes, window, open_cases = {}, {}, {}, {}
    for name, wrapper in wrappers.items():
        connections["default"] = wrapper
        from intake.models import Case

        sizes[name] = Case.objects.count()
        figures = clinic_dashboard()
        window[name] = sum(week.cases for week in figures.weekly.values())
        open_cases[name] = figures.open_total
        clients[name] = staff_client(name)

    samples = {(name, url): [] for name in wrappers for _label, url in PAGES}
    sql_ms = {(name, url): [] for name in wrappers for _label, url in PAGES}
    queries = {}
    for round_number in range(warmup + rounds):
        order = list(wrappers) if round_number % 2 == 0 else list(reversed(wrappers))
        for name in order:
            wrapper = wrappers[name]
            connections["default"] = wrapper
            for _label, url in PAGES:
                with timed_queries(wrapper) as timer:
                    started = time.perf_counter()
                    fetch(clients[name], url)
                    took = time.perf_counter() - started
                if round_number < warmup:
                    continue
                samples[(name, url)].append(took * 1000)
                sql_ms[(name, url)].append(timer.seconds * 1000)
                queries.setdefault((name, url), set()).add(timer.count)

    common.heading("Results (server time of the whole request, in this process)")
    print(
        f"{'page':<15}{'cases':>11}{'in window':>11}{'open':>8}{'median ms':>11}"
        f"{'p90 ms':>9}{'queries':>9}{'SQL ms':>9}"
    )
    medians = {}
    for label, url in PAGES:
        for name in wrappers:
            times = samples[(name, url)]
            medians[(name, url)] = common.median(times)
            counts = "/".join(str(count) for count in sorted(queries[(name, url)]))
            print(
                f"{label:<15}{sizes[name]:>11,}{window[name]:>11,}{open_cases[name]:>8,}"
                f"{medians[(name, url)]:>11.1f}{common.percentile(times, 0.9):>9.1f}"
                f"{counts:>9}{common.median(sql_ms[(name, url)]):>9.1f}"
            )

    connections["default"] = wrappers[large]
    with timed_queries(wrappers[large], keep=True) as timer:
        fetch(clients[large], PAGES[0][1])
    common.heading(f"SQL of the dashboard at {sizes[large]:,} cases")
    for sql, took in timer.statements:
        print(f"{took * 1000:7.2f} ms  {sql[:200]}{' ...' if len(sql) > 200 else ''}")
    for sql, _took in timer.statements:
        if 'FROM "intake_case"' in sql:
            common.heading(f"EXPLAIN at {sizes[large]:,} cases: {sql[:90]} ...")
            print(explain(wrappers[large], sql))

    targets = common.Targets()
    verdict = targets.check

    for label, url in PAGES:
        counts = queries[(small, url)] | queries[(large, url)]
        verdict(
            len(counts) == 1 and max(counts) <= MAX_QUERIES,
            f"{label}: queries per request {sorted(counts)} at both sizes "
            f"(the same, at most {MAX_QUERIES})",
        )
        took = medians[(large, url)]
        verdict(
            took < LIMIT_MS,
            f"{label}: median {took:.1f} ms at {sizes[large]:,} cases (limit {LIMIT_MS:.0f} ms)",
        )
    for wrapper in wrappers.values():
        wrapper.close()
    return targets.failures


def main(argv: list[str] | None = None) -> None:
    args = common.two_sizes_arguments(
        __doc__, argv, rounds=30, rounds_help="measured requests per page", warmup=3
    )
    common.run_at_two_sizes("Clinic dashboard", run, args)


if __name__ == "__main__":
    main()
