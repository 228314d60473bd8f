"""The questionnaire's fields, as crispy-forms renders them, without rendering them every time.

Rendering a step's fields through crispy-forms' templates is most of the
work of showing a step (about 9 of 13 ms of CPU here, docs/performance.md).
Most of the time a step is shown blank: the patient has not answered it yet.
A blank form's HTML depends only on its class and the active language, so it
is rendered once per process and language and reused. A form with anything
in it (answers from the draft, or errors after a post) is rendered afresh
every time, so a patient's answers never enter the shared cache.
"""

import functools

from crispy_forms.utils import render_crispy_form
from django import template
from django.utils.translation import get_language

register = template.Library()


@functools.cache
def _blank_fields_html(form_class: type, language: str) -> str:
    return render_crispy_form(form_class())


def is_blank(form) -> bool:
    """A form with no data, no initial values and no prefix: its HTML never varies."""
    return not form.is_bound and not form.initial and form.prefix is None


@register.simple_tag
def questionnaire_fields(form) -> str:
    """The step's fields; equal to ``{% crispy form %}`` (a test checks every step)."""
    if is_blank(form):
        return _blank_fields_html(type(form), get_language())
    return render_crispy_form(form)
