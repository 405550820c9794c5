"""AppTests of choices that stay (ui.state.kept): across a language switch, a change of page and a
new session that opens a URL with the choices in its query parameters (a reload, a shared link).

AppTest runs the pages but not the browser: what the browser is told to show after a language
switch is read from the widget's message (``set_value`` / ``raw_value``), and a reload in a real
browser is checked in tests/browser/test_kept_choices_browser.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from retention.data.layers import AmenityCategory, LayerKind
from retention.i18n import label, t
from retention.report.maps import HIDDEN_BY_DEFAULT
from tests.app_session import signed_in
from ui import state

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
GAPS = "pages/gaps.py"
MAP = "pages/map.py"
OVERVIEW = "pages/overview.py"
TIMEOUT_SECONDS = 240  # cold first run loads the demo park and computes its travel times


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    monkeypatch.delenv("PARKLIFE_MAP_TILES", raising=False)
    return directory


def _session(lang: str, query: dict[str, str] | None = None) -> AppTest:
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS))
    if query is None:
        at.session_state[state.LANG] = lang
    else:
        at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _shown_label(widget) -> str:
    """The label the browser is told to show for the widget's value."""
    assert widget.proto.set_value, f"{widget.key}: the browser is not told the kept value"
    return widget.proto.raw_value


@pytest.mark.slow
def test_language_switch_and_page_change_keep_the_gaps_choices() -> None:
    at = _session("zh")
    at.switch_page(GAPS).run()
    at.selectbox(key="gaps.category").select("sports_court").run()
    at.selectbox(key="gaps.mode").select("ebike").run()
    at.selectbox(key="gaps.window").select("weekday_evening").run()
    at.radio(key="gaps.weights").set_value("stated").run()
    assert not at.exception, [e.value for e in at.exception]

    # 中文 → English: the same choices, every one re-labelled in English.
    at.session_state[state.LANG] = "en"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    category = at.selectbox(key="gaps.category")
    mode = at.selectbox(key="gaps.mode")
    weights = at.radio(key="gaps.weights")
    assert (category.value, mode.value, weights.value) == ("sports_court", "ebike", "stated")
    assert _shown_label(category) == label("category", "sports_court", "en")
    assert _shown_label(mode) == t("gaps.mode.ebike", "en")
    assert _shown_label(weights) == t("gaps.weights.stated", "en")
    assert category.label == t("gaps.category", "en")
    assert t("gaps.mode.ebike", "en") in mode.options
    assert not any("步行" in option for option in mode.options)

    # Away to another page (Streamlit forgets the widgets' own keys there) and back.
    at.switch_page(OVERVIEW).run()
    assert "gaps.category" not in at.session_state
    at.switch_page(GAPS).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="gaps.category").value == "sports_court"
    assert at.selectbox(key="gaps.mode").value == "ebike"
    assert at.selectbox(key="gaps.window").value == "weekday_evening"
    assert at.radio(key="gaps.weights").value == "stated"
    expected = f"{t('gaps.indicator.nearest', 'en')} · {label('category', 'sports_court', 'en')}"
    assert expected in [s.value for s in at.subheader]
    # ... and the choices are in the URL, as codes (not translated text).
    assert {k: at.query_params[k] for k in ("category", "mode", "window", "weights")} == {
        "category": "sports_court",
        "mode": "ebike",
        "window": "weekday_evening",
        "weights": "stated",
    }


@pytest.mark.slow
def test_a_new_session_takes_its_choices_from_the_url_and_ignores_bad_values() -> None:
    at = _session(
        "en",
        query={
            "lang": "zh",
            "tiles": "none",
            "category": "clinic",
            "mode": "transit",
            "window": "<script>alert(1)</script>",  # not a window: ignored
            "weights": "derived",
            "minutes": "10",
            "people": "nobody",  # not a choice: ignored
        },
    )
    assert state.LANG in at.session_state and at.session_state[state.LANG] == "zh"
    assert at.session_state[state.TILES] == "none"
    at.switch_page(GAPS).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == t("gaps.title", "zh")
    assert at.selectbox(key="gaps.category").value == "clinic"
    assert at.selectbox(key="gaps.mode").value == "transit"
    assert at.radio(key="gaps.weights").value == "derived"
    assert at.number_input(key="gaps.threshold").value == 10.0
    first_window = at.selectbox(key="gaps.window").options[0]
    assert at.selectbox(key="gaps.window").format_func(at.selectbox(key="gaps.window").value) == (
        first_window
    )
    assert at.radio(key="gaps.people_basis").value == "residence"
    # The URL now holds valid codes only, and only those that differ from the page's defaults.
    assert at.query_params["mode"] == "transit" and at.query_params["minutes"] == "10"
    assert "people" not in at.query_params and "window" not in at.query_params
    assert "indicator" not in at.query_params  # never chosen: the default
    at.selectbox(key="gaps.mode").select("walk").run()  # back to the default: out of the URL
    assert "mode" not in at.query_params and at.query_params["category"] == "clinic"


def _map_page(at: AppTest) -> str:
    [frame] = [e for e in at.main if getattr(e, "proto", None) is not None and e.type == "iframe"]
    return frame.proto.srcdoc


@pytest.mark.slow
def test_map_layers_are_chosen_outside_the_map_and_kept() -> None:
    at = _session("en")
    at.switch_page(MAP).run()
    assert not at.exception, [e.value for e in at.exception]
    pills = at.pills(key="map.layers")
    codes = list(pills.value)
    assert "amenity.canteen" in codes and not set(codes) & HIDDEN_BY_DEFAULT
    assert "leaflet-control-layers" not in _map_page(at)  # no layer list over the map
    chosen = [code for code in codes if code not in {"roads", "amenity.canteen"}]
    pills.set_value(chosen).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["layers"] == ",".join(chosen)
    at.switch_page(OVERVIEW).run()
    at.switch_page(MAP).run()
    at.session_state[state.LANG] = "zh"
    at.run()
    assert list(at.pills(key="map.layers").value) == chosen
    assert at.pills(key="map.layers").format_func("amenity.canteen") == label(
        "category", "canteen", "zh"
    )
    page = _map_page(at)
    assert page.count(".removeLayer(") == 2 + len(HIDDEN_BY_DEFAULT)

    # A new session opened on the same URL shows the same layers.
    again = _session("en", query={"layers": ",".join(chosen)})
    again.switch_page(MAP).run()
    assert list(again.pills(key="map.layers").value) == chosen


def test_every_kept_choice_has_its_own_key_widget_and_url_parameter() -> None:
    everything = [*state.SIDEBAR_CHOICES]
    for page, choices in state.PAGE_CHOICES.items():
        params = [choice.param for choice in (*state.SIDEBAR_CHOICES, *choices)]
        assert len(params) == len(set(params)), (page, params)  # one URL, no clash
        assert all(choice.widget.startswith(f"{page}.") for choice in choices), page
        everything += choices
    names = [choice.key for choice in everything] + [choice.widget for choice in everything]
    assert len(names) == len(set(names)), names


@pytest.mark.slow
def test_survey_and_enterprise_selections_survive_a_page_change_and_a_language_switch() -> None:
    at = _session("en")
    at.switch_page("pages/survey.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="survey.cohort").set_value("post00")
    at.selectbox(key="survey.group_by").set_value("enterprise_id")
    at.radio(key="survey.measure").set_value("imp")
    at.radio(key="survey.importance").set_value("derived_overall")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page("pages/enterprise.py").run()
    assert not at.exception, [e.value for e in at.exception]
    first = at.selectbox(key="enterprise.id").value
    at.selectbox(key="enterprise.id").select_index(1).run()
    assert not at.exception, [e.value for e in at.exception]
    chosen = at.selectbox(key="enterprise.id").value
    assert chosen != first
    at.session_state[state.LANG] = "zh"
    at.switch_page("pages/survey.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="survey.cohort").value == "post00"
    assert at.selectbox(key="survey.group_by").value == "enterprise_id"
    assert at.radio(key="survey.measure").value == "imp"
    assert at.radio(key="survey.importance").value == "derived_overall"
    assert _shown_label(at.radio(key="survey.measure")) == t("survey.measure.imp", "zh")
    at.switch_page("pages/enterprise.py").run()
    assert at.selectbox(key="enterprise.id").value == chosen


@pytest.mark.slow
def test_a_language_switch_relabels_widgets_of_any_page() -> None:
    # The Data page's choices are kept ones (below); the Assumptions page's decay kind is a plain
    # widget, re-labelled once by ui.state.relabel_widgets after the switch.
    at = _session("en")
    at.switch_page("pages/data.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="data.kind").select("amenities").run()
    at.radio(key="data.crs").set_value("gcj02").run()
    at.switch_page("pages/assumptions.py").run()
    at.selectbox(key="assumptions.decay.kind").select("gaussian").run()
    assert not at.exception, [e.value for e in at.exception]
    at.session_state[state.LANG] = "zh"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    decay = at.selectbox(key="assumptions.decay.kind")
    assert decay.value == "gaussian"
    assert _shown_label(decay) == t("assumptions.decay_kind.gaussian", "zh")
    # Once re-labelled, later runs leave the plain widget to the browser.
    at.run()
    assert not at.selectbox(key="assumptions.decay.kind").proto.set_value
    at.switch_page("pages/data.py").run()
    kind = at.selectbox(key="data.kind")
    crs = at.radio(key="data.crs")
    assert (kind.value, crs.value) == ("amenities", "gcj02")
    assert _shown_label(kind) == label("layer", "amenities", "zh")
    assert _shown_label(crs) == t("common.crs.gcj02", "zh")


HOSTILE = "<img src=x onerror=alert(1)>"


def _shown_text(at: AppTest) -> str:
    """Every text element's value on the page (to check a URL value is never shown)."""
    return " ".join(str(e.value) for kind in ("markdown", "caption", "info", "warning", "error",
                                              "success", "title", "subheader", "text")
                    for e in at.get(kind))  # fmt: skip


@pytest.mark.slow
def test_the_data_page_keeps_its_layer_kind_and_coordinate_system_in_the_url() -> None:
    at = _session("en", query={"kind": "residences", "crs": "gcj02"})
    at.switch_page("pages/data.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="data.kind").value == "residences"
    assert at.radio(key="data.crs").value == "gcj02"
    at.selectbox(key="data.kind").select("amenities").run()
    assert at.query_params["kind"] == "amenities" and at.query_params["crs"] == "gcj02"
    at.radio(key="data.crs").set_value("wgs84").run()  # the default: out of the URL
    assert "crs" not in at.query_params

    # A hand-edited URL: values that are not options fall back to the defaults, silently.
    bad = _session("en", query={"kind": HOSTILE, "crs": "'); alert(1); //"})
    bad.switch_page("pages/data.py").run()
    assert not bad.exception, [e.value for e in bad.exception]
    assert bad.selectbox(key="data.kind").value == next(iter(LayerKind)).value  # the first
    assert bad.radio(key="data.crs").value == "wgs84"
    assert "kind" not in bad.query_params and "crs" not in bad.query_params
    assert "onerror" not in _shown_text(bad) and not bad.error


def _two_saved_scenarios(data_dir: Path) -> tuple[str, str]:
    from retention.scenario.model import AddAmenity, Scenario
    from retention.scenario.records import ScenarioStore

    store = ScenarioStore(data_dir)
    clinic = Scenario(
        "Lake clinic", (AddAmenity("X1", "Lake clinic", "clinic", 113.24, 27.92, 50),)
    )
    court = Scenario("Lake court", (AddAmenity("X2", "Court", "sports_court", 113.24, 27.92, 1),))
    first = store.save("jinshan", clinic, author="test")
    second = store.save("jinshan", court, author="test")
    return first.scenario_id, second.scenario_id


@pytest.mark.slow
def test_the_shown_scenario_and_the_report_options_open_from_a_link(data_dir: Path) -> None:
    shown, other = _two_saved_scenarios(data_dir)
    query = {
        "scenario": shown,
        "format": "xlsx",
        "report_lang": "zh",
        "window": "weekend_day",
        "compare": f"{other},{HOSTILE},{shown}",  # the shown one is no option here, nor the rest
    }
    # The sidebar's scenario (drawn by app.py, which AppTest runs on a session's first run only):
    # from the URL into the selector, and a session's choice into the URL, the baseline never.
    sidebar = _session("en", query={"scenario": shown})
    assert sidebar.selectbox(key=state.WIDGET_SCENARIO).value == shown
    for chosen in (other, ""):
        session = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS))
        session.session_state[state.SCENARIO] = chosen
        session.run()
        assert session.selectbox(key=state.WIDGET_SCENARIO).value == chosen
        assert session.query_params.get("scenario") == (chosen or None)

    at = _session("en", query=query)
    assert at.session_state[state.SCENARIO] == shown
    at.switch_page("pages/reports.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="reports.format").value == "xlsx"
    assert at.selectbox(key="reports.lang").value == "zh"
    assert at.selectbox(key="reports.window").value == "weekend_day"
    assert at.multiselect(key="reports.compare").value == [other]
    assert any(t("reports.with_scenario", "en") in info.value for info in at.info)
    assert at.query_params["compare"] == other  # rewritten with the valid codes only
    assert "onerror" not in _shown_text(at)

    # Choices made on the page go to the URL; back at a default they leave it.
    at.selectbox(key="reports.format").set_value("pdf").run()
    at.selectbox(key="reports.enterprise").select_index(1).run()
    firm = at.selectbox(key="reports.enterprise").value
    assert firm and at.query_params["enterprise"] == firm
    assert "format" not in at.query_params

    # An id that is no saved scenario of the park (deleted, hand-edited): the baseline, no error.
    bad = _session("en", query={"scenario": HOSTILE, "enterprise": "NOPE", "window": "night"})
    assert bad.session_state[state.SCENARIO] == ""
    bad.switch_page("pages/reports.py").run()
    assert not bad.exception, [e.value for e in bad.exception]
    assert bad.selectbox(key="reports.enterprise").value == ""  # the park, no enterprise
    assert bad.selectbox(key="reports.window").value == "weekday_evening"
    assert not any(t("reports.with_scenario", "en") in info.value for info in bad.info)
    assert "onerror" not in _shown_text(bad) and not bad.error


@pytest.mark.slow
def test_an_hr_link_to_another_firms_report_shows_its_own_firm(data_dir: Path) -> None:
    from retention.auth.roles import Role
    from retention.data.layers import LayerKind
    from retention.pipeline import park_inputs, park_key

    park = park_inputs(park_key("jinshan", data_dir=data_dir), data_dir=data_dir)
    own, other = park.layer(LayerKind.ENTERPRISES)["id"].astype(str).tolist()[:2]
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS), Role.HR, (own,))
    at.query_params.update({"enterprise": other})
    at.run()
    at.switch_page("pages/reports.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="reports.enterprise").value == own
    assert at.query_params.get("enterprise") in (None, own)  # never the other firm


@pytest.mark.slow
def test_the_scenarios_page_keeps_its_siting_and_budget_choices_in_the_url() -> None:
    query = {
        "site_category": "clinic",
        "site_demand": HOSTILE,  # not a demand: the default
        "objective": "people_newly_in_circle",
    }
    at = _session("en", query=query)
    at.switch_page("pages/scenario.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="scenario.siting.category").value == "clinic"
    assert at.selectbox(key="scenario.siting.demand").value == "residents"  # the first
    assert at.selectbox(key="scenario.budget.objective").value == "people_newly_in_circle"
    assert "site_demand" not in at.query_params and "onerror" not in _shown_text(at)
    at.selectbox(key="scenario.siting.category").set_value("sports_court").run()
    assert at.query_params["site_category"] == "sports_court"
    assert at.query_params["objective"] == "people_newly_in_circle"
    first = next(iter(AmenityCategory)).value
    at.selectbox(key="scenario.siting.category").set_value(first).run()
    assert at.selectbox(key="scenario.siting.category").value == first
    assert "site_category" not in at.query_params  # the default
