"""Helpers that fill in the questionnaire over HTTP, as a browser would."""

import datetime

from django.urls import reverse
from django.utils import timezone

ABOUT = {
    "first_name": "Zoë",
    "last_name": "Ñandú-Example",
    "date_of_birth": "1958-04-02",
    "phone": "555 010 0199",
    "email": "",
    "appointment_date": "",
    "consent": "on",
}
LEGS = {
    "leg_gives_way": "no",
    "weak_side": "left",
    "weakness_onset": "weeks",
    "weakness_trend": "same",
    "symptoms_started": "2026-01-10",
    # "falls" is asked only when a leg has given way (or the patient is unsure).
    "foot_lift_difficulty": "no",
    "leg_lift_difficulty": "no",
    "balance_problems": "no",
}
PAIN = {
    "back_pain": "yes",
    "pain_pattern": "back_of_leg",
    "pain_both_legs": "no",
    "pain_score": "6",
    "leg_numbness": "yes",
    "feet_numbness": "no",
    "burning_pain": "no",
    "walking_pain": "no",
    "night_pain": "no",
}
WARNING_SIGNS = {
    "saddle_numbness": "no",
    "bladder_retention": "no",
    "bladder_sensation": "no",
    "bladder_stream": "no",
    "bladder_incontinence": "no",
    "bowel_incontinence": "no",
    "sexual_dysfunction": "no",
}
HEALTH = {
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
    "medications": "",
    "other_notes": "",
}
STEP_DATA = {
    "about": ABOUT,
    "legs": LEGS,
    "pain": PAIN,
    "warning-signs": WARNING_SIGNS,
    "health": HEALTH,
}
STEP_ORDER = list(STEP_DATA)


def step_url(slug: str) -> str:
    """A step's own address (``/intake/`` itself shows the first step, or resumes)."""
    return reverse("intake:step", kwargs={"step": slug})


def post_step(client, slug: str, changes: dict | None = None, **request_extra):
    """Post one step's answers; ``request_extra`` goes to the request (e.g. REMOTE_ADDR)."""
    data = {**STEP_DATA[slug], **(changes or {})}
    return client.post(step_url(slug), data, **request_extra)


def send_answers(client, **request_extra):
    """Press "Send my answers" on the check page."""
    return client.post(reverse("intake:check"), {"action": "send"}, **request_extra)


def fill_all(client, changes: dict | None = None, *, stop_before: str | None = None):
    """Post every step in order, then send from the check page (``stop_before="check"``: don't).

    ``changes`` may hold answers for any step. Returns the response to the
    last post.
    """
    changes = changes or {}
    response = None
    for slug in STEP_ORDER:
        if slug == stop_before:
            return response
        step_changes = {k: v for k, v in changes.items() if k in STEP_DATA[slug]}
        response = post_step(client, slug, step_changes)
        assert response.status_code == 302, (slug, response.content.decode()[:2000])
    if stop_before == "check":
        return response
    response = send_answers(client)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def days_from_today(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()
