"""The benchmark cases of issue 3 and the implementations each one compares.

(a) demo park end-to-end, (b) Beilun-scale park end-to-end, (c) many-to-many walk travel times
(engine vs scipy / networkx / igraph), (d) nearest amenity per category (engine vs pandana and
multi-source Dijkstra), (e) E2SFCA (``retention.access.measures.e2sfca`` vs PySAL ``access``).

Every call into the engine under test goes through the ``_engine_*`` / ``_park_*`` functions in
the first section, so a change of the engine's API touches one place.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import pickle
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import measure
import numpy as np
import peers

SCALES = ("full", "smoke")
CASE_IDS = ("a", "b", "b2", "c1", "c2", "d", "e")
DEFAULT_REPEATS = {"full": 3, "smoke": 2}
SEED = 20260501  # one seed for every generated park, so runs are comparable
# Agreement tolerances in minutes (or the indicator's unit for E2SFCA, relative).
EXACT_MINUTES = 1e-6
# pandana stores edge weights as integers of 1/1000 of the unit it is given; we give it seconds,
# so each edge may be off by up to 0.5 ms and a path of a few hundred edges by well under 0.01 min.
PANDANA_MINUTES = 0.01
E2SFCA_RELATIVE = 1e-9
WALK_MODE = "walk"
# Origins handed to networkx in case c2: it is too slow to run on every origin within the
# ten-minute budget of a full run; every peer runs on the same subset there.
SUBSET_ORIGINS = {"full": 100, "smoke": 8}


# --- the engine under test (one place to follow its API) ------------------------------------


def _smoke_spec() -> Any:
    """A park of a dozen homes and sixty amenities: the harness runs on it in seconds."""
    from geodata import synthetic

    return dataclasses.replace(
        synthetic.JINSHAN_DEMO,
        park_id="bench_smoke",
        area_km2=2.0,
        enterprises=20,
        large_enterprises=0,
        workforce=3000,
        residences=12,
        amenities=60,
        grids=2,
        micro_grids=4,
        centres=2,
        lake_park_ha=5.0,
        bus_routes=1,
    )


# Case b2: the Beilun counts on a dense street network like the one a new user tried (issue 7):
# ~120,000 vertices, ~59,000 junctions (nodes of degree other than 2), ~2,400 km, 26
# components. The generator's 44 m blocks with a vertex every 22 m give the through streets;
# 15,000 short driveways (10-30 m dead ends off a street vertex) and 25 gated compounds (small
# street grids touching nothing else) give the dead ends and the components real data has.
DENSE_BLOCK_METRES = 44.0
DENSE_VERTEX_SPACING_METRES = 22.0
DENSE_DRIVEWAYS = 15_000
DENSE_COMPOUNDS = 25


def _park_for(scale: str, which: str) -> Any:
    """Return the ``ParkData`` a case runs on: the demo park or a Beilun-scale generated park.

    The demo is read from ``geodata/jinshan`` with an empty upload store (the app's own loader);
    generated parks are wrapped in a ``ParkData`` carrying the spec and seed as data version.
    ``which="beilun_dense"`` is the Beilun park with the dense street network of case b2.
    """
    from geodata import synthetic
    from retention.storage.park import ParkData, load_park

    if scale == "full" and which == "demo":
        with tempfile.TemporaryDirectory(prefix="parklife-bench-store-") as empty_store:
            return load_park("jinshan", data_dir=Path(empty_store))
    spec = _smoke_spec() if scale == "smoke" else synthetic.BEILUN_DAGANG
    dense = which == "beilun_dense"
    if dense:
        spec = dataclasses.replace(
            spec,
            block_metres=DENSE_BLOCK_METRES if scale == "full" else 60.0,
            vertex_spacing_metres=DENSE_VERTEX_SPACING_METRES,
        )
    import geopandas as gpd

    layers = synthetic.generate_park(spec, seed=SEED)
    if dense:
        from retention.data.layers import LayerKind

        layers[LayerKind.ROADS] = _with_driveways_and_compounds(
            layers[LayerKind.ROADS],
            np.random.default_rng(SEED),
            driveways=DENSE_DRIVEWAYS if scale == "full" else 100,
            compounds=DENSE_COMPOUNDS if scale == "full" else 2,
        )
    return ParkData(
        park_id=spec.park_id,
        name_zh=spec.name_zh,
        name_en=spec.name_en,
        synthetic=True,
        layers=layers,
        boundary=gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"),
        data_version=f"{spec.park_id}-{which}-seed-{SEED}",
    )


def _with_driveways_and_compounds(
    roads: Any, rng: np.random.Generator, *, driveways: int, compounds: int
) -> Any:
    """Add dead-end driveways off street vertices and isolated compound grids to a roads layer.

    A driveway starts exactly at an inner vertex of a walkable street (so it shares that node)
    and runs 10-30 m at right angles to it; a compound is a 3 x 3 grid of 40 m blocks with a
    vertex every 20 m whose lines share vertices with each other and with nothing else.
    """
    import math

    import geopandas as gpd
    import pandas as pd
    import shapely

    from retention.data.layers import WGS84, RoadClass

    coords, owner = shapely.get_coordinates(roads.geometry.to_numpy(), return_index=True)
    first = np.r_[True, owner[1:] != owner[:-1]]
    last = np.r_[owner[1:] != owner[:-1], True]
    inner = np.flatnonzero(~first & ~last & roads["walk"].to_numpy()[owner])
    chosen = np.sort(rng.choice(inner, size=min(driveways, len(inner)), replace=False))
    # Metres to degrees near the park (a few kilometres: a flat approximation is enough here).
    lat0 = float(np.mean(coords[:, 1]))
    per_metre = np.array([1 / (111_320 * math.cos(math.radians(lat0))), 1 / 110_574])
    along = (coords[chosen + 1] - coords[chosen - 1]) / per_metre
    along /= np.linalg.norm(along, axis=1, keepdims=True)
    side = rng.choice([-1.0, 1.0], size=(len(chosen), 1))
    normal = np.column_stack([-along[:, 1], along[:, 0]]) * side
    length = rng.uniform(10.0, 30.0, size=(len(chosen), 1))
    ends = coords[chosen] + normal * length * per_metre
    lines = list(shapely.linestrings(np.stack([coords[chosen], ends], axis=1)))
    low, high = coords.min(axis=0), coords.max(axis=0)
    steps = np.arange(7) * 20.0 - 52.7  # off the street grid's vertices
    for centre in rng.uniform(low + 0.2 * (high - low), high - 0.2 * (high - low), (compounds, 2)):
        for offset in steps[::2]:
            lines.append(
                shapely.LineString([centre + np.array([offset, t]) * per_metre for t in steps])
            )
            lines.append(
                shapely.LineString([centre + np.array([t, offset]) * per_metre for t in steps])
            )
    n_driveways = len(chosen)
    added = gpd.GeoDataFrame(
        {
            "id": [f"x{i + 1:06d}" for i in range(len(lines))],
            "name": None,
            "name_en": None,
            "road_class": [RoadClass.PATH.value] * n_driveways
            + [RoadClass.LOCAL.value] * (len(lines) - n_driveways),
            "walk": True,
            "bike": True,
        },
        geometry=lines,
        crs=WGS84,
    )
    return gpd.GeoDataFrame(pd.concat([roads, added], ignore_index=True), crs=WGS84)


def street_network_facts(roads: Any) -> dict[str, Any]:
    """Vertices, junctions (degree other than 2), kilometres and components of the walk network."""
    from scipy.sparse.csgraph import connected_components

    from retention.access.network import network_from_roads

    network = network_from_roads(roads)
    graph = network.graph_minutes(mode="walk", speed_m_per_min=60.0)
    degree = np.diff(graph.indptr)
    used = degree > 0
    n_components = connected_components(graph[used][:, used], directed=False)[0]
    return {
        "street vertices": int(used.sum()),
        "junctions": int((used & (degree != 2)).sum()),
        "street km": round(float(network.edge_length_metres[network.edge_walk].sum()) / 1000),
        "street components": int(n_components),
    }


def _engine_build(park: Any) -> Any:
    """Build the engine for walking (and e-bike) on the park's roads; no transit is needed."""
    from retention.access.network import network_from_roads
    from retention.access.parameters import TravelParameters
    from retention.access.travel_times import TravelTimeEngine
    from retention.data.layers import LayerKind

    network = network_from_roads(park.layers[LayerKind.ROADS])
    return TravelTimeEngine(network, params=TravelParameters())


def _engine_walk_matrix(engine: Any, origins: Any, destinations: Any) -> np.ndarray:
    return np.asarray(engine.matrix(origins, destinations, mode=WALK_MODE), dtype=np.float64)


def _engine_end_to_end(park: Any) -> measure.Answer:
    """Run travel_times_for_park (every mode x window), then every indicator per mode x window.

    This is what the app computes for a park (``indicators_for_windows`` gives the numbers of
    ``indicators_for_window`` for each window, sharing the window-free work of a mode).
    """
    from retention.access.indicators import indicators_for_windows
    from retention.access.parameters import DEFAULT_TIME_WINDOWS, TravelParameters
    from retention.access.travel_times import MODES, travel_times_for_park

    stage: dict[str, float] = {}
    cpu_start = time.process_time()
    start = time.perf_counter()
    result = travel_times_for_park(park, params=TravelParameters(), windows=DEFAULT_TIME_WINDOWS)
    stage["travel_times_for_park"] = time.perf_counter() - start
    stage["travel_times_for_park CPU (this process)"] = time.process_time() - cpu_start
    cpu_start = time.process_time()
    start = time.perf_counter()
    answer: measure.Answer = {}
    for mode in MODES:
        # One call per mode: the windows of one mode share their window-free work.
        by_window = indicators_for_windows(result, mode=mode)
        for window in DEFAULT_TIME_WINDOWS:
            found = by_window[window.key]
            key = f"{mode}:{window.key}"
            answer[f"nearest:{key}"] = found.nearest.to_numpy(dtype=np.float64)
            answer[f"opportunities:{key}"] = found.opportunities.to_numpy(dtype=np.float64)
            answer[f"e2sfca:{key}"] = found.supply_per_1000.to_numpy(dtype=np.float64)
            answer[f"gap:{key}"] = found.gap.to_numpy(dtype=np.float64)
    stage["indicators (every mode x window)"] = time.perf_counter() - start
    stage["indicators CPU (this process)"] = time.process_time() - cpu_start
    answer["origins"] = np.asarray(float(len(result.origins)))
    for name, seconds in stage.items():
        answer[measure.STAGE_PREFIX + name] = np.asarray(seconds)
    return answer


# --- case machinery -------------------------------------------------------------------------


@dataclass(frozen=True)
class Implementation:
    """One way of answering a case: a build step and a query step, timed separately."""

    name: str
    label: str
    build: Callable[[Any], Any]
    query: Callable[[Any, Any], measure.Answer]
    fresh_build_each_repeat: bool = False
    max_repeats: int | None = None
    requires: tuple[str, ...] = ()
    tolerance: float = EXACT_MINUTES

    def missing_requirement(self) -> str | None:
        """Return why this implementation cannot run here, or None."""
        for module in self.requires:
            if importlib.util.find_spec(module) is None:
                return (
                    f"{module} is not installed (pip install -r benchmarks/requirements-bench.txt)"
                )
        return None


@dataclass(frozen=True)
class Target:
    """A target of issue 3 for one case.

    ``kind`` is ``"speedup"`` (peer median / engine median >= bound), ``"within"`` (engine
    median / peer median <= bound), ``"seconds"`` (engine median total <= bound) or
    ``"memory_mb"`` (engine worker peak <= bound).
    """

    kind: str
    bound: float
    peer: str = ""


@dataclass(frozen=True)
class Case:
    """A benchmark case: how to prepare its inputs, and the implementations compared on them."""

    case_id: str
    title: str
    prepare: Callable[[str], Any]
    implementations: tuple[Implementation, ...]
    targets: tuple[Target, ...] = ()
    notes: tuple[str, ...] = ()
    relative_tolerance: bool = False
    describe: Callable[[Any], dict[str, Any]] = field(default=lambda inputs: {})

    def implementation(self, name: str) -> Implementation:
        """Return the implementation called ``name``."""
        for impl in self.implementations:
            if impl.name == name:
                return impl
        raise KeyError(f"case {self.case_id} has no implementation {name!r}")

    def compare(self, answers: Mapping[str, measure.Answer], inputs: Any) -> dict[str, Any]:
        """Compare every answer with the reference (first) implementation's."""
        reference_name = self.implementations[0].name
        reference = answers.get(reference_name)
        verdicts: dict[str, Any] = {}
        for impl in self.implementations:
            answer = answers.get(impl.name)
            if impl.name == reference_name or answer is None or reference is None:
                continue
            expected = _restrict(reference, answer, inputs)
            verdict = measure.max_abs_difference(expected, answer)
            tolerance = impl.tolerance
            if self.relative_tolerance:
                scale = max(
                    (
                        float(np.nanmax(np.abs(v[np.isfinite(v)]), initial=0.0))
                        for v in expected.values()
                    ),
                    default=0.0,
                )
                tolerance = impl.tolerance * max(scale, 1e-300)
                verdict["tolerance"] = tolerance
            else:
                verdict["tolerance"] = tolerance
            verdict["agrees"] = bool(
                verdict["same_reachability"] and verdict["max_abs_diff"] <= tolerance
            )
            verdicts[impl.name] = verdict
        return verdicts

    def evaluate_targets(self, records: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """Return each target with the measured value and whether it is met."""
        engine = records.get(self.implementations[0].name, {})
        results = []
        for target in self.targets:
            peer = records.get(target.peer, {}) if target.peer else {}
            measured: str
            met: bool | None
            if engine.get("status") != "ok" or (target.peer and peer.get("status") != "ok"):
                measured, met = "not measured (an implementation did not run)", None
            elif target.kind == "speedup":
                ratio = peer["query_s"]["median"] / engine["query_s"]["median"]
                measured, met = f"{ratio:.1f}× faster than {target.peer}", ratio >= target.bound
            elif target.kind == "within":
                ratio = engine["query_s"]["median"] / peer["query_s"]["median"]
                measured, met = f"{ratio:.2f}× {target.peer}'s time", ratio <= target.bound
            elif target.kind == "seconds":
                seconds = engine["total_s"]["median"]
                measured, met = f"{seconds:.2f} s (median)", seconds <= target.bound
            elif target.kind == "memory_mb":
                peak = engine.get("peak_rss_mb")
                if peak is None:
                    measured, met = "not measured (in-process run)", None
                else:
                    measured, met = f"{peak:.0f} MB peak RSS", peak <= target.bound
            else:
                raise ValueError(f"unknown target kind {target.kind!r}")
            results.append({"target": _target_text(target), "measured": measured, "met": met})
        return results


def _target_text(target: Target) -> str:
    if target.kind == "speedup":
        return f"≥ {target.bound:g}× faster than {target.peer} (query)"
    if target.kind == "within":
        return f"within {target.bound:g}× of {target.peer} (query)"
    if target.kind == "seconds":
        return f"≤ {target.bound:g} s end-to-end"
    return f"≤ {target.bound / 1024:g} GB peak memory"


def _restrict(reference: measure.Answer, answer: measure.Answer, inputs: Any) -> measure.Answer:
    """Cut the reference down to the rows a peer answered (case c2 runs peers on a subset)."""
    rows = getattr(inputs, "answer_rows", None)
    out = {}
    for key, value in reference.items():
        if key.startswith(measure.STAGE_PREFIX):
            continue
        if rows is not None and key in answer and answer[key].shape != value.shape:
            value = value[rows]
        out[key] = value
    return out


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParkInputs:
    """Inputs of an end-to-end case: where the pickled park is (only the engine loads it)."""

    park_path: str
    sizes: dict[str, Any]


@dataclass(frozen=True)
class GraphInputs:
    """Inputs of cases c-e: the engine's walk graph as arrays, origins and destinations on it.

    ``origin_nodes``/``destination_nodes`` are the nodes the engine snaps the residences and
    amenities to; ``answer_rows`` are the origin rows every implementation answers.
    """

    park_path: str
    graph: peers.GraphArrays
    origin_nodes: np.ndarray
    destination_nodes: np.ndarray
    categories: np.ndarray
    capacity: np.ndarray
    demand: np.ndarray
    limit_minutes: float
    answer_rows: np.ndarray | None
    engine_minutes: np.ndarray | None = None
    sizes: dict[str, Any] = field(default_factory=dict)


def _scratch_dir() -> Path:
    path = Path(tempfile.gettempdir()) / "parklife-bench-parks"
    path.mkdir(exist_ok=True)
    return path


@functools.cache
def _park_file(scale: str, which: str) -> str:
    park = _park_for(scale, which)
    path = _scratch_dir() / f"{which}-{scale}-{SEED}.pkl"
    with open(path, "wb") as handle:
        pickle.dump(park, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return str(path)


def _load_park(path: str) -> Any:
    with open(path, "rb") as handle:
        return pickle.load(handle)


def _prepare_park(which: str) -> Callable[[str], ParkInputs]:
    def prepare(scale: str) -> ParkInputs:
        path = _park_file(scale, which)
        park = _load_park(path)
        sizes = {str(kind): len(frame) for kind, frame in park.layers.items()}
        if which == "beilun_dense":
            from retention.data.layers import LayerKind

            sizes |= street_network_facts(park.layers[LayerKind.ROADS])
        return ParkInputs(park_path=path, sizes=sizes)

    return prepare


@functools.cache
def _graph_inputs(scale: str) -> GraphInputs:
    from retention.data.layers import LayerKind

    path = _park_file(scale, "beilun")
    park = _load_park(path)
    engine = _engine_build(park)
    params = engine.params
    # Peers get the very graph the engine walks on (retention.access.network, parallel edges
    # collapsed).
    network = engine.network(WALK_MODE)
    csr = network.graph_minutes(mode=WALK_MODE, speed_m_per_min=params.walk_speed_m_per_min)
    graph = peers.GraphArrays(
        indptr=csr.indptr.copy(),
        indices=csr.indices.copy(),
        minutes=csr.data.copy(),
        x_metres=network.node_xy[:, 0].copy(),
        y_metres=network.node_xy[:, 1].copy(),
    )
    residences = park.layers[LayerKind.RESIDENCES].reset_index(drop=True)
    amenities = park.layers[LayerKind.AMENITIES].reset_index(drop=True)
    origin_snap = engine.snap(residences, mode=WALK_MODE)
    destination_snap = engine.snap(amenities, mode=WALK_MODE)
    # Points beyond the snap limit get no travel time from any implementation; leave them out.
    rows = np.flatnonzero(np.asarray(origin_snap.nodes) >= 0)
    cols = np.flatnonzero(np.asarray(destination_snap.nodes) >= 0)
    # Case e runs on the engine's own point-to-point matrix (access walks to the network included).
    minutes = _engine_walk_matrix(engine, residences, amenities)[np.ix_(rows, cols)]
    return GraphInputs(
        park_path=path,
        graph=graph,
        origin_nodes=np.asarray(origin_snap.nodes, dtype=np.int64)[rows],
        destination_nodes=np.asarray(destination_snap.nodes, dtype=np.int64)[cols],
        categories=amenities["category"].astype(str).to_numpy()[cols],
        capacity=amenities["capacity"].to_numpy(dtype=np.float64)[cols],
        demand=residences["residents"].to_numpy(dtype=np.float64)[rows],
        limit_minutes=params.max_minutes,
        answer_rows=None,
        engine_minutes=minutes,
        sizes={
            "residences off the network": int(len(residences) - len(rows)),
            "amenities off the network": int(len(amenities) - len(cols)),
        },
    )


def _describe_graph(inputs: GraphInputs) -> dict[str, Any]:
    rows = inputs.origin_nodes if inputs.answer_rows is None else inputs.answer_rows
    return {
        "nodes": inputs.graph.n_nodes,
        "directed edges": int(inputs.graph.indices.shape[0]),
        "origins": len(rows),
        "destinations": len(inputs.destination_nodes),
        "cut-off min": inputs.limit_minutes,
        **inputs.sizes,
    }


# --- case (a) and (b): end to end ----------------------------------------------------------


def _e2e_query(_built: Any, inputs: ParkInputs) -> measure.Answer:
    park = _load_park(inputs.park_path)
    start = time.perf_counter()
    answer = _engine_end_to_end(park)
    answer[measure.STAGE_PREFIX + "end_to_end"] = np.asarray(time.perf_counter() - start)
    return answer


def _e2e_implementation(*, max_repeats: int | None = None) -> Implementation:
    return Implementation(
        name="engine",
        label="travel_times_for_park + indicators_for_windows (every mode x window)",
        build=lambda inputs: None,
        query=_e2e_query,
        max_repeats=max_repeats,
    )


# --- case (c): many-to-many ----------------------------------------------------------------


def _prepare_matrix(scale: str, *, subset: bool) -> GraphInputs:
    inputs = _graph_inputs(scale)
    if not subset:
        return inputs
    n = min(SUBSET_ORIGINS[scale], len(inputs.origin_nodes))
    rows = np.linspace(0, len(inputs.origin_nodes) - 1, n).round().astype(np.int64)
    return dataclasses.replace(inputs, answer_rows=np.unique(rows))


def _rows(inputs: GraphInputs) -> np.ndarray:
    if inputs.answer_rows is None:
        return np.arange(len(inputs.origin_nodes))
    return inputs.answer_rows


def _engine_matrix_build(inputs: GraphInputs) -> Any:
    return _engine_build(_load_park(inputs.park_path))


def _engine_matrix_query(engine: Any, inputs: GraphInputs) -> measure.Answer:
    # Node indices, as the peers get: this case compares routing, not snapping.
    origins = inputs.origin_nodes[_rows(inputs)]
    return {"minutes": _engine_walk_matrix(engine, origins, inputs.destination_nodes)}


def _peer_matrix(
    build: Callable[[peers.GraphArrays], Any], query: Callable[..., np.ndarray]
) -> tuple[Callable[[GraphInputs], Any], Callable[[Any, GraphInputs], measure.Answer]]:
    def peer_build(inputs: GraphInputs) -> Any:
        return build(inputs.graph)

    def peer_query(built: Any, inputs: GraphInputs) -> measure.Answer:
        origins = inputs.origin_nodes[_rows(inputs)]
        minutes = query(
            built, origins, inputs.destination_nodes, limit_minutes=inputs.limit_minutes
        )
        return {"minutes": minutes}

    return peer_build, peer_query


def _matrix_implementations(*, with_slow_peers: bool) -> tuple[Implementation, ...]:
    impls = [
        Implementation(
            "engine",
            "TravelTimeEngine.matrix (walk)",
            _engine_matrix_build,
            _engine_matrix_query,
        ),
        Implementation(
            "scipy",
            "scipy.sparse.csgraph.dijkstra(indices=origins, limit=cut-off)",
            *_peer_matrix(peers.scipy_build, peers.scipy_many_to_many),
        ),
    ]
    if with_slow_peers:
        # igraph has no cut-off (it searches the whole graph from every origin) and networkx is
        # pure Python: on every origin they alone would take minutes, so they run on the subset.
        impls += [
            Implementation(
                "igraph",
                "igraph Graph.distances(weights), no cut-off",
                *_peer_matrix(peers.igraph_build, peers.igraph_many_to_many),
            ),
            Implementation(
                "networkx",
                "networkx single_source_dijkstra_path_length(cutoff) per origin",
                *_peer_matrix(peers.networkx_build, peers.networkx_many_to_many),
                max_repeats=2,
            ),
        ]
    return tuple(impls)


# --- case (d): nearest per category ---------------------------------------------------------


def _targets_by_category(inputs: GraphInputs) -> dict[str, np.ndarray]:
    return {
        str(category): inputs.destination_nodes[inputs.categories == category]
        for category in sorted(set(inputs.categories.tolist()))
    }


def _engine_nearest_query(engine: Any, inputs: GraphInputs) -> measure.Answer:
    # Node indices, as the peers get: this case compares routing, not snapping.
    origins = inputs.origin_nodes[_rows(inputs)]
    nearest = engine.nearest(origins, inputs.destination_nodes, inputs.categories, mode=WALK_MODE)
    return {str(category): nearest[category].to_numpy() for category in nearest.columns}


def _peer_nearest(
    build: Callable[[peers.GraphArrays], Any], query: Callable[..., dict[str, np.ndarray]]
) -> tuple[Callable[[GraphInputs], Any], Callable[[Any, GraphInputs], measure.Answer]]:
    def peer_build(inputs: GraphInputs) -> Any:
        return build(inputs.graph)

    def peer_query(built: Any, inputs: GraphInputs) -> measure.Answer:
        return query(
            built,
            inputs.origin_nodes[_rows(inputs)],
            _targets_by_category(inputs),
            limit_minutes=inputs.limit_minutes,
        )

    return peer_build, peer_query


def _pandana_build(inputs: GraphInputs) -> Any:
    return peers.pandana_build(_seconds_graph(inputs.graph))


def _pandana_query(network: Any, inputs: GraphInputs) -> measure.Answer:
    result = peers.pandana_nearest(
        network,
        _seconds_graph(inputs.graph),
        inputs.origin_nodes[_rows(inputs)],
        _targets_by_category(inputs),
        limit_minutes=inputs.limit_minutes * 60.0,
    )
    return {category: seconds / 60.0 for category, seconds in result.items()}


def _seconds_graph(graph: peers.GraphArrays) -> peers.GraphArrays:
    return dataclasses.replace(graph, minutes=graph.minutes * 60.0)


def _nearest_implementations() -> tuple[Implementation, ...]:
    return (
        Implementation(
            "engine",
            "TravelTimeEngine.nearest (one multi-source search per category)",
            _engine_matrix_build,
            _engine_nearest_query,
        ),
        Implementation(
            "pandana",
            "pandana 0.8 Network + set_pois + nearest_pois (fresh network per repeat)",
            _pandana_build,
            _pandana_query,
            fresh_build_each_repeat=True,
            max_repeats=2,
            requires=("pandana",),
            tolerance=PANDANA_MINUTES,
        ),
        Implementation(
            "scipy_multisource",
            "scipy dijkstra(min_only=True) from each category's amenities",
            *_peer_nearest(peers.scipy_build, peers.scipy_nearest),
        ),
        Implementation(
            "networkx_multisource",
            "networkx multi_source_dijkstra_path_length per category",
            *_peer_nearest(peers.networkx_build, peers.networkx_nearest),
            max_repeats=2,
        ),
    )


# --- case (e): E2SFCA -----------------------------------------------------------------------


def _prepare_e2sfca(scale: str) -> GraphInputs:
    return _graph_inputs(scale)


def _category_blocks(inputs: GraphInputs) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each category's (minutes, capacity), sliced untimed as PySAL's cost tables are."""
    blocks = {}
    for category in sorted(set(inputs.categories.tolist())):
        columns = inputs.categories == category
        blocks[str(category)] = (
            np.ascontiguousarray(inputs.engine_minutes[:, columns]),
            inputs.capacity[columns],
        )
    return blocks


def _engine_e2sfca_query(
    blocks: dict[str, tuple[np.ndarray, np.ndarray]], inputs: GraphInputs
) -> measure.Answer:
    from retention.access import measures as access

    return {
        category: access.e2sfca(
            minutes,
            capacity,
            inputs.demand,
            decay=access.DEFAULT_DECAY,
            catchment_minutes=E2SFCA_CATCHMENT_MINUTES,
        )
        for category, (minutes, capacity) in blocks.items()
    }


E2SFCA_CATCHMENT_MINUTES = 30.0


def _pysal_build(inputs: GraphInputs) -> dict[str, Any]:
    frames = {}
    for category in sorted(set(inputs.categories.tolist())):
        columns = inputs.categories == category
        # PySAL gets every pair the engine's matrix has (<= the 60-min cut-off), as the engine
        # does; its own max_cost then applies the 30-min catchment, as access.e2sfca does.
        frames[str(category)] = peers.pysal_cost_frame(
            inputs.engine_minutes[:, columns], limit_minutes=inputs.limit_minutes
        )
    return frames


def _pysal_query(frames: dict[str, Any], inputs: GraphInputs) -> measure.Answer:
    from access import weights

    step = weights.step_fn({10: 1.0, 20: 0.68, 30: 0.22})  # Luo & Qi (2009), PySAL's default
    result: measure.Answer = {}
    for category, frame in frames.items():
        columns = inputs.categories == category
        result[category] = peers.pysal_e2sfca(
            frame,
            inputs.demand,
            inputs.capacity[columns],
            limit_minutes=E2SFCA_CATCHMENT_MINUTES,
            weight=step,
        )
    return result


# --- the registry ---------------------------------------------------------------------------


def _cases() -> dict[str, Case]:
    end_to_end_notes = (
        "End-to-end = travel_times_for_park (walk, e-bike, transit x 4 time windows) + "
        "indicators_for_windows per mode, i.e. the 12 mode x window pairs (nearest, "
        "cumulative, E2SFCA, living circle, gap index for every category); loading or "
        "generating the park is not timed.",
    )
    return {
        "a": Case(
            "a",
            "Demo park (金山, synthetic) end-to-end",
            _prepare_park("demo"),
            (_e2e_implementation(),),
            targets=(Target("seconds", 3.0),),
            notes=end_to_end_notes,
            describe=lambda inputs: inputs.sizes,
        ),
        "b": Case(
            "b",
            "Beilun-scale generated park end-to-end",
            _prepare_park("beilun"),
            # One repeat: at this scale a repeat takes minutes and the run must stay ~10 min.
            (_e2e_implementation(max_repeats=1),),
            targets=(Target("seconds", 30.0), Target("memory_mb", 4096.0)),
            notes=end_to_end_notes,
            describe=lambda inputs: inputs.sizes,
        ),
        "b2": Case(
            "b2",
            "Beilun-scale park on a dense street network end-to-end (the Gaps computation)",
            _prepare_park("beilun_dense"),
            (_e2e_implementation(max_repeats=1),),
            targets=(Target("seconds", 15.0), Target("memory_mb", 2048.0)),
            notes=(
                *end_to_end_notes,
                "Streets: the generator at 44 m blocks and a vertex every 22 m, plus 15,000 "
                "driveways (10-30 m dead ends) and 25 gated compounds (isolated small grids); "
                "seeded (benchmarks/cases.py).",
            ),
            describe=lambda inputs: inputs.sizes,
        ),
        "c1": Case(
            "c1",
            "Many-to-many walk times, all origins x all amenities (Beilun-scale graph)",
            functools.partial(_prepare_matrix, subset=False),
            _matrix_implementations(with_slow_peers=False),
            targets=(Target("within", 1.5, "scipy"),),
            describe=_describe_graph,
        ),
        "c2": Case(
            "c2",
            "Many-to-many walk times, origin subset x all amenities (networkx fits the budget)",
            functools.partial(_prepare_matrix, subset=True),
            _matrix_implementations(with_slow_peers=True),
            targets=(Target("speedup", 15.0, "networkx"), Target("within", 1.5, "scipy")),
            describe=_describe_graph,
        ),
        "d": Case(
            "d",
            "Nearest amenity per category from every origin (walk)",
            functools.partial(_prepare_matrix, subset=False),
            _nearest_implementations(),
            targets=(Target("speedup", 10.0, "pandana"),),
            notes=(
                "pandana gets edge weights in seconds (it rounds weights to 1/1000 of its unit), "
                "its max distance is the engine's cut-off, and a fresh Network is built each "
                "repeat (pandana 0.8 accumulates precompute state).",
            ),
            describe=_describe_graph,
        ),
        "e": Case(
            "e",
            "E2SFCA per category on the same walk-time matrix (step decay 10/20/30 min)",
            _prepare_e2sfca,
            (
                Implementation(
                    "engine",
                    "retention.access.measures.e2sfca",
                    _category_blocks,
                    _engine_e2sfca_query,
                ),
                Implementation(
                    "pysal",
                    "Access(...).enhanced_two_stage_fca (all pairs <= cut-off)",
                    _pysal_build,
                    _pysal_query,
                    max_repeats=2,
                    requires=("access",),
                    tolerance=E2SFCA_RELATIVE,
                ),
            ),
            targets=(Target("speedup", 10.0, "pysal"),),
            relative_tolerance=True,
            describe=_describe_graph,
        ),
    }


def get_case(case_id: str) -> Case:
    """Return the case called ``case_id``."""
    return _cases()[case_id]
