"""Real-browser tests: Playwright for Python driving Debian's Chromium.

The pages are served by pytest-django's ``live_server`` (a threaded server on
the test database; it serves static files from the finders, so CSS and the
questionnaire's script load as in production). Each test gets fresh database
contents: ``serialized_rollback`` restores what migrations put there (the
conditions library, the staff groups) after the previous test's flush.

Without Chromium the tests are skipped with the reason shown in pytest's
summary; CI sets ``CLINIC_REQUIRE_BROWSER=1`` so a missing browser fails there
instead. ``CLINIC_CHROMIUM`` points at another Chromium binary.

On failure, every open page's screenshot and HTML, and the screenshots the
test took along the way, are saved under ``test-artifacts/browser/<test>/``.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.factories import UserFactory

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # requirements.txt installs it; say so rather than fail to collect
    sync_playwright = None

CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS_DIR = Path(django_settings.BASE_DIR) / "test-artifacts" / "browser"

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}

_REPORTS = pytest.StashKey[dict]()


def find_chromium() -> str | None:
    """CLINIC_CHROMIUM if set, else Debian's /usr/bin/chromium, else chromium on PATH."""
    configured = os.environ.get("CLINIC_CHROMIUM")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


#: Each database's migrated contents as serialized when the test databases were made.
_SERIALIZED_CONTENTS: dict[str, str | None] = {}


def _keep_serialized_rollback_working() -> None:
    """Give this context's connections the migrated contents they were made with.

    Django keeps those contents (the conditions library, the staff groups) on
    the connection object, for ``serialized_rollback`` to put back after a
    test empties the database. Connection objects are per thread and per
    asyncio context, and Playwright's sync API runs an event loop in this
    thread: once it has started, tests get new connection objects without
    them, so after the first flush the library was gone for every later
    browser test. With them back, the flush after this test keeps the
    migrated data out of its way and the next test's setup puts it back.
    """
    from django.db import connections

    for alias, contents in _SERIALIZED_CONTENTS.items():
        connection = connections[alias]
        if contents and not hasattr(connection, "_test_serialized_contents"):
            connection._test_serialized_contents = contents


@pytest.fixture(scope="session")
def chromium(django_db_setup):
    """One headless Chromium for the whole run (starting it takes about a second)."""
    path = find_chromium()
    problem = None
    if sync_playwright is None:
        problem = "Playwright is not installed (pip install -r requirements.txt)"
    elif path is None:
        problem = (
            f"Chromium not found at {os.environ.get('CLINIC_CHROMIUM') or '/usr/bin/chromium'}:"
            " install Debian's package (apt-get install chromium) to run the browser tests"
        )
    if problem:
        if os.environ.get("CLINIC_REQUIRE_BROWSER") == "1":
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)

    shutil.rmtree(ARTIFACTS_DIR, ignore_errors=True)
    from django.db import connections

    for alias in connections:
        _SERIALIZED_CONTENTS[alias] = getattr(connections[alias], "_test_serialized_contents", None)
    # Playwright's sync API keeps an asyncio loop running in this thread, and
    # Django refuses ORM calls from a thread with a running loop. The calls are
    # in fact synchronous (the loop only talks to the browser), so allow them
    # for as long as Playwright runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=path, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _browser_test_settings(settings):
    # Every request comes from 127.0.0.1; the questionnaire's rate limit is
    # tested elsewhere and would only make these tests depend on their speed.
    settings.CLINIC_RATELIMIT = False


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


class Pages:
    """Opens browser contexts for one test and cleans up after it.

    Each context is a separate browser profile (its own cookies), so a
    patient and a member of staff can be open side by side.
    """

    def __init__(self, browser, base_url: str, trail_dir: Path):
        self.browser = browser
        self.base_url = base_url
        self.trail_dir = trail_dir
        self.contexts = []
        self._shots = 0

    def new(self, *, viewport=DESKTOP, **options):
        """A new page in a new context; ``options`` go to ``browser.new_context``."""
        context = self.browser.new_context(
            base_url=self.base_url,
            viewport=viewport,
            locale="en-US",
            reduced_motion="reduce",
            **options,
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        return context.new_page()

    def phone(self, **options):
        return self.new(viewport=PHONE, is_mobile=True, has_touch=True, **options)

    def desktop(self, **options):
        return self.new(viewport=DESKTOP, **options)

    def shot(self, page, name: str) -> Path:
        """Screenshot the whole page into this test's trail (kept if the test fails)."""
        self._shots += 1
        path = self.trail_dir / f"{self._shots:02d}-{slugify(name)}.png"
        page.screenshot(path=path, full_page=True)
        return path

    def save_failure_artifacts(self, target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        if self.trail_dir.exists():
            shutil.copytree(self.trail_dir, target, dirs_exist_ok=True)
        for c, context in enumerate(self.contexts, start=1):
            for p, page in enumerate(context.pages, start=1):
                stem = target / f"failed-context{c}-page{p}"
                try:
                    page.screenshot(path=stem.with_suffix(".png"), full_page=True, timeout=5_000)
                    stem.with_suffix(".html").write_text(page.content())
                    stem.with_suffix(".url").write_text(page.url + "\n")
                except Exception as error:  # noqa: BLE001 (a dead page must not hide the failure)
                    stem.with_suffix(".error").write_text(repr(error))

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def slugify(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120]


@pytest.fixture
def pages(request, chromium, live_server, tmp_path):
    """Open pages on the live server: ``pages.phone()``, ``pages.desktop()``, ``pages.new()``."""
    _keep_serialized_rollback_working()
    opened = Pages(chromium, live_server.url, tmp_path / "trail")
    opened.trail_dir.mkdir()
    yield opened
    reports = request.node.stash.get(_REPORTS, {})
    if any(report.failed for report in reports.values()):
        opened.save_failure_artifacts(ARTIFACTS_DIR / slugify(request.node.name))
    opened.close()


@pytest.fixture
def clinician():
    """A member of staff in the Clinician group (no superuser shortcuts)."""
    from django.contrib.auth.models import Group

    from intake.roles import CLINICIAN

    user = UserFactory(username="cara", first_name="Cara", last_name="Clinician")
    user.groups.add(Group.objects.get(name=CLINICIAN))
    return user
