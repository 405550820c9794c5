"""Tests for applying and evaluating scenarios on the tiny line park (full recomputation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention.access.indicators import IndicatorParameters
from retention.access.parameters import DEFAULT_TIME_WINDOWS, TravelParameters
from retention.data.layers import LayerKind
from retention.model.intent import (
    Calibration,
    CrossValidation,
    FittedRetentionModel,
    NumericTerm,
    RetentionModelSpec,
)
from retention.scenario.compare import (
    CAUSAL_CAUTION,
    kpi_table,
    weighted_quantile,
    winners_and_losers,
)
from retention.scenario.evaluate import (
    EvaluationOptions,
    RetentionBasis,
    evaluate_park,
    evaluate_scenario,
    nearest_by_window,
    split_movers,
)
from retention.scenario.layers import apply_scenario
from retention.scenario.model import (
    AddAmenity,
    AddResidence,
    AddRoute,
    CloseAmenity,
    MoveWorkers,
    RouteStop,
    Scenario,
    ServiceWindow,
)
from retention.scenario.shuttle import ShuttleParameters
from retention.survey.privacy import PrivacyParameters
from tests.scenario_fixtures import LAT, line_park

WINDOW = "weekday_evening"
SHUTTLE = AddRoute(
    "S1",
    "晚班车",
    (RouteStop(113.140, LAT, "west"), RouteStop(113.159, LAT, "east")),
    (ServiceWindow(WINDOW, 10.0, "18:00", "22:00"),),
    two_way=True,
)


def _baseline(park=None, params=None):
    return evaluate_park(
        park or line_park(),
        params=params or TravelParameters(),
        windows=DEFAULT_TIME_WINDOWS,
        indicator_parameters=IndicatorParameters(),
        options=EvaluationOptions(n_draws=50),
    )


def _people_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table.loc[[key for key in table.index if not key.startswith("h3:")]]


def test_a_shuttle_changes_exactly_the_origins_it_should_by_the_right_minutes():
    baseline = _baseline()
    result = evaluate_scenario(
        baseline,
        Scenario("s", (SHUTTLE,)),
        indicator_parameters=IndicatorParameters(),
        shuttle=ShuttleParameters(dwell_minutes_per_stop=0.0),
    )
    before = _people_rows(nearest_by_window(baseline, WINDOW))
    after = _people_rows(nearest_by_window(result.evaluation, WINDOW))
    changed = before.index[(np.abs(after - before) > 1e-4).any(axis=1)].tolist()
    # Two-way: R1 rides east to the park, R2 rides west to the clinic; E1 is 16 walking minutes
    # from either stop (more than the 10 allowed) and keeps its minutes.
    assert changed == ["residence:R1", "residence:R2"]
    # Walk 19 x 98.4 m; ride the same metres at 250 m/min after 5 min wait + 2 min boarding.
    walk = float(before.loc["residence:R1", "park"])
    metres = walk * TravelParameters().walk_speed_m_per_min
    assert float(after.loc["residence:R1", "park"]) == pytest.approx(
        5.0 + 2.0 + metres / 250.0, abs=0.05
    )
    assert float(after.loc["residence:R1", "clinic"]) == float(before.loc["residence:R1", "clinic"])
    assert float(after.loc["residence:R2", "park"]) == float(before.loc["residence:R2", "park"])
    assert float(after.loc["residence:R2", "clinic"]) < float(before.loc["residence:R2", "clinic"])
    # Run times come from the same road metres the operating cost uses.
    assert result.applied.geometries["S1"].length_metres == pytest.approx(metres, rel=1e-3)
    assert result.operations["S1"].run_minutes == pytest.approx(metres / 250.0, rel=1e-3)


def test_a_one_way_shuttle_serves_only_its_direction():
    baseline = _baseline()
    one_way = AddRoute(
        SHUTTLE.route_id, SHUTTLE.name, SHUTTLE.stops, SHUTTLE.service, two_way=False
    )
    result = evaluate_scenario(
        baseline, Scenario("s", (one_way,)), indicator_parameters=IndicatorParameters()
    )
    before = _people_rows(nearest_by_window(baseline, WINDOW))
    after = _people_rows(nearest_by_window(result.evaluation, WINDOW))
    changed = before.index[(np.abs(after - before) > 1e-4).any(axis=1)].tolist()
    assert changed == ["residence:R1"]
    # The empty run back is about the same road length as the trip.
    geometry = result.applied.geometries["S1"]
    assert geometry.deadhead_metres == pytest.approx(geometry.length_metres, rel=1e-6)


def test_the_shuttle_counts_only_in_its_window():
    baseline = _baseline()
    result = evaluate_scenario(
        baseline, Scenario("s", (SHUTTLE,)), indicator_parameters=IndicatorParameters()
    )
    before = nearest_by_window(baseline, "weekday_peak")
    after = nearest_by_window(result.evaluation, "weekday_peak")
    pd.testing.assert_frame_equal(before, after.loc[before.index])


def test_closing_the_only_clinic_raises_exactly_the_origins_that_could_reach_it():
    params = TravelParameters(max_minutes=20.0)
    baseline = _baseline(params=params)
    result = evaluate_scenario(
        baseline, Scenario("s", (CloseAmenity("C1"),)), indicator_parameters=IndicatorParameters()
    )
    before = nearest_by_window(baseline, WINDOW)
    after = nearest_by_window(result.evaluation, WINDOW)
    raised = before.index[(after["clinic"] > before["clinic"]).to_numpy()]
    reachable = before.index[np.isfinite(before["clinic"].to_numpy())]
    assert list(raised) == list(reachable)
    assert {"residence:R1", "enterprise:E1"} <= set(raised)
    assert "residence:R2" not in raised  # 31 walking minutes: beyond 20 already
    assert np.isinf(after["clinic"]).all()
    pd.testing.assert_series_equal(before["park"], after["park"])


def test_the_baseline_is_never_modified():
    park = line_park()
    snapshot = {kind: frame.copy() for kind, frame in park.layers.items()}
    scenario = Scenario(
        "s",
        (
            SHUTTLE,
            CloseAmenity("C1"),
            AddAmenity("C2", "新诊所", "clinic", 113.15, LAT, 10.0),
            AddResidence(
                "R3", "公寓", "talent_apartment", 113.151, LAT, 40, moves_in=(("R1", 30),)
            ),
            MoveWorkers("R2", "R3", 10),
        ),
    )
    applied = apply_scenario(
        park, scenario, params=TravelParameters(), windows=DEFAULT_TIME_WINDOWS
    )
    for kind, frame in park.layers.items():
        pd.testing.assert_frame_equal(frame, snapshot[kind])
    assert applied.park.data_version != park.data_version
    residents = applied.park.layer(LayerKind.RESIDENCES).set_index("id")["residents"]
    assert residents.to_dict() == {"R1": 70, "R2": 40, "R3": 40}
    assert "C1" not in set(applied.park.layer(LayerKind.AMENITIES)["id"])
    assert applied.moves == (("R1", "R3", 30), ("R2", "R3", 10))


def _fixed_model() -> FittedRetentionModel:
    """Intent depends on minutes to the nearest clinic only: logit = -1 + 0.1 x minutes."""
    spec = RetentionModelSpec(
        numeric=(NumericTerm("walk_weekday_evening_minutes_clinic"),),
        weight="weight",
        cov_type="HC1",
    )
    return FittedRetentionModel(
        spec=spec,
        coefficients=np.array([-1.0, 0.1]),
        covariance=np.zeros((2, 2)),
        n_rows=0,
        n_used=0,
        n_events=0,
        missing_by_column=(),
        n_clusters=0,
        df_inference=None,
        park_means=np.zeros(2),
        cross_validation=CrossValidation(np.nan, np.nan, np.nan, (), 0, 0, 0, 0.95),
        calibration=Calibration(pd.DataFrame(), np.nan, np.nan),
    )


def _basis() -> RetentionBasis:
    features = pd.DataFrame(
        {
            "respondent_id": [f"r{i}" for i in range(6)],
            "enterprise_id": ["E1"] * 6,
            "residence_id": ["R1", "R1", "R1", "R2", "R2", "R2"],
            "age_band": ["post90"] * 6,
            "weight": [1.0] * 6,
        }
    )
    return RetentionBasis(_fixed_model(), features, {"E1": 200.0}, ("clinic",))


def test_leavers_follow_the_model_on_recomputed_access():
    from scipy.special import expit

    from retention.model.leavers import ConversionParameters

    baseline = _baseline()
    scenario = Scenario("s", (AddAmenity("C2", "东诊所", "clinic", 113.160, LAT, 10.0),))
    result = evaluate_scenario(
        baseline, scenario, indicator_parameters=IndicatorParameters(), retention=_basis()
    )
    before = nearest_by_window(baseline, WINDOW)["clinic"]
    after = nearest_by_window(result.evaluation, WINDOW)["clinic"]
    # R1 keeps its clinic; R2 now has one at its door.
    assert after["residence:R1"] == before["residence:R1"]
    assert after["residence:R2"] < 0.5
    p_before = (
        expit(-1 + 0.1 * before["residence:R1"]) + expit(-1 + 0.1 * before["residence:R2"])
    ) / 2
    p_after = (
        expit(-1 + 0.1 * after["residence:R1"]) + expit(-1 + 0.1 * after["residence:R2"])
    ) / 2
    conversion = ConversionParameters()
    slope = conversion.p_leave_given_intent - conversion.p_leave_given_no_intent
    expected = 200 * (p_after - p_before) * slope
    assert result.leavers is not None
    assert float(result.leavers.total["delta_leavers"]) == pytest.approx(expected, rel=1e-6)
    table = kpi_table(baseline, [("c2", result)])
    assert table.loc[("leavers_avoided", ""), "c2"] == pytest.approx(-expected, rel=1e-6)
    assert (
        table.loc[("residents_in_circle", "clinic"), "c2"]
        >= table.loc[("residents_in_circle", "clinic"), "baseline"]
    )
    assert "not a proven cause" in CAUSAL_CAUTION


def test_costs_and_money_kpis():
    baseline = _baseline()
    scenario = Scenario(
        "s",
        (
            AddAmenity(
                "C2",
                "东诊所",
                "clinic",
                113.160,
                LAT,
                10.0,
                capital_cost_cny=1_000_000.0,
                annual_cost_cny_per_year=50_000.0,
            ),
        ),
    )
    shuttle = ShuttleParameters(discount_rate=0.0, asset_life_years=20)
    result = evaluate_scenario(
        baseline,
        scenario,
        indicator_parameters=IndicatorParameters(),
        retention=_basis(),
        shuttle=shuttle,
    )
    assert result.annual_cost_cny == pytest.approx(50_000 + 50_000)
    table = kpi_table(baseline, [("c2", result)])
    avoided = table.loc[("leavers_avoided", ""), "c2"]
    assert avoided > 0
    assert table.loc[("benefit_cost_ratio", ""), "c2"] == pytest.approx(avoided * 10_000 / 100_000)
    assert table.loc[("cost_per_leaver_avoided_cny", ""), "c2"] == pytest.approx(100_000 / avoided)
    net = avoided * 10_000 - 50_000
    expected_payback = 1_000_000 / net if net > 0 else np.nan
    assert table.loc[("payback_years", ""), "c2"] == pytest.approx(expected_payback, nan_ok=True)
    # R2 (50 residents) gains a clinic; the people reached include them.
    assert result.people_reached >= 50


def test_moving_workers_splits_respondents_and_keeps_rows_aligned():
    before = pd.DataFrame(
        {
            "residence_id": ["R1", "R2"],
            "enterprise_id": ["E1", "E1"],
            "x": [10.0, 20.0],
            "weight": [1.0, 1.0],
        }
    )
    after = before.copy()
    access = pd.DataFrame({"residence_id": ["R1", "R2", "R3"], "x": [10.0, 20.0, 1.0]})
    b, a = split_movers(
        before, after, access, (("R1", "R3", 25),), residents={"R1": 100.0}, weight="weight"
    )
    assert len(b) == len(a) == 3
    assert b["weight"].tolist() == [0.75, 1.0, 0.25]
    assert a["weight"].tolist() == [0.75, 1.0, 0.25]
    assert b["x"].tolist() == [10.0, 20.0, 10.0]
    assert a["x"].tolist() == [10.0, 20.0, 1.0]
    assert a["residence_id"].tolist() == ["R1", "R2", "R3"]


def test_winners_and_losers_keep_small_cohorts_out():
    baseline = _baseline()
    result = evaluate_scenario(
        baseline,
        Scenario("s", (AddAmenity("C2", "东诊所", "clinic", 113.160, LAT, 10.0),)),
        indicator_parameters=IndicatorParameters(),
        retention=_basis(),
    )
    table = winners_and_losers(result, retention=_basis())
    residences = table[table["group_kind"] == "residence"].set_index("group_id")
    assert residences.loc["R2", "minutes_saved"] > 0
    assert residences.loc["R1", "minutes_saved"] == 0
    cohorts = table[table["group_kind"] == "cohort"]
    assert cohorts["group_id"].tolist() == ["post90"]  # 6 respondents >= k = 5
    assert float(cohorts["intent_change"].iloc[0]) < 0
    strict = winners_and_losers(result, retention=_basis(), privacy=PrivacyParameters(7))
    assert "cohort" not in set(strict["group_kind"])  # 6 < k = 7: left out


def test_weighted_quantile_by_hand():
    values = np.array([1.0, 2.0, 3.0, np.inf])
    assert weighted_quantile(values, np.array([1.0, 1.0, 1.0, 1.0]), 0.5) == 2.0
    assert weighted_quantile(values, np.array([1.0, 1.0, 1.0, 1.0]), 0.9) == np.inf
    assert weighted_quantile(values, np.array([8.0, 1.0, 1.0, 0.0]), 0.8) == 1.0
