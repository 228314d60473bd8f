"""Reads of the education library that other apps share."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from .codes import parse_related_code
from .models import (
    SECTION_FIELDS,
    TRANSLATION_LANGUAGES,
    Condition,
    ConditionGroup,
    translated_field_names,
    translation_annotation_name,
)

#: At most this many pages are suggested after a questionnaire, so the list stays
#: short enough to read; pages in the serious group are never dropped by the cap.
MAX_SUGGESTED_CONDITIONS = 6


#: The long texts a list of pages never shows, in every language.
LONG_TEXT_FIELDS = (
    *SECTION_FIELDS,
    *(f"{name}_{language}" for language in TRANSLATION_LANGUAGES for name in SECTION_FIELDS),
)


def with_translation_flags(queryset: QuerySet[Condition]) -> QuerySet[Condition]:
    """Annotate whether each page is complete in each language, for ``has_translation``.

    Computed by the database, so a list can tell which pages have a Spanish
    version without loading their (deferred) section texts.
    """
    flags = {}
    for language in TRANSLATION_LANGUAGES:
        missing = Q()
        for name in translated_field_names(language):
            missing |= Q(**{name: ""})
        flags[translation_annotation_name(language)] = ExpressionWrapper(
            ~missing, output_field=BooleanField()
        )
    return queryset.annotate(**flags)


def listed_conditions() -> QuerySet[Condition]:
    """Published pages with what a list shows: titles and summaries in every language."""
    return with_translation_flags(
        Condition.objects.filter(is_published=True).defer(*LONG_TEXT_FIELDS)
    )


def _answer_as_text(answer: object) -> str:
    if answer is True:
        return "yes"
    if answer is False:
        return "no"
    return str(answer).strip().lower()


def condition_match_count(related_codes: Iterable[str], answers: Mapping[str, object]) -> int:
    """How many of a condition's related codes the answers match.

    A bare code matches the answer "yes"; ``code=value`` matches that answer
    exactly. A question that was not asked (missing key) matches nothing.
    """
    matches = 0
    for related_code in set(related_codes):
        code, expected = parse_related_code(related_code)
        answer = answers.get(code)
        if answer is not None and _answer_as_text(answer) == expected:
            matches += 1
    return matches


def conditions_for_answers(answers: Mapping[str, object]) -> list[Condition]:
    """Published conditions related to the symptom answers, most relevant first.

    Ordered by the number of matching answers (most first), then by the
    library's sort order. At most ``MAX_SUGGESTED_CONDITIONS`` are returned, except
    that a matching page in the serious group (cauda equina syndrome, spinal
    tumour) is always included: a patient must never miss the emergency page
    because calmer topics matched more answers.
    """
    if not answers:
        return []
    candidates = listed_conditions()
    scored = []
    for condition in candidates:
        count = condition_match_count(condition.related_codes, answers)
        if count:
            scored.append((count, condition))
    scored.sort(key=lambda item: (-item[0], item[1].sort_order, item[1].title))
    ranked = [condition for _count, condition in scored]

    serious = [c for c in ranked if c.group == ConditionGroup.SERIOUS]
    room_for_others = max(MAX_SUGGESTED_CONDITIONS - len(serious), 0)
    others = [c for c in ranked if c.group != ConditionGroup.SERIOUS][:room_for_others]
    kept = {c.pk for c in serious} | {c.pk for c in others}
    return [c for c in ranked if c.pk in kept]


@dataclass(frozen=True)
class ConditionGroupListing:
    value: str
    label: str
    conditions: list[Condition]


def published_conditions_by_group() -> list[ConditionGroupListing]:
    """The published library for the list page, grouped in ``ConditionGroup`` order.

    One query; the long section texts are not loaded. Empty groups are left out.
    """
    conditions = listed_conditions()
    by_group: dict[str, list[Condition]] = {value: [] for value in ConditionGroup.values}
    for condition in conditions:
        by_group.setdefault(condition.group, []).append(condition)
    return [
        ConditionGroupListing(value=group.value, label=group.label, conditions=by_group[group])
        for group in ConditionGroup
        if by_group[group]
    ]


def condition_for_page() -> QuerySet[Condition]:
    """Conditions with what their detail page needs, in a fixed number of queries."""
    return Condition.objects.prefetch_related("references")
