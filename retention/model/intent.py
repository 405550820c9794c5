"""Intent-to-leave model: survey-weighted logistic regression on access, satisfaction and controls.

The outcome is the survey's 1–5 intent-to-leave item dichotomised at a threshold (default: 4 or 5
= "intends to leave within 12 months"). Predictors are built into an explicit design matrix from a
``RetentionModelSpec``: numeric terms (access minutes, satisfaction scores, tenure, commute) with a
stated unit, and categorical controls as treatment dummies against a named reference level.

Statistical choices (stated once here, repeated in the docstrings that depend on them):

- Survey weights enter as a weighted pseudo-likelihood (the GLM score is weighted). Standard
  errors are always sandwich estimates computed here, because model-based GLM errors are wrong
  under sampling weights: ``"HC1"`` (heteroscedasticity-robust, n/(n-k) correction) or
  ``"cluster"`` (CR1 by enterprise, G/(G-1)·(n-1)/(n-k) correction, intervals from a t
  distribution with G-1 degrees of freedom, because respondents of one firm share a manager, pay
  policy and dormitory and their answers are not independent).
- Missing predictors (skipped questions) are handled by complete-case analysis; the number of
  dropped rows and the missing count per column are reported on the fitted model. Prediction
  returns NaN for a row with a missing predictor, never a silently imputed value.
- Discrimination is the AUC of out-of-fold predictions from stratified k-fold cross-validation
  (seeded), with a percentile bootstrap interval over respondents (it does not include refitting
  variability; the per-fold AUCs are reported as well). Calibration is computed on the same
  out-of-fold predictions.
- If the spec includes satisfaction items, a scenario that changes only access features holds
  satisfaction fixed, so predicted changes are the *direct* effect of access. Satisfaction partly
  mediates access; fit a spec without satisfaction items for the total effect.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from retention.data.layers import AmenityCategory, ShiftPattern
from retention.errors import ParameterError, ValidationError
from retention.survey.schema import AgeBand, WageBand, sat_column

INTERCEPT = "Intercept"

CovType = Literal["HC1", "cluster"]


@dataclass(frozen=True)
class NumericTerm:
    """A numeric predictor entering the model linearly.

    Parameters
    ----------
    column
        Feature column.
    per
        Unit of the coefficient: the odds ratio is per ``per`` units of the column (e.g. 10 for
        "per 10 minutes", 12 for tenure "per year" from months).
    above
        Hinge: only the part of the value above this threshold counts, ``max(x - above, 0)``
        (PARAMETERS.md item 8 states the commute effect per 10 minutes *above 10 minutes*).
    label
        Human-readable English label; the page translates by ``column`` instead.
    """

    column: str
    per: float = 1.0
    above: float | None = None
    label: str = ""

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Return the design column for raw ``values`` (NaN stays NaN)."""
        shifted = values if self.above is None else np.maximum(values - self.above, 0.0)
        return shifted / self.per


@dataclass(frozen=True)
class CategoricalTerm:
    """A categorical predictor coded as treatment dummies against ``reference``.

    Parameters
    ----------
    column
        Feature column.
    levels
        Every allowed level, reference included; a value outside them is an error.
    reference
        The level the other levels are compared with (its odds ratio is 1 by construction).
    label
        Human-readable English label of the factor.
    merged
        Levels counted as the reference (no dummy, no coefficient): levels too few respondents
        chose to be estimated without revealing them (``retention.model.release``).
    """

    column: str
    levels: tuple[str, ...]
    reference: str
    label: str = ""
    merged: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.reference not in self.levels:
            raise ParameterError(
                f"reference level {self.reference!r} is not one of {self.levels}",
                column=self.column,
            )
        if len(set(self.levels)) != len(self.levels):
            raise ParameterError(f"levels repeat: {self.levels}", column=self.column)
        wrong = [m for m in self.merged if m not in self.levels or m == self.reference]
        if wrong:
            raise ParameterError(
                f"merged level {wrong[0]!r} is not one of the non-reference levels {self.levels}",
                column=self.column,
            )

    @property
    def dummy_levels(self) -> tuple[str, ...]:
        """Levels that get a dummy column (all but the reference and the merged ones)."""
        return tuple(
            level for level in self.levels if level != self.reference and level not in self.merged
        )


@dataclass(frozen=True)
class DesignSpec:
    """The predictors of a model: what ``build_design`` turns into a design matrix.

    Shared by the intent model's and the exit-survival model's specs, which add their outcome.

    Parameters
    ----------
    numeric
        Numeric terms.
    categorical
        Categorical terms.
    """

    numeric: tuple[NumericTerm, ...]
    categorical: tuple[CategoricalTerm, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        """Design-column names: intercept, numeric columns, then ``column[level]`` dummies."""
        names = [INTERCEPT, *(t.column for t in self.numeric)]
        for term in self.categorical:
            names.extend(f"{term.column}[{level}]" for level in term.dummy_levels)
        return tuple(names)

    @property
    def predictor_columns(self) -> tuple[str, ...]:
        """Feature columns the design is built from."""
        return (*(t.column for t in self.numeric), *(t.column for t in self.categorical))


@dataclass(frozen=True)
class RetentionModelSpec(DesignSpec):
    """What the intent model is: outcome, predictors, weights and the standard-error type.

    Parameters
    ----------
    numeric
        Numeric terms.
    categorical
        Categorical terms.
    outcome
        Likert column, 1 = definitely staying … 5 = definitely leaving.
    threshold
        Values ``>= threshold`` count as intending to leave (default 4: "probably" or
        "definitely" leaving).
    weight
        Survey-weight column (``retention.survey.weighting``), or ``None`` for an unweighted fit.
    cov_type
        ``"cluster"`` (cluster-robust by ``cluster``) or ``"HC1"``.
    cluster
        Column identifying the cluster (the enterprise).
    level
        Confidence level of every interval.
    """

    outcome: str = "intent_to_leave"
    threshold: int = 4
    weight: str | None = None
    cov_type: CovType = "cluster"
    cluster: str = "enterprise_id"
    level: float = 0.95

    def __post_init__(self) -> None:
        if not 2 <= self.threshold <= 5:
            raise ParameterError(
                f"threshold must be an integer from 2 to 5, got {self.threshold!r}",
                column="threshold",
            )
        if self.cov_type not in ("HC1", "cluster"):
            raise ParameterError(
                f"cov_type must be 'HC1' or 'cluster', got {self.cov_type!r}", column="cov_type"
            )
        if not 0.5 < self.level < 1:
            raise ParameterError(f"level must be in (0.5, 1), got {self.level}", column="level")
        columns = [t.column for t in self.numeric] + [t.column for t in self.categorical]
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        if duplicated:
            raise ParameterError(f"predictor columns repeat: {duplicated}", column=duplicated[0])


ACCESS_MODE: Final = "walk"
"""Mode of the model's access features: walking minutes from a respondent's residence."""
ACCESS_WINDOW: Final = "weekday_evening"
"""Time window of the model's access features (evening after a day shift, DESIGN.md); the
parameters file must keep a window with this key (``retention.park_parameters``)."""


def access_column(
    category: AmenityCategory | str, *, mode: str = ACCESS_MODE, window: str = ACCESS_WINDOW
) -> str:
    """Return the feature column of minutes to the nearest ``category``.

    The name reads ``<mode>_<window>_minutes_<category>``, with a window key of
    ``retention.access.parameters.DEFAULT_TIME_WINDOWS``: e.g.
    ``walk_weekday_evening_minutes_canteen``.
    """
    return f"{mode}_{window}_minutes_{AmenityCategory(category).value}"


DEFAULT_MODEL_CATEGORIES: tuple[AmenityCategory, ...] = (
    AmenityCategory.CANTEEN,
    AmenityCategory.GROCERY,
    AmenityCategory.CLINIC,
    AmenityCategory.SPORTS_COURT,
)
"""Categories in the default spec: the ones workers name most (seeds/README.md)."""


def default_spec(
    *,
    categories: Sequence[AmenityCategory | str] = DEFAULT_MODEL_CATEGORIES,
    access_mode: str = ACCESS_MODE,
    access_window: str = ACCESS_WINDOW,
    include_satisfaction: bool = True,
    weight: str | None = None,
    cov_type: CovType = "cluster",
    threshold: int = 4,
) -> RetentionModelSpec:
    """Return the standard intent-model spec.

    Assumes access features are minutes to the nearest amenity (coefficient per 10 minutes),
    satisfaction items are 1–5 (per point), tenure is in months (per 12 months) and commute is
    one-way minutes (per 10 minutes above 10, PARAMETERS.md item 8). Reference levels: age band
    post90 (the largest frontline cohort), day shift, lowest wage band (<4000 CNY/month).

    Parameters
    ----------
    categories
        Amenity categories with an access term (and a satisfaction term).
    access_mode, access_window
        Which travel-time indicator to use (see ``access_column``).
    include_satisfaction
        Whether to add ``sat_<category>`` terms (see the module note on mediation).
    weight, cov_type, threshold
        Passed to ``RetentionModelSpec``.

    Returns
    -------
    RetentionModelSpec
    """
    cats = [AmenityCategory(c) for c in categories]
    numeric = [
        NumericTerm(
            access_column(c, mode=access_mode, window=access_window),
            per=10.0,
            label=f"{access_mode} minutes to {c.value} ({access_window}), per 10 min",
        )
        for c in cats
    ]
    if include_satisfaction:
        numeric += [
            NumericTerm(sat_column(c), label=f"satisfaction with {c.value} (1-5), per point")
            for c in cats
        ]
    numeric += [
        NumericTerm("tenure_months", per=12.0, label="tenure, per year"),
        NumericTerm(
            "commute_minutes", per=10.0, above=10.0, label="commute above 10 min, per 10 min"
        ),
    ]
    categorical = (
        CategoricalTerm("age_band", tuple(b.value for b in AgeBand), "post90", "age band"),
        CategoricalTerm("shift", tuple(s.value for s in ShiftPattern), "day", "shift pattern"),
        CategoricalTerm("wage_band", tuple(b.value for b in WageBand), "<4000", "wage band"),
    )
    return RetentionModelSpec(
        numeric=tuple(numeric),
        categorical=categorical,
        weight=weight,
        cov_type=cov_type,
        threshold=threshold,
    )


# ---------------------------------------------------------------------------------------------
# Design matrix
# ---------------------------------------------------------------------------------------------


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise ValidationError(
                f"feature column {column!r} is missing; the model needs {', '.join(columns)}",
                column=column,
            )


def _numeric_values(series: pd.Series, column: str) -> np.ndarray:
    """Return ``series`` as float64 with NaN for missing values; raise on text."""
    if isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == object:
        converted = pd.to_numeric(series.astype(object), errors="coerce")
        bad = converted.isna() & series.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
            raise ValidationError(
                f"value {series.iloc[row - 1]!r} is not a number", row=row, column=column
            )
        series = converted
    values = series.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    infinite = np.isinf(values)
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0]) + 1
        raise ValidationError("value is infinite; expected a finite number", row=row, column=column)
    return values


def build_design(
    features: pd.DataFrame, spec: DesignSpec
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Build the design matrix of ``spec`` from a feature table.

    Assumes one row per respondent; numeric columns may be nullable (``Int64``, ``Float64``).
    The first column is always the intercept (the Cox model drops it).

    Parameters
    ----------
    features
        Table with every column in ``spec.predictor_columns``.
    spec
        Model specification.

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray, dict[str, int]]
        The ``(n, k)`` design matrix in ``spec.terms`` order (rows with a missing predictor are
        NaN throughout), a boolean mask of complete rows, and the missing count per column.

    Raises
    ------
    ValidationError
        If a column is absent, a numeric value is not a number, or a categorical value is not one
        of its term's levels (naming the 1-based row and column).
    """
    _require_columns(features, spec.predictor_columns)
    n = len(features)
    columns: list[np.ndarray] = [np.ones(n)]
    missing = np.zeros(n, dtype=bool)
    missing_counts: dict[str, int] = {}
    for term in spec.numeric:
        raw = _numeric_values(features[term.column], term.column)
        isna = np.isnan(raw)
        missing_counts[term.column] = int(isna.sum())
        missing |= isna
        columns.append(term.transform(raw))
    for factor in spec.categorical:
        series = features[factor.column]
        isna = series.isna().to_numpy()
        text = series.astype(object).where(~isna, None).to_numpy()
        unknown = ~isna & ~np.isin(text.astype(str), np.array(factor.levels, dtype=str))
        if unknown.any():
            row = int(np.flatnonzero(unknown)[0])
            raise ValidationError(
                f"value {text[row]!r} is not a known level; expected one of "
                f"{', '.join(factor.levels)}",
                row=row + 1,
                column=factor.column,
            )
        missing_counts[factor.column] = int(isna.sum())
        missing |= isna
        as_text = text.astype(str)
        for level in factor.dummy_levels:
            dummy = (as_text == level).astype(float)
            dummy[isna] = np.nan
            columns.append(dummy)
    design = np.column_stack(columns)
    design[missing] = np.nan
    return design, ~missing, missing_counts


def _outcome(features: pd.DataFrame, spec: RetentionModelSpec) -> np.ndarray:
    _require_columns(features, [spec.outcome])
    values = _numeric_values(features[spec.outcome], spec.outcome)
    bad = np.isnan(values) | ~np.isin(values, [1, 2, 3, 4, 5])
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"value {features[spec.outcome].iloc[row]!r} is not a Likert answer; expected an "
            "integer from 1 to 5",
            row=row + 1,
            column=spec.outcome,
        )
    return (values >= spec.threshold).astype(float)


def _weights(features: pd.DataFrame, spec: RetentionModelSpec) -> np.ndarray:
    if spec.weight is None:
        return np.ones(len(features))
    _require_columns(features, [spec.weight])
    values = _numeric_values(features[spec.weight], spec.weight)
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"weight {values[row]!r} is invalid; expected a positive number",
            row=row + 1,
            column=spec.weight,
        )
    return values


# ---------------------------------------------------------------------------------------------
# Estimation
# ---------------------------------------------------------------------------------------------


class ModelFitError(ValidationError):
    """The survey cannot support the model: too few events, no variation, or no convergence."""


def fit_logit(design: np.ndarray, outcome: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return weighted maximum pseudo-likelihood logistic coefficients.

    Assumes a complete design (no NaN) with an intercept column; weights are positive.

    Parameters
    ----------
    design
        ``(n, k)`` design matrix.
    outcome
        0/1 outcome.
    weights
        Survey weights (only their ratios matter).

    Returns
    -------
    numpy.ndarray
        ``k`` coefficients.

    Raises
    ------
    ModelFitError
        If the fit does not converge or the outcome is perfectly separated.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise ModelFitError(
            "the design matrix is rank-deficient: a predictor is constant or a combination of "
            "others in the rows used (e.g. a category level nobody chose); drop or merge it"
        )
    model = sm.GLM(outcome, design, family=sm.families.Binomial(), var_weights=weights)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            result = model.fit(maxiter=100, tol=1e-10)
        except (PerfectSeparationWarning, ConvergenceWarning) as exc:
            raise ModelFitError(f"the logistic fit failed: {exc}") from exc
    return np.asarray(result.params, dtype=float)


def sandwich_covariance(
    design: np.ndarray,
    outcome: np.ndarray,
    weights: np.ndarray,
    coefficients: np.ndarray,
    *,
    clusters: np.ndarray | None = None,
) -> np.ndarray:
    """Return the robust (HC1) or cluster-robust (CR1) covariance of weighted logit coefficients.

    Assumes ``coefficients`` maximise the weighted pseudo-likelihood on these rows. The bread is
    ``X' diag(w p (1-p)) X``; the meat sums the score contributions ``w (y - p) x`` per row (HC1,
    times n/(n-k), as Stata does; statsmodels' GLM "HC1" omits it) or per cluster (CR1, times
    G/(G-1)·(n-1)/(n-k), as both do).

    Parameters
    ----------
    design, outcome, weights, coefficients
        The fitted problem.
    clusters
        Cluster label per row, or ``None`` for HC1.

    Returns
    -------
    numpy.ndarray
        ``(k, k)`` covariance matrix.
    """
    n, k = design.shape
    p = special.expit(design @ coefficients)
    bread = design.T @ (design * (weights * p * (1 - p))[:, None])
    scores = design * (weights * (outcome - p))[:, None]
    if clusters is None:
        meat = scores.T @ scores * (n / (n - k))
    else:
        codes, uniques = pd.factorize(pd.Series(clusters).astype(str))
        groups = len(uniques)
        summed = np.zeros((groups, k))
        np.add.at(summed, codes, scores)
        meat = summed.T @ summed * (groups / (groups - 1)) * ((n - 1) / (n - k))
    bread_inv = np.linalg.inv(bread)
    return bread_inv @ meat @ bread_inv


# ---------------------------------------------------------------------------------------------
# Validation results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CrossValidation:
    """Out-of-fold discrimination of the intent model.

    Attributes
    ----------
    auc
        AUC of all out-of-fold predictions (survey-weighted if the spec has weights).
    auc_low, auc_high
        Percentile bootstrap interval of ``auc`` over respondents.
    fold_aucs
        AUC within each fold (their spread shows refitting variability).
    n_folds, n_bootstrap, seed, level
        How it was computed.
    """

    auc: float
    auc_low: float
    auc_high: float
    fold_aucs: tuple[float, ...]
    n_folds: int
    n_bootstrap: int
    seed: int
    level: float


@dataclass(frozen=True, eq=False)
class Calibration:
    """Calibration of out-of-fold predictions.

    Attributes
    ----------
    table
        One row per bin of predicted probability (quantile bins): ``bin``, ``p_low``,
        ``p_high``, ``n``, ``mean_predicted``, ``observed_rate``, ``observed_low``,
        ``observed_high`` (Wilson interval on the Kish effective sample size).
    slope
        Slope of the logistic recalibration ``logit P(y) = a + b·logit(p)``; 1 is ideal, below 1
        means predictions are too extreme.
    intercept
        Calibration-in-the-large: intercept with ``logit(p)`` as an offset; 0 is ideal.
    """

    table: pd.DataFrame
    slope: float
    intercept: float


def _wilson(rate: float, n_eff: float, z: float) -> tuple[float, float]:
    if n_eff <= 0:
        return math.nan, math.nan
    denominator = 1 + z**2 / n_eff
    centre = (rate + z**2 / (2 * n_eff)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / n_eff + z**2 / (4 * n_eff**2)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def calibration(
    predicted: np.ndarray,
    outcome: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    n_bins: int = 10,
    level: float = 0.95,
) -> Calibration:
    """Compare predicted probabilities with observed rates.

    Assumes predictions are out-of-sample (in-sample logistic fits are calibrated by
    construction on average).

    Parameters
    ----------
    predicted
        Predicted probabilities in (0, 1).
    outcome
        0/1 outcomes.
    weights
        Survey weights, or ``None``.
    n_bins
        Number of quantile bins (fewer if predictions tie).
    level
        Level of the per-bin observed-rate interval.

    Returns
    -------
    Calibration
    """
    import statsmodels.api as sm

    w = np.ones_like(predicted) if weights is None else np.asarray(weights, dtype=float)
    edges = np.unique(np.quantile(predicted, np.linspace(0, 1, n_bins + 1)))
    index = np.clip(np.searchsorted(edges, predicted, side="right") - 1, 0, len(edges) - 2)
    z = float(stats.norm.ppf(0.5 + level / 2))
    rows: list[dict[str, float]] = []
    for b in range(len(edges) - 1):
        members = index == b
        if not members.any():
            continue
        wb = w[members]
        rate = float(np.average(outcome[members], weights=wb))
        n_eff = float(wb.sum() ** 2 / (wb**2).sum())
        low, high = _wilson(rate, n_eff, z)
        rows.append(
            {
                "bin": len(rows) + 1,
                "p_low": float(edges[b]),
                "p_high": float(edges[b + 1]),
                "n": int(members.sum()),
                "mean_predicted": float(np.average(predicted[members], weights=wb)),
                "observed_rate": rate,
                "observed_low": low,
                "observed_high": high,
            }
        )
    logit = special.logit(np.clip(predicted, 1e-12, 1 - 1e-12))
    slope_fit = sm.GLM(
        outcome, sm.add_constant(logit), family=sm.families.Binomial(), var_weights=w
    ).fit()
    intercept_fit = sm.GLM(
        outcome,
        np.ones((len(logit), 1)),
        family=sm.families.Binomial(),
        offset=logit,
        var_weights=w,
    ).fit()
    return Calibration(
        table=pd.DataFrame(rows),
        slope=float(slope_fit.params[1]),
        intercept=float(intercept_fit.params[0]),
    )


def _cross_validate(
    design: np.ndarray,
    outcome: np.ndarray,
    weights: np.ndarray,
    *,
    n_folds: int,
    n_bootstrap: int,
    seed: int,
    level: float,
) -> tuple[CrossValidation, np.ndarray]:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    out_of_fold = np.empty(len(outcome))
    fold_aucs = []
    for train, test in folds.split(design, outcome):
        beta = fit_logit(design[train], outcome[train], weights[train])
        out_of_fold[test] = special.expit(design[test] @ beta)
        fold_aucs.append(
            float(roc_auc_score(outcome[test], out_of_fold[test], sample_weight=weights[test]))
        )
    auc = float(roc_auc_score(outcome, out_of_fold, sample_weight=weights))
    rng = np.random.default_rng(seed)
    draws = []
    n = len(outcome)
    for _ in range(n_bootstrap):
        idx = rng.integers(0, n, n)
        y = outcome[idx]
        if 0 < y.sum() < n:
            draws.append(roc_auc_score(y, out_of_fold[idx], sample_weight=weights[idx]))
    tail = (1 - level) / 2
    low, high = (
        (float(np.quantile(draws, tail)), float(np.quantile(draws, 1 - tail)))
        if draws
        else (math.nan, math.nan)
    )
    result = CrossValidation(
        auc=auc,
        auc_low=low,
        auc_high=high,
        fold_aucs=tuple(fold_aucs),
        n_folds=n_folds,
        n_bootstrap=n_bootstrap,
        seed=seed,
        level=level,
    )
    return result, out_of_fold


# ---------------------------------------------------------------------------------------------
# The fitted model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FittedRetentionModel:
    """A fitted intent-to-leave model: coefficients, covariance, fit diagnostics and validation.

    Frozen and picklable; every method is a pure function of its arguments and these fields.

    Attributes
    ----------
    spec
        The specification fitted.
    coefficients
        Log-odds coefficients in ``spec.terms`` order.
    covariance
        Robust covariance of ``coefficients`` (``spec.cov_type``).
    n_rows
        Rows supplied.
    n_used
        Complete rows used in the fit.
    n_events
        Respondents at or above the threshold among the rows used.
    missing_by_column
        ``(column, count)`` of missing predictor values in the rows supplied.
    n_clusters
        Number of clusters (enterprises) among the rows used.
    df_inference
        Degrees of freedom of the t distribution used for intervals (``None``: normal).
    park_means
        Survey-weighted mean of each design column over the rows used: the "park average"
        drivers are measured against.
    cross_validation
        Out-of-fold AUC.
    calibration
        Out-of-fold calibration.
    """

    spec: RetentionModelSpec
    coefficients: np.ndarray
    covariance: np.ndarray
    n_rows: int
    n_used: int
    n_events: int
    missing_by_column: tuple[tuple[str, int], ...]
    n_clusters: int
    df_inference: int | None
    park_means: np.ndarray
    cross_validation: CrossValidation
    calibration: Calibration

    @property
    def terms(self) -> tuple[str, ...]:
        """Design-column names in coefficient order."""
        return self.spec.terms

    @property
    def n_dropped(self) -> int:
        """Rows left out of the fit because a predictor was missing."""
        return self.n_rows - self.n_used

    @property
    def standard_errors(self) -> np.ndarray:
        """Robust standard errors of ``coefficients``."""
        return np.sqrt(np.diag(self.covariance))

    def critical_value(self) -> float:
        """Return the two-sided critical value for ``spec.level`` (t with G-1 df or normal)."""
        upper = 0.5 + self.spec.level / 2
        if self.df_inference is None:
            return float(stats.norm.ppf(upper))
        return float(stats.t.ppf(upper, self.df_inference))

    def design(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Return the design matrix of ``features`` and its complete-row mask (``build_design``)."""
        design, complete, _ = build_design(features, self.spec)
        return design, complete

    def linear_predictor(self, features: pd.DataFrame) -> np.ndarray:
        """Return the log-odds of intending to leave per row (NaN where a predictor is missing)."""
        design, _ = self.design(features)
        # A row-wise sum rather than a BLAS matrix product: BLAS blocking makes the last bit of
        # a row's result depend on how many rows are multiplied together, and predictions must
        # be exactly the same whatever other rows are passed with them.
        return (design * self.coefficients).sum(axis=1)

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Return P(intends to leave) per row of ``features``.

        Assumes ``features`` has every column in ``spec.predictor_columns`` (other columns are
        ignored). Rows are independent: the result does not depend on row order or on other rows.

        Parameters
        ----------
        features
            One row per respondent (or hypothetical worker).

        Returns
        -------
        numpy.ndarray
            Probabilities in row order; NaN for a row with a missing predictor.
        """
        return special.expit(self.linear_predictor(features))

    def predict_from_features(
        self,
        respondents: pd.DataFrame,
        access: pd.DataFrame | None = None,
        *,
        key: str = "residence_id",
    ) -> np.ndarray:
        """Return P(intends to leave) per respondent with access features taken from ``access``.

        This is the scenario interface: ``access`` holds one row per ``key`` (a residence) with
        the access feature columns of a baseline or a scenario; its columns replace the
        respondents' own columns of the same name. Everything else (satisfaction, controls) is
        held fixed.

        Parameters
        ----------
        respondents
            One row per respondent with the non-access predictors and ``key``.
        access
            One row per ``key`` value, or ``None`` to use ``respondents`` as they are.
        key
            Join column.

        Returns
        -------
        numpy.ndarray
            Probabilities in ``respondents`` row order; NaN where a predictor (including an access
            feature for a residence absent from ``access``) is missing.

        Raises
        ------
        ValidationError
            If ``key`` is missing from either table or repeats in ``access``.
        """
        return self.predict_proba(merge_access(respondents, access, key=key))

    def draw_coefficients(self, n_draws: int, *, seed: int) -> np.ndarray:
        """Return ``(n_draws, k)`` coefficient vectors from N(coefficients, covariance).

        Assumes the sampling distribution of the estimates is approximately normal (parametric
        bootstrap used to propagate coefficient uncertainty into leavers).
        """
        rng = np.random.default_rng(seed)
        return rng.multivariate_normal(
            self.coefficients, self.covariance, size=n_draws, method="svd"
        )

    def coefficient_table(self) -> pd.DataFrame:
        """Return every coefficient with its robust SE, interval, odds ratio and p-value.

        Returns
        -------
        pandas.DataFrame
            Columns ``term``, ``factor``, ``level``, ``reference``, ``per``, ``label``,
            ``coefficient``, ``se``, ``low``, ``high``, ``odds_ratio``, ``or_low``, ``or_high``,
            ``p_value``; one row per term, intercept first.
        """
        se = self.standard_errors
        crit = self.critical_value()
        stat = self.coefficients / se
        if self.df_inference is None:
            p_values = 2 * stats.norm.sf(np.abs(stat))
        else:
            p_values = 2 * stats.t.sf(np.abs(stat), self.df_inference)
        meta = _term_metadata(self.spec)
        table = pd.DataFrame(meta)
        table["coefficient"] = self.coefficients
        table["se"] = se
        table["low"] = self.coefficients - crit * se
        table["high"] = self.coefficients + crit * se
        table["odds_ratio"] = np.exp(self.coefficients)
        table["or_low"] = np.exp(table["low"])
        table["or_high"] = np.exp(table["high"])
        table["p_value"] = p_values
        return table

    def odds_ratios(self) -> pd.DataFrame:
        """Return ``coefficient_table()`` without the intercept (odds ratios with intervals)."""
        table = self.coefficient_table()
        return table.loc[table["term"] != INTERCEPT].reset_index(drop=True)

    def drivers(
        self,
        features_subset: pd.DataFrame,
        *,
        reference: pd.DataFrame | None = None,
        by: Literal["factor", "term"] = "factor",
    ) -> pd.DataFrame:
        """Explain why a group's predicted intent differs from the park average.

        The contribution of a term is ``coefficient × (group mean − park mean)`` of its design
        column, in log-odds; a categorical factor sums its dummies. Contributions add up to the
        difference between the linear predictor at the group's mean and at the park's mean.
        Means are survey-weighted if the spec has weights and the column is present, over complete
        rows only.

        Parameters
        ----------
        features_subset
            Respondents of one enterprise or cohort.
        reference
            Respondents defining the park average; default the rows the model was fitted on.
        by
            ``"factor"`` (one row per predictor column) or ``"term"`` (one row per dummy).

        Returns
        -------
        pandas.DataFrame
            Columns ``factor``, ``term`` (``""`` for a multi-level factor), ``label``,
            ``group_mean``, ``park_mean`` (for a factor with dummies: NaN), ``contribution``,
            ``contribution_low``, ``contribution_high`` (coefficient uncertainty only),
            ``n_group``; sorted by absolute contribution, largest first.

        Raises
        ------
        ValidationError
            If ``features_subset`` has no complete row.
        """
        group_means, n_group = self._design_means(features_subset, "features_subset")
        park_means = (
            self.park_means if reference is None else self._design_means(reference, "reference")[0]
        )
        diff = group_means - park_means
        diff[0] = 0.0  # the intercept cancels
        meta = pd.DataFrame(_term_metadata(self.spec))
        crit = self.critical_value()
        rows = []
        keys = meta["term"] if by == "term" else meta["factor"]
        for key in dict.fromkeys(keys.iloc[1:]):
            idx = np.flatnonzero((keys == key).to_numpy())
            d = diff[idx]
            contribution = float(self.coefficients[idx] @ d)
            se = float(np.sqrt(max(d @ self.covariance[np.ix_(idx, idx)] @ d, 0.0)))
            single = len(idx) == 1
            first = meta.iloc[idx[0]]
            rows.append(
                {
                    "factor": first["factor"],
                    "term": first["term"] if single or by == "term" else "",
                    "label": first["label"] if single or by == "term" else first["factor_label"],
                    "group_mean": float(group_means[idx[0]]) if single else math.nan,
                    "park_mean": float(park_means[idx[0]]) if single else math.nan,
                    "contribution": contribution,
                    "contribution_low": contribution - crit * se,
                    "contribution_high": contribution + crit * se,
                    "n_group": n_group,
                }
            )
        table = pd.DataFrame(rows)
        order = np.argsort(-np.abs(table["contribution"].to_numpy()), kind="stable")
        return table.iloc[order].reset_index(drop=True)

    def _design_means(self, features: pd.DataFrame, name: str) -> tuple[np.ndarray, int]:
        design, complete = self.design(features)
        if not complete.any():
            raise ValidationError(
                f"{name} has no row with every predictor present; expected at least one",
            )
        weights = (
            _weights(features, self.spec)
            if self.spec.weight is not None and self.spec.weight in features.columns
            else np.ones(len(features))
        )
        return (
            np.average(design[complete], axis=0, weights=weights[complete]),
            int(complete.sum()),
        )


def _term_metadata(spec: RetentionModelSpec) -> dict[str, list[object]]:
    meta: dict[str, list[object]] = {
        "term": [INTERCEPT],
        "factor": [INTERCEPT],
        "level": [""],
        "reference": [""],
        "per": [math.nan],
        "label": ["intercept"],
        "factor_label": ["intercept"],
    }
    for term in spec.numeric:
        unit = f", per {term.per:g}" if term.per != 1 else ""
        label = term.label or f"{term.column}{unit}"
        for key, value in (
            ("term", term.column),
            ("factor", term.column),
            ("level", ""),
            ("reference", ""),
            ("per", term.per),
            ("label", label),
            ("factor_label", label),
        ):
            meta[key].append(value)
    for cat in spec.categorical:
        factor_label = cat.label or cat.column
        reference = "+".join((cat.reference, *cat.merged))
        for level in cat.dummy_levels:
            for key, value in (
                ("term", f"{cat.column}[{level}]"),
                ("factor", cat.column),
                ("level", level),
                ("reference", reference),
                ("per", math.nan),
                ("label", f"{factor_label}: {level} vs {reference}"),
                ("factor_label", factor_label),
            ):
                meta[key].append(value)
    return meta


def merge_access(
    respondents: pd.DataFrame, access: pd.DataFrame | None, *, key: str = "residence_id"
) -> pd.DataFrame:
    """Return a copy of ``respondents`` with access columns taken from ``access`` by ``key``.

    Parameters
    ----------
    respondents
        One row per respondent with column ``key``.
    access
        One row per ``key`` value; its other columns replace same-named respondent columns.
        ``None`` returns a copy of ``respondents``.
    key
        Join column.

    Returns
    -------
    pandas.DataFrame
        Same rows, order and index as ``respondents``.

    Raises
    ------
    ValidationError
        If ``key`` is missing from either table or repeats in ``access``.
    """
    result = respondents.copy()
    if access is None:
        return result
    for name, frame in (("respondents", respondents), ("access", access)):
        if key not in frame.columns:
            raise ValidationError(f"{name} has no join column {key!r}", column=key)
    duplicated = access[key].duplicated()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0]) + 1
        raise ValidationError(
            f"{key} {access[key].iloc[row - 1]!r} repeats in the access table; expected one row "
            "per value",
            row=row,
            column=key,
        )
    key_text = respondents[key].astype("string")
    lookup = access.assign(**{key: access[key].astype("string")}).set_index(key)
    for column in lookup.columns:
        result[column] = key_text.map(lookup[column]).to_numpy()
    return result


def fit_intent_model(
    respondents: pd.DataFrame,
    spec: RetentionModelSpec,
    *,
    cv_folds: int = 5,
    n_bootstrap: int = 500,
    calibration_bins: int = 10,
    seed: int = 0,
) -> FittedRetentionModel:
    """Fit the intent-to-leave logistic model and validate it out of fold.

    Assumes one row per respondent with the predictor columns of ``spec`` (survey table joined
    with access features per residence), the Likert outcome and, if the spec says so, weights and
    the cluster column. Rows with a missing predictor are dropped (complete-case) and counted.

    Parameters
    ----------
    respondents
        Feature table.
    spec
        Model specification (``default_spec()`` for the standard one).
    cv_folds
        Number of stratified folds for the out-of-fold AUC and calibration.
    n_bootstrap
        Bootstrap resamples for the AUC interval.
    calibration_bins
        Quantile bins in the calibration table.
    seed
        Seed of the fold split and the bootstrap.

    Returns
    -------
    FittedRetentionModel

    Raises
    ------
    ValidationError
        If a column is missing or a value is invalid (row and column named).
    ModelFitError
        If fewer than 10 events or non-events per term remain, there is a single cluster, or the
        fit fails.
    """
    if cv_folds < 2:
        raise ParameterError(f"cv_folds must be at least 2, got {cv_folds}", column="cv_folds")
    if n_bootstrap < 0:
        raise ParameterError(f"n_bootstrap must be >= 0, got {n_bootstrap}", column="n_bootstrap")
    design, complete, missing_counts = build_design(respondents, spec)
    outcome = _outcome(respondents, spec)
    weights = _weights(respondents, spec)
    x, y, w = design[complete], outcome[complete], weights[complete]
    k = x.shape[1]
    n_events = int(y.sum())
    # Ten events per parameter (Peduzzi et al. 1996) is the usual floor for stable logit estimates.
    fewest = min(n_events, len(y) - n_events)
    if fewest < 10 * (k - 1) or fewest < cv_folds:
        raise ModelFitError(
            f"{n_events} respondents intend to leave and {len(y) - n_events} do not among "
            f"{len(y)} complete rows; expected at least {10 * (k - 1)} of each for {k - 1} "
            "predictors (10 per predictor)",
            column=spec.outcome,
        )
    # After the check: an empty survey (a park without answers) has no mean weight.
    w = w / w.mean()  # only ratios matter; mean 1 keeps the IRLS scale familiar
    coefficients = fit_logit(x, y, w)
    clusters = None
    n_clusters = 0
    df_inference = None
    if spec.cluster in respondents.columns:
        cluster_values = respondents[spec.cluster].astype(object).to_numpy()[complete]
        n_clusters = int(pd.Series(cluster_values).nunique())
    if spec.cov_type == "cluster":
        _require_columns(respondents, [spec.cluster])
        if n_clusters < 2:
            raise ModelFitError(
                f"cluster-robust errors need at least 2 values of {spec.cluster!r}, found "
                f"{n_clusters}; use cov_type='HC1'",
                column=spec.cluster,
            )
        clusters = cluster_values
        df_inference = n_clusters - 1
    covariance = sandwich_covariance(x, y, w, coefficients, clusters=clusters)
    cv, out_of_fold = _cross_validate(
        x, y, w, n_folds=cv_folds, n_bootstrap=n_bootstrap, seed=seed, level=spec.level
    )
    return FittedRetentionModel(
        spec=spec,
        coefficients=coefficients,
        covariance=covariance,
        n_rows=len(respondents),
        n_used=len(y),
        n_events=n_events,
        missing_by_column=tuple(missing_counts.items()),
        n_clusters=n_clusters,
        df_inference=df_inference,
        park_means=np.average(x, axis=0, weights=w),
        cross_validation=cv,
        calibration=calibration(out_of_fold, y, w, n_bins=calibration_bins, level=spec.level),
    )


def coefficients_by_term(model: FittedRetentionModel) -> Mapping[str, float]:
    """Return ``{term: coefficient}`` of a fitted model."""
    return dict(zip(model.terms, model.coefficients.tolist(), strict=True))
