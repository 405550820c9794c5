"""Survey CSVs separated by semicolons (Excel in a European locale, SurveyMonkey-like
exports) or pipes read like comma-separated ones, as layer CSVs already do. Written by hand."""

from __future__ import annotations

import pytest

from retention.survey.importer import read_survey_file

HEADER = ["序号", "1、您所在的企业:", "2、您的年龄段:", "3、未来12个月内您离职的可能性:"]
BODY = [["1", "金山电子", "90后", "可能会离职"], ["2", "湘江机械", "00后", "肯定不会离职"]]


def _text(separator: str) -> bytes:
    return "\n".join(separator.join(row) for row in [HEADER, *BODY]).encode("utf-8-sig")


@pytest.mark.parametrize("separator", [";", "|", "\t"])
def test_a_survey_with_another_separator_reads_like_commas(separator: str) -> None:
    raw = read_survey_file(_text(separator), file_name="survey.csv")
    expected = read_survey_file(_text(","), file_name="survey.csv")
    assert list(raw.headers) == list(expected.headers) == HEADER
    assert raw.frame.equals(expected.frame)


def test_commas_inside_answers_do_not_make_a_semicolon_file_comma_separated() -> None:
    body = [["1", "金山电子", "90后", "可能会离职"], ["2", "湘江机械", "00后", "肯定不会离职"]]
    header = [*HEADER[:3], "3、未来12个月内, 您离职的可能性:"]
    data = "\n".join(";".join(row) for row in [header, *body]).encode("utf-8")
    raw = read_survey_file(data, file_name="survey.csv")
    assert list(raw.headers) == header


def test_a_title_line_above_a_semicolon_header_does_not_decide_the_separator() -> None:
    data = "园区生活问卷\n".encode() + _text(";").removeprefix(b"\xef\xbb\xbf")
    raw = read_survey_file(data, file_name="survey.csv")
    assert list(raw.headers) == HEADER
