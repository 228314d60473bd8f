"""A list of cases as CSV, for audit and quality work.

Minimum necessary: the columns answer "what came in, how urgent, how fast was
it handled, by whom" without identifying the patient. The reference leads
back to the case in the admin for anyone allowed to see it; the patient's
age is a ten-year band (90 and over together), and there is no name, phone,
email, date of birth or free text. Every cell is escaped against spreadsheet
formula injection.
"""

import csv
import datetime
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import triage
from ..models import Case

#: A cell starting with one of these is a formula to Excel, LibreOffice and
#: Google Sheets (OWASP "CSV injection"), including the full-width forms.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

#: The fields the export reads; everything else (answers, reasons) stays in the database.
EXPORT_FIELDS = (
    "reference",
    "submitted_at",
    "reviewed_at",
    "tier",
    "flags",
    "status",
    "assigned_to",
    "assigned_to__username",
    "patient",
    "patient__date_of_birth",
)


def csv_safe(value: object) -> str:
    """The cell as text a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def age_band(born: datetime.date, on: datetime.date) -> str:
    """The age on a day as a band: "under 18", "18-29", "30-39", ..., "80-89", "90+"."""
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if age < 18:
        return "under 18"
    if age < 30:
        return "18-29"
    if age >= 90:
        return "90+"
    decade = age // 10 * 10
    return f"{decade}-{decade + 9}"


def _minutes(start: datetime.datetime, end: datetime.datetime | None) -> str:
    if end is None:
        return ""
    return str(max(int((end - start).total_seconds() // 60), 0))


def _when(moment: datetime.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def header_row() -> list[str]:
    zone = timezone.get_current_timezone_name()
    return [
        _("Reference"),
        _("Submitted (%(zone)s)") % {"zone": zone},
        _("First reviewed (%(zone)s)") % {"zone": zone},
        _("Minutes to first review"),
        _("Tier"),
        _("Red flags"),
        _("Status"),
        _("Assigned to"),
        _("Age band at submission"),
    ]


def case_row(case: Case) -> list[str]:
    submitted_on = timezone.localdate(case.submitted_at)
    return [
        case.reference,
        _when(case.submitted_at),
        _when(case.reviewed_at),
        _minutes(case.submitted_at, case.reviewed_at),
        str(case.get_tier_display()),
        "; ".join(triage.flag_label(flag) for flag in case.flags or []),
        str(case.get_status_display()),
        case.assigned_to.get_username() if case.assigned_to else "",
        age_band(case.patient.date_of_birth, submitted_on),
    ]


def cases_for_csv(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Only what the CSV needs, in the same query as the patient and the assignee.

    The list's own joins (such as the booked visit) are dropped first: the CSV
    has no column for them.
    """
    return cases.select_related(None).select_related("patient", "assigned_to").only(*EXPORT_FIELDS)


class _Line:
    """A file-like object whose write() hands back the line csv.writer formatted."""

    def write(self, value: str) -> str:
        return value


def csv_lines(cases: Iterable[Case]) -> Iterator[str]:
    """The CSV text line by line (header first), every cell escaped.

    Starts with a byte-order mark so spreadsheet programs read the UTF-8 as
    UTF-8. With a queryset, rows are read in chunks, never all at once.
    """
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(header_row())
    rows = cases.iterator(chunk_size=2000) if isinstance(cases, QuerySet) else cases
    for case in rows:
        yield writer.writerow([csv_safe(cell) for cell in case_row(case)])
