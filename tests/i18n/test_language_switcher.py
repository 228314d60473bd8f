"""The language switcher: on every patient page, and it never loses an answer."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from conditions.models import Condition
from intake.models import IntakeDraft
from intake.views import DRAFT_COOKIE
from tests.intake.questionnaire import fill_all, step_url

pytestmark = pytest.mark.django_db

LANGUAGE_COOKIE = settings.LANGUAGE_COOKIE_NAME


def test_landing_page_offers_spanish_named_in_spanish(client):
    html = client.get("/").text
    form = re.search(r'<form class="language-switcher nav".*?</form>', html, re.S).group(0)
    assert f'action="{reverse("set_language")}"' in form
    assert '<input type="hidden" name="next" value="/">' in form
    assert re.search(
        r'<button[^>]*name="language" value="es" lang="es"[^>]*>Español</button>', form
    )
    assert "csrfmiddlewaretoken" in form


def test_choosing_spanish_on_the_landing_page_shows_it_in_spanish(client):
    response = client.post(reverse("set_language"), {"language": "es", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.cookies[LANGUAGE_COOKIE].value == "es"

    page = client.get("/")
    assert page["Content-Language"] == "es"
    assert '<html lang="es">' in page.text
    assert "Antes de su consulta" in page.text
    assert "Empezar el cuestionario" in page.text
    # And back to English, offered in English.
    assert re.search(r'value="en" lang="en"[^>]*>English</button>', page.text)


def test_the_browser_language_is_honoured_on_a_first_visit(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")
    assert '<html lang="es">' in page.text
    assert "Antes de su consulta" in page.text
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Before your visit" in english.text


def test_the_language_cookie_wins_over_the_browser(spanish_client):
    page = spanish_client.get("/", HTTP_ACCEPT_LANGUAGE="en-US")
    assert "Antes de su consulta" in page.text


def test_switching_on_a_step_keeps_answers_typed_but_not_yet_saved(client):
    fill_all(client, stop_before="legs")
    # Half the legs step typed, nothing saved yet, then "Español".
    typed = {
        "weak_side": "both",
        "weakness_onset": "days",
        "symptoms_started_day": "3",
        "symptoms_started_month": "febrero",
        "symptoms_started_year": "2026",
        "action": "language-es",
    }
    response = client.post(step_url("legs"), typed)

    assert response.status_code == 302
    assert response["Location"] == step_url("legs")  # the same step, not the next
    assert client.cookies[LANGUAGE_COOKIE].value == "es"

    page = client.get(step_url("legs")).text
    assert '<html lang="es">' in page
    assert "¿Qué pierna siente débil?" in page
    assert re.search(r'name="weak_side" value="both"[^>]*checked', page)
    assert re.search(r'name="weakness_onset" value="days"[^>]*checked', page)
    assert 'name="symptoms_started_month" value="febrero"' in page
    assert 'name="symptoms_started_year" value="2026"' in page
    # Not validated: no errors shown for the questions still unanswered.
    assert 'id="error-summary"' not in page


def test_switching_back_to_english_keeps_them_too(spanish_client):
    fill_all(spanish_client, stop_before="pain")
    spanish_client.post(step_url("pain"), {"back_pain": "yes", "action": "language-en"})
    assert spanish_client.cookies[LANGUAGE_COOKIE].value == "en"
    page = spanish_client.get(step_url("pain")).text
    assert "Do you have pain in your lower back?" in page
    assert re.search(r'name="back_pain" value="yes"[^>]*checked', page)


def test_switching_on_the_first_step_keeps_the_typed_name(client):
    response = client.post(
        step_url("about"), {"first_name": "Zoë", "last_name": "Ñandú", "action": "language-es"}
    )
    assert response["Location"] == step_url("about")
    page = client.get(step_url("about")).text
    assert 'value="Zoë"' in page and 'value="Ñandú"' in page
    assert "Sobre usted" in page


def test_switching_before_typing_anything_starts_no_draft(client):
    response = client.post(step_url("about"), {"action": "language-es"})
    assert response.status_code == 302
    assert client.cookies[LANGUAGE_COOKIE].value == "es"
    assert DRAFT_COOKIE not in client.cookies
    assert not IntakeDraft.objects.exists()


def test_switching_on_the_last_step_does_not_send_the_answers(client):
    fill_all(client, stop_before="health")
    response = client.post(step_url("health"), {"diabetes": "no", "action": "language-es"})
    assert response["Location"] == step_url("health")
    draft = IntakeDraft.objects.get()
    assert draft.case is None
    assert draft.data["health"]["diabetes"] == "no"


def test_an_unknown_language_is_not_a_switch(client):
    fill_all(client, stop_before="legs")
    response = client.post(step_url("legs"), {"weak_side": "left", "action": "language-xx"})
    # Treated like any other submit: validated, errors shown, language unchanged.
    assert response.status_code == 200
    assert LANGUAGE_COOKIE not in client.cookies
    assert 'id="error-summary"' in response.text


def test_the_header_switcher_on_a_step_submits_the_step_and_enter_still_goes_forward(client):
    fill_all(client, stop_before="legs")
    html = client.get(step_url("legs")).text
    # The header's button belongs to the step's form, so it keeps what was typed...
    header = html[html.index("<header") : html.index("</header>")]
    assert re.search(
        r'<button type="submit" form="questionnaire-form" name="action" value="language-es"',
        header,
    )
    assert reverse("set_language") not in header
    assert 'href="#language-switcher"' not in html  # no jump to the bottom of the page
    # ...and the first submit button of that form in the page, the one Enter
    # presses, is "next" (a hidden copy before the header), never a language.
    step_button = (
        r'<button type="submit"(?: form="questionnaire-form")? name="action" value="([^"]+)"'
    )
    assert re.findall(step_button, html)[0] == "next"
    assert html.index('form="questionnaire-form" name="action" value="next"') < html.index(
        "<header"
    )


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/conditions/",
        "/conditions/cauda-equina-syndrome/",
        "/no-such-page/",
    ],
)
def test_every_patient_page_has_the_switcher(client, url):
    html = client.get(url).text
    assert 'class="language-switcher' in html
    assert ">Español<" in html


def test_the_questionnaire_and_confirmation_pages_have_the_switcher(client):
    assert "language-es" in client.get(step_url("about")).text
    fill_all(client)
    confirmation = client.get(reverse("intake:done")).text
    assert 'class="language-switcher' in confirmation
    assert f'name="next" value="{reverse("intake:done")}"' in confirmation


def test_spanish_pages_name_english_in_english(spanish_client):
    html = spanish_client.get(Condition.objects.first().get_absolute_url()).text
    assert re.search(r'value="en" lang="en"[^>]*>English</button>', html)
