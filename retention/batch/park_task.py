"""One park of a batch: score it through the pipeline and write its results atomically.

A park's results live in ``<out>/parks/<park_id>/<run key digest>/``:

- ``residences.parquet``, ``enterprises.parquet``, ``h3_cells.parquet``, ``zones.parquet``:
  GeoParquet, the tables of ``retention.pipeline.score_tables`` for the batch window (every mode,
  equal gap weights, the park's saved parameters) — the numbers ``parklife score`` writes;
- ``park.parquet``: the park's geometry (one row: its outline, or the convex hull of its
  enterprises where it has no park-level zone), for the GeoPackage's ``parks`` layer;
- ``summary.json``: the park's row of the batch summary (:func:`park_summary`).

The folder is written under a temporary name and renamed when complete, so a killed run leaves
either a whole result or none; a folder that exists means "already scored for this run key".
"""

from __future__ import annotations

import json
import math
import os
import resource
import shutil
import sys
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from retention.access.gaps import finite_weighted_mean
from retention.access.travel_times import TravelTimeResult
from retention.data.layers import LayerKind
from retention.errors import ParkLifeError
from retention.model.leavers import leavers_by_enterprise
from retention.pipeline import (
    ParkScores,
    RunKey,
    current_survey,
    park_inputs,
    retention_inputs,
    run_key,
    score_tables,
    travel_times,
)
from retention.scenario.evaluate import LEISURE_CATEGORIES
from retention.storage.park import ParkData, park_outline

BATCH_WINDOW = "weekday_evening"
"""The window a batch scores: the evening after a day shift, when workers use amenities."""
SUMMARY_MODE = "walk"
"""The mode of the summary's gap index, compliance and minutes (the snapshot's mode)."""

PLACES: tuple[str, ...] = ("residences", "enterprises", "h3_cells", "zones")
SUMMARY_FILE = "summary.json"
PARK_FILE = "park.parquet"
PARKS_FOLDER = "parks"


@dataclass(frozen=True)
class ParkOutcome:
    """What happened to one park of a batch.

    Attributes
    ----------
    park_id
        The park.
    status
        ``"scored"``, ``"skipped"`` (already scored for the same run key) or ``"failed"``.
    digest
        The run key digest (empty when the key could not be made).
    summary
        The park's summary row (empty when it failed).
    error
        ``"<ExceptionType>: <message>"`` when it failed.
    seconds
        Wall time of the task on its worker.
    peak_rss_mb
        Peak resident memory of the worker process so far (MiB, ``VmHWM``), after this park.
    worker_pid
        Process id of the worker that ran the task (benchmarks group peaks by it).
    cpu_seconds
        CPU time of the task in its worker process (all threads), less sensitive than wall time
        to other load on the machine.
    """

    park_id: str
    status: str
    digest: str = ""
    summary: Mapping[str, Any] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    worker_pid: int = 0
    cpu_seconds: float = 0.0


def result_dir(out_dir: Path, park_id: str, digest: str) -> Path:
    """Return where a park's results for a run key digest live."""
    return out_dir / PARKS_FOLDER / park_id / digest


def batch_key(park_id: str, *, data_dir: Path, geodata_dir: Path | None) -> RunKey:
    """Return the run key a batch scores a park with: its saved parameters, data as on disk."""
    return run_key(park_id, data_dir=data_dir, geodata_dir=geodata_dir)


def park_summary(
    park: ParkData,
    key: RunKey,
    scores: ParkScores,
    *,
    max_minutes: float,
    turnover: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the park's summary row (plain values, JSON-safe).

    Residents-weighted over residences (the GB 50180 basis): ``gap_index_0_100`` (mean gap
    index), ``compliance_<category>_share`` (share of residents within the category's living
    circle), ``evening_minutes_<category>`` for the leisure categories (mean minutes to the
    nearest open one, unreachable counted as the engine's limit, as the zone ranking does).
    ``turnover`` adds the survey model's expected leavers (:func:`expected_turnover`).
    """
    homes = scores.residences
    people = homes["people"].to_numpy(dtype=float)
    prefix = SUMMARY_MODE
    row: dict[str, Any] = {
        "park_id": park.park_id,
        "name_en": park.name_en,
        "name_zh": park.name_zh,
        "synthetic": bool(park.synthetic),
    }
    district = park.metadata.get("district", {}) if isinstance(park.metadata, dict) else {}
    for field_name in ("city_en", "city_zh", "name_en", "name_zh"):
        target = field_name if field_name.startswith("city") else f"district_{field_name[5:]}"
        row[target] = str(district.get(field_name, ""))
    outline = park_outline(park)
    shapes = outline if outline is not None else park.layer(LayerKind.ENTERPRISES)
    if len(shapes):
        point = shapes.geometry.union_all().representative_point()
        row["lon"], row["lat"] = float(point.x), float(point.y)
    else:
        row["lon"], row["lat"] = float("nan"), float("nan")
    row.update(
        {
            "run_key": key.digest(),
            "data_version": key.data_version,
            "survey_version": key.survey_version,
            "window": scores.window,
            "mode": prefix,
            "residents": float(people.sum()),
            "workers": float(scores.enterprises["people"].sum()),
            "enterprises": len(scores.enterprises),
            "amenities": len(park.layer(LayerKind.AMENITIES)),
            "gap_index_0_100": finite_weighted_mean(
                homes[f"{prefix}_gap_index_0_100"].to_numpy(dtype=float), people
            ),
        }
    )
    met_prefix = f"{prefix}_living_circle_"
    for column in homes.columns:
        if column.startswith(met_prefix) and column.endswith("_met"):
            category = column[len(met_prefix) : -len("_met")]
            row[f"compliance_{category}_share"] = finite_weighted_mean(
                homes[column].to_numpy(dtype=float), people
            )
    for category in LEISURE_CATEGORIES:
        column = f"{prefix}_nearest_{category}_minutes"
        minutes = np.minimum(homes[column].to_numpy(dtype=float), max_minutes)
        row[f"evening_minutes_{category}"] = finite_weighted_mean(minutes, people)
    row.update(turnover)
    return {name: _plain(value) for name, value in row.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def expected_turnover(
    park: ParkData,
    travel: TravelTimeResult,
    key: RunKey,
    *,
    data_dir: Path,
    geodata_dir: Path | None,
) -> dict[str, Any]:
    """Return the survey model's expected leavers per year for the park (where a survey exists).

    ``survey_respondents``, ``model_error`` (why there is no estimate), ``leavers_per_year``
    with ``leavers_low``/``leavers_high`` (95% interval of the summed draws), ``covered_workers``
    (employees of the enterprises with complete respondents, whom the estimate covers) and
    ``turnover_share`` (leavers per covered worker). NaN where there is no survey or model.
    """
    out: dict[str, Any] = {
        "survey_respondents": 0,
        "model_error": "",
        "leavers_per_year": float("nan"),
        "leavers_low": float("nan"),
        "leavers_high": float("nan"),
        "covered_workers": float("nan"),
        "turnover_share": float("nan"),
    }
    survey = current_survey(park, key, data_dir=data_dir, geodata_dir=geodata_dir)
    out["survey_respondents"] = len(survey.survey)
    if survey.survey.empty:
        out["model_error"] = "no survey"
        return out
    inputs = retention_inputs(park, travel, survey, key)
    if inputs.model is None:
        out["model_error"] = inputs.error
        return out
    estimate = leavers_by_enterprise(
        inputs.model,
        inputs.features,
        inputs.headcounts,
        conversion=key.parameters.conversion,
        cost=key.parameters.replacement_cost,
    )
    covered = estimate.by_enterprise.loc[estimate.by_enterprise["n_used"] > 0, "headcount"].sum()
    total = estimate.total
    leavers = float(total["leavers_per_year"])
    out.update(
        {
            "leavers_per_year": leavers,
            "leavers_low": float(total["leavers_low"]),
            "leavers_high": float(total["leavers_high"]),
            "covered_workers": float(covered),
            "turnover_share": leavers / float(covered) if covered > 0 else float("nan"),
        }
    )
    return out


def _peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork + exec, so a worker process
    # would report its parent's size (benchmarks/measure.py measured this trap).
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def park_shape(park: ParkData) -> gpd.GeoDataFrame:
    """Return the park's geometry as one WGS84 row: the outline, else its enterprises' hull."""
    outline = park_outline(park)
    shapes = outline if outline is not None else park.layer(LayerKind.ENTERPRISES)
    shapes = shapes.to_crs("EPSG:4326")
    if len(shapes) == 0:
        geometry = shapely.Point()
    elif outline is not None:
        geometry = shapes.geometry.union_all()
    else:
        geometry = shapes.geometry.union_all().convex_hull
    return gpd.GeoDataFrame({"park_id": [park.park_id]}, geometry=[geometry], crs="EPSG:4326")


def _write_result(
    folder: Path, scores: ParkScores, summary: Mapping[str, Any], shape: gpd.GeoDataFrame
) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".tmp-{folder.name[:12]}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        for name, table in scores.tables().items():
            table.to_parquet(tmp / f"{name}.parquet")
        shape.to_parquet(tmp / PARK_FILE)
        text = json.dumps(_json_safe(summary), ensure_ascii=False, indent=1)
        (tmp / SUMMARY_FILE).write_text(text + "\n", encoding="utf-8")
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / SUMMARY_FILE).is_file():  # not another worker's identical result
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _json_safe(summary: Mapping[str, Any]) -> dict[str, Any]:
    # NaN is not JSON; null reads back as NaN through read_summary.
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in summary.items()}


def read_summary(folder: Path) -> dict[str, Any]:
    """Return a stored park result's summary row (``null`` back to NaN)."""
    data = json.loads((folder / SUMMARY_FILE).read_text(encoding="utf-8"))
    return {k: (float("nan") if v is None else v) for k, v in data.items()}


def score_park(
    park_id: str,
    *,
    out_dir: Path,
    data_dir: Path,
    geodata_dir: Path | None = None,
    window: str = BATCH_WINDOW,
) -> ParkOutcome:
    """Score one park and write its results, unless they exist for the same run key.

    The batch's task: it never raises for a park's own failure; the outcome carries the error
    (a bad input file, an unknown window, a bug) so that one park never stops the others.
    """
    started = time.perf_counter()
    cpu_started = time.process_time()
    digest = ""
    try:
        key = batch_key(park_id, data_dir=data_dir, geodata_dir=geodata_dir)
        digest = key.digest()
        folder = result_dir(out_dir, park_id, digest)
        if (folder / SUMMARY_FILE).is_file():
            return ParkOutcome(
                park_id, "skipped", digest, read_summary(folder), "",
                time.perf_counter() - started, _peak_rss_mb(), os.getpid(),
                time.process_time() - cpu_started,
            )  # fmt: skip
        park = park_inputs(key, data_dir=data_dir, geodata_dir=geodata_dir)
        travel = travel_times(park, key)
        scores = score_tables(park, travel, key, window=window)
        turnover = expected_turnover(park, travel, key, data_dir=data_dir, geodata_dir=geodata_dir)
        summary = park_summary(
            park, key, scores, max_minutes=travel.params.max_minutes, turnover=turnover
        )
        _write_result(folder, scores, summary, park_shape(park))
    except Exception as error:  # reported per park with its error; the batch goes on
        kind = "" if isinstance(error, ParkLifeError) else f"{type(error).__name__}: "
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        return ParkOutcome(
            park_id,
            "failed",
            digest,
            {},
            f"{kind}{error}" if str(error) else detail,
            time.perf_counter() - started,
            _peak_rss_mb(),
            os.getpid(),
            time.process_time() - cpu_started,
        )
    return ParkOutcome(
        park_id,
        "scored",
        digest,
        summary,
        "",
        time.perf_counter() - started,
        _peak_rss_mb(),
        os.getpid(),
        time.process_time() - cpu_started,
    )


def summary_frame(outcomes: list[ParkOutcome]) -> pd.DataFrame:
    """Return the batch summary: one row per park (failed ones with ``status`` and ``error``)."""
    rows = []
    for outcome in outcomes:
        row: dict[str, Any] = {"park_id": outcome.park_id}
        row.update(outcome.summary)
        row["status"] = outcome.status
        row["error"] = outcome.error
        row["run_key"] = outcome.digest
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.sort_values("park_id", kind="stable").reset_index(drop=True)
