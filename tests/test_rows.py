"""clinic.rows: one row read or written with written-out SQL, exactly as the ORM would."""

import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.rows import read_one, write_fields
from intake.models import IntakeDraft
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

FIELDS = [field.attname for field in IntakeDraft._meta.concrete_fields]


def as_orm_reads(draft: IntakeDraft) -> dict:
    return {name: getattr(draft, name) for name in FIELDS}


def make_draft(**changes) -> IntakeDraft:
    values = {
        "token_hash": "a" * 64,
        "data": {"about": {"first_name": "Test Ñandú 名前", "note": 'quotes " and \\ slash'}},
        "answers": {"about": {"first_name": "Test"}, "legs": None, "pain": {"pain_score": 7}},
        "answers_checked_on": datetime.date(2026, 11, 26),
    }
    values.update(changes)
    return IntakeDraft.objects.create(**values)


def test_a_row_reads_as_the_orm_reads_it_every_type():
    case = CaseFactory()
    draft = make_draft(case=case)

    read = read_one(IntakeDraft, "token_hash = %s", ["a" * 64])

    assert type(read) is IntakeDraft
    assert as_orm_reads(read) == as_orm_reads(IntakeDraft.objects.get(pk=draft.pk))
    assert isinstance(read.submission_token, uuid.UUID)
    assert timezone.is_aware(read.updated_at)
    assert read.case_id == case.pk
    assert not read._state.adding and read._state.db == "default"


def test_nulls_and_missing_rows():
    draft = make_draft(answers_checked_on=None)
    read = read_one(IntakeDraft, "id = %s", [draft.pk])
    assert read.answers_checked_on is None and read.case_id is None
    assert read_one(IntakeDraft, "token_hash = %s", ["b" * 64]) is None


def test_fields_written_read_back_as_set_and_nothing_else_changes():
    draft = make_draft()
    untouched = make_draft(token_hash="c" * 64)
    case = CaseFactory()
    draft.data = {"legs": {"leg_gives_way": "yes"}, "about": {"phone": "555 0100"}}
    draft.answers_checked_on = None
    draft.case = case
    draft.updated_at = timezone.now() + datetime.timedelta(minutes=5)
    draft.token_hash = "not written"

    with CaptureQueriesContext(connection) as statements:
        changed = write_fields(draft, ["data", "answers_checked_on", "case", "updated_at"])

    assert changed == 1
    assert len(statements) == 1 and statements[0]["sql"].startswith("UPDATE")
    stored = IntakeDraft.objects.get(pk=draft.pk)
    assert stored.data == draft.data
    assert stored.answers_checked_on is None
    assert stored.case_id == case.pk
    assert stored.updated_at == draft.updated_at
    assert stored.token_hash == "a" * 64
    assert as_orm_reads(IntakeDraft.objects.get(pk=untouched.pk)) == as_orm_reads(untouched)


def test_writing_a_row_that_is_gone_changes_nothing():
    draft = make_draft()
    IntakeDraft.objects.filter(pk=draft.pk).delete()
    assert write_fields(draft, ["data"]) == 0


def orm_row(model, pk) -> dict:
    row = model.objects.filter(pk=pk).values().get()
    row.pop("id")
    return row


def test_a_row_inserted_is_the_row_save_would_insert():
    from clinic.rows import insert_row
    from intake.models import Case

    template = CaseFactory()
    ours = Case(
        patient=template.patient,
        reference="C-INSERTED",
        submission_token=uuid.uuid4(),
        details={"first_name": "Test Ñandú 名前", "note": 'quotes " and \\ slash'},
        answers={"pain_score": 7, "symptoms_started": "2026-01-10"},
        tier="urgent",
        priority=template.priority,
        flags=["bilateral_leg_pain"],
        symptoms_started=datetime.date(2026, 1, 10),
        consented_at=timezone.now(),
    )
    theirs = Case(**{f.attname: getattr(ours, f.attname) for f in Case._meta.concrete_fields})
    theirs.id, theirs.reference, theirs.submission_token = None, "C-SAVED", uuid.uuid4()

    with CaptureQueriesContext(connection) as statements:
        insert_row(ours)
    theirs.save(force_insert=True)

    assert len(statements) == 1 and statements[0]["sql"].startswith("INSERT")
    assert isinstance(ours.pk, int) and ours.pk != theirs.pk
    assert not ours._state.adding and ours._state.db == "default"
    mine, saved = orm_row(Case, ours.pk), orm_row(Case, theirs.pk)
    for row in (mine, saved):
        row.pop("reference"), row.pop("submission_token")
        row.pop("updated_at")  # auto_now: set by each insert, at its own moment
    assert mine == saved
    assert Case.objects.get(pk=ours.pk).updated_at is not None
    # Fields left to the database's default hold it, as after save().
    assert (ours.created_early, ours.escalation_count) == (theirs.created_early, 0)


def test_an_inserted_row_that_breaks_a_constraint_raises_and_stores_nothing():
    from django.db import IntegrityError, transaction

    from clinic.rows import insert_row
    from intake.models import Case

    taken = CaseFactory()
    twin = Case(
        patient=taken.patient,
        reference="C-TWIN",
        submission_token=taken.submission_token,
        consented_at=timezone.now(),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_row(twin)
    assert not Case.objects.filter(reference="C-TWIN").exists()


def test_a_row_already_stored_is_found_not_inserted_again():
    from clinic.rows import insert_row
    from intake.models import Patient

    def typed(first_name: str) -> Patient:
        return Patient(
            first_name=first_name,
            last_name="Example",
            date_of_birth=datetime.date(1958, 4, 2),
            phone="555 0100",
            last_name_key="example",
            phone_key="5550100",
        )

    unique = ("last_name_key", "date_of_birth", "phone_key")
    first, again = typed("First"), typed("Second")
    insert_row(first, unless_stored=unique)
    with CaptureQueriesContext(connection) as statements:
        insert_row(again, unless_stored=unique)
    assert len(statements) == 1
    assert again.pk == first.pk and not again._state.adding
    stored = Patient.objects.get()
    assert stored.first_name == "First"  # the stored record is not renamed
    other = typed("Other")
    other.phone_key = "5550101"
    insert_row(other, unless_stored=unique)
    assert other.pk != first.pk and Patient.objects.count() == 2


def test_a_model_someone_listens_to_is_saved_through_django_with_its_signals():
    from django.db.models.signals import post_save

    from clinic.rows import insert_row

    heard = []

    def listener(sender, instance, created, **kwargs):
        heard.append((instance.token_hash, created))

    post_save.connect(listener, sender=IntakeDraft)
    try:
        draft = IntakeDraft(token_hash="d" * 64, data={}, answers={})
        insert_row(draft)
    finally:
        post_save.disconnect(listener, sender=IntakeDraft)
    assert heard == [("d" * 64, True)]
    assert IntakeDraft.objects.get(pk=draft.pk).token_hash == "d" * 64
