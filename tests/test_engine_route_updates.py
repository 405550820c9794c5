"""Route changes update transit minutes from the engine's kept legs: the same bits as in full.

``ParkEngine.with_routes`` / ``without_routes`` recompute a changed window's transit minutes
from the legs the engine kept (boarding stop -> stop, boarding stop -> destination): only
boarding stops whose rides changed are searched again, and origins that could board where a
ride got slower are recomputed from walking. The oracle is the same operation on an engine
whose kept legs were dropped (every changed window recomputed in full), compared bit for bit,
and a rebuild of the park with the changed transit model.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from retention.access.engine import ParkEngine
from retention.access.parameters import DEFAULT_TIME_WINDOWS
from retention.data.layers import LayerKind
from tests.test_engine import (
    PARAMS,
    _amenities,
    _as_model_routes,
    _empty_transit,
    _grid_roads,
    _residences,
    _route_layers,
)

GRID_METRES = 1000.0
POINTS = st.tuples(st.floats(0, GRID_METRES), st.floats(0, GRID_METRES))
WINDOW_KEYS = [window.key for window in DEFAULT_TIME_WINDOWS]


def _without_kept_legs(engine: ParkEngine) -> ParkEngine:
    """The same engine with no kept transit legs: its next route change recomputes in full."""
    legs = dataclasses.replace(engine._legs, transit_legs=MappingProxyType({}))
    return engine._replace(legs=legs)


def _park(homes, shops, owned: list[bool]) -> dict[LayerKind, gpd.GeoDataFrame]:
    residences = _residences(homes)
    residences["enterprise_id"] = ["E1" if mine else None for mine in owned[: len(homes)]]
    amenities = _amenities(shops)
    return {
        LayerKind.ROADS: _grid_roads([]),
        LayerKind.RESIDENCES: residences,
        LayerKind.AMENITIES: amenities,
        **_empty_transit(),
    }


@st.composite
def _cases(draw: st.DrawFn) -> tuple:
    homes = draw(st.lists(POINTS, min_size=2, max_size=6))
    shops = draw(st.lists(POINTS, min_size=2, max_size=6))
    owned = draw(st.lists(st.booleans(), min_size=6, max_size=6))
    base = [
        ("B0", draw(st.lists(POINTS, min_size=2, max_size=4)), ""),
        ("E0", draw(st.lists(POINTS, min_size=2, max_size=3)), "E1"),
    ]
    operations = []
    for index in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["headway", "headway", "route", "withdraw"]))
        if kind == "headway":
            operations.append(
                (
                    "headway",
                    draw(st.sampled_from(["B0", "E0"])),
                    draw(st.sampled_from(WINDOW_KEYS)),
                    draw(st.sampled_from([2.0, 5.0, 15.0, 40.0, None])),
                )
            )
        elif kind == "route":
            operations.append(
                (
                    "route",
                    f"N{index}",
                    draw(st.lists(POINTS, min_size=2, max_size=3)),
                    draw(st.sampled_from(["", "E1"])),
                )
            )
        else:
            operations.append(("withdraw", draw(st.sampled_from(["B0", "E0"]))))
    return homes, shops, owned, base, operations


def _route(route_id: str, stops_xy, enterprise_id: str) -> tuple:
    routes, stops = _route_layers(
        route_id,
        stops_xy,
        minutes=[1.5 * i for i in range(len(stops_xy))],
        headways={"headway_peak_min": 6.0, "headway_evening_min": 12.0},
        enterprise_id=enterprise_id,
    )
    return _as_model_routes(routes, stops), stops


def _apply(engine: ParkEngine, operation: tuple) -> ParkEngine:
    known = {route.route_id: route for route in engine.transit.routes}
    if operation[0] == "headway":
        _, route_id, window, minutes = operation
        if route_id not in known:
            return engine
        route = known[route_id]
        headways = dict(route.headways)
        headways.pop(window, None)
        if minutes is not None:
            headways[window] = minutes
        return engine.with_routes([dataclasses.replace(route, headways=tuple(headways.items()))])
    if operation[0] == "withdraw":
        return engine.without_routes([operation[1]]) if operation[1] in known else engine
    _, route_id, stops_xy, enterprise_id = operation
    routes, stops = _route(route_id, stops_xy, enterprise_id)
    return engine.with_routes(routes, stops=stops)


@pytest.mark.slow  # ~15 s: 30 random parks, each route change done twice
@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(case=_cases())
# An enterprise's only shuttle withdrawn: its people ride public routes again, from walking.
@example(
    case=(
        [(0.0, 0.0), (0.0, 0.0)],
        [(0.0, 0.0), (660.0, 0.0)],
        [False, True, False, False, False, False],
        [("B0", [(0.0, 0.0), (0.0, 0.0)], ""), ("E0", [(0.0, 0.0), (501.0, 0.0)], "E1")],
        [("withdraw", "E0")],
    )
)
def test_route_changes_from_kept_legs_are_the_bits_of_a_full_recomputation(case) -> None:
    homes, shops, owned, base, operations = case
    engine = ParkEngine.build(_park(homes, shops, owned), params=PARAMS)
    for route_id, stops_xy, enterprise_id in base:
        routes, stops = _route(route_id, stops_xy, enterprise_id)
        engine = engine.with_routes(routes, stops=stops)
    fast = full = engine
    for operation in operations:
        fast = _apply(fast, operation)
        full = _apply(_without_kept_legs(full), operation)
        for key, expected in full.result.minutes.items():
            np.testing.assert_array_equal(fast.result.minutes[key], expected, err_msg=str(key))
    rebuilt = ParkEngine.build(fast.layers, params=PARAMS, transit=fast.transit).result
    for key, expected in rebuilt.minutes.items():
        np.testing.assert_allclose(fast.result.minutes[key], expected, atol=1e-4, err_msg=str(key))


def test_a_faster_bus_lowers_minutes_without_a_full_search() -> None:
    """Hand-worked: halving the peak headway of the only bus (10 -> 5 min) takes 2.5 minutes off
    the wait of every trip that rides it, and the update searches only its boarding stops."""
    park = _park([(0.0, 0.0)], [(1000.0, 1000.0)], [False])
    routes, stops = _route_layers(
        "B0",
        [(0.0, 0.0), (1000.0, 1000.0)],
        minutes=[0.0, 3.0],
        headways={"headway_peak_min": 10.0},
    )
    park[LayerKind.TRANSIT_ROUTES], park[LayerKind.TRANSIT_STOPS] = routes, stops
    engine = ParkEngine.build(park, params=PARAMS)
    route = engine.transit.routes[0]
    faster = engine.with_routes([dataclasses.replace(route, headways=(("weekday_peak", 5.0),))])
    home = int(np.flatnonzero(engine.result.origins["origin_id"] == "D1")[0])
    before = float(engine.result.minutes[("transit", "weekday_peak")][home, 0])
    after = float(faster.result.minutes[("transit", "weekday_peak")][home, 0])
    # Board: wait 10 / 2 + 2 penalty = 7 min, ride 3 min: 10 min; with 5-min headway 7.5 min.
    assert before == pytest.approx(10.0, abs=1e-3)
    assert after == pytest.approx(7.5, abs=1e-3)
    # Windows where the bus does not run keep their arrays (no search at all).
    for window in ("weekday_evening", "weekend_day", "night_shift_end"):
        key = ("transit", window)
        assert faster.result.minutes[key] is engine.result.minutes[key]


def test_an_evening_shuttle_with_new_stops_leaves_the_other_windows_arrays_as_they_were() -> None:
    """An evening-only shuttle adds stops; in the windows it does not run, no boarding stop's
    minutes move, so those windows keep their arrays (the same objects, not copies) while the
    evening gains the shuttle — and the evening equals a full recomputation bit for bit."""
    park = _park([(0.0, 0.0), (900.0, 0.0)], [(1000.0, 1000.0), (0.0, 900.0)], [False, True])
    engine = ParkEngine.build(park, params=PARAMS)
    for route_id, stops_xy, enterprise_id in (
        ("B0", [(0.0, 0.0), (500.0, 500.0)], ""),
        ("E0", [(900.0, 0.0), (0.0, 900.0)], "E1"),
    ):
        routes, stops = _route(route_id, stops_xy, enterprise_id)
        engine = engine.with_routes(routes, stops=stops)
    routes, stops = _route_layers(
        "N1",
        [(0.0, 0.0), (1000.0, 1000.0)],
        minutes=[0.0, 2.0],
        headways={"headway_evening_min": 4.0},
    )
    shuttle = engine.with_routes(_as_model_routes(routes, stops), stops=stops)
    full = _without_kept_legs(engine).with_routes(_as_model_routes(routes, stops), stops=stops)
    for window in ("weekday_peak", "weekend_day", "night_shift_end"):
        key = ("transit", window)
        assert shuttle.result.minutes[key] is engine.result.minutes[key], window
        np.testing.assert_array_equal(shuttle.result.minutes[key], full.result.minutes[key])
    evening = ("transit", "weekday_evening")
    home = int(np.flatnonzero(engine.result.origins["origin_id"] == "D1")[0])
    # Board: wait 4 / 2 + 2 penalty = 4 min, ride 2 min: 6 min to the shop at the last stop.
    assert float(shuttle.result.minutes[evening][home, 0]) == pytest.approx(6.0, abs=1e-3)
    assert float(engine.result.minutes[evening][home, 0]) > 6.5
    np.testing.assert_array_equal(shuttle.result.minutes[evening], full.result.minutes[evening])
