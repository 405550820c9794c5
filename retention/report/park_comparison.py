"""Parks side by side from a batch summary (``retention.batch``): ranking, filters and a map.

The summary has one row per park (``status`` ``scored``/``skipped`` rows carry figures; failed
ones do not): ``gap_index_0_100``, ``compliance_<category>_share``,
``evening_minutes_<category>``, ``leavers_per_year``, ``turnover_share``, ``city_*``,
``district_*``, ``lon``/``lat``. Nothing here computes an indicator: the figures are the batch's.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
import numpy as np
import pandas as pd

from retention.escaping import html_text
from retention.i18n import label, t
from retention.report.gap_map import colour_scale
from retention.report.maps import TileSource, add_legend, display_frame, new_map

RANK_COLUMN = "gap_index_0_100"
SCORED = ("scored", "skipped")


def indicator_columns(summary: pd.DataFrame) -> list[str]:
    """Return the summary's indicator columns a page may rank or colour parks by."""
    columns = [RANK_COLUMN]
    columns += sorted(c for c in summary.columns if c.startswith("compliance_"))
    columns += sorted(c for c in summary.columns if c.startswith("evening_minutes_"))
    columns += [c for c in ("leavers_per_year", "turnover_share") if c in summary.columns]
    return columns


def lower_is_better(indicator: str) -> bool:
    """Return whether a small value of ``indicator`` is good (gap, minutes, turnover)."""
    return not indicator.startswith("compliance_")


def indicator_label(indicator: str, lang: str) -> str:
    """Return the indicator's name in ``lang``."""
    for prefix in ("compliance_", "evening_minutes_"):
        if indicator.startswith(prefix):
            category = indicator[len(prefix) :].removesuffix("_share")
            return t(
                f"compare.indicator.{prefix[:-1]}", lang, category=label("category", category, lang)
            )
    return t(f"compare.indicator.{indicator}", lang)


def ranked_parks(
    summary: pd.DataFrame,
    *,
    cities: Sequence[str] = (),
    districts: Sequence[str] = (),
    lang: str = "en",
) -> pd.DataFrame:
    """Return the scored parks ranked by gap index, worst first (rank 1 = largest gap).

    Parameters
    ----------
    summary
        The batch summary table.
    cities, districts
        Keep only parks in these cities / districts (names in ``lang``); empty keeps all.
    lang
        Language of the ``city``/``district``/``name`` columns added.
    """
    scored = summary[summary["status"].isin(SCORED)].copy()
    scored["name"] = scored[f"name_{lang}"].astype(str)
    scored["city"] = scored[f"city_{lang}"].astype(str)
    scored["district"] = scored[f"district_{lang}"].astype(str)
    if cities:
        scored = scored[scored["city"].isin(list(cities))]
    if districts:
        scored = scored[scored["district"].isin(list(districts))]
    scored = scored.sort_values([RANK_COLUMN, "park_id"], ascending=[False, True], kind="stable")
    scored.insert(0, "rank", np.arange(1, len(scored) + 1))
    return scored.reset_index(drop=True)


def format_indicator(value: float, indicator: str, lang: str) -> str:
    """Return ``value`` as a page shows it (share as a percentage, minutes, leavers)."""
    if not np.isfinite(value):
        return t("compare.none", lang)
    if indicator.startswith("compliance_") or indicator == "turnover_share":
        return f"{100 * value:.0f}%"
    if indicator.startswith("evening_minutes_"):
        return f"{value:.1f} min" if lang == "en" else f"{value:.1f} 分钟"
    return f"{value:,.1f}"


def comparison_map(
    ranked: pd.DataFrame,
    indicator: str,
    *,
    lang: str,
    tiles: TileSource | str = TileSource.OSM,
) -> folium.Map:
    """Return a map of the parks as circles coloured by ``indicator`` (good to bad), with legend.

    Assumes ``ranked`` from :func:`ranked_parks` with WGS84 ``lon``/``lat``; names are escaped
    in tooltips.
    """
    import geopandas as gpd

    points = ranked[np.isfinite(ranked["lon"]) & np.isfinite(ranked["lat"])]
    values = points[indicator].to_numpy(dtype=float)
    scale = colour_scale(values, lower_is_better=lower_is_better(indicator))
    if len(points):
        bounds = (
            float(points["lon"].min()) - 0.05,
            float(points["lat"].min()) - 0.05,
            float(points["lon"].max()) + 0.05,
            float(points["lat"].max()) + 0.05,
        )
    else:
        bounds = (118.0, 27.0, 123.0, 31.2)  # Zhejiang
    m = new_map(bounds, tiles=tiles, lang=lang)
    frame = gpd.GeoDataFrame(
        {
            "fill": [scale.colour(v) for v in values],
            "tip": [
                html_text(
                    t(
                        "compare.tooltip",
                        lang,
                        rank=int(rank),
                        name=str(name),
                        district=str(district),
                        value=format_indicator(value, indicator, lang),
                    )
                )
                for rank, name, district, value in zip(
                    points["rank"], points["name"], points["district"], values, strict=True
                )
            ],
        },
        geometry=gpd.points_from_xy(points["lon"], points["lat"]),
        crs="EPSG:4326",
    )
    folium.GeoJson(
        display_frame(frame, tiles=tiles),
        name=indicator_label(indicator, lang),
        marker=folium.CircleMarker(),
        style_function=lambda feature: {
            "radius": 9,
            "color": "#333333",
            "weight": 1,
            "fill": True,
            "fillColor": feature["properties"]["fill"],
            "fillOpacity": 0.9,
        },
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    ).add_to(m)
    low = format_indicator(scale.low, indicator, lang)
    high = format_indicator(scale.high, indicator, lang)
    add_legend(
        m,
        f"<b>{html_text(indicator_label(indicator, lang))}</b>"
        f'<div style="height:10px;width:160px;background:{scale.gradient_css()}"></div>'
        f"<span>{html_text(low)}</span> – <span>{html_text(high)}</span>",
    )
    return m
