"""The questionnaire and each case's answers as HL7 FHIR R4 (4.0.1) resources.

Plain dicts ready for JSON, built straight from the questionnaire's forms
(``intake.forms.STEPS``) so the FHIR ``Questionnaire`` can never drift from
what patients are asked:

- every question's ``linkId`` is its SPEC answer code (the form field name),
  grouped by step (group ``linkId`` = the step's slug);
- choices are ``answerOption.valueCoding`` in code systems of our own under
  ``CLINIC_BASE_URL/fhir/CodeSystem/``;
- the conditional questions (weakness details, falls) carry ``enableWhen``.

A case becomes a ``Bundle`` (type ``collection``) holding the ``Patient``, a
``RiskAssessment`` with the triage (tier, rules version, red flags in words)
and a ``QuestionnaireResponse`` whose items mirror the questionnaire; a question
without an answer (optional, not asked, or removed by the retention purge) is
left out, never sent empty. Resource ids are stable UUIDs derived from our own
keys, so exporting the same case twice gives the same ids.

The output is checked against the FHIR R4 model (``fhir.resources``) in the
tests; the app itself needs no FHIR library to produce it.
"""

import datetime
import logging
import unicodedata
import uuid
from collections.abc import Mapping

from django import forms
from django.conf import settings
from django.utils import timezone

from .. import triage
from ..forms import CONDITIONAL_QUESTIONS, STEPS, DatePartsField, is_asked
from ..models import Appointment, Case, CaseEvent, Patient
from ..selectors import case_chain
from .summary import CLINICAL_LABELS

logger = logging.getLogger(__name__)

FHIR_VERSION = "4.0.1"
#: The media type FHIR servers send and expect for R4 JSON.
FHIR_JSON = "application/fhir+json; fhirVersion=4.0"

QUESTIONNAIRE_ID = "intake"
#: Raise when a question, its choices or its wording changes in a way that
#: changes what an answer means; stored answers name the version they answered.
QUESTIONNAIRE_VERSION = "1"

_ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
_ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
_MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
_MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"

#: Choice questions that all share the yes / no (/ not sure) answer codes.
_YES_NO_CODES = frozenset({"yes", "no", "unsure"})


def _base_url() -> str:
    return settings.CLINIC_BASE_URL.rstrip("/")


def questionnaire_url() -> str:
    """The questionnaire's canonical URL (the staff API serves it there)."""
    return f"{_base_url()}/api/fhir/Questionnaire/{QUESTIONNAIRE_ID}"


def questionnaire_canonical() -> str:
    return f"{questionnaire_url()}|{QUESTIONNAIRE_VERSION}"


def code_system_url(name: str) -> str:
    return f"{_base_url()}/fhir/CodeSystem/{name}"


def question_code_system() -> str:
    """The code system whose codes are the questions' answer codes."""
    return code_system_url("intake-question")


def case_reference_system() -> str:
    return f"{_base_url()}/fhir/NamingSystem/case-reference"


def _stable_id(kind: str, key: object) -> str:
    """A UUID for one of our records, the same on every export from this clinic."""
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, _base_url())
    return str(uuid.uuid5(namespace, f"{kind}/{key}"))


# The questionnaire ------------------------------------------------------------

#: Every question of every step, by answer code.
STEPS_FIELDS: Mapping[str, forms.Field] = {
    code: form_field for step in STEPS for code, form_field in step.form_class.base_fields.items()
}


def _choices(form_field: forms.Field) -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in getattr(form_field, "choices", [])]


def item_type(form_field: forms.Field) -> str:
    """The FHIR item type for one of the questionnaire's form fields."""
    if isinstance(form_field, forms.BooleanField):
        return "boolean"
    if isinstance(form_field, forms.TypedChoiceField) and form_field.coerce is int:
        return "integer"
    if isinstance(form_field, forms.ChoiceField):
        return "choice"
    if isinstance(form_field, (forms.DateField, DatePartsField)):
        return "date"
    if isinstance(form_field, forms.CharField) and isinstance(form_field.widget, forms.Textarea):
        return "text"
    return "string"


def answer_system(code: str, form_field: forms.Field) -> str:
    """The code system of a choice question's answers.

    Yes / no / not sure questions share one; the others have their own, named
    after the question (``weak-side``, ``pain-pattern``, ...).
    """
    if {value for value, _label in _choices(form_field)} <= _YES_NO_CODES:
        return code_system_url("yes-no-unsure")
    return code_system_url(code.replace("_", "-"))


def _enable_when(code: str) -> list[dict] | None:
    """Conditional questions (SPEC "Your legs", ``forms.CONDITIONAL_QUESTIONS``)."""
    rule = CONDITIONAL_QUESTIONS.get(code)
    if rule is None:
        return None
    controller = STEPS_FIELDS[rule.controller]
    not_asked = {
        "system": answer_system(rule.controller, controller),
        "code": rule.not_asked_for,
    }
    return [{"question": rule.controller, "operator": "!=", "answerCoding": not_asked}]


def _question_item(code: str, form_field: forms.Field) -> dict:
    kind = item_type(form_field)
    item: dict = {
        "linkId": code,
        "code": [
            {
                "system": question_code_system(),
                "code": code,
                "display": str(CLINICAL_LABELS.get(code, form_field.label)),
            }
        ],
        "text": str(form_field.label),
        "type": kind,
    }
    enable_when = _enable_when(code)
    if enable_when:
        item["enableWhen"] = enable_when
    # A conditional question is required whenever it is shown; FHIR's
    # "required" applies only while the item is enabled, which says exactly that.
    item["required"] = bool(form_field.required or enable_when)
    if kind == "integer":
        values = [int(value) for value, _label in _choices(form_field)]
        item["extension"] = [
            {"url": _MIN_VALUE, "valueInteger": min(values)},
            {"url": _MAX_VALUE, "valueInteger": max(values)},
        ]
    elif kind == "choice":
        system = answer_system(code, form_field)
        item["answerOption"] = [
            {"valueCoding": {"system": system, "code": value, "display": label}}
            for value, label in _choices(form_field)
        ]
    elif kind in ("string", "text") and getattr(form_field, "max_length", None):
        item["maxLength"] = form_field.max_length
    if form_field.help_text:
        item["item"] = [
            {
                "linkId": f"{code}.help",
                "text": str(form_field.help_text),
                "type": "display",
                "extension": [
                    {
                        "url": _ITEM_CONTROL,
                        "valueCodeableConcept": {
                            "coding": [
                                {"system": _ITEM_CONTROL_SYSTEM, "code": "help", "display": "Help"}
                            ]
                        },
                    }
                ],
            }
        ]
    return item


def questionnaire_resource() -> dict:
    """The questionnaire as a FHIR R4 ``Questionnaire``: one group per step."""
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "url": questionnaire_url(),
        "version": QUESTIONNAIRE_VERSION,
        "name": "LegWeaknessBackPainIntake",
        "title": "Leg weakness and back pain intake questionnaire",
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": settings.CLINIC_NAME,
        "description": (
            "Symptom questionnaire patients fill in before their visit: leg weakness, "
            "pain and feeling, cauda equina warning signs and health background. "
            "Question linkIds are the clinic's stable answer codes."
        ),
        "item": [
            {
                "linkId": step.slug,
                "text": str(step.title),
                "type": "group",
                "item": [
                    _question_item(code, form_field)
                    for code, form_field in step.form_class.base_fields.items()
                ],
            }
            for step in STEPS
        ],
    }


# A case -----------------------------------------------------------------------


def _fhir_string(value: object) -> str | None:
    """Text as FHIR allows it: no control characters but tab and line breaks; never blank."""
    text = "".join(
        char
        for char in str(value)
        if char in "\t\r\n" or unicodedata.category(char) not in ("Cc", "Cs")
    )
    return text if text.strip() else None


def _as_date(value: object) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


def _answer(code: str, value: object) -> dict | None:
    """One stored answer as a QuestionnaireResponse answer, or None to leave it out."""
    if value is None or value == "":
        return None
    form_field = STEPS_FIELDS[code]
    kind = item_type(form_field)
    if kind == "boolean":
        return {"valueBoolean": bool(value)}
    if kind == "integer":
        if isinstance(value, int) or str(value).strip().isdigit():
            return {"valueInteger": int(value)}
    elif kind == "choice":
        labels = dict(_choices(form_field))
        chosen = str(value).strip().lower()
        if chosen in labels:
            system = answer_system(code, form_field)
            return {"valueCoding": {"system": system, "code": chosen, "display": labels[chosen]}}
    elif kind == "date":
        day = _as_date(value)
        if day is not None:
            return {"valueDate": day.isoformat()}
    else:
        text = _fhir_string(value)
        return {"valueString": text} if text else None
    # A stored value the question cannot hold (hand-edited, or from an older
    # questionnaire): keep it readable rather than drop what the patient said.
    logger.warning("Answer to %s does not fit its question type; sent as text", code)
    text = _fhir_string(value)
    return {"valueString": text} if text else None


def _details(case: Case) -> dict[str, object]:
    """The "About you" answers as the patient typed them on this case.

    Cases stored before the details were kept per case fall back to the
    patient record.
    """
    patient = case.patient
    typed = case.details or {}
    return {
        "first_name": typed.get("first_name") or patient.first_name,
        "last_name": typed.get("last_name") or patient.last_name,
        "date_of_birth": typed.get("date_of_birth") or patient.date_of_birth,
        "phone": typed.get("phone") or patient.phone,
        "email": typed.get("email", patient.email) if typed else patient.email,
        "appointment_date": case.appointment_date,
        "consent": True if case.consented_at else None,
    }


def _response_items(case: Case) -> list[dict]:
    answers = dict(case.answers or {})
    answers.update(_details(case))
    groups = []
    for step in STEPS:
        items = []
        for code, form_field in step.form_class.base_fields.items():
            if not is_asked(code, answers):
                continue  # not enabled: FHIR forbids answers to disabled items
            answer = _answer(code, answers.get(code))
            if answer is not None:
                items.append({"linkId": code, "text": str(form_field.label), "answer": [answer]})
        if items:
            groups.append({"linkId": step.slug, "text": str(step.title), "item": items})
    return groups


def patient_id(patient: Patient) -> str:
    return _stable_id("patient", patient.pk)


def questionnaire_response_id(case: Case) -> str:
    return _stable_id("case", case.reference)


def patient_resource(patient: Patient) -> dict:
    """The patient as a FHIR R4 ``Patient``: name, date of birth, phone and email."""
    telecom = [{"system": "phone", "value": patient.phone}]
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    name = {"use": "official", "family": patient.last_name, "given": [patient.first_name]}
    return {
        "resourceType": "Patient",
        "id": patient_id(patient),
        "name": [name],
        "telecom": telecom,
        "birthDate": patient.date_of_birth.isoformat(),
    }


def questionnaire_response_resource(case: Case, *, amended: bool = False) -> dict:
    """The case's answers as a FHIR R4 ``QuestionnaireResponse`` about its patient.

    ``amended`` says staff corrected an answer after submission (FHIR status
    "amended" rather than "completed").
    """
    return {
        "resourceType": "QuestionnaireResponse",
        "id": questionnaire_response_id(case),
        "identifier": {"system": case_reference_system(), "value": case.reference},
        "questionnaire": questionnaire_canonical(),
        "status": "amended" if amended else "completed",
        "subject": {
            "reference": f"urn:uuid:{patient_id(case.patient)}",
            "display": str(case.patient),
        },
        "authored": case.submitted_at.isoformat(timespec="seconds"),
        "item": _response_items(case),
    }


def triage_id(case: Case) -> str:
    return _stable_id("triage", case.reference)


def triage_resource(case: Case) -> dict:
    """The case's triage as a FHIR R4 ``RiskAssessment``, based on its answers.

    ``code`` is the tier, ``method`` the rules version that gave it, and one
    ``prediction`` per red flag (in the rules' order) names the flag in words
    with the reason staff read.
    """
    reasons = list(case.reasons or [])
    predictions = []
    for index, flag in enumerate(case.flags or []):
        prediction: dict = {
            "outcome": {
                "coding": [
                    {
                        "system": code_system_url("red-flag"),
                        "code": flag,
                        "display": triage.flag_label(flag),
                    }
                ],
                "text": triage.flag_label(flag),
            }
        }
        if index < len(reasons) and reasons[index]:
            prediction["rationale"] = reasons[index]
        predictions.append(prediction)
    resource: dict = {
        "resourceType": "RiskAssessment",
        "id": triage_id(case),
        "status": "final",
        "code": {
            "coding": [
                {
                    "system": code_system_url("triage-tier"),
                    "code": case.tier,
                    "display": str(case.get_tier_display()),
                }
            ]
        },
        "method": {
            "coding": [
                {
                    "system": code_system_url("triage-rules"),
                    "code": str(case.rules_version),
                    "display": f"Clinic red-flag triage rules, version {case.rules_version}",
                }
            ]
        },
        "subject": {"reference": f"urn:uuid:{patient_id(case.patient)}"},
        "occurrenceDateTime": case.submitted_at.isoformat(timespec="seconds"),
        "basis": [{"reference": f"urn:uuid:{questionnaire_response_id(case)}"}],
    }
    if predictions:
        resource["prediction"] = predictions
    return resource


def appointment_id(appointment: Appointment) -> str:
    return _stable_id("appointment", appointment.pk)


#: Our appointment states as FHIR R4 ``Appointment.status`` codes.
APPOINTMENT_STATUS = {
    Appointment.Status.BOOKED: "booked",
    Appointment.Status.CANCELLED: "cancelled",
}


def appointment_resource(appointment: Appointment, patient: Patient) -> dict:
    """The visit a case was sent for, as a FHIR R4 ``Appointment`` with the patient in it.

    Only the status and the time: the note staff wrote on the appointment
    stays in the clinic's system.
    """
    start = appointment.starts_at.isoformat(timespec="seconds")
    return {
        "resourceType": "Appointment",
        "id": appointment_id(appointment),
        "status": APPOINTMENT_STATUS[appointment.status],
        "start": start,
        "participant": [
            {
                "actor": {
                    "reference": f"urn:uuid:{patient_id(patient)}",
                    "display": str(patient),
                },
                "status": "accepted",
            }
        ],
    }


def case_bundle(case: Case, *, now: datetime.datetime | None = None) -> dict:
    """The case as a FHIR R4 ``Bundle`` (collection): ``Patient``, ``QuestionnaireResponse``,
    the triage (``RiskAssessment``) and, for a case sent through its invitation,
    the ``Appointment`` it was sent for (issue 21).

    For a case of a chain (issue 22), the other cases' answers come too, each
    its own ``QuestionnaireResponse`` of the same Questionnaire about the same
    patient, in time order: the baseline and every follow-up.

    Three queries beyond the case (with its patient): the chain's other cases,
    which of them had an answer corrected (an "amended" response), and the
    appointment.
    """
    chain = [case]
    if case.baseline_id is not None or case.follow_ups.exists():
        chain = case_chain(case)
    corrected = set(
        CaseEvent.objects.filter(
            case_id__in=[member.pk for member in chain], kind=CaseEvent.Kind.CORRECTION
        ).values_list("case_id", flat=True)
    )
    amended = case.pk in corrected
    appointment = Appointment.objects.filter(invitation__case=case).first()
    visit = []
    if appointment is not None:
        resource = appointment_resource(appointment, case.patient)
        visit.append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
    patient = patient_resource(case.patient)
    response = questionnaire_response_resource(case, amended=amended)
    if not response["item"]:
        del response["item"]
    assessment = triage_resource(case)
    others = []
    for member in chain:
        if member.pk == case.pk:
            continue
        member.patient = case.patient  # the same patient; no query
        other = questionnaire_response_resource(member, amended=member.pk in corrected)
        if not other["item"]:
            del other["item"]
        others.append({"fullUrl": f"urn:uuid:{other['id']}", "resource": other})
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": (now or timezone.now()).isoformat(timespec="seconds"),
        "entry": [
            {"fullUrl": f"urn:uuid:{patient['id']}", "resource": patient},
            {"fullUrl": f"urn:uuid:{response['id']}", "resource": response},
            {"fullUrl": f"urn:uuid:{assessment['id']}", "resource": assessment},
            *visit,
            *others,
        ],
    }
