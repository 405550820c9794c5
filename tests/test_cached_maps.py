"""AppTest of ui.cached_maps: the Map page renders its map once per park version, language and
tiles, and shares the finished page (an immutable string) between reruns and sessions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.app_session import signed_in
from ui import cached_maps, state

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
TIMEOUT_SECONDS = 120  # cold first run imports geopandas/folium and loads the demo park


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    return directory


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Record every map build (language, tiles), starting from empty caches."""
    calls: list[tuple[str, str]] = []
    build = cached_maps.build_park_map

    def counted(layers, **kwargs):
        calls.append((kwargs["lang"], kwargs["tiles"]))
        return build(layers, **kwargs)

    monkeypatch.setattr(cached_maps, "build_park_map", counted)
    st.cache_resource.clear()
    yield calls
    st.cache_resource.clear()


def _map_srcdoc(at: AppTest) -> str:
    [frame] = [e for e in at.main if getattr(e, "proto", None) is not None and e.type == "iframe"]
    return frame.proto.srcdoc


@pytest.mark.slow
def test_map_page_is_built_once_per_choice_and_reruns_reuse_it(builds) -> None:
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS))
    at.session_state[state.LANG] = "en"
    at.run()
    at.switch_page("pages/map.py").run()
    assert not at.exception, [e.value for e in at.exception]
    first = _map_srcdoc(at)
    assert "/app/static/vendor/leaflet/leaflet.js" in first
    at.run()
    assert builds == [("en", "osm")]  # a rerun shows the cached page
    assert _map_srcdoc(at) == first
    # Set through state: after switch_page, AppTest 1.67 drops the sidebar from its tree.
    at.session_state[state.TILES] = "none"
    at.run()
    at.session_state[state.LANG] = "zh"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert builds == [("en", "osm"), ("en", "none"), ("zh", "none")]
    assert json.dumps("合成演示数据")[1:-1] in _map_srcdoc(at)  # legend, in Chinese
    assert "tile.openstreetmap.org" not in _map_srcdoc(at)
