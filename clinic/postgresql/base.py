"""Django's PostgreSQL backend with a health check that needs no round trip.

With ``CONN_HEALTH_CHECKS`` on, Django checks a kept connection before the
first query of each request, so a connection the server has dropped (a
restart, a failover, an administrator ending it) is replaced instead of
failing the patient's request. Django's check sends ``SELECT 1`` and waits for
the answer: one more statement on every request, about a third of all the
statements a questionnaire runs (docs/performance.md).

A server that drops a connection tells the client: PostgreSQL sends an error
("terminating connection ...") and closes the socket, or the operating system
closes it if the server process died. Either way the idle connection's socket
has something to read. So this check first looks at the socket without
waiting. Nothing to read: the server has said nothing since the last answer,
and the connection is used as is. Anything to read, or a connection not
plainly idle: Django's ``SELECT 1`` decides, exactly as before.

What no check can see (a server that vanished without a word, a network cut)
stays what it was with ``SELECT 1``: the query itself fails, and the patient
gets the "could not save, your answers are kept" page.
"""

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        pgconn = connection.pgconn
        if (
            pgconn.status != pq.ConnStatus.OK
            or pgconn.transaction_status != pq.TransactionStatus.IDLE
            or _has_input(pgconn)
        ):
            return super().is_usable()
        return True


def _has_input(pgconn: pq.abc.PGconn) -> bool:
    """Whether the connection's socket has anything to read (or is closed), without waiting.

    poll() reports a closed or failed socket too, whatever events are asked for.
    """
    try:
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except (OSError, psycopg.Error):
        return True  # let the server round trip decide
