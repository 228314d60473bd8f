"""Shared helpers for the benchmark scripts: databases, environments, the machine.

Every benchmark works on its own PostgreSQL databases whose names start with
``clinic_bench``; nothing here ever touches ``db.sqlite3`` or the ``clinic``
database the test suite uses.
"""

import argparse
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
#: The PostgreSQL server, without a database name (trust auth, user postgres).
SERVER_URL = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432").rstrip("/")
BENCH_PREFIX = "clinic_bench"


def bench_database_name(name: str) -> str:
    """Refuse any database that is not a benchmark's own."""
    if not name.startswith(BENCH_PREFIX) or not name.replace("_", "").isalnum():
        raise SystemExit(
            f"Refusing database {name!r}: benchmark databases are named {BENCH_PREFIX}..."
        )
    return name


def database_url(name: str) -> str:
    return f"{SERVER_URL}/{bench_database_name(name)}"


def admin_connection() -> psycopg.Connection:
    """A connection to the maintenance database, for CREATE/DROP DATABASE."""
    return psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True, connect_timeout=10)


def database_exists(name: str) -> bool:
    with admin_connection() as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


def drop_database(name: str) -> None:
    with admin_connection() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(bench_database_name(name))
            )
        )


def create_database(name: str) -> None:
    """A new, empty database (an old one of the same name is dropped first)."""
    drop_database(name)
    with admin_connection() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def development_env(database: str) -> dict[str, str]:
    """Environment for management commands against a benchmark database."""
    return {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": database_url(database),
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
    }


def production_env(database: str, static_root: str | None = None, **extra: str) -> dict[str, str]:
    """Production-like settings (README "Deploying"), on a benchmark database.

    Debug off with a real random secret key, the database task backend (the
    alert is a row written with the case), HTTPS redirect off because there is
    no TLS proxy in front, and the client address read from X-Forwarded-For as
    behind one proxy on this machine (the virtual patients each send their own
    from 127.0.0.1, so the questionnaire's rate limit counts them as it would
    count real patients).
    ``bench.settings`` only moves STATIC_ROOT.
    """
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url(database),
        "CLINIC_TRUSTED_PROXIES": "127.0.0.1",
        "CLINIC_TASK_BACKEND": "database",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "bench.settings",
    }
    if static_root:
        env["BENCH_STATIC_ROOT"] = static_root
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, quiet: bool = True, root: Path = ROOT) -> None:
    """Run the work tree ``root``'s manage.py with ``env``; stop with its output if it fails."""
    result = subprocess.run(  # noqa: S603 - our own manage.py, our own arguments
        [PYTHON, "manage.py", *args],
        cwd=root,
        env=env,
        capture_output=quiet,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def migrate(database: str, root: Path = ROOT) -> None:
    env = development_env(database)
    manage(env, "migrate", "--noinput", "-v0", root=root)
    manage(env, "createcachetable", root=root)


def migrated(database: str) -> bool:
    """Whether ``database`` has every migration of this checkout (``migrate --check``)."""
    check = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "migrate", "--check"],
        cwd=ROOT,
        env=development_env(database),
        capture_output=True,
        check=False,
    )
    return check.returncode == 0


def use_environment(env: dict[str, str]) -> None:
    """Configure Django in this process from ``env`` (before django.setup())."""
    for key in ("DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"):
        os.environ.pop(key, None)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0.95 for p95)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(int(round(fraction * len(ordered) + 0.5)) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


#: Steps of the fixed pure-Python loop that gauges the machine (python_speed).
SPEED_LOOP_STEPS = 3_000_000


def _speed_loop(_: int = 0) -> float:
    """CPU seconds this process takes for a fixed loop of plain Python arithmetic."""
    started = time.process_time()
    total = 0
    for number in range(SPEED_LOOP_STEPS):
        total += number
    return time.process_time() - started


def python_speed() -> str:
    """How fast this machine runs plain Python: one core alone, then every core at once.

    Machines of the same kind differ by several times in this, and the two
    cores of a shared machine can slow each other down; the app's CPU per
    request scales with it. Printed with the results so runs on different
    machines can be compared.
    """
    alone = min(_speed_loop() for _ in range(3))
    cores = os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=cores) as pool:
        busy = max(pool.map(_speed_loop, range(cores)))
    return (
        f"plain Python: a fixed loop of {SPEED_LOOP_STEPS:,} steps took {alone * 1000:.0f} ms "
        f"of CPU on one core alone, {busy * 1000:.0f} ms with all {cores} cores running it"
    )


def machine_description() -> str:
    """CPU, cores, memory, OS, Python and PostgreSQL versions, for the results."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    except OSError:
        pass
    try:
        with admin_connection() as conn:
            postgres = conn.execute("SHOW server_version").fetchone()[0]
            shared_buffers = conn.execute("SHOW shared_buffers").fetchone()[0]
    except psycopg.Error:
        postgres, shared_buffers = "unreachable", "?"
    import django

    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"PostgreSQL {postgres} (shared_buffers {shared_buffers}, server defaults)"
    )


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


def collect_static(static_root: str, database: str, root: Path = ROOT) -> None:
    """collectstatic as the deployment does (whitenoise's compressed manifest storage)."""
    env = production_env(database, static_root=static_root)
    manage(env, "collectstatic", "--noinput", "-v0", root=root)


def two_sizes_arguments(
    doc: str, argv: list[str] | None, *, rounds: int, rounds_help: str, warmup: int
) -> argparse.Namespace:
    """The options of a benchmark run at two seeded sizes; both databases must exist."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--small", default=f"{BENCH_PREFIX}_1000")
    parser.add_argument("--large", default=f"{BENCH_PREFIX}_1000000")
    parser.add_argument("--rounds", type=int, default=rounds, help=rounds_help)
    parser.add_argument("--warmup", type=int, default=warmup)
    args = parser.parse_args(argv)
    for name in (args.small, args.large):
        bench_database_name(name)
        if not database_exists(name):
            raise SystemExit(
                f"{name} does not exist: run bench.seed first (see docs/performance.md)"
            )
    return args


class Targets:
    """The "Targets" section of a benchmark's output: PASS or FAIL a line, failures counted."""

    def __init__(self) -> None:
        heading("Targets")
        self.failures = 0

    def check(self, ok: bool, text: str) -> None:
        self.failures += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {text}")


def two_size_connections(small: str, large: str) -> dict:
    """Django's default connection for ``small`` and a copy of it for ``large``.

    A benchmark switches between them by assigning ``connections["default"]``.
    """
    from django.db import connections

    base = connections["default"]
    return {
        small: base,
        large: type(base)({**base.settings_dict, "NAME": large}, alias="default"),
    }


def run_at_two_sizes(
    title: str, run, args: argparse.Namespace, *, static: bool = True, speed: bool = False
) -> None:
    """Serve the app's settings for production over the small database and ``run`` it.

    ``run(small, large, rounds, warmup)`` returns its number of failures, the
    exit status. ``static``: collect static files first (pages that render
    them); ``speed``: print how fast this machine runs plain Python too.
    """
    heading(f"{title}: {args.small} and {args.large}")
    print(machine_description())
    if speed:
        print(python_speed())
    with tempfile.TemporaryDirectory(prefix="clinic-bench-static-") as static_root:
        if static:
            collect_static(static_root, args.small)
        use_environment(production_env(args.small, static_root=static_root))
        failures = run(args.small, args.large, args.rounds, args.warmup)
    raise SystemExit(1 if failures else 0)
