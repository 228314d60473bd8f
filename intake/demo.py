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
