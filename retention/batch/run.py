"""Score many parks on Dask's ``distributed`` scheduler, one task per park.

By default a ``dask.distributed.LocalCluster`` of worker processes with one thread each starts
(so a worker holds one park at a time) and stops when the batch ends; with ``scheduler`` the
tasks go to a running scheduler (``tcp://host:port``) and its workers — start them with
``dask worker tcp://host:port --nthreads 1`` so that they too hold one park at a time, and give
them the same repository, ``geodata`` and data folders (the paths are sent as they are).

Results are written by the workers, per park, under ``out_dir`` (``retention.batch.park_task``);
what comes back to this process is each park's small summary row. The summary table of every
park of the batch is written at the end as ``summary.parquet`` and formula-safe ``summary.csv``.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from retention.batch.park_task import BATCH_WINDOW, ParkOutcome, score_park, summary_frame
from retention.errors import ParkLifeError
from retention.safe_cells import csv_bytes

if TYPE_CHECKING:
    from dask.distributed import LocalCluster

SUMMARY_PARQUET = "summary.parquet"
SUMMARY_CSV = "summary.csv"


class SchedulerError(ParkLifeError):
    """The Dask scheduler named by an address cannot be reached."""


@dataclass(frozen=True)
class BatchReport:
    """What a batch did.

    Attributes
    ----------
    outcomes
        One :class:`ParkOutcome` per park, in the order the parks were given.
    summary
        ``summary_frame(outcomes)``: one row per park.
    summary_path
        Where the summary table was written (Parquet; a CSV beside it).
    workers
        Number of workers the batch ran on.
    """

    outcomes: tuple[ParkOutcome, ...]
    summary: pd.DataFrame
    summary_path: Path
    workers: int

    def count(self, status: str) -> int:
        """Return how many parks ended with ``status`` (scored, skipped, failed)."""
        return sum(outcome.status == status for outcome in self.outcomes)


Progress = Callable[[ParkOutcome], None]


def local_cluster(workers: int) -> LocalCluster:
    """Start the batch's ``LocalCluster``: ``workers`` processes of one thread each.

    One thread per worker process, so a worker holds one park at a time; the dashboard on a
    free port, so it never clashes with another cluster on 8787. The caller closes it.
    """
    from dask.distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
        # Street searches use every core of the process by default; a worker that is one
        # process of several keeps to one thread.
        env={"PARKLIFE_SEARCH_THREADS": "1"},
    )


def run_batch(
    park_ids: Sequence[str],
    *,
    out_dir: Path,
    data_dir: Path,
    geodata_dir: Path | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    window: str = BATCH_WINDOW,
    on_park: Progress | None = None,
) -> BatchReport:
    """Score ``park_ids`` on Dask, one task per park; resume where results exist.

    Parameters
    ----------
    park_ids
        The parks (duplicates are scored once).
    out_dir
        Output folder (created): ``parks/<park>/<run key digest>/`` per park, ``summary.*``.
    data_dir
        The ParkLife data directory (uploads, saved parameters, survey salts).
    geodata_dir
        Where the parks' folders live (default ``<repo>/geodata``).
    scheduler
        Address of a running Dask scheduler; ``None`` starts a local cluster of processes.
    workers
        Worker processes of the local cluster (ignored with ``scheduler``).
    window
        Time window to score.
    on_park
        Called in this process with each park's outcome as it arrives (a progress bar).

    Raises
    ------
    SchedulerError
        When ``scheduler`` cannot be reached.
    ValueError
        When ``workers`` is below 1 or there are no parks.
    """
    from dask.distributed import Client, as_completed

    ids = list(dict.fromkeys(park_ids))
    if not ids:
        raise ValueError("no parks to score; expected at least one park id")
    if workers < 1:
        raise ValueError(f"expected at least 1 worker, got {workers}")
    out_dir.mkdir(parents=True, exist_ok=True)
    cluster = None
    if scheduler is None:
        cluster = local_cluster(workers)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as error:
            raise SchedulerError(
                f"cannot reach the Dask scheduler at {scheduler!r}: {error}; expected the "
                "address of a running scheduler (tcp://host:port)"
            ) from None
    try:
        n_workers = len(client.scheduler_info(n_workers=-1)["workers"])
        futures = {
            client.submit(
                score_park,
                park_id,
                out_dir=out_dir,
                data_dir=data_dir,
                geodata_dir=geodata_dir,
                window=window,
                key=f"park-{park_id}-{uuid.uuid4().hex[:8]}",
                pure=False,
            ): park_id
            for park_id in ids
        }
        by_park: dict[str, ParkOutcome] = {}
        for future in as_completed(futures):
            park_id = futures[future]
            if future.status == "error":
                # The task itself never raises; this is the worker dying (KilledWorker, memory).
                lost = future.exception()
                outcome = ParkOutcome(park_id, "failed", error=f"{type(lost).__name__}: {lost}")
            else:
                outcome = future.result()
            by_park[park_id] = outcome
            future.release()
            if on_park is not None:
                on_park(outcome)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    outcomes = tuple(by_park[park_id] for park_id in ids)
    summary = summary_frame(list(outcomes))
    path = write_summary(summary, out_dir)
    return BatchReport(outcomes, summary, path, n_workers)


def write_summary(summary: pd.DataFrame, out_dir: Path) -> Path:
    """Write the summary as Parquet and formula-safe CSV (atomically); return the Parquet path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = replace_file(out_dir / SUMMARY_PARQUET, lambda tmp: summary.to_parquet(tmp, index=False))
    replace_file(out_dir / SUMMARY_CSV, lambda tmp: tmp.write_bytes(csv_bytes(summary)))
    return path


def replace_file(target: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(temporary path)`` beside ``target`` and rename it over ``target``.

    The temporary name keeps the suffix (GDAL picks its driver from it) and is removed if
    writing fails, so a reader sees the old file or the new one, never half of one.
    """
    tmp = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:8]}.tmp{target.suffix}")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def batch_runs(root: Path) -> list[Path]:
    """Return the batch output folders directly under ``root`` (those with a summary), by name."""
    if not root.is_dir():
        return []
    return sorted(p.parent for p in root.glob(f"*/{SUMMARY_PARQUET}"))


def read_summary_table(out_dir: Path) -> pd.DataFrame:
    """Return the summary table a batch wrote into ``out_dir``."""
    return pd.read_parquet(out_dir / SUMMARY_PARQUET)
