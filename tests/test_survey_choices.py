"""Multi-select answers in one cell and option letters, as exports write them.

* A cell with one reason per line (Alt+Enter in Excel, some tools' exports) holds every reason;
  before, the line break was no separator and the fuzzy match kept one reason silently.
* Option letters (``A┋B``: an export "by option number") are not reasons: a single letter
  matched any label containing it (``A`` → wage, via "wage"), coding answers at random. Unknown
  letters are refused (the row keeps its other answers, with a warning); the Survey page's value
  coding maps letters to codes when the user says what they mean.
"""

from __future__ import annotations

import pytest

from retention.survey.mapping import (
    CellError,
    match_label,
    parse_commute_mode,
    parse_reason_list,
    parse_shift,
)


@pytest.mark.parametrize("separator", ["\n", "\r\n", "┋", "；"])
def test_every_reason_of_a_cell_is_kept(separator: str) -> None:
    assert parse_reason_list(f"工资待遇{separator}通勤不便") == ["commute", "wage"]


@pytest.mark.parametrize("letters", ["A", "A┋B", "B;C", "a"])
def test_option_letters_are_not_taken_for_reasons(letters: str) -> None:
    with pytest.raises(CellError, match="reasons such as"):
        parse_reason_list(letters)


@pytest.mark.parametrize("parse", [parse_shift, parse_commute_mode])
@pytest.mark.parametrize("letter", ["A", "B", "c"])
def test_a_single_letter_is_no_choice(parse, letter: str) -> None:
    with pytest.raises(CellError):
        parse(letter)


def test_short_chinese_answers_still_match() -> None:
    assert match_label("工资", {"wage": ["工资待遇"]})[0] == "wage"
    assert match_label("wage", {"wage": ["wage"]})[0] == "wage"
