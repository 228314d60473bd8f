"""The PostgreSQL connection health check: no round trip for a healthy idle
connection, and a connection the server ended is replaced before it is used."""

import select

import pytest
from django.db import connection, connections

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the health check belongs to PostgreSQL"
    ),
]


@pytest.fixture
def kept_connection():
    """A second connection to the test database, as a gunicorn worker keeps one."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def last_statement(backend_pid: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [backend_pid])
        return cursor.fetchone()[0]


def test_the_project_uses_the_backend_with_the_cheap_check():
    assert type(connections["default"]).__module__ == "clinic.postgresql.base"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_healthy_idle_connection_is_usable_without_asking_the_server(kept_connection):
    with kept_connection.cursor() as cursor:
        cursor.execute("SELECT 'the last statement before the check'")
    pid = kept_connection.connection.info.backend_pid

    assert kept_connection.is_usable() is True
    assert last_statement(pid) == "SELECT 'the last statement before the check'"


def test_a_connection_inside_a_transaction_is_checked_by_the_server(kept_connection):
    kept_connection.connection.execute("BEGIN")
    pid = kept_connection.connection.info.backend_pid

    assert kept_connection.is_usable() is True
    assert last_statement(pid) == "SELECT 1"
    kept_connection.connection.execute("ROLLBACK")


def test_a_connection_the_server_ended_is_replaced_before_the_next_request(kept_connection):
    ended_pid = kept_connection.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [ended_pid])
        assert cursor.fetchone()[0] is True
    # The server's goodbye reaches the socket (waited for, not timed).
    poller = select.poll()
    poller.register(kept_connection.connection.pgconn.socket, select.POLLIN)
    assert poller.poll(10_000)

    assert kept_connection.is_usable() is False
    # What Django does at the start of a request, then at its first query.
    kept_connection.close_if_unusable_or_obsolete()
    with kept_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        new_pid = cursor.fetchone()[0]
    assert new_pid != ended_pid


def test_a_closed_connection_is_not_usable(kept_connection):
    kept_connection.connection.close()
    assert kept_connection.is_usable() is False
