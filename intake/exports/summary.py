"""The clinical summary of one case: what the printable page and the PDF show.

Staff screens show each answer as the patient saw the question; a clinician
reading a summary on paper wants the clinical terms instead ("saddle
anaesthesia: yes", "onset over days", "pain 7/10"). This module holds that
wording, keyed by the SPEC's answer codes, and builds one ``CaseSummary`` that
both the HTML page (``templates/admin/intake/case/summary.html``) and the PDF
(``intake/exports/pdf.py``) render, so paper and screen never disagree.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from django import forms
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language_info, gettext_lazy
from django.utils.translation import gettext as _

from .. import triage
from ..forms import STEPS, is_asked
from ..models import Case
from ..templatetags.intake_admin import (
    DETAILS_STEP,
    answer_in_words,
    flags_raised_by_answer,
    symptom_questions,
    symptoms_began,
)

#: Clinical names of the questionnaire's sections, by step slug.
CLINICAL_SECTIONS: Mapping[str, str] = {
    "legs": gettext_lazy("Legs and weakness"),
    "pain": gettext_lazy("Pain and sensation"),
    "warning-signs": gettext_lazy("Cauda equina screen"),
    "health": gettext_lazy("Health background"),
}

#: Each symptom question in clinical terms (the SPEC's "meaning" column).
CLINICAL_LABELS: Mapping[str, str] = {
    "change_since_last": gettext_lazy("Legs compared with last time (patient's impression)"),
    "leg_gives_way": gettext_lazy("Leg gives way / buckles"),
    "weak_side": gettext_lazy("Weak leg"),
    "weakness_onset": gettext_lazy("Onset of weakness"),
    "weakness_trend": gettext_lazy("Course of weakness"),
    "symptoms_started": gettext_lazy("Symptom onset"),
    "falls": gettext_lazy("Falls (leg gave way)"),
    "foot_lift_difficulty": gettext_lazy("Foot lift difficulty (toe catch / foot slap)"),
    "leg_lift_difficulty": gettext_lazy("Difficulty lifting whole leg"),
    "balance_problems": gettext_lazy("Unsteady gait / loss of balance"),
    "back_pain": gettext_lazy("Low back pain"),
    "pain_pattern": gettext_lazy("Leg pain distribution"),
    "pain_both_legs": gettext_lazy("New or worsening bilateral radiating leg pain"),
    "pain_score": gettext_lazy("Worst pain, last week (NRS)"),
    "leg_numbness": gettext_lazy("Leg numbness / paraesthesia"),
    "feet_numbness": gettext_lazy("Both feet numb or burning (stocking)"),
    "burning_pain": gettext_lazy("Neuropathic leg pain"),
    "walking_pain": gettext_lazy("Neurogenic claudication"),
    "night_pain": gettext_lazy("Night pain (back pain waking or preventing sleep)"),
    "saddle_numbness": gettext_lazy("Saddle / perineal numbness"),
    "bladder_retention": gettext_lazy("Urinary retention or hesitancy"),
    "bladder_sensation": gettext_lazy("Loss of bladder sensation"),
    "bladder_stream": gettext_lazy("New poor urinary stream"),
    "bladder_incontinence": gettext_lazy("New urinary incontinence"),
    "bowel_incontinence": gettext_lazy("Bowel incontinence / sensation loss"),
    "sexual_dysfunction": gettext_lazy("New sexual dysfunction"),
    "diabetes": gettext_lazy("Diabetes"),
    "cancer_history": gettext_lazy("History of cancer"),
    "weight_loss": gettext_lazy("Unexplained weight loss"),
    "fever": gettext_lazy("Fever, rigors or chills"),
    "infection_risk": gettext_lazy("Infection risk (IVDU, immunosuppressed, spinal procedure)"),
    "recent_trauma": gettext_lazy("Recent trauma to back or leg"),
    "steroid_use": gettext_lazy("Oral corticosteroids 3 months or more (current or past year)"),
    "osteoporosis": gettext_lazy("Osteoporosis"),
    "statin_use": gettext_lazy("Statin use"),
    "recent_illness": gettext_lazy("Recent infection, dehydration or fatigue"),
    "medications": gettext_lazy("Current medicines"),
    "other_notes": gettext_lazy("Other information from the patient"),
}

_YES_NO_UNSURE = {
    "yes": gettext_lazy("Yes"),
    "no": gettext_lazy("No"),
    "unsure": gettext_lazy("Unsure"),
}

#: Answers in clinical terms where the patient's wording would read oddly on a
#: clinical record; anything not listed falls back to the patient's wording.
CLINICAL_ANSWERS: Mapping[str, Mapping[str, str]] = {
    "weak_side": {
        "left": gettext_lazy("Left"),
        "right": gettext_lazy("Right"),
        "both": gettext_lazy("Both (bilateral)"),
        "neither": gettext_lazy("None reported"),
    },
    "weakness_onset": {
        "hours": gettext_lazy("Over hours"),
        "days": gettext_lazy("Over days"),
        "weeks": gettext_lazy("Over weeks or longer"),
    },
    "weakness_trend": {
        "worse": gettext_lazy("Progressing"),
        "same": gettext_lazy("Static"),
        "better": gettext_lazy("Improving"),
    },
    "pain_pattern": {
        "back_of_leg": gettext_lazy("Back/side of leg into foot (sciatic, L4–S1)"),
        "front_of_thigh": gettext_lazy("Front of thigh or groin (L1–L3)"),
        "buttock": gettext_lazy("Buttock near tailbone (sacroiliac)"),
        "other": gettext_lazy("Other"),
        "none": gettext_lazy("No leg pain"),
    },
    "sexual_dysfunction": {**_YES_NO_UNSURE, "unsure": gettext_lazy("Declined to say")},
}


def clinical_label(code: str) -> str:
    """A question's clinical name; a question added later falls back to its patient wording."""
    if code in CLINICAL_LABELS:
        return str(CLINICAL_LABELS[code])
    question = symptom_questions().get(code)
    return question.label if question else code


def clinical_answer(
    code: str,
    value: object,
    answers: Mapping[str, object] | None = None,
    *,
    today: datetime.date | None = None,
) -> str:
    """One stored answer in clinical terms ("Yes", "Over days", "7/10", "5 Jan 2026 (…)").

    ``answers`` (the case's other answers) tells a question that was never asked
    (weakness details when no leg is weak) from one left unanswered.
    """
    if value is None or value == "":
        if answers is not None and not is_asked(code, answers):
            return _("Not asked")
        return _("Not answered")
    text = str(value).strip().lower() if isinstance(value, str) else value
    if code == "pain_score" and (isinstance(value, int) or str(value).isdigit()):
        return f"{int(value)}/10"
    if code == "symptoms_started":
        try:
            day = datetime.date.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return f"{date_format(day, 'j M Y')} ({symptoms_began(day, today)})"
    if code in CLINICAL_ANSWERS and text in CLINICAL_ANSWERS[code]:
        return str(CLINICAL_ANSWERS[code][text])
    if text in _YES_NO_UNSURE:
        return str(_YES_NO_UNSURE[text])
    return answer_in_words(code, value)


# The summary ------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryFlag:
    label: str
    reason: str


@dataclass(frozen=True)
class SummaryRow:
    code: str
    label: str
    answer: str
    red_flags: tuple[str, ...] = ()
    #: Free text from the patient (medicines, notes), shown across the full width.
    is_text: bool = False
    #: A "yes": worth a clinician's eye even when it raises no flag.
    is_positive: bool = False

    @property
    def is_red_flag(self) -> bool:
        return bool(self.red_flags)


@dataclass
class SummarySection:
    title: str
    rows: list[SummaryRow] = field(default_factory=list)


@dataclass(frozen=True)
class SummaryEvent:
    when: datetime.datetime
    kind: str
    who: str
    summary: str
    text: str


@dataclass(frozen=True)
class SummaryCoursePoint:
    """One case of the chain (issue 22): when, its tier, pain score and change since last time."""

    kind: str
    reference: str
    when: datetime.datetime
    tier_label: str
    pain_score: str
    change: str
    is_this_case: bool


@dataclass
class CaseSummary:
    """Everything the one-page summary shows, already in words."""

    reference: str
    patient_name: str
    date_of_birth: datetime.date
    age: int
    phone: str
    email: str
    submitted_at: datetime.datetime
    appointment_date: datetime.date | None
    status: str
    assignee: str
    #: The language the patient answered in, when not English ("" otherwise).
    language: str
    tier: str
    tier_label: str
    is_overdue: bool
    flags: list[SummaryFlag]
    #: Why the case has its tier when no flag was raised ("Both legs feel weak.").
    other_reasons: list[str]
    pain_score: str
    symptom_onset: str
    weak_side: str
    sections: list[SummarySection]
    #: Stored answers whose code today's questionnaire no longer has.
    other_answers: list[SummaryRow]
    answers_removed: bool
    related_conditions: list[str]
    timeline: list[SummaryEvent]
    generated_at: datetime.datetime
    generated_by: str
    #: The chain of follow-ups this case belongs to, in time order (empty for a single case).
    course: list[SummaryCoursePoint] = field(default_factory=list)
    #: Against the previous case of the chain, in words.
    worse_since_last_time: list[str] = field(default_factory=list)
    new_since_last_time: list[str] = field(default_factory=list)

    @property
    def has_flags(self) -> bool:
        return bool(self.flags)


def _who(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _sections(answers: Mapping[str, object], flags: list[str], today) -> list[SummarySection]:
    sections = []
    for step in STEPS:
        if step.slug == DETAILS_STEP:
            continue
        section = SummarySection(str(CLINICAL_SECTIONS.get(step.slug, step.title)))
        for code, form_field in step.form_class.base_fields.items():
            value = answers.get(code)
            section.rows.append(
                SummaryRow(
                    code=code,
                    label=clinical_label(code),
                    answer=clinical_answer(code, value, answers, today=today),
                    red_flags=tuple(
                        triage.flag_label(flag)
                        for flag in flags_raised_by_answer(code, value, flags)
                    ),
                    is_text=isinstance(form_field, forms.CharField),
                    is_positive=isinstance(value, str) and value.strip().lower() == "yes",
                )
            )
        sections.append(section)
    return sections


def _language_name(code: str) -> str:
    if not code or code == "en":
        return ""
    try:
        return str(get_language_info(code)["name"])
    except KeyError:
        return code


def _related_condition_titles(answers: Mapping[str, object]) -> list[str]:
    """Education topics for the answers; the summary still prints if they cannot be read."""
    from conditions.selectors import conditions_for_answers

    try:
        with transaction.atomic():  # keeps an outer transaction usable on failure
            return [condition.title for condition in conditions_for_answers(answers)]
    except DatabaseError:
        return []


def case_summary(*, case: Case, generated_by=None, now: datetime.datetime | None = None):
    """The summary of ``case`` as of ``now``, for the printable page and the PDF.

    Reads the case's timeline (one query, authors included) and the related
    education topics (one query); the case should come with its patient and
    assignee already loaded.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    answers = case.answers or {}
    flags = list(case.flags or [])
    reasons = list(case.reasons or [])
    flag_rows = [
        SummaryFlag(
            label=triage.flag_label(flag), reason=reasons[index] if index < len(reasons) else ""
        )
        for index, flag in enumerate(flags)
    ]
    known = symptom_questions()
    events = case.events.select_related("author").order_by("created_at", "pk")
    return CaseSummary(
        reference=case.reference,
        patient_name=str(case.patient),
        date_of_birth=case.patient.date_of_birth,
        age=case.patient.age_on(timezone.localdate(case.submitted_at)),
        phone=case.patient.phone,
        email=case.patient.email,
        submitted_at=timezone.localtime(case.submitted_at),
        appointment_date=case.appointment_date,
        status=str(case.get_status_display()),
        assignee=_who(case.assigned_to) or _("nobody"),
        language=_language_name(case.language),
        tier=case.tier,
        tier_label=str(case.get_tier_display()),
        is_overdue=case.is_overdue,
        flags=flag_rows,
        other_reasons=[] if flags else reasons,
        pain_score=clinical_answer("pain_score", answers.get("pain_score")),
        symptom_onset=clinical_answer(
            "symptoms_started", answers.get("symptoms_started"), today=today
        ),
        weak_side=clinical_answer("weak_side", answers.get("weak_side")),
        sections=_sections(answers, flags, today),
        other_answers=[
            SummaryRow(code=code, label=code, answer=str(value), is_text=True)
            for code, value in answers.items()
            if code not in known
        ],
        answers_removed=not answers,
        related_conditions=_related_condition_titles(answers),
        timeline=[
            SummaryEvent(
                when=timezone.localtime(event.created_at),
                kind=str(event.get_kind_display()),
                who=_who(event.author)
                or (_("the patient") if event.kind == "submitted" else _("the system")),
                summary=event.summary,
                text=event.text,
            )
            for event in events
        ],
        generated_at=timezone.localtime(now),
        generated_by=_who(generated_by),
        **_course(case),
    )


def _course(case: Case) -> dict:
    """The case's chain for the summary: each case's key numbers, and what got worse (one query)."""
    from ..course import since_last_time
    from ..selectors import case_chain, previous_case

    if case.baseline_id is None and not case.follow_ups.exists():
        return {}
    chain = case_chain(case)
    worse, new = since_last_time(previous_case(chain, case), case)
    return {
        "course": [
            SummaryCoursePoint(
                kind=_("Baseline") if member.baseline_id is None else _("Follow-up"),
                reference=member.reference,
                when=timezone.localtime(member.submitted_at),
                tier_label=str(member.get_tier_display()),
                pain_score=clinical_answer("pain_score", member.answers.get("pain_score")),
                change=clinical_answer(
                    "change_since_last", member.answers.get("change_since_last")
                ),
                is_this_case=member.pk == case.pk,
            )
            for member in chain
        ],
        "worse_since_last_time": [str(change.words) for change in worse],
        "new_since_last_time": new,
    }
