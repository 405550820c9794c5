"""The compiled indicator passes give the numbers of the numpy computation they replaced.

``retention.access.indicator_kernel`` computes nearest minutes, opportunities, capacity within
the budget and both E2SFCA steps in two compiled passes over the minutes matrix, for several
sets of open amenities at once. The reference below is the computation it replaced (commit
7932d94, ``retention.access.indicators._park_indicators``): one checked, masked copy of the
matrix, then ``nearest_minutes``, ``cumulative_opportunities`` and ``e2sfca_by_category`` with
closed amenities moved to a category no indicator lists. Minima and counts must be identical;
sums (capacity, E2SFCA steps, the gap index built on them) add the same terms in another order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retention.access.indicators import (
    DEMAND_SETS,
    IndicatorParameters,
    ParkIndicators,
    category_order,
    indicators_for_windows,
    park_indicators,
)
from retention.access.measures import (
    DEFAULT_DECAY,
    DecayFunction,
    cumulative_opportunities,
    e2sfca_by_category,
    effective_minutes,
    nearest_minutes,
)

INF, NAN = math.inf, math.nan
CLOSED = "\x00closed"
ORDER = category_order(IndicatorParameters())
# Listed categories (an amenity one and a living-circle-only one) and one no indicator lists.
CATEGORIES = (ORDER[0], ORDER[1], ORDER[4], ORDER[-1], "not_a_category")
# Minutes on and around every bound the defaults use (10/20/30 decay zones, 15 min budget).
MINUTES = st.one_of(
    st.sampled_from([0.0, 9.99, 10.0, 10.000001, 15.0, 15.000001, 19.9, 20.0, 30.0, 30.5]),
    st.sampled_from([INF, NAN]),
    st.floats(0.0, 60.0),
)
DECAYS = (
    DEFAULT_DECAY,
    DecayFunction.step((5.0, 12.5), (1.0, 0.4)),
    DecayFunction.gaussian(8.0),
    DecayFunction.uniform(),
)


def reference(
    minutes: np.ndarray,
    origins: pd.DataFrame,
    amenities: pd.DataFrame,
    *,
    available: np.ndarray | None,
    open_now: np.ndarray | None,
    parameters: IndicatorParameters,
) -> dict[str, object]:
    """The numpy computation of every pair indicator before the compiled passes."""
    effective = effective_minutes(minutes, available=available)
    categories = amenities["category"].astype(str).to_numpy()
    capacity = pd.to_numeric(amenities["capacity"], errors="coerce").fillna(0.0).to_numpy()
    counted = categories if open_now is None else np.where(open_now, categories, CLOSED)
    counted_capacity = capacity if open_now is None else np.where(open_now, capacity, 0.0)
    people = origins["weight"].to_numpy(dtype=float)
    in_demand = origins["origin_set"].isin(DEMAND_SETS[parameters.demand]).to_numpy()
    common = {"origin_ids": origins.index, "category_order": ORDER}
    steps: dict[str, np.ndarray] = {}
    budget = parameters.threshold_minutes
    return {
        "nearest": nearest_minutes(effective, counted, **common).xs(1, level="rank", axis=1),
        "opportunities": cumulative_opportunities(
            effective, counted, threshold_minutes=budget, **common
        ),
        "capacity_within": cumulative_opportunities(
            effective, categories, threshold_minutes=budget, weights=counted_capacity, **common
        ),
        "supply_per_1000": e2sfca_by_category(
            effective,
            counted,
            capacity,
            np.where(in_demand, people, 0.0),
            decay=parameters.decay,
            catchment_minutes=parameters.catchment_minutes,
            steps=steps,
            **common,
        ),
        **steps,
    }


def assert_same(found: ParkIndicators, expected: dict[str, object]) -> None:
    assert found.basis is not None
    shown = list(found.nearest.columns)
    pd.testing.assert_frame_equal(found.basis.nearest_all, expected["nearest"], check_exact=True)
    pd.testing.assert_frame_equal(
        found.opportunities, expected["opportunities"][shown], check_exact=True
    )
    for name in ("capacity_within", "supply_per_1000"):
        pd.testing.assert_frame_equal(
            getattr(found, name), expected[name][shown], rtol=1e-12, atol=1e-12
        )
    for name in ("weighted_demand", "ratio"):
        np.testing.assert_allclose(
            getattr(found.basis, name), expected[name], rtol=1e-12, atol=1e-15
        )


@st.composite
def parks(draw: st.DrawFn) -> tuple:
    n_rows = draw(st.integers(1, 70))  # up to three blocks of rows
    n_cols = draw(st.integers(0, 9))
    origins = pd.DataFrame(
        {
            "origin_set": draw(
                st.lists(
                    st.sampled_from(["residence", "enterprise", "cell"]),
                    min_size=n_rows,
                    max_size=n_rows,
                )
            ),
            "weight": draw(
                st.lists(st.sampled_from([0.0, 1.0, 2.5, 130.0]), min_size=n_rows, max_size=n_rows)
            ),
        }
    )
    amenities = pd.DataFrame(
        {
            "category": draw(
                st.lists(st.sampled_from(CATEGORIES), min_size=n_cols, max_size=n_cols)
            ),
            "capacity": draw(
                st.lists(
                    st.sampled_from([0.0, 0.3, 1.0, 7.1, 100.7]), min_size=n_cols, max_size=n_cols
                )
            ),
        }
    )
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    minutes = np.array(
        draw(st.lists(MINUTES, min_size=n_rows * n_cols, max_size=n_rows * n_cols)), dtype=dtype
    ).reshape(n_rows, n_cols)
    open_to = np.array(
        draw(st.lists(st.booleans(), min_size=n_rows * n_cols, max_size=n_rows * n_cols)),
        dtype=bool,
    ).reshape(n_rows, n_cols)
    parameters = IndicatorParameters(
        threshold_minutes=draw(st.sampled_from([5.0, 15.0, 15.5])),
        decay=draw(st.sampled_from(DECAYS)),
        catchment_minutes=draw(st.sampled_from([None, 12.0, 25.0])),
        demand=draw(st.sampled_from(sorted(DEMAND_SETS))),
    )
    return minutes, origins, amenities, open_to, parameters


@pytest.mark.slow  # ~5 s CPU: 150 random parks, each also run through the numpy reference
@settings(max_examples=150, deadline=None, derandomize=True)
@given(park=parks(), mask_shape=st.sampled_from(["none", "columns", "pairs"]))
def test_one_matrix_equals_the_numpy_computation(park: tuple, mask_shape: str) -> None:
    minutes, origins, amenities, open_to, parameters = park
    available = {"none": None, "columns": open_to[0], "pairs": open_to}[mask_shape]
    found = park_indicators(minutes, origins, amenities, available=available, parameters=parameters)
    expected = reference(
        minutes, origins, amenities, available=available, open_now=None, parameters=parameters
    )
    assert_same(found, expected)


@dataclass
class _Result:
    """The part of a ``TravelTimeResult`` indicators read: windows a and b share a matrix."""

    origins: pd.DataFrame
    amenities: pd.DataFrame
    matrices: dict[str, np.ndarray]
    open: dict[str, np.ndarray]
    open_to: np.ndarray

    @property
    def windows(self) -> tuple[SimpleNamespace, ...]:
        return tuple(SimpleNamespace(key=key) for key in self.matrices)

    def minutes_for(self, mode: str, key: str) -> np.ndarray:
        return self.matrices[key]

    def is_open(self, key: str) -> np.ndarray:
        return self.open[key]


@pytest.mark.slow  # ~4 s CPU: 60 random parks with three windows each
@settings(max_examples=60, deadline=None, derandomize=True)
@given(park=parks(), data=st.data())
def test_windows_sharing_a_matrix_equal_one_window_each(park: tuple, data: st.DataObject) -> None:
    minutes, origins, amenities, open_to, parameters = park
    n_cols = minutes.shape[1]
    hours = st.lists(st.booleans(), min_size=n_cols, max_size=n_cols).map(
        lambda values: np.array(values, dtype=bool)
    )
    other = np.where(np.isnan(minutes), minutes, minutes * 0.5)
    result = _Result(
        origins,
        amenities,
        matrices={"a": minutes, "b": minutes, "c": other},
        open={key: data.draw(hours) for key in "abc"},
        open_to=open_to,
    )
    found = indicators_for_windows(result, mode="walk", parameters=parameters)
    assert list(found) == ["a", "b", "c"]
    for key, indicators in found.items():
        assert indicators.basis is not None and indicators.basis.source == ("walk", key)
        expected = reference(
            result.matrices[key],
            origins,
            amenities,
            available=open_to,
            open_now=result.open[key],
            parameters=parameters,
        )
        assert_same(indicators, expected)


def test_the_numbers_do_not_depend_on_the_number_of_threads(monkeypatch) -> None:
    rng = np.random.default_rng(7)
    n_rows, n_cols = 300, 40
    minutes = rng.uniform(0.0, 45.0, (n_rows, n_cols)).astype(np.float32)
    minutes[rng.random((n_rows, n_cols)) < 0.1] = np.inf
    origins = pd.DataFrame(
        {"origin_set": "residence", "weight": rng.uniform(0.0, 500.0, n_rows).round(1)}
    )
    amenities = pd.DataFrame(
        {
            "category": rng.choice(CATEGORIES, n_cols),
            "capacity": rng.uniform(0.0, 50.0, n_cols),
        }
    )
    answers = []
    for threads in ("1", "2", "3"):
        monkeypatch.setenv("PARKLIFE_SEARCH_THREADS", threads)
        answers.append(park_indicators(minutes, origins, amenities))
    for other in answers[1:]:
        for name in ("nearest", "opportunities", "capacity_within", "supply_per_1000", "gap"):
            pd.testing.assert_frame_equal(
                getattr(other, name), getattr(answers[0], name), check_exact=True
            )
        assert other.basis is not None and answers[0].basis is not None
        assert np.array_equal(other.basis.weighted_demand, answers[0].basis.weighted_demand)
