"""The lean access logger writes exactly the lines gunicorn's own logger writes."""

import datetime
import re
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn import glogging
from gunicorn.config import Config

from clinic import gunicorn_logging

ROOT = Path(__file__).resolve().parents[2]
PROJECT_FORMAT = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["access_log_format"]


def access_line(logger_class, access_log_format: str, log_path: Path, **request) -> str:
    config = Config()
    config.set("accesslog", str(log_path))
    config.set("access_log_format", access_log_format)
    logger = logger_class(config)
    environ = {
        "REMOTE_ADDR": "192.0.2.7",
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/intake/legs/",
        "QUERY_STRING": "q=secret",
        "RAW_URI": "/intake/legs/?q=secret",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_USER_AGENT": 'Mozilla/5.0 "quoted" (X11)',
        "HTTP_REFERER": "https://intake.example.org/intake/",
        **request.pop("environ", {}),
    }
    response = SimpleNamespace(
        status=request.pop("status", "302 Found"),
        sent=request.pop("sent", 1234),
        headers=[("Location", "/intake/pain/"), ("X-Request-ID", "abc")],
    )
    http_request = SimpleNamespace(headers=[("HOST", "intake.example.org"), ("X-FOO", "bar")])
    took = datetime.timedelta(seconds=1, microseconds=23_456)
    logger.access(response, http_request, environ, took)
    for handler in logger.access_log.handlers:
        handler.flush()
    lines = log_path.read_text().splitlines()
    logger.close_on_exec()
    return lines[-1]


@pytest.mark.parametrize(
    "access_log_format",
    [
        PROJECT_FORMAT,
        '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(D)sus "%(f)s" "%(a)s"',
        # Fields the lean logger does not collect: gunicorn's own collection is used.
        '%(h)s %(t)s "%(r)s" %(s)s "%({x-foo}i)s" "%({location}o)s" %(q)s %(L)s',
    ],
)
@pytest.mark.parametrize("sent", [1234, None])
def test_same_line_as_gunicorn(tmp_path, access_log_format, sent):
    stock = access_line(glogging.Logger, access_log_format, tmp_path / "stock.log", sent=sent)
    lean = access_line(gunicorn_logging.Logger, access_log_format, tmp_path / "lean.log", sent=sent)
    if "%(t)s" in access_log_format:
        # The timestamp may tick between the two lines; compare everything else.
        stock, lean = (re.sub(r"\[[^]]+\]", "[time]", line) for line in (stock, lean))
    assert lean == stock


def test_project_format_is_collected_lean_and_leaves_out_the_query_string(tmp_path):
    assert gunicorn_logging.format_atoms(PROJECT_FORMAT) <= gunicorn_logging.LEAN_ATOMS
    line = access_line(gunicorn_logging.Logger, PROJECT_FORMAT, tmp_path / "access.log")
    assert line == '192.0.2.7 "POST /intake/legs/" 302 1234 1023ms "Mozilla/5.0 \\"quoted\\" (X11)"'
    assert "secret" not in line


def test_a_format_with_other_fields_falls_back_to_gunicorn_collection():
    config = Config()
    config.set("access_log_format", '%(h)s "%({x-foo}i)s"')
    assert not gunicorn_logging.Logger(config).lean_atoms
    config.set("access_log_format", PROJECT_FORMAT)
    assert gunicorn_logging.Logger(config).lean_atoms


def test_the_project_config_uses_the_lean_logger():
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["logger_class"] == (
        "clinic.gunicorn_logging.Logger"
    )
