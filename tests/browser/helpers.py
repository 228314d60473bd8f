"""What patients and staff do in the browser, and the checks made on every page."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from intake.forms import STEPS

try:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect
except ImportError as error:  # requirements.txt installs both
    pytest.skip(
        f"{error.name} is not installed (pip install -r requirements.txt)",
        allow_module_level=True,
    )

__all__ = ["expect"]  # the test modules take Playwright's expect from here

STEP_TITLES = {step.slug: str(step.title) for step in STEPS}
STAFF_PASSWORD = "correct-horse-battery-staple"
AXE_SUMMARY = Path(settings.BASE_DIR) / "test-artifacts" / "browser" / "axe-summary.txt"
CHECK_TITLE = "Check your answers before you send them"
DATE_PARTS = ("day", "month", "year")

# Questionnaire -----------------------------------------------------------------


def expect_step(page, slug: str) -> None:
    """The page shows this step, with its styles and script loaded."""
    expect(page.locator("h1")).to_have_text(STEP_TITLES[slug])
    page.wait_for_load_state()


def fill_answers(page, answers: dict) -> list[str]:
    """Answer with the mouse and by typing: radios and boxes clicked, text typed in.

    Empty answers are left alone, as a patient skips an optional question; so
    are questions the page does not ask (yet). Returns the names of those.
    """
    not_asked = []
    for name, value in answers.items():
        if value in ("", None):
            continue
        if page.locator(f"#div_id_{name}.d-none").count():
            not_asked.append(name)
            continue
        if page.locator(f'[name="{name}_day"]').count():
            fill_date(page, name, value)
            continue
        field = page.locator(f'[name="{name}"]')
        kind = field.first.evaluate("element => element.type")
        if kind == "radio":
            page.locator(f'input[name="{name}"][value="{value}"]').check()
        elif kind == "checkbox":
            field.check()
        else:
            field.fill(str(value))
    return not_asked


def date_parts(iso_date: str) -> dict[str, str]:
    """An ISO date as a patient types it in the day, month and year boxes."""
    year, month, day = iso_date.split("-")
    return {"day": str(int(day)), "month": str(int(month)), "year": year}


def fill_date(page, name: str, iso_date: str) -> None:
    for part, value in date_parts(iso_date).items():
        page.locator(f'[name="{name}_{part}"]').fill(value)


def press_forward(page) -> None:
    """The step's forward button, in any language."""
    page.locator('#questionnaire-form button[name="action"][value="next"]').click()


def complete_step(page, slug: str, answers: dict, next_slug: str | None) -> None:
    """Answer one step and go on; ``next_slug`` None: send from the check page, then thanks."""
    expect_step(page, slug)
    answer_step(page, answers)
    if next_slug is None:
        send_from_check_page(page)
    else:
        expect_step(page, next_slug)


def answer_step(page, answers: dict) -> None:
    """Answer the step on the page and go forward, in any language.

    Without JavaScript a follow-up question is asked once the page knows it
    applies: the same step comes back with it, and it is answered then.
    """
    step = page.locator("#progress-text").inner_text()
    not_asked = fill_answers(page, answers)
    press_forward(page)
    if not_asked:
        page.wait_for_load_state()
        if page.locator("#progress-text").count() and (
            page.locator("#progress-text").inner_text() == step
        ):
            fill_answers(page, {name: answers[name] for name in not_asked})
            press_forward(page)


def send_from_check_page(page) -> None:
    """On the check page, press "Send my answers" and reach the confirmation."""
    expect(page.locator("h1")).to_have_text(CHECK_TITLE)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.locator("h1")).to_have_text(re.compile(r"^Thank you\."))


def case_reference(page) -> str:
    reference = page.locator(".case-reference").inner_text()
    assert re.fullmatch(r"C-[A-Z0-9]{6,}", reference), reference
    return reference


# Keyboard only -------------------------------------------------------------------

_FOCUSED = """() => {
  const e = document.activeElement;
  return {name: e.name || "", type: e.type || "", value: e.value ?? "",
          tag: e.tagName, id: e.id, checked: Boolean(e.checked), text: e.innerText || ""};
}"""


def focused(page) -> dict:
    return page.evaluate(_FOCUSED)


def tab_to(page, name: str, *, limit: int = 40) -> dict:
    """Press Tab until the control called ``name`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now["name"] == name:
            return now
    raise AssertionError(f"Pressing Tab {limit} times never reached {name!r}")


def tab_to_text(page, text: str, *, limit: int) -> None:
    """Press Tab until the control whose text is ``text`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page)["text"] == text:
            return
    raise AssertionError(f"Pressing Tab {limit} times never reached {text!r}")


def key_in_date(page, name: str, iso_date: str) -> None:
    """Type a date into its day, month and year boxes, moving between them with Tab."""
    parts = date_parts(iso_date)
    tab_to(page, f"{name}_day")
    page.keyboard.type(parts["day"])
    for part in ("month", "year"):
        page.keyboard.press("Tab")
        assert focused(page)["name"] == f"{name}_{part}"
        page.keyboard.type(parts[part])


def key_in_answer(page, name: str, value) -> None:
    """Reach the question with Tab and answer it with the keys a keyboard user would."""
    if page.locator(f'[name="{name}_day"]').count():
        key_in_date(page, name, value)
        return
    now = tab_to(page, name)
    if now["type"] == "radio":
        # Arrow keys move through a radio group and select as they go; Space
        # selects the first option, which has the focus when nothing is chosen.
        for _ in range(12):
            if now["value"] == str(value):
                if not now["checked"]:
                    page.keyboard.press("Space")
                return
            page.keyboard.press("ArrowDown")
            now = focused(page)
        raise AssertionError(f"{name}: no option {value!r}")
    if now["type"] == "checkbox":
        page.keyboard.press("Space")
    else:
        page.keyboard.type(str(value))


def key_in_step(page, answers: dict) -> None:
    """Answer a whole step from the keyboard, then press Enter on the forward button."""
    for name, value in answers.items():
        if value not in ("", None):
            key_in_answer(page, name, value)
    button = tab_to(page, "action")
    assert button["value"] == "next", button
    page.keyboard.press("Enter")


# Checks made on pages -------------------------------------------------------------

AXE = Axe()
BLOCKING_IMPACTS = ("critical", "serious")


def _describe(violation: dict) -> str:
    lines = [f"  [{violation['impact']}] {violation['id']}: {violation['help']}"]
    for node in violation["nodes"][:5]:
        checks = node.get("any", []) + node.get("all", []) + node.get("none", [])
        why = "; ".join(check["message"] for check in checks if check.get("message"))
        lines.append(f"      {' '.join(map(str, node['target']))}: {why}")
    return "\n".join(lines)


def assert_no_serious_axe_violations(page, label: str) -> list[dict]:
    """Run axe-core in the page; fail on any serious or critical violation.

    Moderate and minor findings are returned and written to
    test-artifacts/browser/axe-summary.txt for people to read.
    """
    violations = AXE.run(page).response["violations"]
    AXE_SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    with AXE_SUMMARY.open("a") as summary:
        counts = {}
        for violation in violations:
            counts[violation["impact"]] = counts.get(violation["impact"], 0) + 1
        summary.write(f"{label}\t{page.url}\t{json.dumps(counts)}\n")
        summary.writelines(_describe(violation) + "\n" for violation in violations)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe-core on {label} ({page.url}):\n" + "\n".join(
        _describe(violation) for violation in blocking
    )
    return violations


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


_UNLABELLED_CONTROLS = """() => {
  const named = e => (e.labels && [...e.labels].some(l => l.textContent.trim()))
    || (e.getAttribute("aria-label") || "").trim()
    || (e.getAttribute("aria-labelledby") || "").split(/\\s+/).some(
         id => id && (document.getElementById(id)?.textContent || "").trim());
  const problems = [];
  for (const e of document.querySelectorAll(
      "input:not([type=hidden], [type=submit], [type=button], [type=reset], [type=image]),"
      + " select, textarea")) {
    if (!named(e)) problems.push(`${e.name || e.id || e.outerHTML.slice(0, 120)}: no label`);
    if (e.type === "radio") {
      const legend = e.closest("fieldset")?.querySelector("legend");
      if (!legend || !legend.textContent.trim()) problems.push(`${e.name}: no question (legend)`);
    }
  }
  return problems;
}"""


def unlabelled_controls(page) -> list[str]:
    """Form controls without a visible label, and radio groups without a question."""
    return page.evaluate(_UNLABELLED_CONTROLS)


# Staff -------------------------------------------------------------------------


def log_in(page, user, next_url: str = "/admin/") -> None:
    """Log in through the admin's own login form, as staff do."""
    page.goto(f"/admin/login/?next={next_url}")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{next_url}")


# Controls: contrast, target size and focus, measured in the page -----------------
# What axe-core does not check: the colours and sizes the browser really draws.
# The page reports raw computed styles and boxes; the arithmetic is done here in
# Python, after WCAG 2.2's definitions, so it can be read and tested on its own.

_RGB = re.compile(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)")
_SHADOW = re.compile(
    r"(rgba?\([^)]*\))\s+(-?[\d.]+)px\s+(-?[\d.]+)px\s+(-?[\d.]+)px\s+(-?[\d.]+)px(\s+inset)?"
)

Rgba = tuple[float, float, float, float]


def parse_colour(css: str) -> Rgba:
    """A computed colour (Chromium gives ``rgb(…)`` or ``rgba(…)``) as (r, g, b, alpha)."""
    match = _RGB.search(css or "")
    if match is None:
        if (css or "").strip() in ("", "transparent"):
            return (0.0, 0.0, 0.0, 0.0)
        raise ValueError(f"not a computed colour: {css!r}")
    red, green, blue, alpha = match.groups()
    if alpha is None:
        opacity = 1.0
    elif alpha.endswith("%"):
        opacity = float(alpha[:-1]) / 100
    else:
        opacity = float(alpha)
    return (float(red), float(green), float(blue), opacity)


def over(top: Rgba, bottom: Rgba) -> Rgba:
    """``top`` painted over an opaque ``bottom`` (simple alpha compositing)."""
    alpha = top[3]
    return (*(t * alpha + b * (1 - alpha) for t, b in zip(top[:3], bottom[:3], strict=True)), 1.0)


def backdrop(layers: list[str]) -> Rgba:
    """The opaque colour behind an element, from its ancestors' backgrounds (nearest first).

    The canvas under everything is white, as the page has no background of its own.
    """
    colour: Rgba = (255.0, 255.0, 255.0, 1.0)
    for css in reversed(layers):
        colour = over(parse_colour(css), colour)
    return colour


def relative_luminance(colour: Rgba) -> float:
    """WCAG 2.2's relative luminance of an opaque sRGB colour."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in colour[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: Rgba, second: Rgba) -> float:
    """WCAG contrast ratio, from 1 (same) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def css_colour(colour: Rgba) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(round(c) for c in colour[:3]))


def box_shadows(css: str) -> list[dict]:
    """A computed ``box-shadow`` as a list of {colour, spread, inset}."""
    return [
        {"colour": colour, "spread": float(spread), "inset": bool(inset)}
        for colour, _x, _y, _blur, spread, inset in _SHADOW.findall(css or "")
    ]


# Every control a patient can see, with its boxes and colours. "choice" is a
# radio or checkbox (its target is the box together with its labels); "field"
# a text box, list box or text area; "button" a button or a link drawn as one;
# "nav" a header link; "link" any other link. Hidden ones are left out: those
# in a question not asked, and the skip link until it has the focus.
_CONTROLS = """() => {
  const shown = e => e.checkVisibility({opacityProperty: true, visibilityProperty: true})
    && !e.closest(".visually-hidden, .visually-hidden-focusable:not(:focus-within)")
    && e.getClientRects().length > 0;
  const words = t => (t || "").replace(/\\s+/g, " ").trim().slice(0, 60);
  const kindOf = e => {
    if (e.matches("input[type=radio], input[type=checkbox]")) return "choice";
    if (e.matches("input[type=submit], input[type=button], input[type=reset], button, .btn,"
                  + " [role=button]")) return "button";
    if (e.matches("input, select, textarea")) return "field";
    if (e.matches(".nav-link")) return "nav";
    return "link";
  };
  const label = e => words((e.labels && e.labels.length && e.labels[0].innerText)
    || e.getAttribute("aria-label") || e.innerText || e.value || e.name);
  const box = r => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom});
  const backgrounds = e => {
    const layers = [];
    for (let a = e.parentElement; a; a = a.parentElement) {
      layers.push(getComputedStyle(a).backgroundColor);
    }
    return layers;
  };
  // A link in running text: other words share its line (WCAG 2.5.8's inline exception).
  const inText = e => {
    let block = e.parentElement;
    while (block && getComputedStyle(block).display.startsWith("inline")) {
      block = block.parentElement;
    }
    if (!block) return false;
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (e.contains(n) || !n.textContent.trim()) continue;
      let p = n.parentElement, inline = true;
      for (; p && p !== block; p = p.parentElement) {
        if (!getComputedStyle(p).display.startsWith("inline")) { inline = false; break; }
      }
      if (inline) return true;
    }
    return false;
  };
  const found = [];
  const selector = "input:not([type=hidden]), select, textarea, button, a[href], [role=button]";
  for (const e of document.querySelectorAll(selector)) {
    if (!shown(e)) continue;
    const kind = kindOf(e);
    const s = getComputedStyle(e);
    const boxes = [e.getBoundingClientRect()];
    if (kind === "choice") for (const l of e.labels || []) boxes.push(l.getBoundingClientRect());
    e.__controlProbe = found.length;
    found.push({
      probe: found.length, kind, tag: e.tagName.toLowerCase(), type: e.type || "",
      name: e.name || "", value: kind === "choice" ? e.value : "", label: label(e),
      disabled: Boolean(e.disabled), tabIndex: e.tabIndex,
      box: box(e.getBoundingClientRect()),
      target: {left: Math.min(...boxes.map(b => b.left)), top: Math.min(...boxes.map(b => b.top)),
               right: Math.max(...boxes.map(b => b.right)),
               bottom: Math.max(...boxes.map(b => b.bottom))},
      edgeWidths: [s.borderTopWidth, s.borderRightWidth, s.borderBottomWidth, s.borderLeftWidth]
        .map(parseFloat),
      edgeStyles: [s.borderTopStyle, s.borderRightStyle, s.borderBottomStyle, s.borderLeftStyle],
      edgeColours: [s.borderTopColor, s.borderRightColor, s.borderBottomColor, s.borderLeftColor],
      fill: s.backgroundColor, behind: backgrounds(e),
      inText: kind === "link" && inText(e),
    });
  }
  return found;
}"""

# The element that has the focus now, and how its focus is drawn.
_FOCUS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return null;
  const s = getComputedStyle(e);
  const layers = [];
  for (let a = e.parentElement; a; a = a.parentElement) {
    layers.push(getComputedStyle(a).backgroundColor);
  }
  const r = e.getBoundingClientRect();
  return {
    probe: e.__controlProbe ?? null, tag: e.tagName.toLowerCase(), type: e.type || "",
    name: e.name || "",
    label: ((e.labels && e.labels.length && e.labels[0].innerText) || e.getAttribute("aria-label")
            || e.innerText || e.value || e.name || "").replace(/\\s+/g, " ").trim().slice(0, 60),
    focusVisible: e.matches(":focus-visible"),
    outlineStyle: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth),
    outlineColour: s.outlineColor, boxShadow: s.boxShadow, behind: layers,
    width: r.width, height: r.height,
  };
}"""


_FROM_THE_TOP = """() => {
  const body = document.body, had = body.getAttribute("tabindex");
  body.setAttribute("tabindex", "-1");
  body.focus({preventScroll: true});
  if (had === null) body.removeAttribute("tabindex"); else body.setAttribute("tabindex", had);
  window.scrollTo(0, 0);
}"""


def visible_controls(page) -> list[dict]:
    """Every control shown on the page, with its target box, edges and backgrounds.

    Each is marked in the page (a JavaScript property, not an attribute) so
    :func:`tab_through` can tell which of them the keyboard reached.
    """
    return page.evaluate(_CONTROLS)


def tab_through(page, *, limit: int = 300) -> list[dict]:
    """Press Tab from the top of the page to its end; how each stop shows its focus."""
    # Start from the top, as on a freshly opened page. Only blurring would not
    # do: Chromium goes on from the last control clicked or typed in.
    page.evaluate(_FROM_THE_TOP)
    stops: list[dict] = []
    seen = set()
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = page.evaluate(_FOCUS)
        if now is None:  # past the last control: the focus left the page
            return stops
        key = (now["probe"], now["tag"], now["name"], now["label"])
        if key in seen:  # round to the top again
            return stops
        seen.add(key)
        stops.append(now)
    raise AssertionError(f"Tab never left the page after {limit} presses")


def focus_indicator_contrast(stop: dict) -> float:
    """The best contrast of the focus ring (outline or box-shadow spread) against the page."""
    behind = backdrop(stop["behind"])
    best = 1.0
    if stop["outlineStyle"] not in ("none", "hidden") and stop["outlineWidth"] >= 2:
        colour = over(parse_colour(stop["outlineColour"]), behind)
        best = max(best, contrast_ratio(colour, behind))
    for shadow in box_shadows(stop["boxShadow"]):
        if shadow["spread"] >= 2 and not shadow["inset"]:
            colour = over(parse_colour(shadow["colour"]), behind)
            best = max(best, contrast_ratio(colour, behind))
    return best
