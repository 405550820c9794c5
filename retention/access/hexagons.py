"""H3 hexagon summaries of point indicators and reachable-area (isochrone) polygons.

Points are WGS84 longitude/latitude. Hexagons are H3 cells (resolution 9 ≈ 200 m edge, 0.1 km²,
fine enough for a park a few kilometres across; resolution 10 ≈ 76 m for isochrones along
streets).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import h3
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from retention.data.layers import WGS84
from retention.errors import ParameterError


def _cell_polygon(cell: str) -> shapely.Polygon:
    # h3 returns (lat, lng) pairs; shapely wants (x = lon, y = lat).
    return shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])


def _coordinates(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    lons = np.asarray(lon, dtype=float)
    lats = np.asarray(lat, dtype=float)
    if lons.shape != lats.shape or lons.ndim != 1:
        raise ParameterError(
            f"lon and lat must be 1-D of equal length, got {lons.shape} and {lats.shape}",
            column="lon",
        )
    bad = np.flatnonzero(~np.isfinite(lons) | ~np.isfinite(lats) | (np.abs(lats) > 90))
    if bad.size:
        raise ParameterError(
            f"expected WGS84 coordinates, got ({lons[bad[0]]}, {lats[bad[0]]})",
            row=int(bad[0]) + 1,
            column="lon",
        )
    return lons, lats


def _resolution(resolution: int) -> int:
    if not isinstance(resolution, int) or not 0 <= resolution <= 15:
        raise ParameterError(
            f"must be an H3 resolution 0-15, got {resolution!r}", column="resolution"
        )
    return resolution


def point_cells(lon: npt.ArrayLike, lat: npt.ArrayLike, *, resolution: int = 9) -> list[str]:
    """Return the H3 cell of each WGS84 point."""
    lons, lats = _coordinates(lon, lat)
    res = _resolution(resolution)
    return [h3.latlng_to_cell(y, x, res) for x, y in zip(lons, lats, strict=True)]


def hexagon_means(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    values: npt.ArrayLike,
    people: npt.ArrayLike,
    *,
    resolution: int = 9,
) -> gpd.GeoDataFrame:
    """Return the people-weighted mean of a per-point indicator in each H3 hexagon.

    Assumes WGS84 points. ``inf`` values (unreachable) make the cell's mean ``inf``; NaN values
    are left out of the mean. A cell whose people sum to 0 gets the plain mean of its points so
    that empty dormitories still show on the map.

    Parameters
    ----------
    lon, lat
        Point coordinates.
    values
        Indicator per point.
    people
        People per point (residents or employees).
    resolution
        H3 resolution.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per occupied cell: ``cell``, ``value``, ``people``, ``points``, ``geometry``
        (EPSG:4326).
    """
    cells = point_cells(lon, lat, resolution=resolution)
    frame = pd.DataFrame(
        {
            "cell": cells,
            "value": np.asarray(values, dtype=float),
            "people": np.asarray(people, dtype=float),
        }
    )
    rows = []
    for cell, group in frame.groupby("cell", sort=True):
        valid = group[~group["value"].isna()]
        weights = valid["people"].to_numpy()
        vals = valid["value"].to_numpy()
        if valid.empty:
            value = np.nan
        elif np.isinf(vals).any():
            value = np.inf
        elif weights.sum() > 0:
            value = float(np.average(vals, weights=weights))
        else:
            value = float(vals.mean())
        rows.append((cell, value, float(group["people"].sum()), len(group)))
    result = pd.DataFrame(rows, columns=["cell", "value", "people", "points"])
    geometry = [_cell_polygon(cell) for cell in result["cell"]]
    return gpd.GeoDataFrame(result, geometry=geometry, crs=WGS84)


def reachable_areas(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    minutes: npt.ArrayLike,
    *,
    thresholds_minutes: Sequence[float] = (5.0, 10.0, 15.0),
    resolution: int = 10,
) -> gpd.GeoDataFrame:
    """Return, for each time budget, the area covered by H3 cells of the points reached within it.

    Assumes WGS84 points (e.g. street-network nodes) with the travel minutes to each from one
    origin (``inf``/NaN unreachable). The area is the union of the cells that hold a point with
    ``minutes <= T``: it follows the streets, unlike a convex hull.

    Parameters
    ----------
    lon, lat
        Point coordinates.
    minutes
        Travel minutes from the origin to each point.
    thresholds_minutes
        Time budgets, e.g. the 5/10/15-minute living circles.
    resolution
        H3 resolution of the cells.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per budget, largest first (so smaller ones draw on top): ``minutes``, ``cells``,
        ``geometry`` (EPSG:4326; empty when nothing is reached).
    """
    times = np.asarray(minutes, dtype=float)
    cells = np.asarray(point_cells(lon, lat, resolution=resolution), dtype=object)
    if times.shape != cells.shape:
        raise ParameterError(
            f"expected one travel time per point ({cells.shape[0]}), got {times.shape}",
            column="minutes",
        )
    rows = []
    for budget in sorted((float(b) for b in thresholds_minutes), reverse=True):
        if not budget > 0:
            raise ParameterError(
                f"time budgets must be positive minutes, got {budget!r}",
                column="thresholds_minutes",
            )
        reached = sorted(set(cells[np.nan_to_num(times, nan=np.inf) <= budget]))
        polygons = [_cell_polygon(cell) for cell in reached]
        geometry = shapely.union_all(polygons) if polygons else shapely.Polygon()
        rows.append({"minutes": budget, "cells": len(reached), "geometry": geometry})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)
