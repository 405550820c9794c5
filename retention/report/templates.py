"""Downloadable XLSX templates: a Chinese header row, an English header row and an example row.

A park office fills a template in Excel or WPS and uploads it as it is: the Chinese headers are
aliases the column mapping knows (``retention.data.columns``), the English row names each
column's field (layers) or mapping target (survey) and is recognised and skipped on reading, and
the example row shows the values expected (Chinese categories, ``6:00-22:00`` hours, 是/否).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

from retention.data.columns import FIELD_SYNONYMS, LATITUDE, LONGITUDE, layer_targets
from retention.data.layers import LAYER_SPECS, LayerKind
from retention.safe_cells import xlsx_bytes
from retention.survey.schema import CATEGORY_LABELS_ZH

_LINE = "LINESTRING (113.150 27.850, 113.160 27.852)"
_POLYGON = "POLYGON ((113.14 27.84, 113.16 27.84, 113.16 27.86, 113.14 27.86, 113.14 27.84))"
_POINT = {LONGITUDE: "113.150", LATITUDE: "27.850"}
EXAMPLES: Mapping[LayerKind, Mapping[str, str]] = MappingProxyType(
    {
        LayerKind.ZONES: {
            "id": "G01",
            "name": "第一网格",
            "name_en": "Grid 1",
            "level": "网格",
            "parent": "PARK",
            "wkt": _POLYGON,
        },
        LayerKind.ENTERPRISES: {
            "id": "E101",
            "name": "示例电子有限公司",
            "name_en": "Example Electronics Co., Ltd.",
            "industry": "电子信息",
            "employees": "800",
            "shift_pattern": "两班倒",
            "zone_id": "G01",
            **_POINT,
        },
        LayerKind.RESIDENCES: {
            "id": "R101",
            "name": "示例员工宿舍1栋",
            "name_en": "Example dormitory 1",
            "kind": "员工宿舍",
            "beds": "400",
            "residents": "360",
            "rent_cny_month": "300",
            "enterprise_id": "E101",
            **_POINT,
        },
        LayerKind.AMENITIES: {
            "id": "A101",
            "name": "园区篮球场",
            "name_en": "Park basketball court",
            "category": "篮球场",
            "capacity": "2",
            "opening_hours": "6:00-22:00",
            "open_to": "",
            **_POINT,
        },
        LayerKind.TRANSIT_ROUTES: {
            "route_id": "B1",
            "name": "园区1路",
            "name_en": "Park bus 1",
            "kind": "公交",
            "speed_kmh": "18",
            "headway_peak_min": "10",
            "headway_evening_min": "20",
            "headway_weekend_min": "20",
            "headway_night_min": "",
            "service_start": "6:30",
            "service_end": "22:00",
            "fare_cny": "2",
            "wkt": _LINE,
        },
        LayerKind.TRANSIT_STOPS: {
            "stop_id": "S01",
            "route_id": "B1",
            "sequence": "1",
            "name": "园区1号站",
            "name_en": "Park stop 1",
            **_POINT,
        },
        LayerKind.ROADS: {
            "id": "RD1",
            "name": "园区环路",
            "road_class": "支路",
            "walk": "是",
            "bike": "是",
            "wkt": _LINE,
        },
    }
)
"""Example row of each layer template, by field."""


def _chinese_header(kind: LayerKind, target: str) -> str:
    if target == "wkt":
        return "几何(WKT)"
    aliases: tuple[str, ...] = ()
    for field_spec in LAYER_SPECS[kind].fields:
        if field_spec.name == target:
            aliases = field_spec.aliases
    for word in (*aliases, *FIELD_SYNONYMS.get(target, ())):
        if any("\u4e00" <= ch <= "\u9fff" for ch in word):
            return word
    return target


def layer_template_table(kind: LayerKind | str) -> pd.DataFrame:
    """Return a layer template as a table: Chinese headers, the English row, the example row."""
    layer = LayerKind(kind)
    example = EXAMPLES[layer]
    targets = [t for t in (*layer_targets(layer), "wkt") if t in example]
    headers = [_chinese_header(layer, t) for t in targets]
    return pd.DataFrame([targets, [example[t] for t in targets]], columns=headers)


def layer_template_xlsx(kind: LayerKind | str) -> bytes:
    """Return the XLSX template of a layer kind (one sheet named after the kind)."""
    return xlsx_bytes({LayerKind(kind).value: layer_template_table(kind)})


_SURVEY_QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("respondent_id", "工号", "A1024"),
    ("enterprise", "您所在的企业", "示例电子有限公司"),
    ("residence", "您居住在哪里", "示例员工宿舍1栋"),
    ("age_band", "您的年龄段", "90后"),
    ("tenure_months", "您在本企业工作了多少个月", "18"),
    ("shift", "您的班次", "两班倒"),
    ("wage_band", "您的月收入", "4000-6000元"),
    ("commute_mode", "您上下班的主要方式", "电动车"),
    ("commute_minutes", "您单程通勤时间大约多少分钟", "15"),
)


def survey_template_table() -> pd.DataFrame:
    """Return the survey template: Chinese questions, English mapping targets, an example row."""
    columns: list[tuple[str, str, str]] = list(_SURVEY_QUESTIONS)
    for code, label in CATEGORY_LABELS_ZH.items():
        columns.append((f"sat_{code}", f"您对以下设施的满意度:({label})", "满意"))
    for code, label in CATEGORY_LABELS_ZH.items():
        columns.append((f"imp_{code}", f"这些设施对您的重要程度:({label})", "重要"))
    columns += [
        ("overall_satisfaction", "总体来说，您对园区生活的满意度", "一般"),
        ("intent_to_leave", "未来12个月内您离职的可能性", "不太可能"),
        ("reasons", "您考虑离职的原因(可多选，用┋分隔)", "工资待遇┋通勤不便"),
        ("submitted_at", "提交时间", "2024-03-01 08:30:00"),
    ]
    return pd.DataFrame(
        [[target for target, _, _ in columns], [example for _, _, example in columns]],
        columns=[question for _, question, _ in columns],
    )


def survey_template_xlsx() -> bytes:
    """Return the XLSX survey template (one sheet)."""
    return xlsx_bytes({"survey": survey_template_table()})
