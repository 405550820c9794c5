"""AppTests of the Gaps page: both languages, switching by widget key, travel times computed once.

AppTest runs the script but not the map's JavaScript (map clicks are for browser tests).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from retention.access import travel_times
from retention.data.layers import LayerKind
from retention.i18n import t
from retention.storage.park import load_park
from tests.app_session import signed_in
from ui import state

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
PAGE = "pages/gaps.py"
TIMEOUT_SECONDS = 180  # cold first run loads the demo park and computes its travel times


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    return directory


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count calls of the travel-time engine; start with empty caches so the count is exact."""
    calls: list[str] = []
    engine = travel_times.park_engine

    def counted(park, **kwargs):
        calls.append(park.park_id)
        return engine(park, **kwargs)

    monkeypatch.setattr(travel_times, "park_engine", counted)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield calls
    st.cache_resource.clear()
    st.cache_data.clear()


def _gaps_page(lang: str) -> AppTest:
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS))
    at.session_state[state.LANG] = lang
    at.run()
    at.switch_page(PAGE).run()
    return at


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_gaps_page_runs_in_both_languages(lang: str) -> None:
    at = _gaps_page(lang)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == t("gaps.title", lang)
    assert t("common.synthetic_notice", lang) in [w.value for w in at.warning]
    subheaders = [s.value for s in at.subheader]
    assert t("gaps.compliance_title", lang) in subheaders
    assert at.selectbox(key="gaps.indicator").label == t("gaps.indicator", lang)


@pytest.mark.slow
def test_switching_choices_by_key_never_recomputes_travel_times(engine_calls) -> None:
    at = _gaps_page("en")
    assert not at.exception, [e.value for e in at.exception]
    assert engine_calls == ["jinshan"]
    steps = [
        ("gaps.indicator", "gap_index"),
        ("gaps.indicator", "e2sfca"),
        ("gaps.category", "sports_court"),
        ("gaps.mode", "ebike"),
        ("gaps.mode", "transit"),
        ("gaps.window", "weekday_evening"),
        ("gaps.indicator", "living_circle"),
        ("gaps.indicator", "opportunities"),
    ]
    for key, value in steps:
        at.selectbox(key=key).set_value(value).run()
        assert not at.exception, (key, value, [e.value for e in at.exception])
        assert at.session_state[key] == value
    at.number_input(key="gaps.threshold").set_value(10.0).run()
    assert not at.exception
    legend_unit = t("gaps.unit.opportunities", "en", minutes="10")
    assert any(legend_unit in c.value for c in at.caption)  # the unit caption names T
    residences = at.selectbox(key="gaps.residence").options
    at.selectbox(key="gaps.residence").select_index(len(residences) - 1).run()
    assert not at.exception
    assert engine_calls == ["jinshan"]  # one computation for every switch above


@pytest.mark.slow
def test_subject_heading_follows_indicator_and_category(engine_calls) -> None:
    at = _gaps_page("zh")
    at.selectbox(key="gaps.indicator").set_value("nearest").run()
    at.selectbox(key="gaps.category").set_value("clinic").run()
    assert not at.exception
    expected = f"{t('gaps.indicator.nearest', 'zh')} · {t('common.category.clinic', 'zh')}"
    assert expected in [s.value for s in at.subheader]


@pytest.mark.slow
def test_a_map_click_selects_the_residence_before_its_widget_renders(
    engine_calls, data_dir: Path
) -> None:
    residence_ids = (
        load_park("jinshan", data_dir=data_dir).layers[LayerKind.RESIDENCES]["id"].astype(str)
    )
    at = _gaps_page("en")
    assert at.session_state["gaps.residence"] == residence_ids.iloc[0]
    # A map click stores the nearest residence as pending; the next run applies it.
    at.session_state["gaps.pending_residence"] = residence_ids.iloc[-1]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["gaps.residence"] == residence_ids.iloc[-1]
    assert at.selectbox(key="gaps.residence").value == residence_ids.iloc[-1]


def _weights_table(at: AppTest, lang: str) -> pd.DataFrame:
    source = t("gaps.weights.col.source", lang)
    [table] = [d.value for d in at.dataframe if source in d.value.columns]
    return table


@pytest.mark.slow
def test_survey_weights_change_the_gap_index_but_not_the_travel_times(engine_calls) -> None:
    at = _gaps_page("en")
    at.selectbox(key="gaps.indicator").set_value("gap_index").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="gaps.weights").value == "equal"
    worst = at.dataframe[0].value  # worst-served residences, gap index column
    equal_weights = _weights_table(at, "en")
    assert set(equal_weights[t("gaps.weights.col.source", "en")]) == {
        t("gaps.weights.source.equal", "en")
    }

    at.radio(key="gaps.weights").set_value("stated").run()
    assert not at.exception, [e.value for e in at.exception]
    assert t("gaps.weights_synthetic", "en") in [w.value for w in at.warning]
    stated = _weights_table(at, "en")
    weights = pd.to_numeric(stated[t("gaps.weights.col.weight", "en")], errors="coerce")
    assert weights.sum() == pytest.approx(1.0, abs=0.01)
    assert weights.nunique() > 1  # survey importance is not uniform
    assert stated[t("gaps.weights.col.source", "en")].str.contains("Synthetic demo survey").all()
    stated_worst = at.dataframe[0].value
    assert not stated_worst.equals(worst)  # the index (and its ranking) moved

    at.radio(key="gaps.weights").set_value("derived").run()
    assert not at.exception, [e.value for e in at.exception]
    derived = _weights_table(at, "en")
    assert not derived[t("gaps.weights.col.weight", "en")].equals(
        stated[t("gaps.weights.col.weight", "en")]
    )
    assert not at.dataframe[0].value.equals(stated_worst)
    at.radio(key="gaps.weights").set_value("equal").run()
    assert at.dataframe[0].value.equals(worst)  # back to the same figures
    assert engine_calls == ["jinshan"]  # travel times were computed once for all of it


def _caption_count(at: AppTest, key: str, lang: str) -> int:
    """Return the people count of the caption ``key`` (a ``{people}`` template) on the page."""
    before, after = t(key, lang, people="\0").split("\0")
    matches = [
        c.value[len(before) : len(c.value) - len(after)]
        for c in at.caption
        if c.value.startswith(before) and c.value.endswith(after)
    ]
    assert len(matches) == 1, [c.value for c in at.caption]
    return int(matches[0].replace(",", ""))


def _zone_table(at: AppTest, lang: str) -> pd.DataFrame:
    zone = t("gaps.column.zone", lang)
    [table] = [d.value for d in at.dataframe if zone in d.value.columns]
    return table


@pytest.mark.slow
def test_people_are_counted_once_residents_at_home_by_default(engine_calls, data_dir) -> None:
    park = load_park("jinshan", data_dir=data_dir)
    residents = int(park.layers[LayerKind.RESIDENCES]["residents"].sum())
    employees = int(park.layers[LayerKind.ENTERPRISES]["employees"].sum())
    at = _gaps_page("en")
    at.selectbox(key="gaps.zone_level").set_value("park").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="gaps.people_basis").value == "residence"
    basis = t("gaps.basis.residence", "en")
    assert t("gaps.histogram_title", "en", basis=basis) in [s.value for s in at.subheader]
    assert 0 <= _caption_count(at, "gaps.histogram_caption.residence", "en") <= residents
    zones = _zone_table(at, "en")
    # residents and workers side by side, each counted once, never summed into one column
    assert t("gaps.column.people", "en") not in zones.columns
    assert zones[t("gaps.column.residents", "en")].sum() == residents
    assert zones[t("gaps.column.workers", "en")].sum() == employees

    at.radio(key="gaps.people_basis").set_value("enterprise").run()
    assert not at.exception, [e.value for e in at.exception]
    basis = t("gaps.basis.enterprise", "en")
    assert t("gaps.histogram_title", "en", basis=basis) in [s.value for s in at.subheader]
    assert 0 <= _caption_count(at, "gaps.histogram_caption.enterprise", "en") <= employees
    assert _zone_table(at, "en")[t("gaps.column.workers", "en")].sum() == employees
    assert engine_calls == ["jinshan"]  # a display choice: no recomputation
