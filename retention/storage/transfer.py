"""Moving a park between stores: ``parklife db migrate`` (files -> PostgreSQL and back) and
``parklife export-park`` / ``import-park`` (one archive for an intranet <-> laptop move).

:func:`copy_park` copies every upload (record, report, rows), survey wave, parameters text,
record of the kinds parks keep (saved scenarios and mappings among them), the stored batch
results (``parklife batch --format store``: summary records keyed by run key and their tables)
and the park's audit events from one store to another, keeping ids, then reads everything back
from the target and compares row counts and SHA-256 checksums with the source
(:class:`TransferReport`).
:func:`copy_deployment` does the same for what belongs to no park: the accounts and the other
audit events (``db migrate`` of a whole store; a park archive never carries password hashes).
An archive is a zip holding a file store of the one park plus
``manifest.json`` with each file's SHA-256: :func:`import_archive` refuses an archive whose files
do not match it, before anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import shapely

from retention.errors import StaleVersionError, ValidationError
from retention.storage.layout import check_park_id, park_dir
from retention.storage.records import (
    AUDIT,
    BATCH_RESULTS,
    LAYER_MAPPINGS,
    PARAMETERS,
    SCENARIOS,
    SURVEY_MAPPINGS,
    USERS,
    VALUE_MAPPINGS,
)
from retention.storage.store import FileStore, Store

PARK_RECORD_KINDS = (
    SURVEY_MAPPINGS, VALUE_MAPPINGS, LAYER_MAPPINGS, SCENARIOS, PARAMETERS, BATCH_RESULTS,
)  # fmt: skip
"""Record kinds a park keeps (moved with it); users and the audit log are deployment-wide."""
PARK_BLOB_KINDS = (BATCH_RESULTS,)
"""Blob kinds a park keeps (moved with it, before its records: a batch result's record means
its tables are there). The results cache (``records.RESULTS``) is recomputed, never moved."""
DEPLOYMENT_RECORD_KINDS = (USERS,)
"""Deployment-wide record kinds (moved by :func:`copy_deployment`)."""
AUDIT_PART = "audit"
DEPLOYMENT_LABEL = ""
"""``TransferReport.park_id`` of a deployment transfer."""
ARCHIVED_LOGS = ("deployment/logs/audit.jsonl",)
"""Files outside the park's folder an archive holds: the park's own audit events."""
ARCHIVE_FORMAT = "parklife-park-archive"
ARCHIVE_VERSION = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class TransferLine:
    """One part of a park in a transfer: how many rows, and the checksum on each side."""

    part: str
    source_rows: int
    target_rows: int
    source_sha256: str
    target_sha256: str

    @property
    def matches(self) -> bool:
        """Whether the target holds exactly what the source held."""
        return (self.source_rows, self.source_sha256) == (self.target_rows, self.target_sha256)


@dataclass(frozen=True)
class TransferReport:
    """Row counts and checksums of a copied park, part by part."""

    park_id: str
    lines: tuple[TransferLine, ...]

    @property
    def ok(self) -> bool:
        """Whether every part matches."""
        return all(line.matches for line in self.lines)


def park_contents(store: Store, park_id: str) -> dict[str, tuple[int, str]]:
    """Return ``part -> (rows, sha256)`` of everything the store holds for the park.

    Parts: ``uploads`` (one row per upload: its record and report), ``upload_rows`` (every
    feature: attributes and WKB geometry), ``waves``, ``respondents``, ``parameters``, one per
    record kind and one per kept blob kind (``blobs:batch_results``: each blob's key and SHA-256).
    Checksums are over a canonical text, so equal contents give equal sums
    whichever store holds them.
    """
    check_park_id(park_id)
    out: dict[str, tuple[int, str]] = {}
    uploads = store.uploads.list_uploads(park_id)
    out["uploads"] = _digest(
        [[asdict(r), store.uploads.raw_report(park_id, r.upload_id)] for r in uploads]
    )
    rows: list[object] = []
    for record in uploads:
        frame = store.uploads.load_upload(park_id, record.upload_id)
        rows.extend(_feature_rows(frame))
    out["upload_rows"] = _digest(rows)
    waves = store.waves.list_waves(park_id)
    out["waves"] = _digest([[asdict(w), store.waves.raw_report(park_id, w.wave_id)] for w in waves])
    survey = store.waves.load(park_id) if waves else pd.DataFrame()
    out["respondents"] = _digest(
        json.loads(survey.to_json(orient="values", force_ascii=False)) if len(survey) else []
    )
    text = store.get_parameters_text(park_id)
    out["parameters"] = _digest([] if text is None else [text])
    for kind in PARK_RECORD_KINDS:
        records = store.records.list_records(park_id, kind)
        out[f"records:{kind}"] = _digest([[r.key, r.payload] for r in records])
    for kind in PARK_BLOB_KINDS:
        blobs = [
            [key, hashlib.sha256(data).hexdigest()] for key, data in _blobs(store, park_id, kind)
        ]
        out[f"blobs:{kind}"] = _digest(blobs)
    out[AUDIT_PART] = _digest(park_events(store, park_id))
    return out


def _blobs(store: Store, park_id: str, kind: str) -> list[tuple[str, bytes]]:
    """Return the park's blobs of ``kind`` as ``(key, bytes)``, sorted by key."""
    out = []
    for key in sorted(store.records.list_blobs(park_id, kind)):
        data = store.records.get_blob(park_id, kind, key)
        if data is not None:  # removed since it was listed
            out.append((key, data))
    return out


def park_events(store: Store, park_id: str | None) -> list[dict[str, object]]:
    """Return the audit events about ``park_id`` (``None``: about no park), in log order."""
    wanted = "" if park_id is None else park_id
    return [e for e in store.records.read_log(None, AUDIT) if e.get("park_id", "") == wanted]


def _append_missing(target: Store, events: list[dict[str, object]]) -> None:
    """Append the events the target's log does not hold yet (a repeated move adds nothing)."""
    held = {_canonical(e) for e in target.records.read_log(None, AUDIT)}
    for event in events:
        if _canonical(event) not in held:
            target.records.append(None, AUDIT, event)


def _canonical(entry: object) -> str:
    return json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str)


def _report(park_id: str, source_parts: dict[str, tuple[int, str]],
            target_parts: dict[str, tuple[int, str]]) -> TransferReport:  # fmt: skip
    lines = tuple(
        TransferLine(part, source_parts[part][0], target_parts[part][0], source_parts[part][1],
                     target_parts[part][1])
        for part in source_parts
    )  # fmt: skip
    return TransferReport(park_id, lines)


def _feature_rows(frame: pd.DataFrame) -> list[object]:
    plain = pd.DataFrame(frame).copy()
    geometry = plain.pop("geometry")
    values = json.loads(plain.to_json(orient="values", force_ascii=False))
    return [
        [row, None if geom is None else shapely.to_wkb(geom, hex=True)]
        for row, geom in zip(values, geometry, strict=True)
    ]


def _digest(rows: Sequence[object]) -> tuple[int, str]:
    text = json.dumps(rows, ensure_ascii=False, sort_keys=True, default=str)
    return len(rows), hashlib.sha256(text.encode("utf-8")).hexdigest()


def copy_park(source: Store, target: Store, park_id: str) -> TransferReport:
    """Copy a park from ``source`` to ``target`` (ids kept) and check it by reading it back.

    Assumes the target holds nothing of this park yet (it refuses to mix two copies).

    Raises
    ------
    ValidationError
        When the target already holds uploads, waves, parameters or records of the park.
    """
    check_park_id(park_id)
    before = park_contents(target, park_id)
    held = ", ".join(part for part, (rows, _) in before.items() if rows and part != AUDIT_PART)
    if held:
        raise ValidationError(
            f"the target store already holds park {park_id!r} ({held}); expected an empty "
            "target, so two copies are never mixed",
            column="park_id",
        )
    for record in source.uploads.list_uploads(park_id):
        rows = source.uploads.load_upload(park_id, record.upload_id).drop(columns="source")
        report = source.uploads.raw_report(park_id, record.upload_id)
        target.uploads.import_upload(record, report, rows)
    for wave in source.waves.list_waves(park_id):
        survey = source.waves.load(park_id, waves=[wave.wave_id])
        target.waves.import_wave(wave, source.waves.raw_report(park_id, wave.wave_id), survey)
    text = source.get_parameters_text(park_id)
    if text is not None:
        target.put_parameters_text(park_id, text, expected_version="default")
    for kind in PARK_BLOB_KINDS:
        for key, data in _blobs(source, park_id, kind):
            target.records.put_blob(park_id, kind, key, data)
    for kind in PARK_RECORD_KINDS:
        for record in source.records.list_records(park_id, kind):
            target.records.put(park_id, kind, record.key, record.payload, expected_version=0)
    _append_missing(target, park_events(source, park_id))
    return _report(park_id, park_contents(source, park_id), park_contents(target, park_id))


def deployment_contents(store: Store, *, parks: Sequence[str]) -> dict[str, tuple[int, str]]:
    """Return ``part -> (rows, sha256)`` of what belongs to no park in ``parks``: the accounts
    and every audit event not about one of them."""
    out: dict[str, tuple[int, str]] = {}
    for kind in DEPLOYMENT_RECORD_KINDS:
        records = store.records.list_records(None, kind)
        out[f"records:{kind}"] = _digest([[r.key, r.payload] for r in records])
    moved = set(parks)
    events = [e for e in store.records.read_log(None, AUDIT) if e.get("park_id") not in moved]
    out[AUDIT_PART] = _digest(events)
    return out


def copy_deployment(source: Store, target: Store, *, parks: Sequence[str]) -> TransferReport:
    """Copy the accounts and the audit events about no park in ``parks`` (those moved with
    :func:`copy_park`), then compare both sides as :func:`copy_park` does.

    Raises
    ------
    ValidationError
        When the target already holds accounts (two sets of accounts are never merged).
    """
    for kind in DEPLOYMENT_RECORD_KINDS:
        for record in source.records.list_records(None, kind):
            try:
                target.records.put(None, kind, record.key, record.payload, expected_version=0)
            except StaleVersionError as err:
                raise ValidationError(
                    f"the target store already holds {kind} {record.key!r}; expected a store "
                    "without accounts, so two sets of accounts are never merged",
                    column=kind,
                ) from err
    moved = set(parks)
    _append_missing(
        target, [e for e in source.records.read_log(None, AUDIT) if e.get("park_id") not in moved]
    )
    return _report(
        DEPLOYMENT_LABEL,
        deployment_contents(source, parks=parks),
        deployment_contents(target, parks=parks),
    )


def export_archive(store: Store, park_id: str, path: Path) -> TransferReport:
    """Write the park to one zip archive with a manifest of SHA-256 checksums.

    Returns the report of copying the park into the archive's file store (it must be ``ok``).
    """
    with tempfile.TemporaryDirectory(prefix="parklife-export-") as folder:
        staging = FileStore(Path(folder) / "data")
        report = copy_park(store, staging, park_id)
        root = park_dir(staging.data_dir, park_id)
        files = sorted(
            p for p in root.rglob("*")
            if p.is_file() and p.name != ".lock" and ".history" not in p.parts
        )  # fmt: skip
        files += [staging.data_dir / n for n in ARCHIVED_LOGS if (staging.data_dir / n).is_file()]
        entries = {
            p.relative_to(staging.data_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files
        }
        manifest = {
            "format": ARCHIVE_FORMAT,
            "version": ARCHIVE_VERSION,
            "park_id": park_id,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "files": entries,
            "contents": {part: {"rows": line.target_rows, "sha256": line.target_sha256}
                         for part, line in ((ln.part, ln) for ln in report.lines)},
        }  # fmt: skip
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
            for name in entries:
                archive.write(staging.data_dir / name, name)
        partial.replace(path)
    return report


def import_archive(path: Path, target: Store) -> TransferReport:
    """Check an archive's manifest and checksums, then copy its park into ``target``.

    Raises
    ------
    ValidationError
        When the archive is not a ParkLife park archive, a file is missing, extra or does not
        match its checksum, or the target already holds the park.
    """
    path = Path(path)
    name = path.name
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as err:
        raise ValidationError(f"not a readable zip archive ({err})", file=name) from err
    with archive, tempfile.TemporaryDirectory(prefix="parklife-import-") as folder:
        try:
            manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
        except (KeyError, ValueError) as err:
            raise ValidationError(
                f"the archive has no readable {MANIFEST}; expected a ParkLife park archive",
                file=name,
            ) from err
        if manifest.get("format") != ARCHIVE_FORMAT or manifest.get("version") != ARCHIVE_VERSION:
            raise ValidationError(
                f"{MANIFEST} says format {manifest.get('format')!r} version "
                f"{manifest.get('version')!r}; expected {ARCHIVE_FORMAT!r} version "
                f"{ARCHIVE_VERSION}",
                file=name,
            )
        park_id = check_park_id(str(manifest.get("park_id")))
        expected: dict[str, str] = manifest.get("files", {})
        present = {n for n in archive.namelist() if n != MANIFEST}
        prefix = f"parks/{park_id}/"
        for member in sorted(present | set(expected)):
            inside = member.startswith(prefix) or member in ARCHIVED_LOGS
            if not inside or ".." in member.split("/"):
                raise ValidationError(f"member {member!r} is outside {prefix}", file=name)
            if member not in expected or member not in present:
                where = "not listed in the manifest" if member not in expected else "missing"
                raise ValidationError(f"file {member!r} is {where}", file=name)
            data = archive.read(member)
            if hashlib.sha256(data).hexdigest() != expected[member]:
                raise ValidationError(
                    f"file {member!r} does not match its SHA-256 in {MANIFEST} (damaged "
                    "or changed); expected the archive as exported",
                    file=name,
                )
            out = Path(folder) / "data" / member
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        return copy_park(FileStore(Path(folder) / "data"), target, park_id)
