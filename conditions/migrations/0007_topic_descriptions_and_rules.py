"""Give the shipped pages their one-line descriptions and their corrected suggestion rules.

After the questionnaire a patient sees links to the pages their answers point to
(``conditions.selectors.conditions_for_answers``), now each with a one-line
description in plain words. Issue 19 found pages suggested without a reason in
the answers (diabetic neuropathy for patients with no diabetes; the nerve injury
page for any recent knock; the muscle weakness page for statins alone), so this
revision of conditions/content/library.toml adds ``required_codes`` to five pages
and changes ``related_codes`` on three.

The library belongs to the clinic once loaded (see 0002 and 0005), so for every
shipped page that still exists this migration changes only:

- ``description`` and ``description_es``, to the lines in library.toml and
  library.es.toml, when they are empty. The fields are new, so nothing staff wrote
  is overwritten; a Spanish line waits unused until the page is complete in
  Spanish.
- ``related_codes`` and ``required_codes``, to the rules in library.toml, when the
  page's ``related_codes`` are still the ones shipped before this revision (or
  already the new ones, as on a database created from now on, where 0002 loaded
  them) and it needs no answers yet. A page whose rules staff have edited is left
  to them; the migration prints it ("left for staff") for the deploy notes.

Each page changed gets one history row (django-simple-history) saying why. The
historical models (apps.get_model) are used, so this keeps working after the
models change. "Last updated" does not move: no text of the page changed.

Reversing puts back the rules shipped before where the page still has the new
ones (0006's reverse then drops the descriptions and ``required_codes``), so the
older code, which knows no needed answers, does not suggest the nerve injury page
for any numb leg.
"""

import tomllib
from pathlib import Path

from django.db import migrations
from django.utils import timezone

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
ENGLISH_FILE = CONTENT_DIR / "library.toml"
SPANISH_FILE = CONTENT_DIR / "library.es.toml"

CHANGE_REASON = "One-line descriptions and suggestion rules (library of 2026-11-26, issue 19)"

#: The related codes of the pages whose codes this revision changes, as shipped by
#: 0002 before it. Pages not listed kept their codes (and may gain required codes).
RELATED_CODES_BEFORE: dict[str, list[str]] = {
    "diabetic-neuropathy": ["diabetes", "feet_numbness", "burning_pain", "balance_problems"],
    "spinal-tumour": ["cancer_history", "weight_loss"],
    "direct-nerve-trauma": ["recent_trauma"],
}


def _read(path: Path) -> dict[str, dict]:
    with path.open("rb") as handle:
        return {entry["slug"]: entry for entry in tomllib.load(handle)["conditions"]}


def _same_codes(current, shipped: list[str]) -> bool:
    return isinstance(current, list) and sorted(set(current)) == sorted(set(shipped))


def _record(Condition, HistoricalCondition, condition, now) -> None:
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


def load_descriptions_and_rules(apps, schema_editor):
    Condition = apps.get_model("conditions", "Condition")
    HistoricalCondition = apps.get_model("conditions", "HistoricalCondition")
    english = _read(ENGLISH_FILE)
    spanish = _read(SPANISH_FILE)
    now = timezone.now()
    left_for_staff = []
    for slug, entry in english.items():
        condition = Condition.objects.filter(slug=slug).first()
        if condition is None:
            continue  # staff deleted the page
        changed = []

        lines = {"description": entry.get("description", "")}
        if slug in spanish:
            lines["description_es"] = spanish[slug].get("description", "")
        for name, line in lines.items():
            if line.strip() and not getattr(condition, name).strip():
                setattr(condition, name, line.strip())
                changed.append(name)

        related_now = entry["related_codes"]
        required_now = entry.get("required_codes", [])
        if slug in RELATED_CODES_BEFORE or required_now:
            current = condition.related_codes
            already = _same_codes(current, related_now) and _same_codes(
                condition.required_codes or [], required_now
            )
            as_shipped = not condition.required_codes and (
                _same_codes(current, RELATED_CODES_BEFORE.get(slug, related_now))
                or _same_codes(current, related_now)
            )
            if as_shipped and not already:
                condition.related_codes = list(related_now)
                condition.required_codes = list(required_now)
                changed += ["related_codes", "required_codes"]
            elif not already:
                left_for_staff.append(slug)

        if not changed:
            continue
        condition.save(update_fields=changed)
        _record(Condition, HistoricalCondition, condition, now)

    if left_for_staff:
        print(
            "\n  conditions: staff have edited which answers point to these pages, so the "
            "suggestion rules of 2026-11-26 (issue 19) were NOT applied to them. Ask the "
            "clinic to compare “Related questionnaire answers” and “Answers the page "
            "needs” in the admin with related_codes and required_codes in "
            "conditions/content/library.toml:\n    " + "\n    ".join(left_for_staff)
        )


def restore_rules_before(apps, schema_editor):
    """Put back the codes shipped before where a page still has this revision's codes."""
    Condition = apps.get_model("conditions", "Condition")
    english = _read(ENGLISH_FILE)
    for slug, before in RELATED_CODES_BEFORE.items():
        entry = english.get(slug)
        condition = Condition.objects.filter(slug=slug).first()
        if entry is None or condition is None:
            continue
        if _same_codes(condition.related_codes, entry["related_codes"]):
            Condition.objects.filter(pk=condition.pk).update(related_codes=list(before))


class Migration(migrations.Migration):
    dependencies = [
        ("conditions", "0006_condition_description_required_codes"),
    ]

    operations = [
        migrations.RunPython(load_descriptions_and_rules, restore_rules_before),
    ]
