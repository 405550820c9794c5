"""AppTests of the Scenario page: it runs in both languages, a shuttle and an amenity change the
KPI table, bad input gives a specific error, save/reload works, and sessions stay isolated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from retention.escaping import markdown_text
from retention.i18n import t
from retention.scenario.records import ScenarioStore
from tests.app_session import signed_in
from ui import state

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
PAGE = "pages/scenario.py"
TIMEOUT_SECONDS = 300  # cold run: demo park, travel times, survey import and the model fit


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    return directory


def _page(lang: str = "en") -> AppTest:
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS))
    at.session_state[state.LANG] = lang
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _draft(at: AppTest) -> dict:
    return json.loads(at.session_state[state.SCENARIO_DRAFT])


def _kpis(at: AppTest):
    kpi = t("scenario.col.kpi", "en")
    (table,) = [frame.value for frame in at.dataframe if kpi in frame.value.columns]
    return table


def _submit(at: AppTest, label_key: str, lang: str = "en") -> AppTest:
    for button in at.button:
        if button.label == t(label_key, lang):
            button.click()
            return at.run()
    raise AssertionError(f"no button {label_key}")


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_scenario_page_runs_in_both_languages(lang: str) -> None:
    at = _page(lang)
    assert at.title[0].value == t("scenario.title", lang)
    assert t("common.synthetic_notice", lang) in [w.value for w in at.warning]
    assert t("scenario.caution", lang) in [w.value for w in at.warning]
    assert t("scenario.empty", lang) in [i.value for i in at.info]


@pytest.mark.slow
def test_adding_a_clinic_fills_the_kpi_table_and_saving_keeps_it() -> None:
    at = _page()
    at.selectbox(key="scenario.amenity.category").set_value("clinic")
    at.text_input(key="scenario.amenity.name").set_value("Night clinic")
    at.number_input(key="scenario.amenity.capacity").set_value(200.0)
    at.number_input(key="scenario.amenity.annual").set_value(300_000.0)
    _submit(at, "scenario.amenity.add")
    assert not at.exception, [e.value for e in at.exception]
    draft = _draft(at)
    assert [m["op"] for m in draft["modifications"]] == ["add_amenity"]
    table = _kpis(at)
    names = table[t("scenario.col.kpi", "en")].tolist()
    assert t("scenario.kpi.annual_cost_cny", "en") in names
    cost_row = table[table[t("scenario.col.kpi", "en")] == t("scenario.kpi.annual_cost_cny", "en")]
    assert cost_row[draft["name"]].iloc[0] == "300,000"
    at.text_input(key="scenario.author").set_value("Planner Wang")
    at.run()
    _submit(at, "scenario.save")
    assert not at.exception, [e.value for e in at.exception]
    records = ScenarioStore(state.data_dir()).list("jinshan")
    assert len(records) == 1 and records[0].author == "Planner Wang"
    assert records[0].scenario.modifications[0].name == "Night clinic"


@pytest.mark.slow
def test_a_route_with_one_stop_is_refused_and_the_draft_unchanged() -> None:
    at = _page()
    stops = at.multiselect(key="scenario.route.stops")
    stops.select(stops.options[0])
    _submit(at, "scenario.route.add")
    errors = [e.value for e in at.error]
    expected = markdown_text("route has 1 stop(s); expected at least 2")
    assert any(expected in e for e in errors), errors
    assert _draft(at)["modifications"] == []


@pytest.mark.slow
def test_two_sessions_edit_their_own_scenarios() -> None:
    first, second = _page(), _page()
    first.selectbox(key="scenario.amenity.category").set_value("gym")
    _submit(first, "scenario.amenity.add")
    second.selectbox(key="scenario.amenity.category").set_value("canteen")
    _submit(second, "scenario.amenity.add")
    assert [m["category"] for m in _draft(first)["modifications"]] == ["gym"]
    assert [m["category"] for m in _draft(second)["modifications"]] == ["canteen"]
    # The baseline both compare with is the same, unmodified park.
    base_first = _kpis(first)[t("scenario.col.baseline", "en")]
    base_second = _kpis(second)[t("scenario.col.baseline", "en")]
    assert base_first.tolist()[:10] == base_second.tolist()[:10]


@pytest.mark.slow
def test_an_evening_shuttle_shows_its_operations_and_people_reached() -> None:
    at = _page()
    stops = at.multiselect(key="scenario.route.stops")
    residence = next(o for o in stops.options if o.startswith(t("scenario.place.residence", "en")))
    park = next(o for o in stops.options if "Lake Park" in o)
    stops.select(residence).select(park)
    at.number_input(key="scenario.headway").set_value(10.0)
    _submit(at, "scenario.route.add")
    assert not at.exception, [e.value for e in at.exception]
    (route,) = _draft(at)["modifications"]
    assert route["op"] == "add_route" and route["service"][0]["headway_minutes"] == 10.0
    summaries = [m.value for m in at.markdown if "vehicle-hours" in m.value]
    assert len(summaries) == 1, summaries
    table = _kpis(at)
    reached = table[table[t("scenario.col.kpi", "en")] == t("scenario.kpi.people_reached", "en")]
    assert float(reached[_draft(at)["name"]].iloc[0].replace(",", "")) > 0


@pytest.mark.slow
@pytest.mark.parametrize("page", ["pages/gaps.py", "pages/map.py"])
def test_gaps_and_map_show_the_scenario_chosen_in_the_sidebar(page: str) -> None:
    from retention.scenario.model import AddAmenity, Scenario

    record = ScenarioStore(state.data_dir()).save(
        "jinshan",
        Scenario("Lake clinic", (AddAmenity("X1", "Lake clinic", "clinic", 113.24, 27.92, 50.0),)),
        author="test",
    )
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS))
    at.session_state[state.LANG] = "en"
    at.run()
    assert at.selectbox(key=state.WIDGET_SCENARIO).options[-1] == "Lake clinic"
    at.selectbox(key=state.WIDGET_SCENARIO).set_value(record.scenario_id).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = t("scenario.shown", "en", name="Lake clinic")
    assert shown in [i.value for i in at.info]
    at.session_state[state.SCENARIO] = ""  # back to the baseline
    at.run()
    assert shown not in [i.value for i in at.info]


@pytest.mark.slow
def test_a_siting_suggestion_is_added_in_one_click_and_a_budget_package_is_chosen(
    data_dir: Path,
) -> None:
    at = _page()
    at.selectbox(key="scenario.siting.category").set_value("clinic")
    at.number_input(key="scenario.siting.k").set_value(2)
    at.toggle(key="scenario.siting.run").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    (suggestions,) = [f.value for f in at.dataframe if "candidate_id" in f.value.columns]
    assert 1 <= len(suggestions) <= 2
    assert (suggestions["newly_covered"] > 0).all()
    at.button(key="scenario.siting.add.0").click().run()
    (added,) = _draft(at)["modifications"]
    assert added["op"] == "add_amenity" and added["category"] == "clinic"
    assert added["amenity_id"].endswith(str(suggestions["candidate_id"].iloc[0]))
    # A second intervention, then the budget package over both.
    at.selectbox(key="scenario.amenity.category").set_value("sports_court")
    at.number_input(key="scenario.amenity.annual").set_value(50_000.0)
    _submit(at, "scenario.amenity.add")
    at.selectbox(key="scenario.budget.objective").set_value("people_newly_in_circle")
    at.number_input(key="scenario.budget.amount").set_value(60_000.0)
    at.toggle(key="scenario.budget.run").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    packages = [x.value for x in at.text if x.value.startswith("Package 1:")]
    assert len(packages) == 1, [x.value for x in at.text]
    assert t("scenario.budget.whole", "en") in [c.value for c in at.caption]
    # The package is saved as a scenario that records how it was chosen (for snapshots).
    assert at.button(key="scenario.budget.save").disabled  # who saves it is asked first
    at.text_input(key="scenario.author").input("王工").run()
    at.text_input(key="scenario.budget.save_name").input("Clinic and court package").run()
    at.button(key="scenario.budget.save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (record,) = ScenarioStore(data_dir).list("jinshan")
    assert record.name == "Clinic and court package" and record.author == "王工"
    package = record.scenario.package
    assert package is not None and package.budget_cny_per_year == 60_000.0
    assert package.objective == "people_newly_in_circle" and len(package.items) == 2
    assert record.scenario.modifications == package.chosen_modifications
    assert package.annual_cost_cny <= 60_000.0
    saved = t("scenario.budget.saved", "en", name=markdown_text(record.name))
    assert saved in [s.value for s in at.success]
    # The draft, the lab's working set of candidates, is unchanged.
    assert len(_draft(at)["modifications"]) == 2


@pytest.mark.slow
def test_a_route_drawn_on_the_map_is_snapped_added_and_evaluated() -> None:
    """Issue 9: a line drawn on the map (what streamlit-folium returns for it) becomes stops —
    the residence and the lake park clicked beside — and is evaluated (snapping a click off the
    road onto it: tests/test_scenario_drawing.py)."""
    from retention.scenario.display import pickable_places
    from retention.storage.park import load_park

    park = load_park("jinshan", data_dir=REPO / "nonexistent-data-dir")
    places = pickable_places(park.layers, "en")
    residence = places[places["kind"] == "residence"].iloc[0]
    lake = places[places["label"].str.contains("Lake Park")].iloc[0]  # a polygon: its inside point
    drawing = [
        {
            "type": "Feature",
            "properties": {},
            "geometry": {
                "type": "LineString",
                "coordinates": [
                    # 10 m east of the residence, then beside the lake park
                    [residence["lon"] + 0.0001, residence["lat"]],
                    [lake["lon"], lake["lat"] + 0.0002],
                ],
            },
        }
    ]
    at = _page()
    at.session_state[state.SCENARIO_DRAWING] = json.dumps(drawing)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    summaries = [m.value for m in at.markdown if m.value.startswith("**Drawn route:**")]
    assert len(summaries) == 1 and "2 stops (2 at existing places)" in summaries[0], summaries
    assert at.checkbox(key="scenario.route.use_drawing").value is True
    at.number_input(key="scenario.headway").set_value(10.0)
    _submit(at, "scenario.route.add")
    assert not at.exception, [e.value for e in at.exception]
    (route,) = _draft(at)["modifications"]
    assert [stop["ref"] for stop in route["stops"]] == [residence["ref"], lake["ref"]]
    assert route["stops"][0]["lon"] == pytest.approx(residence["lon"])
    assert route["service"][0]["headway_minutes"] == 10.0
    # The drawing is used up: the next route starts on a blank map, from the list again.
    assert at.session_state[state.SCENARIO_DRAWING] == "[]"
    assert not [c for c in at.checkbox if c.key == "scenario.route.use_drawing"]
    assert len([m.value for m in at.markdown if "vehicle-hours" in m.value]) == 1
    table = _kpis(at)
    reached = table[table[t("scenario.col.kpi", "en")] == t("scenario.kpi.people_reached", "en")]
    assert float(reached[_draft(at)["name"]].iloc[0].replace(",", "")) > 0


def _drawn_line(*points: tuple[float, float]) -> str:
    """What streamlit-folium returns for one drawn polyline (all_drawings), as kept in state."""
    geometry = {"type": "LineString", "coordinates": [list(p) for p in points]}
    return json.dumps([{"type": "Feature", "properties": {}, "geometry": geometry}])


@pytest.mark.slow
def test_a_route_redrawn_on_the_map_keeps_its_timetable() -> None:
    """Issue 9: a route already in the draft is re-routed by drawing: the drawn stops replace
    its stops, and its id, name, headway and capacity stay (the form's are not used)."""
    from retention.scenario.display import pickable_places
    from retention.storage.park import load_park

    park = load_park("jinshan", data_dir=REPO / "nonexistent-data-dir")
    places = pickable_places(park.layers, "en")
    residence = places[places["kind"] == "residence"].iloc[0]
    lake = places[places["label"].str.contains("Lake Park")].iloc[0]
    at = _page()
    stops = at.multiselect(key="scenario.route.stops")
    stops.select(stops.options[0]).select(stops.options[1])
    at.text_input(key="scenario.route.name").set_value("Night line")
    at.number_input(key="scenario.headway").set_value(12.0)
    at.number_input(key="scenario.route.capacity").set_value(20)
    _submit(at, "scenario.route.add")
    (before,) = _draft(at)["modifications"]
    at.session_state[state.SCENARIO_DRAWING] = _drawn_line(
        (residence["lon"] + 0.0001, residence["lat"]), (lake["lon"], lake["lat"] + 0.0002)
    )
    at.run()
    replace = at.selectbox(key="scenario.route.replace")
    assert replace.options == [
        t("scenario_draw.replace_none", "en"),
        t("scenario_draw.replace_route", "en", name="Night line"),
    ]
    replace.set_value(0)
    at.number_input(key="scenario.headway").set_value(30.0)  # not used: the route keeps 12
    _submit(at, "scenario.route.add")
    assert not at.exception and not at.error, [e.value for e in at.error]
    (after,) = _draft(at)["modifications"]
    assert [stop["ref"] for stop in after["stops"]] == [residence["ref"], lake["ref"]]
    assert [stop["ref"] for stop in before["stops"]] != [residence["ref"], lake["ref"]]
    unchanged = ("route_id", "name", "service", "vehicle_capacity", "two_way", "open_to")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert after["service"][0]["headway_minutes"] == 12.0
    assert at.session_state[state.SCENARIO_DRAWING] == "[]"  # the drawing is used up


@pytest.mark.slow
def test_a_drawing_far_from_every_road_says_so() -> None:
    at = _page()
    far = [[113.0, 27.0], [113.001, 27.0]]  # tens of kilometres from the park
    at.session_state[state.SCENARIO_DRAWING] = json.dumps(
        [{"type": "Feature", "geometry": {"type": "LineString", "coordinates": far}}]
    )
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("from the nearest road; expected within 300 m" in e for e in errors), errors
    assert not [c for c in at.checkbox if c.key == "scenario.route.use_drawing"]


@pytest.mark.slow
def test_a_save_over_someone_elses_newer_save_is_refused_and_overwrites_nothing() -> None:
    from retention.scenario.model import Scenario

    saved = ScenarioStore(state.data_dir()).save("jinshan", Scenario("Shared plan"), author="test")
    first, second = _page(), _page()
    for at, name, author in ((first, "Wang's plan", "Wang"), (second, "Li's plan", "Li")):
        at.selectbox(key="scenario.open").set_value(saved.scenario_id)
        _submit(at, "scenario.open_button")
        at.text_input(key="scenario.name").set_value(name)
        at.text_input(key="scenario.author").set_value(author)
        at.run()
    _submit(first, "scenario.save")
    assert not first.exception and not first.error, [e.value for e in first.error]
    _submit(second, "scenario.save")  # opened before Wang saved: refused
    stale = t("scenario_store.stale", "en", name=markdown_text("Wang's plan"))
    assert stale in [e.value for e in second.error]
    second.checkbox(key="scenario.delete_confirm").check()
    second.run()
    _submit(second, "scenario.delete")
    assert stale in [e.value for e in second.error]
    (stored,) = ScenarioStore(state.data_dir()).list("jinshan")
    assert (stored.name, stored.author, stored.version) == ("Wang's plan", "Wang", 2)
    second.selectbox(key="scenario.open").set_value(saved.scenario_id)  # reopen: Wang's version
    _submit(second, "scenario.open_button")
    second.text_input(key="scenario.name").set_value("Li's plan, after Wang's")
    second.run()
    _submit(second, "scenario.save")
    assert not second.error, [e.value for e in second.error]
    again = ScenarioStore(state.data_dir()).load("jinshan", saved.scenario_id)
    assert (again.name, again.author, again.version) == ("Li's plan, after Wang's", "Li", 3)
