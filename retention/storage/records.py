"""Versioned records: every small mutable thing a park keeps (mappings, parameters, scenarios,
users, audit log, results cache), behind one interface with a file and a PostgreSQL back end.

A record is a JSON value under ``(park, kind, key)`` with a version that counts its saves. A save
names the version it was based on (``expected_version``, 0 for a new record); if the stored
version has moved on, the save is refused with :class:`~retention.errors.StaleVersionError` and
nothing is written — the user reloads and applies the edit again, and no one's save is lost
silently. ``park_id=None`` addresses deployment-wide records (users).

Besides records the interface keeps an append-only log per kind (the audit log: acknowledged
entries are never lost or rewritten) and unversioned blobs (the results cache: content-addressed,
so a lost race only recomputes).

File layout (the embedded store)::

    <scope>/records/<kind>/<key>.json             {"version", "updated_at", "payload"}
    <scope>/records/<kind>/.history/<key>.json.*  the previous versions (restore)
    <scope>/logs/<kind>.jsonl                     one JSON object per line, fsync'd
    <scope>/blobs/<kind>/<key>                    raw bytes

where ``<scope>`` is ``<data_dir>/parks/<park_id>`` or ``<data_dir>/deployment``. Every write
goes through a temporary file, fsync and rename, under the park's one lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from retention.auth.events import AuditAction, event_entry, new_event
from retention.auth.roles import UserScope
from retention.errors import DamagedFileError, StaleVersionError
from retention.storage.files import (
    atomic_write_bytes,
    folder_lock,
    is_temp_file,
    previous_copies,
    quarantine,
    write_kept,
)
from retention.storage.layout import check_key, check_kind, scope_dir, scope_label

SURVEY_MAPPINGS = "survey_mappings"
"""Saved survey column mappings, keyed by the headers' signature."""
VALUE_MAPPINGS = "value_mappings"
"""Saved survey answer-value mappings."""
LAYER_MAPPINGS = "layer_mappings"
"""Saved layer column mappings (uploaded file headers -> canonical columns)."""
PARAMETERS = "parameters"
"""The park's planning parameters (key ``"park"``)."""
SCENARIOS = "scenarios"
"""Named scenarios of a park."""
USERS = "users"
"""Users of the deployment (``park_id=None``)."""
AUDIT = "audit"
"""The audit log (an append-only log, not records)."""
RESULTS = "results"
"""The results cache (blobs)."""
BATCH_RESULTS = "batch_results"
"""Results of ``parklife batch --format store`` (``retention.batch.export``): one record per run
key digest (the park's summary row) and its result tables as blobs of the same kind. Unlike the
results cache they are kept: moving a park carries them."""
PRIVATE_KINDS = frozenset({USERS, AUDIT})
"""Kinds whose files only the owner may read (password hashes, who did what)."""
PRIVATE_MODE = 0o600
UNREADABLE_LINE = "unreadable_line"
"""Key of the entry :meth:`FileRecordStore.read_log` returns for a line it cannot read."""


@dataclass(frozen=True)
class Record:
    """One stored record.

    Parameters
    ----------
    park_id
        The park, or ``None`` for a deployment-wide record.
    kind, key
        What it is and its name within the kind.
    version
        1 for the first save, +1 for each later save.
    updated_at
        ISO 8601 UTC time of the save.
    payload
        The JSON value saved.
    """

    park_id: str | None
    kind: str
    key: str
    version: int
    updated_at: str
    payload: Any


class RecordStore(Protocol):
    """What every store offers for records, logs and blobs (file and PostgreSQL)."""

    def get(self, park_id: str | None, kind: str, key: str) -> Record | None:
        """Return the record, or ``None`` when there is none."""

    def list_records(self, park_id: str | None, kind: str) -> list[Record]:
        """Return every record of ``kind``, sorted by key."""

    def put(
        self, park_id: str | None, kind: str, key: str, payload: Any, *, expected_version: int
    ) -> Record:
        """Save ``payload`` if the stored version is ``expected_version`` (0: none stored)."""

    def delete(self, park_id: str | None, kind: str, key: str, *, expected_version: int) -> None:
        """Delete the record if the stored version is ``expected_version``."""

    def previous_versions(self, park_id: str | None, kind: str, key: str) -> list[Record]:
        """Return the kept earlier versions of a record, newest first."""

    def append(self, park_id: str | None, kind: str, entry: dict[str, Any]) -> None:
        """Append ``entry`` to the kind's log; returns once it is durable."""

    def read_log(self, park_id: str | None, kind: str) -> list[dict[str, Any]]:
        """Return the kind's log entries in the order they were appended."""

    def put_blob(self, park_id: str | None, kind: str, key: str, data: bytes) -> None:
        """Store ``data`` under the key (replacing any previous bytes)."""

    def get_blob(self, park_id: str | None, kind: str, key: str) -> bytes | None:
        """Return the blob's bytes, or ``None``."""

    def list_blobs(self, park_id: str | None, kind: str) -> list[str]:
        """Return the keys of the kind's blobs, the most recently used first."""

    def touch_blob(self, park_id: str | None, kind: str, key: str) -> None:
        """Mark the blob as used now (kept longest when old ones are trimmed)."""

    def delete_blob(self, park_id: str | None, kind: str, key: str) -> None:
        """Remove the blob (nothing happens when there is none)."""


def append_event(
    records: RecordStore,
    scope: UserScope,
    action: AuditAction,
    *,
    park_id: str,
    detail: Mapping[str, object],
) -> None:
    """Append the audit event of ``scope`` doing ``action`` to the store's deployment log."""
    event = new_event(scope, action, park_id=park_id, detail=detail)
    records.append(None, AUDIT, event_entry(event))


def now_iso() -> str:
    """Return the current UTC time in ISO 8601 (seconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def stale_message(park_id: str | None, kind: str, key: str, *, expected: int, stored: int) -> str:
    """Return the message of a refused save (shared by every store)."""
    what = f"{kind} {key!r} of {scope_label(park_id)}"
    if stored == 0:
        now = "it has since been deleted"
    elif expected == 0:
        now = f"someone else created it meanwhile (version {stored})"
    else:
        now = f"someone else saved version {stored} meanwhile"
    return (
        f"{what} was not saved: your edit is based on version {expected}, but {now}; "
        "reload it and apply your change again (nothing was overwritten)"
    )


class FileRecord:
    """One versioned record in one JSON file: read, save, delete and restore under its folder's
    lock, every write atomic with earlier versions kept in ``.history/`` beside it.

    Parameters
    ----------
    path
        The record's file.
    root
        The folder messages name paths relative to, and whose ``quarantine/`` takes a damaged
        file.
    park_id, kind, key
        What the record is (for the :class:`Record` returned and for messages).
    lock
        The folder whose lock serialises writers (default: the file's folder).
    private
        Create the file and its kept copies readable by the owner only (mode 0600: password
        hashes, the audit log).
    legacy
        Turns the content of a file in an older layout into a payload (``None``: not that
        layout either); such a file reads as version 0 and the next save replaces it.
    """

    def __init__(
        self,
        path: Path,
        *,
        root: Path,
        park_id: str | None,
        kind: str,
        key: str,
        lock: Path | None = None,
        private: bool = False,
        legacy: Callable[[Any], Any] | None = None,
    ) -> None:
        self.path, self.root = Path(path), Path(root)
        self.park_id, self.kind, self.key = park_id, kind, key
        self.lock = self.path.parent if lock is None else Path(lock)
        self.mode = PRIVATE_MODE if private else None
        self.legacy = legacy

    def _relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.name

    def get(self) -> Record | None:
        """Return the record, or ``None``; ``DamagedFileError`` if its file is damaged."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return _record_from_bytes(self.park_id, self.kind, self.key, raw)
        except ValueError as err:
            old = self._legacy(raw)
            if old is not None:
                return old
            moved = quarantine(self.path, root=self.root)
            copies = previous_copies(self.path)
            hint = (
                f"restore the last good copy ({len(copies)} kept)"
                if copies
                else "no earlier copy is kept; save it again"
            )
            raise DamagedFileError(
                f"the stored {self.kind} {self.key!r} cannot be read ({err}); it was moved to "
                f"quarantine; {hint}",
                file=self._relative(self.path),
                quarantined_to=None if moved is None else self._relative(moved),
            ) from err

    def _legacy(self, raw: bytes) -> Record | None:
        if self.legacy is None:
            return None
        try:
            payload = self.legacy(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        if payload is None:
            return None
        return Record(self.park_id, self.kind, self.key, 0, "", payload)

    def _check(self, expected_version: int) -> int:
        current = self.get()
        stored = 0 if current is None else current.version
        if stored != expected_version:
            raise StaleVersionError(
                stale_message(
                    self.park_id, self.kind, self.key, expected=expected_version, stored=stored
                ),
                stored_version=stored,
            )
        return stored

    def _write(self, record: Record) -> Record:
        write_kept(self.path, _record_bytes(record), mode=self.mode)
        return record

    def put(self, payload: Any, *, expected_version: int) -> Record:
        """Save ``payload`` as the next version; ``StaleVersionError`` (nothing written) if the
        stored version is not ``expected_version``."""
        with folder_lock(self.lock):
            stored = self._check(expected_version)
            return self._write(Record(self.park_id, self.kind, self.key, stored + 1, now_iso(),
                                      payload))  # fmt: skip

    def delete(self, *, expected_version: int) -> None:
        """Delete the record (its kept copies stay) if the stored version is expected."""
        with folder_lock(self.lock):
            self._check(expected_version)
            self.path.unlink(missing_ok=True)

    def previous_versions(self) -> list[Record]:
        """Return the kept versions (readable ones, the stored one included), newest first."""
        out = []
        for copy in previous_copies(self.path):
            try:
                out.append(_record_from_bytes(self.park_id, self.kind, self.key, copy.read_bytes()))
            except ValueError:
                continue
        return out

    def restore(self) -> Record:
        """Save the newest readable kept version older than the stored one (after damage, or
        to undo a save) as a new version; ``DamagedFileError`` when none is kept."""
        with folder_lock(self.lock):
            try:
                current = self.get()
            except DamagedFileError:
                current = None
            earlier = [
                r
                for r in self.previous_versions()
                if current is None or r.version < current.version
            ]
            if not earlier:
                raise DamagedFileError(
                    f"no earlier copy of {self.kind} {self.key!r} is kept to restore from",
                    file=self._relative(self.path),
                )
            base = max(earlier[0].version, 0 if current is None else current.version)
            return self._write(Record(self.park_id, self.kind, self.key, base + 1, now_iso(),
                                      earlier[0].payload))  # fmt: skip


class FileRecordStore:
    """Records, logs and blobs as files under ``data_dir`` (module docstring).

    Parameters
    ----------
    data_dir
        The ParkLife data directory.
    """

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)

    # -- paths ---------------------------------------------------------------------------------
    def _scope(self, park_id: str | None) -> Path:
        return scope_dir(self.data_dir, park_id)

    def record_path(self, park_id: str | None, kind: str, key: str) -> Path:
        """The file of one record (ids checked)."""
        return self._scope(park_id) / "records" / check_kind(kind) / f"{check_key(key)}.json"

    def file_record(self, park_id: str | None, kind: str, key: str) -> FileRecord:
        """The one record's file, locked by its scope's (the park's) one lock."""
        return FileRecord(
            self.record_path(park_id, kind, key),
            root=self.data_dir,
            park_id=park_id,
            kind=kind,
            key=key,
            lock=self._scope(park_id),
            private=kind in PRIVATE_KINDS,
        )

    # -- records -------------------------------------------------------------------------------
    def get(self, park_id: str | None, kind: str, key: str) -> Record | None:
        """Return the record, or ``None``; ``DamagedFileError`` if its file is damaged."""
        return self.file_record(park_id, kind, key).get()

    def list_records(self, park_id: str | None, kind: str) -> list[Record]:
        """Return every record of ``kind`` sorted by key (damaged ones raise)."""
        folder = self._scope(park_id) / "records" / check_kind(kind)
        if not folder.is_dir():
            return []
        keys = sorted(p.stem for p in folder.glob("*.json") if not p.name.startswith("."))
        found = [self.get(park_id, kind, key) for key in keys]
        return [record for record in found if record is not None]

    def put(
        self, park_id: str | None, kind: str, key: str, payload: Any, *, expected_version: int
    ) -> Record:
        """Save ``payload`` as the next version; refused if the stored one is not expected.

        Raises
        ------
        StaleVersionError
            The stored version is not ``expected_version``; nothing was written.
        """
        return self.file_record(park_id, kind, key).put(payload, expected_version=expected_version)

    def restore(self, park_id: str | None, kind: str, key: str) -> Record:
        """Save the newest readable kept version older than the stored one as a new version.

        Raises
        ------
        DamagedFileError
            When no readable earlier version is kept.
        """
        return self.file_record(park_id, kind, key).restore()

    def delete(self, park_id: str | None, kind: str, key: str, *, expected_version: int) -> None:
        """Delete the record (a copy is kept) if the stored version is ``expected_version``."""
        self.file_record(park_id, kind, key).delete(expected_version=expected_version)

    def previous_versions(self, park_id: str | None, kind: str, key: str) -> list[Record]:
        """Return the kept versions (readable ones, the stored one included), newest first."""
        return self.file_record(park_id, kind, key).previous_versions()

    # -- append-only logs ----------------------------------------------------------------------
    def log_path(self, park_id: str | None, kind: str) -> Path:
        """The file of a log (``<scope>/logs/<kind>.jsonl``)."""
        return self._scope(park_id) / "logs" / f"{check_kind(kind)}.jsonl"

    def append(self, park_id: str | None, kind: str, entry: dict[str, Any]) -> None:
        """Append one JSON line and fsync it; a torn last line from a crash is cut off first.

        The file is created with mode 0600 (the audit log names users).
        """
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str)
        data = line.encode("utf-8") + b"\n"
        if b"\n" in data[:-1]:
            raise ValueError("a log entry must encode to one line")
        path = self.log_path(park_id, kind)
        with folder_lock(self._scope(park_id)):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_MODE)
            try:
                size = os.lseek(fd, 0, os.SEEK_END)
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    size = _complete_length(path)
                    os.ftruncate(fd, size)
                written = 0
                while written < len(data):  # a short write on a full disk: finish or raise
                    written += os.pwrite(fd, data[written:], size + written)
                os.fsync(fd)
            finally:
                os.close(fd)

    def read_log(self, park_id: str | None, kind: str) -> list[dict[str, Any]]:
        """Return the complete log entries (a torn last line is not an entry); a line that is
        not a JSON object (the file was edited or damaged) is returned as
        ``{"unreadable_line": <line number>}``."""
        path = self.log_path(park_id, kind)
        if not path.is_file():
            return []
        return [_log_entry(number, line) for number, line in _complete_lines(path.read_bytes())]

    # -- blobs ---------------------------------------------------------------------------------
    def _blob_path(self, park_id: str | None, kind: str, key: str) -> Path:
        return self._scope(park_id) / "blobs" / check_kind(kind) / check_key(key)

    def put_blob(self, park_id: str | None, kind: str, key: str, data: bytes) -> None:
        """Store ``data`` atomically under the key."""
        path = self._blob_path(park_id, kind, key)
        with folder_lock(self._scope(park_id)):
            atomic_write_bytes(path, bytes(data))
            _mark_used(path)

    def get_blob(self, park_id: str | None, kind: str, key: str) -> bytes | None:
        """Return the blob's bytes, or ``None``."""
        path = self._blob_path(park_id, kind, key)
        return path.read_bytes() if path.is_file() else None

    def list_blobs(self, park_id: str | None, kind: str) -> list[str]:
        """Return the keys of the kind's blobs, the most recently used (written, touched) first."""
        folder = self._scope(park_id) / "blobs" / check_kind(kind)
        if not folder.is_dir():
            return []
        found = []
        for path in folder.iterdir():
            if path.is_file() and not is_temp_file(path):
                with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                    found.append((path.stat().st_mtime_ns, path.name))
        return [name for _, name in sorted(found, reverse=True)]

    def touch_blob(self, park_id: str | None, kind: str, key: str) -> None:
        """Set the blob file's modification time to now."""
        with contextlib.suppress(FileNotFoundError):
            _mark_used(self._blob_path(park_id, kind, key))

    def delete_blob(self, park_id: str | None, kind: str, key: str) -> None:
        """Remove the blob file under the scope's lock."""
        with folder_lock(self._scope(park_id)):
            self._blob_path(park_id, kind, key).unlink(missing_ok=True)


def _mark_used(path: Path) -> None:
    """Set the modification time to now at full precision (the file system's own clock ticks
    in milliseconds, too coarse to order blobs written one after another)."""
    now = time.time_ns()
    os.utime(path, ns=(now, now))


def _log_entry(number: int, line: bytes) -> dict[str, Any]:
    try:
        entry = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        entry = None
    return entry if isinstance(entry, dict) else {UNREADABLE_LINE: number}


def _record_bytes(record: Record) -> bytes:
    body = {"version": record.version, "updated_at": record.updated_at, "payload": record.payload}
    return json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def _record_from_bytes(park_id: str | None, kind: str, key: str, raw: bytes) -> Record:
    if not raw.strip():
        raise ValueError("the file is empty")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"not valid UTF-8 JSON: {err}") from err
    if not isinstance(body, dict) or not {"version", "updated_at", "payload"} <= set(body):
        raise ValueError("expected a JSON object with version, updated_at and payload")
    version = body["version"]
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"version {version!r} is not a positive integer")
    return Record(park_id, kind, key, version, str(body["updated_at"]), body["payload"])


def _complete_lines(raw: bytes) -> Iterator[tuple[int, bytes]]:
    end = raw.rfind(b"\n")
    for number, line in enumerate(raw[: end + 1].splitlines(), start=1):
        if line.strip():
            yield number, line


def _complete_length(path: Path) -> int:
    raw = path.read_bytes()
    return raw.rfind(b"\n") + 1
