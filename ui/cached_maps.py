"""Cached map pages: a map that sends nothing back is built and rendered once per choice.

Rendering a folium map costs seconds and changes the map (folium adds elements on every render,
streamlit-folium renames them), so a built map must never be cached and shown again. What is
cached here is the finished HTML page, an immutable string that every session may share.
"""

from __future__ import annotations

import streamlit as st

from retention.report.maps import TileSource, build_park_map, standalone_html
from retention.storage.park import ParkData
from ui.map_view import asset_base_url


@st.cache_resource(max_entries=16, show_spinner=False)
def _park_map_page(
    park_id: str,
    data_version: str,
    lang: str,
    tiles: str,
    base_url: str,
    _park: ParkData,
) -> str:
    park_map = build_park_map(
        _park.layers,
        lang=lang,
        tiles=tiles,
        asset_base_url=base_url,
        boundary=_park.boundary,
        synthetic=_park.synthetic,
    )
    return standalone_html(park_map)


def park_map_page(park: ParkData, *, lang: str, tiles: TileSource) -> str:
    """Return the park map (``retention.report.maps.build_park_map``) as an HTML page, cached.

    Keyed on park id + data version + language + tiles + the asset URL this server uses.
    """
    return _park_map_page(
        park.park_id, park.data_version, lang, TileSource(tiles).value, asset_base_url(), park
    )
