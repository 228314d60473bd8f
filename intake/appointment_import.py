"""Appointments from a CSV file (issue 21): checked whole, then imported all or nothing.

Staff upload the day's or week's list. ``appointments_check_csv`` reads it and
lists every problem by row and column; ``appointments_import_csv`` checks it
again and, only if nothing is wrong, stores every appointment and queues each
invitation's messages in one transaction; the messages go out after it commits.

The file (``CSV_COLUMNS`` says the same for the staff page):

- UTF-8, with or without a byte-order mark; comma-separated (a file whose
  header has semicolons and no commas is read with semicolons, as some
  spreadsheets save it); at most ``MAX_FILE_BYTES`` and ``MAX_ROWS`` rows.
- A header row naming the columns, in any order, in any case:
  ``first_name``, ``last_name``, ``date_of_birth`` (YYYY-MM-DD),
  ``appointment_date`` (YYYY-MM-DD), ``appointment_time`` (HH:MM, 24-hour,
  clinic time), and ``email`` and/or ``mobile``; ``language`` (a code of
  ``settings.LANGUAGES`` or its English name, empty for English) and
  ``note`` are optional. Any other column is refused, so a misspelt one is
  not silently ignored.
- Each row needs an email address or a mobile number (or both).
- Row numbers are the spreadsheet's: the header is row 1.

A row is a duplicate when the same patient (last name, compared without
case or extra spaces, and date of birth) is booked at the same moment, either
earlier in the file or already in the clinic (cancelled appointments aside).
The clinic's side is one query for the whole file.
"""

import csv
import datetime
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .invitation_sending import invitation_messages_queue_new
from .invitations import NewAppointment, appointments_create_many
from .models import Appointment, Invitation
from .services import normalise_last_name

#: A week of a busy clinic network is well under this; a bigger file is refused unread.
MAX_FILE_BYTES = 2 * 1024 * 1024
#: Rows in one file (a day of 5,000 appointments fits twice over).
MAX_ROWS = 10_000
#: Problems listed in full; past this the report says how many more there are.
MAX_PROBLEMS = 1000
#: An appointment further ahead than this is taken for a typing mistake.
LATEST_AHEAD = datetime.timedelta(days=366)

FIRST_NAME = "first_name"
LAST_NAME = "last_name"
DATE_OF_BIRTH = "date_of_birth"
EMAIL = "email"
MOBILE = "mobile"
LANGUAGE = "language"
APPOINTMENT_DATE = "appointment_date"
APPOINTMENT_TIME = "appointment_time"
NOTE = "note"

#: Column -> what goes in it, in the order the staff page documents them.
CSV_COLUMNS: dict[str, object] = {
    FIRST_NAME: gettext_lazy("Required. The patient's first name."),
    LAST_NAME: gettext_lazy("Required. The patient's last name."),
    DATE_OF_BIRTH: gettext_lazy("Required. YYYY-MM-DD, for example 1961-05-17."),
    EMAIL: gettext_lazy("An email address. Each row needs an email address, a mobile, or both."),
    MOBILE: gettext_lazy(
        "A mobile number: digits, with spaces, dashes, brackets or a leading + if you like."
    ),
    LANGUAGE: gettext_lazy(
        "Optional. The language of the messages: a code such as en or es, or its English "
        "name. Empty means English."
    ),
    APPOINTMENT_DATE: gettext_lazy("Required. YYYY-MM-DD, for example 2026-12-01."),
    APPOINTMENT_TIME: gettext_lazy("Required. HH:MM, 24-hour clock, clinic time: 09:30, 14:05."),
    NOTE: gettext_lazy("Optional. A short note for staff (at most 300 characters)."),
}
REQUIRED_COLUMNS = (FIRST_NAME, LAST_NAME, DATE_OF_BIRTH, APPOINTMENT_DATE, APPOINTMENT_TIME)

NAME_MAX_LENGTH = 100
NOTE_MAX_LENGTH = 300
MOBILE_MAX_LENGTH = 40
EMAIL_MAX_LENGTH = 254
#: A phone number has 7 to 15 digits (15 is the international maximum, E.164).
MOBILE_DIGITS = (7, 15)
_MOBILE_CHARACTERS = re.compile(r"^\+?[0-9 ()./-]+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{1,2}:\d{2}$")
EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)


class ImportRejected(Exception):
    """The file has problems: nothing was imported."""

    def __init__(self, problems: list["ImportProblem"]):
        super().__init__(f"{len(problems)} problem(s) in the file")
        self.problems = problems


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong: in a row and column, or (row None) with the whole file."""

    row: int | None
    column: str
    message: str


@dataclass(frozen=True)
class CheckedRow:
    row: int
    new: NewAppointment


@dataclass
class CheckedFile:
    rows: list[CheckedRow] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.problems and bool(self.rows)


# One value at a time (the form for one appointment uses these too) ---------------


def clean_name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValidationError(_("This is required."))
    if len(value) > NAME_MAX_LENGTH:
        raise ValidationError(
            _("At most %(count)d characters, please.") % {"count": NAME_MAX_LENGTH}
        )
    return value


def clean_iso_date(value: str) -> datetime.date:
    value = value.strip()
    if not value:
        raise ValidationError(_("This is required."))
    try:
        if not _ISO_DATE.match(value):
            raise ValueError
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            _("“%(value)s” is not a date written YYYY-MM-DD.") % {"value": value[:40]}
        ) from None


def clean_date_of_birth(value: datetime.date, *, today: datetime.date) -> datetime.date:
    if value > today:
        raise ValidationError(_("A date of birth cannot be in the future."))
    if value < EARLIEST_BIRTH_DATE:
        raise ValidationError(_("A date of birth before 1900 is surely a typing mistake."))
    return value


def clean_time(value: str) -> datetime.time:
    value = value.strip()
    if not value:
        raise ValidationError(_("This is required."))
    try:
        if not _TIME.match(value):
            raise ValueError
        return datetime.time.fromisoformat(value.zfill(5))
    except ValueError:
        raise ValidationError(
            _("“%(value)s” is not a time written HH:MM (24-hour clock).") % {"value": value[:40]}
        ) from None


def appointment_moment(day: datetime.date, time: datetime.time) -> datetime.datetime:
    """The appointment's day and time in clinic time, as an aware moment."""
    return timezone.make_aware(
        datetime.datetime.combine(day, time), timezone.get_default_timezone()
    )


def clean_starts_at(value: datetime.datetime, *, now: datetime.datetime) -> datetime.datetime:
    if value <= now:
        raise ValidationError(_("This appointment time has already passed."))
    if value > now + LATEST_AHEAD:
        raise ValidationError(_("This appointment is more than a year ahead: is the year right?"))
    return value


def clean_email(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    if len(value) > EMAIL_MAX_LENGTH:
        raise ValidationError(_("This email address is too long."))
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(
            _("“%(value)s” is not an email address.") % {"value": value[:60]}
        ) from None
    return value


def clean_mobile(value: str) -> str:
    """A mobile number as typed (spaces and dashes kept), if it is one."""
    value = value.strip()
    if not value:
        return ""
    digits = sum(character.isdigit() for character in value)
    if (
        len(value) > MOBILE_MAX_LENGTH
        or not _MOBILE_CHARACTERS.match(value)
        or not MOBILE_DIGITS[0] <= digits <= MOBILE_DIGITS[1]
    ):
        raise ValidationError(
            _(
                "“%(value)s” is not a phone number: use 7 to 15 digits, with spaces, "
                "dashes or brackets if you like, and + only at the start."
            )
            % {"value": value[:60]}
        )
    return value


def language_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


def clean_language(value: str) -> str:
    """A code of ``settings.LANGUAGES`` from its code or English name; empty is English."""
    wanted = value.strip().casefold()
    if not wanted:
        return settings.LANGUAGE_CODE.split("-")[0]
    for code, name in settings.LANGUAGES:
        if wanted in (code.casefold(), str(name).casefold()):
            return code
    raise ValidationError(
        _("“%(value)s” is not a language the clinic sends messages in (%(known)s).")
        % {"value": value.strip()[:40], "known": ", ".join(code for code, _n in settings.LANGUAGES)}
    )


def clean_note(value: str) -> str:
    value = value.strip()
    if len(value) > NOTE_MAX_LENGTH:
        raise ValidationError(
            _("At most %(count)d characters, please.") % {"count": NOTE_MAX_LENGTH}
        )
    return value


# The file -----------------------------------------------------------------------------


def _decode(content: bytes) -> str:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected(
            [
                ImportProblem(
                    None,
                    "",
                    _(
                        "The file is not in UTF-8. In your spreadsheet choose “Save as” and "
                        "the type “CSV UTF-8”, then upload that file."
                    ),
                )
            ]
        ) from None
    if "\x00" in text:
        raise ImportRejected(
            [ImportProblem(None, "", _("The file holds NUL characters: is it really a CSV file?"))]
        )
    return text


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if ";" in header and "," not in header else ","


def _header(names: list[str]) -> tuple[dict[str, int], list[ImportProblem]]:
    """Column name -> position, and the header's problems (unknown, repeated, missing)."""
    problems = []
    positions: dict[str, int] = {}
    for position, raw in enumerate(names):
        name = raw.strip().casefold()
        if name not in CSV_COLUMNS:
            problems.append(
                ImportProblem(
                    1,
                    raw.strip()[:40],
                    _("Unknown column “%(name)s”. The columns are: %(columns)s.")
                    % {"name": raw.strip()[:40], "columns": ", ".join(CSV_COLUMNS)},
                )
            )
        elif name in positions:
            problems.append(ImportProblem(1, name, _("This column appears twice.")))
        else:
            positions[name] = position
    for name in REQUIRED_COLUMNS:
        if name not in positions:
            problems.append(ImportProblem(1, name, _("This column is missing.")))
    if EMAIL not in positions and MOBILE not in positions:
        problems.append(
            ImportProblem(
                1,
                f"{EMAIL}/{MOBILE}",
                _("The file needs an email column, a mobile column or both."),
            )
        )
    return positions, problems


def _check_row(
    number: int,
    values: dict[str, str],
    *,
    now: datetime.datetime,
    today: datetime.date,
) -> tuple[NewAppointment | None, list[ImportProblem]]:
    problems: list[ImportProblem] = []
    cleaned: dict[str, object] = {}

    def check(column: str, clean, *args):
        try:
            cleaned[column] = clean(*args)
        except ValidationError as error:
            problems.append(ImportProblem(number, column, " ".join(error.messages)))

    check(FIRST_NAME, clean_name, values.get(FIRST_NAME, ""))
    check(LAST_NAME, clean_name, values.get(LAST_NAME, ""))
    check(DATE_OF_BIRTH, clean_iso_date, values.get(DATE_OF_BIRTH, ""))
    if DATE_OF_BIRTH in cleaned:
        check(
            DATE_OF_BIRTH,
            lambda born: clean_date_of_birth(born, today=today),
            cleaned[DATE_OF_BIRTH],
        )
    check(EMAIL, clean_email, values.get(EMAIL, ""))
    check(MOBILE, clean_mobile, values.get(MOBILE, ""))
    check(LANGUAGE, clean_language, values.get(LANGUAGE, ""))
    check(APPOINTMENT_DATE, clean_iso_date, values.get(APPOINTMENT_DATE, ""))
    check(APPOINTMENT_TIME, clean_time, values.get(APPOINTMENT_TIME, ""))
    check(NOTE, clean_note, values.get(NOTE, ""))
    if APPOINTMENT_DATE in cleaned and APPOINTMENT_TIME in cleaned:
        moment = appointment_moment(cleaned[APPOINTMENT_DATE], cleaned[APPOINTMENT_TIME])
        try:
            cleaned["starts_at"] = clean_starts_at(moment, now=now)
        except ValidationError as error:
            problems.append(ImportProblem(number, APPOINTMENT_DATE, " ".join(error.messages)))
    if not values.get(EMAIL, "").strip() and not values.get(MOBILE, "").strip():
        problems.append(
            ImportProblem(
                number, f"{EMAIL}/{MOBILE}", _("Give an email address, a mobile number or both.")
            )
        )
    if problems:
        return None, problems
    return (
        NewAppointment(
            first_name=cleaned[FIRST_NAME],
            last_name=cleaned[LAST_NAME],
            date_of_birth=cleaned[DATE_OF_BIRTH],
            starts_at=cleaned["starts_at"],
            email=cleaned[EMAIL],
            mobile=cleaned[MOBILE],
            language=cleaned[LANGUAGE],
            note=cleaned[NOTE],
        ),
        [],
    )


def duplicate_key(last_name: str, born: datetime.date, starts_at: datetime.datetime) -> tuple:
    """What makes two appointments the same: the patient's last name and birth date, the moment."""
    return (normalise_last_name(last_name), born, starts_at)


def booked_keys(rows: Iterable[CheckedRow]) -> set[tuple]:
    """The duplicate keys of booked appointments between the rows' first and last moment.

    One query for the whole file, narrowed by time (indexed) and by the birth dates.
    """
    rows = list(rows)
    if not rows:
        return set()
    moments = [row.new.starts_at for row in rows]
    births = {row.new.date_of_birth for row in rows}
    booked = Appointment.objects.filter(
        status=Appointment.Status.BOOKED,
        starts_at__gte=min(moments),
        starts_at__lte=max(moments),
    ).values_list("patient__last_name_key", "patient__date_of_birth", "starts_at")
    if len(births) <= 500:  # a short IN list helps; a long one only costs parameters
        booked = booked.filter(patient__date_of_birth__in=births)
    return {(key, born, starts_at) for key, born, starts_at in booked}


def appointments_check_csv(*, content: bytes, now: datetime.datetime | None = None) -> CheckedFile:
    """Read a CSV file of appointments and list every problem, by row and column.

    Changes nothing. The file-level problems (size, encoding, header) stop the
    reading; otherwise every row is checked, then the duplicates.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    checked = CheckedFile()
    if len(content) > MAX_FILE_BYTES:
        checked.problems.append(too_large_problem())
        return checked
    try:
        text = _decode(content)
    except ImportRejected as rejected:
        checked.problems += rejected.problems
        return checked
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            checked.problems.append(
                ImportProblem(None, "", _("The file is empty: it needs a header row."))
            )
            return checked
        positions, header_problems = _header(header)
        if header_problems:
            checked.problems += header_problems
            return checked
        for index, cells in enumerate(reader):
            number = index + 2  # the header is row 1, as a spreadsheet shows it
            if not any(cell.strip() for cell in cells):
                continue
            if number - 1 > MAX_ROWS:
                checked.problems.append(
                    ImportProblem(
                        None,
                        "",
                        _("The file has more than %(count)d rows: split it in smaller files.")
                        % {"count": MAX_ROWS},
                    )
                )
                return checked
            if len(cells) != len(header):
                checked.problems.append(
                    ImportProblem(
                        number,
                        "",
                        _("This row has %(found)d values; the header has %(expected)d.")
                        % {"found": len(cells), "expected": len(header)},
                    )
                )
                continue
            values = {name: cells[position] for name, position in positions.items()}
            new, problems = _check_row(number, values, now=now, today=today)
            checked.problems += problems
            if new is not None:
                checked.rows.append(CheckedRow(number, new))
    except csv.Error as error:
        checked.problems.append(
            ImportProblem(
                reader.line_num or None,
                "",
                _("The file is not valid CSV here (%(error)s).") % {"error": error},
            )
        )
        return checked
    if not checked.rows and not checked.problems:
        checked.problems.append(
            ImportProblem(None, "", _("The file has a header but no appointments."))
        )
    checked.problems += _duplicates(checked.rows)
    return checked


def _duplicates(rows: list[CheckedRow]) -> list[ImportProblem]:
    problems = []
    booked = booked_keys(rows)
    first_row: dict[tuple, int] = {}
    for row in rows:
        key = duplicate_key(row.new.last_name, row.new.date_of_birth, row.new.starts_at)
        if key in booked:
            problems.append(
                ImportProblem(
                    row.row,
                    APPOINTMENT_DATE,
                    _(
                        "This patient already has an invitation for this appointment "
                        "(same last name, date of birth, date and time)."
                    ),
                )
            )
        elif key in first_row:
            problems.append(
                ImportProblem(
                    row.row,
                    APPOINTMENT_DATE,
                    _("This row repeats row %(row)d (same patient, date and time).")
                    % {"row": first_row[key]},
                )
            )
        else:
            first_row[key] = row.row
    return problems


def too_large_problem() -> ImportProblem:
    return ImportProblem(
        None,
        "",
        _("The file is larger than %(size)s: split it in smaller files (a day or a week each).")
        % {"size": f"{MAX_FILE_BYTES // (1024 * 1024)} MB"},
    )


def appointments_import_csv(*, content: bytes, by: AbstractBaseUser | None) -> list[Invitation]:
    """Import every appointment of a CSV file, or none: raises ``ImportRejected`` with the problems.

    The file is checked again here (another import may have booked the same
    patients since the preview). The appointments (``appointments_create_many``,
    which writes one audit entry listing them) and their invitations' messages
    are stored in one transaction, so a file that fails half-way leaves
    nothing behind; the messages are sent by background tasks queued when it
    commits.
    """
    with transaction.atomic():
        checked = appointments_check_csv(content=content)
        if not checked.is_valid:
            raise ImportRejected(checked.problems)
        invitations = appointments_create_many(news=[row.new for row in checked.rows], by=by)
        invitation_messages_queue_new(invitations)
    return invitations
