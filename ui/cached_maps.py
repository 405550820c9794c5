"""Cached map pages: a map that sends nothing back is built and rendered once per choice.

Rendering a folium map costs seconds and changes the map (folium adds elements on every render,
streamlit-folium renames them), so a built map must never be cached and shown again. What is
cached here is the finished page (``retention.report.maps.MapPage``: immutable strings) that
every session may share; which layers it shows is applied per session
(``MapPage.showing``), so toggling a layer never renders the map again.
"""

from __future__ import annotations

import streamlit as st

from retention.report.maps import MapPage, TileSource, build_park_map
from retention.report.maps import park_map_page as rendered_page
from retention.storage.park import ParkData
from ui.map_view import asset_base_url


@st.cache_resource(max_entries=16, show_spinner=False)
def _park_map_page(
    park_id: str,
    data_version: str,
    lang: str,
    tiles: str,
    base_url: str,
    user_scope: str,
    _park: ParkData,
) -> MapPage:
    park_map = build_park_map(
        _park.layers,
        lang=lang,
        tiles=tiles,
        asset_base_url=base_url,
        boundary=_park.boundary,
        synthetic=_park.synthetic,
        user_scope=user_scope,
    )
    return rendered_page(park_map)


def park_map_page(park: ParkData, *, lang: str, tiles: TileSource, user_scope: str) -> MapPage:
    """Return the park map (``retention.report.maps.build_park_map``) as a page, cached.

    Keyed on park id + data version + language + tiles + the asset URL this server uses + the
    user's scope (which firms' headcounts it shows).
    """
    return _park_map_page(
        park.park_id,
        park.data_version,
        lang,
        TileSource(tiles).value,
        asset_base_url(),
        user_scope,
        park,
    )
