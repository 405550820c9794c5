"""Tests for retention.report.difference_map: gain/loss colours, legend in minutes, escaping."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from retention.errors import ValidationError
from retention.report.difference_map import GAIN_TO_LOSS, build_difference_map, difference_scale


def _points(names: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": names, "people": [100.0] * len(names)},
        geometry=gpd.points_from_xy([113.14, 113.15, 113.16][: len(names)], [27.85] * len(names)),
        crs="EPSG:4326",
        index=[f"residence:R{i}" for i in range(len(names))],
    )


def test_gains_are_green_losses_red_and_no_change_grey():
    scale = difference_scale(pd.Series([6.0, 0.0, -3.0]))
    assert (scale.low, scale.high) == (-6.0, 6.0)
    assert scale.colour(-6.0) == GAIN_TO_LOSS[0]  # 6 minutes saved
    assert scale.colour(0.0) == GAIN_TO_LOSS[2]
    assert scale.colour(6.0) == GAIN_TO_LOSS[-1]  # 6 minutes lost
    assert difference_scale(pd.Series([0.0, 0.0])).high == 1.0  # never a zero-width scale


def test_the_map_draws_each_point_with_its_colour_a_legend_in_minutes_and_escaped_names():
    points = _points(["<script>alert(1)</script>", "东宿舍", "西宿舍"])
    saved = pd.Series([6.0, 0.0, -6.0], index=points.index)
    html = (
        build_difference_map(points, saved, tiles="none", title="Minutes saved").get_root().render()
    )
    for colour in (GAIN_TO_LOSS[0], GAIN_TO_LOSS[2], GAIN_TO_LOSS[-1]):
        assert colour in html
    assert "6 min saved" in html and "6 min lost" in html
    assert "<script>alert(1)</script>" not in html
    assert "+6.0 min saved" in html


def test_points_and_values_must_line_up():
    points = _points(["a", "b"])
    with pytest.raises(ValidationError, match="same index"):
        build_difference_map(points, pd.Series([1.0, 2.0]))
