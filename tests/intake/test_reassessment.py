"""Re-assessing stored cases when the rules change (SPEC "Rules versions").

Cases stored by rules version 1 are made here with the tier version 1 gave
them (written out, not computed), then ``case_reassess_all`` runs as the
deploy runs it.
"""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from intake import triage
from intake.models import Case, CaseEvent
from intake.services import case_correct_answer, case_reassess_all
from tests.factories import CaseFactory, PatientFactory

pytestmark = pytest.mark.django_db

#: Both legs weakening over weeks: version 1 said urgent (progressive_weakness);
#: version 2 says emergency (bilateral_weakness: GIRFT's progressive deficit).
BOTH_LEGS_WORSE = {"weak_side": "both", "weakness_onset": "weeks", "weakness_trend": "worse"}
#: Sexual problems alone: version 1 said emergency; version 2 says urgent (GIRFT).
SEXUAL_ONLY = {"sexual_dysfunction": "yes"}


def v1_case(changes, *, tier, flags, status="new", priority=None, **kwargs) -> Case:
    """A case as version 1 stored it: its tier and flags as that table gave them."""
    priorities = {"emergency": 30, "urgent": 40, "soon": 50, "routine": 60}
    return CaseFactory(
        changes=changes,
        tier=tier,
        flags=flags,
        reasons=["(version 1 reason)"],
        priority=priority or priorities[tier],
        rules_version=1,
        status=status,
        **kwargs,
    )


def reassessments(case: Case) -> list[CaseEvent]:
    return list(case.events.filter(kind=CaseEvent.Kind.REASSESSMENT))


def test_a_tier_that_rises_is_applied_at_once_with_a_timeline_entry_and_the_alert(
    django_capture_on_commit_callbacks,
):
    case = v1_case(BOTH_LEGS_WORSE, tier="urgent", flags=["progressive_weakness"])

    with django_capture_on_commit_callbacks(execute=True):
        counts = case_reassess_all()

    case.refresh_from_db()
    assert case.tier == "emergency"
    assert case.flags == ["bilateral_weakness", "progressive_weakness"]
    assert case.priority == triage.PRIORITY_EMERGENCY
    assert case.rules_version == 2
    [entry] = reassessments(case)
    assert "rules version 2" in entry.summary
    assert entry.before == {
        "tier": "urgent",
        "flags": ["progressive_weakness"],
        "rules_version": 1,
    }
    assert entry.after["tier"] == "emergency"
    assert entry.after["rules_version"] == 2
    # Now an emergency: the on-call team hears of it as of a new one.
    [alert] = mail.outbox
    assert case.reference in alert.subject
    assert "Both legs weak" in alert.body
    assert (counts.checked, counts.raised, counts.new_emergencies) == (1, 1, 1)


def test_a_tier_that_would_fall_is_kept_and_the_timeline_says_what_version_2_gives(
    django_capture_on_commit_callbacks,
):
    case = v1_case(SEXUAL_ONLY, tier="emergency", flags=["sexual"])

    with django_capture_on_commit_callbacks(execute=True):
        counts = case_reassess_all()

    case.refresh_from_db()
    assert case.tier == "emergency"  # a clinician decides, not the deploy
    assert case.flags == ["sexual"]
    assert case.rules_version == 2
    [entry] = reassessments(case)
    assert "would give urgent" in entry.summary
    assert "stays emergency" in entry.summary
    assert entry.after == {
        "tier": "urgent",
        "flags": ["sexual"],
        "rules_version": 2,
        "tier_kept": "emergency",
    }
    assert mail.outbox == []
    assert counts.kept_higher == 1


@pytest.mark.parametrize("status", ["closed", "sent_to_emergency"])
def test_cases_out_of_the_clinics_hands_keep_the_assessment_they_had(status):
    case = v1_case(BOTH_LEGS_WORSE, tier="urgent", flags=["progressive_weakness"], status=status)

    counts = case_reassess_all()

    case.refresh_from_db()
    assert (case.tier, case.flags, case.rules_version) == ("urgent", ["progressive_weakness"], 1)
    assert reassessments(case) == []
    assert counts.checked == 0


@pytest.mark.parametrize("status", ["new", "in_review", "contacted", "scheduled"])
def test_every_case_still_in_the_clinics_hands_is_reassessed(status):
    case = v1_case(BOTH_LEGS_WORSE, tier="urgent", flags=["progressive_weakness"], status=status)

    case_reassess_all()

    case.refresh_from_db()
    assert (case.tier, case.rules_version) == ("emergency", 2)


def test_running_it_again_changes_nothing(django_capture_on_commit_callbacks):
    raised = v1_case(BOTH_LEGS_WORSE, tier="urgent", flags=["progressive_weakness"])
    kept = v1_case(SEXUAL_ONLY, tier="emergency", flags=["sexual"])
    with django_capture_on_commit_callbacks(execute=True):
        case_reassess_all()
    events = CaseEvent.objects.count()
    rows = list(Case.objects.order_by("pk").values())

    with django_capture_on_commit_callbacks(execute=True):
        second = case_reassess_all()

    assert second.checked == 0
    assert CaseEvent.objects.count() == events
    assert list(Case.objects.order_by("pk").values()) == rows
    assert len(mail.outbox) == 1  # the first run's alert only
    assert {raised.pk, kept.pk} == set(Case.objects.values_list("pk", flat=True))


def test_a_case_with_no_change_gets_the_new_version_without_a_timeline_entry():
    case = v1_case({"saddle_numbness": "yes"}, tier="emergency", flags=["saddle_numbness"])
    case.priority = triage.PRIORITY_SADDLE_OR_BLADDER
    case.save()

    counts = case_reassess_all()

    case.refresh_from_db()
    assert (case.tier, case.flags, case.rules_version) == ("emergency", ["saddle_numbness"], 2)
    assert reassessments(case) == []
    assert counts.checked == 1 and counts.raised == 0


def test_the_age_on_the_day_sent_is_worked_out_for_cases_stored_without_it():
    """Fracture risk at 70 or over: the age comes from the date of birth and the day sent."""
    patient = PatientFactory(date_of_birth=datetime.date(1950, 6, 1))
    sent = datetime.datetime(2026, 6, 2, 9, 0, tzinfo=datetime.UTC)  # 76 that day
    case = v1_case(
        {"back_pain": "yes", "recent_trauma": "yes"},
        tier="routine",
        flags=[],
        patient=patient,
        submitted_at=sent,
    )
    assert "age" not in case.answers

    case_reassess_all()

    case.refresh_from_db()
    assert case.answers["age"] == 76
    assert (case.tier, case.flags) == ("urgent", ["fracture_risk"])


def test_batches_cover_every_case():
    cases = [
        v1_case(BOTH_LEGS_WORSE, tier="urgent", flags=["progressive_weakness"]) for _ in range(5)
    ]

    counts = case_reassess_all(batch_size=2)

    assert counts.checked == 5
    assert set(Case.objects.filter(rules_version=2).values_list("pk", flat=True)) == {
        case.pk for case in cases
    }


def test_a_staff_correction_assesses_with_the_current_rules_so_the_deploy_skips_it(superuser):
    case = v1_case(SEXUAL_ONLY, tier="emergency", flags=["sexual"])

    case_correct_answer(
        case=case, code="pain_score", value=5, by=superuser, reason="Patient said 5 on the phone."
    )

    case.refresh_from_db()
    assert (case.tier, case.rules_version) == ("urgent", 2)
    assert case_reassess_all().checked == 0


def test_the_deploy_command_reports_what_it_did():
    v1_case(BOTH_LEGS_WORSE, tier="urgent", flags=["progressive_weakness"])
    v1_case(SEXUAL_ONLY, tier="emergency", flags=["sexual"])
    out = StringIO()

    call_command("reassess_cases", stdout=out)

    text = out.getvalue()
    assert "2 case(s) re-assessed with rules version 2" in text
    assert "1 raised" in text
    assert "1 kept a tier the new rules would lower" in text
