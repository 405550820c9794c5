"""Parks side by side from a batch summary (``retention.batch``): ranking, filters and a map.

The summary has one row per park (``status`` ``scored``/``skipped`` rows carry figures; failed
ones do not): ``gap_index_0_100``, ``compliance_<category>_share``,
``evening_minutes_<category>``, ``leavers_per_year``, ``turnover_share``, ``city_*``,
``district_*``, ``lon``/``lat``. Nothing here computes an indicator: the figures are the batch's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

import folium
import numpy as np
import pandas as pd

from retention.escaping import html_text
from retention.i18n import label, t
from retention.report.gap_map import colour_scale
from retention.report.maps import TileSource, add_legend, display_frame, new_map
from retention.report.snapshot import (
    Kpi,
    MapBlock,
    MapLayer,
    Section,
    Snapshot,
    TableBlock,
    snapshot_labels,
)

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


def _digest(values: Sequence[object]) -> str:
    text = "\n".join(sorted(str(v) for v in values))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _percent(series: pd.Series) -> pd.Series:
    return 100 * series.astype(float)


def category_table(ranked: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """Return rank, park and every category's living-circle compliance (% of residents) and
    evening minutes to each leisure category, one row per park of ``ranked`` (same order)."""
    columns = indicator_columns(ranked)

    def header(key: str, **fmt: object) -> str:
        return t(f"compare_snapshot.col.{key}", lang, **fmt)

    table = pd.DataFrame(
        {header("rank"): ranked["rank"].astype(int), header("park"): ranked["name"]}
    )
    for column in columns:
        if column.startswith("compliance_"):
            table[header("percent", name=indicator_label(column, lang))] = _percent(ranked[column])
        elif column.startswith("evening_minutes_"):
            table[header("minutes", name=indicator_label(column, lang))] = ranked[column].astype(
                float
            )
    return table


def comparison_snapshot(
    summary: pd.DataFrame,
    *,
    batch_name: str,
    lang: str,
    cities: Sequence[str] = (),
    districts: Sequence[str] = (),
    indicator: str = RANK_COLUMN,
    created: dt.datetime | None = None,
) -> Snapshot:
    """Return the comparison as a meeting snapshot (``report.snapshot``), as the page shows it.

    The same parks (after the city/district filters) in the same order as :func:`ranked_parks`,
    with the batch's own figures — nothing is recomputed. Sections: the ranking (gap index, mean
    compliance, evening minutes to leisure, expected turnover), compliance per category, a map
    of the parks coloured by ``indicator``, and the failed parks with their errors. Written by
    the snapshot writers (``report.workbook`` for XLSX, ``report.html_snapshot`` for one
    offline HTML file), which keep user text formula-safe and escaped.

    Parameters
    ----------
    summary
        The batch summary table (``retention.batch``).
    batch_name
        The batch run's name (its folder), printed as the snapshot's subject.
    lang
        ``"zh"`` or ``"en"``.
    cities, districts
        The page's filters (names in ``lang``); empty keeps all.
    indicator
        The indicator the map is coloured by (:func:`indicator_columns`).
    created
        When the snapshot was made (default: now, UTC).
    """
    ranked = ranked_parks(summary, cities=cities, districts=districts, lang=lang)
    failed = summary[~summary["status"].isin(SCORED)]
    columns = indicator_columns(summary)
    compliance = [c for c in columns if c.startswith("compliance_")]
    minutes = [c for c in columns if c.startswith("evening_minutes_")]

    def header(key: str, **fmt: object) -> str:
        return t(f"compare_snapshot.col.{key}", lang, **fmt)

    table = pd.DataFrame(
        {
            header("rank"): ranked["rank"].astype(int),
            header("park"): ranked["name"],
            header("park_id"): ranked["park_id"].astype(str),
            header("city"): ranked["city"],
            header("district"): ranked["district"],
            header("gap_index"): ranked[RANK_COLUMN].astype(float),
            header("compliance_mean"): _percent(ranked[compliance].mean(axis=1)),
        }
    )
    formats = {header("gap_index"): 1, header("compliance_mean"): 0}
    for column in minutes:
        name = header("minutes", name=indicator_label(column, lang))
        table[name] = ranked[column].astype(float)
        formats[name] = 1
    if "turnover_share" in ranked.columns:
        table[header("turnover")] = _percent(ranked["turnover_share"])
        formats[header("turnover")] = 1
    if "leavers_per_year" in ranked.columns:
        table[header("leavers")] = ranked["leavers_per_year"].astype(float)
        formats[header("leavers")] = 0
    per_category = category_table(ranked, lang=lang)
    filters = ", ".join([*cities, *districts]) or t("compare_snapshot.all_parks", lang)
    if len(ranked):
        worst, best = ranked.iloc[0], ranked.iloc[-1]
        message = t(
            "compare_snapshot.ranking_message",
            lang,
            worst=str(worst["name"]),
            worst_gap=f"{float(worst[RANK_COLUMN]):.1f}",
            best=str(best["name"]),
            best_gap=f"{float(best[RANK_COLUMN]):.1f}",
        )
    else:
        message = t("compare.empty_filter", lang)
    sections = [
        Section(
            t("compare_snapshot.section.ranking", lang),
            message,
            (
                TableBlock(
                    t("compare.ranking", lang),
                    table,
                    note=t("compare_snapshot.ranking_note", lang, filters=filters),
                    number_formats=formats,
                ),
            ),
            sources=t("compare_snapshot.sources", lang),
        ),
        Section(
            t("compare_snapshot.section.compliance", lang),
            t("compare_snapshot.compliance_message", lang),
            (
                TableBlock(
                    t("compare_snapshot.section.compliance", lang),
                    per_category,
                    number_formats={
                        c: (0 if c.endswith(("(%)", "（%）")) else 1)
                        for c in per_category.columns[2:]
                    },
                ),
            ),
            sources="GB 50180-2018",
        ),
    ]
    map_block = _snapshot_map(ranked, indicator, lang=lang)
    if map_block is not None:
        sections.append(
            Section(
                t("compare.map", lang),
                t("compare_snapshot.map_message", lang, indicator=indicator_label(indicator, lang)),
                (map_block,),
            )
        )
    if len(failed):
        errors = pd.DataFrame(
            {
                header("park_id"): failed["park_id"].astype(str),
                header("error"): failed["error"].astype(str),
            }
        )
        sections.append(
            Section(
                t("compare_snapshot.section.failed", lang),
                t("compare.failed", lang, count=len(failed), parks=", ".join(errors.iloc[:, 0])),
                (TableBlock(t("compare_snapshot.section.failed", lang), errors),),
            )
        )
    synthetic = bool(ranked["synthetic"].astype(bool).any()) if len(ranked) else False
    notice = t("compare.synthetic", lang) if synthetic else ""
    leavers = ranked["leavers_per_year"].astype(float) if "leavers_per_year" in ranked else None
    with_survey = int(np.isfinite(leavers).sum()) if leavers is not None else 0
    kpis = [
        Kpi(t("compare_snapshot.kpi.parks", lang), float(len(ranked))),
        Kpi(t("compare_snapshot.kpi.failed", lang), float(len(failed))),
        Kpi(
            t("compare_snapshot.kpi.median_gap", lang),
            float(ranked[RANK_COLUMN].median()) if len(ranked) else None,
            decimals=1,
        ),
        Kpi(
            t("compare_snapshot.kpi.leavers", lang),
            float(np.nansum(leavers)) if leavers is not None and with_survey else None,
            unit=t("compare_snapshot.kpi.leavers_unit", lang),
            note=t("compare_snapshot.kpi.leavers_note", lang, parks=with_survey),
        ),
    ]
    assumptions = pd.DataFrame(
        {
            header("item"): [
                t(f"compare_snapshot.assumption.{key}", lang)
                for key in ("window", "mode", "weights", "unreachable", "turnover", "filters")
            ],
            header("value"): [
                t("compare_snapshot.value.window", lang),
                t("compare_snapshot.value.mode", lang),
                t("compare_snapshot.value.weights", lang),
                t("compare_snapshot.value.unreachable", lang),
                t("compare_snapshot.value.turnover", lang),
                filters,
            ],
        }
    )
    versions = summary.get("data_version", pd.Series(dtype=str))
    surveys = summary.get("survey_version", pd.Series(dtype=str))
    return Snapshot(
        title=t("compare.page_title", lang),
        park_name=t("compare_snapshot.subject", lang, batch=batch_name, parks=len(ranked)),
        lang=lang,
        created=created or dt.datetime.now(dt.UTC),
        data_version=_digest(versions.astype(str).tolist()),
        parameters_version=_digest(summary["run_key"].astype(str).tolist()),
        survey_version=_digest(surveys.astype(str).tolist()),
        scenario=None,
        synthetic_notice=notice,
        kpis=tuple(kpis),
        sections=tuple(sections),
        assumptions=TableBlock(t("report.assumptions", lang), assumptions),
        provenance=(
            t("compare_snapshot.provenance", lang, batch=batch_name, parks=len(summary)),
            *([t("report.provenance.synthetic", lang, notice=notice)] if notice else []),
        ),
        labels=snapshot_labels(lang),
    )


def _snapshot_map(ranked: pd.DataFrame, indicator: str, *, lang: str) -> MapBlock | None:
    import geopandas as gpd

    points = ranked[np.isfinite(ranked["lon"]) & np.isfinite(ranked["lat"])]
    if points.empty:
        return None
    values = points[indicator].astype(float)
    label = indicator_label(indicator, lang)
    frame = gpd.GeoDataFrame(
        {"name": points["name"].astype(str), label: values.to_numpy()},
        geometry=gpd.points_from_xy(points["lon"], points["lat"]),
        crs="EPSG:4326",
    )
    valued = bool(np.isfinite(values).any())
    layer = MapLayer(
        t("compare_snapshot.map_layer", lang),
        frame,
        colour="#1d4ed8",
        value_column=label if valued else None,
    )
    return MapBlock(
        t("compare.map", lang),
        (layer,),
        legend_title=label,
        note=t("compare_snapshot.map_note", lang),
    )
