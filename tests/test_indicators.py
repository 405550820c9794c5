"""Tests for retention.access.indicators: one call computes every indicator consistently."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention.access.indicators import IndicatorParameters, park_indicators
from retention.access.measures import e2sfca
from retention.errors import ParameterError

INF = math.inf

ORIGINS = pd.DataFrame(
    {
        "origin_set": ["residence", "residence", "enterprise"],
        "origin_id": ["r1", "r2", "e1"],
        "weight": [5000.0, 3000.0, 8000.0],
        "enterprise_id": [None, None, "e1"],
    }
)
AMENITIES = pd.DataFrame(
    {"id": ["c1", "h1"], "category": ["sports_court", "hospital"], "capacity": [1.0, 100.0]}
)
MINUTES = np.array([[2.0, 12.0], [3.0, INF], [20.0, 40.0]])


def test_park_indicators_known_answer() -> None:
    result = park_indicators(MINUTES, ORIGINS, AMENITIES)
    assert result.nearest["sports_court"].tolist() == [2.0, 3.0, 20.0]
    assert result.nearest["park"].tolist() == [INF, INF, INF]  # every category is a column
    assert result.opportunities["hospital"].tolist() == [1.0, 0.0, 0.0]
    assert result.capacity_within["hospital"].tolist() == [100.0, 0.0, 0.0]
    # Demand = residents only (default): the enterprise competes for nothing but still gets A_i.
    expected = 1000 * e2sfca(MINUTES[:, :1], [1.0], [5000.0, 3000.0, 0.0])
    np.testing.assert_allclose(result.supply_per_1000["sports_court"], expected)
    assert result.supply_per_1000["sports_court"].iloc[0] == pytest.approx(0.125)
    assert result.living_circle["sports_court"].tolist() == [True, True, False]
    # Compliance counts residents: 8,000 of 8,000 reach a court within 5 minutes.
    assert result.compliance.loc["sports_court", "share"] == 1.0
    assert result.compliance.loc["hospital", "share"] == pytest.approx(5000 / 8000)
    np.testing.assert_allclose(
        result.gap.drop(columns="gap_index").sum(axis=1), result.gap["gap_index"]
    )
    assert result.values("gap_index").equals(result.gap["gap_index"])
    assert result.values("living_circle", "sports_court").tolist() == [1.0, 1.0, 0.0]


def test_availability_and_demand_options_change_the_answers() -> None:
    closed = np.array([[False, True]] * 3)
    result = park_indicators(MINUTES, ORIGINS, AMENITIES, available=closed)
    assert result.nearest["sports_court"].tolist() == [INF, INF, INF]
    both = park_indicators(
        MINUTES, ORIGINS, AMENITIES, parameters=IndicatorParameters(demand="both")
    )
    # The enterprise at 20 min weighs 0.68 in step 1: D = 8,000 + 0.68 * 8,000.
    assert both.supply_per_1000["sports_court"].iloc[0] == pytest.approx(1000 / 13440)


def test_bad_options_are_named() -> None:
    with pytest.raises(ParameterError, match="'demand': must be one of residence"):
        IndicatorParameters(demand="visitors")
    with pytest.raises(ParameterError, match="'threshold_minutes'"):
        IndicatorParameters(threshold_minutes=0)
    with pytest.raises(ParameterError, match="amenities table has no 'capacity' column"):
        park_indicators(MINUTES, ORIGINS, AMENITIES.drop(columns="capacity"))
    result = park_indicators(MINUTES, ORIGINS, AMENITIES)
    with pytest.raises(ParameterError, match="'indicator': must be one of nearest"):
        result.values("beauty", "park")


def test_isochrones_follow_the_street_network() -> None:
    import geopandas as gpd
    import shapely

    from retention.access.indicators import isochrones
    from retention.access.network import network_from_roads

    # One straight street, a node every 0.002° of longitude (≈197 m ≈ 3.28 walking minutes).
    lons = [113.100 + 0.002 * i for i in range(8)]
    roads = gpd.GeoDataFrame(
        {"id": ["s1"], "road_class": ["local"], "walk": [True], "bike": [True]},
        geometry=[shapely.LineString([(x, 27.8) for x in lons])],
        crs="EPSG:4326",
    )
    network = network_from_roads(roads)
    areas = isochrones(
        network,
        113.100,
        27.8,
        network_mode="walk",
        speed_m_per_min=60.0,
        walk_speed_m_per_min=60.0,
        max_snap_distance_metres=300.0,
    ).set_index("minutes")
    # Nodes at 0, 3.3, 6.6, 9.8, 13.1, 16.4 min: 2 within 5, 4 within 10, 5 within 15.
    assert areas["cells"].to_dict() == {15.0: 5, 10.0: 4, 5.0: 2}
    assert areas.geometry[15.0].contains(shapely.Point(lons[4], 27.8))
    assert not areas.geometry[15.0].contains(shapely.Point(lons[5], 27.8))
    far = isochrones(
        network,
        113.2,
        27.9,
        network_mode="walk",
        speed_m_per_min=60.0,
        walk_speed_m_per_min=60.0,
        max_snap_distance_metres=300.0,
    )
    assert far["cells"].tolist() == [0, 0, 0] and far.geometry.is_empty.all()


@pytest.mark.slow  # the demo park's travel times and 24 indicator sets: ~10 s
def test_indicators_for_windows_equal_one_window_at_a_time(tmp_path: Path) -> None:
    from retention.access.indicators import indicators_for_window, indicators_for_windows
    from retention.access.parameters import TravelParameters
    from retention.access.travel_times import travel_times_for_park
    from retention.storage.park import load_park

    park = load_park("jinshan", data_dir=tmp_path)
    result = travel_times_for_park(park, params=TravelParameters())
    # The demo has amenities closed in some windows and canteens open to one enterprise only.
    assert not result.is_open("night_shift_end").all() and not result.open_to.all()
    for mode in ("walk", "ebike", "transit"):
        shared = indicators_for_windows(result, mode=mode)
        assert list(shared) == [window.key for window in result.windows]
        for key, found in shared.items():
            alone = indicators_for_window(result, mode=mode, window=key)
            for name in (
                "nearest", "opportunities", "capacity_within", "supply_per_1000",
                "living_circle", "compliance", "gap",
            ):  # fmt: skip
                pd.testing.assert_frame_equal(
                    getattr(found, name), getattr(alone, name), check_exact=True
                )
