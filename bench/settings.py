"""The project's own settings, for benchmarks only.

Identical to ``clinic.settings`` except that the collected static files go to
``BENCH_STATIC_ROOT`` (a temporary folder made by the benchmark) instead of the
work tree's ``staticfiles/``, and that ``BENCH_CONN_HEALTH_CHECKS=0`` turns the
per-request connection check off for an experiment. Everything else, including DEBUG, the database
and the task backend, comes from the same environment variables as production.
"""

import os

from clinic.settings import *  # noqa: F403
from clinic.settings import STATIC_ROOT as _PROJECT_STATIC_ROOT

STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT") or _PROJECT_STATIC_ROOT

# An experiment only (bench.cpu_ratio --env BENCH_CONN_HEALTH_CHECKS=0): what the
# per-request connection check costs. Production keeps it (docs/performance.md).
if os.environ.get("BENCH_CONN_HEALTH_CHECKS") == "0":
    for _database in DATABASES.values():  # noqa: F405
        _database["CONN_HEALTH_CHECKS"] = False
