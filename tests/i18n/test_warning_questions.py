"""Every warning-sign question is asked positively, in English and in Spanish.

SPEC "Urgent warning signs": word every warning question positively ("Is it
newly hard to pee?"), never as a negative ("Are you unable to...?", "¿No
puede...?"): a frightened or older reader answers a negative question with a
reversed yes/no, in Spanish especially. A reversed answer here hides an
emergency, so the labels checked are the real ones the questionnaire shows
(``intake.forms.WarningSignsForm``), in each language the site offers.
"""

import re

import pytest
from django.utils import translation

from intake import triage
from intake.forms import STEP_BY_SLUG, WarningSignsForm

#: How a negative question starts (the label, or any "¿...?" inside it).
NEGATIVE_STARTS = {
    "en": (
        "Are you unable",
        "Can you not",
        "Can't you",
        "Cannot you",
        "Have you lost",
        "Are you not",
        "Aren't you",
        "Do you not",
        "Don't you",
    ),
    "es": ("¿No ", "¿Es incapaz", "¿Ya no"),
}
#: A negation anywhere in the question ("¿Desde hace poco no puede...?" is as
#: negative as "¿No puede...?").
NEGATIVE_WORDS = {
    "en": re.compile(r"\b(?:not|no|never|unable|cannot)\b|n't\b", re.IGNORECASE),
    "es": re.compile(r"\b(?:no|ni|nunca|jamás|incapaz)\b", re.IGNORECASE),
}
CODES = list(WarningSignsForm.base_fields)


def questions(label: str) -> list[str]:
    """The label, and each "¿...?" question inside it (Spanish may open one mid-label)."""
    return [label, *re.findall(r"¿[^?]*\??", label)]


def negative_wording(label: str, language: str) -> list[str]:
    """What makes ``label`` a negative question in ``language``; empty when it is positive."""
    found = []
    for question in questions(label.strip()):
        found += [start for start in NEGATIVE_STARTS[language] if question.startswith(start)]
        found += NEGATIVE_WORDS[language].findall(question)
    return found


def warning_labels(language: str) -> dict[str, str]:
    """code -> the question as the warning-signs step shows it in ``language``."""
    with translation.override(language):
        form = STEP_BY_SLUG["warning-signs"].form_class()
        return {code: str(field.label) for code, field in form.fields.items()}


def test_the_check_rejects_negative_questions_and_accepts_positive_ones():
    """The checks below must be able to fail."""
    for negative in (
        "Are you unable to pass urine (pee), or do you have to strain to start?",
        "Have you lost the feeling of needing to pee?",
        "Can you not feel when you need to poo?",
        "Is it newly hard to pee, or can't you start?",
    ):
        assert negative_wording(negative, "en"), negative
    for negative in (
        "¿No puede orinar, o tiene que hacer fuerza (pujar) para empezar a orinar?",
        "¿Es incapaz de orinar?",
        "¿Ya no siente las ganas de orinar?",
        "¿Desde hace poco no puede controlar el intestino?",
        "Si le falla una pierna: ¿no puede levantarla?",
    ):
        assert negative_wording(negative, "es"), negative
    assert negative_wording("Is it newly hard to pee?", "en") == []
    assert negative_wording("¿Desde hace poco le cuesta orinar?", "es") == []


def test_the_warning_signs_step_asks_every_cauda_equina_question():
    assert STEP_BY_SLUG["warning-signs"].form_class is WarningSignsForm
    assert set(CODES) == set(triage.CES_CODES)


@pytest.mark.parametrize("code", CODES)
def test_the_english_warning_question_is_positive(code):
    label = warning_labels("en")[code]
    assert not negative_wording(label, "en"), f"{code}: {label!r}"


@pytest.mark.parametrize("code", CODES)
def test_the_spanish_warning_question_is_positive(code):
    label = warning_labels("es")[code]
    # Spanish, not the English falling through: else this test would check English.
    assert label != warning_labels("en")[code], f"{code} has no Spanish: {label!r}"
    assert label.startswith("¿") and label.endswith("?"), f"{code}: {label!r}"
    assert not negative_wording(label, "es"), f"{code}: {label!r}"
