"""The case page, its service buttons, the all-cases list and the patient page."""

import datetime
import io
import re
import uuid
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape

from intake import triage
from intake.models import Case, CaseEvent
from intake.services import case_add_note, case_assign, case_change_status, case_submit
from intake.templatetags.intake_admin import FLAG_ANSWERS, answer_sections, symptom_questions
from tests.factories import CaseFactory, PatientFactory, UserFactory, complete_answers

pytestmark = pytest.mark.django_db

CASES_URL = "/admin/intake/case/"
QUEUE_URL = "/admin/intake/redflagcase/"
NOW = datetime.datetime(2026, 3, 2, 14, 0, tzinfo=datetime.UTC)


def case_url(case, name="change"):
    return reverse(f"admin:intake_case_{name}", args=[case.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# The case page ------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_case_page_shows_triage_answers_in_words_and_timeline(superuser_client, superuser):
    case = CaseFactory(
        changes={
            "saddle_numbness": "yes",
            "bladder_stream": "unsure",
            "weak_side": "left",
            "weakness_onset": "days",
            "weakness_trend": "worse",
        },
        submitted_at=NOW - datetime.timedelta(minutes=30),
    )
    case_assign(case=case, assignee=superuser, by=superuser)
    case_add_note(case=case, text="Rang <b>twice</b>.", by=superuser)

    response = superuser_client.get(case_url(case))

    assert response.status_code == 200
    html = response.content.decode()
    # The header first, then triage in words, then the answers.
    assert html.index('class="case-header') < html.index('class="case-triage')
    top = html.index('class="case-triage')
    assert top < html.index("<h3>Red flags</h3>") < html.index('id="case-answers"')
    assert "Emergency" in html
    assert "OVERDUE" in html
    assert "RED FLAG: Numbness between the legs (saddle)" in html
    assert "Assessed by triage rules version 2." in html
    assert "RED FLAG: Not sure about warning signs" in html
    assert "RED FLAG: Weakness getting worse" in html
    for reason in case.reasons:
        assert reason in html
    # Answers grouped by section, question and chosen answer in plain words.
    for section in ("Your legs", "Pain and feeling", "Important warning signs", "Your health"):
        assert f"<caption>{section}</caption>" in html
    assert "Is there new numbness, tingling or an odd feeling between your legs?" in html
    assert "It is getting worse" in html
    assert "Not sure" in html
    # The timeline: who, what, before and after; free text escaped.
    assert "Assigned to" in html
    assert "Rang &lt;b&gt;twice&lt;/b&gt;." in html
    assert "Before" in html and "After" in html


def test_red_flag_answers_are_marked_with_their_flag():
    case = CaseFactory.build(
        changes={"fever": "yes", "back_pain": "yes", "bladder_retention": "yes"}
    )
    rows = {
        row.code: row
        for section in answer_sections(case.answers, case.flags)
        for row in section.rows
    }
    assert rows["bladder_retention"].red_flags == ["Bladder problems"]
    assert rows["fever"].red_flags == ["Back pain with infection signs"]
    assert rows["back_pain"].red_flags == ["Back pain with infection signs"]
    assert rows["bladder_sensation"].red_flags == []
    assert rows["infection_risk"].red_flags == []
    assert rows["fever"].answer == "Yes"


def test_every_triage_flag_marks_the_answers_that_raised_it():
    assert set(FLAG_ANSWERS) == set(triage.FLAG_ORDER)
    examples = {
        "saddle_numbness": {"saddle_numbness": "yes"},
        "bladder": {"bladder_sensation": "yes"},
        "bowel": {"bowel_incontinence": "yes"},
        "sexual": {"sexual_dysfunction": "yes"},
        "bilateral_weakness": {
            "weak_side": "both",
            "weakness_onset": "hours",
            "weakness_trend": "same",
        },
        "cancer_weakness": {
            "cancer_history": "yes",
            "weak_side": "left",
            "weakness_onset": "weeks",
            "weakness_trend": "same",
        },
        "ces_unsure": {"bowel_incontinence": "unsure"},
        "progressive_weakness": {
            "weak_side": "right",
            "weakness_onset": "weeks",
            "weakness_trend": "worse",
        },
        "infection": {"infection_risk": "yes"},
        "infection_weakness": {
            "fever": "yes",
            "weak_side": "left",
            "weakness_onset": "days",
            "weakness_trend": "same",
        },
        "bilateral_leg_pain": {"pain_both_legs": "yes"},
        "malignancy": {"weight_loss": "yes"},
        "fracture_risk": {"recent_trauma": "yes", "osteoporosis": "yes"},
        "trauma": {
            "recent_trauma": "yes",
            "weak_side": "left",
            "weakness_onset": "weeks",
            "weakness_trend": "same",
        },
        "foot_drop": {"foot_lift_difficulty": "yes"},
    }
    assert set(examples) == set(triage.FLAG_ORDER)
    for flag, changes in examples.items():
        case = CaseFactory.build(changes=changes)
        assert flag in case.flags
        marked = {
            row.code
            for section in answer_sections(case.answers, case.flags)
            for row in section.rows
            if triage.flag_label(flag) in row.red_flags
        }
        assert marked, flag


def test_case_page_lists_related_education_pages(superuser_client, monkeypatch):
    page = SimpleNamespace(
        title="Cauda equina syndrome", get_absolute_url=lambda: "/conditions/ces/"
    )
    seen = []

    def fake_conditions_for_answers(answers):
        seen.append(answers)
        return [page]

    monkeypatch.setattr("conditions.selectors.conditions_for_answers", fake_conditions_for_answers)
    case = CaseFactory(changes={"saddle_numbness": "yes"})

    html = superuser_client.get(case_url(case)).content.decode()

    assert seen == [case.answers]
    assert '<a href="/conditions/ces/">Cauda equina syndrome</a>' in html


def test_case_page_works_with_the_real_education_library(superuser_client):
    case = CaseFactory(changes={"saddle_numbness": "yes", "walking_pain": "yes"})
    response = superuser_client.get(case_url(case))
    assert response.status_code == 200
    assert "Related education pages" in response.content.decode()


def test_case_page_has_no_raw_editing(superuser_client):
    case = CaseFactory()
    response = superuser_client.get(case_url(case))
    html = response.content.decode()
    assert 'name="_save"' not in html
    assert 'name="answers"' not in html
    assert 'name="tier"' not in html
    assert response.context["adminform"].form.fields == {}


def test_posting_the_change_form_is_refused(superuser_client):
    case = CaseFactory()
    response = superuser_client.post(
        case_url(case), {"status": "closed", "tier": "routine", "answers": "{}"}
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "new"


def test_cases_and_patients_cannot_be_added_or_deleted(superuser_client):
    case = CaseFactory()
    assert superuser_client.get(reverse("admin:intake_case_add")).status_code == 403
    assert superuser_client.get(reverse("admin:intake_patient_add")).status_code == 403
    assert superuser_client.post(case_url(case, "delete"), {"post": "yes"}).status_code == 403
    patient_delete = reverse("admin:intake_patient_delete", args=[case.patient_id])
    assert superuser_client.post(patient_delete, {"post": "yes"}).status_code == 403
    assert Case.objects.filter(pk=case.pk).exists()


def test_timeline_entries_have_no_admin_pages(superuser_client):
    from django.contrib import admin

    assert CaseEvent not in admin.site._registry
    for name in ("changelist", "add"):
        with pytest.raises(NoReverseMatch):
            reverse(f"admin:intake_caseevent_{name}")
    assert superuser_client.get("/admin/intake/caseevent/").status_code == 404


# Status -----------------------------------------------------------------------


def test_status_buttons_offer_only_allowed_next_statuses(superuser_client):
    case = CaseFactory(status="sent_to_emergency")
    response = superuser_client.get(case_url(case))
    assert [status.value for status in response.context["next_statuses"]] == ["closed"]
    html = response.content.decode()
    assert 'name="to_status" value="closed"' in html
    assert 'name="to_status" value="in_review"' not in html


def test_change_status_records_note_and_redirects_back(superuser_client, superuser):
    case = CaseFactory(changes={"saddle_numbness": "yes"})

    response = superuser_client.post(
        case_url(case, "status"),
        {"to_status": "sent_to_emergency", "note": "Told to go to A&E now."},
    )

    assert response.status_code == 302
    assert response.url == case_url(case)
    case.refresh_from_db()
    assert case.status == "sent_to_emergency"
    event = case.events.get()
    assert event.author == superuser
    assert event.text == "Told to go to A&E now."
    assert any("Sent to emergency" in text for text in messages_of(response))


def test_a_refused_status_change_is_a_message_not_an_error(superuser_client):
    case = CaseFactory()
    response = superuser_client.post(case_url(case, "status"), {"to_status": "closed"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "new"
    assert any("Status not changed" in text for text in messages_of(response))


@pytest.mark.parametrize("name", ["status", "assign", "note"])
def test_service_views_are_post_only(superuser_client, name):
    case = CaseFactory()
    assert superuser_client.get(case_url(case, name)).status_code == 405


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("status", {"to_status": "in_review"}),
        ("assign", {"assign_to_me": "1"}),
        ("note", {"text": "Hello"}),
        ("correct_answer", {"value": "yes", "reason": "Because."}),
    ],
)
def test_service_views_need_a_csrf_token(superuser, name, data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    case = CaseFactory()
    url = case_url(case, name) + "?code=saddle_numbness"
    assert client.post(url, data).status_code == 403
    assert not case.events.exists()


def test_service_views_for_a_missing_case_are_not_found(superuser_client):
    url = reverse("admin:intake_case_note", args=[987654])
    assert superuser_client.post(url, {"text": "Hi"}).status_code == 404


# Assign and note -------------------------------------------------------------------


def test_assign_to_me_to_someone_and_to_nobody(superuser_client, superuser):
    nurse = UserFactory(username="nurse-bo")
    case = CaseFactory()

    superuser_client.post(case_url(case, "assign"), {"assign_to_me": "1"})
    case.refresh_from_db()
    assert case.assigned_to == superuser

    superuser_client.post(case_url(case, "assign"), {"assignee": nurse.pk})
    case.refresh_from_db()
    assert case.assigned_to == nurse

    superuser_client.post(case_url(case, "assign"), {"assignee": ""})
    case.refresh_from_db()
    assert case.assigned_to is None
    assert case.events.filter(kind=CaseEvent.Kind.ASSIGNMENT).count() == 3


def test_cannot_assign_to_someone_who_is_not_staff(superuser_client):
    outsider = UserFactory(is_staff=False)
    case = CaseFactory()
    response = superuser_client.post(case_url(case, "assign"), {"assignee": outsider.pk})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assigned_to is None
    assert any("Not assigned" in text for text in messages_of(response))


def test_add_note_and_refuse_an_empty_one(superuser_client):
    case = CaseFactory()
    superuser_client.post(case_url(case, "note"), {"text": "Called: booked for Monday."})
    response = superuser_client.post(case_url(case, "note"), {"text": "   "})
    assert [event.text for event in case.events.all()] == ["Called: booked for Monday."]
    assert any("Note not added" in text for text in messages_of(response))


# Correcting an answer ------------------------------------------------------------------


def correct_url(case, code):
    return case_url(case, "correct_answer") + f"?code={code}"


def test_correction_page_uses_the_question_and_its_choices(superuser_client):
    case = CaseFactory()
    html = superuser_client.get(correct_url(case, "bladder_stream")).content.decode()
    assert "Is your flow of pee newly weak or slow?" in html
    assert 'value="unsure"' in html
    assert "Current answer:" in html


def test_correcting_an_answer_reruns_triage_and_shows_on_the_timeline(superuser_client):
    case = CaseFactory()
    response = superuser_client.post(
        correct_url(case, "bladder_retention"),
        {"value": "yes", "reason": "Patient rang back: cannot pass urine."},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.tier == "emergency"
    assert case.flags == ["bladder"]
    assert any("EMERGENCY" in text for text in messages_of(response))

    html = superuser_client.get(case_url(case)).content.decode()
    assert "Answer corrected" in html
    assert "Patient rang back: cannot pass urine." in html
    assert "answer to “Is it newly hard to pee?”: Yes" in html


@pytest.mark.parametrize(
    ("code", "data", "error"),
    [
        ("saddle_numbness", {"value": "maybe", "reason": "x"}, "Select a valid choice"),
        ("saddle_numbness", {"value": "", "reason": "x"}, "Please answer this question"),
        ("saddle_numbness", {"value": "yes", "reason": ""}, "Please say why"),
        ("pain_score", {"value": "11", "reason": "x"}, "Select a valid choice"),
        ("symptoms_started", {"value": "2030-01-01", "reason": "x"}, "in the future"),
        ("symptoms_started", {"value": "yesterday", "reason": "x"}, "invalid"),
    ],
)
def test_corrections_are_validated_by_the_questions_own_field(superuser_client, code, data, error):
    case = CaseFactory()
    before = dict(case.answers)

    if error == "invalid":  # the questionnaire field's own wording, whatever it is today
        error = str(symptom_questions()[code].field.error_messages["invalid"])

    response = superuser_client.post(correct_url(case, code), data)

    assert response.status_code == 200
    assert escape(error) in response.content.decode()
    case.refresh_from_db()
    assert case.answers == before
    assert not case.events.exists()


def test_correcting_to_the_same_answer_is_a_message(superuser_client):
    case = CaseFactory()
    response = superuser_client.post(
        correct_url(case, "saddle_numbness"), {"value": "no", "reason": "Checked."}
    )
    assert response.status_code == 302
    assert any("same" in text for text in messages_of(response))
    assert not case.events.exists()


def test_correcting_a_number_and_a_date_stores_the_right_types(superuser_client):
    case = CaseFactory()
    superuser_client.post(correct_url(case, "pain_score"), {"value": "9", "reason": "Misread."})
    superuser_client.post(
        correct_url(case, "symptoms_started"), {"value": "2025-12-24", "reason": "Diary."}
    )
    case.refresh_from_db()
    assert case.answers["pain_score"] == 9
    assert case.answers["symptoms_started"] == "2025-12-24"
    assert case.symptoms_started == datetime.date(2025, 12, 24)


@pytest.mark.parametrize("code", ["", "first_name", "nonsense"])
def test_only_symptom_questions_can_be_corrected(superuser_client, code):
    case = CaseFactory()
    response = superuser_client.get(correct_url(case, code))
    assert response.status_code == 302
    assert response.url == case_url(case)


# The all-cases list -------------------------------------------------------------------


@pytest.fixture
def searchable_cases():
    wanted = CaseFactory(
        patient=PatientFactory(
            first_name="Bartholomew",
            last_name="Nguyen-Example",
            phone="(555) 013-4477",
            date_of_birth=datetime.date(1939, 12, 31),
        )
    )
    CaseFactory.create_batch(3)
    return wanted


@pytest.mark.parametrize(
    "term",
    [
        "REFERENCE",
        "reference-lower",
        "bartholomew",
        "nguyen",
        "5550134477",
        "013-4477",
        "1939-12-31",
        "Bartholomew 1939-12-31",
    ],
)
def test_case_search_by_reference_name_phone_and_date_of_birth(
    superuser_client, searchable_cases, term
):
    term = {
        "REFERENCE": searchable_cases.reference,
        "reference-lower": searchable_cases.reference.lower(),
    }.get(term, term)
    response = superuser_client.get(CASES_URL, {"q": term})
    assert [case.pk for case in response.context["cl"].result_list] == [searchable_cases.pk]


def test_case_search_for_another_date_finds_nothing(superuser_client, searchable_cases):
    response = superuser_client.get(CASES_URL, {"q": "1939-12-30"})
    assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?tier__exact=emergency", {"emergency"}),
        ("?tier__exact=routine", {"routine"}),
        ("?status__exact=closed", {"closed"}),
        ("?flag=foot_drop", {"urgent"}),
    ],
)
def test_case_list_filters(superuser_client, query, expected):
    emergency = CaseFactory(changes={"bowel_incontinence": "yes"})
    CaseFactory(changes={"foot_lift_difficulty": "yes"})
    CaseFactory()
    case_change_status(case=emergency, to_status="sent_to_emergency", by=UserFactory())
    closed = CaseFactory(status="closed")
    response = superuser_client.get(CASES_URL + query)
    results = response.context["cl"].result_list
    if "status" in query:
        assert [case.pk for case in results] == [closed.pk]
    else:
        assert {case.tier for case in results} == expected


def test_case_list_filters_by_submitted_date(superuser_client):
    with time_machine.travel(NOW, tick=False):
        old = CaseFactory(submitted_at=NOW - datetime.timedelta(days=40))
        today = CaseFactory(submitted_at=NOW - datetime.timedelta(minutes=5))
        response = superuser_client.get(
            CASES_URL,
            {
                "submitted_at__gte": "2026-03-02 00:00:00+00:00",
                "submitted_at__lt": "2026-03-03 00:00:00+00:00",
            },
        )
    pks = [case.pk for case in response.context["cl"].result_list]
    assert pks == [today.pk]
    assert old.pk not in pks


# Patients ---------------------------------------------------------------------------


def test_patient_page_lists_their_cases_with_links(superuser_client):
    patient = PatientFactory()
    first = CaseFactory(patient=patient)
    second = CaseFactory(patient=patient, changes={"saddle_numbness": "yes"})
    other = CaseFactory()

    response = superuser_client.get(reverse("admin:intake_patient_change", args=[patient.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    for case in (first, second):
        assert case.reference in html
        assert case_url(case) in html
    assert other.reference not in html
    assert 'name="_save"' not in html


def test_patient_search_by_date_of_birth(superuser_client):
    wanted = PatientFactory(date_of_birth=datetime.date(1970, 7, 4))
    PatientFactory(date_of_birth=datetime.date(1970, 7, 5))
    response = superuser_client.get("/admin/intake/patient/", {"q": "1970-07-04"})
    assert list(response.context["cl"].result_list) == [wanted]


# The whole job, as a person does it ----------------------------------------------------


def test_staff_member_handles_a_saddle_and_bladder_case_from_the_queue(client):
    from tests.intake.test_roles import staff_in

    nurse = staff_in("Front desk", username="nurse-kim")
    client.force_login(nurse)
    with time_machine.travel(NOW - datetime.timedelta(hours=1), tick=False):
        CaseFactory(changes={"foot_lift_difficulty": "yes"})
        CaseFactory(changes={"bowel_incontinence": "yes"})
    danger = case_submit(
        details={
            "first_name": "Demo",
            "last_name": "Patient",
            "date_of_birth": datetime.date(1960, 1, 2),
            "phone": "555-0101",
        },
        answers=complete_answers(saddle_numbness="yes", bladder_sensation="yes"),
        submission_token=uuid.uuid4(),
    )

    queue = client.get(QUEUE_URL)
    assert queue.context["cl"].result_list[0] == danger
    page = client.get(case_url(danger))
    assert page.status_code == 200

    client.post(case_url(danger, "assign"), {"assign_to_me": "1"})
    client.post(
        case_url(danger, "note"), {"text": "Called the patient: numb when wiping since today."}
    )
    client.post(
        case_url(danger, "status"),
        {"to_status": "sent_to_emergency", "note": "Told to go to the emergency department now."},
    )

    queue = client.get(QUEUE_URL)
    assert danger not in queue.context["cl"].result_list
    html = client.get(case_url(danger)).content.decode()
    for text in (
        "Assigned to nurse-kim.",
        "Called the patient: numb when wiping since today.",
        "Status: New → Sent to emergency.",
        "Told to go to the emergency department now.",
        "Questionnaire submitted by the patient",
    ):
        assert text in html, text
    kinds = list(danger.events.values_list("kind", "author__username"))
    assert kinds == [
        ("submitted", None),
        ("assignment", "nurse-kim"),
        ("note", "nurse-kim"),
        ("status", "nurse-kim"),
    ]


# The case page's header, its way back, one date-time format (issue 20) -------------


def header_of(html: str) -> str:
    start = html.index('<header class="case-header')
    return html[start : html.index("</header>", start)]


@time_machine.travel(NOW, tick=False)
def test_case_header_answers_the_first_questions(superuser_client):
    patient = PatientFactory(
        first_name="Zoë", last_name="Example", date_of_birth=datetime.date(1960, 1, 15)
    )
    patient.phone = "+1 555-0142"
    patient.save()
    case = CaseFactory(
        patient=patient,
        changes={"saddle_numbness": "yes", "bladder_retention": "yes"},
        status=Case.Status.IN_REVIEW,
        language="es",
    )

    html = superuser_client.get(case_url(case)).content.decode()

    header = header_of(html)
    assert "Zoë Example" in header
    assert '<a class="case-phone" href="tel:+15550142">+1 555-0142</a>' in header
    assert ">66<" in header  # age on 2 March 2026
    assert "Emergency" in header
    assert "Numbness between the legs (saddle)" in header
    assert "Bladder problems" in header
    assert ">In review<" in header
    assert "Spanish" in header
    assert "2 Mar 2026, 14:00" in header


def test_back_to_the_queue_replaces_close(superuser_client):
    case = CaseFactory(changes={"saddle_numbness": "yes"})

    html = superuser_client.get(case_url(case)).content.decode()

    assert re.search(
        rf'<a role="button" href="{QUEUE_URL}" class="closelink[^"]*">Back to the queue</a>', html
    )
    assert ">Close<" not in html


@pytest.mark.parametrize("time_zone", ["UTC", "America/Los_Angeles"])
def test_case_page_and_timeline_use_one_format_in_clinic_time(
    superuser_client, settings, time_zone
):
    settings.TIME_ZONE = time_zone
    with time_machine.travel(NOW - datetime.timedelta(minutes=40), tick=False):
        case = case_submit(
            details={
                "first_name": "Time",
                "last_name": "Example",
                "date_of_birth": datetime.date(1970, 5, 5),
                "phone": "555-0100",
                "appointment_date": datetime.date(2026, 3, 9),
            },
            answers=complete_answers(saddle_numbness="yes"),
            submission_token=uuid.uuid4(),
        )

    with time_machine.travel(NOW, tick=False):
        html = superuser_client.get(case_url(case)).content.decode()

    expected = {"UTC": "2 Mar 2026, 13:20", "America/Los_Angeles": "2 Mar 2026, 05:20"}[time_zone]
    # The header, the "submitted" field and the timeline's "Submitted" entry agree.
    assert html.count(expected) >= 3
    assert re.search(rf"<time datetime=\"[^\"]+\">{expected}</time> ·\s*<strong>Submitted", html)
    assert "9 Mar 2026" in html  # the appointment
    assert "a.m." not in html and "p.m." not in html


@pytest.mark.parametrize("time_zone", ["UTC", "America/Los_Angeles"])
def test_patient_pages_use_the_same_format(superuser_client, settings, time_zone):
    settings.TIME_ZONE = time_zone
    with time_machine.travel(NOW - datetime.timedelta(minutes=40), tick=False):
        case = CaseFactory()
    expected = {"UTC": "2 Mar 2026, 13:20", "America/Los_Angeles": "2 Mar 2026, 05:20"}[time_zone]
    patient_page = reverse("admin:intake_patient_change", args=[case.patient.pk])
    listing = reverse("admin:intake_patient_changelist")
    for url in (patient_page, listing):
        html = superuser_client.get(url).content.decode()
        assert expected in html, url  # first seen, and the case in the patient's list
        assert "a.m." not in html and "p.m." not in html, url


@pytest.mark.parametrize("time_zone", ["UTC", "America/Los_Angeles"])
def test_django_and_package_admin_pages_use_the_same_format(superuser_client, settings, time_zone):
    """The audit log (and any admin page Django formats itself) reads like ours."""
    settings.TIME_ZONE = time_zone
    with time_machine.travel(NOW - datetime.timedelta(minutes=40), tick=False):
        superuser_client.get(reverse("admin:intake_patient_changelist"))  # an audited view
        response = superuser_client.get(reverse("admin:audit_auditentry_changelist"))
    expected = {"UTC": "2 Mar 2026, 13:20", "America/Los_Angeles": "2 Mar 2026, 05:20"}[time_zone]
    assert response.status_code == 200, response
    html = response.content.decode()
    assert expected in html
    assert "a.m." not in html and "p.m." not in html


def test_language_is_in_words_not_a_code(superuser_client):
    english = CaseFactory()
    spanish = CaseFactory(language="es")

    english_html = superuser_client.get(case_url(english)).content.decode()
    spanish_html = superuser_client.get(case_url(spanish)).content.decode()

    assert re.search(r'<div class="readonly">English</div>', english_html)
    assert re.search(r'<div class="readonly">Spanish</div>', spanish_html)
    assert '<div class="readonly">es</div>' not in spanish_html
    assert "may prefer to be spoken to in Spanish" in spanish_html


def test_demo_data_times_agree(settings):
    settings.TIME_ZONE = "America/New_York"
    call_command("seed_demo", stdout=io.StringIO())

    cases = list(Case.objects.prefetch_related("events"))
    assert len(cases) >= 8
    for case in cases:
        submitted = [event for event in case.events.all() if event.kind == "submitted"]
        assert [event.created_at for event in submitted] == [case.submitted_at], case.patient
        assert case.consented_at == case.submitted_at
        later = [event.created_at for event in case.events.all()]
        assert later == sorted(later)
    # Some demo cases answered in Spanish, have a visit booked or were phoned.
    assert Case.objects.filter(language="es").exists()
    assert Case.objects.filter(appointment_date__isnull=False).exists()
    assert Case.objects.filter(status=Case.Status.CONTACTED).exists()
    # Seeding again adds nothing.
    call_command("seed_demo", stdout=io.StringIO())
    assert Case.objects.count() == len(cases)
