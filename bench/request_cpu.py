"""Where the app's CPU goes per questionnaire request, measured in one process.

    .venv/bin/python -m bench.request_cpu                  # 200 questionnaires
    .venv/bin/python -m bench.request_cpu --questionnaires 500
    .venv/bin/python -m bench.request_cpu --profile        # and where, by area and function

bench/cpu_ratio.py says how much CPU the served app needs per complete
questionnaire against the landing-page floor; this says which request spends
it, and (``--profile``) on what. Each request of a questionnaire, walked by
``bench/walker.py`` from the first step to the done page, whatever the pages
are, is sent through the whole Django stack (every middleware, production
settings, DEBUG off, PostgreSQL) by Django's test client in this process, and
timed with ``time.process_time``: CPU, not wall time, so the numbers hold up
on a busy machine better than latencies do. Also counted: the SQL statements
each request runs. For scale, the floor's request (the landing page, as
``bench.cpu_ratio`` uses it) and two that need no database: the health check
(answered by the first middleware) and a 404 page. The ratio printed at the
end is the in-process counterpart of ``bench.cpu_ratio``'s (no gunicorn).

``--profile`` runs the same walk again under cProfile, one profile per kind
of request, and prints for each the CPU by area (templates, forms, the ORM,
the database driver, middleware, our own apps...), split by the file each
function is defined in (its own time, not its callees'), then the functions
with the most own time. cProfile roughly doubles the time of every Python
call, so read its milliseconds as shares, and the timing table (taken
without it) as the real cost.

What it leaves out: gunicorn's own work (accepting the connection, parsing
the request, the access log) and Django's per-request connection health
check, which the test client does not run; bench/cpu_ratio.py's figure
includes them. The test client adds a little of its own instead.
"""

import argparse
import cProfile
import pstats
import random
import shutil
import tempfile
import time
from collections import defaultdict
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from . import common

DATABASE = f"{common.BENCH_PREFIX}_request_cpu"
FLOOR_PATH = "/"
OTHER_PATHS = {"/healthz": 200, "/no-such-page/": 404}

#: Where a function's own time is counted, by the first matching part of its file's path.
AREAS = (
    ("/django/template/", "Django templates"),
    ("/django/templatetags/", "Django templates"),
    ("/crispy_forms/", "crispy-forms"),
    ("/crispy_bootstrap5/", "crispy-forms"),
    ("/django/forms/", "Django forms and widgets"),
    ("/django/db/", "Django ORM"),
    ("/psycopg", "database driver (psycopg)"),
    ("/django/contrib/sessions/", "sessions"),
    ("/django/core/signing", "signing (sessions, CSRF)"),
    ("/django/middleware/", "Django middleware"),
    ("/django/utils/translation/", "translation"),
    ("/django/urls/", "URL resolving"),
    ("/django/http/", "request and response objects"),
    ("/django/core/handlers/", "request handling"),
    ("/django/test/", "test client (not in production)"),
    ("/django/contrib/", "other django.contrib"),
    ("/django/", "other Django"),
    ("/axes/", "django-axes"),
    ("/django_otp/", "django-otp"),
    ("/django_guid/", "django-guid"),
    ("/simple_history/", "django-simple-history"),
    ("/whitenoise/", "whitenoise"),
    ("/site-packages/", "other packages"),
    ("/intake/", "our code: intake"),
    ("/clinic/", "our code: clinic"),
    ("/audit/", "our code: audit"),
    ("/conditions/", "our code: conditions"),
    ("/bench/", "the benchmark"),
)


def area_of(filename: str) -> str:
    for part, area in AREAS:
        if part in filename:
            return area
    if filename.startswith("~") or filename.startswith("<"):
        return "built-ins (C: str, re, json, ...)"
    return "Python's standard library"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questionnaires", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="then profile the same walk")
    parser.add_argument(
        "--profile-questionnaires", type=int, default=100, help="walked under cProfile"
    )
    parser.add_argument("--top", type=int, default=15, help="functions listed per request")
    args = parser.parse_args(argv)

    common.heading(f"CPU per request: {args.questionnaires} questionnaires in one process")
    print(common.machine_description())
    print(common.python_speed())
    common.create_database(DATABASE)
    common.migrate(DATABASE)
    static_root = tempfile.mkdtemp(prefix="clinic-bench-request-cpu-")
    common.collect_static(static_root, DATABASE)
    common.use_environment(common.production_env(DATABASE, static_root=static_root))

    import logging

    from django.db import connection
    from django.test import Client

    # The 404s measured for scale would each log a warning.
    logging.getLogger("django.request").setLevel(logging.ERROR)

    from bench.patients import patient_address, questionnaire
    from bench.walker import Answer, Request, flat_answers, walk

    cpu: dict[str, list[float]] = defaultdict(list)
    statements: dict[str, list[int]] = defaultdict(list)
    profiles: dict[str, cProfile.Profile] = {}
    order: list[str] = []  # request names in the order first seen
    rng = random.Random(7)  # noqa: S311 - fake patients
    profiling = False

    def timed(name: str, send, expected: int | None = None):
        executed = []

        def count(execute, sql, params, many, context):
            executed.append(sql)
            return execute(sql, params, many, context)

        profile = None
        if profiling:  # CPU time, not wall time: waiting for PostgreSQL is not ours
            profile = profiles.setdefault(name, cProfile.Profile(time.process_time))
        with connection.execute_wrapper(count):
            if profile:
                profile.enable()
            started = time.process_time()
            response = send()
            took = time.process_time() - started
            if profile:
                profile.disable()
        if expected is not None and response.status_code != expected:
            raise SystemExit(f"{name}: {response.status_code} instead of {expected}")
        if name not in cpu:
            order.append(name)
        cpu[name].append(took * 1000)
        statements[name].append(len(executed))
        return response

    # One client (one handler, as one gunicorn worker has); each patient gets
    # an empty cookie jar, like a new browser.
    browser = Client(HTTP_X_FORWARDED_PROTO="https")

    def send(request: Request) -> Answer:
        if request.method == "GET":
            response = timed(request.name, lambda: browser.get(request.path, secure=True))
        else:
            body = urlencode(request.form)
            response = timed(
                request.name,
                lambda: browser.post(
                    request.path,
                    body,
                    content_type="application/x-www-form-urlencoded",
                    secure=True,
                    HTTP_ORIGIN="https://testserver",
                ),
            )
        return Answer(response.status_code, response.get("Location", ""), response.text)

    def fill_in(number: int) -> int:
        browser.cookies = SimpleCookie()
        # Each patient at their own address, as the TLS proxy passes it on.
        browser.defaults["HTTP_X_FORWARDED_FOR"] = patient_address("1", number)
        answers = flat_answers(questionnaire(rng, f"555 3{number:07d}"))
        _text, sent = walk(send, answers)
        return sent

    # The floor's visitors are new each time, like bench.cpu_ratio's: no cookies.
    visitor = Client(HTTP_X_FORWARDED_PROTO="https")

    def visit(path: str, status: int, name: str | None = None) -> None:
        visitor.cookies = SimpleCookie()
        timed(name or f"({path})", lambda: visitor.get(path, secure=True), status)

    def walk_all(count: int, first_number: int) -> int:
        requests = 0
        for number in range(count):
            sent = fill_in(first_number + number)
            requests += sent
            for _ in range(sent):
                visit(FLOOR_PATH, 200, "floor: GET /")
            for path, status in OTHER_PATHS.items():
                visit(path, status)
        return requests

    walk_all(args.warmup, 9_000_000)
    cpu.clear()
    statements.clear()
    order.clear()
    requests = walk_all(args.questionnaires, 0)

    walked = [name for name in order if not name.startswith(("(", "floor"))]
    print(
        f"{'request':<26}{'median CPU ms':>14}{'mean CPU ms':>13}{'per patient':>13}"
        f"{'SQL statements':>16}"
    )
    total = 0.0
    for name in walked:
        values = cpu[name]
        total += sum(values) / args.questionnaires
        print(
            f"{name:<26}{common.median(values):>14.2f}{sum(values) / len(values):>13.2f}"
            f"{len(values) / args.questionnaires:>13.2f}{common.median(statements[name]):>16.0f}"
        )
    per_questionnaire = requests / args.questionnaires
    print(f"{'one questionnaire':<26}{'':>14}{total:>13.1f}{per_questionnaire:>13.2f}")
    print("for scale:")
    for name in ["floor: GET /", *(f"({path})" for path in OTHER_PATHS)]:
        values = cpu[name]
        print(
            f"{name:<26}{common.median(values):>14.2f}{sum(values) / len(values):>13.2f}"
            f"{'':>13}{common.median(statements[name]):>16.0f}"
        )
    floor = sum(cpu["floor: GET /"]) / len(cpu["floor: GET /"]) * per_questionnaire
    print(
        f"in one process: questionnaire {total:.1f} ms / floor ({per_questionnaire:g} x GET /) "
        f"{floor:.1f} ms = {total / floor:.2f}x"
    )

    if args.profile:
        real = {name: sum(values) / len(values) for name, values in cpu.items()}
        profiling = True
        cpu.clear()
        statements.clear()
        order.clear()
        walk_all(args.profile_questionnaires, 5_000_000)
        report_profiles(profiles, order, cpu, real, args.profile_questionnaires, args.top)

    connection.close()
    common.drop_database(DATABASE)
    shutil.rmtree(static_root, ignore_errors=True)


def report_profiles(
    profiles: dict[str, cProfile.Profile],
    order: list[str],
    cpu: dict[str, list[float]],
    real: dict[str, float],
    questionnaires: int,
    top: int,
) -> None:
    """Own time by area and the busiest functions, per request of one questionnaire.

    cProfile's own clock calls cost more than most functions, so its totals are
    several times the real CPU; every figure is scaled by the request's real
    mean CPU (``real``, timed without the profiler) over its profiled total:
    shares from the profile, milliseconds from the timing.
    """
    areas: dict[str, dict[str, float]] = {}
    functions: dict[str, list[tuple[float, float, float, str]]] = {}
    names = [name for name in order if not name.startswith("(")]
    for name in names:
        stats = pstats.Stats(profiles[name]).stats
        by_area: dict[str, float] = defaultdict(float)
        rows = []
        whole = sum(own for _cc, _calls, own, _inclusive, _callers in stats.values())
        for (filename, line, function), (_cc, calls, own, inclusive, _callers) in stats.items():
            by_area[area_of(filename)] += own
            # A middleware's __call__ holds the whole request: not worth a line.
            wraps_everything = function == "__call__" and inclusive > 0.9 * whole
            if worth_listing(filename, function) and not wraps_everything:
                rows.append((inclusive, own, calls, f"{short(filename)}:{line}({function})"))
        per = len(cpu[name]) or 1
        scale = real[name] / (sum(by_area.values()) * 1000 / per)
        areas[name] = {area: seconds * 1000 / per * scale for area, seconds in by_area.items()}
        functions[name] = [
            (inclusive * 1000 / per * scale, own * 1000 / per * scale, calls / per, where)
            for inclusive, own, calls, where in sorted(rows, reverse=True)[:top]
        ]

    walked = [name for name in names if not name.startswith("floor")]
    common.heading(
        f"Profile (cProfile, {questionnaires} questionnaires): own CPU ms per request, by area"
    )
    print("(shares from cProfile, scaled to the CPU timed without it above)")
    all_areas = sorted(
        {area for name in names for area in areas[name]},
        key=lambda area: -sum(areas[name].get(area, 0.0) for name in walked),
    )
    columns = [*walked, "floor: GET /"]
    short_names = [
        name.removeprefix("floor: ").replace("warning-signs", "warn") for name in columns
    ]
    print(
        f"{'area':<34}" + "".join(f"{n[:12]:>13}" for n in short_names) + f"{'questionnaire':>15}"
    )
    for area in all_areas:
        values = [areas[name].get(area, 0.0) for name in columns]
        weights = [len(cpu[name]) / questionnaires for name in walked]
        whole = sum(v * w for v, w in zip(values, weights, strict=False))
        if whole < 0.05 and values[-1] < 0.05:
            continue
        print(f"{area:<34}" + "".join(f"{v:>13.2f}" for v in values) + f"{whole:>15.2f}")
    totals = [sum(areas[name].values()) for name in columns]
    weights = [len(cpu[name]) / questionnaires for name in walked]
    whole = sum(t * w for t, w in zip(totals, weights, strict=False))
    print(f"{'all':<34}" + "".join(f"{t:>13.2f}" for t in totals) + f"{whole:>15.2f}")

    for name in columns:
        common.heading(
            f"{name}: the {top} functions (ours and the packages') with the most CPU "
            "including what they call, ms per request (scaled)"
        )
        print(f"{'with callees':>12}{'own':>8}{'calls':>7}")
        for inclusive, own, calls, where in functions[name]:
            print(f"{inclusive:>12.3f}{own:>8.3f}{calls:>7.1f}  {where}")


#: Files whose functions only pass the request on: every request's time is "in" them.
PASS_THROUGH = (
    "/django/core/handlers/",
    "/django/utils/deprecation.py",
    "/django/test/",
    "/django/contrib/staticfiles/handlers.py",
    "/bench/",
    "/django/utils/decorators.py",
    "/django/views/decorators/",
    "/django/utils/functional.py",
    "/django/template/response.py",
    "/django/template/backends/",
    "/django/template/base.py",
    "/django/template/loader_tags.py",
    "/django/template/defaulttags.py",
    "/django/template/library.py",
    "/django/shortcuts.py",
    "/django/contrib/sessions/backends/",
)


def worth_listing(filename: str, function: str) -> bool:
    """Our code and the packages' functions, not the layers every request passes through."""
    ours = filename.startswith(str(common.ROOT)) or "/site-packages/" in filename
    passing = "middleware" in filename and function in ("__call__", "middleware")
    return ours and not passing and not any(part in filename for part in PASS_THROUGH)


def short(filename: str) -> str:
    """A function's file from its package down (site-packages and the work tree cut off)."""
    for marker in ("/site-packages/", str(common.ROOT) + "/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


if __name__ == "__main__":
    main()
