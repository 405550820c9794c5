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
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a synced temporary file (see :func:`replacing`).

    Parameters
    ----------
    path
        Target file; its folder is created if missing.
    data
        The complete new content.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp, tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write_json(path: Path, payload: object) -> None:
    """Write ``payload`` as UTF-8 JSON (non-ASCII kept as is) with :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def read_json(path: Path) -> Any:
    """Return the JSON content of a UTF-8 file written by :func:`atomic_write_json`."""
    return json.loads(path.read_text(encoding="utf-8"))


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (via ``folder/.lock``) for the ``with`` block.

    Assumes every writer of the folder takes this lock; readers do not need it because each file
    is replaced atomically and the manifest is written last.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
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
    atomic_write_bytes(path, text.encode("utf-8"))


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
