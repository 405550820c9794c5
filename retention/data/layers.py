"""The ParkLife data model: layer kinds, their fields, and the amenity categories.

Every layer is a GeoDataFrame in WGS84 (EPSG:4326) at rest. This module only *describes* layers;
``retention.data.io`` reads files into them and ``retention.data.validate`` checks them against
these specs.
Field names are the canonical English names; ``aliases`` lists headers users already have
(Chinese headers from Excel sheets, common English variants) that map onto them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LayerKind(StrEnum):
    """The kinds of layer a park is made of (DESIGN.md, "Data model")."""

    ZONES = "zones"
    ENTERPRISES = "enterprises"
    RESIDENCES = "residences"
    AMENITIES = "amenities"
    TRANSIT_ROUTES = "transit_routes"
    TRANSIT_STOPS = "transit_stops"
    ROADS = "roads"


class ZoneLevel(StrEnum):
    """Park → grid → micro-grid (社区—网格—微网格), the units park committees manage by."""

    PARK = "park"
    GRID = "grid"
    MICRO_GRID = "micro_grid"


class ResidenceKind(StrEnum):
    """Where workers live."""

    DORM = "dorm"  # factory dormitory (员工宿舍)
    TALENT_APARTMENT = "talent_apartment"  # 人才公寓
    RENTAL_VILLAGE = "rental_village"  # rooms rented in villages around the park (城中村/农民房)
    COMMUNITY = "community"  # ordinary residential community (商品房小区)


class ShiftPattern(StrEnum):
    """Shift patterns of an enterprise's frontline workforce."""

    DAY = "day"  # 08:00-17:30 single day shift
    TWO_SHIFT = "two_shift"  # 08:00-20:00 / 20:00-08:00
    THREE_SHIFT = "three_shift"  # 00:00-08:00 / 08:00-16:00 / 16:00-24:00


class TransitKind(StrEnum):
    """Public bus, government custom bus (定制公交) and enterprise shuttle (班车)."""

    BUS = "bus"
    CUSTOM_BUS = "custom_bus"
    SHUTTLE = "shuttle"


class RoadClass(StrEnum):
    """Road classes, from arterial to footpath."""

    ARTERIAL = "arterial"
    COLLECTOR = "collector"
    LOCAL = "local"
    PATH = "path"


class AmenityCategory(StrEnum):
    """Daily-life amenity categories named by workers and park committees (seeds/README.md)."""

    CANTEEN = "canteen"  # 食堂与餐饮
    GROCERY = "grocery"  # 超市、便利店、菜市场
    CLINIC = "clinic"  # 诊所、社区卫生服务站
    HOSPITAL = "hospital"  # 医院
    SPORTS_COURT = "sports_court"  # 篮球场等球场
    GYM = "gym"  # 健身房
    PARK = "park"  # 公园绿地
    LIBRARY_CULTURE = "library_culture"  # 图书馆、文化活动中心
    CAFE_LEISURE = "cafe_leisure"  # 咖啡、夜间休闲
    MALL = "mall"  # 商场
    KINDERGARTEN = "kindergarten"  # 幼儿园
    SCHOOL = "school"  # 中小学
    TRAINING = "training"  # 技能培训
    EMPLOYMENT_SERVICE = "employment_service"  # 就业驿站
    EXPRESS_DELIVERY = "express_delivery"  # 快递驿站


# Unit in which each category's ``capacity`` is counted; shown in legends and E2SFCA tables.
CAPACITY_UNITS: dict[AmenityCategory, str] = {
    AmenityCategory.CANTEEN: "seats",
    AmenityCategory.GROCERY: "floor_m2",
    AmenityCategory.CLINIC: "daily_visits",
    AmenityCategory.HOSPITAL: "beds",
    AmenityCategory.SPORTS_COURT: "courts",
    AmenityCategory.GYM: "floor_m2",
    AmenityCategory.PARK: "area_ha",
    AmenityCategory.LIBRARY_CULTURE: "seats",
    AmenityCategory.CAFE_LEISURE: "seats",
    AmenityCategory.MALL: "floor_m2",
    AmenityCategory.KINDERGARTEN: "places",
    AmenityCategory.SCHOOL: "places",
    AmenityCategory.TRAINING: "places",
    AmenityCategory.EMPLOYMENT_SERVICE: "counters",
    AmenityCategory.EXPRESS_DELIVERY: "parcels_per_day",
}


@dataclass(frozen=True)
class FieldSpec:
    """One attribute column of a layer.

    Parameters
    ----------
    name
        Canonical column name.
    dtype
        One of ``"str"``, ``"int"``, ``"float"``, ``"bool"``, ``"time"`` (``HH:MM``) or
        ``"hours"`` (an opening-hours expression, see ``retention.data.hours``).
    required
        Whether a row without a value is invalid.
    choices
        Allowed values for categorical fields.
    minimum
        Smallest allowed numeric value.
    aliases
        Other headers accepted for this column (case-insensitive).
    """

    name: str
    dtype: str
    required: bool = True
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class LayerSpec:
    """What a layer of one kind must contain."""

    kind: LayerKind
    geometry_types: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    id_field: str = "id"
    unique_key: tuple[str, ...] = ()
    extra_fields_allowed: bool = True

    @property
    def key_fields(self) -> tuple[str, ...]:
        """Fields whose combined value must be unique per row (defaults to the id field)."""
        return self.unique_key or (self.id_field,)

    def field(self, name: str) -> FieldSpec:
        """Return the spec of field ``name``; raise ``KeyError`` if the layer has none."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"layer {self.kind.value!r} has no field {name!r}")

    @property
    def required_fields(self) -> tuple[str, ...]:
        """Names of fields every row must have."""
        return tuple(f.name for f in self.fields if f.required)


def _choices(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


_ID = FieldSpec("id", "str", aliases=("编号", "ID", "fid", "代码"))
_NAME = FieldSpec("name", "str", aliases=("名称", "名字", "name_zh"))
_NAME_EN = FieldSpec("name_en", "str", required=False, aliases=("英文名称", "english_name"))
_POINT = ("Point",)
_POLYGON = ("Polygon", "MultiPolygon")
_LINE = ("LineString", "MultiLineString")

LAYER_SPECS: dict[LayerKind, LayerSpec] = {
    LayerKind.ZONES: LayerSpec(
        LayerKind.ZONES,
        _POLYGON,
        (
            _ID,
            _NAME,
            _NAME_EN,
            FieldSpec("level", "str", choices=_choices(ZoneLevel), aliases=("层级", "级别")),
            FieldSpec("parent", "str", required=False, aliases=("上级", "parent_id")),
        ),
    ),
    LayerKind.ENTERPRISES: LayerSpec(
        LayerKind.ENTERPRISES,
        _POINT,
        (
            _ID,
            _NAME,
            _NAME_EN,
            FieldSpec("industry", "str", aliases=("行业",)),
            FieldSpec("employees", "int", minimum=0, aliases=("员工数", "职工人数", "人数")),
            FieldSpec(
                "shift_pattern",
                "str",
                choices=_choices(ShiftPattern),
                aliases=("班制", "shift"),
            ),
            FieldSpec("zone_id", "str", required=False, aliases=("所属网格", "zone")),
        ),
    ),
    LayerKind.RESIDENCES: LayerSpec(
        LayerKind.RESIDENCES,
        _POINT,
        (
            _ID,
            _NAME,
            _NAME_EN,
            FieldSpec("kind", "str", choices=_choices(ResidenceKind), aliases=("类型",)),
            FieldSpec("beds", "int", minimum=0, aliases=("床位", "床位数")),
            FieldSpec("residents", "int", minimum=0, aliases=("入住人数", "住户人数")),
            FieldSpec(
                "rent_cny_month",
                "float",
                required=False,
                minimum=0,
                aliases=("月租金", "租金", "rent"),
            ),
            FieldSpec(
                "enterprise_id",
                "str",
                required=False,
                aliases=("所属企业", "企业编号"),
            ),
        ),
    ),
    LayerKind.AMENITIES: LayerSpec(
        LayerKind.AMENITIES,
        (*_POINT, *_POLYGON),
        (
            _ID,
            _NAME,
            _NAME_EN,
            FieldSpec(
                "category",
                "str",
                choices=_choices(AmenityCategory),
                aliases=("类别", "分类", "type"),
            ),
            FieldSpec("capacity", "float", minimum=0, aliases=("容量", "规模")),
            FieldSpec(
                "opening_hours",
                "hours",
                aliases=("营业时间", "开放时间", "hours"),
            ),
            FieldSpec(
                "open_to",
                "str",
                required=False,
                aliases=("开放对象",),
            ),
        ),
    ),
    LayerKind.TRANSIT_ROUTES: LayerSpec(
        LayerKind.TRANSIT_ROUTES,
        _LINE,
        (
            FieldSpec("route_id", "str", aliases=("线路编号", "route")),
            _NAME,
            _NAME_EN,
            FieldSpec("kind", "str", choices=_choices(TransitKind), aliases=("线路类型",)),
            FieldSpec("speed_kmh", "float", minimum=1, aliases=("运营速度", "speed")),
            FieldSpec("headway_peak_min", "float", required=False, minimum=1),
            FieldSpec("headway_evening_min", "float", required=False, minimum=1),
            FieldSpec("headway_weekend_min", "float", required=False, minimum=1),
            FieldSpec("headway_night_min", "float", required=False, minimum=1),
            FieldSpec("service_start", "time", aliases=("首班", "首班时间")),
            FieldSpec("service_end", "time", aliases=("末班", "末班时间")),
            FieldSpec("fare_cny", "float", required=False, minimum=0, aliases=("票价",)),
        ),
        id_field="route_id",
    ),
    LayerKind.TRANSIT_STOPS: LayerSpec(
        LayerKind.TRANSIT_STOPS,
        _POINT,
        (
            FieldSpec("stop_id", "str", aliases=("站点编号",)),
            FieldSpec("route_id", "str", aliases=("线路编号", "route")),
            FieldSpec("sequence", "int", minimum=0, aliases=("站序", "seq")),
            _NAME,
            _NAME_EN,
        ),
        id_field="stop_id",
        # One physical stop served by two routes appears once per route.
        unique_key=("stop_id", "route_id"),
    ),
    LayerKind.ROADS: LayerSpec(
        LayerKind.ROADS,
        _LINE,
        (
            _ID,
            FieldSpec("name", "str", required=False, aliases=("名称", "道路名称")),
            FieldSpec("road_class", "str", choices=_choices(RoadClass), aliases=("道路等级",)),
            FieldSpec("walk", "bool", aliases=("可步行",)),
            FieldSpec("bike", "bool", aliases=("可骑行",)),
        ),
    ),
}

WGS84 = "EPSG:4326"
