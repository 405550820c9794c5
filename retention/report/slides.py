"""A snapshot as a PowerPoint deck (16:9) that opens in PowerPoint and WPS.

One message per slide: a section's message is the slide title's subtitle, its tables are
editable PowerPoint tables (not pictures), charts and the map are pictures, and the speaker
notes hold the sources and the version hash. Text uses the CJK font named in ``FONT_FAMILY``
(East Asian font slot), which WPS and PowerPoint substitute when it is missing.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.oxml.ns import qn
from pptx.presentation import Presentation as Deck
from pptx.util import Emu, Inches, Pt

from retention.report.pictures import Progress, picture_steps, render_pictures
from retention.report.snapshot import (
    ChartBlock,
    Kpi,
    MapBlock,
    Snapshot,
    TableBlock,
    table_rows,
)

FONT_FAMILY = "Microsoft YaHei"
"""Font for Latin and East Asian text: on every Windows with Chinese support; WPS maps it."""

ROWS_PER_SLIDE = 12
"""Table rows per slide; longer tables continue on the next slide."""

_WIDTH = Emu(12192000)  # 13.333 in: PowerPoint's 16:9
_HEIGHT = Emu(6858000)  # 7.5 in
_MARGIN = Inches(0.5)
_NOTICE = RGBColor(0x9A, 0x34, 0x12)


def _set_font(
    run: object, *, size_pt: float, bold: bool = False, colour: RGBColor | None = None
) -> None:
    font = run.font  # type: ignore[attr-defined]
    font.size = Pt(size_pt)
    font.bold = bold
    font.name = FONT_FAMILY
    if colour is not None:
        font.color.rgb = colour
    # python-pptx sets only the Latin typeface; Chinese text takes the East Asian one.
    properties = run._r.get_or_add_rPr()  # type: ignore[attr-defined]
    east_asian = properties.find(qn("a:ea"))
    if east_asian is None:
        east_asian = properties.makeelement(qn("a:ea"), {})
        properties.append(east_asian)
    east_asian.set("typeface", FONT_FAMILY)


def _text_box(
    slide: object,
    text: str,
    *,
    left: int,
    top: int,
    width: int,
    height: int,
    size_pt: float,
    bold: bool = False,
    colour: RGBColor | None = None,
) -> None:
    box = slide.shapes.add_textbox(left, top, width, height)  # type: ignore[attr-defined]
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(text.splitlines() or [""]):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = paragraph.add_run()
        run.text = line
        _set_font(run, size_pt=size_pt, bold=bold, colour=colour)


def _title(slide: object, title: str, message: str = "") -> int:
    _text_box(
        slide,
        title,
        left=_MARGIN,
        top=Inches(0.3),
        width=_WIDTH - 2 * _MARGIN,
        height=Inches(0.6),
        size_pt=26,
        bold=True,
    )
    if message:
        _text_box(
            slide,
            message,
            left=_MARGIN,
            top=Inches(0.95),
            width=_WIDTH - 2 * _MARGIN,
            height=Inches(0.6),
            size_pt=15,
            colour=RGBColor(0x33, 0x41, 0x55),
        )
        return Inches(1.7)
    return Inches(1.2)


def _notes(slide: object, lines: Sequence[str]) -> None:
    slide.notes_slide.notes_text_frame.text = "\n".join(line for line in lines if line)  # type: ignore[attr-defined]


def _picture(slide: object, png: bytes, *, top: int) -> None:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        ratio = image.width / image.height
    max_width = _WIDTH - 2 * _MARGIN
    max_height = _HEIGHT - top - Inches(0.3)
    width = min(max_width, int(max_height * ratio))
    height = int(width / ratio)
    left = int((_WIDTH - width) / 2)
    slide.shapes.add_picture(io.BytesIO(png), left, top, width, height)  # type: ignore[attr-defined]


def _table_slides(deck: Deck, block: TableBlock, *, message: str, notes: Sequence[str]) -> None:
    rows = table_rows(block)
    header, body = rows[0], rows[1:]
    chunks = [body[i : i + ROWS_PER_SLIDE] for i in range(0, len(body), ROWS_PER_SLIDE)] or [[]]
    for page, chunk in enumerate(chunks):
        slide = deck.slides.add_slide(deck.slide_layouts[6])
        title = block.title if len(chunks) == 1 else f"{block.title} ({page + 1}/{len(chunks)})"
        top = _title(slide, title, message if page == 0 else "")
        height = Inches(0.4) * (len(chunk) + 1)
        shape = slide.shapes.add_table(
            len(chunk) + 1, len(header), _MARGIN, top, _WIDTH - 2 * _MARGIN, height
        )
        table = shape.table
        for r, row in enumerate([header, *chunk]):
            for c, value in enumerate(row):
                cell = table.cell(r, c)
                cell.text_frame.text = ""
                run = cell.text_frame.paragraphs[0].add_run()
                run.text = value
                _set_font(run, size_pt=12 if r else 12.5, bold=r == 0)
        if block.note:
            _text_box(
                slide,
                block.note,
                left=_MARGIN,
                top=_HEIGHT - Inches(0.7),
                width=_WIDTH - 2 * _MARGIN,
                height=Inches(0.4),
                size_pt=11,
            )
        _notes(slide, notes)


def _kpi_slide(deck: Deck, title: str, kpis: Sequence[Kpi], notes: Sequence[str]) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    top = _title(slide, title)
    per_row = 3
    box_width = int((_WIDTH - 2 * _MARGIN) / per_row)
    for i, kpi in enumerate(kpis):
        left = _MARGIN + (i % per_row) * box_width
        row_top = top + (i // per_row) * Inches(1.7)
        _text_box(
            slide,
            kpi.label,
            left=left,
            top=row_top,
            width=box_width - Inches(0.2),
            height=Inches(0.4),
            size_pt=13,
            colour=RGBColor(0x47, 0x55, 0x69),
        )
        _text_box(
            slide,
            f"{kpi.value_text()} {kpi.unit}".strip(),
            left=left,
            top=row_top + Inches(0.4),
            width=box_width - Inches(0.2),
            height=Inches(0.7),
            size_pt=28,
            bold=True,
        )
        if kpi.note:
            _text_box(
                slide,
                kpi.note,
                left=left,
                top=row_top + Inches(1.1),
                width=box_width - Inches(0.2),
                height=Inches(0.5),
                size_pt=10,
            )
    _notes(slide, notes)


def snapshot_pptx(snapshot: Snapshot, *, progress: Progress | None = None) -> bytes:
    """Write a snapshot as a 16:9 PowerPoint deck and return the file's bytes.

    Parameters
    ----------
    snapshot
        The content: a title slide (with the synthetic-data notice and what the figures were
        computed from), a key-figures slide, one slide per chart, map and table page, and the
        assumptions.
    progress
        Told each step (``report.pictures.Progress``): charts, each map, slide layout.

    Returns
    -------
    bytes
        The .pptx file.
    """
    deck = Presentation()
    deck.slide_width = _WIDTH
    deck.slide_height = _HEIGHT
    base_notes = [f"{snapshot.label('version')}: {snapshot.version_hash}"]

    slide = deck.slides.add_slide(deck.slide_layouts[6])
    # (text, top in inches, height in inches, size, bold, colour): the title slide's lines.
    lines: list[tuple[str, float, float, float, bool, RGBColor | None]] = [
        (snapshot.title, 2.0, 1.0, 40, True, None),
        (snapshot.park_name, 3.1, 0.6, 24, False, None),
        ("\n".join(snapshot.header_lines()), 3.9, 1.4, 13, False, None),
    ]
    if snapshot.synthetic_notice:
        lines.append((snapshot.synthetic_notice, 5.6, 0.8, 16, True, _NOTICE))
    for text, top, height, size, bold, colour in lines:
        _text_box(
            slide,
            text,
            left=_MARGIN,
            top=Inches(top),
            width=_WIDTH - 2 * _MARGIN,
            height=Inches(height),
            size_pt=size,
            bold=bold,
            colour=colour,
        )
    _notes(slide, [*snapshot.provenance, *base_notes])

    _kpi_slide(deck, snapshot.label("key_figures"), snapshot.kpis, base_notes)

    pictures = render_pictures(snapshot, progress=progress)
    if progress is not None:
        total = picture_steps(snapshot)
        progress("layout", total - 1, total)
    for section in snapshot.sections:
        notes = [
            f"{snapshot.label('sources')}: {section.sources}" if section.sources else "",
            *base_notes,
        ]
        for block in section.blocks:
            if isinstance(block, TableBlock):
                _table_slides(deck, block, message=section.message, notes=notes)
            elif isinstance(block, ChartBlock | MapBlock):
                slide = deck.slides.add_slide(deck.slide_layouts[6])
                top = _title(slide, block.title, section.message)
                _picture(slide, pictures[id(block)], top=top)
                _notes(slide, [block.note, *notes])
            elif isinstance(block, Kpi):
                _kpi_slide(deck, section.title, [block], notes)
    _table_slides(deck, snapshot.assumptions, message="", notes=base_notes)
    properties = deck.core_properties
    properties.title = snapshot.title
    properties.subject = snapshot.park_name
    properties.author = properties.last_modified_by = "ParkLife"
    properties.comments = " · ".join(snapshot.header_lines())
    properties.language = "zh-CN" if snapshot.lang == "zh" else "en"
    properties.created = properties.modified = snapshot.created.replace(tzinfo=None)
    properties.revision = 1
    buffer = io.BytesIO()
    deck.save(buffer)
    return _finished_package(buffer.getvalue(), slides=len(deck.slides))


def _finished_package(data: bytes, *, slides: int) -> bytes:
    """Correct what python-pptx's template leaves stale, for strict readers.

    The template's ``p:sldSz`` keeps ``type="screen4x3"`` after the size becomes 16:9 (a reader
    trusting the type lays slides out 4:3), and ``docProps/app.xml`` counts 0 slides and names
    a 4:3 on-screen show. Every other part is copied unchanged, in order. (Edited as text: both
    parts are python-pptx's fixed template; tests/ooxml_checks.py checks the result.)
    """
    edits = {
        "ppt/presentation.xml": [(rb'(<p:sldSz\b[^>]*?)\s+type="[^"]*"', rb"\1")],
        "docProps/app.xml": [
            (rb"<Slides>\d+</Slides>", b"<Slides>%d</Slides>" % slides),
            (rb"<Notes>\d+</Notes>", b"<Notes>%d</Notes>" % slides),  # every slide has notes
            (rb"<Application>[^<]*</Application>", b"<Application>ParkLife</Application>"),
            (
                rb"<PresentationFormat>[^<]*</PresentationFormat>",
                b"<PresentationFormat>Widescreen</PresentationFormat>",
            ),
        ],
    }
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            for pattern, replacement in edits.get(info.filename, []):
                content = re.sub(pattern, replacement, content, count=1)
            target.writestr(info, content)
    return out.getvalue()
