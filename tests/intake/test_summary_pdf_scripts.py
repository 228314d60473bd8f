"""The PDF summary prints names and notes in every script the questionnaire accepts.

Each PDF is read back with pypdf. What extraction gives depends on the script:

- Left-to-right scripts come back as typed, with noise: pypdf puts a space or
  a NUL between CJK characters (their font is CID-keyed), and a glyph that
  stands for no character on its own (the dots of a shaped Arabic yeh, a
  Devanagari reph) comes back as a stray character ("\\x02", "IJ"). So a name
  is looked for among the extracted characters that occur in it (spaces
  dropped), after NFKC normalisation (a ligature may come back in its
  presentation form).
- Right-to-left scripts (Arabic, Hebrew): the PDF holds glyphs in the order
  they are drawn, left to right. pypdf turns each run of right-to-left glyphs
  drawn together (one word here: the space between words comes from another
  font, so it is a run of its own) back into typed order, and keeps the runs
  in the order they are drawn. So "محمد العلي" (first name, then last name,
  read from the right) comes back as "العلي محمد": each word as typed, the
  words right to left. A PDF that drew the name left to right would come back
  as "دمحم يلعلا" instead, so both the letters and the words are checked.
"""

import io
import unicodedata

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from pypdf import PdfReader

from intake.exports.pdf import MISSING_GLYPH
from intake.roles import CLINICIAN, ensure_staff_roles
from intake.services import case_add_note, case_change_status
from tests.factories import CaseFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

WARNING = "cannot be printed in this PDF"

#: (script, first name, last name, written right to left)
NAMES = [
    ("Latin", "Siân", "Ó Briain-Ångström", False),
    ("Arabic", "محمد", "العلي", True),
    ("Hebrew", "דוד", "כהן", True),
    ("Chinese", "小明", "王", False),
    ("Japanese", "さくら", "山田", False),
    ("Korean", "민준", "김", False),
    ("Devanagari", "अर्जुन", "शर्मा", False),
    ("Cyrillic", "Иван", "Петров", False),
    ("Greek", "Γιώργος", "Παπαδόπουλος", False),
]


@pytest.fixture
def clinician_client(client):
    ensure_staff_roles()
    user = UserFactory(first_name="Ada", last_name="Example")
    user.groups.add(Group.objects.get(name=CLINICIAN))
    client.force_login(user)
    return client


def pdf_text(client, case) -> str:
    response = client.get(reverse("admin:intake_case_summary_pdf", args=[case.pk]))
    assert response.status_code == 200
    pages = PdfReader(io.BytesIO(response.content)).pages
    return "\n".join(page.extract_text() for page in pages)


def appears(name: str, text: str) -> bool:
    """Whether ``name`` is in ``text``, ignoring spaces and characters not in ``name``."""
    wanted = unicodedata.normalize("NFKC", name).replace(" ", "")
    letters = set(wanted)
    found = "".join(char for char in unicodedata.normalize("NFKC", text) if char in letters)
    return wanted in found


def embedded_fonts(content: bytes) -> set[str]:
    fonts = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return fonts


@pytest.mark.parametrize(("script", "first", "last", "rtl"), NAMES, ids=[n[0] for n in NAMES])
def test_pdf_prints_a_name_in_each_script(clinician_client, script, first, last, rtl):
    case = CaseFactory(patient=PatientFactory(first_name=first, last_name=last))

    text = pdf_text(clinician_client, case)

    assert MISSING_GLYPH not in text
    assert WARNING not in text
    assert appears(f"{last} {first}" if rtl else f"{first} {last}", text)
    if rtl:
        assert not appears(f"{first[::-1]} {last[::-1]}", text)  # drawn left to right


def test_plain_english_case_prints_the_apps_arrow_and_no_warning(clinician_client):
    case = CaseFactory(patient=PatientFactory(first_name="Mary", last_name="Example"))
    case_change_status(case=case, to_status="in_review", by=UserFactory())

    text = pdf_text(clinician_client, case)

    assert "Status: New → In review." in text
    assert MISSING_GLYPH not in text
    assert WARNING not in text


def test_a_note_in_every_script_prints(clinician_client):
    case = CaseFactory()
    note = "; ".join(f"{script}: {first} {last}" for script, first, last, _rtl in NAMES)
    case_add_note(case=case, text=note, by=UserFactory())

    text = pdf_text(clinician_client, case)

    assert MISSING_GLYPH not in text
    assert WARNING not in text
    for _script, first, last, rtl in NAMES:
        assert appears(f"{last} {first}" if rtl else f"{first} {last}", text)


def test_a_letter_no_font_has_is_marked_and_the_rest_still_prints(clinician_client):
    # Georgian is not among the scripts the PDF's fonts cover.
    case = CaseFactory(patient=PatientFactory(first_name="გიორგი", last_name="العلي"))

    text = pdf_text(clinician_client, case)

    assert MISSING_GLYPH * len("გიორგი") in text
    assert WARNING in text
    assert appears("العلي", text)


def test_a_right_to_left_override_cannot_reverse_a_name(clinician_client):
    # U+202E would make everything after it read backwards; the PDF drops it.
    case = CaseFactory(patient=PatientFactory(first_name="\u202eAnna-Maria", last_name="العلي"))

    text = pdf_text(clinician_client, case)

    assert "Anna-Maria" in text
    assert "airaM-annA" not in text


def test_a_pdf_embeds_only_the_fonts_its_letters_need(clinician_client):
    url = "admin:intake_case_summary_pdf"
    english = CaseFactory(patient=PatientFactory(first_name="Mary", last_name="Example"))
    case_change_status(case=english, to_status="in_review", by=UserFactory())  # "→": Arimo
    korean = CaseFactory(patient=PatientFactory(first_name="민준", last_name="김"))

    english_fonts = embedded_fonts(clinician_client.get(reverse(url, args=[english.pk])).content)
    korean_fonts = embedded_fonts(clinician_client.get(reverse(url, args=[korean.pk])).content)

    assert english_fonts == {"NotoSans", "Arimo"}
    assert korean_fonts == {"NotoSans", "NotoSansCJKJPBold"}  # the name is bold, the rest Latin
