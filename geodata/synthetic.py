"""Seeded, deterministic synthetic industrial parks: zones, firms, homes, amenities, transit, roads.

The generator builds a plausible park in a local UTM frame and returns every layer of
``retention.data.layers.LAYER_SPECS`` in WGS84. It is used for the bundled demo (Jinshan Industrial
Park, Zhuzhou; ``JINSHAN_DEMO``) and for benchmarks at industrial-community scale (Dagang, Ningbo
Beilun; ``BEILUN_DAGANG``). Everything it produces is synthetic: only the optional ``boundary``
that the park is fitted into may be real.

Design choices that make the demo show real gaps rather than a uniform lattice:

- amenities cluster in a few centres and along the park edge that faces the city, so dorms on the
  far side are genuinely poorly served;
- many shops close at 20:00 and enterprise canteens close after shift meals, so evening access is
  worse than daytime access;
- enterprise canteens and courts are ``open_to`` one enterprise only.

Determinism: one ``numpy.random.SeedSequence(seed)`` is spawned into one generator per layer, so
changing how one layer is drawn does not reshuffle the others; no global random state is touched.
Coordinates are rounded to 7 decimals (about 1 cm) before they are returned, so the returned
frames equal what ``geodata/build_demo.py`` writes.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, fields
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from retention.data.crs import utm_crs_for
from retention.data.layers import (
    WGS84,
    AmenityCategory,
    LayerKind,
    ResidenceKind,
    RoadClass,
    ShiftPattern,
    TransitKind,
    ZoneLevel,
)
from retention.errors import ParameterError, ValidationError

FloatArray = npt.NDArray[np.float64]

COORDINATE_DECIMALS = 7  # ~1 cm at these latitudes; the demo files are written at this precision


@dataclass(frozen=True)
class SyntheticParkSpec:
    """Size, place and density of a synthetic park.

    Assumes a park small enough for one UTM zone. Counts are exact in the output, except roads
    (a consequence of ``block_metres`` and ``vertex_spacing_metres``).

    Parameters
    ----------
    park_id, name_zh, name_en
        Identity written into the zones layer (the park-level zone) and metadata.
    centre_lon, centre_lat
        WGS84 centre of the park polygon before it is fitted into a boundary.
    area_km2
        Target park area.
    enterprises, large_enterprises
        Number of firms, of which ``large_enterprises`` have 1,000–3,000 employees.
    workforce
        Total employees over all firms (heavy-tailed split, exact total).
    residences
        Residence origins (dorms, talent apartments, rental villages, communities).
    amenities
        Amenity rows over all categories (every category gets at least one).
    grids, micro_grids
        Zone counts below the park (micro-grids in total, split over grids by area).
    centres
        Amenity centres (the first faces the city, the second is the lake park).
    centre_radius_metres
        Spread (standard deviation) of amenities around a centre.
    block_metres
        Mean spacing of the local street grid.
    vertex_spacing_metres
        Maximum distance between consecutive road vertices (every vertex is a network node).
    street_removal_share
        Share of local street segments removed (irregular blocks); some become dead ends.
    arterials
        Number of curving arterials crossing the park, besides the ring road.
    bus_routes
        Public bus routes (one custom bus and one enterprise shuttle are added).
    stop_spacing_metres
        Target spacing of public bus stops.
    lake_park_ha
        Area of the central lake park polygon.
    city_bearing_deg
        Compass bearing from the park centre towards the city centre (amenities lean that way).
    boundary_inset_metres
        Minimum distance kept between the park and the edge of a given boundary.
    """

    park_id: str
    name_zh: str
    name_en: str
    centre_lon: float
    centre_lat: float
    area_km2: float
    enterprises: int
    large_enterprises: int
    workforce: int
    residences: int
    amenities: int
    grids: int
    micro_grids: int
    centres: int
    centre_radius_metres: float
    block_metres: float
    vertex_spacing_metres: float
    street_removal_share: float
    arterials: int
    bus_routes: int
    stop_spacing_metres: float
    lake_park_ha: float
    city_bearing_deg: float
    boundary_inset_metres: float = 250.0

    def __post_init__(self) -> None:
        positive_ints = (
            "enterprises",
            "workforce",
            "residences",
            "amenities",
            "grids",
            "micro_grids",
            "bus_routes",
        )
        for name in positive_ints:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ParameterError(f"expected a positive integer, got {value!r}", column=name)
        positive_floats = (
            "area_km2",
            "centre_radius_metres",
            "block_metres",
            "vertex_spacing_metres",
            "stop_spacing_metres",
            "lake_park_ha",
        )
        for name in positive_floats:
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ParameterError(f"expected a positive number, got {value!r}", column=name)
        checks: tuple[tuple[bool, str, str], ...] = (
            (self.centres >= 2, "centres", "at least 2 (city-facing centre and lake park)"),
            (self.arterials >= 2, "arterials", "at least 2"),
            (
                0 <= self.large_enterprises <= self.enterprises // 2,
                "large_enterprises",
                "between 0 and half the enterprises",
            ),
            (
                self.workforce >= 3000 * self.large_enterprises + 5 * self.enterprises,
                "workforce",
                "room for the large enterprises (3,000 each) and 5 per other firm",
            ),
            (self.residences >= 4, "residences", "at least 4 (one per residence kind)"),
            (
                self.amenities >= len(AmenityCategory),
                "amenities",
                f"at least {len(AmenityCategory)} (one per category)",
            ),
            (self.micro_grids >= 2 * self.grids, "micro_grids", "at least 2 per grid"),
            (
                0.0 <= self.street_removal_share < 0.6,
                "street_removal_share",
                "in [0, 0.6)",
            ),
            (
                self.lake_park_ha * 1e4 < 0.1 * self.area_km2 * 1e6,
                "lake_park_ha",
                "under a tenth of the park area",
            ),
            (-180 <= self.centre_lon <= 180, "centre_lon", "in [-180, 180]"),
            (-80 <= self.centre_lat <= 84, "centre_lat", "in [-80, 84] (UTM)"),
        )
        for ok, name, expected in checks:
            if not ok:
                raise ParameterError(
                    f"expected {expected}, got {getattr(self, name)!r}", column=name
                )


JINSHAN_DEMO = SyntheticParkSpec(
    park_id="jinshan",
    name_zh="金山工业园（合成演示数据）",
    name_en="Jinshan Industrial Park (synthetic demo data)",
    # North-east of Hetang District (Jinshan Street area), WGS84.
    centre_lon=113.236,
    centre_lat=27.918,
    area_km2=12.0,
    enterprises=320,  # seed 003: "the park has 300+ enterprises"
    large_enterprises=6,
    workforce=32_000,  # tens of thousands; ~100 per firm, as in seed 001 (561 firms, 100,000)
    residences=32,
    amenities=430,
    grids=8,
    micro_grids=60,
    centres=3,
    centre_radius_metres=230.0,
    block_metres=190.0,
    vertex_spacing_metres=50.0,
    street_removal_share=0.18,
    arterials=2,
    bus_routes=3,
    stop_spacing_metres=500.0,
    lake_park_ha=53.3,  # seed 000: 明照湖公园, "over 800 mu" = 53.3 ha
    city_bearing_deg=225.0,  # Zhuzhou's centre lies south-west of Jinshan
)
"""The bundled demo: a Jinshan-like park in Hetang District, Zhuzhou (seed report 000/003)."""

BEILUN_DAGANG = SyntheticParkSpec(
    park_id="beilun_dagang",
    name_zh="大港工业社区（合成基准数据）",
    name_en="Dagang industrial community (synthetic benchmark data)",
    centre_lon=121.86,
    centre_lat=29.90,
    area_km2=52.0,
    enterprises=561,  # seed 001: Dagang industrial community, 561 enterprises
    large_enterprises=12,
    workforce=100_000,  # seed 001: ~100,000 workers
    residences=2_000,
    amenities=10_000,
    grids=10,  # seed 001: 10 grids
    micro_grids=265,  # seed 001: 265 micro-grids
    centres=8,
    centre_radius_metres=350.0,
    block_metres=80.0,
    vertex_spacing_metres=20.0,
    street_removal_share=0.12,
    arterials=4,
    bus_routes=8,
    stop_spacing_metres=500.0,
    lake_park_ha=60.0,
    city_bearing_deg=270.0,  # Beilun's town centre lies west of Dagang
)
"""Benchmark scale: the Dagang industrial community of Ningbo Beilun (seed report 001)."""


# --- vocabularies -----------------------------------------------------------------------------

_SYLLABLES: tuple[tuple[str, str], ...] = (
    ("恒", "Heng"), ("瑞", "Rui"), ("达", "Da"), ("鑫", "Xin"), ("华", "Hua"), ("德", "De"),
    ("诚", "Cheng"), ("远", "Yuan"), ("宏", "Hong"), ("盛", "Sheng"), ("利", "Li"), ("邦", "Bang"),
    ("泰", "Tai"), ("嘉", "Jia"), ("凯", "Kai"), ("锦", "Jin"), ("润", "Run"), ("博", "Bo"),
    ("湘", "Xiang"), ("荷", "He"), ("麓", "Lu"), ("峰", "Feng"), ("拓", "Tuo"), ("驰", "Chi"),
)  # fmt: skip

# (name_zh, name_en, company suffix zh, suffix en, shift probabilities day/two/three)
_INDUSTRIES: tuple[tuple[str, str, str, str, tuple[float, float, float]], ...] = (
    ("硬质合金与新材料", "cemented carbide & new materials", "新材料有限公司",
     "New Materials Co., Ltd.", (0.2, 0.3, 0.5)),
    ("汽车零部件", "auto parts", "汽车部件有限公司", "Auto Parts Co., Ltd.", (0.3, 0.5, 0.2)),
    ("轨道交通装备", "rail transit equipment", "轨道装备有限公司", "Rail Equipment Co., Ltd.",
     (0.5, 0.4, 0.1)),
    ("电子信息", "electronics", "电子科技有限公司", "Electronics Co., Ltd.", (0.2, 0.6, 0.2)),
    ("服饰制造", "garments", "服饰有限公司", "Garments Co., Ltd.", (0.6, 0.4, 0.0)),
    ("食品加工", "food processing", "食品有限公司", "Foods Co., Ltd.", (0.3, 0.4, 0.3)),
    ("生物医药", "biomedicine", "医药科技有限公司", "Pharmaceutical Co., Ltd.", (0.6, 0.3, 0.1)),
    ("现代物流", "logistics", "物流有限公司", "Logistics Co., Ltd.", (0.2, 0.4, 0.4)),
)  # fmt: skip
_INDUSTRY_WEIGHTS = (0.16, 0.2, 0.12, 0.16, 0.1, 0.08, 0.08, 0.1)

_VILLAGES: tuple[tuple[str, str], ...] = (
    ("荷岭村", "Heling Village"), ("枫塘村", "Fengtang Village"), ("石湾村", "Shiwan Village"),
    ("柳冲村", "Liuchong Village"), ("桂湖村", "Guihu Village"), ("茶园村", "Chayuan Village"),
    ("青坡村", "Qingpo Village"), ("松林村", "Songlin Village"), ("月塘村", "Yuetang Village"),
)  # fmt: skip

# Relative share of amenity rows per category; the hospital share yields 1–2 in the demo.
_CATEGORY_WEIGHTS: dict[AmenityCategory, float] = {
    AmenityCategory.CANTEEN: 20.0,
    AmenityCategory.GROCERY: 20.0,
    AmenityCategory.CLINIC: 4.0,
    AmenityCategory.HOSPITAL: 0.2,
    AmenityCategory.SPORTS_COURT: 10.0,
    AmenityCategory.GYM: 3.0,
    AmenityCategory.PARK: 2.5,
    AmenityCategory.LIBRARY_CULTURE: 2.5,
    AmenityCategory.CAFE_LEISURE: 9.0,
    AmenityCategory.MALL: 0.8,
    AmenityCategory.KINDERGARTEN: 2.0,
    AmenityCategory.SCHOOL: 1.0,
    AmenityCategory.TRAINING: 2.0,
    AmenityCategory.EMPLOYMENT_SERVICE: 1.5,
    AmenityCategory.EXPRESS_DELIVERY: 10.0,
}

# Opening hours (OSM subset, retention.data.hours) and their probabilities, per category.
_HOURS: dict[AmenityCategory, tuple[tuple[str, float], ...]] = {
    AmenityCategory.CANTEEN: (
        ("Mo-Su 10:00-20:00", 0.4),
        ("Mo-Su 06:30-09:00,11:00-14:00,17:00-20:00", 0.3),
        ("Mo-Su 10:30-22:00", 0.2),
        ("Mo-Su 17:00-02:00", 0.1),  # night snacks (夜宵)
    ),
    AmenityCategory.GROCERY: (
        ("Mo-Su 08:00-20:00", 0.6),
        ("Mo-Su 07:30-21:00", 0.2),
        ("Mo-Sa 08:00-20:00; Su 09:00-18:00", 0.15),
        ("24/7", 0.05),
    ),
    AmenityCategory.CLINIC: (
        ("Mo-Su 08:00-20:00", 0.6),
        ("Mo-Fr 08:00-17:30; Sa 08:00-12:00", 0.3),
        ("24/7", 0.1),
    ),
    AmenityCategory.HOSPITAL: (("24/7", 1.0),),
    AmenityCategory.SPORTS_COURT: (("Mo-Su 06:00-22:00", 0.7), ("24/7", 0.3)),
    AmenityCategory.GYM: (
        ("Mo-Su 09:00-22:00", 0.6),
        ("Mo-Fr 10:00-21:00; Sa-Su 09:00-21:00", 0.4),
    ),
    AmenityCategory.PARK: (("Mo-Su 06:00-22:00", 0.8), ("24/7", 0.2)),
    AmenityCategory.LIBRARY_CULTURE: (
        ("Tu-Su 09:00-17:00; Mo off", 0.5),
        ("Mo-Fr 09:00-21:00; Sa-Su 09:00-18:00", 0.5),
    ),
    AmenityCategory.CAFE_LEISURE: (
        ("Mo-Su 10:00-22:00", 0.5),
        ("Mo-Su 18:00-02:00", 0.3),  # KTV, bars: past midnight
        ("Mo-Su 09:00-21:00", 0.2),
    ),
    AmenityCategory.MALL: (("Mo-Su 10:00-22:00", 1.0),),
    AmenityCategory.KINDERGARTEN: (("Mo-Fr 07:30-17:30", 1.0),),
    AmenityCategory.SCHOOL: (("Mo-Fr 07:00-17:30", 1.0),),
    AmenityCategory.TRAINING: (
        ("Mo-Fr 08:30-17:30; Sa 09:00-16:00", 0.6),
        ("Mo-Fr 19:00-21:00; Sa-Su 09:00-17:00", 0.4),  # evening classes for shift workers
    ),
    AmenityCategory.EMPLOYMENT_SERVICE: (("Mo-Fr 08:30-17:30", 1.0),),
    AmenityCategory.EXPRESS_DELIVERY: (
        ("Mo-Su 09:00-20:00", 0.6),
        ("Mo-Su 08:30-21:00", 0.3),
        ("Mo-Su 10:00-19:00", 0.1),
    ),
}

# Enterprise canteens serve shift meals and close in between (ShiftPattern -> hours).
_CANTEEN_HOURS: dict[ShiftPattern, str] = {
    ShiftPattern.DAY: "Mo-Sa 06:30-08:30,11:00-13:00,17:00-18:30",
    ShiftPattern.TWO_SHIFT: "Mo-Su 06:30-08:30,11:00-13:00,17:00-19:00,23:30-01:00",
    ShiftPattern.THREE_SHIFT: "Mo-Su 06:30-08:30,11:00-13:00,15:00-16:30,23:00-00:30",
}
# Share of the workforce on the largest shift: sizes canteens (PARAMETERS.md item 20).
_PEAK_SHIFT_SHARE: dict[ShiftPattern, float] = {
    ShiftPattern.DAY: 1.0,
    ShiftPattern.TWO_SHIFT: 0.5,
    ShiftPattern.THREE_SHIFT: 0.34,
}
_CANTEEN_SITTINGS = 2.5  # PARAMETERS.md item 20: peak-shift headcount / 2.5 sittings

# (low, high) capacity in retention.data.layers.CAPACITY_UNITS for public amenities.
_CAPACITY: dict[AmenityCategory, tuple[float, float]] = {
    AmenityCategory.CANTEEN: (30, 200),  # seats
    AmenityCategory.GROCERY: (60, 800),  # floor m²
    AmenityCategory.CLINIC: (40, 150),  # daily visits
    AmenityCategory.HOSPITAL: (100, 200),  # beds
    AmenityCategory.SPORTS_COURT: (1, 4),  # courts
    AmenityCategory.GYM: (200, 900),  # floor m²
    AmenityCategory.PARK: (0.3, 3.0),  # ha
    AmenityCategory.LIBRARY_CULTURE: (40, 200),  # seats
    AmenityCategory.CAFE_LEISURE: (20, 120),  # seats
    AmenityCategory.MALL: (8_000, 30_000),  # floor m²
    AmenityCategory.KINDERGARTEN: (180, 360),  # places; 12 classes x 30 (PARAMETERS.md 19)
    AmenityCategory.SCHOOL: (900, 2_000),  # places
    AmenityCategory.TRAINING: (50, 300),  # places
    AmenityCategory.EMPLOYMENT_SERVICE: (2, 6),  # counters
    AmenityCategory.EXPRESS_DELIVERY: (300, 2_000),  # parcels per day
}
_INTEGER_CAPACITY = frozenset(AmenityCategory) - {AmenityCategory.PARK}

# (zh template, en template) per category; {b}/{e} is a generated brand name.
_AMENITY_NAMES: dict[AmenityCategory, tuple[str, str]] = {
    AmenityCategory.CANTEEN: ("{b}餐馆", "{e} Restaurant"),
    AmenityCategory.GROCERY: ("{b}便利店", "{e} Convenience Store"),
    AmenityCategory.CLINIC: ("{b}诊所", "{e} Clinic"),
    AmenityCategory.HOSPITAL: ("{b}医院", "{e} Hospital"),
    AmenityCategory.SPORTS_COURT: ("{b}篮球场", "{e} Basketball Court"),
    AmenityCategory.GYM: ("{b}健身房", "{e} Gym"),
    AmenityCategory.PARK: ("{b}口袋公园", "{e} Pocket Park"),
    AmenityCategory.LIBRARY_CULTURE: ("{b}职工书屋", "{e} Workers' Library"),
    AmenityCategory.CAFE_LEISURE: ("{b}咖啡", "{e} Café"),
    AmenityCategory.MALL: ("{b}广场", "{e} Plaza"),
    AmenityCategory.KINDERGARTEN: ("{b}幼儿园", "{e} Kindergarten"),
    AmenityCategory.SCHOOL: ("{b}学校", "{e} School"),
    AmenityCategory.TRAINING: ("{b}职业技能培训中心", "{e} Skills Training Centre"),
    AmenityCategory.EMPLOYMENT_SERVICE: ("{b}就业驿站", "{e} Employment Service Point"),
    AmenityCategory.EXPRESS_DELIVERY: ("{b}快递驿站", "{e} Parcel Station"),
}

_ROAD_CLASS_ORDER: tuple[RoadClass, ...] = (
    RoadClass.ARTERIAL,
    RoadClass.COLLECTOR,
    RoadClass.LOCAL,
    RoadClass.PATH,
)
_CHINESE_NUMERALS = "一二三四五六七八九十"


# --- public entry point -----------------------------------------------------------------------


def generate_park(
    spec: SyntheticParkSpec,
    *,
    seed: int,
    boundary: gpd.GeoDataFrame | shapely.Geometry | None = None,
) -> dict[LayerKind, gpd.GeoDataFrame]:
    """Generate every layer of a synthetic park.

    Assumes ``boundary`` (if given) is WGS84 (a GeoDataFrame in any CRS is reprojected) and
    contains the spec's centre; the park polygon is fitted inside it, ``boundary_inset_metres``
    from its edge. Uses only ``numpy.random.Generator`` objects derived from ``seed``.

    Parameters
    ----------
    spec
        Size, place and density of the park.
    seed
        Seed of the random generators; the same spec, seed and boundary give identical layers.
    boundary
        Real administrative boundary to keep the park inside, or ``None``.

    Returns
    -------
    dict of LayerKind to GeoDataFrame
        One frame per layer kind, EPSG:4326, columns per ``retention.data.layers.LAYER_SPECS`` plus
        ``name_en`` and a few descriptive extras (``industry_en``, ``zone_id``).

    Raises
    ------
    ParameterError
        If ``seed`` is not a non-negative integer or the park cannot fit into ``boundary``.
    ValidationError
        If ``boundary`` is a GeoDataFrame without a CRS.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"expected a non-negative integer seed, got {seed!r}", column="seed")
    rngs = [np.random.default_rng(child) for child in np.random.SeedSequence(int(seed)).spawn(9)]
    frame = _Frame.around(spec.centre_lon, spec.centre_lat)
    boundary_metric = None if boundary is None else frame.to_metric(_boundary_geometry(boundary))

    park = _park_polygon(spec, frame, boundary_metric, rngs[0])
    city = np.array(
        [
            math.sin(math.radians(spec.city_bearing_deg)),
            math.cos(math.radians(spec.city_bearing_deg)),
        ]
    )
    site = _Site.build(spec, park, city, rngs[1])
    roads = _roads(spec, site, frame, rngs[2])
    enterprises = _enterprises(spec, site, rngs[3])
    zones, enterprise_zone = _zones(spec, site, enterprises, rngs[4])
    enterprises["zone_id"] = enterprise_zone
    residences = _residences(spec, site, enterprises, rngs[5])
    amenities = _amenities(spec, site, enterprises, rngs[6])
    routes, stops = _transit(spec, site, roads, residences, enterprises, rngs[7])

    layers = {
        LayerKind.ZONES: frame.frame_to_wgs84(zones),
        LayerKind.ENTERPRISES: frame.frame_to_wgs84(enterprises),
        LayerKind.RESIDENCES: frame.frame_to_wgs84(residences),
        LayerKind.AMENITIES: frame.frame_to_wgs84(amenities),
        LayerKind.TRANSIT_ROUTES: routes,
        LayerKind.TRANSIT_STOPS: stops,
        LayerKind.ROADS: roads.frame,
    }
    residences_zone = _zone_of_points(layers[LayerKind.RESIDENCES], layers[LayerKind.ZONES])
    layers[LayerKind.RESIDENCES]["zone_id"] = residences_zone
    return layers


# --- coordinate frame -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """A local UTM frame and the transformations in and out of it."""

    crs: str
    forward: Transformer
    inverse: Transformer

    @classmethod
    def around(cls, lon: float, lat: float) -> _Frame:
        crs = utm_crs_for(lon, lat)
        return cls(
            crs,
            Transformer.from_crs(WGS84, crs, always_xy=True),
            Transformer.from_crs(crs, WGS84, always_xy=True),
        )

    def to_metric(self, geometry: Any) -> Any:
        def forward(coords: FloatArray) -> FloatArray:
            x, y = self.forward.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geometry, forward)

    def to_wgs84(self, geometry: Any) -> Any:
        def inverse(coords: FloatArray) -> FloatArray:
            lon, lat = self.inverse.transform(coords[:, 0], coords[:, 1])
            return np.round(np.column_stack([lon, lat]), COORDINATE_DECIMALS)

        return shapely.transform(geometry, inverse)

    def frame_to_wgs84(self, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        geometry = self.to_wgs84(np.asarray(gdf.geometry.array))
        return gpd.GeoDataFrame(
            gdf.drop(columns="geometry").reset_index(drop=True),
            geometry=list(geometry),
            crs=WGS84,
        )


def _boundary_geometry(boundary: gpd.GeoDataFrame | shapely.Geometry) -> shapely.Geometry:
    if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        if boundary.crs is None:
            raise ValidationError("boundary has no CRS; expected WGS84 (EPSG:4326)")
        return shapely.union_all(np.asarray(boundary.to_crs(WGS84).geometry.array))
    if isinstance(boundary, shapely.Geometry):
        return boundary
    raise ParameterError(
        f"expected a GeoDataFrame or shapely geometry, got {type(boundary).__name__}",
        column="boundary",
    )


# --- the site: park polygon, lake park, centres and sampling -----------------------------------


def _star_polygon(
    centre: FloatArray, area_m2: float, rng: np.random.Generator, *, elongation: float
) -> shapely.Polygon:
    """A smooth, irregular star-shaped polygon of exactly ``area_m2`` around ``centre``."""
    theta = np.linspace(0.0, 2.0 * math.pi, 120, endpoint=False)
    radius = np.ones_like(theta)
    for k in (2, 3, 4, 5):
        radius += rng.uniform(0.02, 0.12) / k * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    axis = rng.uniform(0, math.pi)
    x = radius * np.cos(theta) * elongation
    y = radius * np.sin(theta) / elongation
    xr = x * math.cos(axis) - y * math.sin(axis)
    yr = x * math.sin(axis) + y * math.cos(axis)
    polygon = shapely.Polygon(np.column_stack([xr, yr]))
    scale = math.sqrt(area_m2 / polygon.area)
    return shapely.Polygon(np.column_stack([xr * scale + centre[0], yr * scale + centre[1]]))


def _largest_polygon(geometry: shapely.Geometry) -> shapely.Polygon:
    parts = [p for p in shapely.get_parts(geometry) if isinstance(p, shapely.Polygon)]
    if not parts:
        return shapely.Polygon()
    return max(parts, key=lambda p: p.area)


def _park_polygon(
    spec: SyntheticParkSpec,
    frame: _Frame,
    boundary: shapely.Geometry | None,
    rng: np.random.Generator,
) -> shapely.Polygon:
    cx, cy = frame.forward.transform(spec.centre_lon, spec.centre_lat)
    centre = np.array([cx, cy])
    target = spec.area_km2 * 1e6
    raw = _star_polygon(centre, target, rng, elongation=rng.uniform(1.1, 1.35))
    if boundary is None:
        return raw
    allowed = shapely.buffer(boundary, -spec.boundary_inset_metres)
    if not shapely.contains(allowed, shapely.Point(centre)):
        raise ParameterError(
            f"the park centre ({spec.centre_lon}, {spec.centre_lat}) lies outside the boundary "
            f"(or within {spec.boundary_inset_metres:g} m of its edge)",
            column="centre_lon",
        )
    park = raw
    scale = 1.0
    # Clipping loses area; grow the raw shape until the clipped park has the target area.
    for _ in range(12):
        park = _largest_polygon(
            shapely.intersection(
                shapely.affinity.scale(raw, scale, scale, origin=shapely.Point(centre)), allowed
            )
        )
        if park.area >= 0.995 * target:
            break
        scale *= math.sqrt(target / max(park.area, 1.0))
    if park.area < 0.8 * target:
        raise ParameterError(
            f"a park of {spec.area_km2:g} km² does not fit inside the boundary around the centre "
            f"(only {park.area / 1e6:.1f} km² did)",
            column="area_km2",
        )
    return shapely.Polygon(park.exterior)


@dataclass(frozen=True)
class _Site:
    """The park's shape and the places everything else is arranged around (metric)."""

    park: shapely.Polygon
    inner: shapely.Geometry  # where points may go
    lake: shapely.Polygon
    centre: FloatArray
    city: FloatArray  # unit vector towards the city
    radius: float  # equivalent radius of the park
    centres: FloatArray  # (k, 2) amenity centres; [0] faces the city, [1] is the lake park
    city_band: shapely.Geometry  # strip along the city-facing edge
    far_band: shapely.Geometry  # strip along the far edge

    @classmethod
    def build(
        cls,
        spec: SyntheticParkSpec,
        park: shapely.Polygon,
        city: FloatArray,
        rng: np.random.Generator,
    ) -> _Site:
        centroid = np.array(shapely.get_coordinates(park.centroid)[0])
        radius = math.sqrt(park.area / math.pi)
        inner = shapely.buffer(park, -80.0)
        side = np.array([-city[1], city[0]])

        # Lake park: off both arterial axes, 45% of the way out, on the city-side half.
        lake_dir = 0.8 * city + 0.6 * side * (1 if rng.random() < 0.5 else -1)
        lake_dir = lake_dir / np.linalg.norm(lake_dir)
        lake_centre = centroid + lake_dir * 0.42 * radius
        lake = _star_polygon(lake_centre, spec.lake_park_ha * 1e4, rng, elongation=1.3)
        if not shapely.contains(shapely.buffer(park, -150.0), lake):
            lake_centre = centroid + lake_dir * 0.2 * radius
            lake = _star_polygon(lake_centre, spec.lake_park_ha * 1e4, rng, elongation=1.3)

        edge_point = _ray_exit(park, centroid, city)
        # The lake-park centre is on the shore facing the park centre, not in the water.
        towards = (centroid - lake_centre) / max(float(np.linalg.norm(centroid - lake_centre)), 1.0)
        shore = _ray_exit(lake, lake_centre, towards) + towards * 150.0
        centres = [edge_point - city * 380.0, shore]
        extra = spec.centres - 2
        attempts = 0
        while extra > 0 and attempts < 10_000:
            attempts += 1
            candidate = _uniform_points(inner, 1, rng)[0]
            towards_city = float(np.dot(candidate - centroid, city))
            # Ask for less spacing the longer it takes, so many centres fit in a small park.
            gap = 0.45 * radius * 0.9 ** (attempts // 200)
            far_enough = min(np.linalg.norm(candidate - c) for c in centres) > gap
            if (
                towards_city > -0.25 * radius
                and far_enough
                and not lake.contains(shapely.Point(candidate))
            ):
                centres.append(candidate)
                extra -= 1
        if extra > 0:
            raise ParameterError(
                f"cannot place {spec.centres} amenity centres apart in the park",
                column="centres",
            )

        def band(sign: float, threshold: float) -> shapely.Geometry:
            half = shapely.Polygon(_half_plane(centroid, city * sign, threshold, radius * 4))
            ring = shapely.difference(inner, shapely.buffer(park, -650.0))
            return shapely.intersection(ring, half)

        return cls(
            park=park,
            inner=inner,
            lake=lake,
            centre=centroid,
            city=city,
            radius=radius,
            centres=np.array(centres),
            city_band=band(1.0, 0.25 * radius),
            far_band=band(-1.0, 0.15 * radius),
        )

    def sample(self, n: int, rng: np.random.Generator, *, where: str = "inner") -> FloatArray:
        """Uniform points in ``inner`` / ``city_band`` / ``far_band``, outside the lake park."""
        region = {"inner": self.inner, "city_band": self.city_band, "far_band": self.far_band}[
            where
        ]
        return _uniform_points(shapely.difference(region, self.lake), n, rng)

    def clustered(
        self, n: int, rng: np.random.Generator, *, weights: FloatArray, sigma: float
    ) -> FloatArray:
        """Points around the centres (Gaussian), inside ``inner`` and off the lake park."""
        out = np.empty((0, 2))
        allowed = shapely.difference(self.inner, self.lake)
        shapely.prepare(allowed)
        while len(out) < n:
            k = rng.choice(len(self.centres), size=2 * n, p=weights / weights.sum())
            candidates = self.centres[k] + rng.normal(0.0, sigma, size=(2 * n, 2))
            inside = shapely.contains_xy(allowed, candidates[:, 0], candidates[:, 1])
            out = np.vstack([out, candidates[inside]])
        return out[:n]

    def near(
        self, anchors: FloatArray, rng: np.random.Generator, *, low: float, high: float
    ) -> FloatArray:
        """One point per anchor at a random distance in [low, high], inside and off the lake."""
        out = np.array(anchors, dtype=float)
        todo = np.arange(len(anchors))
        allowed = shapely.difference(self.inner, self.lake)
        shapely.prepare(allowed)
        for _ in range(60):
            if len(todo) == 0:
                break
            angle = rng.uniform(0, 2 * math.pi, len(todo))
            dist = rng.uniform(low, high, len(todo))
            cand = anchors[todo] + np.column_stack([np.cos(angle), np.sin(angle)]) * dist[:, None]
            ok = shapely.contains_xy(allowed, cand[:, 0], cand[:, 1])
            out[todo[ok]] = cand[ok]
            todo = todo[~ok]
        if len(todo):
            # Anchors hemmed in by the edge fall back to the nearest allowed point.
            for i in todo:
                line = shapely.shortest_line(allowed, shapely.Point(anchors[i]))
                out[i] = shapely.get_coordinates(line)[0]
        return out


def _half_plane(origin: FloatArray, normal: FloatArray, offset: float, size: float) -> FloatArray:
    """Square corners of the half plane {p : (p - origin)·normal > offset}, clipped to ``size``."""
    tangent = np.array([-normal[1], normal[0]])
    base = origin + normal * offset
    return np.array(
        [
            base + tangent * size,
            base + tangent * size + normal * size,
            base - tangent * size + normal * size,
            base - tangent * size,
        ]
    )


def _ray_exit(polygon: shapely.Polygon, origin: FloatArray, direction: FloatArray) -> FloatArray:
    """First point where the ray from ``origin`` along ``direction`` leaves ``polygon``."""
    far = origin + direction * 1e6
    crossing = shapely.intersection(polygon.exterior, shapely.LineString([origin, far]))
    coords = shapely.get_coordinates(crossing)
    if len(coords) == 0:
        return origin
    return coords[np.argmin(np.linalg.norm(coords - origin, axis=1))]


def _uniform_points(region: shapely.Geometry, n: int, rng: np.random.Generator) -> FloatArray:
    """``n`` uniform points inside ``region`` by rejection from its bounding box."""
    if n == 0:
        return np.empty((0, 2))
    if shapely.is_empty(region) or region.area <= 0:
        raise ParameterError("cannot sample points: the region is empty")
    shapely.prepare(region)
    minx, miny, maxx, maxy = region.bounds
    fill = region.area / ((maxx - minx) * (maxy - miny))
    out = np.empty((0, 2))
    while len(out) < n:
        m = int((n - len(out)) / fill * 1.3) + 16
        candidates = np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)])
        inside = shapely.contains_xy(region, candidates[:, 0], candidates[:, 1])
        out = np.vstack([out, candidates[inside]])
    return out[:n]


def _split_counts(total: int, weights: FloatArray, *, minimum: int) -> npt.NDArray[np.int64]:
    """Split ``total`` by ``weights`` (largest remainder), each share at least ``minimum``."""
    weights = np.asarray(weights, dtype=float)
    spare = total - minimum * len(weights)
    raw = weights / weights.sum() * spare
    counts = np.floor(raw).astype(np.int64)
    remainder = spare - counts.sum()
    order = np.lexsort((np.arange(len(raw)), -(raw - counts)))
    counts[order[:remainder]] += 1
    return counts + minimum


# --- roads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Roads:
    """Road lines in WGS84 plus their vertex graph (for connectivity and bus routing)."""

    frame: gpd.GeoDataFrame
    node_lonlat: FloatArray  # (n, 2) unique rounded vertices
    node_xy: FloatArray  # the same in the metric frame
    drive_graph: Any  # scipy csr matrix of metres, non-path roads only


def _roads(spec: SyntheticParkSpec, site: _Site, frame: _Frame, rng: np.random.Generator) -> _Roads:
    lines: list[shapely.LineString] = []
    attrs: list[tuple[RoadClass, str | None, str | None]] = []

    def add(
        geometry: shapely.Geometry, road_class: RoadClass, name: tuple[str, str] | None
    ) -> None:
        for part in shapely.get_parts(geometry):
            if isinstance(part, shapely.LineString) and part.length > 1.0:
                lines.append(part)
                attrs.append((road_class, *(name or (None, None))))

    street_clip = shapely.buffer(site.park, -40.0)
    lake_keepout = shapely.buffer(site.lake, 15.0)

    # Ring road along the boundary: streets cross it and stick out 20 m, so crossings are robust.
    ring = shapely.simplify(shapely.buffer(site.park, -60.0).exterior, 5.0)
    add(ring, RoadClass.ARTERIAL, ("园区环路", "Park Ring Road"))

    # Curving arterials across the park.
    for k in range(spec.arterials):
        angle = math.atan2(site.city[1], site.city[0]) + math.radians([0, 90, 45, 135][k % 4])
        axis = np.array([math.cos(angle), math.sin(angle)])
        normal = np.array([-axis[1], axis[0]])
        offset = rng.uniform(-0.15, 0.15) * site.radius + (k // 4) * 0.3 * site.radius
        t = np.arange(-1.6 * site.radius, 1.6 * site.radius, 20.0)
        wave = (
            0.12 * site.radius * np.sin(t / site.radius * rng.uniform(1.2, 2.0) + rng.uniform(0, 6))
        )
        pts = site.centre + np.outer(t, axis) + np.outer(offset + wave, normal)
        curve = shapely.difference(
            shapely.intersection(shapely.LineString(pts), street_clip),
            shapely.buffer(site.lake, 25.0),
        )
        names = (("金山大道", "Jinshan Avenue"), ("新城大道", "Xincheng Avenue"))
        name = names[k] if k < 2 else (f"{_CHINESE_NUMERALS[k % 10]}号干道", f"Arterial {k + 1}")
        add(curve, RoadClass.ARTERIAL, name)

    # Perturbed local grid with collectors every fourth line.
    spacing = spec.block_metres
    half = math.ceil(1.6 * site.radius / spacing) + 1
    size = 2 * half + 1
    u = np.cumsum(spacing * rng.uniform(0.7, 1.35, size))
    v = np.cumsum(spacing * rng.uniform(0.7, 1.35, size))
    u -= u.mean()
    v -= v.mean()
    uu, vv = np.meshgrid(u, v)  # [row i (v), column j (u)]
    uu = uu + rng.normal(0.0, 0.07 * spacing, uu.shape)
    vv = vv + rng.normal(0.0, 0.07 * spacing, vv.shape)
    alpha = math.atan2(site.city[1], site.city[0]) + math.radians(rng.uniform(-20, 20))
    gx = site.centre[0] + uu * math.cos(alpha) - vv * math.sin(alpha)
    gy = site.centre[1] + uu * math.sin(alpha) + vv * math.cos(alpha)
    offset_row, offset_col = rng.integers(0, 4, 2)
    segments: list[tuple[FloatArray, FloatArray, bool, int]] = []
    for i in range(size):
        for j in range(size):
            p = np.array([gx[i, j], gy[i, j]])
            if j + 1 < size:  # along the row
                segments.append(
                    (p, np.array([gx[i, j + 1], gy[i, j + 1]]), (i - offset_row) % 4 == 0, i)
                )
            if i + 1 < size:  # along the column
                segments.append(
                    (p, np.array([gx[i + 1, j], gy[i + 1, j]]), (j - offset_col) % 4 == 0, size + j)
                )
    a = np.array([s[0] for s in segments])
    b = np.array([s[1] for s in segments])
    is_collector = np.array([s[2] for s in segments])
    line_no = np.array([s[3] for s in segments])
    removed = (~is_collector) & (rng.random(len(segments)) < spec.street_removal_share)
    stub = removed & (rng.random(len(segments)) < 0.35)
    stub_end = a + (b - a) * rng.uniform(0.35, 0.6, len(segments))[:, None]
    keep_b = np.where(stub[:, None], stub_end, b)
    keep = ~removed | stub
    geoms = shapely.linestrings(np.stack([a[keep], keep_b[keep]], axis=1))
    geoms = shapely.intersection(geoms, street_clip)
    touches_lake = shapely.intersects(geoms, lake_keepout)
    rows_, cols_ = (
        sorted({int(n) for n in line_no[is_collector] if (n < size) == r}) for r in (1, 0)
    )
    collector_names = {
        n: (f"工业{_numeral(k + 1)}路", f"Industrial Road {k + 1}") for k, n in enumerate(rows_)
    }
    collector_names |= {
        n: (f"创业{_numeral(k + 1)}路", f"Chuangye Road {k + 1}") for k, n in enumerate(cols_)
    }
    for geom, coll, n, lake_hit in zip(
        geoms, is_collector[keep], line_no[keep], touches_lake, strict=True
    ):
        if lake_hit or shapely.is_empty(geom):
            continue
        add(
            geom,
            RoadClass.COLLECTOR if coll else RoadClass.LOCAL,
            collector_names.get(n) if coll else None,
        )

    # Footpaths: a ring round the lake park and spokes out to the nearest streets.
    streets = shapely.union_all(np.array(lines, dtype=object))
    lake_ring = shapely.buffer(site.lake, -20.0).exterior
    add(lake_ring, RoadClass.PATH, ("明照湖环湖步道", "Mingzhao Lake loop path"))
    lake_c = np.array(shapely.get_coordinates(site.lake.centroid)[0])
    for angle in np.linspace(0, 2 * math.pi, 6, endpoint=False) + rng.uniform(0, 1):
        direction = np.array([math.cos(angle), math.sin(angle)])
        ray = shapely.LineString([lake_c, lake_c + direction * 3 * site.radius])
        hits = shapely.get_coordinates(shapely.intersection(ray, streets))
        hits = hits[np.linalg.norm(hits - lake_c, axis=1) > 1.0] if len(hits) else hits
        start = _ray_exit(shapely.buffer(site.lake, -40.0), lake_c, direction)
        if len(hits) == 0:
            continue
        nearest = hits[np.argmin(np.linalg.norm(hits - lake_c, axis=1))]
        end = nearest + direction * 5.0
        add(
            shapely.LineString([start, end]),
            RoadClass.PATH,
            ("明照湖公园步道", "Mingzhao Lake Park path"),
        )

    return _finish_roads(spec, site, frame, lines, attrs)


def _numeral(n: int) -> str:
    """Chinese numeral for 1–99 (e.g. 23 -> 二十三); Arabic digits from 100 on."""
    if n >= 100:
        return str(n)
    if n <= 10:
        return _CHINESE_NUMERALS[n - 1]
    if n < 20:
        return "十" + (_CHINESE_NUMERALS[n - 11] if n > 10 else "")
    tens, ones = divmod(n, 10)
    return _CHINESE_NUMERALS[tens - 1] + "十" + (_CHINESE_NUMERALS[ones - 1] if ones else "")


def _finish_roads(
    spec: SyntheticParkSpec,
    site: _Site,
    frame: _Frame,
    lines: list[shapely.LineString],
    attrs: list[tuple[RoadClass, str | None, str | None]],
) -> _Roads:
    """Node the linework, attribute the pieces, densify, round and keep the connected part."""
    source = np.array(lines, dtype=object)
    pieces = shapely.get_parts(shapely.node(shapely.MultiLineString(lines)))
    mids = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    tree = shapely.STRtree(source)
    piece_idx, source_idx = tree.query(mids, predicate="dwithin", distance=0.01)
    rank = np.array([_ROAD_CLASS_ORDER.index(a[0]) for a in attrs])
    # Prefer the highest class where two sources overlap, then the earliest source.
    order = np.lexsort((source_idx, rank[source_idx], piece_idx))
    piece_idx, source_idx = piece_idx[order], source_idx[order]
    first = np.unique(piece_idx, return_index=True)
    owner = np.full(len(pieces), -1)
    owner[first[0]] = source_idx[first[1]]
    matched = owner >= 0
    pieces, mids, owner = pieces[matched], mids[matched], owner[matched]
    position = shapely.line_locate_point(source[owner], mids)
    ordering = np.lexsort((position, owner, rank[owner]))
    pieces, mids, owner = pieces[ordering], mids[ordering], owner[ordering]

    pieces = shapely.segmentize(pieces, spec.vertex_spacing_metres)
    wgs = shapely.remove_repeated_points(frame.to_wgs84(pieces), 0.0)
    valid = shapely.get_num_coordinates(wgs) >= 2

    road_class = np.array([attrs[o][0].value for o in owner], dtype=object)
    name = np.array([attrs[o][1] for o in owner], dtype=object)
    name_en = np.array([attrs[o][2] for o in owner], dtype=object)
    walk = np.ones(len(owner), dtype=bool)
    bike = np.ones(len(owner), dtype=bool)
    # The far-side stretch of the ring road is an expressway: no pedestrians, no bikes.
    mid_xy = shapely.get_coordinates(mids)
    far = (mid_xy - site.centre) @ site.city < -0.55 * site.radius
    expressway = (owner == 0) & far
    walk[expressway] = False
    bike[expressway] = False
    name[expressway] = "金山快速路"
    name_en[expressway] = "Jinshan Expressway"

    keep = valid.copy()
    for _ in range(6):
        all_ok = _largest_component_lines(wgs, keep)
        walk_ok = _largest_component_lines(wgs, keep & walk)
        new_keep = all_ok & (walk_ok | ~walk)
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep

    gdf = gpd.GeoDataFrame(
        {
            "id": [f"r{i + 1:05d}" for i in range(int(keep.sum()))],
            "name": name[keep],
            "name_en": name_en[keep],
            "road_class": road_class[keep],
            "walk": walk[keep],
            "bike": bike[keep],
        },
        geometry=list(wgs[keep]),
        crs=WGS84,
    )
    coords, line_index = shapely.get_coordinates(wgs[keep], return_index=True)
    node_lonlat, node_of_vertex = np.unique(coords, axis=0, return_inverse=True)
    node_of_vertex = node_of_vertex.ravel()
    x, y = frame.forward.transform(node_lonlat[:, 0], node_lonlat[:, 1])
    node_xy = np.column_stack([x, y])
    same_line = line_index[1:] == line_index[:-1]
    u = node_of_vertex[:-1][same_line]
    v = node_of_vertex[1:][same_line]
    drivable = (gdf["road_class"].to_numpy() != RoadClass.PATH.value)[line_index[:-1][same_line]]
    graph = _metric_graph(node_xy, u[drivable], v[drivable])
    return _Roads(gdf, node_lonlat, node_xy, graph)


def _metric_graph(node_xy: FloatArray, u: npt.NDArray[np.int64], v: npt.NDArray[np.int64]) -> Any:
    """Undirected csr graph of edge lengths; parallel edges collapse to the shortest (csr sums)."""
    length = np.linalg.norm(node_xy[u] - node_xy[v], axis=1)
    src = np.concatenate([u, v])
    dst = np.concatenate([v, u])
    w = np.concatenate([length, length])
    table = pd.DataFrame({"src": src, "dst": dst, "w": w}).groupby(["src", "dst"], sort=True)
    shortest = table["w"].min()
    rows = shortest.index.get_level_values(0).to_numpy()
    cols = shortest.index.get_level_values(1).to_numpy()
    n = len(node_xy)
    # Zero-length edges would vanish from a sparse matrix; a millimetre keeps them as edges.
    weights = np.maximum(shortest.to_numpy(), 1e-3)
    return coo_matrix((weights, (rows, cols)), shape=(n, n)).tocsr()


def _largest_component_lines(
    lines: npt.NDArray[np.object_], mask: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Mask of the lines (among ``mask``) in the largest connected component of their vertices."""
    result = np.zeros(len(lines), dtype=bool)
    chosen = np.flatnonzero(mask)
    if len(chosen) == 0:
        return result
    coords, line_index = shapely.get_coordinates(lines[chosen], return_index=True)
    _, node = np.unique(coords, axis=0, return_inverse=True)
    node = node.ravel()
    same = line_index[1:] == line_index[:-1]
    n = int(node.max()) + 1
    graph = coo_matrix((np.ones(int(same.sum())), (node[:-1][same], node[1:][same])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    biggest = int(np.argmax(sizes))
    first_vertex = np.unique(line_index, return_index=True)[1]
    result[chosen] = labels[node[first_vertex]] == biggest
    return result


# --- enterprises ------------------------------------------------------------------------------


def _brand_names(n: int, rng: np.random.Generator) -> list[tuple[str, str]]:
    """``n`` two-syllable brand names (zh, en), unique while the 552 pairs last."""
    pairs = [
        (a[0] + b[0], a[1] + b[1].lower()) for a in _SYLLABLES for b in _SYLLABLES if a[0] != b[0]
    ]
    order = rng.permutation(len(pairs))
    return [pairs[order[i % len(pairs)]] for i in range(n)]


def _enterprises(
    spec: SyntheticParkSpec, site: _Site, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    n, n_large = spec.enterprises, spec.large_enterprises
    large = rng.integers(1000, 3001, n_large)
    rest = np.clip(rng.lognormal(math.log(70.0), 0.9, n - n_large), 12.0, 900.0)
    rest = rest * (spec.workforce - large.sum()) / rest.sum()
    employees = np.concatenate([large, np.maximum(np.round(rest), 5)]).astype(np.int64)
    # Put the rounding difference on the largest small firm so the total is exact.
    employees[n_large + int(np.argmax(employees[n_large:]))] += spec.workforce - employees.sum()
    order = np.argsort(-employees, kind="stable")
    employees = employees[order]

    # Big plants sit on the far side, away from the city and the centres (the demo's gap).
    allowed = shapely.difference(site.inner, shapely.buffer(site.lake, 60.0))
    for c in site.centres:
        allowed = shapely.difference(allowed, shapely.Point(c).buffer(200.0))
    far = shapely.intersection(
        allowed,
        shapely.Polygon(_half_plane(site.centre, -site.city, 0.0, 4 * site.radius)),
    )
    positions = np.empty((n, 2))
    min_gap = 0.35 * math.sqrt(site.park.area / n)
    pool_all = _uniform_points(allowed, 30 * n, rng)
    pool_far = _uniform_points(far, 30 * max(n_large, 1), rng)
    used_all = used_far = 0
    for i in range(n):
        big_far = i < n_large and rng.random() < 0.7
        for _ in range(200):
            if big_far:
                candidate = pool_far[used_far % len(pool_far)]
                used_far += 1
            else:
                candidate = pool_all[used_all % len(pool_all)]
                used_all += 1
            gap = 3.0 * min_gap if i < n_large else min_gap
            if i == 0 or np.min(np.linalg.norm(positions[:i] - candidate, axis=1)) > gap:
                break
        positions[i] = candidate

    industry = rng.choice(len(_INDUSTRIES), size=n, p=np.array(_INDUSTRY_WEIGHTS))
    shifts = list(ShiftPattern)
    shift = [shifts[int(rng.choice(3, p=np.array(_INDUSTRIES[k][4])))].value for k in industry]
    brands = _brand_names(n, rng)
    names = [brands[i][0] + _INDUSTRIES[k][2] for i, k in enumerate(industry)]
    names_en = [f"{brands[i][1]} {_INDUSTRIES[k][3]}" for i, k in enumerate(industry)]
    return gpd.GeoDataFrame(
        {
            "id": [f"e{i + 1:04d}" for i in range(n)],
            "name": names,
            "name_en": names_en,
            "industry": [_INDUSTRIES[k][0] for k in industry],
            "industry_en": [_INDUSTRIES[k][1] for k in industry],
            "employees": employees,
            "shift_pattern": shift,
            "zone_id": [""] * n,
        },
        geometry=list(shapely.points(positions)),
    )


# --- zones ------------------------------------------------------------------------------------


def _kmeans(points: FloatArray, k: int, rng: np.random.Generator) -> FloatArray:
    """Lloyd's k-means, seeded from ``rng``; returns centroids sorted north-west first."""
    centroids = points[rng.choice(len(points), size=k, replace=False)]
    for _ in range(25):
        label = np.argmin(
            np.linalg.norm(points[:, None, :] - centroids[None, :, :], axis=2), axis=1
        )
        centroids = np.array(
            [
                points[label == j].mean(axis=0) if np.any(label == j) else centroids[j]
                for j in range(k)
            ]
        )
    return centroids[np.lexsort((centroids[:, 0], -centroids[:, 1]))]


def _voronoi_cells(seeds: FloatArray, region: shapely.Geometry) -> list[shapely.Geometry]:
    cells = shapely.voronoi_polygons(
        shapely.MultiPoint(seeds), extend_to=shapely.buffer(region, 1000.0), ordered=True
    )
    parts = shapely.get_parts(cells)
    return [shapely.intersection(cell, region) for cell in parts]


def _zones(
    spec: SyntheticParkSpec,
    site: _Site,
    enterprises: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    sample = _uniform_points(site.park, 2500, rng)
    grid_seeds = _kmeans(sample, spec.grids, rng)
    grids = _voronoi_cells(grid_seeds, site.park)
    per_grid = _split_counts(spec.micro_grids, np.array([g.area for g in grids]), minimum=2)

    ent_xy = shapely.get_coordinates(np.asarray(enterprises.geometry.array))
    employees = enterprises["employees"].to_numpy()
    rows: list[dict[str, Any]] = [
        {
            "id": spec.park_id,
            "name": spec.name_zh,
            "name_en": spec.name_en,
            "level": ZoneLevel.PARK.value,
            "parent": None,
            "geometry": site.park,
        }
    ]
    micro_cells: list[shapely.Geometry] = []
    micro_ids: list[str] = []
    for g, (grid, count) in enumerate(zip(grids, per_grid, strict=True)):
        grid_id = f"{spec.park_id}-g{g + 1:02d}"
        grid_name = f"第{_numeral(g + 1)}网格"
        rows.append(
            {
                "id": grid_id,
                "name": grid_name,
                "name_en": f"Grid {g + 1}",
                "level": ZoneLevel.GRID.value,
                "parent": spec.park_id,
                "geometry": grid,
            }
        )
        inside = np.flatnonzero(shapely.contains_xy(grid, ent_xy[:, 0], ent_xy[:, 1]))
        big = inside[employees[inside] >= 300][: math.ceil(0.6 * count)]
        seeds = [ent_xy[i] for i in big]
        labels: list[tuple[str, str]] = [
            (f"{enterprises['name'].iloc[i]}微网格", f"{enterprises['name_en'].iloc[i]} micro-grid")
            for i in big
        ]
        pool = _uniform_points(grid, 400, rng)
        for p in pool:
            if len(seeds) >= count:
                break
            if not seeds or min(np.linalg.norm(p - s) for s in seeds) > 0.5 * math.sqrt(
                grid.area / count
            ):
                seeds.append(p)
                j = len(seeds)
                labels.append((f"{grid_name}{_numeral(j)}号微网格", f"Grid {g + 1} micro-grid {j}"))
        cells = _voronoi_cells(np.array(seeds), grid)
        for j, (cell, (zh, en)) in enumerate(zip(cells, labels, strict=True)):
            if shapely.is_empty(cell):
                continue
            micro_id = f"{grid_id}-m{j + 1:02d}"
            rows.append(
                {
                    "id": micro_id,
                    "name": zh,
                    "name_en": en,
                    "level": ZoneLevel.MICRO_GRID.value,
                    "parent": grid_id,
                    "geometry": cell,
                }
            )
            micro_cells.append(cell)
            micro_ids.append(micro_id)

    tree = shapely.STRtree(np.array(micro_cells, dtype=object))
    nearest = tree.query_nearest(shapely.points(ent_xy), all_matches=False)[1]
    zone_of = [micro_ids[i] for i in nearest]
    frame = gpd.GeoDataFrame(rows, geometry="geometry")
    return frame, zone_of


def _zone_of_points(points: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> list[str]:
    micro = zones[zones["level"] == ZoneLevel.MICRO_GRID.value]
    tree = shapely.STRtree(np.asarray(micro.geometry.array))
    nearest = tree.query_nearest(np.asarray(points.geometry.array), all_matches=False)[1]
    return [micro["id"].iloc[i] for i in nearest]


# --- residences -------------------------------------------------------------------------------


def _residences(
    spec: SyntheticParkSpec,
    site: _Site,
    enterprises: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    kinds = list(ResidenceKind)
    counts = dict(
        zip(
            kinds,
            _split_counts(spec.residences, np.array([0.45, 0.1, 0.22, 0.23]), minimum=1),
            strict=True,
        )
    )
    ent_xy = shapely.get_coordinates(np.asarray(enterprises.geometry.array))
    employees = enterprises["employees"].to_numpy()
    rows: list[dict[str, Any]] = []

    # Dorms: the largest firms first, then further buildings in proportion to headcount.
    n_dorm = int(counts[ResidenceKind.DORM])
    owners_first = np.arange(min(n_dorm, max(spec.large_enterprises * 2, n_dorm // 2)))
    extra = n_dorm - len(owners_first)
    weights = employees.astype(float) / employees.sum()
    owners = np.concatenate([owners_first, rng.choice(len(employees), size=extra, p=weights)])
    buildings = np.bincount(owners, minlength=len(employees))
    dorm_xy = site.near(ent_xy[owners], rng, low=90.0, high=350.0)
    seen: dict[int, int] = {}
    for owner, xy in zip(owners, dorm_xy, strict=True):
        seen[owner] = seen.get(owner, 0) + 1
        beds = max(20, int(employees[owner] * rng.uniform(0.3, 0.6) / buildings[owner]))
        rows.append(
            {
                "kind": ResidenceKind.DORM.value,
                "name": f"{enterprises['name'].iloc[owner]}员工宿舍{seen[owner]}栋",
                "name_en": f"{enterprises['name_en'].iloc[owner]} dormitory {seen[owner]}",
                "beds": beds,
                "residents": round(beds * rng.uniform(0.72, 0.98)),
                # Seed 000: firms give free furnished dorms; a few charge a token rent.
                "rent_cny_month": 0.0 if rng.random() < 0.7 else float(rng.choice([100, 150, 200])),
                "enterprise_id": enterprises["id"].iloc[owner],
                "xy": xy,
            }
        )

    n_talent = int(counts[ResidenceKind.TALENT_APARTMENT])
    # Talent apartments sit by a centre: hardware is complete, culture is not (seed 000).
    anchors = site.centres[np.arange(n_talent) % len(site.centres)]
    for k, xy in enumerate(site.near(anchors, rng, low=150.0, high=450.0)):
        beds = int(rng.integers(150, 501))
        rows.append(
            {
                "kind": ResidenceKind.TALENT_APARTMENT.value,
                "name": f"金山人才公寓{_numeral(k + 1)}期",
                "name_en": f"Jinshan Talent Apartments phase {k + 1}",
                "beds": beds,
                "residents": round(beds * rng.uniform(0.8, 0.97)),
                "rent_cny_month": 50.0,  # seed 000: a 95-born engineer pays 50 RMB/month
                "enterprise_id": None,
                "xy": xy,
            }
        )

    n_village = int(counts[ResidenceKind.RENTAL_VILLAGE])
    for k, xy in enumerate(site.sample(n_village, rng, where="far_band")):
        beds = int(rng.integers(200, 1201))
        village = _VILLAGES[k % len(_VILLAGES)]
        suffix = "" if k < len(_VILLAGES) else str(k // len(_VILLAGES) + 1)
        rows.append(
            {
                "kind": ResidenceKind.RENTAL_VILLAGE.value,
                "name": f"{village[0]}{suffix}出租屋",
                "name_en": f"{village[1]}{suffix} rented rooms",
                "beds": beds,
                "residents": round(beds * rng.uniform(0.6, 0.95)),
                "rent_cny_month": float(rng.integers(25, 61) * 10),
                "enterprise_id": None,
                "xy": xy,
            }
        )

    n_community = int(counts[ResidenceKind.COMMUNITY])
    brands = _brand_names(n_community, rng)
    for k, xy in enumerate(site.sample(n_community, rng, where="city_band")):
        beds = int(rng.integers(800, 3001))
        rows.append(
            {
                "kind": ResidenceKind.COMMUNITY.value,
                "name": f"{brands[k][0]}苑小区",
                "name_en": f"{brands[k][1]} Garden community",
                "beds": beds,
                "residents": round(beds * rng.uniform(0.55, 0.9)),
                "rent_cny_month": float(rng.integers(90, 161) * 10),
                "enterprise_id": None,
                "xy": xy,
            }
        )

    frame = pd.DataFrame(rows)
    xy = np.array(frame.pop("xy").tolist())
    frame.insert(0, "id", [f"h{i + 1:04d}" for i in range(len(frame))])
    frame["beds"] = frame["beds"].astype(np.int64)
    frame["residents"] = frame["residents"].astype(np.int64)
    return gpd.GeoDataFrame(frame, geometry=list(shapely.points(xy)))


# --- amenities --------------------------------------------------------------------------------


def _amenities(
    spec: SyntheticParkSpec,
    site: _Site,
    enterprises: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    categories = list(AmenityCategory)
    counts = dict(
        zip(
            categories,
            _split_counts(
                spec.amenities, np.array([_CATEGORY_WEIGHTS[c] for c in categories]), minimum=1
            ),
            strict=True,
        )
    )
    ent_xy = shapely.get_coordinates(np.asarray(enterprises.geometry.array))
    employees = enterprises["employees"].to_numpy()
    shifts = enterprises["shift_pattern"].to_numpy()
    centre_weights = np.array(
        [0.45, 0.3] + [0.25 / max(len(site.centres) - 2, 1)] * (len(site.centres) - 2)
    )
    centre_weights = centre_weights[: len(site.centres)]
    sigma = spec.centre_radius_metres
    rows: list[dict[str, Any]] = []

    def public_points(n: int) -> FloatArray:
        """Mostly in centres, then along the city-facing edge, a few anywhere."""
        split = _split_counts(n, np.array([0.65, 0.25, 0.10]), minimum=0)
        pts = np.vstack(
            [
                site.clustered(int(split[0]), rng, weights=centre_weights, sigma=sigma),
                site.sample(int(split[1]), rng, where="city_band"),
                site.sample(int(split[2]), rng, where="inner"),
            ]
        )
        return pts[rng.permutation(len(pts))]

    def hours(category: AmenityCategory) -> str:
        options = _HOURS[category]
        probs = np.array([p for _, p in options])
        return options[int(rng.choice(len(options), p=probs / probs.sum()))][0]

    def capacity(category: AmenityCategory) -> float:
        low, high = _CAPACITY[category]
        value = rng.uniform(low, high)
        return float(round(value)) if category in _INTEGER_CAPACITY else round(value, 2)

    def add(
        category: AmenityCategory,
        name: tuple[str, str],
        cap: float,
        hrs: str,
        geometry: shapely.Geometry,
        open_to: str | None = None,
    ) -> None:
        rows.append(
            {
                "category": category.value,
                "name": name[0],
                "name_en": name[1],
                "capacity": cap,
                "opening_hours": hrs,
                "open_to": open_to,
                "geometry": geometry,
            }
        )

    def brand(category: AmenityCategory, n: int) -> list[tuple[str, str]]:
        zh, en = _AMENITY_NAMES[category]
        return [(zh.format(b=b[0]), en.format(e=b[1])) for b in _brand_names(n, rng)]

    def enterprise_owned(
        category: AmenityCategory, n: int, label: tuple[str, str], hours_of: Any, capacity_of: Any
    ) -> None:
        weights = employees.astype(float) / employees.sum()
        chosen = rng.choice(len(employees), size=n, replace=False, p=weights)
        chosen = np.sort(chosen)
        xy = site.near(ent_xy[chosen], rng, low=25.0, high=80.0)
        for i, p in zip(chosen, xy, strict=True):
            add(
                category,
                (
                    enterprises["name"].iloc[i] + label[0],
                    f"{enterprises['name_en'].iloc[i]} {label[1]}",
                ),
                capacity_of(i),
                hours_of(i),
                shapely.Point(p),
                enterprises["id"].iloc[i],
            )

    for category in categories:
        n = int(counts[category])
        if category is AmenityCategory.CANTEEN:
            n_own = min(round(0.55 * n), len(employees))
            enterprise_owned(
                category,
                n_own,
                ("食堂", "canteen"),
                lambda i: _CANTEEN_HOURS[ShiftPattern(shifts[i])],
                lambda i: float(
                    math.ceil(
                        employees[i]
                        * _PEAK_SHIFT_SHARE[ShiftPattern(shifts[i])]
                        / _CANTEEN_SITTINGS
                    )
                ),
            )
            n -= n_own
        elif category is AmenityCategory.SPORTS_COURT:
            n_own = min(round(0.4 * n), len(employees))
            enterprise_owned(
                category,
                n_own,
                ("篮球场", "basketball court"),
                lambda i: "Mo-Su 06:00-21:00",
                lambda i: float(1 + (employees[i] >= 1000)),
            )
            n -= n_own
        elif category is AmenityCategory.HOSPITAL:
            add(
                category,
                (
                    "园区综合医院（原型：中美医院）",
                    "Park General Hospital (modelled on Zhongmei Hospital)",
                ),
                300.0,
                "24/7",
                shapely.Point(site.near(site.centres[:1], rng, low=250.0, high=400.0)[0]),
            )
            n -= 1
        elif category is AmenityCategory.PARK:
            add(
                category,
                ("明照湖公园", "Mingzhao Lake Park"),
                round(site.lake.area / 1e4, 2),
                "Mo-Su 05:30-22:30",
                site.lake,
            )
            n -= 1
        for name, p in zip(brand(category, n), public_points(n), strict=True):
            add(category, name, capacity(category), hours(category), shapely.Point(p))

    frame = gpd.GeoDataFrame(rows, geometry="geometry")
    frame.insert(0, "id", [f"a{i + 1:05d}" for i in range(len(frame))])
    return frame


# --- transit ----------------------------------------------------------------------------------


def _transit(
    spec: SyntheticParkSpec,
    site: _Site,
    roads: _Roads,
    residences: gpd.GeoDataFrame,
    enterprises: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    graph = roads.drive_graph
    drivable_nodes = np.flatnonzero(np.diff(graph.indptr) > 0)
    drivable_tree_xy = roads.node_xy[drivable_nodes]

    def node_near(xy: FloatArray) -> int:
        return int(drivable_nodes[np.argmin(np.linalg.norm(drivable_tree_xy - xy, axis=1))])

    def path(waypoints: list[FloatArray]) -> list[int]:
        nodes = [node_near(w) for w in waypoints]
        full: list[int] = [nodes[0]]
        for a, b in itertools.pairwise(nodes):
            if a == b:
                continue
            _, pred = dijkstra(graph, indices=a, return_predecessors=True)
            if pred[b] < 0:
                raise ParameterError("generated road network is disconnected for buses")
            leg = [b]
            while leg[-1] != a:
                leg.append(int(pred[leg[-1]]))
            full.extend(reversed(leg[:-1]))
        # Cut out loops (a via point on a spur makes the bus go out and back): each node once.
        simple: list[int] = []
        position: dict[int, int] = {}
        for node in full:
            if node in position:
                for dropped in simple[position[node] + 1 :]:
                    del position[dropped]
                del simple[position[node] + 1 :]
            else:
                position[node] = len(simple)
                simple.append(node)
        return simple

    def stops_along(nodes: list[int], spacing: float) -> list[int]:
        xy = roads.node_xy[nodes]
        along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))])
        targets = np.arange(0.0, along[-1], spacing)
        picks = sorted({int(np.argmin(np.abs(along - t))) for t in targets} | {len(nodes) - 1})
        # A route that revisits a node would list the same stop twice; keep the first visit.
        out: list[int] = []
        for k in picks:
            if nodes[k] not in out:
                out.append(nodes[k])
        return out

    side = np.array([-site.city[1], site.city[0]])
    routes: list[dict[str, Any]] = []
    route_nodes: list[list[int]] = []
    route_stops: list[list[int]] = []
    for k in range(spec.bus_routes):
        spread = (k - (spec.bus_routes - 1) / 2) * 0.35
        start_dir = site.city * math.cos(spread) + side * math.sin(spread)
        start = (
            _ray_exit(site.park, site.centre, start_dir / np.linalg.norm(start_dir))
            - start_dir * 120
        )
        far_dir = -site.city * math.cos(2 * spread) + side * math.sin(
            2 * spread + 0.6 * (k % 2 - 0.5)
        )
        end = site.centre + far_dir / np.linalg.norm(far_dir) * 0.7 * site.radius
        via = [site.centres[k % len(site.centres)], site.centres[(k + 1) % len(site.centres)]]
        nodes = path([start, *via, end])
        route_nodes.append(nodes)
        route_stops.append(stops_along(nodes, spec.stop_spacing_metres))
        # One line runs past midnight for the end of the 16:00-24:00 shift (DEFAULT_TIME_WINDOWS'
        # 00:00-02:00 "night" window); the others stop in the evening (blank night headway).
        night = k == 0
        routes.append(
            {
                "route_id": f"bus{k + 1}",
                "name": f"金山园区{k + 1}路",
                "name_en": f"Jinshan Park Line {k + 1}",
                "kind": TransitKind.BUS.value,
                "speed_kmh": 15.0,  # PARAMETERS.md item 16: mid-size city bus at peak
                "headway_peak_min": float(rng.choice([8, 10, 12, 15])),
                "headway_evening_min": float(rng.choice([20, 25, 30])),
                "headway_weekend_min": float(rng.choice([15, 20, 30])),
                "headway_night_min": 45.0 if night else None,
                "service_start": "06:00" if night else "06:30",
                "service_end": "02:00" if night else str(rng.choice(["20:30", "21:00", "21:30"])),
                "fare_cny": 2.0,  # PARAMETERS.md item 13: Zhuzhou lines ¥1–2
            }
        )

    # Custom bus (定制公交): communities near the city to the far-side plants, peak runs only.
    res_xy = shapely.get_coordinates(np.asarray(residences.geometry.array))
    ent_xy = shapely.get_coordinates(np.asarray(enterprises.geometry.array))
    community = res_xy[(residences["kind"] == ResidenceKind.COMMUNITY.value).to_numpy()]
    big = ent_xy[: max(spec.large_enterprises, 2)]
    far_big = big[np.argsort((big - site.centre) @ site.city)][:3]
    nodes = path([community[0], site.centres[0], *far_big])
    route_nodes.append(nodes)
    route_stops.append(stops_along(nodes, 2 * spec.stop_spacing_metres))
    routes.append(
        {
            "route_id": "custom1",
            "name": "金山定制公交1线",
            "name_en": "Jinshan custom bus line 1",
            "kind": TransitKind.CUSTOM_BUS.value,
            "speed_kmh": 15.0,  # PARAMETERS.md item 16
            "headway_peak_min": 20.0,
            "headway_evening_min": None,
            "headway_weekend_min": None,
            "headway_night_min": None,
            # Peak-only: runs 07:00–09:00 and 16:30–18:00; no headway outside the peak windows.
            "service_start": "07:00",
            "service_end": "18:00",
            "fare_cny": 1.5,  # PARAMETERS.md item 13: 定制公交 default 1.5
        }
    )

    # Enterprise shuttle (班车): the largest firm's bus between a rental village and the plant.
    villages = res_xy[(residences["kind"] == ResidenceKind.RENTAL_VILLAGE.value).to_numpy()]
    # The nearest village whose road node is not the plant's own (a one-node route is no line).
    for k in np.argsort(np.linalg.norm(villages - ent_xy[0], axis=1), kind="stable"):
        nodes = path([villages[k], ent_xy[0]])
        if len(nodes) > 1:
            break
    route_nodes.append(nodes)
    route_stops.append(stops_along(nodes, 4 * spec.stop_spacing_metres))
    routes.append(
        {
            "route_id": "shuttle1",
            "name": f"{enterprises['name'].iloc[0]}班车",
            "name_en": f"{enterprises['name_en'].iloc[0]} shuttle",
            "kind": TransitKind.SHUTTLE.value,
            "speed_kmh": 20.0,  # non-stop between ends on park roads
            "headway_peak_min": 30.0,
            "headway_evening_min": 60.0,
            "headway_weekend_min": None,
            "headway_night_min": None,
            "service_start": "07:00",
            "service_end": "20:30",
            "fare_cny": 0.0,
            "enterprise_id": enterprises["id"].iloc[0],
        }
    )

    # A route whose road path folds back onto its start (loops cut out) is no line: leave it out.
    kept = [k for k, nodes in enumerate(route_nodes) if len(nodes) > 1]
    routes = [routes[k] for k in kept]
    route_nodes = [route_nodes[k] for k in kept]
    route_stops = [route_stops[k] for k in kept]
    route_frame = gpd.GeoDataFrame(
        pd.DataFrame(routes),
        geometry=[shapely.LineString(roads.node_lonlat[n]) for n in route_nodes],
        crs=WGS84,
    )
    physical = sorted({s for stops in route_stops for s in stops})
    number = {node: i + 1 for i, node in enumerate(physical)}
    stop_rows = [
        {
            "stop_id": f"s{number[node]:04d}",
            "route_id": route["route_id"],
            "sequence": seq + 1,
            "name": f"园区{number[node]}号站",
            "name_en": f"Park stop {number[node]}",
        }
        for route, stops in zip(routes, route_stops, strict=True)
        for seq, node in enumerate(stops)
    ]
    stop_nodes = [node for stops in route_stops for node in stops]
    stop_frame = gpd.GeoDataFrame(
        pd.DataFrame(stop_rows),
        geometry=list(shapely.points(roads.node_lonlat[stop_nodes])),
        crs=WGS84,
    )
    return route_frame, stop_frame


def spec_as_dict(spec: SyntheticParkSpec) -> dict[str, Any]:
    """Return the spec's fields as a plain dict (for metadata files), in declaration order."""
    return {f.name: getattr(spec, f.name) for f in fields(spec)}
