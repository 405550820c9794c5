"""Bounded shortest paths from many sources: a compiled search that runs on every core.

One search per source over a CSR graph, stopped at a distance limit, compiled with numba
(``nogil``): threads run sources side by side, each with its own distance array and queue, and
a search resets only the entries it touched. The queue is a bucket queue (Dial's, with buckets
about one short edge wide, corrected inside a bucket), about twice as fast as a binary heap on
street graphs. The answers are the same bits as ``scipy.sparse.csgraph.dijkstra(graph,
directed=True, indices=sources, limit=limit)``: both end with every node at the smallest float64
sum ``((0 + w1) + w2) + ...`` over the paths to it that stay within the limit (adding a weight
>= 0 is monotonic under rounding, so that minimum is the one fixed point of ``d[v] = min over
edges (u, v) of d[u] + w``), whatever order the nodes are taken in.

The kernel reads the distance of each wanted node straight off the search (the way a node of a
contracted graph is read from its chain ends, ``ContractedGraph.ends``), so a many-to-many search
never holds a dense sources x nodes block.

Compiled code is cached in ``__pycache__`` (numba ``cache=True``); where no cache directory is
writable (a read-only install without a writable home), the kernel is compiled in each process
instead (about a second).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numba
import numpy as np
from scipy.sparse import csr_matrix

from retention.errors import ValidationError

_Function = TypeVar("_Function", bound=Callable[..., Any])
_CHUNKS_PER_THREAD = 8  # small work items so that a thread slowed by other work is not waited on
_MAX_BUCKETS = 1 << 20  # bucket queue length (8 MB of list heads per thread at most)


def compiled(function: _Function) -> _Function:
    """``numba.njit(nogil=True, cache=True)``, or without the cache where none can be written."""
    try:
        return cast(_Function, numba.njit(nogil=True, cache=True)(function))
    except RuntimeError as error:
        if "cannot cache" not in str(error):
            raise
        return cast(_Function, numba.njit(nogil=True)(function))


@compiled
def _search(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    source: int,
    limit: float,
    width: float,
    distance: np.ndarray,
    touched: np.ndarray,
    head: np.ndarray,
    entry_next: np.ndarray,
    entry_node: np.ndarray,
    entry_key: np.ndarray,
) -> int:
    """One bounded search from ``source`` into ``distance`` (inf where not reached).

    A bucket queue: bucket ``b`` holds entries whose distance / ``width`` rounds down to ``b``
    (the last bucket holds everything beyond). Buckets are emptied in order; inside one, an entry
    may improve another entry of the same bucket, which is then taken again (label correcting),
    so every node ends at the smallest float sum over the paths to it — Dijkstra's answer.
    Returns how many entries of ``touched`` it filled (the nodes whose distance it set), or
    ``-1 - that`` when the entry pool ran out (the caller grows it and searches again).
    """
    last = head.shape[0] - 1
    capacity = entry_node.shape[0]
    distance[source] = 0.0
    touched[0] = source
    n_touched = 1
    entry_node[0] = source
    entry_key[0] = 0.0
    entry_next[0] = -1
    head[0] = 0
    free = -1  # entries already taken, for reuse
    used = 1
    top = 0  # the highest bucket that received an entry
    bucket = 0
    while bucket <= top:
        entry = head[bucket]
        while entry >= 0:
            head[bucket] = entry_next[entry]
            key = entry_key[entry]
            node = entry_node[entry]
            entry_next[entry] = free
            free = entry
            if key <= distance[node]:  # else left behind by a later, shorter path
                for edge in range(indptr[node], indptr[node + 1]):
                    neighbour = indices[edge]
                    candidate = key + weights[edge]
                    if candidate <= limit and candidate < distance[neighbour]:
                        if free >= 0:
                            new = free
                            free = entry_next[free]
                        elif used < capacity:
                            new = used
                            used += 1
                        else:
                            head[bucket : top + 1] = -1
                            return -1 - n_touched
                        if distance[neighbour] == np.inf:
                            touched[n_touched] = neighbour
                            n_touched += 1
                        distance[neighbour] = candidate
                        position = candidate / width
                        target = last if position >= last else int(position)
                        entry_node[new] = neighbour
                        entry_key[new] = candidate
                        entry_next[new] = head[target]
                        head[target] = new
                        if target > top:
                            top = target
            entry = head[bucket]
        bucket += 1
    return n_touched


@compiled
def _search_rows(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    sources: np.ndarray,
    limit: float,
    width: float,
    n_buckets: int,
    capacity: int,
    near: np.ndarray,
    near_minutes: np.ndarray,
    far: np.ndarray,
    far_minutes: np.ndarray,
    use_far: bool,
    offset: np.ndarray,
    cutoff: float,
    row_start: np.ndarray,
    row_index: np.ndarray,
    out: np.ndarray,
) -> None:
    """Rows ``row_index[row_start[i]:row_start[i + 1]]`` of ``out``: the wanted nodes'
    distances from ``sources[i]``, inf past cutoff.

    ``capacity``: queue entries to start with (entries are reused once taken, so the number of
    edges + 1 is plenty on street graphs; the pool doubles if a search needs more).
    """
    n_nodes = indptr.shape[0] - 1
    distance = np.full(n_nodes, np.inf)
    touched = np.empty(n_nodes, dtype=np.int64)
    head = np.full(n_buckets, -1, dtype=np.int64)
    entry_next = np.empty(capacity, dtype=np.int64)
    entry_node = np.empty(capacity, dtype=np.int64)
    entry_key = np.empty(capacity)
    row = 0
    while row < sources.shape[0]:
        n_touched = _search(
            indptr,
            indices,
            weights,
            sources[row],
            limit,
            width,
            distance,
            touched,
            head,
            entry_next,
            entry_node,
            entry_key,
        )
        if n_touched < 0:  # the pool ran out: reset, double it, search this source again
            for at in range(-1 - n_touched):
                distance[touched[at]] = np.inf
            capacity *= 2
            entry_next = np.empty(capacity, dtype=np.int64)
            entry_node = np.empty(capacity, dtype=np.int64)
            entry_key = np.empty(capacity)
            continue
        first = row_index[row_start[row]]
        for column in range(near.shape[0]):
            # In the order of ContractedGraph.to_nodes: min(near, far), then the tree offset.
            value = distance[near[column]] + near_minutes[column]
            if use_far:
                other = distance[far[column]] + far_minutes[column]
                if other < value:
                    value = other
            value = value + offset[column]
            out[first, column] = np.inf if value > cutoff else value
        for at in range(row_start[row] + 1, row_start[row + 1]):  # the same source again
            out[row_index[at]] = out[first]
        for at in range(n_touched):
            distance[touched[at]] = np.inf
        row += 1


def _buckets(weights: np.ndarray, limit: float) -> tuple[float, int]:
    """Bucket width and count: about the 5th percentile edge (few entries share a bucket with
    one they improve), at most ``_MAX_BUCKETS`` buckets over the distances searched."""
    positive = weights[(weights > 0) & np.isfinite(weights)]
    width = float(np.quantile(positive, 0.05)) if len(positive) else 1.0
    span = limit if np.isfinite(limit) else float(positive.sum())
    width = max(width, span / _MAX_BUCKETS)
    return width, int(min(span / width, _MAX_BUCKETS)) + 2


@dataclass(frozen=True, eq=False)
class EndReading:
    """How each wanted node's distance is read off a search of a (contracted) graph.

    ``min(d[near] + near_minutes, d[far] + far_minutes) + offset`` (the far end only when
    ``use_far``), where ``d`` are the distances over the searched graph; see
    ``retention.access.network.ContractedGraph.ends``.
    """

    near: np.ndarray
    near_minutes: np.ndarray
    far: np.ndarray
    far_minutes: np.ndarray
    use_far: bool
    offset: np.ndarray

    @classmethod
    def nodes(cls, nodes: np.ndarray) -> EndReading:
        """Read the searched graph's own ``nodes`` as they are."""
        nodes = np.asarray(nodes, dtype=np.int64)
        zero = np.zeros(len(nodes))
        return cls(
            near=nodes, near_minutes=zero, far=nodes, far_minutes=zero, use_far=False, offset=zero
        )


def search_threads() -> int:
    """Threads a many-source search may use: ``PARKLIFE_SEARCH_THREADS``, by default every CPU
    this process may run on."""
    text = os.environ.get("PARKLIFE_SEARCH_THREADS", "").strip()
    if not text:
        return max(1, len(os.sched_getaffinity(0)))
    try:
        threads = int(text)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValidationError(
            f"PARKLIFE_SEARCH_THREADS={text!r} is not a whole number of at least 1; expected "
            "e.g. 1 or 2"
        )
    return threads


def bounded_distances(
    graph: csr_matrix,
    sources: np.ndarray,
    *,
    limit: float,
    ends: EndReading | None = None,
    cutoff: float | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Return shortest-path distances from each source, searching no farther than ``limit``.

    Assumptions: ``graph`` is a directed CSR graph (store both directions of an undirected
    edge) whose stored entries are its edges, explicit zeros included, with weights >= 0 and no
    duplicate entries. Without ``ends`` the answer is, bit for bit,
    ``scipy.sparse.csgraph.dijkstra(graph, directed=True, indices=sources, limit=limit)``.

    Parameters
    ----------
    graph
        The graph, ``n x n``.
    sources
        Source node of each row.
    limit
        Nodes farther than this are not searched (inf).
    ends
        The nodes to report and how to read them (default: every node as it is).
    cutoff
        Reported values above this are inf (default ``limit``).
    threads
        Threads to run sources on (default :func:`search_threads`).

    Returns
    -------
    np.ndarray
        ``(len(sources), n_ends)`` float64; inf where farther than ``cutoff`` or not reached.
    """
    graph = csr_matrix(graph)
    n_nodes = graph.shape[0]
    sources = np.asarray(sources, dtype=np.int64)
    if graph.shape != (n_nodes, n_nodes):
        raise ValidationError(f"graph must be square; got shape {graph.shape}")
    if len(sources) and (sources.min() < 0 or sources.max() >= n_nodes):
        raise ValidationError(
            f"source nodes must be 0-{n_nodes - 1}; got {sources.min()}-{sources.max()}"
        )
    weights = np.asarray(graph.data, dtype=np.float64)
    if len(weights) and not (weights >= 0).all():
        raise ValidationError("graph weights must be >= 0 (and not NaN)")
    if np.isnan(limit) or limit < 0:
        raise ValidationError(f"limit must be >= 0; got {limit}")
    reading = ends if ends is not None else EndReading.nodes(np.arange(n_nodes))
    out = np.empty((len(sources), len(reading.near)))
    if len(sources) == 0 or out.shape[1] == 0:
        out.fill(np.inf)
        return out
    indptr = graph.indptr.astype(np.int64, copy=False)
    indices = graph.indices.astype(np.int64, copy=False)
    near = np.asarray(reading.near, dtype=np.int64)
    near_minutes = np.asarray(reading.near_minutes, dtype=np.float64)
    far = np.asarray(reading.far, dtype=np.int64)
    far_minutes = np.asarray(reading.far_minutes, dtype=np.float64)
    offset = np.asarray(reading.offset, dtype=np.float64)
    reported = float(limit if cutoff is None else cutoff)
    width, n_buckets = _buckets(weights, float(limit))
    # One search per distinct source, written to every row that asks for it.
    unique, inverse = np.unique(sources, return_inverse=True)
    row_index = np.argsort(inverse, kind="stable")
    row_start = np.searchsorted(inverse[row_index], np.arange(len(unique) + 1))

    def run(rows: slice) -> None:
        _search_rows(
            indptr,
            indices,
            weights,
            unique[rows],
            float(limit),
            width,
            n_buckets,
            len(weights) + 1,
            near,
            near_minutes,
            far,
            far_minutes,
            bool(reading.use_far),
            offset,
            reported,
            row_start[rows.start : rows.stop + 1],
            row_index,
            out,
        )

    in_row_chunks(len(unique), run, threads=threads)
    return out


def in_row_chunks(
    n_rows: int, work: Callable[[slice], None], *, threads: int | None = None
) -> None:
    """Call ``work`` on consecutive row slices that cover ``0:n_rows``, on threads.

    For compiled (``nogil``) work on independent rows: small slices, handed out as threads get
    free, so a thread slowed by other work on the machine is not waited on.

    Parameters
    ----------
    n_rows
        Rows to cover.
    work
        Called once per slice; errors are raised here.
    threads
        Threads (default :func:`search_threads`); one runs ``work`` on all rows at once.
    """
    n_threads = min(threads if threads is not None else search_threads(), n_rows)
    if n_threads <= 1:
        if n_rows:
            work(slice(0, n_rows))
        return
    step = max(1, -(-n_rows // (n_threads * _CHUNKS_PER_THREAD)))
    with ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="parklife-search") as pool:
        # list() re-raises the first error of any slice.
        list(pool.map(work, [slice(at, at + step) for at in range(0, n_rows, step)]))


__all__ = ["EndReading", "bounded_distances", "compiled", "in_row_chunks", "search_threads"]
