"""Gaps: who reaches which daily-life amenities, when, and where the gaps are."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import plotly.express as px
import streamlit as st

from retention.access.gaps import GAP_INDEX_METHOD
from retention.access.indicators import DEMAND_SETS, INDICATORS
from retention.access.travel_times import MODES
from retention.data.layers import AmenityCategory, LayerKind, ZoneLevel
from retention.errors import ValidationError
from retention.escaping import markdown_text
from retention.i18n import label, t
from retention.report.gap_map import (
    GAP_MAP_LAYERS,
    build_gap_map,
    gap_layer_label,
    nearest_origin_id,
)
from retention.report.gap_tables import (
    PEOPLE_SETS,
    compliance_table,
    distribution,
    feature_names,
    gap_contributions,
    origin_row,
    reached_amenities,
    weights_table,
    worst_served,
    zone_ranking,
)
from retention.report.maps import layers_bounds
from ui import auth, cached_access, cached_scenario, cached_survey, state
from ui.cached_parameters import current_parameters
from ui.cached_survey import GAP_WEIGHT_METHODS
from ui.entry import page_park, require_app_navigation
from ui.map_view import asset_base_url, show_map
from ui.storage_notices import survey_damage_notice
from ui.tables import count_columns

require_app_navigation()

RESIDENCE = "gaps.residence"
_PEOPLE_COLUMN = {"residence": "gaps.column.residents", "enterprise": "gaps.column.workers"}
MAP = "gaps.map"
_PENDING_RESIDENCE = "gaps.pending_residence"  # set by a map click, applied before the widget
_LAST_CLICK = "gaps.last_click"

lang = state.lang()
park = page_park("gaps")
survey_damage_notice(park.park_id)
park = cached_scenario.shown_park(park)  # the sidebar's scenario, if one is chosen
st.caption(t("gaps.caption", lang))

# The park's saved parameters (Assumptions page): windows, decay, targets, living circles, k.
park_parameters = current_parameters(park)
windows = {window.key: window for window in park_parameters.time_windows}
categories = [category.value for category in AmenityCategory]

# Every choice is kept (ui.state): across pages, language switches and reloads (URL).
controls = st.columns(4)


def _choice(
    column: int,
    choice: state.Choice,
    options: Sequence[str],
    shown: Callable[[str], str],
    **kw: Any,
) -> Any:
    """A kept selectbox in ``controls[column]``, labelled by its widget key (``gaps.mode``)."""
    select = controls[column].selectbox
    return state.kept(select, choice, t(choice.widget, lang), options, format_func=shown, **kw)


indicator = _choice(0, state.GAPS_INDICATOR, INDICATORS, lambda v: t(f"gaps.indicator.{v}", lang))
category = _choice(
    1,
    state.GAPS_CATEGORY,
    categories,
    lambda v: label("category", v, lang),
    disabled=indicator == "gap_index",
)
mode = _choice(2, state.GAPS_MODE, MODES, lambda v: t(f"gaps.mode.{v}", lang))
window_key = _choice(
    3,
    state.GAPS_WINDOW,
    list(windows),
    lambda key: windows[key].label_en if lang == "en" else windows[key].label_zh,
)
with st.expander(t("gaps.options", lang)):
    options = st.columns(3)
    threshold = state.kept_number(
        options[0].number_input,
        state.GAPS_THRESHOLD,
        t("gaps.threshold", lang),
        min_value=1.0,
        max_value=60.0,
        value=15.0,
        step=1.0,
        help=t("gaps.threshold_help", lang),
    )
    demand = state.kept(
        options[1].selectbox,
        state.GAPS_DEMAND,
        t("gaps.demand", lang),
        list(DEMAND_SETS),
        format_func=lambda value: t(f"gaps.demand.{value}", lang),
        help=t("gaps.demand_help", lang),
    )
    zone_level = state.kept(
        options[2].selectbox,
        state.GAPS_ZONE_LEVEL,
        t("gaps.zone_level", lang),
        [level.value for level in ZoneLevel],
        index=1,
        format_func=lambda value: label("zone_level", value, lang),
    )

weights_method = state.kept(
    st.radio,
    state.GAPS_WEIGHTS,
    t("gaps.weights", lang),
    GAP_WEIGHT_METHODS,
    format_func=lambda value: t(f"gaps.weights.{value}", lang),
    horizontal=True,
    help=t("gaps.weights_help", lang),
)

try:
    with st.spinner(t("gaps.computing", lang)):
        result = cached_access.travel_times(park)
        gap_weights = cached_survey.gap_weights(park, weights_method)
        indicators = cached_access.indicators(
            park,
            mode=mode,
            window=window_key,
            threshold_minutes=float(threshold),
            demand=demand,
            weights=None if gap_weights.weights is None else dict(gap_weights.weights),
        )
except ValidationError as error:
    st.error(t("gaps.error", lang, message=markdown_text(error)))
    st.stop()
if weights_method != "equal":
    if gap_weights.origin == "none":
        st.info(t("gaps.weights_no_survey", lang))
    elif gap_weights.error:
        st.warning(t("gaps.weights_error", lang, error=markdown_text(gap_weights.error)))
    elif gap_weights.origin == "demo":
        st.warning(t("gaps.weights_synthetic", lang), icon=":material/science:")

if result.approximate:
    st.warning(t("gaps.approximate", lang))
if mode != "walk" and indicator == "living_circle":
    st.info(t("gaps.living_circle_walk_note", lang))

origins = result.origins  # indicators.origins without geometry: same rows
values = indicators.values(indicator, None if indicator == "gap_index" else category)
unit = t(f"gaps.unit.{indicator}", lang, minutes=f"{threshold:g}")
indicator_name = t(f"gaps.indicator.{indicator}", lang)
subject = (
    indicator_name
    if indicator == "gap_index"
    else f"{indicator_name} · {label('category', category, lang)}"
)

# --- map -----------------------------------------------------------------------------------
residences = origins[origins["origin_set"] == "residence"]
residence_ids = residences["origin_id"].astype(str).tolist()
residence_names = dict(zip(residence_ids, residences["name"].astype(str), strict=True))
if st.session_state.get(_PENDING_RESIDENCE) in residence_ids:
    st.session_state[RESIDENCE] = st.session_state.pop(_PENDING_RESIDENCE)
if residence_ids and st.session_state.get(RESIDENCE) not in residence_ids:
    st.session_state[RESIDENCE] = residence_ids[0]

selected_residence = st.session_state.get(RESIDENCE)
selected_row = None
areas = None
if selected_residence in residence_ids:
    selected_row = origin_row(origins, "residence", selected_residence)
    point = origins.geometry.loc[selected_row]
    iso_mode = "ebike" if mode == "ebike" else "walk"
    areas = cached_access.isochrones(park, float(point.x), float(point.y), mode=iso_mode)

amenities = result.amenities
tiles = state.tiles()
amenity_name = label("category", category, lang)
# The map's layers are chosen here (kept across reruns and pages), not inside the map.
shown_layers = state.kept(
    st.pills,
    state.GAPS_LAYERS,
    t("mapview.layers", lang),
    list(GAP_MAP_LAYERS),
    selection_mode="multi",
    default=list(GAP_MAP_LAYERS),
    format_func=lambda code: gap_layer_label(code, lang, amenity_name=amenity_name),
    help=t("mapview.layers_help", lang),
)
park_map = build_gap_map(
    origins,
    values,
    indicator=indicator,
    title=subject,
    unit=unit,
    lang=lang,
    bounds=layers_bounds({kind: frame for kind, frame in park.layers.items() if frame is not None}),
    tiles=tiles,
    asset_base_url=asset_base_url(),
    amenities=None
    if indicator == "gap_index"
    else amenities[amenities["category"].astype(str) == category],
    amenity_name=amenity_name,
    isochrones=areas,
    synthetic=park.synthetic,
    hidden_layers=[code for code in GAP_MAP_LAYERS if code not in shown_layers],
    user_scope=state.scope().canonical(),
)

st.subheader(subject)
st.caption(t("gaps.unit_caption", lang, unit=unit) + " " + t("gaps.map_caption", lang))
clicked = show_map(park_map, key=MAP, height=560, returned_objects=("last_object_clicked",))
click = clicked.get("last_object_clicked")
if click and click != st.session_state.get(_LAST_CLICK):
    st.session_state[_LAST_CLICK] = click
    # Clicks come back in display coordinates (GCJ-02 under Amap tiles).
    nearest_id = nearest_origin_id(
        origins, float(click["lng"]), float(click["lat"]), origin_set="residence", tiles=tiles
    )
    if nearest_id is not None and nearest_id != selected_residence:
        st.session_state[_PENDING_RESIDENCE] = nearest_id
        st.rerun()

# --- rankings ------------------------------------------------------------------------------
st.subheader(t("gaps.worst_title", lang))
st.caption(t("gaps.worst_caption", lang))
# Residents and workers are largely the same people: people-weighted figures use one set.
people_basis = state.kept(
    st.radio,
    state.GAPS_PEOPLE_BASIS,
    t("gaps.people_basis", lang),
    PEOPLE_SETS,
    format_func=lambda origin_set: t(f"gaps.people_basis.{origin_set}", lang),
    horizontal=True,
    help=t("gaps.people_basis_help", lang),
)
basis = t(f"gaps.basis.{people_basis}", lang)
ranked = st.columns(3)
for column, origin_set in zip(ranked[:2], ("residence", "enterprise"), strict=True):
    column.markdown(f"**{t(f'gaps.worst.{origin_set}', lang)}**")
    worst = worst_served(
        origins,
        values,
        origin_set=origin_set,
        indicator=indicator,
        unit=unit,
        lang=lang,
        user_scope=state.scope().canonical(),
        min_group_size=park_parameters.privacy.min_group_size,
    )
    column.dataframe(worst, hide_index=True, column_config=count_columns(worst))
zone_level_name = label("zone_level", zone_level, lang)
ranked[2].markdown(f"**{t('gaps.worst.zone', lang, level=zone_level_name, basis=basis)}**")
zones_ranked = zone_ranking(
    origins,
    values,
    indicator=indicator,
    zone_level=zone_level,
    zones=park.layers.get(LayerKind.ZONES),
    unit=unit,
    lang=lang,
    max_minutes=result.params.max_minutes,
    origin_set=people_basis,
)
ranked[2].dataframe(zones_ranked, hide_index=True, column_config=count_columns(zones_ranked))
if indicator == "nearest":
    st.caption(t("gaps.zone_cap_note", lang, minutes=f"{result.params.max_minutes:g}"))

# --- what next: candidate amenities for the worst-served places ---------------------------
st.subheader(t("gaps_next.title", lang))
NEXT_WORST = 10
steps = cached_scenario.next_steps(
    indicators,
    origin_set=people_basis,
    worst=NEXT_WORST,
    user_scope=state.scope().canonical(),
)
st.caption(t(f"gaps_next.caption.{people_basis}", lang, worst=NEXT_WORST))
place_layer = LayerKind.RESIDENCES if people_basis == "residence" else LayerKind.ENTERPRISES
place_names = feature_names(park.layers.get(place_layer), lang)
may_try = auth.may_open(state.scope(), "scenario")
if not steps:
    st.info(t("gaps_next.none", lang))
elif not may_try:
    st.caption(t("gaps_next.no_lab", lang))
for rank, step in enumerate(steps, start=1):
    text_column, button_column = st.columns([5, 2], vertical_alignment="center")
    text_column.markdown(
        t(
            f"gaps_next.item.{people_basis}",
            lang,
            rank=rank,
            category=label("category", step.category, lang),
            place=markdown_text(place_names.get(step.near_id, step.near_id)),
            people=f"{step.people:,.0f}",
            places=step.places,
            worst=step.worst,
        )
    )
    if may_try and button_column.button(
        t("gaps_next.open", lang), key=f"gaps.next.{rank}", help=t("gaps_next.open_help", lang)
    ):
        state.set_scenario_prefill(category=step.category, near=step.near_id)
        st.switch_page("pages/scenario.py")

# --- distribution weighted by people ------------------------------------------------------
st.subheader(t("gaps.histogram_title", lang, basis=basis))
reachable, unreachable_people = distribution(origins, values, origin_set=people_basis)
people_axis = t(_PEOPLE_COLUMN[people_basis], lang)
figure = px.histogram(
    x=reachable["value"].to_numpy(),
    y=reachable["people"].to_numpy(),
    histfunc="sum",
    nbins=30,
    labels={"x": unit, "y": people_axis},
)
figure.update_layout(yaxis_title=people_axis, xaxis_title=unit, height=320)
st.plotly_chart(figure, key="gaps.histogram")
st.caption(t(f"gaps.histogram_caption.{people_basis}", lang, people=f"{unreachable_people:,}"))

# --- living-circle compliance ------------------------------------------------------------
st.subheader(t("gaps.compliance_title", lang))
compliance = compliance_table(indicators.compliance, lang=lang)
st.dataframe(
    compliance, hide_index=True, column_config=count_columns(compliance), key="gaps.compliance"
)
st.caption(t("gaps.compliance_caption", lang))

# --- gap index method ------------------------------------------------------------------------
with st.expander(t("gaps.method_title", lang)):
    st.write(GAP_INDEX_METHOD[lang])
    st.markdown(f"**{t('gaps.weights_table', lang)}**")
    st.dataframe(
        weights_table(
            None if gap_weights.weights is None else gap_weights.table,
            categories=categories,
            method=weights_method,
            origin=gap_weights.origin,
            respondents=gap_weights.respondents,
            min_group_size=park_parameters.privacy.min_group_size,
            lang=lang,
        ),
        hide_index=True,
        key="gaps.weights_table",
    )

# --- one residence: isochrones and amenities reached -------------------------------------
st.subheader(t("gaps.residence_title", lang))
if not residence_ids:
    st.info(t("gaps.no_residences", lang))
else:
    st.selectbox(
        t("gaps.residence", lang),
        residence_ids,
        format_func=lambda rid: residence_names.get(rid, rid),
        help=t("gaps.residence_help", lang),
        key=RESIDENCE,
    )
    if selected_row is not None:
        if areas is None:
            st.info(t("gaps.no_roads", lang))
        elif mode == "transit":
            st.caption(t("gaps.isochrone_walk_note", lang))
        reached = reached_amenities(
            amenities, result.masked_minutes(mode, window_key)[selected_row], lang=lang
        )
        st.dataframe(reached, hide_index=True, key="gaps.reached")
        st.caption(t("gaps.reached_caption", lang, count=len(reached)))
        st.metric(
            t("gaps.indicator.gap_index", lang),
            f"{indicators.gap.at[selected_row, 'gap_index']:.1f}",
        )
        st.bar_chart(gap_contributions(indicators.gap, selected_row, lang=lang), horizontal=True)
