"""Peer implementations the ParkLife engine is benchmarked against.

Every peer works on the same plain inputs: a directed graph in CSR form whose edge weights are
minutes, node indices for origins and destinations, and a cut-off in minutes. Each returns a dense
``float64`` array with ``inf`` where a destination is not reachable within the cut-off, so answers
can be compared element by element with the engine's.

Peers are split into a *build* step (turning the CSR arrays into the peer's own graph object, the
analogue of building the engine) and a *query* step, so that the two are timed separately.
Heavy peers are imported inside the function that needs them: pandana is AGPL and is a benchmark
peer only; it must never be imported by ``retention/`` or ``pages/``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

# Rows of the dense (origins x all nodes) matrix scipy returns per call; 256 rows of a 60k-node
# graph is ~120 MB, which keeps the raw-scipy peer's peak memory comparable with the engine's.
SCIPY_CHUNK_ROWS = 256


@dataclass(frozen=True)
class GraphArrays:
    """A directed graph as CSR arrays, weights in minutes, with node coordinates in metres.

    Parameters
    ----------
    indptr, indices, minutes
        CSR structure of the graph (no duplicate ``(row, col)`` entries: DESIGN.md known trap).
    x_metres, y_metres
        Projected node coordinates; pandana needs them to snap points of interest to nodes.
    """

    indptr: np.ndarray
    indices: np.ndarray
    minutes: np.ndarray
    x_metres: np.ndarray
    y_metres: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.indptr.shape[0] - 1)

    def csr(self) -> sp.csr_matrix:
        """Return the graph as a scipy CSR matrix (weights in minutes)."""
        return sp.csr_matrix(
            (self.minutes, self.indices, self.indptr), shape=(self.n_nodes, self.n_nodes)
        )

    def edge_list(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(from, to, minutes)`` arrays, one entry per directed edge."""
        counts = np.diff(self.indptr)
        sources = np.repeat(np.arange(self.n_nodes, dtype=np.int64), counts)
        return sources, self.indices.astype(np.int64), self.minutes.astype(np.float64)


def mask_beyond(matrix_minutes: np.ndarray, limit_minutes: float) -> np.ndarray:
    """Return a copy with every value above ``limit_minutes`` (and NaN) set to ``inf``."""
    out = np.array(matrix_minutes, dtype=np.float64, copy=True)
    out[~(out <= limit_minutes)] = np.inf
    return out


# --- raw scipy ------------------------------------------------------------------------------


def scipy_build(graph: GraphArrays) -> sp.csr_matrix:
    """Build the scipy CSR matrix."""
    return graph.csr()


def scipy_many_to_many(
    csr: sp.csr_matrix,
    origins: np.ndarray,
    destinations: np.ndarray,
    *,
    limit_minutes: float,
) -> np.ndarray:
    """Return origin x destination minutes with ``scipy.sparse.csgraph.dijkstra``.

    Assumptions: ``limit`` prunes the search exactly as the engine's cut-off does.
    """
    out = np.empty((origins.shape[0], destinations.shape[0]), dtype=np.float64)
    for start in range(0, origins.shape[0], SCIPY_CHUNK_ROWS):
        rows = origins[start : start + SCIPY_CHUNK_ROWS]
        full = dijkstra(csr, directed=True, indices=rows, limit=limit_minutes)
        out[start : start + rows.shape[0]] = full[:, destinations]
    return out


def scipy_nearest(
    csr: sp.csr_matrix,
    origins: np.ndarray,
    targets_by_category: dict[str, np.ndarray],
    *,
    limit_minutes: float,
) -> dict[str, np.ndarray]:
    """Return minutes from each origin to the nearest target of each category.

    One multi-source Dijkstra per category on the reversed graph (``min_only=True``).
    """
    reverse = csr.T.tocsr()
    result: dict[str, np.ndarray] = {}
    for category, targets in targets_by_category.items():
        dist = dijkstra(
            reverse, directed=True, indices=np.unique(targets), limit=limit_minutes, min_only=True
        )
        result[category] = mask_beyond(dist[origins], limit_minutes)
    return result


# --- networkx -------------------------------------------------------------------------------


def networkx_build(graph: GraphArrays) -> Any:
    """Build a ``networkx.DiGraph`` with a ``minutes`` edge attribute."""
    import networkx as nx

    sources, targets, minutes = graph.edge_list()
    digraph = nx.DiGraph()
    digraph.add_nodes_from(range(graph.n_nodes))
    digraph.add_weighted_edges_from(
        zip(sources.tolist(), targets.tolist(), minutes.tolist(), strict=True), weight="minutes"
    )
    return digraph


def networkx_many_to_many(
    digraph: Any,
    origins: np.ndarray,
    destinations: np.ndarray,
    *,
    limit_minutes: float,
) -> np.ndarray:
    """Return origin x destination minutes with one ``single_source_dijkstra_path_length`` each."""
    import networkx as nx

    out = np.full((origins.shape[0], destinations.shape[0]), np.inf)
    column_of: dict[int, list[int]] = {}
    for col, node in enumerate(destinations.tolist()):
        column_of.setdefault(node, []).append(col)
    for row, origin in enumerate(origins.tolist()):
        lengths = nx.single_source_dijkstra_path_length(
            digraph, origin, cutoff=limit_minutes, weight="minutes"
        )
        for node, minutes in lengths.items():
            cols = column_of.get(node)
            if cols is not None:
                out[row, cols] = minutes
    return out


def networkx_nearest(
    digraph: Any,
    origins: np.ndarray,
    targets_by_category: dict[str, np.ndarray],
    *,
    limit_minutes: float,
) -> dict[str, np.ndarray]:
    """Return nearest-target minutes per category with ``multi_source_dijkstra_path_length``."""
    import networkx as nx

    reverse = digraph.reverse(copy=False)
    result: dict[str, np.ndarray] = {}
    for category, targets in targets_by_category.items():
        lengths = nx.multi_source_dijkstra_path_length(
            reverse, set(targets.tolist()), cutoff=limit_minutes, weight="minutes"
        )
        result[category] = np.array([lengths.get(o, np.inf) for o in origins.tolist()])
    return result


# --- igraph ---------------------------------------------------------------------------------


def igraph_build(graph: GraphArrays) -> Any:
    """Build a directed ``igraph.Graph`` with a ``minutes`` edge attribute."""
    import igraph

    sources, targets, minutes = graph.edge_list()
    g = igraph.Graph(
        n=graph.n_nodes, edges=np.column_stack([sources, targets]).tolist(), directed=True
    )
    g.es["minutes"] = minutes.tolist()
    return g


def igraph_many_to_many(
    g: Any,
    origins: np.ndarray,
    destinations: np.ndarray,
    *,
    limit_minutes: float,
) -> np.ndarray:
    """Return origin x destination minutes with ``Graph.distances``.

    igraph has no cut-off: it searches the whole graph and values above the limit are masked
    afterwards, so it does more work than the peers that prune.
    """
    # igraph rejects repeated targets; amenities sharing a node are answered once and copied.
    targets, column_of = np.unique(destinations, return_inverse=True)
    distances = g.distances(
        source=origins.tolist(),
        target=targets.tolist(),
        weights="minutes",
        mode="out",
        algorithm="dijkstra",
    )
    return mask_beyond(np.asarray(distances, dtype=np.float64)[:, column_of], limit_minutes)


# --- pandana (AGPL: benchmark peer only) ----------------------------------------------------


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence C-level writes to stdout (pandana's C++ progress bars) for the duration."""
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def pandana_available() -> bool:
    """Return whether pandana can be imported (it is in requirements-bench.txt only)."""
    try:
        import pandana  # noqa: F401
    except ImportError:
        return False
    return True


def pandana_build(graph: GraphArrays) -> Any:
    """Build a fresh ``pandana.Network`` (contraction hierarchy) from the CSR arrays.

    Assumptions: a fresh network per repeat, because pandana 0.8 accumulates state across
    ``precompute`` calls (DESIGN.md known trap).
    """
    import pandana
    import pandas as pd

    sources, targets, minutes = graph.edge_list()
    node_ids = pd.Index(np.arange(graph.n_nodes), name="node")
    with quiet_stdout():
        return pandana.Network(
            pd.Series(graph.x_metres, index=node_ids),
            pd.Series(graph.y_metres, index=node_ids),
            pd.Series(sources),
            pd.Series(targets),
            pd.DataFrame({"minutes": minutes}),
            twoway=False,
        )


def pandana_nearest(
    network: Any,
    graph: GraphArrays,
    origins: np.ndarray,
    targets_by_category: dict[str, np.ndarray],
    *,
    limit_minutes: float,
) -> dict[str, np.ndarray]:
    """Return nearest-target minutes per category with ``set_pois`` + ``nearest_pois``.

    Points of interest are placed exactly on their node's coordinates, so pandana snaps them to
    the same nodes the engine uses.
    """
    import pandas as pd

    result: dict[str, np.ndarray] = {}
    with quiet_stdout():
        for category, targets in targets_by_category.items():
            network.set_pois(
                category,
                limit_minutes,
                1,
                pd.Series(graph.x_metres[targets]),
                pd.Series(graph.y_metres[targets]),
            )
            nearest = network.nearest_pois(limit_minutes, category, num_pois=1, max_distance=np.inf)
            result[category] = mask_beyond(nearest[1].to_numpy()[origins], limit_minutes)
    return result


# --- PySAL access (E2SFCA) ------------------------------------------------------------------


def pysal_cost_frame(cost_minutes: np.ndarray, *, limit_minutes: float) -> Any:
    """Return PySAL's long-format cost table (one row per origin-site pair within the limit)."""
    import pandas as pd

    rows, cols = np.nonzero(cost_minutes <= limit_minutes)
    return pd.DataFrame({"origin": rows, "dest": cols, "minutes": cost_minutes[rows, cols]})


def pysal_e2sfca(
    cost_frame: Any,
    demand: np.ndarray,
    supply: np.ndarray,
    *,
    limit_minutes: float,
    weight: Callable[[float], float],
) -> np.ndarray:
    """Return E2SFCA per origin with ``access.Access.enhanced_two_stage_fca``.

    Origins with no site within the limit get 0, as in the engine.
    """
    import pandas as pd
    from access import Access

    demand_df = pd.DataFrame(
        {"demand": demand}, index=pd.RangeIndex(demand.shape[0], name="origin")
    )
    supply_df = pd.DataFrame({"supply": supply}, index=pd.RangeIndex(supply.shape[0], name="site"))
    model = Access(
        demand_df=demand_df,
        demand_value="demand",
        supply_df=supply_df,
        supply_value="supply",
        cost_df=cost_frame,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="minutes",
    )
    series = model.enhanced_two_stage_fca(
        name="e2sfca", cost="minutes", max_cost=limit_minutes, weight_fn=weight
    )
    values = series.iloc[:, 0] if series.ndim == 2 else series
    return values.reindex(range(demand.shape[0])).fillna(0.0).to_numpy(dtype=np.float64)
