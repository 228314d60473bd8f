"""The live-queue endpoint at two sizes: what one poll of an open queue costs.

    .venv/bin/python -m bench.live_queue --small clinic_bench_1000 --large clinic_bench_1000000

Every open red-flag queue and admin home page polls
``/admin/intake/redflagcase/live/`` every 5 seconds (issue 17), so its cost is
paid by every member of staff all day long. Measured through the real admin
view (middleware, session, two-factor check, permissions) by Django's test
client in this process, as a logged-in Clinician with a verified two-factor
device, under production-like settings, in alternating rounds so the noise of
a shared machine hits both databases alike:

* the steady state: the page already shows the current version, so the poll
  sends ``If-None-Match`` and gets ``304 Not Modified``;
* a change: no ``If-None-Match``, the JSON state is sent.

Printed per size: median and 90th-percentile server time, SQL statements per
poll and how many read the case table, the state query's time, the number of
queued cases; then EXPLAIN (ANALYZE, BUFFERS) of the state query. Targets
(issue 17): one query on the case table, the same number of queries at both
sizes, and the median at 1,000,000 cases within 1.5x the median at 1,000.

The counts are read from the queue's partial index, so the query's work grows
with the number of *queued* cases (the seeded 1,000,000-case database queues
about 5,000, a far longer queue than a clinic's), never with the closed ones.
"""

import time

from . import common
from .admin_lists import explain, staff_client, timed_queries

LIVE_URL = "/admin/intake/redflagcase/live/"
GROWTH_LIMIT = 1.5


def poll(client, etag: str | None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    response = client.get(LIVE_URL, secure=True, **headers)
    expected = 304 if etag else 200
    if response.status_code != expected:
        raise SystemExit(f"{LIVE_URL} answered {response.status_code}, expected {expected}")
    return response


def run(small: str, large: str, rounds: int, warmup: int) -> int:
    from django.db import connections

    from intake.models import Case
    from intake.selectors import red_flag_queue_state

    wrappers = common.two_size_connections(small, large)
    clients, etags, sizes, queued = {}, {}, {}, {}
    for name, wrapper in wrappers.items():
        connections["default"] = wrapper
        sizes[name] = Case.objects.count()
        queued[name] = Case.objects.red_flag_queue().count()
        clients[name] = staff_client(name)
        etags[name] = poll(clients[name], None)["ETag"]

    kinds = (("304, unchanged", True), ("200, changed", False))
    samples = {(name, kind): [] for name in wrappers for kind, _etag in kinds}
    sql_ms = {(name, kind): [] for name in wrappers for kind, _etag in kinds}
    queries = {}
    for round_number in range(warmup + rounds):
        order = list(wrappers) if round_number % 2 == 0 else list(reversed(wrappers))
        for name in order:
            wrapper = wrappers[name]
            connections["default"] = wrapper
            for kind, conditional in kinds:
                with timed_queries(wrapper, keep=round_number == warmup) as timer:
                    started = time.perf_counter()
                    poll(clients[name], etags[name] if conditional else None)
                    took = time.perf_counter() - started
                if round_number < warmup:
                    continue
                samples[(name, kind)].append(took * 1000)
                sql_ms[(name, kind)].append(timer.seconds * 1000)
                case_reads = sum('"intake_case"' in sql for sql, _took in timer.statements)
                queries.setdefault((name, kind), set()).add(
                    (timer.count, case_reads if timer.keep else None)
                )

    common.heading("Results (server time of one poll, in this process)")
    print(
        f"{'poll':<16}{'cases':>11}{'queued':>8}{'median ms':>11}{'p90 ms':>9}"
        f"{'queries':>9}{'on cases':>10}{'SQL ms':>8}"
    )
    medians = {}
    for kind, _conditional in kinds:
        for name in wrappers:
            times = samples[(name, kind)]
            medians[(name, kind)] = common.median(times)
            counts = sorted({count for count, _reads in queries[(name, kind)]})
            reads = [reads for _count, reads in queries[(name, kind)] if reads is not None]
            print(
                f"{kind:<16}{sizes[name]:>11,}{queued[name]:>8,}{medians[(name, kind)]:>11.2f}"
                f"{common.percentile(times, 0.9):>9.2f}{'/'.join(map(str, counts)):>9}"
                f"{'/'.join(map(str, reads)):>10}{common.median(sql_ms[(name, kind)]):>8.2f}"
            )

    for name, wrapper in wrappers.items():
        connections["default"] = wrapper
        with timed_queries(wrapper, keep=True) as timer:
            red_flag_queue_state()
        (statement, took) = timer.statements[0]
        common.heading(f"The state query at {sizes[name]:,} cases ({took * 1000:.2f} ms)")
        print(explain(wrapper, statement))

    targets = common.Targets()
    verdict = targets.check

    for kind, _conditional in kinds:
        found = queries[(small, kind)] | queries[(large, kind)]
        counts = {count for count, _reads in found}
        reads = {reads for _count, reads in found if reads is not None}
        verdict(
            len(counts) == 1 and reads == {1},
            f"{kind}: {sorted(counts)} queries per poll at both sizes, "
            f"{sorted(reads)} on the case table (one)",
        )
        growth = medians[(large, kind)] / medians[(small, kind)]
        verdict(
            growth <= GROWTH_LIMIT,
            f"{kind}: median at {sizes[large]:,} cases is {growth:.2f}x the median at "
            f"{sizes[small]:,} (limit {GROWTH_LIMIT}x)",
        )
    for wrapper in wrappers.values():
        wrapper.close()
    return targets.failures


def main(argv: list[str] | None = None) -> None:
    args = common.two_sizes_arguments(
        __doc__, argv, rounds=300, rounds_help="measured polls of each kind", warmup=20
    )
    common.run_at_two_sizes("Live-queue endpoint", run, args, static=False, speed=True)


if __name__ == "__main__":
    main()
