"""The map component is served even when streamlit-folium was imported before the server.

``serve.py`` imports the app's modules before Streamlit's runtime exists; streamlit-folium then
declares its component without registering it (registration needs a script run), and every map
was a blank frame (404 for the component). ``ui.map_view.show_map`` registers it with the
running server's registry on first use.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import streamlit_folium
from streamlit import runtime
from streamlit.components.lib.local_component_registry import LocalComponentRegistry

from ui import map_view

NAME = "streamlit_folium.st_folium"


def test_a_map_component_imported_before_the_server_is_registered_on_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = LocalComponentRegistry()  # the server's registry, as after serve.py's preload
    monkeypatch.setattr(runtime, "exists", lambda: True)
    monkeypatch.setattr(
        runtime, "get_instance", lambda: SimpleNamespace(component_registry=registry)
    )
    assert registry.get_component_path(NAME) is None
    map_view._register_map_component()
    build = Path(streamlit_folium.__file__).parent / "frontend" / "build"
    assert registry.get_component_path(NAME) == str(build)
    map_view._register_map_component()  # the next map: already there, nothing changes
    assert registry.get_component_path(NAME) == str(build)


def test_without_a_server_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "exists", lambda: False)
    monkeypatch.setattr(runtime, "get_instance", lambda: pytest.fail("no runtime to ask"))
    map_view._register_map_component()
