"""PowerPoint snapshots for strict readers (issue 12: "opens in PowerPoint and WPS").

WPS is not available here, so what can be verified is verified: the package rules of ECMA-376
that strict readers enforce (tests/ooxml_checks.py; the checker is itself shown to catch broken
packages), a python-pptx round trip, and LibreOffice Impress — a second, independent OOXML
reader (Debian's libreoffice-impress-nogui, installed by scripts/setup.sh test) — opening the
deck, drawing every slide and keeping its tables as tables.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.util import Inches
from pypdf import PdfReader

from retention.report.slides import snapshot_pptx

from .ooxml_checks import ooxml_problems
from .snapshot_fixtures import small_snapshot
from .test_limits import _rewrite_member


def _deck_bytes(deck: Presentation) -> bytes:
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def _plain_deck() -> bytes:
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    slide.shapes.add_table(2, 2, Inches(1), Inches(1), Inches(4), Inches(1))
    return _deck_bytes(deck)


def test_the_checker_catches_broken_packages():
    plain = _plain_deck()
    # python-pptx's own template, untouched: counts no slides and has no title.
    assert set(ooxml_problems(plain)) == {
        "docProps/app.xml counts 0 slides; the deck has 1",
        "docProps/core.xml has no title",
    }
    missing = _rewrite_member(
        plain,
        "ppt/_rels/presentation.xml.rels",
        lambda x: x.replace(b"slides/slide1.xml", b"slides/slide9.xml"),
    )
    assert {
        "ppt/_rels/presentation.xml.rels: rId7 points at missing part 'ppt/slides/slide9.xml'",
        "part 'ppt/slides/slide1.xml' is not reachable from the package root",
    } <= set(ooxml_problems(missing))
    twice = _rewrite_member(
        plain, "ppt/presentation.xml", lambda x: x.replace(b'id="256"', b'id="2"')
    )
    assert any("slide ids [2]" in p for p in ooxml_problems(twice))
    short_row = _rewrite_member(
        plain,
        "ppt/slides/slide1.xml",
        lambda x: re.sub(rb"<a:tc>.*?</a:tc>", b"", x, count=1, flags=re.DOTALL),
    )
    assert "ppt/slides/slide1.xml: table row 1 has 1 of 2 cells" in ooxml_problems(short_row)
    squared = _rewrite_member(
        plain,
        "ppt/presentation.xml",
        lambda x: x.replace(b'cx="9144000"', b'cx="12192000"'),
    )
    assert any("is marked type='screen4x3'" in p for p in ooxml_problems(squared))
    assert ooxml_problems(b"not a zip") == ["not a zip package: File is not a zip file"]


@pytest.fixture(scope="module")
def deck_bytes() -> bytes:
    return snapshot_pptx(small_snapshot(lang="zh"))


@pytest.mark.slow  # kaleido draws the chart
def test_the_snapshot_deck_keeps_the_package_rules_and_survives_a_round_trip(deck_bytes):
    assert ooxml_problems(deck_bytes) == []
    deck = Presentation(io.BytesIO(deck_bytes))
    assert deck.core_properties.title == small_snapshot(lang="zh").title
    again = Presentation(io.BytesIO(_deck_bytes(deck)))
    assert ooxml_problems(_deck_bytes(deck)) == []

    def content(d: Presentation) -> list[list[str]]:
        return [
            [
                shape.text_frame.text if shape.has_text_frame else str(shape.shape_type)
                for shape in slide.shapes
            ]
            + [
                cell.text
                for shape in slide.shapes
                if shape.has_table
                for row in shape.table.rows
                for cell in row.cells
            ]
            for slide in d.slides
        ]

    assert content(again) == content(deck)


@pytest.mark.slow  # LibreOffice starts and converts (about 15 s)
def test_libreoffice_opens_the_deck_draws_every_slide_and_keeps_its_tables(deck_bytes, tmp_path):
    soffice = shutil.which("soffice")
    assert soffice, (
        "LibreOffice is missing: scripts/setup.sh test installs libreoffice-impress-nogui"
    )
    source = tmp_path / "deck.pptx"
    source.write_bytes(deck_bytes)

    def convert(to: str, out: Path) -> Path:
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                to,
                "--outdir",
                str(out),
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
        return out / f"deck.{to.split(':')[0]}"

    slides = Presentation(io.BytesIO(deck_bytes)).slides
    pdf = PdfReader(convert("pdf", tmp_path / "pdf"))
    assert len(pdf.pages) == len(slides)
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "演示数据为合成数据。" in text and "一号宿舍" in text  # Chinese drawn as text
    # Saved back by LibreOffice, the tables are still tables python-pptx can read cell by cell.
    resaved = Presentation(convert("pptx", tmp_path / "pptx"))
    tables = [s.table for slide in resaved.slides for s in slide.shapes if s.has_table]
    ours = [s.table for slide in slides for s in slide.shapes if s.has_table]
    assert len(tables) == len(ours)
    assert [c.text for c in tables[0].rows[1].cells] == [c.text for c in ours[0].rows[1].cells]
