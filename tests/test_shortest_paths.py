"""Tests for retention.access.shortest_paths: the compiled search against scipy's Dijkstra, bit
for bit, on random graphs with ties, zero weights, disconnected parts and limits hit exactly."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from retention.access import shortest_paths
from retention.access.network import contract_chains, prune_dead_ends
from retention.access.shortest_paths import EndReading, bounded_distances
from retention.errors import ValidationError

REPO = Path(__file__).resolve().parents[1]
# Weights with many exact ties and sums that round (0.1 + 0.2 != 0.3), and zeros.
WEIGHTS = st.one_of(
    st.sampled_from([0.0, 0.1, 0.2, 0.3, 0.5, 1.0, 1.0, 2.0, 1e-9, 1 / 3]),
    st.floats(0.0, 10.0, allow_nan=False),
)


def _graph(edges: dict[tuple[int, int], float], n_nodes: int) -> csr_matrix:
    """A CSR graph with exactly these stored entries (explicit zeros kept, no duplicates)."""
    rows = np.array([a for a, _ in edges], dtype=np.int64)
    cols = np.array([b for _, b in edges], dtype=np.int64)
    data = np.array(list(edges.values()), dtype=float)
    order = np.lexsort((cols, rows))
    indptr = np.searchsorted(rows[order], np.arange(n_nodes + 1)).astype(np.int32)
    return csr_matrix((data[order], cols[order].astype(np.int32), indptr), shape=(n_nodes,) * 2)


@st.composite
def _cases(draw: st.DrawFn) -> tuple[csr_matrix, np.ndarray, float]:
    """A directed graph (some edges both ways), sources and a limit: inf, 0, random, or exactly
    a distance some node has."""
    n_nodes = draw(st.integers(1, 30))
    edges: dict[tuple[int, int], float] = {}
    for a, b, w in draw(
        st.lists(
            st.tuples(st.integers(0, n_nodes - 1), st.integers(0, n_nodes - 1), WEIGHTS),
            max_size=70,
        )
    ):
        if a == b:
            continue
        edges[(a, b)] = w
        if draw(st.booleans()):
            edges[(b, a)] = w
    graph = _graph(edges, n_nodes)
    sources = np.array(draw(st.lists(st.integers(0, n_nodes - 1), min_size=1, max_size=6)))
    kind = draw(st.sampled_from(["inf", "zero", "random", "exact"]))
    if kind == "inf":
        limit = np.inf
    elif kind == "zero":
        limit = 0.0
    elif kind == "random":
        limit = draw(st.floats(0.0, 30.0))
    else:
        reached = dijkstra(graph, directed=True, indices=sources)
        finite = np.unique(reached[np.isfinite(reached)])
        limit = float(draw(st.sampled_from(finite.tolist())))
    return graph, sources, limit


def _same_bits(found: np.ndarray, expected: np.ndarray) -> None:
    assert found.shape == expected.shape
    assert found.dtype == expected.dtype == np.float64
    np.testing.assert_array_equal(found.view(np.uint64), expected.view(np.uint64))


@settings(max_examples=400, derandomize=True, deadline=None)
@given(case=_cases(), threads=st.sampled_from([1, 2]))
def test_same_bits_as_scipy_dijkstra(case: tuple[csr_matrix, np.ndarray, float], threads: int):
    graph, sources, limit = case
    expected = dijkstra(graph, directed=True, indices=sources, limit=limit)
    _same_bits(bounded_distances(graph, sources, limit=limit, threads=threads), expected)


def test_limit_is_inclusive_and_zero_edges_are_edges() -> None:
    # 0 -(0)-> 1 -(0.1)-> 2 -(0.2)-> 3, and 0 -(0.3)-> 3: 0.1 + 0.2 rounds above 0.3.
    graph = _graph({(0, 1): 0.0, (1, 2): 0.1, (2, 3): 0.2, (0, 3): 0.3, (4, 0): 1.0}, 5)
    found = bounded_distances(graph, np.array([0, 4]), limit=0.3)
    assert found[0].tolist() == [0.0, 0.0, 0.1, 0.3, np.inf]
    assert found[1].tolist() == [np.inf, np.inf, np.inf, np.inf, 0.0]  # 4 -> 0 is 1.0 > limit
    assert bounded_distances(graph, np.array([0]), limit=0.1)[0, 3] == np.inf


def test_tiny_entry_pool_grows_and_gives_the_same_bits() -> None:
    rng = np.random.default_rng(7)
    n_nodes = 200
    edges = {
        (int(a), int(b)): float(w)
        for a, b, w in zip(
            rng.integers(0, n_nodes, 900),
            rng.integers(0, n_nodes, 900),
            rng.choice([0.0, 0.05, 0.3, 1.0, 2.5], 900),
            strict=True,
        )
        if a != b
    }
    graph = _graph(edges, n_nodes)
    sources = np.arange(0, n_nodes, 9)
    limit = 4.0
    width, n_buckets = shortest_paths._buckets(graph.data, limit)
    nodes = np.arange(n_nodes)
    zero = np.zeros(n_nodes)
    out = np.empty((len(sources), n_nodes))
    shortest_paths._search_rows(
        graph.indptr.astype(np.int64),
        graph.indices.astype(np.int64),
        graph.data,
        sources,
        limit,
        width,
        n_buckets,
        1,  # one entry to start with: the pool must grow many times
        nodes,
        zero,
        nodes,
        zero,
        False,
        zero,
        limit,
        np.arange(len(sources) + 1),
        np.arange(len(sources)),
        out,
    )
    _same_bits(out, dijkstra(graph, directed=True, indices=sources, limit=limit))


@st.composite
def _street_like(draw: st.DrawFn) -> tuple[csr_matrix, np.ndarray, np.ndarray, float]:
    """A symmetric graph with chains and dead-end trees, sources, wanted nodes and a cutoff."""
    n_base = draw(st.integers(2, 8))
    edges: dict[tuple[int, int], float] = {}
    n_nodes = n_base
    for a, b in draw(
        st.lists(st.tuples(st.integers(0, n_base - 1), st.integers(0, n_base - 1)), max_size=12)
    ):
        pieces = draw(st.integers(1, 4))
        if a == b and pieces < 3:
            continue
        chain = [a, *range(n_nodes, n_nodes + pieces - 1), b]
        n_nodes += pieces - 1
        for left, right in itertools.pairwise(chain):
            key = (min(left, right), max(left, right))
            edges[key] = min(edges.get(key, np.inf), draw(st.floats(0.1, 10.0)))
    for _ in range(draw(st.integers(0, 8))):
        edges[(draw(st.integers(0, n_nodes - 1)), n_nodes)] = draw(st.floats(0.1, 10.0))
        n_nodes += 1
    symmetric = edges | {(b, a): w for (a, b), w in edges.items()}
    graph = _graph(symmetric, n_nodes)
    sources = np.array(
        draw(st.lists(st.integers(0, n_nodes - 1), min_size=1, max_size=4, unique=True))
    )
    wanted = np.array(draw(st.lists(st.integers(0, n_nodes - 1), min_size=1, max_size=10)))
    return graph, sources, wanted, draw(st.floats(0.5, 40.0))


@settings(max_examples=200, derandomize=True, deadline=None)
@given(case=_street_like())
def test_reading_contracted_graphs_equals_reading_scipy_rows(
    case: tuple[csr_matrix, np.ndarray, np.ndarray, float],
) -> None:
    # What the street search does: prune, contract, search, read each wanted node off its chain
    # ends and tree offset. The kernel reads inside the search; scipy's rows are read after.
    graph, sources, wanted, cutoff = case
    pruned = prune_dead_ends(graph, sources)
    contracted = contract_chains(pruned.graph, sources)
    starts = contracted.position(sources)
    rows = dijkstra(contracted.graph, directed=True, indices=starts, limit=cutoff)
    expected = contracted.to_nodes(rows, pruned.root[wanted]) + pruned.offset[wanted]
    expected[expected > cutoff] = np.inf
    reading = EndReading(*contracted.ends(pruned.root[wanted]), offset=pruned.offset[wanted])
    found = bounded_distances(contracted.graph, starts, limit=cutoff, ends=reading, threads=2)
    _same_bits(found, expected)
    # And the same distances (not bits: chains are summed in another order) as the full graph.
    full = dijkstra(graph, directed=True, indices=sources)[:, wanted]
    at_cutoff = np.isclose(full, cutoff, rtol=1e-12, atol=1e-12)
    assert (np.isfinite(found) == (full <= cutoff))[~at_cutoff].all()
    finite = np.isfinite(found)
    np.testing.assert_allclose(found[finite], full[finite], rtol=1e-12, atol=1e-12)


def test_bad_input_is_named() -> None:
    graph = _graph({(0, 1): -1.0}, 2)
    with pytest.raises(ValidationError, match="weights must be >= 0"):
        bounded_distances(graph, np.array([0]), limit=1.0)
    with pytest.raises(ValidationError, match="source nodes must be 0-1; got 0-5"):
        bounded_distances(_graph({(0, 1): 1.0}, 2), np.array([0, 5]), limit=1.0)
    with pytest.raises(ValidationError, match="limit must be >= 0"):
        bounded_distances(_graph({(0, 1): 1.0}, 2), np.array([0]), limit=-1.0)


def test_empty_inputs() -> None:
    graph = _graph({(0, 1): 1.0}, 2)
    assert bounded_distances(graph, np.array([], dtype=int), limit=1.0).shape == (0, 2)
    empty = EndReading.nodes(np.array([], dtype=int))
    assert bounded_distances(graph, np.array([1]), limit=1.0, ends=empty).shape == (1, 0)
    lonely = _graph({}, 3)
    assert bounded_distances(lonely, np.array([2]), limit=np.inf).tolist() == [
        [np.inf, np.inf, 0.0]
    ]


def test_threads_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARKLIFE_SEARCH_THREADS", "3")
    assert shortest_paths.search_threads() == 3
    monkeypatch.delenv("PARKLIFE_SEARCH_THREADS")
    assert shortest_paths.search_threads() == len(os.sched_getaffinity(0))
    for bad in ("0", "-1", "two"):
        monkeypatch.setenv("PARKLIFE_SEARCH_THREADS", bad)
        with pytest.raises(ValidationError, match=f"PARKLIFE_SEARCH_THREADS='{bad}'"):
            shortest_paths.search_threads()


_CHECK = """
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from retention.access import shortest_paths
graph = csr_matrix(np.array([[0, 1.5, 0], [1.5, 0, 0.25], [0, 0.25, 0]]))
found = shortest_paths.bounded_distances(graph, np.array([0, 2]), limit=10.0, threads=2)
assert np.array_equal(found, dijkstra(graph, directed=True, indices=[0, 2], limit=10.0))
print("cached" if shortest_paths._search_rows._cache.__class__.__name__ != "NullCache"
      else "not cached")
"""


def _run_check(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_CHECK)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.slow  # compiles the kernel from scratch in a fresh process: ~5-20 s
def test_compiles_without_any_cache_and_writes_a_fresh_one(tmp_path: Path) -> None:
    cache = tmp_path / "numba-cache"
    assert _run_check({"NUMBA_CACHE_DIR": str(cache)}) == "cached"
    assert list(cache.rglob("*.nbi")), "the first process writes the compiled kernel"
    assert _run_check({"NUMBA_CACHE_DIR": str(cache)}) == "cached"  # and the next one reads it


@pytest.mark.slow  # compiles the kernel from scratch in a fresh process: ~5-20 s
def test_works_where_no_cache_directory_is_writable(tmp_path: Path) -> None:
    # numba asks each of these for a cache directory; a read-only install with no writable home
    # gets no answer from any, which numba reports by raising at decoration.
    (tmp_path / "no_cache_here.py").write_text(
        "class Nowhere:\n"
        "    @classmethod\n"
        "    def from_function(cls, py_func, py_file):\n"
        "        return None\n"
    )
    env = {
        "PYTHONPATH": f"{REPO}{os.pathsep}{tmp_path}",
        "NUMBA_CACHE_LOCATOR_CLASSES": "no_cache_here.Nowhere",
    }
    assert _run_check(env) == "not cached"
