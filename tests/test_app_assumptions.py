"""AppTests of the Assumptions page and of its values reaching the other pages.

Parameters are saved to a temporary ``PARKLIFE_DATA_DIR``; the demo park's files are never touched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from retention.i18n import t
from retention.parameters import TravelParameters
from retention.park_parameters import (
    ParkParameters,
    load_park_parameters,
    park_parameters_path,
    park_parameters_to_toml,
)
from retention.privacy import PrivacyParameters
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
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS)
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
    assert "PARAMETERS.md item 14" in captions and "PARAMETERS.md item 6" in captions
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
    assert not park_parameters_path("jinshan", data_dir=data_dir).exists()  # not saved yet
    at.button(key="assumptions.save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert load_park_parameters("jinshan", data_dir=data_dir).travel == TravelParameters(
        walk_speed_m_per_min=30.0
    )
    assert at.number_input(key=WALK).value == 30.0
    assert any("parks/jinshan/parameters.toml" in s.value for s in at.success)
    at.button(key="assumptions.reset").click().run()
    assert not at.exception
    assert not park_parameters_path("jinshan", data_dir=data_dir).exists()
    assert at.number_input(key=WALK).value == 60.0
    assert load_park_parameters("jinshan", data_dir=data_dir) == ParkParameters()


def test_an_invalid_combination_is_reported_and_not_saved(data_dir: Path) -> None:
    at = _page()
    # 0.9 is a probability, but outside the sensitivity range [0.30, 0.57] of the same section
    at.number_input(key="assumptions.conversion.p_leave_given_intent").set_value(0.9).run()
    assert not at.exception
    errors = [e.value for e in at.error]
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
    assert load_park_parameters("jinshan", data_dir=data_dir).privacy.min_group_size == 10
    assert at.number_input(key="assumptions.privacy.min_group_size").value == 10


def test_an_invalid_upload_names_the_file_and_key(data_dir: Path) -> None:
    at = _page()
    bad = b"[travel]\nwalk_speed_m_per_min = 500.0\n"
    at.file_uploader(key="assumptions.upload").upload("bad.toml", bad, "application/toml")
    at.run()
    errors = [e.value for e in at.error]
    assert any("'bad.toml'" in e and "travel.walk_speed_m_per_min" in e for e in errors), errors
    assert "assumptions.restore" not in [button.key for button in at.button]
    assert not park_parameters_path("jinshan", data_dir=data_dir).exists()
