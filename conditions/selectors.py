"""Reads of the education library that other apps share."""

import copy
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import connections, router
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
#: short enough to read and each link can carry its one-line description.
MAX_SUGGESTED_CONDITIONS = 4

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


@functools.cache
def _listed_conditions_sql(alias: str) -> tuple[str, tuple]:
    """``listed_conditions()`` as SQL for one database, built once per process.

    The SQL depends only on the models, never on the data, and building it
    (the translation flags are many conditions) cost more CPU than running it.
    """
    return listed_conditions().query.get_compiler(alias).as_sql()


#: Each process's copy of the published pages as lists show them, by database:
#: (every published page's id and row version when read, the pages).
_listed_pages: dict[str, tuple[tuple, tuple[Condition, ...]]] = {}

#: Every published page's id and row version. However a row is changed,
#: PostgreSQL writes a new version of it, marked with the transaction that
#: wrote it (``xmin``) and the statement within that transaction (``cmin``).
_PUBLISHED_VERSIONS_SQL = (
    f"SELECT id, xmin::text, cmin::text FROM {Condition._meta.db_table} "  # noqa: S608 - the model's table
    "WHERE is_published ORDER BY id"
)


def listed_conditions_now() -> tuple[Condition, ...]:
    """What ``listed_conditions()`` finds, for pages every patient sees.

    Used for the topics after every questionnaire. On PostgreSQL each process
    keeps the pages it read last; every call reads only each published page's
    id and row version (one small statement) and reads the pages again when
    any differ, so a page published, changed (by any means) or withdrawn shows
    at once. Elsewhere (SQLite, for development) the pages are read every time.
    Either way the statement that reads the pages is built once per process.

    The pages returned may be shared between requests: copy one before changing it.
    """
    alias = router.db_for_read(Condition)
    connection = connections[alias]
    versions = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PUBLISHED_VERSIONS_SQL)
            versions = tuple(map(tuple, cursor.fetchall()))
        kept = _listed_pages.get(alias)
        if kept is not None and kept[0] == versions:
            return kept[1]
    # Read after the versions: a page changed in between is read new and kept
    # under its old version, so the next call reads it again (never the reverse).
    sql, params = _listed_conditions_sql(alias)
    pages = tuple(Condition.objects.db_manager(alias).raw(sql, params))
    if versions is not None:
        _listed_pages[alias] = (versions, pages)
    return pages


def _answer_as_text(answer: object) -> str:
    if answer is True:
        return "yes"
    if answer is False:
        return "no"
    return str(answer).strip().lower()


def matching_codes(codes: Iterable[str], answers: Mapping[str, object]) -> list[str]:
    """The entries of ``codes`` that the answers match, each once, in their order.

    A bare code matches the answer "yes"; ``code=value`` matches that answer
    exactly. A question that was not asked (missing key) matches nothing.
    """
    matched = []
    for related_code in codes:
        code, expected = parse_related_code(related_code)
        answer = answers.get(code)
        if answer is None or _answer_as_text(answer) != expected:
            continue
        if related_code not in matched:
            matched.append(related_code)
    return matched


def condition_match_count(related_codes: Iterable[str], answers: Mapping[str, object]) -> int:
    """How many of a condition's related codes the answers match."""
    return len(matching_codes(related_codes, answers))


def suggestion_reasons(condition: Condition, answers: Mapping[str, object]) -> list[str]:
    """The answers that point to ``condition``, or none when it must not be suggested.

    A page is suggested only for a reason in the answers: at least one of its
    related codes matches, and, when it lists codes it needs (``required_codes``,
    such as diabetes for diabetic neuropathy), at least one of those matches too.
    The reasons are the matching needed codes, then the matching related codes.
    """
    related = matching_codes(condition.related_codes or [], answers)
    if not related:
        return []
    required = matching_codes(condition.required_codes or [], answers)
    if condition.required_codes and not required:
        return []
    return required + [code for code in related if code not in required]


def conditions_for_answers(answers: Mapping[str, object]) -> list[Condition]:
    """Published pages the symptom answers point to, most relevant first, at most four.

    Pages in the serious group (cauda equina syndrome, spinal tumour) come
    first, so a patient never misses the emergency page because calmer topics
    matched more answers; within each part, the page with more matching answers
    comes first, then the library's sort order. Each page returned carries its
    reasons as ``suggestion_reasons`` (see ``suggestion_reasons()``).
    """
    if not answers:
        return []
    scored = []
    for condition in listed_conditions_now():
        reasons = suggestion_reasons(condition, answers)
        if reasons:
            scored.append((condition, reasons))
    scored.sort(
        key=lambda scored_page: (
            scored_page[0].group != ConditionGroup.SERIOUS,
            -len(scored_page[1]),
            scored_page[0].sort_order,
            scored_page[0].title,
        )
    )
    suggested = []
    for condition, reasons in scored[:MAX_SUGGESTED_CONDITIONS]:
        condition = copy.copy(condition)  # the listed pages are shared: see listed_conditions_now
        condition.suggestion_reasons = reasons
        suggested.append(condition)
    return suggested


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
