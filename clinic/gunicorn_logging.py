"""gunicorn's logger, with an access line that costs less to write.

For every request, gunicorn's stock logger collects every field its access log
format could name: all request and response headers and the whole WSGI
environ, each copied and escaped, plus a formatted timestamp. That was about a
tenth of the app's CPU per questionnaire page (docs/performance.md). This
logger collects only the fields that ``access_log_format`` uses, with the same
values and escaping, so each line is exactly what the stock logger would have
written. A format that names a field not collected here falls back to the
stock collection, so any format still works.
"""

import re

from gunicorn import glogging

# The fields (gunicorn's "atoms") collected cheaply; the names are gunicorn's.
LEAN_ATOMS = frozenset({"h", "m", "U", "s", "B", "b", "M", "D", "a", "f"})
ATOM_PATTERN = re.compile(r"%\(([^)]+)\)")


def format_atoms(access_log_format: str) -> set[str]:
    """The names of the fields a gunicorn access log format uses."""
    return set(ATOM_PATTERN.findall(access_log_format))


class Logger(glogging.Logger):
    def setup(self, cfg):
        super().setup(cfg)
        self.lean_atoms = format_atoms(cfg.access_log_format) <= LEAN_ATOMS

    def atoms(self, resp, req, environ, request_time):
        if not self.lean_atoms:
            return super().atoms(resp, req, environ, request_time)
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        return {
            "h": environ.get("REMOTE_ADDR", "-"),
            "m": environ.get("REQUEST_METHOD"),
            "U": environ.get("PATH_INFO"),
            "s": status,
            "B": sent,
            "b": sent is not None and str(sent) or "-",
            "M": request_time.seconds * 1000 + int(request_time.microseconds / 1000),
            "D": request_time.seconds * 1000000 + request_time.microseconds,
            "a": environ.get("HTTP_USER_AGENT", "-"),
            "f": environ.get("HTTP_REFERER", "-"),
        }
