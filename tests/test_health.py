"""Load balancer probes: /healthz and /readyz."""

import json

import pytest
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from clinic import health


def test_healthz_answers_without_database_or_host_checks(client):
    response = client.get("/healthz", HTTP_HOST="10.1.2.3")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_readyz_checks_database_and_migrations(client):
    response = client.get("/readyz", HTTP_HOST="10.1.2.3")
    assert response.status_code == 200
    assert json.loads(response.content) == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok"},
    }


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_is_down(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(connections[DEFAULT_DB_ALIAS], "cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "unreachable"


@pytest.mark.django_db
def test_readyz_is_503_when_migrations_are_pending(client, monkeypatch):
    monkeypatch.setattr(health, "_migrations_known_applied", False)

    class PendingExecutor:
        def __init__(self, connection):
            self.loader = type("L", (), {"graph": type("G", (), {"leaf_nodes": lambda s: []})()})()

        def migration_plan(self, targets):
            return [("intake", "9999_future")]

    monkeypatch.setattr(health, "MigrationExecutor", PendingExecutor)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["migrations"] == "pending"


def test_health_answers_expose_no_settings(client):
    text = client.get("/healthz").content.decode()
    assert "SECRET" not in text and "DEBUG" not in text
