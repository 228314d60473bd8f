from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import trans_real

PO_FILE = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")


def compile_catalogue_if_stale() -> None:
    """Build django.mo from django.po when it is missing or older (as `make` does).

    `make test` and `make run` compile the catalogue before anything starts;
    this keeps a bare `pytest` on a fresh checkout honest too. Babel is used,
    not GNU gettext, so no system tools are needed.
    """
    if MO_FILE.exists() and MO_FILE.stat().st_mtime >= PO_FILE.stat().st_mtime:
        return
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with PO_FILE.open("rb") as handle:
        catalog = read_po(handle, locale="es", domain="django")
    with MO_FILE.open("wb") as handle:
        write_mo(handle, catalog)
    # Forget any catalogue Django loaded before the file existed.
    trans_real._translations = {}
    trans_real._default = None


@pytest.fixture(scope="session", autouse=True)
def _spanish_catalogue():
    compile_catalogue_if_stale()


@pytest.fixture(autouse=True)
def _english_by_default():
    """Each test starts in the site's default language and leaves it there."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def spanish_client(client):
    """A patient's browser that chose Spanish (the language cookie the switcher sets)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    return client
