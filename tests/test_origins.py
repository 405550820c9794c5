"""Tests for retention.access.origins: weights, H3 grid, zone assignment."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pytest
from shapely.geometry import Point, box

from retention.access.origins import (
    assign_zones,
    h3_cell_polygons,
    h3_origins,
    origin_points,
    park_area,
)
from retention.data.layers import LayerKind
from retention.errors import ValidationError

PARK = box(113.14, 27.84, 113.16, 27.86)


def _zones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["P", "G-west", "G-east", "M1"],
            "name": ["park", "west", "east", "micro"],
            "level": ["park", "grid", "grid", "micro_grid"],
            "parent": [None, "P", "P", "G-west"],
        },
        geometry=[
            PARK,
            box(113.14, 27.84, 113.15, 27.86),
            box(113.15, 27.84, 113.16, 27.86),
            box(113.14, 27.84, 113.145, 27.845),
        ],
        crs="EPSG:4326",
    )


def _residences() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["D1", "V1"],
            "name": ["Dorm", "Village"],
            "residents": [380, 200],
            "enterprise_id": ["E1", None],
        },
        # The village lies outside the park, east of it.
        geometry=[Point(113.142, 27.842), Point(113.175, 27.85)],
        crs="EPSG:4326",
    )


def _enterprises() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["E1", "E2"], "name": ["Plant", "Works"], "employees": [1000, 50]},
        geometry=[Point(113.155, 27.855), Point(113.1421, 27.8421)],
        crs="EPSG:4326",
    )


def _layers() -> dict[LayerKind, gpd.GeoDataFrame]:
    return {
        LayerKind.ZONES: _zones(),
        LayerKind.RESIDENCES: _residences(),
        LayerKind.ENTERPRISES: _enterprises(),
    }


def test_origin_sets_weights_and_links() -> None:
    origins = origin_points(_layers())
    assert origins.crs == "EPSG:4326"
    people = origins[origins["origin_set"] != "h3"]
    assert people["origin_id"].tolist() == ["D1", "V1", "E1", "E2"]
    assert people["weight"].tolist() == [380.0, 200.0, 1000.0, 50.0]
    assert people["enterprise_id"].tolist() == ["E1", None, "E1", "E2"]
    assert list(origins.index) == list(range(len(origins)))


def test_h3_grid_covers_park_and_keeps_every_person() -> None:
    origins = origin_points(_layers())
    cells = origins[origins["origin_set"] == "h3"]
    expected = set(h3.geo_to_cells(PARK, 9))
    village_cell = h3.latlng_to_cell(27.85, 113.175, 9)
    assert village_cell not in expected
    assert set(cells["h3_cell"]) == expected | {village_cell}
    assert cells["weight"].sum() == pytest.approx(380 + 200 + 1000 + 50)
    # Dorm D1 and enterprise E2 share a cell: 380 residents + 50 employees.
    shared = h3.latlng_to_cell(27.842, 113.142, 9)
    assert cells.set_index("h3_cell").loc[shared, "weight"] == pytest.approx(430)
    assert (cells["origin_id"] == cells["h3_cell"]).all()


def test_h3_centres_are_cell_centres() -> None:
    cells = h3_origins(PARK, _residences(), _enterprises(), resolution=8)
    cell = cells["h3_cell"].iloc[0]
    lat, lng = h3.cell_to_latlng(cell)
    assert (cells.geometry.iloc[0].x, cells.geometry.iloc[0].y) == pytest.approx((lng, lat))
    polygons = h3_cell_polygons(cells["h3_cell"])
    assert polygons.geometry.contains(cells.geometry.reset_index(drop=True)).all()


def test_h3_without_area_covers_only_occupied_cells() -> None:
    cells = h3_origins(None, _residences(), _enterprises())
    assert len(cells) == 3  # D1+E2 share one cell; V1 and E1 have one each
    with pytest.raises(ValidationError, match=r"H3 resolution 16 is out of range"):
        h3_origins(None, _residences(), _enterprises(), resolution=16)


def test_zones_by_level_and_finest_zone() -> None:
    origins = origin_points(_layers())
    by_id = origins.set_index("origin_id")
    assert by_id.loc["D1", "park_zone_id"] == "P"
    assert by_id.loc["D1", "grid_zone_id"] == "G-west"
    assert by_id.loc["D1", "micro_grid_zone_id"] == "M1"
    assert by_id.loc["D1", "zone_id"] == "M1"
    assert by_id.loc["E1", "zone_id"] == "G-east"
    assert by_id.loc["V1", ["zone_id", "park_zone_id"]].isna().all()


def test_assign_zones_without_zones_is_empty() -> None:
    zones = assign_zones(_residences(), None)
    assert zones.isna().all().all()
    assert list(zones.columns) == [
        "zone_id",
        "park_zone_id",
        "grid_zone_id",
        "micro_grid_zone_id",
    ]


def test_park_area_prefers_park_level() -> None:
    assert park_area(_layers()).equals(PARK)
    grids_only = _zones()[lambda z: z["level"] == "grid"]
    assert park_area({LayerKind.ZONES: grids_only}).area == pytest.approx(PARK.area)
    assert park_area({}) is None


def test_bad_weight_names_row_and_column() -> None:
    residences = _residences()
    residences.loc[1, "residents"] = -5
    with pytest.raises(
        ValidationError,
        match=r"row 2, column 'residents': residents '-5' is not a count; expected a whole",
    ):
        origin_points({LayerKind.RESIDENCES: residences})


def test_inputs_are_not_modified() -> None:
    layers = _layers()
    before = {kind: frame.copy() for kind, frame in layers.items()}
    origin_points(layers)
    for kind, frame in layers.items():
        assert frame.equals(before[kind])
    assert np.isfinite(origin_points(layers)["weight"]).all()
