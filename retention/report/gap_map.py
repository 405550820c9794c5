"""The Gaps page's map: an indicator as an H3 choropleth with people-sized points and isochrones.

Colours come from a small linear scale over a fixed palette and the legend is plain HTML inside
the map (``retention.report.maps.add_legend``): branca colour maps are avoided because
streamlit-folium links d3 from a CDN for them, which fails offline. Like every map of
``retention.report.maps``, nothing here needs the internet except the background tiles.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import folium
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from retention.access.origins import h3_cell_polygons
from retention.auth.roles import scope_enterprise_ids
from retention.errors import ParameterError
from retention.escaping import html_lines, html_text
from retention.i18n import t
from retention.report.gap_tables import LOWER_IS_BETTER, format_value
from retention.report.maps import (
    DEFAULT_ASSET_BASE_URL,
    TileSource,
    add_legend,
    display_frame,
    new_map,
    use_local_assets,
)

GOOD_TO_BAD: tuple[str, ...] = ("#1a9850", "#fee08b", "#d73027")
"""Green (well served) → yellow → red (gap): the ends and middle of ColorBrewer's RdYlGn."""

UNREACHABLE_COLOUR = "#9e9e9e"
"""Grey for origins that reach no amenity of the category (or have no value)."""

ISOCHRONE_COLOURS: Mapping[float, str] = MappingProxyType(
    {5.0: "#08519c", 10.0: "#3182bd", 15.0: "#6baed6"}
)
"""Blue shades of the 5/10/15-minute areas, darkest nearest."""

AMENITY_COLOUR = "#4292c6"
_AMENITY_OUTLINE = "#08306b"
_RESIDENCE_OUTLINE = "#222222"
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class ColourScale:
    """A linear colour scale: evenly spaced colour stops from ``low`` to ``high``.

    Parameters
    ----------
    low, high
        Values at the first and the last stop (``low < high``); values outside are clipped.
    colours
        ``#rrggbb`` stops, at least two, for ``low`` first.
    unreachable
        Colour of values that are not finite.
    """

    low: float
    high: float
    colours: tuple[str, ...]
    unreachable: str = UNREACHABLE_COLOUR

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ParameterError(
                f"needs finite low < high, got {self.low!r} and {self.high!r}", column="low"
            )
        if len(self.colours) < 2:
            raise ParameterError(
                f"needs at least two colours, got {len(self.colours)}", column="colours"
            )
        for colour in (*self.colours, self.unreachable):
            if not _HEX_COLOUR.fullmatch(colour):
                raise ParameterError(f"must be a #rrggbb colour, got {colour!r}", column="colours")

    def colour(self, value: float) -> str:
        """Return the ``#rrggbb`` colour of ``value`` (``unreachable`` when not finite)."""
        number = float(value)
        if not math.isfinite(number):
            return self.unreachable
        position = (min(max(number, self.low), self.high) - self.low) / (self.high - self.low)
        scaled = position * (len(self.colours) - 1)
        stop = min(int(scaled), len(self.colours) - 2)
        fraction = scaled - stop
        start, end = _rgb(self.colours[stop]), _rgb(self.colours[stop + 1])
        mixed = (round(a + (b - a) * fraction) for a, b in zip(start, end, strict=True))
        return "#" + "".join(f"{channel:02x}" for channel in mixed)

    def gradient_css(self) -> str:
        """Return a CSS ``linear-gradient`` showing the scale from left (low) to right (high)."""
        return f"linear-gradient(to right, {', '.join(self.colours)})"


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def colour_scale(
    values: npt.ArrayLike,
    *,
    lower_is_better: bool,
    palette: tuple[str, ...] = GOOD_TO_BAD,
) -> ColourScale:
    """Return the scale spanning the finite values, coloured from good to bad.

    Assumes ``palette`` runs from the best colour to the worst. Without finite values the scale
    spans 0–1; when every finite value is equal it spans that value to one more, so the scale
    stays valid and the values take its first colour.

    Parameters
    ----------
    values
        Indicator values (``inf`` and NaN are ignored).
    lower_is_better
        Whether small values are good (minutes, gap index) or bad (counts, supply, compliance).
    palette
        ``#rrggbb`` colours, best first.

    Returns
    -------
    ColourScale
    """
    numbers = np.asarray(values, dtype=float)
    finite = numbers[np.isfinite(numbers)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if high <= low:
        high = low + 1.0
    colours = tuple(palette) if lower_is_better else tuple(reversed(palette))
    return ColourScale(low=low, high=high, colours=colours)


def gap_legend_html(
    scale: ColourScale,
    *,
    indicator: str,
    title: str,
    unit: str,
    lang: str,
    amenity_name: str = "",
    isochrones: bool = False,
    synthetic: bool = False,
) -> str:
    """Return the legend's HTML: the colour scale with its unit and range, and the other symbols.

    Parameters
    ----------
    scale
        The scale the map is coloured with.
    indicator
        The indicator shown (formats the range ends).
    title
        What the map shows, e.g. "Minutes to nearest · Clinic".
    unit
        The values' unit, e.g. "minutes".
    lang
        ``"en"`` or ``"zh"``.
    amenity_name
        Name of the amenity points shown, if any.
    isochrones
        Whether 5/10/15-minute areas are shown.
    synthetic
        Whether to state that the data is synthetic demo data.

    Returns
    -------
    str
        HTML fragment (escaped text, inline styles only).
    """
    esc = html_text
    swatch = (
        '<span class="pl-swatch" style="background:{colour};border:1px solid {outline}"></span>'
    )
    parts = [f"<h4>{esc(title)}</h4>"]
    if synthetic:
        parts.append(f'<div class="pl-note">{esc(t("map.legend.synthetic", lang))}</div>')
    parts.append(f'<div class="pl-unit">{esc(unit)}</div>')
    parts.append(
        '<div class="pl-scale" style="display:flex;align-items:center;gap:6px">'
        f"<span>{esc(format_value(scale.low, indicator, lang=lang))}</span>"
        '<span class="pl-gradient" style="display:inline-block;width:120px;height:10px;'
        f'background:{scale.gradient_css()}"></span>'
        f"<span>{esc(format_value(scale.high, indicator, lang=lang))}</span></div>"
    )
    parts.append(
        "<div>"
        + swatch.format(colour=scale.unreachable, outline=scale.unreachable)
        + f"{esc(t('gaps.unreachable', lang))}</div>"
    )
    parts.append(
        "<div>"
        + swatch.format(colour="#ffffff", outline=_RESIDENCE_OUTLINE)
        + f"{esc(t('gaps.legend.residence_size', lang))}</div>"
    )
    if amenity_name:
        parts.append(
            "<div>"
            + swatch.format(colour=AMENITY_COLOUR, outline=_AMENITY_OUTLINE)
            + f"{esc(amenity_name)}</div>"
        )
    if isochrones:
        for minutes, colour in sorted(ISOCHRONE_COLOURS.items()):
            parts.append(
                '<div><span class="pl-swatch" style="border-radius:2px;'
                f'background:{colour};opacity:0.6"></span>'
                f"{esc(t('gaps.tooltip.isochrone', lang, minutes=f'{minutes:g}'))}</div>"
            )
    return "".join(parts)


def _check_aligned(origins: pd.DataFrame, values: pd.Series) -> None:
    if not values.index.equals(origins.index):
        raise ParameterError(
            f"needs one value per origin with the origins' index ({len(origins)} rows), "
            f"got {len(values)} values",
            column="values",
        )


def _tip(*parts: object) -> str:
    return html_lines(*parts, separator=" · ")


GAP_MAP_LAYERS: tuple[str, ...] = (
    "hexagons",
    "isochrones",
    "residences",
    "enterprises",
    "amenities",
)
"""Codes of the Gaps map's layers (``build_gap_map(hidden_layers=...)``), same in every language."""


def gap_layer_label(code: str, lang: str, *, amenity_name: str = "") -> str:
    """Return the name of the Gaps map layer ``code`` in ``lang`` (amenities: their category)."""
    if code == "amenities":
        return amenity_name or t("mapview.gap_amenities", lang)
    if code not in GAP_MAP_LAYERS:
        raise ParameterError(f"unknown Gaps map layer {code!r}; expected one of {GAP_MAP_LAYERS}")
    return t(f"gaps.layer.{code}", lang)


def _add_filled_polygons(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    *,
    name: str,
    line_weight: float,
    fill_opacity: float,
    show: bool = True,
) -> None:
    """Add one layer of polygons coloured by their ``fill`` column, tooltip ``tip``."""
    group = folium.FeatureGroup(name=name, show=show)
    folium.GeoJson(
        frame[["fill", "tip", "geometry"]],
        style_function=lambda feature: {
            "fillColor": feature["properties"]["fill"],
            "color": feature["properties"]["fill"],
            "weight": line_weight,
            "fillOpacity": fill_opacity,
        },
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    ).add_to(group)
    group.add_to(m)


def _add_hexagons(
    m: folium.Map,
    cells: pd.DataFrame,
    values: pd.Series,
    scale: ColourScale,
    *,
    indicator: str,
    tiles: TileSource,
    lang: str,
    show: bool = True,
) -> None:
    polygons = display_frame(h3_cell_polygons(cells["h3_cell"].astype(str).tolist()), tiles=tiles)
    cell_values = values.loc[cells.index].to_numpy(dtype=float)
    polygons["fill"] = [scale.colour(value) for value in cell_values]
    polygons["tip"] = [
        html_text(
            t(
                "gaps.tooltip.hexagon",
                lang,
                value=format_value(value, indicator, lang=lang),
                people=int(people),
            )
        )
        for value, people in zip(cell_values, cells["weight"], strict=True)
    ]
    _add_filled_polygons(
        m,
        polygons,
        name=t("gaps.layer.hexagons", lang),
        line_weight=0.5,
        fill_opacity=0.45,
        show=show,
    )


def _add_origin_points(
    m: folium.Map,
    points: gpd.GeoDataFrame,
    values: pd.Series,
    scale: ColourScale,
    *,
    residences: bool,
    name: str,
    indicator: str,
    tiles: TileSource,
    lang: str,
    show: bool = True,
) -> None:
    frame = display_frame(points[["geometry"]], tiles=tiles)
    point_values = values.loc[points.index].to_numpy(dtype=float)
    people = points["weight"].to_numpy(dtype=float)
    frame["fill"] = [scale.colour(value) for value in point_values]
    # Residence circles grow with their residents (capped), so big dormitories stand out.
    frame["radius"] = (
        4.0 + np.minimum(10.0, np.sqrt(np.maximum(people, 0.0)) / 6.0) if residences else 3.0
    )
    frame["stroke"] = _RESIDENCE_OUTLINE if residences else frame["fill"]
    frame["tip"] = [
        html_text(
            t(
                "gaps.tooltip.point",
                lang,
                name=str(origin_name),
                value=format_value(value, indicator, lang=lang),
                people=int(count),
            )
        )
        for origin_name, value, count in zip(points["name"], point_values, people, strict=True)
    ]
    group = folium.FeatureGroup(name=name, show=show)
    folium.GeoJson(
        frame[["fill", "radius", "stroke", "tip", "geometry"]],
        marker=folium.CircleMarker(),
        style_function=lambda feature: {
            "radius": feature["properties"]["radius"],
            "color": feature["properties"]["stroke"],
            "weight": 1,
            "fill": True,
            "fillColor": feature["properties"]["fill"],
            "fillOpacity": 0.9,
        },
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    ).add_to(group)
    group.add_to(m)


def _add_amenities(
    m: folium.Map, amenities: gpd.GeoDataFrame, *, name: str, tiles: TileSource, show: bool = True
) -> None:
    frame = display_frame(amenities[["geometry"]], tiles=tiles)
    # Amenity polygons are small: a point inside each is accurate enough for a marker.
    frame["geometry"] = frame.geometry.representative_point()
    frame["tip"] = [html_text(str(value)) for value in amenities["name"]]
    group = folium.FeatureGroup(name=name, show=show)
    folium.GeoJson(
        frame[["tip", "geometry"]],
        marker=folium.CircleMarker(),
        style_function=lambda _feature: {
            "radius": 6,
            "color": _AMENITY_OUTLINE,
            "weight": 2,
            "fill": True,
            "fillColor": AMENITY_COLOUR,
            "fillOpacity": 1.0,
        },
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    ).add_to(group)
    group.add_to(m)


def _add_isochrones(
    m: folium.Map, areas: gpd.GeoDataFrame, *, tiles: TileSource, lang: str, show: bool = True
) -> None:
    shown = areas[~areas.geometry.is_empty]
    if shown.empty:
        return
    frame = display_frame(shown[["minutes", "geometry"]], tiles=tiles)
    fallback = ISOCHRONE_COLOURS[10.0]
    frame["fill"] = [ISOCHRONE_COLOURS.get(float(v), fallback) for v in shown["minutes"]]
    frame["tip"] = [
        html_text(t("gaps.tooltip.isochrone", lang, minutes=f"{float(v):g}"))
        for v in shown["minutes"]
    ]
    _add_filled_polygons(
        m,
        frame,
        name=t("gaps.layer.isochrones", lang),
        line_weight=1,
        fill_opacity=0.25,
        show=show,
    )


def build_gap_map(
    origins: gpd.GeoDataFrame,
    values: pd.Series,
    *,
    indicator: str,
    title: str,
    unit: str,
    lang: str,
    bounds: tuple[float, float, float, float],
    tiles: TileSource | str = TileSource.OSM,
    asset_base_url: str = DEFAULT_ASSET_BASE_URL,
    amenities: gpd.GeoDataFrame | None = None,
    amenity_name: str = "",
    isochrones: gpd.GeoDataFrame | None = None,
    synthetic: bool = False,
    hidden_layers: Collection[str] = (),
    user_scope: str | None = None,
) -> folium.Map:
    """Build the Gaps map: H3 cells, residences and enterprises coloured by one indicator.

    Assumes ``origins`` is ``TravelTimeResult.origins`` (WGS84 points with ``origin_set``
    ``residence`` / ``enterprise`` / ``h3``, ``name``, ``weight`` in people, ``h3_cell``) and
    ``values`` holds one value per origin with the same index (``inf``: unreachable). Cells are
    drawn as hexagons, residences as circles sized by residents, enterprises as small dots; the
    colour scale spans the finite values, green for good. The legend inside the map names the
    unit. Every asset link points under ``asset_base_url``; only tiles need the internet.

    Parameters
    ----------
    origins
        Origins of the park; not modified.
    values
        The indicator per origin.
    indicator
        One of ``retention.access.indicators.INDICATORS`` (direction of the scale, number format).
    title
        What the map shows (legend heading).
    unit
        The values' unit (legend).
    lang
        ``"en"`` or ``"zh"``.
    bounds
        WGS84 ``(min_lon, min_lat, max_lon, max_lat)`` to show (``maps.layers_bounds``).
    tiles
        Background tiles; under Amap (GCJ-02) tiles every layer is shifted to GCJ-02.
    asset_base_url
        URL path at which ``static/vendor/`` is served.
    amenities
        Amenities to mark (e.g. the chosen category's), with ``name``; not modified.
    amenity_name
        Their layer and legend name.
    isochrones
        5/10/15-minute areas (``minutes``, polygons) from one residence, if any.
    synthetic
        Whether the data is synthetic demo data (stated in the legend).
    hidden_layers
        Codes of :data:`GAP_MAP_LAYERS` drawn hidden (the page's layer choice; the map has no
        layer control of its own, whose toggles would be lost on the next rerun).
    user_scope
        The run key's ``user_scope``: an HR scope's map marks only its own enterprises, a
        viewer's none (another firm's name and value are its figures); ``None``/``"all"``: every
        enterprise.

    Returns
    -------
    folium.Map
        A new map.
    """
    _check_aligned(origins, values)
    source = TileSource(tiles)
    scale = colour_scale(values.to_numpy(dtype=float), lower_is_better=indicator in LOWER_IS_BETTER)
    m = new_map(bounds, tiles=source, lang=lang)
    cells = origins[origins["origin_set"] == "h3"]
    if len(cells):
        _add_hexagons(
            m,
            cells,
            values,
            scale,
            indicator=indicator,
            tiles=source,
            lang=lang,
            show="hexagons" not in hidden_layers,
        )
    # Areas under the points, so they never cover a residence the user wants to click.
    shown_isochrones = isochrones is not None and not isochrones.geometry.is_empty.all()
    if isochrones is not None and shown_isochrones:
        _add_isochrones(
            m, isochrones, tiles=source, lang=lang, show="isochrones" not in hidden_layers
        )
    own = scope_enterprise_ids(user_scope)
    for origin_set, layer_key in (("residence", "residences"), ("enterprise", "enterprises")):
        points = origins[origins["origin_set"] == origin_set]
        if origin_set == "enterprise" and own is not None:
            points = points[points["origin_id"].astype(str).isin(own)]
        if len(points):
            _add_origin_points(
                m,
                points,
                values,
                scale,
                residences=origin_set == "residence",
                name=t(f"gaps.layer.{layer_key}", lang),
                indicator=indicator,
                tiles=source,
                lang=lang,
                show=layer_key not in hidden_layers,
            )
    shown_amenities = amenities is not None and not amenities.empty
    if amenities is not None and shown_amenities:
        _add_amenities(
            m, amenities, name=amenity_name, tiles=source, show="amenities" not in hidden_layers
        )
    add_legend(
        m,
        gap_legend_html(
            scale,
            indicator=indicator,
            title=title,
            unit=unit,
            lang=lang,
            amenity_name=amenity_name if shown_amenities else "",
            isochrones=shown_isochrones,
            synthetic=synthetic,
        ),
        lang=lang,
    )
    return use_local_assets(m, asset_base_url=asset_base_url)


def nearest_origin_id(
    origins: gpd.GeoDataFrame,
    lon: float,
    lat: float,
    *,
    origin_set: str,
    tiles: TileSource | str = TileSource.OSM,
) -> str | None:
    """Return the id of the origin of one set nearest to a point clicked on the map.

    Assumes ``lon``/``lat`` are in the map's display coordinates (GCJ-02 under Amap tiles, else
    WGS84), as Leaflet reports a click; nearness is in degrees, which is enough to tell points
    apart within a park.

    Parameters
    ----------
    origins
        Origins of the park (WGS84 points, ``origin_set``, ``origin_id``).
    lon, lat
        The clicked point.
    origin_set
        Which origins may be picked, e.g. ``"residence"``.
    tiles
        The map's tiles.

    Returns
    -------
    str or None
        The nearest origin's id, or ``None`` when the set is empty.
    """
    rows = origins[origins["origin_set"] == origin_set]
    if rows.empty:
        return None
    located = display_frame(rows[["geometry"]], tiles=tiles).geometry
    distance = np.hypot(located.x.to_numpy() - lon, located.y.to_numpy() - lat)
    return str(rows["origin_id"].iloc[int(np.argmin(distance))])
