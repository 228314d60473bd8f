"""The clinical summary as a PDF (A4 or US Letter), drawn with fpdf2.

Pure Python on purpose: ``pip install -r requirements.txt`` is all a new
machine needs (WeasyPrint would also need the Pango system libraries). The text
face is Noto Sans, shipped as a Python package (``fontpkg-noto-sans``) and
embedded in each PDF, which covers Latin, Greek and Cyrillic names. A character
it cannot draw is printed as "�" and the PDF says so under the patient's
name, pointing to the printable page, which uses the browser's fonts: a name
must never silently lose letters.

The layout matches the printable page: patient and case on top, then triage,
red flags and their reasons, then the answers, related topics and timeline.
The top part is drawn before anything else, so it is always on page one.
"""

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
FONT_FAMILY = "Noto Sans"
_FONT = "noto"
MISSING_GLYPH = "\ufffd"

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


@functools.cache
def _font_path() -> str:
    return str(fontpkg.path(FONT_FAMILY))


@functools.cache
def _font_codepoints() -> frozenset[int]:
    with TTFont(_font_path(), lazy=True) as font:
        return frozenset(font.getBestCmap())


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


@functools.cache
def static_font(weight: int) -> str:
    """A static TrueType file of the packaged variable font at ``weight`` (400, 700).

    fpdf2 could instance the variable font itself, but that takes seconds for
    every PDF; here it is done once and kept (a cache, not state: any process
    can make it again). The file name carries the source font's fingerprint,
    so a font upgrade makes a new one, and it is written under a temporary
    name and renamed into place, so processes racing to make it never read
    half a file.
    """
    source = Path(_font_path())
    info = source.stat()
    fingerprint = hashlib.sha256(f"{source}|{info.st_size}|{info.st_mtime_ns}".encode()).hexdigest()
    folder = _font_cache_dir()
    target = folder / f"NotoSans-{weight}-{fingerprint[:16]}.ttf"
    if target.exists():
        return str(target)
    with TTFont(source) as font:
        # fpdf2 draws glyphs without OpenType shaping, so the layout tables only
        # cost time (most of it) to instantiate; metrics come from gvar.
        for tag in ("GDEF", "GPOS", "GSUB", "STAT", "HVAR", "MVAR"):
            if tag in font:
                del font[tag]
        instance = instancer.instantiateVariableFont(font, {"wght": weight, "wdth": 100})
        handle, partial = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(handle, "wb") as output:
            instance.save(output)
    os.replace(partial, target)
    return str(target)


def drawable(text: str) -> bool:
    """Whether the PDF's font can draw every letter of ``text``."""
    return MISSING_GLYPH not in pdf_text(text)


def pdf_text(value: object) -> str:
    """Text the font can draw: composed, no control characters, unknown letters as "�"."""
    text = unicodedata.normalize("NFC", str(value))
    known = _font_codepoints()
    out = []
    for char in text:
        if char == "\n" or ord(char) in known:
            out.append(char)
        elif char in "\t\r":
            out.append(" " if char == "\t" else "")
        elif unicodedata.category(char) in ("Cc", "Cf"):
            continue
        else:
            out.append(MISSING_GLYPH)
    return "".join(out)


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
    def __init__(self, summary: CaseSummary, paper: str):
        super().__init__(orientation="portrait", unit="mm", format=paper)
        self.summary = summary
        self.set_margins(12, 12, 12)
        self.set_auto_page_break(auto=True, margin=14)
        self.set_title(f"Clinical summary {summary.reference}")
        self.set_author(settings.CLINIC_NAME)
        self.set_creator(settings.CLINIC_NAME)
        self.add_font(_FONT, "", static_font(400))
        self.add_font(_FONT, "B", static_font(700))

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
        with self.table(
            col_widths=(17, 14, 17, 52),
            first_row_as_headings=False,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            cell_fill_mode="NONE",
            line_height=3.8,
            padding=(0.6, 1.2),
            text_align="LEFT",
            v_align=VAlign.T,
        ) as table:
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
    document = _SummaryDocument(summary, PAPER_SIZES.get(paper, "A4"))
    document.add_page()
    document.draw_title()
    document.draw_patient()
    document.draw_triage()
    document.draw_key_facts()
    document.draw_answers()
    document.draw_related()
    document.draw_timeline()
    return bytes(document.output())
