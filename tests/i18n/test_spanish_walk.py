"""A whole visit in Spanish: landing, questionnaire, emergency advice, confirmation,
education pages; staff then read the same case in English with the language noted."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from intake.models import Case
from tests.factories import UserFactory
from tests.intake.questionnaire import fill_all, post_step, send_answers, step_url

pytestmark = pytest.mark.django_db

EMERGENCY = {"saddle_numbness": "yes", "bladder_retention": "unsure"}


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def shown_text(html: str) -> str:
    """The visible text without the hidden advice the script reveals (on every step)."""
    html = re.sub(
        r'<section id="emergency-advice-live"[^>]*\bhidden\b.*?</section>', " ", html, flags=re.S
    )
    return visible_text(html)


#: What each tier promises, in Spanish (intake/advice.py): the heading of each.
PROMISE_HEADINGS = {
    "emergency": "Busque atención de emergencia ahora",
    "urgent": "Un profesional de salud le llamará hoy",
    "soon": "Nos comunicaremos con usted en los próximos días",
    "routine": "Leeremos sus respuestas antes de su consulta",
}
SIGNS_HEADING = "Vaya ahora a una sala de emergencias si tiene cualquiera de estos síntomas"


def assert_only_the_promise_of(tier: str, text: str) -> None:
    """A confirmation page never shows advice of two tiers as if both applied."""
    for other, heading in PROMISE_HEADINGS.items():
        assert (heading in text) == (other == tier), (tier, heading)


def choose_spanish_on_the_landing_page(client):
    landing = client.get("/")
    assert ">Español<" in landing.text
    client.post(reverse("set_language"), {"language": "es", "next": "/"})
    return client.get("/")


def test_a_patient_does_everything_in_spanish_and_staff_read_it_in_english(
    client, settings, django_capture_on_commit_callbacks
):
    settings.CLINIC_EMERGENCY_NUMBER = "911"
    landing = choose_spanish_on_the_landing_page(client)
    assert "Empezar el cuestionario" in landing.text

    # The questionnaire, step by step, in Spanish.
    first = client.get(step_url("about"))
    assert '<html lang="es">' in first.text
    assert "Paso 1 de 5" in first.text
    assert "Sobre usted" in first.text

    with django_capture_on_commit_callbacks(execute=True):
        fill_all(client, EMERGENCY, stop_before="health")
    # The answers so far were sent, and the clinic alerted, at the first warning sign.
    assert Case.objects.get().created_early
    assert len(mail.outbox) == 1

    # The warning-signs questions were asked in Spanish, positively ...
    warning_page = shown_text(client.get(step_url("warning-signs")).text)
    assert "cambios que empezaron en las últimas 2 semanas, o que están empeorando" in warning_page
    assert (
        "¿Ha notado hace poco adormecimiento, hormigueo o una sensación extraña entre las piernas?"
        in warning_page
    )
    assert "también si siente menos en la vagina o en el pene" in warning_page
    assert "¿Desde hace poco le cuesta orinar?" in warning_page
    assert "¿No puede" not in warning_page
    assert "Prefiero no responder" in warning_page
    # ... and the emergency advice comes at once on the next page, in Spanish.
    health_page = client.get(step_url("health")).text
    advice = shown_text(health_page)
    assert "Busque atención de emergencia ahora" in advice
    assert (
        "Vaya ahora a una sala de emergencias o llame al 911. No espere a su cita, "
        "y no espere a ver si mejora."
    ) in advice
    assert '<a class="btn btn-danger btn-lg" href="tel:911">Llame al 911</a>' in health_page

    with django_capture_on_commit_callbacks(execute=True):
        assert post_step(client, "health")["Location"] == reverse("intake:check")
        check = client.get(reverse("intake:check")).text
        assert "Revise sus respuestas antes de enviarlas" in check
        response = send_answers(client)
    assert response["Location"] == reverse("intake:done")

    # Confirmation: the reference and the emergency promise alone, in Spanish.
    confirmation = client.get(reverse("intake:done"))
    text = visible_text(confirmation.text)
    case = Case.objects.get()
    assert re.search(rf"Su número de referencia es {case.reference}\s*\.", text)
    assert_only_the_promise_of("emergency", text)
    assert "Enviamos sus respuestas a la clínica y avisamos al equipo de turno." in text
    assert "Temas para hablar con su profesional de salud" in text
    assert "Please get emergency care now" not in text

    # The related education pages, linked and read in Spanish.
    links = re.findall(r'<a href="(/conditions/[^"]+/)">([^<]+)</a>', confirmation.text)
    titles = dict(links)
    assert titles["/conditions/cauda-equina-syndrome/"] == (
        "Síndrome de cauda equina (síndrome de la cola de caballo)"
    )
    page = client.get("/conditions/cauda-equina-syndrome/")
    page_text = visible_text(page.text)
    assert "<h1>Síndrome de cauda equina (síndrome de la cola de caballo)</h1>" in page.text
    assert "Vaya ahora a la sala de emergencias más cercana" in page_text
    assert "Esto no es un diagnóstico." in page_text
    assert "Referencias" in page_text
    assert "Por ahora, esta página solo está disponible en inglés" not in page_text

    # What was stored: codes, not Spanish words, and the language used.
    assert case.language == "es"
    assert case.answers["saddle_numbness"] == "yes"
    assert case.answers["bladder_retention"] == "unsure"
    assert case.answers["weak_side"] == "left"
    assert case.tier == "emergency"

    # The staff alert says the patient prefers Spanish (and stays in English).
    [alert] = mail.outbox
    assert "Language: the patient answered in Spanish" in alert.body
    assert "EMERGENCY" in alert.subject
    assert "Numbness between the legs (saddle)" in alert.body  # sent during a Spanish request

    # Staff open the case in the same browser (Spanish cookie, Spanish Accept-Language).
    client.force_login(UserFactory(username="on-call", is_superuser=True))
    case_page = client.get(
        reverse("admin:intake_case_change", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="es"
    )
    assert case_page.status_code == 200
    assert case_page["Content-Language"] == "en"
    assert '<html lang="en"' in case_page.text
    staff_text = visible_text(case_page.text)
    assert "Red flags" in staff_text
    assert (
        "Language: the patient answered in Spanish and may prefer to be spoken to in Spanish."
        in staff_text
    )
    assert "Señales de alarma" not in staff_text
    assert "Sí" not in staff_text.split()


def test_errors_are_shown_in_spanish_and_keep_the_other_answers(spanish_client):
    response = spanish_client.post(step_url("about"), {"first_name": "Zoë", "phone": "abc"})
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "Por favor, revise estas respuestas" in text
    assert "Por favor, escriba sus apellidos." in text
    assert "Por favor, marque esta casilla para indicar que lo ha leído." in text
    assert 'value="Zoë"' in response.text


def test_a_spanish_walk_without_warning_signs_has_no_emergency_advice(spanish_client):
    fill_all(spanish_client)
    case = Case.objects.get()
    assert case.language == "es"
    text = visible_text(spanish_client.get(reverse("intake:done")).text)
    assert "Gracias. Recibimos sus respuestas." in text
    assert case.tier == "routine"
    assert_only_the_promise_of("routine", text)
    assert "El equipo de la clínica leerá sus respuestas antes de su consulta." in text
    # Everyone still sees when to go to an emergency department, in Spanish.
    assert SIGNS_HEADING in text
    assert "Cuenta aunque sea una zona pequeña." in text
    assert mail.outbox == []


def test_a_new_sexual_problem_alone_is_urgent_in_spanish_not_an_emergency(
    spanish_client, django_capture_on_commit_callbacks
):
    """Rules version 2: alone it is unlikely to be cauda equina syndrome (GIRFT)."""
    fill_all(spanish_client, {"sexual_dysfunction": "yes"}, stop_before="health")
    assert "Busque atención de emergencia ahora" not in shown_text(
        spanish_client.get(step_url("health")).text
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_step(spanish_client, "health")
        send_answers(spanish_client)
    case = Case.objects.get()
    assert (case.tier, case.flags) == ("urgent", ["sexual"])
    text = visible_text(spanish_client.get(reverse("intake:done")).text)
    assert_only_the_promise_of("urgent", text)
    assert (
        "Por algunas de sus respuestas, un profesional de salud necesita hablar con usted hoy."
        in text
    )
    # The signs that mean going to an emergency department at once, in Spanish.
    assert SIGNS_HEADING in text
    assert mail.outbox == []


def test_an_english_walk_is_recorded_as_english_and_the_alert_does_not_mention_language(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        fill_all(client, EMERGENCY)
    assert Case.objects.get().language == "en"
    [alert] = mail.outbox
    assert "Language:" not in alert.body


def test_the_live_emergency_advice_for_the_script_is_in_spanish(spanish_client):
    fill_all(spanish_client, stop_before="warning-signs")
    html = spanish_client.get(step_url("warning-signs")).text
    live = html[html.index('id="emergency-advice-live"') :]
    live = live[: live.index("</section>")]
    assert "Busque atención de emergencia ahora" in live
    assert "sala de emergencias" in live
