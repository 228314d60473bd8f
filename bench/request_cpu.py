"""Where the app's CPU goes per questionnaire request, measured in one process.

    .venv/bin/python -m bench.request_cpu                  # 200 questionnaires
    .venv/bin/python -m bench.request_cpu --questionnaires 500

The load benchmark (bench/load.py) says how much CPU the app needs per
complete questionnaire; this says which request spends it. Each of the
eleven requests of a questionnaire is sent through the whole Django stack
(every middleware, production settings, DEBUG off, PostgreSQL) by Django's
test client in this process, and timed with ``time.process_time``: CPU, not
wall time, so the numbers hold up on a busy machine better than latencies do.
Also counted: the SQL statements each request runs. For scale, three
requests that need no database: the health check (answered by the first
middleware), the landing page and a 404 page.

What it leaves out: gunicorn's own work (accepting the connection, parsing
the request, the access log) and Django's per-request connection health
check, which the test client does not run; bench/load.py's figure includes
them. The test client adds a little of its own instead.
"""

import argparse
import random
import shutil
import tempfile
import time
from collections import defaultdict
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from . import common

DATABASE = f"{common.BENCH_PREFIX}_request_cpu"
FLOOR_PATHS = {"/healthz": 200, "/": 200, "/no-such-page/": 404}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questionnaires", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)

    common.heading(f"CPU per request: {args.questionnaires} questionnaires in one process")
    print(common.machine_description())
    print(common.python_speed())
    common.create_database(DATABASE)
    common.migrate(DATABASE)
    static_root = tempfile.mkdtemp(prefix="clinic-bench-request-cpu-")
    common.collect_static(static_root, DATABASE)
    common.use_environment(common.production_env(DATABASE, static_root=static_root))

    from django.db import connection
    from django.test import Client

    from bench.patients import CSRF_FIELD, page_name, patient_address, questionnaire, step_path
    from tests.intake.questionnaire import STEP_ORDER

    cpu: dict[str, list[float]] = defaultdict(list)
    statements: dict[str, list[int]] = defaultdict(list)
    rng = random.Random(7)  # noqa: S311 - fake patients

    def timed(name: str, send, expected: int):
        executed = []

        def count(execute, sql, params, many, context):
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started = time.process_time()
            response = send()
            took = time.process_time() - started
        if response.status_code != expected:
            raise SystemExit(f"{name}: {response.status_code} instead of {expected}")
        cpu[name].append(took * 1000)
        statements[name].append(len(executed))
        return response

    # One client (one handler, as one gunicorn worker has); each patient gets
    # an empty cookie jar, like a new browser.
    browser = Client(HTTP_X_FORWARDED_PROTO="https")

    def fill_in(number: int) -> None:
        browser.cookies = SimpleCookie()
        # Each patient at their own address, as the TLS proxy passes it on.
        browser.defaults["HTTP_X_FORWARDED_FOR"] = patient_address("1", number)
        answers = questionnaire(rng, f"555 3{number:07d}")
        response = timed("GET step 1", lambda: browser.get("/intake/", secure=True), 200)
        for index, slug in enumerate(STEP_ORDER, start=1):
            token = CSRF_FIELD.search(response.text).group(1)
            body = urlencode({**answers[slug], "csrfmiddlewaretoken": token, "action": "next"})
            response = timed(
                f"POST step {index}",
                lambda slug=slug, body=body: browser.post(
                    step_path(slug),
                    body,
                    content_type="application/x-www-form-urlencoded",
                    secure=True,
                    HTTP_ORIGIN="https://testserver",
                ),
                302,
            )
            location = response["Location"]
            name = page_name(location, index + 1)
            response = timed(name, lambda where=location: browser.get(where, secure=True), 200)

    floor_client = Client(HTTP_X_FORWARDED_PROTO="https")
    for number in range(args.warmup):
        fill_in(9_000_000 + number)
        for path in FLOOR_PATHS:
            floor_client.get(path, secure=True)
    cpu.clear()
    statements.clear()
    for number in range(args.questionnaires):
        fill_in(number)
        for path, status in FLOOR_PATHS.items():
            timed(f"({path})", lambda path=path: floor_client.get(path, secure=True), status)

    order = ["GET step 1"]
    for index in range(1, len(STEP_ORDER) + 1):
        order.append(f"POST step {index}")
        order.append("GET confirmation" if index == len(STEP_ORDER) else f"GET step {index + 1}")
    print(f"{'request':<22}{'median CPU ms':>14}{'mean CPU ms':>13}{'SQL statements':>16}")
    total_median = total_mean = 0.0
    for name in order:
        values = cpu[name]
        mean = sum(values) / len(values)
        total_median += common.median(values)
        total_mean += mean
        print(
            f"{name:<22}{common.median(values):>14.2f}{mean:>13.2f}"
            f"{common.median(statements[name]):>16.0f}"
        )
    print(f"{'one questionnaire':<22}{total_median:>14.1f}{total_mean:>13.1f}")
    print("for scale, requests that need no database:")
    for path in FLOOR_PATHS:
        name = f"({path})"
        print(f"{name:<22}{common.median(cpu[name]):>14.2f}")
    connection.close()
    common.drop_database(DATABASE)
    shutil.rmtree(static_root, ignore_errors=True)


if __name__ == "__main__":
    main()
