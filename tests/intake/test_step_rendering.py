"""A step's fields are crispy-forms' HTML, whether rendered afresh or reused.

``{% questionnaire_fields %}`` reuses the HTML of a blank form (docs/performance.md);
these tests hold it to exactly what ``{% crispy form %}`` gives, in every
language, and make sure nothing a patient typed is ever reused.
"""

import datetime

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

from intake.forms import STEPS
from intake.templatetags import questionnaire as tags
from tests.intake.questionnaire import STEP_DATA

CRISPY = Template("{% load crispy_forms_tags %}{% crispy form %}")
OURS = Template("{% load questionnaire %}{% questionnaire_fields form %}")


def render(template: Template, form) -> str:
    return template.render(Context({"form": form}))


@pytest.fixture(autouse=True)
def fresh_cache():
    tags._blank_fields_html.cache_clear()
    yield
    tags._blank_fields_html.cache_clear()


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.slug)
def test_blank_step_is_exactly_what_crispy_renders(step, language):
    with translation.override(language):
        expected = render(CRISPY, step.form_class())
        first = render(OURS, step.form_class())
        again = render(OURS, step.form_class())
    assert first == expected
    assert again == expected
    assert 'name="' in expected


def test_each_language_gets_its_own_html():
    step = STEPS[0]
    with translation.override("en"):
        english = render(OURS, step.form_class())
    with translation.override("es"):
        spanish = render(OURS, step.form_class())
    assert "First name" in english
    assert "First name" not in spanish
    assert english != spanish


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.slug)
def test_forms_with_answers_or_errors_are_rendered_afresh(step):
    answered = step.form_class(initial=STEP_DATA[step.slug])
    posted = step.form_class(data={})
    assert render(OURS, answered) == render(CRISPY, answered)
    assert render(OURS, posted) == render(CRISPY, posted)
    assert tags._blank_fields_html.cache_info().currsize == 0


def test_a_patients_answers_never_reach_the_shared_cache():
    about = STEPS[0].form_class
    render(OURS, about(initial={"first_name": "Zebedee-Unique"}))
    render(OURS, about(data={"first_name": "Quillon-Unique", "date_of_birth": "1950-01-01"}))
    blank = render(OURS, about())
    assert "Zebedee-Unique" not in blank
    assert "Quillon-Unique" not in blank
    assert tags._blank_fields_html.cache_info().currsize == 1
    assert render(OURS, about(initial={"date_of_birth": datetime.date(1950, 1, 2)})) != blank


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/intake/", "/conditions/"])
def test_cached_page_parts_follow_the_language_of_each_request(client, path):
    """Headers, footers and fixed advice are cached per language, never across them."""
    english = ("Skip to main content", "Clinic phone:")
    spanish = ("Ir al contenido principal", "Teléfono de la clínica:")
    for language, expected, other in [
        ("en", english, spanish),
        ("es", spanish, english),
        ("en", english, spanish),
    ]:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        page = client.get(path).text
        for text in expected:
            assert text in page
        for text in other:
            assert text not in page
    if path == "/intake/":
        assert "Busque atención de emergencia ahora" not in page
        assert "Please get emergency care now" in page  # the hidden live advice


#: The template loop the "Check your answers" rows were written with before
#: ``{% check_answer_rows %}``: the tag must give the same page.
CHECK_ROWS_AS_TEMPLATE = Template(
    """{% load i18n %}{% translate "Change" as change %}{% for row in section.answers %}"""
    """<div class="check-answers-row border-bottom py-2">\n"""
    """<dt class="fw-normal text-body-secondary">{{ row.question }}</dt>\n"""
    """<dd class="fw-bold mb-1 check-answer{% if row.code == "phone" %} text-nowrap{% endif %}">"""
    """{{ row.answer }}</dd>\n"""
    """<dd class="mb-0"><a href="{{ row.change_url }}">{{ change }}"""
    """<span class="visually-hidden"> {{ row.question }}</span></a></dd>\n</div>"""
    """{% if not forloop.last %}\n{% endif %}{% endfor %}"""
)
CHECK_ROWS = Template("{% load questionnaire %}{% check_answer_rows section %}")


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_check_page_rows_are_what_the_template_loop_gave_and_escape_the_answers(language):
    from django.utils.html import format_html

    from intake.answer_review import ReviewedAnswer, ReviewedSection

    section = ReviewedSection(
        "about",
        "About you",
        [
            ReviewedAnswer(
                "first_name", "First name", '<script>alert("x")</script> & Co', "/a?b=1&c=2"
            ),
            ReviewedAnswer("phone", "Phone number", "555 0100", "/intake/about/#div_id_phone"),
            ReviewedAnswer("pain_score", format_html("Pain <b>{}</b>", "now"), "7", "/p"),
        ],
    )
    with translation.override(language):
        ours = CHECK_ROWS.render(Context({"section": section}))
        expected = CHECK_ROWS_AS_TEMPLATE.render(Context({"section": section}))
    assert ours == expected
    assert "<script>" not in ours and "&lt;script&gt;" in ours
    assert "Pain <b>now</b>" in ours  # a label that is already HTML is not escaped twice
    assert 'check-answer text-nowrap">555 0100' in ours
