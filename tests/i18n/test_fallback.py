"""A page without a (complete) Spanish version: English content, a note in Spanish."""

import re

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from conditions.models import Condition
from tests.conditions.factories import ConditionFactory

pytestmark = pytest.mark.django_db

NOTE = "Por ahora, esta página solo está disponible en inglés."


def english_only_page(**fields) -> Condition:
    return ConditionFactory(
        slug="english-only",
        title="An English-only page",
        summary="Only written in English so far.",
        what_it_is="What it is, in English words long enough to read.",
        **fields,
    )


def test_a_spanish_reader_gets_the_english_page_with_a_note_in_spanish(spanish_client):
    page = english_only_page()
    html = spanish_client.get(page.get_absolute_url()).text

    assert NOTE in html
    # The content is English and says so, for screen readers and translators.
    assert '<h1 lang="en">An English-only page</h1>' in html
    assert '<p class="lead" lang="en">Only written in English so far.</p>' in html
    assert re.search(r'<h2 id="what_it_is-heading" lang="en">What it is</h2>', html)
    # Everything around it, including how to get help, stays in Spanish.
    assert '<html lang="es">' in html
    assert "Esto no es un diagnóstico." in html
    assert "Referencias" in html
    assert "llame al" in html


def test_an_english_reader_sees_no_note(client):
    page = english_only_page()
    html = client.get(page.get_absolute_url()).text
    assert NOTE not in html
    assert "<h1>An English-only page</h1>" in html


def test_a_half_translated_page_is_not_mixed(spanish_client):
    """Spanish title but no Spanish sections: the whole page falls back to English."""
    page = english_only_page(title_es="Una página a medias", summary_es="Resumen.")
    assert not page.has_translation("es")
    html = spanish_client.get(page.get_absolute_url()).text
    assert NOTE in html
    assert "Una página a medias" not in html
    assert '<h1 lang="en">An English-only page</h1>' in html


def test_a_complete_translation_is_shown_in_spanish(spanish_client):
    page = english_only_page(
        title_es="Página en español",
        summary_es="Resumen en español.",
        what_it_is_es="Qué es, en español.",
        symptoms_es="- un síntoma",
        causes_es="Causas.",
        assessment_es="Evaluación.",
        treatment_es="Tratamiento.",
        urgent_help_es="Vaya ahora a una sala de emergencias.",
    )
    html = spanish_client.get(page.get_absolute_url()).text
    assert NOTE not in html
    assert "<h1>Página en español</h1>" in html
    assert '<h2 id="what_it_is-heading">Qué es</h2>' in html
    assert "An English-only page" not in html


def test_the_library_list_marks_english_only_pages(spanish_client):
    english_only_page()
    html = spanish_client.get("/conditions/").text
    cards = re.findall(r'<li class="condition-card">.*?</li>', html, re.S)
    [card] = [c for c in cards if 'href="/conditions/english-only/"' in c]
    assert "Por ahora solo en inglés" in card
    assert 'lang="en">An English-only page</a>' in card
    # Shipped pages have their Spanish version.
    assert ">Síndrome de cauda equina (síndrome de la cola de caballo)</a>" in html
    assert html.count("Por ahora solo en inglés") == 1


def test_topics_after_the_questionnaire_mark_english_only_pages(db):
    english_only_page(related_codes=["leg_numbness"])
    with translation.override("es"):
        html = render_to_string(
            "conditions/_topics_for_answers.html",
            {"topics": list(Condition.objects.filter(slug="english-only")), "show_heading": True},
        )
    assert 'lang="en">An English-only page</a> <span class="small">(en inglés)</span>' in html


def test_the_list_page_reads_no_page_text_row_by_row(spanish_client, django_assert_max_num_queries):
    """Whether each page has Spanish comes from one query, not one per page."""
    spanish_client.get("/conditions/")  # warm up: session, cache table
    with django_assert_max_num_queries(4) as few:
        spanish_client.get("/conditions/")
    ConditionFactory.create_batch(15)
    with django_assert_max_num_queries(len(few.captured_queries)):
        spanish_client.get("/conditions/")
