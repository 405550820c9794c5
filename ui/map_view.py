"""Show a folium map in Streamlit with its front-end assets served by the app itself."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import folium
import streamlit as st
from streamlit_folium import _component_func as _folium_component
from streamlit_folium import st_folium

from retention.i18n import t
from retention.report.maps import VENDORED_ASSETS, assets_used, use_local_assets
from ui import state

VENDOR_DIR = state.REPO / "static" / "vendor"


def asset_base_url() -> str:
    """Return the URL path of ``static/vendor`` as this server serves it (honours baseUrlPath)."""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/app/static/vendor" if base else "/app/static/vendor"


def assets_installed(names: Iterable[str] | None = None) -> bool:
    """Whether the vendored front-end files exist (``scripts/setup.sh`` puts them there).

    Parameters
    ----------
    names
        Asset names (``retention.report.maps.VENDORED_ASSETS`` keys) to check; ``None``: all.
    """
    wanted = VENDORED_ASSETS.keys() if names is None else names
    return all(
        name in VENDORED_ASSETS and (VENDOR_DIR / VENDORED_ASSETS[name]).is_file()
        for name in wanted
    )


def show_map(
    m: folium.Map,
    *,
    key: str,
    height: int = 640,
    returned_objects: Sequence[str] = (),
    feature_group: folium.FeatureGroup | None = None,
) -> dict[str, Any]:
    """Render ``m`` full width, linking Leaflet and plugins from the app, not from CDNs.

    By default the map sends nothing back (``returned_objects=[]``), so panning and zooming never
    rerun the page; name only the interactions the page uses (e.g. ``"last_object_clicked"``).
    When the vendored assets are missing the map would be blank, so a specific error says how to
    install them instead. streamlit-folium changes the map while rendering it: pass a new map on
    every run, never a cached one (cache the page of ``retention.report.maps.standalone_html``).

    Parameters
    ----------
    m
        A map from ``retention.report.maps`` (or any folium map using vendored plugins only).
    key
        Namespaced widget key, e.g. ``"map.park_map"``.
    height
        Height in pixels.
    returned_objects
        streamlit-folium return values the page reads.
    feature_group
        A layer that may change from run to run without the map being drawn again (what the
        user drew on it stays): streamlit-folium's ``feature_group_to_add``.

    Returns
    -------
    dict
        The requested return values (empty when nothing is requested or the map is not shown).
    """
    if not assets_installed(assets_used(m)):
        st.error(t("common.assets_missing", state.lang(), path=str(VENDOR_DIR)))
        return {}
    use_local_assets(m, asset_base_url=asset_base_url())
    _register_map_component()
    returned = st_folium(
        m,
        key=key,
        height=height,
        use_container_width=True,
        returned_objects=list(returned_objects),
        feature_group_to_add=feature_group,
    )
    return dict(returned or {}) if returned_objects else {}


def _register_map_component() -> None:
    """Register streamlit-folium's component with this server's runtime if it is not yet.

    streamlit-folium registers its component when first imported, but only inside a script run:
    imported before the server's runtime existed (``serve.py`` preloads the app's modules), it
    stays unregistered and every map is a blank frame (the browser gets 404 for the component).
    """
    from streamlit import runtime

    if not runtime.exists():  # AppTest and bare mode: no component is served at all
        return
    registry = runtime.get_instance().component_registry
    if registry.get_component_path(_folium_component.name) is None:
        registry.register_component(_folium_component)


def show_map_page(page_html: str, *, height: int = 640) -> None:
    """Render a map already turned into an HTML page (``retention.report.maps.standalone_html``).

    For maps that send nothing back: the page is an immutable string, so it can be cached and
    shared between sessions, and a rerun does not render the map again. Its asset links must
    already point at the app (``retention.report.maps.use_local_assets``).

    Parameters
    ----------
    page_html
        The map's HTML document.
    height
        Height in pixels.
    """
    linked = [name for name, path in VENDORED_ASSETS.items() if f"/{path}" in page_html]
    if not assets_installed(linked):
        st.error(t("common.assets_missing", state.lang(), path=str(VENDOR_DIR)))
        return
    st.iframe(page_html, height=height)
