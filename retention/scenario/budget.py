"""Budget package: the combination of interventions that buys the most for an annual budget.

A 0-1 knapsack solved as a mixed-integer programme with ``scipy.optimize.milp`` (HiGHS)::

    maximise Σ_i b_i x_i   subject to   Σ_i c_i x_i ≤ budget,   x_i ∈ {0, 1}

where ``c_i`` is an intervention's annual cost (operating + annualised capital) and ``b_i`` its
benefit measured alone (expected leavers avoided per year, or people newly inside the
15-minute circle). Runner-up packages come from re-solving with a cut that excludes every package
already found. Benefits of interventions that serve the same people are not additive, so the
chosen package is then evaluated as one whole scenario (:func:`package_scenario`), and that — not
the sum — is the figure to report.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from retention.access.indicators import IndicatorParameters
from retention.errors import ParameterError, ScenarioError, ValidationError
from retention.model.leavers import ConversionParameters, ReplacementCost
from retention.scenario.evaluate import (
    Evaluation,
    RetentionBasis,
    ScenarioResult,
    evaluate_scenario,
    origin_keys,
)
from retention.scenario.model import (
    PACKAGE_OBJECTIVES,
    BudgetPackage,
    Modification,
    PackageItem,
    ParkContext,
    Scenario,
    validate_scenario,
)
from retention.scenario.shuttle import ShuttleParameters

OBJECTIVES: tuple[str, ...] = PACKAGE_OBJECTIVES
"""What a package maximises."""


@dataclass(frozen=True)
class Package:
    """One combination of interventions.

    Attributes
    ----------
    chosen
        Indices of the chosen interventions, ascending.
    annual_cost_cny
        Sum of their annual costs.
    benefit
        Sum of their benefits measured alone.
    """

    chosen: tuple[int, ...]
    annual_cost_cny: float
    benefit: float


def _checked(
    costs: Sequence[float], benefits: Sequence[float], budget: float
) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(costs, dtype=float)
    b = np.asarray(benefits, dtype=float)
    if c.shape != b.shape or c.ndim != 1:
        raise ValidationError(
            f"{len(c)} costs and {len(b)} benefits; expected one of each per intervention"
        )
    if not np.isfinite(c).all() or not np.isfinite(b).all():
        raise ValidationError("costs and benefits must be finite numbers", column="benefit")
    if not np.isfinite(budget) or budget < 0:
        raise ParameterError(f"budget is {budget!r}; expected CNY >= 0", column="budget")
    return c, b


def best_packages(
    costs: Sequence[float],
    benefits: Sequence[float],
    budget: float,
    *,
    count: int = 3,
) -> list[Package]:
    """Return the best package within ``budget`` and up to ``count - 1`` runners-up, best first.

    An intervention with no benefit is chosen only when it saves money (a negative cost) that
    funds others.

    Parameters
    ----------
    costs
        Annual cost of each intervention, CNY.
    benefits
        Benefit of each, measured alone.
    budget
        Annual budget, CNY.
    count
        How many packages to return (fewer when fewer distinct packages fit).

    Returns
    -------
    list of Package
    """
    c, b = _checked(costs, benefits, budget)
    n = len(c)
    if n == 0:
        return []
    found: list[Package] = []
    cuts_a: list[np.ndarray] = []
    cuts_ub: list[float] = []
    for _ in range(count):
        constraints = [LinearConstraint(c[None, :], -np.inf, budget)]
        if cuts_a:
            constraints.append(LinearConstraint(np.vstack(cuts_a), -np.inf, np.array(cuts_ub)))
        # An intervention that neither helps nor saves money can only waste budget.
        upper = np.where((b > 0) | (c < 0), 1.0, 0.0)
        result = milp(
            -b,
            constraints=constraints,
            integrality=np.ones(n),
            bounds=Bounds(np.zeros(n), upper),
        )
        if result.x is None:
            break
        x = result.x > 0.5
        chosen = tuple(int(i) for i in np.flatnonzero(x))
        if not chosen:
            break
        found.append(Package(chosen, float(c[x].sum()), float(b[x].sum())))
        # No-good cut: Σ_{i in S} x_i − Σ_{i not in S} x_i ≤ |S| − 1 excludes exactly S.
        cuts_a.append(np.where(x, 1.0, -1.0))
        cuts_ub.append(float(len(chosen) - 1))
    return found


def brute_force_best(costs: Sequence[float], benefits: Sequence[float], budget: float) -> float:
    """Best total benefit over every subset within budget (for checking small instances)."""
    c, b = _checked(costs, benefits, budget)
    best = 0.0
    for size in range(1, len(c) + 1):
        for chosen in itertools.combinations(range(len(c)), size):
            index = list(chosen)
            if c[index].sum() <= budget + 1e-9:
                best = max(best, float(b[index].sum()))
    return best


def package_scenario(
    name: str, modifications: Sequence[Modification], package: Package
) -> Scenario:
    """The chosen interventions as one scenario, in their original order."""
    return Scenario(
        name,
        tuple(modifications[i] for i in package.chosen),
        "budget package: " + ", ".join(str(i + 1) for i in package.chosen),
    )


def recorded_package(
    name: str,
    modifications: Sequence[Modification],
    package: Package,
    measured: pd.DataFrame,
    *,
    budget_cny_per_year: float,
    objective: str,
) -> Scenario:
    """The chosen package as a scenario that records how it was chosen, to save and report.

    Parameters
    ----------
    name
        The scenario's name.
    modifications
        Every candidate intervention, in the order :func:`intervention_table` measured them.
    package
        The package chosen among them (:func:`best_packages`).
    measured
        :func:`intervention_table` of ``modifications``: each one's annual cost and benefit alone.
    budget_cny_per_year, objective
        The budget and the objective the package was chosen for.

    Returns
    -------
    Scenario
        :func:`package_scenario` with its :class:`~retention.scenario.model.BudgetPackage`.
    """
    if len(measured) != len(modifications):
        raise ValidationError(
            f"{len(measured)} measured interventions for {len(modifications)} candidates; "
            "expected intervention_table of the same candidates",
            column="intervention",
        )
    chosen = set(package.chosen)
    items = tuple(
        PackageItem(
            modification,
            float(measured["annual_cost_cny"].iloc[i]),
            float(measured["benefit"].iloc[i]),
            i in chosen,
        )
        for i, modification in enumerate(modifications)
    )
    return replace(
        package_scenario(name, modifications, package),
        package=BudgetPackage(float(budget_cny_per_year), objective, items),
    )


def people_newly_in_circle(result: ScenarioResult) -> float:
    """People (residents at home, workers at work) with a living-circle category newly in reach."""
    before = result.baseline.indicators
    after = result.evaluation.indicators
    met_before = before.living_circle.set_axis(origin_keys(before.origins))
    met_after = after.living_circle.set_axis(origin_keys(after.origins))
    common = met_before.index.intersection(met_after.index)
    gained = (
        met_after.loc[common].to_numpy(dtype=bool) & ~met_before.loc[common].to_numpy(dtype=bool)
    ).any(axis=1)
    origins = after.origins.set_axis(origin_keys(after.origins)).loc[common]
    people = origins["weight"].to_numpy(dtype=float)
    counted = origins["origin_set"].isin(("residence", "enterprise")).to_numpy()
    return float(people[gained & counted].sum())


def benefit_of(result: ScenarioResult, objective: str) -> float:
    """A scenario's benefit: leavers avoided per year, or people newly in the living circle."""
    if objective not in OBJECTIVES:
        raise ParameterError(
            f"objective is {objective!r}; expected one of {OBJECTIVES}", column="objective"
        )
    if objective == "people_newly_in_circle":
        return people_newly_in_circle(result)
    if result.leavers is None:
        raise ValidationError(
            "leavers avoided need a fitted retention model; choose people_newly_in_circle",
            column="objective",
        )
    return -float(result.leavers.total["delta_leavers"])


def intervention_table(
    baseline: Evaluation,
    modifications: Sequence[Modification],
    context: ParkContext,
    *,
    objective: str,
    indicator_parameters: IndicatorParameters,
    retention: RetentionBasis | None = None,
    shuttle: ShuttleParameters | None = None,
    conversion: ConversionParameters | None = None,
    cost: ReplacementCost | None = None,
) -> pd.DataFrame:
    """Measure each intervention alone: its annual cost and benefit (a scenario of one).

    Raises
    ------
    ScenarioError
        If an intervention cannot stand alone (e.g. a headway change of a route another
        intervention adds).

    Returns
    -------
    pandas.DataFrame
        ``intervention`` (1-based), ``kind``, ``annual_cost_cny``, ``benefit``.
    """
    rows = []
    for number, modification in enumerate(modifications, start=1):
        alone = Scenario(f"intervention {number}", (modification,))
        try:
            validate_scenario(alone, context)
        except ScenarioError as error:
            raise ScenarioError(
                f"intervention {number} cannot be measured alone: {error}", column="modifications"
            ) from error
        result = evaluate_scenario(
            baseline,
            alone,
            indicator_parameters=indicator_parameters,
            retention=retention if objective == "leavers_avoided" else None,
            shuttle=shuttle,
            conversion=conversion,
            cost=cost,
        )
        rows.append(
            {
                "intervention": number,
                "kind": modification.op,
                "annual_cost_cny": result.annual_cost_cny,
                "benefit": benefit_of(result, objective),
            }
        )
    return pd.DataFrame(rows, columns=["intervention", "kind", "annual_cost_cny", "benefit"])


__all__ = [
    "OBJECTIVES",
    "Package",
    "benefit_of",
    "best_packages",
    "brute_force_best",
    "intervention_table",
    "package_scenario",
    "people_newly_in_circle",
    "recorded_package",
]
