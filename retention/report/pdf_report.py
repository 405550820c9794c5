"""A snapshot as a PDF report: A4 landscape, embedded CJK font, contents, page numbers.

Laid out with reportlab's platypus. The CJK font (Debian's fonts-wqy-microhei; DESIGN.md: it
works with reportlab, fonts-noto-cjk does not) is embedded as a subset, so the file reads the
same on a machine without it. Tables are drawn as tables (text a reader can copy), charts and the
map as pictures.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents

from retention.errors import ParkLifeError
from retention.report.pictures import Progress, picture_steps, render_pictures
from retention.report.snapshot import (
    ChartBlock,
    Kpi,
    MapBlock,
    Snapshot,
    TableBlock,
    table_rows,
)

FONT_NAME = "ParkLifeCJK"
FONT_FILES: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
"""CJK TrueType collections tried in order (installed by scripts/setup.sh)."""

MAX_TABLE_ROWS = 40
"""Rows printed per table; the workbook export holds them all (said under the table)."""


class MissingFontError(ParkLifeError):
    """No CJK font is installed, so Chinese text would print as empty boxes."""


def register_cjk_font() -> str:
    """Register the first installed CJK font with reportlab and return its name."""
    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    for path in FONT_FILES:
        if path.is_file():
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
            return FONT_NAME
    raise MissingFontError(
        "no CJK font found (looked for "
        + ", ".join(str(p) for p in FONT_FILES)
        + "); install Debian's fonts-wqy-microhei (scripts/setup.sh does)"
    )


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    styles = {
        "title": ParagraphStyle(
            "title", parent=base["Title"], fontName=font, fontSize=24, leading=30
        ),
        "h1": ParagraphStyle(
            "h1", parent=base["Heading1"], fontName=font, fontSize=16, leading=21, spaceAfter=4
        ),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName=font, fontSize=12, leading=16),
        "body": ParagraphStyle(
            "body", parent=base["BodyText"], fontName=font, fontSize=9.5, leading=13, wordWrap="CJK"
        ),
        "small": ParagraphStyle(
            "small",
            parent=base["BodyText"],
            fontName=font,
            fontSize=7.5,
            leading=10,
            wordWrap="CJK",
            textColor=colors.HexColor("#444444"),
        ),
        "notice": ParagraphStyle(
            "notice",
            parent=base["BodyText"],
            fontName=font,
            fontSize=10,
            leading=14,
            wordWrap="CJK",
            textColor=colors.HexColor("#9a3412"),
            borderColor=colors.HexColor("#f59e0b"),
            borderWidth=0.8,
            borderPadding=6,
            backColor=colors.HexColor("#fffbeb"),
        ),
        "cell": ParagraphStyle(
            "cell",
            parent=base["BodyText"],
            fontName=font,
            fontSize=7.5,
            leading=9.5,
            wordWrap="CJK",
        ),
        "kpi_value": ParagraphStyle(
            "kpi_value", parent=base["BodyText"], fontName=font, fontSize=15, leading=19
        ),
        "toc1": ParagraphStyle("toc1", fontName=font, fontSize=11, leading=16),
    }
    return styles


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


class _Heading(Paragraph):
    """A section heading that also becomes a contents entry."""

    def __init__(self, text: str, style: ParagraphStyle) -> None:
        super().__init__(escape(text), style)
        self.toc_text = text


class _Doc(BaseDocTemplate):
    def __init__(self, buffer: io.BytesIO, snapshot: Snapshot, font: str) -> None:
        size = landscape(A4)
        super().__init__(
            buffer,
            pagesize=size,
            leftMargin=15 * mm,
            rightMargin=15 * mm,
            topMargin=14 * mm,
            bottomMargin=14 * mm,
            title=snapshot.title,
            author="ParkLife",
            subject=f"{snapshot.park_name} — {snapshot.version_hash}",
            lang=snapshot.lang,
        )
        self._snapshot = snapshot
        self._font = font
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self._footer)])

    def _footer(self, canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(self._font, 7.5)
        canvas.setFillColor(colors.HexColor("#555555"))
        snapshot = self._snapshot
        left = f"{snapshot.park_name} · {snapshot.label('version')}: {snapshot.version_hash}"
        if snapshot.synthetic_notice:
            left += f" · {snapshot.synthetic_notice.splitlines()[0][:60]}"
        canvas.drawString(self.leftMargin, 8 * mm, left)
        canvas.drawRightString(
            self.pagesize[0] - self.rightMargin,
            8 * mm,
            snapshot.label("page").replace("{n}", str(doc.page)),
        )
        canvas.restoreState()

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 (reportlab's hook name)
        if isinstance(flowable, _Heading):
            self.notify("TOCEntry", (0, flowable.toc_text, self.page))


def _kpi_table(kpis: Sequence[Kpi], styles: dict[str, ParagraphStyle], width: float) -> Table:
    per_row = 4
    cells: list[list[Any]] = []
    row: list[Any] = []
    for kpi in kpis:
        parts = [
            _p(kpi.label, styles["small"]),
            _p(f"{kpi.value_text()} {kpi.unit}".strip(), styles["kpi_value"]),
        ]
        if kpi.note:
            parts.append(_p(kpi.note, styles["small"]))
        row.append(parts)
        if len(row) == per_row:
            cells.append(row)
            row = []
    if row:
        cells.append(row + [""] * (per_row - len(row)))
    table = Table(cells, colWidths=[width / per_row] * per_row)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#cccccc")),
                ("INNERGRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#cccccc")),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f8fafc")),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _table(
    block: TableBlock,
    styles: dict[str, ParagraphStyle],
    width: float,
    *,
    max_rows: int | None = MAX_TABLE_ROWS,
) -> list[Flowable]:
    rows = table_rows(block)
    shown = rows if max_rows is None else rows[: max_rows + 1]
    data = [[_p(cell, styles["cell"]) for cell in row] for row in shown]
    n_columns = max(len(rows[0]), 1)
    # splitInRow: a cell taller than a page (a pasted paragraph as a name) breaks across pages
    # instead of failing the whole file with a LayoutError.
    table = Table(data, colWidths=[width / n_columns] * n_columns, repeatRows=1, splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e2e8f0")),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#94a3b8")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f8fafc")]),
            ]
        )
    )
    flowables: list[Flowable] = [_p(block.title, styles["h2"]), table]
    notes = [block.note] if block.note else []
    if max_rows is not None and len(rows) - 1 > max_rows:
        notes.append(f"… {len(rows) - 1 - max_rows:,} more rows (XLSX export: all rows)")
    flowables += [_p(note, styles["small"]) for note in notes]
    flowables.append(Spacer(1, 4 * mm))
    return flowables


def _picture(png: bytes, width: float, max_height: float) -> Image:
    image = Image(io.BytesIO(png))
    scale = min(width / image.imageWidth, max_height / image.imageHeight)
    image.drawWidth = image.imageWidth * scale
    image.drawHeight = image.imageHeight * scale
    return image


def snapshot_pdf(snapshot: Snapshot, *, progress: Progress | None = None) -> bytes:
    """Write a snapshot as a PDF report (A4 landscape) and return the file's bytes.

    Parameters
    ----------
    snapshot
        The content; every text is printed in its language with an embedded CJK font.
    progress
        Told each step (``report.pictures.Progress``): charts, each map, page layout.

    Returns
    -------
    bytes
        The PDF file.
    """
    font = register_cjk_font()
    styles = _styles(font)
    buffer = io.BytesIO()
    doc = _Doc(buffer, snapshot, font)
    width = doc.width
    max_picture_height = doc.height * 0.78

    pictures = render_pictures(snapshot, progress=progress)

    story: list[Flowable] = [
        _p(snapshot.title, styles["title"]),
        _p(snapshot.park_name, styles["h1"]),
    ]
    story += [_p(line, styles["body"]) for line in snapshot.header_lines()]
    if snapshot.synthetic_notice:
        story += [Spacer(1, 4 * mm), _p(snapshot.synthetic_notice, styles["notice"])]
    toc = TableOfContents()
    toc.levelStyles = [styles["toc1"]]
    story += [Spacer(1, 6 * mm), _p(snapshot.label("contents"), styles["h2"]), toc, PageBreak()]

    story += [
        _Heading(snapshot.label("key_figures"), styles["h1"]),
        _kpi_table(snapshot.kpis, styles, width),
        PageBreak(),
    ]
    for section in snapshot.sections:
        story += [
            _Heading(section.title, styles["h1"]),
            _p(section.message, styles["body"]),
            Spacer(1, 3 * mm),
        ]
        for block in section.blocks:
            if isinstance(block, TableBlock):
                story += _table(block, styles, width)
            elif isinstance(block, ChartBlock):
                story.append(
                    KeepTogether(
                        [
                            _p(block.title, styles["h2"]),
                            _picture(pictures[id(block)], width, max_picture_height),
                            *([_p(block.note, styles["small"])] if block.note else []),
                        ]
                    )
                )
            elif isinstance(block, MapBlock):
                story.append(
                    KeepTogether(
                        [
                            _picture(pictures[id(block)], width, max_picture_height),
                            *([_p(block.note, styles["small"])] if block.note else []),
                        ]
                    )
                )
            elif isinstance(block, Kpi):
                story.append(_kpi_table([block], styles, width))
        if section.sources:
            story.append(_p(f"{snapshot.label('sources')}: {section.sources}", styles["small"]))
        story.append(PageBreak())

    story += [_Heading(snapshot.label("assumptions"), styles["h1"])]
    story += _table(snapshot.assumptions, styles, width, max_rows=None)
    if snapshot.provenance:
        story += [_Heading(snapshot.label("provenance"), styles["h1"])]
        story += [_p(line, styles["body"]) for line in snapshot.provenance]
    if progress is not None:
        total = picture_steps(snapshot)
        progress("layout", total - 1, total)
    doc.multiBuild(story)
    return buffer.getvalue()
