"""Batch scoring on Dask: parks per minute with 1 and 2 worker processes, memory, overhead.

``python benchmarks/batch.py [--n 12] [--workers 1,2] [--corpus DIR]`` builds (or reuses) a
seeded synthetic corpus (``geodata.build_corpus``), then for each worker count starts a
``LocalCluster`` of single-thread worker processes and scores every park with
``retention.batch.run_batch`` into a fresh output folder. It reports:

- cluster start-up time (processes spawned, not yet importing the pipeline);
- wall time of the batch and parks per minute; speed-up against 1 worker;
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


def run_workers(corpus: Path, ids: list[str], workers: int) -> dict[str, object]:
    """Score the corpus on a fresh local cluster of ``workers`` processes; return the numbers."""
    import logging

    from dask.distributed import Client, LocalCluster

    from retention.batch import run_batch

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
        cluster.close()
    failed = [o.park_id for o in report.outcomes if o.status != "scored"]
    peaks: dict[int, float] = {}
    for outcome in report.outcomes:
        peaks[outcome.worker_pid] = max(peaks.get(outcome.worker_pid, 0.0), outcome.peak_rss_mb)
    seconds = [o.seconds for o in report.outcomes]
    cpu = [o.cpu_seconds for o in report.outcomes]
    return {
        "workers": workers,
        "parks": len(ids),
        "failed": failed,
        "cluster_startup_s": startup,
        "wall_s": wall,
        "parks_per_minute": 60 * len(ids) / wall,
        "task_s_median": statistics.median(seconds),
        "task_s_mean": statistics.fmean(seconds),
        "task_s_max": max(seconds),
        "task_cpu_s_median": statistics.median(cpu),
        "task_cpu_s_total": sum(cpu),
        "peak_rss_mib_per_worker": sorted(peaks.values()),
        **overhead,
    }


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
    parser.add_argument("--n", type=int, default=12, help="parks in the corpus")
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
    runs = [run_workers(corpus, ids, int(w)) for w in args.workers.split(",")]
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
        "| workers | parks | wall s | parks/min | speed-up | task s (median / max) | "
        "task CPU s (median / total) | "
        "peak MiB per worker | start-up s | no-op round trip ms | no-op in bulk ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        peaks = ", ".join(f"{p:.0f}" for p in run["peak_rss_mib_per_worker"])  # type: ignore[attr-defined]
        lines.append(
            f"| {run['workers']} | {run['parks']} | {run['wall_s']:.1f} | "
            f"{run['parks_per_minute']:.1f} | {base / run['wall_s']:.2f} | "  # type: ignore[operator]
            f"{run['task_s_median']:.1f} / {run['task_s_max']:.1f} | "
            f"{run['task_cpu_s_median']:.1f} / {run['task_cpu_s_total']:.0f} | {peaks} | "
            f"{run['cluster_startup_s']:.1f} | {run['round_trip_ms_median']:.1f} | "
            f"{run['per_task_ms_in_bulk']:.2f} |"
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
