"""Run every benchmark in turn and print a summary: ``python -m bench`` (``make bench``).

    .venv/bin/python -m bench               # seed if needed, then all benchmarks
    .venv/bin/python -m bench --reseed      # seed both databases again first
    .venv/bin/python -m bench --drop        # drop every benchmark database and stop

Seeding 1,000,000 cases takes two to three minutes and about 2 GB of
disk; the seeded databases are kept for the next run. Each benchmark runs in
its own process and prints its own report; this prints which targets passed.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from intake import triage

from . import common

SMALL = 1_000
LARGE = 1_000_000
RATIO = "questionnaire CPU / landing-page floor (issue 19)"


def seeded(name: str, cases: int) -> bool:
    """Seeded with enough cases, by the current rules and migrations (else seed again)."""
    if not common.database_exists(name):
        return False
    try:
        with psycopg.connect(common.database_url(name), connect_timeout=5) as conn:
            found, current = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE rules_version = %s) FROM intake_case",
                [triage.RULES_VERSION],
            ).fetchone()
    except psycopg.Error:  # no such table or column: seeded before the migrations
        return False
    if found < cases or current != found:
        return False
    # Seeded before a later migration: seed again, so the data is what today's code writes.
    return common.migrated(name)


def run(*module_and_args: str) -> bool:
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - our own benchmark modules
        [sys.executable, "-m", *module_and_args], cwd=common.ROOT, check=False
    )
    print(f"({' '.join(module_and_args)}: {time.perf_counter() - started:.0f} s)", flush=True)
    return result.returncode == 0


def drop_all() -> None:
    with common.admin_connection() as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                [common.BENCH_PREFIX + "%"],
            )
        ]
    for name in names:
        common.drop_database(name)
        print(f"dropped {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()
    if args.drop:
        drop_all()
        return
    small = f"{common.BENCH_PREFIX}_{SMALL}"
    large = f"{common.BENCH_PREFIX}_{LARGE}"
    results = {}
    for name, cases in ((small, SMALL), (large, LARGE)):
        if args.reseed or not seeded(name, cases):
            results[f"seed {cases:,}"] = run("bench.seed", "--cases", str(cases))
    results["admin lists"] = run("bench.admin_lists", "--small", small, "--large", large)
    results["live-queue endpoint"] = run("bench.live_queue", "--small", small, "--large", large)
    results["clinic dashboard"] = run("bench.dashboard", "--small", small, "--large", large)
    ratio_file = Path(tempfile.mkdtemp(prefix="clinic-bench-")) / "cpu_ratio.json"
    results[RATIO] = run("bench.cpu_ratio", "--results", str(ratio_file))
    results["intake under load"] = run("bench.load")
    results["intake under load, PostgreSQL restarted"] = run("bench.load", "--restart-postgres")
    results["page weight"] = run("bench.page_weight")
    results["re-assessment with new rules"] = run("bench.reassess", "--source", large)
    results["submission -> alert accepted"] = run("bench.alert_latency")
    results["invitations: CSV import and reminder query"] = run("bench.invitations")
    results["patient page with 1 and 50 follow-ups"] = run("bench.follow_ups")
    common.heading("Summary")
    for what, ok in results.items():
        print(f"{'PASS' if ok else 'FAIL'}  {what}")
        if what == RATIO and ratio_file.exists():
            numbers = json.loads(ratio_file.read_text())
            print(
                f"      {numbers['ratio']:.2f}x (at most {numbers['max_ratio']}x): app CPU "
                f"{numbers['questionnaire_ms']:.1f} ms per completed questionnaire of "
                f"{numbers['requests_per_questionnaire']:g} requests, "
                f"{numbers['floor_ms']:.1f} ms for as many landing-page requests"
            )
    shutil.rmtree(ratio_file.parent, ignore_errors=True)
    raise SystemExit(0 if all(results.values()) else 1)


if __name__ == "__main__":
    main()
