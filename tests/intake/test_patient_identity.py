"""A returning patient's details: kept per case, never rewritten by a questionnaire (issue 18).

An anonymous questionnaire with an existing patient's last name, date of
birth and phone and a new first name and email used to rename that patient
on every earlier case. Now each case keeps what was typed, the record stays,
and staff see the differences and decide.
"""

import uuid

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from intake.models import CaseEvent, Patient
from intake.roles import CLINICIAN, FRONT_DESK
from intake.services import case_submit
from tests.factories import SUBMISSION_DETAILS, complete_answers, staff_in

pytestmark = pytest.mark.django_db


def submit(**details):
    return case_submit(
        details={**SUBMISSION_DETAILS, **details},
        answers=complete_answers(),
        submission_token=uuid.uuid4(),
    )


def case_page(client, case) -> str:
    return client.get(reverse("admin:intake_case_change", args=[case.pk])).content.decode()


def test_a_stranger_cannot_rename_a_patient_on_their_earlier_cases(client):
    earlier = [submit() for _ in range(3)]

    submit(first_name="Mallory", email="mallory@example.com")

    patient = Patient.objects.get()
    assert (patient.first_name, patient.email) == ("Zoë", "zoe.quill@example.com")
    client.force_login(staff_in(CLINICIAN))
    for case in earlier:
        page = case_page(client, case)
        assert "Mallory" not in page
        assert "differ from their record" not in page


def test_staff_see_where_the_typed_details_differ_and_can_update_the_record(client):
    submit()
    newer = submit(first_name="Zoe", email="zoe.new@example.com")
    clinician = staff_in(CLINICIAN)
    client.force_login(clinician)

    page = case_page(client, newer)
    assert "The patient typed details that differ from their record" in page
    assert "zoe.new@example.com" in page and "zoe.quill@example.com" in page

    response = client.post(reverse("case_update_patient", args=[newer.pk]))

    assert response.status_code == 302
    patient = Patient.objects.get()
    assert (patient.first_name, patient.email) == ("Zoe", "zoe.new@example.com")
    entry = newer.events.get(kind=CaseEvent.Kind.NOTE)
    assert entry.author == clinician
    assert entry.before == {"patient": {"first_name": "Zoë", "email": "zoe.quill@example.com"}}
    assert entry.after == {"patient": {"first_name": "Zoe", "email": "zoe.new@example.com"}}
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.CHANGE, object_type="patient", object_id=str(patient.pk)
    ).exists()
    assert "differ from their record" not in case_page(client, newer)


def test_a_blank_email_typed_later_is_not_a_difference():
    submit()
    newer = submit(email="")

    from intake.services import case_details_differences

    assert case_details_differences(newer) == []


def test_only_staff_who_may_correct_answers_may_update_the_record(client):
    submit()
    newer = submit(first_name="Zoe")
    client.force_login(staff_in(FRONT_DESK))

    assert "Update the patient record" not in case_page(client, newer)
    response = client.post(reverse("case_update_patient", args=[newer.pk]))

    assert response.status_code == 403
    assert Patient.objects.get().first_name == "Zoë"


def test_updating_needs_a_post_and_a_real_case(client):
    newer = submit()
    client.force_login(staff_in(CLINICIAN))

    assert client.get(reverse("case_update_patient", args=[newer.pk])).status_code == 405
    assert client.post("/admin/intake/case/'/patient-details/").status_code == 404
    assert client.post("/admin/intake/case/999999/patient-details/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client):
    newer = submit()

    response = client.post(reverse("case_update_patient", args=[newer.pk]))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_fhir_answers_are_the_details_typed_on_that_case():
    from intake.exports import fhir

    earlier = submit()
    newer = submit(first_name="Zoe")

    def first_name(case):
        response = next(
            entry["resource"]
            for entry in fhir.case_bundle(case)["entry"]
            if entry["resource"]["resourceType"] == "QuestionnaireResponse"
        )
        about = next(group for group in response["item"] if group["linkId"] == "about")
        item = next(item for item in about["item"] if item["linkId"] == "first_name")
        return item["answer"][0]["valueString"]

    assert first_name(earlier) == "Zoë"
    assert first_name(newer) == "Zoe"
