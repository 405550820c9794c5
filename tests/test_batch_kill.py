"""Killing ``parklife batch`` midway and starting it again (issue 14's resume test).

``parklife batch`` runs as its own process (a real ``LocalCluster`` of two worker processes)
on five tiny synthetic parks. As soon as the first park's result appears in the output folder
the whole process group is killed with SIGKILL — the command, its scheduler and its workers, no
clean-up of any kind. The same command is run again: it must score only the parks whose results
are missing, skip the others, and end with results identical to scoring every park in one go.
The second run also gathers the results as a GeoPackage and into the store
(``--format gpkg,store``), which must hold all five parks once.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from geodata.build_corpus import build_corpus
from retention.batch import PLACES, read_summary_table, result_dir, score_park
from retention.batch.export import stored_digests
from retention.cli import main
from retention.cli._command import ExitCode
from retention.storage.store import FileStore

REPO = Path(__file__).resolve().parent.parent
PARKS = 5
FIRST_RESULT_WAIT_S = 600.0  # a generous limit on a loaded machine, not a timed assertion


def _finished(out: Path) -> set[str]:
    """Parks with a complete result on disk (temporary folders start with a dot)."""
    return {
        path.parent.parent.name
        for path in out.glob("parks/*/*/summary.json")
        if not path.parent.name.startswith(".")
    }


def _start_batch(corpus: Path, out: Path, data: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PARKLIFE_DATABASE_URL", None)
    command = [
        sys.executable, "-m", "retention", "--lang", "en", "--data-dir", str(data),
        "batch", "--parks", str(corpus), "--out", str(out), "--workers", "2",
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill reaches every worker
    )


def _kill_after_first_result(process: subprocess.Popen[bytes], out: Path) -> set[str]:
    deadline = time.monotonic() + FIRST_RESULT_WAIT_S
    try:
        while not _finished(out):
            if process.poll() is not None:
                pytest.fail(f"parklife batch ended ({process.returncode}) before any result")
            if time.monotonic() > deadline:
                pytest.fail("no park finished; the batch did not get going")
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    _wait_until_group_gone(process.pid)
    return _finished(out)


def _running_in_group(group: int) -> list[int]:
    """Process ids of the group that are still running (zombies awaiting a reaper are not)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z":
            running.append(int(stat.parent.name))
    return running


def _wait_until_group_gone(group: int) -> None:
    """Wait until no process of the killed group is left running (workers included)."""
    deadline = time.monotonic() + 60.0
    while _running_in_group(group):
        if time.monotonic() > deadline:
            pytest.fail(f"processes {_running_in_group(group)} of the killed batch still run")
        time.sleep(0.1)


@pytest.mark.slow
def test_killed_batch_resumes_with_only_the_missing_parks(tmp_path: Path) -> None:
    corpus, out, data = tmp_path / "corpus", tmp_path / "out", tmp_path / "data"
    ids = build_corpus(corpus, PARKS, seed=5, survey_share=0.0)

    done_at_kill = _kill_after_first_result(_start_batch(corpus, out, data), out)
    assert 1 <= len(done_at_kill) < PARKS, done_at_kill
    assert not (out / "summary.parquet").exists()  # the batch never got to its end

    stdout, stderr = io.StringIO(), io.StringIO()
    again = [
        "--lang", "en", "--data-dir", str(data), "batch", "--parks", str(corpus),
        "--out", str(out), "--workers", "2", "--format", "gpkg,store",
    ]  # fmt: skip
    code = main(
        again,
        stdout=stdout,
        stderr=stderr,
        environ={},
    )
    assert code == ExitCode.OK, stderr.getvalue()
    missing = PARKS - len(done_at_kill)
    assert (
        f"{PARKS} parks on 2 workers: {missing} scored, {len(done_at_kill)} already done, 0 failed"
        in (stdout.getvalue())
    )
    summary = read_summary_table(out).set_index("park_id")
    statuses = summary["status"].to_dict()
    assert statuses == {p: ("skipped" if p in done_at_kill else "scored") for p in ids}

    # Identical to scoring every park in one go (each park alone, uninterrupted).
    once = tmp_path / "once"
    for park_id in ids:
        alone = score_park(park_id, out_dir=once, data_dir=data, geodata_dir=corpus)
        assert alone.status == "scored", alone.error
        assert alone.digest == summary.loc[park_id, "run_key"]
        resumed = result_dir(out, park_id, alone.digest)
        fresh = result_dir(once, park_id, alone.digest)
        for place in PLACES:
            got = gpd.read_parquet(resumed / f"{place}.parquet")
            want = gpd.read_parquet(fresh / f"{place}.parquet")
            pd.testing.assert_frame_equal(
                pd.DataFrame(got).drop(columns="geometry"),
                pd.DataFrame(want).drop(columns="geometry"),
            )
            assert got.geometry.geom_equals_exact(want.geometry, tolerance=0).all()
        for name, value in alone.summary.items():
            if name == "park_id":
                continue
            stored = summary.loc[park_id, name]
            assert stored == value or (pd.isna(stored) and pd.isna(value)), (park_id, name)

    # --format gpkg,store: every park once, including those finished before the kill.
    parks_layer = pyogrio.read_dataframe(out / "results.gpkg", layer="parks")
    assert sorted(parks_layer["park_id"]) == sorted(ids)
    store = FileStore(data)
    assert {p: len(stored_digests(store, p)) for p in ids} == dict.fromkeys(ids, 1)
