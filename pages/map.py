"""Map: the park's boundaries, enterprises, residences, transit and amenities on one map."""

from __future__ import annotations

import streamlit as st

from retention.i18n import t
from retention.report.maps import HIDDEN_BY_DEFAULT, TileSource, park_layer_label
from ui import busy, cached_maps, cached_scenario, state
from ui.entry import page_park, require_app_navigation
from ui.map_view import show_map_page

require_app_navigation()

lang = state.lang()
tiles = state.tiles()
park = page_park("map", no_park="map.empty")
park = cached_scenario.shown_park(park)  # the sidebar's scenario, if one is chosen
st.caption(t("map.caption", lang))
if tiles is TileSource.AMAP:
    st.info(t("map.amap_note", lang), icon=":material/info:")
elif tiles is TileSource.OSM:
    st.caption(t("map.offline_note", lang))

if not any(frame is not None and not frame.empty for frame in park.layers.values()):
    st.info(t("map.empty", lang))
    st.stop()

with busy.showing(busy.message("map", lang)):  # drawing ~800 features: a second or two
    page = cached_maps.park_map_page(
        park, lang=lang, tiles=tiles, user_scope=state.scope().canonical()
    )
# Layers are chosen here, not in the map: the choice is kept (ui.state) across reruns, pages,
# language switches and reloads, and the layer list never covers the map.
layer_codes = list(page.layer_variables)
with st.expander(t("mapview.layers", lang)):
    shown = state.kept(
        st.pills,
        state.MAP_LAYERS,
        t("mapview.layers", lang),
        layer_codes,
        selection_mode="multi",
        default=[code for code in layer_codes if code not in HIDDEN_BY_DEFAULT],
        format_func=lambda code: park_layer_label(code, lang),
        help=t("mapview.layers_help", lang),
        label_visibility="collapsed",
    )
show_map_page(page.showing(shown))
