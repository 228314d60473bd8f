"""The questionnaire's CPU as a ratio to a floor: the same number of landing-page requests.

    .venv/bin/python -m bench.cpu_ratio                          # 400 questionnaires, 20 rounds
    .venv/bin/python -m bench.cpu_ratio --questionnaires 1000 --rounds 40 --clients 2
    .venv/bin/python -m bench.cpu_ratio --env CLINIC_RATELIMIT=0   # what a setting changes

The app is served as in bench/load.py (gunicorn with the repository's
gunicorn.conf.py, production-like settings, a fresh PostgreSQL database
``clinic_bench_cpu_ratio``). In the same run it measures the app server's
CPU (the gunicorn process tree, psutil) for two things:

* **the questionnaire**: N complete questionnaires, each a new patient
  (no cookies, a unique phone number, random plausible answers) walked by
  ``bench.walker`` from ``/intake/`` to ``/intake/done/``: every page's form
  filled in and sent, every redirect followed, whatever the pages are (steps,
  a "check your answers" page, ...);
* **the floor**: the same number of requests, all ``GET /`` (the landing
  page) by new visitors, through the same middleware, server and client.

and prints the app's CPU per completed questionnaire, the floor's CPU for the
same number of requests, and their ratio (target: 1.5 or less). The floor is
what any page costs at least (Django, every middleware, gunicorn, a
connection per request); the ratio is what the questionnaire's own views,
forms, queries and templates add on top, and unlike an absolute rate it does
not depend on how fast this session's machine happens to be.

The two are measured in alternating rounds (questionnaires then floor, then
floor then questionnaires, ...), so a change in the machine's speed during
the run falls on both; the ratio of the sums is reported, with each round's
ratio to show the spread. Short rounds follow the machine's swings closely.

One patient at a time by default (``--clients``): gunicorn keeps its workers
(gunicorn.conf.py), but no two requests compete for the two cores, so each
request's CPU is least disturbed by the rest of the run. More at a time give
the same ratio within the noise and make it noisier (docs/performance.md).
PostgreSQL's CPU for the same work is printed for scale.
"""

import argparse
import contextlib
import gzip
import http.client
import json
import random
import shutil
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import psutil

from . import common
from .compare import parse_env
from .load import serve_app, stop, tree_cpu, wait_until_ready
from .patients import patient_address, questionnaire
from .walker import CASE_REFERENCE, Answer, Request, flat_answers, walk

DATABASE = f"{common.BENCH_PREFIX}_cpu_ratio"
PORT = 8126
#: Target from issue 19: the questionnaire at most 1.5 times the floor.
MAX_RATIO = 1.5
FLOOR_PATH = "/"
USER_AGENT = "clinic-bench/cpu-ratio"


class Visitor:
    """A browser without JavaScript behind the TLS proxy: cookies kept, one request at a time."""

    def __init__(self, port: int, address: str):
        self.port = port
        self.address = address
        self.cookies: dict[str, str] = {}

    def send(self, request: Request) -> Answer:
        body = urlencode(request.form).encode() if request.form is not None else None
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "User-Agent": USER_AGENT,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
            "Referer": f"https://127.0.0.1:{self.port}{request.path}",
            "Accept-Encoding": "gzip",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Origin"] = f"https://127.0.0.1:{self.port}"
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        # gunicorn's sync workers close the connection after every response.
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(request.method, request.path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for morsel in SimpleCookie(header).values():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(morsel.key, None)
                else:
                    self.cookies[morsel.key] = morsel.value
        if response.headers.get("Content-Encoding", "") == "gzip":
            raw = gzip.decompress(raw)
        return Answer(response.status, response.headers.get("Location", ""), raw.decode())


@contextlib.contextmanager
def measured(app: psutil.Process, database: str, into: dict[str, float]):
    """Add the CPU seconds the app and the database's backends use inside the block."""
    app_before, db_before = tree_cpu(app), postgres_cpu(database)
    yield
    into["app"] += tree_cpu(app) - app_before
    db_after = postgres_cpu(database)
    # A backend that started inside the block counts in full; one that ended is lost
    # (gunicorn's workers keep their connections, so that is rare).
    into["postgres"] += sum(
        max(used - db_before.get(pid, 0.0), 0.0) for pid, used in db_after.items()
    )


def postgres_cpu(database: str) -> dict[int, float]:
    """CPU seconds of each live PostgreSQL backend connected to ``database``, by pid."""
    found = {}
    for process in psutil.process_iter(["name", "cmdline"]):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            if process.info["name"] == "postgres" and f" {database} " in " ".join(
                process.info["cmdline"] or []
            ):
                times = process.cpu_times()
                found[process.pid] = times.user + times.system
    return found


class Run:
    def __init__(self, port: int, clients: int, seed: int):
        self.port = port
        self.clients = clients
        self.rng = random.Random(seed)  # noqa: S311 - fake patients
        self.numbers = iter(range(1, 10_000_000))
        self.names: Counter[str] = Counter()
        self.references: list[str] = []
        self.lock = threading.Lock()

    def one_questionnaire(self, number: int, answers: dict[str, str]) -> int:
        visitor = Visitor(self.port, patient_address("2", number))

        def send(request: Request) -> Answer:
            with self.lock:
                self.names[request.name] += 1
            return visitor.send(request)

        text, sent = walk(send, answers)
        found = CASE_REFERENCE.search(text)
        if not found:
            raise SystemExit("the done page shows no case reference")
        self.references.append(found.group(1))
        return sent

    def questionnaires(self, count: int) -> int:
        """``count`` complete questionnaires, ``clients`` at a time; the requests they sent."""
        jobs = []
        for _ in range(count):
            number = next(self.numbers)
            answers = flat_answers(questionnaire(self.rng, f"555 2{number:07d}"))
            jobs.append((number, answers))
        with ThreadPoolExecutor(self.clients) as pool:
            return sum(pool.map(lambda job: self.one_questionnaire(*job), jobs))

    def floor(self, count: int) -> None:
        """``count`` landing-page requests by new visitors, ``clients`` at a time."""

        def visit(number: int) -> None:
            answer = Visitor(self.port, patient_address("3", number)).send(
                Request("GET", FLOOR_PATH, None, "GET /")
            )
            if answer.status != 200:
                raise SystemExit(f"GET {FLOOR_PATH}: {answer.status}")

        with ThreadPoolExecutor(self.clients) as pool:
            list(pool.map(visit, range(count)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questionnaires", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=20, help="questionnaires first, unmeasured")
    parser.add_argument("--clients", type=int, default=1, help="patients at a time")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py)")
    parser.add_argument("--results", help="also write the numbers here (JSON), for python -m bench")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="serve with this setting too, to see what it changes (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.questionnaires < args.rounds:
        raise SystemExit("--questionnaires must be at least --rounds")

    common.heading(
        f"Questionnaire CPU / landing-page floor: {args.questionnaires} questionnaires "
        f"in {args.rounds} rounds"
    )
    print(common.machine_description())
    print(common.python_speed())
    work = Path(tempfile.mkdtemp(prefix="clinic-bench-cpu-ratio-"))
    extra = {"GUNICORN_WORKERS": str(args.workers)} if args.workers else {}
    extra.update(parse_env(args.env))
    if args.env:
        print(f"with {' '.join(args.env)}")
    gunicorn = serve_app(DATABASE, work, port=PORT, **extra)
    try:
        wait_until_ready(f"http://127.0.0.1:{PORT}")
        app = psutil.Process(gunicorn.pid)
        workers = settled_workers(app)
        clients = args.clients
        print(
            f"gunicorn: {workers} sync workers, bench.settings, DEBUG off; "
            f"{clients} patients at a time"
        )
        run = Run(PORT, clients, seed=19)
        warm_requests = run.questionnaires(args.warmup)
        run.floor(warm_requests)
        run.names.clear()
        rounds = []
        base, extra_one = divmod(args.questionnaires, args.rounds)
        for number in range(args.rounds):
            count = base + (number < extra_one)
            previous = rounds[-1] if rounds else None
            rounds.append(
                measure_round(run, app, count, floor_first=number % 2 == 1, previous=previous)
            )
        stop(gunicorn)
        ok, numbers = report(run, rounds, args)
        if args.results:
            Path(args.results).write_text(json.dumps(numbers))
    finally:
        stop(gunicorn)  # again if the walk failed; does nothing if it has stopped
        common.drop_database(DATABASE)
        shutil.rmtree(work, ignore_errors=True)
    raise SystemExit(0 if ok else 1)


def settled_workers(app: psutil.Process) -> int:
    """gunicorn's workers once all have started (it answers before the last one is up)."""
    count, steady_since = -1, time.monotonic()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = len(app.children())
        if now != count:
            count, steady_since = now, time.monotonic()
        elif time.monotonic() - steady_since >= 2:
            break
        time.sleep(0.2)
    return count


def measure_round(
    run: Run, app: psutil.Process, count: int, *, floor_first: bool, previous: dict | None
) -> dict:
    """``count`` questionnaires and as many landing-page requests as they sent, each measured."""
    form, floor = {"app": 0.0, "postgres": 0.0}, {"app": 0.0, "postgres": 0.0}
    if not floor_first:
        with measured(app, DATABASE, form):
            requests = run.questionnaires(count)
        with measured(app, DATABASE, floor):
            run.floor(requests)
    else:
        # The floor goes first, so its count is estimated from the round before
        # (the same walk: nearly always exact), and its CPU is scaled to the
        # count the questionnaires then sent.
        estimated = round(previous["requests"] * count / previous["count"])
        with measured(app, DATABASE, floor):
            run.floor(estimated)
        with measured(app, DATABASE, form):
            requests = run.questionnaires(count)
        for part in floor:
            floor[part] *= requests / estimated
    return {"count": count, "requests": requests, "form": form, "floor": floor}


def report(run: Run, rounds: list[dict], args: argparse.Namespace) -> tuple[bool, dict]:
    """Print the numbers; whether the ratio meets the target, and the main numbers."""
    completed = sum(r["count"] for r in rounds)
    requests = sum(r["requests"] for r in rounds)
    if len(run.references) != args.warmup + completed:
        raise SystemExit(f"{len(run.references)} references shown, expected more")
    per_questionnaire = requests / completed
    names = ", ".join(f"{name} {count / completed:g}" for name, count in run.names.items())
    print(f"one questionnaire: {per_questionnaire:g} requests on average ({names})")
    print(
        f"{'round':<7}{'order':<26}{'questionnaires':>15}{'requests':>10}"
        f"{'questionnaire CPU s':>21}{'floor CPU s':>13}{'ratio':>8}"
    )
    for number, r in enumerate(rounds, start=1):
        order = "questionnaires, floor" if number % 2 else "floor, questionnaires"
        print(
            f"{number:<7}{order:<26}{r['count']:>15}{r['requests']:>10}"
            f"{r['form']['app']:>21.2f}{r['floor']['app']:>13.2f}"
            f"{r['form']['app'] / r['floor']['app']:>8.2f}"
        )
    form_app = sum(r["form"]["app"] for r in rounds)
    floor_app = sum(r["floor"]["app"] for r in rounds)
    form_db = sum(r["form"]["postgres"] for r in rounds)
    floor_db = sum(r["floor"]["postgres"] for r in rounds)
    ratio = form_app / floor_app
    print(
        f"app (gunicorn) CPU per completed questionnaire: {form_app / completed * 1000:.1f} ms "
        f"({per_questionnaire:g} requests, {form_app / requests * 1000:.2f} ms each)"
    )
    print(
        f"floor, the same {per_questionnaire:g} requests to the landing page: "
        f"{floor_app / completed * 1000:.1f} ms ({floor_app / requests * 1000:.2f} ms each)"
    )
    print(
        f"PostgreSQL backends, for scale: {form_db / completed * 1000:.1f} ms per questionnaire, "
        f"{floor_db / completed * 1000:.1f} ms for the floor's requests"
    )
    ratios = [r["form"]["app"] / r["floor"]["app"] for r in rounds]
    print(
        f"ratio questionnaire / floor: {ratio:.2f}x "
        f"(rounds {min(ratios):.2f}x to {max(ratios):.2f}x)"
    )
    common.heading("Target")
    ok = ratio <= MAX_RATIO
    print(
        f"{'PASS' if ok else 'FAIL'}  questionnaire CPU {ratio:.2f}x the landing-page floor "
        f"(at most {MAX_RATIO}x)"
    )
    return ok, {
        "ratio": ratio,
        "questionnaire_ms": form_app / completed * 1000,
        "floor_ms": floor_app / completed * 1000,
        "requests_per_questionnaire": per_questionnaire,
        "max_ratio": MAX_RATIO,
    }


if __name__ == "__main__":
    main()
