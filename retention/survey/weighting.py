"""Survey weights: post-stratification to enterprise headcounts, raking when age is known too.

Respondents are not a random sample of the park's workers: a large firm whose HR pushed the
survey is over-represented, a three-shift plant under-represented. Weights make each enterprise
count with its headcount (``employees`` in the enterprises layer) and, where the park knows its
age structure, each age band with its share. With one margin this is post-stratification
(w = N_e / n_e); with two it is raking (iterative proportional fitting), which matches both
margins without needing the joint enterprise × age table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from retention.errors import ParameterError, ValidationError


@dataclass(frozen=True)
class WeightingParameters:
    """Options of ``survey_weights``.

    Parameters
    ----------
    trim_max_ratio
        Cap every weight at this multiple of the median weight (then re-rake), or ``None`` for
        no trimming. 5 is a common choice: it bounds the design effect a single respondent can
        cause at the price of a small bias.
    max_iterations
        Raking iterations before giving up.
    tolerance
        Largest relative margin error accepted as converged.
    """

    trim_max_ratio: float | None = None
    max_iterations: int = 200
    tolerance: float = 1e-8

    def __post_init__(self) -> None:
        if self.trim_max_ratio is not None and not self.trim_max_ratio > 1:
            raise ParameterError(
                f"trim_max_ratio must be > 1 (a multiple of the median), got {self.trim_max_ratio}",
                column="trim_max_ratio",
            )
        if self.max_iterations < 1:
            raise ParameterError("max_iterations must be >= 1", column="max_iterations")
        if not self.tolerance > 0:
            raise ParameterError("tolerance must be > 0", column="tolerance")


@dataclass(frozen=True)
class WeightingResult:
    """Weights and their diagnostics.

    Parameters
    ----------
    weights
        One weight per respondent (index of the survey); they sum to the headcount of the
        covered enterprises, so a weighted count estimates workers.
    effective_n
        Kish effective sample size (Σw)² / Σw².
    design_effect
        n / effective_n: how much the weighting inflates variances.
    uncovered_enterprises
        Enterprises with employees but no respondent: the weights cannot represent them.
    converged
        Whether raking met the tolerance (always true for one margin).
    iterations
        Raking iterations used.
    trimmed
        Number of weights capped by trimming.
    margins
        Names of the margins matched (``"enterprise"``, ``"age_band"``).
    """

    weights: pd.Series
    effective_n: float
    design_effect: float
    uncovered_enterprises: tuple[str, ...]
    converged: bool
    iterations: int
    trimmed: int
    margins: tuple[str, ...]


def kish_effective_n(weights: pd.Series | np.ndarray) -> float:
    """Return Kish's effective sample size (Σw)² / Σw² (0 for no positive weight)."""
    w = np.asarray(weights, dtype=float)
    w = w[np.isfinite(w)]
    denominator = float(np.sum(w**2))
    return float(np.sum(w) ** 2 / denominator) if denominator > 0 else 0.0


def enterprise_headcounts(enterprises: pd.DataFrame) -> dict[str, float]:
    """Return ``{enterprise id: employees}`` from the enterprises layer."""
    for column in ("id", "employees"):
        if column not in enterprises.columns:
            raise ValidationError(
                f"enterprises layer lacks column {column!r}; expected id and employees",
                column=column,
            )
    counts = pd.to_numeric(enterprises["employees"], errors="coerce")
    return {
        str(i): float(c)
        for i, c in zip(enterprises["id"], counts, strict=True)
        if pd.notna(c) and c > 0
    }


def survey_weights(
    survey: pd.DataFrame,
    headcounts: Mapping[str, float],
    *,
    age_shares: Mapping[str, float] | None = None,
    parameters: WeightingParameters | None = None,
) -> WeightingResult:
    """Weight respondents to enterprise headcounts (and age-band shares when given).

    Assumes ``survey`` is the canonical table; ``headcounts`` are employees per enterprise id;
    ``age_shares`` are the park's shares of workers per age band (they are normalised to sum to
    1). Respondents without an age band keep their enterprise weight through the age step.

    Parameters
    ----------
    survey
        Respondents (``enterprise_id``; ``age_band`` if raking).
    headcounts
        Employees per enterprise id.
    age_shares
        Share of the park's workers in each age band, or ``None`` for enterprise-only weights.
    parameters
        Trimming and raking options (default ``WeightingParameters()``).

    Returns
    -------
    WeightingResult
        Weights aligned to ``survey.index`` and diagnostics.

    Raises
    ------
    ValidationError
        A respondent's enterprise has no headcount, or an age share is negative/unknown.
    """
    parameters = parameters if parameters is not None else WeightingParameters()
    if "enterprise_id" not in survey.columns:
        raise ValidationError("survey lacks column 'enterprise_id'", column="enterprise_id")
    enterprise = survey["enterprise_id"].astype("string")
    known = {str(k): float(v) for k, v in headcounts.items()}
    missing = sorted(set(enterprise.dropna()) - set(known))
    if missing:
        first = int(np.flatnonzero(enterprise.isin(missing).to_numpy())[0]) + 1
        raise ValidationError(
            f"enterprise {missing[0]!r} has no headcount; expected employees > 0 in the "
            f"enterprises layer for every surveyed enterprise ({len(missing)} missing)",
            row=first,
            column="enterprise_id",
        )
    present = set(enterprise.dropna())
    uncovered = tuple(sorted(k for k in known if k not in present))
    n = len(survey)
    if n == 0:
        return WeightingResult(
            pd.Series(dtype=float, index=survey.index), 0.0, 1.0, uncovered, True, 0, 0, ()
        )
    targets_e = {k: v for k, v in known.items() if k in present}
    total = sum(targets_e.values())
    weights = np.ones(n)
    margins: list[tuple[str, pd.Series, dict[str, float]]] = [("enterprise", enterprise, targets_e)]
    if age_shares is not None:
        if "age_band" not in survey.columns:
            raise ValidationError("survey lacks column 'age_band' for age raking")
        shares = {str(k): float(v) for k, v in age_shares.items()}
        if any(v < 0 or not np.isfinite(v) for v in shares.values()) or sum(shares.values()) <= 0:
            raise ParameterError(
                "age_shares must be non-negative and sum to more than 0", column="age_shares"
            )
        age = survey["age_band"].astype("string")
        observed = set(age.dropna())
        unknown = sorted(observed - set(shares))
        if unknown:
            raise ValidationError(
                f"age band {unknown[0]!r} has no share in age_shares; expected a share for "
                "every band respondents chose",
                column="age_band",
            )
        # Bands nobody in the survey belongs to cannot be represented; rescale over the rest.
        covered = {k: v for k, v in shares.items() if k in observed}
        scale = sum(covered.values())
        if scale > 0:
            with_age = float(age.notna().sum()) / n
            targets_a = {k: v / scale * total * with_age for k, v in covered.items()}
            margins.append(("age_band", age, targets_a))
    trimmed = 0
    weights, converged, iterations = _rake(weights, margins, parameters)
    if parameters.trim_max_ratio is not None:
        # Cap, then spread the trimmed mass over all weights so they still sum to the
        # headcount; repeat because rescaling can lift a weight over the cap again. Margins are
        # then only approximately met: that is the bias trimming trades for variance.
        capped = np.zeros(n, dtype=bool)
        for _ in range(parameters.max_iterations):
            cap = parameters.trim_max_ratio * float(np.median(weights))
            over = weights > cap * (1 + 1e-9)
            if not over.any():
                break
            capped |= over
            weights = np.minimum(weights, cap)
            free = ~capped
            excess = total - weights.sum()
            if free.any() and weights[free].sum() > 0:
                weights[free] *= 1 + excess / weights[free].sum()
            else:
                weights *= total / weights.sum()
        trimmed = int(capped.sum())
    result = pd.Series(weights, index=survey.index, name="weight")
    n_eff = kish_effective_n(result)
    return WeightingResult(
        weights=result,
        effective_n=n_eff,
        design_effect=n / n_eff if n_eff > 0 else float("inf"),
        uncovered_enterprises=uncovered,
        converged=converged,
        iterations=iterations,
        trimmed=trimmed,
        margins=tuple(name for name, _, _ in margins),
    )


def _rake(
    weights: np.ndarray,
    margins: list[tuple[str, pd.Series, dict[str, float]]],
    parameters: WeightingParameters,
) -> tuple[np.ndarray, bool, int]:
    w = weights.copy()
    # Masks once: a missing label (NA) belongs to no level, so it keeps its weight in that step.
    masks = [
        [
            (labels.eq(level).fillna(False).to_numpy(dtype=bool), target)
            for level, target in t.items()
        ]
        for _, labels, t in margins
    ]
    for iteration in range(1, parameters.max_iterations + 1):
        for margin in masks:
            for mask, target in margin:
                current = w[mask].sum()
                if current > 0:
                    w[mask] *= target / current
        worst = 0.0
        for margin in masks:
            for mask, target in margin:
                current = w[mask].sum()
                worst = max(worst, abs(current - target) / target if target > 0 else 0.0)
        if worst <= parameters.tolerance:
            return w, True, iteration
    return w, False, parameters.max_iterations
