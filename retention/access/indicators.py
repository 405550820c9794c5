"""Every access indicator of a park for one mode and time window, from its travel-time matrix.

A thin layer over ``retention.access.measures``, ``retention.access.living_circle`` and
``retention.access.gaps``: it
reads the origin and amenity tables that ``retention.access.travel_times.travel_times_for_park``
returns, so the Gaps page asks for one object and then only chooses what to display.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from retention.access.gaps import DEFAULT_GAP_PARAMETERS, GapParameters, gap_index
from retention.access.hexagons import reachable_areas
from retention.access.indicator_kernel import pair_sums
from retention.access.living_circle import compliance_from_met, living_circle_met_from_nearest
from retention.access.measures import (
    DEFAULT_DECAY,
    DecayFunction,
    EffectiveMinutes,
    _category_frame,
    _origin_index,
    _per_amenity,
    check_catchment,
    minutes_and_mask,
    non_negative_values,
    people_per_origin,
)
from retention.access.network import NetworkMode, SnappedPoints, StreetNetwork
from retention.access.standards import GB50180_2018, LivingCircleTable
from retention.data.layers import WGS84, AmenityCategory
from retention.errors import ParameterError

INDICATORS: tuple[str, ...] = ("nearest", "opportunities", "e2sfca", "living_circle", "gap_index")
"""Indicator ids the page offers, in order."""

DEMAND_SETS: Mapping[str, tuple[str, ...]] = {
    "residence": ("residence",),
    "enterprise": ("enterprise",),
    "both": ("residence", "enterprise"),
}
"""Origin sets whose people compete for supply in E2SFCA step 1 (GB norms count residents)."""


@dataclass(frozen=True)
class IndicatorParameters:
    """Options of every indicator (frozen: a clean cache key).

    Parameters
    ----------
    threshold_minutes
        Time budget T of cumulative opportunities; 15 min is the largest GB 50180-2018 living
        circle (Table 3.0.4).
    decay
        E2SFCA distance decay (default Luo & Qi 2009 zones, see ``retention.access.measures``).
    catchment_minutes
        E2SFCA catchment; ``None`` lets the decay cut off.
    demand
        ``"residence"`` (default; GB 50180 norms are per resident), ``"enterprise"`` or ``"both"``.
    gap
        Targets, caps and supply norms of the gap index.
    living_circle
        Living-circle tiers and requirements.
    """

    threshold_minutes: float = 15.0
    decay: DecayFunction = DEFAULT_DECAY
    catchment_minutes: float | None = None
    demand: str = "residence"
    gap: GapParameters = DEFAULT_GAP_PARAMETERS
    living_circle: LivingCircleTable = GB50180_2018

    def __post_init__(self) -> None:
        if not math.isfinite(self.threshold_minutes) or self.threshold_minutes <= 0:
            raise ParameterError(
                f"must be a positive number of minutes, got {self.threshold_minutes!r}",
                column="threshold_minutes",
            )
        if self.demand not in DEMAND_SETS:
            raise ParameterError(
                f"must be one of {', '.join(DEMAND_SETS)}, got {self.demand!r}", column="demand"
            )


@dataclass(frozen=True, eq=False)
class IndicatorBasis:
    """What :func:`retention.access.indicator_updates.update_indicators` starts from.

    Attributes
    ----------
    source
        ``(mode, window)`` of the travel times the indicators were computed from (``None``
        when not known: then no update starts from them).
    nearest_all
        Nearest minutes for every category an indicator reads (the living-circle table's
        extra categories too), origins x categories.
    weighted_demand, ratio
        E2SFCA step 1 per amenity in column order: ``Σ_i P_i W_ij`` and ``R_j`` (0 for
        amenities no indicator lists and amenities closed in the window).
    weights
        The gap-index weights used (sorted pairs; ``None``: equal).
    """

    source: tuple[str, str] | None
    nearest_all: pd.DataFrame
    weighted_demand: np.ndarray
    ratio: np.ndarray
    weights: tuple[tuple[str, float], ...] | None


def weight_key(weights: Mapping[str, float] | None) -> tuple[tuple[str, float], ...] | None:
    """Gap-index weights as sorted ``(category, weight)`` pairs (``None``: equal weights)."""
    if weights is None:
        return None
    return tuple(sorted((str(key), float(value)) for key, value in weights.items()))


@dataclass(frozen=True, eq=False)
class ParkIndicators:
    """Indicators of every origin for one mode and window (rows align with ``origins``).

    Parameters
    ----------
    origins
        ``origin_set``, ``origin_id``, ``name``, ``weight`` (people), ``enterprise_id`` and zone
        columns, as given.
    nearest
        Minutes to the nearest available amenity, origins x categories (``inf``: none).
    opportunities
        Amenities reachable within ``threshold_minutes``, origins x categories.
    capacity_within
        Their summed capacity.
    supply_per_1000
        E2SFCA supply per 1,000 people, origins x categories.
    living_circle
        Whether each required category is within its tier, origins x categories.
    compliance
        People-weighted share of residents within each tier (residence origins; all origins if
        there are no residences).
    gap
        ``gap_index`` then each weighted category's contribution.
    parameters
        The options used.
    basis
        What an update after a change starts from (``None`` for results made elsewhere).
    """

    origins: pd.DataFrame
    nearest: pd.DataFrame
    opportunities: pd.DataFrame
    capacity_within: pd.DataFrame
    supply_per_1000: pd.DataFrame
    living_circle: pd.DataFrame
    compliance: pd.DataFrame
    gap: pd.DataFrame
    parameters: IndicatorParameters = field(default_factory=IndicatorParameters)
    basis: IndicatorBasis | None = field(default=None, repr=False)

    def values(self, indicator: str, category: str | None = None) -> pd.Series:
        """Return one indicator per origin; ``category`` is ignored for ``gap_index``.

        For ``living_circle`` the value is 1.0 where the category is within its tier, else 0.0.
        """
        if indicator == "gap_index":
            return self.gap["gap_index"]
        frames = {
            "nearest": self.nearest,
            "opportunities": self.opportunities,
            "e2sfca": self.supply_per_1000,
            "living_circle": self.living_circle,
        }
        if indicator not in frames:
            raise ParameterError(
                f"must be one of {', '.join(INDICATORS)}, got {indicator!r}", column="indicator"
            )
        frame = frames[indicator]
        if category not in frame.columns:
            raise ParameterError(
                f"indicator {indicator!r} has no category {category!r}", column="category"
            )
        return frame[category].astype(float)


def park_indicators(
    minutes: npt.ArrayLike,
    origins: pd.DataFrame,
    amenities: pd.DataFrame,
    *,
    available: npt.ArrayLike | None = None,
    parameters: IndicatorParameters | None = None,
    weights: Mapping[str, float] | None = None,
) -> ParkIndicators:
    """Compute every indicator for one travel-time matrix.

    Assumes ``minutes`` is origins x amenities (row ``i`` = ``origins`` row ``i``, column ``j`` =
    ``amenities`` row ``j``; NaN/``inf`` unreachable) and ``available`` the mask of
    ``TravelTimeResult.available_mask``. ``origins`` has ``origin_set`` and ``weight`` (people);
    ``amenities`` has ``category`` and ``capacity``.

    Parameters
    ----------
    minutes
        Travel minutes for one mode and window.
    origins
        Origin table (``retention.access.origins.origin_points``).
    amenities
        Amenities layer (reset index).
    available
        Boolean mask ``(n_origins, n_amenities)``.
    parameters
        Indicator options; default ``IndicatorParameters()``.
    weights
        Category importance for the gap index (e.g. from the survey); default equal.

    Returns
    -------
    ParkIndicators
    """
    parameters = parameters or IndicatorParameters()
    _check_tables(origins, amenities)
    (found,) = _indicator_sets(
        minutes,
        available,
        origins,
        amenities,
        open_sets=[None],
        sources=[None],
        parameters=parameters,
        weights=weights,
    )
    return found


def _check_tables(origins: pd.DataFrame, amenities: pd.DataFrame) -> None:
    for column in ("origin_set", "weight"):
        if column not in origins.columns:
            raise ParameterError(f"origins table has no {column!r} column", column=column)
    for column in ("category", "capacity"):
        if column not in amenities.columns:
            raise ParameterError(f"amenities table has no {column!r} column", column=column)


def category_order(parameters: IndicatorParameters) -> list[str]:
    """Every category an indicator reads: the amenity categories, then the living-circle
    table's other required categories."""
    order = [category.value for category in AmenityCategory]
    return order + [c for c in parameters.living_circle.categories if c not in order]


def _category_codes(categories: np.ndarray, order: Sequence[str]) -> np.ndarray:
    """Position of each amenity's category in ``order`` (-1: not listed)."""
    position = {category: k for k, category in enumerate(order)}
    return np.array([position.get(c, -1) for c in categories.tolist()], dtype=np.int64)


def _capacity(amenities: pd.DataFrame) -> np.ndarray:
    return pd.to_numeric(amenities["capacity"], errors="coerce").fillna(0.0).to_numpy(dtype=float)


def row_indicators(
    effective: EffectiveMinutes | np.ndarray,
    categories: np.ndarray,
    capacity: np.ndarray,
    *,
    order: Sequence[str],
    threshold_minutes: float,
    origin_ids: Sequence[object],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Nearest minutes, opportunities and capacity within the budget for every category of
    ``order``: the indicators each origin's row gives alone (rows may be any subset, columns
    any amenities; ``effective`` is ``inf`` for unavailable pairs). The same passes as a full
    computation, so the same bits."""
    values = effective.values if isinstance(effective, EffectiveMinutes) else effective
    n_rows, n_cols = values.shape
    codes = _category_codes(np.asarray(categories).astype(str), order)
    sums = pair_sums(
        values,
        np.ones((1, n_cols), dtype=bool),
        codes,
        np.ones((1, n_cols), dtype=bool),
        np.asarray(capacity, dtype=float),
        np.zeros(n_rows),
        n_categories=len(order),
        threshold_minutes=threshold_minutes,
        decay=DEFAULT_DECAY.table(catchment_minutes=None),
        ratio_of=None,
    )
    return (
        _frame(sums.nearest[0], order, origin_ids),
        _frame(sums.counts[0], order, origin_ids),
        _frame(sums.capacity_within[0], order, origin_ids),
    )


def _frame(values: np.ndarray, order: Sequence[str], origin_ids: Sequence[object]) -> pd.DataFrame:
    """Origins x categories table of ``values`` (columns in ``order``)."""
    return _category_frame(
        {category: values[:, k] for k, category in enumerate(order)}, origin_ids, len(values)
    )


def _indicator_sets(
    minutes: npt.ArrayLike,
    available: npt.ArrayLike | None,
    origins: pd.DataFrame,
    amenities: pd.DataFrame,
    *,
    open_sets: Sequence[np.ndarray | None],
    sources: Sequence[tuple[str, str] | None],
    parameters: IndicatorParameters,
    weights: Mapping[str, float] | None,
) -> list[ParkIndicators]:
    """Every indicator of one minutes matrix for each set of open amenities (``None``: all
    open), from the same two passes over the matrix (``retention.access.indicator_kernel``).

    An amenity not open in a set does not count there, exactly as if its minutes were ``inf``:
    it leaves nearest, counts, capacity and E2SFCA (step 1 and 2) of that set.
    """
    values, mask = minutes_and_mask(minutes, available)
    n_rows, n_cols = values.shape
    origin_index = _origin_index(origins.index, n_rows)
    categories = _per_amenity(amenities["category"].astype(str).to_numpy(), n_cols, "categories")
    capacity = _capacity(amenities)
    order = category_order(parameters)
    codes = _category_codes(categories, order)
    listed = codes >= 0
    non_negative_values(capacity[listed], column="capacity")
    people = origins["weight"].to_numpy(dtype=float)
    in_demand = origins["origin_set"].isin(DEMAND_SETS[parameters.demand]).to_numpy()
    demand = people_per_origin(np.where(in_demand, people, 0.0), n_rows, column="demand")
    check_catchment(parameters.catchment_minutes)
    open_in = np.array(
        [np.ones(n_cols, dtype=bool) if o is None else np.asarray(o, dtype=bool) for o in open_sets]
    ).reshape(len(open_sets), n_cols)

    def ratio_of(weighted_demand: np.ndarray) -> np.ndarray:
        ratio = np.zeros(n_cols)
        served = listed & (weighted_demand > 0)
        ratio[served] = capacity[served] / weighted_demand[served]
        return ratio

    sums = pair_sums(
        values,
        mask,
        codes,
        open_in,
        capacity,
        demand,
        n_categories=len(order),
        threshold_minutes=parameters.threshold_minutes,
        decay=parameters.decay.table(catchment_minutes=parameters.catchment_minutes),
        ratio_of=ratio_of,
    )
    assert sums.supply is not None  # ratio_of was given
    ratio = ratio_of(sums.weighted_demand)
    found = []
    for s, source in enumerate(sources):
        counted = open_in[s] & listed
        nearest_all = _frame(sums.nearest[s], order, origin_index)
        basis = IndicatorBasis(
            source=source,
            nearest_all=nearest_all,
            weighted_demand=np.where(counted, sums.weighted_demand, 0.0),
            ratio=np.where(counted, ratio, 0.0),
            weights=weight_key(weights),
        )
        found.append(
            indicators_from_parts(
                origins,
                nearest_all,
                _frame(sums.counts[s], order, origin_index),
                _frame(sums.capacity_within[s], order, origin_index),
                _frame(1000.0 * sums.supply[s], order, origin_index),
                parameters,
                weights,
                basis,
            )
        )
    return found


def indicators_from_parts(
    origins: pd.DataFrame,
    nearest_all: pd.DataFrame,
    opportunities: pd.DataFrame,
    capacity_within: pd.DataFrame,
    supply: pd.DataFrame,
    parameters: IndicatorParameters,
    weights: Mapping[str, float] | None,
    basis: IndicatorBasis | None,
) -> ParkIndicators:
    """Living circle, compliance and gap index from the per-category tables (every category of
    :func:`category_order` as columns), and the ``ParkIndicators`` that holds them all."""
    columns = [category.value for category in AmenityCategory]
    nearest = nearest_all[columns]
    supply = supply[columns]
    people = origins["weight"].to_numpy(dtype=float)
    met = living_circle_met_from_nearest(nearest_all, table=parameters.living_circle)
    residents = (origins["origin_set"] == "residence").to_numpy()
    rows = residents if residents.any() else np.ones(len(origins), dtype=bool)
    compliance = compliance_from_met(met[rows], people[rows], table=parameters.living_circle)
    gap = gap_index(nearest, supply_per_1000=supply, parameters=parameters.gap, weights=weights)
    return ParkIndicators(
        origins=pd.DataFrame(origins.drop(columns="geometry", errors="ignore")),
        nearest=nearest,
        opportunities=opportunities[columns],
        capacity_within=capacity_within[columns],
        supply_per_1000=supply,
        living_circle=met,
        compliance=compliance,
        gap=gap,
        parameters=parameters,
        basis=basis,
    )


def indicators_for_window(
    result: object,
    *,
    mode: str,
    window: str,
    parameters: IndicatorParameters | None = None,
    weights: Mapping[str, float] | None = None,
) -> ParkIndicators:
    """Compute every indicator from a ``TravelTimeResult`` for one mode and window key.

    Assumes ``result`` is a ``retention.access.travel_times.TravelTimeResult``; unavailable
    amenities
    (closed in the window, or reserved for other enterprises) do not count.

    Parameters
    ----------
    result
        Travel times of the park.
    mode
        ``walk``, ``ebike`` or ``transit``.
    window
        Time-window key, e.g. ``"weekday_evening"``.
    parameters
        Indicator options.
    weights
        Category importance for the gap index.

    Returns
    -------
    ParkIndicators
    """
    return indicators_for_windows(
        result, mode=mode, windows=[window], parameters=parameters, weights=weights
    )[window]


def indicators_for_windows(
    result: object,
    *,
    mode: str,
    windows: Sequence[str] | None = None,
    parameters: IndicatorParameters | None = None,
    weights: Mapping[str, float] | None = None,
) -> dict[str, ParkIndicators]:
    """Compute every indicator for one mode in several windows (default: all), sharing work.

    The same numbers as :func:`indicators_for_window` per window. Walking and e-bike minutes do
    not depend on the window (one array serves them all), so every window of such a matrix is
    answered from the same passes over it; each window only leaves out the amenities closed
    in it.

    Parameters
    ----------
    result
        Travel times of the park (``TravelTimeResult``).
    mode
        ``walk``, ``ebike`` or ``transit``.
    windows
        Window keys; every window of ``result`` when omitted.
    parameters
        Indicator options.
    weights
        Category importance for the gap index.

    Returns
    -------
    dict
        Window key -> ``ParkIndicators``.
    """
    parameters = parameters or IndicatorParameters()
    origins, amenities = result.origins, result.amenities  # type: ignore[attr-defined]
    _check_tables(origins, amenities)
    keys = [w.key for w in result.windows] if windows is None else list(windows)  # type: ignore[attr-defined]
    # Windows that share one matrix (walking, e-bike) share its passes; transit has one each.
    by_matrix: dict[int, tuple[np.ndarray, list[str]]] = {}
    for key in keys:
        minutes = result.minutes_for(mode, key)  # type: ignore[attr-defined]
        by_matrix.setdefault(id(minutes), (minutes, []))[1].append(key)
    found: dict[str, ParkIndicators] = {}
    for minutes, shared in by_matrix.values():
        sets = _indicator_sets(
            minutes,
            result.open_to,  # type: ignore[attr-defined]
            origins,
            amenities,
            open_sets=[result.is_open(key) for key in shared],  # type: ignore[attr-defined]
            sources=[(mode, key) for key in shared],
            parameters=parameters,
            weights=weights,
        )
        found.update(zip(shared, sets, strict=True))
    return {key: found[key] for key in keys}


def isochrones(
    network: StreetNetwork,
    lon: float,
    lat: float,
    *,
    network_mode: NetworkMode,
    speed_m_per_min: float,
    walk_speed_m_per_min: float,
    max_snap_distance_metres: float,
    thresholds_minutes: tuple[float, ...] = (5.0, 10.0, 15.0),
    resolution: int = 10,
) -> gpd.GeoDataFrame:
    """Return the areas reachable from one point within each time budget along the streets.

    Assumes a WGS84 point and a projected ``network``; the walk from the point to its nearest
    node is at walking speed, then edges at ``speed_m_per_min``. Areas are unions of H3 cells
    holding a reached node (``retention.access.hexagons.reachable_areas``). A point too far from the
    network, or a straight-line fallback network, gives empty areas.

    Parameters
    ----------
    network
        The street network.
    lon, lat
        The origin.
    network_mode
        ``"walk"`` or ``"bike"``.
    speed_m_per_min
        Speed on the network.
    walk_speed_m_per_min
        Walking speed to the first node.
    max_snap_distance_metres
        Farthest the point may be from the network.
    thresholds_minutes
        Time budgets (GB 50180-2018 living circles by default).
    resolution
        H3 resolution of the area cells.

    Returns
    -------
    geopandas.GeoDataFrame
        ``minutes``, ``cells``, ``geometry`` (EPSG:4326), largest budget first.
    """
    nothing = reachable_areas(
        [], [], [], thresholds_minutes=thresholds_minutes, resolution=resolution
    )
    if network.approximate or network.node_xy.size == 0:
        return nothing
    point = gpd.GeoSeries([shapely.Point(lon, lat)], crs=WGS84)
    snapped = network.snap(point, mode=network_mode, max_distance_metres=max_snap_distance_metres)
    if not snapped.usable[0] or snapped.nodes[0] < 0:
        return nothing
    graph = network.graph_minutes(mode=network_mode, speed_m_per_min=speed_m_per_min)
    return isochrones_on_graph(
        network,
        graph,
        snapped,
        walk_speed_m_per_min=walk_speed_m_per_min,
        thresholds_minutes=thresholds_minutes,
        resolution=resolution,
    )


def isochrones_on_graph(
    network: StreetNetwork,
    graph: csr_matrix,
    snapped: SnappedPoints,
    *,
    walk_speed_m_per_min: float,
    thresholds_minutes: tuple[float, ...] = (5.0, 10.0, 15.0),
    resolution: int = 10,
) -> gpd.GeoDataFrame:
    """Return the areas reachable within each budget from the first of ``snapped`` points, on
    an already built symmetric ``graph`` of edge minutes over ``network``'s nodes (so an
    engine's graph is searched, not a new one); see :func:`isochrones`."""
    nothing = reachable_areas(
        [], [], [], thresholds_minutes=thresholds_minutes, resolution=resolution
    )
    if network.approximate or not snapped.usable[0] or snapped.nodes[0] < 0:
        return nothing
    access_minutes = float(snapped.distance_metres[0]) / walk_speed_m_per_min
    budget = max(thresholds_minutes) - access_minutes
    if budget < 0:
        return nothing
    times = dijkstra(graph, directed=True, indices=int(snapped.nodes[0]), limit=budget)
    node_lon, node_lat = Transformer.from_crs(network.crs, WGS84, always_xy=True).transform(
        network.node_xy[:, 0], network.node_xy[:, 1]
    )
    return reachable_areas(
        node_lon,
        node_lat,
        np.asarray(times) + access_minutes,
        thresholds_minutes=thresholds_minutes,
        resolution=resolution,
    )
