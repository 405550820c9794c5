"""Origin sets for access indicators: residences, enterprises and an H3 grid, weighted, zoned.

Weights: a residence counts its ``residents``, an enterprise its ``employees``, and an H3 cell the
residents of the residences in it plus the employees of the enterprises in it (a worker who lives
and works in the same cell is counted twice: the cell weight is "people present at some time of
day", not a head count). Every origin is assigned to the park / grid / micro-grid zones that
contain it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from retention.data.layers import WGS84, LayerKind, ZoneLevel
from retention.errors import ValidationError

ORIGIN_SETS: tuple[str, ...] = ("residence", "enterprise", "h3")
ZONE_COLUMNS: Mapping[ZoneLevel, str] = MappingProxyType(
    {
        ZoneLevel.PARK: "park_zone_id",
        ZoneLevel.GRID: "grid_zone_id",
        ZoneLevel.MICRO_GRID: "micro_grid_zone_id",
    }
)
_COLUMNS = [
    "origin_set",
    "origin_id",
    "name",
    "weight",
    "enterprise_id",
    "h3_cell",
    "zone_id",
    *ZONE_COLUMNS.values(),
    "geometry",
]


def residence_origins(residences: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Residences as origins weighted by ``residents``; ``enterprise_id`` links a dormitory.

    Parameters
    ----------
    residences
        The residences layer (WGS84 points).

    Returns
    -------
    gpd.GeoDataFrame
        ``origin_set="residence"``, ``origin_id``, ``name``, ``weight``, ``enterprise_id``.
    """
    return _points_frame(
        residences,
        origin_set="residence",
        weight_column="residents",
        enterprise=residences.get("enterprise_id"),
    )


def enterprise_origins(enterprises: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Enterprises as origins (workplaces) weighted by ``employees``.

    Parameters
    ----------
    enterprises
        The enterprises layer (WGS84 points).

    Returns
    -------
    gpd.GeoDataFrame
        ``origin_set="enterprise"``; ``enterprise_id`` is the enterprise's own id.
    """
    return _points_frame(
        enterprises,
        origin_set="enterprise",
        weight_column="employees",
        enterprise=enterprises["id"] if "id" in enterprises.columns else None,
    )


def h3_origins(
    area: shapely.Geometry | None,
    residences: gpd.GeoDataFrame,
    enterprises: gpd.GeoDataFrame,
    *,
    resolution: int = 9,
) -> gpd.GeoDataFrame:
    """H3 cells covering ``area`` (and every cell holding a residence or enterprise).

    Assumptions: WGS84; h3 v4 (``geo_to_cells``: cells whose centre lies in the area). Cells
    with people outside the area are added so that no resident or employee is lost.

    Parameters
    ----------
    area
        (Multi)polygon to cover, in WGS84; None covers only the occupied cells.
    residences, enterprises
        Layers whose ``residents`` / ``employees`` give the cell weights.
    resolution
        H3 resolution (9: cells of about 0.1 km², edge ~200 m).

    Returns
    -------
    gpd.GeoDataFrame
        One row per cell: ``origin_set="h3"``, ``origin_id`` = ``h3_cell`` = the cell index,
        ``weight``, and the cell centre as geometry.
    """
    import h3

    if not 0 <= resolution <= 15:
        raise ValidationError(f"H3 resolution {resolution!r} is out of range; expected 0-15")
    cells: set[str] = set()
    if area is not None and not area.is_empty:
        cells |= set(h3.geo_to_cells(area, resolution))
    weight: dict[str, float] = {}
    for frame, column in ((residences, "residents"), (enterprises, "employees")):
        if frame is None or frame.empty:
            continue
        xy = _lon_lat(frame)
        values = pd.to_numeric(frame[column], errors="coerce").fillna(0).to_numpy(dtype=float)
        for (lon, lat), value in zip(xy, values, strict=True):
            if np.isfinite(lon) and np.isfinite(lat):
                cell = h3.latlng_to_cell(lat, lon, resolution)
                weight[cell] = weight.get(cell, 0.0) + value
    cells |= set(weight)
    ordered = sorted(cells)
    centres = [h3.cell_to_latlng(cell) for cell in ordered]
    return gpd.GeoDataFrame(
        {
            "origin_set": "h3",
            "origin_id": ordered,
            "name": ordered,
            "weight": [weight.get(cell, 0.0) for cell in ordered],
            "enterprise_id": pd.Series([None] * len(ordered), dtype=object),
            "h3_cell": ordered,
        },
        geometry=gpd.points_from_xy([c[1] for c in centres], [c[0] for c in centres]),
        crs=WGS84,
    )


def h3_cell_polygons(cells: list[str] | pd.Series) -> gpd.GeoDataFrame:
    """Hexagon polygons (WGS84) of H3 cells, for maps: columns ``h3_cell``, geometry."""
    import h3

    cells = [str(cell) for cell in cells]
    polygons = [
        shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]) for cell in cells
    ]
    return gpd.GeoDataFrame({"h3_cell": cells}, geometry=polygons, crs=WGS84)


def assign_zones(points: gpd.GeoDataFrame, zones: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Return the park / grid / micro-grid zone ids containing each point.

    Assumptions: ``zones`` follows the zones layer spec (``id``, ``level``); a point in two
    zones of the same level takes the smallest id; ``zone_id`` is the finest level found.

    Parameters
    ----------
    points
        Points with a CRS.
    zones
        The zones layer, or None.

    Returns
    -------
    pd.DataFrame
        Indexed like ``points``: ``zone_id`` and one column per level (``ZONE_COLUMNS``).
    """
    result = pd.DataFrame(index=points.index, columns=["zone_id", *ZONE_COLUMNS.values()])
    result = result.astype(object)
    if zones is None or zones.empty or points.empty:
        return result
    located = points[["geometry"]].to_crs(WGS84)
    zones = zones.to_crs(WGS84)
    for level, column in ZONE_COLUMNS.items():
        layer = zones[zones["level"].astype(str) == level.value][["id", "geometry"]]
        if layer.empty:
            continue
        joined = gpd.sjoin(located, layer, how="inner", predicate="within")
        joined = joined.assign(id=joined["id"].astype(str)).sort_values("id")
        first = joined[~joined.index.duplicated(keep="first")]["id"]
        result.loc[first.index, column] = first.to_numpy()
    finest = result[ZONE_COLUMNS[ZoneLevel.MICRO_GRID]]
    for level in (ZoneLevel.GRID, ZoneLevel.PARK):
        finest = finest.where(finest.notna(), result[ZONE_COLUMNS[level]])
    result["zone_id"] = finest
    return result


def park_area(layers: Mapping[LayerKind, gpd.GeoDataFrame]) -> shapely.Geometry | None:
    """The area the H3 grid covers: park-level zones, else all zones, else None (WGS84)."""
    zones = layers.get(LayerKind.ZONES)
    if zones is None or zones.empty:
        return None
    zones = zones.to_crs(WGS84)
    park_level = zones[zones["level"].astype(str) == ZoneLevel.PARK.value]
    chosen = park_level if len(park_level) else zones
    return shapely.union_all(chosen.geometry.to_numpy())


def origin_points(
    layers: Mapping[LayerKind, gpd.GeoDataFrame], *, h3_resolution: int = 9
) -> gpd.GeoDataFrame:
    """All origin sets of a park in one frame: residences, then enterprises, then H3 cells.

    Parameters
    ----------
    layers
        The park's layers (WGS84).
    h3_resolution
        Resolution of the H3 grid.

    Returns
    -------
    gpd.GeoDataFrame
        Columns ``origin_set, origin_id, name, weight, enterprise_id, h3_cell, zone_id,
        park_zone_id, grid_zone_id, micro_grid_zone_id, geometry`` (points, WGS84), index 0..n-1.
    """
    empty = gpd.GeoDataFrame(geometry=[], crs=WGS84)
    residences = layers.get(LayerKind.RESIDENCES, empty)
    enterprises = layers.get(LayerKind.ENTERPRISES, empty)
    frames = []
    if len(residences):
        frames.append(residence_origins(residences))
    if len(enterprises):
        frames.append(enterprise_origins(enterprises))
    frames.append(h3_origins(park_area(layers), residences, enterprises, resolution=h3_resolution))
    origins = pd.concat(frames, ignore_index=True)
    origins = gpd.GeoDataFrame(origins, geometry="geometry", crs=WGS84)
    zones = assign_zones(origins, layers.get(LayerKind.ZONES))
    for column in zones.columns:
        origins[column] = zones[column]
    return origins[_COLUMNS]


def _points_frame(
    layer: gpd.GeoDataFrame,
    *,
    origin_set: str,
    weight_column: str,
    enterprise: pd.Series | None,
) -> gpd.GeoDataFrame:
    for column in ("id", weight_column):
        if column not in layer.columns:
            raise ValidationError(f"{origin_set} layer has no {column!r} column", column=column)
    weights = pd.to_numeric(layer[weight_column], errors="coerce")
    bad = np.flatnonzero(weights.isna().to_numpy() | (weights < 0).to_numpy())
    if len(bad):
        raise ValidationError(
            f"{weight_column} {str(layer[weight_column].iloc[bad[0]])!r} is not a count; "
            "expected a "
            "whole number >= 0",
            row=int(bad[0]) + 1,
            column=weight_column,
        )
    lon_lat = _lon_lat(layer)
    linked = (
        pd.Series([None] * len(layer), dtype=object)
        if enterprise is None
        else enterprise.astype(object).where(enterprise.notna(), None).reset_index(drop=True)
    )
    linked = linked.map(lambda value: None if value is None else str(value))
    return gpd.GeoDataFrame(
        {
            "origin_set": origin_set,
            "origin_id": layer["id"].astype(str).to_numpy(),
            "name": layer["name"].astype(str).to_numpy() if "name" in layer else None,
            "weight": weights.to_numpy(dtype=float),
            "enterprise_id": linked.to_numpy(),
            "h3_cell": pd.Series([None] * len(layer), dtype=object).to_numpy(),
        },
        geometry=gpd.points_from_xy(lon_lat[:, 0], lon_lat[:, 1]),
        crs=WGS84,
    )


def _lon_lat(layer: gpd.GeoDataFrame) -> np.ndarray:
    """Longitude/latitude of points (centroids of polygons taken in WGS84; small areas)."""
    geometry = layer.geometry.to_crs(WGS84).to_numpy()
    xy = np.full((len(geometry), 2), np.nan)
    present = ~(pd.isna(geometry) | shapely.is_empty(geometry))
    centres = shapely.centroid(geometry[present])
    xy[present, 0] = shapely.get_x(centres)
    xy[present, 1] = shapely.get_y(centres)
    return xy
