"""Crash-safe file primitives shared by the embedded stores (uploads, survey waves).

Both stores keep a JSON manifest as the source of truth, write every file to a temporary name and
rename it over the old one (``os.replace`` is atomic on POSIX), manifest last, and serialise
writers with a lock file in the store's folder (``retention.storage.uploads``,
``retention.storage.waves``).
This module holds those mechanics once; what is stored, and where, stays with each store.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd


@contextlib.contextmanager
def replacing(path: Path, *, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path to write; rename it over ``path`` when the block ends normally.

    Assumes the temporary name (``.<name>.<hex><suffix>`` beside ``path``) is on the same file
    system, so the rename is atomic: a reader sees the old file or the new one, never a part.
    Whatever the block leaves at the temporary path is removed if it raises.

    Parameters
    ----------
    path
        Target file; its folder must exist.
    suffix
        End of the temporary name (GDAL picks a driver from it, e.g. ``".tmp.gpkg"``).
    """
    if not suffix.startswith(".tmp"):
        raise ValueError(f"temporary suffix {suffix!r} must start with '.tmp' (clean-up finds it)")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
        _fsync_folder(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


_TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{32}\.tmp(\.[A-Za-z0-9]+)?$")


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (the folder entry is flushed to disk)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_temp_file(path: Path) -> bool:
    """Whether ``path`` is a temporary file left by :func:`replacing` (e.g. after a kill)."""
    return bool(_TEMP_NAME.match(path.name))


def clean_temp_files(folder: Path) -> list[Path]:
    """Remove every temporary file :func:`replacing` left under ``folder``; return them.

    Assumes the caller holds ``folder``'s lock (:func:`folder_lock`): every writer writes its
    temporary files while holding it, so none of those removed can still be in use.
    """
    if not folder.is_dir():
        return []
    removed = [p for p in folder.rglob(".*") if p.is_file() and is_temp_file(p)]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` through a synced temporary file (see :func:`replacing`).

    Parameters
    ----------
    path
        Target file; its folder is created if missing.
    data
        The complete new content.
    mode
        Permission bits to create the file with (``0o600``: the owner only, never readable by
        others even briefly); default: the process's usual ones.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        fd = os.open(tmp, flags, 0o666 if mode is None else mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())


def atomic_write_json(path: Path, payload: object) -> None:
    """Write ``payload`` as UTF-8 JSON (non-ASCII kept as is) with :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def read_json(path: Path) -> Any:
    """Return the JSON content of a UTF-8 file written by :func:`atomic_write_json`."""
    return json.loads(path.read_text(encoding="utf-8"))


_HELD = threading.local()


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (via ``folder/.lock``) for the ``with`` block.

    Assumes every writer of the folder takes this lock; readers do not need it because each file
    is replaced atomically and the manifest is written last. Re-entrant within a thread (a store
    noting damage while it writes); other threads and processes wait.
    """
    folder.mkdir(parents=True, exist_ok=True)
    key = str((folder / ".lock").resolve())
    held: set[str] = _HELD.__dict__.setdefault("paths", set())
    if key in held:
        yield
        return
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(handle, fcntl.LOCK_UN)


def manifest_bytes(path: Path) -> bytes:
    """Return a manifest's bytes, ``b""`` when it does not exist yet (a cache-key input)."""
    return path.read_bytes() if path.is_file() else b""


def read_manifest_entries(path: Path, *, key: str) -> list[dict[str, Any]]:
    """Return the entries listed under ``key`` in a manifest, ``[]`` when there is no manifest.

    Parameters
    ----------
    path
        The manifest file.
    key
        The list's name in the manifest (``"uploads"``, ``"waves"``).
    """
    raw = manifest_bytes(path)
    if not raw:
        return []
    entries: list[dict[str, Any]] = json.loads(raw.decode("utf-8"))[key]
    return entries


def write_manifest(path: Path, records: Sequence[Any], *, key: str, version: int) -> None:
    """Atomically write a manifest listing ``records`` (dataclass instances) under ``key``.

    The text is indented with sorted keys so equal contents give equal bytes (a cache key).

    Parameters
    ----------
    path
        The manifest file.
    records
        Dataclass instances, in the order to list them.
    key
        The list's name in the manifest.
    version
        The manifest format version, stored as ``"version"``.
    """
    payload = {"version": version, key: [asdict(record) for record in records]}
    text = json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True)
    write_kept(path, text.encode("utf-8"))


def frame_to_json(frame: pd.DataFrame) -> dict[str, object]:
    """Return ``frame`` as ``{"columns": [...], "data": [[...], ...]}`` of JSON values.

    Geometries become WKT, missing values ``None``, numpy scalars Python ones, anything else its
    text. The index is dropped.
    """
    plain = pd.DataFrame(frame).copy()
    for column in plain.columns:
        if isinstance(plain[column].dtype, gpd.array.GeometryDtype):
            plain[column] = gpd.GeoSeries(plain[column]).to_wkt()
    plain = plain.astype(object).where(plain.notna(), None)
    return {
        "columns": [str(c) for c in plain.columns],
        "data": [[_jsonable(v) for v in row] for row in plain.itertuples(index=False)],
    }


def frame_from_json(payload: dict[str, Any]) -> pd.DataFrame:
    """Return the frame of :func:`frame_to_json`'s payload (geometries stay WKT text)."""
    return pd.DataFrame(payload["data"], columns=payload["columns"])


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


# --- previous versions and quarantine ----------------------------------------------------------

HISTORY_FOLDER = ".history"
QUARANTINE_FOLDER = "quarantine"
KEEP_PREVIOUS = 5
"""How many written versions of each manifest and record are kept for restore."""


def keep_copy(
    path: Path, data: bytes, *, keep: int = KEEP_PREVIOUS, mode: int | None = None
) -> None:
    """Keep ``data`` (just written to ``path``) in ``.history/`` beside it; keep ``keep`` copies.

    Call it, under the folder's lock, right after writing ``path``: the newest copy is the last
    good version a damaged file can be restored from (:func:`previous_copies`).
    """
    history = path.parent / HISTORY_FOLDER
    history.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(history / f"{path.name}.{time.time_ns():020d}", data, mode=mode)
    for old in previous_copies(path)[keep:]:
        old.unlink(missing_ok=True)


def write_kept(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``path`` atomically and keep a copy of what was written (:func:`keep_copy`);
    ``mode`` as in :func:`atomic_write_bytes`, for both."""
    atomic_write_bytes(path, data, mode=mode)
    keep_copy(path, data, mode=mode)


def previous_copies(path: Path) -> list[Path]:
    """Return the kept previous copies of ``path``, newest first."""
    history = path.parent / HISTORY_FOLDER
    if not history.is_dir():
        return []
    pattern = re.compile(re.escape(path.name) + r"\.(\d{20})$")
    found = [p for p in history.iterdir() if pattern.match(p.name)]
    return sorted(found, key=lambda p: p.name, reverse=True)


def quarantine(path: Path, *, root: Path) -> Path | None:
    """Move a damaged file into ``<root>/quarantine/`` and return its new path.

    Returns ``None`` when the file does not exist (a deleted file has nothing to keep). The
    name keeps the path below ``root`` and the time, so nothing in quarantine is overwritten.
    """
    if not path.exists():
        return None
    relative = path.relative_to(root).as_posix().replace("/", "__")
    target = root / QUARANTINE_FOLDER / f"{time.time_ns():020d}-{relative}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), target)
    return target


class ManifestDamageError(ValueError):
    """A manifest exists but does not hold the expected JSON (internal: stores turn it into a
    ``retention.errors.DamagedFileError`` after moving the file to quarantine)."""


def parse_manifest_entries(
    raw: bytes, *, key: str, required: Sequence[str]
) -> list[dict[str, Any]]:
    """Return the entries of manifest bytes, checking the layout; ``ManifestDamageError`` otherwise.

    Parameters
    ----------
    raw
        The manifest file's bytes (an existing file is never legitimately empty: every write
        replaces it whole).
    key
        The list's name (``"uploads"``, ``"waves"``).
    required
        Fields every entry must have.
    """
    if not raw.strip():
        raise ManifestDamageError("the file is empty; expected a JSON object")
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ManifestDamageError(f"the file is not valid UTF-8 JSON ({err})") from err
    if not isinstance(payload, dict) or not isinstance(payload.get(key), list):
        raise ManifestDamageError(f"expected a JSON object with a {key!r} list")
    entries: list[dict[str, Any]] = payload[key]
    for number, entry in enumerate(entries, start=1):
        missing = [name for name in required if not isinstance(entry, dict) or name not in entry]
        if missing:
            raise ManifestDamageError(f"entry {number} lacks {', '.join(missing)}")
    return entries
