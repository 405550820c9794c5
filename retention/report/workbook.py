"""A snapshot as an Excel workbook: one sheet per table, units in headers, no live formulas.

The first sheet says what the figures were computed from (park, date, scenario, versions, the
synthetic-data notice) and lists the key figures; then one sheet per table with a frozen, bold
header row, number formats with thousands separators, and column widths that fit. Text from
users (names of residences, amenities, enterprises) is written as text that cannot run:
cells starting with = + - @ tab or CR are neutralised (``retention.safe_cells``); numbers stay
numbers.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

import pandas as pd
import xlsxwriter

from retention.report.snapshot import Snapshot, TableBlock
from retention.safe_cells import neutralise_cell as formula_safe

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, taken: Iterable[str]) -> str:
    """Return a valid, unique Excel sheet name (≤ 31 characters, no ``[]:*?/\\``) for a title."""
    base = _SHEET_FORBIDDEN.sub(" ", title).strip().strip("'")[:31] or "Sheet"
    used = {name.lower() for name in taken}
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    return name


def _width(values: Iterable[str]) -> float:
    # East Asian characters take about two columns.
    longest = max(
        (sum(2 if ord(ch) > 0x2E80 else 1 for ch in value) for value in values), default=8
    )
    return float(min(max(longest + 2, 8), 60))


def _write_table(
    book: xlsxwriter.Workbook,
    sheet: xlsxwriter.worksheet.Worksheet,
    block: TableBlock,
    *,
    start_row: int = 0,
) -> None:
    header = book.add_format(
        {"bold": True, "bg_color": "#E2E8F0", "border": 1, "text_wrap": True, "valign": "top"}
    )
    frame = block.frame
    formats = {}
    for column in frame.columns:
        decimals = block.number_formats.get(str(column))
        if decimals is None:
            decimals = 0 if pd.api.types.is_integer_dtype(frame[column]) else 1
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        formats[column] = book.add_format({"num_format": pattern})
    for c, column in enumerate(frame.columns):
        sheet.write_string(start_row, c, str(formula_safe(str(column))), header)
        values = [str(column)]
        numeric = pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(
            frame[column]
        )
        for r, value in enumerate(frame[column].tolist(), start=start_row + 1):
            if value is None or (isinstance(value, float) and value != value):
                sheet.write_blank(r, c, None)
                continue
            if numeric:
                sheet.write_number(r, c, float(value), formats[column])
                values.append(f"{float(value):,.1f}")
            else:
                text = str(formula_safe(str(value)))
                sheet.write_string(r, c, text)
                values.append(text)
        sheet.set_column(c, c, _width(values))
    sheet.freeze_panes(start_row + 1, 0)
    if block.note:
        sheet.write_string(start_row + len(frame) + 2, 0, str(formula_safe(block.note)))


def snapshot_xlsx(snapshot: Snapshot) -> bytes:
    """Write a snapshot as an .xlsx workbook and return the file's bytes.

    Parameters
    ----------
    snapshot
        The content: a summary sheet (what the figures were computed from, notice, key
        figures), then one sheet per table in reading order, assumptions last.

    Returns
    -------
    bytes
        The workbook.
    """
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    book.set_properties(
        {
            "title": snapshot.title,
            "author": "ParkLife",
            "comments": f"{snapshot.label('version')}: {snapshot.version_hash}",
        }
    )
    bold = book.add_format({"bold": True, "font_size": 14})
    notice = book.add_format({"bold": True, "font_color": "#9A3412"})
    summary_name = sheet_name(snapshot.label("key_figures"), [])
    summary = book.add_worksheet(summary_name)
    summary.write_string(0, 0, str(formula_safe(snapshot.title)), bold)
    summary.write_string(1, 0, str(formula_safe(snapshot.park_name)))
    row = 2
    for line in snapshot.header_lines():
        summary.write_string(row, 0, str(formula_safe(line)))
        row += 1
    if snapshot.synthetic_notice:
        summary.write_string(row, 0, str(formula_safe(snapshot.synthetic_notice)), notice)
        row += 1
    kpis = pd.DataFrame(
        {
            "label": [kpi.label for kpi in snapshot.kpis],
            "value": [kpi.value for kpi in snapshot.kpis],
            "low": [kpi.low for kpi in snapshot.kpis],
            "high": [kpi.high for kpi in snapshot.kpis],
            "unit": [kpi.unit for kpi in snapshot.kpis],
        },
    ).astype({"value": float, "low": float, "high": float})
    _write_table(
        book,
        summary,
        TableBlock(
            snapshot.label("key_figures"), kpis, number_formats={"value": 1, "low": 1, "high": 1}
        ),
        start_row=row + 1,
    )
    taken = [summary_name]
    for block in snapshot.tables():
        name = sheet_name(block.title, taken)
        taken.append(name)
        _write_table(book, book.add_worksheet(name), block)
    if snapshot.provenance:
        name = sheet_name(snapshot.label("provenance"), taken)
        sheet = book.add_worksheet(name)
        for r, line in enumerate(snapshot.provenance):
            sheet.write_string(r, 0, str(formula_safe(line)))
    book.close()
    return buffer.getvalue()
