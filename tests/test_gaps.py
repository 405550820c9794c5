"""Tests for retention.access.gaps: hand-worked gap indices, aggregation and properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from retention.access.gaps import (
    DEFAULT_GAP_PARAMETERS,
    GAP_INDEX_METHOD,
    CategoryTarget,
    GapParameters,
    aggregate_by_group,
    category_shortfalls,
    default_category_weights,
    gap_index,
)
from retention.access.measures import e2sfca_by_category, nearest_minutes
from retention.data.layers import AmenityCategory
from retention.errors import ParameterError
from tests.access_strategies import TRAVEL_MINUTES, access_problems

INF = math.inf
ALL = [category.value for category in AmenityCategory]


def test_defaults_cover_every_category_with_gb_tiers_and_sourced_norms() -> None:
    assert set(DEFAULT_GAP_PARAMETERS.categories) == set(ALL)
    court = DEFAULT_GAP_PARAMETERS.target("sports_court")
    assert (court.target_minutes, court.cap_minutes, court.supply_norm_per_1000) == (5, 15, 0.2)
    hospital = DEFAULT_GAP_PARAMETERS.target("hospital")
    assert (hospital.target_minutes, hospital.cap_minutes) == (15, 45)
    assert all(target.source for target in DEFAULT_GAP_PARAMETERS.targets)
    assert default_category_weights() == dict.fromkeys(ALL, 1.0)
    for text in GAP_INDEX_METHOD.values():
        assert "100" in text and "E2SFCA" in text


def test_gap_index_known_answer_time_only() -> None:
    nearest = pd.DataFrame(
        {"sports_court": [5.0, 10.0, INF], "hospital": [30.0, 15.0, np.nan]},
        index=["a", "b", "c"],
    )
    # court: target 5, cap 15 -> shortfalls 0, 0.5, 1; hospital: 15/45 -> 0.5, 0, 1
    # weights 3 and 1: index = 100 * (3 s_court + s_hospital) / 4
    result = gap_index(nearest, weights={"sports_court": 3.0, "hospital": 1.0})
    assert list(result.columns) == ["gap_index", "sports_court", "hospital"]
    assert result["sports_court"].tolist() == pytest.approx([0.0, 37.5, 75.0])
    assert result["hospital"].tolist() == pytest.approx([12.5, 0.0, 25.0])
    assert result["gap_index"].tolist() == pytest.approx([12.5, 37.5, 100.0])


def test_single_court_near_8000_workers_is_a_gap() -> None:
    minutes = np.array([[2.0], [3.0]])  # the court is 2-3 minutes away: no time shortfall
    people = np.array([5000.0, 3000.0])
    nearest = nearest_minutes(minutes, ["sports_court"])
    supply = e2sfca_by_category(minutes, ["sports_court"], [1.0], people)
    result = gap_index(nearest, supply_per_1000=supply, weights={"sports_court": 1.0})
    # 1 court / 8,000 people = 0.125 per 1,000 against a norm of 0.2: shortfall 1 - 0.625
    assert result["gap_index"].tolist() == pytest.approx([37.5, 37.5])
    time_only = gap_index(nearest, weights={"sports_court": 1.0})
    assert time_only["gap_index"].tolist() == [0.0, 0.0]
    # Two courts for the same people close the gap entirely.
    two = e2sfca_by_category(np.hstack([minutes, minutes]), ["sports_court"] * 2, [1, 1], people)
    closed = gap_index(nearest, supply_per_1000=two, weights={"sports_court": 1.0})
    assert closed["gap_index"].tolist() == [0.0, 0.0]


def test_category_shortfalls_report_time_supply_and_combined_parts() -> None:
    nearest = pd.DataFrame({"sports_court": [10.0]})
    supply = pd.DataFrame({"sports_court": [0.15]})
    parts = category_shortfalls(nearest, supply_per_1000=supply)
    assert parts.loc[0, ("sports_court", "time")] == pytest.approx(0.5)
    assert parts.loc[0, ("sports_court", "supply")] == pytest.approx(0.25)
    assert parts.loc[0, ("sports_court", "combined")] == pytest.approx(0.5)


def test_gap_index_accepts_the_ranked_output_of_nearest_minutes() -> None:
    minutes = np.array([[1.0, 9.0]])
    nearest = nearest_minutes(minutes, ["grocery", "grocery"], k=2)
    result = gap_index(nearest, weights={"grocery": 1.0})
    assert result["gap_index"].tolist() == [0.0]


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"grocery": -1.0}, "weight of 'grocery' must be a non-negative number, got -1.0"),
        ({"grocery": 0.0}, "at least one category weight must be positive"),
        ({"park": 1.0}, "no nearest minutes for category 'park'"),
        ({"sauna": 1.0}, "no gap-index target for category 'sauna'"),
    ],
)
def test_gap_index_rejects_bad_weights(weights, message) -> None:
    nearest = pd.DataFrame({"grocery": [1.0], "sauna": [1.0]})
    with pytest.raises(ParameterError, match=message):
        gap_index(nearest, weights=weights)


def test_targets_are_validated() -> None:
    with pytest.raises(ParameterError, match="'cap_minutes': 'park': must be a finite number"):
        CategoryTarget("park", 15.0, 10.0, None, "x")
    with pytest.raises(ParameterError, match="'supply_norm_per_1000'"):
        CategoryTarget("park", 15.0, 45.0, 0.0, "x")
    target = CategoryTarget("park", 15.0, 45.0, None, "x")
    with pytest.raises(ParameterError, match="row 2, column 'category'"):
        GapParameters((target, target))


def test_aggregate_by_group_weights_by_people_and_keeps_missing_groups() -> None:
    frame = pd.DataFrame({"gap_index": [10.0, 40.0, 70.0, 5.0], "park": [10.0, 0.0, 20.0, 5.0]})
    result = aggregate_by_group(frame, [100, 300, 0, 50], ["g1", "g1", "g2", None])
    assert result.loc["g1", "gap_index"] == pytest.approx((10 * 100 + 40 * 300) / 400)
    assert result.loc["g1", "people"] == 400
    assert np.isnan(result.loc["g2", "gap_index"])  # a group of nobody has no mean
    assert result["people"].sum() == 450  # the origin without a group is kept, not dropped
    with pytest.raises(ParameterError, match="row 2, column 'people'"):
        aggregate_by_group(frame, [1, -1, 1, 1], ["g"] * 4)


# --- properties ----------------------------------------------------------------------------

_CATS = ["sports_court", "hospital", "canteen", "training"]


@st.composite
def _problems(draw):
    minutes, categories, supply, people = draw(
        access_problems(categories=_CATS, supply=st.integers(0, 500))
    )
    weights = dict(
        zip(_CATS, draw(st.lists(st.floats(0.1, 5.0), min_size=4, max_size=4)), strict=True)
    )
    return minutes, categories, supply, people, weights


def _gaps(minutes, categories, supply, people, weights):
    nearest = nearest_minutes(minutes, categories, category_order=_CATS)
    per_1000 = e2sfca_by_category(minutes, categories, supply, people, category_order=_CATS)
    return gap_index(nearest, supply_per_1000=per_1000, weights=weights)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(_problems())
def test_gap_index_lies_in_0_100_and_contributions_sum_to_it(problem) -> None:
    result = _gaps(*problem)
    index = result["gap_index"].to_numpy()
    assert ((index >= 0) & (index <= 100 + 1e-9)).all()
    np.testing.assert_allclose(result[_CATS].sum(axis=1), index, atol=1e-9)
    zone = aggregate_by_group(result, problem[3], ["z"] * len(result))
    if zone.loc["z", "people"] > 0:
        assert zone.loc["z", _CATS].sum() == pytest.approx(zone.loc["z", "gap_index"])


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    _problems(),
    hnp.arrays(float, 6, elements=TRAVEL_MINUTES),
    st.sampled_from(_CATS),
    st.integers(0, 500),
)
def test_adding_an_amenity_never_raises_any_gap_index(problem, column, category, capacity):
    minutes, categories, supply, people, weights = problem
    before = _gaps(minutes, categories, supply, people, weights)
    after = _gaps(
        np.hstack([minutes, column[: minutes.shape[0], None]]),
        np.append(categories, category),
        np.append(supply, capacity),
        people,
        weights,
    )
    assert (after["gap_index"] <= before["gap_index"] + 1e-9).all()


@settings(max_examples=50, deadline=None, derandomize=True)
@given(_problems(), st.randoms(use_true_random=False))
def test_gap_index_does_not_depend_on_row_order(problem, random) -> None:
    minutes, categories, supply, people, weights = problem
    rows = list(range(minutes.shape[0]))
    cols = list(range(minutes.shape[1]))
    random.shuffle(rows)
    random.shuffle(cols)
    original = _gaps(minutes, categories, supply, people, weights)
    permuted = _gaps(
        minutes[np.ix_(rows, cols)], categories[cols], supply[cols], people[rows], weights
    )
    permuted.index = rows  # RangeIndex positions map back to the original origins
    np.testing.assert_allclose(permuted.sort_index().to_numpy(), original.to_numpy(), atol=1e-9)
