"""Apply a scenario to copies of a park's layers (the baseline is never modified).

The result is a new :class:`retention.storage.park.ParkData` whose ``data_version`` hashes the
baseline version with the scenario's content, so every cache keyed on a park version keys a
scenario apart from its baseline. The same engine then computes the scenario's travel times as
the baseline's (a full recomputation: the reference every faster path is tested against).

New routes become rows of the transit layers: one route row per service window (and per
enterprise when the route is open to named enterprises), so each row has the span and headway of
its window exactly as the transit model reads them (``retention.access.transit``). Their stops
carry ``minutes_from_start`` from :func:`retention.scenario.shuttle.cumulative_run_minutes`: run
times come from the same leg lengths the operating cost uses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from retention.access.network import StreetNetwork, network_from_roads, project_points
from retention.access.parameters import TimeWindow, TravelParameters
from retention.data.layers import WGS84, LayerKind
from retention.errors import ScenarioError
from retention.scenario.model import (
    AddAmenity,
    AddResidence,
    AddRoute,
    ChangeRouteService,
    CloseAmenity,
    MoveWorkers,
    RemoveRoute,
    ResizeAmenity,
    Scenario,
    ServiceWindow,
    scenario_key,
)
from retention.scenario.shuttle import RouteGeometry, ShuttleParameters, cumulative_run_minutes
from retention.storage.park import ParkData

SCENARIO_SOURCE = "scenario"
"""``source`` of every row a scenario adds."""
ROUTE_COPY_SEPARATOR = "@"
"""A new route's transit rows are ``<route_id>@<window>`` (``#<enterprise>`` when restricted)."""


def scenario_route_id(transit_route_id: str) -> str:
    """Return the scenario route id a transit row belongs to (the id itself for other routes)."""
    return transit_route_id.split(ROUTE_COPY_SEPARATOR, 1)[0]


@dataclass(frozen=True, eq=False)
class AppliedScenario:
    """A scenario applied to a park.

    Attributes
    ----------
    scenario
        The scenario.
    baseline
        The untouched baseline park.
    park
        The modified copy (same id, scenario ``data_version``).
    routes
        The new routes as they stand after every modification (``route_id`` -> AddRoute).
    geometries
        Leg lengths of each new route.
    moves
        ``(from residence, to residence, workers)`` of every move, in order.
    """

    scenario: Scenario
    baseline: ParkData
    park: ParkData
    routes: Mapping[str, AddRoute]
    geometries: Mapping[str, RouteGeometry]
    moves: tuple[tuple[str, str, int], ...]


def scenario_data_version(baseline_version: str, scenario: Scenario) -> str:
    """Return the data version of ``scenario`` applied to a park of ``baseline_version``."""
    text = f"{baseline_version}\n{scenario_key(scenario)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def route_geometry(
    route: AddRoute,
    network: StreetNetwork | None,
    *,
    params: TravelParameters,
) -> tuple[RouteGeometry, shapely.LineString]:
    """Measure a new route's legs along roads (or straight × circuity) and draw its line.

    Assumptions: vehicles use edges open to bikes (the network has no motor-vehicle flag);
    a stop farther than ``params.max_snap_distance_metres`` from that network, or a leg with no
    road path, is measured as the straight line × ``params.circuity_factor``.

    Returns
    -------
    tuple
        The leg lengths and the line through the stops (WGS84).
    """
    stops = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([s.lon for s in route.stops], [s.lat for s in route.stops]),
        crs=WGS84,
    )
    usable = (
        network is not None
        and route.snap_to_roads
        and not network.approximate
        and network.n_edges > 0
    )
    if not usable or network is None:
        return _straight(route, stops, params=params)
    snapped = network.snap(stops, mode="bike", max_distance_metres=params.max_snap_distance_metres)
    if (snapped.nodes < 0).any():
        return _straight(route, stops, params=params)
    graph = network.graph_minutes(mode="bike", speed_m_per_min=1.0)  # weights in metres
    sources = np.unique(snapped.nodes)
    distances, predecessors = dijkstra(graph, indices=sources, return_predecessors=True)
    row_of = {int(node): row for row, node in enumerate(sources)}
    legs: list[float] = []
    points: list[np.ndarray] = [snapped.xy[0]]
    deadhead = 0.0
    pairs = [(i, i + 1) for i in range(len(route.stops) - 1)]
    if not route.two_way:
        pairs.append((len(route.stops) - 1, 0))  # the empty run back
    for position, (a, b) in enumerate(pairs):
        start, end = int(snapped.nodes[a]), int(snapped.nodes[b])
        metres = distances[row_of[start], end]
        if not np.isfinite(metres):
            leg = float(np.hypot(*(snapped.xy[b] - snapped.xy[a])) * params.circuity_factor)
            path = [snapped.xy[b]]
        else:
            leg = float(metres + snapped.distance_metres[a] + snapped.distance_metres[b])
            nodes = [end]
            while nodes[-1] != start:
                nodes.append(int(predecessors[row_of[start], nodes[-1]]))
            path = [network.node_xy[n] for n in reversed(nodes)] + [snapped.xy[b]]
        if position < len(route.stops) - 1:
            legs.append(leg)
            points.extend(path)
        else:
            deadhead = leg
    line = gpd.GeoSeries([shapely.LineString(np.asarray(points))], crs=network.crs).to_crs(WGS84)
    geometry = RouteGeometry(
        leg_metres=tuple(legs),
        deadhead_metres=0.0 if route.two_way else deadhead,
        snapped=True,
    )
    return geometry, line.iloc[0]


def _straight(
    route: AddRoute, stops: gpd.GeoDataFrame, *, params: TravelParameters
) -> tuple[RouteGeometry, shapely.LineString]:
    from retention.data.crs import utm_crs_for_frame

    crs = utm_crs_for_frame(stops)
    xy = project_points(stops, crs=crs)
    legs = np.hypot(*np.diff(xy, axis=0).T) * params.circuity_factor
    back = float(np.hypot(*(xy[-1] - xy[0])) * params.circuity_factor)
    geometry = RouteGeometry(
        leg_metres=tuple(float(v) for v in legs),
        deadhead_metres=0.0 if route.two_way else back,
        snapped=False,
    )
    line = shapely.LineString([(s.lon, s.lat) for s in route.stops])
    return geometry, line


def apply_scenario(
    park: ParkData,
    scenario: Scenario,
    *,
    params: TravelParameters,
    windows: tuple[TimeWindow, ...],
    shuttle: ShuttleParameters | None = None,
    network: StreetNetwork | None = None,
) -> AppliedScenario:
    """Return the park with the scenario's modifications applied to copies of its layers.

    Assumes ``scenario`` passed :func:`retention.scenario.model.validate_scenario` for this park
    (ids exist, values in range); an id that does not exist still raises ``ScenarioError``.

    Parameters
    ----------
    park
        The baseline park (not modified).
    scenario
        The scenario.
    params
        Travel parameters (snap distance, circuity for unsnapped legs).
    windows
        Time windows, for the transit layer's headway columns.
    shuttle
        Dwell time per stop (default ``ShuttleParameters()``).
    network
        The park's road network, when already built (built from the roads layer otherwise).

    Returns
    -------
    AppliedScenario
    """
    shuttle = shuttle or ShuttleParameters()
    layers = dict(park.layers)
    copied: set[LayerKind] = set()

    def frame(kind: LayerKind) -> gpd.GeoDataFrame:
        if kind not in copied:
            layers[kind] = layers.get(kind, gpd.GeoDataFrame(geometry=[], crs=WGS84)).copy()
            copied.add(kind)
        return layers[kind]

    routes: dict[str, AddRoute] = {}
    moves: list[tuple[str, str, int]] = []
    field_of = {window.key: window.headway_field for window in windows}
    for modification in scenario.modifications:
        if isinstance(modification, AddRoute):
            routes[modification.route_id] = modification
        elif isinstance(modification, ChangeRouteService):
            if modification.route_id in routes:
                routes[modification.route_id] = _changed_route(
                    routes[modification.route_id], modification
                )
            else:
                table = frame(LayerKind.TRANSIT_ROUTES)
                rows = _rows(table, "route_id", modification.route_id, "route")
                for key, minutes in modification.headways:
                    column = field_of[key]
                    if column not in table.columns:
                        table[column] = np.nan
                    table.loc[rows, column] = np.nan if minutes is None else float(minutes)
                if modification.service_start:
                    table.loc[rows, "service_start"] = modification.service_start
                    table.loc[rows, "service_end"] = modification.service_end
        elif isinstance(modification, RemoveRoute):
            if modification.route_id in routes:
                del routes[modification.route_id]
            else:
                table = frame(LayerKind.TRANSIT_ROUTES)
                rows = _rows(table, "route_id", modification.route_id, "route")
                layers[LayerKind.TRANSIT_ROUTES] = table.drop(index=rows)
                stops = frame(LayerKind.TRANSIT_STOPS)
                gone = stops["route_id"].astype(str) == modification.route_id
                layers[LayerKind.TRANSIT_STOPS] = stops.loc[~gone]
        elif isinstance(modification, AddAmenity):
            layers[LayerKind.AMENITIES] = _append(
                frame(LayerKind.AMENITIES), _amenity_row(modification)
            )
        elif isinstance(modification, CloseAmenity):
            table = frame(LayerKind.AMENITIES)
            rows = _rows(table, "id", modification.amenity_id, "amenity")
            layers[LayerKind.AMENITIES] = table.drop(index=rows)
        elif isinstance(modification, ResizeAmenity):
            table = frame(LayerKind.AMENITIES)
            rows = _rows(table, "id", modification.amenity_id, "amenity")
            table.loc[rows, "capacity"] = float(modification.capacity)
            if modification.opening_hours:
                table.loc[rows, "opening_hours"] = modification.opening_hours
        elif isinstance(modification, AddResidence):
            table = _append(frame(LayerKind.RESIDENCES), _residence_row(modification))
            layers[LayerKind.RESIDENCES] = table
            for source, workers in modification.moves_in:
                _move(table, source, modification.residence_id, workers)
                moves.append((source, modification.residence_id, workers))
        elif isinstance(modification, MoveWorkers):
            _move(
                frame(LayerKind.RESIDENCES),
                modification.from_residence_id,
                modification.to_residence_id,
                modification.workers,
            )
            moves.append(
                (modification.from_residence_id, modification.to_residence_id, modification.workers)
            )
    geometries: dict[str, RouteGeometry] = {}
    if routes:
        if network is None:
            roads = layers.get(LayerKind.ROADS)
            network = None if roads is None or roads.empty else network_from_roads(roads)
        route_rows: list[dict[str, object]] = []
        stop_rows: list[dict[str, object]] = []
        known_stops = (
            set(frame(LayerKind.TRANSIT_STOPS)["stop_id"].astype(str))
            if len(layers.get(LayerKind.TRANSIT_STOPS, []))
            else set()
        )
        for route in routes.values():
            geometry, line = route_geometry(route, network, params=params)
            geometries[route.route_id] = geometry
            arrivals = cumulative_run_minutes(
                geometry,
                speed_kmh=route.speed_kmh,
                dwell_minutes_per_stop=shuttle.dwell_minutes_per_stop,
            )
            for service in route.service:
                for enterprise in route.open_to or ("",):
                    copy_id = f"{route.route_id}{ROUTE_COPY_SEPARATOR}{service.window}"
                    copy_id += f"#{enterprise}" if enterprise else ""
                    route_rows.append(
                        {
                            "route_id": copy_id,
                            "name": route.name,
                            "name_en": route.name,
                            "kind": route.kind,
                            "speed_kmh": route.speed_kmh,
                            field_of[service.window]: float(service.headway_minutes),
                            "service_start": service.start,
                            "service_end": service.end,
                            "fare_cny": route.fare_cny,
                            "enterprise_id": enterprise or None,
                            "one_way": not route.two_way,
                            "source": SCENARIO_SOURCE,
                            "geometry": line,
                        }
                    )
                    for sequence, (stop, at) in enumerate(
                        zip(route.stops, arrivals, strict=True), start=1
                    ):
                        stop_id = (
                            stop.ref
                            if stop.ref in known_stops
                            else (f"{route.route_id}-{sequence}")
                        )
                        stop_rows.append(
                            {
                                "stop_id": stop_id,
                                "route_id": copy_id,
                                "sequence": sequence,
                                "name": stop.name or stop_id,
                                "name_en": stop.name or stop_id,
                                "minutes_from_start": at,
                                "source": SCENARIO_SOURCE,
                                "geometry": shapely.Point(stop.lon, stop.lat),
                            }
                        )
        layers[LayerKind.TRANSIT_ROUTES] = _append(frame(LayerKind.TRANSIT_ROUTES), route_rows)
        layers[LayerKind.TRANSIT_STOPS] = _append(frame(LayerKind.TRANSIT_STOPS), stop_rows)
    modified = replace(
        park,
        layers=layers,
        data_version=scenario_data_version(park.data_version, scenario),
    )
    return AppliedScenario(
        scenario=scenario,
        baseline=park,
        park=modified,
        routes=dict(routes),
        geometries=geometries,
        moves=tuple(moves),
    )


def _changed_route(route: AddRoute, change: ChangeRouteService) -> AddRoute:
    service = {s.window: s for s in route.service}
    first = min(s.start for s in route.service)
    last = max(s.end for s in route.service)
    for key, minutes in change.headways:
        if minutes is None:
            service.pop(key, None)
        elif key in service:
            service[key] = replace(service[key], headway_minutes=float(minutes))
        else:
            service[key] = ServiceWindow(key, float(minutes), first, last)
    if change.service_start:
        service = {
            key: replace(s, start=change.service_start, end=change.service_end)
            for key, s in service.items()
        }
    return replace(route, service=tuple(service.values()))


def _rows(table: pd.DataFrame, column: str, value: str, what: str) -> pd.Index:
    if table.empty or column not in table.columns:
        rows = table.index[:0]
    else:
        rows = table.index[table[column].astype(str) == value]
    if not len(rows):
        raise ScenarioError(f"unknown {what} id {value!r}", column=column)
    return rows


def _append(
    table: gpd.GeoDataFrame, rows: list[dict[str, object]] | dict[str, object]
) -> gpd.GeoDataFrame:
    rows = [rows] if isinstance(rows, dict) else rows
    if not rows:
        return table
    added = gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)
    if table.crs is not None and table.crs != added.crs:
        added = added.to_crs(table.crs)
    combined = pd.concat([table, added], ignore_index=True)
    return gpd.GeoDataFrame(combined, geometry="geometry", crs=table.crs or WGS84)


def _amenity_row(mod: AddAmenity) -> dict[str, object]:
    return {
        "id": mod.amenity_id,
        "name": mod.name,
        "name_en": mod.name,
        "category": mod.category,
        "capacity": float(mod.capacity),
        "opening_hours": mod.opening_hours,
        "open_to": ",".join(mod.open_to),
        "source": SCENARIO_SOURCE,
        "geometry": shapely.Point(mod.lon, mod.lat),
    }


def _residence_row(mod: AddResidence) -> dict[str, object]:
    return {
        "id": mod.residence_id,
        "name": mod.name,
        "name_en": mod.name,
        "kind": mod.kind,
        "beds": int(mod.beds),
        "residents": 0.0,
        "rent_cny_month": float(mod.rent_cny_month),
        "enterprise_id": mod.enterprise_id or None,
        "source": SCENARIO_SOURCE,
        "geometry": shapely.Point(mod.lon, mod.lat),
    }


def _move(table: pd.DataFrame, source: str, target: str, workers: int) -> None:
    from_rows = _rows(table, "id", source, "residence")
    to_rows = _rows(table, "id", target, "residence")
    residents = pd.to_numeric(table["residents"], errors="coerce").fillna(0.0).astype(float)
    residents.loc[from_rows] -= workers
    residents.loc[to_rows] += workers
    if (residents.loc[from_rows] < 0).any():
        raise ScenarioError(
            f"residence {source!r} has fewer than {workers} residents to move", column="workers"
        )
    table["residents"] = residents


__all__ = [
    "ROUTE_COPY_SEPARATOR",
    "SCENARIO_SOURCE",
    "AppliedScenario",
    "apply_scenario",
    "route_geometry",
    "scenario_data_version",
    "scenario_route_id",
]
