"""Health endpoints for load balancers: /healthz (process up) and /readyz (can serve).

Answered by a middleware at the very top of the stack, before host checks,
HTTPS redirects or sessions: a load balancer probes by IP over plain HTTP and
must get the truth, not a redirect or a 400. The answers never include
settings, versions or patient data.
"""

import json
import logging

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse

logger = logging.getLogger(__name__)

_migrations_known_applied = False


def _json(payload: dict, status: int) -> HttpResponse:
    response = HttpResponse(json.dumps(payload), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def _database_ok() -> bool:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        logger.warning("Readiness: database unreachable")
        return False


def _migrations_applied() -> bool:
    # Once applied, they stay applied for this version of the code.
    global _migrations_known_applied
    if _migrations_known_applied:
        return True
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return False
    _migrations_known_applied = not plan
    return _migrations_known_applied


def readiness() -> tuple[dict, int]:
    database = _database_ok()
    migrations = database and _migrations_applied()
    checks = {
        "database": "ok" if database else "unreachable",
        "migrations": "ok" if migrations else ("pending" if database else "unknown"),
    }
    ready = database and migrations
    return {"status": "ready" if ready else "unavailable", "checks": checks}, 200 if ready else 503


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD"):
            if request.path == "/healthz":
                return _json({"status": "ok"}, 200)
            if request.path == "/readyz":
                payload, status = readiness()
                return _json(payload, status)
        return self.get_response(request)
