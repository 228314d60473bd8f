"""Pages written once per process are the pages the templates give (intake/kept_pages.py).

Each blank step is compared with the same page rendered through the template
afresh, for every step, language and patient tried here, with the CSRF token
(masked differently on every page) set aside: the token is checked on its own
by posting with it. Pages that hold anything of the patient are never kept.
"""

import json
import re

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client

from intake import views
from intake.kept_pages import CSRF_PLACEHOLDER, _pages, forget_kept_pages
from tests.intake.questionnaire import STEP_DATA, STEP_ORDER, step_url

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def no_pages_yet():
    forget_kept_pages()
    yield
    forget_kept_pages()


def without_tokens(html: str) -> str:
    return TOKEN.sub('name="csrfmiddlewaretoken" value=""', html)


def emergency_conditions(html: str) -> list:
    found = re.search(
        r'<script id="emergency-conditions" type="application/json">(.*?)</script>', html
    )
    return json.loads(found.group(1))


def fresh(client: Client, url: str, monkeypatch) -> str:
    """The page rendered through its template with the request's own parts, as before."""

    def rendered_now(request, key, render, parts):
        return HttpResponse(render(dict(parts)))

    with monkeypatch.context() as patched:
        patched.setattr(views, "kept_page", rendered_now)
        return client.get(url).text


def walk_blank_steps(client: Client, monkeypatch, changes: dict | None = None) -> dict[str, str]:
    """Each step as first seen (blank), checked against a fresh render; then answered."""
    pages = {}
    for slug in STEP_ORDER:
        url = step_url(slug)
        first = client.get(url)  # written now (or earlier, by another patient)
        again = client.get(url)  # the process's copy
        assert first.status_code == again.status_code == 200
        assert "text/html" in first["Content-Type"]
        assert first["Cache-Control"] == again["Cache-Control"]
        assert "no-store" in first["Cache-Control"]
        expected = without_tokens(fresh(client, url, monkeypatch))
        assert without_tokens(first.text) == expected
        assert without_tokens(again.text) == expected
        assert CSRF_PLACEHOLDER not in again.text
        pages[slug] = again.text
        # The token on the kept page is this browser's: the post goes through.
        token = TOKEN.search(again.text).group(1)
        data = {**STEP_DATA[slug], **(changes or {}).get(slug, {}), "csrfmiddlewaretoken": token}
        posted = client.post(url, data)
        assert posted.status_code == 302, posted.text[:2000]
    return pages


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_every_blank_step_is_the_page_the_template_gives(monkeypatch, language):
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    walk_blank_steps(client, monkeypatch)
    assert {key[1] for key in _pages} == set(STEP_ORDER)
    assert {key[2] for key in _pages} == {language}


def test_each_patient_gets_their_own_emergency_conditions_on_a_kept_page(monkeypatch):
    # Weakness getting worse changes what on the health step would make an emergency.
    steady = walk_blank_steps(Client(enforce_csrf_checks=True), monkeypatch)
    worse = walk_blank_steps(
        Client(enforce_csrf_checks=True),
        monkeypatch,
        {"legs": {"weakness_trend": "worse"}},
    )
    assert emergency_conditions(steady["health"]) != emergency_conditions(worse["health"])
    assert without_tokens(steady["about"]) == without_tokens(worse["about"])


def test_pages_with_the_patients_answers_or_errors_are_never_kept(client):
    client.post(step_url("about"), STEP_DATA["about"])
    assert client.get(step_url("about")).status_code == 200  # prefilled: their name
    assert client.post(step_url("legs"), {"action": "next"}).status_code == 200  # errors
    assert client.get(step_url("about") + "?resumed=1").status_code == 200
    assert not _pages


def test_a_blank_page_that_warns_is_not_kept(client):
    # An emergency already in the answers: the page says so at the top.
    client.post(step_url("about"), STEP_DATA["about"])
    client.post(step_url("legs"), STEP_DATA["legs"])
    client.post(step_url("pain"), STEP_DATA["pain"])
    client.post(step_url("warning-signs"), {**STEP_DATA["warning-signs"], "saddle_numbness": "yes"})
    page = client.get(step_url("health")).text
    assert "emergency-advice early-case" in page
    assert ("step", "health") not in {key[:2] for key in _pages}


def test_a_follow_up_s_steps_are_kept_apart_from_a_first_questionnaire_s(client, monkeypatch):
    from intake.invitations import follow_up_schedule
    from tests.factories import CaseFactory
    from tests.intake.test_follow_ups import follow_up_link, hidden_details
    from tests.intake.test_invitations import CONFIRM, birth_date

    first_time = Client().get(step_url("legs"))  # a new patient is sent to "About you"
    assert first_time.status_code == 302
    newcomer = Client()
    newcomer.post(step_url("about"), STEP_DATA["about"])
    assert "Compared with last time" not in newcomer.get(step_url("legs")).text

    baseline = CaseFactory()
    client.get(follow_up_link(follow_up_schedule(case=baseline, by=None)))
    client.post(CONFIRM, birth_date(baseline.patient.date_of_birth))
    about = client.get(step_url("about")).text  # their details, hidden: never kept
    client.post(step_url("about"), {**hidden_details(about), "consent": "on"})
    legs = client.get(step_url("legs")).text
    assert "Compared with last time you answered, your legs are:" in legs
    assert without_tokens(legs) == without_tokens(fresh(client, step_url("legs"), monkeypatch))
    assert baseline.patient.last_name not in "".join(_pages.values())
    assert "Compared with last time" not in newcomer.get(step_url("legs")).text


DONE = "/intake/done/"
CHECK = "/intake/check/"


def send_from_the_check_page(client: Client, monkeypatch) -> str:
    """Check the answers (the page compared with the template's), send them; the check page."""
    first, again = client.get(CHECK), client.get(CHECK)
    assert first.status_code == again.status_code == 200
    expected = without_tokens(fresh(client, CHECK, monkeypatch))
    assert without_tokens(first.text) == without_tokens(again.text) == expected
    token = TOKEN.search(again.text).group(1)
    sent = client.post(CHECK, {"action": "send", "csrfmiddlewaretoken": token})
    assert sent.status_code == 302 and sent["Location"] == DONE
    return again.text


def topic_links(html: str) -> list[str]:
    return re.findall(r'<a href="(/conditions/[^"]+)"', html)


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_the_check_page_and_the_page_after_sending_are_the_templates(monkeypatch, language):
    from intake.models import Case

    patients = {
        "routine": {},
        "diabetes": {"health": {"diabetes": "yes"}, "pain": {"feet_numbness": "yes"}},
        "emergency": {"warning-signs": {"saddle_numbness": "yes"}},
    }
    pages, checked = {}, {}
    for name, changes in patients.items():
        client = Client(enforce_csrf_checks=True)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        walk_blank_steps(client, monkeypatch, changes)
        checked[name] = send_from_the_check_page(client, monkeypatch)
        first, again = client.get(DONE), client.get(DONE)
        assert first.status_code == again.status_code == 200
        assert "no-store" in again["Cache-Control"]
        expected = without_tokens(fresh(client, DONE, monkeypatch))
        assert without_tokens(first.text) == without_tokens(again.text) == expected
        case = Case.objects.order_by("-pk").first()
        assert f">{case.reference}</strong>" in again.text
        pages[name] = again.text
        # The kept page's form works with the token it carries.
        token = TOKEN.search(again.text).group(1)
        restarted = client.post("/intake/start-again/", {"csrfmiddlewaretoken": token})
        assert restarted.status_code == 302
    assert topic_links(pages["routine"]) != topic_links(pages["diabetes"])
    # Each check page lists its own patient's answers.
    assert checked["routine"].count("check-answers-row") > 30
    assert checked["routine"] != checked["diabetes"]
    assert all(topic_links(page) for page in pages.values())
    references = {re.search(r"(C-[A-Z0-9]+)</strong>", page).group(1) for page in pages.values()}
    assert len(references) == 3
    assert "emergency-advice" in pages["emergency"]
    assert "emergency-advice" not in pages["routine"]


def test_a_page_without_a_place_for_a_part_is_served_whole_and_not_kept(rf, caplog):
    from intake.kept_pages import kept_page

    request = rf.get("/intake/legs/")

    def render(extra):
        # A template that forgot the part: it shows the token only.
        return f"<form>{extra.get('csrf_token', 'TOKEN')}</form>"

    response = kept_page(request, ("broken",), render, {"emergency_conditions_script": "<x>"})
    assert response.status_code == 200
    assert response.content == b"<form>TOKEN</form>"
    assert ("broken",) not in _pages
    assert "not kept" in caplog.text


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_the_topics_written_once_follow_the_library(language):
    from django.template.loader import render_to_string
    from django.utils import translation

    from conditions.selectors import conditions_for_answers
    from tests.conditions.factories import ConditionFactory

    page = ConditionFactory(slug="kept-topic", related_codes=["falls"], title="Falls and legs")
    forget_kept_pages()
    with translation.override(language):
        topics = conditions_for_answers({"falls": "yes"})
        expected = render_to_string("intake/_done_topics.html", {"related_conditions": topics})
        assert views._topics_html(topics) == expected
        assert views._topics_html(conditions_for_answers({"falls": "yes"})) == expected
        assert "/conditions/kept-topic/" in expected

        page.title = "Falls, renamed"  # shown in English in both (no Spanish page yet)
        page.save()
        renamed = views._topics_html(conditions_for_answers({"falls": "yes"}))
    assert renamed != expected
    assert "Falls, renamed" in renamed
    assert views._topics_html([]) == ""


def test_an_edited_template_is_shown_at_once_under_runserver(tmp_path):
    from pathlib import Path

    from django.utils.autoreload import file_changed

    from intake.kept_pages import _parts, kept_part

    kept_part(("example",), lambda: "<p>kept</p>")
    _pages[("example",)] = "<p>kept</p>"
    file_changed.send(sender=None, file_path=Path("static/js/intake.js"))
    assert _pages and _parts  # not a template: kept
    file_changed.send(sender=None, file_path=tmp_path / "step.html")
    assert not _pages and not _parts
