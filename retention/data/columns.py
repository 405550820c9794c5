"""Layer column mapping: which column of a user's file is which field, and what its values mean.

A park office's files name their columns in Chinese or English and write categories in Chinese
(篮球场, 员工宿舍, 两班倒). ``suggest_layer_mapping`` proposes a target field for every header from
the spec's aliases and the synonyms below; the user edits it on the Data page (or passes it to
the loaders), and the store keeps it per park (``retention.storage.mappings``).

Targets of a header: a field of the layer's spec (``retention.data.layers.LAYER_SPECS``),
``opens``/``closes`` (an amenity's opening and closing time, turned into ``HH:MM-HH:MM`` hours),
``longitude``/``latitude``, or ``ignore``.

When a field has no column:

* the id field gets a stable id from the row's content (``generated_id``);
* a field in ``FIELD_DEFAULTS`` takes its documented default, with one warning;
* any other required field is missing: ``MissingColumnsError`` names every such field at once.

Values of a choice field (category, residence kind, shift pattern, road class, ...) are read
through the mapping's value map first, then ``CHOICE_SYNONYMS``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from retention.data.layers import LAYER_SPECS, LayerKind
from retention.errors import ValidationError

IGNORE = "ignore"
OPENS = "opens"
CLOSES = "closes"
LONGITUDE = "longitude"
LATITUDE = "latitude"
_PARENTHESES = re.compile(r"[（(\[【].*?[)）\]】]")

FIELD_SYNONYMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "id": ("id", "编号", "序号", "代码", "编码", "fid", "objectid", "标识"),
        "name": (
            "name",
            "名称",
            "名字",
            "企业名称",
            "单位名称",
            "设施名称",
            "小区名称",
            "站点名称",
            "线路名称",
            "道路名称",
            "名",
        ),
        "name_en": ("name_en", "英文名称", "英文名", "english name"),
        "industry": ("industry", "行业", "所属行业", "行业类别", "产业"),
        "employees": (
            "employees",
            "员工数",
            "职工人数",
            "人数",
            "员工人数",
            "从业人员",
            "用工人数",
            "staff",
            "workers",
        ),
        "shift_pattern": ("shift_pattern", "班制", "班次", "倒班", "shift"),
        "zone_id": ("zone_id", "所属网格", "网格", "zone", "片区"),
        "kind": ("kind", "类型", "类别", "种类", "线路类型", "住房类型", "type"),
        "beds": ("beds", "床位", "床位数", "床数"),
        "residents": ("residents", "入住人数", "住户人数", "居住人数", "常住人数", "人口"),
        "rent_cny_month": ("rent_cny_month", "月租金", "租金", "月租", "rent"),
        "enterprise_id": ("enterprise_id", "所属企业", "企业编号"),
        "category": ("category", "类别", "类型", "分类", "设施类型", "设施类别", "type"),
        "capacity": ("capacity", "容量", "规模", "座位数", "面积", "接待能力"),
        "opening_hours": (
            "opening_hours",
            "营业时间",
            "开放时间",
            "hours",
            "opening hours",
            "opening_ho",
        ),
        "open_to": ("open_to", "开放对象", "服务对象"),
        "level": ("level", "层级", "级别"),
        "parent": ("parent", "上级", "parent_id", "上级编号"),
        "route_id": ("route_id", "线路编号", "线路", "route"),
        "stop_id": ("stop_id", "站点编号", "站点id"),
        "sequence": ("sequence", "站序", "seq", "顺序"),
        "speed_kmh": ("speed_kmh", "运营速度", "速度", "speed"),
        "service_start": ("service_start", "首班", "首班时间", "首班车"),
        "service_end": ("service_end", "末班", "末班时间", "末班车"),
        "fare_cny": ("fare_cny", "票价", "fare"),
        "road_class": ("road_class", "道路等级", "等级", "道路类型", "class", "highway"),
        "walk": ("walk", "可步行", "步行"),
        "bike": ("bike", "可骑行", "骑行", "非机动车"),
        OPENS: ("opens", "开门", "开门时间", "开始营业", "营业开始", "open", "开放"),
        CLOSES: ("closes", "关门", "关门时间", "结束营业", "营业结束", "close", "打烊"),
        LONGITUDE: ("longitude", "lon", "lng", "long", "x", "经度", "东经", "x坐标"),
        LATITUDE: ("latitude", "lat", "y", "纬度", "北纬", "y坐标"),
    }
)
"""Chinese and English headers suggested for each target (besides the spec's aliases)."""

CHOICE_SYNONYMS: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "category": MappingProxyType(
            {
                "canteen": ("食堂", "餐饮", "餐厅", "饭店", "快餐", "小吃"),
                "grocery": ("超市", "便利店", "菜市场", "农贸市场", "生鲜"),
                "clinic": ("诊所", "卫生站", "卫生服务站", "卫生室", "医务室", "社区医院"),
                "hospital": ("医院",),
                "sports_court": (
                    "篮球场",
                    "足球场",
                    "羽毛球场",
                    "网球场",
                    "球场",
                    "运动场",
                    "体育场",
                ),
                "gym": ("健身房", "健身中心", "健身"),
                "park": ("公园", "绿地", "广场", "游园"),
                "library_culture": ("图书馆", "书屋", "文化中心", "文化活动中心", "阅览室"),
                "cafe_leisure": ("咖啡", "奶茶", "茶饮", "酒吧", "休闲", "娱乐", "ktv", "网吧"),
                "mall": ("商场", "购物中心", "商业综合体"),
                "kindergarten": ("幼儿园", "托儿所", "托育"),
                "school": ("小学", "中学", "中小学", "学校"),
                "training": ("培训", "技能培训", "职业培训", "夜校"),
                "employment_service": ("就业驿站", "就业服务", "人才市场", "招聘"),
                "express_delivery": ("快递", "驿站", "菜鸟", "快递柜"),
            }
        ),
        "kind": MappingProxyType(
            {
                "dorm": ("宿舍", "员工宿舍", "职工宿舍", "dormitory"),
                "talent_apartment": ("人才公寓", "公寓", "青年公寓"),
                "rental_village": ("城中村", "农民房", "出租屋", "自建房", "村"),
                "community": ("小区", "商品房", "社区", "住宅"),
                "bus": ("公交", "公交车", "常规公交"),
                "custom_bus": ("定制公交", "定制巴士"),
                "shuttle": ("班车", "通勤车", "厂车", "企业班车"),
            }
        ),
        "shift_pattern": MappingProxyType(
            {
                "day": ("常白班", "长白班", "白班", "单班", "正常班"),
                "two_shift": ("两班倒", "两班", "二班倒", "12小时"),
                "three_shift": ("三班倒", "三班", "四班三倒", "8小时三班"),
            }
        ),
        "road_class": MappingProxyType(
            {
                "arterial": ("主干路", "主干道", "快速路", "primary", "trunk", "secondary"),
                "collector": ("次干路", "次干道", "tertiary"),
                "local": ("支路", "街坊路", "residential", "service", "unclassified"),
                "path": ("步道", "人行道", "小路", "绿道", "footway", "path", "cycleway"),
            }
        ),
        "level": MappingProxyType(
            {"park": ("园区", "社区"), "grid": ("网格",), "micro_grid": ("微网格",)}
        ),
    }
)
"""Chinese (and OSM) words for the codes of each choice field; the longest match wins."""

FIELD_DEFAULTS: Mapping[tuple[str, str], tuple[object, str]] = MappingProxyType(
    {
        ("enterprises", "industry"): ("unknown", "industry is only a label in ParkLife"),
        ("enterprises", "shift_pattern"): (
            "day",
            "a single day shift; evening and night windows then count no shift workers",
        ),
        ("amenities", "capacity"): (
            1.0,
            "one unit of the category's capacity (one court, one counter...); E2SFCA supply is "
            "then a count of places",
        ),
        ("roads", "road_class"): ("local", "a local street"),
        ("roads", "walk"): (True, "walkable, as most park streets are"),
        ("roads", "bike"): (True, "bikeable, as most park streets are"),
    }
)
"""Value of a field whose column is absent, and why it is a fair default (shown in the warning)."""

ALL_DAY_TEXTS = ("全天", "全天开放", "24小时", "24小时营业", "24小时开放", "24h", "24 h", "全天候")
"""Chinese ways to write "always open", read as ``24/7``."""


def normalise_header(header: object) -> str:
    """Return ``header`` stripped, case-folded, without a parenthesised unit like ``(人)``."""
    text = _PARENTHESES.sub("", str(header)).strip().casefold()
    return " ".join(text.split())


def headers_signature(headers: Sequence[object]) -> str:
    """Return a short hash identifying a list of headers (order matters)."""
    joined = "\x1f".join(str(h) for h in headers)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


def layer_targets(kind: LayerKind | str) -> tuple[str, ...]:
    """Return every target a header of a ``kind`` file can be mapped to (editor options)."""
    spec = LAYER_SPECS[LayerKind(kind)]
    extra: tuple[str, ...] = (LONGITUDE, LATITUDE)
    if LayerKind(kind) is LayerKind.AMENITIES:
        extra = (OPENS, CLOSES, *extra)
    return (IGNORE, *(f.name for f in spec.fields), *extra)


def _synonyms(kind: LayerKind, target: str) -> tuple[str, ...]:
    spec = LAYER_SPECS[kind]
    aliases: tuple[str, ...] = ()
    for field_spec in spec.fields:
        if field_spec.name == target:
            aliases = (field_spec.name, *field_spec.aliases)
    return (*aliases, *FIELD_SYNONYMS.get(target, ()))


@dataclass(frozen=True)
class LayerColumnMapping:
    """The target of every column of one layer file layout, and its choice value map.

    Parameters
    ----------
    kind
        Layer kind (``LayerKind`` value).
    columns
        The file's headers, in file order.
    targets
        One entry of ``layer_targets(kind)`` per header.
    values
        ``(field, text as in the file, code)`` triples for choice fields, e.g.
        ``("category", "篮球场", "sports_court")``; frozen and hashable (a cache key).
    """

    kind: str
    columns: tuple[str, ...]
    targets: tuple[str, ...]
    values: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self) -> None:
        allowed = layer_targets(self.kind)
        if len(self.columns) != len(self.targets):
            raise ValidationError(
                f"mapping has {len(self.columns)} columns and {len(self.targets)} targets; "
                "expected one target per column"
            )
        for column, target in zip(self.columns, self.targets, strict=True):
            if target not in allowed:
                raise ValidationError(
                    f"unknown target {target!r} for layer {self.kind!r}; expected one of "
                    f"{', '.join(allowed)}",
                    column=column,
                )
        used = [t for t in self.targets if t != IGNORE]
        repeated = sorted({t for t in used if used.count(t) > 1})
        if repeated:
            where = [c for c, t in zip(self.columns, self.targets, strict=True) if t == repeated[0]]
            raise ValidationError(
                f"field {repeated[0]!r} is mapped from {len(where)} columns ({', '.join(where)}); "
                "expected at most one column per field",
                column=where[1],
            )

    @property
    def signature(self) -> str:
        """Hash of the headers: files with the same headers share a mapping."""
        return headers_signature(self.columns)

    def header_for(self, target: str) -> str | None:
        """Return the header mapped to ``target``, or ``None``."""
        for column, mapped in zip(self.columns, self.targets, strict=True):
            if mapped == target:
                return column
        return None

    def field_headers(self) -> dict[str, str]:
        """Return ``{target: header}`` for every mapped header."""
        return {t: c for c, t in zip(self.columns, self.targets, strict=True) if t != IGNORE}

    def value_map(self, field: str) -> dict[str, str]:
        """Return ``{text: code}`` of one choice field."""
        return {text: code for f, text, code in self.values if f == field}

    def with_values(self, values: Sequence[tuple[str, str, str]]) -> LayerColumnMapping:
        """Return a copy with ``values`` as its value map."""
        return LayerColumnMapping(self.kind, self.columns, self.targets, tuple(sorted(values)))

    def to_json(self) -> dict[str, Any]:
        """Return the mapping as JSON-ready data."""
        return {
            "kind": self.kind,
            "columns": list(self.columns),
            "targets": list(self.targets),
            "values": [list(v) for v in self.values],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LayerColumnMapping:
        """Read ``to_json`` data."""
        return cls(
            str(data["kind"]),
            tuple(str(c) for c in data["columns"]),
            tuple(str(t) for t in data["targets"]),
            tuple((str(f), str(t), str(c)) for f, t, c in data.get("values", [])),
        )

    def dumps(self) -> str:
        """Return the mapping as JSON text."""
        return json.dumps(self.to_json(), ensure_ascii=False)


def suggest_layer_mapping(headers: Sequence[object], kind: LayerKind | str) -> LayerColumnMapping:
    """Propose a target for every header of a ``kind`` file.

    An exact header (case-insensitive, without a parenthesised unit) of a field's name, alias or
    synonym wins; otherwise the longest synonym contained in the header (``企业名称`` → name).
    Each target goes to one header only: the canonical field name first, then the first in file
    order.

    Parameters
    ----------
    headers
        The file's headers.
    kind
        Layer kind.

    Returns
    -------
    LayerColumnMapping
        Without a value map (see ``suggest_values``).
    """
    layer = LayerKind(kind)
    names = [str(h) for h in headers]
    targets = [t for t in layer_targets(layer) if t != IGNORE]
    chosen: dict[int, str] = {}
    taken: set[str] = set()
    # Pass 1: the canonical name; pass 2: exact alias or synonym; pass 3: contained synonym.
    for attempt in ("canonical", "exact", "contains"):
        for target in targets:
            if target in taken:
                continue
            words = [normalise_header(w) for w in _synonyms(layer, target)]
            best: tuple[int, int] | None = None  # (synonym length, header index)
            for index, header in enumerate(names):
                if index in chosen:
                    continue
                text = normalise_header(header)
                if attempt == "canonical":
                    hit = len(text) if text == target else 0
                elif attempt == "exact":
                    hit = len(text) if text in words else 0
                else:
                    hit = max((len(w) for w in words if len(w) >= 2 and w in text), default=0)
                if hit and (best is None or hit > best[0]):
                    best = (hit, index)
            if best is not None:
                chosen[best[1]] = target
                taken.add(target)
    return LayerColumnMapping(
        layer.value, tuple(names), tuple(chosen.get(i, IGNORE) for i in range(len(names)))
    )


def choice_code(
    field: str, text: str, choices: Sequence[str], *, values: Mapping[str, str]
) -> str | None:
    """Return the code of a choice-field value, or ``None`` when it cannot be told.

    The user's value map first, then the code itself (``Sports Court`` → ``sports_court``),
    then the longest Chinese or OSM synonym contained in the text (``室外篮球场`` →
    ``sports_court``).
    """
    raw = str(text).strip()
    if raw in values:
        code = values[raw]
        return code if code in choices else None
    key = re.sub(r"[\s\-]+", "_", raw.casefold())
    if key in choices:
        return key
    best: tuple[int, str] | None = None
    for code, words in CHOICE_SYNONYMS.get(field, {}).items():
        if code not in choices:
            continue
        for word in words:
            if word.casefold() in raw.casefold() and (best is None or len(word) > best[0]):
                best = (len(word), code)
    return best[1] if best else None


def generated_id(kind: LayerKind | str, cells: Sequence[object]) -> str:
    """Return a stable id for a row without one: kind prefix + hash of the row's cells.

    The same row content gives the same id on every upload, so re-uploading a file finds its
    rows already in the park instead of doubling them.
    """
    text = "\x1f".join("" if c is None else str(c) for c in cells)
    prefix = {"transit_routes": "route", "transit_stops": "stop"}.get(
        str(LayerKind(kind).value), LayerKind(kind).value[:3]
    )
    return f"{prefix}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:10]}"


def normalise_hours(text: str) -> str:
    """Return opening-hours text with Chinese all-day words as ``24/7`` and 至 as ``-``."""
    stripped = str(text).strip()
    if stripped.replace(" ", "") in {t.replace(" ", "") for t in ALL_DAY_TEXTS}:
        return "24/7"
    return stripped.replace("至", "-").replace("到", "-")


CHOICE_TABLE_COLUMNS = ("field", "value", "count", "code", "source")


def choice_table(frame: Any, mapping: LayerColumnMapping) -> Any:
    """List every distinct value of the mapped choice fields with its count and code.

    Parameters
    ----------
    frame
        The file's rows (``RawLayer.frame``).
    mapping
        Column targets and the value map saved so far.

    Returns
    -------
    pandas.DataFrame
        ``CHOICE_TABLE_COLUMNS``: ``source`` is ``saved`` (the mapping's value map), ``code``
        (already a code), ``synonym`` (a Chinese or OSM word) or ``unknown`` (``code`` empty: the
        row will be rejected until the user picks one).
    """
    import pandas as pd

    spec = LAYER_SPECS[LayerKind(mapping.kind)]
    records = []
    for field_spec in spec.fields:
        header = mapping.header_for(field_spec.name)
        if not field_spec.choices or header is None or header not in frame.columns:
            continue
        saved = mapping.value_map(field_spec.name)
        texts = [str(v).strip() for v in frame[header].tolist() if v is not None and str(v).strip()]
        texts = [t for t in texts if t.lower() != "nan"]
        for text, count in pd.Series(texts, dtype="object").value_counts(sort=True).items():
            key = re.sub(r"[\s\-]+", "_", str(text).casefold())
            if text in saved:
                code, source = saved[text], "saved"
            elif key in field_spec.choices:
                code, source = key, "code"
            else:
                found = choice_code(field_spec.name, str(text), field_spec.choices, values={})
                code, source = (found, "synonym") if found else ("", "unknown")
            records.append((field_spec.name, str(text), int(count), code, source))
    return pd.DataFrame(records, columns=list(CHOICE_TABLE_COLUMNS))


def values_from_choice_table(table: Any, kind: LayerKind | str) -> tuple[tuple[str, str, str], ...]:
    """Return the value-map triples of an (edited) choice table; codes are checked.

    Raises
    ------
    ValidationError
        A code the field does not accept, naming the value, the code and the codes allowed.
    """
    spec = LAYER_SPECS[LayerKind(kind)]
    out = []
    for row in table.itertuples(index=False):
        code = "" if row.code is None or str(row.code) == "nan" else str(row.code).strip()
        if not code:
            continue
        choices = spec.field(str(row.field)).choices
        if code not in choices:
            raise ValidationError(
                f"code {code!r} for value {row.value!r} is not allowed in {row.field}; expected "
                f"one of {', '.join(choices)}",
                column=str(row.field),
            )
        out.append((str(row.field), str(row.value), code))
    return tuple(sorted(out))
