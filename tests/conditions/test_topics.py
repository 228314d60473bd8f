"""Issue 19: the topics a patient's answers point to, and the "not a diagnosis" note.

Only pages with a reason in the answers, at most four, the serious group first,
each with a one-line description in plain words in English and Spanish; the
note once on every page that shows library content or topics.
"""

import re
from collections.abc import Callable, Mapping

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conditions.codes import ANSWER_CODES, parse_related_code
from conditions.models import Condition, ConditionGroup
from conditions.selectors import MAX_SUGGESTED_CONDITIONS, conditions_for_answers
from tests.conditions.factories import ConditionFactory
from tests.conditions.test_library_content import SPEC_TOPICS
from tests.intake.questionnaire import fill_all

pytestmark = pytest.mark.django_db

Answers = Mapping[str, object]


def _yes(answers: Answers, *codes: str) -> bool:
    return any(answers.get(code) == "yes" for code in codes)


def _weak_leg(answers: Answers) -> bool:
    return answers.get("weak_side") in ("left", "right", "both") or _yes(
        answers, "leg_gives_way", "leg_lift_difficulty", "foot_lift_difficulty"
    )


def _nerve_sign(answers: Answers) -> bool:
    return answers.get("weak_side") in ("left", "right", "both") or _yes(
        answers, "leg_numbness", "burning_pain", "foot_lift_difficulty", "leg_lift_difficulty"
    )


CES_SIGNS = (
    "saddle_numbness",
    "bladder_retention",
    "bladder_sensation",
    "bladder_stream",
    "bladder_incontinence",
    "bowel_incontinence",
)

#: When each shipped page may be suggested, written out from the pages themselves
#: (what they say causes it and what it feels like), not read from the rules the
#: code runs: the rules in library.toml must never suggest a page outside these.
REASONS: dict[str, Callable[[Answers], bool]] = {
    "cauda-equina-syndrome": lambda a: (
        any(a.get(code) in ("yes", "unsure") for code in CES_SIGNS)
        # "unsure" to the sexual function question means "prefer not to say".
        or _yes(a, "sexual_dysfunction", "pain_both_legs")
        or a.get("weak_side") == "both"
    ),
    "spinal-tumour": lambda a: _yes(a, "cancer_history", "weight_loss"),
    "diabetic-neuropathy": lambda a: (
        a.get("diabetes") in ("yes", "unsure")
        and _yes(a, "feet_numbness", "burning_pain", "balance_problems")
    ),
    "muscle-weakness-other-causes": lambda a: (
        _weak_leg(a) and _yes(a, "statin_use", "recent_illness", "fever", "leg_gives_way")
    ),
    "direct-nerve-trauma": lambda a: _yes(a, "recent_trauma") and _nerve_sign(a),
    "spondylolisthesis": lambda a: _yes(a, "back_pain"),
    "sacroiliac-joint-dysfunction": lambda a: (
        a.get("pain_pattern") == "buttock" or _yes(a, "back_pain")
    ),
    "spinal-stenosis": lambda a: (
        _yes(a, "walking_pain", "pain_both_legs", "leg_gives_way") or a.get("weak_side") == "both"
    ),
    "lumbar-radiculopathy-sciatica": lambda a: (
        a.get("pain_pattern") in ("back_of_leg", "front_of_thigh")
        or a.get("weak_side") in ("left", "right")
        or _yes(a, "leg_numbness", "burning_pain", "leg_lift_difficulty")
    ),
    "lumbar-disc-herniation": lambda a: (
        a.get("pain_pattern") == "back_of_leg"
        or a.get("weak_side") in ("left", "right")
        or _yes(a, "leg_numbness", "foot_lift_difficulty")
    ),
    "entrapment-neuropathy": lambda a: _yes(
        a, "foot_lift_difficulty", "leg_numbness", "burning_pain"
    ),
}

#: Any set of answers the questionnaire can store: every code answered, any of its
#: answers, or not asked at all (a missing key).
any_answers = st.fixed_dictionaries(
    {}, optional={code: st.sampled_from(values) for code, values in ANSWER_CODES.items()}
)

HYPOTHESIS = settings(
    max_examples=300,
    deadline=None,
    # The database is only read here, so sharing the test's transaction is safe.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def calm_answers(**changes) -> dict:
    answers = {
        code: ("no" if "no" in values else values[-1]) for code, values in ANSWER_CODES.items()
    }
    answers.update(weak_side="neither", pain_pattern="none")
    answers.update(changes)
    return answers


def slugs(answers: Answers) -> list[str]:
    return [condition.slug for condition in conditions_for_answers(answers)]


# Only topics with a reason in the answers ----------------------------------------


def test_every_shipped_page_has_a_written_reason():
    assert set(REASONS) == set(SPEC_TOPICS)


@HYPOTHESIS
@given(answers=any_answers)
def test_no_topic_without_a_reason_in_the_answers(answers):
    suggested = conditions_for_answers(answers)
    assert len(suggested) <= MAX_SUGGESTED_CONDITIONS == 4
    for condition in suggested:
        assert REASONS[condition.slug](answers), (condition.slug, answers)
        # The reasons the selector gives are answers the patient really gave.
        assert condition.suggestion_reasons
        for reason in condition.suggestion_reasons:
            code, expected = parse_related_code(reason)
            assert answers.get(code) == expected, (condition.slug, reason, answers)


@HYPOTHESIS
@given(answers=any_answers)
def test_every_page_with_a_reason_is_shown_when_there_is_room_serious_ones_first(answers):
    suggested = slugs(answers)
    with_reason = [slug for slug, reason in REASONS.items() if reason(answers)]
    if len(with_reason) <= MAX_SUGGESTED_CONDITIONS:
        assert sorted(suggested) == sorted(with_reason)
    else:
        assert len(suggested) == MAX_SUGGESTED_CONDITIONS
    groups = [SPEC_TOPICS[slug] == ConditionGroup.SERIOUS for slug in suggested]
    assert groups == sorted(groups, reverse=True), suggested  # serious ones lead
    serious = [s for s in with_reason if SPEC_TOPICS[s] == ConditionGroup.SERIOUS]
    assert set(serious) <= set(suggested)


@pytest.mark.parametrize("diabetes", ["no", None])
def test_diabetic_neuropathy_is_never_suggested_without_diabetes(diabetes):
    answers = calm_answers(feet_numbness="yes", burning_pain="yes", balance_problems="yes")
    if diabetes is None:
        del answers["diabetes"]
    else:
        answers["diabetes"] = diabetes
    assert "diabetic-neuropathy" not in slugs(answers)


@pytest.mark.parametrize("diabetes", ["yes", "unsure"])
def test_diabetic_neuropathy_needs_diabetes_yes_or_not_sure_and_a_sign(diabetes):
    assert "diabetic-neuropathy" in slugs(calm_answers(diabetes=diabetes, feet_numbness="yes"))
    # Diabetes alone is no symptom: nothing in the answers points to the page.
    assert "diabetic-neuropathy" not in slugs(calm_answers(diabetes=diabetes))


def test_the_most_relevant_pages_come_first_and_the_list_stops_at_four():
    answers = calm_answers(
        pain_pattern="back_of_leg",
        leg_numbness="yes",
        burning_pain="yes",
        foot_lift_difficulty="yes",
        weak_side="left",
        back_pain="yes",
        walking_pain="yes",
        diabetes="yes",
        feet_numbness="yes",
        cancer_history="yes",
    )
    suggested = conditions_for_answers(answers)
    assert [c.slug for c in suggested] == [
        "spinal-tumour",  # the serious group first, whatever else matches
        "lumbar-radiculopathy-sciatica",  # four answers point to it
        "lumbar-disc-herniation",  # four too, later in the library
        "diabetic-neuropathy",  # three (diabetes among them), before entrapment's three
    ]
    assert suggested[0].suggestion_reasons == ["cancer_history"]
    assert suggested[2].suggestion_reasons == [
        "pain_pattern=back_of_leg",
        "leg_numbness",
        "foot_lift_difficulty",
        "weak_side=left",
    ]
    assert suggested[3].suggestion_reasons == ["diabetes", "feet_numbness", "burning_pain"]


def test_a_staff_page_with_needed_answers_waits_for_one_of_them():
    ConditionFactory(slug="made-up-page", related_codes=["falls"], required_codes=["fever"])
    assert "made-up-page" not in slugs({"falls": "yes"})
    assert "made-up-page" in slugs({"falls": "yes", "fever": "yes"})
    # A needed answer on its own is no reason either.
    assert "made-up-page" not in slugs({"falls": "no", "fever": "yes"})


# Descriptions in plain words, in both languages -------------------------------------


def _syllables(word: str) -> int:
    """A rough English syllable count (vowel groups, less a silent final e)."""
    word = re.sub(r"[^a-z]", "", word.lower())
    if not word:
        return 0
    if len(word) > 3 and word.endswith("e") and not word.endswith(("le", "ee")):
        word = word[:-1]
    return max(1, len(re.findall(r"[aeiouy]+", word)))


def flesch_kincaid_grade(text: str) -> float:
    sentences = max(1, len(re.findall(r"[.!?]+", text)))
    words = re.findall(r"[A-Za-z']+", text)
    syllables = sum(_syllables(word) for word in words)
    return 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59


@pytest.mark.parametrize("slug", sorted(SPEC_TOPICS))
def test_every_shipped_page_has_a_one_line_description_in_english_and_spanish(slug):
    condition = Condition.objects.get(slug=slug)
    for line in (condition.description, condition.description_es):
        assert line.strip() and "\n" not in line, slug
        assert len(line) <= 130, slug
    assert condition.description != condition.description_es
    assert condition.description.lower() not in condition.summary.lower()  # it is not the summary
    grade = flesch_kincaid_grade(condition.description)
    assert grade <= 6, f"{slug}: grade {grade:.1f}: {condition.description}"
    with translation.override("es"):
        assert condition.display_description == condition.description_es
    with translation.override("en"):
        assert condition.display_description == condition.description


def test_the_spondylolisthesis_link_explains_the_word():
    condition = Condition.objects.get(slug="spondylolisthesis")
    assert condition.description == "A bone in the low back has slipped forward."
    assert condition.description_es == (
        "Un hueso de la parte baja de la espalda se ha deslizado hacia adelante."
    )


def render_topics(answers: Answers) -> str:
    return Template("{% load conditions_tags %}{% condition_topics answers %}").render(
        Context({"answers": answers})
    )


@pytest.mark.parametrize("language", ["en", "es"])
def test_each_topic_shows_its_description_under_the_link(language):
    answers = calm_answers(back_pain="yes", walking_pain="yes")
    with translation.override(language):
        html = render_topics(answers)
        for condition in conditions_for_answers(answers):
            link = f'<a href="{condition.get_absolute_url()}">{condition.display_title}</a>'
            description = condition.description_es if language == "es" else condition.description
            assert re.search(
                re.escape(link)
                + r'\s*<span class="condition-topic-description d-block">'
                + re.escape(description)
                + "</span>",
                html,
            ), (condition.slug, html)


def test_a_page_shown_in_english_to_a_spanish_reader_keeps_its_english_description():
    Condition.objects.filter(slug="spondylolisthesis").update(treatment_es="")
    with translation.override("es"):
        html = render_topics(calm_answers(back_pain="yes"))
    assert (
        '<span class="condition-topic-description d-block" lang="en">'
        "A bone in the low back has slipped forward.</span>"
    ) in html


def test_a_page_without_a_description_shows_just_its_link():
    Condition.objects.filter(slug="spondylolisthesis").update(description="")
    html = render_topics(calm_answers(back_pain="yes"))
    assert 'href="/conditions/spondylolisthesis/"' in html
    assert html.count("condition-topic-description") == 1  # the sacroiliac page's only


def test_staff_edit_the_description_and_needed_answers_in_the_admin(superuser_client):
    condition = Condition.objects.get(slug="spinal-tumour")
    url = reverse("admin:conditions_condition_change", args=[condition.pk])
    form = superuser_client.get(url).content.decode()
    for name in ("description", "description_es", "required_codes"):
        assert f'name="{name}"' in form, name
    assert "cancer_history\nweight_loss</textarea>" in form


# The "not a diagnosis" note, once per page -----------------------------------------

NOTE = re.compile(r"not a diagnosis|no (?:es|son) un diagnóstico", re.IGNORECASE)


def note_count(html: str) -> int:
    return len(NOTE.findall(html))


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_note_appears_once_on_the_library_list(client, language):
    html = client.get("/conditions/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert note_count(html) == 1


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("slug", sorted(SPEC_TOPICS))
def test_the_note_appears_once_on_every_library_page(client, slug, language):
    html = client.get(f"/conditions/{slug}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert note_count(html) == 1, slug


def test_the_note_appears_once_with_the_topics_list():
    assert note_count(render_topics(calm_answers(back_pain="yes"))) == 1


def test_the_confirmation_page_shows_only_topics_with_a_reason_described_with_one_note(client):
    # Numb, burning feet without diabetes, sciatica down the back of the left leg.
    response = fill_all(
        client,
        {
            "diabetes": "no",
            "feet_numbness": "yes",
            "burning_pain": "yes",
            "balance_problems": "yes",
        },
    )
    html = client.get(response.url, follow=True).content.decode()
    assert "Thank you" in html
    assert "/conditions/diabetic-neuropathy/" not in html
    links = re.findall(r'href="/conditions/([a-z-]+)/"', html)
    assert 0 < len(links) <= MAX_SUGGESTED_CONDITIONS
    for slug in links:
        description = Condition.objects.get(slug=slug).description
        assert description in html, slug
    assert note_count(html) == 1
