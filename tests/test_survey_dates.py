"""Submission times as Chinese survey tools and spreadsheets write them: 年月日, 上午/下午, and
Excel's serial day numbers (a date cell saved to CSV as a number). Each is the same day as the
plain form; only the day is kept (README: "Survey privacy").
"""

from __future__ import annotations

import pandas as pd
import pytest

from retention.survey.mapping import CellError, _parse_time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024年3月1日 8:30", "2024-03-01 08:30"),
        ("2024年03月01日 08:30:12", "2024-03-01 08:30:12"),
        ("2024年3月1日", "2024-03-01"),
        ("2024/3/1 下午8:30:12", "2024-03-01 20:30:12"),
        ("2024/3/1 上午8:30:12", "2024-03-01 08:30:12"),
        ("2024/3/1 下午12:05:00", "2024-03-01 12:05:00"),
        ("2024/3/1 上午12:05:00", "2024-03-01 00:05:00"),
        ("45352", "2024-03-01"),  # Excel's day 45352 (1900 date system)
        ("45352.75", "2024-03-01 18:00"),
        ("2024/3/1 8:30:12", "2024-03-01 08:30:12"),  # unchanged
    ],
)
def test_submission_times_in_chinese_and_excel_forms(text: str, expected: str) -> None:
    assert _parse_time(text) == pd.Timestamp(expected)


@pytest.mark.parametrize("text", ["1709253012", "12", "2024年13月1日", "下午"])
def test_numbers_that_are_no_excel_day_and_broken_dates_stay_refused(text: str) -> None:
    with pytest.raises(CellError, match="a date and time"):
        _parse_time(text)
