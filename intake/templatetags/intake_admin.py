"""Words for the staff screens: waiting times, answers in plain language, red flags.

The admin (intake/admin/) imports these helpers for its list columns and its
case page; templates use the same ones as filters and tags, so a case reads
the same wherever staff see it.
"""

import datetime
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from django import forms, template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import get_language_info, ngettext
from django.utils.translation import gettext as _

from clinic.formats.en import formats as english_formats
from intake import triage
from intake.forms import STEPS, QuestionnaireStepForm, is_asked
from intake.models import Appointment, Case, overdue_limit_in_words
from intake.selectors import booked_appointment, failing_alert_count, red_flag_queue_state
from intake.services import case_details_differences

register = template.Library()

#: The step whose answers are the patient's details, stored on Patient, not in answers.
DETAILS_STEP = "about"

#: Which answers (code -> values) can help raise each red flag, read from the
#: rules themselves (SPEC "Red flags"); used to mark those answers on the case page.
FLAG_ANSWERS: Mapping[str, Mapping[str, frozenset[str]]] = triage.FLAG_ANSWERS


# Time -----------------------------------------------------------------------


@register.filter
def waited_for(since: datetime.datetime | None, now: datetime.datetime | None = None) -> str:
    """How long ago ``since`` was, as staff say it: "45 min", "2 h 15 min", "3 d 4 h"."""
    if since is None:
        return ""
    minutes = max(int(((now or timezone.now()) - since).total_seconds() // 60), 0)
    if minutes < 1:
        return _("under 1 min")
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": minutes}


@register.filter
def symptoms_began(day: datetime.date | None, today: datetime.date | None = None) -> str:
    """How long ago the symptoms began: "today", "3 days ago", "5 weeks ago"."""
    if day is None:
        return _("not given")
    days = ((today or timezone.localdate()) - day).days
    if days < 0:
        return _("date is in the future")
    if days == 0:
        return _("today")
    if days == 1:
        return _("yesterday")
    if days < 14:
        return ngettext("%(count)d day ago", "%(count)d days ago", days) % {"count": days}
    if days < 63:
        weeks = days // 7
        return ngettext("%(count)d week ago", "%(count)d weeks ago", weeks) % {"count": weeks}
    if days < 730:
        months = days // 30
        return ngettext("%(count)d month ago", "%(count)d months ago", months) % {"count": months}
    years = days // 365
    return ngettext("%(count)d year ago", "%(count)d years ago", years) % {"count": years}


#: The one way staff pages write a moment ("26 Nov 2026, 14:05") and a day
#: ("26 Nov 2026"): the case page, its timeline and the queue all use these,
#: and Django's own admin pages through FORMAT_MODULE_PATH (clinic/formats/).
STAFF_DATETIME_FORMAT = english_formats.DATETIME_FORMAT
STAFF_DATE_FORMAT = english_formats.DATE_FORMAT


def clinic_time(moment: datetime.datetime) -> datetime.datetime:
    """``moment`` in the clinic's time zone (``settings.TIME_ZONE``), whoever is reading."""
    return timezone.localtime(moment, timezone.get_default_timezone())


@register.filter
def staff_datetime(moment: datetime.datetime | None) -> str:
    """A moment as every staff page writes it: "26 Nov 2026, 14:05", clinic time, 24-hour."""
    if moment is None:
        return ""
    return formats.date_format(clinic_time(moment), STAFF_DATETIME_FORMAT)


@register.filter
def staff_date(day: datetime.date | None) -> str:
    """A day as every staff page writes it: "26 Nov 2026"."""
    if day is None:
        return ""
    return formats.date_format(day, STAFF_DATE_FORMAT)


def visit_in_words(case: Case, *, short: bool = False) -> str:
    """The visit a case is for: booked by the clinic (date and time), or as the patient gave it.

    A case sent through its invitation carries the appointment's date and
    time; otherwise the date the patient typed, if any (issue 21), which the
    case page (not ``short``, as in the queue's narrow column) says they gave.
    """
    appointment = booked_appointment(case)
    if appointment is not None:
        if appointment.status == Appointment.Status.CANCELLED:
            return _("visit %(time)s (cancelled)") % {"time": staff_datetime(appointment.starts_at)}
        return _("visit %(time)s") % {"time": staff_datetime(appointment.starts_at)}
    if case.appointment_date is None:
        return _("no visit booked")
    if short:
        return _("visit %(day)s") % {"day": staff_date(case.appointment_date)}
    return _("visit %(day)s (date given by the patient)") % {
        "day": staff_date(case.appointment_date)
    }


@register.filter
def iso_datetime(moment: datetime.datetime | None) -> str:
    """The machine-readable form for a ``<time datetime>`` attribute, in clinic time."""
    return clinic_time(moment).isoformat() if moment is not None else ""


# The patient: language and phone ---------------------------------------------


@register.filter
def language_in_words(code: str | None) -> str:
    """The language the patient answered in, as a word ("Spanish"), never a code ("es")."""
    if not code:
        return _("not recorded")
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def is_other_language(code: str | None) -> bool:
    """Whether the patient answered in a language other than English (worth marking)."""
    return bool(code) and not code.lower().startswith("en")


@register.filter
def phone_link(phone: str | None) -> str:
    """A tap-to-call link that never breaks across lines (``tel:`` with digits and + only)."""
    if not phone:
        return ""
    dial = "".join(character for character in phone if character.isdigit() or character == "+")
    return format_html('<a class="case-phone" href="tel:{}">{}</a>', dial, phone)


# Counts for the admin index and the queue --------------------------------------


@register.simple_tag
def red_flag_counts() -> dict[str, object]:
    """Open emergencies, open urgent cases, how many of each are overdue, and the live version.

    One query (``selectors.red_flag_queue_state``). Overdue: not reviewed
    within the tier's time (``Case.is_overdue``). ``version`` is what the
    page's live-queue script compares with the live endpoint's.
    """
    state = red_flag_queue_state()
    return {
        "emergencies": state.emergencies,
        "overdue": state.emergencies_overdue,
        "urgent": state.urgent,
        "urgent_overdue": state.urgent_overdue,
        "newest_emergency_at": state.newest_emergency_at,
        "version": state.version,
    }


@register.simple_tag
def overdue_limit(tier: str) -> str:
    """A tier's review time in words ("15 minutes", "4 hours")."""
    return overdue_limit_in_words(tier)


# An emergency's handling: acknowledgement, escalation, the alert's delivery ------


def staff_name(user) -> str:
    """A member of staff as colleagues know them: full name, else username."""
    return (user.get_full_name() or user.get_username()) if user else ""


def acknowledgement_in_words(case: Case) -> str:
    """ "acknowledged by Ana Reyes at 10:45" or "NOT acknowledged"; empty unless an emergency.

    Reads ``acknowledged_by`` (select it with the case on lists).
    """
    if case.tier != triage.EMERGENCY:
        return ""
    if case.acknowledged_at is None:
        return _("NOT acknowledged")
    return _("acknowledged by %(who)s at %(time)s") % {
        "who": staff_name(case.acknowledged_by) or _("someone"),
        "time": staff_datetime(case.acknowledged_at),
    }


def escalation_in_words(case: Case) -> str:
    """ "escalated 2 times, last at 10:50"; empty if never escalated."""
    if not case.escalation_count:
        return ""
    return ngettext(
        "escalated once, at %(time)s",
        "escalated %(count)d times, last at %(time)s",
        case.escalation_count,
    ) % {"count": case.escalation_count, "time": staff_datetime(case.escalated_at)}


def alert_state_in_words(case: Case) -> str:
    """The emergency alert's delivery, from the case's own columns (no query).

    "alert sent 10:42", "alert NOT delivered, retrying since 10:40", "alert
    not sent yet (since 10:41)"; empty when no alert was called for.
    """
    since = staff_datetime(case.alert_state_at)
    match case.alert_state:
        case "sent":
            return _("alert sent %(time)s") % {"time": since}
        case "failing":
            return _("alert NOT delivered, retrying since %(time)s") % {"time": since}
        case "pending":
            return _("alert not sent yet (since %(time)s)") % {"time": since}
    return ""


def unanswered_questions(case: Case) -> list["Question"]:
    """The questions an early case's patient has not answered yet, in questionnaire order.

    Only for a case made at the first warning sign whose questionnaire is not
    finished; a follow-up question counts only if the answer it follows up
    would have asked it (``forms.is_asked``).
    """
    if not case.created_early or case.completed_at is not None:
        return []
    answers = case.answers or {}
    return [
        question
        for code, question in symptom_questions().items()
        if answers.get(code) in (None, "", []) and is_asked(code, answers)
    ]


# Answers in words -----------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One symptom question of the questionnaire, found by its answer code."""

    code: str
    section: str
    form_class: type[QuestionnaireStepForm]

    @property
    def field(self) -> forms.Field:
        return self.form_class.base_fields[self.code]

    @property
    def label(self) -> str:
        return str(self.field.label)


@functools.cache
def symptom_questions() -> dict[str, Question]:
    """Every symptom question by code, in questionnaire order (patient details excluded)."""
    return {
        code: Question(code=code, section=str(step.title), form_class=step.form_class)
        for step in STEPS
        if step.slug != DETAILS_STEP
        for code in step.form_class.base_fields
    }


def answer_in_words(code: str, value: object) -> str:
    """A stored answer as the patient chose it ("Not sure", "Over a few days")."""
    if value is None or value == "":
        return _("Not answered")
    question = symptom_questions().get(code)
    choices = getattr(question.field, "choices", None) if question else None
    if choices:
        return str(dict((str(key), label) for key, label in choices).get(str(value), value))
    return str(value)


def flags_raised_by_answer(code: str, value: object, flags: list[str]) -> list[str]:
    """The case's red flags (codes) that this answer helps raise."""
    if not isinstance(value, str):
        return []
    value = value.strip().lower()
    return [flag for flag in flags if value in FLAG_ANSWERS.get(flag, {}).get(code, ())]


@dataclass
class AnswerRow:
    code: str
    question: str
    answer: str
    red_flags: list[str] = field(default_factory=list)

    @property
    def is_red_flag(self) -> bool:
        return bool(self.red_flags)


@dataclass
class AnswerSection:
    title: str
    rows: list[AnswerRow] = field(default_factory=list)


def answer_sections(answers: Mapping[str, object], flags: list[str]) -> list[AnswerSection]:
    """The answers grouped by questionnaire section, in words, red flags marked.

    Every question is listed (an unasked one says so), and an answer whose code
    is not in today's questionnaire is still shown, under "Other answers", so
    nothing stored is hidden from staff.
    """
    sections: dict[str, AnswerSection] = {}
    for code, question in symptom_questions().items():
        value = answers.get(code)
        section = sections.setdefault(question.section, AnswerSection(question.section))
        section.rows.append(
            AnswerRow(
                code=code,
                question=question.label,
                answer=answer_in_words(code, value),
                red_flags=[
                    triage.flag_label(flag) for flag in flags_raised_by_answer(code, value, flags)
                ],
            )
        )
    unknown = [code for code in answers if code not in symptom_questions()]
    if unknown:
        other = sections.setdefault("other", AnswerSection(_("Other answers")))
        other.rows.extend(AnswerRow(code, code, str(answers[code])) for code in unknown)
    return list(sections.values())


# The timeline -----------------------------------------------------------------


def _detail_label(name: str) -> str:
    field = STEPS[0].form_class.base_fields.get(name)
    return str(field.label) if field is not None else name.replace("_", " ")


@register.simple_tag
def details_differences(case: Case) -> list[tuple[str, str, str]]:
    """(detail in words, on the patient record, typed on this case) where they differ."""
    return [
        (_detail_label(name), on_record, typed)
        for name, on_record, typed in case_details_differences(case)
    ]


def _value_in_words(key: str, value: object) -> list[tuple[str, str]]:
    if key == "patient" and isinstance(value, Mapping):
        return [
            (_("patient's %(detail)s") % {"detail": _detail_label(name).lower()}, str(detail))
            for name, detail in value.items()
        ]
    if key == "status":
        label = Case.Status(value).label if value in Case.Status.values else value
        return [(_("status"), str(label))]
    if key == "tier":
        label = Case.Tier(value).label if value in Case.Tier.values else value
        return [(_("triage"), str(label))]
    if key == "flags":
        return [(_("red flags"), ", ".join(triage.flag_label(f) for f in value or []) or _("none"))]
    if key == "assigned_to":
        return [(_("assigned to"), value or _("nobody"))]
    if key == "answer" and isinstance(value, Mapping):
        questions = symptom_questions()
        return [
            (
                _("answer to “%(question)s”")
                % {"question": questions[code].label if code in questions else code},
                answer_in_words(code, answer),
            )
            for code, answer in value.items()
        ]
    return [(key.replace("_", " "), str(value))]


@register.filter
def change_in_words(values: Mapping[str, object] | None) -> list[tuple[str, str]]:
    """A timeline entry's stored before/after values as (what, value) pairs in words."""
    if not isinstance(values, Mapping):
        return []
    return [pair for key, value in values.items() for pair in _value_in_words(key, value)]


# The admin home page's red banner ---------------------------------------------


@register.simple_tag
def failing_alerts() -> int:
    """Cases with an alert that is not getting through (``selectors.failing_alert_count``)."""
    return failing_alert_count()
