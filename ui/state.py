"""Session state behind named keys: the few small choices a user makes, shared across pages.

Only small values live here (ids, language, tile source); data comes back from ``ui.cached``.
The sidebar widgets have keys of their own (``WIDGET_*``) bound to these state keys: Streamlit
derives a widget's identity from its label too, so a widget whose label changes with the language
would otherwise lose its value, and with it the choice, when the language is switched. Tests can
set a choice with ``at.session_state[LANG] = "zh"`` or through the widget by its key.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from retention.auth.roles import UserScope
from retention.errors import AccessDeniedError
from retention.i18n import LANGUAGES, language_for_locale
from retention.report.maps import TileSource
from retention.storage.layout import DATABASE_URL_ENV, default_data_dir

LANG = "app.lang"
"""Interface language, ``"en"`` or ``"zh"``; also the sidebar language widget's key."""
PARK = "app.park"
"""Selected park id; also the sidebar park selector's key."""
TILES = "app.tiles"
"""Map background tile source, a ``TileSource`` value; also the sidebar tile widget's key."""

SCENARIO = "app.scenario"
"""Saved scenario id shown by the pages instead of the baseline (``""``: the baseline); also the
sidebar scenario selector's key."""
SCENARIO_DRAFT = "scenario.draft"
"""This session's working scenario on the Scenario page, as scenario JSON text (small, and each
session has its own: two planners editing scenarios never see each other's drafts)."""
SCENARIO_EDITING = "scenario.editing"
"""Id of the saved scenario the draft was opened from (``""``: a new one)."""
USER = "app.user"
"""The signed-in user, a ``retention.auth.roles.UserScope`` (set by ``ui.auth`` only; tests may
set it directly to sign in)."""

REPORT_BUILT = "reports.built"
"""The options (park, data version, format, language, window, enterprise) of the snapshot this
session last built; the Reports page offers its download while the options stay the same."""

LEGACY_RERUN_DONE = "app.legacy_rerun_done"
"""Set once this session has rerun out of Streamlit's legacy pages-folder mode (``ui.entry``)."""

WIDGET_LANG = "sidebar.lang"
"""Key of the sidebar's language switch (bound to ``LANG``)."""
WIDGET_PARK = "sidebar.park"
"""Key of the sidebar's park selector (bound to ``PARK``)."""
WIDGET_TILES = "sidebar.tiles"
"""Key of the sidebar's map background selector (bound to ``TILES``)."""
WIDGET_SCENARIO = "sidebar.scenario"
"""Key of the sidebar's scenario selector (bound to ``SCENARIO``)."""

DEFAULT_TILES = TileSource.OSM
"""OSM tiles by default; without internet they fail quietly and every layer still shows."""

REPO = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Return the data directory: ``$PARKLIFE_DATA_DIR`` or ``<repo>/data`` (one definition,
    ``retention.storage.layout.default_data_dir``)."""
    return default_data_dir()


def database_url() -> str:
    """Return ``$PARKLIFE_DATABASE_URL`` (empty: the file store under :func:`data_dir`)."""
    return os.environ.get(DATABASE_URL_ENV, "")


def scope() -> UserScope:
    """Return the signed-in user; ``AccessDeniedError`` if nobody is signed in.

    ``app.py`` signs the user in before any page runs, so a page only meets the error when a
    session was signed out under it.
    """
    user = st.session_state.get(USER)
    if not isinstance(user, UserScope):
        raise AccessDeniedError("nobody is signed in; expected a signed-in user")
    return user


def signed_in() -> UserScope | None:
    """Return the signed-in user, or ``None``."""
    user = st.session_state.get(USER)
    return user if isinstance(user, UserScope) else None


def set_scope(user: UserScope | None) -> None:
    """Sign a user in (``None``: sign out)."""
    if user is None:
        st.session_state.pop(USER, None)
    else:
        st.session_state[USER] = user


def init_state() -> None:
    """Fill in defaults for every key not yet set; the language follows the browser's locale."""
    if LANG not in st.session_state:
        st.session_state[LANG] = language_for_locale(st.context.locale)
    if TILES not in st.session_state:
        st.session_state[TILES] = DEFAULT_TILES.value


def lang() -> str:
    """Return the interface language (``"en"`` or ``"zh"``)."""
    value = st.session_state.get(LANG, "en")
    return value if value in LANGUAGES else "en"


def set_lang(value: str) -> None:
    """Switch the interface language; ``value`` must be one of ``retention.i18n.LANGUAGES``."""
    if value not in LANGUAGES:
        raise ValueError(f"unknown language {value!r}; expected one of {', '.join(LANGUAGES)}")
    st.session_state[LANG] = value


def park_id() -> str | None:
    """Return the selected park id, or ``None`` when no park exists yet."""
    return st.session_state.get(PARK)


def set_park_id(value: str) -> None:
    """Select a park by id."""
    st.session_state[PARK] = value


def tiles() -> TileSource:
    """Return the chosen background tile source."""
    return TileSource(st.session_state.get(TILES, DEFAULT_TILES.value))


def set_tiles(value: TileSource | str) -> None:
    """Choose the background tile source (``"osm"``, ``"amap"`` or ``"none"``)."""
    st.session_state[TILES] = TileSource(value).value


def scenario_id() -> str:
    """Return the saved scenario the pages show (``""``: the baseline)."""
    return str(st.session_state.get(SCENARIO, ""))


def set_scenario_id(value: str) -> None:
    """Show a saved scenario on the pages (``""``: the baseline)."""
    st.session_state[SCENARIO] = value


def scenario_draft() -> str | None:
    """Return this session's working scenario as JSON text, or ``None`` before one is started."""
    return st.session_state.get(SCENARIO_DRAFT)


def set_scenario_draft(text: str, *, editing: str = "") -> None:
    """Keep ``text`` (scenario JSON) as this session's working scenario."""
    st.session_state[SCENARIO_DRAFT] = text
    st.session_state[SCENARIO_EDITING] = editing


def scenario_editing() -> str:
    """Return the id of the saved scenario the draft came from (``""``: new)."""
    return str(st.session_state.get(SCENARIO_EDITING, ""))


def bind_widget(widget_key: str, state_key: str) -> None:
    """Show the state's current value in a widget about to be created (call before creating it).

    Pair with ``on_change=copy_widget, args=(widget_key, state_key)`` on the widget.
    """
    if state_key in st.session_state:
        st.session_state[widget_key] = st.session_state[state_key]


def copy_widget(widget_key: str, state_key: str) -> None:
    """Widget callback: store the widget's new value under the state key."""
    st.session_state[state_key] = st.session_state[widget_key]


def built_report() -> tuple[str, ...] | None:
    """Return the options of the snapshot this session last built, if any."""
    value = st.session_state.get(REPORT_BUILT)
    return tuple(value) if value is not None else None


def set_built_report(options: tuple[str, ...]) -> None:
    """Remember the options of the snapshot just built (its bytes stay in the shared cache)."""
    st.session_state[REPORT_BUILT] = tuple(options)
