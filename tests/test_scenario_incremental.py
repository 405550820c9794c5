"""The engine's delta path for scenarios gives the same travel times as a full recomputation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention.access.engine import ParkEngine
from retention.access.indicators import IndicatorParameters
from retention.access.parameters import DEFAULT_TIME_WINDOWS, TravelParameters
from retention.access.travel_times import TravelTimeResult, travel_times_for_park
from retention.data.layers import LayerKind
from retention.scenario.evaluate import EvaluationOptions, evaluate_park, evaluate_scenario
from retention.scenario.incremental import scenario_travel_times
from retention.scenario.layers import apply_scenario
from retention.scenario.model import (
    AddAmenity,
    AddResidence,
    AddRoute,
    ChangeRouteService,
    CloseAmenity,
    MoveWorkers,
    RemoveRoute,
    ResizeAmenity,
    RouteStop,
    Scenario,
    ServiceWindow,
    park_context,
)
from retention.storage.park import ParkData, load_park
from tests.scenario_fixtures import LAT, line_park

PARAMS = TravelParameters()
SHUTTLE = AddRoute(
    "S1",
    "晚班车",
    (RouteStop(113.140, LAT, "west"), RouteStop(113.159, LAT, "east")),
    (ServiceWindow("weekday_evening", 10.0, "18:00", "22:00"),),
)


def _frame(result: TravelTimeResult, mode: str, window: str) -> pd.DataFrame:
    keys = result.origins["origin_set"] + ":" + result.origins["origin_id"].astype(str)
    return pd.DataFrame(
        np.asarray(result.minutes_for(mode, window), dtype=float),
        index=keys.to_numpy(),
        columns=result.amenities["id"].astype(str).to_numpy(),
    )


def _assert_same(park: ParkData, scenario: Scenario, engine: ParkEngine) -> TravelTimeResult:
    applied = apply_scenario(park, scenario, params=PARAMS, windows=DEFAULT_TIME_WINDOWS)
    fast = scenario_travel_times(engine, applied)
    full = travel_times_for_park(applied.park, params=PARAMS, windows=DEFAULT_TIME_WINDOWS)
    for mode, window in full.minutes:
        expected = _frame(full, mode, window)
        got = _frame(fast, mode, window).loc[expected.index, expected.columns]
        np.testing.assert_allclose(
            got.to_numpy(), expected.to_numpy(), atol=1e-4, err_msg=f"{mode} {window}"
        )
    keys = ["origin_set", "origin_id", "weight"]
    pd.testing.assert_frame_equal(
        fast.origins[keys].reset_index(drop=True), full.origins[keys].reset_index(drop=True)
    )
    amenities = fast.amenities.set_index("id").loc[full.amenities["id"]]
    np.testing.assert_allclose(
        amenities["capacity"].astype(float), full.amenities["capacity"].astype(float)
    )
    return fast


@pytest.fixture(scope="module")
def line_engine() -> tuple[ParkData, ParkEngine]:
    park = line_park()
    return park, ParkEngine.build(park.layers, params=PARAMS, windows=DEFAULT_TIME_WINDOWS)


@pytest.mark.parametrize(
    "modifications",
    [
        (SHUTTLE,),
        (AddAmenity("C2", "东诊所", "clinic", 113.160, LAT, 10.0),),
        (CloseAmenity("C1"),),
        (ResizeAmenity("P1", 9.0),),
        (ResizeAmenity("C1", 5.0, "Mo-Fr 08:00-12:00"),),
        (AddResidence("R3", "公寓", "talent_apartment", 113.151, LAT, 40, moves_in=(("R1", 30),)),),
        (MoveWorkers("R2", "R1", 10),),
        (SHUTTLE, CloseAmenity("C1"), AddAmenity("C2", "东诊所", "clinic", 113.160, LAT, 10.0)),
    ],
    ids=["shuttle", "add", "close", "resize", "rehours", "residence", "move", "mixed"],
)
def test_the_delta_path_equals_a_full_recomputation(line_engine, modifications):
    park, engine = line_engine
    _assert_same(park, Scenario("s", modifications), engine)


def test_the_baseline_engine_is_not_changed(line_engine):
    park, engine = line_engine
    before = {key: array.copy() for key, array in engine.result.minutes.items()}
    _assert_same(park, Scenario("s", (SHUTTLE, CloseAmenity("C1"))), engine)
    for key, array in engine.result.minutes.items():
        np.testing.assert_array_equal(array, before[key])
    assert list(engine.result.amenities["id"]) == ["C1", "P1"]


@pytest.mark.slow  # builds the demo park's engine (about 2 s here) and recomputes it four times
def test_route_changes_on_the_demo_park_equal_a_full_recomputation(tmp_path):
    park = load_park("jinshan", data_dir=tmp_path)
    engine = ParkEngine.build(park.layers, params=PARAMS, windows=DEFAULT_TIME_WINDOWS)
    routes = park.layer(LayerKind.TRANSIT_ROUTES)["route_id"].astype(str).tolist()
    homes = park.layer(LayerKind.RESIDENCES).geometry
    shuttle = AddRoute(
        "SX",
        "x",
        (RouteStop(homes.iloc[0].x, homes.iloc[0].y), RouteStop(homes.iloc[5].x, homes.iloc[5].y)),
        (ServiceWindow("weekday_evening", 10.0, "18:00", "22:00"),),
        open_to=("e0001", "e0002"),
    )
    for modifications in (
        (ChangeRouteService(routes[0], (("weekday_evening", 5.0), ("weekday_peak", None))),),
        (RemoveRoute(routes[1]),),
        (shuttle,),
    ):
        _assert_same(park, Scenario("s", modifications), engine)


def test_evaluate_scenario_gives_the_same_kpis_either_way(line_engine):
    park, engine = line_engine
    options = EvaluationOptions(n_draws=50)
    baseline = evaluate_park(
        park,
        params=PARAMS,
        windows=DEFAULT_TIME_WINDOWS,
        indicator_parameters=IndicatorParameters(),
        options=options,
    )
    scenario = Scenario("s", (SHUTTLE, AddAmenity("C2", "东诊所", "clinic", 113.160, LAT, 10.0)))
    full = evaluate_scenario(baseline, scenario, indicator_parameters=IndicatorParameters())
    fast = evaluate_scenario(
        baseline, scenario, indicator_parameters=IndicatorParameters(), engine=engine
    )
    assert fast.people_reached == full.people_reached
    for name in ("living_circle", "nearest"):
        a = getattr(fast.evaluation.indicators, name)
        b = getattr(full.evaluation.indicators, name)
        np.testing.assert_allclose(a.to_numpy(dtype=float), b.to_numpy(dtype=float), atol=1e-4)
    assert park_context(park.layers, window_keys=["weekday_evening"]).contains(113.15, LAT)
