"""Coordinate systems used by Chinese map services, and the local metric CRS.

Chinese web maps do not publish WGS84 coordinates: Amap (高德) and Tencent use GCJ-02 (国测局坐标,
"Mars coordinates"), a WGS84 position plus a deliberately obfuscated offset of a few hundred
metres; Baidu uses BD-09, a further rotation/scaling of GCJ-02. ParkLife keeps every layer in
WGS84 (EPSG:4326), so coordinates copied from those maps are converted on import.

The forward GCJ-02 formula is the widely published one (Krasovsky ellipsoid constants, as in the
open-source ``eviltransform`` and ``coordtransform`` projects); it is exact by definition. Its
inverse has no closed form, so :func:`gcj02_to_wgs84` solves it by fixed-point iteration to far
below a centimetre. Outside mainland China's bounding box GCJ-02 equals WGS84.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from retention.data.layers import WGS84
from retention.errors import CoordinateSystemError

FloatArray = npt.NDArray[np.float64]

# Constants of the published GCJ-02 algorithm: Krasovsky 1940 semi-major axis and the
# (WGS84-like) first eccentricity squared that the algorithm uses with it.
_GCJ_A_METRES = 6378245.0
_GCJ_EE = 0.00669342162296594323
# BD-09 rotation constant (x_pi = pi * 3000 / 180 in every published implementation).
_BD_X_PI = math.pi * 3000.0 / 180.0
_BD_DX = 0.0065
_BD_DY = 0.006
# Bounding box inside which GCJ-02 differs from WGS84 (the box coordtransform uses; GCJ-02 is a
# policy for mainland China, and a box is the accepted approximation of its extent).
_CHINA_LON = (73.66, 135.05)
_CHINA_LAT = (3.86, 53.55)
# Fixed-point iterations converge geometrically (the offset's Jacobian is ~1e-5 per degree);
# 1e-12 degrees is ~0.1 micrometre, far below any survey precision.
_TOLERANCE_DEGREES = 1e-12
_MAX_ITERATIONS = 30


class CoordinateSystem(StrEnum):
    """Geographic coordinate system a user's file is in."""

    WGS84 = "wgs84"  # GPS, OpenStreetMap, Tianditu (CGCS2000 differs from WGS84 by < 1 m)
    GCJ02 = "gcj02"  # Amap (高德), Tencent (腾讯), Google Maps in China
    BD09 = "bd09"  # Baidu (百度)


_SYSTEM_ALIASES: dict[str, CoordinateSystem] = {
    "wgs84": CoordinateSystem.WGS84,
    "wgs-84": CoordinateSystem.WGS84,
    "wgs 84": CoordinateSystem.WGS84,
    "epsg:4326": CoordinateSystem.WGS84,
    "4326": CoordinateSystem.WGS84,
    "gps": CoordinateSystem.WGS84,
    "cgcs2000": CoordinateSystem.WGS84,
    "gcj02": CoordinateSystem.GCJ02,
    "gcj-02": CoordinateSystem.GCJ02,
    "gcj": CoordinateSystem.GCJ02,
    "amap": CoordinateSystem.GCJ02,
    "gaode": CoordinateSystem.GCJ02,
    "tencent": CoordinateSystem.GCJ02,
    "高德": CoordinateSystem.GCJ02,
    "腾讯": CoordinateSystem.GCJ02,
    "火星坐标": CoordinateSystem.GCJ02,
    "国测局坐标": CoordinateSystem.GCJ02,
    "bd09": CoordinateSystem.BD09,
    "bd-09": CoordinateSystem.BD09,
    "bd09ll": CoordinateSystem.BD09,
    "baidu": CoordinateSystem.BD09,
    "百度": CoordinateSystem.BD09,
    "百度坐标": CoordinateSystem.BD09,
}


def parse_coordinate_system(text: str | CoordinateSystem) -> CoordinateSystem:
    """Return the coordinate system named by ``text`` (enum value, alias or map-service name).

    Parameters
    ----------
    text
        E.g. ``"wgs84"``, ``"GCJ-02"``, ``"amap"``, ``"高德"``, ``"baidu"``, ``"EPSG:4326"``.

    Returns
    -------
    CoordinateSystem
        The matching system; raises ``CoordinateSystemError`` listing the accepted names if none.
    """
    if isinstance(text, CoordinateSystem):
        return text
    key = str(text).strip().lower()
    if key in _SYSTEM_ALIASES:
        return _SYSTEM_ALIASES[key]
    accepted = ", ".join(sorted(_SYSTEM_ALIASES))
    raise CoordinateSystemError(
        f"unknown coordinate system {text!r}; expected one of: {accepted}",
        column="coordinate_system",
    )


def _as_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    lon_arr = np.asarray(lon, dtype=np.float64)
    lat_arr = np.asarray(lat, dtype=np.float64)
    if lon_arr.shape != lat_arr.shape:
        raise CoordinateSystemError(
            f"longitude and latitude arrays differ in shape: {lon_arr.shape} vs {lat_arr.shape}"
        )
    with np.errstate(invalid="ignore"):
        bad_lon = np.abs(lon_arr) > 180.0
        bad_lat = np.abs(lat_arr) > 90.0
    if bad_lon.any() or bad_lat.any():
        which = "longitude" if bad_lon.any() else "latitude"
        values = lon_arr[bad_lon] if bad_lon.any() else lat_arr[bad_lat]
        raise CoordinateSystemError(
            f"{which} {float(values.flat[0])!r} is impossible; expected longitude in "
            "[-180, 180] and latitude in [-90, 90] degrees",
            column=which,
        )
    return lon_arr, lat_arr


def in_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Return whether each point lies in the box where GCJ-02 differs from WGS84.

    Assumes degrees; NaN gives ``False``.
    """
    lon_arr = np.asarray(lon, dtype=np.float64)
    lat_arr = np.asarray(lat, dtype=np.float64)
    return (
        (lon_arr > _CHINA_LON[0])
        & (lon_arr < _CHINA_LON[1])
        & (lat_arr > _CHINA_LAT[0])
        & (lat_arr < _CHINA_LAT[1])
    )


def _gcj_offset_degrees(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return the GCJ-02 offset (d_lon, d_lat) in degrees at WGS84 position ``lon``, ``lat``."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    d_lat = d_lat + common
    d_lat = d_lat + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat = d_lat + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2 / 3
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    d_lon = d_lon + common
    d_lon = d_lon + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon = d_lon + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2 / 3
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_GCJ_A_METRES * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_GCJ_A_METRES / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, d_lon, 0.0), np.where(inside, d_lat, 0.0)


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 longitude/latitude to GCJ-02 (Amap, Tencent).

    Assumes degrees; points outside mainland China's box are returned unchanged; NaN stays NaN.

    Parameters
    ----------
    lon, lat
        WGS84 longitudes and latitudes (scalars or arrays of one shape).

    Returns
    -------
    tuple of ndarray
        GCJ-02 longitudes and latitudes.
    """
    lon_arr, lat_arr = _as_arrays(lon, lat)
    d_lon, d_lat = _gcj_offset_degrees(lon_arr, lat_arr)
    return lon_arr + d_lon, lat_arr + d_lat


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude to WGS84 by fixed-point iteration.

    Assumes degrees. Solves ``wgs84_to_gcj02(w) == g`` for ``w``: the offset varies by ~1e-5 of
    itself per degree, so each iteration gains about five digits and the result reproduces the
    input to below 1e-12 degrees (sub-millimetre). Outside China's box the input is returned.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitudes and latitudes.

    Returns
    -------
    tuple of ndarray
        WGS84 longitudes and latitudes.
    """
    g_lon, g_lat = _as_arrays(lon, lat)

    def update(w_lon: FloatArray, w_lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        d_lon, d_lat = _gcj_offset_degrees(w_lon, w_lat)
        return g_lon - d_lon, g_lat - d_lat

    return _fixed_point(g_lon.copy(), g_lat.copy(), update)


def _fixed_point(
    lon: FloatArray,
    lat: FloatArray,
    update: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
) -> tuple[FloatArray, FloatArray]:
    """Apply ``update`` from ``(lon, lat)`` until no coordinate moves ``_TOLERANCE_DEGREES``.

    Assumes ``update`` is a contraction near the answer (the inverse offsets are: they change by
    far less than a degree per degree); stops after ``_MAX_ITERATIONS`` regardless. NaN inputs
    stay NaN and do not hold the loop up.
    """
    for _ in range(_MAX_ITERATIONS):
        new_lon, new_lat = update(lon, lat)
        with np.errstate(invalid="ignore"):
            step = np.nanmax(np.abs(np.stack([new_lon - lon, new_lat - lat])), initial=0.0)
        lon, lat = new_lon, new_lat
        if step < _TOLERANCE_DEGREES:
            break
    return lon, lat


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu).

    Assumes degrees; the Baidu offset is applied everywhere (as Baidu's own converter does for
    GCJ-02 input); NaN stays NaN.
    """
    x, y = _as_arrays(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + _BD_DX, z * np.sin(theta) + _BD_DY


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitude/latitude to GCJ-02.

    Assumes degrees. Starts from the published closed-form approximation (error of a few
    centimetres) and refines it by fixed-point iteration on :func:`gcj02_to_bd09`, so that a
    round trip is exact to below a millimetre.
    """
    b_lon, b_lat = _as_arrays(lon, lat)
    x = b_lon - _BD_DX
    y = b_lat - _BD_DY
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)

    def update(g_lon: FloatArray, g_lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        f_lon, f_lat = gcj02_to_bd09(g_lon, g_lat)
        return g_lon - (f_lon - b_lon), g_lat - (f_lat - b_lat)

    return _fixed_point(z * np.cos(theta), z * np.sin(theta), update)


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 longitude/latitude to BD-09 (via GCJ-02). Assumes degrees."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitude/latitude to WGS84 (via GCJ-02). Assumes degrees."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, *, system: CoordinateSystem | str
) -> tuple[FloatArray, FloatArray]:
    """Convert longitude/latitude from ``system`` to WGS84.

    Assumes degrees; NaN stays NaN; impossible values raise ``CoordinateSystemError``.

    Parameters
    ----------
    lon, lat
        Coordinates in ``system`` (scalars or arrays of one shape).
    system
        The system the coordinates are in (enum or any name ``parse_coordinate_system`` accepts).

    Returns
    -------
    tuple of ndarray
        WGS84 longitudes and latitudes (new arrays; inputs are not modified).
    """
    parsed = parse_coordinate_system(system)
    if parsed is CoordinateSystem.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    if parsed is CoordinateSystem.BD09:
        return bd09_to_wgs84(lon, lat)
    lon_arr, lat_arr = _as_arrays(lon, lat)
    return lon_arr.copy(), lat_arr.copy()


def from_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, *, system: CoordinateSystem | str
) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 longitude/latitude to ``system`` (e.g. to show on an Amap base map).

    Assumes degrees; NaN stays NaN.

    Parameters
    ----------
    lon, lat
        WGS84 coordinates.
    system
        Target system.

    Returns
    -------
    tuple of ndarray
        Longitudes and latitudes in ``system``.
    """
    parsed = parse_coordinate_system(system)
    if parsed is CoordinateSystem.GCJ02:
        return wgs84_to_gcj02(lon, lat)
    if parsed is CoordinateSystem.BD09:
        return wgs84_to_bd09(lon, lat)
    lon_arr, lat_arr = _as_arrays(lon, lat)
    return lon_arr.copy(), lat_arr.copy()


def utm_crs_for(lon: npt.ArrayLike, lat: npt.ArrayLike) -> str:
    """Return the EPSG code of the WGS84 UTM zone containing the data's mean position.

    Assumes WGS84 degrees. Ignores the Norway/Svalbard zone exceptions (irrelevant in China).

    Parameters
    ----------
    lon, lat
        A point or arrays of points; NaN values are ignored.

    Returns
    -------
    str
        E.g. ``"EPSG:32649"`` for Zhuzhou (UTM 49N); ``327xx`` south of the equator.
    """
    lon_arr, lat_arr = _as_arrays(lon, lat)
    finite = np.isfinite(lon_arr) & np.isfinite(lat_arr)
    if not finite.any():
        raise CoordinateSystemError("cannot choose a UTM zone: no finite coordinates")
    mean_lon = float(np.mean(lon_arr[finite]))
    mean_lat = float(np.mean(lat_arr[finite]))
    zone = min(int((mean_lon + 180.0) // 6.0) + 1, 60)
    return f"EPSG:{32600 + zone if mean_lat >= 0 else 32700 + zone}"


def utm_crs_for_frame(gdf: gpd.GeoDataFrame) -> str:
    """Return the EPSG code of the UTM zone at the centre of a GeoDataFrame's WGS84 bounds."""
    if gdf.empty:
        raise CoordinateSystemError("cannot choose a UTM zone for an empty layer")
    # A frame without a CRS is taken to be lon/lat already (as GeoJSON is by definition).
    geographic = gdf if gdf.crs is None else gdf.to_crs(WGS84)
    min_x, min_y, max_x, max_y = geographic.total_bounds
    return utm_crs_for((min_x + max_x) / 2.0, (min_y + max_y) / 2.0)


def geometry_to_wgs84(
    geometry: npt.ArrayLike, *, system: CoordinateSystem | str
) -> npt.NDArray[np.object_]:
    """Convert shapely geometries of any type from ``system`` to WGS84.

    Assumes lon/lat degrees in x/y; every vertex is converted, so lines and polygons keep their
    topology (shared vertices stay shared). Empty and missing geometries pass through.

    Parameters
    ----------
    geometry
        A shapely geometry or an array of them.
    system
        The system the coordinates are in.

    Returns
    -------
    ndarray of shapely geometries
        New geometries in WGS84.
    """
    parsed = parse_coordinate_system(system)

    def convert(coords: FloatArray) -> FloatArray:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], system=parsed)
        return np.column_stack([lon, lat])

    return np.asarray(shapely.transform(geometry, convert))


def frame_to_wgs84(gdf: gpd.GeoDataFrame, *, system: CoordinateSystem | str) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` with geometries converted from ``system`` to WGS84 (EPSG:4326).

    Assumes a WGS84 system may arrive in any CRS (it is reprojected); GCJ-02 and BD-09 must be
    geographic lon/lat (their files usually say EPSG:4326 or nothing), else
    ``CoordinateSystemError``.

    Parameters
    ----------
    gdf
        Any geometry types; not modified.
    system
        The system the coordinates are in.

    Returns
    -------
    GeoDataFrame
        Same rows and columns, CRS EPSG:4326.
    """
    parsed = parse_coordinate_system(system)
    if parsed is CoordinateSystem.WGS84:
        if gdf.crs is None:
            return gdf.set_crs(WGS84, allow_override=True)
        return gdf.to_crs(WGS84)
    if gdf.crs is not None and not gdf.crs.is_geographic:
        raise CoordinateSystemError(
            f"coordinates said to be {parsed.value} but the file's CRS is projected "
            f"({gdf.crs.to_string()}); expected longitude/latitude degrees"
        )
    out = gdf.copy()
    out[out.geometry.name] = gpd.GeoSeries(
        geometry_to_wgs84(gdf.geometry.to_numpy(), system=parsed), index=gdf.index
    )
    return out.set_crs(WGS84, allow_override=True)
