"""Obviously fake demo data for `make run` (never real people)."""

import datetime
import uuid

# A complete set of symptom answers with nothing worrying in it.
CALM_ANSWERS: dict[str, object] = {
    "leg_gives_way": "no",
    "weak_side": "neither",
    "symptoms_started": None,  # filled in relative to today
    # "falls" is not asked when no leg has given way.
    "foot_lift_difficulty": "no",
    "leg_lift_difficulty": "no",
    "balance_problems": "no",
    "back_pain": "yes",
    "pain_pattern": "back_of_leg",
    "pain_both_legs": "no",
    "pain_score": 4,
    "leg_numbness": "no",
    "feet_numbness": "no",
    "burning_pain": "no",
    "walking_pain": "no",
    "night_pain": "no",
    "saddle_numbness": "no",
    "bladder_retention": "no",
    "bladder_sensation": "no",
    "bladder_stream": "no",
    "bladder_incontinence": "no",
    "bowel_incontinence": "no",
    "sexual_dysfunction": "no",
    "diabetes": "no",
    "cancer_history": "no",
    "weight_loss": "no",
    "fever": "no",
    "infection_risk": "no",
    "recent_trauma": "no",
    "steroid_use": "no",
    "osteoporosis": "no",
    "statin_use": "no",
    "recent_illness": "no",
}

# (first name, last name, days since symptoms began, minutes since submitted, changes)
# The optional extras per last name are in DEMO_EXTRAS.
DEMO_CASES = [
    ("Demo", "Saddle-Bladder", 1, 40, {"saddle_numbness": "yes", "bladder_retention": "yes"}),
    ("Demo", "Bladder-Only", 2, 5, {"bladder_sensation": "yes"}),
    (
        "Demo",
        "Both-Legs-Weak",
        1,
        20,
        {"weak_side": "both", "weakness_onset": "hours", "weakness_trend": "worse"},
    ),
    ("Demo", "Not-Sure", 10, 90, {"saddle_numbness": "unsure"}),
    (
        "Demo",
        "Cancer-Numb-Leg",
        6,
        25,
        {"cancer_history": "yes", "leg_numbness": "yes", "back_pain": "no"},
    ),
    (
        "Demo",
        "Foot-Drop",
        21,
        180,
        {
            "foot_lift_difficulty": "yes",
            "weak_side": "left",
            "weakness_onset": "weeks",
            "weakness_trend": "same",
        },
    ),
    ("Demo", "Gives-Way", 30, 300, {"leg_gives_way": "yes", "falls": "yes"}),
    ("Demo", "Routine", 60, 600, {"walking_pain": "yes"}),
]


def demo_answers(changes: dict[str, object], *, symptoms_days_ago: int, today: datetime.date):
    answers = {**CALM_ANSWERS, **changes}
    answers["symptoms_started"] = (today - datetime.timedelta(days=symptoms_days_ago)).isoformat()
    return answers


def demo_token(last_name: str) -> uuid.UUID:
    """A fixed submission token per demo case, so seeding twice adds nothing."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"clinic-intake-demo:{last_name}")


#: Per demo case (by last name): the language answered in, the appointment
#: (days from today) and minutes after submission when staff phoned the patient
#: (the case moved to "contacted"), so every queue column has something to show.
DEMO_EXTRAS: dict[str, dict[str, object]] = {
    "Bladder-Only": {"language": "es"},
    "Not-Sure": {"appointment_in_days": 3, "contacted_after_minutes": 30},
    "Cancer-Numb-Leg": {"language": "es", "appointment_in_days": 1},
    "Foot-Drop": {"appointment_in_days": 7, "contacted_after_minutes": 45},
}


def seed_demo_cases(*, staff, now: datetime.datetime) -> int:
    """Add the demo cases not there yet; returns how many were added.

    Every step is done through the services *at* its demo time (the clock is
    moved there while it is stored), in time order: so a case's submitted
    time, its timeline's "Submitted" entry and its alert all say the same
    time, and a phone call recorded later (the case moved to "contacted" by
    ``staff``) has the later time on the timeline and in the queue.
    """
    # Imported here: test factories read this module's answers, and only the
    # seeding needs the services and the clock.
    import time_machine
    from django.utils import timezone

    from .models import Case
    from .services import case_change_status, case_submit

    steps = []  # (when, order, what to do)
    for position, (first, last, days, minutes_ago, changes) in enumerate(DEMO_CASES):
        token = demo_token(last)
        if Case.objects.filter(submission_token=token).exists():
            continue
        extras = DEMO_EXTRAS.get(last, {})
        submitted = now - datetime.timedelta(minutes=minutes_ago)
        details: dict[str, object] = {
            "first_name": first,
            "last_name": last,
            "date_of_birth": datetime.date(1950 + position * 3, 1 + position, 1 + position),
            "phone": f"555-01{position:02d}",
            "email": f"{last.lower()}@example.com",
        }
        if "appointment_in_days" in extras:
            details["appointment_date"] = submitted.date() + datetime.timedelta(
                days=extras["appointment_in_days"]
            )

        def submit(details=details, changes=changes, days=days, token=token, extras=extras):
            answers = demo_answers(changes, symptoms_days_ago=days, today=timezone.localdate())
            case_submit(
                details=details,
                answers=answers,
                submission_token=token,
                language=extras.get("language", "en"),
            )

        steps.append((submitted, 0, submit))
        if "contacted_after_minutes" in extras:
            called = submitted + datetime.timedelta(minutes=extras["contacted_after_minutes"])

            def phone(token=token):
                case = Case.objects.get(submission_token=token)
                case_change_status(case=case, to_status=Case.Status.CONTACTED, by=staff)

            steps.append((min(called, now), 1, phone))
    for when, _order, step in sorted(steps, key=lambda row: row[:2]):
        with time_machine.travel(when, tick=False):
            step()
    return sum(1 for _when, order, _step in steps if order == 0)


# (first name, last name, date of birth, days from today, hour, language, email, mobile)
DEMO_APPOINTMENTS = [
    ("Demo", "Invited-Tomorrow", datetime.date(1958, 4, 2), 1, 9, "en", True, True),
    ("Demo", "Invitada-Manana", datetime.date(1962, 7, 14), 1, 11, "es", False, True),
    ("Demo", "Invited-Later", datetime.date(1971, 11, 30), 3, 15, "en", True, False),
]


def seed_demo_appointments(*, staff, now: datetime.datetime) -> list:
    """Add the demo appointments not there yet, each with its invitation (nothing is sent).

    Returns the invitations added, so the command can print a demo link.
    """
    from django.utils import timezone

    from .invitations import NewAppointment, appointment_create
    from .models import Appointment

    added = []
    today = timezone.localdate(now)
    for first, last, born, in_days, hour, language, email, mobile in DEMO_APPOINTMENTS:
        if Appointment.objects.filter(patient__last_name=last).exists():
            continue
        day = today + datetime.timedelta(days=in_days)
        starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))
        new = NewAppointment(
            first_name=first,
            last_name=last,
            date_of_birth=born,
            starts_at=starts,
            email=f"{last.lower()}@example.com" if email else "",
            mobile=f"555-02{len(added):02d}" if mobile else "",
            language=language,
            note="Demo appointment (fake person).",
        )
        added.append(appointment_create(new=new, by=staff))
    return added
