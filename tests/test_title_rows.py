"""A title line above the header (园区设施清单 / 问卷结果 ...), as people add in Excel before
saving: skipped with a note that says so, and the table under it read as if the title were not
there — for layer CSV and XLSX files and survey exports. Files written here by hand.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest
import xlsxwriter

from retention.data.io import read_layer
from retention.data.validate import validate_layer
from retention.report.issue_text import translate_issue_text
from retention.survey.importer import read_survey_file

HEADER = ["编号", "名称", "类别", "容量", "营业时间", "经度", "纬度"]
ROWS = [
    ["x1", "食堂一", "canteen", "100", "Mo-Su 06:00-22:00", "113.23", "27.92"],
    ["x2", "超市二", "grocery", "50", "Mo-Su 08:00-22:00", "113.24", "27.915"],
]
TITLE = "园区设施清单（2024年）"


def _csv(title: list[str] | None) -> bytes:
    lines = [*([title] if title else []), HEADER, *ROWS]
    return "\n".join(",".join(cells) for cells in lines).encode("gbk")


def _xlsx(title: str | None) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("设施")
    start = 0
    if title:
        sheet.merge_range(0, 0, 0, len(HEADER) - 1, title)
        start = 1
    for r, row in enumerate([HEADER, *ROWS], start=start):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("titled", "plain", "name"),
    [
        (_csv([TITLE]), _csv(None), "设施.csv"),
        (_csv([TITLE] + [""] * (len(HEADER) - 1)), _csv(None), "设施.csv"),  # trailing commas
        (_xlsx(TITLE), _xlsx(None), "设施.xlsx"),
    ],
)
def test_a_layer_with_a_title_line_reads_like_one_without(
    titled: bytes, plain: bytes, name: str
) -> None:
    raw = read_layer(titled, file_name=name)
    expected = read_layer(plain, file_name=name)
    assert list(raw.frame.columns) == list(expected.frame.columns)
    assert raw.frame.drop(columns="geometry").equals(expected.frame.drop(columns="geometry"))
    checked = validate_layer(raw.frame, "amenities", source_name=name, coordinate_system="wgs84")
    assert len(checked.valid) == 2 and checked.rejected.empty
    notes = checked.issues["message"].tolist()
    assert any(TITLE in note and "title" in note for note in notes), notes
    chinese = [translate_issue_text(note, "zh") for note in notes if TITLE in note]
    assert all("标题" in text for text in chinese), chinese


def test_a_header_that_is_one_column_wide_is_not_taken_for_a_title() -> None:
    data = "编号\nx1\nx2\n".encode()
    raw = read_layer(data, file_name="ids.csv")
    assert list(raw.frame.columns) == ["编号", "geometry"]
    assert len(raw.frame) == 2


def test_a_survey_with_a_title_line_reads_like_one_without() -> None:
    header = ["序号", "1、您所在的企业:", "2、您的年龄段:", "3、未来12个月内您离职的可能性:"]
    body = [["1", "金山电子", "90后", "可能会离职"], ["2", "湘江机械", "00后", "肯定不会离职"]]
    plain = "\n".join(",".join(r) for r in [header, *body]).encode("gbk")
    titled = "园区生活问卷 结果导出,,,\n".encode("gbk") + plain
    raw = read_survey_file(titled, file_name="问卷.csv")
    expected = read_survey_file(plain, file_name="问卷.csv")
    assert list(raw.headers) == list(expected.headers)
    assert raw.frame.equals(expected.frame)
    notes = [issue.expected for issue in raw.issues]
    assert any("园区生活问卷 结果导出" in note and "title" in note for note in notes), notes
    assert raw.source_rows == expected.source_rows
    assert isinstance(raw.frame, pd.DataFrame)
