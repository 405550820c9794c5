"""Formula-safe CSV and XLSX bytes: the one way ParkLife writes a table for a spreadsheet.

Spreadsheet programs run a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula, and
some treat a leading tab or carriage return the same way after trimming it (OWASP "CSV
Injection"). A name such as ``=cmd|' /C calc'!A0`` or ``=HYPERLINK("http://x", "click")`` in an
uploaded layer or survey would otherwise come back live in a rejected-rows download. Every CSV and
XLSX ParkLife writes goes through :func:`csv_bytes` or :func:`xlsx_bytes`, which prefix such text
cells (and column headers) with a single quote ``'``, the OWASP rule, so the cell shows as text.

Numbers stay numbers: numeric columns are written untouched (``-3`` stays a negative number), and
a text cell that is only a plain number (``"-12.5"``, ``"+86"``) is left alone because a
spreadsheet reads it as that number and runs nothing. XLSX workbooks are written with xlsxwriter's
string-to-formula and string-to-URL conversions switched off as a second guard.

This module sits at the top of the package, beside ``errors``, so every stage can use it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

import pandas as pd

__all__ = [
    "FORMULA_PREFIXES",
    "csv_bytes",
    "neutralise_cell",
    "neutralise_table",
    "xlsx_bytes",
]

#: First characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection),
#: and their full-width forms, which a Chinese input method types and WPS or Excel with a Chinese
#: IME turn into the ASCII sign when the cell is edited.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

# A plain decimal number, optionally signed, optionally with an exponent: a spreadsheet reads it
# as that number, so it can never start a formula ("-1+1" or "-2e3x" do not match). ASCII digits
# only: Python's \d also takes "５" or "٣", which no spreadsheet reads as a number.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)

# xlsxwriter turns strings that look like formulas or URLs into live cells unless told not to.
_XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False}


def neutralise_cell(value: object) -> object:
    """Return ``value`` safe to put in a spreadsheet cell.

    A string that begins with one of :data:`FORMULA_PREFIXES` and is not a plain number gets a
    leading single quote; every other value (numbers, dates, missing values, other text) is
    returned unchanged.
    """
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_PREFIXES)
        and _PLAIN_NUMBER.fullmatch(value) is None
    ):
        return "'" + value
    return value


def neutralise_table(table: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``table`` with every text cell and column header passed through
    :func:`neutralise_cell`.

    Numeric, boolean and datetime columns are kept as they are (same dtype, same values); text,
    categorical and mixed (object) columns become object columns in which only strings change.
    The input is not modified.
    """
    out = pd.DataFrame(table).copy()
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if not _may_hold_text(column):
            continue
        out.isetitem(position, column.astype(object).map(neutralise_cell))
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = pd.MultiIndex.from_tuples(
            [tuple(neutralise_cell(part) for part in name) for name in out.columns],
            names=out.columns.names,
        )
    else:
        out.columns = pd.Index(
            [neutralise_cell(name) for name in out.columns], dtype=object, name=out.columns.name
        )
    return out


def csv_bytes(table: pd.DataFrame) -> bytes:
    """Return ``table`` as formula-safe CSV bytes, UTF-8 with a BOM (Excel shows Chinese), no index.

    Every text cell and header is neutralised as :func:`neutralise_cell` describes. Rows end in
    CRLF (RFC 4180), so a cell holding a bare carriage return is quoted and cannot split its row.
    """
    text = neutralise_table(table).to_csv(index=False, lineterminator="\r\n")
    return text.encode("utf-8-sig")


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """Return a formula-safe XLSX workbook with one sheet per ``sheets`` item, in order, no index.

    Sheet names are cut to Excel's 31 characters. Every text cell and header is neutralised as
    :func:`neutralise_cell` describes, and xlsxwriter writes text as text (never as a formula or
    a hyperlink).
    """
    buffer = io.BytesIO()
    with pd.ExcelWriter(
        buffer, engine="xlsxwriter", engine_kwargs={"options": _XLSX_OPTIONS}
    ) as writer:
        for name, table in sheets.items():
            neutralise_table(table).to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()


def _may_hold_text(column: pd.Series) -> bool:
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    return not (
        pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
    )
