"""Timing, peak-memory and agreement utilities for the benchmark harness.

Timings use ``time.perf_counter``; each implementation is run ``repeats`` times and summarised by
its best and median run. Peak memory is the resident-set high-water mark (``VmHWM`` on Linux,
see :func:`peak_rss_mb`) of a fresh worker process that runs one implementation of one case, so
peaks of different implementations never mix.
"""

from __future__ import annotations

import gc
import platform
import resource
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

Answer = dict[str, np.ndarray]

# Answer keys with this prefix carry a stage's seconds (end-to-end cases), not a result to compare.
STAGE_PREFIX = "stage_seconds:"


@dataclass
class RepeatTimes:
    """Seconds of each repeat, split into the build step and the query step."""

    build_seconds: list[float] = field(default_factory=list)
    query_seconds: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Return best/median of build, query and their sum, plus every raw value."""
        totals = [b + q for b, q in zip(self.build_seconds, self.query_seconds, strict=True)]
        return {
            "build_s": _stats(self.build_seconds),
            "query_s": _stats(self.query_seconds),
            "total_s": _stats(totals),
        }


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"best": None, "median": None, "runs": []}
    return {
        "best": min(values),
        "median": statistics.median(values),
        "runs": [round(v, 6) for v in values],
    }


def time_repeats(
    build: Callable[[], Any],
    query: Callable[[Any], Answer],
    *,
    repeats: int,
    fresh_build_each_repeat: bool,
) -> tuple[Answer, RepeatTimes]:
    """Run ``build`` then ``query`` ``repeats`` times and return the last answer and the times.

    Assumptions: when ``fresh_build_each_repeat`` is False the built object is made once, timed
    once, and the same build time is recorded for every repeat (build-once/query-many); queries
    must not depend on call history, which the harness checks by comparing the first and last
    answers.
    """
    times = RepeatTimes()
    built: Any = None
    build_seconds = 0.0
    first: Answer | None = None
    answer: Answer = {}
    for repeat in range(repeats):
        if fresh_build_each_repeat or repeat == 0:
            built = None
            gc.collect()
            start = time.perf_counter()
            built = build()
            build_seconds = time.perf_counter() - start
        gc.collect()
        start = time.perf_counter()
        answer = query(built)
        times.query_seconds.append(time.perf_counter() - start)
        times.build_seconds.append(build_seconds)
        if first is None:
            first = answer
    if first is not None and repeats > 1:
        drift = max_abs_difference(first, answer)
        if drift["max_abs_diff"] != 0.0 or not drift["same_reachability"]:
            raise RuntimeError(f"answers changed between repeats: {drift}")
    return answer, times


def peak_rss_mb() -> float:
    """Return this process's peak resident set size in MiB.

    On Linux this is ``VmHWM`` of ``/proc/self/status``: the high-water mark of this process's
    own address space. ``ru_maxrss`` is not used there because Linux carries it across
    fork + exec, so a worker would inherit its (large) parent's resident size as its "peak".
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is KiB on Linux and bytes on macOS.
    return peak / 1024.0 if platform.system() == "Linux" else peak / 1024.0 / 1024.0


def max_abs_difference(reference: Answer, other: Answer) -> dict[str, Any]:
    """Compare two answers key by key.

    Returns the largest absolute difference over entries finite in both, and whether both agree
    on which entries are unreachable (``inf``) — a cut-off handled differently shows up there
    rather than as a huge difference.
    """
    reference = {k: v for k, v in reference.items() if not k.startswith(STAGE_PREFIX)}
    other = {k: v for k, v in other.items() if not k.startswith(STAGE_PREFIX)}
    if set(reference) != set(other):
        return {
            "max_abs_diff": float("inf"),
            "same_reachability": False,
            "mismatched_entries": -1,
            "note": f"keys differ: {sorted(set(reference) ^ set(other))}",
        }
    worst = 0.0
    same = True
    mismatched = 0
    for key in reference:
        a = np.asarray(reference[key], dtype=np.float64)
        b = np.asarray(other[key], dtype=np.float64)
        if a.shape != b.shape:
            return {
                "max_abs_diff": float("inf"),
                "same_reachability": False,
                "mismatched_entries": -1,
                "note": f"shape of {key!r} differs: {a.shape} vs {b.shape}",
            }
        finite_a, finite_b = np.isfinite(a), np.isfinite(b)
        disagree = finite_a != finite_b
        mismatched += int(disagree.sum())
        same = same and not disagree.any()
        both = finite_a & finite_b
        if both.any():
            worst = max(worst, float(np.max(np.abs(a[both] - b[both]))))
    return {"max_abs_diff": worst, "same_reachability": same, "mismatched_entries": mismatched}


def save_answer(answer: Mapping[str, np.ndarray], path: Path) -> None:
    """Write an answer to ``path`` (``.npz``)."""
    np.savez(path, **{key: np.asarray(value) for key, value in answer.items()})


def load_answer(path: Path) -> Answer:
    """Read an answer written by :func:`save_answer`."""
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def machine_facts() -> dict[str, Any]:
    """Return the facts a reader needs to compare runs: cores, CPU model, memory, Python."""
    import os

    cpu_model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_total_gib = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    return {
        "nproc": os.cpu_count(),
        "sched_affinity_cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else None,
        "cpu_model": cpu_model,
        "mem_total_gib": mem_total_gib,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
