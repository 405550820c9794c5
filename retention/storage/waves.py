"""Embedded file store for a park's imported survey waves: the park's "current survey".

Layout (``<data_dir>`` is ``$PARKLIFE_DATA_DIR``, default ``<repo>/data``)::

    <data_dir>/parks/<park_id>/survey/manifest.json           the waves: id, label, file, counts
    <data_dir>/parks/<park_id>/survey/waves/<wave_id>.parquet  the clean respondent table
    <data_dir>/parks/<park_id>/survey/reports/<wave_id>.json   issue locations, mapping

Only the clean, pseudonymised table (``retention.survey.schema.SURVEY_COLUMNS``) is stored: raw
respondent ids never reach it, and personal-data columns (IP, phone, ID card) were dropped when
the file was read. The stored report, offered to every later user of the park, keeps only where
each issue is (data row, column) and what was expected, never an answer: one respondent's answers
are a group of 1, below any k-anonymity threshold. Rejected rows stay downloadable only in the
session that uploaded them (``SurveyImport.rejected``); the counts are in the manifest.

As in ``retention.storage.uploads`` (both use ``retention.storage.files``), the manifest is the
source of
truth; every file is written to a temporary name and renamed over the old one, manifest last, so a
crash leaves the previous consistent state; a lock file serialises writers. Waves are immutable (a
corrected file is a new wave), so the manifest's bytes are a sufficient cache key
(:meth:`SurveyStore.survey_version`).
"""

from __future__ import annotations

import abc
import datetime as dt
import hashlib
import io
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from retention.auth.events import AuditAction
from retention.auth.roles import Permission, UserScope
from retention.data.layers import LayerKind
from retention.errors import DamagedFileError, ParkLifeError, ValidationError
from retention.safe_cells import xlsx_bytes
from retention.storage.damage import (
    SURVEY_AREA,
    DamageLog,
    GuardedManifestFiles,
    ManifestSpec,
    quarantine_and_note,
)
from retention.storage.files import (
    atomic_write_bytes,
    atomic_write_json,
    folder_lock,
    frame_from_json,
    frame_to_json,
    read_json,
)
from retention.storage.layout import check_key, check_park_id, default_data_dir, park_dir
from retention.storage.park import ParkData, default_geodata_dir
from retention.storage.records import FileRecordStore, RecordStore, append_event
from retention.survey.importer import SurveyImport, import_survey, issues_frame, read_survey_file
from retention.survey.schema import SURVEY_COLUMNS, empty_survey_frame, survey_dtypes

SURVEY_MANIFEST_VERSION = 1
DEMO_SURVEY_FILE = "survey_wjx.xlsx"
"""The bundled synthetic demo survey of a demo park: ``geodata/<park_id>/survey_wjx.xlsx``."""
DEMO_WAVE = "demo"
ID_TARGETS = ("respondent_id", "response_number")
"""Mapping targets whose raw values identify a person: never stored, not even in reports."""
REPORT_ISSUE_COLUMNS = ("row", "column", "value", "expected", "rejected")
"""Columns of a stored wave report's issue table (``value`` blank wherever a row is named)."""


class UnknownWaveError(ParkLifeError, KeyError):
    """A wave id is not in a park's survey manifest."""


class DuplicateWaveError(ValidationError):
    """A wave with the same label is already stored for the park."""


@dataclass(frozen=True)
class SurveyWaveRecord:
    """One stored survey wave as listed in the park's survey manifest.

    Parameters
    ----------
    wave_id
        Unique id (``"w_"`` + 12 hex digits), also the name of its files.
    park_id, wave, source_name
        The park, the wave label (e.g. ``"2024-spring"``) and the user's file name.
    imported_at
        ISO 8601 UTC time the wave was stored.
    mapping_signature
        Hash of the file's headers (``ColumnMapping.signature``).
    rows_read, valid_rows, rejected_rows, warning_count
        Counts from the import.
    encoding
        Detected text encoding (``"xlsx"`` for workbooks).
    """

    wave_id: str
    park_id: str
    wave: str
    source_name: str
    imported_at: str
    mapping_signature: str
    rows_read: int
    valid_rows: int
    rejected_rows: int
    warning_count: int
    encoding: str


_FIELDS = tuple(SurveyWaveRecord.__dataclass_fields__)


@dataclass(frozen=True)
class SurveyWaveReport:
    """A wave's record with its issue locations and mapping, for download after the fact.

    Holds no answer of any respondent (module docstring): ``issues`` has
    ``REPORT_ISSUE_COLUMNS`` with ``value`` blank in every row-level issue.
    """

    record: SurveyWaveRecord
    issues: pd.DataFrame
    mapping: dict[str, str]


class WavesBase(abc.ABC):
    """What every survey store (files, PostgreSQL) does the same way: look a wave up, store one
    (permission, record, audit event) and remove one, around the store's own
    :meth:`list_waves`, :meth:`import_wave` and :meth:`_remove_wave`."""

    @abc.abstractmethod
    def list_waves(self, park_id: str) -> list[SurveyWaveRecord]:
        """Return the park's stored waves in the order they were stored."""

    @abc.abstractmethod
    def import_wave(
        self, record: SurveyWaveRecord, report: dict[str, object], survey: pd.DataFrame
    ) -> None:
        """Store a wave exactly as given (record, report, clean respondents)."""

    @abc.abstractmethod
    def _remove_wave(self, park_id: str, wave_id: str) -> SurveyWaveRecord:
        """Remove a wave and return its record; ``UnknownWaveError`` if there is none."""

    @abc.abstractmethod
    def audit_records(self) -> RecordStore:
        """The records whose audit log names who stored or removed a wave."""

    def get_wave(self, park_id: str, wave_id: str) -> SurveyWaveRecord:
        """Return one wave's record; ``UnknownWaveError`` if the park has no such wave."""
        for record in self.list_waves(park_id):
            if record.wave_id == wave_id:
                return record
        raise UnknownWaveError(f"park {park_id!r} has no stored survey wave {wave_id!r}")

    def save_wave(
        self,
        park_id: str,
        survey_import: SurveyImport,
        *,
        source_name: str,
        wave: str,
        scope: UserScope | None = None,
    ) -> str:
        """Store an imported survey's clean rows (and its report) as a wave of the park.

        Assumes ``survey_import`` came from ``retention.survey.importer.import_survey`` for this
        park (respondent ids already pseudonymised with the park's salt).

        Parameters
        ----------
        park_id
            The park the survey belongs to.
        survey_import
            The import result: valid rows, issues, rejected rows, mapping.
        source_name
            The user's file name.
        wave
            Wave label, unique within the park (e.g. ``"2024-spring"``).
        scope
            Who stores it: must be allowed to add waves (planner, admin), and is named in the
            audit log. ``None``: the server operator (no check, no audit line).

        Returns
        -------
        str
            The new wave id.

        Raises
        ------
        ValidationError
            Empty wave label, no valid rows, or columns outside the canonical survey table.
        DuplicateWaveError
            A wave with the same label is already stored.
        """
        if scope is not None:
            scope.require(Permission.ADD_WAVE)
        record, report = prepare_wave(park_id, survey_import, source_name=source_name, wave=wave)
        self.import_wave(record, report, survey_import.survey)
        if scope is not None:
            audit_wave(self.audit_records(), scope, AuditAction.WAVE_ADD, record)
        return record.wave_id

    def remove_wave(self, park_id: str, wave_id: str, *, scope: UserScope | None = None) -> None:
        """Remove a wave (its rows, report and list entry).

        ``scope`` must be allowed to delete waves (admin) and is named in the audit log
        (``None``: the server operator).
        """
        if scope is not None:
            scope.require(Permission.DELETE_WAVE)
        removed = self._remove_wave(park_id, wave_id)
        if scope is not None:
            audit_wave(self.audit_records(), scope, AuditAction.WAVE_DELETE, removed)


class SurveyStore(WavesBase, GuardedManifestFiles):
    """Imported survey waves of every park, kept as files under ``data_dir`` (module docstring).

    Parameters
    ----------
    data_dir
        Root folder; created on first write. Defaults to
        ``retention.storage.uploads.default_data_dir``.
    """

    MANIFEST = ManifestSpec(
        key="waves",
        required=_FIELDS,
        area=SURVEY_AREA,
        what="the survey wave list",
        version=SURVEY_MANIFEST_VERSION,
    )

    def __init__(self, data_dir: Path | str | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.damage = DamageLog(self.data_dir)

    # -- paths -----------------------------------------------------------------------------
    def survey_dir(self, park_id: str) -> Path:
        """Folder holding one park's survey waves."""
        return park_dir(self.data_dir, park_id) / "survey"

    def _park_lock(self, park_id: str) -> AbstractContextManager[None]:
        return folder_lock(park_dir(self.data_dir, park_id))

    def manifest_path(self, park_id: str) -> Path:
        """The park's survey manifest (may not exist yet)."""
        return self.survey_dir(park_id) / "manifest.json"

    def wave_path(self, park_id: str, wave_id: str) -> Path:
        """The Parquet file of one wave's clean respondent table."""
        return self.survey_dir(park_id) / "waves" / f"{check_key(wave_id, field='wave id')}.parquet"

    def _report_path(self, park_id: str, wave_id: str) -> Path:
        return self.survey_dir(park_id) / "reports" / f"{check_key(wave_id, field='wave id')}.json"

    # -- manifest (shared: GuardedManifestFiles) ------------------------------------------
    def survey_version(self, park_id: str) -> str:
        """Return a hash of the park's stored waves: equal versions mean equal survey data.

        Use it as a cache key next to the park's ``data_version``.
        """
        return hashlib.sha256(b"survey\x1f" + self.manifest_bytes(park_id)).hexdigest()[:20]

    def list_waves(self, park_id: str) -> list[SurveyWaveRecord]:
        """Return the park's stored waves in the order they were stored."""
        entries = self._manifest_entries(park_id)
        return [SurveyWaveRecord(**entry) for entry in entries]

    # -- writing ---------------------------------------------------------------------------
    def import_wave(
        self, record: SurveyWaveRecord, report: dict[str, object], survey: pd.DataFrame
    ) -> None:
        """Store a wave exactly as given (record, report, clean respondents): moving a park
        between stores keeps its wave ids."""
        park_id, wave_id = record.park_id, check_key(record.wave_id, field="wave id")
        with self._park_lock(park_id):
            records = self.list_waves(park_id)
            check_new_label(records, record.wave, source_name=record.source_name)
            atomic_write_bytes(self.wave_path(park_id, wave_id), survey_parquet_bytes(survey))
            atomic_write_json(self._report_path(park_id, wave_id), report)
            self._write_manifest(park_id, [*records, record])

    def raw_report(self, park_id: str, wave_id: str) -> dict[str, object]:
        """Return the stored report payload as saved (for moving a park between stores)."""
        payload: dict[str, object] = read_json(self._report_path(park_id, wave_id))
        return payload

    def _remove_wave(self, park_id: str, wave_id: str) -> SurveyWaveRecord:
        """Remove the wave's rows, report and manifest entry.

        The manifest is rewritten first, so a crash afterwards only leaves unlisted leftovers.
        """
        with self._park_lock(park_id):
            records = self.list_waves(park_id)
            if wave_id not in {r.wave_id for r in records}:
                raise UnknownWaveError(f"park {park_id!r} has no stored survey wave {wave_id!r}")
            self._write_manifest(park_id, [r for r in records if r.wave_id != wave_id])
            self.wave_path(park_id, wave_id).unlink(missing_ok=True)
            self._report_path(park_id, wave_id).unlink(missing_ok=True)
            self.damage.resolve(park_id, item=wave_id)
        return next(r for r in records if r.wave_id == wave_id)

    def audit_records(self) -> RecordStore:
        """The records whose audit log names who stored or removed a wave."""
        return FileRecordStore(self.data_dir)

    # -- reading ---------------------------------------------------------------------------
    def load(self, park_id: str, *, waves: Sequence[str] | None = None) -> pd.DataFrame:
        """Return the stored respondents of the chosen waves (default all), concatenated.

        Parameters
        ----------
        park_id
            The park.
        waves
            Wave ids to load, in the order given; ``None`` loads every stored wave in order.

        Returns
        -------
        pandas.DataFrame
            The canonical survey table (``SURVEY_COLUMNS`` with ``survey_dtypes()``), an empty
            one when the park has no stored wave.
        """
        records = self.list_waves(park_id)
        chosen = chosen_waves(records, waves, park_id=park_id)
        by_id = {r.wave_id: r for r in records}
        frames = []
        for wave_id in chosen:
            try:
                frames.append(self._read_wave(park_id, by_id[wave_id]))
            except DamagedFileError:
                if waves is not None:
                    raise
        if not frames:
            return empty_survey_frame()
        return conform_survey(pd.concat(frames, ignore_index=True))

    def _read_wave(self, park_id: str, record: SurveyWaveRecord) -> pd.DataFrame:
        path = self.wave_path(park_id, record.wave_id)
        try:
            return _read_parquet(path)
        except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
            existed = path.exists()
            detail = str(err).splitlines()[0] if str(err) else type(err).__name__
            problem = f"the respondents of wave {record.wave!r} ({record.source_name}) " + (
                f"cannot be read ({detail})" if existed else "are missing"
            )
            note = quarantine_and_note(
                path,
                data_dir=self.data_dir,
                park_id=park_id,
                area=SURVEY_AREA,
                problem=problem,
                item=record.wave_id,
            )
            raise DamagedFileError(
                f"{problem}; remove the wave on the Survey page and import the file again",
                file=note.file,
                quarantined_to=note.quarantined_to,
            ) from err

    def load_report(self, park_id: str, wave_id: str) -> SurveyWaveReport:
        """Return a wave's record, issue locations and mapping (for re-download).

        Reports stored before answers were left out also held rejected rows and issue values:
        those are dropped here too, so no stored answer ever reaches a download.
        """
        record = self.get_wave(park_id, wave_id)
        payload = read_json(self._report_path(park_id, wave_id))
        return SurveyWaveReport(
            record=record,
            issues=without_answers(frame_from_json(payload["issues"])),
            mapping=dict(payload["mapping"]),
        )


def prepare_wave(
    park_id: str, survey_import: SurveyImport, *, source_name: str, wave: str
) -> tuple[SurveyWaveRecord, dict[str, object]]:
    """Check an import and return the new wave's record and report (shared by every store).

    Raises
    ------
    ValidationError
        Empty wave label, no valid rows, or columns outside the canonical survey table.
    """
    label = str(wave).strip()
    if not label:
        raise ValidationError("wave label is empty; expected e.g. '2024-spring'", column="wave")
    clean = survey_import.survey
    if clean.empty:
        raise ValidationError(
            "the import has no valid rows; expected at least one respondent to store",
            file=source_name,
        )
    extra = [c for c in clean.columns if c not in SURVEY_COLUMNS]
    if extra:
        # Only the canonical, pseudonymised table may be stored (no raw ids, no IPs).
        raise ValidationError(
            f"survey has non-canonical column(s) {', '.join(map(str, extra))}; expected "
            "only the clean survey columns (retention.survey.schema.SURVEY_COLUMNS)",
            file=source_name,
            column=str(extra[0]),
        )
    wave_id = f"w_{uuid.uuid4().hex[:12]}"
    issues = issues_frame(survey_import.issues)
    record = SurveyWaveRecord(
        wave_id=wave_id,
        park_id=check_park_id(park_id),
        wave=label,
        source_name=str(source_name),
        imported_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        mapping_signature=survey_import.mapping.signature,
        rows_read=int(survey_import.rows_read),
        valid_rows=len(clean),
        rejected_rows=len(survey_import.rejected),
        warning_count=int((~issues["rejected"]).sum()),
        encoding=survey_import.encoding,
    )
    id_columns = {
        column
        for target in ID_TARGETS
        if (column := survey_import.mapping.column_for(target)) is not None
    }
    # No rejected rows and no answer values: this report is shown to every later user.
    report = {
        "issues": frame_to_json(without_answers(issues)),
        "mapping": {
            column: target
            for column, target in survey_import.mapping.as_dict().items()
            if column not in id_columns
        },
    }
    return record, report


def wave_event(action: AuditAction, record: SurveyWaveRecord) -> dict[str, object]:
    """Return the audit detail of storing or removing a wave (ids, label, file, counts only)."""
    detail: dict[str, object] = {"wave_id": record.wave_id, "wave": record.wave}
    if action is AuditAction.WAVE_ADD:
        detail.update(file=record.source_name, rows=record.valid_rows)
    return detail


def audit_wave(
    records: RecordStore, scope: UserScope, action: AuditAction, record: SurveyWaveRecord
) -> None:
    """Append the audit event of storing or removing a wave to the store's log."""
    append_event(records, scope, action, park_id=record.park_id, detail=wave_event(action, record))


def chosen_waves(
    records: Sequence[SurveyWaveRecord], waves: Sequence[str] | None, *, park_id: str
) -> list[str]:
    """Return the wave ids to load: ``waves`` in the order given (each must be stored), or
    every stored wave in order for ``None``."""
    if waves is None:
        return [r.wave_id for r in records]
    known = {r.wave_id for r in records}
    for wave_id in waves:
        if wave_id not in known:
            raise UnknownWaveError(f"park {park_id!r} has no stored survey wave {wave_id!r}")
    return list(waves)


def check_new_label(records: Sequence[SurveyWaveRecord], label: str, *, source_name: str) -> None:
    """Raise ``DuplicateWaveError`` when a stored wave already has ``label``."""
    same = [r for r in records if r.wave == label]
    if same:
        raise DuplicateWaveError(
            f"wave {label!r} is already stored (from {same[0].source_name}, "
            f"{same[0].imported_at}); expected a new wave label, or remove that wave first",
            file=source_name,
            column="wave",
        )


def wave_report_xlsx(report: SurveyWaveReport) -> bytes:
    """Return a stored wave's counts and issue locations as an XLSX workbook (two sheets)."""
    record = report.record
    counts = pd.DataFrame(
        {
            "count": ["rows_read", "valid_rows", "rejected_rows", "warning_count"],
            "value": [
                record.rows_read,
                record.valid_rows,
                record.rejected_rows,
                record.warning_count,
            ],
        }
    )
    return xlsx_bytes({"counts": counts, "issues": report.issues})


def without_answers(issues: pd.DataFrame) -> pd.DataFrame:
    """Return the issue table with ``REPORT_ISSUE_COLUMNS`` and no respondent's answer.

    A row-level issue's value is a respondent's answer (or raw id), so it is blanked; an issue
    with no row is about the file or a header and keeps its value.
    """
    out = issues.reindex(columns=list(REPORT_ISSUE_COLUMNS)).copy()
    out["value"] = out["value"].astype("object").where(out["row"].isna(), "")
    out["value"] = out["value"].fillna("")
    return out.reset_index(drop=True)


def survey_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Return the canonical survey table as Parquet bytes (what every store keeps)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(conform_survey(frame)[list(SURVEY_COLUMNS)], preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pandas()


def survey_from_parquet(data: bytes) -> pd.DataFrame:
    """Return the survey table of :func:`survey_parquet_bytes`' bytes."""
    import pyarrow.parquet as pq

    return pq.read_table(io.BytesIO(data)).to_pandas()


def conform_survey(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly the canonical columns and dtypes (reasons as lists)."""
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for column, dtype in survey_dtypes().items():
        values = frame[column].reset_index(drop=True)
        if column == "reasons":
            out[column] = pd.Series(
                [_reason_list(v) for v in values], index=out.index, dtype="object"
            )
        else:
            out[column] = values.astype(dtype)
    return out


def _reason_list(value: object) -> list[str]:
    if isinstance(value, list | tuple | np.ndarray):
        return [str(v) for v in value]
    return []


# ---------------------------------------------------------------------------------------------
# The park's current survey: stored waves, else the bundled synthetic demo survey
# ---------------------------------------------------------------------------------------------

SurveyOrigin = Literal["stored", "demo", "none"]


@dataclass(frozen=True, eq=False)
class CurrentSurvey:
    """The survey every page of a park analyses.

    Parameters
    ----------
    survey
        The canonical survey table (empty when ``origin`` is ``"none"``).
    origin
        ``"stored"`` (the park's stored waves), ``"demo"`` (the bundled synthetic demo survey,
        used only while the park has no stored wave) or ``"none"``.
    version
        :func:`current_survey_version` at load time: a cache key.
    waves
        The stored waves used (empty for the demo survey).
    """

    survey: pd.DataFrame
    origin: SurveyOrigin
    version: str
    waves: tuple[SurveyWaveRecord, ...]


def demo_survey_path(park_id: str, *, geodata_dir: Path | None = None) -> Path | None:
    """Return the park's bundled demo survey workbook, or ``None`` when it has none."""
    folder = geodata_dir if geodata_dir is not None else default_geodata_dir()
    path = folder / check_park_id(park_id) / DEMO_SURVEY_FILE
    return path if path.is_file() else None


def current_survey_version(
    park_id: str, *, store: SurveyStore, geodata_dir: Path | None = None
) -> str:
    """Return a cache key of the park's current survey (stored waves, else the demo file).

    Cheap enough to call on every page run: it reads the survey manifest, or hashes the demo
    workbook (a few hundred kB) when nothing is stored.
    """
    if store.list_waves(park_id):
        return f"stored:{store.survey_version(park_id)}"
    demo = demo_survey_path(park_id, geodata_dir=geodata_dir)
    if demo is None:
        return "none"
    return f"demo:{hashlib.sha256(demo.read_bytes()).hexdigest()[:20]}"


def load_current_survey(
    park: ParkData, *, store: SurveyStore, salt: bytes, geodata_dir: Path | None = None
) -> CurrentSurvey:
    """Return the park's current survey: every stored wave, else its bundled demo survey.

    Assumes the demo workbook (when used) is a Wenjuanxing-style export whose suggested column
    mapping is right (it is generated that way, see ``geodata.demo_survey``).

    Parameters
    ----------
    park
        The park (its enterprises and residences link the demo survey's answers).
    store
        Where the park's waves are stored.
    salt
        The park's pseudonymisation key (``retention.survey.privacy.load_or_create_salt``) for the
        demo.
    geodata_dir
        Where demo parks live (default ``<repo>/geodata``).
    """
    version = current_survey_version(park.park_id, store=store, geodata_dir=geodata_dir)
    records = store.list_waves(park.park_id)
    if records:
        return CurrentSurvey(store.load(park.park_id), "stored", version, tuple(records))
    demo = demo_survey_path(park.park_id, geodata_dir=geodata_dir)
    if demo is None:
        return CurrentSurvey(empty_survey_frame(), "none", version, ())
    raw = read_survey_file(demo.read_bytes(), file_name=demo.name)
    imported = import_survey(
        raw,
        enterprises=park.layer(LayerKind.ENTERPRISES),
        residences=park.layers.get(LayerKind.RESIDENCES),
        salt=salt,
        wave=DEMO_WAVE,
    )
    return CurrentSurvey(imported.survey, "demo", version, ())
