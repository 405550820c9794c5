"""Tests for retention.access.hexagons: people-weighted hexagon means and reachable areas."""

from __future__ import annotations

import math

import h3
import numpy as np
import pytest
import shapely

from retention.access.hexagons import hexagon_means, point_cells, reachable_areas
from retention.errors import ParameterError

# Two points ~10 m apart share a resolution-9 cell; the third is ~1 km east.
LON = np.array([113.1000, 113.1001, 113.1100])
LAT = np.array([27.8000, 27.8000, 27.8000])


def test_points_fall_in_their_h3_cells() -> None:
    cells = point_cells(LON, LAT, resolution=9)
    assert cells[0] == cells[1] == h3.latlng_to_cell(27.8, 113.1, 9)
    assert cells[2] != cells[0]


def test_hexagon_means_are_weighted_by_people() -> None:
    result = hexagon_means(LON, LAT, [10.0, 40.0, 7.0], [300, 100, 0]).set_index("cell")
    shared = point_cells(LON[:1], LAT[:1])[0]
    assert result.loc[shared, "value"] == pytest.approx((10 * 300 + 40 * 100) / 400)
    assert result.loc[shared, "people"] == 400
    assert result.loc[shared, "points"] == 2
    lone = point_cells(LON[2:], LAT[2:])[0]
    assert result.loc[lone, "value"] == 7.0  # nobody lives there: plain mean, still shown
    assert result.crs.to_epsg() == 4326
    assert result.geometry.contains(shapely.Point(LON[2], LAT[2])).sum() == 1


def test_an_unreachable_point_makes_its_cell_unreachable() -> None:
    result = hexagon_means(LON, LAT, [10.0, math.inf, 7.0], [1, 1, 1])
    assert np.isinf(result["value"]).sum() == 1


def test_reachable_areas_nest_and_follow_the_reached_points() -> None:
    lon = np.array([113.1000, 113.1030, 113.1060, 113.1090])
    lat = np.full(4, 27.8)
    areas = reachable_areas(lon, lat, [0.0, 4.0, 9.0, math.nan], resolution=10)
    assert areas["minutes"].tolist() == [15.0, 10.0, 5.0]
    assert areas["cells"].tolist() == [3, 3, 2]
    by_budget = areas.set_index("minutes").geometry
    assert by_budget[10.0].contains(by_budget[5.0])
    assert not by_budget[15.0].contains(shapely.Point(113.1090, 27.8))


def test_bad_inputs_name_the_problem() -> None:
    with pytest.raises(ParameterError, match="row 2, column 'lon': expected WGS84 coordinates"):
        point_cells([113.1, 113.2], [27.8, 95.0])
    with pytest.raises(ParameterError, match="must be an H3 resolution 0-15, got 16"):
        point_cells(LON, LAT, resolution=16)
    with pytest.raises(ParameterError, match="'minutes': expected one travel time per point"):
        reachable_areas(LON, LAT, [1.0])
