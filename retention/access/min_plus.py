"""Joining travel legs: min-plus products of the transit legs and sums of the street legs,
compiled and run on every core.

Transit joins its legs with minima of sums: from boarding at a stop to a destination is the best
alighting stop's ride + walk on (:func:`ride_then_walk`), and from an origin it is the best
boarding stop's walk + that (:func:`walk_then_ride`). Both are numba loops (``nogil``) over
independent rows, run on threads (``shortest_paths.in_row_chunks``); every value is the same
float64 sum as the numpy expressions they replace, and a minimum does not depend on order, so
the answers are the same bits.
"""

from __future__ import annotations

import numpy as np

from retention.access.shortest_paths import compiled, in_row_chunks


@compiled
def _ride_then_walk_rows(
    board_to_stop: np.ndarray,
    stop_walk: np.ndarray,
    egress: np.ndarray,
    cutoff: float,
    out: np.ndarray,
) -> None:
    n_alight = board_to_stop.shape[1]
    n_destinations = egress.shape[1]
    for board in range(board_to_stop.shape[0]):
        row = out[board]
        row[:] = np.inf
        for alight in range(n_alight):
            ride = board_to_stop[board, alight]
            walk = stop_walk[board, alight]
            if not ride < walk:  # riding there is no faster than walking (NaN: unplaced)
                continue
            leg = egress[alight]
            for destination in range(n_destinations):
                value = ride + leg[destination]
                if value < row[destination]:  # a NaN walk on (unplaced) never wins
                    row[destination] = value
        for destination in range(n_destinations):
            if row[destination] > cutoff:
                row[destination] = np.inf


def ride_then_walk(
    board_to_stop: np.ndarray,
    stop_walk: np.ndarray,
    egress: np.ndarray,
    *,
    cutoff: float,
    threads: int | None = None,
) -> np.ndarray:
    """Minutes from boarding at each stop to each destination: min over alighting stops.

    ``board_to_stop[b, s]`` is boarding at b to standing at s, ``stop_walk[b, s]`` walking from
    b to s and ``egress[s, d]`` walking from s to destination d (NaN: a stop or destination
    that is not placed, never used).
    An alighting stop s is skipped for b when riding there is no faster than walking there:
    walking to s and on is never shorter than walking straight on (triangle inequality of walk
    times), and the caller keeps the walk whenever it is shorter, so the final answer is the
    same as over every stop.

    Returns
    -------
    np.ndarray
        ``(n_boarding, n_destinations)`` float64 minutes, inf past ``cutoff`` or unreachable.
    """
    board_to_stop = np.ascontiguousarray(board_to_stop, dtype=np.float64)
    stop_walk = np.ascontiguousarray(stop_walk, dtype=np.float64)
    egress = np.ascontiguousarray(egress, dtype=np.float64)
    out = np.empty((board_to_stop.shape[0], egress.shape[1]))

    def run(rows: slice) -> None:
        _ride_then_walk_rows(board_to_stop[rows], stop_walk[rows], egress, float(cutoff), out[rows])

    in_row_chunks(board_to_stop.shape[0], run, threads=threads)
    return out


@compiled
def _walk_then_ride_rows(
    access: np.ndarray,
    from_stop: np.ndarray,
    boardable: np.ndarray,
    cutoff: float,
    start: np.ndarray,
    copy_start: bool,
    cap: np.ndarray,
    best: np.ndarray,
) -> None:
    n_destinations = from_stop.shape[1]
    over = cap[0]  # in the dtype numpy would compare best with cap in
    for origin in range(access.shape[0]):
        row = best[origin]
        if copy_start:
            row[:] = start[origin]
        for board in boardable:
            walk = access[origin, board]
            if not np.isfinite(walk):
                continue
            leg = from_stop[board]
            for destination in range(n_destinations):
                value = walk + leg[destination]
                # Cut in float64 before meeting a float32 best: the float64 minimum, rounded.
                if value <= cutoff and value < row[destination]:
                    row[destination] = value
        for destination in range(n_destinations):
            if row[destination] > over:
                row[destination] = np.inf


def walk_then_ride(
    access: np.ndarray,
    from_stop: np.ndarray,
    *,
    best: np.ndarray,
    cutoff: float,
    start: np.ndarray | None = None,
    cap: float = np.inf,
    threads: int | None = None,
) -> None:
    """Lower ``best`` (origins x destinations, in place) to walk to a stop b + minutes from
    boarding at b.

    ``access[o, b]`` is the walk from origin o to stop b (inf or NaN: cannot board there),
    ``from_stop[b, d]`` boarding at b to destination d (:func:`ride_then_walk`). Trips longer
    than ``cutoff`` are dropped in float64 before they meet ``best``, so a float32 ``best`` ends
    exactly as the float64 minimum cast to float32 (rounding is monotonic). With ``start``,
    ``best`` is first set to it (``best = start.copy()``, without a pass of its own); values
    then above ``cap`` become inf, compared as ``best[best > cap] = inf`` would (a float32
    ``best`` with a Python float in float32, with a numpy float64 in float64).
    """
    access = np.ascontiguousarray(access, dtype=np.float64)
    from_stop = np.ascontiguousarray(from_stop, dtype=np.float64)
    boardable = np.flatnonzero(np.isfinite(from_stop).any(axis=1))
    target = best if best.flags.c_contiguous else np.ascontiguousarray(best)
    first = target if start is None else np.ascontiguousarray(start, dtype=best.dtype)
    # numpy compares a float32 array with a Python float in float32, with a float64 in float64.
    over = np.array([cap], dtype=np.result_type(best.dtype, cap))

    def run(rows: slice) -> None:
        _walk_then_ride_rows(
            access[rows],
            from_stop,
            boardable,
            float(cutoff),
            first[rows],
            start is not None,
            over,
            target[rows],
        )

    in_row_chunks(access.shape[0], run, threads=threads)
    if target is not best:
        best[...] = target


@compiled
def _walk_and_ride_rows(
    between: np.ndarray,
    access: np.ndarray,
    egress: np.ndarray,
    ratio: float,
    cutoff: float,
    walk: np.ndarray,
    ride: np.ndarray,
) -> None:
    for row in range(between.shape[0]):
        first = access[row]
        for column in range(between.shape[1]):
            network = between[row, column]
            value = (first + network) + egress[column]
            walk[row, column] = np.inf if value > cutoff else value
            value = (first + network * ratio) + egress[column]
            ride[row, column] = np.inf if value > cutoff else value


def walk_and_ride32(
    between: np.ndarray,
    access: np.ndarray,
    egress: np.ndarray,
    *,
    ratio: float,
    cutoff: float,
    threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Walk and ride legs (float32) from one search's network minutes in walking minutes.

    Walk: ``access + between + egress``; ride: ``access + between * ratio + egress`` (the same
    streets at another speed), each summed in float64 in that order, inf past ``cutoff``, then
    rounded to float32.

    Returns
    -------
    tuple[np.ndarray, np.ndarray]
        Walk and ride, ``between``'s shape, float32.
    """
    between = np.ascontiguousarray(between, dtype=np.float64)
    access = np.ascontiguousarray(access, dtype=np.float64)
    egress = np.ascontiguousarray(egress, dtype=np.float64)
    walk = np.empty(between.shape, dtype=np.float32)
    ride = np.empty(between.shape, dtype=np.float32)

    def run(rows: slice) -> None:
        _walk_and_ride_rows(
            between[rows], access[rows], egress, float(ratio), float(cutoff), walk[rows], ride[rows]
        )

    in_row_chunks(between.shape[0], run, threads=threads)
    return walk, ride


__all__ = ["ride_then_walk", "walk_and_ride32", "walk_then_ride"]
