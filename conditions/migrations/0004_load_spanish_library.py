"""Load the Spanish version of the shipped pages from conditions/content/library.es.toml.

Runs once per database, like 0002_load_library. A page gets its Spanish text
only when all three hold:

- the page exists (found by its slug);
- every one of its Spanish fields is still empty, so nothing staff wrote is
  ever overwritten;
- its English text is still the text shipped in library.toml, so the Spanish
  says exactly what the English page says. A page whose English staff have
  since changed is left for them to translate in the admin; until then a
  Spanish reader sees the English page with a note that it is only in English.

Each page filled gets a history row, so its admin history shows where the
Spanish came from. The historical models (apps.get_model) are used, so this
keeps working after the models change.
"""

import tomllib
from pathlib import Path

from django.db import migrations
from django.utils import timezone

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
ENGLISH_FILE = CONTENT_DIR / "library.toml"
SPANISH_FILE = CONTENT_DIR / "library.es.toml"

CHANGE_REASON = "Spanish version loaded from the library shipped with the code"

TEXT_FIELDS = (
    "title",
    "summary",
    "what_it_is",
    "symptoms",
    "causes",
    "assessment",
    "treatment",
    "urgent_help",
)


def _read(path: Path) -> dict[str, dict]:
    with path.open("rb") as handle:
        return {entry["slug"]: entry for entry in tomllib.load(handle)["conditions"]}


def read_spanish_library() -> dict[str, dict]:
    return _read(SPANISH_FILE)


def _english_is_as_shipped(condition, shipped: dict) -> bool:
    return all(
        getattr(condition, name).strip() == shipped.get(name, "").strip() for name in TEXT_FIELDS
    )


def _spanish_is_empty(condition) -> bool:
    return not any(getattr(condition, f"{name}_es").strip() for name in TEXT_FIELDS)


def load_spanish_library(apps, schema_editor):
    Condition = apps.get_model("conditions", "Condition")
    HistoricalCondition = apps.get_model("conditions", "HistoricalCondition")
    english = _read(ENGLISH_FILE)
    now = timezone.now()
    for slug, entry in read_spanish_library().items():
        condition = Condition.objects.filter(slug=slug).first()
        if condition is None or slug not in english:
            continue
        if not _spanish_is_empty(condition) or not _english_is_as_shipped(condition, english[slug]):
            continue
        spanish = {f"{name}_es": entry[name].strip() for name in TEXT_FIELDS}
        for name, value in spanish.items():
            setattr(condition, name, value)
        # Only these fields: the English page (and its "last updated" date) is unchanged.
        condition.save(update_fields=list(spanish))
        values = {
            field.attname: getattr(condition, field.attname)
            for field in Condition._meta.concrete_fields
        }
        HistoricalCondition.objects.create(
            **values,
            history_date=now,
            history_type="~",
            history_change_reason=CHANGE_REASON,
        )


def unload_spanish_library(apps, schema_editor):
    """Empty the Spanish fields that still hold the shipped text; staff edits stay."""
    Condition = apps.get_model("conditions", "Condition")
    HistoricalCondition = apps.get_model("conditions", "HistoricalCondition")
    for slug, entry in read_spanish_library().items():
        condition = Condition.objects.filter(slug=slug).first()
        if condition is None:
            continue
        if all(getattr(condition, f"{name}_es") == entry[name].strip() for name in TEXT_FIELDS):
            Condition.objects.filter(pk=condition.pk).update(
                **{f"{name}_es": "" for name in TEXT_FIELDS}
            )
            HistoricalCondition.objects.filter(
                id=condition.pk, history_change_reason=CHANGE_REASON
            ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("conditions", "0003_condition_spanish_version"),
    ]

    operations = [
        migrations.RunPython(load_spanish_library, unload_spanish_library),
    ]
