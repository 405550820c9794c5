"""Smoke test of the benchmark harness: it runs on a tiny park and every implementation agrees.

Nothing here looks at timings (DESIGN.md: performance is reported as ratios, never asserted).
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
RUN_SCRIPT = REPO_ROOT / "benchmarks" / "run.py"
CASES = ("a", "b", "b2", "c1", "c2", "d", "e")
PANDANA_IMPORT = re.compile(r"^\s*(import|from)\s+pandana\b", re.MULTILINE)


def _run(output_dir: Path, *extra: str) -> dict:
    completed = subprocess.run(
        [
            sys.executable,
            str(RUN_SCRIPT),
            "--scale",
            "smoke",
            "--output-dir",
            str(output_dir),
            *extra,
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return json.loads((output_dir / "latest.json").read_text())


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    output_dir = tmp_path_factory.mktemp("bench")
    return _run(output_dir, "--in-process"), output_dir


@pytest.mark.slow
def test_every_case_runs_and_reports_its_structure(smoke_results: tuple[dict, Path]) -> None:
    document, output_dir = smoke_results
    assert document["scale"] == "smoke"
    assert {"nproc", "cpu_model", "mem_total_gib"} <= set(document["machine"])
    assert [case["id"] for case in document["cases"]] == list(CASES)
    for case in document["cases"]:
        assert case["status"] == "ok", case.get("reason")
        assert case["reference"] == "engine"
        for name, record in case["implementations"].items():
            # pandana is a benchmark-only dependency (AGPL): absent outside the bench venv.
            allowed = {"ok", "unavailable"} if name == "pandana" else {"ok"}
            assert record["status"] in allowed, (case["id"], name, record.get("reason"))
            if record["status"] == "ok":
                assert record["query_s"]["median"] >= 0
                assert len(record["query_s"]["runs"]) == record["repeats"]
        assert case["targets"], case["id"]
    table = (output_dir / "latest.md").read_text()
    assert "### Targets (issue 3)" in table
    assert "| (c2) | ≥ 15× faster than networkx (query)" in table


@pytest.mark.slow
def test_all_implementations_agree_with_the_engine(smoke_results: tuple[dict, Path]) -> None:
    document, _ = smoke_results
    compared = 0
    for case in document["cases"]:
        assert case["all_agree"], case["id"]
        for name, record in case["implementations"].items():
            if name == case["reference"] or record["status"] != "ok":
                continue
            verdict = record["agreement"]
            assert verdict["agrees"], (case["id"], name, verdict)
            assert verdict["same_reachability"], (case["id"], name)
            assert verdict["max_abs_diff"] <= verdict["tolerance"]
            compared += 1
    # c1: scipy, igraph; c2: + networkx; d: networkx (+ pandana where the bench requirements
    # are installed; CI has only the product's); e: PySAL.
    pandana_installed = importlib.util.find_spec("pandana") is not None
    assert compared >= 7 + pandana_installed


@pytest.mark.slow
def test_worker_processes_report_their_own_peak_memory(tmp_path: Path) -> None:
    document = _run(tmp_path, "--cases", "e")
    (case,) = document["cases"]
    for record in case["implementations"].values():
        assert record["status"] == "ok"
        assert record["peak_rss_mb"] > 0
    assert case["all_agree"]


def _measure_module():
    spec = importlib.util.spec_from_file_location(
        "bench_measure", REPO_ROOT / "benchmarks" / "measure.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def test_agreement_check_catches_wrong_values_and_wrong_reachability() -> None:
    measure = _measure_module()
    reference = {"minutes": np.array([[1.0, np.inf], [2.5, 4.0]])}
    assert measure.max_abs_difference(reference, reference)["max_abs_diff"] == 0.0
    off = measure.max_abs_difference(reference, {"minutes": np.array([[1.0, np.inf], [2.5, 4.5]])})
    assert off["max_abs_diff"] == pytest.approx(0.5)
    assert off["same_reachability"]
    cut = measure.max_abs_difference(reference, {"minutes": np.array([[1.0, 9.0], [2.5, 4.0]])})
    assert not cut["same_reachability"]
    assert cut["mismatched_entries"] == 1
    # Stage timings ride along in answers but are never compared.
    timed = {**reference, measure.STAGE_PREFIX + "build": np.asarray(3.0)}
    assert measure.max_abs_difference(reference, timed)["max_abs_diff"] == 0.0


def test_pandana_stays_a_benchmark_peer() -> None:
    # pandana is AGPL (DESIGN.md, known traps): only benchmarks/ may import or require it.
    product = [REPO_ROOT / "app.py", *REPO_ROOT.glob("retention/**/*.py")]
    product += [*REPO_ROOT.glob("pages/**/*.py"), *REPO_ROOT.glob("ui/**/*.py")]
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in product
        if path.exists() and PANDANA_IMPORT.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    for requirements in ("requirements.txt", "requirements-dev.txt"):
        lines = (REPO_ROOT / requirements).read_text(encoding="utf-8").lower().splitlines()
        assert not any(line.strip().startswith("pandana") for line in lines), requirements
    bench = (REPO_ROOT / "benchmarks" / "requirements-bench.txt").read_text(encoding="utf-8")
    assert "pandana==0.8" in bench.splitlines()
