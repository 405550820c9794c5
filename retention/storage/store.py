"""The one storage interface: pick the store from the settings, and what every store offers.

``open_store()`` returns the embedded :class:`FileStore` under ``$PARKLIFE_DATA_DIR`` by default,
or the PostgreSQL/PostGIS store (``retention.storage.postgres``) when ``$PARKLIFE_DATABASE_URL``
is a ``postgresql://`` URL. Pages, the command line and batch runs reach stored data only
through a :class:`Store`:

- ``store.uploads``  uploaded layers (``retention.storage.uploads``)
- ``store.waves``    imported survey waves (``retention.storage.waves``)
- ``store.records``  versioned records (mappings, parameters, scenarios, users), the audit log
  and the results cache (``retention.storage.records``)
- ``store.get_parameters_text`` / ``put_parameters_text``: the park's parameters (TOML text,
  versioned by content hash so a save based on an older text is refused)
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from retention.errors import StaleVersionError, StoreConfigurationError
from retention.storage.files import (
    QUARANTINE_FOLDER,
    atomic_write_bytes,
    clean_temp_files,
    folder_lock,
    quarantine,
    write_kept,
)
from retention.storage.layout import (
    DATABASE_URL_ENV,
    DEPLOYMENT_FOLDER,
    PARKS_FOLDER,
    check_key,
    check_park_id,
    configured_database_url,
    default_data_dir,
    park_dir,
)
from retention.storage.records import (
    AUDIT,
    PRIVATE_MODE,
    SCENARIOS,
    FileRecordStore,
    RecordStore,
)
from retention.storage.uploads import UploadStore
from retention.storage.waves import SurveyStore

PARAMETERS_FILE = "parameters.toml"
LEGACY_AUDIT_FILE = "audit.jsonl"
"""Where the audit log was before it became the store's log (read in when the store opens)."""
LEGACY_SCENARIOS_FOLDER = "scenarios"
"""Where scenarios were files before they became records (read in when the store opens)."""
DEFAULT_PARAMETERS_VERSION = "default"
"""Version token of a park without saved parameters."""


def parameters_token(text: str | None) -> str:
    """Return the version token of a parameters text: its SHA-256, ``"default"`` for none."""
    if text is None:
        return DEFAULT_PARAMETERS_VERSION
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Store(Protocol):
    """What every store (file, PostgreSQL) offers; see the module docstring."""

    uploads: Any
    waves: Any
    records: RecordStore

    def describe(self) -> str:
        """Return where the data lives, for messages (no password)."""

    def park_ids(self) -> list[str]:
        """Return the ids of the parks that hold any stored data."""

    def get_parameters_text(self, park_id: str) -> str | None:
        """Return the park's saved parameters (TOML text), ``None`` when there are none."""

    def put_parameters_text(self, park_id: str, text: str, *, expected_version: str) -> str:
        """Save the text if the stored version token is ``expected_version``; return the new one."""

    def delete_parameters(self, park_id: str, *, expected_version: str) -> None:
        """Remove the saved parameters if the stored version token is ``expected_version``."""


class FileStore:
    """The embedded store: everything under one data directory, one folder per park.

    Opening it removes temporary files a killed writer left behind (under each park's lock, so
    no live writer's file is touched).

    Parameters
    ----------
    data_dir
        The data directory (default ``$PARKLIFE_DATA_DIR`` or ``<repo>/data``).
    """

    def __init__(self, data_dir: Path | str | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.uploads = UploadStore(self.data_dir)
        self.waves = SurveyStore(self.data_dir)
        self.records: RecordStore = FileRecordStore(self.data_dir)
        self.clean_temp_files()
        self.import_legacy_layout()

    def describe(self) -> str:
        """Return the data directory."""
        return f"files in {self.data_dir}"

    def park_ids(self) -> list[str]:
        """Return the ids of the parks with a folder in ``<data_dir>/parks``."""
        root = self.data_dir / PARKS_FOLDER
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if p.is_dir() and _is_park_id(p.name))

    def clean_temp_files(self) -> list[Path]:
        """Remove leftover temporary files in every park folder; return what was removed."""
        removed: list[Path] = []
        for park_id in self.park_ids():
            folder = park_dir(self.data_dir, park_id)
            with folder_lock(folder):
                removed.extend(clean_temp_files(folder))
        return removed

    def import_legacy_layout(self) -> int:
        """Move files of the old ``<data_dir>/<park_id>/`` layout into the one layout.

        Those are the saved mappings (``survey_mappings.json``, ``survey_values.json``,
        ``layer_mappings.json``), the scenarios (``parks/<id>/scenarios/*.json``) and the audit
        log (``audit.jsonl``); returns how many records and log entries were made from them.
        """
        from retention.storage.mappings import LEGACY_FILES, import_legacy_mappings

        count = self._import_legacy_audit_log()
        reserved = {PARKS_FOLDER, DEPLOYMENT_FOLDER, QUARANTINE_FOLDER}
        if not self.data_dir.is_dir():
            return 0
        for folder in sorted(self.data_dir.iterdir()):
            legacy = any((folder / name).is_file() for name in LEGACY_FILES)
            if folder.name in reserved or not _is_park_id(folder.name) or not legacy:
                continue
            count += import_legacy_mappings(self.data_dir, self.records, folder.name)
        for park_id in self.park_ids():
            count += self._import_legacy_scenarios(park_id)
        return count

    def _import_legacy_scenarios(self, park_id: str) -> int:
        """Read the old ``parks/<id>/scenarios/<scenario id>.json`` files into records.

        Records already saved win; each old file then goes to quarantine (kept, never read
        again), an unreadable one too, unread.
        """
        folder = park_dir(self.data_dir, park_id) / LEGACY_SCENARIOS_FOLDER
        if not folder.is_dir():
            return 0
        count = 0
        with folder_lock(folder.parent):
            for path in sorted(folder.glob("*.json")):
                try:
                    payload = json.loads(path.read_text(encoding="utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    payload = None
                new = _is_key(path.stem) and isinstance(payload, dict)
                if new and self.records.get(park_id, SCENARIOS, path.stem) is None:
                    self.records.put(park_id, SCENARIOS, path.stem, payload, expected_version=0)
                    count += 1
                quarantine(path, root=self.data_dir)
        return count

    @staticmethod
    def deployment_log_path(data_dir: Path, kind: str) -> Path:
        """The file of a deployment-wide log (the audit log) under ``data_dir``."""
        return FileRecordStore(data_dir).log_path(None, kind)

    def _import_legacy_audit_log(self) -> int:
        """Put the entries of the old ``<data_dir>/audit.jsonl`` before the store's own.

        The merged log is written whole (atomic, mode 0600) under the deployment's lock; the
        old file then goes to quarantine. Returns how many entries were read in.
        """
        old = self.data_dir / LEGACY_AUDIT_FILE
        if not old.is_file():
            return 0
        path = self.deployment_log_path(self.data_dir, AUDIT)
        with folder_lock(path.parent.parent):
            kept = old.read_bytes()
            kept = kept[: kept.rfind(b"\n") + 1]  # a torn last line is not an entry
            current = path.read_bytes() if path.is_file() else b""
            atomic_write_bytes(path, kept + current, mode=PRIVATE_MODE)
            quarantine(old, root=self.data_dir)
        return kept.count(b"\n")

    # -- parameters ------------------------------------------------------------------------------
    def parameters_path(self, park_id: str) -> Path:
        """``<data_dir>/parks/<park_id>/parameters.toml``."""
        return park_dir(self.data_dir, park_id) / PARAMETERS_FILE

    def get_parameters_text(self, park_id: str) -> str | None:
        """Return the raw TOML text, ``None`` when the park has no parameters file."""
        path = self.parameters_path(park_id)
        try:
            return path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            return None

    def put_parameters_text(self, park_id: str, text: str, *, expected_version: str) -> str:
        """Write the TOML text atomically under the park's lock if nobody saved meanwhile."""
        path = self.parameters_path(park_id)
        with folder_lock(path.parent):
            self._check_parameters(park_id, expected_version)
            write_kept(path, text.encode("utf-8"))
        return parameters_token(text)

    def delete_parameters(self, park_id: str, *, expected_version: str) -> None:
        """Remove the parameters file (its kept copies stay) if nobody saved meanwhile."""
        path = self.parameters_path(park_id)
        with folder_lock(path.parent):
            self._check_parameters(park_id, expected_version)
            path.unlink(missing_ok=True)

    def _check_parameters(self, park_id: str, expected_version: str) -> None:
        stored = self.get_parameters_text(park_id)
        check_parameters_token(park_id, stored, expected_version)


def check_parameters_token(park_id: str, stored: str | None, expected_version: str) -> None:
    """Raise ``StaleVersionError`` unless ``stored`` has the token ``expected_version``."""
    if parameters_token(stored) == expected_version:
        return
    if stored is None:
        now = "they have since been reset to the defaults"
    elif expected_version == DEFAULT_PARAMETERS_VERSION:
        now = "someone else saved parameters for it meanwhile"
    else:
        now = "someone else saved a different version meanwhile"
    raise StaleVersionError(
        f"the parameters of park {park_id!r} were not saved: your edit started from an earlier "
        f"version and {now}; reload the page and apply your change again (nothing was "
        "overwritten)",
        stored_version=0 if stored is None else 1,
    )


def _is_key(name: str) -> bool:
    return _passes(check_key, name)


def _is_park_id(name: str) -> bool:
    return _passes(check_park_id, name)


def _passes(check: Callable[[str], str], name: str) -> bool:
    try:
        check(name)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=8)
def _shared(data_dir: str, database_url: str) -> Store:
    return open_store(data_dir=Path(data_dir), database_url=database_url)


def shared_store(data_dir: Path | str | None = None, *, database_url: str | None = None) -> Store:
    """Return this process's store for the settings (opened once, then reused).

    Pages, the pipeline and the command line share one handle per data directory and database
    URL: opening a file store scans the parks for leftover temporary files, which is done once.
    """
    directory = Path(data_dir) if data_dir is not None else default_data_dir()
    url = database_url if database_url is not None else configured_database_url()
    return _shared(str(directory), url)


def open_store(*, data_dir: Path | str | None = None, database_url: str | None = None) -> Store:
    """Return the store the settings name: PostgreSQL if a database URL is set, else files.

    Parameters
    ----------
    data_dir
        The file store's folder (default ``$PARKLIFE_DATA_DIR`` or ``<repo>/data``).
    database_url
        A ``postgresql://user:password@host:port/database`` URL (default
        ``$PARKLIFE_DATABASE_URL``); empty or unset selects the file store.

    Raises
    ------
    StoreConfigurationError
        When the URL is not a PostgreSQL URL or the database cannot be reached.
    """
    url = database_url if database_url is not None else configured_database_url()
    if not url:
        return FileStore(data_dir)
    if not url.startswith(("postgresql://", "postgres://")):
        raise StoreConfigurationError(
            f"{DATABASE_URL_ENV} must be a postgresql:// URL, got {url.split(':')[0]!r}; "
            "unset it to use the file store"
        )
    from retention.storage.postgres import PostgresStore  # only a shared deployment needs it

    return PostgresStore(url)
