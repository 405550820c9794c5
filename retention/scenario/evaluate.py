"""Evaluate a scenario: modified layers → travel times → indicators → leavers avoided and yuan.

This is the full recomputation: the scenario's park (``retention.scenario.layers``) goes through
the same engine and indicator functions as the baseline. It is the reference any incremental
path must reproduce.

Retention: the fitted intent model's access features (minutes to the nearest amenity of each
model category, by residence) are recomputed on the scenario, and
``retention.model.leavers.scenario_delta`` turns the change into expected leavers per year, with
an interval from common random draws. The features are measured by ``EvaluationOptions.mode``:
``transit`` (walk or ride, whichever is faster) by default, so a shuttle can count at all, while the
model was fitted on walking minutes; the page says so. Workers who move residence are handled by
splitting each respondent of the source residence into a staying and a moving share (weights
``1 − f`` and ``f``) that ride the same draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from retention.access.engine import ParkEngine
from retention.access.indicator_updates import update_indicators
from retention.access.indicators import IndicatorParameters, ParkIndicators, indicators_for_window
from retention.access.measures import nearest_minutes
from retention.access.network import StreetNetwork, network_from_roads, project_points
from retention.access.parameters import TimeWindow, TravelParameters
from retention.access.travel_times import Mode, TravelTimeResult, travel_times_for_park
from retention.data.crs import utm_crs_for_frame
from retention.data.layers import WGS84, AmenityCategory, LayerKind
from retention.errors import ParameterError
from retention.model.intent import FittedRetentionModel, merge_access
from retention.model.leavers import (
    ConversionParameters,
    ReplacementCost,
    ScenarioDelta,
    scenario_delta,
)
from retention.model.peer_benchmark import residence_access
from retention.scenario.incremental import IncrementalUnsupported, scenario_travel_times
from retention.scenario.layers import AppliedScenario, apply_scenario
from retention.scenario.model import (
    AddAmenity,
    AddResidence,
    AddRoute,
    CloseAmenity,
    ResizeAmenity,
    Scenario,
)
from retention.scenario.shuttle import (
    RouteOperations,
    RouteRiders,
    ShuttleParameters,
    route_operations,
    route_riders,
)
from retention.storage.park import ParkData

LEISURE_CATEGORIES: tuple[str, ...] = (
    AmenityCategory.SPORTS_COURT.value,
    AmenityCategory.GYM.value,
    AmenityCategory.PARK.value,
    AmenityCategory.LIBRARY_CULTURE.value,
    AmenityCategory.CAFE_LEISURE.value,
)
"""Categories whose evening minutes the comparison reports (after-work leisure)."""

PEOPLE_SETS: tuple[str, ...] = ("residence", "enterprise")
"""Origin sets whose people are counted: residents at home and workers at work."""


@dataclass(frozen=True)
class EvaluationOptions:
    """How a scenario is measured (frozen: a cache key).

    Parameters
    ----------
    mode
        Travel mode of the indicators and the model's access features; ``transit`` is walk or
        ride, whichever is faster.
    window
        Time-window key (the model's access terms are for ``weekday_evening``).
    model_feature_mode
        Mode named in the fitted model's access columns (``walk`` in the default spec).
    n_draws, seed, level
        Simulation of the leavers interval.
    """

    mode: Mode = "transit"
    window: str = "weekday_evening"
    model_feature_mode: str = "walk"
    n_draws: int = 400
    seed: int = 0
    level: float = 0.95

    def __post_init__(self) -> None:
        if self.mode not in ("walk", "ebike", "transit"):
            raise ParameterError(
                f"mode is {self.mode!r}; expected walk, ebike or transit", column="mode"
            )


@dataclass(frozen=True, eq=False)
class RetentionBasis:
    """The fitted intent model and the respondents it predicts for.

    Attributes
    ----------
    model
        Fitted model.
    features
        Respondents with ``residence_id``, ``enterprise_id``, predictors and weights.
    headcounts
        Employees per enterprise id.
    model_categories
        Categories of the model's access terms.
    """

    model: FittedRetentionModel
    features: pd.DataFrame
    headcounts: Mapping[str, float]
    model_categories: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Access of one state of the park (baseline or a scenario).

    Attributes
    ----------
    park
        The park as evaluated.
    travel
        Travel times (every mode and window).
    indicators
        Indicators for ``options.mode`` and ``options.window``.
    options
        How it was measured.
    """

    park: ParkData
    travel: TravelTimeResult
    indicators: ParkIndicators
    options: EvaluationOptions
    # Nearest minutes per (mode, window), filled on first use: a cache, never an input.
    _nearest: dict[tuple[str, str], pd.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """A scenario measured against its baseline.

    Attributes
    ----------
    applied
        The scenario applied to the park.
    baseline, evaluation
        Baseline and scenario access.
    operations, riders
        Operations and riders of each new route.
    costs
        One row per costed modification: ``modification``, ``kind``, ``capital_cny``,
        ``annual_operating_cny``, ``annualised_capital_cny``, ``annual_cost_cny``,
        ``fare_revenue_cny``.
    leavers
        Change in expected leavers (``None`` without a fitted model).
    people_reached
        People (residents at home, workers at work) whose best minutes to some category improve
        by at least ``ShuttleParameters.min_gain_minutes`` in the options' window.
    """

    applied: AppliedScenario
    baseline: Evaluation
    evaluation: Evaluation
    operations: Mapping[str, RouteOperations]
    riders: Mapping[str, RouteRiders]
    costs: pd.DataFrame
    leavers: ScenarioDelta | None
    people_reached: float
    shuttle: ShuttleParameters = field(default_factory=ShuttleParameters)

    @property
    def annual_cost_cny(self) -> float:
        """Operating cost plus annualised capital, less savings, CNY per year."""
        return float(self.costs["annual_cost_cny"].sum()) if len(self.costs) else 0.0

    @property
    def capital_cny(self) -> float:
        """One-off capital cost."""
        return float(self.costs["capital_cny"].sum()) if len(self.costs) else 0.0


def evaluate_park(
    park: ParkData,
    *,
    params: TravelParameters,
    windows: tuple[TimeWindow, ...],
    indicator_parameters: IndicatorParameters,
    options: EvaluationOptions,
) -> Evaluation:
    """Compute travel times and indicators of a park (baseline or a scenario's copy)."""
    travel = travel_times_for_park(park, params=params, windows=windows)
    return evaluation_from_travel(
        park, travel, indicator_parameters=indicator_parameters, options=options
    )


def evaluation_from_travel(
    park: ParkData,
    travel: TravelTimeResult,
    *,
    indicator_parameters: IndicatorParameters,
    options: EvaluationOptions,
) -> Evaluation:
    """Compute the indicators of a park whose travel times are known (e.g. from the engine)."""
    indicators = indicators_for_window(
        travel, mode=options.mode, window=options.window, parameters=indicator_parameters
    )
    return _evaluation(park, travel, indicators, options)


def _evaluation(
    park: ParkData, travel: TravelTimeResult, indicators: ParkIndicators, options: EvaluationOptions
) -> Evaluation:
    evaluation = Evaluation(park=park, travel=travel, indicators=indicators, options=options)
    # The indicators' nearest minutes are nearest_by_window's for their mode and window.
    nearest = indicators.nearest.copy()
    nearest.index = origin_keys(travel.origins)
    evaluation._nearest[(options.mode, options.window)] = nearest
    return evaluation


def evaluate_scenario(
    baseline: Evaluation,
    scenario: Scenario,
    *,
    indicator_parameters: IndicatorParameters,
    retention: RetentionBasis | None = None,
    shuttle: ShuttleParameters | None = None,
    conversion: ConversionParameters | None = None,
    cost: ReplacementCost | None = None,
    network: StreetNetwork | None = None,
    engine: ParkEngine | None = None,
) -> ScenarioResult:
    """Measure ``scenario`` against ``baseline``: through the engine's deltas, or in full.

    With ``engine`` (the baseline park's ``ParkEngine``), travel times come from its delta
    operations (``retention.scenario.incremental``); otherwise, or when a change is not covered
    by them, everything is recomputed on the scenario's layers. Both give the same answers.

    Parameters
    ----------
    baseline
        The baseline evaluation (``evaluate_park`` on the park).
    scenario
        A scenario validated for the park.
    indicator_parameters
        Indicator options (the baseline's).
    retention
        Fitted model and respondents; without it, no leavers estimate.
    shuttle
        Operating-cost rates and rider assumptions.
    conversion, cost
        Intent-to-exit conversion and replacement cost.
    network
        The park's road network when already built.
    engine
        The baseline park's travel-time engine, for the incremental path.

    Returns
    -------
    ScenarioResult
    """
    shuttle = shuttle or ShuttleParameters()
    options = baseline.options
    travel_params = baseline.travel.params
    windows = baseline.travel.windows
    if network is None:
        roads = baseline.park.layers.get(LayerKind.ROADS)
        network = None if roads is None or roads.empty else network_from_roads(roads)
    applied = apply_scenario(
        baseline.park,
        scenario,
        params=travel_params,
        windows=windows,
        shuttle=shuttle,
        network=network,
    )
    travel = None
    if engine is not None:
        try:
            travel = scenario_travel_times(engine, applied)
        except IncrementalUnsupported:
            travel = None
    if travel is None:
        travel = travel_times_for_park(applied.park, params=travel_params, windows=windows)
    if indicator_parameters == baseline.indicators.parameters:
        # Only origins, categories and catchments whose minutes changed are recomputed.
        indicators = update_indicators(
            baseline.indicators, baseline.travel, travel, mode=options.mode, window=options.window
        )
    else:
        indicators = indicators_for_window(
            travel, mode=options.mode, window=options.window, parameters=indicator_parameters
        )
    evaluation = _evaluation(applied.park, travel, indicators, options)
    operations = {
        route_id: route_operations(route, applied.geometries[route_id], parameters=shuttle)
        for route_id, route in applied.routes.items()
    }
    riders = {
        route_id: route_riders(
            route,
            operations[route_id],
            _improved_near_route(baseline, evaluation, route, shuttle=shuttle),
            parameters=shuttle,
        )
        for route_id, route in applied.routes.items()
    }
    leavers = None
    if retention is not None:
        leavers = leavers_delta(
            baseline, evaluation, applied, retention, conversion=conversion, cost=cost
        )
    return ScenarioResult(
        applied=applied,
        baseline=baseline,
        evaluation=evaluation,
        operations=operations,
        riders=riders,
        costs=_costs(scenario, applied, operations, riders, shuttle),
        leavers=leavers,
        people_reached=people_reached(
            baseline, evaluation, min_gain_minutes=shuttle.min_gain_minutes
        ),
        shuttle=shuttle,
    )


def origin_keys(origins: pd.DataFrame) -> pd.Index:
    """``origin_set:origin_id`` per origin row: how baseline and scenario rows are matched."""
    return pd.Index(origins["origin_set"].astype(str) + ":" + origins["origin_id"].astype(str))


def nearest_by_window(
    evaluation: Evaluation, window: str, *, mode: Mode | None = None
) -> pd.DataFrame:
    """Minutes to the nearest available amenity per category, indexed by origin key.

    Computed once per evaluation, mode and window (the result is shared: do not modify it).
    """
    mode = mode or evaluation.options.mode
    cached = evaluation._nearest.get((mode, window))
    if cached is not None:
        return cached
    travel = evaluation.travel
    minutes = travel.minutes_for(mode, window)
    table = nearest_minutes(
        minutes,
        travel.amenities["category"].astype(str).to_numpy(),
        available=travel.available_mask(window),
        category_order=[c.value for c in AmenityCategory],
    ).xs(1, level="rank", axis=1)
    table.index = origin_keys(travel.origins)
    evaluation._nearest[(mode, window)] = table
    return table


def improvement(
    baseline: pd.DataFrame, scenario: pd.DataFrame, *, cap_minutes: float = 60.0
) -> pd.DataFrame:
    """Minutes saved per origin and category (positive: faster), on origins present in both.

    Unreachable is counted as ``cap_minutes`` so reaching a category for the first time is a
    finite gain.
    """
    common = baseline.index.intersection(scenario.index)
    before = np.minimum(baseline.loc[common].to_numpy(dtype=float), cap_minutes)
    after = np.minimum(scenario.loc[common, baseline.columns].to_numpy(dtype=float), cap_minutes)
    return pd.DataFrame(before - after, index=common, columns=baseline.columns)


def _people(evaluation: Evaluation) -> pd.Series:
    origins = evaluation.travel.origins
    people = pd.Series(origins["weight"].to_numpy(dtype=float), index=origin_keys(origins))
    return people[origins["origin_set"].isin(PEOPLE_SETS).to_numpy()]


def people_reached(
    baseline: Evaluation,
    scenario: Evaluation,
    *,
    min_gain_minutes: float,
    window: str | None = None,
) -> float:
    """People (residents at home, workers at work) whose best minutes to a category improve."""
    window = window or baseline.options.window
    gain = improvement(nearest_by_window(baseline, window), nearest_by_window(scenario, window))
    people = _people(scenario)
    improved = gain.index[(gain.to_numpy() >= min_gain_minutes).any(axis=1)]
    return float(people.reindex(improved).fillna(0.0).sum())


def _improved_near_route(
    baseline: Evaluation, scenario: Evaluation, route: AddRoute, *, shuttle: ShuttleParameters
) -> dict[str, float]:
    origins = scenario.travel.origins
    keys = origin_keys(origins)
    crs = utm_crs_for_frame(gpd.GeoDataFrame(origins, geometry="geometry", crs=WGS84))
    xy = project_points(gpd.GeoDataFrame(origins, geometry="geometry", crs=WGS84), crs=crs)
    stops = gpd.GeoSeries(
        gpd.points_from_xy([s.lon for s in route.stops], [s.lat for s in route.stops]), crs=WGS84
    )
    stop_xy = project_points(stops, crs=crs)
    params = scenario.travel.params
    reach_metres = params.max_walk_access_minutes * params.walk_speed_m_per_min
    distance = np.hypot(xy[:, None, 0] - stop_xy[None, :, 0], xy[:, None, 1] - stop_xy[None, :, 1])
    near = pd.Series((distance <= reach_metres).any(axis=1), index=keys)
    people = _people(scenario)
    result: dict[str, float] = {}
    for service in route.service:
        gain = improvement(
            nearest_by_window(baseline, service.window, mode="transit"),
            nearest_by_window(scenario, service.window, mode="transit"),
        )
        improved = gain.index[(gain.to_numpy() >= shuttle.min_gain_minutes).any(axis=1)]
        improved = improved[near.reindex(improved).fillna(False).to_numpy(dtype=bool)]
        result[service.window] = float(people.reindex(improved).fillna(0.0).sum())
    return result


def _costs(
    scenario: Scenario,
    applied: AppliedScenario,
    operations: Mapping[str, RouteOperations],
    riders: Mapping[str, RouteRiders],
    shuttle: ShuttleParameters,
) -> pd.DataFrame:
    rows = []
    for number, modification in enumerate(scenario.modifications, start=1):
        capital = operating = fares = 0.0
        if isinstance(modification, AddRoute):
            if modification.route_id not in operations:
                continue  # removed again later in the scenario
            operating = operations[modification.route_id].cost_cny_per_year
            fares = riders[modification.route_id].fare_revenue_cny_per_year
        elif isinstance(modification, AddAmenity | ResizeAmenity | AddResidence):
            capital = modification.capital_cost_cny
            operating = modification.annual_cost_cny_per_year
        elif isinstance(modification, CloseAmenity):
            operating = -modification.annual_saving_cny_per_year
        else:
            continue
        annualised = shuttle.annualised_capital(capital)
        rows.append(
            {
                "modification": number,
                "kind": modification.op,
                "capital_cny": capital,
                "annual_operating_cny": operating,
                "annualised_capital_cny": annualised,
                "annual_cost_cny": operating + annualised,
                "fare_revenue_cny": fares,
            }
        )
    columns = [
        "modification",
        "kind",
        "capital_cny",
        "annual_operating_cny",
        "annualised_capital_cny",
        "annual_cost_cny",
        "fare_revenue_cny",
    ]
    return pd.DataFrame(rows, columns=columns)


def model_access(evaluation: Evaluation, retention: RetentionBasis) -> pd.DataFrame:
    """The model's access features per residence, measured by the options' mode and window."""
    travel = evaluation.travel
    options = evaluation.options
    return residence_access(
        travel.minutes_for(options.mode, options.window),
        travel.amenities["category"].to_numpy(),
        travel.origins,
        available=travel.available_mask(options.window),
        mode=options.model_feature_mode,
        window=options.window,
        model_categories=retention.model_categories,
    )


def leavers_delta(
    baseline: Evaluation,
    scenario: Evaluation,
    applied: AppliedScenario,
    retention: RetentionBasis,
    *,
    conversion: ConversionParameters | None = None,
    cost: ReplacementCost | None = None,
) -> ScenarioDelta:
    """Change in expected leavers per year from baseline to scenario access (common draws).

    Respondents of a residence that ``f`` of its residents leave are split into a staying row
    (weight × (1 − f)) and a moving row (weight × f) with the destination's access in the
    scenario; both frames hold the same rows, so the draws are shared.
    """
    options = baseline.options
    scenario_access = model_access(scenario, retention)
    before = merge_access(retention.features, model_access(baseline, retention))
    after = merge_access(retention.features, scenario_access)
    if applied.moves:
        before, after = split_movers(
            before,
            after,
            scenario_access,
            applied.moves,
            residents=_residents(applied.baseline),
            weight=retention.model.spec.weight or "weight",
        )
    return scenario_delta(
        retention.model,
        before,
        after,
        retention.headcounts,
        conversion=conversion,
        cost=cost,
        n_draws=options.n_draws,
        seed=options.seed,
        level=options.level,
    )


def _residents(park: ParkData) -> dict[str, float]:
    residences = park.layer(LayerKind.RESIDENCES)
    counts = pd.to_numeric(residences["residents"], errors="coerce").fillna(0.0)
    return dict(zip(residences["id"].astype(str), counts.astype(float), strict=True))


def split_movers(
    before: pd.DataFrame,
    after: pd.DataFrame,
    scenario_access: pd.DataFrame,
    moves: tuple[tuple[str, str, int], ...],
    *,
    residents: Mapping[str, float],
    weight: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split respondents of residences workers move out of into staying and moving rows.

    Parameters
    ----------
    before, after
        Respondent features with baseline and scenario access (same rows).
    scenario_access
        Scenario access per ``residence_id`` (the destination's features come from here).
    moves
        ``(from residence, to residence, workers)`` in order.
    residents
        Baseline residents per residence (the share moving is ``workers / residents``).
    weight
        Survey-weight column.

    Returns
    -------
    tuple of pandas.DataFrame
        The two frames with the moving rows appended (same rows in both).
    """
    before, after = before.copy(), after.copy()
    if weight not in before.columns:
        before[weight] = 1.0
        after[weight] = 1.0
    lookup = scenario_access.assign(residence_id=scenario_access["residence_id"].astype(str))
    lookup = lookup.set_index("residence_id")
    extra_before, extra_after = [], []
    for source, target, workers in moves:
        total = residents.get(source, 0.0)
        rows = (before["residence_id"].astype(str) == source).to_numpy()
        if total <= 0 or not rows.any():
            continue
        share = min(workers / total, 1.0)
        moving_before = before.loc[rows].copy()
        moving_after = after.loc[rows].copy()
        moving_before[weight] *= share
        moving_after[weight] *= share
        moving_after["residence_id"] = target
        if target in lookup.index:
            for column in lookup.columns:
                moving_after[column] = lookup.at[target, column]
        before.loc[rows, weight] *= 1 - share
        after.loc[rows, weight] *= 1 - share
        extra_before.append(moving_before)
        extra_after.append(moving_after)
    if not extra_before:
        return before, after
    # A staying share of 0 (everyone moved) is dropped: the model needs positive weights.
    joined_before = pd.concat([before, *extra_before], ignore_index=True)
    joined_after = pd.concat([after, *extra_after], ignore_index=True)
    keep = (joined_before[weight] > 0).to_numpy()
    return (
        joined_before.loc[keep].reset_index(drop=True),
        joined_after.loc[keep].reset_index(drop=True),
    )


__all__ = [
    "LEISURE_CATEGORIES",
    "Evaluation",
    "EvaluationOptions",
    "RetentionBasis",
    "ScenarioResult",
    "evaluate_park",
    "evaluate_scenario",
    "evaluation_from_travel",
    "improvement",
    "leavers_delta",
    "model_access",
    "nearest_by_window",
    "origin_keys",
    "people_reached",
    "split_movers",
]
