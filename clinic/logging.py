"""Logging filters that keep patient data out of the logs."""

import logging
import traceback

from django.db import DatabaseError


class WithholdDatabaseErrorDetails(logging.Filter):
    """Keep the traceback of a database error but drop its message.

    Database errors quote the values involved (PostgreSQL's "Key (...)=(...)
    already exists" names a patient), so only the error's type and where it
    happened reach the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], DatabaseError):
            error_type, _error, tb = record.exc_info
            frames = "".join(traceback.format_tb(tb))
            record.exc_info = None
            record.exc_text = (
                f"Traceback (most recent call last):\n{frames}"
                f"{error_type.__module__}.{error_type.__qualname__}: "
                "(message withheld: it may contain patient data)"
            )
        return True
