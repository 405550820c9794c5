"""Travel times by walking, e-bike and transit: the build-once, query-many engine.

``TravelTimeEngine`` holds the sparse graphs (built once, read-only) and answers origin ×
destination matrices in minutes with ``scipy.sparse.csgraph.dijkstra`` (multi-source, bounded by
``limit=``, chunked to bound memory). Transit is frequency-based: walk to a stop (at most
``max_walk_access_minutes``), wait half the headway plus a boarding penalty, ride, alight, walk on
(or transfer: walk to another stop, wait and board again), and pure walking is always an option,
so transit never makes a trip longer than walking.

Conventions in every matrix: ``NaN`` means a point could not be placed on the network (see the
snap report); ``inf`` means not reachable within ``TravelParameters.max_minutes``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, TypeAlias

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from retention.access.min_plus import ride_then_walk, walk_and_ride32, walk_then_ride
from retention.access.network import (
    NetworkMode,
    SnappedPoints,
    StreetNetwork,
    contract_chains,
    prune_dead_ends,
)
from retention.access.parameters import DEFAULT_TIME_WINDOWS, TimeWindow, TravelParameters
from retention.access.shortest_paths import EndReading, bounded_distances
from retention.access.transit import TransitModel, empty_transit_model
from retention.data.hours import parse_opening_hours
from retention.data.layers import WGS84, LayerKind
from retention.errors import ValidationError

if TYPE_CHECKING:
    from retention.access.engine import ParkEngine
    from retention.storage.park import ParkData

Mode = Literal["walk", "ebike", "transit"]
MODES: tuple[Mode, ...] = ("walk", "ebike", "transit")
_EPSILON_MINUTES = 1e-9  # a zero weight would vanish from a sparse matrix
_LINK_MINUTES = 1.0  # weight added to (then taken off) a virtual node's links, all positive
Points: TypeAlias = gpd.GeoDataFrame | gpd.GeoSeries | SnappedPoints | np.ndarray


class TravelTimeEngine:
    """Origin × destination travel times on one park's networks; immutable after construction.

    Assumptions: networks are undirected and metric (``retention.access.network``); access from a
    point to its snapped node is walked in a straight line at walking speed, for every mode.

    Parameters
    ----------
    walk_network
        Network whose ``walk`` edges are walkable (or the approximate straight-line network).
    bike_network
        Network whose ``bike`` edges are rideable; ``walk_network`` when omitted.
    transit
        Transit model; no transit when omitted.
    params
        Travel parameters.
    """

    _params: TravelParameters
    _networks: Mapping[Mode, StreetNetwork]
    _graphs: Mapping[Mode, csr_matrix]
    _transit: TransitModel
    _stops: SnappedPoints
    _stop_walk_minutes: np.ndarray
    _transfer_minutes: np.ndarray

    def __init__(
        self,
        walk_network: StreetNetwork,
        bike_network: StreetNetwork | None = None,
        transit: TransitModel | None = None,
        *,
        params: TravelParameters,
    ) -> None:
        self._params = params
        self._networks = MappingProxyType(
            {"walk": walk_network, "ebike": bike_network or walk_network}
        )
        self._graphs = MappingProxyType(
            {
                "walk": _frozen(
                    walk_network.graph_minutes(
                        mode="walk", speed_m_per_min=params.walk_speed_m_per_min
                    )
                ),
                "ebike": _frozen(
                    self._networks["ebike"].graph_minutes(
                        mode="bike", speed_m_per_min=params.ebike_speed_m_per_min
                    )
                ),
            }
        )
        self._set_transit(transit or empty_transit_model(), previous=None)

    def _set_transit(self, transit: TransitModel, *, previous: TravelTimeEngine | None) -> None:
        """Snap the stops and compute the walks between them (reusing ``previous``'s where the
        stops are the same: its stops a prefix of these, at the same places)."""
        params = self._params
        self._transit = transit
        self._stops = self.snap(transit.stops_frame(), mode="walk", id_column="stop_id")
        kept = _same_stop_prefix(previous._stops, self._stops) if previous is not None else 0
        if previous is not None and kept == len(self._stops.ids) == len(previous._stops.ids):
            self._stop_walk_minutes = previous._stop_walk_minutes
            self._transfer_minutes = previous._transfer_minutes
            return
        if previous is not None and kept:
            new = np.arange(kept, len(self._stops.ids))
            old = np.arange(kept)
            between_stops = np.empty((len(self._stops.ids),) * 2)
            between_stops[:kept, :kept] = previous._stop_walk_minutes[:kept, :kept]
            between_stops[kept:, :] = self._leg_minutes(
                _subset(self._stops, new), self._stops, mode="walk", cutoff=params.max_minutes
            )
            between_stops[:kept, kept:] = self._leg_minutes(
                _subset(self._stops, old),
                _subset(self._stops, new),
                mode="walk",
                cutoff=params.max_minutes,
            )
        else:
            between_stops = self._leg_minutes(
                self._stops, self._stops, mode="walk", cutoff=params.max_minutes
            )
        between_stops.setflags(write=False)
        self._stop_walk_minutes = between_stops
        # A transfer walk is a short one: the same minutes as a search cut at the access limit.
        with np.errstate(invalid="ignore"):
            transfer = np.where(
                between_stops <= params.max_walk_access_minutes, between_stops, np.inf
            )
        transfer[np.isnan(between_stops)] = np.nan
        np.fill_diagonal(transfer, 0.0)  # changing routes at the same stop needs no walk
        transfer.setflags(write=False)
        self._transfer_minutes = transfer

    def with_transit(self, transit: TransitModel) -> TravelTimeEngine:
        """Return an engine on the same street graphs with another transit model.

        The graphs are shared (never rebuilt); the walks between stops are reused for the stops
        this engine already has (``transit``'s stops must start with them, at the same places,
        as ``TransitModel.with_routes`` keeps them) and computed only for new ones. ``self`` is
        not changed.
        """
        clone = object.__new__(TravelTimeEngine)
        clone._params = self._params
        clone._networks = self._networks
        clone._graphs = self._graphs
        clone._set_transit(transit, previous=self)
        return clone

    def graph(self, mode: Mode) -> csr_matrix:
        """The read-only graph of edge minutes ``mode`` searches (transit walks on ``walk``)."""
        return self._graphs["walk" if mode == "transit" else _check_mode(mode)]

    @property
    def params(self) -> TravelParameters:
        """The travel parameters the engine was built with."""
        return self._params

    @property
    def transit(self) -> TransitModel:
        """The transit model."""
        return self._transit

    @property
    def approximate(self) -> bool:
        """True when a mode's network is the straight-line × circuity fallback."""
        return any(network.approximate for network in self._networks.values())

    @property
    def stop_snap(self) -> SnappedPoints:
        """Transit stops attached to the walk network."""
        return self._stops

    def network(self, mode: Mode) -> StreetNetwork:
        """The street network used by ``mode`` (transit walks on the walk network)."""
        return self._networks["walk" if mode == "transit" else _check_mode(mode)]

    def snap(
        self,
        points: gpd.GeoDataFrame | gpd.GeoSeries,
        *,
        mode: Mode = "walk",
        id_column: str | None = None,
    ) -> SnappedPoints:
        """Attach points to the ``mode`` network (far points are reported, not moved).

        Parameters
        ----------
        points
            Points (or polygons, by centroid) with a CRS.
        mode
            ``walk``, ``ebike`` or ``transit`` (which snaps to the walk network).
        id_column
            Column with identifiers for the snap report; the index when omitted.

        Returns
        -------
        SnappedPoints
        """
        network_mode: NetworkMode = "bike" if _check_mode(mode) == "ebike" else "walk"
        return self.network(mode).snap(
            points,
            mode=network_mode,
            max_distance_metres=self._params.max_snap_distance_metres,
            id_column=id_column,
        )

    def matrix(
        self,
        origins: Points,
        destinations: Points,
        *,
        mode: Mode,
        window: TimeWindow | None = None,
        enterprise_id: str | None = None,
    ) -> np.ndarray:
        """Return travel minutes from every origin to every destination.

        Parameters
        ----------
        origins, destinations
            Point GeoDataFrames / GeoSeries (any CRS), ``SnappedPoints`` from :meth:`snap`, or
            integer arrays of node indices of the mode's network.
        mode
            ``walk``, ``ebike`` or ``transit``.
        window
            Time window; required for transit (which routes run, and their headways).
        enterprise_id
            Transit only: the origins belong to this enterprise, so its shuttles may be used
            (None: public routes only).

        Returns
        -------
        np.ndarray
            ``(n_origins, n_destinations)`` float64 minutes; NaN for unplaced points, inf beyond
            ``max_minutes``.
        """
        mode = _check_mode(mode)
        source = self._as_snapped(origins, mode)
        target = self._as_snapped(destinations, mode)
        if mode != "transit":
            return self._leg_minutes(source, target, mode=mode, cutoff=self._params.max_minutes)
        if window is None:
            raise ValidationError("transit travel times need a time window; got window=None")
        walk = self._leg_minutes(source, target, mode="walk", cutoff=self._params.max_minutes)
        return self._transit_minutes(
            source, target, window=window, walk=walk, enterprise_id=enterprise_id
        )[0]

    def nearest(
        self,
        origins: Points,
        destinations: Points,
        categories: npt.ArrayLike,
        *,
        mode: Mode,
        window: TimeWindow | None = None,
        category_order: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Return minutes from every origin to the nearest destination of each category.

        The same answer as the row minimum of :meth:`matrix` over each category's columns, but
        walk and e-bike run one search per category from all its destinations at once (a
        virtual node linked to each destination's node by its walk to the network), not one
        per origin. Transit (and the straight-line fallback) take the row minimum of
        :meth:`matrix`.

        Parameters
        ----------
        origins, destinations
            As in :meth:`matrix`.
        categories
            Category of each destination, shape ``(n_destinations,)``.
        mode
            ``walk``, ``ebike`` or ``transit``.
        window
            Time window; required for transit.
        category_order
            Categories to report, in this order (a category without destinations gives
            ``inf``); default every category present, sorted.

        Returns
        -------
        pandas.DataFrame
            Rows are origins (in order), columns categories; float64 minutes, NaN for an
            unplaced origin, ``inf`` when no destination of the category is within
            ``max_minutes``.
        """
        mode = _check_mode(mode)
        source = self._as_snapped(origins, mode)
        target = self._as_snapped(destinations, mode)
        labels = np.asarray(categories).astype(str)
        if labels.shape != (len(target.nodes),):
            raise ValidationError(
                f"expected one category per destination ({len(target.nodes)}), got shape "
                f"{labels.shape}"
            )
        columns = (
            [str(c) for c in category_order]
            if category_order is not None
            else sorted(set(labels.tolist()))
        )
        result = np.full((len(source.nodes), len(columns)), np.inf)
        if mode == "transit" or self._networks[mode].approximate:
            minutes = self.matrix(source, target, mode=mode, window=window)
            minutes = np.where(np.isnan(minutes), np.inf, minutes)
            for column, category in enumerate(columns):
                chosen = labels == category
                if chosen.any():
                    result[:, column] = minutes[:, chosen].min(axis=1)
        else:
            graph = self._graphs[mode]
            walk_speed = self._params.walk_speed_m_per_min
            cutoff = self._params.max_minutes
            rows = np.flatnonzero(source.usable)
            usable = target.usable
            searched, groups = [], []
            for column, category in enumerate(columns):
                chosen = np.flatnonzero((labels == category) & usable)
                if len(chosen) and len(rows):
                    egress = target.distance_metres[chosen] / walk_speed
                    searched.append(column)
                    groups.append((target.nodes[chosen], egress))
            if searched:
                from_any = _multi_source_minutes(graph, groups, source.nodes[rows], cutoff=cutoff)
                reach = source.distance_metres[rows, None] / walk_speed + from_any.T
                columns_searched = np.asarray(searched, dtype=np.intp)
                result[np.ix_(rows, columns_searched)] = np.where(reach > cutoff, np.inf, reach)
        result[~source.usable] = np.nan
        return pd.DataFrame(result, columns=pd.Index(columns, name="category"))

    def _as_snapped(self, points: Points, mode: Mode) -> SnappedPoints:
        if isinstance(points, SnappedPoints):
            return points
        if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
            return self.snap(points, mode=mode)
        nodes = np.asarray(points)
        network = self.network(mode)
        if nodes.ndim != 1 or not np.issubdtype(nodes.dtype, np.integer):
            raise ValidationError(
                "points must be a GeoDataFrame, SnappedPoints or a 1-d integer array of nodes"
            )
        if len(nodes) and (nodes.min() < 0 or nodes.max() >= network.n_nodes):
            raise ValidationError(
                f"node indices must be 0-{network.n_nodes - 1}; got {nodes.min()}-{nodes.max()}"
            )
        return SnappedPoints(
            ids=np.arange(len(nodes)).astype(object),
            nodes=nodes.astype(np.int64),
            distance_metres=np.zeros(len(nodes)),
            xy=network.node_xy[nodes],
            max_distance_metres=self._params.max_snap_distance_metres,
        )

    def _leg_minutes(
        self, source: SnappedPoints, target: SnappedPoints, *, mode: Mode, cutoff: float
    ) -> np.ndarray:
        """Minutes for one leg (walk or ride) between snapped points, access included."""
        leg_mode: Mode = "walk" if mode == "transit" else mode
        network = self._networks[leg_mode]
        shape = (len(source.nodes), len(target.nodes))
        rows, cols = np.flatnonzero(source.usable), np.flatnonzero(target.usable)
        if len(rows) == 0 or len(cols) == 0:
            return np.full(shape, np.nan)
        if network.approximate:
            speed = (
                self._params.walk_speed_m_per_min
                if leg_mode == "walk"
                else self._params.ebike_speed_m_per_min
            )
            difference = source.xy[rows][:, None, :] - target.xy[cols][None, :, :]
            block = np.hypot(difference[..., 0], difference[..., 1])
            block *= network.circuity_factor / speed
        else:
            access = source.distance_metres[rows] / self._params.walk_speed_m_per_min
            egress = target.distance_metres[cols] / self._params.walk_speed_m_per_min
            between = _node_matrix(
                self._graphs[leg_mode], source.nodes[rows], target.nodes[cols], cutoff=cutoff
            )
            # In place, in the order access + between + egress.
            block = np.add(between, access[:, None], out=between)
            block += egress[None, :]
        block[block > cutoff] = np.inf
        if len(rows) == shape[0] and len(cols) == shape[1]:
            return block
        result = np.full(shape, np.nan)
        result[np.ix_(rows, cols)] = block
        return result

    def _walk_and_ebike_minutes32(
        self, source: SnappedPoints, target: SnappedPoints, *, cutoff: float
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Walk and e-bike legs (float32) from one street search, when the modes share streets.

        When walking and riding use the same edges (and so the same snapped nodes), both legs
        come from one search in walking minutes, run as far as the e-bike reaches: e-bike
        minutes on the network are walking minutes times walk / e-bike speed. Returns None
        when the modes' streets differ (each leg then needs its own search). Each value is the
        float64 sum access + network + egress cut at ``cutoff``, then cast to float32, like
        ``_leg_minutes``.
        """
        walk_network, bike_network = self._networks["walk"], self._networks["ebike"]
        if (
            walk_network is not bike_network
            or walk_network.approximate
            or not np.array_equal(walk_network.edge_walk, walk_network.edge_bike)
        ):
            return None
        shape = (len(source.nodes), len(target.nodes))
        rows, cols = np.flatnonzero(source.usable), np.flatnonzero(target.usable)
        if len(rows) == 0 or len(cols) == 0:
            return np.full(shape, np.nan, dtype=np.float32), np.full(shape, np.nan, np.float32)
        ratio = self._params.walk_speed_m_per_min / self._params.ebike_speed_m_per_min
        access = source.distance_metres[rows] / self._params.walk_speed_m_per_min
        egress = target.distance_metres[cols] / self._params.walk_speed_m_per_min
        between = _node_matrix(
            self._graphs["walk"],
            source.nodes[rows],
            target.nodes[cols],
            cutoff=max(cutoff, cutoff / ratio),
        )
        # In the order access + between + egress, as _leg_minutes sums.
        legs = walk_and_ride32(between, access, egress, ratio=ratio, cutoff=cutoff)
        if len(rows) == shape[0] and len(cols) == shape[1]:
            return legs
        walk = np.full(shape, np.nan, dtype=np.float32)
        ebike = np.full(shape, np.nan, dtype=np.float32)
        walk[np.ix_(rows, cols)], ebike[np.ix_(rows, cols)] = legs
        return walk, ebike

    def _transit_minutes(
        self,
        source: SnappedPoints,
        target: SnappedPoints,
        *,
        window: TimeWindow,
        walk: np.ndarray,
        to_stops: np.ndarray | None = None,
        egress: np.ndarray | None = None,
        enterprise_id: str | None = None,
        previous: TransitLegs | None = None,
        previous_minutes: np.ndarray | None = None,
        stale_rows: np.ndarray | None = None,
    ) -> tuple[np.ndarray, TransitLegs | None]:
        """Best of walking and riding (with up to any number of transfers) in ``window``, and
        what it was built from (to update it after a route change).

        ``walk`` is the walk leg source x target, ``to_stops`` source x stops and ``egress``
        stops x target (all cut at ``max_minutes``); the ones not given are computed.

        With ``previous`` and ``previous_minutes`` (the same rider group's legs and minutes in
        this window before the change, for the same ``source`` and ``target``, the stops of
        that engine a prefix of this one's), only boarding stops whose rides changed are
        searched again: if no ride got slower, the answer is the old minutes lowered by the
        trips through those stops; origins that could board where a ride got slower are
        recomputed in full, as are ``stale_rows`` (source rows whose ``previous_minutes`` are
        not this group's, e.g. people of an enterprise whose own shuttle was withdrawn). Minima
        are exact, so the answer is the same bits as without ``previous``. When nothing moved,
        the answer *is* ``previous_minutes`` (the same object: copy it before writing).
        """
        params = self._params
        routes = self._transit.active_routes(window, params=params, enterprise_id=enterprise_id)
        if not routes:
            return walk.copy(), None
        if to_stops is None:
            to_stops = self._leg_minutes(
                source, self._stops, mode="walk", cutoff=params.max_minutes
            )
        if egress is None:
            egress = self._leg_minutes(self._stops, target, mode="walk", cutoff=params.max_minutes)
        # Boarding needs a short walk: the same minutes as a search cut at the access limit.
        with np.errstate(invalid="ignore"):
            access = np.where(to_stops <= params.max_walk_access_minutes, to_stops, np.inf)
        stop_index = {stop: i for i, stop in enumerate(self._stops.ids)}
        n_origins, n_destinations = len(source.nodes), len(target.nodes)
        n_stops = len(self._stops.nodes)
        route_stop_stop: list[int] = []
        route_stop_board: list[float] = []
        ride_from: list[int] = []
        ride_to: list[int] = []
        ride_minutes: list[float] = []
        for route in routes:
            board = route.headway_minutes(window) / 2.0 + params.boarding_penalty_minutes  # type: ignore[operator]
            first = len(route_stop_stop)
            route_stop_stop += [stop_index[stop] for stop in route.stop_ids]
            route_stop_board += [board] * len(route.stop_ids)
            steps = np.diff(route.cumulative_minutes)
            for offset, minutes in enumerate(steps):
                ride_from.append(first + offset)
                ride_to.append(first + offset + 1)
                ride_minutes.append(float(minutes))
                if not route.one_way:
                    ride_from.append(first + offset + 1)
                    ride_to.append(first + offset)
                    ride_minutes.append(float(minutes))
        n_route_stops = len(route_stop_stop)
        # Every trip by transit is: walk to a stop b, board a route there (wait + penalty), ride
        # and change (alight, walk to another stop within the transfer limit, board again),
        # alight at a stop s, walk on. The search runs on route-stops + stops only, from every
        # route-stop; the first and last walks are joined by min-plus products over stops, so
        # the graph never links every stop to every origin and destination. Node layout:
        # route-stops (on a vehicle) | stops (on foot, alighted).
        stop_base = n_route_stops
        rs_stop = np.asarray(route_stop_stop, dtype=np.int64)
        rs_board = np.asarray(route_stop_board)
        rs_all = np.arange(n_route_stops)
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [
            # Ride between consecutive stops.
            (
                np.asarray(ride_from, dtype=np.int64),
                np.asarray(ride_to, dtype=np.int64),
                np.asarray(ride_minutes, dtype=float),
            ),
            # Alight onto the stop, and board again there (a transfer) with a new wait + penalty.
            (rs_all, stop_base + rs_stop, np.zeros(n_route_stops)),
            (stop_base + rs_stop, rs_all, rs_board),
        ]
        # Walk between stops to transfer.
        p, q = np.nonzero(np.isfinite(self._transfer_minutes))
        off_diagonal = p != q
        p, q = p[off_diagonal], q[off_diagonal]
        parts.append((stop_base + p, stop_base + q, self._transfer_minutes[p, q]))
        graph = _csr_min(parts, stop_base + n_stops)
        origins = np.flatnonzero(source.usable)
        targets = np.flatnonzero(target.usable)
        if len(origins) and len(targets) and n_route_stops:
            ride = dijkstra(graph, directed=True, indices=rs_all, limit=params.max_minutes)
            # Boarding at stop b (wait + penalty) to standing at stop s, the best route from b.
            board_to_stop = np.full((n_stops, n_stops), np.inf)
            order = np.argsort(rs_stop, kind="stable")
            boarded, starts = np.unique(rs_stop[order], return_index=True)
            first_leg = rs_board[order, None] + ride[order, stop_base:]
            board_to_stop[boarded] = np.minimum.reduceat(first_leg, starts, axis=0)
            # Only stops some origin can walk to are ever boarded.
            walkable = np.isfinite(access[origins]).any(axis=0)
            board_to_stop[~walkable] = np.inf
            usable = access[origins]
            stop_walk, leg = self._stop_walk_minutes, egress[:, targets]
            cutoff = params.max_minutes
            if previous_minutes is None or (
                previous is not None and not previous.fits(board_to_stop, len(targets))
            ):
                previous = None
            everything = len(origins) == n_origins and len(targets) == n_destinations
            if previous is None or previous_minutes is None:
                from_stop = ride_then_walk(board_to_stop, stop_walk, leg, cutoff=cutoff)
                # Start from walking all the way and keep whatever transit makes shorter;
                # unplaced points (NaN in walk) are outside origins x targets and stay NaN.
                if everything:  # the copy and the cut at max_minutes in the same pass
                    result = np.empty_like(walk, order="C")
                    walk_then_ride(
                        usable,
                        from_stop,
                        best=result,
                        cutoff=cutoff,
                        start=walk,
                        cap=params.max_minutes,
                    )
                    return result, TransitLegs(board_to_stop, from_stop)
                result = walk.copy()
                block = result if everything else result[np.ix_(origins, targets)]
                walk_then_ride(usable, from_stop, best=block, cutoff=cutoff)
            else:
                from_stop, moved, slower = previous.updated_from_stop(
                    board_to_stop, stop_walk, leg, cutoff=cutoff
                )
                # Origins that could board where a ride got slower: from walking, in full.
                again = np.isfinite(usable[:, slower]).any(axis=1)
                if stale_rows is not None and len(stale_rows):
                    stale = np.zeros(n_origins, dtype=bool)
                    stale[stale_rows] = True
                    again |= stale[origins]
                redo = np.flatnonzero(again)
                if not len(redo) and not len(moved):
                    # No boarding stop's minutes moved (e.g. a new stop no route serves in
                    # this window): the old minutes are the answer, shared, not copied.
                    return previous_minutes, TransitLegs(board_to_stop, from_stop)
                rest = np.setdiff1d(np.arange(len(origins)), redo)
                result = np.array(previous_minutes, dtype=walk.dtype)
                block = result if everything else result[np.ix_(origins, targets)]
                if len(redo):
                    fresh = walk[np.ix_(origins[redo], targets)]
                    walk_then_ride(usable[redo], from_stop, best=fresh, cutoff=cutoff)
                    block[redo] = fresh
                if len(rest) and len(moved):
                    lowered = block[rest]
                    walk_then_ride(
                        usable[np.ix_(rest, moved)], from_stop[moved], best=lowered, cutoff=cutoff
                    )
                    block[rest] = lowered
            if not everything:
                result[np.ix_(origins, targets)] = block
            result[result > params.max_minutes] = np.inf
            return result, TransitLegs(board_to_stop, from_stop)
        return walk.copy(), None


@dataclass(frozen=True, eq=False)
class TransitLegs:
    """What one window's transit minutes (one rider group) were built from.

    ``board_to_stop[b, s]``: boarding at stop b (wait + penalty) to standing at stop s;
    ``from_stop[b, d]``: boarding at b to each usable destination d. Kept by the engine so a
    route change recomputes only the boarding stops it touches.
    """

    board_to_stop: np.ndarray
    from_stop: np.ndarray

    def fits(self, board_to_stop: np.ndarray, n_targets: int) -> bool:
        """Whether these legs can seed an update to ``board_to_stop`` (stops only appended)."""
        return (
            self.board_to_stop.shape[0] <= board_to_stop.shape[0]
            and self.from_stop.shape[1] == n_targets
        )

    def updated_from_stop(
        self,
        board_to_stop: np.ndarray,
        stop_walk: np.ndarray,
        egress: np.ndarray,
        *,
        cutoff: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``from_stop`` for the new ``board_to_stop``, searching only boarding stops that
        changed; also the boarding stops whose minutes moved, and the old ones that got slower.

        A boarding stop whose rides to the old stops are unchanged keeps its old row, lowered
        by trips through the new stops it reaches (a minimum, so exact); the others (and new
        stops) are computed as :func:`~retention.access.min_plus.ride_then_walk` does.
        """
        n_old, n_stops = self.from_stop.shape[0], board_to_stop.shape[0]
        same = (board_to_stop[:n_old, :n_old] == self.board_to_stop).all(axis=1)
        new = np.arange(n_old, n_stops)
        via_new = same & np.isfinite(board_to_stop[:n_old, n_old:]).any(axis=1)
        from_stop = np.empty((n_stops, self.from_stop.shape[1]))
        from_stop[:n_old] = self.from_stop
        search = np.concatenate([np.flatnonzero(~same), new])
        if len(search):
            from_stop[search] = ride_then_walk(
                board_to_stop[search], stop_walk[search], egress, cutoff=cutoff
            )
        extend = np.flatnonzero(via_new)
        if len(extend) and len(new):
            through = ride_then_walk(
                board_to_stop[np.ix_(extend, new)],
                stop_walk[np.ix_(extend, new)],
                egress[new],
                cutoff=cutoff,
            )
            np.minimum(from_stop[extend], through, out=through)
            from_stop[extend] = through
        differs = (from_stop[:n_old] != self.from_stop).any(axis=1)
        slower = np.flatnonzero((from_stop[:n_old] > self.from_stop).any(axis=1))
        fresh = new[np.isfinite(from_stop[new]).any(axis=1)] if len(new) else new
        return from_stop, np.concatenate([np.flatnonzero(differs), fresh]), slower


def _check_mode(mode: str) -> Mode:
    if mode not in MODES:
        raise ValidationError(f"mode {mode!r} is not known; expected one of {', '.join(MODES)}")
    return mode


def _frozen(graph: csr_matrix) -> csr_matrix:
    for array in (graph.data, graph.indices, graph.indptr):
        array.setflags(write=False)
    return graph


def _csr_min(
    parts: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]], n_nodes: int
) -> csr_matrix:
    """Sparse graph from edge lists, keeping the *minimum* of duplicate edges (csr would sum)."""
    rows = np.concatenate([np.asarray(p[0], dtype=np.int64) for p in parts])
    cols = np.concatenate([np.asarray(p[1], dtype=np.int64) for p in parts])
    data = np.concatenate([np.asarray(p[2], dtype=float) for p in parts])
    data = np.maximum(data, _EPSILON_MINUTES)
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return csr_matrix((data[first], (rows[first], cols[first])), shape=(n_nodes, n_nodes))


def _multi_source_minutes(
    graph: csr_matrix,
    groups: Sequence[tuple[np.ndarray, np.ndarray]],
    read: np.ndarray,
    *,
    cutoff: float,
) -> np.ndarray:
    """Minutes from the best of each group's start nodes (each with a head start) to ``read``.

    Each group ``(nodes, start_minutes)`` gets a virtual node linked to each of its start nodes
    by its start minutes (the shortest when a node appears twice); nothing links into a virtual
    node, so the search from one (all groups at once, on every core) runs on the symmetric
    ``graph`` as if the others were not there. The links carry one extra minute, taken off
    again at the end, because a zero weight would vanish from a sparse matrix (an epsilon would
    stay in the answer). Returns ``(len(groups), len(read))``.
    """
    n_nodes = graph.shape[0]
    coo = graph.tocoo()
    rows, cols, weights = [coo.row], [coo.col], [coo.data]
    for group, (nodes, start_minutes) in enumerate(groups):
        order = np.lexsort((start_minutes, nodes))
        nodes, start_minutes = nodes[order], start_minutes[order]
        first = np.ones(len(nodes), dtype=bool)
        first[1:] = nodes[1:] != nodes[:-1]
        rows.append(np.full(int(first.sum()), n_nodes + group))
        cols.append(nodes[first])
        weights.append(start_minutes[first] + _LINK_MINUTES)
    size = n_nodes + len(groups)
    extended = csr_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
        shape=(size, size),
    )
    distances = bounded_distances(
        extended,
        np.arange(n_nodes, size),
        limit=cutoff + _LINK_MINUTES,
        ends=EndReading.nodes(read),
    )
    return distances - _LINK_MINUTES


def _node_matrix(
    graph: csr_matrix,
    sources: np.ndarray,
    targets: np.ndarray,
    *,
    cutoff: float,
) -> np.ndarray:
    """Shortest-path minutes between node sets of a symmetric graph, from the smaller side, on
    every core (``shortest_paths.bounded_distances``); inf past cutoff.

    ``graph`` holds both directions of every undirected edge, so the search runs as directed.
    Street graphs are mostly dead ends and degree-2 vertices along roads: the search runs on
    the intersections of the through network and the start nodes only; a node in a dead-end
    tree is reached from its root, and a node along a road from its chain ends (exact, see
    ``prune_dead_ends`` and ``contract_chains``). Rows are independent, so the threads give
    the same numbers bit for bit as one search after another.
    """
    sources, targets = np.asarray(sources), np.asarray(targets)
    reverse = len(np.unique(targets)) < len(np.unique(sources))
    start, end = (targets, sources) if reverse else (sources, targets)
    keep = np.unique(start)
    pruned = prune_dead_ends(graph, keep)
    contracted = contract_chains(pruned.graph, keep)
    # One search per distinct start node, each written to its rows in order: no gather after.
    block = bounded_distances(
        contracted.graph,
        contracted.position(start),
        limit=float(cutoff),
        ends=EndReading(*contracted.ends(pruned.root[end]), offset=pruned.offset[end]),
    )
    return np.ascontiguousarray(block.T) if reverse else block


# --- the whole park ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TravelTimeResult:
    """Minutes from every origin to every amenity, by mode and time window.

    Parameters
    ----------
    origins
        One row per origin (``retention.access.origins.origin_points``): ``origin_set``,
        ``origin_id``,
        ``weight``, ``enterprise_id``, zone columns, geometry. Row ``i`` is matrix row ``i``.
    amenities
        The amenities layer (reset index); row ``j`` is matrix column ``j``.
    windows
        The time windows computed.
    minutes
        ``(mode, window key) -> float32 (n_origins, n_amenities)`` minutes, *not* masked for
        opening hours or ``open_to`` (see :meth:`available_mask`); NaN: unplaced, inf:
        unreachable. Walking and e-bike do not depend on the window and share one array.
    open_minutes
        ``(n_amenities, n_windows)`` minutes each amenity is open in each window.
    params
        Travel parameters used.
    approximate
        True when there was no road network: times are straight line × circuity factor.
    snap_report
        Points that got no travel time: ``layer, id, distance_m``.
    notes
        Assumptions made while building the transit model.
    """

    origins: gpd.GeoDataFrame
    amenities: gpd.GeoDataFrame
    windows: tuple[TimeWindow, ...]
    minutes: Mapping[tuple[str, str], np.ndarray]
    open_minutes: np.ndarray
    params: TravelParameters
    approximate: bool
    snap_report: pd.DataFrame
    notes: tuple[str, ...] = ()
    _window_index: Mapping[str, int] = field(init=False, repr=False)
    _open_to: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "_window_index",
            MappingProxyType({window.key: i for i, window in enumerate(self.windows)}),
        )
        # Who may use which amenity does not depend on the window: built once, read-only.
        open_to = _open_to_mask(self.origins, self.amenities)
        open_to.setflags(write=False)
        object.__setattr__(self, "_open_to", open_to)

    def window(self, key: str) -> TimeWindow:
        """The window with ``key``."""
        return self.windows[self._index(key)]

    def minutes_for(self, mode: Mode, window: TimeWindow | str) -> np.ndarray:
        """Unmasked minutes ``(n_origins, n_amenities)`` for ``mode`` in ``window``."""
        key = window if isinstance(window, str) else window.key
        self._index(key)
        return self.minutes[(_check_mode(mode), key)]

    def available_mask(self, window: TimeWindow | str) -> np.ndarray:
        """Which amenities count for which origins in ``window``: ``(n_origins, n_amenities)``.

        An amenity counts if it is open at least ``params.min_open_minutes(window)`` within the
        window, and, when its ``open_to`` names enterprises (ids, separated by ``,`` ``;`` or
        ``、``), only for origins belonging to one of them: the enterprise itself (its
        employees) and residences whose ``enterprise_id`` is that enterprise (its dormitory
        residents). H3 cells mix people of many employers, so a restricted amenity does not
        count for them.
        """
        return self.is_open(window)[None, :] & self._open_to

    def is_open(self, window: TimeWindow | str) -> np.ndarray:
        """Which amenities are open long enough in ``window`` to count: ``(n_amenities,)``."""
        key = window if isinstance(window, str) else window.key
        column = self._index(key)
        threshold = self.params.min_open_minutes(self.windows[column])
        return self.open_minutes[:, column] >= threshold

    @property
    def open_to(self) -> np.ndarray:
        """Which amenities each origin may use at all (``open_to``), read-only; see
        :meth:`available_mask`."""
        return self._open_to

    def masked_minutes(self, mode: Mode, window: TimeWindow | str) -> np.ndarray:
        """Minutes with unavailable amenities (closed, or not open to the origin) set to inf."""
        minutes = self.minutes_for(mode, window)
        return np.where(self.available_mask(window), minutes, np.float32(np.inf))

    def _index(self, key: str) -> int:
        if key not in self._window_index:
            raise ValidationError(
                f"time window {key!r} was not computed; expected one of "
                f"{', '.join(self._window_index)}"
            )
        return self._window_index[key]


_PUBLIC = frozenset({"", "all", "public", "everyone", "全部", "所有人", "公众", "公开"})


def _open_to_mask(origins: pd.DataFrame, amenities: pd.DataFrame) -> np.ndarray:
    mask = np.ones((len(origins), len(amenities)), dtype=bool)
    if "open_to" not in amenities.columns:
        return mask
    belongs = origins["enterprise_id"].astype(object).where(origins["enterprise_id"].notna())
    owners = [None if value is None else str(value).strip() for value in belongs.tolist()]
    codes, names = pd.factorize(pd.Series(owners, dtype=object), use_na_sentinel=True)
    # Amenities share a few open_to texts (one per enterprise at most): one column per text.
    columns_of: dict[str, list[int]] = {}
    for column, value in enumerate(amenities["open_to"].tolist()):
        text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
        if text.strip().lower() not in _PUBLIC:
            columns_of.setdefault(text, []).append(column)
    for text, columns in columns_of.items():
        allowed = {part.strip() for part in re.split(r"[,;、，；]", text)}
        # Code -1 (no employer) is the table's last entry: never allowed.
        table = np.append(np.isin(np.asarray(names, dtype=object), list(allowed - {""})), False)
        mask[:, columns] = table[codes][:, None]
    return mask


def park_engine(
    park: ParkData,
    *,
    params: TravelParameters,
    windows: tuple[TimeWindow, ...] = DEFAULT_TIME_WINDOWS,
    modes: tuple[Mode, ...] = MODES,
    h3_resolution: int = 9,
    streets: TravelTimeEngine | None = None,
) -> ParkEngine:
    """Build the park's travel-time engine (``retention.access.engine.ParkEngine``): every
    matrix of :func:`travel_times_for_park`, plus the graphs and legs its what-if operations and
    isochrones reuse.

    Parameters are those of :func:`travel_times_for_park`; ``streets`` is
    ``retention.access.engine.park_streets`` of the park when already built (shared).
    """
    from retention.access.engine import ParkEngine

    return ParkEngine.build(
        park.layers,
        params=params,
        windows=windows,
        modes=modes,
        h3_resolution=h3_resolution,
        streets=streets,
    )


def travel_times_for_park(
    park: ParkData,
    *,
    params: TravelParameters,
    windows: tuple[TimeWindow, ...] = DEFAULT_TIME_WINDOWS,
    modes: tuple[Mode, ...] = MODES,
    h3_resolution: int = 9,
) -> TravelTimeResult:
    """Compute minutes from every origin (residences, enterprises, H3 cells) to every amenity.

    The result of :func:`park_engine` (``retention.access.engine.ParkEngine.build`` on the
    park's layers); build the engine itself to ask what-if questions without a full rebuild.

    Assumptions: ``park`` is a ``retention.storage.park.ParkData`` (anything with a ``layers``
    mapping
    of ``LayerKind`` to WGS84 GeoDataFrames); without roads the straight-line × circuity
    fallback is used and the result is flagged ``approximate``.

    Parameters
    ----------
    park
        The park bundle.
    params
        Travel parameters.
    windows
        Time windows to compute.
    modes
        Modes to compute.
    h3_resolution
        Resolution of the H3 origin grid.

    Returns
    -------
    TravelTimeResult
    """
    return park_engine(
        park, params=params, windows=windows, modes=modes, h3_resolution=h3_resolution
    ).result


def _same_stop_prefix(before: SnappedPoints, after: SnappedPoints) -> int:
    """How many leading stops ``after`` shares with ``before`` (same id, node and distance)."""
    count = min(len(before.ids), len(after.ids))
    same = (
        (before.ids[:count] == after.ids[:count])
        & (before.nodes[:count] == after.nodes[:count])
        & (
            (before.distance_metres[:count] == after.distance_metres[:count])
            | (np.isnan(before.distance_metres[:count]) & np.isnan(after.distance_metres[:count]))
        )
        & ((before.xy[:count] == after.xy[:count]) | np.isnan(after.xy[:count])).all(axis=1)
    )
    return int(np.argmin(same)) if not same.all() else count


def _subset(points: SnappedPoints, rows: np.ndarray) -> SnappedPoints:
    return SnappedPoints(
        ids=points.ids[rows],
        nodes=points.nodes[rows],
        distance_metres=points.distance_metres[rows],
        xy=points.xy[rows],
        max_distance_metres=points.max_distance_metres,
        approximate=points.approximate,
    )


def _layer(layers: Mapping[LayerKind, gpd.GeoDataFrame], kind: LayerKind) -> gpd.GeoDataFrame:
    frame = layers.get(kind)
    if frame is None:
        return gpd.GeoDataFrame(geometry=[], crs=WGS84)
    return frame


def _store(
    minutes: dict[tuple[str, str], np.ndarray],
    mode: str,
    windows: tuple[TimeWindow, ...],
    values: np.ndarray,
) -> None:
    shared = _read_only32(values)
    for window in windows:
        minutes[(mode, window.key)] = shared


def _read_only32(values: np.ndarray) -> np.ndarray:
    result = values.astype(np.float32)
    result.setflags(write=False)
    return result


def _open_minutes(amenities: pd.DataFrame, windows: tuple[TimeWindow, ...]) -> np.ndarray:
    result = np.zeros((len(amenities), len(windows)), dtype=np.float32)
    if "opening_hours" not in amenities.columns:
        raise ValidationError(
            "amenities layer has no 'opening_hours' column", column="opening_hours"
        )
    # Amenities share a few dozen opening-hours texts: parse and measure each text once.
    by_text: dict[tuple[str, str], np.ndarray] = {}
    for row, text in enumerate(amenities["opening_hours"].tolist()):
        key = (type(text).__name__, text if isinstance(text, str) else repr(text))
        if key not in by_text:
            try:
                hours = parse_opening_hours(text)
            except ValidationError as error:
                raise ValidationError(str(error), row=row + 1, column="opening_hours") from error
            by_text[key] = np.array(
                [
                    hours.open_minutes(window.day, window.start_minute, window.end_minute)
                    for window in windows
                ],
                dtype=np.float32,
            )
        result[row] = by_text[key]
    result.setflags(write=False)
    return result


__all__ = [
    "MODES",
    "Mode",
    "TravelTimeEngine",
    "TravelTimeResult",
    "park_engine",
    "travel_times_for_park",
]
