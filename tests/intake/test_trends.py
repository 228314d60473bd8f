"""Tests for the trend of a patient's answers over time (issue 22, "Trends").

The cases are built in memory and never saved: no test here is marked for the
database, so pytest-django makes any query fail the test. That is what shows
``answer_trend`` and ``trend_chart_svg`` are pure (the lead's pages load the
cases once and pass them in).

Expected wording ("Which leg feels weak?", "changed from No to Yes", "26 Nov
2026") is written out here rather than read from the module, so a wrong label
fails a test.
"""

import datetime
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.template.loader import render_to_string

from intake.forms import STEPS
from intake.models import Case
from intake.trends import answer_trend, trend_chart_svg
from tests.factories import complete_answers

UTC = datetime.UTC
START = datetime.datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
TEMPLATE = "admin/intake/_trend.html"


def make_case(number: int, *, days: int = 0, tier: str = "routine", **changes) -> Case:
    """An unsaved case: a calm questionnaire with ``changes``, ``days`` after START."""
    return Case(
        answers=complete_answers(**changes),
        submitted_at=START + datetime.timedelta(days=days),
        reference=f"C-TREND{number:03d}",
        tier=tier,
    )


def follow_ups(count: int) -> list[Case]:
    """A baseline and ``count`` follow-ups two weeks apart, pain going up and down."""
    answers = ["much_better", "a_little_better", "same", "a_little_worse", "much_worse"]
    return [make_case(0, pain_score=7)] + [
        make_case(
            number,
            days=14 * number,
            pain_score=(7 + number) % 11,
            change_since_last=answers[number % 5],
        )
        for number in range(1, count + 1)
    ]


def row(trend, code):
    return next(row for row in trend.rows if row.code == code)


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.TIME_ZONE = "UTC"


# The table -------------------------------------------------------------------


def test_one_column_per_case_in_time_order_with_the_staff_date_and_reference():
    trend = answer_trend([make_case(1), make_case(2, days=14, tier="urgent")])

    assert [column.reference for column in trend.columns] == ["C-TREND001", "C-TREND002"]
    assert [column.date for column in trend.columns] == ["3 Mar 2026", "17 Mar 2026"]
    assert [column.moment for column in trend.columns] == [
        "3 Mar 2026, 12:00",
        "17 Mar 2026, 12:00",
    ]
    assert [column.kind for column in trend.columns] == ["Baseline", "Follow-up 1"]
    assert [column.tier_label for column in trend.columns] == ["Routine", "Urgent"]
    assert all(len(row.cells) == 2 for row in trend.rows)


def test_the_date_is_the_clinics_day(settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    late = Case(
        answers=complete_answers(),
        submitted_at=datetime.datetime(2026, 3, 4, 2, 30, tzinfo=UTC),
        reference="C-LATE",
        tier="routine",
    )

    (column,) = answer_trend([late]).columns

    assert column.date == "3 Mar 2026"
    assert column.moment == "3 Mar 2026, 18:30"


def test_rows_follow_the_questionnaire_order():
    trend = answer_trend(follow_ups(1))

    questionnaire_order = [
        code for step in STEPS if step.slug != "about" for code in step.form_class.base_fields
    ]
    sections = ["Your legs", "Pain and feeling", "Important warning signs", "Your health"]
    if "change_since_last" not in questionnaire_order:
        # Until the questionnaire asks it, the trend puts it first, in its own section.
        questionnaire_order.insert(0, "change_since_last")
        sections.insert(0, "Since last time")
    answered = {*complete_answers(), "change_since_last"} - {"age"}
    assert [row.code for row in trend.rows] == [
        code for code in questionnaire_order if code in answered
    ]
    assert [section.title for section in trend.sections] == sections
    assert row(trend, "weak_side").question == "Which leg feels weak?"
    assert row(trend, "change_since_last").question in {
        "Compared with last time, your legs are:",
        "Compared with last time you answered, your legs are:",
    }


def test_answers_are_in_words():
    trend = answer_trend([make_case(1, weak_side="left", weakness_onset="days")])

    assert row(trend, "weak_side").cells[0].answer == "My left leg"
    assert row(trend, "weakness_onset").cells[0].answer == "Over a few days"
    assert row(trend, "saddle_numbness").cells[0].answer == "No"
    assert row(trend, "pain_score").cells[0].answer == "4"


def test_a_change_is_said_in_words_against_the_case_before():
    trend = answer_trend(
        [
            make_case(1, saddle_numbness="no", pain_score=7),
            make_case(2, days=14, saddle_numbness="yes", pain_score=4),
            make_case(3, days=28, saddle_numbness="yes", pain_score=8),
        ]
    )

    saddle = row(trend, "saddle_numbness")
    assert [cell.answer for cell in saddle.cells] == ["No", "Yes", "Yes"]
    assert [cell.changed for cell in saddle.cells] == [False, True, False]
    assert [cell.change for cell in saddle.cells] == ["", "changed from No to Yes", ""]
    assert saddle.changed
    assert [cell.change for cell in row(trend, "pain_score").cells] == [
        "",
        "changed from 7 to 4 (down 3)",
        "changed from 4 to 8 (up 4)",
    ]
    unchanged = row(trend, "fever")
    assert not unchanged.changed
    assert trend.change_count == 3


def test_the_same_answer_stored_as_a_number_or_text_is_not_a_change():
    trend = answer_trend([make_case(1, pain_score=5), make_case(2, days=1, pain_score="5")])

    assert not row(trend, "pain_score").changed


def test_a_question_nobody_answered_is_left_out():
    trend = answer_trend([make_case(1, medications=None), make_case(2, days=14)])

    codes = {row.code for row in trend.rows}
    assert "medications" not in codes
    assert "falls" not in codes  # asked only when a leg gave way
    assert "age" not in codes  # worked out from the date of birth, not asked


def test_missing_answers_say_why_and_are_not_changes():
    trend = answer_trend(
        [
            make_case(1),  # no leg weak: the weakness details are not asked
            make_case(2, days=14, weak_side="right", weakness_onset="days"),
            make_case(3, days=28, weak_side="right", weakness_onset="days", night_pain=None),
        ]
    )

    onset = row(trend, "weakness_onset")
    assert [cell.answer for cell in onset.cells] == [
        "Not asked",
        "Over a few days",
        "Over a few days",
    ]
    assert [cell.answered for cell in onset.cells] == [False, True, True]
    assert onset.cells[1].change == "changed from Not asked to Over a few days"
    night = row(trend, "night_pain")
    assert [cell.answer for cell in night.cells] == ["No", "No", "Not answered"]
    assert not night.changed


def test_change_since_last_is_a_row_empty_for_the_baseline_and_never_a_change():
    trend = answer_trend(
        [
            make_case(1),
            make_case(2, days=14, change_since_last="much_better"),
            make_case(3, days=28, change_since_last="a_little_worse"),
        ]
    )

    change = row(trend, "change_since_last")
    assert [cell.answer for cell in change.cells] == ["Not asked", "Much better", "A little worse"]
    assert not change.changed


def test_one_case_has_no_changes():
    trend = answer_trend([make_case(1, weak_side="both", weakness_onset="hours")])

    assert len(trend.columns) == 1
    assert trend.change_count == 0
    assert "change_since_last" not in {row.code for row in trend.rows}


def test_no_cases_make_an_empty_trend():
    trend = answer_trend([])

    assert trend.columns == ()
    assert trend.sections == ()
    assert trend.points == ()


def test_fifty_follow_ups():
    cases = follow_ups(50)

    trend = answer_trend(cases)

    assert len(trend.columns) == 51
    assert trend.columns[-1].kind == "Follow-up 50"
    assert all(len(row.cells) == 51 for row in trend.rows)
    # The pain score differs from the one before at every follow-up.
    assert sum(cell.changed for cell in row(trend, "pain_score").cells) == 50
    assert trend.change_count == 50


def test_an_answer_todays_questionnaire_does_not_know_is_still_shown_last():
    trend = answer_trend(
        [make_case(1, retired_question="yes"), make_case(2, days=1, retired_question="no")]
    )

    assert trend.sections[-1].title == "Other answers"
    (retired,) = trend.sections[-1].rows
    assert retired.cells[1].change == "changed from yes to no"


def test_a_changed_free_text_is_not_repeated_in_the_change():
    trend = answer_trend(
        [make_case(1, medications="Paracetamol"), make_case(2, days=1, medications="Ibuprofen")]
    )

    cell = row(trend, "medications").cells[1]
    assert cell.changed
    assert cell.change == "changed since the questionnaire before"


def test_the_trend_and_the_chart_make_no_query():
    """No database mark: pytest-django fails this test if either function queries."""
    cases = follow_ups(3)

    answer_trend(cases)
    trend_chart_svg(cases)


# The chart --------------------------------------------------------------------


def parse(svg) -> ET.Element:
    """The chart as XML: our own output, so the stdlib parser is safe here."""
    return ET.fromstring(str(svg))  # noqa: S314


def with_class(root: ET.Element, css_class: str) -> list[ET.Element]:
    return [node for node in root.iter() if css_class in node.get("class", "").split()]


def assert_accessible_and_self_contained(svg) -> ET.Element:
    text = str(svg)
    root = parse(svg)
    assert root.tag == "svg"
    assert root.get("role") == "img"
    title, desc = root.find("title"), root.find("desc")
    assert title is not None and title.text
    assert desc is not None and desc.text
    assert root.get("aria-labelledby").split() == [title.get("id"), desc.get("id")]
    lowered = text.lower()
    assert "<script" not in lowered
    assert "http" not in lowered
    assert "href" not in lowered
    assert "style=" not in lowered  # the site's CSP forbids inline styles
    assert not [node for node in root.iter() if node.tag in {"image", "foreignObject", "use"}]
    return root


def point_positions(root: ET.Element) -> tuple[list[tuple[float, float]], list[tuple[float, ...]]]:
    pains = [
        (float(node.get("cx")), float(node.get("cy")))
        for node in with_class(root, "trend-pain-point")
    ]
    changes = [
        (float(node.get("data-x")), float(node.get("data-y")))
        for node in with_class(root, "trend-change-point")
    ]
    return pains, changes


def box(root: ET.Element, css_class: str) -> tuple[float, float, float, float]:
    (rect,) = with_class(root, css_class)
    x, y = float(rect.get("x")), float(rect.get("y"))
    return x, y, x + float(rect.get("width")), y + float(rect.get("height"))


def assert_inside(points, bounds):
    left, top, right, bottom = bounds
    for x, y in points:
        assert left <= x <= right
        assert top <= y <= bottom


def test_the_chart_is_accessible_and_loads_nothing():
    root = assert_accessible_and_self_contained(trend_chart_svg(follow_ups(2)))

    assert (
        root.find("title").text
        == "Pain score and change since last time, 3 Mar 2026 to 31 Mar 2026"
    )
    desc = root.find("desc").text
    assert "Pain score out of 10: 7 on 3 Mar 2026; 8 on 17 Mar 2026; 9 on 31 Mar 2026." in desc
    assert "A little better on 17 Mar 2026; The same on 31 Mar 2026." in desc


def test_the_chart_places_every_value_within_its_plot_box_by_date():
    root = parse(trend_chart_svg(follow_ups(2)))
    pains, changes = point_positions(root)

    assert len(pains) == 3 and len(changes) == 2
    assert_inside(pains, box(root, "trend-pain-box"))
    assert_inside(changes, box(root, "trend-change-box"))
    # Later dates further right; a pain of 9 above one of 7.
    assert pains[0][0] < pains[1][0] < pains[2][0]
    assert pains[2][1] < pains[0][1]
    # "The same" (third) is below "a little better" (second).
    assert changes[1][1] > changes[0][1]


def test_the_ends_of_the_scales_sit_on_the_box_edges():
    cases = [
        make_case(1, pain_score=0),
        make_case(2, days=7, pain_score=10, change_since_last="much_worse"),
        make_case(3, days=14, pain_score=5, change_since_last="much_better"),
    ]
    root = parse(trend_chart_svg(cases))
    pains, changes = point_positions(root)
    _, pain_top, _, pain_bottom = box(root, "trend-pain-box")
    _, change_top, _, change_bottom = box(root, "trend-change-box")

    assert pains[0][1] == pain_bottom
    assert pains[1][1] == pain_top
    assert pains[2][1] == (pain_top + pain_bottom) / 2
    assert changes == [(pains[1][0], change_bottom), (pains[2][0], change_top)]


def test_the_two_series_differ_by_line_style_and_marker_not_only_colour():
    root = parse(trend_chart_svg(follow_ups(2)))

    (pain_line,) = with_class(root, "trend-pain-line")
    (change_line,) = with_class(root, "trend-change-line")
    assert pain_line.get("stroke-dasharray") is None
    assert change_line.get("stroke-dasharray")
    assert {node.tag for node in with_class(root, "trend-pain-point")} == {"circle"}
    assert {node.tag for node in with_class(root, "trend-change-point")} == {"polygon"}
    headings = [node.text for node in with_class(root, "trend-heading")]
    assert any("solid line" in heading for heading in headings)
    assert any("dashed line" in heading for heading in headings)


def test_a_missing_pain_score_breaks_the_line():
    cases = [
        make_case(1, pain_score=6),
        make_case(2, days=7, pain_score=5),
        make_case(3, days=14, pain_score=None),
        make_case(4, days=21, pain_score=3),
        make_case(5, days=28, pain_score=2),
    ]
    root = parse(trend_chart_svg(cases))

    assert len(with_class(root, "trend-pain-point")) == 4
    assert len(with_class(root, "trend-pain-line")) == 2


def test_no_cases_make_a_small_chart_that_says_so():
    root = assert_accessible_and_self_contained(trend_chart_svg([]))

    assert point_positions(root) == ([], [])
    assert "No pain scores or changes to show yet." in "".join(root.itertext())


def test_one_case_is_one_point_in_the_middle_with_its_date():
    root = assert_accessible_and_self_contained(trend_chart_svg([make_case(1, pain_score=6)]))
    pains, changes = point_positions(root)
    left, _, right, _ = box(root, "trend-pain-box")

    assert len(pains) == 1 and changes == []
    assert pains[0][0] == (left + right) / 2
    assert [node.text for node in with_class(root, "trend-date")] == ["3 Mar 2026"]
    assert not with_class(root, "trend-pain-line")
    assert "6 on 3 Mar 2026" in root.find("desc").text
    notes = [node.text for node in with_class(root, "trend-box-note")]
    assert notes == ["No answer yet: asked at follow-ups only."]


def test_fifty_follow_ups_stay_readable():
    cases = follow_ups(50)
    root = assert_accessible_and_self_contained(trend_chart_svg(cases))
    pains, changes = point_positions(root)

    assert len(pains) == 51 and len(changes) == 50
    assert_inside(pains, box(root, "trend-pain-box"))
    assert_inside(changes, box(root, "trend-change-box"))
    dates = with_class(root, "trend-date")
    assert 2 <= len(dates) <= 10
    assert dates[0].text == "3 Mar 2026"
    assert dates[-1].text == "1 Feb 2028"  # 50 fortnights later
    xs = [float(node.get("x")) for node in dates]
    assert all(later - earlier >= 80 for earlier, later in zip(xs, xs[1:], strict=False))
    # Too many to print each value beside its marker: the table beside has them.
    assert not with_class(root, "trend-pain-value")
    desc = root.find("desc").text
    assert "given 51 times" in desc
    assert "highest 10" in desc and "lowest 0" in desc


def test_a_few_points_print_their_values():
    root = parse(trend_chart_svg(follow_ups(2)))

    assert [node.text for node in with_class(root, "trend-pain-value")] == ["7", "8", "9"]


def test_a_hostile_answer_is_not_drawn():
    cases = [
        make_case(1, pain_score="<script>alert(1)</script>"),
        make_case(2, days=7, pain_score=3, change_since_last="<img src=x onerror=alert(1)>"),
    ]
    svg = str(trend_chart_svg(cases))
    root = assert_accessible_and_self_contained(svg)

    assert "<img" not in svg.lower()
    assert len(with_class(root, "trend-pain-point")) == 1
    assert not with_class(root, "trend-change-point")


def test_the_ids_can_be_made_unique_for_a_second_chart():
    root = parse(trend_chart_svg(follow_ups(1), id_prefix="patient-trend"))

    assert root.get("aria-labelledby") == "patient-trend-title patient-trend-desc"


# The include --------------------------------------------------------------------


class Tables(HTMLParser):
    """Each <table> as rows of (tag, attributes, text) cells, and the cells' classes."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[tuple[str, dict, str]]]] = []
        self.captions: list[str] = []
        self._cell = None
        self._caption = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in {"th", "td"} and self.tables:
            self._cell = (tag, dict(attrs), [])
        elif tag == "caption":
            self._caption = []

    def handle_endtag(self, tag):
        if tag in {"th", "td"} and self._cell:
            name, attrs, text = self._cell
            self.tables[-1][-1].append((name, attrs, " ".join("".join(text).split())))
            self._cell = None
        elif tag == "caption" and self._caption is not None:
            self.captions.append(" ".join("".join(self._caption).split()))
            self._caption = None

    def handle_data(self, data):
        if self._cell:
            self._cell[2].append(data)
        if self._caption is not None:
            self._caption.append(data)


def render(cases) -> tuple[str, Tables]:
    html = render_to_string(
        TEMPLATE, {"trend": answer_trend(cases), "chart": trend_chart_svg(cases)}
    )
    tables = Tables()
    tables.feed(html)
    return html, tables


def test_the_include_shows_the_chart_its_values_and_the_answers():
    cases = [
        make_case(1, saddle_numbness="no", pain_score=7),
        make_case(2, days=14, saddle_numbness="yes", pain_score=4, change_since_last="same"),
    ]

    html, tables = render(cases)

    assert str(trend_chart_svg(cases)) in html
    assert tables.captions == ["Pain score and legs compared with last time", "Answers over time"]
    values, answers = tables.tables
    assert [cell[2] for cell in values[0]] == [
        "Date",
        "Case",
        "Pain score (0 to 10)",
        "Legs compared with last time",
    ]
    assert [cell[2] for cell in values[1]] == ["3 Mar 2026", "C-TREND001", "7", "Not asked"]
    assert [cell[2] for cell in values[2]] == ["17 Mar 2026", "C-TREND002", "4", "The same"]

    header = answers[0]
    assert all(cell[0] == "th" and cell[1]["scope"] == "col" for cell in header)
    assert header[1][2] == "Baseline 3 Mar 2026 C-TREND001 Triage: Routine"
    assert header[2][2] == "Follow-up 1 17 Mar 2026 C-TREND002 Triage: Routine"
    body = answers[1:]
    sections = [r[0][2] for r in body if r[0][1].get("scope") == "rowgroup"]
    assert "Important warning signs" in sections
    question_rows = {r[0][2]: r for r in body if r[0][1].get("scope") == "row"}
    change = next(r for question, r in question_rows.items() if "Compared with" in question)
    assert [cell[2] for cell in change[1:]] == ["Not asked", "The same"]
    saddle = question_rows["Is there new numbness, tingling or an odd feeling between your legs?"]
    assert [cell[2] for cell in saddle[1:]] == ["No", "Yes changed from No to Yes"]
    assert saddle[2][1]["class"] == "trend-changed"
    assert "class" not in saddle[1][1]
    # Every data row has the question and one cell per case.
    assert all(len(r) == 3 for r in question_rows.values())


def test_the_include_escapes_what_the_patient_typed():
    html, _ = render([make_case(1, medications="<script>alert(1)</script>")])

    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_include_with_one_case_says_there_is_nothing_to_compare():
    html, tables = render([make_case(1)])

    assert "There is nothing to compare yet." in html
    assert 'class="trend-changed"' not in html
    assert len(tables.tables) == 2


def test_the_include_with_no_cases():
    html, tables = render([])

    assert "No questionnaires to show yet." in html
    assert tables.tables == []


def test_the_include_with_fifty_follow_ups():
    html, tables = render(follow_ups(50))

    values, answers = tables.tables
    assert len(values) == 52  # header and 51 questionnaires
    assert all(len(r) == 52 for r in answers if r[0][1].get("scope") in {"col", "row"})
    assert "50 answers changed from the questionnaire before them." in html


def test_every_word_of_the_include_is_marked_for_translation():
    source = Path(django_settings.BASE_DIR, "templates", TEMPLATE).read_text()
    for pattern in (
        r"{% comment %}.*?{% endcomment %}",
        r"{% blocktranslate.*?{% endblocktranslate %}",
        r"{%.*?%}",
        r"{{.*?}}",
        r"<[^>]*>",
    ):
        source = re.sub(pattern, " ", source, flags=re.DOTALL)
    assert re.findall(r"[^\W\d_]+", source) == []
