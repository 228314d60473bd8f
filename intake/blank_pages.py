"""A blank questionnaire step, written once per process and filled in per request.

Most step pages a patient sees are blank: the step is not answered yet. Such
a page is the same for every patient in one language except for two parts:
the CSRF token in its form, and the answers that would make an emergency on
this page (``emergency-conditions``, worked out from the patient's earlier
answers for the page's script). So the page is rendered once per process for
each ``key`` (step, language and the few choices that change its text) with
a placeholder in each of those two places, and every later request gets a
copy with this request's token and conditions put in. Rendering it through
the template each time was most of the CPU of showing a step, beyond what any
page costs (docs/performance.md, section 6).

Only pages that hold nothing of the patient are written this way: the view
decides (``intake.views._render_step``); a page with answers, errors, a
warning, a case reference, "Welcome back" or clinic-tablet parts is rendered
afresh every time. A test compares the two ways for every step, language and
key.
"""

import secrets
from collections.abc import Callable, Hashable

from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.safestring import SafeString, mark_safe

#: Placeholders no page can contain by chance (new in every process). The
#: token's is letters and digits only, so it comes out of the template as it
#: went in, whatever the template escapes.
CSRF_PLACEHOLDER = f"csrfplaceholder{secrets.token_hex(16)}"
CONDITIONS_PLACEHOLDER = mark_safe(f"<!-- conditions {secrets.token_hex(16)} -->")  # noqa: S308 - our own constant

_pages: dict[Hashable, str] = {}


def blank_page(
    request,
    key: Hashable,
    render: Callable[[dict], str],
    conditions_script: SafeString,
) -> HttpResponse:
    """The page for ``key``, with this request's CSRF token and ``conditions_script``.

    ``render(extra_context)``: the page's HTML rendered with ``extra_context``
    added; called once per process and key, with the placeholders.
    """
    page = _pages.get(key)
    if page is None:
        page = render(
            {"csrf_token": CSRF_PLACEHOLDER, "emergency_conditions_script": CONDITIONS_PLACEHOLDER}
        )
        if page.count(CONDITIONS_PLACEHOLDER) != 1 or CSRF_PLACEHOLDER not in page:
            raise AssertionError(f"a blank step page lost a placeholder: {key!r}")
        _pages[key] = page
    return HttpResponse(
        page.replace(CSRF_PLACEHOLDER, get_token(request)).replace(
            CONDITIONS_PLACEHOLDER, conditions_script
        )
    )


def forget_blank_pages() -> None:
    """Drop every page written so far (tests that change settings the pages show)."""
    _pages.clear()
