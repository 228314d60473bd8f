"""The patient's answers in words, step by step, for the "Check your answers" page.

Each answer is shown the way the patient chose it (the choice's label, a
date written out with the month's name so it cannot be misread), under the
question as they saw it, with the address of the step that asks it.
Questions not asked (``CONDITIONAL_QUESTIONS``) are left out, and the
consent statement, which the patient cannot send without, is not repeated.
"""

import datetime
from dataclasses import dataclass

from babel.dates import format_date
from django.urls import reverse
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from .forms import STEPS, DatePartsField, Step, is_asked

#: Questions left off the check page: agreeing to it is the condition of sending.
NOT_REVIEWED = frozenset({"consent"})
#: Babel's locale for each language's long dates ("27 March 1956", "27 de marzo de 1956").
DATE_LOCALES = {"en": "en_GB", "es": "es"}
NOT_GIVEN = _("Not given")


@dataclass(frozen=True)
class ReviewedAnswer:
    code: str
    question: str
    answer: str
    change_url: str


@dataclass(frozen=True)
class ReviewedSection:
    slug: str
    title: str
    answers: list[ReviewedAnswer]


def answer_sections(raw: dict, answered: dict) -> list[ReviewedSection]:
    """Every step's answers in words; ``raw``: the draft's data as typed, ``answered``: cleaned."""
    return [
        ReviewedSection(step.slug, str(step.title), _answers_in_words(step, raw, answered))
        for step in STEPS
    ]


def _answers_in_words(step: Step, raw: dict, answered: dict) -> list[ReviewedAnswer]:
    answers = answered.get(step.slug, {})
    typed = raw.get(step.slug, {})
    change = reverse("intake:step", kwargs={"step": step.slug}) + "?return=check"
    rows = []
    for code, field in step.form_class.base_fields.items():
        if code in NOT_REVIEWED or not is_asked(code, answers):
            continue
        value = answers.get(code)
        if isinstance(field, DatePartsField):
            # A day typed in its box, or a whole date sent as one (ISO) value.
            day_given = bool(typed.get(f"{code}_day") or typed.get(code))
            words = _date_in_words(value, day_given=day_given)
        elif value is None or value == "":
            words = str(NOT_GIVEN)
        elif getattr(field, "choices", None):
            words = str(dict((str(key), label) for key, label in field.choices).get(str(value)))
        else:
            words = str(value)
        rows.append(ReviewedAnswer(code, str(field.label), words, f"{change}#div_id_{code}"))
    return rows


def _date_in_words(value: str | None, *, day_given: bool) -> str:
    """A date with the month as a word; "March 2026" when the patient gave no day."""
    if not value:
        return str(NOT_GIVEN)
    day = datetime.date.fromisoformat(value)
    locale = DATE_LOCALES.get(get_language() or "en", "en_GB")
    if day_given:
        return format_date(day, "long", locale=locale)
    # Translators: a month and year, in Babel's (CLDR) date pattern: "March 2026".
    return format_date(day, gettext("LLLL y"), locale=locale).capitalize()
