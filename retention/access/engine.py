"""The park's travel-time engine: built once, asked "what if" without a full rebuild.

``ParkEngine`` holds one park's street graphs, snapped points, transit model and every
travel-time matrix (``TravelTimeResult``). It is built from the park's layers (GeoDataFrames by
``LayerKind``), travel parameters and time windows, and shared read-only (``st.cache_resource``).

Contract (what scenarios rely on):

- **The baseline is never mutated.** An engine never changes after construction; every array it
  holds is read-only (``ndarray.flags.writeable`` is False), so a stray write raises.
- **Operations return a new engine** (``with_routes``, ``without_routes``, ``with_amenities``,
  ``without_amenities``, ``with_capacities``, ``with_residences``, ``with_enterprises``) whose
  ``result`` shares, by reference, every array the change does not touch and computes only what
  it touches: a route change recomputes transit legs only (walk and e-bike arrays are the same
  objects, and a window whose running routes did not change keeps its transit array); new
  amenities get their columns computed and appended; closed amenities lose their columns; a new
  capacity touches no minutes; new residences or enterprises get their rows computed.
- **Same answers as a rebuild**: an operation's result equals building an engine on the modified
  layers (up to float summation order in the street searches, ~1e-12 minutes before the float32
  cast). Operations chain: ``engine.with_routes(...).with_amenities(...)``.
- Isochrones use the engine's own graphs (no second network build).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from retention.access import indicators
from retention.access.network import SnappedPoints, approximate_network, network_from_roads
from retention.access.origins import origin_points
from retention.access.parameters import DEFAULT_TIME_WINDOWS, TimeWindow, TravelParameters
from retention.access.transit import TransitModel, TransitRoute, transit_model_from_layers
from retention.access.travel_times import (
    MODES,
    Mode,
    TransitLegs,
    TravelTimeEngine,
    TravelTimeResult,
    _check_mode,
    _open_minutes,
    _same_stop_prefix,
    _subset,
)
from retention.data.crs import utm_crs_for_frame
from retention.data.layers import WGS84, LayerKind
from retention.errors import ValidationError

Layers = Mapping[LayerKind, gpd.GeoDataFrame]


@dataclass(frozen=True, eq=False)
class _Points:
    """One point set placed on the networks: walk snap, e-bike snap (None without e-bike)."""

    walk: SnappedPoints
    bike: SnappedPoints | None

    def take(self, rows: np.ndarray) -> _Points:
        return _Points(
            walk=_subset(self.walk, rows),
            bike=None if self.bike is None else _subset(self.bike, rows),
        )


@dataclass(frozen=True, eq=False)
class _Legs:
    """Every matrix of one engine state (read-only arrays; shared between states).

    ``walk`` / ``ebike``: float32 origins x amenities; ``to_stops``: float64 origins x stops;
    ``egress``: float64 stops x amenities; ``transit``: window key -> float32 origins x
    amenities; ``signatures``: window key -> what each rider group could ride in it;
    ``transit_legs``: window key -> rider group -> the legs its transit minutes were built
    from (only while rows and columns are those of the transit arrays; empty after an amenity
    or origin operation, when the next route change recomputes its windows in full).
    """

    walk: np.ndarray
    ebike: np.ndarray | None
    to_stops: np.ndarray | None
    egress: np.ndarray | None
    transit: Mapping[str, np.ndarray]
    signatures: Mapping[str, Any]
    transit_legs: Mapping[str, Mapping[str | None, TransitLegs]] = field(
        default_factory=lambda: MappingProxyType({})
    )


class ParkEngine:
    """Travel times of one park by mode and window, with what-if operations.

    Build with :meth:`build` (from layers) and read :attr:`result`. See the module docstring
    for the contract: the engine is immutable, operations return new engines sharing the
    untouched arrays, and answers equal a full rebuild on the modified data.
    """

    def __init__(
        self,
        *,
        layers: Layers,
        travel: TravelTimeEngine,
        windows: tuple[TimeWindow, ...],
        modes: tuple[Mode, ...],
        h3_resolution: int,
        origins: gpd.GeoDataFrame,
        origin_points_: _Points,
        amenities: gpd.GeoDataFrame,
        amenity_points: _Points,
        legs: _Legs,
        open_minutes: np.ndarray,
    ) -> None:
        self._layers: Layers = MappingProxyType(dict(layers))
        self._travel = travel
        self._windows = tuple(windows)
        self._modes = tuple(modes)
        self._h3_resolution = h3_resolution
        self._origins = origins
        self._origin_points = origin_points_
        self._amenities = amenities
        self._amenity_points = amenity_points
        self._legs = legs
        minutes: dict[tuple[str, str], np.ndarray] = {}
        for window in self._windows:
            if "walk" in self._modes:
                minutes[("walk", window.key)] = legs.walk
            if "ebike" in self._modes and legs.ebike is not None:
                minutes[("ebike", window.key)] = legs.ebike
            if "transit" in self._modes:
                minutes[("transit", window.key)] = legs.transit[window.key]
        self._result = TravelTimeResult(
            origins=origins,
            amenities=amenities,
            windows=self._windows,
            minutes=MappingProxyType(minutes),
            open_minutes=open_minutes,
            params=travel.params,
            approximate=travel.approximate,
            snap_report=_snap_report(origin_points_, amenity_points, travel),
            notes=travel.transit.notes,
        )

    # --- building ------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        layers: Layers,
        *,
        params: TravelParameters,
        windows: tuple[TimeWindow, ...] = DEFAULT_TIME_WINDOWS,
        modes: tuple[Mode, ...] = MODES,
        h3_resolution: int = 9,
        transit: TransitModel | None = None,
        streets: TravelTimeEngine | None = None,
    ) -> ParkEngine:
        """Build the engine and every matrix of a park.

        Assumptions: ``layers`` maps ``LayerKind`` to WGS84 GeoDataFrames (a
        ``retention.storage.park.ParkData``'s ``layers``); without roads the straight-line x
        circuity fallback is used and the result is flagged ``approximate``.

        Parameters
        ----------
        layers
            The park's layers.
        params
            Travel parameters.
        windows
            Time windows to compute.
        modes
            Modes to compute (walking is always computed: transit starts from it).
        h3_resolution
            Resolution of the H3 origin grid.
        transit
            A transit model to use instead of the one read from the transit layers (e.g. an
            engine's ``transit`` after route operations).
        streets
            :func:`park_streets` of the same layers and parameters when already built (its
            network is then shared, not built again).

        Returns
        -------
        ParkEngine
        """
        modes = tuple(_check_mode(mode) for mode in modes)
        amenities = _layer(layers, LayerKind.AMENITIES).reset_index(drop=True)
        origins = origin_points(layers, h3_resolution=h3_resolution)
        if streets is not None and streets.params != params:
            raise ValidationError(
                "the street engine was built with other travel parameters than the park engine"
            )
        if streets is None:
            travel = park_streets(layers, params=params, windows=windows, transit=transit)
        else:
            travel = streets if transit is None else streets.with_transit(transit)
        origin_at = _place(travel, origins, _origin_ids(origins), modes)
        amenity_at = _place(travel, amenities, amenities["id"].astype(str).to_numpy(), modes)
        legs = _compute_legs(
            travel, origins, origin_at, amenity_at, windows=tuple(windows), modes=modes
        )
        return cls(
            layers=layers,
            travel=travel,
            windows=tuple(windows),
            modes=modes,
            h3_resolution=h3_resolution,
            origins=origins,
            origin_points_=origin_at,
            amenities=amenities,
            amenity_points=amenity_at,
            legs=legs,
            open_minutes=_open_minutes(amenities, tuple(windows)),
        )

    # --- reading -------------------------------------------------------------------------

    @property
    def result(self) -> TravelTimeResult:
        """Minutes from every origin to every amenity by mode and window (read-only arrays)."""
        return self._result

    @property
    def layers(self) -> Layers:
        """The layers this engine's answers are for, after its amenity and origin operations.

        Route operations change :attr:`transit`, not the transit layers: rebuild with
        ``ParkEngine.build(engine.layers, ..., transit=engine.transit)``.
        """
        return self._layers

    @property
    def travel(self) -> TravelTimeEngine:
        """The street graphs and transit model (for point-to-point queries)."""
        return self._travel

    @property
    def transit(self) -> TransitModel:
        """The transit model in use."""
        return self._travel.transit

    @property
    def params(self) -> TravelParameters:
        """The travel parameters."""
        return self._travel.params

    @property
    def windows(self) -> tuple[TimeWindow, ...]:
        """The time windows computed."""
        return self._windows

    # --- transit -------------------------------------------------------------------------

    def with_routes(
        self, routes: Sequence[TransitRoute], *, stops: gpd.GeoDataFrame | None = None
    ) -> ParkEngine:
        """Return an engine with routes added or changed (same ``route_id``: replaced).

        Only transit legs are recomputed: walk and e-bike arrays are shared, stops already
        known keep their walks, and a window whose running routes are unchanged keeps its
        transit array.

        Parameters
        ----------
        routes
            New routes, or changed copies (headway, span, stops) of existing ones.
        stops
            Positions of stops not yet in the model (``stop_id`` + point geometry, any CRS).

        Returns
        -------
        ParkEngine
        """
        return self._with_transit(self.transit.with_routes(routes, stops=stops))

    def without_routes(self, route_ids: Iterable[str]) -> ParkEngine:
        """Return an engine without the routes ``route_ids`` (a line is withdrawn).

        Raises ``ValidationError`` naming a route id that is not in the model.
        """
        transit = self.transit
        for route_id in route_ids:
            transit = transit.without_route(str(route_id))
        return self._with_transit(transit)

    def _with_transit(self, transit: TransitModel) -> ParkEngine:
        travel = self._travel.with_transit(transit)
        legs = self._legs
        to_stops, egress = legs.to_stops, legs.egress
        if "transit" not in self._modes or to_stops is None or egress is None:
            return self._replace(travel=travel)
        n_before, n_after = to_stops.shape[1], len(travel.stop_snap.ids)
        same_stops = travel.stop_snap is self._travel.stop_snap or n_before == n_after == len(
            self._travel.stop_snap.ids
        )
        if n_after > n_before:
            added = _subset(travel.stop_snap, np.arange(n_before, n_after))
            cutoff = self.params.max_minutes
            to_stops = _read_only(
                np.hstack(
                    [
                        to_stops,
                        travel._leg_minutes(
                            self._origin_points.walk, added, mode="walk", cutoff=cutoff
                        ),
                    ]
                )
            )
            egress = _read_only(
                np.vstack(
                    [
                        egress,
                        travel._leg_minutes(
                            added, self._amenity_points.walk, mode="walk", cutoff=cutoff
                        ),
                    ]
                )
            )
        transit_minutes: dict[str, np.ndarray] = {}
        signatures: dict[str, Any] = {}
        kept_legs: dict[str, Mapping[str | None, TransitLegs]] = {}
        # Legs of the old engine seed the update only where its stops are a prefix of the new.
        old_stops = self._travel.stop_snap
        seeded = _same_stop_prefix(old_stops, travel.stop_snap) == len(old_stops.ids)
        for window in self._windows:
            signature = _signature(travel.transit, window, travel.params)
            signatures[window.key] = signature
            unchanged = signature == legs.signatures[window.key]
            # New stops matter even to unchanged routes (a transfer may walk through them),
            # unless nothing runs in the window.
            if unchanged and (same_stops or not any(routes for _, routes in signature)):
                transit_minutes[window.key] = legs.transit[window.key]
                if window.key in legs.transit_legs:
                    kept_legs[window.key] = legs.transit_legs[window.key]
            else:
                transit_minutes[window.key], kept_legs[window.key] = _transit_for_window(
                    travel,
                    self._origins,
                    self._origin_points.walk,
                    self._amenity_points.walk,
                    window=window,
                    walk=legs.walk,
                    to_stops=to_stops,
                    egress=egress,
                    previous=legs.transit_legs.get(window.key) if seeded else None,
                    previous_minutes=legs.transit[window.key],
                    previous_groups=self.transit.restricted_enterprises,
                )
        new_legs = _Legs(
            walk=legs.walk,
            ebike=legs.ebike,
            to_stops=to_stops,
            egress=egress,
            transit=MappingProxyType(transit_minutes),
            signatures=MappingProxyType(signatures),
            transit_legs=MappingProxyType(kept_legs),
        )
        return self._replace(travel=travel, legs=new_legs)

    # --- amenities -----------------------------------------------------------------------

    def with_amenities(self, amenities: gpd.GeoDataFrame) -> ParkEngine:
        """Return an engine with new amenities appended as new columns (only they are computed).

        Parameters
        ----------
        amenities
            Rows in the amenities layer's columns (``id``, ``category``, ``capacity``,
            ``opening_hours``, optional ``open_to``) with point geometries and a CRS; ids must
            be new.

        Returns
        -------
        ParkEngine
        """
        if amenities.crs is None:
            raise ValidationError("new amenities have no coordinate reference system")
        added = amenities.to_crs(WGS84).reset_index(drop=True)
        for column in ("id", "category", "capacity", "opening_hours"):
            if column not in added.columns:
                raise ValidationError(f"new amenities have no {column!r} column", column=column)
        ids = added["id"].astype(str)
        clash = sorted(set(ids) & set(self._amenities["id"].astype(str)))
        if clash or ids.duplicated().any():
            repeated = clash or sorted(ids[ids.duplicated()])
            raise ValidationError(
                f"amenity id(s) {repeated[:5]} already exist; expected new ids", column="id"
            )
        open_new = _open_minutes(added, self._windows)
        new_at = _place(self._travel, added, ids.to_numpy(), self._modes)
        new_legs = _compute_legs(
            self._travel,
            self._origins,
            self._origin_points,
            new_at,
            windows=self._windows,
            modes=self._modes,
            to_stops=self._legs.to_stops,
        )
        legs = _join_legs(self._legs, new_legs, axis=1)
        frame = _appended(self._amenities, added)
        return self._replace(
            amenities=frame,
            amenity_points=_concat_points(self._amenity_points, new_at),
            legs=legs,
            open_minutes=_read_only(np.vstack([self._result.open_minutes, open_new])),
            layers=_with_layer(self._layers, LayerKind.AMENITIES, frame),
        )

    def without_amenities(self, amenity_ids: Iterable[str]) -> ParkEngine:
        """Return an engine without the amenities ``amenity_ids`` (closed): their columns go.

        Raises ``ValidationError`` naming an id that is not an amenity of the engine.
        """
        wanted = {str(value) for value in amenity_ids}
        ids = self._amenities["id"].astype(str).to_numpy()
        missing = sorted(wanted - set(ids.tolist()))
        if missing:
            raise ValidationError(f"amenity id(s) {missing[:5]} are not in the park", column="id")
        keep = np.flatnonzero(~np.isin(ids, list(wanted)))
        frame = self._amenities.iloc[keep].reset_index(drop=True)
        return self._replace(
            amenities=frame,
            amenity_points=self._amenity_points.take(keep),
            legs=_take_legs(self._legs, keep, axis=1),
            open_minutes=_read_only(self._result.open_minutes[keep]),
            layers=_with_layer(self._layers, LayerKind.AMENITIES, frame),
        )

    def with_capacities(self, capacities: Mapping[str, float]) -> ParkEngine:
        """Return an engine where amenities have new capacities (resized); no minutes change.

        Parameters
        ----------
        capacities
            Amenity id -> new capacity (a number >= 0).

        Returns
        -------
        ParkEngine
        """
        ids = self._amenities["id"].astype(str)
        missing = sorted(set(map(str, capacities)) - set(ids))
        if missing:
            raise ValidationError(f"amenity id(s) {missing[:5]} are not in the park", column="id")
        for key, value in capacities.items():
            if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
                raise ValidationError(
                    f"capacity {value!r} for amenity {key!r}; expected a number >= 0",
                    column="capacity",
                )
        frame = self._amenities.copy()
        new = ids.map({str(k): float(v) for k, v in capacities.items()})
        frame["capacity"] = new.where(new.notna(), frame["capacity"])
        return self._replace(
            amenities=frame, layers=_with_layer(self._layers, LayerKind.AMENITIES, frame)
        )

    # --- origins -------------------------------------------------------------------------

    def with_residences(self, residences: gpd.GeoDataFrame) -> ParkEngine:
        """Return an engine with new residences (e.g. a talent apartment): only new rows are
        computed; H3 cell weights are updated (a new cell gets its row computed too)."""
        return self._with_origin_layer(LayerKind.RESIDENCES, residences)

    def with_enterprises(self, enterprises: gpd.GeoDataFrame) -> ParkEngine:
        """Return an engine with new enterprises: only new rows are computed (see
        :meth:`with_residences`)."""
        return self._with_origin_layer(LayerKind.ENTERPRISES, enterprises)

    def _with_origin_layer(self, kind: LayerKind, added: gpd.GeoDataFrame) -> ParkEngine:
        if added.crs is None:
            raise ValidationError(f"new {kind.value} have no coordinate reference system")
        if "id" not in added.columns:
            raise ValidationError(f"new {kind.value} have no 'id' column", column="id")
        before = _layer(self._layers, kind)
        ids = added["id"].astype(str)
        clash = sorted(set(ids) & set(before["id"].astype(str))) if "id" in before else []
        if clash or ids.duplicated().any():
            repeated = clash or sorted(ids[ids.duplicated()])
            raise ValidationError(
                f"{kind.value} id(s) {repeated[:5]} already exist; expected new ids", column="id"
            )
        frame = _appended(before, added)
        layers = _with_layer(self._layers, kind, frame)
        origins = origin_points(layers, h3_resolution=self._h3_resolution)
        keys = _origin_ids(origins)
        old_row = pd.Index(_origin_ids(self._origins)).get_indexer(keys)
        # A known origin keeps its row unless the enterprise it belongs to changed (shuttles).
        same_owner = np.zeros(len(origins), dtype=bool)
        known = old_row >= 0
        before_owner = self._origins["enterprise_id"].to_numpy(dtype=object)[old_row[known]]
        same_owner[known] = [
            a == b
            for a, b in zip(
                before_owner, origins["enterprise_id"].to_numpy(dtype=object)[known], strict=True
            )
        ]
        reuse = known & same_owner
        fresh = np.flatnonzero(~reuse)
        new_at = _place(self._travel, origins.iloc[fresh], keys[fresh], self._modes)
        fresh_legs = _compute_legs(
            self._travel,
            origins.iloc[fresh].reset_index(drop=True),
            new_at,
            self._amenity_points,
            windows=self._windows,
            modes=self._modes,
            egress=self._legs.egress,
        )
        order = np.where(reuse, old_row, -1)
        legs = _merge_rows(self._legs, fresh_legs, order, fresh)
        points = _merge_points(self._origin_points, new_at, order, fresh)
        return self._replace(origins=origins, origin_points=points, legs=legs, layers=layers)

    # --- isochrones ----------------------------------------------------------------------

    def isochrones(
        self,
        lon: float,
        lat: float,
        *,
        mode: Mode,
        thresholds_minutes: tuple[float, ...] = (5.0, 10.0, 15.0),
        resolution: int = 10,
    ) -> gpd.GeoDataFrame:
        """Return the areas reachable from a WGS84 point within each budget, on this engine's
        own graph (``walk`` or ``ebike``; the walk to the first node at walking speed).

        See ``retention.access.indicators.isochrones`` for the areas; a point too far from the
        network, or the straight-line fallback, gives empty areas.
        """
        return street_isochrones(
            self._travel,
            lon,
            lat,
            mode=mode,
            thresholds_minutes=thresholds_minutes,
            resolution=resolution,
        )

    # --- plumbing ------------------------------------------------------------------------

    def _replace(
        self,
        *,
        travel: TravelTimeEngine | None = None,
        origins: gpd.GeoDataFrame | None = None,
        origin_points: _Points | None = None,
        amenities: gpd.GeoDataFrame | None = None,
        amenity_points: _Points | None = None,
        legs: _Legs | None = None,
        open_minutes: np.ndarray | None = None,
        layers: Layers | None = None,
    ) -> ParkEngine:
        return ParkEngine(
            layers=self._layers if layers is None else layers,
            travel=self._travel if travel is None else travel,
            windows=self._windows,
            modes=self._modes,
            h3_resolution=self._h3_resolution,
            origins=self._origins if origins is None else origins,
            origin_points_=self._origin_points if origin_points is None else origin_points,
            amenities=self._amenities if amenities is None else amenities,
            amenity_points=self._amenity_points if amenity_points is None else amenity_points,
            legs=self._legs if legs is None else legs,
            open_minutes=self._result.open_minutes if open_minutes is None else open_minutes,
        )


# --- streets ---------------------------------------------------------------------------------


def park_streets(
    layers: Layers,
    *,
    params: TravelParameters,
    windows: tuple[TimeWindow, ...],
    transit: TransitModel | None = None,
) -> TravelTimeEngine:
    """The park's street graphs and transit model, without any matrix (cheap next to
    :meth:`ParkEngine.build`, which uses it): what isochrones and route snapping need.

    Without roads, the straight-line x circuity fallback network is used; ``transit`` replaces
    the model read from the transit layers.
    """
    roads = _layer(layers, LayerKind.ROADS)
    if len(roads):
        network = network_from_roads(roads)
    else:
        everything = pd.concat(
            [frame.geometry.to_crs(WGS84) for frame in layers.values() if len(frame)]
        )
        crs = utm_crs_for_frame(gpd.GeoDataFrame(geometry=everything, crs=WGS84))
        network = approximate_network(crs=crs, circuity_factor=params.circuity_factor)
    if transit is None:
        transit = transit_model_from_layers(
            _layer(layers, LayerKind.TRANSIT_ROUTES),
            _layer(layers, LayerKind.TRANSIT_STOPS),
            windows=windows,
            params=params,
        )
    return TravelTimeEngine(network, transit=transit, params=params)


def street_isochrones(
    travel: TravelTimeEngine,
    lon: float,
    lat: float,
    *,
    mode: Mode,
    thresholds_minutes: tuple[float, ...] = (5.0, 10.0, 15.0),
    resolution: int = 10,
) -> gpd.GeoDataFrame:
    """Return the areas reachable from a WGS84 point within each budget on ``travel``'s own
    graph (``walk`` or ``ebike``; the walk to the first node at walking speed).

    See ``retention.access.indicators.isochrones`` for the areas; a point too far from the
    network, or the straight-line fallback, gives empty areas.
    """
    mode = _check_mode(mode)
    if mode == "transit":
        raise ValidationError("isochrones are for walk or ebike, not transit")
    point = gpd.GeoSeries([shapely.Point(lon, lat)], crs=WGS84)
    return indicators.isochrones_on_graph(
        travel.network(mode),
        travel.graph(mode),
        travel.snap(point, mode=mode),
        walk_speed_m_per_min=travel.params.walk_speed_m_per_min,
        thresholds_minutes=thresholds_minutes,
        resolution=resolution,
    )


# --- computing legs ----------------------------------------------------------------------------


def _compute_legs(
    travel: TravelTimeEngine,
    origins: pd.DataFrame,
    origin_at: _Points,
    amenity_at: _Points,
    *,
    windows: tuple[TimeWindow, ...],
    modes: tuple[Mode, ...],
    to_stops: np.ndarray | None = None,
    egress: np.ndarray | None = None,
) -> _Legs:
    """Every matrix for origins x amenities; ``to_stops`` / ``egress`` are reused when given
    (they depend only on the origins / only on the amenities)."""
    cutoff = travel.params.max_minutes
    walk = ebike = None
    bike_needed = "ebike" in modes and origin_at.bike is not None and amenity_at.bike is not None
    if bike_needed and _same_places(origin_at) and _same_places(amenity_at):
        both = travel._walk_and_ebike_minutes32(origin_at.walk, amenity_at.walk, cutoff=cutoff)
        if both is not None:
            walk, ebike = (_read_only(values) for values in both)
    if walk is None:
        walk = _read_only32(
            travel._leg_minutes(origin_at.walk, amenity_at.walk, mode="walk", cutoff=cutoff)
        )
    if bike_needed and ebike is None:
        assert origin_at.bike is not None and amenity_at.bike is not None
        ebike = _read_only32(
            travel._leg_minutes(origin_at.bike, amenity_at.bike, mode="ebike", cutoff=cutoff)
        )
    transit: dict[str, np.ndarray] = {}
    signatures: dict[str, Any] = {}
    transit_legs: dict[str, Mapping[str | None, TransitLegs]] = {}
    if "transit" in modes:
        stops = travel.stop_snap
        if to_stops is None or to_stops.shape[0] != len(origin_at.walk.ids):
            to_stops = _read_only(
                travel._leg_minutes(origin_at.walk, stops, mode="walk", cutoff=cutoff)
            )
        if egress is None or egress.shape[1] != len(amenity_at.walk.ids):
            egress = _read_only(
                travel._leg_minutes(stops, amenity_at.walk, mode="walk", cutoff=cutoff)
            )
        for window in windows:
            signatures[window.key] = _signature(travel.transit, window, travel.params)
            transit[window.key], transit_legs[window.key] = _transit_for_window(
                travel,
                origins,
                origin_at.walk,
                amenity_at.walk,
                window=window,
                walk=walk,
                to_stops=to_stops,
                egress=egress,
            )
    else:
        to_stops = egress = None
    return _Legs(
        walk=walk,
        ebike=ebike,
        to_stops=to_stops,
        egress=egress,
        transit=MappingProxyType(transit),
        signatures=MappingProxyType(signatures),
        transit_legs=MappingProxyType(transit_legs),
    )


def _transit_for_window(
    travel: TravelTimeEngine,
    origins: pd.DataFrame,
    source: SnappedPoints,
    target: SnappedPoints,
    *,
    window: TimeWindow,
    walk: np.ndarray,
    to_stops: np.ndarray,
    egress: np.ndarray,
    previous: Mapping[str | None, TransitLegs] | None = None,
    previous_minutes: np.ndarray | None = None,
    previous_groups: tuple[str, ...] = (),
) -> tuple[np.ndarray, Mapping[str | None, TransitLegs]]:
    """Transit minutes in ``window``: public routes, and each enterprise's shuttles for the
    origins belonging to it (its employees and dormitory residents); and the legs of each
    rider group (``None``: the public).

    With ``previous`` / ``previous_minutes`` (the window's legs and minutes before a route
    change, same origins and amenities; ``previous_groups``: the enterprises that ran their
    own shuttles then), each group is updated from them (the same bits as in full, see
    ``TravelTimeEngine._transit_minutes``). Rows of ``previous_minutes`` of an enterprise
    that ran its own shuttles hold that enterprise's minutes: the public pass recomputes them
    when it no longer does, and otherwise the enterprise's pass overwrites them again.
    """
    previous = previous or {}
    kept: dict[str | None, TransitLegs] = {}
    belongs = origins["enterprise_id"].to_numpy(dtype=object)
    now = set(travel.transit.restricted_enterprises)
    stale = np.flatnonzero(np.isin(belongs, [e for e in previous_groups if e not in now]))
    riding, legs = travel._transit_minutes(
        source,
        target,
        window=window,
        walk=walk,
        to_stops=to_stops,
        egress=egress,
        previous=previous.get(None),
        previous_minutes=previous_minutes,
        stale_rows=stale,
    )
    if legs is not None:
        kept[None] = legs
    # A group whose minutes did not move gets its old rows back as the same object: the
    # window's old array is kept as it is when no group's minutes moved.
    unchanged = previous_minutes is not None and riding is previous_minutes
    for enterprise in travel.transit.restricted_enterprises:
        rows = np.flatnonzero(belongs == enterprise)
        if len(rows):
            before = None if previous_minutes is None else previous_minutes[rows]
            minutes, legs = travel._transit_minutes(
                _subset(source, rows),
                target,
                window=window,
                walk=walk[rows],
                to_stops=to_stops[rows],
                egress=egress,
                enterprise_id=enterprise,
                previous=previous.get(enterprise),
                previous_minutes=before,
            )
            if legs is not None:
                kept[enterprise] = legs
            if unchanged and minutes is before:
                continue
            if riding is previous_minutes:
                riding = np.array(riding)  # the old array is read-only and shared
            unchanged = False
            riding[rows] = minutes
    return _read_only32(riding), MappingProxyType(kept)


def _signature(transit: TransitModel, window: TimeWindow, params: TravelParameters) -> Any:
    """What decides a window's transit minutes: for each rider group, what it may ride in the
    window (stops, run minutes, direction and the window's headway of each route; a route's
    headways in other windows do not count)."""
    groups: list[str | None] = [None, *transit.restricted_enterprises]
    return tuple(
        (
            group,
            tuple(
                (
                    route.route_id,
                    route.stop_ids,
                    route.cumulative_minutes,
                    route.one_way,
                    route.headway_minutes(window),
                )
                for route in transit.active_routes(window, params=params, enterprise_id=group)
            ),
        )
        for group in groups
    )


# --- joining and slicing states -------------------------------------------------------------


def _join_legs(before: _Legs, added: _Legs, *, axis: int) -> _Legs:
    def join(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
        if a is None or b is None:
            return None
        return _read_only(np.concatenate([a, b], axis=axis))

    return _Legs(
        walk=_present(join(before.walk, added.walk)),
        ebike=join(before.ebike, added.ebike),
        to_stops=before.to_stops if axis == 1 else join(before.to_stops, added.to_stops),
        egress=join(before.egress, added.egress) if axis == 1 else before.egress,
        transit=MappingProxyType(
            {
                key: _present(join(value, added.transit[key]))
                for key, value in before.transit.items()
            }
        ),
        signatures=before.signatures,
    )


def _take_legs(legs: _Legs, keep: np.ndarray, *, axis: int) -> _Legs:
    taken: dict[int, np.ndarray] = {}

    def take(array: np.ndarray | None) -> np.ndarray | None:
        if array is None:
            return None
        # Windows share one walking / e-bike array: slice it once and keep sharing it.
        if id(array) not in taken:
            taken[id(array)] = _read_only(np.take(array, keep, axis=axis))
        return taken[id(array)]

    return _Legs(
        walk=_present(take(legs.walk)),
        ebike=take(legs.ebike),
        to_stops=legs.to_stops if axis == 1 else take(legs.to_stops),
        egress=take(legs.egress) if axis == 1 else legs.egress,
        transit=MappingProxyType(
            {key: _present(take(value)) for key, value in legs.transit.items()}
        ),
        signatures=legs.signatures,
    )


def _merge_rows(before: _Legs, fresh: _Legs, order: np.ndarray, fresh_rows: np.ndarray) -> _Legs:
    """Rows of a new origin table: ``order[i]`` is the old row of row i (-1: from ``fresh``,
    whose rows are ``fresh_rows`` in order)."""
    reused = np.flatnonzero(order >= 0)

    def merge(old: np.ndarray | None, new: np.ndarray | None) -> np.ndarray | None:
        if old is None or new is None:
            return None
        result = np.empty((len(order), *old.shape[1:]), dtype=old.dtype)
        result[reused] = old[order[reused]]
        result[fresh_rows] = new
        return _read_only(result)

    return _Legs(
        walk=_present(merge(before.walk, fresh.walk)),
        ebike=merge(before.ebike, fresh.ebike),
        to_stops=merge(before.to_stops, fresh.to_stops),
        egress=before.egress,
        transit=MappingProxyType(
            {
                key: _present(merge(value, fresh.transit[key]))
                for key, value in before.transit.items()
            }
        ),
        signatures=before.signatures,
    )


def _merge_points(
    before: _Points, fresh: _Points, order: np.ndarray, fresh_rows: np.ndarray
) -> _Points:
    reused = np.flatnonzero(order >= 0)

    def merge(old: SnappedPoints | None, new: SnappedPoints | None) -> SnappedPoints | None:
        if old is None or new is None:
            return None
        ids = np.empty(len(order), dtype=object)
        nodes = np.empty(len(order), dtype=np.int64)
        distance = np.empty(len(order))
        xy = np.empty((len(order), 2))
        for target, source in ((ids, "ids"), (nodes, "nodes"), (distance, "distance_metres")):
            target[reused] = getattr(old, source)[order[reused]]
            target[fresh_rows] = getattr(new, source)
        xy[reused] = old.xy[order[reused]]
        xy[fresh_rows] = new.xy
        return SnappedPoints(
            ids=_read_only(ids),
            nodes=_read_only(nodes),
            distance_metres=_read_only(distance),
            xy=_read_only(xy),
            max_distance_metres=old.max_distance_metres,
            approximate=old.approximate,
        )

    walk = merge(before.walk, fresh.walk)
    assert walk is not None
    return _Points(walk=walk, bike=merge(before.bike, fresh.bike))


def _concat_points(before: _Points, added: _Points) -> _Points:
    def concat(a: SnappedPoints | None, b: SnappedPoints | None) -> SnappedPoints | None:
        if a is None or b is None:
            return None
        return SnappedPoints(
            ids=_read_only(np.concatenate([a.ids, b.ids])),
            nodes=_read_only(np.concatenate([a.nodes, b.nodes])),
            distance_metres=_read_only(np.concatenate([a.distance_metres, b.distance_metres])),
            xy=_read_only(np.concatenate([a.xy, b.xy])),
            max_distance_metres=a.max_distance_metres,
            approximate=a.approximate,
        )

    walk = concat(before.walk, added.walk)
    assert walk is not None
    return _Points(walk=walk, bike=concat(before.bike, added.bike))


# --- small helpers ---------------------------------------------------------------------------


def _place(
    travel: TravelTimeEngine, points: gpd.GeoDataFrame, ids: np.ndarray, modes: tuple[Mode, ...]
) -> _Points:
    frame = points.assign(_id=np.asarray(ids, dtype=object))
    walk = travel.snap(frame, mode="walk", id_column="_id")
    bike = travel.snap(frame, mode="ebike", id_column="_id") if "ebike" in modes else None
    return _Points(walk=walk, bike=bike)


def _same_places(points: _Points) -> bool:
    """Whether the walk and e-bike snaps put every point on the same node at the same distance."""
    bike = points.bike
    return bike is not None and (
        np.array_equal(points.walk.nodes, bike.nodes)
        and np.array_equal(points.walk.distance_metres, bike.distance_metres, equal_nan=True)
    )


def _origin_ids(origins: pd.DataFrame) -> np.ndarray:
    return (origins["origin_set"] + ":" + origins["origin_id"].astype(str)).to_numpy()


def _snap_report(origins: _Points, amenities: _Points, travel: TravelTimeEngine) -> pd.DataFrame:
    reports = [
        origins.walk.report.assign(layer="origins", mode="walk"),
        amenities.walk.report.assign(layer=LayerKind.AMENITIES.value, mode="walk"),
        travel.stop_snap.report.assign(layer=LayerKind.TRANSIT_STOPS.value, mode="walk"),
    ]
    if origins.bike is not None and amenities.bike is not None:
        reports += [
            origins.bike.report.assign(layer="origins", mode="ebike"),
            amenities.bike.report.assign(layer=LayerKind.AMENITIES.value, mode="ebike"),
        ]
    return pd.concat(reports, ignore_index=True)[["layer", "mode", "id", "distance_m"]]


def _layer(layers: Layers, kind: LayerKind) -> gpd.GeoDataFrame:
    frame = layers.get(kind)
    if frame is None:
        return gpd.GeoDataFrame(geometry=[], crs=WGS84)
    return frame


def _appended(table: gpd.GeoDataFrame, rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``rows`` after ``table`` (both to WGS84), index 0..n-1."""
    rows = rows.to_crs(WGS84).reset_index(drop=True)
    if table.empty:
        return rows
    joined = pd.concat([table.to_crs(WGS84), rows], ignore_index=True)
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=WGS84)


def _with_layer(layers: Layers, kind: LayerKind, frame: gpd.GeoDataFrame) -> Layers:
    changed = dict(layers)
    changed[kind] = frame
    return MappingProxyType(changed)


def _present(values: np.ndarray | None) -> np.ndarray:
    """An array every state has (walking, transit per window): never None."""
    if values is None:  # pragma: no cover - walking and transit arrays always exist together
        raise ValueError("internal: a matrix every engine state holds is missing")
    return values


def _read_only(values: np.ndarray) -> np.ndarray:
    values.setflags(write=False)
    return values


def _read_only32(values: np.ndarray) -> np.ndarray:
    result = values.astype(np.float32, copy=values.dtype != np.float32)
    result.setflags(write=False)
    return result


__all__ = ["ParkEngine", "park_streets", "street_isochrones"]
