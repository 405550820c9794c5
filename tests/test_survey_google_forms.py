"""Google Forms (and SurveyMonkey-like) grid headers name the row in square brackets:
``您对以下设施的满意度 [食堂与餐饮]``. They are read like Wenjuanxing's ``(食堂与餐饮)``, so
the suggested mapping finds the satisfaction and importance grids. Headers written by hand."""

from __future__ import annotations

from retention.survey.mapping import parse_header, suggest_mapping


def test_a_square_bracket_option_is_the_grid_row() -> None:
    parts = parse_header("您对以下设施的满意度 [食堂与餐饮]")
    assert (parts.stem, parts.option) == ("您对以下设施的满意度", "食堂与餐饮")
    assert parse_header("3. 满意度【篮球场】").option == "篮球场"


def test_google_forms_grids_are_suggested() -> None:
    headers = [
        "时间戳记",
        "您所在的企业",
        "您对以下设施的满意度 [食堂与餐饮]",
        "您对以下设施的满意度 [篮球场等球场]",
        "这些设施对您的重要程度 [食堂与餐饮]",
        "这些设施对您的重要程度 [篮球场等球场]",
        "未来12个月内您离职的可能性",
    ]
    targets = dict(zip(headers, suggest_mapping(headers).targets, strict=True))
    assert targets["您对以下设施的满意度 [食堂与餐饮]"] == "sat_canteen"
    assert targets["您对以下设施的满意度 [篮球场等球场]"] == "sat_sports_court"
    assert targets["这些设施对您的重要程度 [食堂与餐饮]"] == "imp_canteen"
