"""Indicators updated after an engine delta equal indicators computed in full on the result.

``retention.access.indicator_updates.update_indicators`` recomputes only the origins, categories
and catchments a change touches. The oracle is ``indicators_for_window`` on the changed engine's
result: nearest minutes, opportunities, capacity within the budget, living circle and
compliance must be identical; E2SFCA supply and the gap index equal up to float summation
order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retention.access import indicator_updates
from retention.access.engine import ParkEngine
from retention.access.indicator_updates import update_indicators
from retention.access.indicators import IndicatorParameters, ParkIndicators, indicators_for_window
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

POINTS = st.tuples(st.floats(0, 1000.0), st.floats(0, 1000.0))
CATEGORIES = ("clinic", "canteen", "sports_court")
HOURS = ("24/7", "Mo-Fr 08:00-12:00", "Mo-Su 17:00-23:00")
EXACT = ("nearest", "opportunities", "capacity_within", "living_circle", "compliance")


@st.composite
def _amenity_rows(draw: st.DrawFn, prefix: str, *, min_size: int, max_size: int):
    xy = draw(st.lists(POINTS, min_size=min_size, max_size=max_size))
    frame = _amenities(xy, prefix=prefix)
    n = len(frame)
    frame["category"] = draw(st.lists(st.sampled_from(CATEGORIES), min_size=n, max_size=n))
    frame["capacity"] = draw(st.lists(st.sampled_from([0.0, 5.0, 40.0]), min_size=n, max_size=n))
    frame["opening_hours"] = draw(st.lists(st.sampled_from(HOURS), min_size=n, max_size=n))
    frame["open_to"] = draw(st.lists(st.sampled_from([None, "", "E1"]), min_size=n, max_size=n))
    return frame


@st.composite
def _cases(draw: st.DrawFn) -> tuple:
    homes = draw(st.lists(POINTS, min_size=2, max_size=6))
    residences = _residences(homes)
    residences["enterprise_id"] = draw(
        st.lists(st.sampled_from([None, "E1"]), min_size=len(homes), max_size=len(homes))
    )
    layers = {
        LayerKind.ROADS: _grid_roads([]),
        LayerKind.RESIDENCES: residences,
        LayerKind.AMENITIES: draw(_amenity_rows("A", min_size=2, max_size=8)),
        **_empty_transit(),
    }
    stops_xy = draw(st.lists(POINTS, min_size=2, max_size=3))
    routes, stops = _route_layers(
        "B0",
        stops_xy,
        minutes=[2.0 * i for i in range(len(stops_xy))],
        headways={"headway_peak_min": 6.0, "headway_evening_min": 10.0},
    )
    layers[LayerKind.TRANSIT_ROUTES], layers[LayerKind.TRANSIT_STOPS] = routes, stops
    operations = []
    for index in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(["amenity", "close", "resize", "residence", "route", "headway"])
        )
        if kind == "amenity":
            operations.append(
                ("amenity", draw(_amenity_rows(f"M{index}-", min_size=1, max_size=2)))
            )
        elif kind == "close":
            operations.append(("close", draw(st.integers(0, 20))))
        elif kind == "resize":
            operations.append(
                ("resize", draw(st.integers(0, 20)), draw(st.sampled_from([0.0, 9.0])))
            )
        elif kind == "residence":
            operations.append(("residence", f"H{index}-", draw(POINTS)))
        elif kind == "route":
            operations.append(
                ("route", f"N{index}", draw(st.lists(POINTS, min_size=2, max_size=3)))
            )
        else:
            operations.append(("headway", draw(st.sampled_from([3.0, 30.0]))))
    mode = draw(st.sampled_from(["walk", "transit"]))
    window = draw(st.sampled_from(["weekday_evening", "weekday_peak"]))
    demand = draw(st.sampled_from(["residence", "both"]))
    return layers, operations, mode, window, demand


def _apply(engine: ParkEngine, operation: tuple) -> ParkEngine:
    kind = operation[0]
    ids = engine.result.amenities["id"].astype(str).tolist()
    if kind == "amenity":
        return engine.with_amenities(operation[1])
    if kind == "close":
        return engine.without_amenities([ids[operation[1] % len(ids)]]) if len(ids) > 1 else engine
    if kind == "resize":
        return engine.with_capacities({ids[operation[1] % len(ids)]: operation[2]})
    if kind == "residence":
        return engine.with_residences(_residences([operation[2]], prefix=operation[1]))
    if kind == "route":
        routes, stops = _route_layers(
            operation[1],
            operation[2],
            minutes=[1.5 * i for i in range(len(operation[2]))],
            headways={"headway_evening_min": 5.0, "headway_peak_min": 5.0},
        )
        return engine.with_routes(_as_model_routes(routes, stops), stops=stops)
    route = engine.transit.routes[0]
    return engine.with_routes(
        [route.__class__(**{**route.__dict__, "headways": (("weekday_evening", operation[1]),)})]
    )


def assert_same_indicators(got: ParkIndicators, expected: ParkIndicators) -> None:
    for name in EXACT:
        pd.testing.assert_frame_equal(
            getattr(got, name), getattr(expected, name), check_exact=True, obj=name
        )
    for name in ("supply_per_1000", "gap"):
        pd.testing.assert_frame_equal(
            getattr(got, name), getattr(expected, name), rtol=1e-9, atol=1e-9, obj=name
        )


@pytest.mark.slow  # ~20 s: 40 random parks, each built and changed
@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    # The only fixture is monkeypatch setting one constant, the same for every example.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=_cases())
def test_updated_indicators_equal_a_full_recomputation(case, monkeypatch) -> None:
    # Always update (a small park often changes in most rows, where the update gives up).
    monkeypatch.setattr(indicator_updates, "FULL_SHARE", 1.0)
    layers, operations, mode, window, demand = case
    parameters = IndicatorParameters(demand=demand)
    engine = ParkEngine.build(layers, params=PARAMS)
    baseline = indicators_for_window(engine.result, mode=mode, window=window, parameters=parameters)
    changed = engine
    for operation in operations:
        changed = _apply(changed, operation)
    got = update_indicators(baseline, engine.result, changed.result, mode=mode, window=window)
    expected = indicators_for_window(
        changed.result, mode=mode, window=window, parameters=parameters
    )
    assert_same_indicators(got, expected)
    # And a second change from the updated indicators.
    again = _apply(changed, ("resize", 0, 3.0))
    assert_same_indicators(
        update_indicators(got, changed.result, again.result, mode=mode, window=window),
        indicators_for_window(again.result, mode=mode, window=window, parameters=parameters),
    )


def test_a_new_clinic_reaches_only_the_residences_it_should() -> None:
    """Hand-worked on a street at 60 m/min: D1 at 0 m, D2 at 500 m, D3 at 1000 m (100, 101 and
    102 residents); a clinic (capacity 10) is added at 2,400 m. Nearest clinic: 40, 31.7 and
    23.3 minutes. E2SFCA with the step decay (1 / 0.68 / 0.22 up to 10 / 20 / 30 min): only D3
    is in the catchment, weight 0.22, so R = 10 / (0.22 x 102) and D3 gets 0.22 x R = 10 / 102
    per person (98.04 per 1,000); D1 and D2 get nothing."""
    from tests.test_engine import _street

    layers = {
        LayerKind.ROADS: _street([(x, 0.0) for x in range(0, 3001, 100)]),
        LayerKind.RESIDENCES: _residences([(0, 0), (500, 0), (1000, 0)]),
        LayerKind.AMENITIES: _amenities([(3000, 0)]),
        **_empty_transit(),
    }
    engine = ParkEngine.build(layers, params=PARAMS)
    baseline = indicators_for_window(engine.result, mode="walk", window="weekday_evening")
    clinic = _amenities([(2400, 0)], prefix="C", category="clinic")
    changed = engine.with_amenities(clinic)
    got = update_indicators(
        baseline, engine.result, changed.result, mode="walk", window="weekday_evening"
    )
    homes = got.origins["origin_set"] == "residence"
    rows = dict(zip(got.origins.loc[homes, "origin_id"], np.flatnonzero(homes), strict=True))
    nearest = got.nearest["clinic"].to_numpy()
    assert nearest[rows["D1"]] == pytest.approx(40.0, abs=0.01)
    assert nearest[rows["D2"]] == pytest.approx(1900 / 60, abs=0.01)
    assert nearest[rows["D3"]] == pytest.approx(1400 / 60, abs=0.01)
    supply = got.supply_per_1000["clinic"].to_numpy()
    assert supply[rows["D3"]] == pytest.approx(1000 * 10.0 / 102, rel=1e-9)
    assert supply[rows["D1"]] == supply[rows["D2"]] == 0.0
    assert_same_indicators(
        got, indicators_for_window(changed.result, mode="walk", window="weekday_evening")
    )
