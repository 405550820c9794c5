"""Tests for retention.access.min_plus: the compiled transit joins against plain numpy, bit for
bit (inf, NaN for unplaced points, float32 results, cut-offs hit exactly), and by hand."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from retention.access.min_plus import ride_then_walk, walk_and_ride32, walk_then_ride

MINUTES = st.one_of(
    st.sampled_from([np.inf, np.nan, 0.0, 0.1, 0.2, 0.3, 1.0, 2.5, 10.0]),
    st.floats(0.0, 40.0),
)


def _numpy_ride_then_walk(
    board_to_stop: np.ndarray, stop_walk: np.ndarray, egress: np.ndarray, cutoff: float
) -> np.ndarray:
    leg = np.where(np.isnan(egress), np.inf, egress)
    walk_between = np.where(np.isnan(stop_walk), -np.inf, stop_walk)
    result = np.full((board_to_stop.shape[0], leg.shape[1]), np.inf)
    for board in range(board_to_stop.shape[0]):
        alight = np.flatnonzero(board_to_stop[board] < walk_between[board])
        if len(alight):
            result[board] = (board_to_stop[board, alight, None] + leg[alight]).min(axis=0)
    result[result > cutoff] = np.inf
    return result


def _numpy_walk_then_ride(
    access: np.ndarray, from_stop: np.ndarray, best: np.ndarray, cutoff: float
) -> None:
    for board in range(from_stop.shape[0]):
        rows = np.flatnonzero(np.isfinite(access[:, board]))
        trips = access[rows, board, None] + from_stop[board]
        trips[trips > cutoff] = np.inf
        best[rows] = np.minimum(best[rows], trips)


def _bits(values: np.ndarray) -> np.ndarray:
    return values.view(np.uint64 if values.dtype == np.float64 else np.uint32)


def _cutoff(draw: st.DrawFn, sums: np.ndarray) -> float:
    """A cut-off that some sum hits exactly, or 30 or 0 minutes."""
    exact = sums[np.isfinite(sums)]
    hit = draw(st.sampled_from(exact.tolist())) if len(exact) else 30.0
    return float(draw(st.sampled_from([hit, 30.0, 0.0])))


@st.composite
def _legs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    n_board, n_stops, n_destinations = (draw(st.integers(0, 7)) for _ in range(3))
    board_to_stop = draw(hnp.arrays(np.float64, (n_board, n_stops), elements=MINUTES))
    board_to_stop[np.isnan(board_to_stop)] = np.inf  # rides are never NaN
    stop_walk = draw(hnp.arrays(np.float64, (n_board, n_stops), elements=MINUTES))
    egress = draw(hnp.arrays(np.float64, (n_stops, n_destinations), elements=MINUTES))
    sums = board_to_stop[:, :, None] + np.nan_to_num(egress, nan=np.inf)[None]
    return board_to_stop, stop_walk, egress, _cutoff(draw, sums)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(legs=_legs(), threads=st.sampled_from([1, 2]))
def test_ride_then_walk_same_bits_as_numpy(
    legs: tuple[np.ndarray, np.ndarray, np.ndarray, float], threads: int
) -> None:
    board_to_stop, stop_walk, egress, cutoff = legs
    expected = _numpy_ride_then_walk(board_to_stop, stop_walk, egress, cutoff)
    found = ride_then_walk(board_to_stop, stop_walk, egress, cutoff=cutoff, threads=threads)
    np.testing.assert_array_equal(_bits(found), _bits(expected))


@st.composite
def _joins(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    n_origins, n_board, n_destinations = (draw(st.integers(0, 7)) for _ in range(3))
    access = draw(hnp.arrays(np.float64, (n_origins, n_board), elements=MINUTES))
    from_stop = draw(hnp.arrays(np.float64, (n_board, n_destinations), elements=MINUTES))
    from_stop[np.isnan(from_stop)] = np.inf  # ride_then_walk never gives NaN
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    best = draw(hnp.arrays(dtype, (n_origins, n_destinations), elements=MINUTES))
    return access, from_stop, best, _cutoff(draw, access[:, :, None] + from_stop[None])


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    joins=_joins(),
    threads=st.sampled_from([1, 2]),
    start=st.booleans(),
    cap=st.sampled_from([None, 0.1, np.float64(0.1), 2.5, np.float64(1 / 3)]),
)
def test_walk_then_ride_same_bits_as_numpy(
    joins: tuple[np.ndarray, np.ndarray, np.ndarray, float],
    threads: int,
    start: bool,
    cap: float | None,
) -> None:
    access, from_stop, walk, cutoff = joins
    expected = walk.copy()
    _numpy_walk_then_ride(access, from_stop, expected, cutoff)
    if cap is not None:
        expected[expected > cap] = np.inf  # as the engine cuts at max_minutes
    # From a copy of the walk made by the caller, or straight from the walk.
    best = np.full_like(walk, 99.0) if start else walk.copy()
    capped = {} if cap is None else {"cap": cap}
    walk_then_ride(
        access,
        from_stop,
        best=best,
        cutoff=cutoff,
        start=walk if start else None,
        threads=threads,
        **capped,
    )
    assert best.dtype == expected.dtype
    np.testing.assert_array_equal(_bits(best), _bits(expected))


def test_by_hand() -> None:
    # Board at stop 0: ride to stop 1 in 4 min (walking there takes 9), walk on 2 -> 6 min;
    # riding to stop 2 (5 min) is not faster than walking there (5 min), so it is not used.
    board_to_stop = np.array([[0.0, 4.0, 5.0]])
    stop_walk = np.array([[0.0, 9.0, 5.0]])
    egress = np.array([[20.0], [2.0], [0.5]])
    from_stop = ride_then_walk(board_to_stop, stop_walk, egress, cutoff=60.0)
    assert from_stop.tolist() == [[6.0]]
    assert ride_then_walk(board_to_stop, stop_walk, egress, cutoff=5.0).tolist() == [[np.inf]]
    # Walk 3 min to the stop: 9 min beats walking all the way (12), float32 result in place.
    best = np.array([[12.0], [1.0]], dtype=np.float32)
    walk_then_ride(np.array([[3.0], [np.inf]]), from_stop, best=best, cutoff=60.0)
    assert best.tolist() == [[9.0], [1.0]]
    # A column slice is not contiguous: the result still lands in it.
    wide = np.full((2, 3), 12.0)
    walk_then_ride(np.array([[3.0], [0.0]]), from_stop, best=wide[:, 1:2], cutoff=60.0)
    assert wide.tolist() == [[12.0, 9.0, 12.0], [12.0, 6.0, 12.0]]


@settings(max_examples=150, derandomize=True, deadline=None)
@given(
    between=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=6),
        elements=st.one_of(st.just(np.inf), st.floats(0.0, 300.0)),
    ),
    data=st.data(),
)
def test_walk_and_ride32_same_bits_as_numpy(between: np.ndarray, data: st.DataObject) -> None:
    n_rows, n_columns = between.shape
    access = data.draw(hnp.arrays(np.float64, n_rows, elements=st.floats(0.0, 5.0)))
    egress = data.draw(hnp.arrays(np.float64, n_columns, elements=st.floats(0.0, 5.0)))
    ratio, cutoff = 0.24, data.draw(st.sampled_from([60.0, 45.3, 0.0]))
    walk, ride = walk_and_ride32(between, access, egress, ratio=ratio, cutoff=cutoff, threads=2)
    for found, scale in ((walk, 1.0), (ride, ratio)):
        expected = access[:, None] + between * scale + egress[None, :]
        expected[expected > cutoff] = np.inf
        assert found.dtype == np.float32
        np.testing.assert_array_equal(_bits(found), _bits(expected.astype(np.float32)))
