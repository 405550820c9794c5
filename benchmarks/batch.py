"""Batch scoring on Dask: parks per minute with 1 and 2 worker processes, memory, overhead.

``python benchmarks/batch.py [--n 150] [--workers 1,2] [--corpus DIR]`` builds (or reuses) a
seeded synthetic corpus (``geodata.build_corpus``), scores every park serially in this process
(``retention.batch.score_park`` in a loop, no Dask: the baseline), then for each worker count
starts a ``LocalCluster`` of single-thread worker processes and scores every park with
``retention.batch.run_batch`` into a fresh output folder — all in one run, so the load on the
shared machine is as alike as it can be. It reports:

- cluster start-up time (processes spawned, not yet importing the pipeline);
- wall time of the batch and parks per minute; speed-up against serial scoring;
- CPU seconds next to wall: the sum of the parks' task CPU (on the workers) and the CPU of the
  whole process tree (this process, the scheduler and the workers: ``os.times`` children
  included), so that a wall time inflated by other sessions' load can be told apart;
- the load average before and after each run;
- task seconds per park (on the worker, including the first park's imports);
- peak resident memory per worker process (``VmHWM`` after its last park);
- the scheduler's overhead per task: round trip of a no-op task submitted one at a time, and
  per task when 200 no-op tasks are submitted together;
- the cost of one demo-scale park (``geodata/jinshan``) scored in this process, for the paper
  estimate.

Writes ``benchmarks/results/batch.json`` and ``batch.md``. The machine is shared: its load
average is recorded next to the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

RESULTS = REPO / "benchmarks" / "results"


def _noop(x: int) -> int:
    return x


def _overhead(client: object, *, n: int = 200) -> dict[str, float]:
    from dask.distributed import Client, wait

    assert isinstance(client, Client)
    client.submit(_noop, -1, pure=False).result()  # warm the path once
    rounds = []
    for i in range(20):
        started = time.perf_counter()
        client.submit(_noop, i, pure=False).result()
        rounds.append(time.perf_counter() - started)
    started = time.perf_counter()
    futures = [client.submit(_noop, i, pure=False) for i in range(n)]
    wait(futures)
    together = (time.perf_counter() - started) / n
    return {
        "round_trip_ms_median": 1000 * statistics.median(rounds),
        "per_task_ms_in_bulk": 1000 * together,
    }


def _tree_cpu_s() -> float:
    """CPU seconds of this process and its waited-for children (user + system)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _load() -> float:
    return os.getloadavg()[0]


def run_serial(corpus: Path, ids: list[str]) -> dict[str, object]:
    """Score the corpus one park after another in this process (no Dask); return the numbers."""
    from retention.batch import score_park

    load_before = _load()
    with tempfile.TemporaryDirectory() as tmp:
        out, data = Path(tmp) / "out", Path(tmp) / "data"
        cpu_started = _tree_cpu_s()
        started = time.perf_counter()
        outcomes = [
            score_park(park_id, out_dir=out, data_dir=data, geodata_dir=corpus) for park_id in ids
        ]
        wall = time.perf_counter() - started
        cpu = _tree_cpu_s() - cpu_started
    return _numbers("serial", ids, outcomes, wall=wall, tree_cpu=cpu, load_before=load_before)


def _numbers(
    workers: int | str,
    ids: list[str],
    outcomes: object,
    *,
    wall: float,
    tree_cpu: float,
    load_before: float,
) -> dict[str, object]:
    from retention.batch import ParkOutcome

    assert isinstance(outcomes, (list, tuple))
    done: list[ParkOutcome] = list(outcomes)
    peaks: dict[int, float] = {}
    for outcome in done:
        peaks[outcome.worker_pid] = max(peaks.get(outcome.worker_pid, 0.0), outcome.peak_rss_mb)
    seconds = [o.seconds for o in done]
    cpu = [o.cpu_seconds for o in done]
    return {
        "workers": workers,
        "parks": len(ids),
        "failed": [o.park_id for o in done if o.status != "scored"],
        "wall_s": wall,
        "parks_per_minute": 60 * len(ids) / wall,
        "task_s_median": statistics.median(seconds),
        "task_s_mean": statistics.fmean(seconds),
        "task_s_max": max(seconds),
        "task_cpu_s_median": statistics.median(cpu),
        "task_cpu_s_total": sum(cpu),
        "tree_cpu_s": tree_cpu,
        "peak_rss_mib_per_worker": sorted(peaks.values()),
        "load_before": load_before,
        "load_after": _load(),
    }


def run_workers(corpus: Path, ids: list[str], workers: int) -> dict[str, object]:
    """Score the corpus on a fresh local cluster of ``workers`` processes; return the numbers."""
    import logging

    from dask.distributed import Client, LocalCluster

    from retention.batch import run_batch

    load_before = _load()
    cpu_started = _tree_cpu_s()
    started = time.perf_counter()
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # a free port: never clash with another cluster on 8787
        silence_logs=logging.ERROR,
        env={"PARKLIFE_SEARCH_PROCESSES": "1"},
    )
    startup = time.perf_counter() - started
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out, data = Path(tmp) / "out", Path(tmp) / "data"
            started = time.perf_counter()
            report = run_batch(
                ids,
                out_dir=out,
                data_dir=data,
                geodata_dir=corpus,
                scheduler=cluster.scheduler_address,
            )
            wall = time.perf_counter() - started
        with Client(cluster) as client:
            overhead = _overhead(client)
    finally:
        cluster.close()  # the workers exit and are waited for: their CPU joins os.times()
    tree_cpu = _tree_cpu_s() - cpu_started
    numbers = _numbers(
        workers, ids, report.outcomes, wall=wall, tree_cpu=tree_cpu, load_before=load_before
    )
    return {**numbers, "cluster_startup_s": startup, **overhead}


def demo_park_cost() -> dict[str, float]:
    """Score the demo park (``geodata/jinshan``) once in this process; return seconds and MiB."""
    from retention.batch import score_park
    from retention.batch.park_task import _peak_rss_mb

    with tempfile.TemporaryDirectory() as tmp:
        before = _peak_rss_mb()
        outcome = score_park("jinshan", out_dir=Path(tmp) / "out", data_dir=Path(tmp) / "data")
    if outcome.status != "scored":
        raise RuntimeError(f"demo park failed: {outcome.error}")
    return {
        "seconds": outcome.seconds,
        "cpu_seconds": outcome.cpu_seconds,
        "peak_rss_mib": outcome.peak_rss_mb,
        "rss_before_mib": before,
    }


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=150, help="parks in the corpus")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--corpus", type=Path, help="corpus folder (built if empty)")
    parser.add_argument("--seed", type=int, default=20260312)
    args = parser.parse_args()
    from geodata.build_corpus import build_corpus

    corpus = args.corpus or Path(tempfile.mkdtemp(prefix="parklife-corpus-"))
    started = time.perf_counter()
    ids = sorted(p.parent.name for p in corpus.glob("*/park.json"))[: args.n]
    if len(ids) < args.n:
        ids = build_corpus(corpus, args.n, seed=args.seed, survey_share=0.5)
    build_s = time.perf_counter() - started
    runs = [run_serial(corpus, ids)]
    runs += [run_workers(corpus, ids, int(w)) for w in args.workers.split(",")]
    demo = demo_park_cost()
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_end": os.getloadavg(),
        },
        "corpus": {"parks": len(ids), "seed": args.seed, "build_s": build_s},
        "runs": runs,
        "demo_park": demo,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "batch.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    base = runs[0]["wall_s"]
    lines = [
        "| workers | parks | failed | wall s | CPU s (process tree) | "
        "task CPU s (median / total) | "
        "parks/min | speed-up vs serial (wall) | task wall s (median / max) | "
        "peak MiB per worker | start-up s | no-op round trip ms | no-op in bulk ms | "
        "load avg before / after |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        peaks = ", ".join(f"{p:.0f}" for p in run["peak_rss_mib_per_worker"])  # type: ignore[attr-defined]
        dask_only = (
            f"{run['cluster_startup_s']:.1f} | {run['round_trip_ms_median']:.1f} | "
            f"{run['per_task_ms_in_bulk']:.2f}"
            if "cluster_startup_s" in run
            else "– | – | –"
        )
        lines.append(
            f"| {run['workers']} | {run['parks']} | {len(run['failed'])} | "  # type: ignore[arg-type]
            f"{run['wall_s']:.1f} | {run['tree_cpu_s']:.0f} | "
            f"{run['task_cpu_s_median']:.2f} / {run['task_cpu_s_total']:.0f} | "
            f"{run['parks_per_minute']:.1f} | {base / run['wall_s']:.2f} | "  # type: ignore[operator]
            f"{run['task_s_median']:.1f} / {run['task_s_max']:.1f} | {peaks} | {dask_only} | "
            f"{run['load_before']:.1f} / {run['load_after']:.1f} |"
        )
    lines.append("")
    lines.append(
        f"Demo-scale park (geodata/jinshan) in one process: {demo['seconds']:.1f} s wall, "
        f"{demo['cpu_seconds']:.1f} s CPU, "
        f"peak {demo['peak_rss_mib']:.0f} MiB. Load average at the end: "
        + ", ".join(f"{x:.1f}" for x in os.getloadavg())
        + f" on {os.cpu_count()} CPUs."
    )
    (RESULTS / "batch.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
