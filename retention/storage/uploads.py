"""Embedded file store for the layers users upload, one folder per park under the data directory.

Layout (``<data_dir>`` is ``$PARKLIFE_DATA_DIR``, default ``<repo>/data``)::

    <data_dir>/parks/<park_id>/uploads.gpkg        one layer per upload, named by upload id
    <data_dir>/parks/<park_id>/manifest.json       the uploads: id, kind, file, system, time, counts
    <data_dir>/parks/<park_id>/reports/<id>.json   the upload's issues and rejected rows

The manifest is the source of truth: a layer or report not listed in it does not exist. Every file
is written to a temporary name and renamed over the old one (``os.replace`` is atomic on POSIX),
manifest last, so a crash at any point leaves the previous consistent state. A lock file
serialises writers (several Streamlit sessions may upload at once). Uploads are immutable: a
changed file is a new upload with a new id, which is what makes the manifest a sufficient cache
key for ``retention.storage.park``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from retention.auth import audit
from retention.auth.roles import Permission, UserScope
from retention.data.crs import CoordinateSystem, parse_coordinate_system
from retention.data.layers import LAYER_SPECS, WGS84, LayerKind
from retention.data.validate import LayerValidation, conform_layer, empty_layer
from retention.errors import ParkLifeError, ValidationError
from retention.storage.files import (
    atomic_write_json,
    folder_lock,
    frame_from_json,
    frame_to_json,
    manifest_bytes,
    read_json,
    read_manifest_entries,
    replacing,
    write_manifest,
)

DATA_DIR_ENV = "PARKLIFE_DATA_DIR"
MANIFEST_VERSION = 1
SOURCE_COLUMN = "source"
_PARK_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class UnknownUploadError(ParkLifeError, KeyError):
    """An upload id is not in a park's manifest."""


@dataclass(frozen=True)
class UploadRecord:
    """One upload as listed in a park's manifest.

    Parameters
    ----------
    upload_id
        Unique id, also the GeoPackage layer name and the ``source`` value of its rows.
    park_id, kind, source_name, coordinate_system
        What was uploaded where, from which file, in which coordinate system.
    uploaded_at
        ISO 8601 UTC time of the upload.
    valid_rows, rejected_rows, warning_count
        Counts from the validation.
    """

    upload_id: str
    park_id: str
    kind: str
    source_name: str
    coordinate_system: str
    uploaded_at: str
    valid_rows: int
    rejected_rows: int
    warning_count: int


@dataclass(frozen=True)
class UploadReport:
    """An upload's record with its issues and rejected rows, for download after the fact."""

    record: UploadRecord
    issues: pd.DataFrame
    rejected: pd.DataFrame


def default_data_dir() -> Path:
    """Return ``$PARKLIFE_DATA_DIR`` if set, else ``<repo>/data``."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "data"


def check_park_id(park_id: str) -> str:
    """Return ``park_id`` if it is a safe folder name (lowercase letters, digits, ``_``, ``-``)."""
    if not isinstance(park_id, str) or not _PARK_ID.match(park_id):
        raise ValidationError(
            f"park id {park_id!r} is not allowed; expected 1-64 lowercase letters, digits, "
            "'_' or '-', starting with a letter or digit",
            column="park_id",
        )
    return park_id


class UploadStore:
    """Uploaded layers of every park, kept as files under ``data_dir`` (see module docstring).

    Parameters
    ----------
    data_dir
        Root folder; created on first write. Defaults to :func:`default_data_dir`.
    """

    def __init__(self, data_dir: Path | str | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()

    # -- paths -----------------------------------------------------------------------------
    def park_dir(self, park_id: str) -> Path:
        """Folder holding one park's uploads."""
        return self.data_dir / "parks" / check_park_id(park_id)

    def manifest_path(self, park_id: str) -> Path:
        """The park's manifest file (may not exist yet)."""
        return self.park_dir(park_id) / "manifest.json"

    def _gpkg(self, park_id: str) -> Path:
        return self.park_dir(park_id) / "uploads.gpkg"

    def _report_path(self, park_id: str, upload_id: str) -> Path:
        return self.park_dir(park_id) / "reports" / f"{upload_id}.json"

    # -- manifest --------------------------------------------------------------------------
    def manifest_bytes(self, park_id: str) -> bytes:
        """Return the manifest's bytes (``b""`` if the park has no uploads): a cache-key input."""
        return manifest_bytes(self.manifest_path(park_id))

    def list_uploads(
        self, park_id: str, *, kind: LayerKind | str | None = None
    ) -> list[UploadRecord]:
        """Return the park's uploads in upload order, optionally only those of ``kind``."""
        entries = read_manifest_entries(self.manifest_path(park_id), key="uploads")
        records = [UploadRecord(**entry) for entry in entries]
        if kind is not None:
            wanted = LayerKind(kind).value
            records = [r for r in records if r.kind == wanted]
        return records

    def _write_manifest(self, park_id: str, records: list[UploadRecord]) -> None:
        write_manifest(
            self.manifest_path(park_id), records, key="uploads", version=MANIFEST_VERSION
        )

    def get_upload(self, park_id: str, upload_id: str) -> UploadRecord:
        """Return one upload's record; ``UnknownUploadError`` if the park has no such upload."""
        for record in self.list_uploads(park_id):
            if record.upload_id == upload_id:
                return record
        raise UnknownUploadError(f"park {park_id!r} has no upload {upload_id!r}")

    # -- writing ---------------------------------------------------------------------------
    def add_upload(
        self,
        park_id: str,
        kind: LayerKind | str,
        validation: LayerValidation,
        *,
        source_name: str,
        coordinate_system: CoordinateSystem | str,
        scope: UserScope | None = None,
    ) -> str:
        """Store a validated upload (valid rows, issues, rejected rows) and return its id.

        Parameters
        ----------
        park_id
            The park the layer belongs to.
        kind
            The layer kind the rows were validated as.
        validation
            The result of ``retention.data.validate.validate_layer``.
        source_name
            The user's file name.
        coordinate_system
            The system the user said the file was in.
        scope
            Who adds it: must be allowed to add uploads (planner, admin), and is named in the
            audit log. ``None``: the server operator (no check, no audit line).

        Returns
        -------
        str
            The new upload id (``"u_"`` + 12 hex digits).
        """
        if scope is not None:
            scope.require(Permission.ADD_UPLOAD)
        layer_kind = LayerKind(kind)
        system = parse_coordinate_system(coordinate_system)
        upload_id = f"u_{uuid.uuid4().hex[:12]}"
        record = UploadRecord(
            upload_id=upload_id,
            park_id=check_park_id(park_id),
            kind=layer_kind.value,
            source_name=str(source_name),
            coordinate_system=system.value,
            uploaded_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            valid_rows=len(validation.valid),
            rejected_rows=len(validation.rejected),
            warning_count=_warning_count(validation.issues),
        )
        report = {
            "issues": frame_to_json(validation.issues),
            "rejected": frame_to_json(validation.rejected),
        }
        with folder_lock(self.park_dir(park_id)):
            records = self.list_uploads(park_id)
            atomic_write_json(self._report_path(park_id, upload_id), report)
            if len(validation.valid):
                self._write_layer(park_id, upload_id, _for_storage(validation.valid))
            self._write_manifest(park_id, [*records, record])
        if scope is not None:
            audit.record(
                self.data_dir,
                scope,
                audit.AuditAction.UPLOAD_ADD,
                park_id=park_id,
                detail={
                    "upload_id": upload_id,
                    "kind": layer_kind.value,
                    "file": str(source_name),
                    "rows": record.valid_rows,
                },
            )
        return upload_id

    def _write_layer(self, park_id: str, upload_id: str, frame: gpd.GeoDataFrame) -> None:
        target = self._gpkg(park_id)
        with replacing(target, suffix=".tmp.gpkg") as tmp:
            if target.is_file():
                shutil.copyfile(target, tmp)
            pyogrio.write_dataframe(frame, tmp, layer=upload_id, driver="GPKG")

    def remove_upload(
        self, park_id: str, upload_id: str, *, scope: UserScope | None = None
    ) -> None:
        """Remove an upload (its rows, report and manifest entry).

        The manifest is rewritten first, so a crash afterwards only leaves unlisted leftovers.
        ``scope`` must be allowed to delete uploads (admin) and is named in the audit log
        (``None``: the server operator).
        """
        if scope is not None:
            scope.require(Permission.DELETE_UPLOAD)
        with folder_lock(self.park_dir(park_id)):
            records = self.list_uploads(park_id)
            if upload_id not in {r.upload_id for r in records}:
                raise UnknownUploadError(f"park {park_id!r} has no upload {upload_id!r}")
            remaining = [r for r in records if r.upload_id != upload_id]
            self._write_manifest(park_id, remaining)
            self._rebuild_gpkg(park_id, [r.upload_id for r in remaining if r.valid_rows])
            self._report_path(park_id, upload_id).unlink(missing_ok=True)
        if scope is not None:
            removed = next(r for r in records if r.upload_id == upload_id)
            audit.record(
                self.data_dir,
                scope,
                audit.AuditAction.UPLOAD_DELETE,
                park_id=park_id,
                detail={"upload_id": upload_id, "kind": removed.kind, "file": removed.source_name},
            )

    def _rebuild_gpkg(self, park_id: str, upload_ids: list[str]) -> None:
        # pyogrio cannot drop a layer, so the GeoPackage is rewritten with the layers that remain.
        target = self._gpkg(park_id)
        if not upload_ids:
            target.unlink(missing_ok=True)
            return
        with replacing(target, suffix=".tmp.gpkg") as tmp:
            for upload_id in upload_ids:
                layer = pyogrio.read_dataframe(target, layer=upload_id)
                pyogrio.write_dataframe(layer, tmp, layer=upload_id, driver="GPKG")

    # -- reading ---------------------------------------------------------------------------
    def load_upload(self, park_id: str, upload_id: str) -> gpd.GeoDataFrame:
        """Return one upload's valid rows with canonical types and a ``source`` column."""
        record = self.get_upload(park_id, upload_id)
        spec = LAYER_SPECS[LayerKind(record.kind)]
        if record.valid_rows == 0:
            frame = empty_layer(spec.kind)
        else:
            frame = conform_layer(
                pyogrio.read_dataframe(self._gpkg(park_id), layer=upload_id),
                spec.kind,
                source_name=f"{self._gpkg(park_id)}:{upload_id}",
            )
        frame[SOURCE_COLUMN] = upload_id
        return frame

    def load_layer(self, park_id: str, kind: LayerKind | str) -> gpd.GeoDataFrame:
        """Return all valid uploaded rows of ``kind`` for the park, in upload order.

        Returns an empty frame with the canonical columns (and ``source``) if there are none.
        """
        spec = LAYER_SPECS[LayerKind(kind)]
        frames = [
            self.load_upload(park_id, record.upload_id)
            for record in self.list_uploads(park_id, kind=kind)
            if record.valid_rows
        ]
        if not frames:
            empty = empty_layer(spec.kind)
            empty[SOURCE_COLUMN] = pd.Series(dtype="object")
            return empty
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WGS84)

    def load_report(self, park_id: str, upload_id: str) -> UploadReport:
        """Return an upload's record, issues and rejected rows (for the downloadable report)."""
        record = self.get_upload(park_id, upload_id)
        payload = read_json(self._report_path(park_id, upload_id))
        return UploadReport(
            record=record,
            issues=frame_from_json(payload["issues"]),
            rejected=frame_from_json(payload["rejected"]),
        )


def _warning_count(issues: pd.DataFrame) -> int:
    if "severity" not in issues.columns:
        return 0
    return int((issues["severity"] == "warning").sum())


def _for_storage(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Make every non-numeric, non-geometry column text so GDAL can store it losslessly."""
    out = frame.copy()
    for column in out.columns:
        if column == out.geometry.name:
            continue
        series = out[column]
        if series.dtype == object:
            out[column] = series.map(lambda v: None if v is None or v != v else str(v))
        elif str(series.dtype) == "Int64":
            out[column] = series.astype("float64")
    return out
