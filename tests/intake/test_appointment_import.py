"""Appointments from a CSV file, and one by hand (issue 21): staff's admin pages.

Every bad file gets a report by row and column and changes nothing; a good
one is previewed, then imported whole in one transaction, each invitation's
messages queued after it. The import page and the form are for front desk
and above only.
"""

import codecs
import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from audit.models import AuditEntry
from intake.appointment_import import (
    MAX_FILE_BYTES,
    appointments_check_csv,
    appointments_import_csv,
)
from intake.invitations import NewAppointment, appointment_cancel, appointment_create
from intake.models import Appointment, Invitation, InvitationMessage, Patient
from intake.roles import CLINIC_MANAGER, CLINICIAN, FRONT_DESK, ensure_staff_roles
from tests.factories import staff_in

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/intake/appointment/import/"
ADD_URL = "/admin/intake/appointment/add/"
NOW = datetime.datetime(2026, 11, 26, 8, 0, tzinfo=datetime.UTC)
HEADER = [
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "mobile",
    "language",
    "appointment_date",
    "appointment_time",
    "note",
]


@pytest.fixture(autouse=True)
def frozen_clock(settings):
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(NOW, tick=False):
        yield


def row(**changes) -> dict[str, str]:
    values = {
        "first_name": "Test",
        "last_name": "Example",
        "date_of_birth": "1961-05-17",
        "email": "test.example@example.com",
        "mobile": "555-0100",
        "language": "en",
        "appointment_date": "2026-12-01",
        "appointment_time": "09:30",
        "note": "New patient",
    }
    values.update(changes)
    return values


def csv_bytes(rows: list[dict], header: list[str] = HEADER, *, delimiter: str = ",") -> bytes:
    lines = [delimiter.join(header)]
    lines += [delimiter.join(values.get(name.lower(), "") for name in header) for values in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


def many_rows(count: int) -> list[dict]:
    """Different patients, a quarter hour apart over the days from 1 Dec 2026."""
    start = datetime.datetime(2026, 12, 1, 8, 0)
    rows = []
    for number in range(count):
        moment = start + datetime.timedelta(minutes=15 * number)
        rows.append(
            row(
                last_name=f"Example{number}",
                mobile=f"555-01{number % 100:02d}",
                email=f"test{number}@example.com",
                appointment_date=moment.date().isoformat(),
                appointment_time=moment.strftime("%H:%M"),
            )
        )
    return rows


def staff_client(role: str | None) -> Client:
    ensure_staff_roles()
    user = staff_in(role, username=f"staff-{(role or 'none').replace(' ', '-').lower()}")
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def front_desk():
    return staff_client(FRONT_DESK)


def upload(client: Client, content: bytes, name: str = "visits.csv"):
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, content, "text/csv")})


def problems_of(response) -> list[tuple]:
    return [(p.row, p.column, p.message) for p in response.context["problems"]]


def assert_nothing_stored():
    assert not Appointment.objects.exists()
    assert not Invitation.objects.exists()
    assert not InvitationMessage.objects.exists()
    assert not Patient.objects.exists()


# A good file: preview, then import ----------------------------------------------------


def test_a_good_file_is_previewed_then_imported_whole(front_desk):
    rows = [
        row(),
        row(first_name="Prueba", last_name="Ejemplo", email="", mobile="555 0101", language="es"),
        row(last_name="Sample", mobile="", appointment_time="14:05", note=""),
    ]

    preview = upload(front_desk, csv_bytes(rows))

    assert preview.status_code == 200
    assert preview.context["problems"] == []
    assert [checked.row for checked in preview.context["checked"].rows] == [2, 3, 4]
    page = preview.content.decode()
    assert "Import 3 appointments" in page
    assert "1 Dec 2026, 09:30" in page and "Spanish" in page
    assert_nothing_stored()

    imported = front_desk.post(IMPORT_URL, {"preview": preview.context["preview"]})

    assert imported.status_code == 302
    assert imported["Location"] == "/admin/intake/appointment/?day=2026-12-01&span=day"
    assert Appointment.objects.count() == 3
    spanish = Invitation.objects.get(appointment__patient__last_name="Ejemplo")
    assert (spanish.language, spanish.email, spanish.mobile) == ("es", "", "555 0101")
    assert spanish.appointment.starts_at == datetime.datetime(
        2026, 12, 1, 9, 30, tzinfo=datetime.UTC
    )
    assert spanish.appointment.created_by == front_desk.user
    # One message per channel of each invitation: 2 + 1 + 1.
    assert InvitationMessage.objects.filter(kind="invitation", resend_number=0).count() == 4
    # One audit entry lists the appointments made; the request itself is recorded too.
    entry = AuditEntry.objects.get(action="appointment.import")
    assert entry.user == front_desk.user
    assert sorted(entry.details["appointments"]) == sorted(
        Appointment.objects.values_list("pk", flat=True)
    )
    assert AuditEntry.objects.filter(
        action="change", user=front_desk.user, path=IMPORT_URL, status_code=302
    ).exists()
    # The checked file is forgotten: the same preview cannot import twice.
    again = front_desk.post(IMPORT_URL, {"preview": preview.context["preview"]})
    assert again.status_code == 302 and again["Location"] == IMPORT_URL
    assert Appointment.objects.count() == 3


def test_the_page_documents_the_columns_and_the_limit(front_desk):
    page = front_desk.get(IMPORT_URL)
    assert page.status_code == 200
    text = page.content.decode()
    for column in HEADER:
        assert f"<code>{column}</code>" in text
    assert "At most 2 MB and 10000 rows" in text
    assert "YYYY-MM-DD" in text and "HH:MM" in text


def test_utf8_with_a_byte_order_mark_and_semicolons_are_read(front_desk):
    content = codecs.BOM_UTF8 + csv_bytes([row(first_name="Zoë", last_name="Ñandú")], delimiter=";")
    preview = upload(front_desk, content)
    assert preview.context["problems"] == []
    assert preview.context["checked"].rows[0].new.first_name == "Zoë"


def test_columns_in_any_order_and_case_and_optional_ones_left_out(front_desk):
    header = ["Appointment_Time", "LAST_NAME", "first_name", "mobile", "date_of_birth"]
    header.append("appointment_date")
    preview = upload(front_desk, csv_bytes([row()], header))
    assert preview.context["problems"] == []
    new = preview.context["checked"].rows[0].new
    assert (new.email, new.language, new.note) == ("", "en", "")


def test_a_language_may_be_given_by_its_english_name(front_desk):
    preview = upload(front_desk, csv_bytes([row(language="Spanish")]))
    assert preview.context["checked"].rows[0].new.language == "es"


# Bad files: a clear report, nothing changed ------------------------------------------


def test_wrong_and_missing_columns_are_reported_on_the_header_row(front_desk):
    header = ["first_name", "surname", "date_of_birth", "appointment_date", "first_name"]
    response = upload(front_desk, csv_bytes([row()], header))

    found = problems_of(response)
    assert (1, "surname", found[0][2]) == found[0] and "Unknown column" in found[0][2]
    assert (1, "first_name", "This column appears twice.") in found
    assert (1, "last_name", "This column is missing.") in found
    assert (1, "appointment_time", "This column is missing.") in found
    assert any(column == "email/mobile" for _row, column, _message in found)
    assert "Nothing was imported" in response.content.decode()
    assert_nothing_stored()


def test_bad_dates_and_times_are_reported_by_row_and_column(front_desk):
    rows = [
        row(date_of_birth="17/05/1961"),
        row(last_name="B", appointment_date="2026-02-30"),
        row(last_name="C", appointment_time="9.30"),
        row(last_name="D", appointment_date="2026-11-25"),
        row(last_name="E", date_of_birth="2030-01-01"),
        row(last_name="F", appointment_time="25:00"),
        row(last_name="G", appointment_date="2028-12-01"),
    ]
    found = problems_of(upload(front_desk, csv_bytes(rows)))

    assert [(r, c) for r, c, _m in found] == [
        (2, "date_of_birth"),
        (3, "appointment_date"),
        (4, "appointment_time"),
        (5, "appointment_date"),
        (6, "date_of_birth"),
        (7, "appointment_time"),
        (8, "appointment_date"),
    ]
    assert "“17/05/1961” is not a date written YYYY-MM-DD." in found[0][2]
    assert "already passed" in found[3][2]
    assert "future" in found[4][2]
    assert "more than a year ahead" in found[6][2]
    assert_nothing_stored()


def test_an_unknown_language_is_reported(front_desk):
    found = problems_of(upload(front_desk, csv_bytes([row(language="fr")])))
    assert found == [
        (2, "language", "“fr” is not a language the clinic sends messages in (en, es).")
    ]
    assert_nothing_stored()


@pytest.mark.parametrize(
    "mobile", ["call me", "555-CALL", "12", "555 0100 ext 4", "0" * 16, "5+55"]
)
def test_phone_numbers_that_are_not_numbers_are_reported(front_desk, mobile):
    found = problems_of(upload(front_desk, csv_bytes([row(mobile=mobile)])))
    assert [(r, c) for r, c, _m in found] == [(2, "mobile")]
    assert "is not a phone number" in found[0][2]
    assert_nothing_stored()


def test_a_row_with_neither_email_nor_mobile_is_reported(front_desk):
    found = problems_of(upload(front_desk, csv_bytes([row(), row(email=" ", mobile="")])))
    assert found == [(3, "email/mobile", "Give an email address, a mobile number or both.")]
    assert_nothing_stored()


def test_a_bad_email_and_a_missing_name_are_reported(front_desk):
    found = problems_of(upload(front_desk, csv_bytes([row(email="not-an-email", first_name="")])))
    assert {(r, c) for r, c, _m in found} == {(2, "email"), (2, "first_name")}


def test_a_50_mb_file_is_refused_by_its_size_without_being_read(front_desk):
    content = csv_bytes([row()]) + b"x" * (50 * 1024 * 1024)

    response = upload(front_desk, content, "huge.csv")

    assert response.status_code == 413
    assert "larger than 2 MB" in response.content.decode()
    assert_nothing_stored()


def test_a_file_just_over_the_limit_stops_being_read_at_the_limit(front_desk):
    content = csv_bytes([row()]) + b"," * (MAX_FILE_BYTES - 100)
    assert MAX_FILE_BYTES < len(content) < MAX_FILE_BYTES + 1024

    response = upload(front_desk, content)

    assert response.status_code == 413
    assert "larger than 2 MB" in response.content.decode()
    assert_nothing_stored()


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_another_encoding_is_refused_with_a_clear_message(front_desk, encoding):
    content = csv_bytes([row(first_name="Zoë", last_name="Ñandú")]).decode().encode(encoding)

    found = problems_of(upload(front_desk, content))

    assert found == [
        (
            None,
            "",
            "The file is not in UTF-8. In your spreadsheet choose “Save as” and the type "
            "“CSV UTF-8”, then upload that file.",
        )
    ]
    assert_nothing_stored()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\r\n\r\n", "The file is empty"),
        (",".join(HEADER).encode() + b"\r\n", "no appointments"),
        (b"first_name,last_name\x00\r\n", "NUL"),
        (csv_bytes([row()]) + b'Test,"Quoted"x,1961-05-17\r\n', "not valid CSV"),
    ],
)
def test_empty_and_broken_files_are_reported(front_desk, content, expected):
    found = problems_of(upload(front_desk, content))
    assert len(found) == 1 and expected in found[0][2]
    assert_nothing_stored()


def test_a_row_with_too_few_or_too_many_values_is_reported(front_desk):
    content = csv_bytes([row()]) + b"Test,Short\r\n"
    found = problems_of(upload(front_desk, content))
    assert found == [(3, "", "This row has 2 values; the header has 9.")]


def test_no_file_chosen_or_an_empty_one_is_reported(front_desk):
    response = front_desk.post(IMPORT_URL, {})
    assert response.status_code == 400
    assert "Please choose a CSV file." in response.content.decode()
    response = upload(front_desk, b"")
    assert response.status_code == 400
    assert "The submitted file is empty." in response.content.decode()


def test_every_problem_of_a_file_is_listed_and_nothing_is_imported(front_desk):
    rows = many_rows(30)
    rows[4]["mobile"] = "not a phone"
    rows[20]["language"] = "xx"

    response = upload(front_desk, csv_bytes(rows))

    assert [(r, c) for r, c, _m in problems_of(response)] == [(6, "mobile"), (22, "language")]
    assert response.context["checked"] is None
    assert 'name="preview"' not in response.content.decode()
    assert_nothing_stored()


# Duplicates -------------------------------------------------------------------------------


def test_duplicates_within_the_file_are_reported(front_desk):
    rows = [row(), row(last_name="Other"), row(last_name="  EXAMPLE ", email="", mobile="5550100")]
    found = problems_of(upload(front_desk, csv_bytes(rows)))
    assert found == [
        (4, "appointment_date", "This row repeats row 2 (same patient, date and time).")
    ]


def test_a_duplicate_of_an_existing_invitation_is_reported(front_desk):
    existing = appointment_create(
        new=NewAppointment(
            first_name="Test",
            last_name="Example",
            date_of_birth=datetime.date(1961, 5, 17),
            starts_at=datetime.datetime(2026, 12, 1, 9, 30, tzinfo=datetime.UTC),
            mobile="555-0100",
        ),
        by=None,
    )
    # Another patient at the same time, and the same patient another time: not duplicates.
    rows = [row(), row(last_name="Other"), row(appointment_time="10:30")]

    found = problems_of(upload(front_desk, csv_bytes(rows)))

    assert [(r, c) for r, c, _m in found] == [(2, "appointment_date")]
    assert "already has an invitation for this appointment" in found[0][2]
    # A cancelled appointment is no longer booked: booking it again is allowed.
    appointment_cancel(appointment=existing.appointment, by=None)
    assert problems_of(upload(front_desk, csv_bytes(rows))) == []


def test_the_duplicate_check_is_one_query_however_long_the_file():
    appointment_create(
        new=NewAppointment(
            first_name="Test",
            last_name="Example3",
            date_of_birth=datetime.date(1961, 5, 17),
            starts_at=datetime.datetime(2026, 12, 1, 8, 45, tzinfo=datetime.UTC),
            mobile="555-0103",
        ),
        by=None,
    )
    counts = {}
    for size in (10, 2000):
        content = csv_bytes(many_rows(size))
        with CaptureQueriesContext(connection) as queries:
            checked = appointments_check_csv(content=content)
        counts[size] = len(queries)
        assert len(checked.rows) == size
        assert [problem.row for problem in checked.problems] == [5]
    assert counts == {10: 1, 2000: 1}


# All or nothing ---------------------------------------------------------------------


def test_a_file_that_turns_bad_before_import_imports_nothing(front_desk):
    """A clash booked between the preview and "Import" stops the whole file."""
    preview = upload(front_desk, csv_bytes(many_rows(5)))
    assert preview.context["problems"] == []
    appointment_create(
        new=NewAppointment(
            first_name="Test",
            last_name="Example4",
            date_of_birth=datetime.date(1961, 5, 17),
            starts_at=datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC),
            email="clash@example.com",
        ),
        by=None,
    )

    response = front_desk.post(IMPORT_URL, {"preview": preview.context["preview"]})

    assert response.status_code == 200
    assert [(r, c) for r, c, _m in problems_of(response)] == [(6, "appointment_date")]
    assert Appointment.objects.count() == 1
    assert InvitationMessage.objects.count() == 0


def test_the_import_service_refuses_a_bad_file_whole():
    rows = many_rows(50)
    rows[49]["date_of_birth"] = "1961-02-30"
    from intake.appointment_import import ImportRejected

    with pytest.raises(ImportRejected) as rejected:
        appointments_import_csv(content=csv_bytes(rows), by=None)

    assert [(p.row, p.column) for p in rejected.value.problems] == [(51, "date_of_birth")]
    assert_nothing_stored()


def test_a_thousand_rows_import_in_one_go():
    invitations = appointments_import_csv(content=csv_bytes(many_rows(1000)), by=None)
    assert len(invitations) == Appointment.objects.count() == 1000
    assert InvitationMessage.objects.count() == 2000


def test_the_imported_messages_are_the_ones_queue_invitation_messages_makes(
    django_capture_on_commit_callbacks,
):
    """Written in bulk, yet queue_invitation_messages finds them: nothing would go twice."""
    from intake.invitation_sending import queue_invitation_messages

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invitations = appointments_import_csv(content=csv_bytes(many_rows(3)), by=None)
    assert len(callbacks) == 1  # the sending tasks are queued once the import commits
    stored = InvitationMessage.objects.count()
    for invitation in invitations:
        again = queue_invitation_messages(invitation=invitation)
        assert {(m.kind, m.channel, m.state) for m in again} == {
            ("invitation", "email", "pending"),
            ("invitation", "sms", "pending"),
        }
    assert InvitationMessage.objects.count() == stored == 6


# Who may import ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", [FRONT_DESK, CLINICIAN, CLINIC_MANAGER])
def test_front_desk_and_above_may_import(role):
    client = staff_client(role)
    assert client.get(IMPORT_URL).status_code == 200
    preview = upload(client, csv_bytes([row()]))
    client.post(IMPORT_URL, {"preview": preview.context["preview"]})
    assert Appointment.objects.count() == 1


def test_staff_without_the_permission_are_refused_and_nothing_is_stored():
    client = staff_client(None)
    assert client.get(IMPORT_URL).status_code == 403
    assert upload(client, csv_bytes([row()])).status_code == 403
    assert client.get(ADD_URL).status_code == 403
    assert_nothing_stored()


def test_a_checked_file_is_kept_for_the_user_who_checked_it_only(front_desk):
    preview = upload(front_desk, csv_bytes([row()]))
    other = staff_client(CLINICIAN)

    response = other.post(IMPORT_URL, {"preview": preview.context["preview"]})

    assert response.status_code == 302 and response["Location"] == IMPORT_URL
    assert_nothing_stored()


@pytest.mark.parametrize("preview", ["", "nope", "x\x00" * 10, "'; DROP TABLE x; --", "a" * 500])
def test_a_made_up_preview_imports_nothing(front_desk, preview):
    upload(front_desk, csv_bytes([row()]))
    response = front_desk.post(IMPORT_URL, {"preview": preview})
    assert response.status_code == 302 and response["Location"] == IMPORT_URL
    assert_nothing_stored()


def test_the_import_needs_the_csrf_token(front_desk):
    client = Client(enforce_csrf_checks=True)
    client.force_login(front_desk.user)
    response = client.post(
        IMPORT_URL, {"file": SimpleUploadedFile("v.csv", csv_bytes([row()]), "text/csv")}
    )
    assert response.status_code == 403
    page = client.get(IMPORT_URL)
    token = page.context["csrf_token"]
    response = client.post(
        IMPORT_URL,
        {
            "csrfmiddlewaretoken": token,
            "file": SimpleUploadedFile("v.csv", csv_bytes([row()]), "text/csv"),
        },
    )
    assert response.status_code == 200 and response.context["checked"] is not None


# One appointment by hand ------------------------------------------------------------------


def entry(**changes) -> dict[str, str]:
    values = {
        "first_name": "Test",
        "last_name": "Handmade",
        "date_of_birth": "1970-02-03",
        "mobile": "555 0102",
        "email": "",
        "language": "es",
        "appointment_date": "2026-12-02",
        "appointment_time": "11:15",
        "note": "Referred by Dr Example",
    }
    values.update(changes)
    return values


def test_front_desk_enters_one_appointment_and_its_link_is_queued(front_desk):
    form = front_desk.get(ADD_URL)
    assert form.status_code == 200
    assert 'type="date"' in form.content.decode()

    response = front_desk.post(ADD_URL, entry())

    assert response.status_code == 302
    assert response["Location"] == "/admin/intake/appointment/?day=2026-12-02&span=day"
    invitation = Invitation.objects.select_related("appointment__patient").get()
    assert invitation.appointment.starts_at == datetime.datetime(
        2026, 12, 2, 11, 15, tzinfo=datetime.UTC
    )
    assert (invitation.language, invitation.mobile) == ("es", "555 0102")
    assert invitation.appointment.note == "Referred by Dr Example"
    assert invitation.appointment.patient.date_of_birth == datetime.date(1970, 2, 3)
    assert list(invitation.messages.values_list("channel", flat=True)) == ["sms"]
    assert AuditEntry.objects.filter(action="appointment.create", user=front_desk.user).exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"mobile": "", "email": ""}, None, "Give a mobile number, an email address or both."),
        ({"mobile": "ring me"}, "mobile", "is not a phone number"),
        ({"email": "nobody@"}, "email", "is not an email address"),
        ({"language": "fr"}, "language", "Select a valid choice"),
        ({"date_of_birth": "03/02/1970"}, "date_of_birth", "Enter a valid date"),
        ({"appointment_date": "2026-11-25"}, "appointment_date", "already passed"),
        ({"appointment_time": "9pm"}, "appointment_time", "Enter a valid time"),
        ({"first_name": "   "}, "first_name", "required"),
    ],
)
def test_the_form_refuses_what_the_import_refuses(front_desk, changes, field, message):
    response = front_desk.post(ADD_URL, entry(**changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors[field or "__all__"])
    assert_nothing_stored()


def test_the_form_refuses_a_duplicate(front_desk):
    assert front_desk.post(ADD_URL, entry()).status_code == 302
    response = front_desk.post(
        ADD_URL, entry(last_name="HANDMADE", mobile="", email="a@example.com")
    )
    assert "already has an invitation" in " ".join(response.context["form"].non_field_errors())
    assert Appointment.objects.count() == 1


def test_the_admin_home_lists_upcoming_visits_for_front_desk_only(front_desk):
    home = front_desk.get("/admin/").content.decode()
    assert "Upcoming visits" in home
    assert "/admin/intake/appointment/add/" in home
    assert "Upcoming visits" not in staff_client(None).get("/admin/").content.decode()


def test_times_are_clinic_times(front_desk, settings):
    settings.TIME_ZONE = "America/Chicago"
    preview = upload(front_desk, csv_bytes([row()]))
    starts_at = preview.context["checked"].rows[0].new.starts_at
    assert timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M") == "2026-12-01 09:30"
    assert starts_at == datetime.datetime(2026, 12, 1, 15, 30, tzinfo=datetime.UTC)


# Hostile input: never a server error, never a half import ----------------------------------

HOSTILE_TEXT = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "'; DROP TABLE intake_appointment; --",
            '=HYPERLINK("http://example.com")',
            "\u202e\ufeff",
            "\x00",
            '"',
            "9" * 400,
            "2026-13-45",
        ]
    ),
)
FUZZ = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(content=st.binary(max_size=400))
def test_any_bytes_uploaded_give_a_report_never_an_error(front_desk, content):
    response = upload(front_desk, content)
    assert response.status_code in (200, 400)
    assert not Appointment.objects.exists()


@FUZZ
@given(column=st.sampled_from(HEADER), value=HOSTILE_TEXT)
def test_hostile_cells_are_reported_or_previewed_escaped(front_desk, column, value):
    response = upload(front_desk, csv_bytes([row(**{column: value.replace(",", " ")})]))
    assert response.status_code in (200, 400)
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert not Appointment.objects.exists()


@FUZZ
@given(field=st.sampled_from(list(entry())), value=HOSTILE_TEXT)
def test_hostile_form_values_are_refused_or_stored_as_typed(front_desk, field, value):
    before = Appointment.objects.count()
    response = front_desk.post(ADD_URL, entry(**{field: value}))
    assert response.status_code in (200, 302)
    assert "<script>alert(1)</script>" not in response.content.decode()
    if response.status_code == 200:
        assert Appointment.objects.count() == before
