"""Map: the park's boundaries, enterprises, residences, transit and amenities on one map."""

from __future__ import annotations

import streamlit as st

from retention.i18n import t
from retention.maps import TileSource, build_park_map
from ui import cached, state
from ui.entry import require_app_navigation
from ui.map_view import asset_base_url, show_map
from ui.notices import synthetic_notice

require_app_navigation()

lang = state.lang()
tiles = state.tiles()
park = cached.current_park()
st.title(t("map.title", lang))
if park is None:
    st.info(t("map.empty", lang))
    st.stop()

synthetic_notice(park)
st.caption(t("map.caption", lang))
if tiles is TileSource.AMAP:
    st.info(t("map.amap_note", lang), icon=":material/info:")
elif tiles is TileSource.OSM:
    st.caption(t("map.offline_note", lang))

if not any(frame is not None and not frame.empty for frame in park.layers.values()):
    st.info(t("map.empty", lang))
    st.stop()

park_map = build_park_map(
    park.layers,
    lang=lang,
    tiles=tiles,
    asset_base_url=asset_base_url(),
    boundary=park.boundary,
    synthetic=park.synthetic,
)
show_map(park_map, key="map.park_map")
