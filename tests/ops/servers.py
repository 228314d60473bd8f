"""Run the app under gunicorn with production settings, and talk to it over HTTP."""

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = secrets.token_urlsafe(64)


def production_env(**extra: str) -> dict[str, str]:
    """Production settings pointed at the test database, with HTTPS done by 'the proxy'."""
    db = connection.settings_dict
    url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLINIC_"))}
    return {
        **keep,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"{url}/{db['NAME']}",
        "CLINIC_ALERT_EMAILS": "oncall@example.com",
        "CLINIC_BASE_URL": "https://intake.example.org",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "CLINIC_TASK_BACKEND": "database",
        # The tests are the TLS proxy, on this machine (X-Forwarded-Proto below).
        "CLINIC_TRUSTED_PROXIES": "127.0.0.1",
        "DJANGO_LOG_LEVEL": "WARNING",
        **extra,
    }


def collect_static(target: Path) -> Path:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=production_env(DJANGO_STATIC_ROOT=str(target)),
        check=True,
        timeout=120,
    )
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    def __init__(self, *, static_root: Path):
        self.port = free_port()
        self.static_root = static_root
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> None:
        env = production_env(
            DJANGO_STATIC_ROOT=str(self.static_root),
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            GUNICORN_WORKERS="1",
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "clinic.wsgi", "--access-logfile", "/dev/null"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.process.stderr.read().decode()}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn on port {self.port} did not become ready")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Page:
    status: int
    text: str
    headers: dict


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A minimal browser: one cookie jar for every server, as for one site behind a balancer.

    The requests say they came through the TLS proxy (X-Forwarded-Proto), so
    secure cookies and CSRF's origin check work as in production.
    """

    def __init__(self):
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(_NoRedirect)

    def _request(self, server: AppServer, path: str, data: dict | None = None) -> Page:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(server.url + path, data=body)
        request.add_header("X-Forwarded-Proto", "https")
        request.add_header("Origin", f"https://127.0.0.1:{server.port}")
        request.add_header("Referer", f"https://127.0.0.1:{server.port}{path}")
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            response = self.opener.open(request, timeout=15)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return Page(response.status, response.read().decode(), dict(response.headers))

    def get(self, server: AppServer, path: str) -> Page:
        return self._request(server, path)

    def post(self, server: AppServer, path: str, data: dict, *, csrf_from: Page) -> Page:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', csrf_from.text)
        return self._request(server, path, {**data, "csrfmiddlewaretoken": token.group(1)})
