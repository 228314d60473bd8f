"""Submission to alert accepted: how long an emergency waits for its email (issue 17).

    .venv/bin/python -m bench.alert_latency                    # 200 emergencies, 50-100 ms apart
    .venv/bin/python -m bench.alert_latency --cases 50 --min-gap-ms 500 --max-gap-ms 1000

Production's alert path end to end, on PostgreSQL, on a fresh database
``clinic_bench_alerts`` (migrated, dropped at the end):

* a real local SMTP server (aiosmtpd, in a thread of this process) records the
  moment it accepts each message (the ``250`` after the message's data) and
  the case reference from the subject;
* ``manage.py db_worker --no-reload`` runs as its own process with
  production-like settings (``bench.common.production_env``: DEBUG off, the
  database task backend) and Django's real SMTP backend pointed at that
  server, with the polling interval production uses
  (``deploy/systemd/clinic-worker.service`` passes no ``--interval``: the
  default, 1 s) and its start-up delay;
* this process submits emergency questionnaires (a "yes" to numbness between
  the legs) one after the other, a random 50-100 ms apart, through the real
  service ``intake.services.case_submit`` under the same settings: the case,
  its alert delivery and the delivery's task commit together, as they do in
  a web request. The time the call returns is the commit.

Not through HTTP: the page around the service adds the same few
milliseconds before the commit whatever happens after it, and the alert's
journey starts at the commit. Only the email channel is configured (no
webhook), so the worker runs one task per emergency.

A few warm-up emergencies are sent first and waited for, so the worker has
started; they are not counted. Printed: the latency from commit to
"accepted by SMTP" per case (count, median, p90, p99, max), where it went
(waiting in the queue for the worker, the worker's SMTP conversation, the
recording after it), alerts lost (no message by the deadline) and
duplicated (more than one message for a case), the load on the machine and
the CPU the worker used. Target (issue 17): p99 under 5 s, none lost.
"""

import argparse
import contextlib
import datetime
import logging
import os
import random
import re
import subprocess
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from email import message_from_bytes
from pathlib import Path

import psutil
from aiosmtpd.controller import Controller

from . import common

DATABASE = f"{common.BENCH_PREFIX}_alerts"
ALERT_ADDRESS = "oncall@example.com"
TARGET_P99_SECONDS = 5.0
#: The subject of a first alert (escalations say "ESCALATION n:" before "EMERGENCY").
ALERT_SUBJECT = re.compile(r"\] EMERGENCY intake (C-[0-9A-Z]+)")

# aiosmtpd logs every SMTP command at INFO.
logging.getLogger("mail.log").setLevel(logging.WARNING)


# The SMTP server --------------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler: notes when each message was accepted, and for which case."""

    def __init__(self):
        self.lock = threading.Lock()
        self.accepted: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.other_subjects: list[str] = []
        self.changed = threading.Condition(self.lock)

    async def handle_DATA(self, smtp, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        accepted = (time.monotonic(), time.time())
        message = message_from_bytes(envelope.content)
        subject = " ".join(str(message.get("Subject", "")).split())
        match = ALERT_SUBJECT.search(subject)
        with self.changed:
            if match and "ESCALATION" not in subject:
                self.accepted[match.group(1)].append(accepted)
            else:
                self.other_subjects.append(subject)
            self.changed.notify_all()
        return "250 2.0.0 Message accepted for delivery"

    def wait_for(self, references: set[str], deadline: float) -> set[str]:
        """Wait until every reference has a message, or the deadline; return those missing."""
        with self.changed:
            while True:
                missing = {ref for ref in references if not self.accepted.get(ref)}
                left = deadline - time.monotonic()
                if not missing or left <= 0:
                    return missing
                self.changed.wait(min(left, 0.5))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The worker -------------------------------------------------------------------------------


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """``manage.py db_worker`` as deploy/systemd/clinic-worker.service runs it."""
    log = log_path.open("wb")
    try:
        return subprocess.Popen(  # noqa: S603 - our own manage.py
            [common.PYTHON, "manage.py", "db_worker", "--no-reload"],
            cwd=common.ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()  # the child has its own copy


def stop_worker(worker: subprocess.Popen) -> None:
    """SIGTERM, as systemd stops it (a running task may finish), then SIGKILL."""
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=10)


def worker_cpu(worker: subprocess.Popen) -> float:
    try:
        times = psutil.Process(worker.pid).cpu_times()
        return times.user + times.system
    except psutil.NoSuchProcess:
        return float("nan")


def check_worker(worker: subprocess.Popen, log_path: Path) -> None:
    if worker.poll() is not None:
        raise SystemExit(
            f"db_worker exited with {worker.returncode}:\n{log_path.read_text()[-4000:]}"
        )


# Submitting -------------------------------------------------------------------------------


def submit_emergency(number: int, run_tag: str):
    """One emergency questionnaire through the real service; returns the case."""
    from intake.services import case_submit
    from tests.factories import complete_answers

    return case_submit(
        details={
            "first_name": "Bench",
            "last_name": f"Alert{run_tag}{number}",
            "date_of_birth": "1960-02-03",
            "phone": f"555 {number // 10000 % 1000:03d} {number % 10000:04d}",
        },
        answers=complete_answers(saddle_numbness="yes"),
        submission_token=uuid.uuid4(),
    )


def submit_all(
    count: int, min_gap: float, max_gap: float, max_seconds: float, seed: int, first_number: int
) -> dict[str, tuple[float, float, float]]:
    """Submit up to ``count`` emergencies on a fixed random schedule (open loop).

    Returns reference -> (monotonic time the call started, monotonic and wall
    time it returned: the commit). Stops early after ``max_seconds``.
    """
    rng = random.Random(seed)  # noqa: S311 - a schedule, not a secret
    committed: dict[str, tuple[float, float, float]] = {}
    started = time.monotonic()
    due = started
    for number in range(first_number, first_number + count):
        if time.monotonic() - started > max_seconds:
            print(f"stopped submitting after {max_seconds:.0f} s: {len(committed)} sent")
            break
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        call = time.monotonic()
        case = submit_emergency(number, str(seed))
        committed[case.reference] = (call, time.monotonic(), time.time())
        due += rng.uniform(min_gap, max_gap)
    return committed


# Reading the database afterwards ----------------------------------------------------------


def task_times(references: set[str]) -> dict[str, list[tuple[float, float, str]]]:
    """reference -> [(task started, task finished as wall times, status)] of its alert tasks."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reference, t.started_at, t.finished_at, t.status "
            "FROM django_tasks_database_dbtaskresult t "
            "JOIN intake_alertdelivery d "
            "  ON (t.args_kwargs -> 'kwargs' ->> 'delivery_id')::bigint = d.id "
            "JOIN intake_case c ON c.id = d.case_id "
            "WHERE d.kind = 'alert' AND d.channel = 'email'"
        )
        rows = cursor.fetchall()
    found: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for reference, started, finished, status in rows:
        if reference in references:
            found[reference].append(
                (
                    started.timestamp() if started else float("nan"),
                    finished.timestamp() if finished else float("nan"),
                    status,
                )
            )
    return found


def delivery_states(references: set[str]) -> dict[str, int]:
    from intake.models import AlertDelivery

    states: dict[str, int] = defaultdict(int)
    for state, attempts in AlertDelivery.objects.filter(
        case__reference__in=references, kind="alert", channel="email"
    ).values_list("state", "attempts"):
        states[f"{state}, {attempts} attempt(s)"] += 1
    return dict(states)


# Report -----------------------------------------------------------------------------------


def spread(values: list[float]) -> str:
    if not values:
        return "no values"
    return (
        f"median {common.median(values):.3f} s, p90 {common.percentile(values, 0.9):.3f} s, "
        f"p99 {common.percentile(values, 0.99):.3f} s, max {max(values):.3f} s"
    )


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def report(
    committed: dict[str, tuple[float, float, float]],
    inbox: Inbox,
    missing: set[str],
    tasks: dict[str, list[tuple[float, float, str]]],
) -> int:
    """Print the results; returns the number of failed targets."""
    with inbox.lock:
        accepted = {ref: list(times) for ref, times in inbox.accepted.items()}
        others = list(inbox.other_subjects)
    latencies, submit_ms, queue_wait, sending, recording = [], [], [], [], []
    for reference, (call, commit, commit_wall) in committed.items():
        submit_ms.append((commit - call) * 1000)
        if not accepted.get(reference):
            continue
        first_mono, first_wall = min(accepted[reference])
        latencies.append(first_mono - commit)
        runs = sorted(tasks.get(reference, []))
        if runs:
            started, finished, _status = runs[0]
            queue_wait.append(started - commit_wall)
            sending.append(first_wall - started)
            recording.append(finished - first_wall)
    duplicated = {ref: len(accepted[ref]) for ref in committed if len(accepted.get(ref, [])) > 1}

    common.heading("Results: commit of the case -> alert email accepted by the SMTP server")
    print(f"cases: {len(committed)}, alerts accepted: {len(latencies)}")
    print(f"latency: {spread(latencies)}")
    print(f"  of which waiting for the worker to start the task: {spread(queue_wait)}")
    print(f"  of which the task until the SMTP server accepted: {spread(sending)}")
    print(f"  (after it, the task recording the outcome: {spread(recording)})")
    print(
        f"case_submit itself (call to commit): median {common.median(submit_ms):.1f} ms, "
        f"p99 {common.percentile(submit_ms, 0.99):.1f} ms"
    )
    print(
        f"lost (no email by the deadline): {len(missing)}"
        + (f" {sorted(missing)[:10]}" if missing else "")
    )
    print(
        f"duplicated (more than one email for a case): {len(duplicated)}"
        + (f" {duplicated}" if duplicated else "")
    )
    extra_tasks = {ref: len(runs) for ref, runs in tasks.items() if len(runs) > 1}
    if extra_tasks:
        print(f"cases whose alert needed more than one task (retries): {len(extra_tasks)}")
    if others:
        print(f"other messages received: {len(others)} (e.g. {others[0]!r})")

    common.heading("Targets")
    failures = 0
    p99 = common.percentile(latencies, 0.99)
    checks = [
        (
            bool(latencies) and p99 < TARGET_P99_SECONDS,
            f"99th percentile {p99:.3f} s under {TARGET_P99_SECONDS:.0f} s",
        ),
        (not missing, f"{len(missing)} alerts lost (none)"),
    ]
    for ok, text in checks:
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    print(f"(duplicates are allowed, at least once: {len(duplicated)})")
    return failures


# Main -------------------------------------------------------------------------------------


def run(args: argparse.Namespace, work: Path) -> int:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    worker = None
    log_path = work / "db_worker.log"
    try:
        env = common.production_env(
            DATABASE,
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(port),
            CLINIC_ALERT_EMAILS=ALERT_ADDRESS,
            CLINIC_BASE_URL="https://intake.example.org",
        )
        for key in (
            "CLINIC_ALERT_WEBHOOK_URL",
            "CLINIC_ALERT_WEBHOOK_SECRET",
            "CLINIC_ESCALATION_EMAILS",
            "EMAIL_HOST_USER",
            "EMAIL_HOST_PASSWORD",
            "EMAIL_USE_TLS",
            "EMAIL_TIMEOUT",
        ):
            env.pop(key, None)
        common.use_environment(env)
        from django.conf import settings

        if settings.TASKS["default"]["BACKEND"] != "django_tasks_db.DatabaseBackend":
            raise SystemExit(f"not the database task backend: {settings.TASKS}")

        worker = start_worker(env, log_path)
        print(
            f"worker: manage.py db_worker --no-reload (pid {worker.pid}), "
            f"polling interval 1 s (the default, as deploy/systemd/clinic-worker.service)"
        )

        common.heading(f"Warm-up: {args.warmup} emergencies, waited for")
        warm = submit_all(args.warmup, 0.2, 0.2, 60, args.seed + 1, 900_000)
        missing = inbox.wait_for(set(warm), time.monotonic() + 90)
        check_worker(worker, log_path)
        if missing:
            raise SystemExit(
                f"the warm-up alerts never arrived ({len(missing)} of {len(warm)}); worker log:\n"
                + log_path.read_text()[-4000:]
            )
        print(f"all {len(warm)} arrived; {load_average()}")

        common.heading(f"{args.cases} emergencies, {args.min_gap_ms}-{args.max_gap_ms} ms apart")
        cpu_before, started = worker_cpu(worker), time.monotonic()
        committed = submit_all(
            args.cases,
            args.min_gap_ms / 1000,
            args.max_gap_ms / 1000,
            args.max_seconds,
            args.seed,
            0,
        )
        submitted_for = time.monotonic() - started
        print(
            f"submitted {len(committed)} in {submitted_for:.1f} s "
            f"({len(committed) / submitted_for:.1f}/s); {load_average()}"
        )
        missing = inbox.wait_for(set(committed), time.monotonic() + args.deadline)
        drained_for = time.monotonic() - started
        # Time for a duplicate to show up, if the worker were to send one.
        time.sleep(2)
        check_worker(worker, log_path)
        cpu_used = worker_cpu(worker) - cpu_before
        print(
            f"last alert accepted {drained_for:.1f} s after the first submission; "
            f"worker CPU {cpu_used:.1f} s ({cpu_used / len(committed) * 1000:.0f} ms "
            f"per alert); {load_average()}"
        )
        tasks = task_times(set(committed))
        print(f"email deliveries of these cases: {delivery_states(set(committed))}")
        return report(committed, inbox, missing, tasks)
    finally:
        if worker is not None:
            stop_worker(worker)
        controller.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200, help="emergencies measured")
    parser.add_argument("--min-gap-ms", type=int, default=50)
    parser.add_argument("--max-gap-ms", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument(
        "--max-seconds", type=float, default=120, help="stop submitting after this long"
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=120,
        help="seconds after the last submission before a missing alert counts as lost",
    )
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    if not 0 <= args.min_gap_ms <= args.max_gap_ms or args.cases < 1:
        parser.error("need --cases >= 1 and 0 <= --min-gap-ms <= --max-gap-ms")

    common.heading(f"Submission to alert accepted: {DATABASE}")
    print(f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(common.machine_description())
    print(common.python_speed())
    print(load_average())
    common.create_database(DATABASE)
    try:
        common.migrate(DATABASE)
        with tempfile.TemporaryDirectory(prefix="clinic-bench-alerts-") as work:
            failures = run(args, Path(work))
    finally:
        common.drop_database(DATABASE)
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
