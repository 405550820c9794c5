"""Tests for retention.report.gap_tables: value formats, worst-first rankings and the Gaps page
tables."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from retention.errors import ParameterError
from retention.i18n import label
from retention.report.gap_tables import (
    compliance_table,
    distribution,
    format_value,
    gap_contributions,
    origin_row,
    people_values,
    reached_amenities,
    weights_table,
    worst_served,
    zone_ranking,
)
from retention.survey.privacy import SUPPRESSED_MARKER


@pytest.fixture
def origins() -> pd.DataFrame:
    """Three residences, two enterprises, one H3 cell; zones G1/G2 (one residence outside)."""
    return pd.DataFrame(
        {
            "origin_set": ["residence", "residence", "residence", "enterprise", "enterprise", "h3"],
            "origin_id": ["R1", "R2", "R3", "E1", "E2", "8a"],
            "name": ["一号宿舍", "二号宿舍", "人才公寓", "金山电机", "湘江轨道", ""],
            "weight": [100.0, 300.0, 50.0, 200.0, 400.0, 999.0],
            "park_zone_id": ["P", "P", None, "P", "P", "P"],
            "grid_zone_id": ["G1", "G2", None, "G1", "G2", "G1"],
            "micro_grid_zone_id": [None] * 6,
        },
        index=pd.RangeIndex(6),
    )


@pytest.fixture
def zones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["G1", "G2"], "name": ["一号网格", "二号网格"], "name_en": ["Grid One", None]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs="EPSG:4326",
    )


def test_format_value_per_indicator() -> None:
    assert format_value(np.nan, "nearest", lang="en") == "–"
    assert format_value(np.inf, "nearest", lang="en") == "unreachable"
    assert format_value(np.inf, "nearest", lang="zh") == "不可达"
    assert format_value(1234.56, "nearest", lang="en") == "1,234.6"
    assert format_value(0.12345, "e2sfca", lang="en") == "0.123"
    assert format_value(1.0, "living_circle", lang="zh") == "是"
    assert format_value(0.0, "living_circle", lang="en") == "no"


def test_worst_served_orders_by_direction(origins) -> None:
    minutes = pd.Series([12.0, np.inf, 3.0, 7.0, 1.0, 0.0], index=origins.index)
    worst = worst_served(
        origins,
        minutes,
        origin_set="residence",
        indicator="nearest",
        unit="min",
        lang="en",
        user_scope=None,
        min_group_size=5,
    )
    # Lower is better: unreachable first, then the longest trip.
    assert worst["Name"].tolist() == ["二号宿舍", "一号宿舍", "人才公寓"]
    assert worst["min"].tolist() == ["unreachable", "12.0", "3.0"]
    assert worst["People"].tolist() == [300, 100, 50]
    counts = pd.Series([4.0, 0.0, 9.0, 2.0, 5.0, 0.0], index=origins.index)
    fewest = worst_served(
        origins,
        counts,
        origin_set="enterprise",
        indicator="opportunities",
        unit="n",
        lang="zh",
        user_scope="all",
        min_group_size=5,
        limit=1,
    )
    assert fewest["名称"].tolist() == ["金山电机"]  # higher is better: fewest first


def test_people_values_and_distribution_count_one_origin_set(origins) -> None:
    values = pd.Series([12.0, np.inf, 3.0, np.nan, 1.0, 0.0], index=origins.index)
    # Residents at home by default: no employees (the same people again) and no H3 cell.
    frame = people_values(origins, values)
    assert frame.index.tolist() == [0, 1, 2]
    reachable, unreachable_people = distribution(origins, values)
    assert reachable["value"].tolist() == [12.0, 3.0]
    assert reachable["people"].tolist() == [100.0, 50.0]
    assert unreachable_people == 300  # R2 (inf) only: E1's 200 workers are not added
    # Workers at their workplace as the other, separate basis.
    reachable, unreachable_people = distribution(origins, values, origin_set="enterprise")
    assert reachable["value"].tolist() == [1.0]
    assert reachable["people"].tolist() == [400.0]
    assert unreachable_people == 200  # E1 (NaN, unplaced)
    with pytest.raises(ParameterError, match="unknown people basis 'h3'"):
        distribution(origins, values, origin_set="h3")


def test_zone_ranking_weights_one_set_and_shows_residents_and_workers_apart(origins, zones) -> None:
    minutes = pd.Series([10.0, np.inf, 3.0, 20.0, 5.0, 0.0], index=origins.index)
    table = zone_ranking(
        origins,
        minutes,
        indicator="nearest",
        zone_level="grid",
        zones=zones,
        unit="min",
        lang="en",
        max_minutes=60.0,
    )
    # Residents: G1 = 10 (R1), G2 = 60 (R2 inf capped at 60), outside = 3 (R3). Worst first;
    # English name where the zone has one. Workers are a column of their own, never added.
    assert table.columns.tolist() == ["Zone", "Residents", "Workers", "min"]
    assert table["Zone"].tolist() == ["二号网格", "Grid One", "(outside every zone)"]
    assert table["min"].tolist() == ["60.0", "10.0", "3.0"]
    assert table["Residents"].tolist() == [300, 100, 50]
    assert table["Workers"].tolist() == [400, 200, 0]
    at_work = zone_ranking(
        origins,
        minutes,
        indicator="nearest",
        zone_level="grid",
        zones=zones,
        unit="min",
        lang="en",
        max_minutes=60.0,
        origin_set="enterprise",
    )
    # Workers: G1 = 20 (E1), G2 = 5 (E2); no workers outside every zone: no mean, ranked last.
    assert at_work["Zone"].tolist() == ["Grid One", "二号网格", "(outside every zone)"]
    assert at_work["min"].tolist() == ["20.0", "5.0", "–"]
    assert at_work["Residents"].tolist() == [100, 300, 50]
    assert at_work["Workers"].tolist() == [200, 400, 0]
    share = zone_ranking(
        origins,
        pd.Series([1.0, 0.0, 1.0, 1.0, 0.0, 1.0], index=origins.index),
        indicator="living_circle",
        zone_level="grid",
        zones=None,
        unit="s",
        lang="zh",
        max_minutes=60.0,
    )
    # Higher is better, so the lowest share first (G2: no resident within); no zone layer:
    # every zone has the "outside" name.
    assert share["s"].tolist() == ["0%", "100%", "100%"]
    assert share["居民（人）"].tolist() == [300, 100, 50]
    assert share["职工（人）"].tolist() == [400, 200, 0]
    assert set(share["区域"]) == {"（不在任何区域内）"}


def test_compliance_table_flags_clauses_to_verify() -> None:
    compliance = pd.DataFrame(
        {
            "tier": ["5min", "15min"],
            "share": [0.5, np.nan],
            "people_within": [120.0, 0.0],
            "clause": ["GB 50180-2018 3.0.4", "GB 50180-2018 附录B"],
            "verify": [False, True],
        },
        index=pd.Index(["grocery", "clinic"], name="category"),
    )
    table = compliance_table(compliance, lang="en")
    assert table.iloc[:, 0].tolist() == [label("category", c, "en") for c in ("grocery", "clinic")]
    assert table.iloc[:, 2].tolist() == ["50%", "–"]
    assert table.iloc[:, 4].tolist() == ["GB 50180-2018 3.0.4", "GB 50180-2018 附录B ✱"]
    assert table.iloc[:, 1].tolist()[0].startswith("5-minute")


def test_weights_table_equal_and_suppressed() -> None:
    equal = weights_table(
        None,
        categories=["canteen", "clinic"],
        method="equal",
        origin="",
        respondents=0,
        min_group_size=5,
        lang="en",
    )
    assert equal["Weight"].tolist() == ["0.500", "0.500"]
    assert set(equal["Source"]) == {"Equal weights (default)"}
    survey = pd.DataFrame(
        {
            "category": ["canteen", "clinic"],
            "weight": [1.0, np.nan],
            "n": [120.0, 3.0],
            "suppressed": [False, True],
        }
    )
    stated = weights_table(
        survey,
        categories=["canteen", "clinic"],
        method="stated",
        origin="demo",
        respondents=3200,
        min_group_size=5,
        lang="en",
    )
    assert stated["Weight"].tolist() == ["1.000", SUPPRESSED_MARKER]
    assert stated["Respondents (n)"].tolist() == ["120", SUPPRESSED_MARKER]
    assert stated["Source"].iloc[0].startswith("Synthetic demo survey (3,200 respondents)")
    assert stated["Source"].iloc[1] == "Fewer than 5 respondents: hidden, weight 0"


def test_origin_row_and_reached_amenities(origins) -> None:
    assert origin_row(origins, "residence", "R2") == 1
    with pytest.raises(ParameterError, match=re.escape("no residence with id 'E1'")):
        origin_row(origins, "residence", "E1")
    amenities = pd.DataFrame(
        {
            "name": ["食堂", "诊所", "超市", "篮球场"],
            "category": ["canteen", "clinic", "grocery", "x"],
        }
    )
    reached = reached_amenities(amenities, np.array([14.96, 3.0, np.inf, 15.01]), lang="en")
    assert reached["Name"].tolist() == ["诊所", "食堂"]
    assert reached["Minutes"].tolist() == [3.0, 15.0]
    assert reached["Category"].tolist()[0] == label("category", "clinic", "en")
    with pytest.raises(ParameterError, match=r"one travel time per amenity \(4\)"):
        reached_amenities(amenities, np.array([1.0]), lang="en")


def test_gap_contributions_in_language() -> None:
    gap = pd.DataFrame({"gap_index": [30.0], "canteen": [10.0], "clinic": [20.0]})
    series = gap_contributions(gap, 0, lang="zh")
    assert series.to_dict() == {
        label("category", "canteen", "zh"): 10.0,
        label("category", "clinic", "zh"): 20.0,
    }
    assert series.name == "对缺口指数的贡献"


def test_values_must_align(origins) -> None:
    with pytest.raises(ParameterError, match=r"one value per origin .* \(6 rows\), got 2 values"):
        people_values(origins, pd.Series([1.0, 2.0]))
