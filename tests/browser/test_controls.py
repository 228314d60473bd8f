"""Every control a patient can see and hit, measured as Chromium draws it (issue 19).

axe-core passes pages whose unchecked radios are drawn at 1.3:1, whose grey
buttons look switched off and whose "Yes" is a 33 x 28 px target: it checks
text contrast, not the edges of controls, nor the size of what a finger has to
hit. These tests measure what the browser really draws, on every patient page:
the landing page, the conditions list and a condition page, the "not found"
page, and every step of the questionnaire found by following its forms (blank,
with errors and answered), the resumed questionnaire and "Clear your
answers?", the check page and a step opened from its "Change", and the
confirmation; in English at two sizes and in Spanish on the phone, and once
more with an emergency answer (the red advice boxes). The two sizes:

- a 375 px phone, and
- 200 % browser zoom. Chromium's zoom (Ctrl +) changes how many device pixels
  one CSS pixel takes: a 1280 x 800 window at 200 % lays the page out in
  640 x 400 CSS pixels, with ``devicePixelRatio`` 2 and the media queries of a
  640 px screen. A 640 x 400 viewport with ``device_scale_factor=2`` is
  exactly that. (CSS ``zoom`` on the page would instead scale the boxes that
  the measurements read and keep the 1280 px layout; a phone's pinch zoom
  does not lay the page out again at all.)

For every visible control:

(a) Boundary, WCAG 2.2 SC 1.4.11: a radio's or checkbox's edge, a text box's
    or list box's edge, and a button's edge or fill, against the colour behind
    it, at least 3:1.
(b) Target, SC 2.5.5 (44 x 44 CSS px): a radio or checkbox together with its
    label, every button (and link drawn as one), text box, list box and header
    link. Other links are text. Links in running text are exempt under SC
    2.5.8's inline exception (their size is set by the line of text around
    them); a text link standing on its own line ("Change", a topic in a list)
    must meet SC 2.5.8's 24 x 24 minimum.
(c) Focus, SC 2.4.7 and 2.4.13: pressing Tab through the whole page reaches
    every control (one radio per question, as Tab does), and each shows an
    outline or ring at least 2 px wide with 3:1 or more against the page.

Failures name the page, the control and the numbers, all at once.
"""

import re
from urllib.parse import urlsplit

import pytest
from django.urls import NoReverseMatch, reverse

from tests.browser.helpers import (
    backdrop,
    box_shadows,
    contrast_ratio,
    css_colour,
    expect,
    focus_indicator_contrast,
    over,
    parse_colour,
    tab_through,
    visible_controls,
)
from tests.intake.questionnaire import STEP_DATA

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 375, "height": 812}
ZOOM_200 = {"width": 640, "height": 400}  # a 1280 x 800 window at 200 %

MIN_CONTRAST = 3.0  # SC 1.4.11 (control edges) and SC 2.4.13 (focus ring)
MIN_TARGET = 44  # CSS px, SC 2.5.5
MIN_TEXT_LINK = 24  # CSS px, SC 2.5.8
MIN_FOCUS_RING = 2  # CSS px
TOLERANCE = 0.5  # a box of 43.6 px is drawn on 44 device-pixel rows at 1x; not 43

# Answers by field name, for whichever step asks them.
ANSWERS = {name: value for step in STEP_DATA.values() for name, value in step.items()}
FORWARD_NAME = re.compile(r"^(Save and continue|Continue|Send my answers)$")
MAX_PAGES = 20  # the questionnaire has six or seven; more means the walk is looping


# The measurements --------------------------------------------------------------


def describe(control: dict) -> str:
    what = {"choice": control["type"], "field": control["type"] or control["tag"]}.get(
        control["kind"], control["kind"]
    )
    name = f" {control['name']}={control['value']}" if control["value"] else ""
    name = name or (f" {control['name']}" if control["name"] and control["kind"] == "field" else "")
    return f'{what}{name} "{control["label"]}"'


def edge_contrast(control: dict) -> float | None:
    """Contrast of a full four-sided edge against the page behind; None if there is none."""
    behind = backdrop(control["behind"])
    ratios = []
    for width, style, colour in zip(
        control["edgeWidths"], control["edgeStyles"], control["edgeColours"], strict=True
    ):
        if width < 1 or style in ("none", "hidden"):
            return None
        ratios.append(contrast_ratio(over(parse_colour(colour), behind), behind))
    return min(ratios)


def fill_contrast(control: dict) -> float:
    behind = backdrop(control["behind"])
    return contrast_ratio(over(parse_colour(control["fill"]), behind), behind)


def boundary_problem(control: dict) -> str | None:
    """SC 1.4.11: the edge (or, for a button or a chosen radio, the fill) against the page."""
    if control["kind"] not in ("choice", "field", "button"):
        return None  # links are text; their colour is axe-core's text-contrast check
    edge = edge_contrast(control)
    fill = fill_contrast(control)
    best = max(edge or 1.0, fill if control["kind"] in ("button", "choice") else 1.0)
    if best >= MIN_CONTRAST:
        return None
    colour = control["edgeColours"][0] if edge is not None else "none"
    return (
        f"{describe(control)}: boundary {best:.2f}:1, needs {MIN_CONTRAST}:1"
        f" (edge {colour} at {control['edgeWidths'][0]:g}px"
        f" = {(edge or 1.0):.2f}:1, fill {control['fill']} = {fill:.2f}:1,"
        f" on {css_colour(backdrop(control['behind']))})"
    )


def size(box: dict) -> tuple[float, float]:
    return box["right"] - box["left"], box["bottom"] - box["top"]


def centre(box: dict) -> tuple[float, float]:
    return (box["left"] + box["right"]) / 2, (box["top"] + box["bottom"]) / 2


def circle_meets_box(middle: tuple[float, float], radius: float, box: dict) -> bool:
    nearest_x = min(max(middle[0], box["left"]), box["right"])
    nearest_y = min(max(middle[1], box["top"]), box["bottom"])
    return (middle[0] - nearest_x) ** 2 + (middle[1] - nearest_y) ** 2 < radius**2


def spaced_apart(link: dict, controls: list[dict]) -> bool:
    """SC 2.5.8's spacing exception: a 24 px circle on the link's centre meets no
    other target, nor the circle of another undersized one."""
    radius = MIN_TEXT_LINK / 2
    middle = centre(link["target"])
    for other in controls:
        if other["probe"] == link["probe"]:
            continue
        if circle_meets_box(middle, radius, other["target"]):
            return False
        if min(size(other["target"])) < MIN_TEXT_LINK:
            x, y = centre(other["target"])
            if (middle[0] - x) ** 2 + (middle[1] - y) ** 2 < (2 * radius) ** 2:
                return False
    return True


def target_problem(control: dict, controls: list[dict]) -> str | None:
    """SC 2.5.5 for controls (the label counts with its radio or box); SC 2.5.8 for text links."""
    width, height = size(control["target"])
    if control["kind"] == "link":
        if control["inText"]:
            return None  # SC 2.5.8's inline exception: a link in a sentence
        if min(width, height) + TOLERANCE >= MIN_TEXT_LINK or spaced_apart(control, controls):
            return None
        return (
            f"{describe(control)}: target {width:.0f} x {height:.0f} CSS px and too close to"
            f" another, needs {MIN_TEXT_LINK} x {MIN_TEXT_LINK} or {MIN_TEXT_LINK} px apart"
        )
    if min(width, height) + TOLERANCE >= MIN_TARGET:
        return None
    return (
        f"{describe(control)}: target {width:.0f} x {height:.0f} CSS px,"
        f" needs {MIN_TARGET} x {MIN_TARGET}"
    )


def focus_problem(stop: dict) -> str | None:
    name = f'{stop["tag"]} {stop["name"]} "{stop["label"]}"'.replace("  ", " ")
    if not stop["focusVisible"]:
        return f"{name}: reached with Tab but does not match :focus-visible"
    widest = max(
        [stop["outlineWidth"] if stop["outlineStyle"] not in ("none", "hidden") else 0]
        + [s["spread"] for s in box_shadows(stop["boxShadow"]) if not s["inset"]]
    )
    ratio = focus_indicator_contrast(stop)
    if widest >= MIN_FOCUS_RING and ratio >= MIN_CONTRAST:
        return None
    return (
        f"{name}: focus ring {widest:g}px at {ratio:.2f}:1, needs {MIN_FOCUS_RING}px"
        f" at {MIN_CONTRAST}:1 (outline {stop['outlineStyle']} {stop['outlineColour']},"
        f" box-shadow {stop['boxShadow']}, on {css_colour(backdrop(stop['behind']))})"
    )


def unreached(controls: list[dict], stops: list[dict]) -> list[str]:
    """Controls Tab never reached: every one, except that one radio per question is enough."""
    reached = {stop["probe"] for stop in stops}
    radio_groups = {c["name"] for c in controls if c["probe"] in reached and c["type"] == "radio"}
    return [
        f"{describe(c)}: never reached with Tab"
        for c in controls
        if c["probe"] not in reached
        and not c["disabled"]
        and c["tabIndex"] >= 0
        and not (c["type"] == "radio" and c["name"] in radio_groups)
    ]


class Findings:
    """Problems found on every page, reported together at the end."""

    def __init__(self, size: str, base_url: str):
        self.size = size
        self.base_url = base_url
        self.problems: list[str] = []
        self.pages: list[str] = []
        self.counts = {"controls": 0, "tab stops": 0}
        self.measured: set[str] = set()

    def measure(self, page, label: str) -> list[dict]:
        """Boundary and target of every visible control, as the page is now."""
        controls = visible_controls(page)
        assert controls, f"{label}: no controls found"
        self.counts["controls"] += len(controls)
        self.measured.update(describe(control) for control in controls)
        self.pages.append(label)
        for control in controls:
            for problem in (boundary_problem(control), target_problem(control, controls)):
                if problem:
                    self._add(label, problem)
        return controls

    def measure_with_keyboard(self, page, label: str) -> None:
        """As :meth:`measure`, then Tab through the page checking each focus ring."""
        controls = self.measure(page, label)
        stops = tab_through(page)
        self.counts["tab stops"] += len(stops)
        for stop in stops:
            if problem := focus_problem(stop):
                self._add(label, problem)
        for problem in unreached(controls, stops):
            self._add(label, problem)

    def _add(self, label: str, problem: str) -> None:
        self.problems.append(f"{label} ({self.size}): {problem}")

    def assert_none(self) -> None:
        assert not self.problems, (
            f"{len(self.problems)} problem(s) with controls at {self.size}:\n  "
            + "\n  ".join(self.problems)
        )


# Walking the questionnaire by its own forms --------------------------------------

_NAMED_FIELDS = """() => [...new Set([...document.querySelectorAll(
  "form input[name]:not([type=hidden]), form select[name], form textarea[name]")]
  .filter(e => e.checkVisibility() && e.getClientRects().length)
  .map(e => e.name))]"""

_DATE_PART = re.compile(r"^(?P<field>.+?)_{1,2}(?P<part>day|month|year)$")


def answer_for(name: str, answers: dict):
    """Our answer to a field, by name; a date's day, month or year from the whole date."""
    if name in answers:
        return answers[name]
    if (part := _DATE_PART.match(name)) and answers.get(part["field"]):
        year, month, day = str(answers[part["field"]]).split("-")
        return {"day": day, "month": month, "year": year}[part["part"]]
    return None


def answer_shown_questions(page, answers: dict = ANSWERS) -> None:
    """Answer every question shown that we have an answer for, as a patient would.

    An answer can bring up another question (with JavaScript), so look again
    until nothing new appears.
    """
    answered = set()
    for _ in range(5):
        names = [n for n in page.evaluate(_NAMED_FIELDS) if n not in answered]
        if not names:
            return
        for name in names:
            answered.add(name)
            value = answer_for(name, answers)
            if value in ("", None):
                continue
            field = page.locator(f'[name="{name}"]')
            kind = field.first.evaluate("element => element.type")
            if kind == "radio":
                page.locator(f'input[name="{name}"][value="{value}"]').check()
            elif kind == "checkbox":
                field.check()
            elif kind == "select-one":
                field.select_option(str(value))
            else:
                field.fill(str(value))


def forward_button(page):
    """The button that goes on: "next" on a step, "send" on the check page."""
    for value in ("next", "send"):
        button = page.locator(f'main button[name="action"][value="{value}"]:visible')
        if button.count():
            return button.first
    return page.locator("main").get_by_role("button", name=FORWARD_NAME).first


def check_page_url() -> str | None:
    try:
        return reverse("intake:check")
    except NoReverseMatch:
        return None


def here(page, findings: Findings) -> str:
    return page.url.removeprefix(findings.base_url)


def url_path(address: str) -> str:
    return urlsplit(address).path


def visit_resume_and_clear_pages(page, findings: Findings) -> None:
    """A patient who comes back: /intake/ resumes ("Welcome back", in a tinted box),
    and "Clear my answers" asks first; "No, keep my answers" goes back to them."""
    page.goto(reverse("intake:start"))
    findings.measure_with_keyboard(page, f"resumed {here(page, findings)}")
    page.goto(reverse("intake:start_again"))
    findings.measure_with_keyboard(page, f"clear your answers? {here(page, findings)}")
    keep = page.locator(f'main a[href="{reverse("intake:start")}"]')
    if keep.count():
        keep.first.click()
        page.wait_for_load_state()
    else:
        page.goto(reverse("intake:start"))


def change_one_answer(page, findings: Findings) -> None:
    """From the check page, "Change" the first answer and come back with its button."""
    page.locator("main dl a[href]").first.click()
    page.wait_for_load_state()
    findings.measure_with_keyboard(page, f"changing an answer {here(page, findings)}")
    forward_button(page).click()
    page.wait_for_load_state()


def walk_questionnaire(page, findings: Findings, answers: dict = ANSWERS) -> list[str]:
    """From /intake/ to the confirmation, measuring every page on the way.

    Each step is measured blank, with the errors of an empty answer (where it
    asks anything required), and answered (with any questions the answers
    bring up), then the forward button is pressed. After the first step the
    patient leaves and comes back (the resume and "clear" pages); on the check
    page they change one answer. Returns the addresses seen.
    """
    page.goto(reverse("intake:start"))
    seen = []
    check = check_page_url()
    for _ in range(MAX_PAGES):
        page.wait_for_load_state()
        heading = page.locator("h1").inner_text().strip()
        path = here(page, findings)
        seen.append(path)
        if url_path(path) == reverse("intake:done"):
            findings.measure_with_keyboard(page, f"confirmation {path}")
            return seen
        label = f'"{heading}" {path}'
        findings.measure(page, f"{label}, blank")
        if page.locator("main form [required]:visible").count():
            forward_button(page).click()
            page.wait_for_load_state()  # the styles too, before measuring what they draw
            expect(page.locator("#error-summary")).to_be_visible()
            findings.measure(page, f"{label}, with errors")
        answer_shown_questions(page, answers)
        findings.measure_with_keyboard(page, f"{label}, answered")
        if url_path(path) == check and check not in map(url_path, seen[:-1]):
            change_one_answer(page, findings)
            continue
        forward_button(page).click()
        page.wait_for_load_state()
        if here(page, findings) == path and page.locator("#error-summary").count():
            summary = page.locator("#error-summary").inner_text()
            raise AssertionError(f"{label}: our answers were refused:\n{summary}")
        if len(seen) == 1:
            visit_resume_and_clear_pages(page, findings)
    raise AssertionError(f"No confirmation page after {MAX_PAGES} pages: {seen}")


@pytest.mark.parametrize(
    ("size", "options", "language"),
    [
        ("375 px phone", {"viewport": PHONE, "is_mobile": True, "has_touch": True}, "en"),
        ("200 % zoom", {"viewport": ZOOM_200, "device_scale_factor": 2}, "en"),
        # Spanish words are longer: buttons and answers wrap differently.
        ("375 px phone, Spanish", {"viewport": PHONE, "is_mobile": True, "has_touch": True}, "es"),
    ],
)
def test_every_patient_control_has_contrast_size_and_visible_focus(
    pages, live_server, size, options, language
):
    page = pages.new(**options)
    findings = Findings(size, live_server.url)

    page.goto("/")
    if language != "en":  # with the header's switch, as a patient would
        page.locator(f'.language-switcher button[lang="{language}"]').click()
        page.wait_for_load_state()
        expect(page.locator("html")).to_have_attribute("lang", language)
    findings.measure_with_keyboard(page, "landing /")
    page.goto("/conditions/")
    findings.measure_with_keyboard(page, "conditions list /conditions/")
    # A condition page, found as a patient finds it: the first in the list.
    page.locator(".condition-card a").first.click()
    page.wait_for_load_state()
    findings.measure_with_keyboard(page, f"condition page {page.url.removeprefix(live_server.url)}")
    page.goto("/this-page-does-not-exist/")
    findings.measure_with_keyboard(page, "not found page")

    seen = walk_questionnaire(page, findings)
    if check := check_page_url():
        assert check in map(url_path, seen), f"The questionnaire never showed {check}: {seen}"

    findings.assert_none()


def test_the_measurements_catch_bootstraps_own_faint_controls(pages, live_server):
    """Without the clinic's styles, Bootstrap's defaults fail exactly as seen on the phone.

    The same checks as above, on the first two steps with clinic.css served
    empty: pale edges (#dee2e6, about 1.3:1), a "Yes" smaller than a finger,
    and Bootstrap's pale focus glow. Proves the checks above can fail.
    """
    page = pages.new(viewport=PHONE, is_mobile=True, has_touch=True)
    page.route("**/css/clinic.css", lambda route: route.fulfill(body="", content_type="text/css"))
    findings = Findings("375 px phone, Bootstrap only", live_server.url)
    page.goto("/intake/")
    findings.measure_with_keyboard(page, "about you")
    answer_shown_questions(page)
    forward_button(page).click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("Your legs")
    findings.measure_with_keyboard(page, "your legs")

    found = "\n".join(findings.problems)
    for expected in [
        r'radio leg_gives_way=yes "Yes": boundary 1\.\d\d:1',
        r'radio leg_gives_way=yes "Yes": target \d+ x [1-3]\d CSS px',
        r'checkbox consent=on "[^"]*": boundary 1\.\d\d:1',
        r'text first_name "First name\*?": boundary 1\.\d\d:1',
        r'input first_name "First name\*?": focus ring [\d.]+px at 1\.\d\d:1',
    ]:
        assert re.search(expected, found), f"{expected!r} not in:\n{found}"


def test_emergency_advice_controls_on_a_phone(pages, live_server):
    """The path where it matters most: a red flag brings up the advice boxes (tinted
    red, with "Call" and "Stop here" buttons) on the steps, the check page and the
    confirmation; their controls meet the same three checks on that background."""
    page = pages.new(viewport=PHONE, is_mobile=True, has_touch=True)
    findings = Findings("375 px phone, emergency answers", live_server.url)
    walk_questionnaire(page, findings, {**ANSWERS, "saddle_numbness": "yes"})
    expect(page.locator(".emergency-advice").first).to_be_visible()
    findings.assert_none()
    # The advice's buttons were among the controls measured.
    assert any(name.startswith('button "Call ') for name in findings.measured), findings.measured


def test_a_tap_anywhere_on_an_answer_row_chooses_it(pages):
    """The whole row is the target, not only the circle and the words: a tap at the
    far end of the row, and at its top corner, chooses that answer."""
    page = pages.new(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/intake/")
    answer_shown_questions(page)
    forward_button(page).click()
    page.wait_for_load_state()
    rows = page.locator("main .form-check:has(input[type=radio]):visible")
    row, radio = rows.nth(1), rows.nth(1).locator("input")
    row.scroll_into_view_if_needed()
    box = row.bounding_box()
    assert box["height"] >= MIN_TARGET, box
    assert not radio.is_checked()
    page.touchscreen.tap(box["x"] + box["width"] - 4, box["y"] + box["height"] / 2)
    expect(radio).to_be_checked()

    row, radio = rows.nth(0), rows.nth(0).locator("input")
    box = row.bounding_box()
    page.touchscreen.tap(box["x"] + 2, box["y"] + 2)
    expect(radio).to_be_checked()


def test_contrast_arithmetic_matches_wcag():
    """The ratios the checks rest on: WCAG's own end points and well-known pairs."""
    white, black = parse_colour("rgb(255, 255, 255)"), parse_colour("rgb(0, 0, 0)")
    assert contrast_ratio(black, white) == pytest.approx(21)
    assert contrast_ratio(white, white) == pytest.approx(1)
    assert contrast_ratio(parse_colour("rgb(118, 118, 118)"), white) == pytest.approx(
        4.54, abs=0.01
    )
    # Bootstrap's control edge #dee2e6, as seen on the phone.
    assert contrast_ratio(parse_colour("rgb(222, 226, 230)"), white) == pytest.approx(1.3, abs=0.01)
    # Half-transparent black over white is mid grey (127.5 in each channel), 3.98:1.
    grey = over(parse_colour("rgba(0, 0, 0, 0.5)"), white)
    assert css_colour(grey) == "#808080"
    assert contrast_ratio(grey, white) == pytest.approx(3.98, abs=0.01)
    assert backdrop(["rgba(0, 0, 0, 0)", "rgb(255, 243, 244)"]) == (255, 243, 244, 1.0)
    assert box_shadows(
        "rgb(255, 255, 255) 0px 0px 0px 2px, rgba(13, 110, 253, 0.25) 0px 0px 0px 4px"
    ) == [
        {"colour": "rgb(255, 255, 255)", "spread": 2.0, "inset": False},
        {"colour": "rgba(13, 110, 253, 0.25)", "spread": 4.0, "inset": False},
    ]
