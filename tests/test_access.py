"""Tests for retention.access.measures: hand-worked answers, PySAL cross-checks and properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from retention.access.measures import (
    DEFAULT_DECAY,
    DEFAULT_SUPPLY_NORMS,
    DecayFunction,
    SupplyNorm,
    cumulative_opportunities,
    e2sfca,
    e2sfca_by_category,
    effective_minutes,
    nearest_minutes,
    non_negative_values,
    people_per_origin,
    supply_norms_by_category,
    two_step_fca,
)
from retention.errors import ParameterError
from tests.access_strategies import TRAVEL_MINUTES, access_problems

INF = math.inf

# Two origins, four amenities. Worked by hand in the tests below.
MINUTES = np.array(
    [
        [2.0, INF, 12.0, 4.0],
        [8.0, 3.0, np.nan, 25.0],
    ]
)
CATEGORIES = np.array(["court", "court", "hospital", "court"])


# --- decay ---------------------------------------------------------------------------------


def test_step_decay_uses_upper_bounds_inclusively_like_pysal() -> None:
    weights = DEFAULT_DECAY.weight([0, 10, 10.5, 20, 29.9, 30, 30.1, INF, np.nan])
    np.testing.assert_array_equal(weights, [1, 1, 0.68, 0.68, 0.22, 0.22, 0, 0, 0])


def test_gaussian_decay_is_one_at_zero_and_exp_minus_half_at_sigma() -> None:
    decay = DecayFunction.gaussian(20)
    np.testing.assert_allclose(decay.weight([0, 20, 40, INF]), [1, math.exp(-0.5), math.exp(-2), 0])


def test_uniform_decay_weighs_every_reachable_pair_one() -> None:
    np.testing.assert_array_equal(DecayFunction.uniform().weight([0, 99, INF]), [1, 1, 0])


@pytest.mark.parametrize(
    ("zones", "weights", "message"),
    [
        ((10, 20), (1.0,), "one weight per zone, got 2 zones and 1 weights"),
        ((10, 5), (1.0, 0.5), "zone bounds must increase, got 5.0 after 10.0"),
        ((0, 5), (1.0, 0.5), "zone bounds must be positive minutes, got 0.0"),
        ((10, 20), (0.5, 0.8), "must not increase with travel time, got 0.8 after 0.5"),
        ((10,), (1.5,), r"weights must lie in \[0, 1\], got 1.5"),
    ],
)
def test_step_decay_rejects_bad_zones(zones, weights, message) -> None:
    with pytest.raises(ParameterError, match=message):
        DecayFunction.step(zones, weights)


def test_gaussian_decay_rejects_a_non_positive_bandwidth() -> None:
    with pytest.raises(ParameterError, match="'bandwidth_minutes': must be a positive number"):
        DecayFunction.gaussian(0)


# --- nearest and cumulative ----------------------------------------------------------------


def test_nearest_minutes_known_answer_with_ranks_and_padding() -> None:
    result = nearest_minutes(MINUTES, CATEGORIES, k=2, origin_ids=["a", "b"])
    assert list(result.columns) == [("court", 1), ("court", 2), ("hospital", 1), ("hospital", 2)]
    np.testing.assert_array_equal(
        result.loc["a"].to_numpy(), [2.0, 4.0, 12.0, INF]
    )  # court 2, 4 (inf skipped); one hospital only
    np.testing.assert_array_equal(result.loc["b"].to_numpy(), [3.0, 8.0, INF, INF])  # NaN = inf


def test_nearest_minutes_ignores_unavailable_pairs() -> None:
    per_amenity = np.array([False, True, True, True])  # the 2-minute court is closed
    result = nearest_minutes(MINUTES, CATEGORIES, available=per_amenity)
    assert result[("court", 1)].tolist() == [4.0, 3.0]
    per_pair = np.array([[True, True, True, True], [True, False, True, True]])
    result = nearest_minutes(MINUTES, CATEGORIES, available=per_pair)
    assert result[("court", 1)].tolist() == [2.0, 8.0]


def test_nearest_minutes_reports_listed_categories_without_amenities_as_unreachable() -> None:
    result = nearest_minutes(MINUTES, CATEGORIES, category_order=["park", "court"])
    assert list(result.columns.get_level_values("category")) == ["park", "court"]
    assert result[("park", 1)].tolist() == [INF, INF]


def test_nearest_minutes_does_not_mutate_its_inputs() -> None:
    minutes = MINUTES.copy()
    nearest_minutes(minutes, CATEGORIES)
    np.testing.assert_array_equal(minutes, MINUTES)  # NaN stays NaN in the caller's array


def test_cumulative_opportunities_counts_and_sums_capacity_within_threshold() -> None:
    counts = cumulative_opportunities(MINUTES, CATEGORIES, threshold_minutes=4)
    assert counts.to_dict("list") == {"court": [2.0, 1.0], "hospital": [0.0, 0.0]}
    capacity = cumulative_opportunities(
        MINUTES, CATEGORIES, threshold_minutes=12, weights=[10, 20, 300, 5]
    )
    assert capacity.to_dict("list") == {"court": [15.0, 30.0], "hospital": [300.0, 0.0]}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "'k': must be a positive integer, got 0"),
        ({"available": np.ones(3, bool)}, r"'available': expected shape \(2, 4\) or \(4,\)"),
        ({"available": np.ones(4)}, "'available': must be boolean"),
        ({"origin_ids": ["a"]}, "'origin_ids': expected 2 origin ids, got 1"),
    ],
)
def test_nearest_minutes_rejects_bad_options(kwargs, message) -> None:
    with pytest.raises(ParameterError, match=message):
        nearest_minutes(MINUTES, CATEGORIES, **kwargs)


def test_minutes_must_be_non_negative_and_two_dimensional() -> None:
    bad = MINUTES.copy()
    bad[1, 3] = -1
    with pytest.raises(ParameterError, match=r"row 2, column 'minutes': .* -1\.0 for amenity 4"):
        nearest_minutes(bad, CATEGORIES)
    with pytest.raises(ParameterError, match="expected a 2-D matrix"):
        nearest_minutes(np.zeros(4), CATEGORIES)
    with pytest.raises(ParameterError, match=r"'categories': expected one value per amenity \(4\)"):
        nearest_minutes(MINUTES, CATEGORIES[:3])


# --- floating catchments -------------------------------------------------------------------


def test_e2sfca_known_answer() -> None:
    # Court-only submatrix, supply 1, 1, 3 courts; demand 100 and 200 people.
    minutes = np.array([[2.0, INF, 12.0], [8.0, 3.0, np.nan]])
    # W (zones 10/20/30 -> 1/0.68/0.22) = [[1, 0, 0.68], [1, 1, 0]]
    # D = [100 + 200, 200, 0.68 * 100] = [300, 200, 68]; R = [1/300, 1/200, 3/68]
    # A = [1/300 + 0.68 * 3/68, 1/300 + 1/200] = [1/300 + 0.03, 1/120]
    result = e2sfca(minutes, [1, 1, 3], [100, 200])
    np.testing.assert_allclose(result, [1 / 300 + 0.03, 1 / 120], rtol=1e-12)


def test_two_step_fca_known_answer() -> None:
    minutes = np.array([[2.0, INF, 12.0], [8.0, 3.0, np.nan]])
    # Catchment 10: site 3 (12 min) drops out. D = [300, 200, 0]; R = [1/300, 1/200, 0]
    result = two_step_fca(minutes, [1, 1, 3], [100, 200], catchment_minutes=10)
    np.testing.assert_allclose(result, [1 / 300, 1 / 300 + 1 / 200], rtol=1e-12)


def test_single_court_near_8000_workers_gives_each_one_8000th() -> None:
    minutes = np.array([[2.0], [3.0]])
    result = e2sfca(minutes, [1.0], [5000.0, 3000.0])
    np.testing.assert_allclose(result, [1 / 8000, 1 / 8000], rtol=1e-12)
    per_1000 = e2sfca_by_category(minutes, ["sports_court"], [1.0], [5000.0, 3000.0])
    norm = supply_norms_by_category()["sports_court"]
    assert per_1000["sports_court"].tolist() == pytest.approx([0.125, 0.125])
    assert (per_1000["sports_court"] < norm).all()  # near, yet a gap against 0.2 per 1,000


def test_e2sfca_gives_zero_where_no_demand_reaches_a_site_and_honours_availability() -> None:
    minutes = np.array([[5.0, 50.0]])
    np.testing.assert_allclose(e2sfca(minutes, [2, 7], [10]), [0.2])  # site 2 beyond 30 min
    np.testing.assert_allclose(e2sfca(minutes, [2, 7], [10], available=[False, True]), [0.0])


def test_e2sfca_catchment_cuts_the_decay() -> None:
    minutes = np.array([[5.0, 15.0]])
    result = e2sfca(minutes, [2, 7], [10], catchment_minutes=10)
    np.testing.assert_allclose(result, [0.2])


def test_e2sfca_rejects_negative_supply_and_demand() -> None:
    with pytest.raises(ParameterError, match="row 2, column 'demand': must be a non-negative"):
        e2sfca(np.ones((2, 1)), [1.0], [1.0, -3.0])
    with pytest.raises(ParameterError, match="column 'supply': expected one value per amenity"):
        e2sfca(np.ones((2, 1)), [1.0, 2.0], [1.0, 3.0])
    with pytest.raises(ParameterError, match="'catchment_minutes': must be a positive"):
        e2sfca(np.ones((2, 1)), [1.0], [1.0, 3.0], catchment_minutes=0)


def test_supply_norms_carry_sources_and_are_unique() -> None:
    assert all(norm.source for norm in DEFAULT_SUPPLY_NORMS)
    assert supply_norms_by_category()["sports_court"] == 0.2
    duplicate = (*DEFAULT_SUPPLY_NORMS, SupplyNorm("sports_court", 1.0, "courts", "x"))
    with pytest.raises(ParameterError, match="row 8, column 'category'"):
        supply_norms_by_category(duplicate)
    with pytest.raises(ParameterError, match="norm of 'gym' must be a positive number"):
        SupplyNorm("gym", 0.0, "floor_m2", "x")


# --- cross-check against PySAL access -------------------------------------------------------


def _pysal_problem(seed: int):
    rng = np.random.default_rng(seed)
    n_origins, n_sites = 40, 15
    minutes = rng.uniform(0.0, 40.0, (n_origins, n_sites))
    minutes[rng.random((n_origins, n_sites)) < 0.2] = INF
    demand = rng.integers(1, 3000, n_origins).astype(float)
    supply = rng.integers(1, 20, n_sites).astype(float)
    return minutes, supply, demand


def _pysal_access(minutes, supply, demand):
    from access import Access

    origin_ids = [f"o{i}" for i in range(minutes.shape[0])]
    site_ids = [f"s{j}" for j in range(minutes.shape[1])]
    rows, cols = np.nonzero(np.isfinite(minutes))  # PySAL lists reachable pairs only
    cost = pd.DataFrame(
        {
            "origin": np.array(origin_ids)[rows],
            "dest": np.array(site_ids)[cols],
            "cost": minutes[rows, cols],
        }
    )
    model = Access(
        demand_df=pd.DataFrame({"pop": demand}, index=pd.Index(origin_ids, name="geoid")),
        demand_value="pop",
        supply_df=pd.DataFrame({"cap": supply}, index=pd.Index(site_ids, name="geoid")),
        supply_value="cap",
        cost_df=cost,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    return model, origin_ids


def _pysal_values(frame: pd.DataFrame, column: str, origin_ids: list[str]) -> np.ndarray:
    # PySAL leaves origins that reach no site NaN; ParkLife reports 0 supply for them.
    return frame[column].reindex(origin_ids).fillna(0.0).to_numpy()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_step_fca_equals_pysal(seed: int) -> None:
    minutes, supply, demand = _pysal_problem(seed)
    model, origin_ids = _pysal_access(minutes, supply, demand)
    expected = _pysal_values(model.two_stage_fca(name="x", max_cost=20), "x_cap", origin_ids)
    result = two_step_fca(minutes, supply, demand, catchment_minutes=20)
    assert np.count_nonzero(result) > 30  # the problem is not trivially empty
    np.testing.assert_allclose(result, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_e2sfca_step_equals_pysal_default(seed: int) -> None:
    from access import weights

    minutes, supply, demand = _pysal_problem(seed)
    model, origin_ids = _pysal_access(minutes, supply, demand)
    step = weights.step_fn({10: 1, 20: 0.68, 30: 0.22})
    expected = _pysal_values(
        model.enhanced_two_stage_fca(name="y", weight_fn=step), "y_cap", origin_ids
    )
    np.testing.assert_allclose(e2sfca(minutes, supply, demand), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", [1, 2])
def test_e2sfca_gaussian_equals_pysal(seed: int) -> None:
    from access import weights

    minutes, supply, demand = _pysal_problem(seed)
    model, origin_ids = _pysal_access(minutes, supply, demand)
    expected = _pysal_values(
        model.enhanced_two_stage_fca(name="g", weight_fn=weights.gaussian(12), max_cost=30),
        "g_cap",
        origin_ids,
    )
    result = e2sfca(minutes, supply, demand, decay=DecayFunction.gaussian(12), catchment_minutes=30)
    np.testing.assert_allclose(result, expected, rtol=1e-9, atol=1e-12)


# --- properties ----------------------------------------------------------------------------


def _problems():
    # (minutes, categories, supply, demand in people)
    return access_problems(categories=["a", "b"], supply=st.floats(0.0, 50.0))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    _problems(),
    hnp.arrays(float, 6, elements=TRAVEL_MINUTES),
    st.sampled_from(["a", "b"]),
    st.floats(0.0, 50.0),
)
def test_adding_an_amenity_never_worsens_nearest_or_supply(problem, column, category, capacity):
    minutes, categories, supply, demand = problem
    new_minutes = np.hstack([minutes, column[: minutes.shape[0], None]])
    new_categories = np.append(categories, category)
    before = nearest_minutes(minutes, categories, k=2, category_order=["a", "b"])
    after = nearest_minutes(new_minutes, new_categories, k=2, category_order=["a", "b"])
    assert (after <= before).all().all()
    old = e2sfca_by_category(minutes, categories, supply, demand, category_order=["a", "b"])
    new = e2sfca_by_category(
        new_minutes, new_categories, np.append(supply, capacity), demand, category_order=["a", "b"]
    )
    assert (new.to_numpy() >= old.to_numpy() - 1e-12).all()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(_problems(), st.randoms(use_true_random=False))
def test_indicators_do_not_depend_on_row_or_column_order(problem, random) -> None:
    minutes, categories, supply, demand = problem
    n_origins, n_sites = minutes.shape
    rows = list(range(n_origins))
    cols = list(range(n_sites))
    random.shuffle(rows)
    random.shuffle(cols)
    ids = [f"o{i}" for i in range(n_origins)]
    shuffled_ids = [ids[i] for i in rows]
    shuffled = minutes[np.ix_(rows, cols)]

    def indicators(matrix, cats, cap, people, origin_ids):
        common = {"origin_ids": origin_ids, "category_order": ["a", "b"]}
        return pd.concat(
            [
                nearest_minutes(matrix, cats, k=2, **common).droplevel("rank", axis=1),
                cumulative_opportunities(matrix, cats, threshold_minutes=20, weights=cap, **common),
                e2sfca_by_category(matrix, cats, cap, people, **common),
            ],
            axis=1,
        ).sort_index()

    original = indicators(minutes, categories, supply, demand, ids)
    permuted = indicators(shuffled, categories[cols], supply[cols], demand[rows], shuffled_ids)
    np.testing.assert_allclose(permuted.to_numpy(), original.to_numpy(), rtol=1e-12, atol=1e-15)


# --- shared checks of per-origin and per-amenity numbers -----------------------------------
def test_people_per_origin_returns_floats_and_names_the_first_bad_row() -> None:
    people = people_per_origin([3, 0, 2], 3)
    assert people.dtype == np.float64 and people.tolist() == [3.0, 0.0, 2.0]
    with pytest.raises(
        ParameterError, match=r"column 'residents': expected one value per origin \(3\)"
    ):
        people_per_origin([1, 2], 3, column="residents")
    for bad, shown in ((np.nan, "nan"), (-1, "-1.0"), (np.inf, "inf")):
        with pytest.raises(ParameterError, match=rf"row 2, column 'people': .*got {shown}$"):
            people_per_origin([1, bad, 2], 3)


def test_non_negative_values_accepts_zero_and_converts_to_float() -> None:
    values = non_negative_values(np.array([0, 5], dtype=np.int64), column="supply")
    assert values.dtype == np.float64 and values.tolist() == [0.0, 5.0]
    with pytest.raises(ParameterError, match="row 1, column 'supply': must be a non-negative"):
        non_negative_values([-0.5, 1.0], column="supply")


# --- one checked matrix shared by several indicators, float32 minutes --------------------------


def test_effective_minutes_give_the_same_answers_as_the_mask() -> None:
    available = np.array([[True, True, True, False], [True, False, True, True]])
    effective = effective_minutes(MINUTES, available=available)
    assert not effective.values.flags.writeable
    pd.testing.assert_frame_equal(
        nearest_minutes(effective, CATEGORIES, k=2),
        nearest_minutes(MINUTES, CATEGORIES, k=2, available=available),
    )
    pd.testing.assert_frame_equal(
        cumulative_opportunities(effective, CATEGORIES, threshold_minutes=10.0),
        cumulative_opportunities(MINUTES, CATEGORIES, threshold_minutes=10.0, available=available),
    )
    supply, people = np.array([1.0, 2.0, 3.0, 4.0]), np.array([100.0, 200.0])
    pd.testing.assert_frame_equal(
        e2sfca_by_category(effective, CATEGORIES, supply, people),
        e2sfca_by_category(MINUTES, CATEGORIES, supply, people, available=available),
    )


def test_effective_minutes_refuse_a_second_mask() -> None:
    effective = effective_minutes(MINUTES)
    with pytest.raises(ParameterError, match="already carry their availability"):
        nearest_minutes(effective, CATEGORIES, available=np.ones(4, dtype=bool))


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    problem=access_problems(categories=("court", "park", "clinic"), supply=st.floats(0.0, 50.0)),
    threshold=st.sampled_from([0.1, 10.0, 12.3, 29.99]),
)
def test_float32_minutes_answer_as_their_float64_values(
    problem: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], threshold: float
) -> None:
    minutes, cats, supply, people = problem
    # Put some times exactly on the float32 neighbour of a bound: compared as float64 values.
    minutes = np.where(minutes > 40, np.float32(threshold), minutes)
    as32 = minutes.astype(np.float32)
    as64 = as32.astype(np.float64)
    decay = DecayFunction.step((threshold, 30.0), (1.0, 0.5))
    pd.testing.assert_frame_equal(
        nearest_minutes(as32, cats, k=2), nearest_minutes(as64, cats, k=2)
    )
    pd.testing.assert_frame_equal(
        cumulative_opportunities(as32, cats, threshold_minutes=threshold, weights=supply),
        cumulative_opportunities(as64, cats, threshold_minutes=threshold, weights=supply),
    )
    pd.testing.assert_frame_equal(
        e2sfca_by_category(as32, cats, supply, people, decay=decay, catchment_minutes=20.0),
        e2sfca_by_category(as64, cats, supply, people, decay=decay, catchment_minutes=20.0),
    )


@settings(max_examples=60, derandomize=True, deadline=None)
@given(times=hnp.arrays(float, 12, elements=st.one_of(TRAVEL_MINUTES, st.just(math.nan))))
def test_step_weight_is_the_first_zone_at_or_above(times: np.ndarray) -> None:
    zones, weights = (10.0, 20.0, 30.0), (1.0, 0.68, 0.22)
    expected = [
        next((w for z, w in zip(zones, weights, strict=True) if t <= z), 0.0) for t in times
    ]
    decay = DecayFunction.step(zones, weights)
    assert decay.weight(times).tolist() == expected
    for catchment in (5.0, 10.0, 25.0, 30.0, 45.0):
        cut = np.where(times <= catchment, times, np.inf)
        assert (
            decay.weight(times, catchment_minutes=catchment).tolist() == decay.weight(cut).tolist()
        )
        gaussian = DecayFunction.gaussian(12.0)
        np.testing.assert_array_equal(
            gaussian.weight(times, catchment_minutes=catchment), gaussian.weight(cut)
        )
