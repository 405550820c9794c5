"""Tests for retention.access.standards (GB 50180-2018 table) and retention.access.living_circle."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from retention.access.living_circle import (
    compliance_from_met,
    living_circle_compliance,
    living_circle_met,
    living_circle_met_from_nearest,
)
from retention.access.measures import nearest_minutes
from retention.access.standards import (
    GB50180_2018,
    LivingCircleRequirement,
    LivingCircleTable,
    LivingCircleTier,
    living_circle_table,
)
from retention.data.layers import AmenityCategory
from retention.errors import ParameterError

INF = math.inf


def test_gb50180_tiers_follow_table_3_0_4() -> None:
    tiers = {tier.name: tier for tier in GB50180_2018.tiers}
    assert [(t.minutes, t.metres, t.metres_strict) for t in tiers.values()] == [
        (5.0, 300.0, 300.0),
        (10.0, 500.0, 500.0),
        (15.0, 1000.0, 800.0),
    ]
    assert all("Table 3.0.4" in tier.clause for tier in tiers.values())
    assert tiers["5min"].verify  # 300 m is ✱ in PARAMETERS.md 7a


def test_gb50180_requirements_cite_clauses_and_map_the_suggested_tiers() -> None:
    tier_of = {r.category: r.tier for r in GB50180_2018.requirements}
    for category in ("grocery", "clinic", "sports_court", "kindergarten", "canteen"):
        assert tier_of[category] == "5min"
    assert tier_of["school"] == "10min"
    for category in ("hospital", "library_culture", "park"):
        assert tier_of[category] == "15min"
    assert "training" not in tier_of  # no counterpart in the standard
    for requirement in GB50180_2018.requirements:
        assert requirement.clause.startswith("GB 50180-2018")
        assert requirement.marker in {"▲", "△"}
        if requirement.clause.startswith("GB 50180-2018 Appendix B"):
            assert requirement.verify  # Appendix B is ✱ throughout PARAMETERS.md 7d
    assert GB50180_2018.requirement("canteen").reason  # a judgement states its reason
    assert set(tier_of) <= {category.value for category in AmenityCategory}


def test_table_rejects_unknown_categories_tiers_and_duplicates() -> None:
    tiers = GB50180_2018.tiers
    with pytest.raises(ParameterError, match="row 1, column 'category': unknown amenity"):
        LivingCircleTable(tiers, (LivingCircleRequirement("sauna", "5min", "", "", "", False),))
    with pytest.raises(ParameterError, match="row 1, column 'tier': unknown tier '3min'"):
        LivingCircleTable(tiers, (LivingCircleRequirement("park", "3min", "", "", "", False),))
    park = LivingCircleRequirement("park", "5min", "", "", "", False)
    with pytest.raises(ParameterError, match="row 2, column 'category': category 'park' is listed"):
        LivingCircleTable(tiers, (park, park))
    with pytest.raises(ParameterError, match="strict distance must not exceed"):
        LivingCircleTier("x", 5, 300, 400, "", False)


def test_table_from_edited_rows_validates_each_cell() -> None:
    table = living_circle_table(
        [{"name": "walk", "minutes": "8", "metres": 480, "metres_strict": 400}],
        [{"category": "park", "tier": "walk"}],
        name="edited",
    )
    assert table.threshold("park", basis="metres_strict") == 400.0
    with pytest.raises(
        ParameterError, match="file 'tiers', row 2, column 'metres': expected a positive number"
    ):
        living_circle_table(
            [
                {"name": "a", "minutes": 5, "metres": 300, "metres_strict": 300},
                {"name": "b", "minutes": 5, "metres": "far", "metres_strict": 300},
            ],
            [],
        )
    with pytest.raises(ParameterError, match="file 'requirements', row 1, column 'tier'"):
        living_circle_table([], [{"category": "park", "tier": ""}])


# Three origins; amenities: court at [4, 7, INF], hospital at [14, 16, 9].
MINUTES = np.array([[4.0, 14.0], [7.0, 16.0], [INF, 9.0]])
CATEGORIES = np.array(["sports_court", "hospital"])
SMALL = LivingCircleTable(
    GB50180_2018.tiers,
    (GB50180_2018.requirement("sports_court"), GB50180_2018.requirement("hospital")),
)


def test_living_circle_met_known_answer() -> None:
    met = living_circle_met(MINUTES, CATEGORIES, table=SMALL, origin_ids=["a", "b", "c"])
    assert met.to_dict("list") == {
        "sports_court": [True, False, False],  # 5-min tier
        "hospital": [True, False, True],  # 15-min tier
    }


def test_living_circle_met_in_metres_and_strict_metres() -> None:
    metres = np.array([[290.0, 900.0], [310.0, 790.0]])
    normal = living_circle_met(metres, CATEGORIES, table=SMALL, basis="metres")
    strict = living_circle_met(metres, CATEGORIES, table=SMALL, basis="metres_strict")
    assert normal["hospital"].tolist() == [True, True]  # 1,000 m
    assert strict["hospital"].tolist() == [False, True]  # 800 m
    assert normal["sports_court"].tolist() == [True, False]  # 300 m


def test_compliance_is_weighted_by_people_not_points() -> None:
    result = living_circle_compliance(MINUTES, CATEGORIES, [100, 300, 600], table=SMALL)
    assert result.loc["sports_court", "share"] == pytest.approx(0.1)  # 100 of 1,000
    assert result.loc["hospital", "share"] == pytest.approx(0.7)  # 100 + 600
    assert result.loc["hospital", "people_within"] == 700.0
    assert result.loc["hospital", "threshold"] == 15.0
    assert result.loc["hospital", "unit"] == "minutes"
    assert bool(result.loc["sports_court", "verify"])


def test_compliance_respects_availability_and_reports_nan_without_people() -> None:
    closed_court = np.array([False, True])
    result = living_circle_compliance(
        MINUTES, CATEGORIES, [100, 300, 600], table=SMALL, available=closed_court
    )
    assert result.loc["sports_court", "share"] == 0.0
    empty = living_circle_compliance(MINUTES, CATEGORIES, [0, 0, 0], table=SMALL)
    assert np.isnan(empty["share"]).all()


def test_compliance_rejects_bad_people_and_basis() -> None:
    with pytest.raises(ParameterError, match="row 2, column 'people': must be a non-negative"):
        living_circle_compliance(MINUTES, CATEGORIES, [1, -1, 1], table=SMALL)
    with pytest.raises(ParameterError, match=r"column 'people': expected one value per origin"):
        living_circle_compliance(MINUTES, CATEGORIES, [1, 1], table=SMALL)
    with pytest.raises(ParameterError, match="'basis': must be one of minutes, metres"):
        living_circle_compliance(MINUTES, CATEGORIES, [1, 1, 1], table=SMALL, basis="feet")


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.integers(1, 8).flatmap(
        lambda n: st.tuples(
            hnp.arrays(float, (n, 5), elements=st.one_of(st.floats(0, 40), st.just(INF))),
            hnp.arrays(float, n, elements=st.integers(0, 3000)),
        )
    ),
    st.lists(st.sampled_from(["sports_court", "hospital", "park"]), min_size=5, max_size=5),
)
def test_people_weighted_shares_lie_in_zero_one(problem, categories) -> None:
    minutes, people = problem
    result = living_circle_compliance(minutes, np.array(categories), people)
    shares = result["share"].to_numpy()
    if people.sum() > 0:
        assert ((shares >= 0) & (shares <= 1)).all()
        assert (result["people_within"] <= result["people_total"]).all()
    else:
        assert np.isnan(shares).all()


@settings(max_examples=40, derandomize=True, deadline=None)
@given(
    minutes=hnp.arrays(
        float, (5, 8), elements=st.one_of(st.floats(0.0, 30.0), st.just(INF), st.just(math.nan))
    ),
    seed=st.integers(0, 100),
)
def test_met_and_compliance_from_nearest_equal_the_matrix_versions(
    minutes: np.ndarray, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    categories = rng.choice(list(GB50180_2018.categories), size=minutes.shape[1])
    people = rng.integers(0, 500, size=minutes.shape[0]).astype(float)
    met = living_circle_met(minutes, categories)
    nearest = nearest_minutes(minutes, categories, category_order=GB50180_2018.categories).xs(
        1, level="rank", axis=1
    )
    pd.testing.assert_frame_equal(living_circle_met_from_nearest(nearest), met)
    pd.testing.assert_frame_equal(
        compliance_from_met(met, people), living_circle_compliance(minutes, categories, people)
    )


def test_met_from_nearest_needs_every_required_category() -> None:
    nearest = pd.DataFrame({"grocery": [3.0]})
    with pytest.raises(ParameterError, match="nearest has no column for"):
        living_circle_met_from_nearest(nearest)
