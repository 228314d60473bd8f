"""gunicorn listens on this machine only unless told otherwise, and believes the same proxies."""

import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def read_conf(monkeypatch, **env: str) -> dict:
    for name in ("GUNICORN_BIND", "CLINIC_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_gunicorn_binds_to_localhost_and_trusts_no_proxy_by_default(monkeypatch):
    conf = read_conf(monkeypatch)
    assert conf["bind"] == "127.0.0.1:8000"
    assert conf["forwarded_allow_ips"] == ""


def test_gunicorn_bind_and_trusted_proxies_come_from_the_environment(monkeypatch):
    conf = read_conf(
        monkeypatch, GUNICORN_BIND="10.0.0.5:8000", CLINIC_TRUSTED_PROXIES="10.0.0.0/8"
    )
    assert conf["bind"] == "10.0.0.5:8000"
    # The same list the app reads, so gunicorn's wsgi.url_scheme agrees with it.
    assert conf["forwarded_allow_ips"] == "10.0.0.0/8"
