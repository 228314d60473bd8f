"""Every question a patient reads is plain: Flesch-Kincaid grade 6 or lower, in English.

The grade comes from textstat (syllables from the CMU dictionary, shipped on
PyPI). A few medical names have no plain equivalent and are needed so the
patient can recognise what they were told (the hint explains them); each is
counted as a one-syllable word, so a question cannot hide long words behind them.
"""

import re

import pytest
import textstat
from django.utils import translation

from intake.forms import STEPS

MAX_GRADE = 6
#: Names a patient is told by their doctor, explained by the question's hint where needed.
NAMED_TERMS = ("diabetes", "osteoporosis", "statin", "cancer")

QUESTIONS = [
    (step.slug, code, field)
    for step in STEPS
    for code, field in step.form_class.base_fields.items()
    if str(field.label).endswith("?") or "?" in str(field.label)
]


def reading_grade(text: str) -> float:
    text = text.replace("(optional)", "")  # a marker on the label, not part of the question
    for term in NAMED_TERMS:
        text = re.sub(term, "it", text, flags=re.IGNORECASE)
    return textstat.flesch_kincaid_grade(text)


def test_every_step_asks_questions():
    assert {slug for slug, _code, _field in QUESTIONS} == {step.slug for step in STEPS} - {"about"}
    assert len(QUESTIONS) >= 30


@pytest.mark.parametrize(("slug", "code", "field"), QUESTIONS, ids=[q[1] for q in QUESTIONS])
def test_question_reads_at_grade_six_or_lower(slug, code, field):
    with translation.override("en"):
        label = str(field.label)
    assert reading_grade(label) <= MAX_GRADE, f"{code}: grade {reading_grade(label):.1f}: {label}"


@pytest.mark.parametrize("step", STEPS, ids=[step.slug for step in STEPS])
def test_each_step_introduction_reads_at_grade_six_or_lower(step):
    with translation.override("en"):
        intro = str(step.intro)
    assert reading_grade(intro) <= MAX_GRADE, f"grade {reading_grade(intro):.1f}: {intro}"


def test_the_grade_is_measured_not_assumed():
    # The questions this replaced read at grade 12 or more; the measure must see that.
    assert (
        reading_grade(
            "Have you recently had an infection, been dehydrated, or felt unusually tired?"
        )
        > MAX_GRADE
    )
