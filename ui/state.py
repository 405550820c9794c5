"""Session state behind named keys: the few small choices a user makes, shared across pages.

Only small values live here (ids, language, tile source); data comes back from ``ui.cached``.
The sidebar widgets have keys of their own (``WIDGET_*``) bound to these state keys: Streamlit
derives a widget's identity from its label too, so a widget whose label changes with the language
would otherwise lose its value, and with it the choice, when the language is switched. Tests can
set a choice with ``at.session_state[LANG] = "zh"`` or through the widget by its key.

Choices that stay (:class:`Choice`, :func:`kept`): a page's selections (the Gaps page's category,
mode, window and weights, the Map page's layers, the Survey and Enterprise selections, the Data
page's layer kind and coordinate system, the Reports page's options, the Scenarios page's
compared scenarios, siting and budget choices) and the sidebar's park,
language, background and shown scenario live under state keys of their own, which Streamlit keeps
while the widget is off screen (it forgets a widget's own key when the user changes page), and in
the URL's query parameters (``?mode=walk&window=weekday_evening``), so a reload or a shared link
opens with the same choices. Widgets hold stable codes and translate them with ``format_func``;
the kept code is handed back to the widget on every run, which also makes the browser re-label a
selection after a language switch. A value from the URL is used only when it is one of the
widget's options (anything else is ignored), and only after sign-in.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from retention.auth.roles import UserScope
from retention.errors import AccessDeniedError, ParameterError
from retention.i18n import LANGUAGES, language_for_locale
from retention.report.maps import TileSetting, TileSource, tile_setting
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
SCENARIO_EDITING_VERSION = "scenario.editing_version"
"""Stored version of that scenario when it was opened: a save or delete based on it is refused
if someone saved the scenario since (nothing of theirs is overwritten)."""
SCENARIO_NAME = "scenario.name"
"""Key of the Scenario page's name field (it renames the draft): cleared when another scenario
replaces the draft, so the field shows that scenario's name instead of the last one typed."""
SCENARIO_DRAWING = "scenario.drawing"
"""What this session drew on the Scenario page's map (GeoJSON features as JSON text, ``"[]"``
when nothing): the route's stops come from it. Tests set it to stand for a drawing."""
SCENARIO_DRAWING_MAP = "scenario.drawing_map"
"""Number of the drawing map shown (part of its widget key): a route added from the drawing
moves it on, so the next route starts on a blank map."""
SCENARIO_PREFILL = "scenario.prefill"
"""A new amenity another page proposes (the Gaps page's "what next"): a small dict with
``category`` and ``near`` (a place id); the Scenario page shows its amenity form filled with it
once, and the user confirms by adding it."""
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
"""OSM tiles unless the server says otherwise (``PARKLIFE_MAP_TILES``, :func:`map_tiles_setting`);
without internet they fail, the map says so, and every layer still shows."""

URL_RESTORED = "app.url_restored"
"""Set once this session has taken the sidebar's choices from the URL (after sign-in)."""
LABELS_LANG = "app.labels_lang"
"""The language the session's widgets were last labelled in (see :func:`relabel_widgets`)."""

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


def map_tiles_setting() -> tuple[TileSetting, str]:
    """Return the server's map background setting and, if ``PARKLIFE_MAP_TILES`` is invalid,
    the error to show (the setting then falls back to OpenStreetMap)."""
    try:
        return tile_setting(), ""
    except ParameterError as error:
        return TileSetting(DEFAULT_TILES), str(error)


def browser_language() -> str:
    """Return the language of the browser's locale (``"zh"`` for any Chinese locale, else
    ``"en"``): a new session's language unless the URL names one."""
    return language_for_locale(st.context.locale)


def init_state() -> None:
    """Fill in defaults for every key not yet set; the language follows the browser's locale and
    the map background the server's setting (``PARKLIFE_MAP_TILES``)."""
    if LANG not in st.session_state:
        st.session_state[LANG] = browser_language()
    if TILES not in st.session_state:
        st.session_state[TILES] = map_tiles_setting()[0].default.value


def restore_from_url() -> None:
    """Take the sidebar's choices (language, background, park) from the URL, once per session.

    Called after sign-in (nothing in the URL is read before). Values that are not a language,
    a background this server offers, or a plain park id are ignored; the sidebar then checks the
    park against the parks that exist.
    """
    if st.session_state.get(URL_RESTORED):
        return
    st.session_state[URL_RESTORED] = True
    language = _url_value(LANG_CHOICE)
    if language in LANGUAGES:
        st.session_state[LANG] = language
    background = _url_value(TILES_CHOICE)
    if background in {source.value for source in map_tiles_setting()[0].choices}:
        st.session_state[TILES] = background
    park = _url_value(PARK_CHOICE)
    if isinstance(park, str) and park.replace("-", "").replace("_", "").isalnum():
        st.session_state[PARK] = park


def _plain(value: object) -> bool:
    """Whether a session value is text, a number or a list of them (never a button's bool, an
    upload, an editor's edits or ``None``: Streamlit refuses to set those widgets)."""
    if isinstance(value, list | tuple):
        return bool(value) and all(_plain(item) for item in value)
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def relabel_widgets() -> None:
    """After a language switch, hand every widget its value again so the browser re-labels it.

    The browser holds a selection as the label it showed: after a switch that label is no option
    any more and the widget shows the old language or nothing selected (measured on the Gaps page:
    English dropdowns still showing 步行, no weights option chosen). A widget whose value is set
    through session state is sent with its new label. Call it before any widget of the run
    (``app.py`` after the language is settled, and each page first via ``ui.entry``); it acts
    once per switch.
    """
    if LANG not in st.session_state:
        return  # the language is not settled yet (first run, before init_state)
    current = lang()
    previous = st.session_state.get(LABELS_LANG)
    st.session_state[LABELS_LANG] = current
    if previous is None or previous == current:
        return
    for key in list(st.session_state.keys()):
        value = st.session_state[key]
        if _plain(value):
            st.session_state[key] = value


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


def set_scenario_draft(text: str, *, editing: str = "", version: int = 0) -> None:
    """Keep ``text`` (scenario JSON) as this session's working scenario, opened from the saved
    scenario ``editing`` at its stored ``version`` (``""``/0: a new one)."""
    st.session_state[SCENARIO_DRAFT] = text
    st.session_state[SCENARIO_EDITING] = editing
    st.session_state[SCENARIO_EDITING_VERSION] = version


def replace_scenario_draft(text: str, *, editing: str = "", version: int = 0) -> None:
    """Put another scenario in the draft's place (opened, new, duplicated, imported): as
    :func:`set_scenario_draft`, and the name field starts again from that scenario's name
    (otherwise it keeps the last name typed and renames the scenario just opened)."""
    set_scenario_draft(text, editing=editing, version=version)
    st.session_state.pop(SCENARIO_NAME, None)


def scenario_editing() -> str:
    """Return the id of the saved scenario the draft came from (``""``: new)."""
    return str(st.session_state.get(SCENARIO_EDITING, ""))


def scenario_editing_version() -> int:
    """Return the stored version of the saved scenario when the draft was opened (0: new)."""
    return int(st.session_state.get(SCENARIO_EDITING_VERSION, 0))


def scenario_drawing() -> str:
    """Return what was drawn on the Scenario page's map as GeoJSON text (``"[]"``: nothing)."""
    return str(st.session_state.get(SCENARIO_DRAWING, "[]"))


def set_scenario_drawing(text: str) -> None:
    """Keep ``text`` (GeoJSON features as JSON) as what was drawn on the Scenario page's map."""
    st.session_state[SCENARIO_DRAWING] = text


def scenario_drawing_map() -> int:
    """Return the number of the Scenario page's drawing map (a new number is a blank map)."""
    return int(st.session_state.get(SCENARIO_DRAWING_MAP, 0))


def clear_scenario_drawing() -> None:
    """Forget what was drawn and give the Scenario page a blank drawing map."""
    st.session_state[SCENARIO_DRAWING] = "[]"
    st.session_state[SCENARIO_DRAWING_MAP] = scenario_drawing_map() + 1


def set_scenario_prefill(*, category: str, near: str) -> None:
    """Propose a new ``category`` amenity near the place ``near`` for the Scenario page's form."""
    st.session_state[SCENARIO_PREFILL] = {"category": str(category), "near": str(near)}


def take_scenario_prefill() -> dict[str, str] | None:
    """Return the proposed amenity and forget it (the form shows it once), or ``None``."""
    value = st.session_state.pop(SCENARIO_PREFILL, None)
    return dict(value) if isinstance(value, dict) else None


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


# --- choices that stay: session state + URL query parameters ---------------------------------

T = TypeVar("T")


@dataclass(frozen=True)
class Choice:
    """A user's choice that survives a page change, a language switch and a reload.

    Attributes
    ----------
    key
        Session-state key holding the choice (kept while its widget is off screen).
    widget
        The widget's own key (namespaced, e.g. ``"gaps.mode"``; tests find widgets by it).
    param
        The URL query parameter holding the choice (unique among a page's and the sidebar's).
    multi
        Whether the choice is a list of options (written as one comma-separated parameter).
    """

    key: str
    widget: str
    param: str
    multi: bool = False


def _page_choice(widget: str, param: str, *, multi: bool = False) -> Choice:
    return Choice(f"kept.{widget}", widget, param, multi)


LANG_CHOICE = Choice(LANG, WIDGET_LANG, "lang")
PARK_CHOICE = Choice(PARK, WIDGET_PARK, "park")
TILES_CHOICE = Choice(TILES, WIDGET_TILES, "tiles")
SCENARIO_CHOICE = Choice(SCENARIO, WIDGET_SCENARIO, "scenario")
SIDEBAR_CHOICES = (PARK_CHOICE, LANG_CHOICE, TILES_CHOICE, SCENARIO_CHOICE)
"""The sidebar's choices; they are in the URL of every page (the scenario by its saved id, only
when one is shown: a link to a scenario another park or a deleted one shows the baseline)."""

GAPS_INDICATOR = _page_choice("gaps.indicator", "indicator")
GAPS_CATEGORY = _page_choice("gaps.category", "category")
GAPS_MODE = _page_choice("gaps.mode", "mode")
GAPS_WINDOW = _page_choice("gaps.window", "window")
GAPS_THRESHOLD = _page_choice("gaps.threshold", "minutes")
GAPS_DEMAND = _page_choice("gaps.demand", "demand")
GAPS_ZONE_LEVEL = _page_choice("gaps.zone_level", "zones")
GAPS_WEIGHTS = _page_choice("gaps.weights", "weights")
GAPS_PEOPLE_BASIS = _page_choice("gaps.people_basis", "people")
GAPS_LAYERS = _page_choice("gaps.layers", "layers", multi=True)
MAP_LAYERS = _page_choice("map.layers", "layers", multi=True)
SURVEY_IMPORTANCE = _page_choice("survey.importance", "importance")
SURVEY_COHORT = _page_choice("survey.cohort", "cohort")
SURVEY_GROUP_BY = _page_choice("survey.group_by", "group")
SURVEY_MEASURE = _page_choice("survey.measure", "measure")
ENTERPRISE_ID = _page_choice("enterprise.id", "enterprise")
DATA_KIND = _page_choice("data.kind", "kind")
DATA_CRS = _page_choice("data.crs", "crs")
REPORTS_FORMAT = _page_choice("reports.format", "format")
REPORTS_LANGUAGE = _page_choice("reports.lang", "report_lang")
REPORTS_WINDOW = _page_choice("reports.window", "window")
REPORTS_ENTERPRISE = _page_choice("reports.enterprise", "enterprise")
REPORTS_COMPARE = _page_choice("reports.compare", "compare", multi=True)
SCENARIO_COMPARE = _page_choice("scenario.compare", "compare", multi=True)
SCENARIO_SITING_CATEGORY = _page_choice("scenario.siting.category", "site_category")
SCENARIO_SITING_DEMAND = _page_choice("scenario.siting.demand", "site_demand")
SCENARIO_BUDGET_OBJECTIVE = _page_choice("scenario.budget.objective", "objective")

PAGE_CHOICES: dict[str, tuple[Choice, ...]] = {
    "gaps": (
        GAPS_INDICATOR,
        GAPS_CATEGORY,
        GAPS_MODE,
        GAPS_WINDOW,
        GAPS_THRESHOLD,
        GAPS_DEMAND,
        GAPS_ZONE_LEVEL,
        GAPS_WEIGHTS,
        GAPS_PEOPLE_BASIS,
        GAPS_LAYERS,
    ),
    "map": (MAP_LAYERS,),
    "survey": (SURVEY_IMPORTANCE, SURVEY_COHORT, SURVEY_GROUP_BY, SURVEY_MEASURE),
    "enterprise": (ENTERPRISE_ID,),
    "data": (DATA_KIND, DATA_CRS),
    "reports": (
        REPORTS_FORMAT,
        REPORTS_LANGUAGE,
        REPORTS_WINDOW,
        REPORTS_ENTERPRISE,
        REPORTS_COMPARE,
    ),
    "scenario": (
        SCENARIO_COMPARE,
        SCENARIO_SITING_CATEGORY,
        SCENARIO_SITING_DEMAND,
        SCENARIO_BUDGET_OBJECTIVE,
    ),
}
"""Each page's kept choices by the page's URL path (a test checks that parameters are unique)."""

_VALUE_KWARGS = ("index", "value", "default")


def _url_value(choice: Choice) -> Any:
    """Return the choice's raw URL value (a list of strings for a multi choice), or ``None``."""
    if choice.param not in st.query_params:
        return None
    text = st.query_params.get(choice.param, "")
    if choice.multi:
        return [part for part in text.split(",") if part]
    return text


def _write_url(choice: Choice, value: object, default: object = None) -> None:
    """Put the choice into the URL, or take it out when it is the widget's default (a URL then
    names only what differs, and without the parameter the widget shows that default anyway).
    Writes only changes: each write updates the browser's URL."""
    if value is None:
        return
    if value == default:
        if choice.param in st.query_params:
            del st.query_params[choice.param]
        return
    if choice.multi:
        text = ",".join(str(item) for item in value)  # type: ignore[attr-defined]
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    if st.query_params.get(choice.param) != text:
        st.query_params[choice.param] = text


def _keep(
    choice: Choice,
    valid: Callable[[Any], Any],
    make_widget: Callable[..., T],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    default: object,
) -> T:
    kept_value = valid(st.session_state[choice.key]) if choice.key in st.session_state else None
    if kept_value is None and choice.key not in st.session_state:
        kept_value = valid(_url_value(choice))  # a new session: the URL's choice, if any
    if kept_value is not None:
        st.session_state[choice.key] = kept_value
        st.session_state[choice.widget] = kept_value  # the widget shows (and re-labels) it
        # Streamlit warns about a widget default beside a value set through session state.
        kwargs = {name: v for name, v in kwargs.items() if name not in _VALUE_KWARGS}
    value = make_widget(
        *args,
        key=choice.widget,
        on_change=copy_widget,
        args=(choice.widget, choice.key),
        **kwargs,
    )
    st.session_state[choice.key] = value
    _write_url(choice, value, default)
    return value


def kept(
    make_widget: Callable[..., T],
    choice: Choice,
    label: str,
    options: Sequence[Any],
    **kwargs: Any,
) -> T:
    """Create a selection widget (selectbox, radio, pills, multiselect) whose choice is kept.

    The widget shows the kept choice if it is still one of ``options`` (else its default), and
    its new value is kept under ``choice.key`` and written to the URL. ``options`` must be stable
    codes (``format_func`` translates them), never translated text.

    Parameters
    ----------
    make_widget
        E.g. ``st.selectbox`` or ``columns[0].radio``.
    choice
        The choice (e.g. ``GAPS_MODE``).
    label
        The widget's label.
    options
        The codes to choose from; a kept or URL value outside them is ignored.
    **kwargs
        Other widget arguments (``format_func``, ``help``, ``index``, ...).

    Returns
    -------
    object
        The widget's value.
    """
    by_text = {str(option): option for option in options}

    def valid(value: Any) -> Any:
        if choice.multi:
            if not isinstance(value, list | tuple):
                return None
            chosen = [by_text[str(item)] for item in value if str(item) in by_text]
            return chosen if chosen or not value else None  # [] is a choice: no layer shown
        return by_text.get(str(value)) if value is not None else None

    if choice.multi:
        default: object = list(kwargs.get("default") or [])
    else:
        index = kwargs.get("index", 0)
        default = options[index] if index is not None and len(options) > index else None
    return _keep(choice, valid, make_widget, (label, options), kwargs, default)


def kept_number(
    make_widget: Callable[..., T],
    choice: Choice,
    label: str,
    *,
    min_value: float,
    max_value: float,
    **kwargs: Any,
) -> T:
    """Create a number widget (``number_input``, ``slider``) whose value is kept like :func:`kept`.

    A kept or URL value outside ``[min_value, max_value]`` (or not a number) is ignored.
    """

    def valid(value: Any) -> float | None:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        return number if math.isfinite(number) and min_value <= number <= max_value else None

    kwargs = {"min_value": min_value, "max_value": max_value, **kwargs}
    return _keep(choice, valid, make_widget, (label,), kwargs, kwargs.get("value", min_value))


def show_in_url(choice: Choice, value: object) -> None:
    """Write a choice made outside :func:`kept` (e.g. the sidebar's) into the URL."""
    _write_url(choice, value)
