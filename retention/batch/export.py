"""A batch's results for GIS users and for the store: GeoPackage, CSV tables, store records.

The workers write each park's results as GeoParquet under ``<out>/parks/<park>/<digest>/``
(``retention.batch.park_task``); these functions gather them, after the batch, into:

- :func:`write_geopackage`: ``<out>/results.gpkg`` with one layer per result table
  (``residences``, ``enterprises``, ``h3_cells``, ``zones``: every scored park's rows, with
  ``park_id`` and ``run_key`` first) and a ``parks`` layer: the park geometry (its outline, or
  the hull of its enterprises where it has none) with the park's summary row;
- :func:`write_csv_tables`: one formula-safe CSV per result table (geometry as WKT) beside the
  summary CSV the batch always writes;
- :func:`write_to_store`: each park's summary as a record of kind :data:`BATCH_RESULTS` keyed by
  the run key digest, and its tables as GeoParquet blobs, through the store's public interface
  (``store.records``), so a deployment on PostgreSQL keeps them with the rest of its data;
  :func:`read_stored_result` reads one back.

Only parks with ``status`` ``scored`` or ``skipped`` (a result on disk) are exported; failed
parks stay listed in the summary with their error.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from retention.batch.park_task import PARK_FILE, PLACES, read_summary, result_dir
from retention.batch.run import replace_file
from retention.data.io import table_to_csv_bytes
from retention.errors import DamagedFileError
from retention.storage.records import BATCH_RESULTS
from retention.storage.store import Store

GEOPACKAGE = "results.gpkg"
PARKS_LAYER = "parks"
WITH_RESULT = ("scored", "skipped")


class BatchFormat(StrEnum):
    """Where ``parklife batch`` puts its results besides the per-park GeoParquet."""

    CSV = "csv"
    GPKG = "gpkg"
    STORE = "store"


@dataclass(frozen=True, eq=False)
class StoredResult:
    """One park's batch result as kept in the store.

    Attributes
    ----------
    park_id, digest
        The park and the run key digest it was scored under.
    summary
        The park's summary row (``retention.batch.park_summary``).
    tables
        ``residences``, ``enterprises``, ``h3_cells``, ``zones`` as GeoDataFrames.
    version
        The record's version in the store (1 for the first save).
    """

    park_id: str
    digest: str
    summary: Mapping[str, Any]
    tables: Mapping[str, gpd.GeoDataFrame]
    version: int


def _results(summary: pd.DataFrame, out_dir: Path) -> Iterator[tuple[str, str, Path]]:
    """Yield ``(park_id, digest, folder)`` of every park of the summary with a result on disk."""
    done = summary[summary["status"].isin(WITH_RESULT)]
    for park_id, digest in zip(done["park_id"], done["run_key"], strict=True):
        folder = result_dir(out_dir, str(park_id), str(digest))
        if not folder.is_dir():
            raise DamagedFileError(
                f"the summary lists park {park_id!r} as done under run key {str(digest)[:12]}… "
                "but its result folder is missing; expected the folder the batch wrote (run the "
                "batch again to rebuild it)",
                file=str(folder),
            )
        yield str(park_id), str(digest), folder


def _tagged(table: gpd.GeoDataFrame, park_id: str, digest: str) -> gpd.GeoDataFrame:
    out = table.copy()
    out.insert(0, "run_key", digest)
    out.insert(0, "park_id", park_id)
    return out


def stacked_tables(summary: pd.DataFrame, out_dir: Path) -> dict[str, gpd.GeoDataFrame]:
    """Return every result table with all parks' rows stacked (``park_id``, ``run_key`` first).

    The ``parks`` table is the park geometry with the park's summary row.
    """
    parts: dict[str, list[gpd.GeoDataFrame]] = {name: [] for name in (*PLACES, PARKS_LAYER)}
    for park_id, digest, folder in _results(summary, out_dir):
        for name in PLACES:
            table = gpd.read_parquet(folder / f"{name}.parquet")
            parts[name].append(_tagged(table, park_id, digest))
        parts[PARKS_LAYER].append(_park_row(folder, park_id))
    return {name: _concat(frames) for name, frames in parts.items()}


def _park_row(folder: Path, park_id: str) -> gpd.GeoDataFrame:
    row = {k: v for k, v in read_summary(folder).items() if k != "park_id"}
    path = folder / PARK_FILE
    if path.is_file():
        geometry = gpd.read_parquet(path).to_crs("EPSG:4326").geometry.iloc[:1].to_list()
    else:  # a result written before the park geometry was kept: its representative point
        geometry = gpd.points_from_xy([row.get("lon", math.nan)], [row.get("lat", math.nan)])
    frame = pd.DataFrame([{"park_id": park_id, **row}])
    return gpd.GeoDataFrame(frame, geometry=list(geometry), crs="EPSG:4326")


def _concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    if not frames:
        return gpd.GeoDataFrame({"park_id": pd.Series(dtype=str)}, geometry=[], crs="EPSG:4326")
    crs = frames[0].crs
    same = [frame if frame.crs == crs else frame.to_crs(crs) for frame in frames]
    return gpd.GeoDataFrame(pd.concat(same, ignore_index=True), geometry="geometry", crs=crs)


def write_geopackage(summary: pd.DataFrame, out_dir: Path) -> Path:
    """Write ``<out_dir>/results.gpkg`` (one layer per result table, ``parks``); return its path.

    Written under a temporary name and renamed, so a reader never sees half a file.
    """
    import pyogrio

    tables = stacked_tables(summary, out_dir)

    def write(tmp: Path) -> None:
        for name, frame in tables.items():
            pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG")

    return replace_file(out_dir / GEOPACKAGE, write)


def write_csv_tables(summary: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write ``<out_dir>/<table>.csv`` per result table (and ``parks.csv``); return the paths.

    Formula-safe UTF-8 with a BOM, geometry as WKT (``retention.data.io.table_to_csv_bytes``).
    """
    paths = []
    for name, frame in stacked_tables(summary, out_dir).items():
        writer = _bytes_writer(table_to_csv_bytes(frame))
        paths.append(replace_file(out_dir / f"{name}.csv", writer))
    return paths


def _bytes_writer(data: bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(data)

    return write


def _blob_key(digest: str, name: str) -> str:
    return f"{digest}.{name}.parquet"


def write_to_store(summary: pd.DataFrame, out_dir: Path, store: Store) -> int:
    """Put every park's result into ``store`` under its run key; return how many were new.

    A park whose record for the same run key digest is already stored is left as it is (same key,
    same inputs: same numbers), so exporting a resumed batch again writes only the new parks.
    The tables go first (blobs), the summary record last: a record that exists means its tables
    are there.
    """
    written = 0
    for park_id, digest, folder in _results(summary, out_dir):
        if store.records.get(park_id, BATCH_RESULTS, digest) is not None:
            continue
        for name in PLACES:
            data = (folder / f"{name}.parquet").read_bytes()
            store.records.put_blob(park_id, BATCH_RESULTS, _blob_key(digest, name), data)
        payload = {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in read_summary(folder).items()
        }
        store.records.put(park_id, BATCH_RESULTS, digest, payload, expected_version=0)
        written += 1
    return written


def read_stored_result(store: Store, park_id: str, digest: str) -> StoredResult | None:
    """Return a park's batch result stored under ``digest``, or ``None`` when there is none.

    Raises
    ------
    DamagedFileError
        When the record exists but one of its tables does not.
    """
    record = store.records.get(park_id, BATCH_RESULTS, digest)
    if record is None:
        return None
    tables = {}
    for name in PLACES:
        data = store.records.get_blob(park_id, BATCH_RESULTS, _blob_key(digest, name))
        if data is None:
            raise DamagedFileError(
                f"in {store.describe()}: park {park_id!r}, batch result {digest[:12]}…: table "
                f"{name!r} is missing; expected the {len(PLACES)} tables stored with the record "
                "(export the batch to the store again)",
                file=f"{BATCH_RESULTS}/{_blob_key(digest, name)}",
            )
        tables[name] = gpd.read_parquet(io.BytesIO(data))
    summary = {k: (math.nan if v is None else v) for k, v in dict(record.payload).items()}
    return StoredResult(park_id, digest, summary, tables, record.version)


def stored_digests(store: Store, park_id: str) -> list[str]:
    """Return the run key digests of the park's batch results in the store."""
    return [record.key for record in store.records.list_records(park_id, BATCH_RESULTS)]


def export_results(
    summary: pd.DataFrame,
    out_dir: Path,
    formats: tuple[BatchFormat, ...],
    *,
    store: Store | None = None,
) -> dict[BatchFormat, Any]:
    """Write the batch's results in each of ``formats``; return what each wrote.

    ``csv``: the list of CSV paths; ``gpkg``: the GeoPackage path; ``store``: the number of parks
    newly put into ``store`` (required for that format).
    """
    done: dict[BatchFormat, Any] = {}
    for fmt in formats:
        if fmt is BatchFormat.CSV:
            done[fmt] = write_csv_tables(summary, out_dir)
        elif fmt is BatchFormat.GPKG:
            done[fmt] = write_geopackage(summary, out_dir)
        else:
            if store is None:
                raise ValueError("format 'store' needs a store; expected store=open_store(...)")
            done[fmt] = write_to_store(summary, out_dir, store)
    return done
