"""Tests for retention.access.engine: what-if operations on a built park engine.

The hand-worked park is one straight street in metres (UTM 49N), stored in WGS84::

    D1 (0) -- D2 (500) -- D3 (1000) -- ... -- (2500) -- A1 (3000)

Walking is 60 m/min. A new shuttle stops at S1 = (0, 0) and S2 = (3000, 0), rides 6 minutes,
every 10 minutes in the weekday peak only: boarding costs 10 / 2 + 2 (penalty) = 7 minutes.
"""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from retention.access.engine import ParkEngine
from retention.access.parameters import DEFAULT_TIME_WINDOWS, TravelParameters
from retention.access.transit import transit_model_from_layers
from retention.access.travel_times import travel_times_for_park
from retention.data.layers import LayerKind
from retention.errors import ValidationError

UTM = "EPSG:32649"
X0, Y0 = 712_000.0, 3_083_000.0
PEAK, EVENING, WEEKEND, NIGHT = DEFAULT_TIME_WINDOWS
PARAMS = TravelParameters()
HEADWAYS = ("headway_peak_min", "headway_evening_min", "headway_weekend_min", "headway_night_min")


def _frame(rows: list[dict[str, object]], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs=UTM).to_crs(
        "EPSG:4326"
    )


def _street(points: list[tuple[float, float]], *, name: str = "street") -> gpd.GeoDataFrame:
    line = LineString([(X0 + x, Y0 + y) for x, y in points])
    return gpd.GeoDataFrame(
        [{"id": name, "walk": True, "bike": True}], geometry=[line], crs=UTM
    ).to_crs("EPSG:4326")


def _residences(xy: list[tuple[float, float]], *, prefix: str = "D") -> gpd.GeoDataFrame:
    rows = [
        {"id": f"{prefix}{i + 1}", "name": f"Dorm {i + 1}", "kind": "dorm", "beds": 100,
         "residents": 100 + i, "enterprise_id": None}
        for i in range(len(xy))
    ]  # fmt: skip
    return _frame(rows, xy)


def _amenities(
    xy: list[tuple[float, float]], *, prefix: str = "A", category: str = "canteen"
) -> gpd.GeoDataFrame:
    rows = [
        {"id": f"{prefix}{i + 1}", "name": f"{prefix}{i + 1}", "category": category,
         "capacity": 10.0 + i, "opening_hours": "24/7", "open_to": None}
        for i in range(len(xy))
    ]  # fmt: skip
    return _frame(rows, xy)


def _empty_transit() -> dict[LayerKind, gpd.GeoDataFrame]:
    routes = gpd.GeoDataFrame(
        {"route_id": [], "service_start": [], "service_end": []}, geometry=[], crs="EPSG:4326"
    )
    stops = gpd.GeoDataFrame(
        {"stop_id": [], "route_id": [], "sequence": []}, geometry=[], crs="EPSG:4326"
    )
    return {LayerKind.TRANSIT_ROUTES: routes, LayerKind.TRANSIT_STOPS: stops}


def _route_layers(
    route_id: str,
    stops_xy: list[tuple[float, float]],
    *,
    minutes: list[float],
    headways: dict[str, float],
    enterprise_id: str = "",
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A route in the layers' own form: line + stops with ``minutes_from_start``."""
    line = LineString([(X0 + x, Y0 + y) for x, y in stops_xy])
    row: dict[str, object] = {
        "route_id": route_id, "name": route_id, "kind": "shuttle", "speed_kmh": 30.0,
        "service_start": "06:00", "service_end": "23:00", "enterprise_id": enterprise_id,
    }  # fmt: skip
    row |= {field: float(headways.get(field, np.nan)) for field in HEADWAYS}
    routes = gpd.GeoDataFrame([row], geometry=[line], crs=UTM).to_crs("EPSG:4326")
    rows = [
        {"stop_id": f"{route_id}-S{i + 1}", "route_id": route_id, "sequence": i + 1,
         "name": f"{route_id} stop {i + 1}", "minutes_from_start": m}
        for i, m in enumerate(minutes)
    ]  # fmt: skip
    stops = _frame(rows, stops_xy)
    return routes, stops


def _line_park() -> dict[LayerKind, gpd.GeoDataFrame]:
    return {
        LayerKind.ROADS: _street([(x, 0.0) for x in range(0, 3001, 500)]),
        LayerKind.RESIDENCES: _residences([(0, 0), (500, 0), (1000, 0)]),
        LayerKind.AMENITIES: _amenities([(3000, 0)]),
        **_empty_transit(),
    }


def _shuttle() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    return _route_layers(
        "SH", [(0, 0), (3000, 0)], minutes=[0.0, 6.0], headways={"headway_peak_min": 10.0}
    )


def _as_model_routes(routes: gpd.GeoDataFrame, stops: gpd.GeoDataFrame) -> tuple:
    return transit_model_from_layers(
        routes, stops, windows=DEFAULT_TIME_WINDOWS, params=PARAMS
    ).routes


def _digest(engine: ParkEngine) -> str:
    """A hash of every array and table of an engine's result (bytes, shapes, dtypes)."""
    result = engine.result
    hasher = hashlib.sha256()
    for key in sorted(result.minutes):
        array = result.minutes[key]
        hasher.update(repr((key, array.shape, array.dtype.str)).encode())
        hasher.update(np.ascontiguousarray(array).tobytes())
    hasher.update(result.open_minutes.tobytes())
    for frame in (result.origins, result.amenities):
        table = pd.DataFrame(frame.drop(columns="geometry")).astype(str)
        hasher.update(pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
        hasher.update(frame.geometry.to_wkb().to_numpy().astype(bytes).tobytes())
    for window in result.windows:
        hasher.update(result.available_mask(window).tobytes())
    return hasher.hexdigest()


def _rows(result: object, origin_set: str = "residence") -> dict[str, int]:
    origins = result.origins  # type: ignore[attr-defined]
    chosen = origins[origins["origin_set"] == origin_set]
    return dict(zip(chosen["origin_id"], chosen.index, strict=True))


# --- hand-worked answers ---------------------------------------------------------------------


def test_build_gives_the_same_result_as_travel_times_for_park() -> None:
    from types import SimpleNamespace

    layers = _line_park()
    engine = ParkEngine.build(layers, params=PARAMS)
    result = travel_times_for_park(SimpleNamespace(layers=layers), params=PARAMS)
    assert set(engine.result.minutes) == set(result.minutes)
    for key, array in result.minutes.items():
        np.testing.assert_array_equal(engine.result.minutes[key], array)


def test_new_shuttle_changes_exactly_the_origins_it_should_by_the_right_minutes() -> None:
    engine = ParkEngine.build(_line_park(), params=PARAMS)
    before = engine.result
    rows = _rows(before)
    walk = before.minutes_for("walk", PEAK)
    # Walking to A1 at 3000 m: 50, 41.67 and 33.33 minutes; no transit yet.
    assert walk[[rows["D1"], rows["D2"], rows["D3"]], 0] == pytest.approx(
        [50.0, 2500 / 60, 2000 / 60], abs=1e-4
    )
    with_shuttle = engine.with_routes(_as_model_routes(*_shuttle()), stops=_shuttle()[1])
    after = with_shuttle.result
    peak_before = before.minutes_for("transit", PEAK)
    peak_after = after.minutes_for("transit", PEAK)
    # D1 boards at its door: wait 5 + penalty 2 + ride 6 = 13 min (was 50 on foot).
    assert peak_after[rows["D1"], 0] == pytest.approx(13.0, abs=1e-4)
    # D2 walks 500 m (8.33 min, within the 10-min access limit) to S1, then 13: 21.33 min.
    assert peak_after[rows["D2"], 0] == pytest.approx(500 / 60 + 13.0, abs=1e-4)
    # D3 is 16.7 min from S1, beyond the access limit: it keeps walking (33.33 min).
    assert peak_after[rows["D3"], 0] == peak_before[rows["D3"], 0]
    # Every origin (H3 cells included) changes exactly when it can walk to S1 within 10 min.
    s1 = _frame([{"id": "S1"}], [(0, 0)])
    to_s1 = engine.travel.matrix(before.origins, s1, mode="walk")[:, 0]
    expected = np.where(to_s1 <= PARAMS.max_walk_access_minutes, to_s1 + 13.0, np.inf)
    expected = np.minimum(expected, walk[:, 0])
    np.testing.assert_allclose(peak_after[:, 0], expected, atol=1e-4)
    changed = peak_after[:, 0] != peak_before[:, 0]
    reaches = to_s1 <= PARAMS.max_walk_access_minutes
    assert changed.tolist() == (reaches & (to_s1 + 13.0 < walk[:, 0] - 1e-4)).tolist()
    assert changed.sum() >= 2
    # The shuttle runs in the peak only: every other window keeps its very array, as do
    # walking and e-bike.
    for window in (EVENING, WEEKEND, NIGHT):
        assert after.minutes_for("transit", window) is before.minutes_for("transit", window)
    assert after.minutes_for("walk", PEAK) is walk
    assert after.minutes_for("ebike", PEAK) is before.minutes_for("ebike", PEAK)
    # Withdrawing it again gives the baseline back.
    again = with_shuttle.without_routes(["SH"]).result.minutes_for("transit", PEAK)
    np.testing.assert_array_equal(again, peak_before)


def test_enterprise_shuttle_changes_only_its_own_people() -> None:
    layers = _line_park()
    residences = layers[LayerKind.RESIDENCES].copy()
    residences["enterprise_id"] = ["E1", None, None]
    layers[LayerKind.RESIDENCES] = residences
    engine = ParkEngine.build(layers, params=PARAMS)
    routes, stops = _route_layers(
        "SH",
        [(0, 0), (3000, 0)],
        minutes=[0.0, 6.0],
        headways={"headway_peak_min": 10.0},
        enterprise_id="E1",
    )
    after = engine.with_routes(_as_model_routes(routes, stops), stops=stops).result
    rows = _rows(after)
    peak = after.minutes_for("transit", PEAK)
    assert peak[rows["D1"], 0] == pytest.approx(13.0, abs=1e-4)  # E1's dormitory rides
    assert peak[rows["D2"], 0] == pytest.approx(2500 / 60, abs=1e-4)  # others walk


def test_changed_headway_recomputes_only_that_route_s_windows() -> None:
    engine = ParkEngine.build(_line_park(), params=PARAMS)
    routes = _as_model_routes(*_shuttle())
    with_shuttle = engine.with_routes(routes, stops=_shuttle()[1])
    from dataclasses import replace

    faster = replace(routes[0], headways=(("weekday_peak", 4.0),))
    changed = with_shuttle.with_routes([faster]).result
    rows = _rows(changed)
    # Wait 2 + penalty 2 + ride 6.
    assert changed.minutes_for("transit", PEAK)[rows["D1"], 0] == pytest.approx(10.0, abs=1e-4)
    assert len(changed.amenities) == 1 and len(with_shuttle.transit.routes) == 1
    assert changed.minutes_for("transit", EVENING) is with_shuttle.result.minutes_for(
        "transit", EVENING
    )


def test_new_amenity_changes_only_its_column() -> None:
    layers = _line_park()
    routes, stops = _shuttle()
    layers[LayerKind.TRANSIT_ROUTES], layers[LayerKind.TRANSIT_STOPS] = routes, stops
    engine = ParkEngine.build(layers, params=PARAMS)
    before = engine.result
    added = engine.with_amenities(_amenities([(1500, 0)], prefix="N", category="grocery"))
    after = added.result
    assert after.amenities["id"].tolist() == ["A1", "N1"]
    for key, array in before.minutes.items():
        np.testing.assert_array_equal(after.minutes[key][:, :1], array)
    rows = _rows(after)
    walk = after.minutes_for("walk", PEAK)
    assert walk[rows["D1"], 1] == pytest.approx(25.0, abs=1e-4)
    assert walk[rows["D3"], 1] == pytest.approx(500 / 60, abs=1e-4)
    # Windows still share one walking array after the change.
    assert after.minutes_for("walk", EVENING) is walk
    rebuilt = ParkEngine.build(added.layers, params=PARAMS).result
    for key, array in rebuilt.minutes.items():
        np.testing.assert_allclose(after.minutes[key], array, atol=1e-4)


def test_closed_and_resized_amenities() -> None:
    layers = _line_park()
    layers[LayerKind.AMENITIES] = _amenities([(3000, 0), (1500, 0), (500, 0)])
    engine = ParkEngine.build(layers, params=PARAMS)
    before = engine.result
    closed = engine.without_amenities(["A2"]).result
    assert closed.amenities["id"].tolist() == ["A1", "A3"]
    np.testing.assert_array_equal(
        closed.minutes_for("transit", PEAK), before.minutes_for("transit", PEAK)[:, [0, 2]]
    )
    assert closed.open_minutes.shape == (2, len(DEFAULT_TIME_WINDOWS))
    resized = engine.with_capacities({"A3": 99.0}).result
    assert resized.amenities["capacity"].tolist() == [10.0, 11.0, 99.0]
    assert resized.minutes_for("walk", PEAK) is before.minutes_for("walk", PEAK)
    with pytest.raises(ValidationError, match=r"amenity id\(s\) \['X'\] are not in the park"):
        engine.without_amenities(["X"])
    with pytest.raises(ValidationError, match="capacity -1 for amenity 'A1'"):
        engine.with_capacities({"A1": -1})
    with pytest.raises(ValidationError, match=r"\['A1'\] already exist"):
        engine.with_amenities(_amenities([(0, 0)]))


def test_new_residence_computes_only_its_rows() -> None:
    engine = ParkEngine.build(_line_park(), params=PARAMS)
    before = engine.result
    added = engine.with_residences(_residences([(2500, 0)], prefix="T"))
    after = added.result
    rows = _rows(after)
    assert set(rows) == {"D1", "D2", "D3", "T1"}
    walk = after.minutes_for("walk", PEAK)
    assert walk[rows["T1"], 0] == pytest.approx(500 / 60, abs=1e-4)
    old_rows = _rows(before)
    for name, row in old_rows.items():
        for key, array in before.minutes.items():
            np.testing.assert_array_equal(after.minutes[key][rows[name]], array[row])
    rebuilt = ParkEngine.build(added.layers, params=PARAMS).result
    pd.testing.assert_frame_equal(
        pd.DataFrame(after.origins.drop(columns="geometry")),
        pd.DataFrame(rebuilt.origins.drop(columns="geometry")),
    )
    for key, array in rebuilt.minutes.items():
        np.testing.assert_allclose(after.minutes[key], array, atol=1e-4)


def test_isochrones_use_the_engine_graph() -> None:
    from retention.access.indicators import isochrones

    engine = ParkEngine.build(_line_park(), params=PARAMS)
    lon, lat = engine.result.origins.geometry.iloc[0].coords[0]
    mine = engine.isochrones(lon, lat, mode="walk")
    network = engine.travel.network("walk")
    theirs = isochrones(
        network,
        lon,
        lat,
        network_mode="walk",
        speed_m_per_min=PARAMS.walk_speed_m_per_min,
        walk_speed_m_per_min=PARAMS.walk_speed_m_per_min,
        max_snap_distance_metres=PARAMS.max_snap_distance_metres,
    )
    assert mine["cells"].tolist() == theirs["cells"].tolist()
    assert mine["cells"].iloc[0] > 0
    with pytest.raises(ValidationError, match="walk or ebike"):
        engine.isochrones(lon, lat, mode="transit")


def test_baseline_is_bit_identical_after_every_operation() -> None:
    layers = _line_park()
    routes, stops = _shuttle()
    engine = ParkEngine.build(layers, params=PARAMS)
    digest = _digest(engine)
    new_routes, new_stops = _route_layers(
        "R2", [(500, 0), (2500, 0)], minutes=[0.0, 4.0], headways={"headway_evening_min": 8.0}
    )
    operations = [
        lambda e: e.with_routes(_as_model_routes(routes, stops), stops=stops),
        lambda e: e.with_routes(_as_model_routes(new_routes, new_stops), stops=new_stops),
        lambda e: e.with_amenities(_amenities([(1000, 0)], prefix="N")),
        lambda e: e.without_amenities(["A1"]),
        lambda e: e.with_capacities({"A1": 1.0}),
        lambda e: e.with_residences(_residences([(2000, 0)], prefix="T")),
        lambda e: e.with_enterprises(
            _frame([{"id": "E9", "name": "Plant", "employees": 300}], [(2750, 0)])
        ),
    ]
    chained = engine
    for operation in operations:
        operation(engine)
        chained = operation(chained) if operation is not operations[3] else chained
        assert _digest(engine) == digest
    for array in engine.result.minutes.values():
        assert not array.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            array[0, 0] = 0
    rebuilt = ParkEngine.build(chained.layers, params=PARAMS, transit=chained.transit).result
    for key, array in rebuilt.minutes.items():
        np.testing.assert_allclose(chained.result.minutes[key], array, atol=1e-4)


# --- property: every operation equals a full rebuild ----------------------------------------

GRID = 5
STEP = 200.0
POINTS = st.tuples(st.floats(-50, GRID * STEP), st.floats(-50, GRID * STEP))


def _grid_roads(removed: list[int]) -> gpd.GeoDataFrame:
    lines = []
    for i in range(GRID + 1):
        lines.append([(0.0, i * STEP), (GRID * STEP, i * STEP)])
        lines.append([(i * STEP, 0.0), (i * STEP, GRID * STEP)])
    # Vertices every STEP so the lines meet at shared nodes.
    kept = [line for k, line in enumerate(lines) if k not in removed or k < 2]
    rows, geometries = [], []
    for k, ((xa, ya), (xb, yb)) in enumerate(kept):
        steps = np.linspace(0.0, 1.0, GRID + 1)
        coordinates = [(X0 + xa + t * (xb - xa), Y0 + ya + t * (yb - ya)) for t in steps]
        rows.append({"id": f"r{k}", "walk": True, "bike": k % 3 != 0})
        geometries.append(LineString(coordinates))
    return gpd.GeoDataFrame(rows, geometry=geometries, crs=UTM).to_crs("EPSG:4326")


@st.composite
def _scenarios(draw: st.DrawFn) -> tuple[dict[LayerKind, gpd.GeoDataFrame], list[tuple]]:
    removed = draw(st.lists(st.integers(0, 2 * GRID + 1), max_size=4, unique=True))
    homes = draw(st.lists(POINTS, min_size=1, max_size=4))
    shops = draw(st.lists(POINTS, min_size=1, max_size=4))
    layers: dict[LayerKind, gpd.GeoDataFrame] = {
        LayerKind.ROADS: _grid_roads(removed),
        LayerKind.RESIDENCES: _residences(homes),
        LayerKind.AMENITIES: _amenities(shops),
        **_empty_transit(),
    }
    if draw(st.booleans()):
        stops_xy = draw(st.lists(POINTS, min_size=2, max_size=4))
        routes, stops = _route_layers(
            "B0",
            stops_xy,
            minutes=[2.0 * i for i in range(len(stops_xy))],
            headways={"headway_peak_min": 6.0, "headway_night_min": 20.0},
        )
        layers[LayerKind.TRANSIT_ROUTES], layers[LayerKind.TRANSIT_STOPS] = routes, stops
    operations = []
    for index in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["route", "amenity", "close", "residence", "withdraw"]))
        if kind == "route":
            stops_xy = draw(st.lists(POINTS, min_size=2, max_size=4))
            headway = draw(st.sampled_from([4.0, 12.0]))
            operations.append(("route", f"N{index}", stops_xy, headway))
        elif kind == "amenity":
            operations.append(("amenity", f"M{index}", draw(POINTS)))
        elif kind == "residence":
            operations.append(("residence", f"H{index}", draw(POINTS)))
        else:
            operations.append((kind,))
    return layers, operations


def _appended(table: gpd.GeoDataFrame, rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if table.empty:
        return rows
    return gpd.GeoDataFrame(pd.concat([table, rows], ignore_index=True), crs=table.crs)


def _apply(
    engine: ParkEngine, operation: tuple, layers: dict[LayerKind, gpd.GeoDataFrame]
) -> ParkEngine:
    """Apply one operation to the engine and, in layer form, to ``layers`` (for the rebuild)."""
    kind = operation[0]
    if kind == "route":
        _, route_id, stops_xy, headway = operation
        routes, stops = _route_layers(
            route_id,
            stops_xy,
            minutes=[1.5 * i for i in range(len(stops_xy))],
            headways={"headway_peak_min": headway, "headway_weekend_min": headway},
        )
        layers[LayerKind.TRANSIT_ROUTES] = _appended(layers[LayerKind.TRANSIT_ROUTES], routes)
        layers[LayerKind.TRANSIT_STOPS] = _appended(layers[LayerKind.TRANSIT_STOPS], stops)
        return engine.with_routes(_as_model_routes(routes, stops), stops=stops)
    if kind == "withdraw":
        if not engine.transit.routes:
            return engine
        route_id = engine.transit.routes[0].route_id
        table = layers[LayerKind.TRANSIT_ROUTES]
        layers[LayerKind.TRANSIT_ROUTES] = table[table["route_id"] != route_id]
        return engine.without_routes([route_id])
    if kind == "amenity":
        _, amenity_id, xy = operation
        added = _amenities([xy], prefix=amenity_id, category="grocery")
        layers[LayerKind.AMENITIES] = _appended(layers[LayerKind.AMENITIES], added)
        return engine.with_amenities(added)
    if kind == "close":
        table = layers[LayerKind.AMENITIES]
        if len(table) < 2:
            return engine
        closed = str(table["id"].iloc[0])
        layers[LayerKind.AMENITIES] = table.iloc[1:].reset_index(drop=True)
        return engine.without_amenities([closed])
    _, residence_id, xy = operation
    added = _residences([xy], prefix=residence_id)
    layers[LayerKind.RESIDENCES] = _appended(layers[LayerKind.RESIDENCES], added)
    return engine.with_residences(added)


@pytest.mark.slow  # ~20 s: 25 random parks, each built twice
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(scenario=_scenarios())
def test_operations_equal_a_full_rebuild(
    scenario: tuple[dict[LayerKind, gpd.GeoDataFrame], list[tuple]],
) -> None:
    layers, operations = scenario
    engine = ParkEngine.build(layers, params=PARAMS)
    digest = _digest(engine)
    current = engine
    modified = dict(layers)
    for operation in operations:
        current = _apply(current, operation, modified)
    assert _digest(engine) == digest  # the baseline never changes
    rebuilt = ParkEngine.build(modified, params=PARAMS).result
    result = current.result
    assert result.amenities["id"].tolist() == rebuilt.amenities["id"].astype(str).tolist()
    assert result.origins["origin_id"].tolist() == rebuilt.origins["origin_id"].tolist()
    assert set(result.minutes) == set(rebuilt.minutes)
    for key, expected in rebuilt.minutes.items():
        np.testing.assert_allclose(result.minutes[key], expected, atol=1e-4, err_msg=str(key))
    for window in result.windows:
        np.testing.assert_array_equal(result.available_mask(window), rebuilt.available_mask(window))
