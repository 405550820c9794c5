"""Province scale: score many parks in one batch on Dask, one task per park.

``run_batch(park_ids, out_dir=..., data_dir=..., geodata_dir=...)`` scores each park through the
UI-free pipeline (``retention.pipeline``: park inputs, travel times, indicators and gap index of
the evening window, the survey model and expected leavers where a survey exists) on a local
cluster of worker processes or a running scheduler, writes each park's results atomically under
its run key digest (so a second run skips what is done), reports a failed park with its error
without stopping the others, and writes one summary table. The ``parklife batch`` command is its
front end.
"""

from __future__ import annotations

from retention.batch.park_task import (
    BATCH_WINDOW,
    LEISURE_CATEGORIES,
    PLACES,
    SUMMARY_MODE,
    ParkOutcome,
    park_summary,
    read_summary,
    result_dir,
    score_park,
    summary_frame,
)
from retention.batch.run import (
    BatchReport,
    SchedulerError,
    batch_runs,
    read_summary_table,
    run_batch,
    write_summary,
)

__all__ = [
    "BATCH_WINDOW",
    "LEISURE_CATEGORIES",
    "PLACES",
    "SUMMARY_MODE",
    "BatchReport",
    "ParkOutcome",
    "SchedulerError",
    "batch_runs",
    "park_summary",
    "read_summary",
    "read_summary_table",
    "result_dir",
    "run_batch",
    "score_park",
    "summary_frame",
    "write_summary",
]
