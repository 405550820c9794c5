"""Run the ParkLife benchmarks side by side and write ``results/latest.json`` and ``latest.md``.

Usage (from the repository root)::

    .venv/bin/python benchmarks/run.py                 # the full run (README table), ~10 min
    .venv/bin/python benchmarks/run.py --scale smoke   # a tiny park, seconds (used by a test)
    .venv/bin/python benchmarks/run.py --cases c,e     # some cases only

Each implementation of each case runs in a fresh worker process (``--worker``), so its peak
memory is its own; answers are written to disk and compared with the engine's by the parent.
Timings are reported as ratios against peers measured in the same run; nothing here asserts a
time. ``--in-process`` runs everything in this process instead (faster start, no memory peaks).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
# The script is run by path; its siblings and the repository (for ``retention``) are importable.
for _path in (str(BENCH_DIR), str(REPO_ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import cases as case_defs  # noqa: E402
import measure  # noqa: E402
import report  # noqa: E402

WORKER_TIMEOUT_SECONDS = 900


def _run_worker(args: argparse.Namespace) -> int:
    """Run one implementation of one case; write its timings and answer to disk."""
    case = case_defs.get_case(args.case)
    impl = case.implementation(args.impl)
    with open(args.inputs, "rb") as handle:
        inputs = pickle.load(handle)
    record = run_implementation(case, impl, inputs, repeats=args.repeats)
    if "answer" in record:
        measure.save_answer(record.pop("answer"), Path(args.answer))
    record["peak_rss_mb"] = round(measure.peak_rss_mb(), 1)
    Path(args.result).write_text(json.dumps(record))
    return 0


def run_implementation(
    case: case_defs.Case, impl: case_defs.Implementation, inputs: Any, *, repeats: int
) -> dict[str, Any]:
    """Time one implementation; return its record (with the answer under ``"answer"``)."""
    missing = impl.missing_requirement()
    if missing:
        return {"status": "unavailable", "reason": missing}
    n_repeats = max(1, min(repeats, impl.max_repeats or repeats))
    answer, times = measure.time_repeats(
        lambda: impl.build(inputs),
        lambda built: impl.query(built, inputs),
        repeats=n_repeats,
        fresh_build_each_repeat=impl.fresh_build_each_repeat,
    )
    stages = {
        key.removeprefix(measure.STAGE_PREFIX): float(value)
        for key, value in answer.items()
        if key.startswith(measure.STAGE_PREFIX)
    }
    return {
        "status": "ok",
        "repeats": n_repeats,
        "fresh_build_each_repeat": impl.fresh_build_each_repeat,
        **times.summary(),
        "stages_s_last_repeat": stages,
        "answer": answer,
    }


def _spawn_worker(
    case: case_defs.Case,
    impl: case_defs.Implementation,
    inputs_path: Path,
    workdir: Path,
    *,
    repeats: int,
) -> tuple[dict[str, Any], measure.Answer | None]:
    stem = f"{case.case_id}-{impl.name}"
    result_path = workdir / f"{stem}.json"
    answer_path = workdir / f"{stem}.npz"
    log_path = workdir / f"{stem}.log"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--case",
        case.case_id,
        "--impl",
        impl.name,
        "--inputs",
        str(inputs_path),
        "--repeats",
        str(repeats),
        "--result",
        str(result_path),
        "--answer",
        str(answer_path),
    ]
    start = time.perf_counter()
    with open(log_path, "wb") as log:
        try:
            completed = subprocess.run(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT,
                timeout=WORKER_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {
                "status": "failed",
                "reason": f"timed out after {WORKER_TIMEOUT_SECONDS} s",
            }, None
    wall = time.perf_counter() - start
    if completed.returncode != 0 or not result_path.exists():
        tail = log_path.read_text(errors="replace")[-2000:]
        return {"status": "failed", "reason": f"exit {completed.returncode}: {tail}"}, None
    record = json.loads(result_path.read_text())
    record["worker_wall_s"] = round(wall, 2)
    answer = measure.load_answer(answer_path) if answer_path.exists() else None
    return record, answer


def _run_in_process(
    case: case_defs.Case, impl: case_defs.Implementation, inputs: Any, *, repeats: int
) -> tuple[dict[str, Any], measure.Answer | None]:
    try:
        record = run_implementation(case, impl, inputs, repeats=repeats)
    except Exception:  # a failed peer is reported in the table, the other cases still run
        return {"status": "failed", "reason": traceback.format_exc()[-2000:]}, None
    answer = record.pop("answer", None)
    record["peak_rss_mb"] = None
    return record, answer


def run_case(
    case: case_defs.Case,
    scale: str,
    workdir: Path,
    *,
    repeats: int,
    in_process: bool,
    log: Any,
) -> dict[str, Any]:
    """Prepare one case's inputs, run every implementation, compare answers, compute ratios."""
    start = time.perf_counter()
    try:
        inputs = case.prepare(scale)
    except Exception:  # the case is reported as failed; the remaining cases still run
        return {
            "id": case.case_id,
            "title": case.title,
            "status": "failed",
            "reason": traceback.format_exc()[-3000:],
        }
    prepare_seconds = time.perf_counter() - start
    inputs_path = workdir / f"{case.case_id}-inputs.pkl"
    with open(inputs_path, "wb") as handle:
        pickle.dump(inputs, handle, protocol=pickle.HIGHEST_PROTOCOL)
    records: dict[str, dict[str, Any]] = {}
    answers: dict[str, measure.Answer] = {}
    for impl in case.implementations:
        print(f"[bench] case {case.case_id}: {impl.name} ...", file=log, flush=True)
        if in_process:
            record, answer = _run_in_process(case, impl, inputs, repeats=repeats)
        else:
            record, answer = _spawn_worker(case, impl, inputs_path, workdir, repeats=repeats)
        record["label"] = impl.label
        records[impl.name] = record
        if answer is not None:
            answers[impl.name] = answer
        print(f"[bench]   {report.one_line(record)}", file=log, flush=True)
    agreement = case.compare(answers, inputs)
    for name, verdict in agreement.items():
        records[name]["agreement"] = verdict
    return {
        "id": case.case_id,
        "title": case.title,
        "status": "ok",
        "prepare_s": round(prepare_seconds, 3),
        "sizes": case.describe(inputs),
        "notes": list(case.notes),
        "reference": case.implementations[0].name,
        "implementations": records,
        "all_agree": all(v["agrees"] for v in agreement.values()),
        "targets": case.evaluate_targets(records),
    }


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    names = ["numpy", "scipy", "pandas", "networkx", "igraph", "pandana", "access", "geopandas"]
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    versions["parklife_commit"] = commit or None
    return versions


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the benchmarks (or one worker)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=case_defs.SCALES, default="full")
    parser.add_argument("--cases", default=",".join(case_defs.CASE_IDS))
    parser.add_argument("--repeats", type=int, default=None, help="repeats per implementation")
    parser.add_argument("--output-dir", type=Path, default=BENCH_DIR / "results")
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--impl", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--answer", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _run_worker(args)

    selected = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = sorted(set(selected) - set(case_defs.CASE_IDS))
    if unknown:
        parser.error(f"unknown case(s) {unknown}; choose from {list(case_defs.CASE_IDS)}")
    repeats = args.repeats or case_defs.DEFAULT_REPEATS[args.scale]
    started = dt.datetime.now(dt.UTC)
    # Other work on a shared machine slows every implementation; the load average says how much.
    load_before = os.getloadavg()
    wall_start = time.perf_counter()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="parklife-bench-") as tmp:
        for case_id in selected:
            case = case_defs.get_case(case_id)
            print(f"[bench] case {case_id}: {case.title} (scale {args.scale})", flush=True)
            results.append(
                run_case(
                    case,
                    args.scale,
                    Path(tmp),
                    repeats=repeats,
                    in_process=args.in_process,
                    log=sys.stdout,
                )
            )
    document = {
        "schema": 1,
        "started_utc": started.isoformat(timespec="seconds"),
        "wall_s": round(time.perf_counter() - wall_start, 1),
        "scale": args.scale,
        "repeats": repeats,
        "isolation": "in-process" if args.in_process else "one worker process per implementation",
        "command": "benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": {
            **measure.machine_facts(),
            "load_average_1min_start_end": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        },
        "versions": _versions(),
        "cases": results,
    }
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "latest.json").write_text(json.dumps(document, indent=2) + "\n")
    table = report.markdown(document)
    (args.output_dir / "latest.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
