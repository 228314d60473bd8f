"""The Spanish education library: loaded by migration, same facts, never overwrites staff."""

import importlib
import re
import tomllib
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from conditions.models import SECTION_FIELDS, TRANSLATED_FIELDS, Condition
from tests.conditions.test_library_content import SPEC_TOPICS
from tests.i18n.test_catalogue import spanish_catalogue

pytestmark = pytest.mark.django_db

CONTENT = Path(settings.BASE_DIR) / "conditions" / "content"
LOADER = importlib.import_module("conditions.migrations.0004_load_spanish_library")
#: The one term for the emergency department, everywhere patients read Spanish.
EMERGENCY_DEPARTMENT = "sala de emergencias"
OTHER_TERMS = ("servicio de urgencias", "departamento de emergencias", "urgencias", "guardia")


def shipped(name: str) -> dict[str, dict]:
    with (CONTENT / name).open("rb") as handle:
        return {entry["slug"]: entry for entry in tomllib.load(handle)["conditions"]}


def numbers(text: str) -> list[str]:
    """Every figure in a text (9 in 10, L4–S1, 24 to 48 hours), in order."""
    return re.findall(r"\d+", text)


def migration_apps():
    """The models as the Spanish loader sees them inside its migration."""
    executor = MigrationExecutor(connection)
    return executor.loader.project_state(("conditions", "0004_load_spanish_library")).apps


def test_every_shipped_page_has_a_spanish_version_file_entry():
    assert set(shipped("library.es.toml")) == set(shipped("library.toml")) == set(SPEC_TOPICS)


@pytest.mark.parametrize("slug", sorted(SPEC_TOPICS))
def test_every_page_is_complete_in_spanish_after_migrate(slug):
    condition = Condition.objects.get(slug=slug)
    assert condition.has_translation("es")
    assert condition.title_es.strip() and condition.summary_es.strip()
    for field in SECTION_FIELDS:
        assert len(getattr(condition, f"{field}_es").strip()) > 40, f"{slug}.{field}_es"


@pytest.mark.parametrize("slug", sorted(SPEC_TOPICS))
def test_spanish_states_the_same_figures_as_english(slug):
    """Same facts: every number (levels, odds, hours, weeks) appears in both, in order."""
    condition = Condition.objects.get(slug=slug)
    for field in TRANSLATED_FIELDS:
        english, spanish = getattr(condition, field), getattr(condition, f"{field}_es")
        assert numbers(spanish) == numbers(english), f"{slug}.{field}"
        assert spanish.count("\n- ") == english.count("\n- "), f"{slug}.{field}: bullet points"


def test_urgent_help_in_spanish_names_the_emergency_department_and_the_warning_signs():
    for condition in Condition.objects.filter(slug__in=SPEC_TOPICS):
        text = condition.urgent_help_es.lower()
        assert EMERGENCY_DEPARTMENT in text, condition.slug
        assert "entre las piernas" in text, condition.slug
        assert "intestino" in text, condition.slug
        assert "ambas piernas" in text, condition.slug


def test_one_term_for_the_emergency_department_everywhere():
    texts = [
        getattr(condition, f"{field}_es").lower()
        for condition in Condition.objects.all()
        for field in TRANSLATED_FIELDS
    ]
    for message in spanish_catalogue():
        if message.id and "emergency department" in str(message.id):
            assert EMERGENCY_DEPARTMENT in message.string, message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        texts += [s.lower() for s in strings]
    for text in texts:
        for other in OTHER_TERMS:
            assert not re.search(rf"\b{other}\b", text), (other, text[:80])


def test_spanish_text_is_plain_text_and_not_marketing():
    tag = re.compile(r"<\s*/?\s*[a-z][^>]*>", re.IGNORECASE)
    banned = ("cura", "curación", "garantiza", "garantía", "milagro", "revolucionario", "100%")
    for condition in Condition.objects.filter(slug__in=SPEC_TOPICS):
        for field in TRANSLATED_FIELDS:
            text = getattr(condition, f"{field}_es")
            assert not tag.search(text), f"{condition.slug}.{field}_es"
            for word in banned:
                assert not re.search(rf"\b{re.escape(word)}", text.lower()), (condition.slug, word)


def test_spanish_pages_cite_the_same_references(spanish_client, client):
    for slug in ("cauda-equina-syndrome", "spinal-tumour"):
        spanish = spanish_client.get(f"/conditions/{slug}/").text
        english = client.get(f"/conditions/{slug}/").text
        links = re.compile(r'href="(https://(?:doi\.org|pubmed\.ncbi\.nlm\.nih\.gov)/[^"]+)"')
        assert links.findall(spanish) == links.findall(english)
        assert links.findall(spanish)


def test_the_spanish_page_dates_read_as_spanish_dates(spanish_client):
    html = spanish_client.get("/conditions/spinal-stenosis/").text
    assert re.search(r"Última actualización: <time[^>]*>\d{1,2} de [a-z]+ de \d{4}</time>", html)


def test_history_records_where_the_spanish_came_from():
    condition = Condition.objects.get(slug="cauda-equina-syndrome")
    records = list(condition.history.order_by("history_date", "history_id"))
    assert records[0].history_type == "+"
    assert records[0].title_es == ""
    loaded = [r for r in records if r.history_change_reason == LOADER.CHANGE_REASON]
    assert len(loaded) == 1
    assert loaded[0].title_es == condition.title_es and loaded[0].title == condition.title


def test_loading_again_never_overwrites_staff_spanish_edits():
    edited = Condition.objects.get(slug="spinal-stenosis")
    edited.title_es = "Editado por la clínica"
    edited.save()
    history_before = edited.history.count()

    LOADER.load_spanish_library(migration_apps(), schema_editor=None)

    edited.refresh_from_db()
    assert edited.title_es == "Editado por la clínica"
    assert edited.history.count() == history_before


def test_loader_fills_only_empty_pages_whose_english_is_as_shipped():
    spanish_fields = {f"{field}_es": "" for field in TRANSLATED_FIELDS}
    Condition.objects.filter(slug__in=["spondylolisthesis", "spinal-tumour"]).update(
        **spanish_fields
    )
    # Staff changed the English of one page: its shipped Spanish no longer matches it.
    Condition.objects.filter(slug="spinal-tumour").update(summary="Rewritten by the clinic.")

    LOADER.load_spanish_library(migration_apps(), schema_editor=None)

    assert Condition.objects.get(slug="spondylolisthesis").title_es == "Espondilolistesis"
    rewritten = Condition.objects.get(slug="spinal-tumour")
    assert rewritten.title_es == ""
    assert not rewritten.has_translation("es")
