"""Staff screens stay in English whatever the browser or the language cookie says."""

import pytest
from django.conf import settings
from django.urls import reverse

from conditions.models import Condition
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

SPANISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "es-ES,es;q=0.9"}


def test_staff_middleware_runs_right_after_locale_middleware():
    middleware = settings.MIDDLEWARE
    locale = middleware.index("django.middleware.locale.LocaleMiddleware")
    assert middleware[locale + 1] == "clinic.middleware.StaffEnglishMiddleware"


def test_the_login_page_is_english_for_a_spanish_browser(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    response = client.get(reverse("admin:login"), **SPANISH_BROWSER)
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert '<html lang="en"' in response.text
    assert "Username" in response.text
    assert "Nombre de usuario" not in response.text


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:index",
        "admin:intake_redflagcase_changelist",
        "admin:intake_case_changelist",
        "admin:conditions_condition_changelist",
    ],
)
def test_admin_pages_are_english_with_a_spanish_cookie_and_browser(superuser_client, url_name):
    CaseFactory(changes={"saddle_numbness": "yes"}, language="es")
    superuser_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    response = superuser_client.get(reverse(url_name), **SPANISH_BROWSER)
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert '<html lang="en"' in response.text
    for spanish in ("Buscar", "Cerrar sesión", "Señales de alarma", "Emergencia"):
        assert spanish not in response.text, spanish


def test_the_patient_keeps_spanish_after_a_staff_page_in_the_same_browser(superuser_client):
    superuser_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    superuser_client.get(reverse("admin:index"))
    assert "Antes de su consulta" in superuser_client.get("/").text


def test_case_page_notes_the_patients_language_only_when_not_english(superuser_client):
    spanish = CaseFactory(language="es")
    english = CaseFactory(language="en")
    spanish_page = superuser_client.get(
        reverse("admin:intake_case_change", args=[spanish.pk]), **SPANISH_BROWSER
    ).text
    assert "the patient answered in Spanish" in spanish_page
    english_page = superuser_client.get(reverse("admin:intake_case_change", args=[english.pk])).text
    assert "the patient answered in" not in english_page


def test_staff_edit_both_languages_and_the_history_keeps_both(superuser_client, superuser):
    condition = Condition.objects.get(slug="spondylolisthesis")
    change_url = reverse("admin:conditions_condition_change", args=[condition.pk])
    page = superuser_client.get(change_url, **SPANISH_BROWSER).text
    assert "Spanish version" in page
    assert 'name="title_es"' in page and 'value="Espondilolistesis"' in page

    from tests.conditions.test_admin import change_form_data

    data = change_form_data(condition)
    data.update(
        {
            f"{name}_es": getattr(condition, f"{name}_es")
            for name in ("title", "summary", "what_it_is", "symptoms", "causes")
        }
    )
    data.update(
        {
            "assessment_es": condition.assessment_es,
            "treatment_es": "Texto nuevo del tratamiento.",
            "urgent_help_es": condition.urgent_help_es,
        }
    )
    response = superuser_client.post(change_url, data)
    assert response.status_code == 302, response.text[:2000]

    condition.refresh_from_db()
    assert condition.treatment_es == "Texto nuevo del tratamiento."
    assert condition.title == "Spondylolisthesis"  # English untouched
    latest = condition.history.latest()
    assert latest.history_user == superuser
    changed = latest.diff_against(latest.prev_record).changed_fields
    assert changed == ["treatment_es"]
    # Every version of the page, English and Spanish, is in the history.
    assert latest.title == "Spondylolisthesis"
    assert latest.title_es == "Espondilolistesis"
    assert latest.prev_record.treatment_es != latest.treatment_es


def test_condition_list_shows_which_pages_have_spanish(superuser_client):
    html = superuser_client.get(reverse("admin:conditions_condition_changelist")).text
    assert "column-has_spanish" in html
