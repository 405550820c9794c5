"""Tests for retention.model.intent: the intent-to-leave logistic model, its validation and
interface."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special
from sklearn.linear_model import LogisticRegression

from geodata.synthetic_respondents import demo_coefficients, simulate_respondents
from retention.errors import ParameterError, ValidationError
from retention.model.intent import (
    INTERCEPT,
    CategoricalTerm,
    ModelFitError,
    NumericTerm,
    RetentionModelSpec,
    build_design,
    calibration,
    coefficients_by_term,
    default_spec,
    fit_intent_model,
    fit_logit,
    merge_access,
    sandwich_covariance,
)

# Seed 1 was the first seed tried for the recovery test (not searched for a passing one). With 19
# independent-ish 95 % intervals the a-priori chance that all cover is about 0.95**19 = 0.38, so
# this test pins one draw; test_interval_coverage_across_seeds is the statistical check.
SEED = 1
N = 4000


@pytest.fixture(scope="module")
def respondents() -> pd.DataFrame:
    return simulate_respondents(N, demo_coefficients(), seed=SEED)


@pytest.fixture(scope="module")
def fitted(respondents: pd.DataFrame):
    return fit_intent_model(respondents, default_spec(weight="weight"), seed=0)


def _complete_problem(respondents: pd.DataFrame, spec: RetentionModelSpec):
    design, complete, _ = build_design(respondents, spec)
    y = (respondents["intent_to_leave"].to_numpy(dtype=float) >= 4).astype(float)
    w = respondents["weight"].to_numpy(dtype=float)
    return design[complete], y[complete], w[complete], complete


# --- recovery of known coefficients ------------------------------------------------------------


def test_fixed_seed_every_true_coefficient_inside_its_95_interval(fitted) -> None:
    table = fitted.coefficient_table()
    truth = demo_coefficients()
    table["true"] = table["term"].map(truth)
    outside = table.loc[(table["true"] < table["low"]) | (table["true"] > table["high"])]
    assert outside.empty, outside[["term", "coefficient", "low", "high", "true"]]
    assert list(table["term"]) == list(default_spec().terms)
    # The estimates are informative, not just wide: the commute OR is estimated within ±0.1.
    commute = table.set_index("term").loc["commute_minutes"]
    assert commute["high"] - commute["low"] < 0.3


def test_fit_reports_counts_and_missing(fitted, respondents: pd.DataFrame) -> None:
    sat = [c for c in respondents.columns if c.startswith("sat_")]
    incomplete = int(respondents[sat].isna().any(axis=1).sum())
    assert fitted.n_rows == N
    assert fitted.n_dropped == incomplete > 0
    assert fitted.n_used == N - incomplete
    missing = dict(fitted.missing_by_column)
    assert missing["sat_canteen"] == int(respondents["sat_canteen"].isna().sum())
    assert missing["tenure_months"] == 0
    assert fitted.n_clusters == 40
    assert fitted.df_inference == 39


def test_cross_validated_auc_above_chance_with_interval(fitted) -> None:
    cv = fitted.cross_validation
    assert cv.auc > 0.6
    assert cv.auc_low < cv.auc < cv.auc_high
    assert cv.auc_low > 0.6
    assert len(cv.fold_aucs) == cv.n_folds == 5
    assert min(cv.fold_aucs) > 0.6


def test_cross_validation_is_seeded(respondents: pd.DataFrame) -> None:
    small = respondents.iloc[:1500]
    spec = default_spec(weight="weight")
    a = fit_intent_model(small, spec, seed=3, n_bootstrap=50).cross_validation
    b = fit_intent_model(small, spec, seed=3, n_bootstrap=50).cross_validation
    c = fit_intent_model(small, spec, seed=4, n_bootstrap=50).cross_validation
    assert (a.auc, a.auc_low, a.fold_aucs) == (b.auc, b.auc_low, b.fold_aucs)
    assert a.fold_aucs != c.fold_aucs


@pytest.mark.slow
def test_interval_coverage_across_seeds() -> None:
    """About 95 % of 95 % intervals cover the truth over many simulated surveys."""
    truth = demo_coefficients()
    spec = default_spec(weight="weight")
    covered = []
    for seed in range(100, 140):
        frame = simulate_respondents(3000, truth, seed=seed)
        model = fit_intent_model(frame, spec, cv_folds=2, n_bootstrap=0, seed=seed)
        table = model.coefficient_table()
        true = table["term"].map(truth)
        covered.extend(((table["low"] <= true) & (true <= table["high"])).tolist())
    coverage = float(np.mean(covered))
    # 40 surveys x 19 intervals; cluster-robust t(G-1) intervals with 40 clusters.
    assert 0.91 <= coverage <= 0.985, coverage


# --- estimator cross-checks ----------------------------------------------------------------------


def test_fit_logit_matches_sklearn_unpenalised_weighted(respondents: pd.DataFrame) -> None:
    x, y, w, _ = _complete_problem(respondents, default_spec(weight="weight"))
    ours = fit_logit(x, y, w)
    reference = LogisticRegression(
        C=np.inf, fit_intercept=False, solver="newton-cholesky", tol=1e-12, max_iter=1000
    )
    reference.fit(x, y, sample_weight=w)
    np.testing.assert_allclose(ours, reference.coef_[0], atol=1e-7)


def test_sandwich_matches_statsmodels_hc_and_cluster_unweighted(respondents) -> None:
    x, y, _, complete = _complete_problem(respondents, default_spec())
    groups = pd.factorize(respondents["enterprise_id"].to_numpy()[complete])[0]
    ones = np.ones(len(y))
    beta = fit_logit(x, y, ones)
    model = sm.GLM(y, x, family=sm.families.Binomial())
    # statsmodels' GLM "HC1" applies no n/(n-k) correction (it equals HC0), so compare with
    # HC0 times the correction; its cluster covariance uses the same CR1 correction as ours.
    hc0 = model.fit(cov_type="HC0").cov_params()
    cluster = model.fit(cov_type="cluster", cov_kwds={"groups": groups}).cov_params()
    n, k = x.shape
    np.testing.assert_allclose(sandwich_covariance(x, y, ones, beta), hc0 * n / (n - k), rtol=1e-6)
    np.testing.assert_allclose(
        sandwich_covariance(x, y, ones, beta, clusters=groups), cluster, rtol=1e-6
    )


def test_weighted_sandwich_matches_statsmodels_hc0_with_var_weights(respondents) -> None:
    # statsmodels documents HC0 with var_weights as verified; HC1 adds n/(n-k).
    x, y, w, _ = _complete_problem(respondents, default_spec(weight="weight"))
    beta = fit_logit(x, y, w)
    hc0 = sm.GLM(y, x, family=sm.families.Binomial(), var_weights=w).fit(cov_type="HC0")
    n, k = x.shape
    np.testing.assert_allclose(
        sandwich_covariance(x, y, w, beta), hc0.cov_params() * n / (n - k), rtol=1e-6
    )


def test_weights_only_matter_through_their_ratios(respondents: pd.DataFrame) -> None:
    frame = respondents.iloc[:2000].copy()
    spec = default_spec(weight="weight")
    a = fit_intent_model(frame, spec, n_bootstrap=0)
    frame["weight"] = frame["weight"] * 37.5
    b = fit_intent_model(frame, spec, n_bootstrap=0)
    np.testing.assert_allclose(a.coefficients, b.coefficients, rtol=1e-9)
    np.testing.assert_allclose(a.covariance, b.covariance, rtol=1e-9)


# --- calibration -------------------------------------------------------------------------------


def test_calibration_known_answer_perfectly_calibrated_bins() -> None:
    predicted = np.array([0.2] * 5 + [0.8] * 5)
    outcome = np.array([1, 0, 0, 0, 0, 1, 1, 1, 1, 0], dtype=float)
    result = calibration(predicted, outcome, n_bins=2)
    assert result.table["n"].tolist() == [5, 5]
    np.testing.assert_allclose(result.table["observed_rate"], [0.2, 0.8])
    np.testing.assert_allclose(result.table["mean_predicted"], [0.2, 0.8])
    # Observed rates equal predictions exactly, so the recalibration fit is the identity.
    assert result.slope == pytest.approx(1.0, abs=1e-8)
    assert result.intercept == pytest.approx(0.0, abs=1e-8)


def test_calibration_of_simulation_is_sane(fitted) -> None:
    table = fitted.calibration.table
    assert len(table) == 10
    assert table["n"].sum() == fitted.n_used
    assert table["mean_predicted"].is_monotonic_increasing
    inside = (table["observed_low"] <= table["mean_predicted"]) & (
        table["mean_predicted"] <= table["observed_high"]
    )
    assert inside.sum() >= 8
    assert 0.75 < fitted.calibration.slope < 1.25
    assert abs(fitted.calibration.intercept) < 0.15


# --- the prediction interface ---------------------------------------------------------------------


def test_predict_proba_equals_expit_of_design_times_coefficients(fitted, respondents) -> None:
    design, complete, _ = build_design(respondents, fitted.spec)
    p = fitted.predict_proba(respondents)
    np.testing.assert_allclose(p[complete], special.expit(design[complete] @ fitted.coefficients))
    assert np.isnan(p[~complete]).all()


@settings(max_examples=20, deadline=None, derandomize=True)
@given(st.permutations(list(range(60))))
def test_predict_is_invariant_to_row_order(fitted, respondents, order: list[int]) -> None:
    rows = respondents.iloc[:60]
    base = fitted.predict_proba(rows)
    shuffled = fitted.predict_proba(rows.iloc[order])
    np.testing.assert_array_equal(shuffled, base[order])


def test_predict_is_deterministic_and_row_independent(fitted, respondents) -> None:
    rows = respondents.iloc[:50]
    first = fitted.predict_proba(rows)
    np.testing.assert_array_equal(first, fitted.predict_proba(rows))
    single = np.array([fitted.predict_proba(rows.iloc[[i]])[0] for i in range(5)])
    np.testing.assert_array_equal(single, first[:5])
    before = rows.copy()
    fitted.predict_proba(rows)
    pd.testing.assert_frame_equal(rows, before)


def test_pickle_round_trip_predicts_the_same(fitted, respondents) -> None:
    clone = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(
        clone.predict_proba(respondents.iloc[:100]), fitted.predict_proba(respondents.iloc[:100])
    )
    with pytest.raises(AttributeError):
        fitted.coefficients = np.zeros(3)  # type: ignore[misc]


def test_predict_from_features_changes_only_the_changed_residence(fitted, respondents) -> None:
    access_columns = [c for c in respondents.columns if c.startswith("walk_weekday_evening")]
    access = respondents[["residence_id", *access_columns]].drop_duplicates("residence_id")
    base = fitted.predict_from_features(respondents, access)
    np.testing.assert_array_equal(base, fitted.predict_proba(respondents))
    scenario = access.copy()
    scenario.loc[scenario["residence_id"] == "H07", "walk_weekday_evening_minutes_canteen"] = 2.0
    changed = fitted.predict_from_features(respondents, scenario)
    moved = ~np.isclose(changed, base, equal_nan=True)
    in_h07 = (respondents["residence_id"] == "H07").to_numpy()
    assert moved.any()
    assert not (moved & ~in_h07).any()
    # Shorter walk to a canteen lowers intent (positive coefficient per 10 minutes).
    assert (changed[moved] < base[moved]).all()


def test_merge_access_rejects_duplicate_residences(respondents) -> None:
    access = pd.DataFrame(
        {"residence_id": ["H01", "H01"], "walk_weekday_evening_minutes_canteen": [1, 2]}
    )
    with pytest.raises(ValidationError, match=r"row 2.*'residence_id'.*repeats"):
        merge_access(respondents, access)


def test_merge_access_missing_residence_gives_nan(fitted, respondents) -> None:
    access = respondents[["residence_id", "walk_weekday_evening_minutes_canteen"]].drop_duplicates(
        "residence_id"
    )
    access = access.loc[access["residence_id"] != "H03"]
    p = fitted.predict_from_features(respondents, access)
    assert np.isnan(p[(respondents["residence_id"] == "H03").to_numpy()]).all()


# --- coefficients, odds ratios, drivers ----------------------------------------------------------


def test_odds_ratio_table(fitted) -> None:
    table = fitted.odds_ratios()
    assert INTERCEPT not in set(table["term"])
    np.testing.assert_allclose(table["odds_ratio"], np.exp(table["coefficient"]))
    np.testing.assert_allclose(table["or_low"], np.exp(table["low"]))
    assert (table["or_low"] < table["odds_ratio"]).all()
    assert (table["odds_ratio"] < table["or_high"]).all()
    row = table.set_index("term").loc["shift[three_shift]"]
    assert (row["factor"], row["level"], row["reference"]) == ("shift", "three_shift", "day")
    assert coefficients_by_term(fitted)["commute_minutes"] == pytest.approx(
        table.set_index("term").loc["commute_minutes", "coefficient"]
    )


def test_drivers_add_up_to_the_linear_predictor_gap(fitted, respondents) -> None:
    group = respondents.loc[respondents["enterprise_id"] == "E05"]
    drivers = fitted.drivers(group)
    design, complete = fitted.design(group)
    weights = group["weight"].to_numpy()[complete]
    group_mean = np.average(design[complete], axis=0, weights=weights)
    expected = (group_mean - fitted.park_means) @ fitted.coefficients
    assert drivers["contribution"].sum() == pytest.approx(expected, abs=1e-12)
    by_term = fitted.drivers(group, by="term")
    assert by_term["contribution"].sum() == pytest.approx(expected, abs=1e-12)
    assert set(drivers["factor"]) == set(fitted.spec.predictor_columns)
    assert drivers["contribution"].abs().is_monotonic_decreasing
    assert (drivers["contribution_low"] <= drivers["contribution"]).all()
    assert drivers["n_group"].iloc[0] == int(complete.sum())


def test_drivers_of_the_whole_park_are_zero(fitted, respondents) -> None:
    drivers = fitted.drivers(respondents)
    np.testing.assert_allclose(drivers["contribution"], 0.0, atol=1e-12)


def test_drivers_known_answer_on_a_tiny_model() -> None:
    spec = RetentionModelSpec(
        numeric=(NumericTerm("minutes", per=10.0),),
        categorical=(CategoricalTerm("shift", ("day", "night"), "day"),),
        cov_type="HC1",
    )
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {
            "minutes": rng.uniform(0, 40, n),
            "shift": rng.choice(["day", "night"], n),
            "intent_to_leave": rng.choice([1, 2, 3, 4, 5], n),
        }
    )
    model = fit_intent_model(frame, spec, n_bootstrap=0)
    group = pd.DataFrame({"minutes": [30.0, 50.0], "shift": ["night", "night"]})
    reference = pd.DataFrame({"minutes": [10.0, 30.0], "shift": ["day", "night"]})
    drivers = model.drivers(group, reference=reference).set_index("factor")
    beta = coefficients_by_term(model)
    # minutes: group mean 4.0 (per 10) vs 2.0; night share 1.0 vs 0.5.
    assert drivers.loc["minutes", "contribution"] == pytest.approx(beta["minutes"] * 2.0)
    assert drivers.loc["shift", "contribution"] == pytest.approx(beta["shift[night]"] * 0.5)
    assert drivers.loc["minutes", "group_mean"] == pytest.approx(4.0)


# --- specification and validation -------------------------------------------------------------


def test_design_terms_and_hinge() -> None:
    spec = RetentionModelSpec(
        numeric=(NumericTerm("commute_minutes", per=10.0, above=10.0),),
        categorical=(CategoricalTerm("shift", ("day", "two_shift", "three_shift"), "day"),),
    )
    assert spec.terms == (INTERCEPT, "commute_minutes", "shift[two_shift]", "shift[three_shift]")
    frame = pd.DataFrame(
        {"commute_minutes": [5.0, 30.0, np.nan], "shift": ["three_shift", "day", "two_shift"]}
    )
    design, complete, missing = build_design(frame, spec)
    np.testing.assert_array_equal(design[0], [1, 0, 0, 1])
    np.testing.assert_array_equal(design[1], [1, 2, 0, 0])
    assert np.isnan(design[2]).all()
    assert complete.tolist() == [True, True, False]
    assert missing == {"commute_minutes": 1, "shift": 0}


def test_threshold_changes_the_outcome(respondents) -> None:
    spec4 = default_spec(cov_type="HC1")
    spec5 = default_spec(cov_type="HC1", threshold=5)
    frame = respondents.iloc[:3000]
    a = fit_intent_model(frame, spec4, n_bootstrap=0)
    b = fit_intent_model(frame, spec5, n_bootstrap=0)
    complete = build_design(frame, spec4)[1]
    likert = frame["intent_to_leave"].to_numpy()[complete]
    assert a.n_events == int((likert >= 4).sum())
    assert b.n_events == int((likert == 5).sum()) < a.n_events
    assert b.df_inference is None


def test_unknown_level_names_row_and_column(respondents) -> None:
    frame = respondents.iloc[:200].copy()
    frame["shift"] = frame["shift"].astype(object)
    frame.loc[frame.index[6], "shift"] = "four_shift"
    with pytest.raises(ValidationError, match=r"row 7, column 'shift'.*'four_shift'"):
        fit_intent_model(frame, default_spec())


def test_bad_likert_value_names_row(respondents) -> None:
    frame = respondents.iloc[:200].copy()
    frame["intent_to_leave"] = frame["intent_to_leave"].astype(object)
    frame.loc[frame.index[2], "intent_to_leave"] = 7
    with pytest.raises(ValidationError, match=r"row 3, column 'intent_to_leave'.*1 to 5"):
        fit_intent_model(frame, default_spec())


def test_missing_column_and_bad_weight(respondents) -> None:
    with pytest.raises(ValidationError, match=r"column 'tenure_months'.*missing"):
        fit_intent_model(respondents.drop(columns="tenure_months"), default_spec())
    frame = respondents.iloc[:300].copy()
    frame.loc[frame.index[4], "weight"] = 0.0
    with pytest.raises(ValidationError, match=r"row 5, column 'weight'.*positive"):
        fit_intent_model(frame, default_spec(weight="weight"))


def test_too_few_events_is_a_clear_error(respondents) -> None:
    with pytest.raises(ModelFitError, match=r"expected at least 180 of each for 18 predictors"):
        fit_intent_model(respondents.iloc[:300], default_spec())


def test_spec_rejects_bad_parameters() -> None:
    with pytest.raises(ParameterError, match="threshold"):
        default_spec(threshold=6)
    with pytest.raises(ParameterError, match="reference level 'x'"):
        CategoricalTerm("shift", ("day",), "x")
    with pytest.raises(ParameterError, match="repeat"):
        RetentionModelSpec(numeric=(NumericTerm("a"), NumericTerm("a")))
