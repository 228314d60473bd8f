"""Case handling services: status moves, assignment, notes, corrections, and the timeline."""

import datetime

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from intake import triage
from intake.models import Case, CaseEvent, TimelineIsAppendOnly
from intake.services import (
    ALLOWED_TRANSITIONS,
    CaseError,
    StatusTransitionNotAllowed,
    case_add_note,
    case_assign,
    case_change_status,
    case_correct_answer,
)
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Case.Status
ALLOWED_MOVES = sorted(
    (from_status, to_status)
    for from_status, targets in ALLOWED_TRANSITIONS.items()
    for to_status in targets
)
REFUSED_MOVES = sorted(
    (from_status, to_status)
    for from_status in Status.values
    for to_status in Status.values
    if to_status not in ALLOWED_TRANSITIONS[from_status]
)
NOW = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.UTC)


def test_the_transition_map_covers_every_status():
    assert set(ALLOWED_TRANSITIONS) == set(Status.values)
    assert all(targets <= set(Status.values) for targets in ALLOWED_TRANSITIONS.values())
    # Both lists together are every ordered pair of statuses, so nothing is untested.
    assert len(ALLOWED_MOVES) + len(REFUSED_MOVES) == len(Status.values) ** 2


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED_MOVES)
def test_allowed_status_move_is_made_and_recorded(from_status, to_status):
    staff = UserFactory()
    case = CaseFactory(status=from_status)
    with time_machine.travel(NOW, tick=False):
        moved = case_change_status(case=case, to_status=to_status, by=staff, note="Phoned.")

    case.refresh_from_db()
    assert moved.status == case.status == to_status
    event = case.events.get(kind=CaseEvent.Kind.STATUS)
    assert event.author == staff
    assert event.created_at == NOW
    assert event.before == {"status": from_status}
    assert event.after == {"status": to_status}
    assert event.text == "Phoned."
    assert str(Status(from_status).label) in event.summary
    assert str(Status(to_status).label) in event.summary


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED_MOVES)
def test_refused_status_move_changes_nothing(from_status, to_status):
    case = CaseFactory(status=from_status)

    with pytest.raises(StatusTransitionNotAllowed):
        case_change_status(case=case, to_status=to_status, by=UserFactory())

    case.refresh_from_db()
    assert case.status == from_status
    assert not case.events.exists()


def test_an_unknown_status_is_refused():
    case = CaseFactory()
    with pytest.raises(StatusTransitionNotAllowed, match="nonsense"):
        case_change_status(case=case, to_status="nonsense", by=UserFactory())


def test_first_move_out_of_new_marks_the_case_reviewed():
    case = CaseFactory(changes={"saddle_numbness": "yes"})
    with time_machine.travel(NOW, tick=False):
        case_change_status(case=case, to_status=Status.IN_REVIEW, by=UserFactory())
    case.refresh_from_db()
    assert case.reviewed_at == NOW
    assert not case.is_overdue


def test_status_change_and_its_timeline_entry_are_one_transaction(monkeypatch):
    case = CaseFactory()

    def refuse_to_write(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(CaseEvent.objects, "create", refuse_to_write)
    with pytest.raises(DatabaseError):
        case_change_status(case=case, to_status=Status.IN_REVIEW, by=UserFactory())

    case.refresh_from_db()
    assert case.status == Status.NEW
    assert case.reviewed_at is None


def test_assign_to_staff_and_back_to_nobody_is_recorded():
    boss, nurse = UserFactory(username="boss1"), UserFactory(username="nurse1")
    case = CaseFactory()

    case_assign(case=case, assignee=nurse, by=boss)
    case_assign(case=case, assignee=None, by=boss)

    case.refresh_from_db()
    assert case.assigned_to is None
    first, second = case.events.filter(kind=CaseEvent.Kind.ASSIGNMENT)
    assert (first.before, first.after) == ({"assigned_to": None}, {"assigned_to": "nurse1"})
    assert (second.before, second.after) == ({"assigned_to": "nurse1"}, {"assigned_to": None})
    assert first.author == second.author == boss


def test_assigning_to_the_same_person_again_records_nothing():
    nurse = UserFactory()
    case = CaseFactory(assigned_to=nurse)
    case_assign(case=case, assignee=nurse, by=nurse)
    assert not case.events.exists()


def test_cases_are_only_assigned_to_staff():
    case = CaseFactory()
    with pytest.raises(CaseError):
        case_assign(case=case, assignee=UserFactory(is_staff=False), by=UserFactory())
    case.refresh_from_db()
    assert case.assigned_to is None


def test_note_is_added_with_author_and_text():
    staff = UserFactory()
    case = CaseFactory()
    event = case_add_note(case=case, text="  Called, no answer. Left a message.  ", by=staff)
    assert event.kind == CaseEvent.Kind.NOTE
    assert event.author == staff
    assert event.text == "Called, no answer. Left a message."


def test_an_empty_note_is_refused():
    case = CaseFactory()
    with pytest.raises(CaseError):
        case_add_note(case=case, text="   ", by=UserFactory())
    assert not case.events.exists()


def test_correcting_an_answer_reruns_triage_and_records_both_changes():
    staff = UserFactory()
    case = CaseFactory()
    assert case.tier == triage.ROUTINE

    case_correct_answer(
        case=case, code="saddle_numbness", value="yes", by=staff, reason="Told us on the phone."
    )

    case.refresh_from_db()
    assert case.answers["saddle_numbness"] == "yes"
    assert case.tier == triage.EMERGENCY
    assert case.flags == ["saddle_numbness"]
    assert case.priority == triage.PRIORITY_SADDLE_OR_BLADDER
    event = case.events.get(kind=CaseEvent.Kind.CORRECTION)
    assert event.author == staff
    assert event.text == "Told us on the phone."
    assert event.before == {"answer": {"saddle_numbness": "no"}, "tier": "routine", "flags": []}
    assert event.after == {
        "answer": {"saddle_numbness": "yes"},
        "tier": "emergency",
        "flags": ["saddle_numbness"],
    }


def test_correcting_the_start_date_updates_the_stored_date():
    case = CaseFactory(symptoms_started=datetime.date(2026, 1, 5))
    case_correct_answer(
        case=case,
        code="symptoms_started",
        value=datetime.date(2025, 12, 1),
        by=UserFactory(),
        reason="Patient checked a diary.",
    )
    case.refresh_from_db()
    assert case.symptoms_started == datetime.date(2025, 12, 1)
    assert case.answers["symptoms_started"] == "2025-12-01"


@pytest.mark.parametrize(
    ("value", "reason", "message"),
    [("no", "Checked.", "same"), ("yes", "   ", "why")],
)
def test_a_correction_without_change_or_reason_is_refused(value, reason, message):
    case = CaseFactory()
    with pytest.raises(CaseError, match=message):
        case_correct_answer(
            case=case, code="saddle_numbness", value=value, by=UserFactory(), reason=reason
        )
    case.refresh_from_db()
    assert case.answers["saddle_numbness"] == "no"
    assert not case.events.exists()


# The timeline is append-only ----------------------------------------------------


@pytest.fixture
def timeline_entry():
    case = CaseFactory()
    return case_add_note(case=case, text="First call.", by=UserFactory())


def test_an_existing_timeline_entry_cannot_be_saved_again(timeline_entry):
    timeline_entry.text = "Rewritten history."
    with pytest.raises(TimelineIsAppendOnly):
        timeline_entry.save()
    timeline_entry.refresh_from_db()
    assert timeline_entry.text == "First call."


def test_a_timeline_entry_cannot_be_deleted(timeline_entry):
    with pytest.raises(TimelineIsAppendOnly):
        timeline_entry.delete()
    assert CaseEvent.objects.filter(pk=timeline_entry.pk).exists()


def test_timeline_querysets_refuse_bulk_update_and_delete(timeline_entry):
    with pytest.raises(TimelineIsAppendOnly):
        CaseEvent.objects.filter(pk=timeline_entry.pk).update(text="Gone.")
    with pytest.raises(TimelineIsAppendOnly):
        CaseEvent.objects.all().delete()
    timeline_entry.refresh_from_db()
    assert timeline_entry.text == "First call."


def test_a_case_with_a_timeline_cannot_be_deleted(timeline_entry):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        timeline_entry.case.delete()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE intake_caseevent SET text = 'Rewritten' WHERE id = %s",
        "DELETE FROM intake_caseevent WHERE id = %s",
    ],
)
def test_postgresql_refuses_raw_changes_to_the_timeline(timeline_entry, sql):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [timeline_entry.pk])
    timeline_entry.refresh_from_db()
    assert timeline_entry.text == "First call."


def test_overdue_is_only_for_unreviewed_open_emergencies_after_the_limit(settings):
    settings.CLINIC_EMERGENCY_OVERDUE_MINUTES = 15
    submitted = timezone.now() - datetime.timedelta(minutes=16)
    emergency = CaseFactory(changes={"bladder_retention": "yes"}, submitted_at=submitted)
    urgent = CaseFactory(changes={"foot_lift_difficulty": "yes"}, submitted_at=submitted)
    recent = CaseFactory(changes={"bladder_retention": "yes"})
    reviewed = CaseFactory(
        changes={"bladder_retention": "yes"}, submitted_at=submitted, reviewed_at=timezone.now()
    )
    assert emergency.is_overdue
    assert not urgent.is_overdue
    assert not recent.is_overdue
    assert not reviewed.is_overdue
