"""Every per-pair indicator sum of a travel-time matrix in two compiled passes over its rows.

Nearest minutes, amenities and capacity within the time budget, and both E2SFCA steps
(``retention.access.measures``) read each origin x amenity pair once or twice. Done with
whole-matrix numpy they make temporary matrices of the same size as the minutes (masked copy,
within-budget booleans, decay weights, their float casts) and loop over categories. Here a
compiled loop (numba, ``nogil``) walks the rows once for nearest, counts, capacity and
E2SFCA step 1, and once more for step 2, holding nothing but the results; threads take blocks of
rows side by side. Several sets of open amenities (the time windows of one walking matrix) are
answered in the same passes.

The answers are those of the numpy functions: minima and counts exactly (float32 minutes compare
with float64 bounds exactly as after a float64 cast); sums (capacity within the budget, E2SFCA
step 1 ``Σ_i P_i W_ij`` and step 2 ``Σ_j W_ij R_j``) add the same terms in another order, so
they agree to float rounding (~1e-15 relative). Step 1 is summed per fixed block of rows and the
blocks in order, so the numbers never depend on the number of threads.

Threads and compilation as for the street search (``retention.access.shortest_paths``:
``PARKLIFE_SEARCH_THREADS``, by default every CPU; compiled code cached in ``__pycache__``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from retention.access.shortest_paths import compiled, in_row_chunks

_BLOCK_ROWS = 32
"""Rows per work item; step 1 sums per block of this many rows, then the blocks in order."""

STEP, GAUSSIAN, UNIFORM = 0, 1, 2
"""Decay kinds as the kernels know them (``DecayFunction.kind``)."""


@dataclass(frozen=True)
class DecayTable:
    """A decay function as the kernels read it.

    Attributes
    ----------
    kind
        :data:`STEP`, :data:`GAUSSIAN` or :data:`UNIFORM`.
    bounds, weights
        Step only: zone bounds (a catchment inside the zones already ends them) and the weight
        of each zone, then 0 for minutes above the last bound.
    catchment_minutes
        Largest minutes with a weight (``inf``: no catchment).
    bandwidth_minutes
        Gaussian only: σ.
    """

    kind: int
    bounds: np.ndarray
    weights: np.ndarray
    catchment_minutes: float
    bandwidth_minutes: float


@compiled
def _weight(
    minutes: float,
    kind: int,
    bounds: np.ndarray,
    weights: np.ndarray,
    catchment: float,
    sigma: float,
) -> float:  # pragma: no cover - compiled (tested through the callers)
    """Decay weight of finite ``minutes`` (``DecayFunction.weight``)."""
    if kind == STEP:
        zone = 0
        while zone < bounds.shape[0] and minutes > bounds[zone]:
            zone += 1
        return float(weights[zone])
    if minutes > catchment:
        return 0.0
    if kind == UNIFORM:
        return 1.0
    return float(np.exp(-(minutes**2) / (2.0 * sigma**2)))


@compiled
def _first_pass(
    minutes: np.ndarray,
    available: np.ndarray,
    codes: np.ndarray,
    open_in: np.ndarray,
    capacity: np.ndarray,
    people: np.ndarray,
    threshold: float,
    kind: int,
    bounds: np.ndarray,
    weights: np.ndarray,
    catchment: float,
    sigma: float,
    start: int,
    stop: int,
    nearest: np.ndarray,
    counts: np.ndarray,
    capacity_within: np.ndarray,
    demand: np.ndarray,
) -> None:  # pragma: no cover - compiled (tested through the callers)
    """Rows ``start:stop``: nearest, counts and capacity within ``threshold`` per set of open
    amenities (``open_in`` rows) and category (``codes``; -1: not counted); step 1 of E2SFCA
    summed over these rows into ``demand``."""
    n_sets = open_in.shape[0]
    one_mask = available.shape[0] == 1
    for i in range(start, stop):
        mask_row = 0 if one_mask else i
        person = people[i]
        for j in range(minutes.shape[1]):
            code = codes[j]
            if code < 0:
                continue
            value = np.float64(minutes[i, j])
            if not value < np.inf or not available[mask_row, j]:
                continue  # NaN, inf or not open to this origin
            inside = value <= threshold
            for s in range(n_sets):
                if open_in[s, j]:
                    if value < nearest[s, i, code]:
                        nearest[s, i, code] = value
                    if inside:
                        counts[s, i, code] += 1.0
                        capacity_within[s, i, code] += capacity[j]
            if person != 0.0:
                weight = _weight(value, kind, bounds, weights, catchment, sigma)
                if weight != 0.0:
                    demand[j] += person * weight


@compiled
def _second_pass(
    minutes: np.ndarray,
    available: np.ndarray,
    codes: np.ndarray,
    open_in: np.ndarray,
    ratio: np.ndarray,
    kind: int,
    bounds: np.ndarray,
    weights: np.ndarray,
    catchment: float,
    sigma: float,
    start: int,
    stop: int,
    supply: np.ndarray,
) -> None:  # pragma: no cover - compiled (tested through the callers)
    """Rows ``start:stop``: step 2 of E2SFCA, ``Σ_j W_ij R_j`` per set of open amenities and
    category."""
    n_sets = open_in.shape[0]
    one_mask = available.shape[0] == 1
    for i in range(start, stop):
        mask_row = 0 if one_mask else i
        for j in range(minutes.shape[1]):
            code = codes[j]
            if code < 0 or ratio[j] == 0.0:
                continue
            value = np.float64(minutes[i, j])
            if not value < np.inf or not available[mask_row, j]:
                continue
            weight = _weight(value, kind, bounds, weights, catchment, sigma)
            if weight == 0.0:
                continue
            term = weight * ratio[j]
            for s in range(n_sets):
                if open_in[s, j]:
                    supply[s, i, code] += term


def _over_blocks(n_rows: int, work: Callable[[int, int, int], None]) -> None:
    """Run ``work(block, start, stop)`` for every block of rows, on every kernel thread."""
    n_blocks = -(-n_rows // _BLOCK_ROWS)

    def run(blocks: slice) -> None:
        for block in range(blocks.start, min(blocks.stop, n_blocks)):
            start = block * _BLOCK_ROWS
            work(block, start, min(start + _BLOCK_ROWS, n_rows))

    in_row_chunks(n_blocks, run)


@dataclass(frozen=True)
class PairSums:
    """What :func:`pair_sums` returns; ``s`` indexes the sets of open amenities.

    Attributes
    ----------
    nearest
        ``(sets, origins, categories)`` minutes to the nearest open amenity (``inf``: none).
    counts, capacity_within
        Open amenities within the time budget and their summed capacity, same shape.
    weighted_demand
        E2SFCA step 1 ``Σ_i P_i W_ij`` per amenity (any set: it does not depend on which
        amenities are open; 0 for amenities in no category).
    supply
        E2SFCA step 2 per person ``Σ_j W_ij R_j`` with ``R_j`` from ``ratio_of`` (when asked).
    """

    nearest: np.ndarray
    counts: np.ndarray
    capacity_within: np.ndarray
    weighted_demand: np.ndarray
    supply: np.ndarray | None


def pair_sums(
    minutes: np.ndarray,
    available: np.ndarray,
    codes: np.ndarray,
    open_in: np.ndarray,
    capacity: np.ndarray,
    people: np.ndarray,
    *,
    n_categories: int,
    threshold_minutes: float,
    decay: DecayTable,
    ratio_of: Callable[[np.ndarray], np.ndarray] | None,
) -> PairSums:
    """Run both passes over a minutes matrix.

    Assumes checked inputs: ``minutes`` ``(origins, amenities)`` float32/float64, NaN or
    ``inf`` unreachable, never negative; ``available`` boolean ``(origins or 1, amenities)``;
    ``codes`` each amenity's category position (-1: none); ``open_in`` boolean ``(sets,
    amenities)``; ``capacity`` and ``people`` float64.

    Parameters
    ----------
    minutes, available, codes, open_in, capacity, people
        As above.
    n_categories
        Number of category positions.
    threshold_minutes
        Budget of counts and capacity.
    decay
        E2SFCA decay.
    ratio_of
        Step 1 to the ratios ``R_j`` of step 2 (``None``: no step 2).

    Returns
    -------
    PairSums
    """
    n_rows, n_cols = minutes.shape
    n_sets = open_in.shape[0]
    shape = (n_sets, n_rows, n_categories)
    nearest = np.full(shape, np.inf)
    counts = np.zeros(shape)
    capacity_within = np.zeros(shape)
    n_blocks = -(-n_rows // _BLOCK_ROWS)
    partial = np.zeros((max(n_blocks, 1), n_cols))
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    open_in = np.ascontiguousarray(open_in, dtype=np.bool_)
    constants = (
        decay.kind,
        decay.bounds,
        decay.weights,
        decay.catchment_minutes,
        decay.bandwidth_minutes,
    )

    def first(block: int, start: int, stop: int) -> None:
        _first_pass(
            minutes,
            available,
            codes,
            open_in,
            capacity,
            people,
            float(threshold_minutes),
            *constants,
            start,
            stop,
            nearest,
            counts,
            capacity_within,
            partial[block],
        )

    _over_blocks(n_rows, first)
    weighted_demand = partial.sum(axis=0)  # block by block, in order
    if ratio_of is None:
        return PairSums(nearest, counts, capacity_within, weighted_demand, None)
    ratio = np.ascontiguousarray(ratio_of(weighted_demand), dtype=np.float64)
    supply = np.zeros(shape)

    def second(_block: int, start: int, stop: int) -> None:
        _second_pass(minutes, available, codes, open_in, ratio, *constants, start, stop, supply)

    _over_blocks(n_rows, second)
    return PairSums(nearest, counts, capacity_within, weighted_demand, supply)
