"""AppTests of the Assumptions page and of its values reaching the other pages.

Parameters are saved to a temporary ``PARKLIFE_DATA_DIR``; the demo park's files are never touched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from retention.access import travel_times
from retention.access.parameters import TravelParameters
from retention.i18n import t
from retention.park_parameters import (
    ParkParameters,
    load_park_parameters,
    park_parameters_to_toml,
)
from retention.pipeline import stages as pipeline_stages
from retention.storage.park import load_park
from retention.storage.store import FileStore
from retention.storage.waves import SurveyStore, load_current_survey
from retention.survey.privacy import PrivacyParameters, load_or_create_salt
from tests.app_session import signed_in
from tests.markdown_shown import shown
from ui import state

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
PAGE = "pages/assumptions.py"
TIMEOUT_SECONDS = 180  # the Gaps/Enterprise runs compute the demo park's travel times cold
WALK = "assumptions.travel.walk_speed_m_per_min"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    st.cache_data.clear()  # parameters are cached per data dir + version; start clean
    return directory


def _page(lang: str = "en") -> AppTest:
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS))
    at.session_state[state.LANG] = lang
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_in_both_languages_with_sources(lang: str) -> None:
    at = _page(lang)
    assert at.title[0].value == t("assumptions.title", lang)
    headers = [h.value for h in at.header]
    for section in ("travel", "time_windows", "living_circle", "supply", "retention", "privacy"):
        assert t(f"assumptions.section.{section}", lang) in headers
    assert at.number_input(key=WALK).value == 60.0
    assert at.number_input(key="assumptions.privacy.min_group_size").value == 5
    # every scalar shows its source beside it
    captions = " ".join(c.value for c in at.caption)
    assert "GB 50647-2011" in captions and "Boushey" in captions
    assert ".md" not in captions
    assert t("assumptions.all_default", lang) in captions
    group = t("assumptions.col.group", lang)
    (table,) = [frame.value for frame in at.dataframe if group in frame.value.columns]
    assert len(table) > 80  # every scalar, window, tier, category field and decay setting
    assert t("assumptions.col.source", lang) in table.columns
    assert {t("assumptions.col.name", lang), t("assumptions.col.range", lang)} <= set(table.columns)
    assert len(at.data_editor) == 4  # windows, tiers, categories, decay zones


def test_edit_save_and_reset(data_dir: Path) -> None:
    at = _page()
    at.number_input(key=WALK).set_value(30.0).run()
    assert not at.exception
    assert t("assumptions.unsaved", "en") in [w.value for w in at.warning]
    assert any("= 30" in i.value for i in at.info)  # the changed-values note
    assert not (data_dir / "parks" / "jinshan" / "parameters.toml").exists()  # not saved yet
    at.button(key="assumptions.save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert load_park_parameters("jinshan", store=FileStore(data_dir)).travel == TravelParameters(
        walk_speed_m_per_min=30.0
    )
    assert at.number_input(key=WALK).value == 30.0
    assert any("parks/jinshan/parameters.toml" in s.value for s in at.success)
    at.button(key="assumptions.reset").click().run()
    assert not at.exception
    assert not (data_dir / "parks" / "jinshan" / "parameters.toml").exists()
    assert at.number_input(key=WALK).value == 60.0
    assert load_park_parameters("jinshan", store=FileStore(data_dir)) == ParkParameters()


def test_an_invalid_combination_is_reported_and_not_saved(data_dir: Path) -> None:
    at = _page()
    # 0.9 is a probability, but outside the sensitivity range [0.30, 0.57] of the same section
    at.number_input(key="assumptions.conversion.p_leave_given_intent").set_value(0.9).run()
    assert not at.exception
    errors = [shown(e.value) for e in at.error]
    assert any("column 'conversion'" in e and "[0.3, 0.57]" in e for e in errors), errors
    assert at.button(key="assumptions.save").disabled


def test_restore_from_an_uploaded_file(data_dir: Path) -> None:
    at = _page()
    text = park_parameters_to_toml(ParkParameters(privacy=PrivacyParameters(min_group_size=10)))
    at.file_uploader(key="assumptions.upload").upload("p.toml", text.encode(), "application/toml")
    at.run()
    assert not at.exception
    assert any("p.toml" in i.value for i in at.info)
    at.button(key="assumptions.restore").click().run()
    assert not at.exception
    assert load_park_parameters("jinshan", store=FileStore(data_dir)).privacy.min_group_size == 10
    assert at.number_input(key="assumptions.privacy.min_group_size").value == 10


def test_an_invalid_upload_names_the_file_and_key(data_dir: Path) -> None:
    at = _page()
    bad = b"[travel]\nwalk_speed_m_per_min = 500.0\n"
    at.file_uploader(key="assumptions.upload").upload("bad.toml", bad, "application/toml")
    at.run()
    errors = [shown(e.value) for e in at.error]
    assert any("'bad.toml'" in e and "travel.walk_speed_m_per_min" in e for e in errors), errors
    assert "assumptions.restore" not in [button.key for button in at.button]
    assert not (data_dir / "parks" / "jinshan" / "parameters.toml").exists()


# --- saved values reach the other pages ------------------------------------------------------


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count calls of the travel-time engine; start with empty caches so the count is exact."""
    calls: list[str] = []
    engine = travel_times.park_engine

    def counted(park, **kwargs):
        calls.append(str(kwargs["params"].walk_speed_m_per_min))
        return engine(park, **kwargs)

    monkeypatch.setattr(travel_times, "park_engine", counted)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield calls
    st.cache_resource.clear()
    st.cache_data.clear()


def _save_on_assumptions_page(at: AppTest, key: str, value: float) -> None:
    at.switch_page(PAGE).run()
    at.number_input(key=key).set_value(value).run()
    at.button(key="assumptions.save").click().run()
    assert not at.exception, [e.value for e in at.exception]


def _reached_minutes(at: AppTest) -> dict[tuple[str, str], float]:
    """Amenities the selected residence reaches within 15 minutes (the Gaps page's table)."""
    minutes = t("gaps.column.minutes", "en")
    (table,) = [frame.value for frame in at.dataframe if minutes in frame.value.columns]
    names = table[t("gaps.column.name", "en")]
    keys = zip(names, table[t("gaps.column.category", "en")], strict=True)
    return dict(zip(keys, table[minutes].astype(float), strict=True))


@pytest.mark.slow
def test_halving_walking_speed_doubles_walking_minutes_on_the_gaps_page(
    engine_calls: list[str],
) -> None:
    at = _page()
    at.switch_page("pages/gaps.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["gaps.mode"] == "walk"
    before = _reached_minutes(at)
    assert engine_calls == ["60.0"]
    _save_on_assumptions_page(at, WALK, 30.0)
    at.switch_page("pages/gaps.py").run()
    assert not at.exception, [e.value for e in at.exception]
    after = _reached_minutes(at)
    assert engine_calls == ["60.0", "30.0"]  # the travel-time cache key changed
    # within 15 minutes at half the speed: the amenities that took up to 7.5 minutes before
    assert len(after) < len(before)
    common = set(before) & set(after)
    assert common
    for amenity in common:
        assert after[amenity] == pytest.approx(2 * before[amenity], abs=0.2), amenity
    # display choices still reuse the run for the saved parameters
    at.selectbox(key="gaps.indicator").set_value("gap_index").run()
    at.selectbox(key="gaps.mode").set_value("ebike").run()
    assert not at.exception
    assert engine_calls == ["60.0", "30.0"]


def _suppressed_notes(at: AppTest, k: int) -> int:
    return [info.value for info in at.info].count(t("enterprise.suppressed", "en", k=k))


@pytest.mark.slow
def test_k_of_ten_suppresses_more_groups_on_the_enterprise_page(data_dir: Path) -> None:
    at = _page()
    at.switch_page("pages/enterprise.py").run()
    assert not at.exception, [e.value for e in at.exception]
    # an enterprise with 5-9 respondents: shown under k = 5, hidden under k = 10
    park = load_park("jinshan", data_dir=data_dir)
    survey = load_current_survey(
        park,
        store=SurveyStore(data_dir),
        salt=load_or_create_salt("jinshan", data_dir=data_dir),
    ).survey
    counts = survey["enterprise_id"].astype(str).value_counts()
    middle = sorted(str(eid) for eid, n in counts.items() if 5 <= n < 10)
    assert middle
    at.selectbox(key="enterprise.id").set_value(middle[0]).run()
    assert not at.exception
    shown_under_5 = _suppressed_notes(at, 5)
    assert t("enterprise.kpi.leavers", "en") in [m.label for m in at.metric]
    _save_on_assumptions_page(at, "assumptions.privacy.min_group_size", 10)
    at.switch_page("pages/enterprise.py").run()
    at.selectbox(key="enterprise.id").set_value(middle[0]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _suppressed_notes(at, 10) > shown_under_5
    assert t("enterprise.kpi.leavers", "en") not in [m.label for m in at.metric]
    assert t("enterprise.intro", "en", k=10) in [c.value for c in at.caption]


@pytest.mark.slow
def test_a_new_walking_speed_refits_the_enterprise_figures(
    monkeypatch: pytest.MonkeyPatch, engine_calls: list[str]
) -> None:
    fits: list[tuple[str, object]] = []
    compute = pipeline_stages.enterprise_retention

    def counted(model, features, enterprise_id, *args, **kwargs):
        fits.append((str(enterprise_id), model))
        return compute(model, features, enterprise_id, *args, **kwargs)

    monkeypatch.setattr(pipeline_stages, "enterprise_retention", counted)
    at = _page()
    at.switch_page("pages/enterprise.py").run()
    assert not at.exception, [e.value for e in at.exception]
    enterprise_id = str(at.selectbox(key="enterprise.id").value)
    assert [eid for eid, _ in fits] == [enterprise_id]
    _save_on_assumptions_page(at, WALK, 30.0)
    at.switch_page("pages/enterprise.py").run()
    at.selectbox(key="enterprise.id").set_value(enterprise_id).run()
    assert not at.exception, [e.value for e in at.exception]
    assert engine_calls == ["60.0", "30.0"]
    # recomputed from the model refitted on the new access features, not the cached old fit
    assert [eid for eid, _ in fits] == [enterprise_id, enterprise_id]
    assert fits[1][1] is not fits[0][1]
