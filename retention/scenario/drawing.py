"""A route drawn on the map, turned into stops on the road network (no user interface here).

The Scenario page's map sends what the planner drew as GeoJSON features (Leaflet.draw through
streamlit-folium): a line whose vertices are the stops, in riding order, or markers placed one by
one. Each drawn point becomes a stop:

* within ``pick_radius_metres`` of a place (an existing stop, residence, amenity or enterprise:
  ``retention.scenario.display.pickable_places``) it *is* that place — its position, name and id,
  so an existing stop id lets riders change there;
* otherwise it moves onto the nearest point of a road of the riding network (the network the
  route is measured on, ``retention.scenario.layers.route_geometry``) — sideways onto the road
  where the planner clicked, also in the middle of a block, not to a road vertex — if a road
  lies within the travel parameters' snap distance; a point farther from every road is refused
  with its distance.

Consecutive points that land on the same place, or on road points within
:data:`SAME_STOP_METRES` of each other, are one stop. The
line shown back to the planner is the route's own road path (``route_geometry``), the one its
run time and cost use. Walking to and from a stop is counted, like every point's, from the
nearest vertex of the walking network (``StreetNetwork.snap``: straight to it at walking speed);
``DrawnRoute.vertex_metres`` says how far that is for each stop, at most half a road segment
when the vertex ends the stop's own segment (the demo's roads have a vertex every 50 m).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from retention.access.network import StreetNetwork, project_points
from retention.access.parameters import TravelParameters
from retention.data.crs import CoordinateSystem, to_wgs84, utm_crs_for
from retention.data.layers import WGS84
from retention.errors import ScenarioError
from retention.scenario.layers import route_geometry
from retention.scenario.model import AddRoute, RouteStop

PICK_RADIUS_METRES = 60.0
"""A drawn point this close to a place is that place (about a building's frontage)."""
SAME_STOP_METRES = 25.0
"""Consecutive clicks whose road points are this close are one stop (a double click)."""
MAX_DRAWN_POINTS = 200
"""More points than this in one drawing is refused (a route has a few dozen stops at most)."""


@dataclass(frozen=True)
class DrawnRoute:
    """The stops and road line of a drawn route.

    Attributes
    ----------
    stops
        Stops in riding order (WGS84), at least two.
    line
        The route through the stops along the riding network (WGS84); straight segments when the
        park has no road network.
    leg_metres
        Length of each leg between consecutive stops.
    picked
        For each stop, whether it is an existing place (else a road node or the drawn point).
    moved_metres
        How far each stop is from the point drawn for it.
    on_roads
        Whether the line follows the road network.
    vertex_metres
        For each stop, how far the nearest vertex of the walking network is: walks to and from
        the stop are counted from there (straight at walking speed); 0 without a road network.
    """

    stops: tuple[RouteStop, ...]
    line: shapely.LineString
    leg_metres: tuple[float, ...]
    picked: tuple[bool, ...]
    moved_metres: tuple[float, ...]
    on_roads: bool
    vertex_metres: tuple[float, ...] = ()

    @property
    def length_metres(self) -> float:
        """One-way length from the first to the last stop."""
        return float(sum(self.leg_metres))


def drawn_points(features: object) -> list[tuple[float, float]]:
    """Return the drawn stop positions ``(lon, lat)``: the last line's vertices, else the markers.

    Parameters
    ----------
    features
        GeoJSON as streamlit-folium returns it (``all_drawings``): a list of Features, a
        FeatureCollection, or one Feature / geometry; or its JSON text.

    Returns
    -------
    list of tuple
        Positions in drawing order.

    Raises
    ------
    ScenarioError
        When the input is not GeoJSON of points and lines, a coordinate is not a finite number,
        or there are more than :data:`MAX_DRAWN_POINTS` points.
    """
    if isinstance(features, (str, bytes)):
        try:
            features = json.loads(features)
        except json.JSONDecodeError as error:
            raise ScenarioError(f"the drawing is not JSON: {error.msg}", column="drawing") from None
    if isinstance(features, Mapping) and features.get("type") == "FeatureCollection":
        features = features.get("features", [])
    if isinstance(features, Mapping):
        features = [features]
    if not isinstance(features, Sequence):
        raise ScenarioError(
            "the drawing is not a list of GeoJSON features; expected lines or markers",
            column="drawing",
        )
    lines: list[list[tuple[float, float]]] = []
    markers: list[tuple[float, float]] = []
    for number, feature in enumerate(features, start=1):
        geometry = feature.get("geometry", feature) if isinstance(feature, Mapping) else None
        kind = geometry.get("type") if isinstance(geometry, Mapping) else None
        coordinates: Any = geometry.get("coordinates") if isinstance(geometry, Mapping) else None
        if kind == "LineString":
            lines.append([_position(c, number) for c in coordinates or []])
        elif kind == "Point":
            markers.append(_position(coordinates, number))
        else:
            raise ScenarioError(
                f"drawn shape {number} is a {kind or 'shape of unknown type'}; expected a line "
                "or a marker",
                column="drawing",
            )
    points = lines[-1] if lines else markers
    if len(points) > MAX_DRAWN_POINTS:
        raise ScenarioError(
            f"the drawing has {len(points)} points; expected at most {MAX_DRAWN_POINTS}",
            column="drawing",
        )
    return points


def _position(value: object, number: int) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in value[:2])  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        lon = lat = float("nan")
    if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ScenarioError(
            f"drawn shape {number} has a position {value!r}; expected [longitude, latitude] in "
            "degrees",
            column="drawing",
        )
    return lon, lat


def route_from_drawing(
    features: object,
    network: StreetNetwork | None,
    places: pd.DataFrame,
    *,
    params: TravelParameters,
    display_system: CoordinateSystem | str = CoordinateSystem.WGS84,
    pick_radius_metres: float = PICK_RADIUS_METRES,
    stop_name: str = "Stop {n}",
) -> DrawnRoute:
    """Turn a drawing into route stops on the park's riding network, and its road line.

    Assumes ``places`` has the columns of ``retention.scenario.display.pickable_places`` (``ref``,
    ``label``, ``lon``, ``lat`` in WGS84) and ``network`` is the park's street network (``None``
    or approximate: stops stay where drawn and the line is straight).

    Parameters
    ----------
    features
        What was drawn (:func:`drawn_points` reads it).
    network
        The park's street network.
    places
        Places a stop may be picked at.
    params
        Travel parameters: ``max_snap_distance_metres`` bounds how far a stop may move onto a
        road, ``circuity_factor`` lengthens straight legs.
    display_system
        Coordinate system the map was drawn in (GCJ-02 under Amap tiles); stops are WGS84.
    pick_radius_metres
        A point this close to a place becomes that place.
    stop_name
        Name of a stop that is not a place; ``{n}`` is its number on the route.

    Returns
    -------
    DrawnRoute

    Raises
    ------
    ScenarioError
        Bad GeoJSON; fewer than two distinct stops; a point farther than the snap distance from
        every road (the message names the point and its distance).
    """
    points = drawn_points(features)
    if points:
        lons, lats = to_wgs84([p[0] for p in points], [p[1] for p in points], system=display_system)
        points = list(zip(lons.tolist(), lats.tolist(), strict=True))
    if len(points) < 2:
        raise ScenarioError(
            f"the drawing has {len(points)} point(s); expected a line through at least 2 stops "
            "or at least 2 markers",
            column="drawing",
        )
    drawn = gpd.GeoSeries(gpd.points_from_xy(*zip(*points, strict=True)), crs=WGS84)
    usable = network is not None and not network.approximate and network.n_edges > 0
    crs = network.crs if usable and network is not None else utm_crs_for(*zip(*points, strict=True))
    xy = project_points(drawn, crs=crs)
    nearest_place = _nearest_places(xy, places, crs=crs, radius_metres=pick_radius_metres)
    on_road = road_distance = None
    if usable and network is not None:
        on_road, road_distance = _onto_roads(network, xy)
        found = np.isfinite(road_distance)
        road_lonlat = np.full_like(on_road, np.nan)
        road_lonlat[found] = shapely.get_coordinates(
            gpd.GeoSeries(gpd.points_from_xy(*on_road[found].T), crs=crs).to_crs(WGS84)
        )
    keys: list[str] = []
    last_road: tuple[float, float] | None = None  # the previous stop's road point, if one
    stops: list[RouteStop] = []
    picked: list[bool] = []
    moved: list[float] = []
    for index, (lon, lat) in enumerate(points):
        place = nearest_place[index]
        road_point = None
        if place is not None:
            row, distance = place
            key = f"place:{row['ref']}"
            stop = RouteStop(
                float(row["lon"]), float(row["lat"]), str(row["label"]), str(row["ref"])
            )
        elif on_road is not None and road_distance is not None:
            distance = float(road_distance[index])
            if not distance <= params.max_snap_distance_metres:
                far = "no" if not np.isfinite(distance) else f"{distance:,.0f} m from the nearest"
                raise ScenarioError(
                    f"drawn point {index + 1} ({lon:.6f}, {lat:.6f}) is {far} road; expected "
                    f"within {params.max_snap_distance_metres:,.0f} m — draw the stop on a road",
                    column="drawing",
                )
            road_point = (float(on_road[index, 0]), float(on_road[index, 1]))
            key = "road:{:.0f},{:.0f}".format(*road_point)
            if last_road is not None and math.dist(last_road, road_point) <= SAME_STOP_METRES:
                continue  # two clicks on the same stop
            stop = RouteStop(float(road_lonlat[index, 0]), float(road_lonlat[index, 1]), "")
        else:
            key, distance = f"point:{lon:.7f},{lat:.7f}", 0.0
            stop = RouteStop(lon, lat, "")
        if keys and keys[-1] == key:
            continue  # two clicks on the same stop
        last_road = road_point
        keys.append(key)
        stops.append(stop)
        picked.append(place is not None)
        moved.append(float(distance))
    if len(stops) < 2:
        raise ScenarioError(
            "every drawn point lands on the same stop; expected at least 2 different stops",
            column="drawing",
        )
    stops = [
        stop if stop.name else RouteStop(stop.lon, stop.lat, stop_name.format(n=number), stop.ref)
        for number, stop in enumerate(stops, start=1)
    ]
    preview = AddRoute(route_id="drawn", name="", stops=tuple(stops), service=(), two_way=True)
    geometry, line = route_geometry(preview, network, params=params)
    vertex = np.zeros(len(stops))
    if usable and network is not None:
        where = gpd.GeoSeries(gpd.points_from_xy([s.lon for s in stops], [s.lat for s in stops]))
        vertex = network.snap(
            where.set_crs(WGS84), mode="walk", max_distance_metres=np.inf
        ).distance_metres
    return DrawnRoute(
        stops=tuple(stops),
        line=line,
        leg_metres=geometry.leg_metres,
        picked=tuple(picked),
        moved_metres=tuple(moved),
        on_roads=geometry.snapped,
        vertex_metres=tuple(float(v) for v in vertex),
    )


def _onto_roads(network: StreetNetwork, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each point (network CRS), the nearest point of a rideable road segment and how far
    it is (inf when no segment can be ridden)."""
    rideable = np.flatnonzero(network.mode_mask("bike"))
    points = np.full_like(xy, np.nan, dtype=float)
    distance = np.full(len(xy), np.inf)
    if len(rideable) == 0 or len(xy) == 0:
        return points, distance
    ends = np.stack(
        [network.node_xy[network.edge_u[rideable]], network.node_xy[network.edge_v[rideable]]],
        axis=1,
    )
    segments = shapely.linestrings(ends)
    clicked = shapely.points(xy)
    which, nearest = shapely.STRtree(segments).query_nearest(clicked, all_matches=False)
    road = segments[nearest]
    on_road = shapely.line_interpolate_point(road, shapely.line_locate_point(road, clicked[which]))
    points[which] = shapely.get_coordinates(on_road)
    distance[which] = shapely.distance(clicked[which], on_road)
    return points, distance


def _nearest_places(
    xy: np.ndarray, places: pd.DataFrame, *, crs: str, radius_metres: float
) -> list[tuple[Mapping[str, Any], float] | None]:
    """For each point, the nearest place within the radius and its distance, else ``None``."""
    if places.empty or radius_metres <= 0:
        return [None] * len(xy)
    where = gpd.GeoSeries(gpd.points_from_xy(places["lon"], places["lat"]), crs=WGS84)
    tree = cKDTree(project_points(where, crs=crs))
    distances, found = tree.query(xy)
    rows = places.reset_index(drop=True).to_dict("records")
    return [
        (rows[int(i)], float(d)) if d <= radius_metres else None
        for d, i in zip(distances, found, strict=True)
    ]


__all__ = [
    "MAX_DRAWN_POINTS",
    "PICK_RADIUS_METRES",
    "SAME_STOP_METRES",
    "DrawnRoute",
    "drawn_points",
    "route_from_drawing",
]
