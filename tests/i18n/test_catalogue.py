"""The Spanish catalogue is complete, and no patient-facing text escapes translation."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.apps import apps
from django.conf import settings
from django.template import engines
from django.utils import translation
from django.utils.functional import Promise

from conditions.models import SECTION_FIELDS, Condition, ConditionGroup
from intake import advice as intake_advice
from intake import forms as intake_forms
from intake import views as intake_views
from tests.i18n.conftest import PO_FILE
from tests.i18n.template_text import template_files, translated_messages, untranslated_text

BASE_DIR = Path(settings.BASE_DIR)


def spanish_catalogue():
    with PO_FILE.open("rb") as handle:
        return read_po(handle, locale="es", domain="django")


def catalogue_keys(catalog) -> dict[tuple[str | None, str], object]:
    return {
        (message.context, message.id[0] if isinstance(message.id, tuple) else message.id): message
        for message in catalog
        if message.id
    }


def is_translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(s and s.strip() for s in strings)


def patient_template_roots() -> list[Path]:
    """templates/ and every project app's templates/ folder (not installed packages)."""
    roots = [BASE_DIR / "templates"]
    for config in apps.get_app_configs():
        folder = Path(config.path) / "templates"
        if folder.is_dir() and BASE_DIR in folder.parents and ".venv" not in folder.parts:
            roots.append(folder)
    return roots


def patient_templates() -> list[tuple[Path, str]]:
    """(file, template name) for every patient-facing template: all but admin/."""
    found = []
    for root in patient_template_roots():
        for path in template_files(root, exclude=("admin",)):
            found.append((path, str(path.relative_to(root))))
    return found


# The catalogue itself -------------------------------------------------------


def test_the_catalogue_header_is_ready_for_use():
    catalog = spanish_catalogue()
    assert not catalog.fuzzy, "the header is marked fuzzy: compilers would skip the catalogue"
    assert catalog.locale is not None and str(catalog.locale) == "es"
    assert catalog.num_plurals >= 2


def test_every_entry_is_translated_and_none_is_fuzzy():
    catalog = spanish_catalogue()
    untranslated = [m.id for m in catalog if m.id and not is_translated(m)]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:10]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy: {fuzzy[:10]}"


def test_translations_keep_every_placeholder():
    """%(CLINIC_EMERGENCY_NUMBER)s and friends must survive, or Django raises at render."""
    problems = [(message.id, errors) for message, errors in spanish_catalogue().check()]
    assert not problems, problems[:5]


def test_the_compiled_catalogue_is_what_django_uses():
    with translation.override("es"):
        assert translation.gettext("Please get emergency care now") == (
            "Busque atención de emergencia ahora"
        )


# Templates ------------------------------------------------------------------


def test_the_template_check_finds_unmarked_text():
    """The check below must be able to fail: here is a template it must reject."""
    found = untranslated_text(
        '{% load i18n %}<h1>{% translate "Fine" %}</h1><p>Plain English {{ name }}</p>'
        '<button aria-label="Close this">x</button>{# a comment #}'
    )
    assert found == ["Plain English", 'aria-label="Close this"']
    assert (
        untranslated_text(
            "{% blocktranslate %}Marked {{ x }}{% endblocktranslate %}"
            "{% comment %}Notes for developers{% endcomment %}<span>·</span> DOI: {{ doi }}"
            '<h1{% if x %} lang="en"{% endif %}>{{ title }}</h1>'
        )
        == []
    )


@pytest.mark.parametrize(("path", "name"), patient_templates(), ids=lambda value: str(value))
def test_patient_template_has_no_unmarked_text(path, name):
    found = untranslated_text(path.read_text(encoding="utf-8"))
    assert not found, f"{name}: mark these with {{% translate %}}: {found}"


def test_every_template_string_is_in_the_catalogue():
    """Text marked in a template but never extracted would stay English on a Spanish page."""
    engine = engines["django"].engine
    keys = catalogue_keys(spanish_catalogue())
    missing = []
    for _path, name in patient_templates():
        for key in translated_messages(name, engine):
            message = keys.get(key)
            if message is None or not is_translated(message):
                missing.append((name, key))
    assert not missing, f"run makemessages and translate: {missing}"


# Python strings patients read -------------------------------------------------


def _patient_python_strings() -> list[Promise]:
    strings: list[Promise] = [intake_forms.REQUIRED_MESSAGE, intake_forms.RED_FLAG_REQUIRED_MESSAGE]
    for step in intake_forms.STEPS:
        strings += [step.title, step.intro]
        for field in step.form_class.base_fields.values():
            strings += [field.label, field.help_text]
            strings += [label for _value, label in getattr(field, "choices", [])]
            strings += list(field.error_messages.values())
    for heading, message in intake_views.ERROR_PAGES.values():
        strings += [heading, message]
    # What each tier promises and the emergency signs: templates show them as variables.
    strings += [sign.text for sign in intake_advice.EMERGENCY_SIGNS]
    for promise in intake_advice.TIER_PROMISES.values():
        strings += [promise.heading, promise.promise]
    strings += [intake_advice.CLINIC_ALERTED, intake_advice.EMERGENCY_SIGNS_HEADING]
    strings += [label for _value, label in ConditionGroup.choices]
    strings += [Condition._meta.get_field(name).verbose_name for name in SECTION_FIELDS]
    strings += [name for _code, name in settings.LANGUAGES]
    return [s for s in strings if isinstance(s, Promise)]


def test_every_patient_facing_python_string_has_spanish():
    """Questions, hints, choices, errors, step titles, error pages, library headings,
    tier promises and the emergency signs."""
    keys = catalogue_keys(spanish_catalogue())
    missing = []
    for lazy in _patient_python_strings():
        with translation.override("en"):
            english = str(lazy)
        with translation.override("es"):
            spanish = str(lazy)
        message = keys.get((None, english))
        in_ours = message is not None and is_translated(message)
        # Django's own messages (e.g. "Enter a valid email address.") come translated.
        if not in_ours and spanish == english:
            missing.append(english)
    assert not missing, missing


def test_the_questionnaire_codes_do_not_change_with_the_language():
    """Answers are stored as codes: only the labels are translated."""
    with translation.override("es"):
        legs = intake_forms.LegsForm()
        assert [value for value, _label in legs.fields["weak_side"].choices] == [
            "left",
            "right",
            "both",
            "neither",
        ]
        assert str(dict(legs.fields["weak_side"].choices)["both"]) == "Las dos piernas"
