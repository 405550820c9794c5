"""Compare the baseline with scenarios: one KPI table, and winners and losers by group.

Every KPI is computed the same way for the baseline and each scenario, so a column per state is
side by side and scenario vs scenario is two columns of the same table. Money KPIs follow the
house definitions:

* annual cost = operating cost + annualised capital − savings (CNY per year);
* cost per person reached = annual cost / people whose best minutes improve;
* cost per leaver avoided = annual cost / leavers avoided per year (when some are avoided);
* benefit-cost ratio = leavers avoided × replacement cost per leaver / annual cost;
* payback years = capital / (leavers avoided × replacement cost − annual operating cost).

The leavers effect is the fitted model's association between access and intent to leave in this
park's survey, not a measured cause (:data:`CAUSAL_CAUTION`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from retention.model.intent import DEFAULT_MODEL_CATEGORIES
from retention.model.leavers import ReplacementCost
from retention.model.peer_benchmark import workforce_access
from retention.scenario.evaluate import (
    LEISURE_CATEGORIES,
    Evaluation,
    RetentionBasis,
    ScenarioResult,
    improvement,
    model_access,
    nearest_by_window,
    origin_keys,
)
from retention.survey.privacy import PrivacyParameters

CAUSAL_CAUTION = (
    "Leavers avoided come from the survey model's association between access and stated intent "
    "to leave in this park; it is not a proven cause. The ranges show how the figure moves with "
    "the intent-to-exit conversion and the replacement cost."
)
"""Plain-words caution shown wherever a leavers-avoided figure appears (DESIGN.md)."""


def weighted_quantile(values: np.ndarray, weights: np.ndarray, quantile: float) -> float:
    """Return the weighted ``quantile`` (inverted CDF: the smallest value reaching the share).

    ``inf`` values count (a P90 of ``inf`` means more than 10 % cannot reach it).
    """
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    if not len(values):
        return math.nan
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order]) / weights.sum()
    position = int(np.searchsorted(cumulative, quantile - 1e-12))
    return float(values[order][min(position, len(values) - 1)])


def _state_kpis(evaluation: Evaluation) -> list[tuple[str, str, float]]:
    indicators = evaluation.indicators
    origins = indicators.origins
    people = origins["weight"].to_numpy(dtype=float)
    residents = (origins["origin_set"] == "residence").to_numpy()
    workers = (origins["origin_set"] == "enterprise").to_numpy()
    rows: list[tuple[str, str, float]] = []
    met = indicators.living_circle
    for category in met.columns:
        inside = met[category].to_numpy(dtype=bool)
        rows.append(("residents_in_circle", category, float(people[residents & inside].sum())))
        rows.append(("workers_in_circle", category, float(people[workers & inside].sum())))
    nearest = indicators.nearest
    for category in LEISURE_CATEGORIES:
        minutes = nearest[category].to_numpy(dtype=float)[residents]
        weights = people[residents]
        finite = np.isfinite(minutes)
        mean = (
            float(np.average(minutes[finite], weights=weights[finite]))
            if weights[finite].sum() > 0
            else math.nan
        )
        rows.append(("mean_minutes", category, mean))
        rows.append(("p90_minutes", category, weighted_quantile(minutes, weights, 0.9)))
    gap = indicators.gap["gap_index"].to_numpy(dtype=float)
    rows.append(
        (
            "gap_index",
            "",
            float(np.average(gap[residents], weights=people[residents]))
            if people[residents].sum() > 0
            else math.nan,
        )
    )
    return rows


def kpi_table(
    baseline: Evaluation,
    scenarios: Sequence[tuple[str, ScenarioResult]],
    *,
    cost: ReplacementCost | None = None,
) -> pd.DataFrame:
    """Return the KPI table: one row per KPI (and category), one column per state.

    Parameters
    ----------
    baseline
        The baseline evaluation (column ``baseline``).
    scenarios
        ``(column name, result)`` per scenario, in column order.
    cost
        Replacement cost per leaver (default ``ReplacementCost()``).

    Returns
    -------
    pandas.DataFrame
        Index ``(kpi, category)``; columns ``baseline`` and one per scenario; leavers KPIs also
        have ``<name>_low`` / ``<name>_high`` interval columns.
    """
    cost = cost or ReplacementCost()
    columns: dict[str, dict[tuple[str, str], float]] = {
        "baseline": {(k, c): v for k, c, v in _state_kpis(baseline)}
    }
    for name, result in scenarios:
        values = {(k, c): v for k, c, v in _state_kpis(result.evaluation)}
        low: dict[tuple[str, str], float] = {}
        high: dict[tuple[str, str], float] = {}
        annual = result.annual_cost_cny
        operating = float(result.costs["annual_operating_cny"].sum()) if len(result.costs) else 0.0
        values[("annual_cost_cny", "")] = annual
        values[("capital_cny", "")] = result.capital_cny
        values[("people_reached", "")] = result.people_reached
        values[("cost_per_person_reached_cny", "")] = (
            annual / result.people_reached if result.people_reached > 0 else math.nan
        )
        if result.leavers is not None:
            total = result.leavers.total
            avoided = -float(total["delta_leavers"])
            columns["baseline"][("expected_leavers", "")] = float(total["baseline_leavers"])
            values[("expected_leavers", "")] = float(total["scenario_leavers"])
            values[("leavers_avoided", "")] = avoided
            low[("leavers_avoided", "")] = -float(total["delta_high"])
            high[("leavers_avoided", "")] = -float(total["delta_low"])
            low[("leavers_avoided_conversion", "")] = -float(total["delta_conversion_high"])
            high[("leavers_avoided_conversion", "")] = -float(total["delta_conversion_low"])
            benefit = avoided * cost.cost_cny_per_leaver
            values[("cost_per_leaver_avoided_cny", "")] = (
                annual / avoided if avoided > 0 else math.nan
            )
            values[("benefit_cny_per_year", "")] = benefit
            low[("benefit_cny_per_year", "")] = avoided * cost.low_cny
            high[("benefit_cny_per_year", "")] = avoided * cost.high_cny
            values[("benefit_cost_ratio", "")] = benefit / annual if annual > 0 else math.nan
            net = benefit - operating
            values[("payback_years", "")] = (
                result.capital_cny / net if net > 0 and result.capital_cny > 0 else math.nan
            )
        columns[name] = values
        columns[f"{name}_low"] = low
        columns[f"{name}_high"] = high
    table = pd.DataFrame(columns)
    table.index = pd.MultiIndex.from_tuples(table.index, names=["kpi", "category"])
    return table


def origin_gains(
    result: ScenarioResult, *, categories: Sequence[str] | None = None
) -> gpd.GeoDataFrame:
    """Minutes saved per residence and enterprise, averaged over ``categories``.

    Unreachable counts as 60 minutes (``retention.scenario.evaluate.improvement``); the default
    categories are the living-circle ones. H3 cells are left out (their people are the
    residences' and enterprises' again).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by origin key: ``origin_set``, ``origin_id``, ``name``, ``zone``, ``people``,
        ``minutes_saved`` and point geometry (WGS84).
    """
    window = result.baseline.options.window
    before = nearest_by_window(result.baseline, window)
    after = nearest_by_window(result.evaluation, window)
    chosen = list(categories or result.baseline.indicators.living_circle.columns)
    gain = improvement(before[chosen], after[chosen]).mean(axis=1)
    origins = result.evaluation.travel.origins
    frame = gpd.GeoDataFrame(
        {
            "origin_set": origins["origin_set"].to_numpy(),
            "origin_id": origins["origin_id"].astype(str).to_numpy(),
            "name": origins["name"].astype(str).to_numpy(),
            "zone": origins["grid_zone_id"].astype(str).to_numpy(),
            "people": origins["weight"].to_numpy(dtype=float),
        },
        geometry=origins.geometry.to_numpy(),
        crs=origins.crs,
        index=origin_keys(origins),
    )
    frame = frame.loc[frame["origin_set"].isin(["residence", "enterprise"]).to_numpy()]
    return frame.join(gain.rename("minutes_saved"), how="inner")


def winners_and_losers(
    result: ScenarioResult,
    *,
    retention: RetentionBasis | None = None,
    privacy: PrivacyParameters | None = None,
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return who gains and who loses: mean minutes saved by enterprise, residence, zone, cohort.

    Minutes saved are per origin, averaged over ``categories`` (default the living-circle
    categories), unreachable counted as 60 minutes; groups weight origins by their people.
    Cohorts (age bands) come from survey respondents and show the change in mean predicted
    intent to leave; a cohort with fewer than ``privacy.min_group_size`` respondents is left out.

    Returns
    -------
    pandas.DataFrame
        ``group_kind`` (enterprise, residence, zone, cohort), ``group_id``, ``people``
        (respondents for cohorts), ``minutes_saved`` (origins) or ``intent_change`` (cohorts).
    """
    privacy = privacy or PrivacyParameters()
    frame = origin_gains(result, categories=categories)
    rows = []
    for kind, origin_set, column in (
        ("enterprise", "enterprise", "origin_id"),
        ("residence", "residence", "origin_id"),
        ("zone", "residence", "zone"),
    ):
        part = pd.DataFrame(frame.loc[frame["origin_set"] == origin_set])
        for group, members in part.groupby(column):
            people = float(members["people"].sum())
            saved = (
                float(np.average(members["minutes_saved"], weights=members["people"]))
                if people > 0
                else float(members["minutes_saved"].mean())
            )
            rows.append(
                {
                    "group_kind": kind,
                    "group_id": str(group),
                    "people": people,
                    "minutes_saved": saved,
                }
            )
    if retention is not None and "age_band" in retention.features.columns:
        model = retention.model
        before_features = retention.features.assign(
            **_columns(model_access(result.baseline, retention), retention)
        )
        after_features = retention.features.assign(
            **_columns(model_access(result.evaluation, retention), retention)
        )
        change = model.predict_proba(after_features) - model.predict_proba(before_features)
        bands = retention.features["age_band"].astype(str).to_numpy()
        for band in sorted(set(bands)):
            members = (bands == band) & np.isfinite(change)
            n = int(members.sum())
            if n < privacy.min_group_size:
                continue
            rows.append(
                {
                    "group_kind": "cohort",
                    "group_id": band,
                    "people": float(n),
                    "intent_change": float(change[members].mean()),
                }
            )
    return pd.DataFrame(rows)


def _columns(access: pd.DataFrame, retention: RetentionBasis) -> dict[str, np.ndarray]:
    lookup = access.assign(residence_id=access["residence_id"].astype(str)).set_index(
        "residence_id"
    )
    ids = retention.features["residence_id"].astype("string")
    return {column: ids.map(lookup[column]).to_numpy(dtype=float) for column in lookup.columns}


@dataclass(frozen=True, eq=False)
class EnterpriseChange:
    """What a scenario changes for one enterprise's workforce.

    Attributes
    ----------
    enterprise_id
        The enterprise.
    baseline_access, scenario_access
        ``retention.model.peer_benchmark.workforce_access`` of the baseline and of the scenario:
        minutes (the evaluation's mode and window) to the nearest amenity of each model category
        at the workplace and in the enterprise's dormitories.
    leavers
        The enterprise's row of ``ScenarioResult.leavers.by_enterprise`` (``delta_leavers``
        with its interval and cost columns), or ``None`` without a fitted model.
    suppressed
        Whether the leavers row is withheld: fewer than k respondents of the enterprise.
    """

    enterprise_id: str
    baseline_access: pd.DataFrame
    scenario_access: pd.DataFrame
    leavers: pd.Series | None
    suppressed: bool


def enterprise_change(
    result: ScenarioResult,
    enterprise_id: str,
    *,
    privacy: PrivacyParameters | None = None,
) -> EnterpriseChange:
    """Return the scenario's change in access and expected leavers for one enterprise.

    Access is measured as the lab measures it (``result.baseline.options``: walk or ride in the
    weekday evening by default), so a shuttle counts. The leavers figure is the scenario's model
    estimate for the enterprise; it is withheld when fewer than ``privacy.min_group_size``
    respondents of the enterprise were used (``n_used``), as the enterprise view withholds its own.

    Parameters
    ----------
    result
        The scenario measured against the baseline.
    enterprise_id
        The enterprise.
    privacy
        The park's disclosure parameters (k). The caller checks that the user may see the
        enterprise (``retention.auth.roles.require_enterprise_in_scope``).

    Returns
    -------
    EnterpriseChange
        Baseline and scenario access, and the leavers row (or ``None``).
    """
    privacy = privacy or PrivacyParameters()
    access = [
        workforce_access(
            evaluation.indicators.nearest,
            evaluation.indicators.origins,
            enterprise_id,
            categories=DEFAULT_MODEL_CATEGORIES,
        )
        for evaluation in (result.baseline, result.evaluation)
    ]
    row: pd.Series | None = None
    suppressed = False
    if result.leavers is not None:
        table = result.leavers.by_enterprise
        match = table.loc[table["enterprise_id"].astype(str) == str(enterprise_id)]
        if match.empty or int(match["n_used"].iloc[0]) < privacy.min_group_size:
            suppressed = True
        else:
            row = match.iloc[0].copy()
    return EnterpriseChange(str(enterprise_id), access[0], access[1], row, suppressed)


__all__ = [
    "CAUSAL_CAUTION",
    "EnterpriseChange",
    "enterprise_change",
    "kpi_table",
    "origin_gains",
    "weighted_quantile",
    "winners_and_losers",
]
