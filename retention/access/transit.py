"""Transit model: routes as stop sequences with run times, headways per window and service span.

Frequency-based (no timetable): waiting is half the headway, every boarding adds a penalty, and a
route counts in a time window only if it has a headway for that window and its service span
covers at least ``TravelParameters.min_open_minutes(window)`` of it. Built from the
transit_routes + transit_stops layers or from a GTFS feed.

Assumptions: a route runs in both directions along the same stops with the same headway unless
its optional ``one_way`` column is true (a GTFS route with trips in one direction only is one
way); in-vehicle time comes from the distance along the route line between consecutive stops at
the route's ``speed_kmh``, or from an optional ``minutes_from_start`` column of the stops.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from retention.access.network import project_points
from retention.access.parameters import TimeWindow, TravelParameters
from retention.data.crs import utm_crs_for_frame
from retention.data.hours import MINUTES_PER_DAY, parse_opening_hours, parse_time_minutes
from retention.data.layers import WGS84
from retention.errors import ValidationError


@dataclass(frozen=True)
class TransitRoute:
    """One route: its stops in order, in-vehicle minutes from the first stop, headways.

    Parameters
    ----------
    route_id, name, kind
        Identity; ``kind`` is a ``retention.data.layers.TransitKind`` value.
    stop_ids
        Stops in riding order (at least two).
    cumulative_minutes
        In-vehicle minutes from the first stop to each stop (non-decreasing, starts at 0).
    headways
        ``(window key, headway minutes)`` pairs; a window not listed means no service in it.
    service_start, service_end
        First and last departure (``HH:MM``); an end at or before the start passes midnight.
    one_way
        True when vehicles only run in the listed stop order.
    enterprise_id
        For an enterprise shuttle (班车): the enterprise whose employees and dormitory residents
        may ride it; blank for public routes.
    """

    route_id: str
    name: str
    kind: str
    stop_ids: tuple[str, ...]
    cumulative_minutes: tuple[float, ...]
    headways: tuple[tuple[str, float], ...]
    service_start: str = "00:00"
    service_end: str = "24:00"
    one_way: bool = False
    enterprise_id: str = ""

    def __post_init__(self) -> None:
        where = f"route {self.route_id!r}"
        if len(self.stop_ids) < 2:
            raise ValidationError(f"{where} has {len(self.stop_ids)} stop(s); expected at least 2")
        if len(self.cumulative_minutes) != len(self.stop_ids):
            raise ValidationError(f"{where}: one cumulative run time per stop expected")
        steps = np.diff(self.cumulative_minutes)
        if self.cumulative_minutes[0] != 0 or (steps < 0).any():
            raise ValidationError(
                f"{where}: run times must start at 0 and never decrease along the stops"
            )
        for key, headway in self.headways:
            if not (math.isfinite(headway) and headway > 0):
                raise ValidationError(
                    f"{where}: headway {headway!r} for window {key!r}; expected minutes > 0"
                )
        for name in ("service_start", "service_end"):
            try:
                parse_time_minutes(getattr(self, name))
            except ValidationError as error:
                raise ValidationError(f"{where}, {name}: {error}") from error

    def serves(self, enterprise_id: str | None) -> bool:
        """Whether a rider belonging to ``enterprise_id`` (None: anyone) may use the route."""
        return not self.enterprise_id or self.enterprise_id == enterprise_id

    def headway_minutes(self, window: TimeWindow) -> float | None:
        """Headway in ``window`` as given, or None when the route lists none for it."""
        return dict(self.headways).get(window.key)

    def service_minutes(self, window: TimeWindow) -> int:
        """Minutes of ``window`` inside the route's daily service span."""
        start = parse_time_minutes(self.service_start)
        end = parse_time_minutes(self.service_end)
        if start % MINUTES_PER_DAY == end % MINUTES_PER_DAY:
            return window.duration_minutes  # runs around the clock
        span = parse_opening_hours(f"{self.service_start}-{self.service_end}")
        return span.open_minutes(window.day, window.start_minute, window.end_minute)

    def runs_in(self, window: TimeWindow, *, params: TravelParameters) -> bool:
        """Whether the route counts in ``window``: a headway, and service for long enough."""
        if self.headway_minutes(window) is None:
            return False
        return self.service_minutes(window) >= params.min_open_minutes(window)


@dataclass(frozen=True)
class TransitModel:
    """All routes of a park and the positions of their stops (WGS84).

    Parameters
    ----------
    routes
        The routes.
    stop_ids, stop_lon, stop_lat
        One entry per physical stop (a stop served by two routes appears once).
    notes
        Assumptions made while building (e.g. a stop far from its route line), for the UI.
    """

    routes: tuple[TransitRoute, ...]
    stop_ids: tuple[str, ...]
    stop_lon: tuple[float, ...]
    stop_lat: tuple[float, ...]
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        known = set(self.stop_ids)
        for route in self.routes:
            missing = [stop for stop in route.stop_ids if stop not in known]
            if missing:
                raise ValidationError(
                    f"route {route.route_id!r} uses stop(s) {missing} that have no position"
                )
        ids = [route.route_id for route in self.routes]
        if len(set(ids)) != len(ids):
            raise ValidationError(f"route ids repeat: {sorted(ids)}; expected unique route_id")

    def stops_frame(self) -> gpd.GeoDataFrame:
        """Physical stops as a point GeoDataFrame (``stop_id``) in WGS84."""
        return gpd.GeoDataFrame(
            {"stop_id": list(self.stop_ids)},
            geometry=gpd.points_from_xy(self.stop_lon, self.stop_lat),
            crs=WGS84,
        )

    def active_routes(
        self,
        window: TimeWindow,
        *,
        params: TravelParameters,
        enterprise_id: str | None = None,
    ) -> tuple[TransitRoute, ...]:
        """Routes that count in ``window`` for a rider of ``enterprise_id`` (None: public only)."""
        return tuple(
            route
            for route in self.routes
            if route.serves(enterprise_id) and route.runs_in(window, params=params)
        )

    @property
    def restricted_enterprises(self) -> tuple[str, ...]:
        """Enterprises that run routes only their own people may ride, sorted."""
        return tuple(sorted({route.enterprise_id for route in self.routes if route.enterprise_id}))

    def with_routes(
        self,
        routes: Sequence[TransitRoute],
        *,
        stops: gpd.GeoDataFrame | None = None,
    ) -> TransitModel:
        """Return a copy with ``routes`` added (a route with a known ``route_id`` replaces it).

        Scenario use: a new shuttle, or a changed headway, span or stop list
        (``dataclasses.replace`` on a route). Existing stops keep their order; new ones are
        appended, so an engine can reuse everything it knew about the old stops.

        Parameters
        ----------
        routes
            The new or changed routes.
        stops
            Positions of stops the model does not know yet: points with a ``stop_id`` column
            and a CRS. A known stop id listed again must be at the same place.

        Returns
        -------
        TransitModel
        """
        lon, lat, ids = list(self.stop_lon), list(self.stop_lat), list(self.stop_ids)
        if stops is not None and len(stops):
            if "stop_id" not in stops.columns:
                raise ValidationError("new stops have no 'stop_id' column", column="stop_id")
            if stops.crs is None:
                raise ValidationError("new stops have no coordinate reference system")
            where = stops.geometry.to_crs(WGS84)
            known = dict(
                zip(self.stop_ids, zip(self.stop_lon, self.stop_lat, strict=True), strict=True)
            )
            for row, (stop_id, point) in enumerate(
                zip(stops["stop_id"].astype(str), where, strict=True), start=1
            ):
                place = (float(point.x), float(point.y))
                if stop_id in known:
                    if not np.allclose(known[stop_id], place, atol=1e-7):
                        raise ValidationError(
                            f"stop {stop_id!r} is already at {known[stop_id]}, not {place}; "
                            "expected a new stop_id for a new place",
                            row=row,
                            column="stop_id",
                        )
                    continue
                known[stop_id] = place
                ids.append(stop_id)
                lon.append(place[0])
                lat.append(place[1])
        changed = {route.route_id: route for route in routes}
        if len(changed) != len(routes):
            raise ValidationError("the new routes repeat a route_id; expected one row per route")
        kept = tuple(changed.pop(route.route_id, route) for route in self.routes)
        return replace(
            self,
            routes=kept + tuple(changed.values()),
            stop_ids=tuple(ids),
            stop_lon=tuple(lon),
            stop_lat=tuple(lat),
        )

    def without_route(self, route_id: str) -> TransitModel:
        """Return a copy without route ``route_id`` (scenario: a line is withdrawn)."""
        routes = tuple(route for route in self.routes if route.route_id != route_id)
        if len(routes) == len(self.routes):
            raise ValidationError(f"route {route_id!r} is not in the transit model")
        return replace(self, routes=routes)


def empty_transit_model() -> TransitModel:
    """A park without transit."""
    return TransitModel(routes=(), stop_ids=(), stop_lon=(), stop_lat=())


def transit_model_from_layers(
    routes: gpd.GeoDataFrame,
    stops: gpd.GeoDataFrame,
    *,
    windows: tuple[TimeWindow, ...],
    params: TravelParameters,
) -> TransitModel:
    """Build the transit model from the transit_routes and transit_stops layers.

    Assumptions: columns per ``retention.data.layers.LAYER_SPECS``; each window's headways are in
    the routes column ``window.headway_field`` (blank: no service in that window); a blank
    ``speed_kmh`` uses ``params.bus_speed_kmh``. Ride distance between consecutive stops is
    measured along the route line; a stop farther than ``params.max_snap_distance_metres`` from
    its line is measured by straight line times the circuity factor, and noted.

    Parameters
    ----------
    routes
        transit_routes layer (lines).
    stops
        transit_stops layer (points; one row per stop and route, with ``sequence``).
    windows
        The time windows whose headways to read.
    params
        Travel parameters.

    Returns
    -------
    TransitModel
    """
    if routes.empty:
        return empty_transit_model()
    for column in ("route_id", "service_start", "service_end"):
        if column not in routes.columns:
            raise ValidationError(f"transit_routes has no {column!r} column", column=column)
    for column in ("stop_id", "route_id", "sequence"):
        if column not in stops.columns:
            raise ValidationError(f"transit_stops has no {column!r} column", column=column)
    crs = utm_crs_for_frame(stops.to_crs(WGS84)) if len(stops) else "EPSG:3857"
    stop_xy = project_points(stops, crs=crs)
    stops_wgs = stops.geometry.to_crs(WGS84)
    first_rows = ~stops["stop_id"].astype(str).duplicated()
    notes: list[str] = []
    built: list[TransitRoute] = []
    lines = routes.geometry.to_crs(crs)
    for row_number, (row_index, route) in enumerate(routes.iterrows(), start=1):
        route_id = str(route["route_id"])
        mine = np.flatnonzero(stops["route_id"].astype(str).to_numpy() == route_id)
        order = mine[np.argsort(stops["sequence"].to_numpy()[mine], kind="stable")]
        if len(order) < 2:
            raise ValidationError(
                f"route {route_id!r} has {len(order)} stop(s) in transit_stops; expected at "
                "least 2 rows with this route_id",
                row=row_number,
                column="route_id",
            )
        speed_kmh = _number(route.get("speed_kmh"))
        speed_m_per_min = (speed_kmh or params.bus_speed_kmh) * 1000.0 / 60.0
        cumulative = _given_run_minutes(stops, order)
        if cumulative is None:
            cumulative, far = _run_minutes_along_line(
                lines.loc[row_index],
                stop_xy[order],
                speed_m_per_min=speed_m_per_min,
                max_offset_metres=params.max_snap_distance_metres,
                circuity_factor=params.circuity_factor,
            )
            for position in far:
                stop_id = stops["stop_id"].iloc[order[position]]
                notes.append(
                    f"stop {stop_id!r} is more than {params.max_snap_distance_metres:g} m from "
                    f"route {route_id!r}'s line; its ride time uses the straight line × "
                    f"{params.circuity_factor:g}"
                )
        headways = []
        for window in windows:
            value = _number(route.get(window.headway_field))
            if value is not None:
                headways.append((window.key, value))
        try:
            built.append(
                TransitRoute(
                    route_id=route_id,
                    name=str(route.get("name", route_id)),
                    kind=str(route.get("kind", "bus")),
                    stop_ids=tuple(stops["stop_id"].astype(str).to_numpy()[order]),
                    cumulative_minutes=tuple(float(value) for value in cumulative),
                    headways=tuple(headways),
                    service_start=_clock_text(route["service_start"]),
                    service_end=_clock_text(route["service_end"]),
                    one_way=_truthy(route.get("one_way", False)),
                    enterprise_id=_text(route.get("enterprise_id")),
                )
            )
        except ValidationError as error:
            raise ValidationError(str(error), row=row_number) from error
    return TransitModel(
        routes=tuple(built),
        stop_ids=tuple(stops["stop_id"].astype(str)[first_rows]),
        stop_lon=tuple(stops_wgs.x[first_rows].astype(float)),
        stop_lat=tuple(stops_wgs.y[first_rows].astype(float)),
        notes=tuple(notes),
    )


def transit_model_from_gtfs(
    feed_or_path: Any,
    *,
    windows: tuple[TimeWindow, ...],
    params: TravelParameters,
) -> TransitModel:
    """Build the transit model from a GTFS feed (a path, or a ``gtfs_kit.Feed``).

    Assumptions: per route, the trip with the most stops in ``direction_id`` 0 (or the only
    direction) gives the stop sequence and the run times; a route with trips in both directions
    runs both ways. A window's headway is its length divided by the departures (from the first
    stop, in the busier direction) of trips whose service runs on the window's representative
    day (``calendar.txt``; every trip when there is no calendar). ``frequencies.txt`` is not
    read. The service span is the first to the last departure of the day.

    Parameters
    ----------
    feed_or_path
        A GTFS zip or directory, or a feed already read by ``gtfs_kit.read_feed``.
    windows
        The windows to compute headways for.
    params
        Travel parameters (unused for GTFS times; kept for a uniform signature).

    Returns
    -------
    TransitModel
    """
    del params  # run times come from the timetable
    try:
        import gtfs_kit
    except ImportError as error:  # pragma: no cover - gtfs-kit is pinned in requirements.txt
        raise ImportError("reading GTFS needs gtfs-kit: pip install gtfs-kit") from error
    if isinstance(feed_or_path, str | Path):
        feed = gtfs_kit.read_feed(Path(feed_or_path), dist_units="km")
    else:
        feed = feed_or_path
    stop_times = feed.stop_times.copy()
    stop_times["stop_id"] = stop_times["stop_id"].astype(str)
    departure = stop_times["departure_time"].fillna(stop_times["arrival_time"])
    arrival = stop_times["arrival_time"].fillna(stop_times["departure_time"])
    stop_times["departure_min"] = [gtfs_kit.timestr_to_seconds(t) / 60 for t in departure]
    stop_times["arrival_min"] = [gtfs_kit.timestr_to_seconds(t) / 60 for t in arrival]
    stop_times = stop_times.sort_values(["trip_id", "stop_sequence"])
    trips = feed.trips.copy()
    if "direction_id" not in trips.columns:
        trips["direction_id"] = 0
    trips["direction_id"] = trips["direction_id"].fillna(0).astype(int)
    first = stop_times.groupby("trip_id").agg(
        first_departure=("departure_min", "first"),
        last_arrival=("arrival_min", "last"),
        stop_count=("stop_id", "size"),
    )
    trips = trips.join(first, on="trip_id")
    routes_table = feed.routes.set_index("route_id")
    built: list[TransitRoute] = []
    for route_id, route_trips in trips.groupby("route_id", sort=True):
        directions = sorted(route_trips["direction_id"].unique())
        forward = route_trips[route_trips["direction_id"] == directions[0]]
        pattern_trip = forward.sort_values(["stop_count", "trip_id"], ascending=[False, True])
        pattern = stop_times[stop_times["trip_id"] == pattern_trip["trip_id"].iloc[0]]
        cumulative = pattern["arrival_min"].to_numpy() - pattern["departure_min"].iloc[0]
        cumulative[0] = 0.0
        headways = []
        service_first: list[float] = []
        service_last: list[float] = []
        for window in windows:
            running = route_trips[_runs_on(route_trips["service_id"], feed, window.day)]
            service_first += running["first_departure"].tolist()
            service_last += running["last_arrival"].tolist()
            counts = [
                int(_in_window(group["first_departure"].to_numpy(), window).sum())
                for _, group in running.groupby("direction_id")
            ]
            if counts and max(counts) > 0:
                headways.append((window.key, window.duration_minutes / max(counts)))
        name = (
            routes_table.loc[route_id].get("route_short_name")
            if route_id in routes_table.index
            else None
        )
        built.append(
            TransitRoute(
                route_id=str(route_id),
                name=str(name if isinstance(name, str) else route_id),
                kind="bus",
                stop_ids=tuple(pattern["stop_id"]),
                cumulative_minutes=tuple(np.maximum.accumulate(cumulative).astype(float)),
                headways=tuple(headways),
                service_start=_clock(min(service_first)) if service_first else "00:00",
                service_end=_clock(max(service_last)) if service_last else "24:00",
                one_way=len(directions) == 1,
            )
        )
    stops = feed.stops.copy()
    stops["stop_id"] = stops["stop_id"].astype(str)
    return TransitModel(
        routes=tuple(built),
        stop_ids=tuple(stops["stop_id"]),
        stop_lon=tuple(stops["stop_lon"].astype(float)),
        stop_lat=tuple(stops["stop_lat"].astype(float)),
    )


def _runs_on(service_ids: pd.Series, feed: Any, day: str) -> np.ndarray:
    calendar = getattr(feed, "calendar", None)
    if calendar is None or calendar.empty:
        return np.ones(len(service_ids), dtype=bool)
    column = {
        "Mo": "monday",
        "Tu": "tuesday",
        "We": "wednesday",
        "Th": "thursday",
        "Fr": "friday",
        "Sa": "saturday",
        "Su": "sunday",
    }[day]
    active = set(calendar.loc[calendar[column].astype(int) == 1, "service_id"].astype(str))
    return service_ids.astype(str).isin(active).to_numpy()


def _in_window(departures_min: np.ndarray, window: TimeWindow) -> np.ndarray:
    # GTFS times pass 24:00 for trips after midnight; compare on the day's clock both ways.
    start, end = window.start_minute, window.end_minute
    inside = np.zeros(len(departures_min), dtype=bool)
    for shift in (-MINUTES_PER_DAY, 0, MINUTES_PER_DAY):
        shifted = departures_min + shift
        inside |= (shifted >= start) & (shifted < end)
    return inside


def _clock(minutes: float) -> str:
    whole = round(minutes) % MINUTES_PER_DAY
    return f"{whole // 60:02d}:{whole % 60:02d}"


def _given_run_minutes(stops: gpd.GeoDataFrame, order: np.ndarray) -> np.ndarray | None:
    if "minutes_from_start" not in stops.columns:
        return None
    values = pd.to_numeric(stops["minutes_from_start"].iloc[order], errors="coerce").to_numpy()
    if np.isnan(values).any():
        return None
    return values - values[0]


def _run_minutes_along_line(
    line: Any,
    stop_xy: np.ndarray,
    *,
    speed_m_per_min: float,
    max_offset_metres: float,
    circuity_factor: float,
) -> tuple[np.ndarray, list[int]]:
    points = shapely.points(stop_xy)
    far: list[int] = []
    if line is None or shapely.is_empty(line):
        along = None
        far = list(range(len(stop_xy)))
    else:
        merged = shapely.line_merge(line) if line.geom_type == "MultiLineString" else line
        along = shapely.line_locate_point(merged, points)
        offsets = shapely.distance(merged, points)
        far = [int(i) for i in np.flatnonzero(offsets > max_offset_metres)]
    straight = np.hypot(*np.diff(stop_xy, axis=0).T) * circuity_factor
    if along is None:
        steps = straight
    else:
        steps = np.abs(np.diff(along))
        touches_far = np.zeros(len(steps), dtype=bool)
        for position in far:
            touches_far[max(position - 1, 0) : position + 1] = True
        # A stop digitised off the line would otherwise be projected to a wrong place.
        steps = np.where(touches_far, straight, steps)
    return np.concatenate([[0.0], np.cumsum(steps) / speed_m_per_min]), far


def _clock_text(value: Any) -> str:
    """``HH:MM`` from a string or a ``datetime.time`` (as the layer loader stores times)."""
    if isinstance(value, dt.time):
        return f"{value.hour:02d}:{value.minute:02d}"
    return str(value).strip()


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "是"}
    return bool(value) if value is not None and not pd.isna(value) else False
