"""Patient pages written once per process, with the parts that differ per request filled in.

Most pages a patient sees in the questionnaire are the same for everyone in
one language except for a few small parts. A blank step (not answered yet)
differs only in its CSRF token and in the answers that would make an
emergency on it (worked out from the patient's earlier answers, for the
page's script); the page after sending differs in its case reference, its
CSRF token and the topics the answers point to. Such a page is rendered once
per process for each ``key`` (the page, its language and whatever else
changes its text) with a placeholder in each of those parts, and every later
request gets a copy with its own parts put in. Rendering these pages through
the templates every time was most of the CPU of showing them, beyond what
any page costs (docs/performance.md, section 6).

Only the parts named are ever per patient: the views decide which pages may
be kept (``intake.views``); a page with answers, errors, a warning shown or
"Welcome back" is rendered afresh every time, and so is every page on a
clinic tablet (its idle timer and notices are the device's own). Tests
compare each kept page with the template's (tests/intake/test_kept_pages.py).
"""

import logging
import secrets
from collections.abc import Callable, Hashable, Mapping

from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.safestring import SafeString, mark_safe

#: The CSRF token's placeholder: letters and digits only, so it comes out of
#: the template as it went in; new in every process, so no page has it by chance.
CSRF_PLACEHOLDER = f"csrfplaceholder{secrets.token_hex(16)}"
_MARK = secrets.token_hex(16)

logger = logging.getLogger(__name__)

_pages: dict[Hashable, str] = {}
#: Smaller parts written once (``kept_part``), such as the topics after sending.
_parts: dict[Hashable, str] = {}
#: At most this many smaller parts are kept; then they are written again.
PARTS_KEPT = 512


def placeholder(name: str) -> SafeString:
    """Where the part ``name`` goes in a kept page (an HTML comment no page has by chance)."""
    return mark_safe(f"<!-- {name} {_MARK} -->")  # noqa: S308 - our own text


def kept_page(
    request,
    key: Hashable,
    render: Callable[[dict], str],
    parts: Mapping[str, SafeString],
) -> HttpResponse:
    """The page kept for ``key``, with this request's CSRF token and ``parts`` put in.

    ``render(extra_context)``: the page's HTML with ``extra_context`` added;
    called once per process and key, with a placeholder for each part (by its
    name in the context) and for the CSRF token. Each part is HTML (safe).
    On a clinic tablet the page is rendered afresh with ``parts``.
    """
    if getattr(request, "clinic_tablet", False):
        # A clinic tablet's pages carry its own idle timer and notices.
        return HttpResponse(render(dict(parts)))
    page = _pages.get(key)
    if page is None:
        page = render(
            {"csrf_token": CSRF_PLACEHOLDER, **{name: placeholder(name) for name in parts}}
        )
        lost = [name for name in parts if placeholder(name) not in page]
        if lost or CSRF_PLACEHOLDER not in page:
            # A template that no longer shows a part: serve this request's own
            # page as before, and say so, rather than keep a page missing it.
            logger.error("Page %r not kept: no place for %s", key, lost or ["the CSRF token"])
            return HttpResponse(render(dict(parts)))
        _pages[key] = page
    page = page.replace(CSRF_PLACEHOLDER, get_token(request))
    for name, part in parts.items():
        page = page.replace(placeholder(name), part)
    return HttpResponse(page)


def kept_part(key: Hashable, render: Callable[[], str]) -> str:
    """A part of a page written once per process for ``key``, which must name all it shows."""
    html = _parts.get(key)
    if html is None:
        html = render()
        if len(_parts) >= PARTS_KEPT:
            _parts.clear()
        _parts[key] = html
    return html


def forget_kept_pages() -> None:
    """Drop every page and part kept so far (a template, a translation or a setting changed)."""
    _pages.clear()
    _parts.clear()


def forget_kept_pages_when_a_template_changes(sender, file_path, **kwargs) -> None:
    """For ``manage.py runserver``: an edited template or translation shows on the next page.

    (In production a deploy restarts the processes.) Returns nothing, so the
    autoreloader does what it would have done anyway.
    """
    if file_path.suffix in {".html", ".txt", ".mo"}:
        forget_kept_pages()
