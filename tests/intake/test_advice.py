"""One voice to the patient: the tier promises and emergency signs agree with the rules.

SPEC "What each tier promises": the list of "go to an emergency department
now" signs shown anywhere holds exactly the emergency rows of the rules, and a
confirmation page never shows advice of two tiers as if both applied.
"""

import re

import pytest
from django.test import Client
from django.utils import translation

from conditions.models import Condition
from intake import advice, triage
from tests.intake.questionnaire import fill_all

pytestmark = pytest.mark.django_db

SIGN_ITEM = re.compile(r'<li data-flag="([^"]*)">(.*?)</li>', re.S)
#: Answers that give each tier (SPEC table), for a walk through the questionnaire.
TIER_ANSWERS = {
    "emergency": {"saddle_numbness": "yes"},
    "urgent": {"foot_lift_difficulty": "yes"},
    "soon": {"balance_problems": "yes"},
    "routine": {},
}


def test_each_emergency_sign_is_an_emergency_row_of_the_rules_and_each_row_has_one():
    flags = [sign.flag for sign in advice.EMERGENCY_SIGNS]
    assert flags == [flag for flag in triage.FLAG_ORDER if triage.FLAG_TIERS[flag] == "emergency"]
    assert flags == list(triage.EMERGENCY_FLAGS)


def test_every_tier_has_one_promise_and_urgent_means_today():
    assert set(advice.TIER_PROMISES) == set(triage.TIERS)
    assert "today" in str(advice.TIER_PROMISES["urgent"].promise)
    assert "emergency department now" in str(advice.TIER_PROMISES["emergency"].promise)


def shown_signs(html: str) -> list[tuple[str, str]]:
    return [(flag, " ".join(text.split())) for flag, text in SIGN_ITEM.findall(html)]


def expected_signs() -> list[tuple[str, str]]:
    return [(sign.flag, " ".join(str(sign.text).split())) for sign in advice.EMERGENCY_SIGNS]


def assert_signs_are_the_rules(html: str) -> None:
    signs = shown_signs(html)
    assert signs, "no emergency signs on the page"
    for flag, _text in signs:
        assert triage.FLAG_TIERS[flag] == "emergency"
    # Each list on the page is the whole list, in the rules' order.
    expected = expected_signs()
    assert len(signs) % len(expected) == 0
    for start in range(0, len(signs), len(expected)):
        assert signs[start : start + len(expected)] == expected


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_patient_page_that_lists_emergency_signs_lists_the_rules_emergency_rows(
    client, language
):
    client.cookies["django_language"] = language
    pages = ["/", "/conditions/"] + [
        page.get_absolute_url() for page in Condition.objects.filter(is_published=True)
    ]
    with translation.override(language):
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.content.decode()
            if "emergency-signs" in html:
                assert_signs_are_the_rules(html)
    assert_signs_are_the_rules(client.get("/").content.decode())


def confirmation_for(tier: str, language: str = "en") -> str:
    client = Client()
    client.cookies["django_language"] = language
    fill_all(client, TIER_ANSWERS[tier])
    return client.get("/intake/done/").content.decode()


@pytest.mark.parametrize("tier", triage.TIERS)
def test_a_confirmation_page_shows_the_promise_of_its_tier_only(tier):
    html = confirmation_for(tier)

    shown = {
        other for other, promise in advice.TIER_PROMISES.items() if str(promise.heading) in html
    }
    assert shown == {tier}
    for other in set(advice.TIER_PROMISES) - {tier}:
        assert advice.promise_text(other) not in html
    if tier == "emergency":
        assert str(advice.CLINIC_ALERTED) in html
        assert 'href="tel:' in html
        assert shown_signs(html) == []  # the advice is to go now, not a list of maybes
    else:
        assert_signs_are_the_rules(html)


@pytest.mark.parametrize("tier", triage.TIERS)
def test_a_spanish_confirmation_page_shows_the_promise_of_its_tier_only(tier):
    html = confirmation_for(tier, "es")

    with translation.override("es"):
        headings = {other: str(p.heading) for other, p in advice.TIER_PROMISES.items()}
    assert {other for other, heading in headings.items() if heading in html} == {tier}
