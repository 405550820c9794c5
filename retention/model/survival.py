"""Exit-survival model: Cox proportional hazards on tenure when exit records exist.

Where an enterprise supplies exit records (one row per employee: tenure in months, whether they
left, covariates), actual exits are modelled instead of stated intent. This module wraps
lifelines' ``CoxPHFitter`` (Efron ties, as in the published Rossi analysis) with ParkLife's explicit
design (``retention.model.intent.NumericTerm`` / ``CategoricalTerm``), validation and a frozen
result.

Choices: rows with a missing covariate are dropped (complete-case, counted); a row with a missing
or non-positive tenure, or a ``left`` value that is not a yes/no, is an error, because it cannot
be told apart from a data-entry fault. With ``cluster`` set, standard errors are lifelines'
cluster-robust sandwich (employees of one enterprise are not independent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from retention.errors import ParameterError, ValidationError
from retention.model.intent import (
    DesignSpec,
    ModelFitError,
    build_design,
)


@dataclass(frozen=True)
class ExitModelSpec(DesignSpec):
    """What the Cox exit model is.

    Parameters
    ----------
    numeric, categorical
        Covariates (as in ``retention.model.intent``; a Cox model has no intercept).
    duration
        Tenure column (months with the employer when they left or when observed).
    event
        Column that is true when the employee left (false: still employed, censored).
    cluster
        Column for cluster-robust standard errors (the enterprise), or ``None``.
    penalizer
        lifelines' L2 penalty (0: plain partial likelihood, the published estimator).
    level
        Confidence level of the hazard-ratio intervals.
    """

    duration: str = "tenure_months"
    event: str = "left"
    cluster: str | None = None
    penalizer: float = 0.0
    level: float = 0.95

    def __post_init__(self) -> None:
        if not 0.5 < self.level < 1:
            raise ParameterError(f"level must be in (0.5, 1), got {self.level}", column="level")
        if self.penalizer < 0:
            raise ParameterError(
                f"penalizer must be >= 0, got {self.penalizer}", column="penalizer"
            )
        if not self.numeric and not self.categorical:
            raise ParameterError("an exit model needs at least one covariate")

    @property
    def covariate_terms(self) -> tuple[str, ...]:
        """Cox coefficient names (``terms`` without the intercept ``build_design`` adds)."""
        return self.terms[1:]


@dataclass(frozen=True, eq=False)
class FittedExitModel:
    """A fitted Cox exit model.

    Attributes
    ----------
    spec
        The specification fitted.
    coefficients
        Log hazard ratios in ``spec.covariate_terms`` order.
    covariance
        Model-based covariance (inverse information). With ``spec.cluster`` the standard errors
        in ``table`` are lifelines' cluster-robust ones instead, and differ from its diagonal.
    table
        One row per term: ``term``, ``coefficient``, ``se``, ``low``, ``high``,
        ``hazard_ratio``, ``hr_low``, ``hr_high``, ``p_value``.
    concordance
        Harrell's C on the fitting data (0.5 = no discrimination).
    log_likelihood
        Partial log-likelihood at the estimate.
    n_rows, n_used, n_events
        Rows supplied, complete rows used, exits among them.
    missing_by_column
        ``(column, count)`` of missing covariate values.
    covariate_means
        Mean of each design column over the rows used (lifelines centres on them).
    baseline_survival
        Baseline survival at the mean covariates, indexed by duration.
    """

    spec: ExitModelSpec
    coefficients: np.ndarray
    covariance: np.ndarray
    table: pd.DataFrame
    concordance: float
    log_likelihood: float
    n_rows: int
    n_used: int
    n_events: int
    missing_by_column: tuple[tuple[str, int], ...]
    covariate_means: np.ndarray
    baseline_survival: pd.Series

    def _centred_design(self, features: pd.DataFrame) -> np.ndarray:
        design, _, _ = build_design(features, self.spec)
        return design[:, 1:] - self.covariate_means

    def partial_hazard(self, features: pd.DataFrame) -> np.ndarray:
        """Return ``exp((x - mean) · β)`` per row (lifelines' partial hazard; NaN if incomplete)."""
        return np.exp((self._centred_design(features) * self.coefficients).sum(axis=1))

    def survival_at(self, features: pd.DataFrame, months: float) -> np.ndarray:
        """Return the probability of still being employed at tenure ``months`` per row.

        Assumes proportional hazards: ``S(t | x) = S0(t) ** partial_hazard(x)``, with the
        baseline step function read at the last event time at or before ``months``.
        """
        times = self.baseline_survival.index.to_numpy(dtype=float)
        position = np.searchsorted(times, months, side="right") - 1
        s0 = 1.0 if position < 0 else float(self.baseline_survival.iloc[position])
        return s0 ** self.partial_hazard(features)


def _event_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    truthy = {"true", "1", "yes", "y", "是", "已离职"}
    falsy = {"false", "0", "no", "n", "否", "在职"}
    out = np.empty(len(frame), dtype=bool)
    for position, value in enumerate(frame[column].astype(object)):
        text = str(value).strip().lower()
        if isinstance(value, bool | np.bool_) or text in truthy | falsy:
            out[position] = bool(value) if isinstance(value, bool | np.bool_) else text in truthy
        elif isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
            out[position] = bool(value)
        else:
            raise ValidationError(
                f"value {value!r} is not a yes/no; expected true/false or 1/0",
                row=position + 1,
                column=column,
            )
    return out


def fit_exit_model(records: pd.DataFrame, spec: ExitModelSpec) -> FittedExitModel:
    """Fit a Cox proportional-hazards model of exits on tenure.

    Assumes one row per employee; ``spec.duration`` is positive (months), ``spec.event`` is
    yes/no. Rows with a missing covariate are dropped and counted.

    Parameters
    ----------
    records
        Exit records.
    spec
        Model specification.

    Returns
    -------
    FittedExitModel

    Raises
    ------
    ValidationError
        If a column is missing, a duration is missing or not positive, or an event value is not a
        yes/no (naming row and column).
    ModelFitError
        If there are fewer than 10 exits per covariate (Peduzzi et al. 1995) or the fit fails.
    """
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    for column in (spec.duration, spec.event, *((spec.cluster,) if spec.cluster else ())):
        if column not in records.columns:
            raise ValidationError(f"exit-record column {column!r} is missing", column=column)
    design, complete, missing_counts = build_design(records, spec)
    duration = pd.to_numeric(records[spec.duration].astype(object), errors="coerce").to_numpy(
        dtype=float
    )
    bad = ~np.isfinite(duration) | (duration <= 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"tenure {records[spec.duration].iloc[row]!r} is invalid; expected a number of "
            "months > 0",
            row=row + 1,
            column=spec.duration,
        )
    event = _event_values(records, spec.event)
    terms = spec.covariate_terms
    data = pd.DataFrame(design[complete][:, 1:], columns=list(terms))
    data["_duration"] = duration[complete]
    data["_event"] = event[complete].astype(int)
    fit_kwargs: dict[str, Any] = {}
    if spec.cluster:
        data["_cluster"] = records[spec.cluster].astype(str).to_numpy()[complete]
        fit_kwargs["cluster_col"] = "_cluster"
    n_events = int(data["_event"].sum())
    if n_events < 10 * len(terms):
        raise ModelFitError(
            f"{n_events} exits among {len(data)} complete rows; expected at least "
            f"{10 * len(terms)} for {len(terms)} covariates (10 per covariate)",
            column=spec.event,
        )
    fitter = CoxPHFitter(alpha=1 - spec.level, penalizer=spec.penalizer)
    try:
        fitter.fit(data, duration_col="_duration", event_col="_event", **fit_kwargs)
    except ConvergenceError as exc:
        raise ModelFitError(f"the Cox fit did not converge: {exc}") from exc
    coefficients = fitter.params_.loc[list(terms)].to_numpy(dtype=float)
    covariance = fitter.variance_matrix_.loc[list(terms), list(terms)].to_numpy(dtype=float)
    # With a cluster column these are lifelines' cluster-robust errors; otherwise model-based.
    se = fitter.standard_errors_.loc[list(terms)].to_numpy(dtype=float)
    z = float(stats.norm.ppf(0.5 + spec.level / 2))
    table = pd.DataFrame(
        {
            "term": list(terms),
            "coefficient": coefficients,
            "se": se,
            "low": coefficients - z * se,
            "high": coefficients + z * se,
        }
    )
    table["hazard_ratio"] = np.exp(table["coefficient"])
    table["hr_low"] = np.exp(table["low"])
    table["hr_high"] = np.exp(table["high"])
    table["p_value"] = 2 * stats.norm.sf(np.abs(coefficients / se))
    baseline = fitter.baseline_survival_.iloc[:, 0]
    return FittedExitModel(
        spec=spec,
        coefficients=coefficients,
        covariance=covariance,
        table=table,
        concordance=float(fitter.concordance_index_),
        log_likelihood=float(fitter.log_likelihood_),
        n_rows=len(records),
        n_used=len(data),
        n_events=n_events,
        missing_by_column=tuple(missing_counts.items()),
        covariate_means=data[list(terms)].mean().to_numpy(dtype=float),
        baseline_survival=pd.Series(baseline.to_numpy(), index=baseline.index.to_numpy()),
    )
