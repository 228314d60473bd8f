"""The patient's answers in words, step by step, for the "Check your answers" page.

Each answer is shown the way the patient chose it (the choice's label, a
date written out with the month's name so it cannot be misread), under the
question as they saw it, with the address of the step that asks it.
Questions not asked (``CONDITIONAL_QUESTIONS``) are left out, and the
consent statement, which the patient cannot send without, is not repeated.
"""

import datetime
import functools
from dataclasses import dataclass

from babel.dates import format_date
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from .forms import STEPS, DatePartsField, Step, is_asked
from .paths import step_path

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


@dataclass(frozen=True)
class _Question:
    code: str
    label: str
    choices: dict[str, str] | None
    is_date: bool


@functools.cache
def _questions(slug: str, language: str) -> tuple[_Question, ...]:
    """A step's reviewed questions in one language, worded once per process."""
    step = next(step for step in STEPS if step.slug == slug)
    questions = []
    for code, field in step.form_class.base_fields.items():
        if code in NOT_REVIEWED:
            continue
        choices = getattr(field, "choices", None)
        questions.append(
            _Question(
                code,
                str(field.label),
                {str(key): str(label) for key, label in choices} if choices else None,
                isinstance(field, DatePartsField),
            )
        )
    return tuple(questions)


def _answers_in_words(step: Step, raw: dict, answered: dict) -> list[ReviewedAnswer]:
    answers = answered.get(step.slug, {})
    typed = raw.get(step.slug, {})
    change = step_path(step.slug) + "?return=check"
    not_given = str(NOT_GIVEN)
    rows = []
    for question in _questions(step.slug, get_language() or "en"):
        code = question.code
        if not is_asked(code, answers):
            continue
        value = answers.get(code)
        if question.is_date:
            # A day typed in its box, or a whole date sent as one (ISO) value.
            day_given = bool(typed.get(f"{code}_day") or typed.get(code))
            words = _date_in_words(value, day_given=day_given)
        elif value is None or value == "":
            words = not_given
        elif question.choices is not None:
            words = question.choices.get(str(value), str(value))
        else:
            words = str(value)
        rows.append(ReviewedAnswer(code, question.label, words, f"{change}#div_id_{code}"))
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
