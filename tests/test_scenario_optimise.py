"""Tests for the siting assistant and the budget package: MILP answers equal brute force."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retention.access.indicators import IndicatorParameters
from retention.access.network import network_from_roads
from retention.access.parameters import DEFAULT_TIME_WINDOWS, TravelParameters
from retention.data.layers import WGS84, LayerKind
from retention.errors import ScenarioError
from retention.scenario.budget import (
    best_packages,
    brute_force_best,
    intervention_table,
    package_scenario,
)
from retention.scenario.evaluate import EvaluationOptions, evaluate_park
from retention.scenario.model import AddAmenity, ChangeRouteService, Scenario
from retention.scenario.siting import (
    brute_force_coverage,
    candidate_sites,
    covered_by,
    maximal_coverage,
    suggest_sites,
    suggestion_modification,
)
from tests.scenario_fixtures import LAT, line_context, line_park


@st.composite
def _coverage_instances(draw):
    n_origins = draw(st.integers(1, 7))
    n_candidates = draw(st.integers(1, 6))
    covers = np.array(
        draw(
            st.lists(
                st.booleans(), min_size=n_origins * n_candidates, max_size=n_origins * n_candidates
            )
        )
    ).reshape(n_origins, n_candidates)
    people = np.array(
        draw(st.lists(st.integers(0, 50), min_size=n_origins, max_size=n_origins)), float
    )
    k = draw(st.integers(1, 4))
    return people, covers, k


@settings(max_examples=60, deadline=None)
@given(_coverage_instances())
def test_maximal_coverage_equals_brute_force(instance):
    people, covers, k = instance
    solution = maximal_coverage(people, covers, k)
    assert len(solution.chosen) <= k
    best = brute_force_coverage(people, covers, k)
    assert solution.covered_people == pytest.approx(best)
    assert covered_by(people, covers, solution.chosen, capacity=None) == pytest.approx(best)


@settings(max_examples=40, deadline=None)
@given(_coverage_instances(), st.lists(st.integers(0, 60), min_size=6, max_size=6))
def test_capacity_aware_coverage_equals_brute_force(instance, capacities):
    people, covers, k = instance
    capacity = np.array(capacities[: covers.shape[1]], dtype=float)
    solution = maximal_coverage(people, covers, k, capacity=capacity)
    best = brute_force_coverage(people, covers, k, capacity=capacity)
    assert solution.covered_people == pytest.approx(best, abs=1e-6)


def test_coverage_by_hand():
    # Sites: 0 covers origins 0 and 1 (30 people), 1 covers origin 2 (25), 2 covers 1 and 2 (35).
    people = np.array([10.0, 20.0, 25.0])
    covers = np.array([[1, 0, 0], [1, 0, 1], [0, 1, 1]], dtype=bool)
    assert maximal_coverage(people, covers, 1).chosen == (2,)
    assert maximal_coverage(people, covers, 2).covered_people == pytest.approx(55.0)
    # Site 2 can serve only 20 people: it takes origin 1 (20); site 0 then adds origin 0 only.
    capped = maximal_coverage(people, covers, 1, capacity=np.array([100.0, 100.0, 20.0]))
    assert capped.chosen == (0,)
    assert capped.covered_people == pytest.approx(30.0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-20, 100), st.integers(-5, 40)), min_size=1, max_size=8),
    st.integers(0, 250),
)
def test_budget_package_equals_brute_force(items, budget):
    costs = [float(c) for c, _ in items]
    benefits = [float(b) for _, b in items]
    packages = best_packages(costs, benefits, budget, count=3)
    best = brute_force_best(costs, benefits, budget)
    if best <= 0:
        assert packages == [] or packages[0].benefit <= 0
        return
    assert packages[0].benefit == pytest.approx(best)
    assert packages[0].annual_cost_cny <= budget + 1e-9
    chosen = [p.chosen for p in packages]
    assert len(set(chosen)) == len(chosen)  # runners-up are different packages
    assert [p.benefit for p in packages] == sorted((p.benefit for p in packages), reverse=True)


def test_budget_package_by_hand():
    # Budget 100: {0, 2} costs 90 for 13; {1} costs 100 for 12; {0} 50 for 7.
    packages = best_packages([50.0, 100.0, 40.0], [7.0, 12.0, 6.0], 100.0, count=3)
    assert [p.chosen for p in packages] == [(0, 2), (1,), (0,)]
    assert packages[0].annual_cost_cny == 90.0
    scenario = package_scenario("包", ["a", "b", "c"], packages[0])  # type: ignore[list-item]
    assert scenario.modifications == ("a", "c")


def _baseline():
    return evaluate_park(
        line_park(),
        params=TravelParameters(),
        windows=DEFAULT_TIME_WINDOWS,
        indicator_parameters=IndicatorParameters(),
        options=EvaluationOptions(mode="walk", n_draws=50),
    )


def test_siting_puts_a_clinic_by_the_residents_who_lack_one():
    baseline = _baseline()
    park = baseline.park
    network = network_from_roads(park.layer(LayerKind.ROADS))
    candidates = candidate_sites(network, line_context(park), spacing_metres=150.0)
    assert len(candidates) > 5
    table = suggest_sites(
        baseline, candidates, category="clinic", threshold_minutes=5.0, k=1, demand="residents"
    )
    # R1 (100) already has the clinic at its door; R2 (50, at the east end) is the only one left.
    assert len(table) == 1
    assert table["total_newly_covered"].iloc[0] == pytest.approx(50.0)
    assert table["lon"].iloc[0] > 113.155
    modification = suggestion_modification(
        table.iloc[0], amenity_id="C9", name="建议诊所", category="clinic", capacity=50.0
    )
    Scenario("s").with_modification(modification, line_context(park))


def test_siting_from_a_user_layer_of_candidates():
    baseline = _baseline()
    candidates = gpd.GeoDataFrame(
        {"candidate_id": ["west", "middle", "east"]},
        geometry=gpd.points_from_xy([113.1405, 113.150, 113.1595], [LAT] * 3),
        crs=WGS84,
    )
    table = suggest_sites(
        baseline, candidates, category="park", threshold_minutes=5.0, k=1, demand="residents"
    )
    assert table["candidate_id"].tolist() == ["west"]  # R1's 100 residents lack a park
    workers = suggest_sites(
        baseline, candidates, category="park", threshold_minutes=5.0, k=1, demand="workers"
    )
    assert workers["candidate_id"].tolist() == ["middle"]


def test_intervention_table_measures_each_alone_and_refuses_dependants():
    baseline = _baseline()
    context = line_context(baseline.park)
    modifications = [
        AddAmenity("C2", "东诊所", "clinic", 113.160, LAT, 10.0, annual_cost_cny_per_year=1000.0),
        AddAmenity("P2", "西公园", "park", 113.140, LAT, 1.0, annual_cost_cny_per_year=500.0),
    ]
    table = intervention_table(
        baseline,
        modifications,
        context,
        objective="people_newly_in_circle",
        indicator_parameters=IndicatorParameters(),
    )
    assert table["annual_cost_cny"].tolist() == [1000.0, 500.0]
    assert table["benefit"].iloc[0] >= 50  # R2's residents get a clinic within the circle
    assert table["benefit"].iloc[1] >= 100  # R1's residents get a park
    with pytest.raises(ScenarioError, match="intervention 1 cannot be measured alone"):
        intervention_table(
            baseline,
            [ChangeRouteService("S1", (("weekday_evening", 5.0),))],
            context,
            objective="people_newly_in_circle",
            indicator_parameters=IndicatorParameters(),
        )
