"""The shared sidebar: the app's navigation, park, language, map background, synthetic badge.

The navigation is drawn here with ``st.page_link`` (translated page titles), not by Streamlit:
``client.showSidebarNavigation = false`` (.streamlit/config.toml) hides Streamlit's automatic
menu, which on a fresh server lists the ``pages/`` file names until ``app.py`` first runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from retention.escaping import markdown_text
from retention.i18n import LANGUAGE_NAMES, LANGUAGES, t
from retention.report.maps import tile_name
from retention.scenario.records import ScenarioStore
from ui import auth, cached, state, warmup


def _park_name(park_id: str, lang: str) -> str:
    return cached.park(park_id).name(lang) or park_id


def _scenario_choice(park_id: str, lang: str) -> None:
    """The saved scenario the pages show instead of the baseline (``""``: the baseline)."""
    records = {r.scenario_id: r.name for r in ScenarioStore(state.data_dir()).list(park_id)}
    # Kept in the session and the URL (``?scenario=<id>``); an id that is not one of the park's
    # saved scenarios (another park's, a deleted one, a hand-edited URL) shows the baseline.
    state.kept(
        st.selectbox,
        state.SCENARIO_CHOICE,
        t("scenario.sidebar.scenario", lang),
        ["", *records],
        format_func=lambda sid: records.get(sid, "") or t("scenario.sidebar.baseline", lang),
        help=t("scenario.sidebar.scenario_help", lang),
    )


NAVIGATION_KEY = "app_nav"
"""Key of the navigation's container (CSS class ``st-key-app_nav``; browser tests find it)."""


def render_sidebar(pages: Sequence[st.Page]) -> None:
    """Render the sidebar every page shares; the widgets write straight into ``ui.state`` keys.

    Parameters
    ----------
    pages
        The app's pages in menu order (``app.py``'s ``PAGES``), linked by their titles.
    """
    lang = state.lang()
    with st.sidebar:
        with st.container(key=NAVIGATION_KEY):
            for page in pages:
                st.page_link(page)
        auth.render_user(lang)
        st.divider()
        st.markdown(f"### {t('common.app_title', lang)}")
        st.caption(t("common.app_subtitle", lang))
        park_ids = cached.park_ids(str(state.data_dir()))
        if not park_ids:
            st.warning(t("common.no_parks", lang))
        else:
            if state.park_id() not in park_ids:
                state.set_park_id(park_ids[0])
            state.kept(
                st.selectbox,
                state.PARK_CHOICE,
                t("common.sidebar.park", lang),
                park_ids,
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
            _scenario_choice(park.park_id, lang)
            warmup.show_progress(park, lang)
        state.kept(
            st.radio,
            state.LANG_CHOICE,
            t("common.sidebar.language", lang),
            LANGUAGES,
            index=LANGUAGES.index(state.browser_language()),  # the URL names other choices
            format_func=lambda code: LANGUAGE_NAMES[code],
            horizontal=True,
        )
        # The server's default background (PARKLIFE_MAP_TILES) and, if it names one, its own
        # tile server as a choice; an invalid setting is shown, OpenStreetMap is used meanwhile.
        setting, setting_error = state.map_tiles_setting()
        if setting_error:
            st.error(t("mapview.setting_error", lang, message=markdown_text(setting_error)))
        state.kept(
            st.selectbox,
            state.TILES_CHOICE,
            t("common.sidebar.tiles", lang),
            [source.value for source in setting.choices],
            index=setting.choices.index(setting.default),
            format_func=lambda value: tile_name(value, lang),
            help=t("common.sidebar.tiles_help", lang),
        )
