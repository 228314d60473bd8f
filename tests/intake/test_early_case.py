"""The case at the first warning sign (SPEC "Patient-facing safety", issue 17).

A patient told to go to an emergency department now may leave at once: the
case is made and the clinic alerted in the request that saved the step whose
answers made an emergency. The rest of the questionnaire is optional and adds
to the same case.
"""

import pytest
from django.core import mail
from django.urls import reverse

from intake.models import Case, CaseEvent, IntakeDraft
from tests.intake.questionnaire import fill_all, post_step, send_answers, step_url

pytestmark = pytest.mark.django_db

QUEUE_URL = "/admin/intake/redflagcase/"
SADDLE = {"saddle_numbness": "yes"}


def send_up_to_the_warning_signs(client, capture, changes=None):
    with capture(execute=True):
        fill_all(client, {**SADDLE, **(changes or {})}, stop_before="health")
    return Case.objects.get()


def test_a_warning_sign_sends_the_case_and_alerts_the_clinic_before_the_last_step(
    client, django_capture_on_commit_callbacks
):
    case = send_up_to_the_warning_signs(client, django_capture_on_commit_callbacks)

    assert case.created_early
    assert case.completed_at is None
    assert (case.tier, case.flags) == ("emergency", ["saddle_numbness"])
    assert case.answers["saddle_numbness"] == "yes"
    assert case.answers["weak_side"] == "left"  # the earlier steps came too
    assert "diabetes" not in case.answers  # the last step was not answered
    assert case.answers["age"] == 68
    event = case.events.get(kind=CaseEvent.Kind.SUBMITTED)
    assert "first warning sign" in event.summary
    [alert] = mail.outbox
    assert case.reference in alert.subject


def test_the_patient_sees_at_once_that_the_answers_were_sent_and_to_go_now(
    client, django_capture_on_commit_callbacks, settings
):
    settings.CLINIC_EMERGENCY_NUMBER = "911"
    case = send_up_to_the_warning_signs(client, django_capture_on_commit_callbacks)

    page = client.get(step_url("health")).content.decode()

    assert "Please get emergency care now" in page
    assert "We have sent your answers to the clinic and told the team on call." in page
    assert case.reference in page
    assert "Go to an emergency department now, or call 911" in page
    assert 'href="tel:911"' in page
    assert "The rest of the questions are optional" in page
    assert reverse("intake:stop_early") in page
    assert 'id="emergency-advice-live"' not in page  # said once, at the top


def test_a_patient_who_leaves_after_the_warning_sign_is_in_the_queue(
    client, superuser_client, django_capture_on_commit_callbacks
):
    case = send_up_to_the_warning_signs(client, django_capture_on_commit_callbacks)

    queue = superuser_client.get(QUEUE_URL).content.decode()

    assert case.reference in queue


def test_the_warning_step_posted_again_makes_no_second_case_or_alert(
    client, django_capture_on_commit_callbacks
):
    send_up_to_the_warning_signs(client, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        post_step(client, "warning-signs", SADDLE)
        post_step(client, "warning-signs", SADDLE)

    assert Case.objects.count() == 1
    assert len(mail.outbox) == 1


def test_finishing_every_step_completes_the_same_case(client, django_capture_on_commit_callbacks):
    case = send_up_to_the_warning_signs(client, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_step(client, "health", {"diabetes": "yes", "medications": "Metformin"})
        assert response["Location"] == reverse("intake:check")
        response = send_answers(client)

    assert response["Location"] == reverse("intake:done")
    assert Case.objects.count() == 1
    case.refresh_from_db()
    assert case.completed_at is not None
    assert case.answers["diabetes"] == "yes"
    assert case.answers["medications"] == "Metformin"
    assert case.answers["saddle_numbness"] == "yes"
    added = case.events.filter(kind=CaseEvent.Kind.ANSWERS_ADDED).get()
    assert "diabetes" in added.after["answered"]
    assert len(mail.outbox) == 1  # still an emergency, not for a new reason: no second alert
    done = client.get(reverse("intake:done")).content.decode()
    assert case.reference in done
    assert "Thank you. We have your answers." in done


def test_the_patient_can_stop_after_the_case_is_sent(client, django_capture_on_commit_callbacks):
    case = send_up_to_the_warning_signs(client, django_capture_on_commit_callbacks)

    response = client.post(reverse("intake:stop_early"))

    assert response["Location"] == reverse("intake:done")
    done = client.get(reverse("intake:done")).content.decode()
    assert case.reference in done
    assert "We have the answers you gave" in done
    assert "Please get emergency care now" in done
    draft = IntakeDraft.objects.get()
    assert draft.case_id == case.pk and draft.data == {}
    # The questionnaire after stopping starts afresh.
    assert client.get(step_url("about")).status_code == 200
    case.refresh_from_db()
    assert case.completed_at is None


def test_both_legs_weakening_sends_the_case_from_the_legs_step(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        fill_all(
            client,
            {"weak_side": "both", "weakness_onset": "days", "weakness_trend": "worse"},
            stop_before="pain",
        )

    case = Case.objects.get()
    assert case.created_early
    assert case.flags == ["bilateral_weakness", "progressive_weakness"]
    assert "back_pain" not in case.answers
    assert len(mail.outbox) == 1


def test_a_later_answer_never_lowers_the_tier_the_clinic_was_alerted_for(
    client, django_capture_on_commit_callbacks
):
    case = send_up_to_the_warning_signs(client, django_capture_on_commit_callbacks)

    # The patient goes back and changes the answer.
    with django_capture_on_commit_callbacks(execute=True):
        post_step(client, "warning-signs", {"saddle_numbness": "no", "action": "back"})

    case.refresh_from_db()
    assert case.tier == "emergency"
    assert case.answers["saddle_numbness"] == "no"
    entry = case.events.filter(kind=CaseEvent.Kind.ANSWERS_ADDED).get()
    assert "stays emergency until a clinician decides" in entry.summary


def test_an_emergency_first_found_on_the_last_step_is_sent_before_the_check_page(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        fill_all(client, {"cancer_history": "yes", "leg_numbness": "yes"}, stop_before="check")
    case = Case.objects.get()  # the clinic knows before the patient reads their answers
    assert case.created_early
    assert case.completed_at is None
    assert len(mail.outbox) == 1

    with django_capture_on_commit_callbacks(execute=True):
        send_answers(client)
    case.refresh_from_db()
    assert case.completed_at is not None
    assert case.flags[0] == "cancer_weakness"
    assert len(mail.outbox) == 1


def test_no_case_is_sent_early_without_an_emergency(client):
    fill_all(client, {"foot_lift_difficulty": "yes"}, stop_before="health")

    assert Case.objects.count() == 0
