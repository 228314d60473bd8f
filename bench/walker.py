"""A patient who fills in whatever the questionnaire's pages ask, as a browser without JavaScript.

The questionnaire changes (steps come and go, a "check your answers" page
before sending, dates as day / month / year fields), and a benchmark that
hard-codes the list of steps breaks or, worse, quietly measures something
else. This walker reads each page as it comes: it finds the page's main form
(the one whose first submit button is the primary one), fills in every field
the form has from the patient's answers, presses the form's first submit
button (what Enter presses), and follows the redirect; until a page under
``DONE_PATH`` is shown. Nothing here knows how many pages there are.

It is independent of how requests are sent: ``patient_requests`` yields each
request and is handed back its answer (``walk`` drives it with a plain
``send`` function: the Django test client in-process, or an HTTP client
against a served app; the async load generator drives it with its own), so
every benchmark walks the same pages.

Filling in a field, in order of preference:

* the patient's answer for that name, if the field offers it (a radio button
  or a select option with that value; any text for a text field);
* a date answer (``YYYY-MM-DD``) split into day, month and year for fields
  named ``<answer>_day`` / ``_month`` / ``_year`` or ``<answer>_0`` / ``_1`` /
  ``_2`` (day, month, year, as GOV.UK orders them);
* what the page itself holds (hidden fields, a checked radio button, a
  selected option, typed text kept in the draft);
* for a radio group or select that is still empty, its first option (a
  question the answers do not cover: the server ignores it if it does not
  apply).

A POST answered with anything but a redirect (a 200 shows errors) stops the
walk with the page's error summary: a benchmark must not quietly count failed
forms.
"""

import html
import re
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

#: The page a completed questionnaire ends on.
DONE_PATH = "/intake/done/"
#: The questionnaire's first page.
START_PATH = "/intake/"
#: More pages than this in one questionnaire is a loop, not a questionnaire.
MAX_PAGES = 40
#: The case reference on the done page (whatever other classes its element has).
CASE_REFERENCE = re.compile(
    r'class="(?:[^"]* )?case-reference(?: [^"]*)?"[^>]*>\s*(C-[A-Z0-9]+)\s*<'
)


@dataclass
class Control:
    kind: str  # text, hidden, radio, checkbox, select, textarea, submit
    name: str
    value: str = ""
    checked: bool = False
    options: list[str] = field(default_factory=list)  # select: option values
    classes: str = ""


@dataclass
class Form:
    method: str
    action: str
    controls: list[Control] = field(default_factory=list)

    @property
    def submits(self) -> list[Control]:
        return [c for c in self.controls if c.kind == "submit"]

    @property
    def fields(self) -> list[Control]:
        return [c for c in self.controls if c.kind != "submit" and c.name]


#: The tags a form is made of; the rest of the page is skipped unread. A regular
#: expression rather than html.parser: it runs in the load generator, which
#: shares the machine's cores with the app (five times less CPU per page).
_TAG = re.compile(r"<(/?)(form|input|button|select|option|textarea)\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


def _attributes(text: str) -> dict[str, str]:
    return {
        name.lower(): html.unescape(double or single or bare)
        for name, double, single, bare in _ATTRIBUTE.findall(text)
    }


def forms_of(page: str) -> list[Form]:
    """Every form of a page with its controls, in document order."""
    forms: list[Form] = []
    form: Form | None = None
    select: Control | None = None
    for found in _TAG.finditer(page):
        closing, tag, attributes = found.group(1), found.group(2).lower(), found.group(3)
        if closing:
            if tag == "form":
                form = None
            elif tag == "select":
                select = None
            continue
        attrs = _attributes(attributes)
        if tag == "form":
            form = Form(method=attrs.get("method", "get").lower(), action=attrs.get("action", ""))
            forms.append(form)
            continue
        if form is None or "disabled" in attrs:
            continue
        name, classes = attrs.get("name", ""), attrs.get("class", "")
        if tag == "input":
            kind = attrs.get("type", "text").lower()
            if kind in ("submit", "image"):
                form.controls.append(
                    Control("submit", name, attrs.get("value", ""), classes=classes)
                )
            elif kind in ("radio", "checkbox"):
                form.controls.append(
                    Control(kind, name, attrs.get("value", "on"), "checked" in attrs)
                )
            elif kind not in ("button", "reset", "file"):
                kind = "hidden" if kind == "hidden" else "text"
                form.controls.append(Control(kind, name, attrs.get("value", "")))
        elif tag == "button":
            if attrs.get("type", "submit").lower() == "submit":
                form.controls.append(
                    Control("submit", name, attrs.get("value", ""), classes=classes)
                )
        elif tag == "select":
            select = Control("select", name)
            form.controls.append(select)
        elif tag == "option" and select is not None:
            if "value" in attrs:
                value = attrs["value"]
            else:  # <option>text</option> without a value: the text is the value
                value = html.unescape(page[found.end() : page.find("<", found.end())].strip())
            select.options.append(value)
            if "selected" in attrs:
                select.value, select.checked = value, True
        elif tag == "textarea":
            end = page.lower().find("</textarea", found.end())
            text = page[found.end() : end if end >= 0 else found.end()]
            # A browser drops the newline right after <textarea>.
            form.controls.append(Control("textarea", name, html.unescape(text.removeprefix("\n"))))
    return forms


def main_form(html: str, path: str = "") -> Form:
    """The form a patient fills in on this page (at ``path``).

    Other forms on a page (the language switcher, "clear my answers", "stop
    here") have secondary buttons and post elsewhere. So: a POST form whose
    first button is the primary one (``btn-primary``); failing that, one that
    posts back to the page itself; then the one with the most fields.
    """
    posts = [form for form in forms_of(html) if form.method == "post" and form.submits]
    if not posts:
        raise WalkError(f"no form to fill in on {path or 'this page'}")

    def likely(form: Form) -> tuple[bool, bool, int]:
        primary = "btn-primary" in form.submits[0].classes.split()
        here = not form.action or urljoin(path, form.action) == path
        return primary, here, len(form.fields)

    return max(posts, key=likely)


_DATE_PARTS = {"day": 2, "0": 2, "month": 1, "1": 1, "year": 0, "2": 0}


def _date_part(name: str, answers: Mapping[str, str]) -> str | None:
    """``date_of_birth_day`` or ``date_of_birth_0`` -> the day of answer ``date_of_birth``."""
    base, _sep, suffix = name.rpartition("_")
    answer = answers.get(base)
    if suffix not in _DATE_PARTS or not isinstance(answer, str) or answer.count("-") != 2:
        return None
    part = answer.split("-")[_DATE_PARTS[suffix]]
    return part if suffix in ("year", "2") else str(int(part))


def fill_in(form: Form, answers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The (name, value) pairs a browser would send for ``form``, its first button pressed."""
    sent: list[tuple[str, str]] = []
    groups: dict[str, list[Control]] = {}
    for control in form.fields:
        if control.kind in ("radio", "checkbox"):
            groups.setdefault(control.name, []).append(control)
            continue
        answer = answers.get(control.name)
        if answer is None and control.kind != "hidden":
            answer = _date_part(control.name, answers)
        if control.kind == "select":
            if answer is not None and answer in control.options:
                value = answer
            elif control.checked or not control.options:
                value = control.value
            else:
                value = next((o for o in control.options if o), control.options[0])
        elif control.kind == "hidden" or answer is None:
            value = control.value
        else:
            value = answer
        sent.append((control.name, value))
    for name, controls in groups.items():
        answer = answers.get(name)
        values = [c.value for c in controls]
        if controls[0].kind == "checkbox":
            if answer is None:
                chosen = [c.value for c in controls if c.checked]
            elif answer in values:
                chosen = [answer]
            else:  # "on" for a single box, "" for none
                chosen = values[:1] if answer and len(values) == 1 else []
        elif answer in values:
            chosen = [answer]
        else:
            checked = [c.value for c in controls if c.checked]
            chosen = checked or values[:1]
        sent.extend((name, value) for value in chosen)
    button = form.submits[0]
    if button.name:
        sent.append((button.name, button.value))
    return sent


class WalkError(Exception):
    pass


@dataclass
class Answer:
    """What ``send`` returns: the status, the redirect's target if any, the page's text."""

    status: int
    location: str
    text: str


@dataclass
class Request:
    """One request of the walk: ``name`` says which page, for the report."""

    method: str
    path: str
    form: list[tuple[str, str]] | None
    name: str


#: send(request) -> its answer; sync for ``walk``, async for ``walk_async``.
Send = Callable[[Request], Answer]


def request_name(method: str, path: str) -> str:
    """``GET /intake/legs/`` -> ``GET legs``; the first step is ``about``, the end ``done``."""
    slug = path.split("?")[0].removeprefix(START_PATH).strip("/") or "about"
    return f"{method} {slug}"


def _get(path: str) -> Request:
    return Request("GET", path, None, request_name("GET", path))


def patient_requests(
    answers: Mapping[str, str], start: str = START_PATH
) -> Generator[Request, Answer, str]:
    """The requests of one questionnaire, each decided by the answer to the one before.

    Send each request yielded and pass its answer back in; the generator
    returns the done page's text. Independent of how requests are sent (the
    Django test client in-process, or HTTP against a served app, sync or
    async), so every benchmark walks the same pages.
    """
    path = start
    answer = yield _get(path)
    for _page in range(MAX_PAGES):
        if answer.status != 200:
            raise WalkError(f"GET {path}: {answer.status}")
        if urlsplit(path).path == DONE_PATH:
            return answer.text
        form = main_form(answer.text, path)
        target = urljoin(path, form.action) if form.action else path
        posted = yield Request("POST", target, fill_in(form, answers), request_name("POST", target))
        if posted.status != 302:
            raise WalkError(f"POST {target}: {posted.status}: {error_summary(posted.text)}")
        path = urlsplit(urljoin(target, posted.location))._replace(scheme="", netloc="").geturl()
        answer = yield _get(path)
    raise WalkError(f"no {DONE_PATH} after {MAX_PAGES} pages")


def walk(send: Send, answers: Mapping[str, str], start: str = START_PATH) -> tuple[str, int]:
    """Fill in the questionnaire with ``send``; (the done page's text, requests sent)."""
    requests = patient_requests(answers, start)
    request, sent = next(requests), 0
    while True:
        answer = send(request)
        sent += 1
        try:
            request = requests.send(answer)
        except StopIteration as done:
            return done.value, sent


def error_summary(html: str) -> str:
    """The text of the page's error summary (or its start), to say why a form failed."""
    start = html.find('class="alert alert-danger')
    excerpt = html[start : start + 1500] if start >= 0 else html[:500]

    class _Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data):
            if data.strip():
                self.parts.append(data.strip())

    text = _Text()
    text.feed(excerpt)
    return " / ".join(text.parts)[:600]


def flat_answers(per_step: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """One patient's answers of every step (``bench.patients.questionnaire``) by field name."""
    flat: dict[str, str] = {}
    for answers in per_step.values():
        flat.update(answers)
    return flat
