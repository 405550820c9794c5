"""Gaps: who reaches which daily-life amenities, when, and where the gaps are."""

from __future__ import annotations

import html
import math

import branca.colormap
import folium
import numpy as np
import pandas as pd
import plotly.express as px
import shapely
import streamlit as st
from streamlit_folium import st_folium

from retention.errors import ValidationError
from retention.gaps import GAP_INDEX_METHOD, aggregate_by_group
from retention.i18n import label, t
from retention.indicators import DEMAND_SETS, INDICATORS, IndicatorParameters
from retention.layers import AmenityCategory, LayerKind, ZoneLevel
from retention.maps import display_frame, layers_bounds, new_map, use_local_assets
from retention.origins import ZONE_COLUMNS, h3_cell_polygons
from retention.parameters import DEFAULT_TIME_WINDOWS
from retention.privacy import SUPPRESSED_MARKER, PrivacyParameters
from retention.travel_times import MODES
from ui import cached, cached_access, cached_survey, state
from ui.cached_survey import GAP_WEIGHT_METHODS
from ui.entry import require_app_navigation
from ui.map_view import VENDOR_DIR, asset_base_url, assets_installed
from ui.notices import synthetic_notice

require_app_navigation()

INDICATOR = "gaps.indicator"
CATEGORY = "gaps.category"
MODE = "gaps.mode"
WINDOW = "gaps.window"
THRESHOLD = "gaps.threshold"
DEMAND = "gaps.demand"
ZONE_LEVEL = "gaps.zone_level"
RESIDENCE = "gaps.residence"
WEIGHTS = "gaps.weights"
MAP = "gaps.map"
_PENDING_RESIDENCE = "gaps.pending_residence"  # set by a map click, applied before the widget
_LAST_CLICK = "gaps.last_click"
# Lower is better for these; for the others (counts, supply, compliance) higher is better.
_LOWER_IS_BETTER = frozenset({"nearest", "gap_index"})
_UNREACHABLE_COLOUR = "#9e9e9e"

lang = state.lang()
park = cached.current_park()
st.title(t("gaps.title", lang))
if park is None:
    st.info(t("gaps.no_park", lang))
    st.stop()
synthetic_notice(park)
st.caption(t("gaps.caption", lang))

windows = {window.key: window for window in DEFAULT_TIME_WINDOWS}
categories = [category.value for category in AmenityCategory]

controls = st.columns(4)
indicator = controls[0].selectbox(
    t("gaps.indicator", lang),
    INDICATORS,
    format_func=lambda value: t(f"gaps.indicator.{value}", lang),
    key=INDICATOR,
)
category = controls[1].selectbox(
    t("gaps.category", lang),
    categories,
    format_func=lambda value: label("category", value, lang),
    key=CATEGORY,
    disabled=indicator == "gap_index",
)
mode = controls[2].selectbox(
    t("gaps.mode", lang),
    MODES,
    format_func=lambda value: t(f"gaps.mode.{value}", lang),
    key=MODE,
)
window_key = controls[3].selectbox(
    t("gaps.window", lang),
    list(windows),
    format_func=lambda key: windows[key].label_en if lang == "en" else windows[key].label_zh,
    key=WINDOW,
)
with st.expander(t("gaps.options", lang)):
    options = st.columns(3)
    threshold = options[0].number_input(
        t("gaps.threshold", lang),
        min_value=1.0,
        max_value=60.0,
        value=15.0,
        step=1.0,
        help=t("gaps.threshold_help", lang),
        key=THRESHOLD,
    )
    demand = options[1].selectbox(
        t("gaps.demand", lang),
        list(DEMAND_SETS),
        format_func=lambda value: t(f"gaps.demand.{value}", lang),
        help=t("gaps.demand_help", lang),
        key=DEMAND,
    )
    zone_level = options[2].selectbox(
        t("gaps.zone_level", lang),
        [level.value for level in ZoneLevel],
        index=1,
        format_func=lambda value: label("zone_level", value, lang),
        key=ZONE_LEVEL,
    )

weights_method = st.radio(
    t("gaps.weights", lang),
    GAP_WEIGHT_METHODS,
    format_func=lambda value: t(f"gaps.weights.{value}", lang),
    horizontal=True,
    help=t("gaps.weights_help", lang),
    key=WEIGHTS,
)

parameters = IndicatorParameters(threshold_minutes=float(threshold), demand=demand)
try:
    with st.spinner(t("gaps.computing", lang)):
        result = cached_access.travel_times(park)
        gap_weights = cached_survey.gap_weights(park, weights_method)
        indicators = cached_access.indicators(
            park,
            mode=mode,
            window=window_key,
            parameters=parameters,
            weights=None if gap_weights.weights is None else dict(gap_weights.weights),
        )
except ValidationError as error:
    st.error(t("gaps.error", lang, message=str(error)))
    st.stop()
if weights_method != "equal":
    if gap_weights.origin == "none":
        st.info(t("gaps.weights_no_survey", lang))
    elif gap_weights.error:
        st.warning(t("gaps.weights_error", lang, error=gap_weights.error))
    elif gap_weights.origin == "demo":
        st.warning(t("gaps.weights_synthetic", lang), icon=":material/science:")

if result.approximate:
    st.warning(t("gaps.approximate", lang))
if mode != "walk" and indicator == "living_circle":
    st.info(t("gaps.living_circle_walk_note", lang))

origins = indicators.origins
values = indicators.values(indicator, None if indicator == "gap_index" else category)
unit = t(f"gaps.unit.{indicator}", lang, minutes=f"{threshold:g}")
indicator_name = t(f"gaps.indicator.{indicator}", lang)
subject = (
    indicator_name
    if indicator == "gap_index"
    else f"{indicator_name} · {label('category', category, lang)}"
)


def _format(value: float) -> str:
    if np.isnan(value):
        return "–"
    if np.isinf(value):
        return t("gaps.unreachable", lang)
    if indicator == "living_circle":
        return t("gaps.yes", lang) if value >= 0.5 else t("gaps.no", lang)
    return f"{value:,.3f}" if indicator == "e2sfca" else f"{value:,.1f}"


# --- map -----------------------------------------------------------------------------------
residence_rows = origins.index[origins["origin_set"] == "residence"]
residence_ids = origins.loc[residence_rows, "origin_id"].astype(str).tolist()
residence_names = dict(
    zip(residence_ids, origins.loc[residence_rows, "name"].astype(str), strict=True)
)
if st.session_state.get(_PENDING_RESIDENCE) in residence_ids:
    st.session_state[RESIDENCE] = st.session_state.pop(_PENDING_RESIDENCE)
if residence_ids and st.session_state.get(RESIDENCE) not in residence_ids:
    st.session_state[RESIDENCE] = residence_ids[0]

finite = values[np.isfinite(values)]
low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
if high <= low:
    high = low + 1.0
palette = ["#1a9850", "#fee08b", "#d73027"]
colormap = branca.colormap.LinearColormap(
    palette if indicator in _LOWER_IS_BETTER else palette[::-1], vmin=low, vmax=high
)


def _colour(value: float) -> str:
    return _UNREACHABLE_COLOUR if not np.isfinite(value) else colormap(value)


def _style(colour: str, *, weight: float, opacity: float):
    def style(_feature: object) -> dict[str, object]:
        return {"fillColor": colour, "color": colour, "weight": weight, "fillOpacity": opacity}

    return style


tiles = state.tiles()
bounds = layers_bounds({kind: frame for kind, frame in park.layers.items() if frame is not None})
park_map = new_map(bounds, tiles=tiles, lang=lang)

hexes = origins[origins["origin_set"] == "h3"]
if len(hexes):
    polygons = display_frame(h3_cell_polygons(hexes["h3_cell"].tolist()), tiles=tiles)
    polygons["value"] = values.loc[hexes.index].to_numpy()
    polygons["people"] = hexes["weight"].to_numpy()
    layer = folium.FeatureGroup(name=t("gaps.layer.hexagons", lang))
    for row in polygons.itertuples():
        folium.GeoJson(
            row.geometry.__geo_interface__,
            style_function=_style(_colour(row.value), weight=0.5, opacity=0.45),
            tooltip=html.escape(
                t("gaps.tooltip.hexagon", lang, value=_format(row.value), people=int(row.people))
            ),
        ).add_to(layer)
    layer.add_to(park_map)

point_sets = {
    "residence": t("gaps.layer.residences", lang),
    "enterprise": t("gaps.layer.enterprises", lang),
}
for origin_set, layer_name in point_sets.items():
    rows = origins[origins["origin_set"] == origin_set]
    if rows.empty:
        continue
    located = display_frame(result.origins.loc[rows.index, ["geometry"]], tiles=tiles)
    layer = folium.FeatureGroup(name=layer_name)
    for index, point in zip(rows.index, located.geometry, strict=True):
        value = float(values.loc[index])
        people = float(origins.at[index, "weight"])
        folium.CircleMarker(
            location=(point.y, point.x),
            radius=4 + min(10.0, math.sqrt(people) / 6) if origin_set == "residence" else 3,
            color="#222222" if origin_set == "residence" else _colour(value),
            weight=1,
            fill=True,
            fill_color=_colour(value),
            fill_opacity=0.9,
            tooltip=html.escape(
                t(
                    "gaps.tooltip.point",
                    lang,
                    name=str(origins.at[index, "name"]),
                    value=_format(value),
                    people=int(people),
                )
            ),
        ).add_to(layer)
    layer.add_to(park_map)

amenities = result.amenities
if indicator != "gap_index":
    chosen = amenities[amenities["category"].astype(str) == category]
    if len(chosen):
        # Small polygons: a lon/lat centroid is accurate enough to place a marker.
        located = shapely.centroid(
            display_frame(chosen[["geometry"]], tiles=tiles).geometry.to_numpy()
        )
        layer = folium.FeatureGroup(name=label("category", category, lang))
        for index, point in zip(chosen.index, located, strict=True):
            folium.CircleMarker(
                location=(point.y, point.x),
                radius=6,
                color="#08306b",
                fill=True,
                fill_color="#4292c6",
                fill_opacity=1.0,
                tooltip=html.escape(str(chosen.at[index, "name"])),
            ).add_to(layer)
        layer.add_to(park_map)

selected_residence = st.session_state.get(RESIDENCE)
areas = None
if selected_residence in residence_ids:
    row = origins.index[
        (origins["origin_set"] == "residence") & (origins["origin_id"] == selected_residence)
    ][0]
    point = result.origins.geometry.loc[row]
    iso_mode = "ebike" if mode == "ebike" else "walk"
    areas = cached_access.isochrones(park, float(point.x), float(point.y), mode=iso_mode)
    if areas is not None:
        shown = display_frame(areas[~areas.geometry.is_empty], tiles=tiles)
        layer = folium.FeatureGroup(name=t("gaps.layer.isochrones", lang))
        shades = {15.0: "#6baed6", 10.0: "#3182bd", 5.0: "#08519c"}
        for area in shown.itertuples():
            colour = shades.get(area.minutes, "#3182bd")
            folium.GeoJson(
                area.geometry.__geo_interface__,
                style_function=_style(colour, weight=1, opacity=0.25),
                tooltip=html.escape(t("gaps.tooltip.isochrone", lang, minutes=f"{area.minutes:g}")),
            ).add_to(layer)
        layer.add_to(park_map)
folium.LayerControl(collapsed=True).add_to(park_map)

st.subheader(subject)
legend = (
    f'<div style="display:flex;align-items:center;gap:0.5em;font-size:0.9em">'
    f"<span>{html.escape(unit)}:</span>"
    f"<span>{html.escape(_format(colormap.vmin))}</span>"
    f'<span style="display:inline-block;width:160px;height:12px;background:linear-gradient('
    f'to right,{",".join(colormap(low + (high - low) * s) for s in (0, 0.5, 1))})"></span>'
    f"<span>{html.escape(_format(colormap.vmax))}</span>"
    f'<span style="display:inline-block;width:12px;height:12px;background:{_UNREACHABLE_COLOUR}">'
    f"</span><span>{html.escape(t('gaps.unreachable', lang))}</span></div>"
)
st.markdown(legend, unsafe_allow_html=True)
st.caption(t("gaps.map_caption", lang))
if not assets_installed():
    st.error(t("common.assets_missing", lang, path=str(VENDOR_DIR)))
else:
    use_local_assets(park_map, asset_base_url=asset_base_url())
    clicked = st_folium(
        park_map,
        key=MAP,
        height=560,
        use_container_width=True,
        returned_objects=["last_object_clicked"],
    )
    click = (clicked or {}).get("last_object_clicked")
    if click and click != st.session_state.get(_LAST_CLICK) and len(residence_rows):
        st.session_state[_LAST_CLICK] = click
        # Clicks come back in display coordinates (GCJ-02 under Amap tiles).
        located = display_frame(
            result.origins.loc[residence_rows, ["geometry"]], tiles=tiles
        ).geometry
        distance = np.hypot(located.x - click["lng"], located.y - click["lat"])
        nearest_id = str(origins.at[distance.idxmin(), "origin_id"])
        if nearest_id != selected_residence:
            st.session_state[_PENDING_RESIDENCE] = nearest_id
            st.rerun()

# --- rankings ------------------------------------------------------------------------------
st.subheader(t("gaps.worst_title", lang))
st.caption(t("gaps.worst_caption", lang))
ascending = indicator not in _LOWER_IS_BETTER
ranked = st.columns(3)
for column, origin_set in zip(ranked[:2], ("residence", "enterprise"), strict=True):
    rows = origins[origins["origin_set"] == origin_set]
    table = pd.DataFrame(
        {
            t("gaps.column.name", lang): rows["name"].astype(str),
            t("gaps.column.people", lang): rows["weight"].astype(int),
            unit: values.loc[rows.index].map(_format),
            "_sort": values.loc[rows.index].replace(np.inf, 1e12),
        }
    ).sort_values("_sort", ascending=ascending)
    column.markdown(f"**{t(f'gaps.worst.{origin_set}', lang)}**")
    column.dataframe(table.drop(columns="_sort").head(10), hide_index=True)

people_rows = origins[origins["origin_set"].isin(["residence", "enterprise"])]
capped = values.loc[people_rows.index].astype(float)
if indicator == "nearest":
    # Unreachable counts as the engine's largest travel time, so zone means stay finite.
    capped = capped.clip(upper=result.params.max_minutes)
zone_column = ZONE_COLUMNS[ZoneLevel(zone_level)]
zones = aggregate_by_group(
    pd.DataFrame({"value": capped.to_numpy()}),
    people_rows["weight"].to_numpy(),
    people_rows[zone_column].to_numpy(),
    group_name="zone",
)
zone_names = {}
zones_layer = park.layers.get(LayerKind.ZONES)
if zones_layer is not None and not zones_layer.empty:
    zone_names = dict(
        zip(zones_layer["id"].astype(str), zones_layer["name"].astype(str), strict=True)
    )
zone_table = pd.DataFrame(
    {
        t("gaps.column.zone", lang): [
            zone_names.get(str(zone), t("gaps.no_zone", lang))
            if isinstance(zone, str)
            else t("gaps.no_zone", lang)
            for zone in zones.index
        ],
        t("gaps.column.people", lang): zones["people"].astype(int).to_numpy(),
        unit: [
            _format(value) if indicator != "living_circle" else f"{value:.0%}"
            for value in zones["value"]
        ],
        "_sort": zones["value"].fillna(-1 if ascending else 1e12).to_numpy(),
    }
).sort_values("_sort", ascending=ascending)
ranked[2].markdown(f"**{t('gaps.worst.zone', lang, level=label('zone_level', zone_level, lang))}**")
ranked[2].dataframe(zone_table.drop(columns="_sort").head(10), hide_index=True)
if indicator == "nearest":
    st.caption(t("gaps.zone_cap_note", lang, minutes=f"{result.params.max_minutes:g}"))

# --- distribution weighted by people ------------------------------------------------------
st.subheader(t("gaps.histogram_title", lang))
finite_rows = capped[np.isfinite(capped)]
unreachable_people = int(people_rows.loc[~np.isfinite(capped), "weight"].sum())
figure = px.histogram(
    x=finite_rows.to_numpy(),
    y=people_rows.loc[finite_rows.index, "weight"].to_numpy(),
    histfunc="sum",
    nbins=30,
    labels={"x": unit, "y": t("gaps.column.people", lang)},
)
figure.update_layout(yaxis_title=t("gaps.column.people", lang), xaxis_title=unit, height=320)
st.plotly_chart(figure, key="gaps.histogram")
st.caption(t("gaps.histogram_caption", lang, people=f"{unreachable_people:,}"))

# --- living-circle compliance ------------------------------------------------------------
st.subheader(t("gaps.compliance_title", lang))
compliance = indicators.compliance
st.dataframe(
    pd.DataFrame(
        {
            t("gaps.column.category", lang): [label("category", c, lang) for c in compliance.index],
            t("gaps.column.tier", lang): [
                t(f"gaps.tier.{tier}", lang) for tier in compliance["tier"]
            ],
            t("gaps.column.share", lang): [
                "–" if np.isnan(share) else f"{share:.0%}" for share in compliance["share"]
            ],
            t("gaps.column.people_within", lang): compliance["people_within"].astype(int),
            t("gaps.column.clause", lang): [
                clause + (" ✱" if verify else "")
                for clause, verify in zip(compliance["clause"], compliance["verify"], strict=True)
            ],
        }
    ),
    hide_index=True,
    key="gaps.compliance",
)
st.caption(t("gaps.compliance_caption", lang))

# --- gap index method ------------------------------------------------------------------------
with st.expander(t("gaps.method_title", lang)):
    st.write(GAP_INDEX_METHOD[lang])
    st.markdown(f"**{t('gaps.weights_table', lang)}**")
    k = PrivacyParameters().min_group_size
    if gap_weights.weights is None:
        weight_rows = pd.DataFrame(
            {
                "category": categories,
                "weight": [f"{1 / len(categories):.3f}"] * len(categories),
                "n": ["–"] * len(categories),
                "source": [t("gaps.weights.source.equal", lang)] * len(categories),
            }
        )
    else:
        survey_name = t(
            f"gaps.weights.survey.{gap_weights.origin}", lang, n=f"{gap_weights.respondents:,}"
        )
        source_text = t(f"gaps.weights.source.{weights_method}", lang, survey=survey_name)
        shown = gap_weights.table
        hidden = shown["suppressed"].to_numpy(dtype=bool)
        weight_rows = pd.DataFrame(
            {
                "category": shown["category"].astype(str),
                "weight": np.where(
                    hidden, SUPPRESSED_MARKER, [f"{w:.3f}" for w in shown["weight"].fillna(0.0)]
                ),
                "n": np.where(
                    hidden, SUPPRESSED_MARKER, [f"{n:,.0f}" for n in shown["n"].fillna(0)]
                ),
                "source": np.where(hidden, t("gaps.weights.hidden", lang, k=k), source_text),
            }
        )
    weight_rows["category"] = [label("category", c, lang) for c in weight_rows["category"]]
    st.dataframe(
        weight_rows.rename(columns={c: t(f"gaps.weights.col.{c}", lang) for c in weight_rows}),
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
    if selected_residence in residence_ids:
        if areas is None:
            st.info(t("gaps.no_roads", lang))
        elif mode == "transit":
            st.caption(t("gaps.isochrone_walk_note", lang))
        row = origins.index[
            (origins["origin_set"] == "residence") & (origins["origin_id"] == selected_residence)
        ][0]
        minutes = np.where(
            result.available_mask(window_key)[row],
            result.minutes_for(mode, window_key)[row],
            np.inf,
        )
        reached = amenities.assign(minutes=minutes)[minutes <= 15.0].sort_values("minutes")
        st.dataframe(
            pd.DataFrame(
                {
                    t("gaps.column.name", lang): reached["name"].astype(str),
                    t("gaps.column.category", lang): [
                        label("category", str(c), lang) for c in reached["category"]
                    ],
                    t("gaps.column.minutes", lang): reached["minutes"].round(1),
                }
            ),
            hide_index=True,
            key="gaps.reached",
        )
        st.caption(t("gaps.reached_caption", lang, count=len(reached)))
        contributions = indicators.gap.loc[row].drop("gap_index")
        st.metric(t("gaps.indicator.gap_index", lang), f"{indicators.gap.at[row, 'gap_index']:.1f}")
        st.bar_chart(
            pd.Series(
                contributions.to_numpy(),
                index=[label("category", str(c), lang) for c in contributions.index],
                name=t("gaps.contribution", lang),
            ),
            horizontal=True,
        )
