"""Small survey tables for the survey tests (not a test module)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from retention.survey.schema import IMP_COLUMNS, SAT_COLUMNS, cast_survey_frame


def make_survey(sizes: dict[str, int], *, seed: int = 7) -> pd.DataFrame:
    """Return a canonical survey with ``sizes[enterprise]`` respondents per enterprise."""
    rng = np.random.default_rng(seed)
    rows = []
    ages = ["post70", "post80", "post90", "post00"]
    reasons = ["boring_life", "commute", "wage", "workload"]
    for enterprise, count in sizes.items():
        for i in range(count):
            row: dict[str, object] = {
                "respondent_id": f"{enterprise}-{i}",
                "enterprise_id": enterprise,
                "residence_id": f"H{i % 3}",
                "age_band": ages[int(rng.integers(0, 4))],
                "tenure_months": float(rng.integers(1, 60)),
                "shift": "two_shift",
                "wage_band": "4000-6000",
                "commute_mode": "ebike",
                "commute_minutes": float(rng.integers(5, 40)),
                "overall_satisfaction": int(rng.integers(1, 6)),
                "intent_to_leave": int(rng.integers(1, 6)),
                "reasons": list(rng.choice(reasons, int(rng.integers(0, 3)), replace=False)),
                "submitted_at": "2024-03-01 08:00:00",
                "wave": "w1",
            }
            for column in (*SAT_COLUMNS, *IMP_COLUMNS):
                row[column] = int(rng.integers(1, 6))
            rows.append(row)
    return cast_survey_frame(pd.DataFrame(rows))


DEMO_WORKBOOK = Path(__file__).resolve().parent.parent / "geodata" / "jinshan" / "survey_wjx.xlsx"


def demo_rows(count: int, *, start: int = 0) -> tuple[list[str], list[list[str]]]:
    """Return the Jinshan demo survey's headers and ``count`` of its answer rows, as text.

    Names in these rows link to the Jinshan demo park, so a file built from them imports there.
    """
    from openpyxl import load_workbook

    book = load_workbook(DEMO_WORKBOOK, read_only=True, data_only=True)
    try:
        cells = book.worksheets[0].iter_rows(values_only=True)
        headers = [str(v) for v in next(cells)]
        rows: list[list[str]] = []
        for index, row in enumerate(cells):
            if index < start:
                continue
            if len(rows) == count:
                break
            rows.append(["" if v is None else str(v) for v in row])
    finally:
        book.close()
    return headers, rows


def wenjuanxing_xlsx(headers: list[str], rows: list[list[str]]) -> bytes:
    """Return a one-sheet XLSX with one header row, as Wenjuanxing exports it."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Sheet1")
    for r, row in enumerate([headers, *rows]):
        for c, value in enumerate(row):
            sheet.write_string(r, c, str(value))
    book.close()
    return buffer.getvalue()


def wenjuanxing_csv(headers: list[str], rows: list[list[str]], *, encoding: str = "gbk") -> bytes:
    """Return a CSV in ``encoding`` (GBK by default, as Excel on Chinese Windows saves it)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([headers, *rows])
    return buffer.getvalue().encode(encoding)
