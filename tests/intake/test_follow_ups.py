"""Follow-ups (issue 22): cases linked to their baseline, compared with the case before."""

import datetime

import pytest
from django.utils import timezone

from intake.models import Case
from intake.selectors import case_chain, previous_case, with_previous_answers
from intake.services import case_submit
from tests.factories import SUBMISSION_DETAILS, CaseFactory, complete_answers

pytestmark = pytest.mark.django_db

START = timezone.now() - datetime.timedelta(days=100)


def chain_of(count: int) -> list[Case]:
    """A baseline and ``count - 1`` follow-ups a week apart, the pain score rising."""
    baseline = CaseFactory(submitted_at=START, changes={"pain_score": 1})
    cases = [baseline]
    for week in range(1, count):
        cases.append(
            CaseFactory(
                patient=baseline.patient,
                baseline=baseline,
                submitted_at=START + datetime.timedelta(weeks=week),
                changes={"pain_score": min(week + 1, 10)},
            )
        )
    return cases


def test_a_follow_up_is_linked_to_the_chain_s_baseline():
    baseline = CaseFactory()
    first = case_submit(
        details=SUBMISSION_DETAILS,
        answers=complete_answers(),
        submission_token=CaseFactory.build().submission_token,
        follow_up_of=baseline,
    )
    second = case_submit(
        details=SUBMISSION_DETAILS,
        answers=complete_answers(weak_side="both"),
        submission_token=CaseFactory.build().submission_token,
        follow_up_of=first,
    )
    assert first.baseline == baseline and second.baseline == baseline
    assert baseline.baseline is None
    assert second.tier  # assessed by the current rules like any case


def test_the_chain_is_in_time_order_from_any_of_its_cases(django_assert_num_queries):
    cases = chain_of(4)
    CaseFactory()  # another patient's case is not in it
    with django_assert_num_queries(1):
        chain = case_chain(cases[2])
    assert [case.pk for case in chain] == [case.pk for case in cases]
    assert previous_case(chain, cases[2]) == cases[1]
    assert previous_case(chain, cases[0]) is None


def test_each_follow_up_in_a_list_carries_the_previous_answers_in_one_query(
    django_assert_num_queries,
):
    cases = chain_of(50)
    with django_assert_num_queries(1):
        listed = list(with_previous_answers(Case.objects.order_by("submitted_at")))
    assert listed[0].previous_answers is None and listed[0].previous_flags is None
    for before, case in zip(listed, listed[1:], strict=False):
        assert case.previous_answers == before.answers
        assert case.previous_flags == before.flags
    assert listed[5].previous_answers["pain_score"] == cases[4].answers["pain_score"]
