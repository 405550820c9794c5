"""Tests for retention.model.leavers: expected leavers, intervals, cost and scenario deltas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from geodata.synthetic_respondents import demo_coefficients, simulate_respondents
from retention.errors import ParameterError, ValidationError
from retention.model.intent import (
    Calibration,
    CrossValidation,
    FittedRetentionModel,
    NumericTerm,
    RetentionModelSpec,
    default_spec,
    fit_intent_model,
    merge_access,
)
from retention.model.leavers import (
    ConversionParameters,
    ReplacementCost,
    expected_leavers,
    leavers_by_enterprise,
    leavers_by_source,
    scenario_delta,
)


def _fixed_model(
    coefficients: list[float], covariance: np.ndarray | None = None
) -> FittedRetentionModel:
    """A model with hand-set coefficients on one numeric term ``x`` (no fitting)."""
    spec = RetentionModelSpec(numeric=(NumericTerm("x"),), weight="weight", cov_type="HC1")
    beta = np.array(coefficients, dtype=float)
    return FittedRetentionModel(
        spec=spec,
        coefficients=beta,
        covariance=np.zeros((2, 2)) if covariance is None else covariance,
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


def _frame(x: list[float], enterprises: list[str], weights: list[float] | None = None):
    return pd.DataFrame(
        {
            "enterprise_id": enterprises,
            "x": x,
            "weight": weights if weights is not None else [1.0] * len(x),
        }
    )


# --- arithmetic --------------------------------------------------------------------------------


def test_expected_leavers_known_answer() -> None:
    # 100 × (0.3 × 0.45 + 0.7 × 0.20) = 13.5 + 14.0
    assert expected_leavers(100, 0.3) == pytest.approx(27.5)
    assert expected_leavers(100, 0.0) == pytest.approx(20.0)
    assert expected_leavers(100, 1.0) == pytest.approx(45.0)
    np.testing.assert_allclose(expected_leavers(np.array([100, 200]), 0.3), [27.5, 55.0])
    assert expected_leavers(
        100, 0.3, p_leave_given_intent=0.30, p_leave_given_no_intent=0.09
    ) == pytest.approx(15.3)


def test_weighted_share_leavers_cost_and_ranges_known_answer() -> None:
    # p = 0.2 at x = 0 and 0.6 at x = 1; weights 3 and 1: share = (3·0.2 + 0.6) / 4 = 0.3.
    b0 = special.logit(0.2)
    model = _fixed_model([b0, special.logit(0.6) - b0])
    frame = _frame([0.0, 1.0, 0.0], ["A", "A", "B"], [3.0, 1.0, 1.0])
    result = leavers_by_enterprise(model, frame, {"A": 100, "B": 50, "C": 10}, n_draws=50)
    table = result.by_enterprise.set_index("enterprise_id")
    a = table.loc["A"]
    assert a["intent_share"] == pytest.approx(0.3)
    assert a["leavers_per_year"] == pytest.approx(27.5)
    assert a["cost_cny"] == pytest.approx(275_000)
    assert (a["cost_range_low_cny"], a["cost_range_high_cny"]) == pytest.approx((137_500, 550_000))
    # Conversion sensitivity: 100 × (0.3 × 0.30 + 0.7 × 0.09) and 100 × (0.3 × 0.57 + 0.7 × 0.23).
    assert a["leavers_conversion_low"] == pytest.approx(15.3)
    assert a["leavers_conversion_high"] == pytest.approx(33.2)
    b = table.loc["B"]
    assert b["intent_share"] == pytest.approx(0.2)
    assert b["leavers_per_year"] == pytest.approx(50 * 0.25)
    c = table.loc["C"]
    assert c["n_used"] == 0 and np.isnan(c["leavers_per_year"])
    assert result.total["leavers_per_year"] == pytest.approx(27.5 + 12.5)
    assert result.total["headcount"] == 150
    assert result.total["intent_share"] == pytest.approx((100 * 0.3 + 50 * 0.2) / 150)


def test_no_uncertainty_gives_a_point_interval() -> None:
    model = _fixed_model([0.0, 0.0])  # everyone p = 0.5
    frame = _frame([1.0, 2.0, 3.0], ["A", "A", "A"])
    result = leavers_by_enterprise(model, frame, {"A": 200}, n_draws=20)
    row = result.by_enterprise.iloc[0]
    assert row["leavers_per_year"] == pytest.approx(200 * 0.325)
    assert row["leavers_low"] == pytest.approx(row["leavers_high"]) == pytest.approx(65.0)


# --- intervals on a fitted model ------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated():
    frame = simulate_respondents(3000, demo_coefficients(), seed=7, n_enterprises=8)
    model = fit_intent_model(frame, default_spec(weight="weight"), cv_folds=2, n_bootstrap=0)
    heads = {f"E{i:02d}": 500 + 100 * i for i in range(8)}
    return frame, model, heads


def test_interval_brackets_point_and_is_seeded(simulated) -> None:
    frame, model, heads = simulated
    a = leavers_by_enterprise(model, frame, heads, n_draws=300, seed=1)
    b = leavers_by_enterprise(model, frame, heads, n_draws=300, seed=1)
    pd.testing.assert_frame_equal(a.by_enterprise, b.by_enterprise)
    t = a.by_enterprise
    assert (t["leavers_low"] < t["leavers_per_year"]).all()
    assert (t["leavers_per_year"] < t["leavers_high"]).all()
    assert (t["leavers_conversion_low"] < t["leavers_per_year"]).all()
    assert a.total["leavers_low"] < a.total["leavers_per_year"] < a.total["leavers_high"]
    # The park interval comes from summed draws: narrower than summing enterprise intervals.
    assert (
        a.total["leavers_high"] - a.total["leavers_low"]
        < (t["leavers_high"] - t["leavers_low"]).sum()
    )
    # Adding respondent resampling can only widen the interval (same coefficient draws).
    c = leavers_by_enterprise(model, frame, heads, n_draws=300, seed=1, resample_respondents=False)
    width = t["leavers_high"] - t["leavers_low"]
    narrower = c.by_enterprise["leavers_high"] - c.by_enterprise["leavers_low"]
    assert (narrower < width).mean() >= 0.75


def test_predicted_share_tracks_observed_share(simulated) -> None:
    frame, model, heads = simulated
    result = leavers_by_enterprise(model, frame, heads, n_draws=100).by_enterprise
    _, complete = model.design(frame)
    observed = (
        frame.loc[complete]
        .assign(y=lambda d: (d["intent_to_leave"] >= 4).astype(float) * d["weight"])
        .groupby("enterprise_id")
        .apply(lambda d: d["y"].sum() / d["weight"].sum(), include_groups=False)
    )
    diff = result.set_index("enterprise_id")["intent_share"] - observed
    assert diff.abs().max() < 0.05


# --- scenario delta -------------------------------------------------------------------------------


def test_scenario_delta_known_answer() -> None:
    b0 = special.logit(0.2)
    model = _fixed_model([b0, special.logit(0.6) - b0])
    baseline = _frame([0.0, 0.0], ["A", "A"])
    scenario = _frame([1.0, 1.0], ["A", "A"])
    result = scenario_delta(model, baseline, scenario, {"A": 100}, n_draws=20)
    row = result.by_enterprise.iloc[0]
    # Share 0.2 -> 0.6: delta = 100 × 0.4 × (0.45 − 0.20) = 10 more leavers per year.
    assert row["delta_leavers"] == pytest.approx(10.0)
    assert row["delta_cost_cny"] == pytest.approx(100_000)
    assert (row["delta_conversion_low"], row["delta_conversion_high"]) == pytest.approx(
        (100 * 0.4 * 0.21, 100 * 0.4 * 0.34)
    )
    assert (row["delta_cost_range_low_cny"], row["delta_cost_range_high_cny"]) == pytest.approx(
        (50_000, 200_000)
    )
    assert result.total["delta_leavers"] == pytest.approx(10.0)


def test_identical_scenario_has_zero_delta(simulated) -> None:
    frame, model, heads = simulated
    result = scenario_delta(model, frame, frame.copy(), heads, n_draws=50)
    np.testing.assert_array_equal(result.by_enterprise["delta_leavers"], 0.0)
    np.testing.assert_array_equal(result.by_enterprise["delta_low"], 0.0)
    assert result.total["delta_high"] == 0.0


def test_better_access_reduces_leavers_with_interval_below_zero(simulated) -> None:
    frame, model, heads = simulated
    column = "walk_weekday_evening_minutes_sports_court"
    access = frame[["residence_id", column]].drop_duplicates("residence_id")
    improved = access.assign(**{column: np.minimum(access[column], 5.0)})
    result = scenario_delta(model, frame, merge_access(frame, improved), heads, n_draws=300)
    assert result.total["delta_leavers"] < 0
    assert result.total["delta_high"] < 0
    assert result.total["delta_cost_cny"] == pytest.approx(result.total["delta_leavers"] * 10_000)
    t = result.by_enterprise
    assert (t["delta_low"] <= t["delta_leavers"]).all()
    assert (t["delta_leavers"] <= t["delta_high"]).all()


def test_scenario_rows_must_match(simulated) -> None:
    frame, model, heads = simulated
    with pytest.raises(ValidationError, match="same respondents"):
        scenario_delta(model, frame, frame.iloc[:-1], heads)
    shuffled = frame.iloc[::-1].reset_index(drop=True)
    with pytest.raises(ValidationError, match=r"row 1.*same order"):
        scenario_delta(model, frame, shuffled, heads)


# --- parameters and validation --------------------------------------------------------------------


def test_parameters_validate_and_carry_defaults() -> None:
    assert ConversionParameters().p_leave_given_intent == 0.45
    assert ConversionParameters().p_leave_given_no_intent == 0.20
    assert ReplacementCost().cost_cny_per_leaver == 10_000
    with pytest.raises(ParameterError, match="must lie in its range"):
        ConversionParameters(p_leave_given_intent=0.9)
    with pytest.raises(ParameterError, match="probability"):
        ConversionParameters(no_intent_low=-0.1)
    with pytest.raises(ParameterError, match="low <= cost <= high"):
        ReplacementCost(cost_cny_per_leaver=30_000)


def test_bad_headcount_is_named() -> None:
    model = _fixed_model([0.0, 0.0])
    with pytest.raises(ValidationError, match=r"enterprise 'B'.*>= 0"):
        leavers_by_enterprise(model, _frame([1.0], ["A"]), {"A": 10, "B": -1})
    with pytest.raises(ParameterError, match="n_draws"):
        leavers_by_enterprise(model, _frame([1.0], ["A"]), {"A": 10}, n_draws=1)


@given(
    headcount=st.floats(0, 1e5),
    share=st.floats(0, 1),
    a=st.floats(0.30, 0.57),
    b=st.floats(0.09, 0.23),
)
def test_leavers_by_source_sums_to_expected_leavers(
    headcount: float, share: float, a: float, b: float
) -> None:
    conversion = ConversionParameters(p_leave_given_intent=a, p_leave_given_no_intent=b)
    from_intent, from_no_intent = leavers_by_source(headcount, share, conversion)
    assert from_intent >= 0 and from_no_intent >= 0
    assert from_intent + from_no_intent == pytest.approx(
        float(expected_leavers(headcount, share, conversion)), rel=1e-9, abs=1e-9
    )
