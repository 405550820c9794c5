"""Embedded file store for the layers users upload, one folder per park under the data directory.

Layout (``<data_dir>`` is ``$PARKLIFE_DATA_DIR``, default ``<repo>/data``)::

    <data_dir>/parks/<park_id>/layers/<id>.gpkg    one GeoPackage per upload (immutable)
    <data_dir>/parks/<park_id>/uploads.gpkg        older uploads: one layer per upload id
    <data_dir>/parks/<park_id>/manifest.json       the uploads: id, kind, file, system, time, counts
    <data_dir>/parks/<park_id>/reports/<id>.json   the upload's issues and rejected rows
    <data_dir>/parks/<park_id>/.history/           the last written manifests (restore)
    <data_dir>/parks/<park_id>/quarantine/         damaged files, moved aside
    <data_dir>/parks/<park_id>/damage.json         what was damaged and moved, until resolved

The manifest is the source of truth: a layer or report not listed in it does not exist. Every file
is written to a temporary name and renamed over the old one (``os.replace`` is atomic on POSIX),
manifest last, so a crash at any point leaves the previous consistent state. The park's one
lock file serialises writers (several Streamlit sessions may upload at once). A damaged file
never takes a page down: reading it moves it to quarantine, notes it in ``damage.json``
(:meth:`UploadStore.damage_notes`) and the park loads without it; the Data page offers to
restore the last written manifest or to remove the broken upload. Uploads are immutable: a
changed file is a new upload with a new id, which is what makes the manifest a sufficient cache
key for ``retention.storage.park``.
"""

from __future__ import annotations

import abc
import datetime as dt
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from retention.auth.events import AuditAction
from retention.auth.roles import Permission, UserScope
from retention.data.crs import CoordinateSystem, parse_coordinate_system
from retention.data.layers import LAYER_SPECS, WGS84, LayerKind
from retention.data.validate import LayerValidation, conform_layer, empty_layer
from retention.errors import DamagedFileError, ParkLifeError
from retention.storage.damage import (
    UPLOADS_AREA,
    DamageLog,
    GuardedManifestFiles,
    ManifestSpec,
    quarantine_and_note,
)
from retention.storage.files import (
    atomic_write_json,
    folder_lock,
    frame_from_json,
    frame_to_json,
    read_json,
    replacing,
)
from retention.storage.layout import (
    DATA_DIR_ENV,
    check_key,
    check_park_id,
    default_data_dir,
    park_dir,
)
from retention.storage.records import FileRecordStore, RecordStore, append_event

__all__ = [
    "DATA_DIR_ENV",
    "SOURCE_COLUMN",
    "UnknownUploadError",
    "UploadRecord",
    "UploadReport",
    "UploadStore",
    "check_park_id",
    "default_data_dir",
]

MANIFEST_VERSION = 1
SOURCE_COLUMN = "source"


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


_FIELDS = tuple(UploadRecord.__dataclass_fields__)


@dataclass(frozen=True)
class UploadReport:
    """An upload's record with its issues and rejected rows, for download after the fact."""

    record: UploadRecord
    issues: pd.DataFrame
    rejected: pd.DataFrame


class UploadsBase(abc.ABC):
    """What every upload store (files, PostgreSQL) does the same way: look an upload up, add one
    (permission, record, audit event) and remove one, around the store's own
    :meth:`list_uploads`, :meth:`import_upload` and :meth:`_remove_upload`."""

    @abc.abstractmethod
    def list_uploads(
        self, park_id: str, *, kind: LayerKind | str | None = None
    ) -> list[UploadRecord]:
        """Return the park's uploads in upload order, optionally only those of ``kind``."""

    @abc.abstractmethod
    def import_upload(
        self, record: UploadRecord, report: dict[str, object], rows: gpd.GeoDataFrame
    ) -> None:
        """Store an upload exactly as given (record, report, valid rows)."""

    @abc.abstractmethod
    def _remove_upload(self, park_id: str, upload_id: str) -> UploadRecord:
        """Remove an upload and return its record; ``UnknownUploadError`` if there is none."""

    @abc.abstractmethod
    def audit_records(self) -> RecordStore:
        """The records whose audit log names who added or removed an upload."""

    def get_upload(self, park_id: str, upload_id: str) -> UploadRecord:
        """Return one upload's record; ``UnknownUploadError`` if the park has no such upload."""
        for record in self.list_uploads(park_id):
            if record.upload_id == upload_id:
                return record
        raise UnknownUploadError(f"park {park_id!r} has no upload {upload_id!r}")

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
        record, report = new_upload_record(
            park_id, kind, validation, source_name=source_name, coordinate_system=coordinate_system
        )
        self.import_upload(record, report, validation.valid)
        if scope is not None:
            audit_upload(self.audit_records(), scope, AuditAction.UPLOAD_ADD, record)
        return record.upload_id

    def remove_upload(
        self, park_id: str, upload_id: str, *, scope: UserScope | None = None
    ) -> None:
        """Remove an upload (its rows, report and list entry).

        ``scope`` must be allowed to delete uploads (admin) and is named in the audit log
        (``None``: the server operator).
        """
        if scope is not None:
            scope.require(Permission.DELETE_UPLOAD)
        removed = self._remove_upload(park_id, upload_id)
        if scope is not None:
            audit_upload(self.audit_records(), scope, AuditAction.UPLOAD_DELETE, removed)


class UploadStore(UploadsBase, GuardedManifestFiles):
    """Uploaded layers of every park, kept as files under ``data_dir`` (see module docstring).

    Parameters
    ----------
    data_dir
        Root folder; created on first write. Defaults to :func:`default_data_dir`.
    """

    MANIFEST = ManifestSpec(
        key="uploads",
        required=_FIELDS,
        area=UPLOADS_AREA,
        what="the upload list",
        version=MANIFEST_VERSION,
    )

    def __init__(self, data_dir: Path | str | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.damage = DamageLog(self.data_dir)

    # -- paths -----------------------------------------------------------------------------
    def park_dir(self, park_id: str) -> Path:
        """Folder holding one park's uploads."""
        return park_dir(self.data_dir, park_id)

    def manifest_path(self, park_id: str) -> Path:
        """The park's manifest file (may not exist yet)."""
        return self.park_dir(park_id) / "manifest.json"

    def _legacy_gpkg(self, park_id: str) -> Path:
        return self.park_dir(park_id) / "uploads.gpkg"

    def _layer_path(self, park_id: str, upload_id: str) -> Path:
        return self.park_dir(park_id) / "layers" / f"{check_key(upload_id, field='upload id')}.gpkg"

    def _report_path(self, park_id: str, upload_id: str) -> Path:
        return (
            self.park_dir(park_id) / "reports" / f"{check_key(upload_id, field='upload id')}.json"
        )

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.data_dir).as_posix()

    def park_ids_with_uploads(self) -> list[str]:
        """Return the ids of the parks with an upload manifest."""
        root = self.data_dir / "parks"
        if not root.is_dir():
            return []
        return sorted(p.parent.name for p in root.glob("*/manifest.json"))

    # -- manifest (shared: GuardedManifestFiles) ------------------------------------------
    def list_uploads(
        self, park_id: str, *, kind: LayerKind | str | None = None
    ) -> list[UploadRecord]:
        """Return the park's uploads in upload order, optionally only those of ``kind``.

        A damaged manifest is moved to quarantine and noted (:meth:`damage_notes`); the park then
        lists no uploads until the manifest is restored (:meth:`restore_manifest`).
        """
        records = [UploadRecord(**entry) for entry in self._manifest_entries(park_id)]
        if kind is not None:
            wanted = LayerKind(kind).value
            records = [r for r in records if r.kind == wanted]
        return records

    def import_upload(
        self, record: UploadRecord, report: dict[str, object], rows: gpd.GeoDataFrame
    ) -> None:
        """Store an upload exactly as given (record, report, valid rows): moving a park between
        stores keeps its upload ids, so every row's ``source`` still names its upload."""
        park_id, upload_id = record.park_id, check_key(record.upload_id, field="upload id")
        with folder_lock(self.park_dir(park_id)):
            records = self.list_uploads(park_id)
            if upload_id in {r.upload_id for r in records}:
                raise ValueError(f"park {park_id!r} already has upload {upload_id!r}")
            atomic_write_json(self._report_path(park_id, upload_id), report)
            if len(rows):
                target = self._layer_path(park_id, upload_id)
                target.parent.mkdir(parents=True, exist_ok=True)
                with replacing(target, suffix=".tmp.gpkg") as tmp:
                    pyogrio.write_dataframe(for_storage(rows), tmp, layer=upload_id, driver="GPKG")
                    _fsync_file(tmp)
            self._write_manifest(park_id, [*records, record])

    def raw_report(self, park_id: str, upload_id: str) -> dict[str, object]:
        """Return the stored report payload as saved (for moving a park between stores)."""
        payload: dict[str, object] = read_json(self._report_path(park_id, upload_id))
        return payload

    def _remove_upload(self, park_id: str, upload_id: str) -> UploadRecord:
        """Remove the upload's rows, report, manifest entry and any damage note about it.

        The manifest is rewritten first, so a crash afterwards only leaves unlisted leftovers.
        """
        with folder_lock(self.park_dir(park_id)):
            records = self.list_uploads(park_id)
            if upload_id not in {r.upload_id for r in records}:
                raise UnknownUploadError(f"park {park_id!r} has no upload {upload_id!r}")
            remaining = [r for r in records if r.upload_id != upload_id]
            self._write_manifest(park_id, remaining)
            self._layer_path(park_id, upload_id).unlink(missing_ok=True)
            self._report_path(park_id, upload_id).unlink(missing_ok=True)
            self.damage.resolve(park_id, item=upload_id)
        return next(r for r in records if r.upload_id == upload_id)

    def audit_records(self) -> RecordStore:
        """The records whose audit log names who added or removed an upload."""
        return FileRecordStore(self.data_dir)

    # -- reading ---------------------------------------------------------------------------
    def load_upload(self, park_id: str, upload_id: str) -> gpd.GeoDataFrame:
        """Return one upload's valid rows with canonical types and a ``source`` column.

        Raises
        ------
        DamagedFileError
            When its GeoPackage is missing or unreadable (it is moved to quarantine and noted).
        """
        record = self.get_upload(park_id, upload_id)
        spec = LAYER_SPECS[LayerKind(record.kind)]
        if record.valid_rows == 0:
            frame = empty_layer(spec.kind)
        else:
            path = self._layer_path(park_id, upload_id)
            if not path.is_file() and self._legacy_gpkg(park_id).is_file():
                path = self._legacy_gpkg(park_id)
            try:
                raw = pyogrio.read_dataframe(path, layer=upload_id)
            except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
                raise self._damaged(park_id, path, record, err) from err
            frame = conform_layer(raw, spec.kind, source_name=f"{self._relative(path)}:{upload_id}")
        frame[SOURCE_COLUMN] = upload_id
        return frame

    def _damaged(
        self, park_id: str, path: Path, record: UploadRecord, err: Exception
    ) -> DamagedFileError:
        existed = path.is_file()
        problem = (
            f"the rows of upload {record.upload_id} ({record.source_name}) cannot be read "
            f"({str(err).splitlines()[0] if str(err) else type(err).__name__})"
            if existed
            else f"the rows of upload {record.upload_id} ({record.source_name}) are missing"
        )
        # A legacy GeoPackage holds several uploads: it stays in place (others may still read).
        note = quarantine_and_note(
            path,
            data_dir=self.data_dir,
            park_id=park_id,
            area=UPLOADS_AREA,
            problem=problem,
            item=record.upload_id,
            move=existed and path != self._legacy_gpkg(park_id),
        )
        return DamagedFileError(
            f"{problem}; remove the upload on the Data page and upload the file again",
            file=note.file,
            quarantined_to=note.quarantined_to,
        )

    def load_layer(self, park_id: str, kind: LayerKind | str) -> gpd.GeoDataFrame:
        """Return all readable uploaded rows of ``kind`` for the park, in upload order.

        An upload whose rows cannot be read is left out and noted (:meth:`damage_notes`).
        Returns an empty frame with the canonical columns (and ``source``) if there are none.
        """
        frames = []
        for record in self.list_uploads(park_id, kind=kind):
            if not record.valid_rows:
                continue
            try:
                frames.append(self.load_upload(park_id, record.upload_id))
            except DamagedFileError:
                continue  # noted by load_upload; the rest of the park stays usable
        return uploads_layer(kind, frames)

    def load_report(self, park_id: str, upload_id: str) -> UploadReport:
        """Return an upload's record, issues and rejected rows (for the downloadable report).

        Raises
        ------
        DamagedFileError
            When the report file is missing or unreadable (the upload's rows are unaffected).
        """
        record = self.get_upload(park_id, upload_id)
        path = self._report_path(park_id, upload_id)
        try:
            payload = read_json(path)
            return UploadReport(
                record=record,
                issues=frame_from_json(payload["issues"]),
                rejected=frame_from_json(payload["rejected"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as err:
            problem = "is missing" if not path.exists() else f"cannot be read ({err})"
            raise DamagedFileError(
                f"the validation report of upload {upload_id} ({record.source_name}) {problem}; "
                "its rows are still in the park; upload the file again for a new report",
                file=self._relative(path),
            ) from err


def upload_event(action: AuditAction, record: UploadRecord) -> dict[str, object]:
    """Return the audit detail of adding or removing an upload (ids, file and counts only)."""
    detail: dict[str, object] = {
        "upload_id": record.upload_id,
        "kind": record.kind,
        "file": record.source_name,
    }
    if action is AuditAction.UPLOAD_ADD:
        detail["rows"] = record.valid_rows
    return detail


def audit_upload(
    records: RecordStore, scope: UserScope, action: AuditAction, record: UploadRecord
) -> None:
    """Append the audit event of adding or removing an upload to the store's log."""
    append_event(
        records, scope, action, park_id=record.park_id, detail=upload_event(action, record)
    )


def uploads_layer(kind: LayerKind | str, frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Return uploads' rows of one kind as one layer (canonical empty frame for none)."""
    if not frames:
        empty = empty_layer(LAYER_SPECS[LayerKind(kind)].kind)
        empty[SOURCE_COLUMN] = pd.Series(dtype="object")
        return empty
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WGS84)


def new_upload_record(
    park_id: str,
    kind: LayerKind | str,
    validation: LayerValidation,
    *,
    source_name: str,
    coordinate_system: CoordinateSystem | str,
) -> tuple[UploadRecord, dict[str, object]]:
    """Return a new upload's record and report payload (shared by every store)."""
    layer_kind = LayerKind(kind)
    system = parse_coordinate_system(coordinate_system)
    record = UploadRecord(
        upload_id=f"u_{uuid.uuid4().hex[:12]}",
        park_id=check_park_id(park_id),
        kind=layer_kind.value,
        source_name=str(source_name),
        coordinate_system=system.value,
        uploaded_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        valid_rows=len(validation.valid),
        rejected_rows=len(validation.rejected),
        warning_count=_warning_count(validation.issues),
    )
    report: dict[str, object] = {
        "issues": frame_to_json(validation.issues),
        "rejected": frame_to_json(validation.rejected),
    }
    return record, report


def _fsync_file(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def _warning_count(issues: pd.DataFrame) -> int:
    if "severity" not in issues.columns:
        return 0
    return int((issues["severity"] == "warning").sum())


def for_storage(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
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
