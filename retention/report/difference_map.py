"""Difference map of a scenario: where people gain or lose minutes (no computation here).

Residences and enterprises are drawn as circles coloured on a diverging scale centred on zero —
green where the scenario saves minutes, red where it costs them, grey where nothing changes —
with a legend in minutes. The minutes come from ``retention.scenario`` (``winners_and_losers``
and ``improvement``); this module only draws them.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from retention.errors import ValidationError
from retention.escaping import html_text
from retention.i18n import t
from retention.report.gap_map import ColourScale
from retention.report.maps import TileSource, add_legend, display_frame, new_map

GAIN_TO_LOSS: tuple[str, ...] = ("#1a9641", "#a6d96a", "#f0f0f0", "#fdae61", "#d7191c")
"""Diverging palette: most minutes saved (green) through no change (light grey) to most lost."""


def difference_scale(minutes_saved: pd.Series | np.ndarray) -> ColourScale:
    """Return the scale symmetric around 0 spanning the largest gain or loss (at least 1 minute).

    Values are minutes *saved*: positive is a gain and takes the green end.
    """
    values = np.asarray(minutes_saved, dtype=float)
    finite = np.abs(values[np.isfinite(values)])
    reach = max(1.0, float(finite.max()) if finite.size else 1.0)
    # The scale runs from the gain end to the loss end: -saved goes from -reach to +reach.
    return ColourScale(low=-reach, high=reach, colours=GAIN_TO_LOSS)


def build_difference_map(
    points: gpd.GeoDataFrame,
    minutes_saved: pd.Series,
    *,
    tiles: TileSource | str = TileSource.OSM,
    lang: str = "en",
    title: str = "",
) -> folium.Map:
    """Draw minutes saved per origin (residences and enterprises) on a new map.

    Parameters
    ----------
    points
        WGS84 points with ``name`` and ``people``, indexed like ``minutes_saved``.
    minutes_saved
        Minutes saved per point (positive: faster in the scenario).
    tiles, lang
        Background and language.
    title
        Legend title (already in ``lang``; escaped here).

    Returns
    -------
    folium.Map
    """
    if not points.index.equals(minutes_saved.index):
        raise ValidationError("points and minutes saved must have the same index")
    scale = difference_scale(minutes_saved)
    if points.empty:
        raise ValidationError("no residences or enterprises to draw")
    low_lon, low_lat, high_lon, high_lat = points.to_crs("EPSG:4326").total_bounds
    m = new_map(
        (float(low_lon), float(low_lat), float(high_lon), float(high_lat)), tiles=tiles, lang=lang
    )
    frame = display_frame(points[["geometry"]], tiles=TileSource(tiles))
    saved = minutes_saved.to_numpy(dtype=float)
    frame["fill"] = [scale.colour(-value) for value in saved]
    people = points["people"].to_numpy(dtype=float)
    frame["radius"] = 3.0 + np.minimum(9.0, np.sqrt(np.maximum(people, 0.0)) / 6.0)
    frame["tip"] = [
        html_text(
            t(
                "scenario.map.tip",
                lang,
                name=str(name),
                minutes=f"{value:+.1f}",
                people=int(count),
            )
        )
        for name, value, count in zip(points["name"], saved, people, strict=True)
    ]
    folium.GeoJson(
        frame[["fill", "radius", "tip", "geometry"]],
        marker=folium.CircleMarker(),
        style_function=lambda feature: {
            "radius": feature["properties"]["radius"],
            "color": "#555555",
            "weight": 1,
            "fill": True,
            "fillColor": feature["properties"]["fill"],
            "fillOpacity": 0.9,
        },
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    ).add_to(m)
    reach = scale.high
    add_legend(
        m,
        f"<b>{html_text(title)}</b><br>"
        f'<div style="height:10px;width:180px;background:{scale.gradient_css()}"></div>'
        f'<div style="display:flex;justify-content:space-between;width:180px">'
        f"<span>{html_text(t('scenario.map.gain', lang, minutes=f'{reach:.0f}'))}</span>"
        f"<span>{html_text(t('scenario.map.loss', lang, minutes=f'{reach:.0f}'))}</span></div>",
    )
    return m


__all__ = ["GAIN_TO_LOSS", "build_difference_map", "difference_scale"]
