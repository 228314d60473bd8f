"""The patient's page with 1 and with 50 follow-ups (issue 22): queries and time.

    .venv/bin/python -m bench.follow_ups                # 30 rounds
    .venv/bin/python -m bench.follow_ups --rounds 60

A fresh PostgreSQL database under production-like settings holds two fake
patients: one with a case and one follow-up, one with a case and 50
follow-ups (a week apart, answers varying). Their pages (details, cases,
and the chain's trend table and chart) are fetched through the real admin
as a Clinician with a verified second factor, in alternating rounds, and
timed; the SQL statements of each page are counted. Targets: the same
number of statements for both (the trend reads every case in one query),
and the page with 50 follow-ups under 500 ms (a 51-column table and chart).
"""

import argparse
import datetime
import random
import time

from . import common
from .admin_lists import fetch, staff_client, timed_queries

DATABASE = f"{common.BENCH_PREFIX}_follow_ups"
LIMIT_MS = 500.0


def chain(follow_ups: int, rng: random.Random):
    """A fake patient with a baseline case and ``follow_ups`` follow-ups a week apart."""
    from django.utils import timezone

    from tests.factories import CaseFactory, PatientFactory

    patient = PatientFactory(last_name=f"Bench-Follow-Ups-{follow_ups}")
    start = timezone.now() - datetime.timedelta(weeks=follow_ups + 1)
    baseline = CaseFactory(patient=patient, submitted_at=start)
    for week in range(1, follow_ups + 1):
        CaseFactory(
            patient=patient,
            baseline=baseline,
            submitted_at=start + datetime.timedelta(weeks=week),
            changes={
                "pain_score": rng.randrange(11),
                "weak_side": rng.choice(["left", "right", "both", "neither"]),
                "change_since_last": rng.choice(
                    ["much_worse", "a_little_worse", "same", "a_little_better", "much_better"]
                ),
            },
        )
    return patient


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)

    common.heading("The patient's page with 1 and 50 follow-ups (issue 22)")
    print(common.machine_description())
    common.drop_database(DATABASE)
    common.create_database(DATABASE)
    common.migrate(DATABASE)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="clinic-bench-static-") as static_root:
        common.collect_static(static_root, DATABASE)
        common.use_environment(common.production_env(DATABASE, static_root=static_root))
        try:
            failures = measure(args.rounds, args.warmup)
        finally:
            from django.db import connections

            for connection in connections.all():
                connection.close()
            common.drop_database(DATABASE)
    raise SystemExit(1 if failures else 0)


def measure(rounds: int, warmup: int) -> int:
    from django.db import connection

    rng = random.Random(22)  # noqa: S311 - fake answers
    patients = {1: chain(1, rng), 50: chain(50, rng)}
    client = staff_client("bench.follow_ups")
    urls = {
        size: f"/admin/intake/patient/{patient.pk}/change/" for size, patient in patients.items()
    }
    samples: dict[int, list[float]] = {size: [] for size in urls}
    statements: dict[int, int] = {}
    sizes = {}
    for number in range(warmup + rounds):
        order = list(urls) if number % 2 == 0 else list(reversed(urls))
        for size in order:
            with timed_queries(connection) as timer:
                started = time.perf_counter()
                response = fetch(client, urls[size])
                took = (time.perf_counter() - started) * 1000
            if number >= warmup:
                samples[size].append(took)
            statements[size] = timer.count
            sizes[size] = len(response.content)
    for size in urls:
        print(
            f"{size:>2} follow-up(s): median {common.median(samples[size]):.1f} ms, "
            f"p90 {common.percentile(samples[size], 0.9):.1f} ms, "
            f"{statements[size]} statements, {sizes[size] / 1024:.0f} KiB"
        )
    targets = common.Targets()
    targets.check(
        statements[1] == statements[50],
        f"the same statements for 1 and 50 follow-ups ({statements[1]} and {statements[50]})",
    )
    median_50 = common.median(samples[50])
    targets.check(
        median_50 < LIMIT_MS,
        f"the page with 50 follow-ups in {median_50:.0f} ms (under {LIMIT_MS:.0f} ms)",
    )
    return targets.failures


if __name__ == "__main__":
    main()
