"""Tests for retention.survey.mapping: suggestion, storage and cell parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from retention.errors import ValidationError
from retention.storage.mappings import MappingStore
from retention.survey.mapping import (
    CellError,
    ColumnMapping,
    match_label,
    parse_age_band,
    parse_amount,
    parse_header,
    parse_likert,
    parse_reason_list,
    parse_wage_band,
    suggest_mapping,
)
from retention.survey.schema import INTENT_TEXT, SATISFACTION_TEXT

HEADERS = (
    "序号",
    "提交答卷时间",
    "1、您所在的企业:",
    "3、您的年龄段:",
    "9、您对以下设施的满意度:(篮球场等球场)",
    "9、您对以下设施的满意度:(健身房)",
    "10、这些设施对您的重要程度:(咖啡与夜间休闲)",
    "10、这些设施对您的重要程度:(商场)",
    "12、未来12个月内您离职的可能性:",
    "13、您考虑离职的原因:(工资待遇)",
    "13、您考虑离职的原因:(家庭原因)",
)


def test_parse_header_splits_number_stem_and_option() -> None:
    assert parse_header("8、您考虑离职的原因:(工资待遇)") == (
        parse_header("8、您考虑离职的原因：（工资待遇）")
    )
    parts = parse_header("8、您考虑离职的原因:(工资待遇)")
    assert (parts.number, parts.stem, parts.option) == (8, "您考虑离职的原因", "工资待遇")
    assert parse_header("第10题(食堂)").number == 10
    assert parse_header("3、您的年龄段:").option == ""


def test_suggestion_knows_wenjuanxing_layout() -> None:
    mapping = suggest_mapping(HEADERS).as_dict()
    assert mapping == {
        "序号": "response_number",
        "提交答卷时间": "submitted_at",
        "1、您所在的企业:": "enterprise",
        "3、您的年龄段:": "age_band",
        "9、您对以下设施的满意度:(篮球场等球场)": "sat_sports_court",
        "9、您对以下设施的满意度:(健身房)": "sat_gym",
        "10、这些设施对您的重要程度:(咖啡与夜间休闲)": "imp_cafe_leisure",
        "10、这些设施对您的重要程度:(商场)": "imp_mall",
        "12、未来12个月内您离职的可能性:": "intent_to_leave",
        "13、您考虑离职的原因:(工资待遇)": "reason:wage",
        "13、您考虑离职的原因:(家庭原因)": "reason:family",
    }


def test_saved_mapping_is_reused_for_same_headers_only(tmp_path: Path) -> None:
    edited = suggest_mapping(HEADERS).to_frame()
    edited.loc[edited["column"] == "3、您的年龄段:", "target"] = "ignore"
    mapping = ColumnMapping.from_frame(edited)
    store = MappingStore(tmp_path)
    store.save_survey_mapping("jinshan", mapping)
    again = store.load_survey_mapping("jinshan", HEADERS)
    assert again is not None and again.as_dict() == mapping.as_dict()
    assert store.load_survey_mapping("jinshan", (*HEADERS, "extra")) is None
    assert store.load_survey_mapping("other", HEADERS) is None


def test_mapping_refuses_a_target_twice_and_unknown_targets() -> None:
    with pytest.raises(ValidationError, match=r"target 'age_band' is mapped from 2 columns"):
        ColumnMapping(("a", "b"), ("age_band", "age_band"), (1.0, 1.0))
    with pytest.raises(ValidationError, match=r"column 'a'.*unknown mapping target 'agee'"):
        ColumnMapping(("a",), ("agee",), (1.0,))


def test_cell_parsers_known_answers() -> None:
    assert parse_likert("非常满意", SATISFACTION_TEXT) == 5
    assert parse_likert("A. 非常不满意", SATISFACTION_TEXT) == 1
    assert parse_likert("肯定会离职", INTENT_TEXT) == 5
    assert parse_age_band("1995") == "post90"
    assert parse_age_band("70后及以前") == "post70"
    assert parse_amount("10-20分钟", unit_words={"分钟": 1.0}, default_factor=1.0) == 15.0
    assert parse_amount("1小时", unit_words={"小时": 60.0}, default_factor=1.0) == 60.0
    assert parse_wage_band("8000元以上") == ">8000"
    assert parse_wage_band("6000-8000元") == "6000-8000"
    assert parse_wage_band("3500") == "<4000"
    assert parse_reason_list("工资待遇┋通勤不便") == ["commute", "wage"]
    with pytest.raises(CellError, match="an integer from 1 to 5"):
        parse_likert("6", SATISFACTION_TEXT)


def test_match_label_prefers_the_longest_synonym() -> None:
    from retention.survey.mapping import CATEGORY_SYNONYMS

    assert match_label("篮球场", CATEGORY_SYNONYMS)[0] == "sports_court"
    assert match_label("完全无关的文字", CATEGORY_SYNONYMS)[0] is None
