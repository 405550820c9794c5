"""Other firms' figures under an HR or viewer scope (the open policy point of issue 12).

Decision: an HR account sees its own enterprises' rows in the worst-served enterprises ranking
and, for every other firm, only one aggregate row (people-weighted median, their people summed)
when there are at least k other firms; a viewer sees only the aggregate of all firms. No other
firm is named, on the Gaps page or in a snapshot. Planners, admins and the server operator see
every firm. The rule is in ``retention.report.gap_tables.worst_served`` (the one ranking both
the page and the snapshot build), keyed on the run key's ``user_scope`` text.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from retention.auth.roles import Role, UserScope
from retention.data.layers import WGS84, LayerKind
from retention.park_parameters import ParkParameters
from retention.pipeline.run_key import RunKey
from retention.pipeline.snapshot import build_snapshot
from retention.report.gap_tables import worst_served
from tests.scenario_fixtures import LAT, line_park

FIRMS = [f"厂{i}" for i in range(1, 8)]  # E1..E7


@pytest.fixture
def origins() -> pd.DataFrame:
    """Seven enterprises E1..E7 (people 100..700) and one residence."""
    return pd.DataFrame(
        {
            "origin_set": ["enterprise"] * 7 + ["residence"],
            "origin_id": [f"E{i}" for i in range(1, 8)] + ["R1"],
            "name": [*FIRMS, "宿舍"],
            "weight": [100.0 * i for i in range(1, 8)] + [50.0],
        }
    )


# E1 worst (30 min); the others 5, 6, 7, 8, 9, inf minutes with people 200..700.
MINUTES = [30.0, 5.0, 6.0, 7.0, 8.0, 9.0, np.inf, 1.0]


def _ranking(origins: pd.DataFrame, scope: str | None, k: int = 5) -> pd.DataFrame:
    return worst_served(
        origins,
        pd.Series(MINUTES, index=origins.index),
        origin_set="enterprise",
        indicator="nearest",
        unit="min",
        lang="en",
        user_scope=scope,
        min_group_size=k,
    )


@pytest.mark.parametrize("scope", [None, "all"])
def test_planners_and_the_operator_see_every_firm(origins, scope) -> None:
    ranking = _ranking(origins, scope)
    assert ranking["Name"].tolist() == ["厂7", "厂1", "厂6", "厂5", "厂4", "厂3", "厂2"]


def test_hr_sees_its_own_firm_and_one_aggregate_of_the_others(origins) -> None:
    ranking = _ranking(origins, "hr:E1")
    assert ranking["Name"].tolist() == ["厂1", "Other enterprises (6, median)"]
    # Others: 5, 6, 7, 8, 9, inf minutes weighing 200..700 (2,700 people): half is 1,350,
    # reached at 8 min (200+300+400+500 = 1,400).
    assert ranking["min"].tolist() == ["30.0", "8.0"]
    assert ranking["People"].tolist() == [100, 2700]


def test_a_viewer_sees_only_the_aggregate_of_all_firms(origins) -> None:
    ranking = _ranking(origins, "viewer")
    # All seven: 100..700 people (2,800), half 1,400 reached at 8 min (200+300+400+500 = 1,400).
    assert ranking["Name"].tolist() == ["Other enterprises (7, median)"]
    assert ranking["People"].tolist() == [2800]
    assert ranking["min"].tolist() == ["8.0"]


def test_fewer_than_k_other_firms_are_not_aggregated(origins) -> None:
    ranking = _ranking(origins, "hr:E1,E2", k=6)  # five other firms < k = 6
    assert ranking["Name"].tolist() == ["厂1", "厂2"]


def test_residences_are_not_scoped(origins) -> None:
    residences = worst_served(
        origins,
        pd.Series(MINUTES, index=origins.index),
        origin_set="residence",
        indicator="nearest",
        unit="min",
        lang="en",
        user_scope="viewer",
        min_group_size=5,
    )
    assert residences["Name"].tolist() == ["宿舍"]


def _seven_firm_park():
    park = line_park()
    firms = gpd.GeoDataFrame(
        {
            "id": [f"E{i}" for i in range(1, 8)],
            "name": FIRMS,
            "industry": ["electrical"] * 7,
            "employees": [100 * i for i in range(1, 8)],
            "shift_pattern": ["day"] * 7,
        },
        geometry=[Point(113.142 + 0.002 * i, LAT) for i in range(7)],
        crs=WGS84,
    )
    park.layers[LayerKind.ENTERPRISES] = firms
    return park


def test_an_hr_snapshot_names_no_other_firm(tmp_path: Path) -> None:
    park = _seven_firm_park()
    scope = UserScope("hr-e1", Role.HR, ("E1",)).canonical()
    key = RunKey("line", "line-v1", ParkParameters(), "none", user_scope=scope)
    snapshot = build_snapshot(park, key, lang="zh", data_dir=tmp_path, enterprise_id="E1")
    cells = "\n".join(
        block.frame.astype(str).to_csv() + " ".join(map(str, block.frame.columns))
        for block in snapshot.tables()
    )
    assert "厂1" in cells
    for other in FIRMS[1:]:
        assert other not in cells
    planner = RunKey("line", "line-v1", ParkParameters(), "none", user_scope="all")
    whole = build_snapshot(park, planner, lang="zh", data_dir=tmp_path)
    every = "\n".join(block.frame.astype(str).to_csv() for block in whole.tables())
    assert all(firm in every for firm in FIRMS)


def test_what_next_looks_only_at_the_firms_a_scope_may_see(origins) -> None:
    from retention.access.gaps import gap_index
    from retention.scenario.next_steps import next_steps

    minutes = pd.DataFrame({"canteen": MINUTES, "clinic": MINUTES})
    gap = gap_index(minutes, weights={"canteen": 1.0, "clinic": 1.0})
    every = next_steps(origins, gap, origin_set="enterprise", worst=10, user_scope="all")
    assert {step.near_id for step in every} - {"E1"}  # other firms are suggested places
    own = next_steps(origins, gap, origin_set="enterprise", worst=10, user_scope="hr:E1")
    assert own and {step.near_id for step in own} == {"E1"}
    assert all(step.people == 100.0 for step in own)  # E1's own 100 workers only
    assert next_steps(origins, gap, origin_set="enterprise", user_scope="viewer") == []


@pytest.mark.slow
def test_the_gaps_page_of_an_hr_account_names_no_other_firm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from retention.storage.park import load_park
    from tests.app_session import signed_in
    from ui import state

    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(tmp_path / "data"))
    firms = load_park("jinshan").layer(LayerKind.ENTERPRISES)
    own = str(firms["id"].iloc[0])
    others = set(firms["name"].astype(str)) - {str(firms["name"].iloc[0])}
    app = str(Path(__file__).resolve().parent.parent / "app.py")
    at = signed_in(AppTest.from_file(app, default_timeout=180), Role.HR, (own,))
    at.session_state[state.LANG] = "zh"
    at.run()
    at.switch_page("pages/gaps.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [str(cell) for frame in at.dataframe for cell in frame.value.to_numpy().ravel()]
    assert any(cell.startswith("其他企业（") for cell in shown)
    assert not others & set(shown)
    # "What next" with workers at their workplace: places are the account's own firm only.
    at.radio(key=state.GAPS_PEOPLE_BASIS.widget).set_value("enterprise").run()
    assert not at.exception, [e.value for e in at.exception]
    texts = " ".join(str(m.value) for m in at.markdown)
    leaked = [name for name in others if name in texts]
    assert not leaked, leaked


def test_scores_written_under_an_hr_scope_hold_only_its_own_firms() -> None:
    """``parklife score`` (allowed to HR) writes the enterprises table from ``score_tables``."""
    from retention.pipeline.scores import score_tables
    from retention.pipeline.stages import travel_times

    park = _seven_firm_park()
    tables = {}
    for scope in ("all", "hr:E1,E3"):
        key = RunKey("line", "line-v1", ParkParameters(), "none", user_scope=scope)
        scores = score_tables(park, travel_times(park, key), key, window="weekday_evening")
        tables[scope] = scores
    assert tables["all"].enterprises["origin_id"].tolist() == [f"E{i}" for i in range(1, 8)]
    hr = tables["hr:E1,E3"]
    assert hr.enterprises["origin_id"].tolist() == ["E1", "E3"]
    mine = tables["all"].enterprises.set_index("origin_id").loc[["E1", "E3"]].reset_index()
    pd.testing.assert_frame_equal(
        hr.enterprises.drop(columns="geometry"), mine.drop(columns="geometry")
    )
    # Residences, cells and zones are park-level figures, the same for both.
    pd.testing.assert_frame_equal(hr.residences, tables["all"].residences)


def test_an_hr_scenario_snapshot_maps_no_other_firm(tmp_path: Path) -> None:
    from retention.pipeline.scenarios import evaluate_saved_scenario
    from retention.report.snapshot import MapBlock
    from retention.scenario.model import AddAmenity, Scenario
    from retention.scenario.records import ScenarioStore

    park = _seven_firm_park()
    scenario = Scenario("东诊所", (AddAmenity("X1", "东诊所", "clinic", 113.155, LAT, 50.0),))
    ScenarioStore(tmp_path).save("line", scenario, author="test")
    names = {}
    for scope in ("all", "hr:E1"):
        key = RunKey("line", "line-v1", ParkParameters(), "none", user_scope=scope)
        measured = evaluate_saved_scenario(park, key, "东诊所", data_dir=tmp_path)
        snapshot = build_snapshot(
            park,
            key,
            lang="zh",
            data_dir=tmp_path,
            enterprise_id=None if scope == "all" else "E1",
            scenario=measured,
        )
        names[scope] = {
            str(name)
            for section in snapshot.sections
            for block in section.blocks
            if isinstance(block, MapBlock)
            for layer in block.layers
            if "name" in layer.frame.columns
            for name in layer.frame["name"]
        }
    assert set(FIRMS) <= names["all"]
    assert "厂1" in names["hr:E1"] and not set(FIRMS[1:]) & names["hr:E1"]


def test_the_gaps_map_of_an_hr_account_marks_no_other_firm(origins) -> None:
    from retention.report.gap_map import build_gap_map

    points = gpd.GeoDataFrame(
        origins,
        geometry=[Point(113.142 + 0.002 * i, LAT) for i in range(len(origins))],
        crs=WGS84,
    ).assign(h3_cell=None)
    values = pd.Series(MINUTES, index=points.index)
    pages = {
        scope: build_gap_map(
            points,
            values,
            indicator="nearest",
            title="t",
            unit="min",
            lang="zh",
            bounds=(113.14, 27.84, 113.16, 27.86),
            tiles="none",
            user_scope=scope,
        )
        .get_root()
        .render()
        for scope in ("all", "hr:E1", "viewer")
    }

    def shows(page: str, name: str) -> bool:  # folium writes names as JSON \u escapes
        return name in page or json.dumps(name)[1:-1] in page

    assert all(shows(pages["all"], firm) for firm in FIRMS)
    assert shows(pages["hr:E1"], "厂1")
    assert not any(shows(pages["hr:E1"], firm) for firm in FIRMS[1:])
    assert not any(shows(pages["viewer"], firm) for firm in FIRMS)
    assert all(shows(page, "宿舍") for page in pages.values())


def test_the_park_map_gives_an_hr_account_no_other_firms_headcount() -> None:
    from retention.report.maps import build_park_map

    park = _seven_firm_park()
    firms = park.layer(LayerKind.ENTERPRISES).assign(employees=[1111 * i for i in range(1, 8)])
    layers = {LayerKind.ENTERPRISES: firms}
    pages = {
        scope: build_park_map(layers, lang="en", tiles="none", user_scope=scope).get_root().render()
        for scope in ("all", "hr:E1", "viewer")
    }
    counts = [f"{1111 * i} employees" for i in range(1, 8)]
    assert all(count in pages["all"] for count in counts)
    assert counts[0] in pages["hr:E1"] and not any(c in pages["hr:E1"] for c in counts[1:])
    assert not any(count in pages["viewer"] for count in counts)
