"""Budget packages kept as scenarios and reported in snapshots (issue 12).

The lab's best package for a budget is saved as a scenario that records how it was chosen (the
budget, the objective, every candidate's cost and benefit measured alone); a snapshot of that
scenario shows the candidates, the package measured as a whole (cost, people reached, leavers
avoided with its range) and the caution that benefits measured alone do not add up. Worked on
the tiny line park (tests/scenario_fixtures.py), where the answers can be checked by hand.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from retention.access.indicators import IndicatorParameters
from retention.access.parameters import DEFAULT_TIME_WINDOWS, TravelParameters
from retention.errors import ScenarioError
from retention.park_parameters import ParkParameters
from retention.pipeline.run_key import RunKey
from retention.pipeline.scenarios import saved_scenario
from retention.pipeline.snapshot import build_snapshot
from retention.report.snapshot import TableBlock
from retention.scenario.budget import (
    best_packages,
    intervention_table,
    people_newly_in_circle,
    recorded_package,
)
from retention.scenario.evaluate import EvaluationOptions, evaluate_park, evaluate_scenario
from retention.scenario.model import (
    AddAmenity,
    BudgetPackage,
    PackageItem,
    Scenario,
    scenario_from_json,
    scenario_to_json,
)
from retention.scenario.records import ScenarioStore
from tests.scenario_fixtures import LAT, line_context, line_park

CLINIC = AddAmenity(
    "C2", "东诊所", "clinic", 113.160, LAT, 10.0, annual_cost_cny_per_year=100_000.0
)
PARK = AddAmenity("P2", "西公园", "park", 113.140, LAT, 1.0, annual_cost_cny_per_year=50_000.0)
PLAZA = AddAmenity("P3", "中广场", "park", 113.150, LAT, 1.0, annual_cost_cny_per_year=500_000.0)
CANDIDATES = (CLINIC, PARK, PLAZA)
BUDGET = 200_000.0


def _package_by_hand() -> BudgetPackage:
    return BudgetPackage(
        BUDGET,
        "people_newly_in_circle",
        (
            PackageItem(CLINIC, 100_000.0, 50.0, True),
            PackageItem(PARK, 50_000.0, 100.0, True),
            PackageItem(PLAZA, 500_000.0, 200.0, False),
        ),
    )


# --- the record ---------------------------------------------------------------------------------


def test_a_package_scenario_survives_json_and_the_scenario_store(tmp_path: Path) -> None:
    scenario = Scenario("最佳组合", (CLINIC, PARK), package=_package_by_hand())
    text = scenario_to_json(scenario)
    assert json.loads(text)["budget_package"]["items"][2]["chosen"] is False
    assert scenario_from_json(text) == scenario
    record = ScenarioStore(tmp_path).save("line", scenario, author="王工")
    assert ScenarioStore(tmp_path).load("line", record.scenario_id).scenario == scenario
    # `parklife report --scenario 最佳组合` finds it by name, package included.
    assert (
        saved_scenario("line", "最佳组合", data_dir=tmp_path).scenario.package == scenario.package
    )


def test_a_package_knows_its_choice_and_cost() -> None:
    package = _package_by_hand()
    assert package.chosen_numbers == (1, 2)
    assert package.chosen_modifications == (CLINIC, PARK)
    assert package.annual_cost_cny == 150_000.0
    assert package.benefit_alone == 150.0


def test_scenarios_without_a_package_read_as_before() -> None:
    text = scenario_to_json(Scenario("x", (CLINIC,)))
    assert "budget_package" not in json.loads(text)
    assert scenario_from_json(text).package is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: replace(p, objective="happiness"), "objective is 'happiness'"),
        (
            lambda p: replace(p, budget_cny_per_year=100_000.0),
            "costs 150,000 CNY a year, over its budget",
        ),
        (lambda p: replace(p, budget_cny_per_year=float("nan")), "expected CNY >= 0"),
        (
            lambda p: replace(p, items=tuple(replace(i, chosen=False) for i in p.items)),
            "chooses no intervention",
        ),
    ],
)
def test_an_impossible_package_is_refused(change, message) -> None:
    with pytest.raises(ScenarioError, match=message):
        change(_package_by_hand())


def test_the_scenario_must_hold_exactly_the_chosen_interventions() -> None:
    with pytest.raises(ScenarioError, match="not its budget package's chosen interventions"):
        Scenario("x", (PARK, CLINIC), package=_package_by_hand())  # other order
    with pytest.raises(ScenarioError, match="not its budget package's chosen interventions"):
        Scenario("x", (CLINIC,), package=_package_by_hand())


def test_editing_a_package_scenario_drops_the_package() -> None:
    scenario = Scenario("x", (CLINIC, PARK), package=_package_by_hand())
    edited = scenario.without_modification(1, line_context())
    assert edited.modifications == (CLINIC,) and edited.package is None
    added = scenario.with_modification(
        AddAmenity("C3", "北诊所", "clinic", 113.150, LAT, 5.0), line_context()
    )
    assert added.package is None


@pytest.mark.parametrize(
    "payload",
    [
        {"items": "none"},
        {"budget_cny_per_year": 1.0, "objective": "people_newly_in_circle", "items": [{}]},
        {"objective": "people_newly_in_circle", "items": []},
    ],
)
def test_a_malformed_package_in_json_is_refused(payload) -> None:
    document = json.loads(scenario_to_json(Scenario("x", (CLINIC,))))
    document["budget_package"] = payload
    with pytest.raises(ScenarioError, match="budget"):
        scenario_from_json(json.dumps(document))


# --- measured by the lab, shown by a snapshot -----------------------------------------------------


@pytest.fixture(scope="module")
def measured():
    """The lab's steps: measure each candidate alone, choose, measure the package as a whole."""
    park = line_park()
    baseline = evaluate_park(
        park,
        params=TravelParameters(),
        windows=DEFAULT_TIME_WINDOWS,
        indicator_parameters=IndicatorParameters(),
        options=EvaluationOptions(),
    )
    table = intervention_table(
        baseline,
        CANDIDATES,
        line_context(park),
        objective="people_newly_in_circle",
        indicator_parameters=IndicatorParameters(),
    )
    packages = best_packages(table["annual_cost_cny"], table["benefit"], BUDGET)
    scenario = recorded_package(
        "Best package",
        CANDIDATES,
        packages[0],
        table,
        budget_cny_per_year=BUDGET,
        objective="people_newly_in_circle",
    )
    result = evaluate_scenario(baseline, scenario, indicator_parameters=IndicatorParameters())
    return park, table, scenario, result


def test_the_recorded_package_is_the_lab_choice(measured) -> None:
    _, table, scenario, _ = measured
    # The plaza (500,000 CNY) is over the 200,000 budget; the clinic and the park fit together.
    assert scenario.modifications == (CLINIC, PARK)
    package = scenario.package
    assert package is not None and package.chosen_numbers == (1, 2)
    assert [item.annual_cost_cny for item in package.items] == table["annual_cost_cny"].tolist()
    assert [item.benefit for item in package.items] == table["benefit"].tolist()
    with pytest.raises(Exception, match="3 measured interventions for 2 candidates"):
        recorded_package(
            "x",
            CANDIDATES[:2],
            best_packages(table["annual_cost_cny"], table["benefit"], BUDGET)[0],
            table,
            budget_cny_per_year=BUDGET,
            objective="people_newly_in_circle",
        )


def test_a_snapshot_of_the_package_shows_candidates_whole_figures_and_caution(
    measured, tmp_path: Path
) -> None:
    park, table, _, result = measured
    key = RunKey("line", park.data_version, ParkParameters(), "none")
    snapshot = build_snapshot(
        park, key, lang="en", data_dir=tmp_path, scenario=("Best package", result)
    )
    section = snapshot.sections[0]
    assert section.title == "Scenario: Best package"
    assert "Budget package" in section.message and "interventions 1, 2" in section.message
    assert "budget of 20.0 (10,000 CNY)" in section.message
    assert "about 15.0 (10,000 CNY) a year" in section.message  # 100,000 + 50,000 CNY in 万元
    candidates = next(
        b
        for b in section.blocks
        if isinstance(b, TableBlock) and b.title == "Budget package candidates"
    ).frame
    assert candidates["In the package"].tolist() == ["yes", "yes", "no"]
    assert candidates.iloc[:, 2].tolist() == pytest.approx(
        (table["annual_cost_cny"] / 1e4).tolist()
    )
    assert candidates.iloc[:, 3].tolist() == table["benefit"].tolist()
    assert "do not add up" in next(
        b.note
        for b in section.blocks
        if isinstance(b, TableBlock) and b.title == "Budget package candidates"
    )
    kpis = {kpi.label: kpi for kpi in snapshot.kpis}
    assert kpis["People who gain time (Best package)"].value == result.people_reached
    newly = kpis["People newly inside a living circle (Best package)"].value
    assert newly == people_newly_in_circle(result)
    assert newly == 150.0  # R2's 50 residents get the clinic, R1's 100 the park
    assert kpis["Annual cost (Best package)"].value == pytest.approx(15.0)
    chinese = build_snapshot(park, key, lang="zh", data_dir=tmp_path, scenario=("最佳组合", result))
    assert "预算组合" in chinese.sections[0].message


@pytest.fixture(scope="module")
def clinic_only(measured):
    """The clinic alone, measured against the same baseline as the package."""
    result = measured[3]
    return evaluate_scenario(
        result.baseline,
        Scenario("Clinic only", (CLINIC,)),
        indicator_parameters=IndicatorParameters(),
    )


def test_two_scenarios_of_one_name_have_different_version_hashes(
    measured, clinic_only, tmp_path: Path
) -> None:
    park, _, _, result = measured
    key = RunKey("line", park.data_version, ParkParameters(), "none")
    hashes = {
        build_snapshot(
            park, key, lang="en", data_dir=tmp_path, scenario=("Best package", r)
        ).version_hash
        for r in (result, clinic_only)
    }
    assert len(hashes) == 2


def test_scenarios_compared_beside_the_package_share_its_table(
    measured, clinic_only, tmp_path: Path
) -> None:
    from retention.errors import ValidationError

    park, _, _, result = measured
    key = RunKey("line", park.data_version, ParkParameters(), "none")
    alone = build_snapshot(
        park, key, lang="en", data_dir=tmp_path, scenario=("Best package", result)
    )
    both = build_snapshot(
        park,
        key,
        lang="en",
        data_dir=tmp_path,
        scenario=("Best package", result),
        compared=[("Clinic only", clinic_only), ("Best package", result)],
    )
    table = next(b for b in both.sections[0].blocks if b.title.startswith("Baseline, the scenario"))
    columns = [str(c) for c in table.frame.columns]
    assert {"Best package", "Clinic only", "Best package (2)"} <= set(columns)
    assert "also shows Clinic only, Best package (2)" in both.sections[0].message
    assert both.kpis == alone.kpis  # key figures stay the reported scenario's
    assert both.version_hash != alone.version_hash
    with pytest.raises(ValidationError, match="need the scenario they are compared with"):
        build_snapshot(park, key, lang="en", data_dir=tmp_path, compared=[("x", clinic_only)])
