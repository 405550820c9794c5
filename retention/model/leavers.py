"""Expected leavers per year and their cost, from predicted intent to leave.

Stated intent is not exit: the model predicts the share of a workforce who *intend* to leave, and
the conversion probabilities of PARAMETERS.md item 7 turn that into expected exits within 12
months::

    leavers = headcount × (p̂ × P(leave | intent) + (1 − p̂) × P(leave | no intent))

where p̂ is the survey-weighted mean predicted intent of the enterprise's respondents. The interval
propagates (a) model-coefficient uncertainty, by drawing coefficient vectors from their robust
sampling distribution N(β̂, V̂) (parametric bootstrap), and (b) by default, which workers happened to
answer, by a Bayesian bootstrap (Dirichlet weights) over each enterprise's respondents. Conversion
probabilities and the replacement cost are not estimated from the data; their published ranges are
reported as sensitivities next to the interval, never folded into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, special

from retention.errors import ParameterError, ValidationError
from retention.model.intent import FittedRetentionModel


@dataclass(frozen=True)
class ConversionParameters:
    """Probabilities that stated intent (or its absence) becomes an exit within 12 months.

    Parameters
    ----------
    p_leave_given_intent
        P(leave | intends to leave). Default 0.45: PARAMETERS.md item 7 (2×2 conversion of
        ρ ≈ .38 / r ≈ .45 at a 30 % base rate, evidence 3.10, shaded down for a dichotomised item).
    p_leave_given_no_intent
        P(leave | no intent). Default 0.20: PARAMETERS.md item 7 (evidence 3.10: 0.19–0.23).
    intent_low, intent_high
        Sensitivity range of ``p_leave_given_intent``: 0.30 (Kraut 1975, evidence 3.5: 30 % of
        less-committed staff left within 18 months) to 0.57 (upper end of evidence 3.10).
    no_intent_low, no_intent_high
        Sensitivity range of ``p_leave_given_no_intent``: 0.09 (Kraut 1975, evidence 3.5) to
        0.23 (upper end of evidence 3.10).
    """

    p_leave_given_intent: float = 0.45  # PARAMETERS.md item 7
    p_leave_given_no_intent: float = 0.20  # PARAMETERS.md item 7
    intent_low: float = 0.30  # PARAMETERS.md evidence 3.5 (Kraut 1975)
    intent_high: float = 0.57  # PARAMETERS.md evidence 3.10 (DER, upper end)
    no_intent_low: float = 0.09  # PARAMETERS.md evidence 3.5 (Kraut 1975)
    no_intent_high: float = 0.23  # PARAMETERS.md evidence 3.10 (DER, upper end)

    def __post_init__(self) -> None:
        for name in (
            "p_leave_given_intent",
            "p_leave_given_no_intent",
            "intent_low",
            "intent_high",
            "no_intent_low",
            "no_intent_high",
        ):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ParameterError(f"{name} must be a probability in [0, 1], got {value}")
        if not self.intent_low <= self.p_leave_given_intent <= self.intent_high:
            raise ParameterError(
                f"p_leave_given_intent {self.p_leave_given_intent} must lie in its range "
                f"[{self.intent_low}, {self.intent_high}]"
            )
        if not self.no_intent_low <= self.p_leave_given_no_intent <= self.no_intent_high:
            raise ParameterError(
                f"p_leave_given_no_intent {self.p_leave_given_no_intent} must lie in its range "
                f"[{self.no_intent_low}, {self.no_intent_high}]"
            )


@dataclass(frozen=True)
class ReplacementCost:
    """Cost of replacing one frontline leaver (recruiting, training, ramp-up).

    Parameters
    ----------
    cost_cny_per_leaver
        Default 10,000 CNY: PARAMETERS.md item 6 (16–21 % of the 59,736 CNY NBS 2024
        manufacturing migrant wage, consistent with 7,500–8,000 CNY 返费 plus training).
    low_cny, high_cny
        Sensitivity range, 5,000–20,000 CNY (PARAMETERS.md item 6).
    """

    cost_cny_per_leaver: float = 10_000.0  # PARAMETERS.md item 6
    low_cny: float = 5_000.0  # PARAMETERS.md item 6
    high_cny: float = 20_000.0  # PARAMETERS.md item 6

    def __post_init__(self) -> None:
        if not 0 <= self.low_cny <= self.cost_cny_per_leaver <= self.high_cny:
            raise ParameterError(
                "replacement cost must satisfy 0 <= low <= cost <= high, got "
                f"{self.low_cny}, {self.cost_cny_per_leaver}, {self.high_cny}",
                column="cost_cny_per_leaver",
            )


def expected_leavers(
    headcount: float | np.ndarray,
    intent_share: float | np.ndarray,
    conversion: ConversionParameters | None = None,
    *,
    p_leave_given_intent: float | None = None,
    p_leave_given_no_intent: float | None = None,
) -> float | np.ndarray:
    """Return expected leavers per year for a workforce with a given share intending to leave.

    Assumes the conversion probabilities apply to every worker alike (PARAMETERS.md item 7).

    Parameters
    ----------
    headcount
        Employees.
    intent_share
        Share intending to leave, in [0, 1].
    conversion
        Conversion probabilities (default ``ConversionParameters()``).
    p_leave_given_intent, p_leave_given_no_intent
        Override the two probabilities (used for the sensitivity range).

    Returns
    -------
    float or numpy.ndarray
        ``headcount × (share × P(leave|intent) + (1 − share) × P(leave|no intent))``.
    """
    conversion = ConversionParameters() if conversion is None else conversion
    a = conversion.p_leave_given_intent if p_leave_given_intent is None else p_leave_given_intent
    b = (
        conversion.p_leave_given_no_intent
        if p_leave_given_no_intent is None
        else p_leave_given_no_intent
    )
    return headcount * (intent_share * a + (1 - intent_share) * b)


def leavers_by_source(
    headcount: float,
    intent_share: float,
    conversion: ConversionParameters | None = None,
) -> tuple[float, float]:
    """Split expected leavers per year into those who stated intent and the baseline rest.

    The two parts of ``expected_leavers``: ``headcount × share × P(leave|intent)`` (workers who
    say they intend to leave and do) and ``headcount × (1 − share) × P(leave|no intent)`` (the
    baseline share of workers who leave without stating any intent). They sum to
    ``expected_leavers(headcount, intent_share, conversion)``.

    Parameters
    ----------
    headcount
        Employees.
    intent_share
        Share intending to leave, in [0, 1].
    conversion
        Conversion probabilities (default ``ConversionParameters()``).

    Returns
    -------
    tuple of float
        ``(from_intent, from_no_intent)`` leavers per year.
    """
    conversion = ConversionParameters() if conversion is None else conversion
    from_intent = headcount * intent_share * conversion.p_leave_given_intent
    from_no_intent = headcount * (1 - intent_share) * conversion.p_leave_given_no_intent
    return float(from_intent), float(from_no_intent)


@dataclass(frozen=True, eq=False)
class LeaversEstimate:
    """Expected leavers per year by enterprise and for the park.

    Attributes
    ----------
    by_enterprise
        One row per enterprise of ``headcounts``: ``enterprise_id``, ``headcount``,
        ``n_respondents``, ``n_used`` (complete rows), ``intent_share`` (+ ``_low``/``_high``),
        ``leavers_per_year`` (+ ``leavers_low``/``leavers_high``: interval),
        ``leavers_conversion_low``/``_high`` (conversion sensitivity), ``cost_cny``
        (+ ``cost_low_cny``/``cost_high_cny``: interval at the default cost),
        ``cost_range_low_cny``/``cost_range_high_cny`` (replacement-cost sensitivity). An
        enterprise with no complete respondent has NaN estimates and ``n_used`` 0.
    total
        The same quantities summed over enterprises with estimates (interval from the summed
        draws, not the sum of intervals); ``intent_share`` is headcount-weighted.
    n_draws, seed, level
        How the interval was computed.
    """

    by_enterprise: pd.DataFrame
    total: pd.Series
    n_draws: int
    seed: int
    level: float


def _headcount_series(headcounts: Mapping[str, float] | pd.Series) -> pd.Series:
    series = pd.Series(headcounts, dtype=float)
    series.index = series.index.astype(str)
    bad = ~np.isfinite(series.to_numpy()) | (series.to_numpy() < 0)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"headcount {series.iloc[position]!r} of enterprise {series.index[position]!r} is "
            "invalid; expected a number >= 0",
            row=position + 1,
            column="employees",
        )
    return series


def _row_weights(model: FittedRetentionModel, frame: pd.DataFrame) -> np.ndarray:
    column = model.spec.weight
    if column is None or column not in frame.columns:
        return np.ones(len(frame))
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            "weight is invalid; expected a positive number", row=row + 1, column=column
        )
    return values


class _Draws:
    """Shared random draws so baseline and scenario use common random numbers."""

    def __init__(
        self,
        model: FittedRetentionModel,
        n_rows: int,
        *,
        n_draws: int,
        seed: int,
        resample_respondents: bool,
    ) -> None:
        rng = np.random.default_rng(seed)
        self.coefficients = rng.multivariate_normal(
            model.coefficients, model.covariance, size=n_draws, method="svd"
        )
        # Bayesian bootstrap: Exp(1) draws normalised within an enterprise are Dirichlet(1,…,1).
        self.resampling = (
            rng.exponential(1.0, size=(n_rows, n_draws))
            if resample_respondents
            else np.ones((n_rows, n_draws))
        )


def _shares(
    model: FittedRetentionModel,
    frame: pd.DataFrame,
    use: np.ndarray,
    enterprise_ids: np.ndarray,
    enterprises: pd.Index,
    draws: _Draws,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return point shares, share draws ``(enterprises, n_draws)`` and complete counts."""
    design, _ = model.design(frame)
    weights = _row_weights(model, frame)
    x = design[use]
    p_hat = special.expit((x * model.coefficients).sum(axis=1))
    p_draws = special.expit(x @ draws.coefficients.T)
    w = weights[use]
    g = draws.resampling[use]
    # One grouped sum per quantity (a sparse enterprise x row indicator) instead of a loop over
    # enterprises: the scenario lab calls this twice per scenario for hundreds of enterprises.
    position = pd.Index(enterprises).get_indexer(enterprise_ids[use])
    mine = position >= 0
    rows = np.flatnonzero(mine)
    group = sparse.csr_matrix(
        (np.ones(len(rows)), (position[mine], np.arange(len(rows)))),
        shape=(len(enterprises), len(rows)),
    )
    counts = np.bincount(position[mine], minlength=len(enterprises)).astype(int)
    estimated = counts > 0
    w_rows = w[rows]
    point = np.full(len(enterprises), np.nan)
    point[estimated] = (group @ (w_rows * p_hat[rows]))[estimated] / (group @ w_rows)[estimated]
    wg = w_rows[:, None] * g[rows]
    sampled = np.full((len(enterprises), draws.coefficients.shape[0]), np.nan)
    sampled[estimated] = (group @ (wg * p_draws[rows]))[estimated] / (group @ wg)[estimated]
    return point, sampled, counts


def _enterprise_ids(frame: pd.DataFrame) -> np.ndarray:
    if "enterprise_id" not in frame.columns:
        raise ValidationError("respondents have no 'enterprise_id' column", column="enterprise_id")
    return frame["enterprise_id"].astype(str).to_numpy()


def _checked_options(
    n_draws: int,
    level: float,
    conversion: ConversionParameters | None,
    cost: ReplacementCost | None,
) -> tuple[ConversionParameters, ReplacementCost]:
    """Check the simulation options and return the conversion and cost (defaults if ``None``)."""
    if n_draws < 10:
        raise ParameterError(f"n_draws must be at least 10, got {n_draws}", column="n_draws")
    if not 0.5 < level < 1:
        raise ParameterError(f"level must be in (0.5, 1), got {level}", column="level")
    return (
        ConversionParameters() if conversion is None else conversion,
        ReplacementCost() if cost is None else cost,
    )


def _row_quantiles(
    values: np.ndarray, tail: float, *, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``tail`` and ``1 - tail`` quantiles of each chosen row's draws (NaN elsewhere)."""
    low = np.full(values.shape[0], np.nan)
    high = np.full(values.shape[0], np.nan)
    low[rows] = np.quantile(values[rows], tail, axis=1)
    high[rows] = np.quantile(values[rows], 1 - tail, axis=1)
    return low, high


def leavers_by_enterprise(
    model: FittedRetentionModel,
    respondents: pd.DataFrame,
    headcounts: Mapping[str, float] | pd.Series,
    *,
    conversion: ConversionParameters | None = None,
    cost: ReplacementCost | None = None,
    n_draws: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    resample_respondents: bool = True,
) -> LeaversEstimate:
    """Estimate expected leavers per year, with an interval and replacement cost, per enterprise.

    Assumes respondents represent their enterprise's workforce after survey weighting, and that
    ``headcounts`` are current frontline employees (enterprises layer ``employees``).

    Parameters
    ----------
    model
        Fitted intent model.
    respondents
        Feature table (predictors, ``enterprise_id``, weights if the model has them).
    headcounts
        Employees per enterprise id; these enterprises (only) are reported, in this order.
    conversion, cost
        Conversion probabilities and replacement cost (defaults: PARAMETERS.md items 7 and 6).
    n_draws
        Simulation draws for the interval.
    seed
        Seed of the draws; the same inputs and seed give the same result.
    level
        Interval level.
    resample_respondents
        Whether the interval also includes respondent sampling (Bayesian bootstrap).

    Returns
    -------
    LeaversEstimate
    """
    conversion, cost = _checked_options(n_draws, level, conversion, cost)
    heads = _headcount_series(headcounts)
    ids = _enterprise_ids(respondents)
    _, complete = model.design(respondents)
    draws = _Draws(
        model,
        len(respondents),
        n_draws=n_draws,
        seed=seed,
        resample_respondents=resample_respondents,
    )
    point, sampled, counts = _shares(model, respondents, complete, ids, heads.index, draws)
    n_respondents = np.array([(ids == e).sum() for e in heads.index])
    return _summarise(
        heads, n_respondents, counts, point, sampled, conversion, cost, level, n_draws, seed
    )


def _summarise(
    heads: pd.Series,
    n_respondents: np.ndarray,
    counts: np.ndarray,
    point: np.ndarray,
    sampled: np.ndarray,
    conversion: ConversionParameters,
    cost: ReplacementCost,
    level: float,
    n_draws: int,
    seed: int,
) -> LeaversEstimate:
    tail = (1 - level) / 2
    h = heads.to_numpy()
    leavers = np.asarray(expected_leavers(h, point, conversion))
    leaver_draws = np.asarray(expected_leavers(h[:, None], sampled, conversion))
    estimated = counts > 0

    share_low, share_high = _row_quantiles(sampled, tail, rows=~np.isnan(sampled).any(axis=1))
    low, high = _row_quantiles(leaver_draws, tail, rows=~np.isnan(leaver_draws).any(axis=1))
    conv_low = np.asarray(
        expected_leavers(
            h,
            point,
            p_leave_given_intent=conversion.intent_low,
            p_leave_given_no_intent=conversion.no_intent_low,
        )
    )
    conv_high = np.asarray(
        expected_leavers(
            h,
            point,
            p_leave_given_intent=conversion.intent_high,
            p_leave_given_no_intent=conversion.no_intent_high,
        )
    )
    unit = cost.cost_cny_per_leaver
    table = pd.DataFrame(
        {
            "enterprise_id": heads.index.to_numpy(),
            "headcount": h,
            "n_respondents": n_respondents,
            "n_used": counts,
            "intent_share": point,
            "intent_share_low": share_low,
            "intent_share_high": share_high,
            "leavers_per_year": leavers,
            "leavers_low": low,
            "leavers_high": high,
            "leavers_conversion_low": conv_low,
            "leavers_conversion_high": conv_high,
            "cost_cny": leavers * unit,
            "cost_low_cny": low * unit,
            "cost_high_cny": high * unit,
            "cost_range_low_cny": leavers * cost.low_cny,
            "cost_range_high_cny": leavers * cost.high_cny,
        }
    )
    total_draws = leaver_draws[estimated].sum(axis=0)
    total_leavers = float(leavers[estimated].sum())
    total_heads = float(h[estimated].sum())
    total = pd.Series(
        {
            "headcount": total_heads,
            "n_respondents": int(n_respondents.sum()),
            "n_used": int(counts.sum()),
            "intent_share": float(np.average(point[estimated], weights=h[estimated]))
            if total_heads > 0
            else np.nan,
            "leavers_per_year": total_leavers,
            "leavers_low": float(np.quantile(total_draws, tail)),
            "leavers_high": float(np.quantile(total_draws, 1 - tail)),
            "leavers_conversion_low": float(conv_low[estimated].sum()),
            "leavers_conversion_high": float(conv_high[estimated].sum()),
            "cost_cny": total_leavers * unit,
            "cost_low_cny": float(np.quantile(total_draws, tail)) * unit,
            "cost_high_cny": float(np.quantile(total_draws, 1 - tail)) * unit,
            "cost_range_low_cny": total_leavers * cost.low_cny,
            "cost_range_high_cny": total_leavers * cost.high_cny,
        }
    )
    return LeaversEstimate(
        by_enterprise=table,
        total=total,
        n_draws=n_draws,
        seed=seed,
        level=level,
    )


@dataclass(frozen=True, eq=False)
class ScenarioDelta:
    """Change in expected leavers and replacement cost from baseline to scenario.

    Attributes
    ----------
    by_enterprise
        One row per enterprise: ``enterprise_id``, ``headcount``, ``n_used``,
        ``baseline_leavers``, ``scenario_leavers``, ``delta_leavers`` (scenario − baseline,
        negative = fewer leavers) with ``delta_low``/``delta_high`` (interval from common draws),
        ``delta_conversion_low``/``_high`` (conversion sensitivity), ``delta_cost_cny`` with
        ``delta_cost_low_cny``/``delta_cost_high_cny``, and ``delta_cost_range_low_cny``/
        ``_high_cny`` (replacement-cost sensitivity).
    total
        The same summed over enterprises.
    """

    by_enterprise: pd.DataFrame
    total: pd.Series
    n_draws: int
    seed: int
    level: float


def scenario_delta(
    model: FittedRetentionModel,
    baseline: pd.DataFrame,
    scenario: pd.DataFrame,
    headcounts: Mapping[str, float] | pd.Series,
    *,
    conversion: ConversionParameters | None = None,
    cost: ReplacementCost | None = None,
    n_draws: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    resample_respondents: bool = True,
) -> ScenarioDelta:
    """Estimate how many fewer (or more) workers leave per year under a scenario.

    Assumes ``baseline`` and ``scenario`` hold the same respondents in the same order and differ
    only in features the scenario changes (access minutes). Baseline and scenario use the same
    coefficient and resampling draws, so the interval is that of the difference itself. If the
    model includes satisfaction items they are held fixed (direct effect of access only; see
    ``retention.model.intent``). Only rows complete in both frames are used.

    Parameters
    ----------
    model
        Fitted intent model.
    baseline, scenario
        Feature tables (e.g. from ``retention.model.intent.merge_access`` with the baseline and
        scenario access tables).
    headcounts
        Employees per enterprise id.
    conversion, cost, n_draws, seed, level, resample_respondents
        As in ``leavers_by_enterprise``.

    Returns
    -------
    ScenarioDelta

    Raises
    ------
    ValidationError
        If the two frames do not hold the same respondents in the same order.
    """
    conversion, cost = _checked_options(n_draws, level, conversion, cost)
    if len(baseline) != len(scenario):
        raise ValidationError(
            f"baseline has {len(baseline)} rows and scenario {len(scenario)}; expected the same "
            "respondents in both"
        )
    ids = _enterprise_ids(baseline)
    if not np.array_equal(ids, _enterprise_ids(scenario)):
        row = int(np.flatnonzero(ids != _enterprise_ids(scenario))[0]) + 1
        raise ValidationError(
            "scenario rows are not the baseline respondents in the same order",
            row=row,
            column="enterprise_id",
        )
    if "respondent_id" in baseline.columns and "respondent_id" in scenario.columns:
        same = (
            baseline["respondent_id"].astype(str).to_numpy()
            == scenario["respondent_id"].astype(str).to_numpy()
        )
        if not same.all():
            raise ValidationError(
                "scenario rows are not the baseline respondents in the same order",
                row=int(np.flatnonzero(~same)[0]) + 1,
                column="respondent_id",
            )
    heads = _headcount_series(headcounts)
    use = model.design(baseline)[1] & model.design(scenario)[1]
    draws = _Draws(
        model, len(baseline), n_draws=n_draws, seed=seed, resample_respondents=resample_respondents
    )
    base_point, base_draws, counts = _shares(model, baseline, use, ids, heads.index, draws)
    scen_point, scen_draws, _ = _shares(model, scenario, use, ids, heads.index, draws)
    h = heads.to_numpy()
    tail = (1 - level) / 2
    estimated = counts > 0

    def leavers(share: np.ndarray, a: float | None = None, b: float | None = None) -> np.ndarray:
        return np.asarray(
            expected_leavers(
                h if share.ndim == 1 else h[:, None],
                share,
                conversion,
                p_leave_given_intent=a,
                p_leave_given_no_intent=b,
            )
        )

    delta = leavers(scen_point) - leavers(base_point)
    delta_draws = leavers(scen_draws) - leavers(base_draws)
    conv = [
        leavers(scen_point, a, b) - leavers(base_point, a, b)
        for a, b in (
            (conversion.intent_low, conversion.no_intent_low),
            (conversion.intent_high, conversion.no_intent_high),
        )
    ]
    conv_low, conv_high = np.minimum(*conv), np.maximum(*conv)
    low, high = _row_quantiles(delta_draws, tail, rows=estimated)
    unit = cost.cost_cny_per_leaver
    table = pd.DataFrame(
        {
            "enterprise_id": heads.index.to_numpy(),
            "headcount": h,
            "n_used": counts,
            "baseline_leavers": leavers(base_point),
            "scenario_leavers": leavers(scen_point),
            "delta_leavers": delta,
            "delta_low": low,
            "delta_high": high,
            "delta_conversion_low": conv_low,
            "delta_conversion_high": conv_high,
            "delta_cost_cny": delta * unit,
            "delta_cost_low_cny": low * unit,
            "delta_cost_high_cny": high * unit,
            "delta_cost_range_low_cny": np.minimum(delta * cost.low_cny, delta * cost.high_cny),
            "delta_cost_range_high_cny": np.maximum(delta * cost.low_cny, delta * cost.high_cny),
        }
    )
    summed = table.loc[estimated]
    total_draws = delta_draws[estimated].sum(axis=0)
    total_delta = float(summed["delta_leavers"].sum())
    total = pd.Series(
        {
            "headcount": float(summed["headcount"].sum()),
            "n_used": int(summed["n_used"].sum()),
            "baseline_leavers": float(summed["baseline_leavers"].sum()),
            "scenario_leavers": float(summed["scenario_leavers"].sum()),
            "delta_leavers": total_delta,
            "delta_low": float(np.quantile(total_draws, tail)),
            "delta_high": float(np.quantile(total_draws, 1 - tail)),
            "delta_conversion_low": float(summed["delta_conversion_low"].sum()),
            "delta_conversion_high": float(summed["delta_conversion_high"].sum()),
            "delta_cost_cny": total_delta * unit,
            "delta_cost_low_cny": float(np.quantile(total_draws, tail)) * unit,
            "delta_cost_high_cny": float(np.quantile(total_draws, 1 - tail)) * unit,
            "delta_cost_range_low_cny": min(
                total_delta * cost.low_cny, total_delta * cost.high_cny
            ),
            "delta_cost_range_high_cny": max(
                total_delta * cost.low_cny, total_delta * cost.high_cny
            ),
        }
    )
    return ScenarioDelta(by_enterprise=table, total=total, n_draws=n_draws, seed=seed, level=level)
