"""Tests for retention.model.survival: the Cox exit model against lifelines and the published
fit."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.datasets import load_rossi

from retention.errors import ParameterError, ValidationError
from retention.model.intent import CategoricalTerm, ModelFitError, NumericTerm
from retention.model.survival import ExitModelSpec, fit_exit_model

ROSSI_COVARIATES = ("fin", "age", "race", "wexp", "mar", "paro", "prio")
# Fox & Weisberg, "Cox Proportional-Hazards Regression for Survival Data in R" (2011 appendix to
# An R Companion to Applied Regression), Efron ties: coefficients and standard errors.
PUBLISHED = {
    "fin": (-0.37942, 0.19138),
    "age": (-0.05744, 0.02200),
    "race": (0.31390, 0.30799),
    "wexp": (-0.14980, 0.21222),
    "mar": (-0.43370, 0.38187),
    "paro": (-0.08487, 0.19576),
    "prio": (0.09150, 0.02865),
}


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    return load_rossi()


@pytest.fixture(scope="module")
def rossi_spec() -> ExitModelSpec:
    return ExitModelSpec(
        numeric=tuple(NumericTerm(c) for c in ROSSI_COVARIATES), duration="week", event="arrest"
    )


@pytest.fixture(scope="module")
def fitted(rossi, rossi_spec):
    return fit_exit_model(rossi, rossi_spec)


def test_coefficients_equal_lifelines_own_fit(rossi, fitted) -> None:
    reference = CoxPHFitter().fit(rossi, "week", "arrest")
    np.testing.assert_allclose(
        fitted.coefficients, reference.params_.loc[list(ROSSI_COVARIATES)], rtol=0, atol=1e-8
    )
    np.testing.assert_allclose(
        fitted.table["se"], reference.standard_errors_.loc[list(ROSSI_COVARIATES)], atol=1e-8
    )
    assert fitted.concordance == pytest.approx(reference.concordance_index_, abs=1e-12)
    np.testing.assert_allclose(
        fitted.partial_hazard(rossi), reference.predict_partial_hazard(rossi), rtol=1e-10
    )
    survival = reference.predict_survival_function(rossi.iloc[:5], times=[20.0]).iloc[0]
    np.testing.assert_allclose(fitted.survival_at(rossi.iloc[:5], 20.0), survival, rtol=1e-10)


def test_matches_published_rossi_estimates(fitted) -> None:
    table = fitted.table.set_index("term")
    for term, (coef, se) in PUBLISHED.items():
        assert table.loc[term, "coefficient"] == pytest.approx(coef, abs=1e-3), term
        assert table.loc[term, "se"] == pytest.approx(se, abs=1e-3), term
    # Published hazard ratio for financial aid: exp(-0.379) = 0.684.
    assert table.loc["fin", "hazard_ratio"] == pytest.approx(0.684, abs=1e-3)
    assert table.loc["fin", "hr_low"] < 0.684 < table.loc["fin", "hr_high"]
    assert fitted.n_used == fitted.n_rows == 432
    assert fitted.n_events == 114


def test_concordance_is_informative(fitted) -> None:
    assert 0.6 < fitted.concordance < 0.7


def test_categorical_term_equals_manual_dummy(rossi) -> None:
    frame = rossi.assign(aid=np.where(rossi["fin"] == 1, "yes", "no"))
    spec = ExitModelSpec(
        numeric=(NumericTerm("age"), NumericTerm("prio")),
        categorical=(CategoricalTerm("aid", ("no", "yes"), "no"),),
        duration="week",
        event="arrest",
    )
    ours = fit_exit_model(frame, spec).table.set_index("term")
    reference = CoxPHFitter().fit(rossi[["week", "arrest", "age", "prio", "fin"]], "week", "arrest")
    assert ours.loc["aid[yes]", "coefficient"] == pytest.approx(reference.params_["fin"], abs=1e-8)


def test_cluster_robust_matches_lifelines(rossi) -> None:
    frame = rossi.assign(firm=np.arange(len(rossi)) % 20)
    spec = ExitModelSpec(
        numeric=tuple(NumericTerm(c) for c in ROSSI_COVARIATES),
        duration="week",
        event="arrest",
        cluster="firm",
    )
    ours = fit_exit_model(frame, spec)
    reference = CoxPHFitter().fit(
        frame.assign(firm=frame["firm"].astype(str)), "week", "arrest", cluster_col="firm"
    )
    np.testing.assert_allclose(
        ours.table["se"], reference.standard_errors_.loc[list(ROSSI_COVARIATES)], atol=1e-8
    )
    # The cluster column was used: robust errors differ from the model-based ones.
    assert not np.allclose(ours.table["se"], np.sqrt(np.diag(ours.covariance)), rtol=1e-3)


def test_missing_covariates_are_dropped_and_counted(rossi, rossi_spec) -> None:
    frame = rossi.astype({"age": float})
    frame.loc[[3, 10, 11], "age"] = np.nan
    result = fit_exit_model(frame, rossi_spec)
    assert (result.n_rows, result.n_used) == (432, 429)
    assert dict(result.missing_by_column)["age"] == 3


def test_event_accepts_chinese_yes_no(rossi) -> None:
    spec = ExitModelSpec(numeric=(NumericTerm("prio"),), duration="week", event="left")
    frame = rossi.assign(left=np.where(rossi["arrest"] == 1, "已离职", "在职"))
    reference = fit_exit_model(rossi.assign(left=rossi["arrest"].astype(bool)), spec)
    assert fit_exit_model(frame, spec).coefficients[0] == pytest.approx(
        reference.coefficients[0], abs=1e-12
    )


def test_invalid_records_name_row_and_column(rossi, rossi_spec) -> None:
    frame = rossi.astype({"week": float})
    frame.loc[5, "week"] = 0.0
    with pytest.raises(ValidationError, match=r"row 6, column 'week'.*months > 0"):
        fit_exit_model(frame, rossi_spec)
    frame = rossi.astype({"arrest": object})
    frame.loc[2, "arrest"] = "maybe"
    with pytest.raises(ValidationError, match=r"row 3, column 'arrest'.*yes/no"):
        fit_exit_model(frame, rossi_spec)
    with pytest.raises(ValidationError, match=r"column 'week'.*missing"):
        fit_exit_model(rossi.drop(columns="week"), rossi_spec)


def test_too_few_exits(rossi, rossi_spec) -> None:
    with pytest.raises(ModelFitError, match=r"expected at least 70 for 7 covariates"):
        fit_exit_model(rossi.iloc[:150], rossi_spec)


def test_spec_validation_and_pickle(fitted, rossi) -> None:
    with pytest.raises(ParameterError, match="penalizer"):
        ExitModelSpec(numeric=(NumericTerm("a"),), penalizer=-1)
    with pytest.raises(ParameterError, match="at least one covariate"):
        ExitModelSpec(numeric=())
    clone = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(clone.partial_hazard(rossi), fitted.partial_hazard(rossi))
