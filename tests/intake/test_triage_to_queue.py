"""Version-2 cases through the real questionnaire into the red-flag queue (SPEC order).

Each patient answers over HTTP, in English or Spanish, as a browser would; the
queue is then read as staff read it. The expected tiers and groups are
written out from the SPEC's version-2 table.
"""

import datetime
import re

import pytest
import time_machine
from django.test import Client

from intake.models import Case
from tests.intake.questionnaire import fill_all

pytestmark = pytest.mark.django_db

QUEUE_URL = "/admin/intake/redflagcase/"
START = datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC)

WEAK_BOTH = {"weak_side": "both", "weakness_onset": "weeks", "weakness_trend": "same"}
# (name, answers changed from a calm walk, expected tier, expected flags, queue group)
# Queue groups: 1 saddle and bladder, 2 one of them, 3 other emergency, 4 urgent, None absent.
SCENARIOS = [
    ("routine", {}, "routine", [], None),
    ("soon-balance", {"balance_problems": "yes"}, "soon", [], None),
    # Back pain that wakes them, at 68 (50 or over): possible cancer in the spine.
    ("urgent-night-pain-at-68", {"night_pain": "yes"}, "urgent", ["malignancy"], 4),
    ("urgent-foot-drop", {"foot_lift_difficulty": "yes"}, "urgent", ["foot_drop"], 4),
    ("urgent-sexual-only", {"sexual_dysfunction": "yes"}, "urgent", ["sexual"], 4),
    (
        "urgent-both-legs-pain",
        {"pain_both_legs": "yes"},
        "urgent",
        ["bilateral_leg_pain"],
        4,
    ),
    (
        "urgent-fracture-steroids",
        # The calm walk has a weak left leg, so the injury also counts as "trauma".
        {"recent_trauma": "yes", "steroid_use": "yes"},
        "urgent",
        ["fracture_risk", "trauma"],
        4,
    ),
    (
        "emergency-cancer-sciatica",
        {"cancer_history": "yes", "back_pain": "no", "leg_numbness": "yes"},
        "emergency",
        ["cancer_weakness"],
        3,
    ),
    (
        "emergency-both-legs-worse",
        {**WEAK_BOTH, "weakness_trend": "worse"},
        "emergency",
        ["bilateral_weakness", "progressive_weakness"],
        3,
    ),
    (
        "emergency-fever-weak-days",
        {"fever": "yes", "weak_side": "right", "weakness_onset": "days", "back_pain": "no"},
        "emergency",
        ["infection_weakness"],
        3,
    ),
    ("emergency-bladder", {"bladder_stream": "yes"}, "emergency", ["bladder"], 2),
    ("emergency-saddle", {"saddle_numbness": "yes"}, "emergency", ["saddle_numbness"], 2),
    (
        "emergency-saddle-bladder",
        {"saddle_numbness": "yes", "bladder_retention": "yes"},
        "emergency",
        ["saddle_numbness", "bladder"],
        1,
    ),
]


def submit_as_patient(changes: dict, *, language: str, at: datetime.datetime) -> Case:
    client = Client()
    client.cookies["django_language"] = language
    with time_machine.travel(at, tick=False):
        fill_all(client, changes)
    return Case.objects.get(submitted_at=at)


@pytest.mark.parametrize("language", ["en", "es"])
def test_version_2_cases_reach_the_queue_in_spec_order(superuser_client, language):
    submitted = []
    # Submitted in the listed order, a minute apart: the first waited longest.
    for minutes, (name, changes, tier, flags, group) in enumerate(SCENARIOS):
        case = submit_as_patient(
            changes, language=language, at=START + datetime.timedelta(minutes=minutes)
        )
        assert (case.tier, case.flags, case.rules_version) == (tier, flags, 2), name
        assert case.language == language
        assert case.answers["age"] == 68  # born 1958-04-02, sent in November 2026
        submitted.append((group, case.submitted_at, case.reference, name))

    with time_machine.travel(START + datetime.timedelta(hours=1), tick=False):
        html = superuser_client.get(QUEUE_URL).content.decode()

    in_queue = sorted(entry for entry in submitted if entry[0] is not None)
    expected = [reference for _group, _at, reference, _name in in_queue]
    shown = [ref for ref in re.findall(r"C-[A-Z0-9]{6,}", html) if ref in expected]
    assert list(dict.fromkeys(shown)) == expected
    for group, _at, reference, name in submitted:
        if group is None:
            assert reference not in html, name
