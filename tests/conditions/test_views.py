"""The public pages: /conditions/ and /conditions/<slug>/."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation

from conditions.models import Condition, ConditionGroup
from intake import advice, triage
from tests.conditions.factories import ConditionFactory, ReferenceFactory
from tests.conditions.test_library_content import SPEC_TOPICS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOT_A_DIAGNOSIS = "This is not a diagnosis."


def detail_url(slug: str) -> str:
    return reverse("conditions:detail", kwargs={"slug": slug})


def test_urls_are_stable():
    assert reverse("conditions:list") == "/conditions/"
    assert detail_url("spinal-stenosis") == "/conditions/spinal-stenosis/"


def test_list_page_shows_groups_in_order_intro_and_not_a_diagnosis_note(client):
    response = client.get("/conditions/")
    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(f">{group.label}</h2>") for group in ConditionGroup]
    assert positions == sorted(positions)
    assert NOT_A_DIAGNOSIS in html
    assert "conditions/conditions.css" in html
    for slug in SPEC_TOPICS:
        assert f'href="{detail_url(slug)}"' in html
    # The emergency signs box is on the list page too, linking to cauda equina.
    assert "Go to an emergency department now" in html


def test_list_page_hides_unpublished_pages(client):
    Condition.objects.filter(slug="spondylolisthesis").update(is_published=False)
    html = client.get("/conditions/").content.decode()
    assert detail_url("spondylolisthesis") not in html
    assert detail_url("spinal-stenosis") in html


@pytest.mark.parametrize("slug", sorted(SPEC_TOPICS))
def test_every_page_renders_with_sections_references_and_note(client, slug):
    condition = Condition.objects.get(slug=slug)
    response = client.get(detail_url(slug))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<h1>{condition.title}</h1>" in html
    assert NOT_A_DIAGNOSIS in html
    assert "Last updated" in html
    assert '<h2 id="references-heading">References</h2>' in html
    for reference in condition.references.all():
        if reference.doi:
            assert f'href="https://doi.org/{reference.doi}"' in html
        if reference.pmid:
            assert f'href="https://pubmed.ncbi.nlm.nih.gov/{reference.pmid}/"' in html
    assert "Preview — not published" not in html
    # Headings go h1 then h2: no page skips a level or has a second h1.
    assert html.count("<h1") == 1
    assert "<h3" not in html.split("<main", 1)[1]


def test_cauda_equina_page_puts_the_emergency_box_first_with_the_number(client, settings):
    settings.CLINIC_EMERGENCY_NUMBER = "999"
    html = client.get(detail_url("cauda-equina-syndrome")).content.decode()
    box_start = html.index('class="emergency-advice emergency-box"')
    assert box_start < html.index('id="what_it_is"')
    box = html[box_start : html.index("</section>", box_start)]
    assert "Emergency: go to an emergency department now" in box
    assert 'Call <a class="tel-link text-nowrap" href="tel:999">999</a>' in box
    assert "between your legs" in box


def test_other_pages_show_urgent_help_in_place_with_the_number(client, settings):
    settings.CLINIC_EMERGENCY_NUMBER = "112"
    html = client.get(detail_url("spinal-stenosis")).content.decode()
    assert 'class="emergency-advice emergency-box"' not in html
    urgent = urgent_help_section(html)
    assert 'href="tel:112"' in urgent  # the shared box's tap-to-call link
    assert "Contact the clinic today" in urgent  # the page's own text, after the box
    assert urgent.index('class="emergency-signs"') < urgent.index("Contact the clinic today")


class _EmergencySigns(HTMLParser):
    """Collects each ``li[data-flag]`` (flag and text) and where it sits on the page."""

    def __init__(self):
        super().__init__()
        self.signs: list[tuple[str, str, bool]] = []  # (flag, text, in the urgent section)
        self._open_sections: list[bool] = []  # is this <section> the urgent-help one?
        self._flag: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "section":
            self._open_sections.append(attributes.get("id") == "urgent_help")
        elif tag == "li" and "data-flag" in attributes:
            self._flag, self._text = attributes["data-flag"], []

    def handle_endtag(self, tag):
        if tag == "section" and self._open_sections:
            self._open_sections.pop()
        elif tag == "li" and self._flag is not None:
            text = " ".join("".join(self._text).split())
            self.signs.append((self._flag, text, any(self._open_sections)))
            self._flag = None

    def handle_data(self, data):
        if self._flag is not None:
            self._text.append(data)


def emergency_signs_on(html: str) -> list[tuple[str, str, bool]]:
    parser = _EmergencySigns()
    parser.feed(html)
    return parser.signs


def urgent_help_section(html: str) -> str:
    """The page's urgent-help section, up to the section after it (it holds a nested one)."""
    start = html.index('id="urgent_help"')
    return html[start : html.index("<section", html.index("</section>", start))]


@pytest.mark.parametrize("slug", sorted(SPEC_TOPICS))
def test_every_page_shows_the_shared_emergency_signs_exactly_in_its_urgent_help(client, slug):
    """The "go to an emergency department now" list on a page is advice.py's, nothing else."""
    html = client.get(detail_url(slug)).content.decode()
    signs = emergency_signs_on(html)
    assert [flag for flag, _text, _in_urgent in signs] == list(triage.EMERGENCY_FLAGS)
    assert [text for _flag, text, _in_urgent in signs] == [
        " ".join(str(sign.text).split()) for sign in advice.EMERGENCY_SIGNS
    ]
    assert all(in_urgent for _flag, _text, in_urgent in signs)
    assert str(advice.EMERGENCY_SIGNS_HEADING) in html


@pytest.mark.parametrize("slug", ["cauda-equina-syndrome", "spinal-stenosis"])
def test_the_shared_emergency_signs_are_shown_in_spanish_too(client, slug):
    html = client.get(detail_url(slug), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    with translation.override("es"):
        expected = [" ".join(str(sign.text).split()) for sign in advice.EMERGENCY_SIGNS]
    signs = emergency_signs_on(html)
    assert [flag for flag, _text, _in_urgent in signs] == list(triage.EMERGENCY_FLAGS)
    assert [text for _flag, text, _in_urgent in signs] == expected


def test_a_page_staff_wrote_still_shows_the_shared_emergency_signs(client):
    ConditionFactory(slug="staff-page", urgent_help="Phone us if you are worried.")
    signs = emergency_signs_on(client.get(detail_url("staff-page")).content.decode())
    assert [flag for flag, _text, _in_urgent in signs] == list(triage.EMERGENCY_FLAGS)


def test_unknown_slug_is_a_404(client):
    assert client.get(detail_url("no-such-condition")).status_code == 404


def test_unpublished_page_is_a_404_for_the_public(client):
    Condition.objects.filter(slug="spinal-tumour").update(is_published=False)
    assert client.get(detail_url("spinal-tumour")).status_code == 404


def test_unpublished_page_is_a_404_for_staff_without_permission(client):
    Condition.objects.filter(slug="spinal-tumour").update(is_published=False)
    client.force_login(UserFactory(username="frontdesk"))
    assert client.get(detail_url("spinal-tumour")).status_code == 404


def test_staff_with_permission_can_preview_an_unpublished_page(client):
    Condition.objects.filter(slug="spinal-tumour").update(is_published=False)
    user = UserFactory(username="previewer")
    user.user_permissions.add(Permission.objects.get(codename="view_condition"))
    client.force_login(user)
    response = client.get(detail_url("spinal-tumour"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview — not published." in html
    assert 'name="robots" content="noindex, nofollow"' in html
    assert "no-store" in response["Cache-Control"]


def test_page_text_from_the_database_is_escaped(client):
    condition = ConditionFactory(
        slug="escape-test",
        title='Bad <script>alert("t")</script> title',
        summary="<b>bold</b> summary",
        what_it_is='Para one <script>alert("x")</script>\n\n- item <img src=x onerror=alert(1)>',
        causes="A & B",
    )
    ReferenceFactory(condition=condition, title="<i>ref</i>", authors="O'Hara <x>")
    html = client.get(detail_url("escape-test")).content.decode()
    assert "<script>alert" not in html
    main = html.split("<main", 1)[1]
    assert "<script>" not in main
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in main
    assert "<img" not in main
    assert "&lt;img src=x onerror=alert(1)&gt;" in main
    assert "<b>bold</b>" not in main
    assert "<i>ref</i>" not in main
    assert "A &amp; B" in main
    # The safe structure built by the filter is still there.
    assert "<p>Para one" in main
    assert "<ul><li>item &lt;img" in main


def test_detail_page_query_count_is_fixed(client, django_assert_max_num_queries):
    condition = ConditionFactory(slug="many-references")
    with django_assert_max_num_queries(2):
        assert client.get(detail_url("many-references")).status_code == 200
    ReferenceFactory.create_batch(40, condition=condition)
    with django_assert_max_num_queries(2):
        response = client.get(detail_url("many-references"))
    assert response.content.decode().count('class="reference-id"') == 40


def test_list_page_query_count_is_fixed(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        assert client.get("/conditions/").status_code == 200
    ConditionFactory.create_batch(30)
    with django_assert_max_num_queries(1):
        assert client.get("/conditions/").status_code == 200


def test_pages_link_the_print_friendly_stylesheet(client):
    html = client.get(detail_url("spinal-stenosis")).content.decode()
    assert "conditions/conditions.css" in html
    assert 'name="viewport"' in html


def test_stylesheet_has_print_and_phone_rules():
    from django.contrib.staticfiles import finders

    path = finders.find("conditions/conditions.css")
    assert path
    with open(path, encoding="utf-8") as handle:
        css = handle.read()
    assert "@media print" in css
    assert "@media (max-width" in css
