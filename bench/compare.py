"""Two versions of the app under the same load at the same moment: which serves more?

    .venv/bin/python -m bench.compare --base-rev 432026e          # this work tree vs a commit
    .venv/bin/python -m bench.compare --base-env DATABASE_PREPARED_STATEMENTS=0
    .venv/bin/python -m bench.compare --base-rev HEAD --rounds 8 --seconds 30

This machine's speed swings by a third from one minute to the next, so two
``bench.load`` runs made minutes apart cannot tell a 10% change from noise.
Here both versions run at once: each has its own gunicorn (the same
gunicorn.conf.py, ``--workers`` workers each), its own fresh database and its
own virtual patients (``--users`` each), and they share the machine in every
round. What counts is the ratio of questionnaires each completed in the same
rounds, which holds even while the machine's speed moves.

"base" is either another commit (``--base-rev``, checked out into a temporary
git worktree and served with this venv: both commits must need the same
requirements) or this work tree with extra environment variables
(``--base-env KEY=VALUE``, repeatable). "this" is always the current work
tree. Afterwards each database is checked as ``bench.load`` checks it: nothing
lost, duplicated or half-written.
"""

import argparse
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from . import common
from .load import (
    PROBLEMS,
    check_database,
    serve_app,
    start_patients,
    stop,
    tree_cpu,
    wait_for_patients,
    wait_until_ready,
    window_start,
)

PORTS = {"base": 8124, "this": 8125}


@dataclass
class Side:
    name: str
    root: Path
    extra_env: dict[str, str]
    work: Path
    database: str = ""
    gunicorn: subprocess.Popen | None = None
    completed: list[float] = field(default_factory=list)
    app_cpu: list[float] = field(default_factory=list)
    outcomes: list[dict] = field(default_factory=list)

    @property
    def port(self) -> int:
        return PORTS[self.name]


def parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--base-env wants KEY=VALUE, not {pair!r}")
        env[key] = value
    return env


def checkout(rev: str, into: Path) -> Path:
    """A detached worktree of ``rev``; stops if its requirements differ from this tree's."""
    subprocess.run(  # noqa: S603 - git, our own repository
        ["git", "worktree", "add", "--detach", "--quiet", str(into), rev],  # noqa: S607
        cwd=common.ROOT,
        check=True,
    )
    if (into / "requirements.txt").read_text() != (common.ROOT / "requirements.txt").read_text():
        remove_worktree(into)
        raise SystemExit(
            f"{rev} needs other requirements than this work tree; both are served with one venv"
        )
    return into


def remove_worktree(path: Path) -> None:
    subprocess.run(  # noqa: S603 - git, our own repository
        ["git", "worktree", "remove", "--force", str(path)],  # noqa: S607
        cwd=common.ROOT,
        check=False,
        capture_output=True,
    )


def prepare(side: Side, workers: int) -> None:
    side.database = f"{common.BENCH_PREFIX}_compare_{side.name}"
    side.gunicorn = serve_app(
        side.database,
        side.work,
        port=side.port,
        root=side.root,
        GUNICORN_WORKERS=str(workers),
        **side.extra_env,
    )


def run_round(sides: list[Side], *, users: int, seconds: int, tag: str) -> None:
    """Both sides under load at once; record what each completed and its app's CPU."""
    started = {side.name: tree_cpu(psutil.Process(side.gunicorn.pid)) for side in sides}
    processes = {
        side.name: start_patients(
            users=users,
            seconds=seconds,
            results=side.work / f"round-{tag}.json",
            tag=tag,
            log_path=side.work / f"patients-{tag}.log",
            port=side.port,
        )
        for side in sides
    }
    for side in sides:
        wait_for_patients(processes[side.name], side.work / f"patients-{tag}.log")
    for side in sides:
        data = json.loads((side.work / f"round-{tag}.json").read_text())
        side.outcomes.extend(data["outcomes"])
        done = sum(1 for outcome in data["outcomes"] if "reference" in outcome)
        # Patients run in step, so whole questionnaires come in lumps of --users;
        # requests answered within the round count finer (eleven to a questionnaire
        # of five steps; the walker counts however many the pages ask for).
        end = window_start(data["requests"]) + seconds
        answered = sum(1 for _name, _took, _status, at in data["requests"] if at <= end)
        per_questionnaire = len(data["requests"]) / max(len(data["outcomes"]), 1)
        side.completed.append(answered / per_questionnaire)
        used = tree_cpu(psutil.Process(side.gunicorn.pid)) - started[side.name]
        side.app_cpu.append(used * 1000 / max(done, 1))


def report(base: Side, this: Side, described_base: str) -> None:
    common.heading("Questionnaires' worth of requests answered in each round, both sides at once")
    print(f"{'round':<8}{'base':>8}{'this':>8}{'this / base':>13}")
    ratios = []
    for number, (a, b) in enumerate(zip(base.completed, this.completed, strict=True), start=1):
        ratio = b / a if a else float("nan")
        ratios.append(ratio)
        print(f"{number:<8}{a:>8.1f}{b:>8.1f}{ratio:>13.3f}")
    total_a, total_b = sum(base.completed), sum(this.completed)
    print(f"{'all':<8}{total_a:>8.1f}{total_b:>8.1f}{total_b / max(total_a, 1):>13.3f}")
    print(f"per-round ratio from {min(ratios):.3f} to {max(ratios):.3f}")
    print(
        "app CPU per questionnaire (median of the rounds): "
        f"base {common.median(base.app_cpu):.1f} ms, this {common.median(this.app_cpu):.1f} ms"
    )
    print(f"base: {described_base}; this: the work tree at {common.ROOT}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--base-rev", help="a commit to compare this work tree with")
    what.add_argument(
        "--base-env",
        action="append",
        metavar="KEY=VALUE",
        help="serve this work tree as the base too, with this setting (repeatable)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="at most 8")
    parser.add_argument("--seconds", type=int, default=20, help="per round")
    parser.add_argument("--users", type=int, default=10, help="virtual patients per side")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per side")
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 8:
        parser.error("--rounds must be from 1 to 8 (each round's patients get their own tag)")

    common.heading(
        f"Side by side: {args.rounds} rounds of {args.seconds} s, "
        f"{args.users} patients and {args.workers} gunicorn workers a side"
    )
    print(common.machine_description())
    print(common.python_speed())
    scratch = Path(tempfile.mkdtemp(prefix="clinic-bench-compare-"))
    try:
        failures = compare(args, scratch)
    finally:
        if args.base_rev:
            remove_worktree(scratch / "base-tree")
        shutil.rmtree(scratch, ignore_errors=True)
    raise SystemExit(1 if failures else 0)


def compare(args: argparse.Namespace, scratch: Path) -> int:
    """Serve both sides, run the rounds, report; the number of sides with problems."""
    base_root = common.ROOT
    if args.base_rev:
        base_root = checkout(args.base_rev, scratch / "base-tree")
        described = f"commit {args.base_rev}"
    else:
        described = "this work tree with " + " ".join(args.base_env)
    base = Side("base", base_root, parse_env(args.base_env or []), scratch / "base")
    this = Side("this", common.ROOT, {}, scratch / "this")
    sides = [base, this]
    try:
        for side in sides:
            side.work.mkdir()
            prepare(side, args.workers)
        for side in sides:
            wait_until_ready(f"http://127.0.0.1:{side.port}")
        run_round(sides, users=args.users, seconds=5, tag="9")  # warm-up, not counted
        for side in sides:
            side.completed.clear()
            side.app_cpu.clear()
        for number in range(1, args.rounds + 1):
            run_round(sides, users=args.users, seconds=args.seconds, tag=str(number))
            print(f"round {number}: base {base.completed[-1]:.1f}, this {this.completed[-1]:.1f}")
    finally:
        for side in sides:
            if side.gunicorn:
                stop(side.gunicorn)
    report(base, this, described)

    common.heading("Database check")
    failures = 0
    for side in sides:
        check = check_database(side.database, side.outcomes)
        problems = {what: count for what, count in check.items() if count and what in PROBLEMS}
        failures += bool(problems)
        verdict = problems or "nothing lost, duplicated or half-written"
        stored = check["cases in the database"]
        print(f"{side.name}: {check['confirmed']} confirmed, {stored} cases; {verdict}")
        common.drop_database(side.database)
    return failures


if __name__ == "__main__":
    main()
