"""The shipped library agrees with triage rules version 2 and with the evidence.

These read conditions/content/library.toml and library.es.toml themselves (not the
database), so they hold for every database created from now on; the migration that
carries the same corrections to existing databases is tested in
test_library_migrations.py.

SPEC "Conditions (education content)": no page's urgent-help section may send patients
to an emergency department for a sign that triage does not rate as an emergency, and
every other sign says what its tier promises (SPEC "What each tier promises").
"""

import datetime
import re
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

from intake import triage
from tests.conditions.test_library_content import SPEC_TOPICS

CONTENT = Path(settings.BASE_DIR) / "conditions" / "content"
TEXT_FIELDS = (
    "title",
    "summary",
    "what_it_is",
    "symptoms",
    "causes",
    "assessment",
    "treatment",
    "urgent_help",
)
LANGUAGES = ("en", "es")


def shipped(language: str) -> dict[str, dict]:
    name = "library.toml" if language == "en" else f"library.{language}.toml"
    with (CONTENT / name).open("rb") as handle:
        return {entry["slug"]: entry for entry in tomllib.load(handle)["conditions"]}


def blocks(text: str) -> list[list[str]]:
    """Paragraphs as the page shows them: lines split by blank lines."""
    return [
        [line.strip() for line in block.splitlines() if line.strip()]
        for block in re.split(r"\n\s*\n", text.strip())
    ]


# What each tier promises, in each language (SPEC "What each tier promises").
URGENT_LEAD = {"en": "contact the clinic today", "es": "comuníquese hoy con la clínica"}
URGENT_PROMISE = {
    "en": ("will phone you today", "next working morning"),
    "es": ("le llamará hoy", "siguiente día hábil"),
}
SOON_PROMISE = {"en": "within a few working days", "es": "en unos pocos días hábiles"}
EMERGENCY_LIST = {"en": "emergency list on this page", "es": "lista de emergencia de esta página"}

#: Signs the pages name that triage rates as urgent, each with answers that show
#: it: (English pattern, Spanish pattern, answers). Wherever a page names one, it
#: must be under the urgent promise, never in an emergency-department list.
URGENT_SIGNS = {
    "pain down both legs": (
        r"pain (shooting )?down both legs",
        r"dolor (nuevo )?que baja por ambas piernas",
        {"pain_both_legs": "yes"},
    ),
    "sexual problems alone": (
        r"problem with sex|erection",
        r"relaciones sexuales|erección",
        {"sexual_dysfunction": "yes"},
    ),
    "not sure about a warning sign": (
        r"not sure whether",
        r"tiene dudas",
        {"saddle_numbness": "unsure", "bladder_retention": "unsure"},
    ),
    "one leg getting weaker": (
        r"weakness in (one|your) leg (that )?is getting worse",
        r"debilidad (en|de) (una|la) pierna (que )?está empeorando",
        {"weak_side": "left", "weakness_onset": "weeks", "weakness_trend": "worse"},
    ),
    "foot drop": (
        r"foot (suddenly )?(starts to )?drops?",
        r"pie (empieza a caerse|se cae)",
        {"foot_lift_difficulty": "yes"},
    ),
    "back pain with a fever": (
        r"back pain with a fever",
        r"dolor de espalda con fiebre",
        {"back_pain": "yes", "fever": "yes"},
    ),
    "cancer and new back pain": (
        r"cancer, and you have new back pain",
        r"cáncer, y tiene un dolor de espalda nuevo",
        {"back_pain": "yes", "cancer_history": "yes"},
    ),
    "back pain and weight loss": (
        r"lost weight without trying",
        r"bajado de peso sin intentarlo",
        {"back_pain": "yes", "weight_loss": "yes"},
    ),
    "injury with a weak leg": (
        r"new weakness in a leg or foot",
        r"debilidad nueva en una pierna o en un pie",
        {"recent_trauma": "yes", "weak_side": "right", "weakness_onset": "weeks"},
    ),
    "injury with a fracture risk": (
        r"70 or older",
        r"70 años o más",
        {"back_pain": "yes", "recent_trauma": "yes", "age": 74},
    ),
}


def test_every_urgent_sign_the_pages_name_is_urgent_in_the_rules():
    """The table above is only a proof if each sign really is urgent, not an emergency."""
    for name, (_english, _spanish, answers) in URGENT_SIGNS.items():
        assert triage.assess(answers).tier == triage.URGENT, name


def test_a_leg_that_gives_way_is_soon_as_the_stenosis_page_says():
    assert triage.assess({"leg_gives_way": "yes", "falls": "yes"}).tier == triage.SOON


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_page_gives_a_24_to_48_hour_window_for_cauda_equina_surgery(language):
    """REFERENCES.md: the 48-hour guide is contested; decompression is as soon as possible."""
    for slug, entry in shipped(language).items():
        for field in TEXT_FIELDS:
            text = entry[field]
            assert not re.search(r"\b24\s*(to|a|-|–|y)\s*48\b", text), (slug, field)
            assert not re.search(r"\b48\s*(hours|horas)\b", text), (slug, field)


@pytest.mark.parametrize(
    ("language", "phrases"),
    [
        ("en", ("as soon as possible", "by day or by night", "do not wait to see")),
        ("es", ("lo antes posible", "de día o de noche", "no espere a ver")),
    ],
)
def test_cauda_equina_treatment_says_as_soon_as_possible_day_or_night(language, phrases):
    treatment = shipped(language)["cauda-equina-syndrome"]["treatment"].lower()
    for phrase in phrases:
        assert phrase in treatment


@pytest.mark.parametrize("language", LANGUAGES)
def test_both_legs_in_urgent_help_is_always_new_or_getting_worse(language):
    """Rules v2: both legs is an emergency or urgent only when new or getting worse."""
    both, new = {
        "en": ("both legs", r"\b(new|getting worse|worse)\b"),
        "es": ("ambas piernas", r"\b(nuev[oa]s?|empeorando|empeora)\b"),
    }[language]
    for slug, entry in shipped(language).items():
        text = entry["urgent_help"]
        assert both in text, slug
        for match in re.finditer(both, text):
            before = re.split(r"[.;:\n]", text[: match.start()])[-1][-40:]
            after = re.split(r"[.;:\n]", text[match.end() :])[0][:60]
            assert re.search(new, before) or re.search(new, after), (slug, before, after)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("sign", sorted(URGENT_SIGNS))
def test_urgent_signs_are_under_the_urgent_promise_never_an_emergency_list(language, sign):
    english, spanish, _answers = URGENT_SIGNS[sign]
    pattern = re.compile(english if language == "en" else spanish, re.IGNORECASE)
    found = False
    for slug, entry in shipped(language).items():
        fields = ["urgent_help"] + (["symptoms"] if slug == "cauda-equina-syndrome" else [])
        for field in fields:
            for block in blocks(entry[field]):
                if not any(pattern.search(line) for line in block):
                    continue
                found = True
                lead = block[0].lower()
                assert URGENT_LEAD[language] in lead, (slug, field, block[0])
                for promise in URGENT_PROMISE[language]:
                    assert promise in lead, (slug, field, block[0])
    assert found, f"no page names {sign!r}: drop it from URGENT_SIGNS or check the pattern"


@pytest.mark.parametrize("language", LANGUAGES)
def test_sexual_problems_are_never_listed_as_a_reason_to_go_to_the_emergency_department(
    language,
):
    """GIRFT: low back pain with sexual dysfunction as the only other feature is unlikely CES."""
    sexual = re.compile(r"\bsex|erection|sexual|erección", re.IGNORECASE)
    emergency = {"en": "emergency department", "es": "sala de emergencias"}[language]
    for slug, entry in shipped(language).items():
        for block in blocks(entry["urgent_help"]):
            if emergency in " ".join(block).lower():
                assert not any(sexual.search(line) for line in block), (slug, block[0])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_urgent_help_points_to_the_shared_emergency_list(language):
    for slug, entry in shipped(language).items():
        assert EMERGENCY_LIST[language] in entry["urgent_help"], slug


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_contact_the_clinic_today_says_what_the_urgent_tier_promises(language):
    for slug, entry in shipped(language).items():
        for field in TEXT_FIELDS:
            for block in blocks(entry[field]):
                paragraph = " ".join(block).lower()
                if URGENT_LEAD[language] in paragraph or (
                    language == "en" and "contact the clinic or your cancer team" in paragraph
                ):
                    for promise in URGENT_PROMISE[language]:
                        assert promise in paragraph, (slug, field, block[0])


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_leg_giving_way_on_the_stenosis_page_says_what_the_soon_tier_promises(language):
    text = shipped(language)["spinal-stenosis"]["urgent_help"].lower()
    assert SOON_PROMISE[language] in text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("slug", ["spinal-stenosis", "spondylolisthesis"])
def test_bladder_problems_point_to_urgent_help_not_planned_surgery(language, slug):
    """New bladder or bowel problems are an emergency, never a reason to plan an operation."""
    bladder, emergency, likely = {
        "en": ("bladder", "emergency", "more likely to get worse"),
        "es": ("vejiga", "emergencia", "más probabilidad de empeorar"),
    }[language]
    treatment = shipped(language)[slug]["treatment"]
    for sentence in re.split(r"(?<=[.:])\s+", treatment):
        if likely in sentence:
            assert bladder not in sentence, sentence
    for block in blocks(treatment):
        if bladder in " ".join(block):
            assert emergency in " ".join(block), block


def test_every_page_carries_the_date_its_content_was_last_reviewed():
    pages = shipped("en")
    assert set(pages) == set(SPEC_TOPICS)
    for slug, entry in pages.items():
        reviewed_on = entry.get("reviewed_on")
        assert type(reviewed_on) is datetime.date, slug  # a TOML date, not text
        assert datetime.date(2026, 11, 26) <= reviewed_on <= datetime.date.today(), slug


def test_the_emergency_rows_of_the_rules_are_the_six_the_pages_name():
    """The pages' own words cover the emergency rows (the exact list is advice.py's)."""
    assert triage.EMERGENCY_FLAGS == (
        "saddle_numbness",
        "bladder",
        "bowel",
        "bilateral_weakness",
        "cancer_weakness",
        "infection_weakness",
    )
