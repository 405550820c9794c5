"""Case b2 stage by stage: street network, snapping, travel times, and every indicator.

The dense Beilun park of case b2 (``benchmarks/cases.py``) computed as the Gaps page does, with
wall and CPU seconds of this process for each stage: the street network from the roads layer
(``network_from_roads``), snapping origins and amenities to it, ``travel_times_for_park``
(which builds its own network and snaps again: its time includes both), and
``indicators_for_windows`` for each mode (the 12 mode x window pairs). CPU seconds include
every thread of this process (the compiled kernels run on every core).

``--save PATH`` writes every indicator of the 12 pairs to an ``.npz`` file; ``--compare PATH``
reads one written by another version of the code and prints, per indicator, how many values
differ and the largest absolute and relative difference (the README's "same answers" check).

Run (measuring: hold the benchmark lock, real-time priority, see benchmarks/README.md)::

    flock /tmp/work/bench.lock chrt -r 10 .venv/bin/python benchmarks/b2_parts.py --save b2.npz
    .venv/bin/python benchmarks/b2_parts.py --scale smoke          # a tiny park in seconds
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # cases.py imports measure, peers

from benchmarks.cases import _load_park, _park_file
from retention.access.indicators import indicators_for_windows
from retention.access.network import network_from_roads
from retention.access.parameters import DEFAULT_TIME_WINDOWS, TravelParameters
from retention.access.travel_times import MODES, travel_times_for_park
from retention.data.layers import LayerKind

TABLES = ("nearest", "opportunities", "capacity_within", "supply_per_1000", "living_circle", "gap")


def _timed(label: str, call: Callable[[], Any], stages: list[tuple[str, float, float]]) -> Any:
    cpu, wall = time.process_time(), time.perf_counter()
    value = call()
    stages.append((label, time.perf_counter() - wall, time.process_time() - cpu))
    return value


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def run(scale: str) -> tuple[list[tuple[str, float, float]], dict[str, np.ndarray]]:
    """Time every stage on the b2 park of ``scale``; return the stages and every indicator."""
    park = _load_park(_park_file(scale, "beilun_dense"))
    params = TravelParameters()
    stages: list[tuple[str, float, float]] = []
    roads = park.layers[LayerKind.ROADS]
    network = _timed(
        "street network from the roads layer", lambda: network_from_roads(roads), stages
    )
    for kind in (LayerKind.RESIDENCES, LayerKind.AMENITIES):
        layer = park.layers[kind]
        _timed(
            f"snap {len(layer)} {kind.value}",
            lambda layer=layer: network.snap(
                layer, mode="walk", max_distance_metres=params.max_snap_distance_metres
            ),
            stages,
        )
    result = _timed(
        "travel_times_for_park",
        lambda: travel_times_for_park(park, params=params, windows=DEFAULT_TIME_WINDOWS),
        stages,
    )
    answers: dict[str, np.ndarray] = {}
    for mode in MODES:
        found = _timed(
            f"indicators_for_windows {mode}",
            lambda mode=mode: indicators_for_windows(result, mode=mode),
            stages,
        )
        for window, indicators in found.items():
            for name in TABLES:
                answers[f"{name}:{mode}:{window}"] = getattr(indicators, name).to_numpy(
                    dtype=np.float64
                )
    return stages, answers


def compare(answers: dict[str, np.ndarray], path: Path) -> list[str]:
    """Lines naming each indicator whose values differ from the saved ones, and by how much."""
    saved = np.load(path)
    lines = []
    for name in TABLES:
        keys = [key for key in saved.files if key.startswith(name + ":")]
        differ, worst_abs, worst_rel = 0, 0.0, 0.0
        for key in keys:
            a, b = saved[key], answers[key]
            same = (a == b) | (np.isnan(a) & np.isnan(b))
            if a.shape != b.shape:
                raise SystemExit(f"{key}: shape {b.shape}, saved {a.shape}")
            if not same.all():
                gap = np.abs(a - b)[~same]
                scale = np.maximum(np.abs(a), np.abs(b))[~same]
                differ += int((~same).sum())
                worst_abs = max(worst_abs, float(gap.max()))
                worst_rel = max(worst_rel, float((gap / scale).max()))
        values = sum(saved[key].size for key in keys)
        lines.append(
            f"{name}: {differ} of {values} values differ; max abs {worst_abs:.3g}, "
            f"max rel {worst_rel:.3g}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("full", "smoke"), default="full")
    parser.add_argument("--save", type=Path, help="write every indicator to this .npz file")
    parser.add_argument("--compare", type=Path, help="compare every indicator with this file")
    args = parser.parse_args()
    load_before = os.getloadavg()
    stages, answers = run(args.scale)
    print(
        f"case b2 ({args.scale}); 1/5/15-min load average before {load_before}, "
        f"after {os.getloadavg()}"
    )
    print("| stage | wall s | CPU s |\n| --- | ---: | ---: |")
    for label, wall, cpu in stages:
        print(f"| {label} | {wall:.2f} | {cpu:.2f} |")
    print(f"peak RSS {_peak_rss_mb():.0f} MB")
    if args.save:
        np.savez_compressed(args.save, **answers)
    if args.compare:
        print("\n".join(compare(answers, args.compare)))


if __name__ == "__main__":
    main()
