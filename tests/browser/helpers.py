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
FORWARD_BUTTON = re.compile(r"^(Save and continue|Send my answers)$")

# Questionnaire -----------------------------------------------------------------


def expect_step(page, slug: str) -> None:
    """The page shows this step, with its styles and script loaded."""
    expect(page.locator("h1")).to_have_text(STEP_TITLES[slug])
    page.wait_for_load_state()


def fill_answers(page, answers: dict) -> None:
    """Answer with the mouse and by typing: radios and boxes clicked, text typed in.

    Empty answers are left alone, as a patient skips an optional question.
    """
    for name, value in answers.items():
        if value in ("", None):
            continue
        field = page.locator(f'[name="{name}"]')
        kind = field.first.evaluate("element => element.type")
        if kind == "radio":
            page.locator(f'input[name="{name}"][value="{value}"]').check()
        elif kind == "checkbox":
            field.check()
        else:
            field.fill(str(value))


def press_forward(page) -> None:
    page.get_by_role("button", name=FORWARD_BUTTON).click()


def complete_step(page, slug: str, answers: dict, next_slug: str | None) -> None:
    """Answer one step and go on; ``next_slug`` None means the confirmation page."""
    expect_step(page, slug)
    fill_answers(page, answers)
    press_forward(page)
    if next_slug is None:
        expect(page.locator("h1")).to_have_text("Thank you. We have your answers.")
    else:
        expect_step(page, next_slug)


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


def key_in_date(page, iso_date: str) -> None:
    """Type a date into a focused native date input, segment by segment (US order)."""
    year, month, day = iso_date.split("-")
    page.keyboard.type(f"{month}{day}{year}")


def key_in_answer(page, name: str, value) -> None:
    """Reach the question with Tab and answer it with the keys a keyboard user would."""
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
    elif now["type"] == "date":
        key_in_date(page, value)
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
