"""The questionnaire's fields, as crispy-forms renders them, without rendering them every time.

Rendering a step's fields through crispy-forms' templates is most of the
work of showing a step (about 9 of 13 ms of CPU here, docs/performance.md).
Most of the time a step is shown blank: the patient has not answered it yet.
A blank form's HTML depends only on its class and the active language, so it
is rendered once per process and language and reused. A form with anything
in it (answers from the draft, or errors after a post) is rendered afresh
every time, so a patient's answers never enter the shared cache.

The rows of the "Check your answers" page are written here too, for speed:
the page lists every answer, and a template loop over them was a third of
its CPU (docs/performance.md, section 6).
"""

import functools
import html

from crispy_forms.utils import render_crispy_form
from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import get_language, gettext

from intake.answer_review import ReviewedSection

register = template.Library()


@functools.cache
def _blank_fields_html(form_class: type, language: str, follow_up: bool = False) -> str:
    return render_crispy_form(form_class(follow_up=follow_up))


def is_blank(form) -> bool:
    """A form with no data, no initial values and no prefix: its HTML never varies."""
    return not form.is_bound and not form.initial and form.prefix is None


@register.simple_tag
def questionnaire_fields(form) -> str:
    """The step's fields; equal to ``{% crispy form %}`` (a test checks every step)."""
    if is_blank(form):
        return _blank_fields_html(type(form), get_language(), getattr(form, "follow_up", False))
    return render_crispy_form(form)


#: One answer on the "Check your answers" page: the question, the answer, and
#: a "Change" link that names the question for screen readers. {0}: question,
#: {1}: extra classes of the answer, {2}: answer, {3}: change address, {4}: "Change".
CHECK_ROW_HTML = (
    '<div class="check-answers-row border-bottom py-2">\n'
    '<dt class="fw-normal text-body-secondary">{0}</dt>\n'
    '<dd class="fw-bold mb-1 check-answer{1}">{2}</dd>\n'
    '<dd class="mb-0"><a href="{3}">{4}<span class="visually-hidden"> {0}</span></a></dd>\n'
    "</div>"
)
#: Answers that must not break across lines (a phone number).
UNBROKEN_ANSWERS = frozenset({"phone"})


def _escaped(text: object, *, fixed: bool = False) -> str:
    """What ``conditional_escape`` gives, without its wrapper for lazy text.

    ``fixed``: a question or a change address (a few hundred in all), escaped
    once per process; never a patient's answer.
    """
    if isinstance(text, SafeData):
        return str(text)
    return _escaped_fixed(str(text)) if fixed else html.escape(str(text))


@functools.lru_cache(maxsize=2048)
def _escaped_fixed(text: str) -> str:
    return html.escape(text)


@register.simple_tag
def check_answer_rows(section: ReviewedSection) -> SafeString:
    """The rows of one step's answers, each escaped as ``{{ }}`` would escape it."""
    change = conditional_escape(gettext("Change"))
    return mark_safe(  # noqa: S308 - every value is escaped above or here
        "\n".join(
            CHECK_ROW_HTML.format(
                _escaped(row.question, fixed=True),
                " text-nowrap" if row.code in UNBROKEN_ANSWERS else "",
                _escaped(row.answer),
                _escaped(row.change_url, fixed=True),
                change,
            )
            for row in section.answers
        )
    )
