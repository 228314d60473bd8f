"""Seed a benchmark database with N realistic cases, fast (PostgreSQL COPY).

    .venv/bin/python -m bench.seed --cases 1000000 --database clinic_bench_1m

What it makes, all obviously fake (555 phone numbers, example.com emails):

* answer templates: random but plausible questionnaires, each triaged by the
  real ``intake.triage.assess`` (current rules version, stored on each case);
  a case takes a template for its tier and its patient's age band, so the
  stored tier, flags, reasons and priority are what triage really says. The
  age is stored with the answers as the service does (whole years on the day
  sent). Only answers triage never reads (start date of symptoms, pain score)
  vary per case, and a sample of cases is re-triaged at the end to prove it;
* the tier mix: about 2% emergency, 8% urgent, 90% soon or routine;
* the statuses: 94% closed, 1% with a visit booked, 5% open (new, in review,
  contacted); the cases still in the clinic's hands are the most recent ones,
  as in a clinic that works through its queue;
* patients: about one in five cases is a returning patient (same patient row);
* the timeline: every case has its "submitted" entry, handled cases their
  status changes, emergencies their alert entry;
* emergencies: the alert delivered by email two seconds after submission (its
  delivery, its one attempt and the case's alert state "sent"); an emergency
  moved on from "new" is acknowledged at its first review, as a status change
  does. Every case is a whole questionnaire sent at once (completed when
  submitted, not created early).

The database is created fresh (``migrate`` included in the time). Secondary
indexes and foreign keys are dropped during the load and rebuilt from their
own definitions afterwards (faster than maintaining them row by row), then
the tables are VACUUM ANALYZEd as a real, settled database would be.
"""

import argparse
import datetime
import json
import random
import time
import uuid

import psycopg

from . import common

FIRST_NAMES = [
    "Ada",
    "Alan",
    "Alice",
    "Amir",
    "Ana",
    "Anita",
    "Arjun",
    "Beatriz",
    "Ben",
    "Carlos",
    "Chen",
    "Chloe",
    "Daniel",
    "Dara",
    "Elena",
    "Emma",
    "Farah",
    "Felix",
    "Grace",
    "Hana",
    "Hugo",
    "Ines",
    "Isaac",
    "Jamal",
    "Jana",
    "Jonas",
    "Joy",
    "Karin",
    "Kofi",
    "Lars",
    "Laura",
    "Leila",
    "Liam",
    "Lucia",
    "Malik",
    "Maria",
    "Mei",
    "Mohammed",
    "Nadia",
    "Noah",
    "Nora",
    "Olga",
    "Omar",
    "Paul",
    "Priya",
    "Rafael",
    "Rosa",
    "Ruth",
    "Sara",
    "Sofia",
    "Tariq",
    "Teresa",
    "Tom",
    "Uma",
    "Victor",
    "Wei",
    "Yara",
    "Yusuf",
    "Zoë",
    "Ópal",
    "Łucja",
    "Søren",
]
LAST_NAMES = [
    "Abbott",
    "Adeyemi",
    "Alvarez",
    "Andersen",
    "Bauer",
    "Bianchi",
    "Brown",
    "Campbell",
    "Chen",
    "Costa",
    "Da-Silva",
    "Dubois",
    "Eriksson",
    "Evans",
    "Fischer",
    "Garcia",
    "Gonzalez",
    "Haddad",
    "Hansen",
    "Hughes",
    "Ibrahim",
    "Ivanova",
    "Jensen",
    "Johnson",
    "Kaur",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lee",
    "Lopez",
    "Martin",
    "Meyer",
    "Mensah",
    "Moreau",
    "Müller",
    "Nakamura",
    "Nguyen",
    "Novak",
    "O'Brien",
    "Okafor",
    "Olsen",
    "Patel",
    "Perez",
    "Popescu",
    "Quinn",
    "Rossi",
    "Sato",
    "Schmidt",
    "Singh",
    "Smith",
    "Svensson",
    "Tanaka",
    "Taylor",
    "Thomas",
    "Walker",
    "Wang",
    "Williams",
    "Wilson",
    "Yilmaz",
    "Zhang",
    "Ñandú",
    "Ørsted",
]
MEDICATIONS = ["", "", "", "", "ibuprofen", "paracetamol", "metformin", "atorvastatin", "insulin"]

STAFF_COUNT = 12
#: (tier, share of cases); soon/routine share the remaining 90%.
TIER_MIX = (("emergency", 0.02), ("urgent", 0.08), ("soon", 0.35), ("routine", 0.55))
#: Share of the newest cases that are still being handled (the rest are closed).
RECENT_SHARE = 0.10
#: The newest cases are this many open emergency or urgent ones, so the
#: red-flag queue's first page (25 rows) is full at every size and the
#: benchmarks compare the same page at 1,000 and 1,000,000 cases, not a page of
#: one row with a page of 25 (a 1,000-case database otherwise queues about 5).
QUEUE_FILL = 30
QUEUE_STATUSES = ("new", "in_review", "contacted")
OPEN_IN_RECENT = (
    ("new", 0.20),
    ("in_review", 0.15),
    ("contacted", 0.15),
    ("scheduled", 0.10),
    ("closed", 0.40),
)
STATUS_LABELS = {
    "new": "New",
    "in_review": "In review",
    "contacted": "Contacted",
    "scheduled": "Visit booked",
    "closed": "Closed",
}
#: The rules read the age only as "at least 50" and "at least 70"
#: (``triage.AgeAtLeast``): within one band a template gives the same tier and
#: flags at every age (``build_templates`` checks it), only a reason may name
#: the age. (youngest, oldest) of each band; the oldest the questionnaire
#: accepts is ``triage.MAX_AGE``.
AGE_BANDS = ((0, 49), (50, 69), (70, None))
RETURNING_PATIENT_SHARE = 0.2
TEMPLATES_PER_TIER = 150
SEED_LIMIT_SECONDS = 300  # the target: 1,000,000 cases in under 5 minutes

CASE_COLUMNS = [
    "id",
    "reference",
    "submission_token",
    "answers",
    "language",
    "appointment_date",
    "symptoms_started",
    "consented_at",
    "tier",
    "flags",
    "reasons",
    "priority",
    "rules_version",
    "status",
    "submitted_at",
    "reviewed_at",
    "updated_at",
    "assigned_to_id",
    "patient_id",
    "acknowledged_at",
    "acknowledged_by_id",
    "completed_at",
    "alert_state",
    "alert_state_at",
    "details",
]
DELIVERY_COLUMNS = [
    "id",
    "case_id",
    "channel",
    "kind",
    "escalation_number",
    "recipients",
    "state",
    "attempts",
    "created_at",
    "next_attempt_at",
    "sent_at",
    "last_error",
]
ATTEMPT_COLUMNS = ["id", "delivery_id", "at", "outcome", "error_type"]
ALERT_TABLES = ("intake_alertdelivery", "intake_alertattempt")
ALERT_RECIPIENTS = json.dumps(["clinic-on-call@example.com"])
PATIENT_COLUMNS = [
    "id",
    "first_name",
    "last_name",
    "date_of_birth",
    "phone",
    "email",
    "last_name_key",
    "phone_key",
    "created_at",
]
EVENT_COLUMNS = [
    "id",
    "kind",
    "created_at",
    "summary",
    "text",
    "before",
    "after",
    "author_id",
    "case_id",
    "chain_hash",
]
TABLES = ("intake_patient", "intake_case", "intake_caseevent")
# Answers triage never reads: these are varied per case, the rest come from a
# template (and the age, from the patient's date of birth and the day sent).
PER_CASE_CODES = ("symptoms_started", "pain_score", "medications")


# Answer templates, triaged by the real triage ---------------------------------------


def random_answers(rng: random.Random) -> dict[str, object]:
    """One plausible questionnaire (symptom part), as the forms would store it."""

    def yes(p: float) -> str:
        return "yes" if rng.random() < p else "no"

    def ces(p_yes: float, p_unsure: float) -> str:
        roll = rng.random()
        return "yes" if roll < p_yes else ("unsure" if roll < p_yes + p_unsure else "no")

    side = rng.choices(["neither", "left", "right", "both"], [40, 25, 25, 10])[0]
    gives_way = rng.choices(["yes", "no", "unsure"], [25, 65, 10])[0]
    answers: dict[str, object] = {
        "leg_gives_way": gives_way,
        "weak_side": side,
        "foot_lift_difficulty": yes(0.06),
        "leg_lift_difficulty": yes(0.15),
        "balance_problems": yes(0.2),
        "back_pain": yes(0.75),
        "pain_pattern": rng.choice(["back_of_leg", "front_of_thigh", "buttock", "none", "other"]),
        "pain_both_legs": yes(0.15),
        "leg_numbness": yes(0.4),
        "feet_numbness": yes(0.1),
        "burning_pain": yes(0.3),
        "walking_pain": yes(0.25),
        "night_pain": yes(0.2),
        "saddle_numbness": ces(0.02, 0.02),
        "bladder_retention": ces(0.01, 0.01),
        "bladder_sensation": ces(0.01, 0.01),
        "bladder_stream": ces(0.01, 0.01),
        "bladder_incontinence": ces(0.01, 0.01),
        "bowel_incontinence": ces(0.01, 0.01),
        "sexual_dysfunction": ces(0.01, 0.03),
        "diabetes": rng.choices(["yes", "no", "unsure"], [12, 85, 3])[0],
        "cancer_history": yes(0.04),
        "weight_loss": yes(0.04),
        "fever": yes(0.03),
        "infection_risk": yes(0.03),
        "recent_trauma": yes(0.08),
        "steroid_use": yes(0.03),
        "osteoporosis": ces(0.06, 0.04),
        "statin_use": yes(0.2),
        "recent_illness": yes(0.1),
    }
    # Asked only for some answers, as in the questionnaire (forms.CONDITIONAL_QUESTIONS).
    if gives_way != "no":
        answers["falls"] = yes(0.3)
    if side != "neither":
        answers["weakness_onset"] = rng.choices(["hours", "days", "weeks"], [5, 20, 75])[0]
        answers["weakness_trend"] = rng.choices(["worse", "same", "better"], [10, 70, 20])[0]
    return answers


def build_templates(rng: random.Random) -> list[dict[str, list[dict]]]:
    """Triaged answer templates: for each age band, ``TEMPLATES_PER_TIER`` for each tier."""
    from intake import triage
    from intake.services import answers_for_triage

    bands = []
    for youngest, oldest in AGE_BANDS:
        oldest = oldest or triage.MAX_AGE
        buckets: dict[str, list[dict]] = {tier: [] for tier, _share in TIER_MIX}
        tries = 0
        while any(len(bucket) < TEMPLATES_PER_TIER for bucket in buckets.values()):
            tries += 1
            if tries > 2_000_000:
                raise SystemExit("Could not make answer templates for every tier.")
            answers = random_answers(rng)
            assessment = triage.assess(answers_for_triage({**answers, "age": youngest}))
            bucket = buckets[assessment.tier]
            if len(bucket) >= TEMPLATES_PER_TIER:
                continue
            at_oldest = triage.assess(answers_for_triage({**answers, "age": oldest}))
            if (at_oldest.tier, at_oldest.flags, at_oldest.priority) != (
                assessment.tier,
                assessment.flags,
                assessment.priority,
            ):
                raise SystemExit(
                    f"The rules now read the age between {youngest} and {oldest}: "
                    "update AGE_BANDS in bench/seed.py."
                )
            tail = json.dumps(answers, ensure_ascii=False)[1:]  # without the opening brace
            bucket.append(
                {
                    "answers": answers,
                    "answers_tail": tail,
                    "tier": assessment.tier,
                    "flags": json.dumps(list(assessment.flags)),
                    "reasons": json.dumps(list(assessment.reasons), ensure_ascii=False),
                    # A reason may name the age ("night pain at age 63"): such a
                    # template's reasons are worked out for each age it meets.
                    "reasons_by_age": {} if at_oldest.reasons != assessment.reasons else None,
                    "priority": assessment.priority,
                    "rules_version": assessment.rules_version,
                    "submitted_after": json.dumps(
                        {"tier": assessment.tier, "flags": list(assessment.flags)}
                    ),
                    "is_emergency": assessment.is_emergency,
                }
            )
        bands.append(buckets)
    return bands


def template_reasons(template: dict, age: int) -> str:
    """The template's reasons (JSON) for a patient of ``age``."""
    by_age = template["reasons_by_age"]
    if by_age is None:
        return template["reasons"]
    if age not in by_age:
        from intake import triage
        from intake.services import answers_for_triage

        assessment = triage.assess(answers_for_triage({**template["answers"], "age": age}))
        by_age[age] = json.dumps(list(assessment.reasons), ensure_ascii=False)
    return by_age[age]


def age_band(age: int) -> int:
    return next(
        index for index, (_young, oldest) in enumerate(AGE_BANDS) if oldest is None or age <= oldest
    )


def case_answers_json(
    template: dict, started: datetime.date, pain: int, medications: str, age: int
) -> str:
    return (
        f'{{"symptoms_started": "{started.isoformat()}", "pain_score": {pain}, '
        + (f'"medications": {json.dumps(medications)}, ' if medications else "")
        + f'"age": {age}, '
        + template["answers_tail"]
    )


# Loading -----------------------------------------------------------------------------


def drop_secondary_indexes(conn: psycopg.Connection) -> list[str]:
    """Drop foreign keys, unique constraints and indexes of the seeded tables.

    Returns the statements that recreate them from their own definitions.
    Primary keys stay (ids arrive in order), and so do partial indexes: they
    hold few rows, and keeping them keeps their predicates exactly as the
    migration wrote them.
    """
    recreate_indexes, recreate_unique, recreate_fks, drops = [], [], [], []
    for table in TABLES:
        constraints = conn.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f')",
            [table],
        ).fetchall()
        for name, kind, definition in constraints:
            drops.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            statement = f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
            (recreate_fks if kind == "f" else recreate_unique).append(statement)
        indexes = conn.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = %s::regclass AND NOT indisprimary AND indpred IS NULL "
            "AND indexrelid NOT IN "
            "(SELECT conindid FROM pg_constraint WHERE conrelid = %s::regclass)",
            [table, table],
        ).fetchall()
        for name, definition in indexes:
            drops.append(f"DROP INDEX {name}")
            recreate_indexes.append(definition)
    # Foreign keys first: a unique constraint cannot go while a key refers to it.
    drops.sort(key=lambda statement: "DROP CONSTRAINT" not in statement)
    for statement in drops:
        conn.execute(statement)
    return recreate_indexes + recreate_unique + recreate_fks


def create_staff(database: str) -> list[int]:
    """Staff users who are assigned cases and write timeline entries."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    ids = []
    for number in range(STAFF_COUNT):
        user, _ = user_model.objects.get_or_create(
            username=f"bench-staff-{number:02d}",
            defaults={
                "is_staff": True,
                "first_name": FIRST_NAMES[number],
                "last_name": "Staff",
                "email": f"bench-staff-{number:02d}@example.com",
            },
        )
        ids.append(user.pk)
    return ids


class TimelineWriter:
    """Timeline rows by COPY, each chained to the one before as the services chain them.

    ``intake.CaseEvent`` rows carry ``chain_hash`` (clinic/append_only.py), so
    ``manage.py verify_audit_chain`` passes on a seeded database too.
    """

    def __init__(self, copy):
        from intake.models import CaseEvent

        self.copy = copy
        self.model = CaseEvent
        self.previous = ""
        self.last_id = 0

    def write(self, *, kind, created_at, summary, before, after, author_id, case_id):
        from clinic.append_only import chain_hash

        self.last_id += 1
        row = self.model(
            id=self.last_id,
            kind=kind,
            created_at=created_at,
            summary=summary,
            text="",
            before=before,
            after=after,
            author_id=author_id,
            case_id=case_id,
        )
        self.previous = chain_hash(self.previous, row, self.model.chain_fields)
        self.copy.write_row(
            (
                self.last_id,
                kind,
                created_at,
                summary,
                "",
                None if before is None else json.dumps(before),
                None if after is None else json.dumps(after),
                author_id,
                case_id,
                self.previous,
            )
        )


def seed(database: str, cases: int, seed_value: int) -> dict[str, float]:
    from django.utils import timezone

    from intake.models import age_in_years
    from intake.services import REFERENCE_ALPHABET, REFERENCE_LENGTH

    rng = random.Random(seed_value)  # noqa: S311 - fake data, repeatable on purpose
    timings: dict[str, float] = {}
    started = time.perf_counter()

    staff_ids = create_staff(database)
    bands = build_templates(rng)
    tier_names = [tier for tier, _share in TIER_MIX]
    tier_weights = [share for _tier, share in TIER_MIX]
    timings["templates"] = time.perf_counter() - started

    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    span_days = max(30, cases / 500)  # a network of clinics: ~500 questionnaires a day
    span_seconds = span_days * 86400
    # Submission times, oldest first, so ids follow time as they would.
    offsets = sorted((rng.random() * span_seconds for _ in range(cases)), reverse=True)

    # Which patient each case belongs to: a new one, or a returning one.
    patient_of_case: list[int] = []
    patient_first_seen: list[datetime.datetime] = []
    patient_born: list[datetime.date] = [datetime.date.min]  # by patient id (from 1)
    for offset in offsets:
        if patient_first_seen and rng.random() < RETURNING_PATIENT_SHARE:
            patient_of_case.append(rng.randrange(len(patient_first_seen)) + 1)
        else:
            patient_first_seen.append(now - datetime.timedelta(seconds=offset))
            patient_of_case.append(len(patient_first_seen))

    with psycopg.connect(common.database_url(database)) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        recreate = drop_secondary_indexes(conn)
        conn.commit()
        load_started = time.perf_counter()

        with conn.cursor() as cursor:
            columns = ", ".join(PATIENT_COLUMNS)
            with cursor.copy(f"COPY intake_patient ({columns}) FROM STDIN") as copy:
                for patient_id, first_seen in enumerate(patient_first_seen, start=1):
                    first = rng.choice(FIRST_NAMES)
                    last = rng.choice(LAST_NAMES)
                    if rng.random() < 0.15:
                        last = f"{last}-{rng.choice(LAST_NAMES)}"
                    born = datetime.date(1930, 1, 1) + datetime.timedelta(
                        days=rng.randrange(75 * 365)
                    )
                    patient_born.append(born)
                    phone = f"(555) {patient_id // 10000:03d}-{patient_id % 10000:04d}"
                    email = f"patient{patient_id}@example.com" if rng.random() < 0.5 else ""
                    copy.write_row(
                        (
                            patient_id,
                            first,
                            last,
                            born,
                            phone,
                            email,
                            " ".join(last.split()).casefold(),
                            "".join(ch for ch in phone if ch.isdigit()),
                            first_seen,
                        )
                    )
        timings["patients"] = time.perf_counter() - load_started

        cases_started = time.perf_counter()
        references: set[str] = set()
        alerts: list[tuple[int, datetime.datetime, datetime.datetime]] = []
        with (
            psycopg.connect(common.database_url(database)) as events_conn,
            conn.cursor() as cursor,
            events_conn.cursor() as events_cursor,
        ):
            events_conn.execute("SET synchronous_commit = off")
            case_columns = ", ".join(CASE_COLUMNS)
            event_columns = ", ".join(EVENT_COLUMNS)
            with (
                cursor.copy(f"COPY intake_case ({case_columns}) FROM STDIN") as copy,
                events_cursor.copy(f"COPY intake_caseevent ({event_columns}) FROM STDIN") as events,
            ):
                timeline = TimelineWriter(events)
                recent_from = int(cases * (1 - RECENT_SHARE))
                zone = timezone.get_default_timezone()
                statuses = [status for status, _share in OPEN_IN_RECENT]
                status_weights = [share for _status, share in OPEN_IN_RECENT]
                for index, offset in enumerate(offsets):
                    case_id = index + 1
                    submitted = now - datetime.timedelta(seconds=offset)
                    # The age on the day sent, as the service stores it with the answers.
                    age = age_in_years(
                        patient_born[patient_of_case[index]], submitted.astimezone(zone).date()
                    )
                    buckets = bands[age_band(age)]
                    fills_queue = index >= cases - QUEUE_FILL
                    if fills_queue:
                        tier = rng.choices(("emergency", "urgent"), (1, 4))[0]
                    else:
                        tier = rng.choices(tier_names, tier_weights)[0]
                    template = rng.choice(buckets[tier])
                    while True:
                        reference = "C-" + "".join(
                            rng.choices(REFERENCE_ALPHABET, k=REFERENCE_LENGTH)
                        )
                        if reference not in references:
                            references.add(reference)
                            break
                    if fills_queue:
                        status = rng.choice(QUEUE_STATUSES)
                    elif index >= recent_from:
                        status = rng.choices(statuses, status_weights)[0]
                    else:
                        status = "closed"
                    # Emergencies are picked up within minutes, the rest within days.
                    delay = datetime.timedelta(
                        minutes=rng.randrange(2, 14)
                        if template["is_emergency"]
                        else rng.randrange(30, 3 * 24 * 60)
                    )
                    reviewed = submitted + delay if status != "new" else None
                    if reviewed is not None and reviewed > now:
                        reviewed = now
                    assignee = rng.choice(staff_ids) if status != "new" else None
                    # Moving an emergency on from "new" acknowledges it (case_change_status).
                    acknowledged = reviewed is not None and template["is_emergency"]
                    # The emergency alert, delivered by email two seconds later.
                    alerted = (
                        submitted + datetime.timedelta(seconds=2)
                        if template["is_emergency"]
                        else None
                    )
                    if alerted:
                        alerts.append((case_id, submitted, alerted))
                    symptoms_started = submitted.date() - datetime.timedelta(
                        days=rng.randrange(0, 120)
                    )
                    appointment = (
                        submitted.date() + datetime.timedelta(days=rng.randrange(1, 30))
                        if rng.random() < 0.4
                        else None
                    )
                    updated = reviewed or submitted
                    if status == "closed":
                        updated = min(updated + datetime.timedelta(days=rng.randrange(1, 20)), now)
                    copy.write_row(
                        (
                            case_id,
                            reference,
                            uuid.UUID(int=rng.getrandbits(128), version=4),
                            case_answers_json(
                                template,
                                symptoms_started,
                                rng.randrange(0, 11),
                                rng.choice(MEDICATIONS),
                                age,
                            ),
                            "en",
                            appointment,
                            symptoms_started,
                            submitted,
                            template["tier"],
                            template["flags"],
                            template_reasons(template, age),
                            template["priority"],
                            template["rules_version"],
                            status,
                            submitted,
                            reviewed,
                            updated,
                            assignee,
                            patient_of_case[index],
                            reviewed if acknowledged else None,
                            assignee if acknowledged else None,
                            submitted,  # the whole questionnaire, sent at once
                            "sent" if alerted else "",
                            alerted,
                            "{}",  # details as typed: the same as stored for the fake patients
                        )
                    )
                    # The timeline, as the services would have written it.
                    timeline.write(
                        kind="submitted",
                        created_at=submitted,
                        summary=(
                            f"Questionnaire submitted by the patient; triage: {template['tier']}."
                        ),
                        before=None,
                        after=json.loads(template["submitted_after"]),
                        author_id=None,
                        case_id=case_id,
                    )
                    if template["is_emergency"]:
                        timeline.write(
                            kind="alert",
                            created_at=alerted,
                            summary="Alert email sent to 1 address(es).",
                            before=None,
                            after=None,
                            author_id=None,
                            case_id=case_id,
                        )
                    if status == "new":
                        continue
                    steps = ["new", "in_review"] + ([status] if status != "in_review" else [])
                    when = reviewed
                    for before, after in zip(steps, steps[1:], strict=False):
                        timeline.write(
                            kind="status",
                            created_at=when,
                            summary=f"Status: {STATUS_LABELS[before]} → {STATUS_LABELS[after]}.",
                            before={"status": before},
                            after={"status": after},
                            author_id=assignee,
                            case_id=case_id,
                        )
                        when = min(when + datetime.timedelta(hours=rng.randrange(1, 48)), now)
            events_conn.commit()
        events_written = timeline.last_id
        conn.commit()
        with conn.cursor() as cursor:
            columns = ", ".join(DELIVERY_COLUMNS)
            with cursor.copy(f"COPY intake_alertdelivery ({columns}) FROM STDIN") as copy:
                for delivery_id, (case_id, submitted, alerted) in enumerate(alerts, start=1):
                    copy.write_row(
                        (delivery_id, case_id, "email", "alert", 0, ALERT_RECIPIENTS, "sent")
                        + (1, submitted, submitted, alerted, "")
                    )
            columns = ", ".join(ATTEMPT_COLUMNS)
            with cursor.copy(f"COPY intake_alertattempt ({columns}) FROM STDIN") as copy:
                for delivery_id, (_case_id, _submitted, alerted) in enumerate(alerts, start=1):
                    copy.write_row((delivery_id, delivery_id, alerted, "sent", ""))
        conn.commit()
        timings["cases_and_events"] = time.perf_counter() - cases_started

        rebuild_started = time.perf_counter()
        for statement in recreate:
            conn.execute(statement)
        for table in TABLES + ALERT_TABLES:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - constant names
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        conn.commit()
        timings["indexes"] = time.perf_counter() - rebuild_started

        vacuum_started = time.perf_counter()
        conn.autocommit = True
        for table in TABLES + ALERT_TABLES:
            conn.execute(f"VACUUM (ANALYZE) {table}")
        timings["vacuum_analyze"] = time.perf_counter() - vacuum_started
    timings["events"] = events_written
    timings["patients_count"] = len(patient_first_seen)
    return timings


def check_triage_sample(sample: int = 2000) -> int:
    """Re-triage a random sample of stored cases with the real triage; return mismatches."""
    from intake import triage
    from intake.models import Case
    from intake.services import answers_for_triage

    mismatches = 0
    rows = Case.objects.order_by("?").values_list(
        "answers", "tier", "flags", "reasons", "priority", "rules_version"
    )
    for answers, *stored in rows[:sample]:
        assessment = triage.assess(answers_for_triage(answers))
        if [
            assessment.tier,
            list(assessment.flags),
            list(assessment.reasons),
            assessment.priority,
            assessment.rules_version,
        ] != stored:
            mismatches += 1
    return mismatches


def describe(database: str) -> None:
    with psycopg.connect(common.database_url(database)) as conn:
        total = conn.execute("SELECT count(*) FROM intake_case").fetchone()[0]
        print(f"cases: {total:,}")
        for label, column in (("tier", "tier"), ("status", "status")):
            rows = conn.execute(
                f"SELECT {column}, count(*) FROM intake_case GROUP BY 1 ORDER BY 2 DESC"  # noqa: S608
            ).fetchall()
            mix = ", ".join(f"{value} {count / total:.1%}" for value, count in rows)
            print(f"{label} mix: {mix}")
        queue = conn.execute(
            "SELECT count(*) FROM intake_case WHERE status IN ('new', 'in_review', 'contacted') "
            "AND tier IN ('emergency', 'urgent')"
        ).fetchone()[0]
        patients = conn.execute("SELECT count(*) FROM intake_patient").fetchone()[0]
        events = conn.execute("SELECT count(*) FROM intake_caseevent").fetchone()[0]
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(
            f"red-flag queue: {queue:,} cases; patients: {patients:,}; "
            f"timeline entries: {events:,}; database size: {size.fetchone()[0]}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database", default=None, help="default clinic_bench_<cases>")
    parser.add_argument("--seed", type=int, default=20260302, help="random seed (repeatable)")
    args = parser.parse_args(argv)
    database = common.bench_database_name(args.database or f"{common.BENCH_PREFIX}_{args.cases}")

    common.heading(f"Seeding {args.cases:,} cases into {database}")
    print(common.machine_description())
    print(common.python_speed())
    total_started = time.perf_counter()
    common.create_database(database)
    common.migrate(database)
    migrated = time.perf_counter() - total_started
    common.use_environment(common.development_env(database))
    timings = seed(database, args.cases, args.seed)
    total = time.perf_counter() - total_started
    print(
        f"create + migrate {migrated:.1f} s; templates {timings['templates']:.1f} s; "
        f"COPY patients {timings['patients']:.1f} s; "
        f"COPY cases + timeline {timings['cases_and_events']:.1f} s; "
        f"indexes + keys {timings['indexes']:.1f} s; "
        f"VACUUM ANALYZE {timings['vacuum_analyze']:.1f} s"
    )
    print(
        f"SEED {args.cases:,} cases, {int(timings['patients_count']):,} patients, "
        f"{int(timings['events']):,} timeline entries in {total:.1f} s "
        f"({args.cases / total:,.0f} cases/s, whole run including migrate)"
    )
    describe(database)
    mismatches = check_triage_sample()
    print(f"re-triaged 2,000 random stored cases with intake.triage.assess: {mismatches} differ")
    common.heading("Targets")
    # The target is for a million cases; smaller runs are dominated by `migrate`.
    fast = total < SEED_LIMIT_SECONDS or args.cases < 1_000_000
    print(
        f"{'PASS' if fast else 'FAIL'}  {args.cases:,} cases in {total:.0f} s "
        f"(target: 1,000,000 in under {SEED_LIMIT_SECONDS // 60} minutes)"
    )
    print(f"{'PASS' if not mismatches else 'FAIL'}  stored triage is what triage.assess says")
    if mismatches or not fast:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
