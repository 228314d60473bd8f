"""Symptom answers -> the library pages a patient is pointed to."""

import pytest

from conditions.codes import ANSWER_CODES
from conditions.models import Condition, ConditionGroup
from conditions.selectors import (
    MAX_SUGGESTED_CONDITIONS,
    condition_match_count,
    conditions_for_answers,
    listed_conditions,
    listed_conditions_now,
    published_conditions_by_group,
)
from tests.conditions.factories import ConditionFactory

pytestmark = pytest.mark.django_db

CES_QUESTIONS = (
    "saddle_numbness",
    "bladder_retention",
    "bladder_sensation",
    "bladder_stream",
    "bladder_incontinence",
    "bowel_incontinence",
)


def calm_answers(**changes) -> dict:
    """Every question answered in the calmest way, then the given changes."""
    answers = {
        code: ("no" if "no" in values else values[-1]) for code, values in ANSWER_CODES.items()
    }
    answers.update(weak_side="neither", pain_pattern="none", pain_score=2)
    answers.update(changes)
    return answers


def slugs(answers) -> list[str]:
    return [c.slug for c in conditions_for_answers(answers)]


def test_back_of_leg_pain_and_numbness_links_sciatica_and_disc_herniation_first():
    result = slugs(calm_answers(pain_pattern="back_of_leg", leg_numbness="yes"))
    assert result[:2] == ["lumbar-radiculopathy-sciatica", "lumbar-disc-herniation"]
    assert "cauda-equina-syndrome" not in result


def test_the_same_with_only_those_two_questions_answered():
    result = slugs({"pain_pattern": "back_of_leg", "leg_numbness": "yes"})
    assert {"lumbar-radiculopathy-sciatica", "lumbar-disc-herniation"} <= set(result)


@pytest.mark.parametrize("code", CES_QUESTIONS)
@pytest.mark.parametrize("answer", ["yes", "unsure"])
def test_any_cauda_equina_sign_or_unsure_answer_links_cauda_equina_first(code, answer):
    result = slugs(calm_answers(**{code: answer}))
    assert result[0] == "cauda-equina-syndrome"


def test_saddle_numbness_links_cauda_equina():
    assert "cauda-equina-syndrome" in slugs({"saddle_numbness": "yes"})


def test_prefer_not_to_say_about_sex_alone_does_not_raise_the_emergency_page():
    # sexual_dysfunction stores "unsure" for "prefer not to say" (SPEC), which is no sign.
    assert "cauda-equina-syndrome" not in slugs(calm_answers(sexual_dysfunction="unsure"))
    assert "cauda-equina-syndrome" in slugs(calm_answers(sexual_dysfunction="yes"))


def test_no_answers_or_all_calm_answers_link_nothing():
    assert conditions_for_answers({}) == []
    assert conditions_for_answers(calm_answers()) == []


def test_back_pain_alone_does_not_pull_in_the_whole_library():
    result = slugs(calm_answers(back_pain="yes"))
    assert 0 < len(result) <= 2
    assert "cauda-equina-syndrome" not in result
    assert "lumbar-disc-herniation" not in result


def test_walking_pain_links_spinal_stenosis_first():
    assert slugs(calm_answers(walking_pain="yes"))[0] == "spinal-stenosis"


def test_burning_feet_with_diabetes_links_diabetic_neuropathy_first():
    result = slugs(calm_answers(diabetes="yes", feet_numbness="yes", burning_pain="yes"))
    assert result[0] == "diabetic-neuropathy"


def test_statins_with_weak_legs_link_muscle_weakness_from_other_causes():
    assert "muscle-weakness-other-causes" in slugs(calm_answers(statin_use="yes", weak_side="left"))


def test_statins_or_an_illness_without_any_weakness_link_no_weakness_page():
    assert slugs(calm_answers(statin_use="yes", recent_illness="yes", fever="yes")) == []


def test_cancer_history_links_spinal_tumour():
    assert "spinal-tumour" in slugs(calm_answers(cancer_history="yes"))


def test_buttock_pain_links_sacroiliac_joint():
    assert slugs(calm_answers(pain_pattern="buttock"))[0] == "sacroiliac-joint-dysfunction"


def test_recent_injury_with_a_numb_leg_links_nerve_trauma():
    assert "direct-nerve-trauma" in slugs(calm_answers(recent_trauma="yes", leg_numbness="yes"))


def test_recent_injury_without_a_nerve_sign_does_not_link_nerve_trauma():
    assert "direct-nerve-trauma" not in slugs(calm_answers(recent_trauma="yes"))
    assert "direct-nerve-trauma" not in slugs(calm_answers(leg_numbness="yes"))


def test_results_are_capped_at_four_with_cauda_equina_first():
    # Many answers at once: many pages match, and cauda equina matches on one answer only.
    answers = calm_answers(
        pain_pattern="back_of_leg",
        leg_numbness="yes",
        burning_pain="yes",
        foot_lift_difficulty="yes",
        weak_side="left",
        leg_lift_difficulty="yes",
        walking_pain="yes",
        back_pain="yes",
        diabetes="yes",
        feet_numbness="yes",
        balance_problems="yes",
        statin_use="yes",
        recent_illness="yes",
        recent_trauma="yes",
        pain_both_legs="yes",
    )
    result = conditions_for_answers(answers)
    assert len(result) == MAX_SUGGESTED_CONDITIONS == 4
    assert result[0].slug == "cauda-equina-syndrome"
    counts = [len(c.suggestion_reasons) for c in result[1:]]
    assert counts == sorted(counts, reverse=True)


def test_serious_pages_come_first_so_the_cap_never_drops_them():
    answers = calm_answers(
        pain_pattern="back_of_leg",
        leg_numbness="yes",
        burning_pain="yes",
        foot_lift_difficulty="yes",
        walking_pain="yes",
        diabetes="yes",
        feet_numbness="yes",
        statin_use="yes",
        recent_trauma="yes",
        back_pain="yes",
        saddle_numbness="unsure",
        cancer_history="yes",
    )
    result = conditions_for_answers(answers)
    assert {c.slug for c in result[:2]} == {"cauda-equina-syndrome", "spinal-tumour"}
    assert len(result) == MAX_SUGGESTED_CONDITIONS


def test_unpublished_pages_are_never_suggested():
    Condition.objects.filter(slug="lumbar-disc-herniation").update(is_published=False)
    result = slugs({"pain_pattern": "back_of_leg", "leg_numbness": "yes"})
    assert "lumbar-disc-herniation" not in result
    assert "lumbar-radiculopathy-sciatica" in result


def test_ties_follow_the_library_sort_order():
    first = ConditionFactory(related_codes=["falls"], sort_order=1)
    second = ConditionFactory(related_codes=["falls"], sort_order=2)
    assert conditions_for_answers({"falls": "yes"}) == [first, second]


def test_match_count_rules():
    codes = ["leg_numbness", "pain_pattern=back_of_leg", "saddle_numbness=unsure"]
    assert condition_match_count(codes, {}) == 0
    assert condition_match_count(codes, {"leg_numbness": "yes"}) == 1
    assert condition_match_count(codes, {"leg_numbness": "no"}) == 0
    assert condition_match_count(codes, {"leg_numbness": "unsure"}) == 0
    assert condition_match_count(codes, {"pain_pattern": "back_of_leg"}) == 1
    assert condition_match_count(codes, {"pain_pattern": "buttock"}) == 0
    assert condition_match_count(codes, {"saddle_numbness": "unsure"}) == 1
    assert condition_match_count(codes, {"saddle_numbness": "yes"}) == 0
    assert condition_match_count(codes, {"leg_numbness": True}) == 1
    assert condition_match_count(codes, {"leg_numbness": " YES "}) == 1
    assert condition_match_count(["leg_numbness", "leg_numbness"], {"leg_numbness": "yes"}) == 1


def test_list_page_groups_follow_the_group_order_and_skip_unpublished():
    Condition.objects.filter(slug="spinal-tumour").update(is_published=False)
    groups = published_conditions_by_group()
    assert [g.value for g in groups] == list(ConditionGroup.values)
    serious = next(g for g in groups if g.value == ConditionGroup.SERIOUS)
    assert [c.slug for c in serious.conditions] == ["cauda-equina-syndrome"]


def test_topic_links_tag_for_the_confirmation_and_case_pages():
    from django.template import Context, Template

    from conditions.templatetags.conditions_tags import render_condition_topics

    answers = {"pain_pattern": "back_of_leg", "leg_numbness": "yes"}
    html = Template("{% load conditions_tags %}{% condition_topics answers %}").render(
        Context({"answers": answers})
    )
    assert "Topics to discuss with your clinician" in html
    assert "not a diagnosis" in html
    assert 'href="/conditions/lumbar-radiculopathy-sciatica/"' in html
    assert 'href="/conditions/lumbar-disc-herniation/"' in html

    staff_html = render_condition_topics(answers)
    assert 'href="/conditions/lumbar-disc-herniation/"' in staff_html
    assert "Topics to discuss" not in staff_html
    assert render_condition_topics(calm_answers()).strip() == ""


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_statement_built_once_reads_what_the_query_reads(language):
    from django.utils import translation

    ConditionFactory(slug="no-spanish-yet", title_es="")  # not complete in Spanish
    with translation.override(language):
        expected = [
            (c.pk, c.title, c.has_translation("es"), c.content_language)
            for c in listed_conditions()
        ]
        read = [
            (c.pk, c.title, c.has_translation("es"), c.content_language)
            for c in listed_conditions_now()
        ]
    assert read == expected
    assert "no-spanish-yet" in [c.slug for c in listed_conditions_now()]
    assert {flag for _pk, _title, flag, _content in read} == {True, False}


def test_a_page_withdrawn_or_changed_is_read_fresh_at_once():
    page = ConditionFactory(slug="soon-withdrawn", related_codes=["falls"], sort_order=0)
    assert "soon-withdrawn" in slugs({"falls": "yes"})  # the statement is built now

    Condition.objects.filter(pk=page.pk).update(title="Changed title")
    assert "Changed title" in [c.title for c in conditions_for_answers({"falls": "yes"})]

    Condition.objects.filter(pk=page.pk).update(is_published=False)
    assert "soon-withdrawn" not in slugs({"falls": "yes"})


def test_unchanged_pages_are_not_read_again_on_postgresql(django_assert_num_queries):
    from django.db import connection

    ConditionFactory(slug="kept-page", related_codes=["falls"])
    first = listed_conditions_now()  # read, and (on PostgreSQL) kept by this process
    with django_assert_num_queries(1) as captured:
        again = listed_conditions_now()
    assert [c.pk for c in again] == [c.pk for c in first]
    # On PostgreSQL that one statement reads the versions only; elsewhere, the pages.
    reads_versions = "xmin" in captured.captured_queries[0]["sql"]
    assert reads_versions == (connection.vendor == "postgresql")


def test_a_page_saved_twice_in_one_transaction_is_read_again_each_time():
    # Both versions share a transaction (the test's): the statement tells them apart.
    page = ConditionFactory(slug="edited-twice", related_codes=["falls"], title="First")
    assert "First" in [c.title for c in listed_conditions_now()]
    page.title = "Second"
    page.save()
    assert "Second" in [c.title for c in listed_conditions_now()]
    Condition.objects.filter(pk=page.pk).update(title="Third")
    assert "Third" in [c.title for c in listed_conditions_now()]
    Condition.objects.filter(pk=page.pk).delete()
    assert "edited-twice" not in [c.slug for c in listed_conditions_now()]


def test_the_reasons_given_to_one_patient_do_not_stick_to_the_shared_pages():
    ConditionFactory(slug="shared-page", related_codes=["falls", "leg_numbness"])
    both = conditions_for_answers({"falls": "yes", "leg_numbness": "yes"})
    one = conditions_for_answers({"falls": "yes"})
    assert both[0].suggestion_reasons == ["falls", "leg_numbness"]
    assert one[0].suggestion_reasons == ["falls"]
    assert not any(hasattr(page, "suggestion_reasons") for page in listed_conditions_now())
