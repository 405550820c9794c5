"""Snapshot writers: each format opens with its own reader and holds the same content.

The snapshot is hand-made (tests/snapshot_fixtures.py) so expected numbers are known; the
pipeline's snapshot is checked against the pipeline in test_snapshot_pipeline.py.
"""

from __future__ import annotations

import io
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from pptx import Presentation
from pypdf import PdfReader

from retention.errors import ValidationError
from retention.report.html_snapshot import CONTENT_SECURITY_POLICY, snapshot_html
from retention.report.pdf_report import snapshot_pdf
from retention.report.slides import snapshot_pptx
from retention.report.snapshot import Kpi, version_hash
from retention.report.static_map import nice_scale_length_metres
from retention.report.workbook import sheet_name, snapshot_xlsx

from .snapshot_fixtures import HOSTILE_NAME, small_snapshot

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "static" / "vendor"


# -- content model ---------------------------------------------------------------------------


def test_kpi_text_has_thousands_separators_and_interval():
    assert Kpi("x", 643.4, low=344, high=771).value_text() == "643 (344–771)"
    assert Kpi("x", 6430577.0, decimals=1).value_text() == "6,430,577.0"
    assert Kpi("x", None).value_text() == "—"


def test_kpi_needs_both_interval_bounds():
    with pytest.raises(ValidationError, match="both interval bounds"):
        Kpi("x", 1.0, low=0.5)


def test_version_hash_changes_with_every_input():
    base = version_hash("d", "p", "s", None)
    assert base == version_hash("d", "p", "s", None)
    variants = {
        version_hash("d2", "p", "s", None),
        version_hash("d", "p2", "s", None),
        version_hash("d", "p", "s2", None),
        version_hash("d", "p", "s", "evening shuttle"),
    }
    assert base not in variants and len(variants) == 4


@pytest.mark.parametrize(
    ("width", "expected"), [(10_000, 2000), (4_000, 500), (1_000, 200), (123, 20), (7, 1)]
)
def test_scale_bar_length_is_round_and_at_most_a_fifth(width, expected):
    assert nice_scale_length_metres(width) == expected


# -- XLSX --------------------------------------------------------------------------------------


def test_sheet_names_are_valid_and_unique():
    first = sheet_name("Worst: residences/zones [all]?", [])
    assert len(first) <= 31 and not set(first) & set("[]:*?/\\")
    second = sheet_name("Worst: residences/zones [all]?", [first])
    assert second != first and len(second) <= 31


def test_xlsx_holds_every_table_with_numbers_as_numbers_and_inert_text():
    data = snapshot_xlsx(small_snapshot(lang="zh"))
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames[0] == "Key figures"  # labels come from the pipeline's catalogue
    worst = book["服务最差的宿舍"]
    rows = list(worst.iter_rows(values_only=True))
    assert rows[0] == ("宿舍", "住户 (人)", "差距指数 (0–100)")
    assert rows[1] == ("一号宿舍", 1200, 90.04)
    assert rows[2][0] == "'" + HOSTILE_NAME and rows[2][1] == 800
    assert rows[3][0] == "'-2+3" and rows[3][2] == -1.25  # negative numbers stay numbers
    assert worst.freeze_panes == "A2"
    assert worst["B2"].number_format == "#,##0"
    assert worst["C2"].number_format == "#,##0.0"
    assert all(cell.data_type != "f" for sheet in book for row in sheet.iter_rows() for cell in row)
    summary = [c for row in book["Key figures"].iter_rows(values_only=True) for c in row if c]
    assert "演示数据为合成数据。" in summary
    assert 643.4 in summary and 344 in summary and 771 in summary


# -- PPTX --------------------------------------------------------------------------------------


@pytest.mark.slow  # draws the chart with kaleido (Chromium)
def test_pptx_is_16_9_with_editable_tables_and_sources_in_notes():
    deck = Presentation(io.BytesIO(snapshot_pptx(small_snapshot(lang="zh"))))
    assert (deck.slide_width, deck.slide_height) == (12192000, 6858000)
    texts = [
        shape.text_frame.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame
    ]
    assert "演示数据为合成数据。" in texts
    assert any("643 (344–771) 人/年" in text for text in texts)
    tables = [shape.table for slide in deck.slides for shape in slide.shapes if shape.has_table]
    worst = tables[0]
    assert [worst.cell(0, c).text for c in range(3)] == ["宿舍", "住户 (人)", "差距指数 (0–100)"]
    assert [worst.cell(1, c).text for c in range(3)] == ["一号宿舍", "1,200", "90.0"]
    pictures = [shape for slide in deck.slides for shape in slide.shapes if shape.shape_type == 13]
    assert len(pictures) == 2  # the chart and the map
    notes = [slide.notes_slide.notes_text_frame.text for slide in deck.slides]
    assert any("GB 50180-2018" in note for note in notes)
    assert all(small_snapshot().version_hash in note for note in notes)


# -- PDF ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    return snapshot_pdf(small_snapshot(lang="zh"))


@pytest.mark.slow
def test_pdf_is_a4_landscape_with_contents_page_numbers_and_embedded_cjk_font(pdf_bytes):
    reader = PdfReader(io.BytesIO(pdf_bytes))
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (842, 595)
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in (
        "园区生活圈快照",
        "金山工业园",
        "演示数据为合成数据。",
        "服务最差的宿舍",
        "1,200",
        "643 (344–771) 人/年",
        "GB 50180-2018",
    ):
        assert expected in text
    assert all(f"Page {i}" in page.extract_text() for i, page in enumerate(reader.pages, 1))
    assert "Contents" in reader.pages[0].extract_text()
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts") or [font]
            for item in descendants:
                descriptor = item.get_object().get("/FontDescriptor")
                if descriptor is not None and "/FontFile2" in descriptor.get_object():
                    fonts.add(str(font["/BaseFont"]))
    assert any("WenQuanYi" in name for name in fonts), fonts  # embedded as a subset


@pytest.mark.slow
def test_pdf_chinese_heading_renders_glyphs_not_boxes(pdf_bytes, tmp_path):
    import numpy as np
    from PIL import Image

    pdf = tmp_path / "s.pdf"
    pdf.write_bytes(pdf_bytes)
    subprocess.run(
        ["pdftoppm", "-r", "60", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "p")],
        check=True,
        timeout=60,
    )
    page = np.asarray(Image.open(next(tmp_path.glob("p*.png"))).convert("L"))
    # The title 园区生活圈快照 is centred in the top band of page 1.
    band = page[10:70, page.shape[1] // 4 : 3 * page.shape[1] // 4] < 128
    assert band.sum() > 150  # glyphs drawn (an empty band has no ink)
    columns = np.flatnonzero(band.any(axis=0))
    left, right = columns.min(), columns.max() + 1
    step = (right - left) / 7
    cells = [band[:, int(left + i * step) : int(left + (i + 1) * step)] for i in range(7)]
    width = min(cell.shape[1] for cell in cells)
    cells = [cell[:, :width] for cell in cells]
    # Missing glyphs print as identical boxes: the 7 different characters must differ.
    assert all((cells[0] != other).sum() > 20 for other in cells[1:])


# -- HTML --------------------------------------------------------------------------------------


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.text: list[str] = []
        self.meta_csp = ""

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for key in ("src", "href"):
            if values.get(key) and not str(values[key]).startswith(("data:", "#")):
                self.external.append(f"{tag} {key}={values[key]}")
        if tag == "meta" and values.get("http-equiv") == "Content-Security-Policy":
            self.meta_csp = values.get("content", "")

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_and_escapes_user_text():
    snapshot = small_snapshot(lang="zh")
    page = snapshot_html(snapshot, assets_dir=ASSETS)
    parser = _Collector()
    parser.feed(page)
    assert parser.external == []
    assert parser.meta_csp == CONTENT_SECURITY_POLICY
    text = "".join(parser.text)
    assert "演示数据为合成数据。" in text and "1,200" in text and snapshot.version_hash in text
    assert "L.map(" in page and "Plotly.newPlot" in page
    assert "<script>alert" not in page


def test_html_escapes_a_script_name_in_tables_and_tooltips():
    snapshot = small_snapshot(lang="en", hostile="<script>alert(1)</script>`${x}`")
    page = snapshot_html(snapshot, assets_dir=ASSETS)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
