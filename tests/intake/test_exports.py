"""Clinician exports from the admin: printable summary, PDF, FHIR download and CSV."""

import csv
import datetime
import io
import json
import os

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from fhir.resources.bundle import Bundle
from fhir.resources.questionnaire import Questionnaire
from pypdf import PdfReader

from audit.models import AuditEntry
from intake import triage
from intake.exports import pdf
from intake.exports.csv import age_band, csv_safe
from intake.exports.pdf import MISSING_GLYPH
from intake.exports.summary import CLINICAL_LABELS, clinical_answer
from intake.roles import CLINICIAN, FRONT_DESK, ensure_staff_roles
from intake.services import case_add_note, case_assign
from intake.templatetags.intake_admin import symptom_questions
from tests.factories import CaseFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 2, 14, 0, tzinfo=datetime.UTC)
CASES_URL = "/admin/intake/case/"
CSV_URL = "/admin/intake/case/export.csv"
EMERGENCY = {"saddle_numbness": "yes", "bladder_retention": "yes"}


def url(case, name: str) -> str:
    return reverse(f"admin:intake_case_{name}", args=[case.pk])


def staff_in(role: str, **kwargs):
    ensure_staff_roles()
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=role))
    return user


def exports() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).order_by("pk"))


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheets then read the UTF-8 as UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def clinician_client(client):
    client.force_login(staff_in(CLINICIAN, first_name="Ada", last_name="Lovelace"))
    return client


# Clinical wording ------------------------------------------------------------------


def test_every_symptom_question_has_clinical_wording():
    assert set(symptom_questions()) == set(CLINICAL_LABELS)


@pytest.mark.parametrize(
    ("code", "value", "words"),
    [
        ("saddle_numbness", "yes", "Yes"),
        ("bladder_stream", "unsure", "Unsure"),
        ("sexual_dysfunction", "unsure", "Declined to say"),
        ("weak_side", "both", "Both (bilateral)"),
        ("weakness_trend", "worse", "Progressing"),
        ("pain_pattern", "front_of_thigh", "Front of thigh or groin (L1–L3)"),
        ("pain_score", 7, "7/10"),
        ("medications", "", "Not answered"),
    ],
)
def test_answers_read_in_clinical_terms(code, value, words):
    assert clinical_answer(code, value) == words


def test_weakness_details_say_not_asked_when_no_leg_is_weak():
    assert clinical_answer("weakness_onset", None, {"weak_side": "neither"}) == "Not asked"
    assert clinical_answer("weakness_onset", None, {"weak_side": "left"}) == "Not answered"


# The printable summary ------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_case_page_links_to_every_export(clinician_client):
    case = CaseFactory()

    html = clinician_client.get(url(case, "change")).content.decode()

    assert f'href="{url(case, "summary")}"' in html
    assert f'href="{url(case, "summary_pdf")}?paper=a4"' in html
    assert f'href="{url(case, "fhir")}"' in html


@time_machine.travel(NOW, tick=False)
def test_printable_summary_has_triage_and_flags_on_top_then_answers_timeline(clinician_client):
    patient = PatientFactory(first_name="<script>alert(1)</script>", last_name="Ørsted")
    case = CaseFactory(
        patient=patient,
        changes={**EMERGENCY, "pain_score": 9, "medications": "Naproxen"},
        submitted_at=NOW - datetime.timedelta(minutes=40),
    )
    case_add_note(case=case, text="Rang: sent to A&E.", by=case_assign_self(case))

    response = clinician_client.get(url(case, "summary"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ørsted" in html
    top = html.index("summary-triage")
    assert html.index(case.reference) < top
    assert top < html.index("RED FLAG: Numbness between the legs (saddle)")
    assert html.index("RED FLAG: Bladder problems") < html.index("Cauda equina screen")
    for reason in case.reasons:
        assert reason in html
    assert "OVERDUE" in html
    assert "9/10" in html
    assert "Saddle / perineal numbness" in html
    assert "Naproxen" in html
    assert "Rang: sent to A&amp;E." in html
    assert "intake/summary.css" in html  # the print stylesheet
    assert "Related education topics (not a diagnosis)" in html


def case_assign_self(case):
    user = UserFactory(username="nurse")
    case_assign(case=case, assignee=user, by=user)
    return user


def test_printable_summary_is_an_audited_export(clinician_client):
    case = CaseFactory()

    clinician_client.get(url(case, "summary"))

    [entry] = exports()
    assert (entry.object_type, entry.object_id, entry.object_label) == (
        "case",
        str(case.pk),
        case.reference,
    )


def test_summary_of_a_case_without_red_flags_says_so(clinician_client):
    case = CaseFactory(changes={"falls": "yes"})

    html = clinician_client.get(url(case, "summary")).content.decode()

    assert "No red flags." in html
    assert "Has fallen because a leg gave way." in html


# The PDF ----------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_pdf_has_the_red_flags_and_reference_on_page_one(clinician_client):
    patient = PatientFactory(first_name="Zoë", last_name="Łukasiewicz-Ångström")
    case = CaseFactory(patient=patient, changes=EMERGENCY)

    response = clinician_client.get(url(case, "summary_pdf"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{case.reference}-summary.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    first_page = pdf_pages(response.content)[0]
    assert case.reference in first_page
    assert "Zoë Łukasiewicz-Ångström" in first_page
    assert "TRIAGE: EMERGENCY" in first_page
    assert "RED FLAG: Numbness between the legs (saddle)" in first_page
    assert "RED FLAG: Bladder problems" in first_page
    assert case.reasons[0] in first_page
    [entry] = exports()
    assert (entry.object_type, entry.object_label) == ("case", case.reference)


@pytest.mark.parametrize(
    ("paper", "size"), [("a4", (595.28, 841.89)), ("letter", (612, 792)), ("tabloid", None)]
)
def test_pdf_comes_in_a4_and_us_letter(clinician_client, paper, size):
    case = CaseFactory(changes=EMERGENCY)

    response = clinician_client.get(url(case, "summary_pdf") + f"?paper={paper}")

    box = PdfReader(io.BytesIO(response.content)).pages[0].mediabox
    expected = size or (595.28, 841.89)  # anything else: A4
    assert (round(float(box.width), 2), round(float(box.height), 2)) == expected


def test_pdf_of_a_calm_case_fits_one_page_and_says_no_red_flags(clinician_client):
    case = CaseFactory()

    pages = pdf_pages(clinician_client.get(url(case, "summary_pdf")).content)

    assert len(pages) == 1
    assert "No red flags." in pages[0]
    assert "RED FLAG" not in pages[0]


def test_pdf_flags_a_name_its_fonts_cannot_draw_instead_of_dropping_letters(clinician_client):
    # Georgian: no font the PDF embeds has it (tests/intake/test_summary_pdf_scripts.py
    # covers the scripts it does print).
    case = CaseFactory(
        patient=PatientFactory(first_name="გიორგი", last_name="Example"), changes=EMERGENCY
    )

    response = clinician_client.get(url(case, "summary_pdf"))

    first_page = pdf_pages(response.content)[0]
    assert MISSING_GLYPH in first_page
    assert "cannot be printed in this PDF" in first_page
    assert "RED FLAG: Numbness between the legs (saddle)" in first_page


def test_pdf_of_a_case_whose_answers_were_removed(clinician_client):
    case = CaseFactory(status="closed", changes=EMERGENCY)
    case.answers, case.reasons = {}, []
    case.save()

    first_page = pdf_pages(clinician_client.get(url(case, "summary_pdf")).content)[0]

    assert "RED FLAG: Numbness between the legs (saddle)" in first_page
    assert "removed under the retention policy" in first_page


def test_pdf_with_a_long_timeline_keeps_the_red_flags_on_page_one(clinician_client):
    case = CaseFactory(changes=EMERGENCY)
    author = UserFactory(username="nurse")
    for number in range(40):
        case_add_note(case=case, text=f"Call attempt {number}: no answer.", by=author)

    pages = pdf_pages(clinician_client.get(url(case, "summary_pdf")).content)

    assert len(pages) > 1
    assert "RED FLAG: Bladder problems" in pages[0]
    assert "Call attempt 39: no answer." in pages[-1]
    assert case.reference in pages[-1]  # every page says whose it is


# FHIR from the admin -----------------------------------------------------------------


def test_fhir_download_from_the_case_page_is_a_valid_audited_bundle(clinician_client):
    case = CaseFactory(changes=EMERGENCY)

    response = clinician_client.get(url(case, "fhir"))

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{case.reference}-fhir.json"'
    Bundle.parse_obj(json.loads(response.content))
    [entry] = exports()
    assert entry.object_label == case.reference


def test_fhir_questionnaire_download_from_the_case_list(clinician_client):
    html = clinician_client.get(CASES_URL).content.decode()
    assert 'href="/admin/intake/case/fhir-questionnaire.json"' in html

    response = clinician_client.get("/admin/intake/case/fhir-questionnaire.json")

    Questionnaire.parse_obj(json.loads(response.content))
    [entry] = exports()
    assert entry.object_type == "questionnaire"


# CSV ----------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "＝"])
def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(start):
    assert csv_safe(f'{start}HYPERLINK("http://x")') == f'\'{start}HYPERLINK("http://x")'


def test_csv_cells_that_are_plain_text_are_unchanged():
    assert csv_safe("C-7K3P9Q") == "C-7K3P9Q"
    assert csv_safe("Numbness; Bladder") == "Numbness; Bladder"
    assert csv_safe(None) == ""


@pytest.mark.parametrize(
    ("born", "band"),
    [
        (datetime.date(2010, 3, 3), "under 18"),
        (datetime.date(2008, 3, 2), "18-29"),
        (datetime.date(1961, 5, 17), "60-69"),
        (datetime.date(1936, 3, 2), "90+"),
    ],
)
def test_age_bands(born, band):
    assert age_band(born, datetime.date(2026, 3, 2)) == band


@time_machine.travel(NOW, tick=False)
def test_export_selected_as_csv_gives_minimum_necessary_columns(clinician_client):
    assignee = UserFactory(username='=HYPERLINK("http://evil")')
    wanted = CaseFactory(
        changes=EMERGENCY,
        assigned_to=assignee,
        submitted_at=NOW - datetime.timedelta(minutes=30),
        reviewed_at=NOW - datetime.timedelta(minutes=18),
        status="in_review",
    )
    also = CaseFactory()
    CaseFactory()  # not selected

    response = clinician_client.post(
        CASES_URL,
        {"action": "export_selected_as_csv", "_selected_action": [wanted.pk, also.pk]},
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="cases-')
    header, *rows = csv_rows(response)
    assert header == [
        "Reference",
        "Submitted (UTC)",
        "First reviewed (UTC)",
        "Minutes to first review",
        "Tier",
        "Red flags",
        "Status",
        "Assigned to",
        "Age band at submission",
    ]
    by_reference = {row[0]: row for row in rows}
    assert set(by_reference) == {wanted.reference, also.reference}
    assert by_reference[wanted.reference] == [
        wanted.reference,
        "2026-03-02 13:30",
        "2026-03-02 13:42",
        "12",
        "Emergency",
        "Numbness between the legs (saddle); Bladder problems",
        "In review",
        '\'=HYPERLINK("http://evil")',
        "60-69",
    ]
    # Minimum necessary: nothing that identifies the patient.
    text = "\n".join(",".join(row) for row in rows)
    for patient in (wanted.patient, also.patient):
        assert patient.last_name not in text
        assert patient.phone not in text
        assert patient.date_of_birth.isoformat() not in text
    [entry] = exports()
    assert (entry.object_type, entry.object_label) == ("case", "2 cases (CSV)")


@time_machine.travel(NOW, tick=False)
def test_csv_link_exports_the_filtered_list_every_page_of_it(clinician_client):
    emergencies = [CaseFactory(changes=EMERGENCY) for _ in range(3)]
    CaseFactory()
    CaseFactory(changes={"foot_lift_difficulty": "yes"})

    page = clinician_client.get(CASES_URL + "?tier__exact=emergency").content.decode()
    assert f'href="{CSV_URL}?tier__exact=emergency"' in page
    response = clinician_client.get(CSV_URL + "?tier__exact=emergency")

    _header, *rows = csv_rows(response)
    assert sorted(row[0] for row in rows) == sorted(case.reference for case in emergencies)
    assert exports()[0].object_label == "3 cases (CSV)"


def test_csv_link_respects_search_and_flag_filters(clinician_client):
    target = CaseFactory(changes={"foot_lift_difficulty": "yes"})
    CaseFactory(changes={"foot_lift_difficulty": "yes"})
    CaseFactory()

    by_search = csv_rows(clinician_client.get(CSV_URL + f"?q={target.patient.last_name}"))
    by_flag = csv_rows(clinician_client.get(CSV_URL + "?flag=foot_drop"))

    assert [row[0] for row in by_search[1:]] == [target.reference]
    assert len(by_flag) == 1 + 2
    assert all(row[5] == triage.flag_label("foot_drop") for row in by_flag[1:])


def test_csv_export_reads_a_fixed_number_of_queries(clinician_client):
    def export_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            rows = csv_rows(clinician_client.get(CSV_URL))
        return len(captured), len(rows)

    CaseFactory.create_batch(3)
    few, few_rows = export_queries()
    CaseFactory.create_batch(40, changes=EMERGENCY, assigned_to=UserFactory())
    many, many_rows = export_queries()

    assert (few_rows, many_rows) == (1 + 3, 1 + 43)
    assert many == few
    # Session, user, permissions, count, rows, audit entries (each after reading
    # the audit log's newest hash to chain it to).
    assert many <= 13


def test_csv_with_invalid_filters_goes_back_to_the_list(clinician_client):
    response = clinician_client.get(CSV_URL + "?no_such_field=1")

    assert response.status_code == 302
    assert not exports()


# Who may export ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["summary", "summary_pdf", "fhir"])
def test_staff_without_case_access_cannot_export_a_case(client, name):
    case = CaseFactory(changes=EMERGENCY)
    client.force_login(UserFactory(is_staff=True))  # staff, but no role

    response = client.get(url(case, name))

    assert response.status_code == 403
    assert case.reference.encode() not in response.content
    assert not exports()


@pytest.mark.parametrize("name", ["summary", "summary_pdf", "fhir"])
def test_anonymous_users_are_sent_to_the_staff_login(client, name):
    case = CaseFactory(changes=EMERGENCY)

    response = client.get(url(case, name))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert not exports()


def test_csv_needs_case_access(client):
    CaseFactory()
    client.force_login(UserFactory(is_staff=True))

    assert client.get(CSV_URL).status_code == 403
    assert client.get("/admin/intake/case/fhir-questionnaire.json").status_code == 403
    assert not exports()


def test_front_desk_may_export_and_sees_the_csv_action(client):
    client.force_login(staff_in(FRONT_DESK))
    CaseFactory()

    html = client.get(CASES_URL).content.decode()

    assert 'value="export_selected_as_csv"' in html
    assert "Export this list as CSV" in html
    assert client.get(CSV_URL).status_code == 200


def test_answers_from_an_older_questionnaire_still_print(clinician_client):
    case = CaseFactory(changes={"old_question": "=1+1"})

    html = clinician_client.get(url(case, "summary")).content.decode()
    first_page = pdf_pages(clinician_client.get(url(case, "summary_pdf")).content)[0]

    assert "old_question" in html and "=1+1" in html
    assert "Other stored answers" in first_page and "old_question: =1+1" in first_page


@pytest.fixture
def fresh_font_cache(monkeypatch, tmp_path):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    pdf._font_cache_dir.cache_clear()
    yield tmp_path
    pdf._font_cache_dir.cache_clear()


def test_font_cache_is_a_folder_only_this_user_can_write(fresh_font_cache):
    folder = pdf._font_cache_dir()

    assert folder.parent == fresh_font_cache
    assert folder.stat().st_mode & 0o777 == 0o700


def test_font_cache_writable_by_others_is_never_used(fresh_font_cache):
    shared = fresh_font_cache / f"clinic-intake-fonts-{os.getuid()}"
    shared.mkdir()
    shared.chmod(0o777)

    folder = pdf._font_cache_dir()

    assert folder != shared
    assert folder.stat().st_mode & 0o777 == 0o700


def test_summary_says_which_language_the_patient_answered_in(clinician_client):
    spanish = CaseFactory(language="es")
    english = CaseFactory(language="en")

    assert "Answered in" in clinician_client.get(url(spanish, "summary")).content.decode()
    assert (
        "Answered in: Spanish"
        in pdf_pages(clinician_client.get(url(spanish, "summary_pdf")).content)[0]
    )
    assert "Answered in" not in clinician_client.get(url(english, "summary")).content.decode()
