"""The migrations that put the library in a database: review dates and safety corrections.

0002/0004 load the shipped files once into a new database; 0005 carries the safety
corrections of 2026-11-26 (triage rules version 2) into databases loaded before them,
only into fields that still hold the text as shipped.
"""

import datetime
import importlib
import tomllib
from pathlib import Path

import pytest
import time_machine
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations.special import RunPython

from conditions.models import TRANSLATED_FIELDS, Condition
from tests.conditions.test_library_content import SPEC_TOPICS

pytestmark = pytest.mark.django_db

CONTENT = Path(settings.BASE_DIR) / "conditions" / "content"
LOADER = importlib.import_module("conditions.migrations.0002_load_library")
CORRECTIONS = importlib.import_module("conditions.migrations.0005_content_corrections_rules_v2")
SPANISH_FIELDS = tuple(f"{name}_es" for name in TRANSLATED_FIELDS)


def shipped(name: str = "library.toml") -> dict[str, dict]:
    with (CONTENT / name).open("rb") as handle:
        return {entry["slug"]: entry for entry in tomllib.load(handle)["conditions"]}


def shipped_text(slug: str, field: str) -> str:
    """A field's text as the files ship it now (``urgent_help`` or ``urgent_help_es``)."""
    if field.endswith("_es"):
        return shipped("library.es.toml")[slug][field.removesuffix("_es")].strip()
    return shipped()[slug][field].strip()


def correction_apps():
    """The models as migration 0005 sees them (no history signals, as in a real migrate)."""
    executor = MigrationExecutor(connection)
    return executor.loader.project_state(("conditions", "0005_content_corrections_rules_v2")).apps


def as_shipped_before(slug: str, **overrides) -> Condition:
    """Put a page back to the text it had when it was loaded before this revision."""
    values = {name: text.strip() for name, text in CORRECTIONS.SHIPPED_BEFORE[slug].items()}
    values["reviewed_on"] = None
    values.update(overrides)
    Condition.objects.filter(slug=slug).update(**values)
    return Condition.objects.get(slug=slug)


def correction_rows(condition: Condition):
    return condition.history.filter(history_change_reason=CORRECTIONS.CHANGE_REASON)


# Review dates ------------------------------------------------------------------


def test_migrate_sets_each_pages_review_date_from_the_file():
    dates = {slug: entry["reviewed_on"] for slug, entry in shipped().items()}
    for condition in Condition.objects.filter(slug__in=SPEC_TOPICS):
        assert condition.reviewed_on == dates[condition.slug], condition.slug
        assert condition.history.earliest().reviewed_on == dates[condition.slug]


def test_the_review_date_is_the_contents_date_not_the_day_it_was_loaded():
    Condition.objects.filter(slug="spinal-tumour").delete()
    with time_machine.travel(datetime.datetime(2027, 3, 1, 9, 0, tzinfo=datetime.UTC)):
        LOADER.load_library(django_apps, schema_editor=None)
    condition = Condition.objects.get(slug="spinal-tumour")
    assert condition.created_at.date() == datetime.date(2027, 3, 1)  # loaded then
    assert condition.reviewed_on == shipped()["spinal-tumour"]["reviewed_on"]
    assert condition.reviewed_on != datetime.date(2027, 3, 1)


def test_the_page_shows_when_its_content_was_last_reviewed(client):
    html = client.get("/conditions/spinal-stenosis/").content.decode()
    reviewed_on = shipped()["spinal-stenosis"]["reviewed_on"]
    assert (
        f'Last clinically reviewed: <time datetime="{reviewed_on:%Y-%m-%d}">'
        f"{reviewed_on.day} {reviewed_on:%B %Y}</time>"
    ) in html


# Safety corrections for existing databases ---------------------------------------


def test_a_new_database_already_has_the_corrected_text_so_0005_changes_nothing():
    for slug, fields in CORRECTIONS.SHIPPED_BEFORE.items():
        condition = Condition.objects.get(slug=slug)
        for name in fields:
            assert getattr(condition, name) == shipped_text(slug, name), (slug, name)
        assert not correction_rows(condition).exists()


def test_correction_updates_a_page_still_as_shipped_and_records_it_in_its_history():
    condition = as_shipped_before("cauda-equina-syndrome")
    assert "24 to 48 hours" in condition.treatment
    history_before = condition.history.count()

    with time_machine.travel(datetime.datetime(2027, 1, 4, 8, 0, tzinfo=datetime.UTC)):
        CORRECTIONS.correct_library(correction_apps(), schema_editor=None)

    condition.refresh_from_db()
    for name in CORRECTIONS.SHIPPED_BEFORE["cauda-equina-syndrome"]:
        assert getattr(condition, name) == shipped_text("cauda-equina-syndrome", name), name
    assert "24 to 48" not in condition.treatment and "24 a 48" not in condition.treatment_es
    assert condition.reviewed_on == shipped()["cauda-equina-syndrome"]["reviewed_on"]
    assert condition.updated_at.date() == datetime.date(2027, 1, 4)
    assert condition.history.count() == history_before + 1
    row = condition.history.latest()
    assert row.history_type == "~"
    assert row.history_change_reason == CORRECTIONS.CHANGE_REASON
    assert row.urgent_help == condition.urgent_help
    assert row.treatment_es == condition.treatment_es
    assert row.reviewed_on == condition.reviewed_on


def test_correction_never_overwrites_a_staff_edit_and_says_which_fields_it_left(capsys):
    edited = CORRECTIONS.SHIPPED_BEFORE["lumbar-radiculopathy-sciatica"]["urgent_help"].strip()
    edited += "\n\nOur clinic's own advice."
    condition = as_shipped_before("lumbar-radiculopathy-sciatica", urgent_help=edited)

    CORRECTIONS.correct_library(correction_apps(), schema_editor=None)

    condition.refresh_from_db()
    assert condition.urgent_help == edited  # staff's text, left for staff
    # The Spanish field was still as shipped, so it gets the correction.
    assert condition.urgent_help_es == shipped_text(
        "lumbar-radiculopathy-sciatica", "urgent_help_es"
    )
    # The page is not the reviewed content as a whole, so it gets no review date.
    assert condition.reviewed_on is None
    assert correction_rows(condition).count() == 1
    assert "lumbar-radiculopathy-sciatica: urgent_help" in capsys.readouterr().out


def test_a_page_saved_unchanged_in_the_admin_still_counts_as_shipped():
    """The admin stores CRLF line endings; the words are what count."""
    before = CORRECTIONS.SHIPPED_BEFORE["spinal-stenosis"]
    as_shipped_before(
        "spinal-stenosis",
        treatment=before["treatment"].strip().replace("\n", "\r\n"),
        urgent_help=before["urgent_help"].strip().replace("\n", "\r\n"),
    )

    CORRECTIONS.correct_library(correction_apps(), schema_editor=None)

    condition = Condition.objects.get(slug="spinal-stenosis")
    assert condition.treatment == shipped_text("spinal-stenosis", "treatment")
    assert condition.urgent_help == shipped_text("spinal-stenosis", "urgent_help")
    assert condition.reviewed_on == shipped()["spinal-stenosis"]["reviewed_on"]


def test_a_review_date_staff_set_later_is_kept():
    later = datetime.date(2027, 2, 1)
    as_shipped_before("spondylolisthesis", reviewed_on=later)

    CORRECTIONS.correct_library(correction_apps(), schema_editor=None)

    condition = Condition.objects.get(slug="spondylolisthesis")
    assert condition.urgent_help == shipped_text("spondylolisthesis", "urgent_help")
    assert condition.reviewed_on == later


def test_a_page_loaded_before_its_spanish_existed_gets_the_corrected_spanish():
    """0004 skips a page whose English is not the file's; after 0005 it is, so fill it."""
    as_shipped_before(
        "diabetic-neuropathy",
        **{name: "" for name in SPANISH_FIELDS},
    )

    CORRECTIONS.correct_library(correction_apps(), schema_editor=None)

    condition = Condition.objects.get(slug="diabetic-neuropathy")
    assert condition.urgent_help == shipped_text("diabetic-neuropathy", "urgent_help")
    for name in SPANISH_FIELDS:
        assert getattr(condition, name) == shipped_text("diabetic-neuropathy", name), name
    assert condition.has_translation("es")
    assert condition.reviewed_on == shipped()["diabetic-neuropathy"]["reviewed_on"]


def test_running_the_correction_again_changes_nothing():
    as_shipped_before("entrapment-neuropathy")
    CORRECTIONS.correct_library(correction_apps(), schema_editor=None)
    condition = Condition.objects.get(slug="entrapment-neuropathy")
    rows = condition.history.count()

    CORRECTIONS.correct_library(correction_apps(), schema_editor=None)

    assert condition.history.count() == rows
    assert correction_rows(condition).count() == 1


def test_a_deleted_page_is_not_brought_back():
    Condition.objects.filter(slug="spinal-tumour").delete()
    CORRECTIONS.correct_library(correction_apps(), schema_editor=None)
    assert not Condition.objects.filter(slug="spinal-tumour").exists()


def test_reversing_the_correction_leaves_the_safe_text_in_place():
    (operation,) = CORRECTIONS.Migration.operations
    assert isinstance(operation, RunPython)
    assert operation.reversible
    assert operation.reverse_code is RunPython.noop


def test_the_text_shipped_before_is_what_0002_and_0004_loaded():
    """Every field listed was really changed, in both languages, and is now different."""
    for slug, fields in CORRECTIONS.SHIPPED_BEFORE.items():
        assert slug in SPEC_TOPICS
        english = {name for name in fields if not name.endswith("_es")}
        assert {f"{name}_es" for name in english} == set(fields) - english, slug
        for name, before in fields.items():
            assert before.strip() != shipped_text(slug, name), (slug, name)


# Descriptions and suggestion rules (issue 19) --------------------------------------

TOPICS = importlib.import_module("conditions.migrations.0007_topic_descriptions_and_rules")


def topics_apps():
    """The models as migration 0007 sees them."""
    executor = MigrationExecutor(connection)
    return executor.loader.project_state(("conditions", "0007_topic_descriptions_and_rules")).apps


def as_loaded_before_issue_19(slug: str, **overrides) -> Condition:
    """A page as a site loaded before 0007 has it: old rules, no descriptions."""
    values = {
        "related_codes": TOPICS.RELATED_CODES_BEFORE.get(slug, shipped()[slug]["related_codes"]),
        "required_codes": [],
        "description": "",
        "description_es": "",
    }
    values.update(overrides)
    Condition.objects.filter(slug=slug).update(**values)
    return Condition.objects.get(slug=slug)


def topics_rows(condition: Condition):
    return condition.history.filter(history_change_reason=TOPICS.CHANGE_REASON)


def test_a_new_database_has_every_pages_rules_and_descriptions_from_the_files():
    spanish = shipped("library.es.toml")
    for slug, entry in shipped().items():
        condition = Condition.objects.get(slug=slug)
        assert condition.related_codes == entry["related_codes"], slug
        assert condition.required_codes == entry.get("required_codes", []), slug
        assert condition.description == entry["description"], slug
        assert condition.description_es == spanish[slug]["description"], slug


def test_0007_gives_an_old_page_its_rules_and_descriptions_and_records_why():
    condition = as_loaded_before_issue_19("diabetic-neuropathy")
    updated_at = condition.updated_at
    rows = topics_rows(condition).count()

    TOPICS.load_descriptions_and_rules(topics_apps(), schema_editor=None)

    condition.refresh_from_db()
    entry = shipped()["diabetic-neuropathy"]
    assert "diabetes" not in condition.related_codes
    assert condition.required_codes == ["diabetes", "diabetes=unsure"] == entry["required_codes"]
    assert condition.description == entry["description"]
    assert (
        condition.description_es == shipped("library.es.toml")["diabetic-neuropathy"]["description"]
    )
    assert condition.updated_at == updated_at  # no page text changed
    assert topics_rows(condition).count() == rows + 1
    row = topics_rows(condition).latest()
    assert row.required_codes == condition.required_codes
    assert row.description_es == condition.description_es


def test_0007_never_changes_rules_or_descriptions_staff_wrote_and_says_which_pages(capsys):
    staff_rules = ["diabetes", "feet_numbness"]
    condition = as_loaded_before_issue_19(
        "diabetic-neuropathy", related_codes=staff_rules, description="Our clinic's own line."
    )

    # Rules staff changed on a page this revision does not touch are no news.
    Condition.objects.filter(slug="lumbar-radiculopathy-sciatica").update(
        related_codes=["leg_numbness"]
    )

    TOPICS.load_descriptions_and_rules(topics_apps(), schema_editor=None)

    condition.refresh_from_db()
    assert condition.related_codes == staff_rules
    assert condition.required_codes == []
    assert condition.description == "Our clinic's own line."
    assert condition.description_es  # the empty Spanish line is filled
    printed = capsys.readouterr().out
    assert "diabetic-neuropathy" in printed
    assert "lumbar-radiculopathy-sciatica" not in printed


def test_running_0007_again_changes_nothing():
    as_loaded_before_issue_19("direct-nerve-trauma")
    TOPICS.load_descriptions_and_rules(topics_apps(), schema_editor=None)
    condition = Condition.objects.get(slug="direct-nerve-trauma")
    rows = condition.history.count()

    TOPICS.load_descriptions_and_rules(topics_apps(), schema_editor=None)

    assert condition.history.count() == rows
    assert condition.required_codes == ["recent_trauma"]


def test_reversing_0007_puts_back_the_rules_the_older_code_expects():
    TOPICS.restore_rules_before(topics_apps(), schema_editor=None)
    for slug, before in TOPICS.RELATED_CODES_BEFORE.items():
        assert Condition.objects.get(slug=slug).related_codes == before, slug
