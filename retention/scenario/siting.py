"""Siting assistant: the k candidate sites that bring the most people within reach of a category.

Maximal coverage (Church & ReVelle 1974) as a mixed-integer programme solved with
``scipy.optimize.milp`` (HiGHS, MIT licence, shipped with SciPy — the same class of solver as
PuLP's bundled CBC, without a new dependency)::

    maximise   Σ_i w_i z_i
    subject to z_i ≤ Σ_j a_ij x_j        (an origin counts only if a chosen site covers it)
               Σ_j x_j ≤ k,  x_j ∈ {0, 1},  0 ≤ z_i ≤ 1

where ``w_i`` are the people at origin ``i`` not yet within the threshold of the category and
``a_ij`` says site ``j`` is within the threshold of origin ``i``. With a capacity per site (people
it can serve) the coverage variables become assignments ``y_ij`` with ``Σ_i w_i y_ij ≤ c_j x_j``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_matrix, csr_matrix

from retention.access.network import StreetNetwork
from retention.access.travel_times import travel_times_for_park
from retention.data.layers import WGS84, AmenityCategory, LayerKind
from retention.errors import ParameterError, ValidationError
from retention.scenario.evaluate import Evaluation, nearest_by_window, origin_keys
from retention.scenario.model import AddAmenity, ParkContext

DEMANDS: tuple[str, ...] = ("residents", "workers", "both")
"""Whose people a site should reach: residents at home, workers at work, or both."""


@dataclass(frozen=True, eq=False)
class CoverageSolution:
    """The chosen sites and the people they newly cover.

    Attributes
    ----------
    chosen
        Indices of the chosen candidates, ascending.
    covered_people
        People newly covered (capacity-limited when capacities were given).
    optimal
        Whether the solver proved optimality.
    """

    chosen: tuple[int, ...]
    covered_people: float
    optimal: bool


def _check(people: np.ndarray, covers: np.ndarray, k: int) -> None:
    if covers.ndim != 2 or covers.shape[0] != len(people):
        raise ValidationError(
            f"coverage matrix has shape {covers.shape}; expected ({len(people)}, n_candidates)"
        )
    if k < 1:
        raise ParameterError(f"k is {k}; expected at least 1 site", column="k")
    if (people < 0).any() or not np.isfinite(people).all():
        raise ValidationError("people per origin must be finite and >= 0", column="people")


def maximal_coverage(
    people: np.ndarray,
    covers: np.ndarray,
    k: int,
    *,
    capacity: np.ndarray | None = None,
) -> CoverageSolution:
    """Choose at most ``k`` candidate sites covering the most people (optionally capacity-aware).

    Parameters
    ----------
    people
        People per origin still to cover, shape ``(n_origins,)``.
    covers
        Boolean ``(n_origins, n_candidates)``: the candidate is within the threshold.
    k
        Most sites to choose.
    capacity
        People each candidate can serve, shape ``(n_candidates,)``; ``None``: unlimited.

    Returns
    -------
    CoverageSolution
    """
    people = np.asarray(people, dtype=float)
    covers = np.asarray(covers, dtype=bool)
    _check(people, covers, k)
    n_candidates = covers.shape[1]
    k = min(k, n_candidates)
    rows = np.flatnonzero((people > 0) & covers.any(axis=1))
    if not len(rows) or n_candidates == 0:
        return CoverageSolution((), 0.0, True)
    a = covers[rows]
    w = people[rows]
    n_rows = len(rows)
    if capacity is None:
        # Variables: x (n_candidates, binary), z (n_rows, continuous).
        objective = np.concatenate([np.zeros(n_candidates), -w])
        link = csr_matrix(np.hstack([-a.astype(float), np.eye(n_rows)]))  # z_i - Σ a_ij x_j <= 0
        budget = csr_matrix(np.concatenate([np.ones(n_candidates), np.zeros(n_rows)])[None, :])
        constraints = [
            LinearConstraint(link, -np.inf, 0.0),
            LinearConstraint(budget, -np.inf, float(k)),
        ]
        integrality = np.concatenate([np.ones(n_candidates), np.zeros(n_rows)])
        n_variables = n_candidates + n_rows
    else:
        capacity = np.asarray(capacity, dtype=float)
        if capacity.shape != (n_candidates,) or (capacity < 0).any():
            raise ValidationError(
                f"capacity must be {n_candidates} numbers >= 0, one per candidate",
                column="capacity",
            )
        pairs_i, pairs_j = np.nonzero(a)
        n_pairs = len(pairs_i)
        n_variables = n_candidates + n_pairs
        objective = np.concatenate([np.zeros(n_candidates), -w[pairs_i]])
        pair_index = np.arange(n_pairs) + n_candidates
        # Σ_j y_ij <= 1 per origin.
        once = coo_matrix(
            (np.ones(n_pairs), (pairs_i, pair_index)), shape=(n_rows, n_variables)
        ).tocsr()
        # Σ_i w_i y_ij - c_j x_j <= 0 per candidate.
        load = coo_matrix(
            (
                np.concatenate([w[pairs_i], -capacity]),
                (
                    np.concatenate([pairs_j, np.arange(n_candidates)]),
                    np.concatenate([pair_index, np.arange(n_candidates)]),
                ),
            ),
            shape=(n_candidates, n_variables),
        ).tocsr()
        # y_ij - x_j <= 0 (no assignment to a site not chosen, even with capacity 0).
        opened = coo_matrix(
            (
                np.concatenate([np.ones(n_pairs), -np.ones(n_pairs)]),
                (np.tile(np.arange(n_pairs), 2), np.concatenate([pair_index, pairs_j])),
            ),
            shape=(n_pairs, n_variables),
        ).tocsr()
        budget = csr_matrix(np.concatenate([np.ones(n_candidates), np.zeros(n_pairs)])[None, :])
        constraints = [
            LinearConstraint(once, -np.inf, 1.0),
            LinearConstraint(load, -np.inf, 0.0),
            LinearConstraint(opened, -np.inf, 0.0),
            LinearConstraint(budget, -np.inf, float(k)),
        ]
        integrality = np.concatenate([np.ones(n_candidates), np.zeros(n_pairs)])
    result = milp(
        objective,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(np.zeros(n_variables), np.ones(n_variables)),
    )
    if result.x is None:
        raise ValidationError(f"the siting problem could not be solved: {result.message}")
    chosen = tuple(int(j) for j in np.flatnonzero(result.x[:n_candidates] > 0.5))
    return CoverageSolution(chosen, float(-result.fun), bool(result.status == 0))


def covered_by(
    people: np.ndarray, covers: np.ndarray, chosen: tuple[int, ...], *, capacity: np.ndarray | None
) -> float:
    """People a given set of sites covers (an LP assignment when capacities are given)."""
    people = np.asarray(people, dtype=float)
    if not chosen:
        return 0.0
    sub = np.asarray(covers, dtype=bool)[:, list(chosen)]
    if capacity is None:
        return float(people[sub.any(axis=1)].sum())
    rows, cols = np.nonzero(sub & (people[:, None] > 0))
    if not len(rows):
        return 0.0
    n_pairs = len(rows)
    once = coo_matrix((np.ones(n_pairs), (rows, np.arange(n_pairs))), shape=(len(people), n_pairs))
    load = coo_matrix((people[rows], (cols, np.arange(n_pairs))), shape=(len(chosen), n_pairs))
    result = linprog(
        -people[rows],
        A_ub=np.vstack([once.toarray(), load.toarray()]),
        b_ub=np.concatenate([np.ones(len(people)), np.asarray(capacity, float)[list(chosen)]]),
        bounds=(0, 1),
    )
    return float(-result.fun)


def brute_force_coverage(
    people: np.ndarray, covers: np.ndarray, k: int, *, capacity: np.ndarray | None = None
) -> float:
    """The best coverage over every set of at most ``k`` sites (for checking small instances)."""
    n = np.asarray(covers).shape[1]
    best = 0.0
    for size in range(1, min(k, n) + 1):
        for chosen in itertools.combinations(range(n), size):
            best = max(best, covered_by(people, covers, chosen, capacity=capacity))
    return best


def candidate_sites(
    network: StreetNetwork, context: ParkContext, *, spacing_metres: float = 150.0, limit: int = 300
) -> gpd.GeoDataFrame:
    """Road-network nodes inside the park, thinned to about one per ``spacing_metres`` square.

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id`` (``node-<index>``) and point geometry (WGS84).
    """
    nodes = network.mode_nodes("walk")
    if not len(nodes):
        return gpd.GeoDataFrame({"candidate_id": []}, geometry=[], crs=WGS84)
    xy = network.node_xy[nodes]
    cells = np.floor(xy / spacing_metres).astype(np.int64)
    _, first = np.unique(cells, axis=0, return_index=True)
    picked = nodes[np.sort(first)]
    points = gpd.GeoSeries(
        gpd.points_from_xy(network.node_xy[picked, 0], network.node_xy[picked, 1]),
        crs=network.crs,
    ).to_crs(WGS84)
    frame = gpd.GeoDataFrame(
        {"candidate_id": [f"node-{n}" for n in picked]}, geometry=points.to_numpy(), crs=WGS84
    )
    inside = np.array([context.contains(p.x, p.y) for p in frame.geometry], dtype=bool)
    frame = frame.loc[inside].reset_index(drop=True)
    if len(frame) > limit:
        frame = frame.iloc[np.linspace(0, len(frame) - 1, limit).round().astype(int)]
    return frame.reset_index(drop=True)


def _people(evaluation: Evaluation, demand: str) -> np.ndarray:
    if demand not in DEMANDS:
        raise ParameterError(f"demand is {demand!r}; expected one of {DEMANDS}", column="demand")
    origins = evaluation.travel.origins
    sets = {"residents": ("residence",), "workers": ("enterprise",)}.get(
        demand, ("residence", "enterprise")
    )
    chosen = origins["origin_set"].isin(sets).to_numpy()
    return np.where(chosen, origins["weight"].to_numpy(dtype=float), 0.0)


def suggest_sites(
    baseline: Evaluation,
    candidates: gpd.GeoDataFrame,
    *,
    category: str,
    threshold_minutes: float,
    k: int,
    demand: str = "residents",
    capacity_people: float | None = None,
    window: str | None = None,
) -> pd.DataFrame:
    """Suggest the ``k`` candidate sites that newly bring the most people within the threshold.

    Assumes ``candidates`` are WGS84 points with ``candidate_id`` (``candidate_sites`` or a
    user layer). Minutes from every origin to every candidate are computed by the same engine as
    the baseline (mode of ``baseline.options``), as if each candidate were an amenity open all
    day; people already within ``threshold_minutes`` of an available ``category`` amenity in the
    window do not count again.

    Parameters
    ----------
    baseline
        The evaluation to improve on.
    candidates
        Candidate points.
    category
        Amenity category to site.
    threshold_minutes
        Minutes within which a person counts as covered.
    k
        Number of sites.
    demand
        ``residents``, ``workers`` or ``both``.
    capacity_people
        People one site can serve (capacity-aware coverage); ``None``: unlimited.
    window
        Time-window key (default the baseline's).

    Returns
    -------
    pandas.DataFrame
        One row per chosen site: ``candidate_id``, ``lon``, ``lat``, ``newly_covered`` (people
        it alone covers among those not yet covered), plus ``total_newly_covered`` (the set's).
    """
    if category not in {c.value for c in AmenityCategory}:
        raise ParameterError(f"unknown category {category!r}", column="category")
    if not threshold_minutes > 0:
        raise ParameterError(
            f"threshold_minutes is {threshold_minutes!r}; expected > 0", column="threshold_minutes"
        )
    window = window or baseline.options.window
    if candidates.empty:
        return pd.DataFrame(columns=["candidate_id", "lon", "lat", "newly_covered"])
    probe = candidates.to_crs(WGS84).reset_index(drop=True)
    amenities = gpd.GeoDataFrame(
        {
            "id": probe["candidate_id"].astype(str),
            "category": category,
            "capacity": 1.0,
            "opening_hours": "24/7",
            "open_to": "",
        },
        geometry=probe.geometry.to_numpy(),
        crs=WGS84,
    )
    layers = dict(baseline.park.layers)
    layers[LayerKind.AMENITIES] = amenities
    park = replace(
        baseline.park, layers=layers, data_version=f"{baseline.park.data_version}:siting"
    )
    travel = travel_times_for_park(
        park,
        params=baseline.travel.params,
        windows=tuple(w for w in baseline.travel.windows if w.key == window),
        modes=(baseline.options.mode,),
    )
    minutes = travel.minutes_for(baseline.options.mode, window)
    # Origins are built from the same residences and enterprises, so rows line up by key.
    keys = origin_keys(travel.origins)
    nearest = nearest_by_window(baseline, window)[category].reindex(keys)
    already = nearest.to_numpy(dtype=float) <= threshold_minutes
    people = np.where(already, 0.0, _people(baseline, demand)[_positions(baseline, keys)])
    covers = np.nan_to_num(np.asarray(minutes, dtype=float), nan=np.inf) <= threshold_minutes
    capacity = None
    if capacity_people is not None:
        capacity = np.full(covers.shape[1], float(capacity_people))
    solution = maximal_coverage(people, covers, k, capacity=capacity)
    chosen = list(solution.chosen)
    rows = []
    for j in chosen:
        point = probe.geometry.iloc[j]
        alone = covered_by(people, covers, (j,), capacity=capacity)
        rows.append(
            {
                "candidate_id": str(probe["candidate_id"].iloc[j]),
                "lon": float(point.x),
                "lat": float(point.y),
                "newly_covered": alone,
            }
        )
    table = pd.DataFrame(rows, columns=["candidate_id", "lon", "lat", "newly_covered"])
    table["total_newly_covered"] = solution.covered_people
    return table


def _positions(evaluation: Evaluation, keys: pd.Index) -> np.ndarray:
    own = origin_keys(evaluation.travel.origins)
    positions = own.get_indexer(keys)
    if (positions < 0).any():
        raise ValidationError("candidate travel times do not line up with the baseline origins")
    return positions


def suggestion_modification(
    row: pd.Series | dict[str, object],
    *,
    amenity_id: str,
    name: str,
    category: str,
    capacity: float,
    opening_hours: str = "Mo-Su 06:00-22:00",
    capital_cost_cny: float = 0.0,
    annual_cost_cny_per_year: float = 0.0,
) -> AddAmenity:
    """Turn a suggested site into an ``AddAmenity`` modification (one click on the page)."""
    return AddAmenity(
        amenity_id=amenity_id,
        name=name,
        category=category,
        lon=float(row["lon"]),  # type: ignore[arg-type]
        lat=float(row["lat"]),  # type: ignore[arg-type]
        capacity=capacity,
        opening_hours=opening_hours,
        capital_cost_cny=capital_cost_cny,
        annual_cost_cny_per_year=annual_cost_cny_per_year,
    )


__all__ = [
    "DEMANDS",
    "CoverageSolution",
    "brute_force_coverage",
    "candidate_sites",
    "covered_by",
    "maximal_coverage",
    "suggest_sites",
    "suggestion_modification",
]
