"""Tests for retention.report.summary: hand-counted totals of a tiny park."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import Point

from retention.data.layers import AmenityCategory, LayerKind, ResidenceKind
from retention.report.summary import summarise_park

CRS = "EPSG:4326"


def _points(n: int) -> list[Point]:
    return [Point(113.15 + i * 0.001, 27.85) for i in range(n)]


def test_hand_counted_totals() -> None:
    layers = {
        LayerKind.ENTERPRISES: gpd.GeoDataFrame(
            {"id": ["E1", "E2"], "employees": [1200, 800]}, geometry=_points(2), crs=CRS
        ),
        LayerKind.RESIDENCES: gpd.GeoDataFrame(
            {
                "id": ["R1", "R2", "R3"],
                "kind": ["dorm", "dorm", "community"],
                "beds": [400, 100, 0],
                "residents": [380, 90, 250],
            },
            geometry=_points(3),
            crs=CRS,
        ),
        LayerKind.AMENITIES: gpd.GeoDataFrame(
            {"id": ["A1", "A2", "A3"], "category": ["canteen", "canteen", "gym"]},
            geometry=_points(3),
            crs=CRS,
        ),
    }
    before = layers[LayerKind.RESIDENCES].copy()
    summary = summarise_park(layers)
    assert (summary.enterprises, summary.workers) == (2, 2000)
    assert (summary.residences, summary.beds, summary.residents) == (3, 500, 720)
    assert summary.amenities == 3
    by_category = dict(zip(*summary.amenities_by_category.T.values, strict=True))
    assert by_category["canteen"] == 2 and by_category["gym"] == 1
    assert by_category["hospital"] == 0
    assert len(summary.amenities_by_category) == len(AmenityCategory)
    by_kind = summary.residences_by_kind.set_index("kind")
    assert by_kind.loc["dorm"].tolist() == [2, 500, 470]
    assert by_kind.loc["community"].tolist() == [1, 0, 250]
    assert by_kind.loc["talent_apartment"].tolist() == [0, 0, 0]
    assert list(by_kind.index) == [kind.value for kind in ResidenceKind]
    assert layers[LayerKind.RESIDENCES].equals(before)


def test_missing_layers_count_as_empty_and_unknown_categories_are_kept() -> None:
    summary = summarise_park(
        {
            LayerKind.AMENITIES: gpd.GeoDataFrame(
                {"id": ["A1"], "category": ["karaoke"]}, geometry=_points(1), crs=CRS
            )
        }
    )
    assert (summary.enterprises, summary.workers, summary.residences, summary.beds) == (0, 0, 0, 0)
    assert summary.amenities_by_category.iloc[-1].tolist() == ["karaoke", 1]
    assert summary.residences_by_kind["count"].sum() == 0
