"""Load the education library shipped in conditions/content/library.toml.

A data migration runs once per database, so `python manage.py migrate` alone
gives every database (SQLite, PostgreSQL, production) the library, and a later
deploy never overwrites what staff have since edited in the admin.

Only the fields that exist at this point in the migration history are read
from the file, through the historical models (apps.get_model), so this keeps
working after the models change. Each page also gets a first history row, so
its admin history starts with where the text came from.

Each page's ``reviewed_on`` comes from its entry in the file: the date its
content was last clinically checked, kept with the content, never the date it
happened to be loaded.
"""

import tomllib
from pathlib import Path

from django.db import migrations
from django.utils import timezone

LIBRARY_FILE = Path(__file__).resolve().parent.parent / "content" / "library.toml"

CHANGE_REASON = "Loaded from the library shipped with the code"

CONDITION_FIELDS = (
    "slug",
    "title",
    "group",
    "summary",
    "what_it_is",
    "symptoms",
    "causes",
    "assessment",
    "treatment",
    "urgent_help",
    "show_emergency_box",
    "related_codes",
    "is_published",
    "sort_order",
    "reviewed_on",
)
TEXT_FIELDS = ("summary", "what_it_is", "symptoms", "causes", "assessment", "treatment", "urgent_help")
REFERENCE_FIELDS = ("kind", "authors", "title", "journal", "year", "volume", "pages", "doi", "pmid")


def read_library() -> list[dict]:
    with LIBRARY_FILE.open("rb") as handle:
        return tomllib.load(handle)["conditions"]


def _condition_values(entry: dict) -> dict:
    values = {name: entry[name] for name in CONDITION_FIELDS if name in entry}
    for name in TEXT_FIELDS:
        values[name] = values[name].strip()
    return values


def _reference_values(entry: dict, position: int) -> dict:
    values = {name: entry.get(name, "") for name in REFERENCE_FIELDS}
    values["sort_order"] = position
    return values


def load_library(apps, schema_editor):
    Condition = apps.get_model("conditions", "Condition")
    Reference = apps.get_model("conditions", "Reference")
    HistoricalCondition = apps.get_model("conditions", "HistoricalCondition")
    HistoricalReference = apps.get_model("conditions", "HistoricalReference")
    now = timezone.now()
    for entry in read_library():
        if Condition.objects.filter(slug=entry["slug"]).exists():
            continue  # never overwrite a page that is already there
        condition = Condition.objects.create(**_condition_values(entry))
        HistoricalCondition.objects.create(
            id=condition.id,
            created_at=condition.created_at,
            updated_at=condition.updated_at,
            history_date=now,
            history_type="+",
            history_change_reason=CHANGE_REASON,
            **_condition_values(entry),
        )
        for position, reference_entry in enumerate(entry.get("references", []), start=1):
            values = _reference_values(reference_entry, position)
            reference = Reference.objects.create(condition=condition, **values)
            HistoricalReference.objects.create(
                id=reference.id,
                condition_id=condition.id,
                history_date=now,
                history_type="+",
                history_change_reason=CHANGE_REASON,
                **values,
            )


def unload_library(apps, schema_editor):
    Condition = apps.get_model("conditions", "Condition")
    HistoricalCondition = apps.get_model("conditions", "HistoricalCondition")
    HistoricalReference = apps.get_model("conditions", "HistoricalReference")
    slugs = [entry["slug"] for entry in read_library()]
    condition_ids = list(Condition.objects.filter(slug__in=slugs).values_list("id", flat=True))
    HistoricalReference.objects.filter(
        condition_id__in=condition_ids, history_change_reason=CHANGE_REASON
    ).delete()
    HistoricalCondition.objects.filter(
        id__in=condition_ids, history_change_reason=CHANGE_REASON
    ).delete()
    Condition.objects.filter(id__in=condition_ids).delete()  # references cascade


class Migration(migrations.Migration):
    dependencies = [
        ("conditions", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load_library, unload_library),
    ]
