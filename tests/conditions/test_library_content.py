"""The library that `migrate` loads: every topic the SPEC lists, complete and cited."""

import re

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError

from conditions.codes import validate_related_codes
from conditions.models import SECTION_FIELDS, Condition, ConditionGroup, ReferenceKind

# The SPEC's list of topics ("Conditions (education content)"), by slug.
SPEC_TOPICS = {
    "lumbar-radiculopathy-sciatica": ConditionGroup.SPINE,
    "lumbar-disc-herniation": ConditionGroup.SPINE,
    "spinal-stenosis": ConditionGroup.SPINE,
    "spondylolisthesis": ConditionGroup.SPINE,
    "cauda-equina-syndrome": ConditionGroup.SERIOUS,
    "diabetic-neuropathy": ConditionGroup.NERVES,
    "entrapment-neuropathy": ConditionGroup.NERVES,
    "muscle-weakness-other-causes": ConditionGroup.MUSCLE_JOINT,
    "sacroiliac-joint-dysfunction": ConditionGroup.MUSCLE_JOINT,
    "spinal-tumour": ConditionGroup.SERIOUS,
    "direct-nerve-trauma": ConditionGroup.NERVES,
}

pytestmark = pytest.mark.django_db


def library():
    return Condition.objects.filter(slug__in=SPEC_TOPICS).prefetch_related("references")


def test_every_spec_topic_exists_after_migrate_and_is_published():
    found = {c.slug: c for c in library()}
    assert set(found) == set(SPEC_TOPICS)
    for slug, group in SPEC_TOPICS.items():
        assert found[slug].is_published, slug
        assert found[slug].group == group, slug


@pytest.mark.parametrize("slug", sorted(SPEC_TOPICS))
def test_every_section_is_written(slug):
    condition = Condition.objects.get(slug=slug)
    assert condition.title.strip()
    assert condition.summary.strip()
    for field in SECTION_FIELDS:
        assert len(getattr(condition, field).strip()) > 40, f"{slug}.{field} is empty or a stub"


@pytest.mark.parametrize("slug", sorted(SPEC_TOPICS))
def test_every_page_cites_at_least_one_article_with_a_doi_or_pmid(slug):
    references = list(Condition.objects.get(slug=slug).references.all())
    cited = [r for r in references if r.kind == ReferenceKind.ARTICLE and (r.doi or r.pmid)]
    assert cited, f"{slug} has no article with a DOI or PMID"
    for reference in references:
        assert reference.authors and reference.title and reference.year
        reference.full_clean()  # DOI and PMID formats, required fields


def test_every_page_passes_model_validation_including_related_codes():
    for condition in library():
        condition.full_clean()
        assert condition.related_codes, f"{condition.slug} is linked from no answer"


def test_urgent_help_always_names_the_emergency_department_and_cauda_equina_signs():
    for condition in library():
        text = condition.urgent_help.lower()
        assert "emergency department" in text, condition.slug
        assert "between your legs" in text, condition.slug
        assert "bowel" in text, condition.slug
        assert "both legs" in text, condition.slug


def test_only_cauda_equina_is_shown_as_an_emergency_box():
    boxed = set(Condition.objects.filter(show_emergency_box=True).values_list("slug", flat=True))
    assert boxed == {"cauda-equina-syndrome"}


def test_page_text_is_plain_text_not_html():
    tag = re.compile(r"<\s*/?\s*[a-z][^>]*>", re.IGNORECASE)
    for condition in library():
        for field in ("summary", *SECTION_FIELDS):
            assert not tag.search(getattr(condition, field)), f"{condition.slug}.{field}"


def test_no_marketing_language():
    banned = ("cure", "guarantee", "miracle", "breakthrough", "best clinic", "100%")
    for condition in library():
        text = " ".join(getattr(condition, f) for f in ("summary", *SECTION_FIELDS)).lower()
        for word in banned:
            assert not re.search(rf"\b{re.escape(word)}", text), f"{condition.slug}: {word!r}"


def test_the_knee_injection_trial_is_not_cited_for_spine_pages():
    # McAlindon 2017 is about knee injections and supports nothing in this library.
    for condition in library():
        for reference in condition.references.all():
            assert reference.doi != "10.1001/jama.2017.5283"


def test_history_starts_with_the_shipped_text():
    condition = Condition.objects.get(slug="cauda-equina-syndrome")
    first = condition.history.earliest()
    assert first.history_type == "+"
    assert "shipped" in first.history_change_reason
    assert first.urgent_help == condition.urgent_help


def test_loading_the_library_again_never_overwrites_staff_edits():
    """A deploy re-running the loader (or a new migration calling it) keeps edited pages."""
    load_library = __import__(
        "conditions.migrations.0002_load_library", fromlist=["load_library"]
    ).load_library
    condition = Condition.objects.get(slug="spinal-stenosis")
    condition.title = "Edited by the clinic"
    condition.save()

    load_library(django_apps, schema_editor=None)

    condition.refresh_from_db()
    assert condition.title == "Edited by the clinic"
    assert Condition.objects.filter(slug="spinal-stenosis").count() == 1
    assert condition.references.count() == 3


def test_related_codes_validator_rejects_unknown_codes_and_answers():
    validate_related_codes(["leg_numbness", "pain_pattern=back_of_leg", "saddle_numbness=unsure"])
    with pytest.raises(ValidationError):
        validate_related_codes(["leg_numbnes"])  # typo
    with pytest.raises(ValidationError):
        validate_related_codes(["pain_pattern=calf"])  # not a possible answer
    with pytest.raises(ValidationError):
        validate_related_codes(["weak_side"])  # a choice question has no "yes"
    with pytest.raises(ValidationError):
        validate_related_codes("leg_numbness")  # not a list
