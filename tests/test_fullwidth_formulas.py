"""Formula injection written with full-width signs (＝＋－＠, what a Chinese input method types)
and through table headers of snapshot workbooks.

Chinese spreadsheet programs (WPS, Excel with a Chinese IME) turn a leading full-width ``＝``
into ``=`` when the cell is edited, so such text is made inert like its ASCII twin. A saved
scenario's name is a column header of the snapshot's side-by-side table: headers are user text
too.
"""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from retention.report.snapshot import TableBlock
from retention.report.workbook import snapshot_xlsx
from retention.safe_cells import neutralise_cell
from tests.snapshot_fixtures import small_snapshot

FULL_WIDTH = [
    '＝HYPERLINK("http://evil.example","点我")',
    "＋1+cmd|' /C calc'!A0",
    "－2+3+cmd|' /C calc'!A0",
    "＠SUM(1+1)",
]


@pytest.mark.parametrize("payload", FULL_WIDTH)
def test_a_full_width_formula_gets_a_leading_quote(payload: str) -> None:
    assert neutralise_cell(payload) == "'" + payload


@pytest.mark.parametrize("text", ["－", "＋86 电话", "＝"])
def test_text_that_only_starts_with_a_full_width_sign_is_quoted_too(text: str) -> None:
    # The rule is the first character, as for ASCII signs: nothing of the text is lost.
    assert neutralise_cell(text) == "'" + text


def test_snapshot_workbook_headers_are_inert() -> None:
    snapshot = small_snapshot(lang="en")
    hostile = '=HYPERLINK("http://evil.example","open")'
    table = TableBlock(
        "Scenarios side by side",
        pd.DataFrame({"Indicator": ["people reached"], hostile: [12.0], "＝1+1": [3.0]}),
    )
    blocks = (*snapshot.sections[0].blocks, table)
    sections = (snapshot.sections[0].__class__(**{**vars(snapshot.sections[0]), "blocks": blocks}),)
    snapshot = snapshot.__class__(**{**vars(snapshot), "sections": sections})
    book = openpyxl.load_workbook(io.BytesIO(snapshot_xlsx(snapshot)))
    headers = [
        str(cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(max_row=1)
        for cell in row
        if cell.value is not None
    ]
    assert "'" + hostile in headers and "'＝1+1" in headers
    assert not any(h.startswith(("=", "＝")) for h in headers)


@pytest.mark.parametrize("text", ["-５", "+٣", "-1５"])
def test_only_ascii_digits_make_a_plain_number(text: str) -> None:
    # Python's \d and float() accept any Unicode digit; a spreadsheet's number does not, so such
    # text after a sign is quoted like any other text that starts a formula (this also made the
    # hypothesis test of test_safe_cells fail now and then).
    assert neutralise_cell(text) == "'" + text
