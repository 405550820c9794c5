"""The shared sidebar: park, language, map background, and the synthetic-data badge."""

from __future__ import annotations

import streamlit as st

from retention.i18n import LANGUAGE_NAMES, LANGUAGES, t
from retention.report.maps import TileSource
from ui import cached, state


def _park_name(park_id: str, lang: str) -> str:
    return cached.park(park_id).name(lang) or park_id


def render_sidebar() -> None:
    """Render the sidebar every page shares; the widgets write straight into ``ui.state`` keys."""
    lang = state.lang()
    with st.sidebar:
        st.markdown(f"### {t('common.app_title', lang)}")
        st.caption(t("common.app_subtitle", lang))
        park_ids = cached.park_ids(str(state.data_dir()))
        if not park_ids:
            st.warning(t("common.no_parks", lang))
        else:
            if state.park_id() not in park_ids:
                state.set_park_id(park_ids[0])
            state.bind_widget(state.WIDGET_PARK, state.PARK)
            st.selectbox(
                t("common.sidebar.park", lang),
                park_ids,
                key=state.WIDGET_PARK,
                on_change=state.copy_widget,
                args=(state.WIDGET_PARK, state.PARK),
                format_func=lambda park_id: _park_name(park_id, lang),
            )
            park = cached.park(state.park_id())
            if park.synthetic:
                st.badge(
                    t("common.sidebar.synthetic_badge", lang),
                    icon=":material/science:",
                    color="orange",
                )
            st.caption(t("common.sidebar.data_version", lang, version=park.data_version[:12]))
        state.bind_widget(state.WIDGET_LANG, state.LANG)
        st.radio(
            t("common.sidebar.language", lang),
            LANGUAGES,
            key=state.WIDGET_LANG,
            on_change=state.copy_widget,
            args=(state.WIDGET_LANG, state.LANG),
            format_func=lambda code: LANGUAGE_NAMES[code],
            horizontal=True,
        )
        state.bind_widget(state.WIDGET_TILES, state.TILES)
        st.selectbox(
            t("common.sidebar.tiles", lang),
            [source.value for source in TileSource],
            key=state.WIDGET_TILES,
            on_change=state.copy_widget,
            args=(state.WIDGET_TILES, state.TILES),
            format_func=lambda value: t(f"common.tiles.{value}", lang),
            help=t("common.sidebar.tiles_help", lang),
        )
