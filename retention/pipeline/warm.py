"""Warm restart: the pipeline's expensive results kept in the store's results cache, by run key.

A restarted server loads travel times, the current survey, indicators and the fitted model from
the store's results cache (``retention.storage.records``, kind ``results``: files under
``<data_dir>/parks/<park>/blobs/results/`` on the file store, rows on the PostgreSQL store, so
every server of a shared deployment reuses them) instead of recomputing them; what is missing is
computed once and kept for the next restart. Entries are named by the stage and
``RunKey.for_stage(...).digest()`` (plus the stage's options), so a new upload, a saved
parameter or a new survey wave makes a new entry and the old one is never read again; the least
recently used entries beyond :data:`MAX_ENTRIES` per stage and park are removed on each save
(:meth:`WarmStore.prune` removes old entries on demand).

Format (:data:`FORMAT_VERSION`): one zip archive per entry holding ``entry.json`` (format
version, stage, key digest, the value's structure), ``arrays.npz`` (numpy arrays, read with
``allow_pickle=False``) and one Parquet file per table (GeoParquet for geometry). No pickle is
used: decoding builds only frozen dataclasses and enums defined in ``retention`` (checked by
name before import) from numbers, text, arrays and tables, so a tampered entry can at worst give
wrong numbers or a :class:`WarmCacheError`, never run code. An entry is one blob, written
atomically by the store, so a reader sees a whole entry or none; a lock file under
``<data_dir>/cache/pipeline/`` serialises two processes of one server computing the same entry,
so the second one loads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import fcntl
import hashlib
import importlib
import io
import json
import logging
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd

from retention.errors import ParkLifeError
from retention.pipeline.run_key import RunKey, Stage
from retention.storage.records import RESULTS
from retention.storage.store import Store, shared_store

FORMAT_VERSION = 1
"""Version of the on-disk format; entries of another version are ignored (recomputed)."""
CACHE_FOLDER = Path("cache") / "pipeline"
"""Where entries live under the data directory."""
_ENTRY = "entry.json"
_ARRAYS = "arrays.npz"
_ALLOWED_PREFIX = "retention."
MAX_ENTRIES: Mapping[Stage, int] = MappingProxyType(
    {Stage.TRAVEL_TIMES: 8, Stage.INDICATORS: 256, Stage.SURVEY: 8, Stage.MODEL: 8}
)
"""Entries kept per stage (the most recently used); older ones are removed on each save."""
_DEFAULT_MAX_ENTRIES = 16

T = TypeVar("T")
log = logging.getLogger(__name__)


class WarmCacheError(ParkLifeError):
    """A stored entry cannot be read back (damaged, or holds something the format forbids)."""


# --- encoding -----------------------------------------------------------------------------------


class _Writer:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}  # member name -> bytes (the tables)
        self.arrays: dict[str, np.ndarray] = {}
        self.shared: dict[int, str] = {}  # id of an array already stored -> its name
        self.tables = 0

    def encode(self, value: Any, path: str) -> Any:
        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, float):
            return {"__float__": repr(value)}  # exact, inf and nan included
        if isinstance(value, enum.Enum):
            return {"__enum__": _qualified(type(value)), "value": self.encode(value.value, path)}
        if isinstance(value, np.ndarray | np.generic):
            array = np.asarray(value)
            if array.dtype.hasobject:
                raise TypeError(f"{path}: object arrays cannot be stored without pickle")
            if isinstance(value, np.ndarray) and id(value) in self.shared:
                name = self.shared[id(value)]  # one array shared by several windows: once
            else:
                name = f"a{len(self.arrays)}"
                self.arrays[name] = array
                if isinstance(value, np.ndarray):
                    self.shared[id(value)] = name
            return {"__array__": name, "scalar": isinstance(value, np.generic)}
        if isinstance(value, pd.DataFrame | pd.Series):
            return self._table(value, path)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            cls = type(value)
            fields = {
                f.name: self.encode(getattr(value, f.name), f"{path}.{f.name}")
                for f in dataclasses.fields(value)
                if f.init
            }
            return {"__dataclass__": _qualified(cls), "fields": fields}
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self.encode(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, Mapping):
            items = [
                [self.encode(k, f"{path}.key"), self.encode(v, f"{path}[{k!r}]")]
                for k, v in value.items()
            ]
            return {"__mapping__": items, "proxy": isinstance(value, MappingProxyType)}
        raise TypeError(f"{path}: cannot store a {type(value).__name__} in the warm cache")

    def _table(self, value: pd.DataFrame | pd.Series, path: str) -> Any:
        name = f"t{self.tables}.parquet"
        self.tables += 1
        series = isinstance(value, pd.Series)
        frame = value.to_frame(name="__values__") if series else value
        if not all(isinstance(c, str) for c in frame.columns):
            raise TypeError(f"{path}: table columns must be text to be stored")
        geo = isinstance(frame, gpd.GeoDataFrame)
        # Parquet reads a list cell back as an array: lists (reasons for leaving) go as JSON text.
        listed = [
            c
            for c in frame.columns
            if frame[c].dtype == object and frame[c].map(lambda v: isinstance(v, list)).any()
        ]
        if listed:
            frame = frame.assign(
                **{c: frame[c].map(lambda v: None if v is None else json.dumps(v)) for c in listed}
            )
        buffer = io.BytesIO()
        frame.to_parquet(buffer)
        self.files[name] = buffer.getvalue()
        record: dict[str, Any] = {"__table__": name, "geo": geo, "series": series}
        if listed:
            record["json_columns"] = listed
        if series:
            record["name"] = self.encode(value.name, path)
        if geo:
            record["geometry"] = frame.geometry.name
        return record


def _qualified(cls: type) -> str:
    name = f"{cls.__module__}:{cls.__qualname__}"
    if not cls.__module__.startswith(_ALLOWED_PREFIX):
        raise TypeError(f"{name}: only retention's own dataclasses and enums can be stored")
    return name


# --- decoding -----------------------------------------------------------------------------------


class _Reader:
    def __init__(
        self, name: str, members: Mapping[str, bytes], arrays: Mapping[str, np.ndarray]
    ) -> None:
        self.name = name
        self.members = members
        self.arrays = arrays

    def decode(self, value: Any) -> Any:
        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            raise WarmCacheError(f"unexpected {type(value).__name__} in {self.name}")
        if "__float__" in value:
            return float(value["__float__"])
        if "__tuple__" in value:
            return tuple(self.decode(v) for v in value["__tuple__"])
        if "__mapping__" in value:
            mapping = {self.decode(k): self.decode(v) for k, v in value["__mapping__"]}
            return MappingProxyType(mapping) if value.get("proxy") else mapping
        if "__array__" in value:
            array = self.arrays[value["__array__"]]  # one object per name: sharing kept
            if value.get("scalar"):
                return array[()]
            array.setflags(write=False)  # cached results are shared: never mutated
            return array
        if "__table__" in value:
            return self._table(value)
        if "__enum__" in value:
            cls = _allowed_class(value["__enum__"])
            if not issubclass(cls, enum.Enum):
                raise WarmCacheError(f"{value['__enum__']} is not an enum")
            return cls(self.decode(value["value"]))
        if "__dataclass__" in value:
            cls = _allowed_class(value["__dataclass__"])
            if not dataclasses.is_dataclass(cls):
                raise WarmCacheError(f"{value['__dataclass__']} is not a dataclass")
            fields = {name: self.decode(v) for name, v in value["fields"].items()}
            return cls(**fields)
        raise WarmCacheError(f"unknown record {sorted(value)} in {self.name}")

    def _table(self, record: Mapping[str, Any]) -> pd.DataFrame | pd.Series:
        name = str(record["__table__"])
        if name not in self.members or name in (_ENTRY, _ARRAYS):
            raise WarmCacheError(f"table {name!r} is not in its entry")
        data = io.BytesIO(self.members[name])
        frame = gpd.read_parquet(data) if record.get("geo") else pd.read_parquet(data)
        for column in record.get("json_columns", ()):
            frame[column] = frame[column].map(lambda v: None if v is None else json.loads(v))
        if record.get("series"):
            series = frame["__values__"]
            series.name = self.decode(record.get("name"))
            return series
        return frame


def _allowed_class(name: str) -> type:
    module, _, qualname = str(name).partition(":")
    if not module.startswith(_ALLOWED_PREFIX) or not qualname or "." in qualname:
        raise WarmCacheError(f"{name!r}: only retention's own classes can be read back")
    cls = getattr(importlib.import_module(module), qualname, None)
    if not isinstance(cls, type):
        raise WarmCacheError(f"{name!r} is not a class")
    return cls


# --- the store ----------------------------------------------------------------------------------


class WarmStore:
    """Pipeline results in the store's results cache (module docstring).

    Parameters
    ----------
    data_dir
        The ParkLife data directory (``PARKLIFE_DATA_DIR``); it is server-owned and holds the
        lock files (and, on the file store, the entries).
    store
        The store whose results cache keeps the entries (default
        ``retention.storage.store.shared_store(data_dir)``: the PostgreSQL store when
        ``$PARKLIFE_DATABASE_URL`` is set).
    """

    def __init__(self, data_dir: Path, *, store: Store | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / CACHE_FOLDER
        self.store = store if store is not None else shared_store(self.data_dir)

    def entry_name(self, stage: Stage, key: RunKey | None, options: tuple[Any, ...] = ()) -> str:
        """Return the entry's name: the stage key's digest and the options' hash.

        ``key`` is ``None`` for a result that depends on its options only (a file's content
        read, named by its hash).
        """
        if key is None and not options:
            raise ValueError("an entry without a run key must be named by its options")
        narrowed = "" if key is None else key.for_stage(stage).digest()
        if not options:
            return narrowed
        text = json.dumps([FORMAT_VERSION, narrowed, repr(options)], ensure_ascii=True)
        return hashlib.sha256(text.encode("ascii")).hexdigest()

    def blob_key(self, stage: Stage, key: RunKey | None, options: tuple[Any, ...] = ()) -> str:
        """Return the entry's key in the results cache: ``<stage>.<entry name>``."""
        return f"{Stage(stage).value}.{self.entry_name(stage, key, options)}"

    @staticmethod
    def scope(key: RunKey | None) -> str | None:
        """Return the park whose results cache holds the entry (``None``: the deployment's)."""
        return None if key is None else key.park_id

    def has(self, stage: Stage, key: RunKey | None, options: tuple[Any, ...] = ()) -> bool:
        """Return whether an entry is stored (without reading it)."""
        listed = self.store.records.list_blobs(self.scope(key), RESULTS)
        return self.blob_key(stage, key, options) in listed

    def load(
        self, stage: Stage, key: RunKey | None, expected: type[T], options: tuple[Any, ...] = ()
    ) -> T | None:
        """Return the stored value, or ``None`` when there is none of this format version.

        Raises
        ------
        WarmCacheError
            When the entry exists but cannot be read back as ``expected``.
        """
        name = self.blob_key(stage, key, options)
        data = self.store.records.get_blob(self.scope(key), RESULTS, name)
        if data is None:
            return None
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = {member: archive.read(member) for member in archive.namelist()}
            header = json.loads(members[_ENTRY].decode("utf-8"))
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
            raise WarmCacheError(f"warm cache entry {name} is damaged: {error}") from error
        if not isinstance(header, dict) or header.get("format") != FORMAT_VERSION:
            return None
        try:
            arrays: dict[str, np.ndarray] = {}
            if _ARRAYS in members:
                with np.load(io.BytesIO(members[_ARRAYS]), allow_pickle=False) as stored:
                    arrays = {item: stored[item] for item in stored.files}
            value = _Reader(name, members, arrays).decode(header["value"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise WarmCacheError(f"warm cache entry {name} is damaged: {error}") from error
        if not isinstance(value, expected):
            raise WarmCacheError(
                f"warm cache entry {name} holds a {type(value).__name__}, expected "
                f"{expected.__name__}"
            )
        return value

    def save(
        self, stage: Stage, key: RunKey | None, value: object, options: tuple[Any, ...] = ()
    ) -> str:
        """Store ``value`` as the entry of ``stage`` and ``key`` (one atomic blob); return its
        key in the results cache.

        Raises
        ------
        TypeError
            When ``value`` holds something the format cannot store without pickle.
        """
        writer = _Writer()
        encoded = writer.encode(value, type(value).__name__)
        header = {
            "format": FORMAT_VERSION,
            "stage": Stage(stage).value,
            "key": None if key is None else key.for_stage(stage).digest(),
            "park_id": None if key is None else key.park_id,
            "options": repr(options),
            "value": encoded,
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(_ENTRY, json.dumps(header))
            if writer.arrays:
                arrays = io.BytesIO()
                np.savez(arrays, **writer.arrays)  # type: ignore[arg-type]
                archive.writestr(_ARRAYS, arrays.getvalue())
            for member, data in writer.files.items():
                archive.writestr(member, data)
        name = self.blob_key(stage, key, options)
        self.store.records.put_blob(self.scope(key), RESULTS, name, buffer.getvalue())
        self._trim(Stage(stage), self.scope(key), keep=name)
        return name

    def _trim(self, stage: Stage, scope: str | None, *, keep: str) -> None:
        limit = MAX_ENTRIES.get(stage, _DEFAULT_MAX_ENTRIES)
        prefix = f"{stage.value}."
        listed = self.store.records.list_blobs(scope, RESULTS)  # most recently used first
        entries = [name for name in listed if name.startswith(prefix) and name != keep]
        for old in entries[limit - 1 :]:
            self.store.records.delete_blob(scope, RESULTS, old)

    @contextlib.contextmanager
    def _lock(self, stage: Stage, key: RunKey | None, options: tuple[Any, ...]) -> Iterator[None]:
        folder = self.root / Stage(stage).value
        folder.mkdir(parents=True, exist_ok=True)
        lock = folder / f".{self.entry_name(stage, key, options)}.lock"
        with lock.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def get_or_compute(
        self,
        stage: Stage,
        key: RunKey | None,
        compute: Callable[[], T],
        expected: type[T],
        options: tuple[Any, ...] = (),
    ) -> T:
        """Return the stored value, else compute it, store it and return it.

        A damaged entry is reported in the log, removed and recomputed. A value that cannot be
        stored (``TypeError``) or a store that cannot take it (full disk) is reported in the log
        and returned unstored: the result is right, only the next restart computes it again.
        """
        records = self.store.records
        try:
            stored = self.load(stage, key, expected, options)
        except WarmCacheError as error:
            log.warning("%s; recomputing", error)
            records.delete_blob(self.scope(key), RESULTS, self.blob_key(stage, key, options))
            stored = None
        if stored is not None:
            # most recently used: trimmed last
            records.touch_blob(self.scope(key), RESULTS, self.blob_key(stage, key, options))
            return stored
        with self._lock(stage, key, options):
            stored = self.load(stage, key, expected, options)  # another process may have won
            if stored is not None:
                return stored
            value = compute()
            try:
                self.save(stage, key, value, options)
            except (TypeError, ValueError, OSError) as error:
                log.warning("not kept for a warm restart (%s): %s", stage, error)
            return value

    def prune(self, *, keep: Mapping[Stage, set[str]] | None = None) -> int:
        """Remove every entry of another format or not named in ``keep`` (stage -> entry
        names, :meth:`entry_name`), in every park's results cache and the deployment's.

        Returns
        -------
        int
            Entries removed.
        """
        removed = 0
        records = self.store.records
        for scope in [None, *self.store.park_ids()]:
            for name in records.list_blobs(scope, RESULTS):
                stage_name, _, entry = name.partition(".")
                try:
                    stage = Stage(stage_name)
                except ValueError:
                    stage = None
                kept = None if keep is None or stage is None else keep.get(stage, set())
                if kept is not None and entry in kept:
                    continue
                if keep is None and stage is not None:
                    continue
                records.delete_blob(scope, RESULTS, name)
                removed += 1
        return removed
