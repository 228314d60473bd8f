"""A patient's answers over time: the trend table and the chart (issue 22, "Trends").

Pure presentation: both functions take the cases of one patient in time order
(the first is the baseline, the others its follow-ups), read only what the
cases carry, and make no query. The wording is the staff screens' own
(``intake_admin.answer_in_words``, ``staff_date``), so an answer reads the same
in the trend as on the case page.

A change is always said in words ("changed from No to Yes"), never by colour
alone; the chart draws the pain score and the global impression of change with
different line styles and markers, and says its values in words for screen
readers, with the same values in a text table beside it (``_trend.html``).
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from intake.forms import is_asked
from intake.models import Case
from intake.templatetags.intake_admin import (
    answer_in_words,
    clinic_time,
    iso_datetime,
    staff_date,
    staff_datetime,
    symptom_questions,
)

#: The follow-up question "Compared with last time, your legs are:" (a global
#: impression of change; our own wording, not a licensed instrument).
CHANGE_SINCE_LAST = "change_since_last"
CHANGE_SINCE_LAST_LABEL = gettext_lazy("Compared with last time, your legs are:")
#: Its answers, best first, with the score the chart draws (-2 to +2).
CHANGE_SINCE_LAST_CHOICES = (
    ("much_better", gettext_lazy("Much better"), 2),
    ("a_little_better", gettext_lazy("A little better"), 1),
    ("same", gettext_lazy("The same"), 0),
    ("a_little_worse", gettext_lazy("A little worse"), -1),
    ("much_worse", gettext_lazy("Much worse"), -2),
)
CHANGE_SCORES = {code: score for code, _label, score in CHANGE_SINCE_LAST_CHOICES}
PAIN_SCORE = "pain_score"
PAIN_SCORE_MAX = 10
#: Stored with the answers but worked out, not asked (``services.answers_with_age``).
DERIVED_ANSWERS = frozenset({"age"})
#: An answer longer than this is not repeated in the words of its change.
LONG_ANSWER = 60


# The trend table ----------------------------------------------------------------


@dataclass(frozen=True)
class TrendColumn:
    """One questionnaire (case): the baseline or a follow-up."""

    reference: str
    kind: str  # "Baseline", "Follow-up 3"
    date: str  # staff_date, clinic time
    moment: str  # staff_datetime, clinic time
    iso: str  # for <time datetime>
    tier: str
    tier_label: str
    is_baseline: bool


@dataclass(frozen=True)
class TrendCell:
    """One answer in words, and the change from the questionnaire before, in words."""

    answer: str
    answered: bool
    changed: bool = False
    change: str = ""  # "changed from No to Yes"; empty when not changed


@dataclass(frozen=True)
class TrendRow:
    code: str
    question: str
    cells: tuple[TrendCell, ...]

    @property
    def changed(self) -> bool:
        return any(cell.changed for cell in self.cells)


@dataclass(frozen=True)
class TrendSection:
    title: str
    rows: tuple[TrendRow, ...]


@dataclass(frozen=True)
class TrendPoint:
    """The chart's values for one questionnaire, also shown as the text table beside it."""

    reference: str
    date: str
    iso: str
    submitted_at: datetime.datetime | None
    pain: int | None
    pain_words: str
    change_score: int | None
    change_words: str


@dataclass(frozen=True)
class Trend:
    columns: tuple[TrendColumn, ...]
    sections: tuple[TrendSection, ...]
    points: tuple[TrendPoint, ...]

    @property
    def rows(self) -> list[TrendRow]:
        return [row for section in self.sections for row in section.rows]

    @property
    def change_count(self) -> int:
        """How many answers differ from the questionnaire before them."""
        return sum(cell.changed for row in self.rows for cell in row.cells)


def _has_answer(value: object) -> bool:
    return value not in (None, "", [])


def _change_since_last_in_words(value: object) -> str:
    labels = {code: label for code, label, _score in CHANGE_SINCE_LAST_CHOICES}
    return str(labels.get(str(value), value))


def _answer_words(code: str, answers: dict, *, is_baseline: bool) -> str:
    value = answers.get(code)
    if _has_answer(value):
        if code == CHANGE_SINCE_LAST and code not in symptom_questions():
            return _change_since_last_in_words(value)
        return answer_in_words(code, value)
    if (code == CHANGE_SINCE_LAST and is_baseline) or not is_asked(code, answers):
        return _("Not asked")
    return _("Not answered")


def _is_free_text(code: str, before: str, after: str) -> bool:
    question = symptom_questions().get(code)
    if question is None:  # an answer today's questionnaire does not know
        return max(len(before), len(after)) > LONG_ANSWER
    return isinstance(question.field, forms.CharField)


def _change_in_words(code: str, before: str, after: str, values: tuple[object, object]) -> str:
    if _is_free_text(code, before, after):
        # Long texts side by side are already in the columns; repeating both
        # in the cell would make the table unreadable.
        return _("changed since the questionnaire before")
    if code == PAIN_SCORE:
        old, new = (_pain_score(value) for value in values)
        if old is not None and new is not None:
            if new > old:
                return _("changed from %(before)s to %(after)s (up %(count)d)") % {
                    "before": before,
                    "after": after,
                    "count": new - old,
                }
            return _("changed from %(before)s to %(after)s (down %(count)d)") % {
                "before": before,
                "after": after,
                "count": old - new,
            }
    return _("changed from %(before)s to %(after)s") % {"before": before, "after": after}


def _row_cells(code: str, cases: Sequence[Case]) -> tuple[TrendCell, ...]:
    cells = []
    previous_value, previous_words = None, ""
    for index, case in enumerate(cases):
        answers = case.answers or {}
        value = answers.get(code)
        words = _answer_words(code, answers, is_baseline=index == 0)
        changed = (
            index > 0
            # The global impression is itself a comparison; it has no "before".
            and code != CHANGE_SINCE_LAST
            # A question not asked this time is said so in its cell, not as a change.
            and _has_answer(value)
            and words != previous_words
        )
        cells.append(
            TrendCell(
                answer=words,
                answered=_has_answer(value),
                changed=changed,
                change=(
                    _change_in_words(code, previous_words, words, (previous_value, value))
                    if changed
                    else ""
                ),
            )
        )
        previous_value, previous_words = value, words
    return tuple(cells)


def _column(case: Case, index: int) -> TrendColumn:
    return TrendColumn(
        reference=case.reference or "",
        kind=_("Baseline") if index == 0 else _("Follow-up %(number)d") % {"number": index},
        date=_day_in_words(case.submitted_at),
        moment=staff_datetime(case.submitted_at),
        iso=iso_datetime(case.submitted_at),
        tier=case.tier or "",
        tier_label=str(case.get_tier_display()) if case.tier else "",
        is_baseline=index == 0,
    )


def _day_in_words(moment: datetime.datetime | None) -> str:
    return staff_date(clinic_time(moment).date()) if moment is not None else ""


def answer_trend(cases: Sequence[Case]) -> Trend:
    """Every question's answers over time, in questionnaire order, changes said in words.

    ``cases``: one patient's cases in time order, the baseline first. One
    column per case; one row per question any of them answered (a question
    none answered, and the age worked out from the date of birth, are left
    out), grouped by the questionnaire's sections. The follow-up question
    "Compared with last time, your legs are:" comes first, as it sums up the
    rest; answers whose code today's questionnaire does not know come last,
    under "Other answers", so nothing stored is hidden.

    A cell is marked changed when its answer differs from the case before;
    a question not asked or not answered this time is said so in the cell
    and is not counted as a change. No query: pass cases already loaded.
    """
    cases = list(cases)
    known = symptom_questions()
    sections: dict[str, list[TrendRow]] = {}
    if CHANGE_SINCE_LAST not in known:
        sections[_("Since last time")] = [
            TrendRow(CHANGE_SINCE_LAST, str(CHANGE_SINCE_LAST_LABEL), ())
        ]
    for code, question in known.items():
        sections.setdefault(question.section, []).append(TrendRow(code, question.label, ()))
    stored = dict.fromkeys(
        code
        for case in cases
        for code in (case.answers or {})
        if code not in known and code not in DERIVED_ANSWERS
    )
    stored.pop(CHANGE_SINCE_LAST, None)
    if stored:
        sections[_("Other answers")] = [TrendRow(code, code, ()) for code in stored]

    built = []
    for title, rows in sections.items():
        kept = tuple(
            TrendRow(row.code, row.question, _row_cells(row.code, cases))
            for row in rows
            if any(_has_answer((case.answers or {}).get(row.code)) for case in cases)
        )
        if kept:
            built.append(TrendSection(title, kept))
    return Trend(
        columns=tuple(_column(case, index) for index, case in enumerate(cases)),
        sections=tuple(built),
        points=trend_points(cases),
    )


# The chart's values -------------------------------------------------------------


def _pain_score(value: object) -> int | None:
    """A stored pain score as a number from 0 to 10; anything else is not drawn."""
    if isinstance(value, bool):
        return None
    try:
        score = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return score if 0 <= score <= PAIN_SCORE_MAX else None


def trend_points(cases: Sequence[Case]) -> tuple[TrendPoint, ...]:
    """The pain score and the global impression of change of each case, with words."""
    points = []
    for index, case in enumerate(cases):
        answers = case.answers or {}
        change = answers.get(CHANGE_SINCE_LAST)
        points.append(
            TrendPoint(
                reference=case.reference or "",
                date=_day_in_words(case.submitted_at),
                iso=iso_datetime(case.submitted_at),
                submitted_at=case.submitted_at,
                pain=_pain_score(answers.get(PAIN_SCORE)),
                pain_words=_answer_words(PAIN_SCORE, answers, is_baseline=index == 0),
                change_score=CHANGE_SCORES.get(str(change)) if _has_answer(change) else None,
                change_words=_answer_words(CHANGE_SINCE_LAST, answers, is_baseline=index == 0),
            )
        )
    return tuple(points)


# The chart ------------------------------------------------------------------------

WIDTH = 640
PLOT_LEFT = 112  # room for the axis words ("A little better")
PLOT_RIGHT = WIDTH - 16
#: Points sit this far inside the box, so a date centred under them fits.
PLOT_INSET = 36
PAIN_HEADING_Y = 16  # above the room for a 10's value printed over its marker
PAIN_TOP, PAIN_BOTTOM = 44, 164
CHANGE_TOP, CHANGE_BOTTOM = 204, 284
DATE_LABEL_Y = 304
HEIGHT = 316
EMPTY_HEIGHT = 48
#: Date labels closer than this (in pixels) would overlap: the later one is left out.
MIN_DATE_LABEL_GAP = 84
#: Above this many points the values are not printed beside the markers (the
#: text table beside the chart has every one).
MAX_VALUE_LABELS = 12
#: Above this many points the description sums the values up instead of listing them.
MAX_LISTED_IN_DESCRIPTION = 12


def _number(value: float) -> str:
    """A coordinate as SVG wants it, whatever the language: "12.5", never "12,5"."""
    return f"{value:.1f}".removesuffix(".0")


def _x_positions(points: Sequence[TrendPoint]) -> list[float]:
    """Across the box by date (a gap of 6 weeks looks longer than one of 2)."""
    left, right = PLOT_LEFT + PLOT_INSET, PLOT_RIGHT - PLOT_INSET
    if len(points) == 1:
        return [(left + right) / 2]
    moments = [point.submitted_at for point in points]
    if any(moment is None for moment in moments) or moments[0] == moments[-1]:
        step = (right - left) / (len(points) - 1)
        return [left + step * index for index in range(len(points))]
    first, span = moments[0], (moments[-1] - moments[0]).total_seconds()
    return [
        min(max(left + (right - left) * (moment - first).total_seconds() / span, left), right)
        for moment in moments
    ]


def _pain_y(score: int) -> float:
    return PAIN_BOTTOM - (PAIN_BOTTOM - PAIN_TOP) * score / PAIN_SCORE_MAX


def _change_y(score: int) -> float:
    middle = (CHANGE_TOP + CHANGE_BOTTOM) / 2
    return middle - (CHANGE_BOTTOM - CHANGE_TOP) / 2 * score / 2


def _labelled_dates(points: Sequence[TrendPoint], xs: Sequence[float]) -> list[int]:
    """Which points get a date under the chart: as many as fit, the first and last always."""
    kept: list[int] = []
    for index, x in enumerate(xs):
        if kept and (
            x - xs[kept[-1]] < MIN_DATE_LABEL_GAP or points[index].date == points[kept[-1]].date
        ):
            continue
        kept.append(index)
    last = len(points) - 1
    if kept and kept[-1] != last and points[last].date != points[kept[-1]].date:
        if len(kept) > 1 and xs[last] - xs[kept[-1]] < MIN_DATE_LABEL_GAP:
            kept.pop()
        kept.append(last)
    return kept


def _segments(xs: Sequence[float], ys: Sequence[float | None]) -> list[str]:
    """The lines' points, broken where a value is missing ("x,y x,y ...")."""
    segments, current = [], []
    for x, y in zip(xs, ys, strict=True):
        if y is None:
            if len(current) > 1:
                segments.append(" ".join(current))
            current = []
            continue
        current.append(f"{_number(x)},{_number(y)}")
    if len(current) > 1:
        segments.append(" ".join(current))
    return segments


def _describe(points: Sequence[TrendPoint]) -> str:
    """The chart's values in words, for screen readers (``<desc>``)."""
    if not points:
        return _("No questionnaires yet.")
    pains = [(point.pain, point.date) for point in points if point.pain is not None]
    changes = [(point, point.change_words) for point in points if point.change_score is not None]
    parts = []
    if not pains:
        parts.append(_("No pain score was given."))
    elif len(points) <= MAX_LISTED_IN_DESCRIPTION:
        parts.append(
            _("Pain score out of 10: %(values)s.")
            % {
                "values": "; ".join(
                    _("%(score)d on %(day)s") % {"score": score, "day": day} for score, day in pains
                )
            }
        )
    else:
        highest = max(pains, key=lambda pair: pair[0])
        lowest = min(pains, key=lambda pair: pair[0])
        parts.append(
            ngettext(
                "Pain score out of 10, given %(count)d time: first %(first)d on %(first_day)s, "
                "last %(last)d on %(last_day)s, highest %(high)d on %(high_day)s, "
                "lowest %(low)d on %(low_day)s.",
                "Pain score out of 10, given %(count)d times: first %(first)d on %(first_day)s, "
                "last %(last)d on %(last_day)s, highest %(high)d on %(high_day)s, "
                "lowest %(low)d on %(low_day)s.",
                len(pains),
            )
            % {
                "count": len(pains),
                "first": pains[0][0],
                "first_day": pains[0][1],
                "last": pains[-1][0],
                "last_day": pains[-1][1],
                "high": highest[0],
                "high_day": highest[1],
                "low": lowest[0],
                "low_day": lowest[1],
            }
        )
    if not changes:
        parts.append(_("No answer yet to how the legs compare with last time."))
    elif len(points) <= MAX_LISTED_IN_DESCRIPTION:
        parts.append(
            _("Legs compared with last time: %(values)s.")
            % {
                "values": "; ".join(
                    _("%(answer)s on %(day)s") % {"answer": words, "day": point.date}
                    for point, words in changes
                )
            }
        )
    else:
        counts = []
        for code, label, _score in CHANGE_SINCE_LAST_CHOICES:
            count = sum(1 for point, _words in changes if CHANGE_SCORES[code] == point.change_score)
            if count:
                counts.append(
                    ngettext("%(answer)s %(count)d time", "%(answer)s %(count)d times", count)
                    % {"answer": label, "count": count}
                )
        last_point, last_words = changes[-1]
        parts.append(
            _("Legs compared with last time: %(counts)s; last %(answer)s on %(day)s.")
            % {"counts": ", ".join(counts), "answer": last_words, "day": last_point.date}
        )
    parts.append(_("Every value is in the table beside the chart."))
    return " ".join(parts)


def _title(points: Sequence[TrendPoint]) -> str:
    if not points:
        return _("Pain score and change since last time: no questionnaires yet")
    if points[0].date == points[-1].date:
        return _("Pain score and change since last time, %(day)s") % {"day": points[0].date}
    return _("Pain score and change since last time, %(first)s to %(last)s") % {
        "first": points[0].date,
        "last": points[-1].date,
    }


def _svg_open(height: int, id_prefix: str, standalone: bool) -> SafeString:
    # Inline in HTML the SVG namespace is implied; a file of its own (the PDF)
    # needs it said.
    namespace = format_html(' xmlns="{}"', "http://www.w3.org/2000/svg") if standalone else ""
    return format_html(
        '<svg{} class="trend-chart" width="{}" height="{}" viewBox="0 0 {} {}" role="img" '
        'aria-labelledby="{}-title {}-desc" font-family="sans-serif" font-size="12">',
        namespace,
        WIDTH,
        height,
        WIDTH,
        height,
        id_prefix,
        id_prefix,
    )


def trend_chart_svg(
    cases: Sequence[Case], *, id_prefix: str = "trend-chart", standalone: bool = False
) -> SafeString:
    """The pain score and the global impression of change over time, as inline SVG.

    Two small charts one above the other, sharing the dates: the pain score
    (0 to 10; a solid line with round markers and the value printed beside
    each when there are few) and "Compared with last time, your legs are:"
    (much worse -2 to much better +2, its axis labelled in words; a dashed line
    with hollow diamonds). Points are placed by date; date labels are thinned
    so that 50 follow-ups stay readable. Drawn with ``currentColor`` so the
    admin's light and dark themes both work; no script, no style attribute
    (the site's CSP allows neither inline), nothing loaded from elsewhere.

    ``role="img"`` with a ``<title>`` and a ``<desc>`` that says the values
    in words. ``id_prefix`` keeps their ids unique if a page shows two
    charts; ``standalone`` adds the SVG namespace for use as a file.
    """
    points = trend_points(cases)
    title, description = _title(points), _describe(points)
    head = format_html(
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
        id_prefix,
        title,
        id_prefix,
        description,
    )
    drawable = [
        point for point in points if point.pain is not None or point.change_score is not None
    ]
    if not drawable:
        return format_html(
            '{}{}<text x="{}" y="{}" fill="currentColor">{}</text></svg>',
            _svg_open(EMPTY_HEIGHT, id_prefix, standalone),
            head,
            8,
            28,
            _("No pain scores or changes to show yet."),
        )

    xs = _x_positions(points)
    parts: list[SafeString] = [_svg_open(HEIGHT, id_prefix, standalone), head]
    parts.append(_pain_axes())
    parts.append(_change_axes())

    # The pain score: a solid line, filled circles.
    pain_ys = [_pain_y(point.pain) if point.pain is not None else None for point in points]
    parts.extend(
        format_html(
            '<polyline class="trend-pain-line" points="{}" fill="none" stroke="currentColor" '
            'stroke-width="2"/>',
            segment,
        )
        for segment in _segments(xs, pain_ys)
    )
    show_values = len(points) <= MAX_VALUE_LABELS
    for point, x, y in zip(points, xs, pain_ys, strict=True):
        if y is None:
            continue
        parts.append(
            format_html(
                '<circle class="trend-pain-point" cx="{}" cy="{}" r="4" fill="currentColor">'
                "<title>{}</title></circle>",
                _number(x),
                _number(y),
                _("%(day)s: pain %(score)d out of 10") % {"day": point.date, "score": point.pain},
            )
        )
        if show_values:
            parts.append(
                format_html(
                    '<text class="trend-pain-value" x="{}" y="{}" text-anchor="middle" '
                    'fill="currentColor">{}</text>',
                    _number(x),
                    _number(y - 8),
                    point.pain,
                )
            )

    # The global impression of change: a dashed line, hollow diamonds.
    change_ys = [
        _change_y(point.change_score) if point.change_score is not None else None
        for point in points
    ]
    parts.extend(
        format_html(
            '<polyline class="trend-change-line" points="{}" fill="none" stroke="currentColor" '
            'stroke-width="2" stroke-dasharray="6 4"/>',
            segment,
        )
        for segment in _segments(xs, change_ys)
    )
    for point, x, y in zip(points, xs, change_ys, strict=True):
        if y is None:
            continue
        parts.append(
            format_html(
                '<polygon class="trend-change-point" points="{},{} {},{} {},{} {},{}" '
                'fill="none" stroke="currentColor" stroke-width="2" data-x="{}" data-y="{}">'
                "<title>{}</title></polygon>",
                _number(x),
                _number(y - 5),
                _number(x + 5),
                _number(y),
                _number(x),
                _number(y + 5),
                _number(x - 5),
                _number(y),
                _number(x),
                _number(y),
                _("%(day)s: legs %(answer)s compared with last time")
                % {"day": point.date, "answer": point.change_words.lower()},
            )
        )

    # An empty box says why, rather than looking like a drawing fault.
    if all(y is None for y in pain_ys):
        parts.append(_box_note(PAIN_TOP, PAIN_BOTTOM, _("No pain score was given.")))
    if all(y is None for y in change_ys):
        parts.append(
            _box_note(CHANGE_TOP, CHANGE_BOTTOM, _("No answer yet: asked at follow-ups only."))
        )

    # The dates, as many as fit.
    parts.extend(
        format_html(
            '<text class="trend-date" x="{}" y="{}" text-anchor="middle" fill="currentColor">'
            "{}</text>",
            _number(xs[index]),
            DATE_LABEL_Y,
            points[index].date,
        )
        for index in _labelled_dates(points, xs)
    )
    parts.append(SafeString("</svg>"))
    return SafeString("".join(parts))


def _box_note(top: int, bottom: int, text: str) -> SafeString:
    return format_html(
        '<text class="trend-box-note" x="{}" y="{}" text-anchor="middle" '
        'dominant-baseline="middle" fill="currentColor">{}</text>',
        _number((PLOT_LEFT + PLOT_RIGHT) / 2),
        _number((top + bottom) / 2),
        text,
    )


def _plot_box(css_class: str, top: int, bottom: int) -> SafeString:
    return format_html(
        '<rect class="{}" x="{}" y="{}" width="{}" height="{}" fill="none" '
        'stroke="currentColor" stroke-opacity="0.5"/>',
        css_class,
        PLOT_LEFT,
        top,
        PLOT_RIGHT - PLOT_LEFT,
        bottom - top,
    )


def _grid_line(y: float) -> SafeString:
    return format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="currentColor" stroke-opacity="0.2"/>',
        PLOT_LEFT,
        _number(y),
        PLOT_RIGHT,
        _number(y),
    )


def _axis_label(y: float, text: str) -> SafeString:
    return format_html(
        '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle" '
        'fill="currentColor">{}</text>',
        PLOT_LEFT - 6,
        _number(y),
        text,
    )


def _pain_axes() -> SafeString:
    parts = [
        format_html(
            '<text class="trend-heading" x="{}" y="{}" font-weight="bold" fill="currentColor">'
            "{}</text>",
            PLOT_LEFT,
            PAIN_HEADING_Y,
            _("Pain score (0 = no pain, 10 = worst), solid line and dots"),
        ),
        _plot_box("trend-plot-box trend-pain-box", PAIN_TOP, PAIN_BOTTOM),
    ]
    for score in range(0, PAIN_SCORE_MAX + 1, 2):
        parts.append(_grid_line(_pain_y(score)))
        parts.append(_axis_label(_pain_y(score), str(score)))
    return SafeString("".join(parts))


def _change_axes() -> SafeString:
    parts = [
        format_html(
            '<text class="trend-heading" x="{}" y="{}" font-weight="bold" fill="currentColor">'
            "{}</text>",
            PLOT_LEFT,
            CHANGE_TOP - 10,
            _("Legs compared with last time, dashed line and diamonds"),
        ),
        _plot_box("trend-plot-box trend-change-box", CHANGE_TOP, CHANGE_BOTTOM),
    ]
    for _code, label, score in CHANGE_SINCE_LAST_CHOICES:
        parts.append(_grid_line(_change_y(score)))
        parts.append(_axis_label(_change_y(score), str(label)))
    return SafeString("".join(parts))
