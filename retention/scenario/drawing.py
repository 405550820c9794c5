"""A route drawn on the map, turned into stops on the road network (no user interface here).

The Scenario page's map sends what the planner drew as GeoJSON features (Leaflet.draw through
streamlit-folium): a line whose vertices are the stops, in riding order, or markers placed one by
one. Each drawn point becomes a stop:

* within ``pick_radius_metres`` of a place (an existing stop, residence, amenity or enterprise:
  ``retention.scenario.display.pickable_places``) it *is* that place — its position, name and id,
  so an existing stop id lets riders change there;
* otherwise it moves to the nearest node of the riding network (the network the route is
  measured on, ``retention.scenario.layers.route_geometry``), if one lies within the travel
  parameters' snap distance; a point farther from every road is refused with its distance.

Consecutive points that land on the same place or node are one stop. The line shown back to the
planner is the route's own road path (``route_geometry``), the one its run time and cost use.
"""

from __future__ import annotations

import json
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
    """

    stops: tuple[RouteStop, ...]
    line: shapely.LineString
    leg_metres: tuple[float, ...]
    picked: tuple[bool, ...]
    moved_metres: tuple[float, ...]
    on_roads: bool

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
    snapped = None
    if usable and network is not None:
        snapped = network.snap(
            drawn, mode="bike", max_distance_metres=params.max_snap_distance_metres
        )
    keys: list[str] = []
    stops: list[RouteStop] = []
    picked: list[bool] = []
    moved: list[float] = []
    for index, (lon, lat) in enumerate(points):
        place = nearest_place[index]
        if place is not None:
            row, distance = place
            key = f"place:{row['ref']}"
            stop = RouteStop(
                float(row["lon"]), float(row["lat"]), str(row["label"]), str(row["ref"])
            )
        elif snapped is not None and network is not None:
            node = int(snapped.nodes[index])
            if node < 0:
                raise ScenarioError(
                    f"drawn point {index + 1} ({lon:.6f}, {lat:.6f}) is "
                    f"{snapped.distance_metres[index]:,.0f} m from the nearest road; expected "
                    f"within {params.max_snap_distance_metres:,.0f} m — draw the stop on a road",
                    column="drawing",
                )
            key = f"node:{node}"
            node_lon, node_lat = _node_lonlat(network, node)
            distance = float(snapped.distance_metres[index])
            stop = RouteStop(node_lon, node_lat, "")
        else:
            key, distance = f"point:{lon:.7f},{lat:.7f}", 0.0
            stop = RouteStop(lon, lat, "")
        if keys and keys[-1] == key:
            continue  # two clicks on the same stop
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
    return DrawnRoute(
        stops=tuple(stops),
        line=line,
        leg_metres=geometry.leg_metres,
        picked=tuple(picked),
        moved_metres=tuple(moved),
        on_roads=geometry.snapped,
    )


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


def _node_lonlat(network: StreetNetwork, node: int) -> tuple[float, float]:
    point = gpd.GeoSeries([shapely.Point(network.node_xy[node])], crs=network.crs).to_crs(WGS84)
    return float(point.iloc[0].x), float(point.iloc[0].y)


__all__ = [
    "MAX_DRAWN_POINTS",
    "PICK_RADIUS_METRES",
    "DrawnRoute",
    "drawn_points",
    "route_from_drawing",
]
