"""Tests for retention.survey.link: ids, names, fuzzy names and coordinates."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from retention.errors import ParameterError, ValidationError
from retention.survey.link import (
    LinkParameters,
    haversine_metres,
    link_coordinates,
    link_names,
)

ENTERPRISES = pd.DataFrame(
    {
        "id": ["E01", "E02"],
        "name": ["株洲金山电子有限公司", "湘江机械"],
        "name_en": ["Jinshan Electronics", ""],
    }
)


def test_link_by_id_name_fuzzy_and_unmatched() -> None:
    table = link_names(
        ["E02", "湘江机械", "金山电子", "jinshan electronics", "火星重工", None, "E02"], ENTERPRISES
    ).set_index("value")
    assert table.loc["E02", "method"] == "id"
    assert table.loc["湘江机械", ["matched_id", "method"]].tolist() == ["E02", "name"]
    assert table.loc["jinshan electronics", "matched_id"] == "E01"
    fuzzy = table.loc["金山电子"]
    assert (
        fuzzy["method"] == "fuzzy" and fuzzy["needs_confirmation"] and fuzzy["matched_id"] == "E01"
    )
    assert 85 <= fuzzy["score"] < 100
    assert table.loc["火星重工", "method"] == "unmatched"
    assert pd.isna(table.loc["火星重工", "matched_id"])
    assert len(table) == 5  # distinct non-missing answers


def test_overrides_confirm_or_reject() -> None:
    table = link_names(["金山电子", "湘江"], ENTERPRISES, overrides={"金山电子": "", "湘江": "E02"})
    assert table["matched_id"].tolist() == [None, "E02"]
    with pytest.raises(ValidationError, match=r"override for '湘江' names 'E99'"):
        link_names(["湘江"], ENTERPRISES, overrides={"湘江": "E99"})


def test_coordinates_link_to_nearest_within_distance() -> None:
    residences = gpd.GeoDataFrame(
        {"id": ["R1", "R2"]}, geometry=[Point(113.0, 27.9), Point(113.01, 27.9)], crs="EPSG:4326"
    )
    # 0.001 deg of longitude at 27.9N is ~98 m; 0.004 deg ~393 m
    out = link_coordinates(
        [113.001, 113.005, None],
        [27.9, 27.9, 27.9],
        residences,
        parameters=LinkParameters(max_residence_distance_metres=300),
    )
    assert out["residence_id"].tolist() == ["R1", None, None]
    assert out.loc[0, "distance_metres"] == pytest.approx(98.3, abs=0.5)


def test_haversine_known_answer() -> None:
    # one degree of latitude on the mean sphere = 2*pi*R/360
    d = haversine_metres(np.array([0.0]), np.array([0.0]), np.array([0.0]), np.array([1.0]))
    assert d[0] == pytest.approx(2 * np.pi * 6_371_008.8 / 360)


def test_parameters_are_checked() -> None:
    with pytest.raises(ParameterError, match="min_name_score must be within 0–100"):
        LinkParameters(min_name_score=120)
