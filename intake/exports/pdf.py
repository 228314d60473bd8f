"""The clinical summary as a PDF (A4 or US Letter), drawn with fpdf2.

Pure Python on purpose: ``pip install -r requirements.txt`` is all a new
machine needs (WeasyPrint would also need the Pango system libraries). The
fonts are Python packages too, embedded (subset) in each PDF:

- Noto Sans (``fontpkg-noto-sans``): Latin, Greek, Cyrillic and Devanagari;
- Arimo (``fontpkg-arimo``): Hebrew, and the arrows and signs the app writes
  itself ("Status: New → In review");
- Noto Sans Arabic (``fontpkg-noto-sans-arabic``);
- Noto Sans CJK JP (``noto-cjk-sans-jp-regular`` / ``-bold``): Chinese,
  Japanese and Korean (the JP font holds every CJK glyph, drawn in the
  Japanese style).

Text is shaped with HarfBuzz (``uharfbuzz``): Arabic letters join, Devanagari
vowel signs and conjuncts are placed, and right-to-left runs are laid out by
the Unicode bidirectional algorithm. A fallback font is read only when the
summary has a letter that needs it, so a plain-English summary costs what it
did before. A character no font can draw is printed as "�" and the PDF says
so under the patient's name, pointing to the printable page, which uses the
browser's fonts: a name must never silently lose letters.

The layout matches the printable page: patient and case on top, then triage,
red flags and their reasons, then the answers, related topics and timeline.
The top part is drawn before anything else, so it is always on page one.
"""

import dataclasses
import functools
import hashlib
import logging
import os
import stat
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import fontpkg
import noto_cjk
from django.conf import settings
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer
from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, VAlign, XPos, YPos

from .summary import CaseSummary, SummaryRow

# fontTools (fpdf2's font subsetter) narrates every PDF at INFO; only its
# warnings belong in the clinic's logs.
logging.getLogger("fontTools").setLevel(logging.WARNING)

PAPER_SIZES = {"a4": "A4", "letter": "Letter"}
_FONT = "noto"
MISSING_GLYPH = "\ufffd"

#: The fonts, by their fpdf2 family names (lower case: fpdf2 matches fallback
#: fonts on them): the text font and the fallback fonts, tried in this order
#: for a character the text font lacks. The module docstring says what each covers.
_FONTPKG_FAMILIES = {"noto": "Noto Sans", "arimo": "Arimo", "arabic": "Noto Sans Arabic"}
_CJK = "cjk"
FALLBACK_FONTS = ("arimo", "arabic", _CJK)
#: Joiners change how Arabic and Devanagari letters connect, so they are kept;
#: every other format character (bidirectional overrides above all, which
#: could make a name read backwards) is dropped.
_KEPT_FORMAT_CHARACTERS = frozenset("\u200c\u200d")

# Colours that still read when printed in greyscale (the words say it too).
_INK = (20, 20, 20)
_MUTED = (90, 90, 90)
_RULE = (170, 170, 170)
_RED = (170, 0, 0)
_TIER_COLOURS = {
    "emergency": ((170, 0, 0), (252, 234, 234)),
    "urgent": ((150, 75, 0), (255, 242, 222)),
    "soon": ((20, 70, 140), (232, 240, 252)),
    "routine": ((60, 60, 60), (240, 240, 240)),
}


def _source_path(family: str, weight: int = 400) -> Path:
    """The packaged font file of ``family`` (variable for the fontpkg families)."""
    if family == _CJK:
        return Path(noto_cjk.font_path("sans", "jp", "bold" if weight >= 700 else "regular"))
    return Path(fontpkg.path(_FONTPKG_FAMILIES[family]))


@functools.cache
def _codepoints(family: str) -> frozenset[int]:
    with TTFont(_source_path(family), lazy=True) as font:
        return frozenset(font.getBestCmap())


@functools.cache
def _font_for(char: str) -> str | None:
    """The first font (text font, then fallbacks in order) that has ``char``."""
    code = ord(char)
    for family in (_FONT, *FALLBACK_FONTS):
        if code in _codepoints(family):
            return family
    return None


@functools.cache
def _font_cache_dir() -> Path:
    """Where the static font instances are kept: a folder only this user can write.

    Kept between processes (in the temporary directory), so the instances are
    made once per machine. If that folder is not safely ours (another user
    made it, or anyone may write to it), a private folder for this process is
    used instead: a font file someone else could swap must never be read.
    """
    uid = os.getuid() if hasattr(os, "getuid") else None
    folder = Path(tempfile.gettempdir()) / f"clinic-intake-fonts-{uid}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
        if stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & 0o022:
            return folder
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="clinic-intake-fonts-"))


def font_file(family: str, weight: int, *, shaping: bool) -> str:
    """The TrueType/OpenType file fpdf2 reads for ``family`` at ``weight`` (400, 700).

    The CJK fonts are packaged static, one file per weight. The others are
    variable fonts, read through a static instance made once and kept (see
    ``static_instance``).
    """
    if family == _CJK:
        return str(_source_path(family, weight))
    return static_instance(family, weight, shaping=shaping)


@functools.cache
def static_instance(family: str, weight: int, *, shaping: bool) -> str:
    """A static TrueType file of the packaged variable font ``family`` at ``weight``.

    fpdf2 could instance the variable font itself, but that takes seconds for
    every PDF; here it is done once and kept (a cache, not state: any process
    can make it again). With ``shaping``, the OpenType layout tables (GSUB,
    GPOS, GDEF) are kept: HarfBuzz needs them to join Arabic letters and place
    Devanagari signs. Without, they are dropped: they only cost time, when the
    instance is made and again in every PDF's font subsetting. The file name
    carries the source font's fingerprint, so a font upgrade makes a new one,
    and it is written under a temporary name and renamed into place, so
    processes racing to make it never read half a file.
    """
    source = _source_path(family)
    info = source.stat()
    fingerprint = hashlib.sha256(f"{source}|{info.st_size}|{info.st_mtime_ns}".encode()).hexdigest()
    folder = _font_cache_dir()
    variant = "shaping" if shaping else "plain"
    target = folder / f"{family}-{weight}-{variant}-{fingerprint[:16]}.ttf"
    if target.exists():
        return str(target)
    with TTFont(source) as font:
        dropped = ["STAT", "HVAR", "MVAR"] + ([] if shaping else ["GDEF", "GPOS", "GSUB"])
        for tag in dropped:
            if tag in font:
                del font[tag]
        axes = {axis.axisTag: axis.defaultValue for axis in font["fvar"].axes}
        axes["wght"] = weight
        if "wdth" in axes:
            axes["wdth"] = 100
        instance = instancer.instantiateVariableFont(font, axes)
        handle, partial = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(handle, "wb") as output:
            instance.save(output)
    os.replace(partial, target)
    return str(target)


def prepare_fonts() -> None:
    """Make every static font instance now, so that no PDF waits for one.

    Once per machine (the instances are kept): about 2 s for the fonts of a
    Latin-only summary, about 10 s more for those that shaping needs (the
    first summary with an Arabic, Hebrew or Devanagari name would wait that
    long). For a deploy step or a server's start.
    """
    for family in (_FONT, *FALLBACK_FONTS):
        for weight in (400, 700):
            for shaping in (False, True):
                font_file(family, weight, shaping=shaping)


def drawable(text: str) -> bool:
    """Whether the PDF's fonts can draw every letter of ``text``."""
    return MISSING_GLYPH not in pdf_text(text)


def pdf_text(value: object) -> str:
    """Text the fonts can draw: composed, no control characters, unknown letters as "�"."""
    text = unicodedata.normalize("NFC", str(value))
    out = []
    for char in text:
        if char == "\n":
            out.append(char)
        elif char in "\t\r":
            out.append(" " if char == "\t" else "")
        elif unicodedata.category(char) in ("Cc", "Cf"):
            if char in _KEPT_FORMAT_CHARACTERS:
                out.append(char)
        elif _font_for(char) is not None:
            out.append(char)
        else:
            out.append(MISSING_GLYPH)
    return "".join(out)


def _needs_shaping(text: str) -> bool:
    """Whether ``text`` prints wrongly without HarfBuzz.

    That is right-to-left letters (Arabic, Hebrew), joiners, and combining
    marks (Devanagari vowel signs and viramas, an accent with no precomposed
    letter). Latin, Greek, Cyrillic and CJK print the same without it, and
    shaping about triples the time a PDF takes, so it is only switched on for
    a summary that needs it.
    """
    return any(
        unicodedata.bidirectional(char) in ("R", "AL")
        or unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char in _KEPT_FORMAT_CHARACTERS
        for char in unicodedata.normalize("NFC", text)
    )


def _all_texts(value: object) -> Iterable[str]:
    """Every string in the summary (its dataclasses, lists and values), to scan."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from _all_texts(getattr(value, field.name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _all_texts(item)


def _summary_texts(summary: CaseSummary) -> Iterable[str]:
    yield summary.patient_name
    yield summary.email
    yield summary.assignee
    for section in summary.sections:
        for row in section.rows:
            yield row.answer
    for row in summary.other_answers:
        yield row.label
        yield row.answer
    for event in summary.timeline:
        yield event.who
        yield event.summary
        yield event.text


class _SummaryDocument(FPDF):
    def __init__(self, summary: CaseSummary, paper: str, *, shaping: bool, fallback: bool):
        super().__init__(orientation="portrait", unit="mm", format=paper)
        self.summary = summary
        self.set_margins(12, 12, 12)
        self.set_auto_page_break(auto=True, margin=14)
        self.set_title(f"Clinical summary {summary.reference}")
        self.set_author(settings.CLINIC_NAME)
        self.set_creator(settings.CLINIC_NAME)
        self._shaping = shaping
        self.add_font(_FONT, "", font_file(_FONT, 400, shaping=shaping))
        self.add_font(_FONT, "B", font_file(_FONT, 700, shaping=shaping))
        if fallback:
            # fpdf2 looks for fallback fonts (asking get_fallback_font below)
            # only once some are set: the text font stands in until the first
            # real one is added.
            self.set_fallback_fonts([_FONT])
        if shaping:
            # Shaping also runs the bidirectional algorithm, so an Arabic or
            # Hebrew name reads right to left inside a line that reads left to right.
            self.set_text_shaping(True)

    def get_fallback_font(self, char: str, style: str = "") -> str | None:
        """The fallback font for ``char`` (fpdf2 asks when the text font lacks it).

        Our own order decides (``FALLBACK_FONTS``), not which font happened to
        be added first. A fallback font, in each weight, is added to the
        document only when a letter first needs it: every font added is read
        and embedded, and the CJK fonts are 16 MB each.
        """
        family = _font_for(char)
        if family is None or family == _FONT:
            return None
        weight_style = "B" if "B" in style else ""
        if family + weight_style not in self.fonts:
            weight = 700 if weight_style else 400
            self.add_font(family, weight_style, font_file(family, weight, shaping=self._shaping))
            self.set_fallback_fonts(
                [name for name in FALLBACK_FONTS if name in self.fonts or name + "B" in self.fonts],
                exact_match=False,
            )
        return family + weight_style

    # Page furniture -----------------------------------------------------------

    def header(self):
        if self.page_no() == 1:
            return
        self._font(8, "B", _MUTED)
        self.cell(
            0,
            5,
            pdf_text(
                f"{self.summary.reference} · {self.summary.patient_name} · "
                f"{_('born')} {date_format(self.summary.date_of_birth, 'j M Y')}"
            ),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.ln(2)

    def footer(self):
        self.set_y(-11)
        self._font(7.5, "", _MUTED)
        generated = date_format(self.summary.generated_at, "j M Y, H:i")
        by = f" {_('by')} {self.summary.generated_by}" if self.summary.generated_by else ""
        left = _("Confidential: patient health information. Printed %(when)s%(by)s.") % {
            "when": generated,
            "by": by,
        }
        self.cell(self.epw * 0.75, 5, pdf_text(left))
        self.cell(
            0,
            5,
            f"{self.summary.reference} · {_('page')} {self.page_no()}/{{nb}}",
            align="R",
        )

    # Helpers ------------------------------------------------------------------

    def _font(self, size: float, style: str = "", colour=_INK):
        self.set_font(_FONT, style, size)
        self.set_text_color(*colour)

    def _heading(self, text: str):
        self.ln(1.8)
        self._font(10, "B")
        self.cell(0, 5.5, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*_RULE)
        self.line(self.l_margin, self.get_y(), self.l_margin + self.epw, self.get_y())
        self.ln(1)

    def _pairs(self, label_value: list[tuple[str, str]], size: float = 9, value_style: str = "B"):
        """ "Label: value" pairs flowing on one wrapped line, labels muted, values bold.

        Written piece by piece (not with fpdf2's markdown), so a name or an
        email containing "**" or "__" prints as typed.
        """
        height = size * 0.53
        for index, (label, value) in enumerate(label_value):
            if index:
                self._font(size, "", _RULE)
                self.write(height, "   ·   ")
            self._font(size, "", _MUTED)
            self.write(height, pdf_text(f"{label}: "))
            self._font(size, value_style)
            self.write(height, pdf_text(value))
        self.ln(height)

    # Sections -----------------------------------------------------------------

    def draw_title(self):
        s = self.summary
        self._font(8, "", _MUTED)
        self.cell(0, 4, pdf_text(settings.CLINIC_NAME), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._font(15, "B")
        self.cell(self.epw * 0.65, 8, pdf_text(_("Clinical intake summary")))
        self.cell(0, 8, s.reference, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*_INK)
        self.set_line_width(0.4)
        self.line(self.l_margin, self.get_y(), self.l_margin + self.epw, self.get_y())
        self.set_line_width(0.2)
        self.ln(1.5)

    def draw_patient(self):
        s = self.summary
        self._font(13, "B")
        self.cell(0, 7, pdf_text(s.patient_name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._pairs(
            [
                (_("Born"), f"{date_format(s.date_of_birth, 'j M Y')} ({s.age} y)"),
                (_("Phone"), s.phone),
                (_("Email"), s.email or _("none given")),
            ]
        )
        language = [(_("Answered in"), s.language)] if s.language else []
        self._pairs(
            [
                (_("Submitted"), date_format(s.submitted_at, "j M Y, H:i")),
                (_("Status"), s.status),
                (_("Assigned to"), s.assignee),
                (
                    _("Appointment"),
                    date_format(s.appointment_date, "j M Y") if s.appointment_date else _("none"),
                ),
                *language,
            ]
        )
        if not all(drawable(text) for text in _summary_texts(s) if text):
            self._font(8.5, "B", _RED)
            self.multi_cell(
                0,
                4.5,
                pdf_text(
                    _(
                        "Some characters (shown as %(mark)s) cannot be printed in this PDF. "
                        "Check the name and notes on the printable page or the case page."
                    )
                    % {"mark": MISSING_GLYPH}
                ),
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )

    def draw_triage(self):
        s = self.summary
        ink, fill = _TIER_COLOURS.get(s.tier, _TIER_COLOURS["routine"])
        lines = self._triage_lines()
        inner = self.epw - 6
        # Measure the text first, then draw the box behind it.
        height = 4 + sum(self._text_height(text, size, style, inner) for text, size, style in lines)
        self.ln(2)
        top = self.get_y()
        self.set_fill_color(*fill)
        self.set_draw_color(*ink)
        self.set_line_width(0.6)
        self.rect(self.l_margin, top, self.epw, height, style="DF")
        self.set_line_width(0.2)
        self.set_fill_color(255, 255, 255)
        self.set_y(top + 2)
        for text, size, style in lines:
            self._font(size, style, ink if style == "B" else _INK)
            self.set_x(self.l_margin + 3)
            self.multi_cell(inner, size * 0.5, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(top + height + 1)

    def _text_height(self, text: str, size: float, style: str, width: float) -> float:
        self._font(size, style)
        lines = self.multi_cell(width, size * 0.5, pdf_text(text), dry_run=True, output="LINES")
        return len(lines) * size * 0.5

    def _triage_lines(self) -> list[tuple[str, float, str]]:
        """(text, size, style) lines of the triage box: bold lines in the tier's colour."""
        s = self.summary
        title = _("TRIAGE: %(tier)s") % {"tier": s.tier_label.upper()}
        if s.is_overdue:
            title += " · " + _("OVERDUE (not reviewed in time)")
        lines = [(title, 12, "B")]
        if s.flags:
            for flag in s.flags:
                text = _("RED FLAG: %(label)s") % {"label": flag.label}
                lines.append((text, 10.5, "B"))
                if flag.reason:
                    lines.append((flag.reason, 9, ""))
        else:
            lines.append((_("No red flags."), 10, "B"))
            lines.extend((reason, 9, "") for reason in s.other_reasons)
        return lines

    def draw_key_facts(self):
        s = self.summary
        self.ln(1)
        self._pairs(
            [
                (_("Worst pain, last week"), s.pain_score),
                (_("Symptom onset"), s.symptom_onset),
                (_("Weak leg"), s.weak_side),
            ],
            size=9.5,
        )

    def draw_answers(self):
        s = self.summary
        if s.answers_removed:
            self._heading(_("Answers"))
            self._font(9, "", _MUTED)
            self.multi_cell(
                0,
                4.5,
                _("The answers were removed under the retention policy."),
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            return
        for section in s.sections:
            self._heading(section.title)
            self._answer_table([row for row in section.rows if not row.is_text])
            texts = [(row.label, row.answer) for row in section.rows if row.is_text]
            if texts:
                self.ln(0.8)
                self._pairs(texts, size=8.5, value_style="")
        if s.other_answers:
            self._heading(_("Other stored answers"))
            self._pairs([(row.label, row.answer) for row in s.other_answers], 8.5, "")

    def _answer_style(self, row: SummaryRow) -> FontFace:
        if row.is_red_flag:
            return FontFace(family=_FONT, emphasis="BOLD", color=_RED, size_pt=8.2)
        if row.is_positive:
            return FontFace(family=_FONT, emphasis="BOLD", color=_INK, size_pt=8.2)
        return FontFace(family=_FONT, emphasis="", color=_INK, size_pt=8.2)

    def _answer_table(self, rows: list[SummaryRow]):
        if not rows:
            return
        label_style = FontFace(family=_FONT, emphasis="", color=_MUTED, size_pt=8.2)
        self._font(8.5)
        half = (len(rows) + 1) // 2
        right = [*rows[half:], None][:half]
        columns = list(zip(rows[:half], right, strict=True))
        with self.table(
            col_widths=(31, 19, 31, 19),
            first_row_as_headings=False,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            cell_fill_mode="NONE",
            line_height=3.6,
            padding=(0.5, 1.2),
            text_align=("LEFT", "LEFT", "LEFT", "LEFT"),
            v_align=VAlign.T,
            gutter_width=0,
        ) as table:
            for pair in columns:
                cells = table.row()
                for row in pair:
                    if row is None:
                        cells.cell("")
                        cells.cell("")
                        continue
                    answer = row.answer
                    if row.is_red_flag:
                        answer = f"{answer} — " + _("RED FLAG")
                    cells.cell(pdf_text(row.label), style=label_style)
                    cells.cell(pdf_text(answer), style=self._answer_style(row))

    def _small_table(self, col_widths: tuple[float, ...], *, headings: bool):
        """A table in small print with lines between rows: the course and the timeline."""
        return self.table(
            col_widths=col_widths,
            first_row_as_headings=headings,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            cell_fill_mode="NONE",
            line_height=3.8,
            padding=(0.6, 1.2),
            text_align="LEFT",
            v_align=VAlign.T,
        )

    def draw_course(self):
        """The chain of follow-ups (issue 22): what got worse, then each case's key numbers."""
        if not self.summary.course:
            return
        self._heading(_("Course over time"))
        self._font(9)
        for label, items, joiner in (
            (_("Worse since last time:"), self.summary.worse_since_last_time, "; "),
            (_("New since last time:"), self.summary.new_since_last_time, ", "),
        ):
            if items:
                self.multi_cell(
                    0,
                    4.5,
                    pdf_text(f"{label} {joiner.join(items)}"),
                    new_x=XPos.LMARGIN,
                    new_y=YPos.NEXT,
                )
        plain = FontFace(family=_FONT, emphasis="", color=_INK, size_pt=8)
        bold = FontFace(family=_FONT, emphasis="B", color=_INK, size_pt=8)
        self._font(8)
        with self._small_table((30, 16, 14, 12, 28), headings=True) as table:
            heading = table.row()
            for text in (
                _("Questionnaire"),
                _("Date"),
                _("Tier"),
                _("Pain score"),
                _("Legs compared with last time"),
            ):
                heading.cell(pdf_text(text))
            for point in self.summary.course:
                style = bold if point.is_this_case else plain
                cells = table.row()
                cells.cell(pdf_text(f"{point.kind} {point.reference}"), style=style)
                cells.cell(date_format(point.when, "j M Y"), style=style)
                cells.cell(pdf_text(point.tier_label), style=style)
                cells.cell(pdf_text(point.pain_score), style=style)
                cells.cell(pdf_text(point.change), style=style)

    def draw_related(self):
        self._heading(_("Related education topics (not a diagnosis)"))
        self._font(9)
        text = "; ".join(self.summary.related_conditions) or _("None match these answers.")
        self.multi_cell(0, 4.5, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def draw_timeline(self):
        self._heading(_("Timeline"))
        if not self.summary.timeline:
            self._font(9, "", _MUTED)
            self.cell(0, 5, _("Nothing recorded yet."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            return
        muted = FontFace(family=_FONT, emphasis="", color=_MUTED, size_pt=8)
        plain = FontFace(family=_FONT, emphasis="", color=_INK, size_pt=8)
        self._font(8)
        with self._small_table((17, 14, 17, 52), headings=False) as table:
            for event in self.summary.timeline:
                cells = table.row()
                cells.cell(date_format(event.when, "j M Y, H:i"), style=muted)
                cells.cell(pdf_text(event.kind), style=plain)
                cells.cell(pdf_text(event.who), style=muted)
                what = event.summary + (f"\n{event.text}" if event.text else "")
                cells.cell(pdf_text(what), style=plain)


def summary_pdf(summary: CaseSummary, *, paper: str = "a4") -> bytes:
    """The one-page (where the answers allow) clinical summary as PDF bytes.

    ``paper`` is "a4" or "letter".
    """
    texts = [settings.CLINIC_NAME, *_all_texts(summary)]
    document = _SummaryDocument(
        summary,
        PAPER_SIZES.get(paper, "A4"),
        shaping=any(_needs_shaping(text) for text in texts),
        fallback=any(_font_for(char) in FALLBACK_FONTS for text in texts for char in text),
    )
    document.add_page()
    document.draw_title()
    document.draw_patient()
    document.draw_triage()
    document.draw_key_facts()
    document.draw_answers()
    document.draw_course()
    document.draw_related()
    document.draw_timeline()
    return bytes(document.output())
