"""The routable walk / e-bike street network and snapping points onto it.

A network is built from the park's roads layer (one node per line vertex, one edge per pair of
consecutive vertices, as OSM does), from an OSM PBF extract through pyrosm, or — when a park has
no roads at all — it is *approximate*: straight-line distance times a circuity factor, and every
result computed from it says so.

Assumptions: edges are undirected for both walking and riding (one-way streets do not bind
pedestrians, and e-bikes in Chinese parks use both sides of the road in practice); lengths are
metres in the local UTM zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from retention.data.crs import utm_crs_for_frame
from retention.data.layers import WGS84
from retention.errors import ValidationError

NetworkMode = Literal["walk", "bike"]
NODE_KEY_METRES = 0.01  # vertices closer than ~1 cm are one node (shared intersection vertices)
_TRUE = frozenset({"true", "1", "yes", "y", "t", "是", "可", "允许"})
_FALSE = frozenset({"false", "0", "no", "n", "f", "否", "不可", "禁止"})


def _read_only(array: npt.ArrayLike, dtype: npt.DTypeLike) -> np.ndarray:
    result = np.array(array, dtype=dtype)
    result.setflags(write=False)
    return result


@dataclass(frozen=True, eq=False)
class SnappedPoints:
    """Points attached to their nearest network node.

    Parameters
    ----------
    ids
        Identifier of each point, in input order.
    nodes
        Index of the nearest node, or -1 when the point is farther than the snap limit (or the
        network is approximate: then ``xy`` is used directly).
    distance_metres
        Straight-line distance to that node (NaN when the network has no nodes).
    xy
        Projected coordinates of the points, metres.
    max_distance_metres
        The snap limit that was applied.
    approximate
        True when the network is the straight-line fallback: every point with coordinates is
        usable and none is snapped.
    """

    ids: np.ndarray
    nodes: np.ndarray
    distance_metres: np.ndarray
    xy: np.ndarray
    max_distance_metres: float
    approximate: bool = False

    @property
    def usable(self) -> np.ndarray:
        """Boolean mask of points that get travel times (snapped, or approximate with xy)."""
        if self.approximate:
            return np.isfinite(self.xy).all(axis=1)
        return self.nodes >= 0

    @property
    def report(self) -> pd.DataFrame:
        """Points that get no travel time: ``id, distance_m`` (NaN distance: no geometry)."""
        left_out = ~self.usable
        return pd.DataFrame(
            {"id": self.ids[left_out], "distance_m": self.distance_metres[left_out]}
        ).reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class StreetNetwork:
    """An undirected street network in a metric CRS; immutable (arrays are read-only).

    Parameters
    ----------
    crs
        Projected CRS of ``node_xy`` (e.g. ``"EPSG:32649"``).
    node_xy
        ``(n, 2)`` node coordinates, metres.
    edge_u, edge_v
        Node indices of each edge's ends.
    edge_length_metres
        Edge lengths. Parallel edges may be present; they are collapsed to the shortest when a
        graph is built (``csr_matrix`` would otherwise *sum* them).
    edge_walk, edge_bike
        Whether walking / riding is allowed on the edge.
    approximate
        True when there is no street network: travel is straight line times ``circuity_factor``.
    circuity_factor
        Network / straight-line distance ratio applied when ``approximate``.
    source
        Where the network came from (``"roads layer"``, an OSM file name, ``"straight line"``).
    """

    crs: str
    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_metres: np.ndarray
    edge_walk: np.ndarray
    edge_bike: np.ndarray
    approximate: bool = False
    circuity_factor: float = 1.0
    source: str = ""
    _trees: dict[str, cKDTree] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for name, dtype in (
            ("node_xy", np.float64),
            ("edge_u", np.int64),
            ("edge_v", np.int64),
            ("edge_length_metres", np.float64),
            ("edge_walk", np.bool_),
            ("edge_bike", np.bool_),
        ):
            object.__setattr__(self, name, _read_only(getattr(self, name), dtype))
        if self.node_xy.size == 0:
            object.__setattr__(self, "node_xy", _read_only(np.empty((0, 2)), np.float64))
        sizes = {len(self.edge_u), len(self.edge_v), len(self.edge_length_metres)}
        sizes |= {len(self.edge_walk), len(self.edge_bike)}
        if len(sizes) != 1:
            raise ValidationError(f"edge arrays differ in length: {sorted(sizes)}")
        # Trees are derived once here, so the object never changes after construction.
        modes: tuple[NetworkMode, ...] = ("walk", "bike")
        for mode in modes:
            nodes = self.mode_nodes(mode)
            if len(nodes):
                self._trees[mode] = cKDTree(self.node_xy[nodes])

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        """Number of edges as stored (parallel edges included)."""
        return len(self.edge_u)

    def mode_mask(self, mode: NetworkMode) -> np.ndarray:
        """Boolean mask of edges usable by ``mode``."""
        if mode == "walk":
            return self.edge_walk
        if mode == "bike":
            return self.edge_bike
        raise ValidationError(f"network mode {mode!r} is not known; expected 'walk' or 'bike'")

    def mode_nodes(self, mode: NetworkMode) -> np.ndarray:
        """Sorted indices of nodes touched by at least one edge usable by ``mode``."""
        mask = self.mode_mask(mode)
        return np.unique(np.concatenate([self.edge_u[mask], self.edge_v[mask]]))

    def collapsed_edges(self, mode: NetworkMode) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(u, v, length_metres)`` with ``u < v``: parallel edges reduced to the shortest.

        Self-loops are dropped: they never shorten a path.
        """
        mask = self.mode_mask(mode) & (self.edge_u != self.edge_v)
        u = np.minimum(self.edge_u[mask], self.edge_v[mask])
        v = np.maximum(self.edge_u[mask], self.edge_v[mask])
        length = self.edge_length_metres[mask]
        if len(u) == 0:
            return u, v, length
        order = np.lexsort((length, v, u))
        u, v, length = u[order], v[order], length[order]
        first = np.ones(len(u), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        return u[first], v[first], length[first]

    def graph_minutes(self, *, mode: NetworkMode, speed_m_per_min: float) -> csr_matrix:
        """Build the symmetric sparse graph of edge travel times in minutes for ``mode``.

        Parameters
        ----------
        mode
            ``"walk"`` or ``"bike"``.
        speed_m_per_min
            Travel speed on every edge.

        Returns
        -------
        csr_matrix
            ``n_nodes x n_nodes``; no duplicate entries (parallel edges already collapsed).
        """
        u, v, length = self.collapsed_edges(mode)
        minutes = length / float(speed_m_per_min)
        # Zero-length edges would vanish from a sparse matrix; keep them as a tiny positive time.
        minutes = np.maximum(minutes, 1e-9)
        rows = np.concatenate([u, v])
        cols = np.concatenate([v, u])
        data = np.concatenate([minutes, minutes])
        return csr_matrix((data, (rows, cols)), shape=(self.n_nodes, self.n_nodes))

    def snap(
        self,
        points: gpd.GeoDataFrame | gpd.GeoSeries,
        *,
        mode: NetworkMode = "walk",
        max_distance_metres: float,
        id_column: str | None = None,
    ) -> SnappedPoints:
        """Attach points to their nearest node of the ``mode`` network; far points are reported.

        Assumptions: points carry a CRS; polygons are represented by their centroid (computed in
        the metric CRS). A point farther than ``max_distance_metres`` from every node is *not*
        moved: its node is -1 and it appears in ``SnappedPoints.report``.

        Parameters
        ----------
        points
            Point (or polygon) geometries with a CRS.
        mode
            Which network's nodes to snap to.
        max_distance_metres
            Snap limit.
        id_column
            Column holding identifiers; the frame index is used when omitted.

        Returns
        -------
        SnappedPoints
        """
        xy = project_points(points, crs=self.crs)
        if id_column is not None and isinstance(points, gpd.GeoDataFrame):
            ids = points[id_column].to_numpy(dtype=object)
        else:
            ids = points.index.to_numpy(dtype=object)
        nodes = np.full(len(xy), -1, dtype=np.int64)
        distance = np.full(len(xy), np.nan)
        tree = self._trees.get(mode)
        if not self.approximate and tree is not None and len(xy):
            finite = np.isfinite(xy).all(axis=1)
            found_distance, found = tree.query(xy[finite])
            mode_nodes = self.mode_nodes(mode)
            distance[finite] = found_distance
            candidate = mode_nodes[found]
            within = found_distance <= max_distance_metres
            chosen = np.where(within, candidate, -1)
            nodes[finite] = chosen
        return SnappedPoints(
            ids=_read_only(ids, object),
            nodes=_read_only(nodes, np.int64),
            distance_metres=_read_only(distance, np.float64),
            xy=_read_only(xy, np.float64),
            max_distance_metres=float(max_distance_metres),
            approximate=self.approximate,
        )


@dataclass(frozen=True, eq=False)
class ContractedGraph:
    """A symmetric graph with its unkept degree-2 chains replaced by single edges.

    Every original node is reached from its chain's two end nodes: ``near`` and ``far`` are
    their indices in ``graph`` and ``near_minutes`` / ``far_minutes`` the weights along the chain
    from them (a node that stays in ``graph`` is its own ``near`` and ``far``, at 0; a node on a
    closed loop of removed nodes has no end: -1 and ``inf``).

    Parameters
    ----------
    graph
        ``n_kept x n_kept`` symmetric sparse graph; an edge replacing a chain weighs the chain's
        summed weight, and parallel edges keep the lightest.
    kept
        Original index of each node of ``graph`` (sorted).
    near, far
        ``(n_original,)`` indices in ``graph`` of the nearer and the farther chain end.
    near_minutes, far_minutes
        ``(n_original,)`` weights along the chain from those ends.
    """

    graph: csr_matrix
    kept: np.ndarray
    near: np.ndarray
    far: np.ndarray
    near_minutes: np.ndarray
    far_minutes: np.ndarray

    def position(self, nodes: np.ndarray) -> np.ndarray:
        """Indices in ``graph`` of original nodes that were kept (-1 for contracted ones)."""
        found = np.searchsorted(self.kept, nodes)
        found = np.minimum(found, max(len(self.kept) - 1, 0))
        hit = (self.kept[found] == nodes) if len(self.kept) else np.zeros(len(nodes), bool)
        return np.where(hit, found, -1)

    def ends(
        self, nodes: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
        """How original ``nodes`` are read off distances over ``graph``: ``near``,
        ``near_minutes``, ``far``, ``far_minutes`` (indices in ``graph``, all valid) and whether
        any node has a distinct far end; a node is ``min(d[near] + near_minutes, d[far] +
        far_minutes)``, the far end only when there is one (see :meth:`to_nodes`)."""
        near, far = self.near[nodes], self.far[nodes]
        # A node without chain ends reads any column plus an infinite offset: inf.
        near_minutes = np.where(near < 0, np.inf, self.near_minutes[nodes])
        far_minutes = np.where(far < 0, np.inf, self.far_minutes[nodes])
        near, far = np.maximum(near, 0), np.maximum(far, 0)
        return near, near_minutes, far, far_minutes, bool((near != far).any())

    def to_nodes(self, distances: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """Distances from rows' sources to original ``nodes``, given distances over ``graph``."""
        near, near_minutes, far, far_minutes, use_far = self.ends(nodes)
        result = distances[:, near] + near_minutes
        if use_far:
            np.minimum(result, distances[:, far] + far_minutes, out=result)
        return result


def contract_chains(graph: csr_matrix, keep: npt.ArrayLike) -> ContractedGraph:
    """Replace every chain of degree-2 nodes not in ``keep`` by one edge between its ends.

    Assumptions: ``graph`` is symmetric (both directions of every undirected edge), without
    self-loops or duplicate entries (``StreetNetwork.graph_minutes``), weights positive. Exact:
    a shortest path from a kept node enters a chain only at one end and leaves at the other, or
    stops inside it, so distances from kept nodes are unchanged (up to float summation order):
    to kept nodes through ``graph``, to removed ones through ``ContractedGraph.to_nodes``.
    Closed loops of removed nodes and loops hanging off one node never shorten a path and are
    dropped from ``graph``.

    Parameters
    ----------
    graph
        The symmetric sparse graph.
    keep
        Indices of nodes that must stay (the sources of a search).

    Returns
    -------
    ContractedGraph
    """
    n_nodes = graph.shape[0]
    degree = np.diff(graph.indptr)
    # Isolated nodes (e.g. cut off by ``prune_dead_ends``) are dropped too: nothing reaches them.
    removable = (degree == 2) | (degree == 0)
    removable[np.asarray(keep, dtype=np.int64)] = False
    coo = graph.tocoo()
    upper = coo.row < coo.col
    u, v, w = coo.row[upper].astype(np.int64), coo.col[upper].astype(np.int64), coo.data[upper]
    u_out, v_out = removable[u], removable[v]
    internal = u_out & v_out
    labels = np.full(n_nodes, -1, dtype=np.int64)
    n_chains = 0
    if removable.any():
        chain_nodes = np.flatnonzero(removable)
        local = np.full(n_nodes, -1, dtype=np.int64)
        local[chain_nodes] = np.arange(len(chain_nodes))
        links = csr_matrix(
            (np.ones(int(internal.sum())), (local[u[internal]], local[v[internal]])),
            shape=(len(chain_nodes), len(chain_nodes)),
        )
        n_chains, chain_labels = connected_components(links, directed=False)
        labels[chain_nodes] = chain_labels
    inner_minutes = np.bincount(labels[u[internal]], weights=w[internal], minlength=n_chains)
    # An edge with one removable end: the chain it belongs to, and the kept node it reaches.
    boundary = u_out ^ v_out
    chain = np.where(u_out[boundary], labels[u[boundary]], labels[v[boundary]])
    end = np.where(u_out[boundary], v[boundary], u[boundary])
    end_minutes = w[boundary]
    order = np.argsort(chain, kind="stable")
    chain, end, end_minutes = chain[order], end[order], end_minutes[order]
    # A path-shaped chain has exactly two boundary edges (a closed loop has none).
    first = np.flatnonzero(chain[:-1] == chain[1:]) if len(chain) > 1 else np.zeros(0, np.int64)
    a, b = end[first], end[first + 1]
    through = end_minutes[first] + inner_minutes[chain[first]] + end_minutes[first + 1]
    plain = ~(u_out | v_out)
    rows = np.concatenate([u[plain], a])
    cols = np.concatenate([v[plain], b])
    data = np.concatenate([w[plain], through])
    loop = rows == cols
    rows, cols, data = rows[~loop], cols[~loop], data[~loop]
    kept = np.flatnonzero(~removable)
    position = np.full(n_nodes, -1, dtype=np.int64)
    position[kept] = np.arange(len(kept))
    lo = position[np.minimum(rows, cols)]
    hi = position[np.maximum(rows, cols)]
    order = np.lexsort((data, hi, lo))
    lo, hi, data = lo[order], hi[order], data[order]
    unique = np.ones(len(lo), dtype=bool)
    unique[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, data = lo[unique], hi[unique], data[unique]
    contracted = csr_matrix(
        (np.concatenate([data, data]), (np.concatenate([lo, hi]), np.concatenate([hi, lo]))),
        shape=(len(kept), len(kept)),
    )
    near = position.copy()
    far = position.copy()
    near_minutes = np.where(removable, np.inf, 0.0)
    far_minutes = near_minutes.copy()
    if len(first):
        # Offsets inside chains: one search from every chain end over the chains alone.
        chain_edges = internal | boundary
        cu, cv, cw = u[chain_edges], v[chain_edges], w[chain_edges]
        chains_only = csr_matrix(
            (np.concatenate([cw, cw]), (np.concatenate([cu, cv]), np.concatenate([cv, cu]))),
            shape=(n_nodes, n_nodes),
        )
        ends = np.unique(np.concatenate([a, b]))
        offset, _, source = dijkstra(
            chains_only, directed=True, indices=ends, min_only=True, return_predecessors=True
        )
        on_chain = np.flatnonzero(removable & np.isfinite(offset))
        reached = labels[on_chain]
        chain_of = np.full(n_chains, -1, dtype=np.int64)
        chain_of[chain[first]] = np.arange(len(first))
        pair = chain_of[reached]
        near_end = source[on_chain]
        far_end = np.where(a[pair] == near_end, b[pair], a[pair])
        near[on_chain] = position[near_end]
        far[on_chain] = position[far_end]
        near_minutes[on_chain] = offset[on_chain]
        far_minutes[on_chain] = through[pair] - offset[on_chain]
    return ContractedGraph(
        graph=contracted,
        kept=kept,
        near=near,
        far=far,
        near_minutes=near_minutes,
        far_minutes=far_minutes,
    )


@dataclass(frozen=True, eq=False)
class PrunedGraph:
    """A symmetric graph with its dead-end trees cut off, and how to reach their nodes.

    Parameters
    ----------
    graph
        The same nodes as the input; edges of cut-off nodes are gone (those nodes are isolated).
    root
        ``(n,)`` the node each node hangs from: itself for a node that stays, else the one
        remaining node its tree is attached to.
    offset
        ``(n,)`` weight from ``root`` to the node along its tree (0 for a node that stays).
    """

    graph: csr_matrix
    root: np.ndarray
    offset: np.ndarray


def prune_dead_ends(graph: csr_matrix, keep: npt.ArrayLike) -> PrunedGraph:
    """Cut off every dead-end tree (cul-de-sacs, driveways) that holds no node of ``keep``.

    Assumptions as ``contract_chains`` (symmetric, no self-loops or duplicates, positive
    weights). Exact: a tree attached to the rest by one node is entered and left only through
    that node, so from any kept node the distance to a node in it is the distance to its root
    plus the weight along the tree (up to float summation order). Nodes of ``keep`` and the
    paths from them to the rest are never cut.

    Parameters
    ----------
    graph
        The symmetric sparse graph.
    keep
        Indices of nodes that must stay (the sources of a search).

    Returns
    -------
    PrunedGraph
    """
    n_nodes = graph.shape[0]
    indptr, indices = graph.indptr, graph.indices
    degree = np.diff(indptr).astype(np.int64)
    protected = np.zeros(n_nodes, dtype=bool)
    protected[np.asarray(keep, dtype=np.int64)] = True
    alive = np.ones(n_nodes, dtype=bool)
    leaves = np.flatnonzero((degree == 1) & ~protected)
    # Peel leaves round by round; each round looks only at the neighbours of the last leaves.
    while len(leaves):
        alive[leaves] = False
        starts, ends = indptr[leaves], indptr[leaves + 1]
        counts = ends - starts
        positions = np.repeat(ends - counts.cumsum(), counts) + np.arange(counts.sum())
        neighbours = indices[positions]
        neighbours = neighbours[alive[neighbours]]
        np.subtract.at(degree, neighbours, 1)
        candidates = np.unique(neighbours)
        leaves = candidates[(degree[candidates] == 1) & ~protected[candidates]]
    root = np.arange(n_nodes)
    offset = np.zeros(n_nodes)
    if alive.all():
        return PrunedGraph(graph=graph, root=root, offset=offset)
    coo = graph.tocoo()
    both = alive[coo.row] & alive[coo.col]
    pruned = csr_matrix((coo.data[both], (coo.row[both], coo.col[both])), shape=(n_nodes, n_nodes))
    # Offsets along the trees: one search from every root over the trees' edges alone.
    tree_edge = ~alive[coo.row] | ~alive[coo.col]
    trees = csr_matrix(
        (coo.data[tree_edge], (coo.row[tree_edge], coo.col[tree_edge])), shape=(n_nodes, n_nodes)
    )
    roots = np.unique(coo.row[tree_edge & alive[coo.row]])
    cut = np.flatnonzero(~alive)
    if len(roots):
        # Only edges leaving a root into its trees count: a root's edges to other live nodes
        # are not in ``trees``, so the search never passes from one tree to another's root.
        distance, _, source = dijkstra(
            trees, directed=True, indices=roots, min_only=True, return_predecessors=True
        )
        reached = cut[np.isfinite(distance[cut])]
        root[reached] = source[reached]
        offset[reached] = distance[reached]
    # A whole component without kept nodes peels down to one node; the rest hangs from it.
    return PrunedGraph(graph=pruned, root=root, offset=offset)


def project_points(points: gpd.GeoDataFrame | gpd.GeoSeries, *, crs: str) -> np.ndarray:
    """Return ``(n, 2)`` coordinates of points (polygon centroids) in ``crs``, metres.

    Empty or missing geometries give NaN coordinates.
    """
    if points.crs is None:
        raise ValidationError("points have no coordinate reference system; expected EPSG:4326")
    geometry = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    projected = geometry.to_crs(crs)
    xy = np.full((len(projected), 2), np.nan)
    if len(projected):
        present = ~(projected.isna().to_numpy() | projected.is_empty.to_numpy())
        values = projected.to_numpy()[present]
        is_point = shapely.get_type_id(values) == 0
        centres = np.where(is_point, values, shapely.centroid(values))
        xy[present, 0] = shapely.get_x(centres)
        xy[present, 1] = shapely.get_y(centres)
    return xy


def network_from_roads(roads: gpd.GeoDataFrame, *, crs: str | None = None) -> StreetNetwork:
    """Build the network from a roads layer: a node per vertex, an edge per segment.

    Assumptions: roads are LineStrings / MultiLineStrings with a CRS (EPSG:4326 at rest) and the
    boolean columns ``walk`` and ``bike``; lines are connected only where they share a vertex
    (within ~1 cm), like OSM ways (a crossing without a shared vertex is a bridge).

    Parameters
    ----------
    roads
        The roads layer.
    crs
        Metric CRS to work in; the layer's UTM zone when omitted.

    Returns
    -------
    StreetNetwork
    """
    if roads.crs is None:
        raise ValidationError("roads layer has no coordinate reference system; expected EPSG:4326")
    for column in ("walk", "bike"):
        if column not in roads.columns:
            raise ValidationError(
                f"roads layer has no {column!r} column; expected true/false per road",
                column=column,
            )
    metric_crs = crs or utm_crs_for_frame(roads.to_crs(WGS84))
    walk = _flags(roads["walk"], column="walk")
    bike = _flags(roads["bike"], column="bike")
    lines = roads.geometry.to_crs(metric_crs).to_numpy()
    keep = ~(pd.isna(lines) | shapely.is_empty(lines))
    parts, part_index = shapely.get_parts(lines[keep], return_index=True)
    row_of_part = np.flatnonzero(keep)[part_index]
    coords, coord_part = shapely.get_coordinates(parts, return_index=True)
    unique_keys, node_of_coord = _unique_rows(np.round(coords / NODE_KEY_METRES).astype(np.int64))
    node_xy = unique_keys.astype(np.float64) * NODE_KEY_METRES
    same_part = coord_part[1:] == coord_part[:-1]
    start = np.flatnonzero(same_part)
    u, v = node_of_coord[start], node_of_coord[start + 1]
    length = np.hypot(*(coords[start + 1] - coords[start]).T)
    row = row_of_part[coord_part[start]]
    return StreetNetwork(
        crs=metric_crs,
        node_xy=node_xy,
        edge_u=u,
        edge_v=v,
        edge_length_metres=length,
        edge_walk=walk[row],
        edge_bike=bike[row],
        source="roads layer",
    )


def network_from_osm_pbf(
    path: Path | str, *, bounding_box: tuple[float, float, float, float] | None = None
) -> StreetNetwork:
    """Build the network from an OpenStreetMap PBF extract (pyrosm walking + cycling networks).

    Assumptions: pyrosm's edge ``length`` (metres) is used as is; an edge in both pyrosm
    networks allows both modes.

    Parameters
    ----------
    path
        The ``.osm.pbf`` file.
    bounding_box
        Optional ``(min_lon, min_lat, max_lon, max_lat)`` to read only part of the extract.

    Returns
    -------
    StreetNetwork
    """
    try:
        import pyrosm
    except ImportError as error:  # pragma: no cover - pyrosm is pinned in requirements.txt
        raise ImportError("reading OSM files needs pyrosm: pip install pyrosm") from error
    osm = pyrosm.OSM(str(path), bounding_box=list(bounding_box) if bounding_box else None)
    frames = []
    node_frames = []
    for network_type, column in (("walking", "walk"), ("cycling", "bike")):
        result = osm.get_network(network_type=network_type, nodes=True)
        if result is None:
            continue
        nodes, edges = result
        node_frames.append(nodes[["id", "lon", "lat"]])
        edge_frame = edges[["u", "v", "length"]].copy()
        edge_frame["mode"] = column
        frames.append(edge_frame)
    if not frames:
        raise ValidationError(f"OSM file {Path(path).name!r} has no walkable or cyclable ways")
    nodes = pd.concat(node_frames).drop_duplicates("id").reset_index(drop=True)
    edges = pd.concat(frames, ignore_index=True)
    edges = (
        edges.assign(walk=edges["mode"] == "walk", bike=edges["mode"] == "bike")
        .groupby(["u", "v", "length"], as_index=False)[["walk", "bike"]]
        .any()
    )
    node_index = pd.Index(nodes["id"])
    points = gpd.GeoSeries(gpd.points_from_xy(nodes["lon"], nodes["lat"]), crs=WGS84)
    metric_crs = utm_crs_for_frame(gpd.GeoDataFrame(geometry=points))
    return StreetNetwork(
        crs=metric_crs,
        node_xy=project_points(points, crs=metric_crs),
        edge_u=node_index.get_indexer(edges["u"]),
        edge_v=node_index.get_indexer(edges["v"]),
        edge_length_metres=edges["length"].to_numpy(dtype=float),
        edge_walk=edges["walk"].to_numpy(),
        edge_bike=edges["bike"].to_numpy(),
        source=Path(path).name,
    )


def approximate_network(*, crs: str, circuity_factor: float) -> StreetNetwork:
    """Return the no-roads fallback: straight-line distance times ``circuity_factor``.

    Parameters
    ----------
    crs
        Metric CRS in which straight-line distances are measured.
    circuity_factor
        Network / straight-line ratio (``TravelParameters.circuity_factor``).

    Returns
    -------
    StreetNetwork
        With no nodes or edges and ``approximate=True``.
    """
    empty_int = np.empty(0, dtype=np.int64)
    return StreetNetwork(
        crs=crs,
        node_xy=np.empty((0, 2)),
        edge_u=empty_int,
        edge_v=empty_int,
        edge_length_metres=np.empty(0),
        edge_walk=np.empty(0, dtype=bool),
        edge_bike=np.empty(0, dtype=bool),
        approximate=True,
        circuity_factor=float(circuity_factor),
        source="straight line",
    )


def _unique_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, axis=0, return_inverse=True)`` for ``(n, 2)`` int64 keys: the same
    rows in the same (lexicographic) order and the same inverse, through one int64 per row
    when the keys' extent allows it (sorting 1-D integers instead of row records)."""
    if len(keys):
        low = keys.min(axis=0)
        span = keys.max(axis=0) - low + 1
        if int(span[0]) * int(span[1]) < 2**62:
            flat = (keys[:, 0] - low[0]) * span[1] + (keys[:, 1] - low[1])
            unique_flat, inverse = np.unique(flat, return_inverse=True)
            rows = np.column_stack(
                [unique_flat // span[1] + low[0], unique_flat % span[1] + low[1]]
            )
            return rows, inverse.ravel()
    rows, inverse = np.unique(keys.reshape(-1, 2), axis=0, return_inverse=True)
    return rows, inverse.ravel()


def _flags(values: pd.Series, *, column: str) -> np.ndarray:
    """Read a boolean column that may hold bools, 0/1 or yes/no text (English or Chinese)."""
    if values.dtype == bool:
        return values.to_numpy(dtype=bool, copy=True)
    result = np.zeros(len(values), dtype=bool)
    for row, value in enumerate(values.tolist(), start=1):
        if isinstance(value, bool | np.bool_) or (
            isinstance(value, int | float | np.integer | np.floating) and value in (0, 1)
        ):
            result[row - 1] = bool(value)
            continue
        text = str(value).strip().lower()
        if text in _TRUE:
            result[row - 1] = True
        elif text not in _FALSE:
            raise ValidationError(
                f"value {value!r} is not a yes/no flag; expected true/false, 1/0, yes/no or 是/否",
                row=row,
                column=column,
            )
    return result
