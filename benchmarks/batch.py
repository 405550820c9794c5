"""Batch scoring on Dask: parks per minute with 1 and 2 worker processes, memory, overhead.

``python benchmarks/batch.py --corpus DIR [--n 150] [--scale demo] [--runs serial,1,2,demo-park]``
builds (or reuses) a seeded synthetic corpus (``geodata.build_corpus``) and measures the runs
named in ``--runs``:

- ``serial``: every park scored in this process (``retention.batch.score_park`` in a loop, no
  Dask: the baseline);
- an integer ``N``: a fresh ``LocalCluster`` of ``N`` single-thread worker processes scores every
  park with ``retention.batch.run_batch`` into a fresh output folder;
- ``demo-park``: the bundled demo park (``geodata/jinshan``) scored once in this process.

Each invocation adds its runs to ``benchmarks/results/<--name>.json`` (a run of the same name is
replaced; the corpus must be the same, or pass ``--fresh``) and rewrites ``<--name>.md`` from
the whole file, so long configurations can be measured as separate invocations — each under its
own ``flock /tmp/work/bench.lock chrt -r 10 ...`` — and merged. ``--table`` only rewrites the
Markdown from the JSON. Per run it reports:

- cluster start-up time (processes spawned, not yet importing the pipeline);
- wall time of the batch and parks per minute; speed-up against the first run of the table;
- CPU seconds next to wall: the sum of the parks' task CPU (on the workers) and the CPU of the
  whole process tree (this process, the scheduler and the workers: ``os.times`` children
  included), so that a wall time inflated by other sessions' load can be told apart;
- the scheduling policy this process ran under (``SCHED_RR`` when started under ``chrt -r``);
- the load average before the run (the other work on the machine) and sampled every 10 s
  during it (which also counts this run's own busy processes);
- task seconds per park (on the worker, including the first park's imports);
- peak resident memory per worker process (``VmHWM`` after its last park);
- the scheduler's overhead per task: round trip of a no-op task submitted one at a time, and
  per task when 200 no-op tasks are submitted together;

and, from the measured per-park cost, a paper estimate for Zhejiang's 2,311 parks on a 16- and a
64-core cluster.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

RESULTS = REPO / "benchmarks" / "results"
ZHEJIANG_PARKS = 2311  # 134 provincial development zones + 2,177 small and micro parks
CLUSTER_CORES = (16, 64)


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


def _policy() -> str:
    """This process's scheduling policy and priority, e.g. ``SCHED_RR 10`` under ``chrt -r 10``."""
    policy = os.sched_getscheduler(0)
    names = {os.SCHED_OTHER: "SCHED_OTHER", os.SCHED_RR: "SCHED_RR", os.SCHED_FIFO: "SCHED_FIFO"}
    return f"{names.get(policy, str(policy))} {os.sched_getparam(0).sched_priority}"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@contextmanager
def _load_samples(every_s: float = 10.0) -> Iterator[list[float]]:
    """Sample the 1-minute load average every ``every_s`` seconds while the block runs."""
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(every_s):
            samples.append(os.getloadavg()[0])

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()


def _conditions() -> dict[str, Any]:
    return {"started": _now(), "policy": _policy(), "load_before": list(os.getloadavg())}


def _numbers(
    name: str,
    ids: list[str],
    outcomes: object,
    *,
    wall: float,
    tree_cpu: float,
    conditions: dict[str, Any],
    load_during: list[float],
) -> dict[str, Any]:
    from retention.batch import ParkOutcome

    assert isinstance(outcomes, (list, tuple))
    done: list[ParkOutcome] = list(outcomes)
    peaks: dict[int, float] = {}
    for outcome in done:
        peaks[outcome.worker_pid] = max(peaks.get(outcome.worker_pid, 0.0), outcome.peak_rss_mb)
    seconds = [o.seconds for o in done]
    cpu = [o.cpu_seconds for o in done]
    return {
        "workers": name,
        **conditions,
        "ended": _now(),
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
        "load_during": load_during,
        "load_after": list(os.getloadavg()),
        "per_park": [
            {
                "park_id": o.park_id,
                "status": o.status,
                "seconds": o.seconds,
                "cpu_seconds": o.cpu_seconds,
                "worker_pid": o.worker_pid,
                "peak_rss_mib": o.peak_rss_mb,
            }
            for o in done
        ],
    }


def run_serial(corpus: Path, ids: list[str], *, keep: Path | None = None) -> dict[str, Any]:
    """Score the corpus one park after another in this process (no Dask); return the numbers."""
    from retention.batch import score_park

    conditions = _conditions()
    with tempfile.TemporaryDirectory() as tmp, _load_samples() as load_during:
        out, data = (keep or Path(tmp)) / "out", Path(tmp) / "data"
        cpu_started = _tree_cpu_s()
        started = time.perf_counter()
        outcomes = [
            score_park(park_id, out_dir=out, data_dir=data, geodata_dir=corpus) for park_id in ids
        ]
        wall = time.perf_counter() - started
        cpu = _tree_cpu_s() - cpu_started
    return _numbers(
        "serial",
        ids,
        outcomes,
        wall=wall,
        tree_cpu=cpu,
        conditions=conditions,
        load_during=load_during,
    )


def run_workers(
    corpus: Path, ids: list[str], workers: int, *, keep: Path | None = None
) -> dict[str, Any]:
    """Score the corpus on a fresh local cluster of ``workers`` processes; return the numbers.

    ``keep``: a folder to keep the batch's output in (``<keep>/out``, e.g. for the Park
    comparison page); a temporary folder otherwise.
    """
    from dask.distributed import Client

    from retention.batch import run_batch
    from retention.batch.run import local_cluster

    conditions = _conditions()
    with _load_samples() as load_during:
        cpu_started = _tree_cpu_s()
        started = time.perf_counter()
        cluster = local_cluster(workers)
        startup = time.perf_counter() - started
        try:
            with tempfile.TemporaryDirectory() as tmp:
                out, data = (keep or Path(tmp)) / "out", Path(tmp) / "data"
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
        str(workers),
        ids,
        report.outcomes,
        wall=wall,
        tree_cpu=tree_cpu,
        conditions=conditions,
        load_during=load_during,
    )
    return {**numbers, "cluster_startup_s": startup, **overhead}


def demo_park_cost() -> dict[str, Any]:
    """Score the demo park (``geodata/jinshan``) once in this process; return seconds and MiB."""
    from retention.batch import score_park
    from retention.batch.park_task import _peak_rss_mb

    conditions = _conditions()
    with tempfile.TemporaryDirectory() as tmp:
        before = _peak_rss_mb()
        outcome = score_park("jinshan", out_dir=Path(tmp) / "out", data_dir=Path(tmp) / "data")
    if outcome.status != "scored":
        raise RuntimeError(f"demo park failed: {outcome.error}")
    return {
        **conditions,
        "seconds": outcome.seconds,
        "cpu_seconds": outcome.cpu_seconds,
        "peak_rss_mib": outcome.peak_rss_mb,
        "rss_before_mib": before,
    }


def _corpus_signature(corpus: Path, ids: list[str]) -> dict[str, Any]:
    """Which parks were scored: folder, count, scale and a digest of every park's files."""
    digest = hashlib.sha256()
    for park_id in ids:
        for path in sorted((corpus / park_id).iterdir()):
            digest.update(f"{park_id}/{path.name}\0".encode())
            digest.update(path.read_bytes())
    metadata = json.loads((corpus / ids[0] / "park.json").read_text(encoding="utf-8"))
    return {
        "folder": str(corpus),
        "parks": len(ids),
        "scale": metadata.get("generator", {}).get("corpus_scale", "mixed"),
        "seed": metadata.get("generator", {}).get("corpus_seed"),
        "survey_parks": [p for p in ids if (corpus / p / "survey_wjx.xlsx").exists()],
        "sha256": digest.hexdigest(),
    }


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def _merge(path: Path, result: dict[str, Any], *, fresh: bool) -> dict[str, Any]:
    """Add this invocation's runs to the JSON at ``path`` (same corpus unless ``fresh``)."""
    if fresh or not path.exists():
        return result
    earlier = json.loads(path.read_text(encoding="utf-8"))
    if earlier.get("corpus", {}).get("sha256") != result["corpus"]["sha256"]:
        raise SystemExit(
            f"{path} holds runs on another corpus ({earlier.get('corpus')}); "
            "pass --fresh to start a new file, or --name for another one"
        )
    runs = {run["workers"]: run for run in earlier.get("runs", [])}
    runs.update({run["workers"]: run for run in result["runs"]})
    order = sorted(runs, key=lambda name: (name != "serial", int(name) if name.isdigit() else 0))
    return {
        **earlier,
        "machine": result["machine"],
        "runs": [runs[name] for name in order],
        "demo_park": result.get("demo_park") or earlier.get("demo_park"),
    }


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def _estimate_lines(runs: list[dict[str, Any]]) -> list[str]:
    """Paper estimate for Zhejiang's parks from the measured per-park cost of the worker runs."""
    lines = [
        f"Paper estimate for {ZHEJIANG_PARKS:,} parks from the measured per-park cost "
        "(one single-thread worker per core, cores not shared, every park as costly as the "
        "corpus's average park):",
        "",
        "| measured on | per-park cost s | "
        + " | ".join(f"{c} cores: wall min | {c} cores: memory GB" for c in CLUSTER_CORES)
        + " |",
        "| --- | --- | " + " | ".join("--- | ---" for _ in CLUSTER_CORES) + " |",
    ]
    for run in runs:
        if not run["workers"].isdigit():
            continue
        workers = int(run["workers"])
        # Core-seconds per park as measured: the batch's wall time times the cores it kept busy.
        per_park = run["wall_s"] * workers / run["parks"]
        scheduler_s = ZHEJIANG_PARKS * run["per_task_ms_in_bulk"] / 1000
        peak_gb = max(run["peak_rss_mib_per_worker"]) / 1024
        cells = []
        for cores in CLUSTER_CORES:
            wall_min = (
                ZHEJIANG_PARKS * per_park / cores + scheduler_s + run["cluster_startup_s"]
            ) / 60
            cells.append(f"{wall_min:.0f} | {cores * peak_gb:.0f}")
        label = f"{workers} worker{'s' if workers > 1 else ''}"
        lines.append(f"| {label}: wall × workers / parks | {per_park:.2f} | {' | '.join(cells)} |")
        cpu_per_park = run["task_cpu_s_total"] / run["parks"]
        cells = [
            f"{ZHEJIANG_PARKS * cpu_per_park / cores / 60:.0f} | {cores * peak_gb:.0f}"
            for cores in CLUSTER_CORES
        ]
        lines.append(
            f"| {label}: task CPU / park (no overhead, a lower bound) | {cpu_per_park:.2f} | "
            f"{' | '.join(cells)} |"
        )
    return lines


def _idle_per_task_ms(run: dict[str, Any]) -> float:
    """Worker time not spent in a park's task, per park: (wall × workers − Σ task wall) / parks.

    Scheduling, result transfer and, with several workers, the tail where one worker finishes
    the last park while the others wait.
    """
    per_park = run.get("per_park")
    if not per_park:
        return float("nan")
    workers = 1 if run["workers"] == "serial" else int(run["workers"])
    busy = sum(p["seconds"] for p in per_park)
    return 1000 * (run["wall_s"] * workers - busy) / run["parks"]


def _survey_split_lines(runs: list[dict[str, Any]], survey_parks: set[str]) -> list[str]:
    """Task CPU per park with and without a survey (the intent model runs only with one)."""
    lines = []
    for run in runs:
        per_park = run.get("per_park") or []
        split = {
            label: [p["cpu_seconds"] for p in per_park if (p["park_id"] in survey_parks) == has]
            for label, has in (("with a survey", True), ("without", False))
        }
        if not all(split.values()):
            continue
        lines.append(
            f"- {run['workers']}: task CPU s per park, median / mean — "
            + "; ".join(
                f"{label} ({len(v)}): {statistics.median(v):.2f} / {statistics.fmean(v):.2f}"
                for label, v in split.items()
            )
        )
    return lines


def table(result: dict[str, Any]) -> str:
    """The Markdown table of every run in ``result`` (first run = speed-up baseline)."""
    runs = result["runs"]
    corpus = result["corpus"]
    lines = [
        f"Corpus: {corpus['parks']} parks, scale {corpus['scale']}, seed {corpus['seed']}, "
        f"{len(corpus['survey_parks'])} with a survey ({corpus['folder']}, sha256 "
        f"{corpus['sha256'][:12]}).",
        "",
        "| workers | started | policy | parks | failed | wall s | CPU s (process tree) | "
        "task CPU s (median / total) | parks/min | speed-up vs first row (wall) | "
        "task wall s (median / max) | peak MiB per worker | start-up s | no-op round trip ms | "
        "no-op in bulk ms | idle per task ms | load avg before (1/5/15 min) | "
        "load avg during (mean / max) |",
        "| --- " * 18 + "|",
    ]
    base = runs[0]["wall_s"] if runs else float("nan")
    for run in runs:
        peaks = ", ".join(f"{p:.0f}" for p in run["peak_rss_mib_per_worker"])
        dask_only = (
            f"{run['cluster_startup_s']:.1f} | {run['round_trip_ms_median']:.1f} | "
            f"{run['per_task_ms_in_bulk']:.2f}"
            if "cluster_startup_s" in run
            else "– | – | –"
        )
        during = run.get("load_during") or [float("nan")]
        idle = _idle_per_task_ms(run)
        lines.append(
            f"| {run['workers']} | {run.get('started', '?')} | {run.get('policy', '?')} | "
            f"{run['parks']} | {len(run['failed'])} | "
            f"{run['wall_s']:.1f} | {run['tree_cpu_s']:.0f} | "
            f"{run['task_cpu_s_median']:.2f} / {run['task_cpu_s_total']:.0f} | "
            f"{run['parks_per_minute']:.1f} | {base / run['wall_s']:.2f} | "
            f"{run['task_s_median']:.1f} / {run['task_s_max']:.1f} | {peaks} | {dask_only} | "
            f"{idle:.1f} | "
            + " / ".join(f"{x:.1f}" for x in run["load_before"])
            + f" | {_mean(during):.1f} / {max(during):.1f} |"
        )
    lines += ["", *_survey_split_lines(runs, set(corpus["survey_parks"]))]
    demo = result.get("demo_park")
    if demo:
        lines += [
            "",
            f"Demo park (geodata/jinshan) scored alone in one process ({demo.get('policy', '?')},"
            f" {demo.get('started', '?')}): {demo['seconds']:.1f} s wall, "
            f"{demo['cpu_seconds']:.1f} s CPU, peak {demo['peak_rss_mib']:.0f} MiB.",
        ]
    lines += ["", *_estimate_lines(runs)]
    return "\n".join(lines) + "\n"


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=150, help="parks in the corpus")
    parser.add_argument(
        "--runs",
        default="serial,1,2,demo-park",
        help="comma-separated: serial, a worker count, demo-park (one invocation per "
        "configuration keeps each under the benchmark lock's time limit)",
    )
    parser.add_argument("--corpus", type=Path, help="corpus folder (built if it has too few)")
    parser.add_argument("--scale", choices=("mixed", "demo"), default="demo")
    parser.add_argument("--seed", type=int, default=20260312)
    parser.add_argument("--name", default="batch", help="results file stem")
    parser.add_argument("--fresh", action="store_true", help="start a new results file")
    parser.add_argument("--keep-out", type=Path, help="keep each run's output in DIR/<run>/out")
    parser.add_argument("--table", action="store_true", help="only rewrite the Markdown table")
    args = parser.parse_args()
    json_path, md_path = RESULTS / f"{args.name}.json", RESULTS / f"{args.name}.md"
    if args.table:
        md_path.write_text(table(json.loads(json_path.read_text(encoding="utf-8"))), "utf-8")
        print(md_path.read_text(encoding="utf-8"))
        return 0
    from geodata.build_corpus import build_corpus

    corpus = args.corpus or Path(tempfile.mkdtemp(prefix="parklife-corpus-"))
    started = time.perf_counter()
    ids = sorted(p.parent.name for p in corpus.glob("*/park.json"))[: args.n]
    if len(ids) < args.n:
        ids = build_corpus(corpus, args.n, seed=args.seed, survey_share=0.5, scale=args.scale)
    build_s = time.perf_counter() - started
    runs, demo = [], None
    for name in args.runs.split(","):
        keep = args.keep_out / name if args.keep_out else None
        if keep:
            keep.mkdir(parents=True, exist_ok=True)
        if name == "serial":
            runs.append(run_serial(corpus, ids, keep=keep))
        elif name == "demo-park":
            demo = demo_park_cost()
        elif name.isdigit() and int(name) >= 1:
            runs.append(run_workers(corpus, ids, int(name), keep=keep))
        else:
            parser.error(f"--runs: expected serial, a worker count or demo-park, got {name!r}")
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "commit": _commit(),
        },
        "corpus": {**_corpus_signature(corpus, ids), "build_or_read_s": build_s},
        "runs": runs,
        "demo_park": demo,
    }
    result = _merge(json_path, result, fresh=args.fresh)
    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    md_path.write_text(table(result), encoding="utf-8")
    print(md_path.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
