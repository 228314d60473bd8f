"""Template helpers for the education library.

``plain_text`` is the only way page text reaches HTML. The text comes from the
database, edited by staff, so it is treated as untrusted: every piece is escaped
by ``format_html``/``format_html_join`` and only the tags built here are markup.
"""

from collections.abc import Mapping

from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from conditions.selectors import conditions_for_answers

register = template.Library()

BULLET = "- "


def _blocks(text: str) -> list[list[str]]:
    """Split text into blocks of non-empty lines, a blank line ending a block."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for raw_line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw_line.strip()
        if line:
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _render_block(lines: list[str]) -> list[SafeString]:
    """A block becomes paragraphs and bullet lists, in the order its lines come."""
    parts: list[SafeString] = []
    paragraph: list[str] = []
    bullets: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            parts.append(format_html("<p>{}</p>", " ".join(paragraph)))
            paragraph.clear()

    def flush_bullets() -> None:
        if bullets:
            items = format_html_join("", "<li>{}</li>", ((item,) for item in bullets))
            parts.append(format_html("<ul>{}</ul>", items))
            bullets.clear()

    for line in lines:
        if line.startswith(BULLET):
            flush_paragraph()
            bullets.append(line[len(BULLET) :].strip())
        else:
            flush_bullets()
            paragraph.append(line)
    flush_paragraph()
    flush_bullets()
    return parts


@register.filter(name="plain_text", is_safe=False, needs_autoescape=False)
def plain_text(text: object) -> SafeString:
    """Render stored plain text as escaped HTML paragraphs and bullet lists.

    A blank line starts a new paragraph; a line starting with "- " is a bullet.
    Nothing in the text is ever treated as HTML.
    """
    if text is None:
        return SafeString("")
    parts: list[SafeString] = []
    for block in _blocks(str(text)):
        parts.extend(_render_block(block))
    # Each part was built by format_html, which escaped every piece of the text.
    return mark_safe("\n".join(parts))  # noqa: S308


@register.filter(name="end_sentence")
def end_sentence(text: object) -> str:
    """Add a full stop unless the text already ends with one (``et al.``, ``?``)."""
    value = str(text or "").strip()
    if not value or value[-1] in ".?!":
        return value
    return value + "."


@register.inclusion_tag("conditions/_topics_for_answers.html")
def condition_topics(answers: Mapping[str, object], show_heading: bool = True):
    """Links to the library pages relevant to a patient's answers.

    For the patient's confirmation page and the staff case page:
    ``{% load conditions_tags %}{% condition_topics case.answers %}``.
    """
    return {
        "topics": conditions_for_answers(answers or {}),
        "show_heading": show_heading,
    }


def render_condition_topics(answers: Mapping[str, object]) -> str:
    """The same links as HTML, for places without a template (e.g. an admin field)."""
    return render_to_string(
        "conditions/_topics_for_answers.html",
        {"topics": conditions_for_answers(answers or {}), "show_heading": False},
    )
