"""Every validation message and "expected" text has both languages in the issue catalogue.

The defects below are the ones the validators know; each message they produce must match a
catalogue template, so the Chinese interface never shows an English validation message.
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest

from retention.data.io import read_layer
from retention.data.layers import LayerKind
from retention.data.validate import validate_layer
from retention.report.issue_text import is_translated, translate_issue_text, translated_issues
from retention.survey.importer import import_survey, issues_frame, read_survey_file
from tests.survey_exports import DEFECTS, ENTERPRISES, export_bytes, respondent

BAD_AMENITIES = [
    ["编号", "名称", "类别", "容量", "营业时间", "开放对象", "经度", "纬度"],
    ["A1", "好食堂", "canteen", "100", "6:00-22:00", "", "113.15", "27.85"],
    ["A2", "", "canteen", "100", "6:00-22:00", "", "113.15", "27.85"],  # required missing
    ["A3", "歌厅", "karaoke", "10", "6:00-22:00", "", "113.15", "27.85"],  # not allowed
    ["A4", "球场", "篮球场", "很多", "6:00-22:00", "", "113.15", "27.85"],  # not a number
    ["A5", "球场", "篮球场", "-2", "6:00-22:00", "", "113.15", "27.85"],  # below minimum
    ["A6", "超市", "超市", "50", "8点到晚上", "", "113.15", "27.85"],  # hours token
    ["A7", "超市", "超市", "50", "25:00-26:00", "", "113.15", "27.85"],  # span
    ["A8", "超市", "超市", "50", "Mo-Fr", "", "113.15", "27.85"],  # days without times
    ["A9", "诊所", "诊所", "5", "全天", "", "东经113", "27.85"],  # lon not a number
    ["A10", "诊所", "诊所", "5", "全天", "", "", "27.85"],  # lon missing
    ["A11", "诊所", "诊所", "5", "全天", "", "27.85", "113.15"],  # swapped
    ["A12", "诊所", "诊所", "5", "全天", "", "500000", "3000000"],  # projected
    ["A1", "重复", "canteen", "100", "全天", "", "113.15", "27.85"],  # duplicate id
    ["", "", "", "", "", "", "", ""],  # empty row
    ["A13", "远处", "canteen", "100", "全天", "", "113.60", "27.85"],  # outside the park
    ["A14", "短行", "canteen"],  # ragged
]


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("gbk")


def _issues_of(rows: list[list[str]], kind: LayerKind, **kwargs: object) -> pd.DataFrame:
    raw = read_layer(_csv(rows), file_name="f.csv")
    return validate_layer(
        raw.frame, kind, source_name="f.csv", coordinate_system="wgs84", **kwargs
    ).issues


def _layer_issues() -> pd.DataFrame:
    from shapely.geometry import box

    no_ids = [
        ["名称", "类型", "开门", "关门", "经度", "纬度"],
        ["馆", "图书馆", "9:00", "x", "113.15", "27.85"],
    ]
    roads = [["名称", "wkt"], ["路", "LINESTRING (113.15 27.85, 113.16 27.85)"], ["坏", "LINE"]]
    enterprises = [
        ["名称", "员工数", "月租金", "经度", "纬度"],
        ["厂", "1.5", "x", "113.15", "27.85"],
    ]
    frames = [
        _issues_of(
            BAD_AMENITIES,
            LayerKind.AMENITIES,
            park_boundary=box(113.10, 27.80, 113.20, 27.90),
            existing_keys={("A12",)},
        ),
        _issues_of(no_ids, LayerKind.AMENITIES),
        _issues_of(roads, LayerKind.ROADS),
        _issues_of(enterprises, LayerKind.ENTERPRISES),
    ]
    return pd.concat(frames, ignore_index=True)


def test_every_layer_validation_message_has_a_chinese_template() -> None:
    issues = _layer_issues()
    assert len(issues) >= 18
    for column in ("message", "expected"):
        untranslated = [text for text in issues[column] if text and not is_translated(text)]
        assert untranslated == [], column
    chinese = translated_issues(issues, "zh", columns=("message", "expected"))
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in chinese["message"])
    # Nested messages ("{error}; expected {expected}") are translated all the way down.
    for text in (*chinese["message"], *chinese["expected"]):
        assert not re.search(r"expected|is not|missing|opening|understood", text), text


def test_every_survey_issue_has_a_chinese_template() -> None:
    defects = [*DEFECTS, "ragged", "good", "good"]
    rows = [respondent(i, d) for i, d in enumerate(defects, start=1)]
    for layout in ("wjx_two", "jinshuju"):
        data, name = export_bytes(layout, rows, "gbk")
        raw = read_survey_file(data, file_name=name)
        result = import_survey(raw, enterprises=ENTERPRISES, salt=b"x" * 32, wave="w")
        issues = issues_frame(result.issues)
        untranslated = [text for text in issues["expected"] if text and not is_translated(text)]
        assert untranslated == []
        for text in issues["expected"]:
            chinese = translate_issue_text(text, "zh")
            assert not re.search(r"expected|integer|optional|read as|cells on", chinese), chinese


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("'很多' is not a number; expected a whole number", "'很多' 不是数字；应为 整数"),
        ("read as 15 minutes (the midpoint of 10-20)", "按 15 分钟读取（取 10-20 的中点）"),
        ("duplicate id 'E1' (first at row 1)", "id 'E1' 重复（首次出现在第 1 行）"),
        ("something no template knows", "something no template knows"),
    ],
)
def test_known_translations(english: str, chinese: str) -> None:
    assert translate_issue_text(english, "zh") == chinese
    assert translate_issue_text(english, "en") == english


def test_an_optional_answer_warning_is_read_as_the_outer_message() -> None:
    text = (
        "an integer from 1 to 5 or a label such as 很满意/满意 "
        "(optional question: left blank, row kept)"
    )
    assert translate_issue_text(text, "zh") == (
        "1 到 5 的整数，或 很满意/满意 等答案文字（选答题：已留空，保留该行）"
    )
