"""Layer column mapping: Chinese headers, Chinese categories, 开门/关门, no ids, defaults.

Every file here is built in the test as a park office would type it.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
import xlsxwriter

from retention.data.columns import (
    LayerColumnMapping,
    generated_id,
    normalise_hours,
    suggest_layer_mapping,
)
from retention.data.io import read_layer
from retention.data.layers import LayerKind
from retention.data.validate import validate_layer
from retention.errors import MissingColumnsError
from retention.report.templates import layer_template_xlsx, survey_template_xlsx
from retention.storage.mappings import MappingStore
from retention.survey.importer import read_survey_file, suggest_for

AMENITY_ROWS = [
    ["名称", "类型", "开门", "关门", "经度", "纬度"],
    ["工人文化宫篮球场", "篮球场", "6:00", "22:00", "113.150", "27.850"],
    ["二号食堂", "食堂", "06:30", "20:30", "113.151", "27.851"],
    ["园区便利店", "便利店", "7:00", "23:30", "113.152", "27.852"],
    ["夜宵大排档", "餐饮", "18:00", "02:00", "113.153", "27.853"],
    ["职工健身房", "健身房", "9:00", "21:00", "113.154", "27.854"],
    ["快递驿站", "快递", "8:00", "20:00", "113.155", "27.855"],
    ["卫生服务站", "社区卫生服务站", "8:00", "17:30", "113.156", "27.856"],
]


def _file(rows: list[list[str]], fmt: str) -> tuple[bytes, str]:
    if fmt == "xlsx":
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(buffer, {"in_memory": True})
        sheet = book.add_worksheet("设施")
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write_string(r, c, value)
        book.close()
        return buffer.getvalue(), "设施.xlsx"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    text = buffer.getvalue()
    return text.encode("utf-8-sig" if fmt == "utf8" else "gbk"), "设施.csv"


def _validate(rows: list[list[str]], kind: LayerKind, *, fmt: str = "gbk", **kwargs):
    data, name = _file(rows, fmt)
    raw = read_layer(data, file_name=name)
    return validate_layer(raw.frame, kind, source_name=name, coordinate_system="wgs84", **kwargs)


@pytest.mark.parametrize("fmt", ["xlsx", "utf8", "gbk"])
def test_chinese_amenity_file_without_ids_imports_fully(fmt: str) -> None:
    result = _validate(AMENITY_ROWS, LayerKind.AMENITIES, fmt=fmt)
    assert result.rejected.empty and len(result.valid) == 7
    valid = result.valid
    assert valid["category"].tolist() == [
        "sports_court",
        "canteen",
        "grocery",
        "canteen",
        "gym",
        "express_delivery",
        "clinic",
    ]
    assert valid["opening_hours"].tolist()[:4] == [
        "6:00-22:00",
        "06:30-20:30",
        "7:00-23:30",
        "18:00-02:00",
    ]
    assert valid["capacity"].tolist() == [1.0] * 7  # documented default, with a warning
    assert valid["id"].str.fullmatch(r"ame-[0-9a-f]{10}").all() and valid["id"].is_unique
    warnings = result.issues[result.issues["severity"] == "warning"]
    assert warnings["row"].isna().all()
    assert set(warnings["column"]) == {"(generated id)", "开门/关门", "(capacity default)"}
    # The same rows give the same ids on another upload: a repeat is found, not doubled.
    again = _validate(AMENITY_ROWS, LayerKind.AMENITIES, fmt="utf8")
    assert again.valid["id"].tolist() == valid["id"].tolist()


def test_opening_hours_in_chinese_and_typed_forms() -> None:
    assert normalise_hours("全天") == "24/7" and normalise_hours("24小时") == "24/7"
    rows = [
        ["编号", "名称", "类别", "容量", "营业时间", "经度", "纬度"],
        ["A1", "便利店", "grocery", "50", "6:00-22:00", "113.15", "27.85"],
        ["A2", "食堂", "canteen", "300", "06:00—22:00", "113.15", "27.85"],
        ["A3", "超市", "超市", "80", "全天", "113.15", "27.85"],
        ["A4", "医务室", "clinic", "20", "24小时", "113.15", "27.85"],
        ["A5", "健身房", "gym", "30", "Mo-Fr 18:00-22:00; Sa 09:00-12:00", "113.15", "27.85"],
    ]
    result = _validate(rows, LayerKind.AMENITIES)
    assert result.rejected.empty
    assert result.valid["opening_hours"].tolist() == [
        "6:00-22:00",
        "06:00-22:00",
        "24/7",
        "24/7",
        "Mo-Fr 18:00-22:00; Sa 09:00-12:00",
    ]


def test_a_file_missing_three_required_columns_names_all_three() -> None:
    rows = [["名称", "经度", "纬度"], ["一号宿舍", "113.15", "27.85"]]
    with pytest.raises(MissingColumnsError) as caught:
        _validate(rows, LayerKind.RESIDENCES)
    assert caught.value.fields == ("kind", "beds", "residents")
    assert caught.value.kind == "residences"
    for field in ("'kind'", "'beds'", "'residents'"):
        assert field in str(caught.value)


def test_enterprises_without_industry_or_shift_take_defaults_with_warnings() -> None:
    rows = [
        ["企业编号", "企业名称", "员工人数", "经度", "纬度"],
        ["E1", "示例电子", "800", "113.15", "27.85"],
        ["E2", "示例机械", "1,200", "113.16", "27.86"],
    ]
    result = _validate(rows, LayerKind.ENTERPRISES)
    assert result.rejected.empty
    assert result.valid["industry"].tolist() == ["unknown", "unknown"]
    assert result.valid["shift_pattern"].tolist() == ["day", "day"]
    assert result.valid["employees"].tolist() == [800, 1200]
    messages = " ".join(result.issues["message"])
    assert "no industry column: every row takes the default 'unknown'" in messages
    assert "no shift_pattern column: every row takes the default 'day'" in messages


def test_roads_without_class_or_flags_are_walkable_and_bikeable_with_warnings() -> None:
    rows = [
        ["道路名称", "wkt"],
        ["园区大道", "LINESTRING (113.15 27.85, 113.16 27.85)"],
        ["", "LINESTRING (113.16 27.85, 113.16 27.86)"],
    ]
    result = _validate(rows, LayerKind.ROADS)
    assert result.rejected.empty
    assert result.valid["walk"].tolist() == [True, True]
    assert result.valid["bike"].tolist() == [True, True]
    assert result.valid["road_class"].tolist() == ["local", "local"]
    warned = set(result.issues.loc[result.issues["severity"] == "warning", "column"])
    assert {"(walk default)", "(bike default)", "(road_class default)"} <= warned


def test_category_value_map_decides_an_unknown_category() -> None:
    rows = [
        ["编号", "名称", "类别", "容量", "营业时间", "经度", "纬度"],
        ["A1", "职工书屋", "职工之家", "40", "9:00-21:00", "113.15", "27.85"],
    ]
    first = _validate(rows, LayerKind.AMENITIES)
    assert first.valid.empty
    assert "'职工之家' is not an allowed value" in first.issues["message"].iloc[0]
    mapping = suggest_layer_mapping(rows[0], LayerKind.AMENITIES).with_values(
        [("category", "职工之家", "library_culture")]
    )
    second = _validate(rows, LayerKind.AMENITIES, mapping=mapping)
    assert second.valid["category"].tolist() == ["library_culture"]


def test_an_unusable_optional_value_is_left_blank_with_a_warning() -> None:
    rows = [
        ["编号", "名称", "类型", "床位", "入住人数", "月租金", "经度", "纬度"],
        ["R1", "宿舍1栋", "员工宿舍", "400", "360", "面议", "113.15", "27.85"],
    ]
    result = _validate(rows, LayerKind.RESIDENCES)
    assert len(result.valid) == 1 and result.rejected.empty
    assert pd.isna(result.valid["rent_cny_month"].iloc[0])
    (issue,) = result.issues.itertuples()
    assert issue.severity == "warning" and issue.row == 1 and issue.column == "月租金"
    assert result.valid["kind"].tolist() == ["dorm"]


def test_suggestions_from_chinese_and_english_synonyms() -> None:
    mapping = suggest_layer_mapping(
        ["企业名称", "所属行业", "用工人数", "班次", "Longitude", "Latitude", "备注"],
        LayerKind.ENTERPRISES,
    )
    assert mapping.field_headers() == {
        "name": "企业名称",
        "industry": "所属行业",
        "employees": "用工人数",
        "shift_pattern": "班次",
        "longitude": "Longitude",
        "latitude": "Latitude",
    }
    assert mapping.header_for("id") is None  # generated on import
    roads = suggest_layer_mapping(["道路等级", "可步行", "可骑行"], LayerKind.ROADS)
    assert roads.targets == ("road_class", "walk", "bike")


def test_layer_mapping_is_saved_per_park_and_reused(tmp_path) -> None:
    store = MappingStore(tmp_path)
    mapping = suggest_layer_mapping(AMENITY_ROWS[0], LayerKind.AMENITIES).with_values(
        [("category", "餐饮", "cafe_leisure")]
    )
    store.save_layer_mapping("park1", mapping)
    assert store.load_layer_mapping("park1", "amenities", AMENITY_ROWS[0]) == mapping
    assert store.load_layer_mapping("park1", "residences", AMENITY_ROWS[0]) is None
    assert store.load_layer_mapping("park2", "amenities", AMENITY_ROWS[0]) is None
    reused = _validate(AMENITY_ROWS, LayerKind.AMENITIES, mapping=mapping)
    assert reused.valid["category"].tolist()[3] == "cafe_leisure"  # the saved decision


@pytest.mark.parametrize("kind", list(LayerKind))
def test_each_layer_template_imports_its_example_row(kind: LayerKind) -> None:
    raw = read_layer(layer_template_xlsx(kind), file_name=f"{kind.value}.xlsx")
    headers = [str(c) for c in raw.frame.columns if c != "geometry"]
    assert any("\u4e00" <= ch <= "\u9fff" for h in headers for ch in h)  # Chinese header row
    result = validate_layer(raw.frame, kind, source_name="t.xlsx", coordinate_system="wgs84")
    assert len(result.valid) == 1 and result.rejected.empty


def test_survey_template_maps_itself_from_its_english_row() -> None:
    raw = read_survey_file(survey_template_xlsx(), file_name="survey.xlsx")
    assert raw.layout.name == "parklife_template" and len(raw.frame) == 1
    mapping = suggest_for(raw)
    assert mapping.column_for("enterprise") == "您所在的企业"
    assert mapping.column_for("sat_canteen") == "您对以下设施的满意度:(食堂与餐饮)"
    assert mapping.column_for("intent_to_leave") == "未来12个月内您离职的可能性"


def test_generated_ids_depend_only_on_the_row() -> None:
    assert generated_id("amenities", ["a", 1]) == generated_id("amenities", ["a", 1])
    assert generated_id("amenities", ["a", 1]) != generated_id("amenities", ["a", 2])
    assert LayerColumnMapping.from_json(
        suggest_layer_mapping(["名称"], "amenities").to_json()
    ).targets == ("name",)


def test_ragged_csv_rows_are_rejected_with_line_and_counts_never_padded() -> None:
    text = (
        "编号,名称,类别,容量,营业时间,经度,纬度\n"
        "A1,食堂,canteen,100,6:00-22:00,113.15,27.85\n"
        "A2,超市,grocery,50,6:00-22:00,113.15\n"  # one cell short
        "A3,球场,sports_court,2,6:00-22:00,113.15,27.85,多余\n"  # one cell too many
        "A4,诊所,clinic,5,全天,113.15,27.85\n"
    )
    raw = read_layer(text.encode("gbk"), file_name="设施.csv")
    result = validate_layer(
        raw.frame, LayerKind.AMENITIES, source_name="设施.csv", coordinate_system="wgs84"
    )
    assert result.valid["id"].tolist() == ["A1", "A4"]
    assert result.rejected["row"].tolist() == [2, 3]
    ragged = result.issues[result.issues["column"] == ""]
    assert ragged["message"].tolist() == [
        "line 3 has 6 cells (a cell with an unquoted comma or a lost cell shifts every value "
        "after it); the row is rejected, not padded or cut",
        "line 4 has 8 cells (a cell with an unquoted comma or a lost cell shifts every value "
        "after it); the row is rejected, not padded or cut",
    ]
    assert set(ragged["expected"]) == {"7 cells, as many as the header has"}
    assert result.rejected["extra_cells"].tolist() == ["", "多余"]
    assert len(result.valid) + len(result.rejected) == 4
