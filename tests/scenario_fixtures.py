"""A tiny line park for scenario tests: one straight road, two residences, one enterprise.

The road runs along latitude 27.85 from 113.140 E to 113.160 E with a vertex every 0.001 degree
(about 98.4 m), so minutes can be worked by hand: R1 sits at the west end beside the only clinic
C1, R2 at the east end beside the only park P1, and enterprise E1 in the middle.
"""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import LineString, Point, box

from retention.access.parameters import DEFAULT_TIME_WINDOWS
from retention.data.layers import WGS84, LayerKind
from retention.scenario.model import ParkContext, park_context
from retention.storage.park import ParkData

LAT = 27.85
WEST, EAST = 113.140, 113.160


def _empty(columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=WGS84)


def line_park() -> ParkData:
    """Return the tiny line park (fresh frames on every call)."""
    vertices = [(round(WEST + 0.001 * i, 3), LAT) for i in range(21)]
    layers = {
        LayerKind.ZONES: gpd.GeoDataFrame(
            {"id": ["Z0"], "name": ["线园"], "level": ["park"], "parent": [None]},
            geometry=[box(WEST - 0.001, LAT - 0.005, EAST + 0.001, LAT + 0.005)],
            crs=WGS84,
        ),
        LayerKind.RESIDENCES: gpd.GeoDataFrame(
            {
                "id": ["R1", "R2"],
                "name": ["西宿舍", "东宿舍"],
                "kind": ["dorm", "dorm"],
                "beds": [120, 60],
                "residents": [100, 50],
                "rent_cny_month": [300.0, 300.0],
                "enterprise_id": ["E1", "E1"],
            },
            geometry=[Point(WEST, LAT), Point(EAST, LAT)],
            crs=WGS84,
        ),
        LayerKind.ENTERPRISES: gpd.GeoDataFrame(
            {
                "id": ["E1"],
                "name": ["中厂"],
                "industry": ["electrical"],
                "employees": [200],
                "shift_pattern": ["day"],
            },
            geometry=[Point(113.150, LAT)],
            crs=WGS84,
        ),
        LayerKind.AMENITIES: gpd.GeoDataFrame(
            {
                "id": ["C1", "P1"],
                "name": ["诊所", "公园"],
                "category": ["clinic", "park"],
                "capacity": [100.0, 2.0],
                "opening_hours": ["24/7", "24/7"],
                "open_to": ["", ""],
            },
            geometry=[Point(113.141, LAT), Point(113.159, LAT)],
            crs=WGS84,
        ),
        LayerKind.ROADS: gpd.GeoDataFrame(
            {
                "id": ["L1"],
                "name": ["线路"],
                "road_class": ["arterial"],
                "walk": [True],
                "bike": [True],
            },
            geometry=[LineString(vertices)],
            crs=WGS84,
        ),
        LayerKind.TRANSIT_ROUTES: _empty(
            ["route_id", "name", "kind", "speed_kmh", "service_start", "service_end"]
        ),
        LayerKind.TRANSIT_STOPS: _empty(["stop_id", "route_id", "sequence", "name"]),
    }
    return ParkData(
        park_id="line",
        name_zh="线园",
        name_en="Line Park",
        synthetic=True,
        layers=layers,
        boundary=gpd.GeoDataFrame(geometry=[], crs=WGS84),
        data_version="line-v1",
    )


def line_context(park: ParkData | None = None) -> ParkContext:
    """The line park's scenario context with the default time windows."""
    park = park or line_park()
    return park_context(park.layers, window_keys=[w.key for w in DEFAULT_TIME_WINDOWS])
