"""Amounts written the way people type them in Chinese survey exports: thousands separators
(ASCII or full-width comma), exponents, full-width digits — read as the number they are, never a
"band" made of the digits' pieces (``"5,500"`` was 5 to 500, so a 5,500-yuan wage became
"<4000" without a word).
"""

from __future__ import annotations

import pytest

from retention.survey.mapping import parse_wage_band, read_amount

MINUTES: dict[str, float] = {"小时": 60.0, "分钟": 1.0}


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("4,000-6,000元", "4000-6000"),
        ("5,500", "4000-6000"),
        ("5，500元", "4000-6000"),  # full-width comma
        ("6,000-8,000", "6000-8000"),
        ("8,000元以上", ">8000"),
        ("4,000元以下", "<4000"),
        ("￥7,200", "6000-8000"),
        ("1,000,000", ">8000"),
    ],
)
def test_a_wage_with_thousands_separators_is_its_number(text: str, band: str) -> None:
    assert parse_wage_band(text) == band


@pytest.mark.parametrize(
    ("text", "minutes", "how"),
    [
        ("1e3", 1000.0, ""),  # a plain number in scientific notation
        ("1,200", 1200.0, ""),  # a thousands separator is no approximation
        ("1,200-1,500分钟", 1350.0, "the midpoint of 1200-1500"),
        ("20, 30", 25.0, "the midpoint of 20-30"),  # a list, not a thousands separator
        ("1,5", 3.0, "the midpoint of 1-5"),
    ],
)
def test_amounts_read_as_written(text: str, minutes: float, how: str) -> None:
    assert read_amount(text, unit_words=MINUTES, default_factor=1.0) == (minutes, how)
