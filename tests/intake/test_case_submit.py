"""Storing a finished questionnaire: the patient record, the reference, exactly once."""

import datetime
import itertools
import uuid

import pytest
from django.db import IntegrityError
from django.urls import reverse

from intake import services
from intake.models import Case, CaseEvent, IntakeDraft, Patient
from intake.services import case_submit
from tests.factories import SUBMISSION_DETAILS, CaseFactory, complete_answers
from tests.intake.questionnaire import fill_all, post_step, send_answers

pytestmark = pytest.mark.django_db

DETAILS = SUBMISSION_DETAILS


def submit(**details) -> Case:
    return case_submit(
        details={**DETAILS, **details}, answers=complete_answers(), submission_token=uuid.uuid4()
    )


def test_a_new_patient_is_stored_with_matching_keys():
    case = submit()
    patient = Patient.objects.get()
    assert case.patient_id == patient.pk
    assert (patient.first_name, patient.last_name, patient.phone, patient.email) == (
        "Zoë",
        "Quillfeather-Example",
        "555-0177",
        "zoe.quill@example.com",
    )
    assert (patient.last_name_key, patient.phone_key) == ("quillfeather-example", "5550177")


def test_a_returning_patient_is_matched_and_their_record_is_never_rewritten():
    first = submit()
    second = submit(
        first_name="Zoe",
        last_name="  quillfeather-EXAMPLE ",
        phone="(555) 0177",
        email="zq@example.com",
    )
    patient = Patient.objects.get()
    assert first.patient_id == second.patient_id == patient.pk
    # An anonymous questionnaire renames nobody (issue 18): the record stays.
    assert (patient.first_name, patient.email) == ("Zoë", "zoe.quill@example.com")
    assert (patient.last_name, patient.phone) == ("Quillfeather-Example", "555-0177")
    # Each case keeps the details as typed that time.
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.details["first_name"] == "Zoë"
    assert second.details == {
        "first_name": "Zoe",
        "last_name": "  quillfeather-EXAMPLE ",
        "date_of_birth": "1958-11-23",
        "phone": "(555) 0177",
        "email": "zq@example.com",
    }


def test_a_returning_patient_without_an_email_keeps_the_one_on_record():
    submit()
    submit(email="")
    assert Patient.objects.get().email == "zoe.quill@example.com"


def test_a_different_person_gets_their_own_record():
    submit()
    submit(date_of_birth=datetime.date(1958, 11, 24))
    assert Patient.objects.count() == 2


def test_a_taken_reference_is_replaced_and_nothing_of_the_first_try_stays(monkeypatch):
    taken = CaseFactory(reference="C-AAAAAAA")
    references = iter(["C-AAAAAAA", "C-CCCCCCC"])
    monkeypatch.setattr(services, "new_case_reference", lambda: next(references))

    case = submit()

    assert case.reference == "C-CCCCCCC"
    assert Case.objects.count() == 2
    assert Patient.objects.exclude(pk=taken.patient_id).count() == 1
    assert list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True)) == [
        CaseEvent.Kind.SUBMITTED
    ]


def test_when_every_reference_tried_is_taken_nothing_is_stored(monkeypatch):
    CaseFactory(reference="C-AAAAAAA")
    attempts = itertools.count(1)

    def always_taken():
        next(attempts)
        return "C-AAAAAAA"

    monkeypatch.setattr(services, "new_case_reference", always_taken)
    with pytest.raises(IntegrityError):
        submit()
    assert next(attempts) == services.REFERENCE_ATTEMPTS + 1
    assert Case.objects.count() == 1
    assert Patient.objects.count() == 1


def test_the_same_submission_sent_again_returns_the_first_case():
    token = uuid.uuid4()
    first = case_submit(details=DETAILS, answers=complete_answers(), submission_token=token)
    again = case_submit(details=DETAILS, answers=complete_answers(), submission_token=token)
    assert again.pk == first.pk
    assert Case.objects.count() == 1


def test_sending_from_the_check_page_takes_eight_statements(
    client, settings, django_assert_num_queries
):
    fill_all(client, {"medications": "ibuprofen"}, stop_before="check")
    settings.CLINIC_RATELIMIT = False  # its counters are statements of their own
    # Read the draft; store the patient, the case and its timeline entry (after
    # reading the timeline's newest hash to chain it to); link the draft to its
    # case. (The savepoint and its release stand for the transaction, as the test
    # runs inside one of its own.)
    with django_assert_num_queries(8):
        response = send_answers(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:done")
    case = Case.objects.get()
    assert case.answers["medications"] == "ibuprofen"
    draft = IntakeDraft.objects.get()
    assert draft.case_id == case.pk
    assert draft.data == {}


def test_a_last_step_sent_with_an_earlier_step_missing_is_kept_in_the_draft(client):
    fill_all(client, stop_before="health")
    draft = IntakeDraft.objects.get()
    draft.data.pop("pain")
    draft.answers.pop("pain")
    draft.save()

    assert post_step(client, "health", {"medications": "ibuprofen"})["Location"] == reverse(
        "intake:check"
    )
    response = send_answers(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("intake:step", kwargs={"step": "pain"})
    assert not Case.objects.exists()
    draft.refresh_from_db()
    assert draft.data["health"]["medications"] == "ibuprofen"
    assert draft.answers["health"]["medications"] == "ibuprofen"
