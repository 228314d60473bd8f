"""FHIR R4 export: the Questionnaire, each case's Bundle, and the staff API.

Every resource is parsed with the FHIR R4 (4.0.1) model of ``fhir.resources``
6.4, which rejects unknown elements, wrong types, bad codes and missing
required elements; the tests then check what the model cannot know (our
linkIds, enableWhen, that answers match the questionnaire's options).
"""

import datetime
import json

import pytest
import time_machine
from django.contrib.auth.models import Group
from fhir.resources import __fhir_version__
from fhir.resources.bundle import Bundle
from fhir.resources.questionnaire import Questionnaire

from audit.models import AuditEntry
from intake.exports import fhir
from intake.forms import STEPS
from intake.roles import CLINICIAN, FRONT_DESK, ensure_staff_roles
from intake.services import case_correct_answer
from tests.factories import CaseFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 2, 14, 0, tzinfo=datetime.UTC)
QUESTIONNAIRE_API = "/api/fhir/Questionnaire/intake/"


def case_api(case) -> str:
    return f"/api/cases/{case.reference}/fhir/"


def staff_in(role: str, **kwargs):
    ensure_staff_roles()
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=role))
    return user


def question_items(items: list[dict]) -> list[dict]:
    """Every item that asks something (not groups, not help text), depth first."""
    found = []
    for item in items:
        if item["type"] not in ("group", "display"):
            found.append(item)
        found.extend(question_items(item.get("item", [])))
    return found


def response_answers(response: dict) -> dict[str, dict]:
    """linkId -> the single answer, for every answered question of a QuestionnaireResponse."""
    answers = {}
    for group in response.get("item", []):
        for item in group["item"]:
            assert len(item["answer"]) == 1
            answers[item["linkId"]] = item["answer"][0]
    return answers


def entries(bundle: dict) -> dict[str, dict]:
    return {entry["resource"]["resourceType"]: entry for entry in bundle["entry"]}


def test_the_library_checks_fhir_r4_itself():
    # The point of these tests is R4 (4.0.1), the version most clinical systems
    # speak; fhir.resources 7+ defaults to R5.
    assert __fhir_version__ == "4.0.1"


# The Questionnaire --------------------------------------------------------------


def test_questionnaire_is_valid_r4_and_its_link_ids_are_the_form_fields():
    resource = fhir.questionnaire_resource()

    Questionnaire.parse_obj(resource)
    assert resource["url"] == "http://127.0.0.1:8000/api/fhir/Questionnaire/intake"
    assert [group["linkId"] for group in resource["item"]] == [step.slug for step in STEPS]
    expected = [code for step in STEPS for code in step.form_class.base_fields]
    assert [item["linkId"] for item in question_items(resource["item"])] == expected


def test_questionnaire_choices_are_the_forms_choices_with_our_code_systems(settings):
    settings.CLINIC_BASE_URL = "https://intake.example.org"
    resource = fhir.questionnaire_resource()
    items = {item["linkId"]: item for item in question_items(resource["item"])}

    for step in STEPS:
        for code, field in step.form_class.base_fields.items():
            item = items[code]
            if item["type"] != "choice":
                assert "answerOption" not in item
                continue
            codings = [option["valueCoding"] for option in item["answerOption"]]
            assert [coding["code"] for coding in codings] == [str(v) for v, _ in field.choices]
            assert [coding["display"] for coding in codings] == [
                str(label) for _, label in field.choices
            ]
            for coding in codings:
                assert coding["system"].startswith("https://intake.example.org/fhir/CodeSystem/")
    assert items["saddle_numbness"]["answerOption"][0]["valueCoding"]["system"] == (
        "https://intake.example.org/fhir/CodeSystem/yes-no-unsure"
    )
    assert items["weak_side"]["answerOption"][0]["valueCoding"]["system"] == (
        "https://intake.example.org/fhir/CodeSystem/weak-side"
    )
    assert items["pain_score"]["type"] == "integer"
    assert items["symptoms_started"]["type"] == "date"
    assert items["date_of_birth"]["type"] == "date"
    assert items["medications"]["type"] == "text"
    assert items["consent"]["type"] == "boolean"


def test_conditional_questions_are_enabled_only_when_asked():
    items = {item["linkId"]: item for item in question_items(fhir.questionnaire_resource()["item"])}
    neither = next(
        {"system": option["valueCoding"]["system"], "code": "neither"}
        for option in items["weak_side"]["answerOption"]
        if option["valueCoding"]["code"] == "neither"
    )

    for code in ("weakness_onset", "weakness_trend"):
        assert items[code]["enableWhen"] == [
            {"question": "weak_side", "operator": "!=", "answerCoding": neither}
        ]
        # Required whenever shown: FHIR applies "required" only to enabled items.
        assert items[code]["required"] is True
    no_give = next(
        {"system": option["valueCoding"]["system"], "code": "no"}
        for option in items["leg_gives_way"]["answerOption"]
        if option["valueCoding"]["code"] == "no"
    )
    assert items["falls"]["enableWhen"] == [
        {"question": "leg_gives_way", "operator": "!=", "answerCoding": no_give}
    ]
    assert items["falls"]["required"] is True
    others = [code for code, item in items.items() if "enableWhen" in item]
    assert sorted(others) == ["falls", "weakness_onset", "weakness_trend"]


def test_red_flag_questions_are_required_and_optional_ones_are_not():
    items = {item["linkId"]: item for item in question_items(fhir.questionnaire_resource()["item"])}

    assert items["saddle_numbness"]["required"] is True
    assert items["bladder_retention"]["required"] is True
    assert items["email"]["required"] is False
    assert items["medications"]["required"] is False
    assert items["appointment_date"]["required"] is False


# A case as a Bundle ---------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_full_case_bundle_is_valid_r4_with_patient_and_every_answer():
    patient = PatientFactory(
        first_name="Zoë", last_name="Ångström", phone="555-0142", email="zoe@example.com"
    )
    case = CaseFactory(
        patient=patient,
        appointment_date=datetime.date(2026, 3, 9),
        submitted_at=NOW - datetime.timedelta(hours=2),
        changes={
            "saddle_numbness": "yes",
            "bladder_stream": "unsure",
            "weak_side": "left",
            "weakness_onset": "days",
            "weakness_trend": "worse",
            "pain_score": 8,
            "medications": "Ibuprofen 400 mg\r\nAtorvastatin",
            "other_notes": "Worse <b>at night</b>.",
        },
    )

    bundle = fhir.case_bundle(case)

    Bundle.parse_obj(bundle)
    assert bundle["type"] == "collection"
    found = entries(bundle)
    patient_entry, response_entry = found["Patient"], found["QuestionnaireResponse"]
    assert patient_entry["resource"]["name"] == [
        {"use": "official", "family": "Ångström", "given": ["Zoë"]}
    ]
    assert patient_entry["resource"]["birthDate"] == "1961-05-17"
    assert patient_entry["resource"]["telecom"] == [
        {"system": "phone", "value": "555-0142"},
        {"system": "email", "value": "zoe@example.com"},
    ]
    response = response_entry["resource"]
    assert response["status"] == "completed"
    assert response["questionnaire"] == (
        "http://127.0.0.1:8000/api/fhir/Questionnaire/intake|" + fhir.QUESTIONNAIRE_VERSION
    )
    assert response["subject"]["reference"] == patient_entry["fullUrl"]
    assert response["identifier"]["value"] == case.reference
    assert response["authored"] == "2026-03-02T12:00:00+00:00"
    assert response_entry["fullUrl"] == f"urn:uuid:{response['id']}"

    answers = response_answers(response)
    for code in case.answers:
        assert code in answers, code
    assert answers["saddle_numbness"]["valueCoding"]["code"] == "yes"
    assert answers["bladder_stream"]["valueCoding"] == {
        "system": "http://127.0.0.1:8000/fhir/CodeSystem/yes-no-unsure",
        "code": "unsure",
        "display": "Not sure",
    }
    assert answers["weakness_onset"]["valueCoding"]["code"] == "days"
    assert answers["pain_score"] == {"valueInteger": 8}
    assert answers["symptoms_started"] == {"valueDate": "2026-01-05"}
    assert answers["medications"] == {"valueString": "Ibuprofen 400 mg\r\nAtorvastatin"}
    assert answers["other_notes"] == {"valueString": "Worse <b>at night</b>."}
    assert answers["first_name"] == {"valueString": "Zoë"}
    assert answers["date_of_birth"] == {"valueDate": "1961-05-17"}
    assert answers["appointment_date"] == {"valueDate": "2026-03-09"}
    assert answers["consent"] == {"valueBoolean": True}


def test_every_coded_answer_is_one_of_the_questionnaires_options():
    case = CaseFactory(
        changes={"weak_side": "both", "weakness_onset": "hours", "weakness_trend": "same"}
    )
    options = {
        item["linkId"]: [option["valueCoding"] for option in item.get("answerOption", [])]
        for item in question_items(fhir.questionnaire_resource()["item"])
    }

    response = entries(fhir.case_bundle(case))["QuestionnaireResponse"]["resource"]

    for link_id, answer in response_answers(response).items():
        if "valueCoding" in answer:
            assert answer["valueCoding"] in options[link_id], link_id


def test_case_with_missing_optional_answers_still_exports_valid_resources():
    patient = PatientFactory(email="")
    case = CaseFactory(patient=patient, appointment_date=None)  # neither leg weak, no notes
    assert "medications" not in case.answers

    bundle = fhir.case_bundle(case)

    Bundle.parse_obj(bundle)
    found = entries(bundle)
    assert found["Patient"]["resource"]["telecom"] == [{"system": "phone", "value": patient.phone}]
    answers = response_answers(found["QuestionnaireResponse"]["resource"])
    # Nothing is sent empty: unanswered optional questions and the weakness
    # details (not asked when no leg is weak) are left out.
    for absent in ("email", "appointment_date", "medications", "other_notes"):
        assert absent not in answers
    assert "weakness_onset" not in answers and "weakness_trend" not in answers
    assert answers["weak_side"]["valueCoding"]["code"] == "neither"


def test_weakness_details_stored_for_a_patient_without_weakness_are_not_sent():
    # enableWhen makes them disabled; FHIR forbids answers to disabled items.
    case = CaseFactory(changes={"weak_side": "neither", "weakness_onset": "days"})

    response = entries(fhir.case_bundle(case))["QuestionnaireResponse"]["resource"]

    assert "weakness_onset" not in response_answers(response)


def test_case_whose_answers_were_removed_exports_a_valid_bundle():
    case = CaseFactory(status="closed", answers={}, reasons=[])

    bundle = fhir.case_bundle(case)

    Bundle.parse_obj(bundle)
    response = entries(bundle)["QuestionnaireResponse"]["resource"]
    assert [group["linkId"] for group in response["item"]] == ["about"]


def test_odd_stored_values_are_kept_readable_and_still_valid():
    case = CaseFactory(
        changes={
            "pain_score": "a lot",  # not an integer
            "pain_pattern": "knee",  # not one of the options
            "symptoms_started": "last spring",  # not a date
            "medications": "Tab\tand a bell \x07 character",
            "other_notes": "   ",
        }
    )

    bundle = fhir.case_bundle(case)

    Bundle.parse_obj(bundle)
    answers = response_answers(entries(bundle)["QuestionnaireResponse"]["resource"])
    assert answers["pain_score"] == {"valueString": "a lot"}
    assert answers["pain_pattern"] == {"valueString": "knee"}
    assert answers["symptoms_started"] == {"valueString": "last spring"}
    assert answers["medications"] == {"valueString": "Tab\tand a bell  character"}
    assert "other_notes" not in answers


def test_a_corrected_case_is_an_amended_response(superuser):
    case = CaseFactory()
    case_correct_answer(case=case, code="falls", value="yes", by=superuser, reason="Phoned.")

    response = entries(fhir.case_bundle(case))["QuestionnaireResponse"]["resource"]

    assert response["status"] == "amended"


def test_resource_ids_are_stable_across_exports():
    case = CaseFactory()

    first, second = fhir.case_bundle(case), fhir.case_bundle(case)

    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]
    assert first["id"] != second["id"]  # each Bundle is its own export


# The staff API ---------------------------------------------------------------------


@pytest.mark.parametrize("url", [QUESTIONNAIRE_API, None])
def test_anonymous_requests_get_401_json_and_no_data(client, url):
    case = CaseFactory(changes={"saddle_numbness": "yes"})

    response = client.get(url or case_api(case))

    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "login"
    text = response.content.decode()
    assert case.reference not in text and case.patient.last_name not in text
    assert "Location" not in response  # never the admin's HTML login redirect
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).exists()


@pytest.mark.parametrize(
    "make_user",
    [
        pytest.param(lambda: UserFactory(is_staff=False, is_superuser=True), id="not-staff"),
        pytest.param(lambda: UserFactory(is_staff=True), id="staff-without-permission"),
        pytest.param(
            lambda: UserFactory(is_staff=True, is_superuser=True, is_active=False), id="inactive"
        ),
    ],
)
def test_users_without_staff_rights_get_403_and_no_data(client, make_user):
    case = CaseFactory()
    client.force_login(make_user())

    for url in (case_api(case), QUESTIONNAIRE_API):
        response = client.get(url)
        assert response.status_code in (401, 403), url
        assert response.json()["resourceType"] == "OperationOutcome"
        assert case.reference not in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).exists()


def test_staff_without_a_verified_second_factor_get_403(client, settings):
    settings.CLINIC_REQUIRE_2FA = True
    case = CaseFactory()
    client.force_login(staff_in(CLINICIAN))

    response = client.get(case_api(case))

    assert response.status_code == 403
    assert case.reference not in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_front_desk_gets_the_case_bundle_and_the_export_is_audited(
    client, django_assert_max_num_queries
):
    case = CaseFactory(changes={"saddle_numbness": "yes"})
    user = staff_in(FRONT_DESK)
    client.force_login(user)

    # Session, user, permissions (2), the case with its patient, "has it follow-ups?",
    # "was it corrected?", the appointment it was sent for, the audit log's newest
    # hash and the audit entry chained to it, and the session's idle-timeout
    # refresh (savepoint, update).
    with django_assert_max_num_queries(13):
        response = client.get(case_api(case))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json; fhirVersion=4.0"
    assert "no-store" in response["Cache-Control"]
    bundle = response.json()
    Bundle.parse_obj(bundle)
    assert entries(bundle)["QuestionnaireResponse"]["resource"]["identifier"]["value"] == (
        case.reference
    )
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert (entry.user, entry.object_type, entry.object_id, entry.object_label) == (
        user,
        "case",
        str(case.pk),
        case.reference,
    )
    assert entry.path == case_api(case)


def test_staff_get_the_questionnaire_and_the_export_is_audited(client):
    user = staff_in(CLINICIAN)
    client.force_login(user)

    response = client.get(QUESTIONNAIRE_API)

    assert response.status_code == 200
    Questionnaire.parse_obj(response.json())
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert (entry.user, entry.object_type, entry.object_id) == (user, "questionnaire", "intake")


def test_the_case_is_found_by_reference_not_by_id(client):
    case = CaseFactory()
    client.force_login(staff_in(FRONT_DESK))

    by_id = client.get(f"/api/cases/{case.pk}/fhir/")
    lower_case = client.get(f"/api/cases/{case.reference.lower()}/fhir/")

    assert by_id.status_code == 404
    assert by_id.json()["issue"][0]["code"] == "not-found"
    assert lower_case.status_code == 200
    exports = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).order_by("pk")
    # The miss is audited too (issue 18): someone guessing references leaves a trail.
    assert [(entry.object_label, entry.status_code) for entry in exports] == [
        (str(case.pk), 404),
        (case.reference, 200),
    ]


def test_the_api_only_reads(client):
    case = CaseFactory()
    client.force_login(staff_in(FRONT_DESK))

    response = client.post(case_api(case))

    assert response.status_code == 405
    assert json.loads(client.get(case_api(case)).content)["resourceType"] == "Bundle"


def test_the_bundle_carries_the_triage_with_its_rules_version_and_flags_in_words():
    case = CaseFactory(
        changes={
            "cancer_history": "yes",
            "leg_numbness": "yes",
            "fever": "yes",
            "weak_side": "right",
            "weakness_onset": "days",
            "weakness_trend": "same",
        }
    )

    bundle = fhir.case_bundle(case)

    Bundle.parse_obj(bundle)
    found = entries(bundle)
    assessment = found["RiskAssessment"]["resource"]
    assert assessment["code"]["coding"][0]["code"] == "emergency"
    assert assessment["method"]["coding"][0]["code"] == "2"
    assert assessment["status"] == "final"
    assert assessment["basis"] == [{"reference": found["QuestionnaireResponse"]["fullUrl"]}]
    assert assessment["subject"]["reference"] == found["Patient"]["fullUrl"]
    outcomes = [p["outcome"]["coding"][0] for p in assessment["prediction"]]
    assert [o["code"] for o in outcomes] == case.flags
    assert "infection_weakness" in case.flags and "cancer_weakness" in case.flags
    assert [o["display"] for o in outcomes] == case.flag_labels
    assert [p["rationale"] for p in assessment["prediction"]] == case.reasons


def test_a_case_sent_through_its_invitation_carries_its_appointment():
    from intake.invitations import NewAppointment, appointment_cancel, appointment_create
    from intake.models import Invitation

    starts = datetime.datetime(2026, 3, 9, 15, 30, tzinfo=datetime.UTC)
    case = CaseFactory(changes={"saddle_numbness": "yes"})
    invitation = appointment_create(
        new=NewAppointment(
            first_name=case.patient.first_name,
            last_name=case.patient.last_name,
            date_of_birth=case.patient.date_of_birth,
            starts_at=starts,
            email="test.invited@example.com",
        ),
        by=None,
    )
    Invitation.objects.filter(pk=invitation.pk).update(case=case)

    bundle = fhir.case_bundle(case)

    Bundle.parse_obj(bundle)
    appointment = entries(bundle)["Appointment"]["resource"]
    assert appointment["status"] == "booked"
    assert appointment["start"] == "2026-03-09T15:30:00+00:00"
    assert (
        appointment["participant"][0]["actor"]["reference"]
        == (entries(bundle)["Patient"]["fullUrl"])
    )
    assert "note" not in appointment and "comment" not in appointment
    appointment_cancel(appointment=invitation.appointment, by=None)
    assert entries(fhir.case_bundle(case))["Appointment"]["resource"]["status"] == "cancelled"
    assert "Appointment" not in entries(fhir.case_bundle(CaseFactory()))


def test_a_case_of_a_chain_carries_every_questionnaire_response_of_the_chain():
    baseline = CaseFactory(submitted_at=NOW - datetime.timedelta(weeks=4))
    first = CaseFactory(
        patient=baseline.patient,
        baseline=baseline,
        submitted_at=NOW - datetime.timedelta(weeks=2),
        changes={"change_since_last": "a_little_worse", "pain_score": 7},
    )
    second = CaseFactory(
        patient=baseline.patient,
        baseline=baseline,
        submitted_at=NOW - datetime.timedelta(weeks=1),
        changes={"change_since_last": "same"},
    )

    bundle = fhir.case_bundle(first)

    Bundle.parse_obj(bundle)
    responses = [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
    assert [r["identifier"]["value"] for r in responses] == [
        first.reference,
        baseline.reference,
        second.reference,
    ]
    patient_url = entries(bundle)["Patient"]["fullUrl"]
    assert {r["subject"]["reference"] for r in responses} == {patient_url}
    assert {r["questionnaire"] for r in responses} == {fhir.questionnaire_canonical()}
    # A case alone carries its own response only.
    alone = fhir.case_bundle(CaseFactory())
    assert (
        sum(e["resource"]["resourceType"] == "QuestionnaireResponse" for e in alone["entry"]) == 1
    )
