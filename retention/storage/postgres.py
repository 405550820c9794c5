"""The PostgreSQL/PostGIS store for a shared deployment (``PARKLIFE_DATABASE_URL``).

Same interface as the file store (``retention.storage.store.Store``): uploads with their rows in
a PostGIS table (``geometry(Geometry, 4326)`` with a GiST index), survey waves, versioned records
with their kept versions, the append-only audit log, results-cache blobs and the parameters text.
Every change runs in one transaction that first takes the park's advisory lock
(``pg_advisory_xact_lock``), the database's "one lock per park"; record saves compare the stored
row version inside that transaction, so a stale save is refused and nothing is half-written.

The schema is created and migrated by :func:`upgrade` (``parklife db upgrade``); it lives in one
PostgreSQL schema (default ``parklife``) so a database can hold other things. The driver is
pg8000 (pure Python, BSD licence); each thread of each process has its own connection, so the
handle is safe to share between Streamlit sessions and forked workers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import urllib.parse
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from retention.data.layers import LAYER_SPECS, WGS84, LayerKind
from retention.data.validate import conform_layer, empty_layer
from retention.errors import (
    DamagedFileError,
    ParkLifeError,
    SchemaVersionError,
    StaleVersionError,
    StoreConfigurationError,
)
from retention.storage.damage import DamageNote
from retention.storage.files import KEEP_PREVIOUS as KEEP_VERSIONS
from retention.storage.files import frame_from_json
from retention.storage.layout import check_key, check_kind, check_park_id
from retention.storage.records import Record, RecordStore, now_iso, stale_message
from retention.storage.store import check_parameters_token, parameters_token
from retention.storage.uploads import (
    SOURCE_COLUMN,
    UnknownUploadError,
    UploadRecord,
    UploadReport,
    UploadsBase,
    for_storage,
    uploads_layer,
)
from retention.storage.waves import (
    SurveyWaveRecord,
    SurveyWaveReport,
    UnknownWaveError,
    WavesBase,
    check_new_label,
    chosen_waves,
    conform_survey,
    survey_from_parquet,
    survey_parquet_bytes,
    without_answers,
)

SCHEMA_VERSION = 2
DEFAULT_SCHEMA = "parklife"
DEPLOYMENT_SCOPE = ""
"""``park_id=None`` (deployment-wide records) is stored under this scope."""

_MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE IF NOT EXISTS {s}.records (scope text NOT NULL, kind text NOT NULL, "
        "key text NOT NULL, version integer NOT NULL, updated_at text NOT NULL, "
        "payload jsonb NOT NULL, PRIMARY KEY (scope, kind, key))",
        "CREATE TABLE IF NOT EXISTS {s}.record_versions (scope text NOT NULL, kind text NOT NULL,"
        " key text NOT NULL, version integer NOT NULL, updated_at text NOT NULL, "
        "payload jsonb NOT NULL, PRIMARY KEY (scope, kind, key, version))",
        "CREATE TABLE IF NOT EXISTS {s}.logs (seq bigserial PRIMARY KEY, scope text NOT NULL, "
        "kind text NOT NULL, entry jsonb NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {s}.blobs (scope text NOT NULL, kind text NOT NULL, "
        "key text NOT NULL, data bytea NOT NULL, PRIMARY KEY (scope, kind, key))",
        "CREATE TABLE IF NOT EXISTS {s}.parameters (park_id text PRIMARY KEY, "
        "text text NOT NULL, updated_at text NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {s}.uploads (seq bigserial, park_id text NOT NULL, "
        "upload_id text NOT NULL, record jsonb NOT NULL, report jsonb NOT NULL, "
        "columns jsonb NOT NULL, PRIMARY KEY (park_id, upload_id))",
        "CREATE TABLE IF NOT EXISTS {s}.upload_rows (park_id text NOT NULL, "
        "upload_id text NOT NULL, row_number integer NOT NULL, attributes jsonb NOT NULL, "
        "geom geometry(Geometry, 4326), PRIMARY KEY (park_id, upload_id, row_number), "
        "FOREIGN KEY (park_id, upload_id) REFERENCES {s}.uploads (park_id, upload_id) "
        "ON DELETE CASCADE)",
        "CREATE INDEX IF NOT EXISTS upload_rows_geom ON {s}.upload_rows USING GIST (geom)",
        "CREATE TABLE IF NOT EXISTS {s}.waves (seq bigserial, park_id text NOT NULL, "
        "wave_id text NOT NULL, wave text NOT NULL, record jsonb NOT NULL, "
        "report jsonb NOT NULL, data bytea NOT NULL, PRIMARY KEY (park_id, wave_id), "
        "UNIQUE (park_id, wave))",
    ],
    # 2: the results cache keeps the most recently used entries (warm restart). No "IF NOT
    # EXISTS": a used_at column ParkLife did not make is a conflict to report, not to adopt.
    2: [
        "ALTER TABLE {s}.blobs ADD COLUMN used_at timestamptz NOT NULL DEFAULT clock_timestamp()",
    ],
}
UPGRADE_LOCK = " schema upgrade"
"""Advisory lock name of ``parklife db upgrade`` (never a park id, so no park's writes wait)."""


def connect_parameters(url: str) -> dict[str, Any]:
    """Return pg8000 connection arguments from a ``postgresql://`` URL (``?schema=`` allowed)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise StoreConfigurationError(f"expected a postgresql:// URL, got {parts.scheme!r}")
    query = urllib.parse.parse_qs(parts.query)
    args: dict[str, Any] = {
        "user": urllib.parse.unquote(parts.username or "postgres"),
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "database": urllib.parse.unquote(parts.path.lstrip("/") or "postgres"),
    }
    if parts.password:
        args["password"] = urllib.parse.unquote(parts.password)
    args["schema"] = query.get("schema", [DEFAULT_SCHEMA])[0]
    return args


class Database:
    """Connections to one ParkLife schema: a transaction helper and a few shared queries.

    Each thread of each process has its own connection (a forked child never reuses its
    parent's); they are closed when the object is dropped or by :meth:`close`. It holds no
    reference to the stores built on it, so dropping a store closes its connections at once.

    Parameters
    ----------
    url
        ``postgresql://user:password@host:port/database`` (``?schema=name``).
    """

    def __init__(self, url: str) -> None:
        args = connect_parameters(url)
        self.schema = check_kind(args.pop("schema"))
        self._args = args
        self.url_without_password = _redact(url)
        self._local = threading.local()
        self._opened: list[tuple[int, Any]] = []
        weakref.finalize(self, _close_connections, self._opened)

    def connect(self) -> Any:
        """Open a new pg8000 DB-API connection (the caller closes it)."""
        import pg8000.dbapi  # type: ignore[import-untyped]

        try:
            return pg8000.dbapi.connect(**self._args)
        except Exception as err:  # pg8000 raises InterfaceError/DatabaseError/OSError
            raise StoreConfigurationError(
                f"cannot connect to {self.url_without_password}: {err}"
            ) from err

    @contextlib.contextmanager
    def transaction(self, *, lock: str | None = None) -> Iterator[Any]:
        """Yield a cursor inside one transaction; commit at the end, roll back on error.

        ``lock`` names the park (or ``""`` for the deployment) whose advisory lock the
        transaction holds until it ends: the database's one lock per park.
        """
        connection = self._connection()
        try:
            cursor = connection.cursor()
            if lock is not None:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"parklife:{lock}",))
            yield cursor
            connection.commit()
        except BaseException:
            try:
                connection.rollback()
            except Exception:  # a broken connection: drop it, the next call opens a new one
                self._local.held = None
            raise

    def _connection(self) -> Any:
        """Return this thread's connection (a forked child never reuses its parent's)."""
        held = getattr(self._local, "held", None)
        if held is None or held[0] != os.getpid():
            held = (os.getpid(), self.connect())
            self._local.held = held
            self._opened.append(held)
        return held[1]

    def close(self) -> None:
        """Close this process's connections (they reopen on the next call)."""
        _close_connections(self._opened)
        self._local = threading.local()

    def table(self, name: str) -> str:
        """Return the schema-qualified table name."""
        return f"{self.schema}.{name}"

    def item_value(self, table: str, column: str, park_id: str, id_column: str, item: str) -> Any:
        """Return one column of one upload or wave (``None`` when there is no such item)."""
        with self.transaction() as cursor:
            cursor.execute(
                f"SELECT {column} FROM {self.table(table)} WHERE park_id = %s AND {id_column} = %s",
                (check_park_id(park_id), item),
            )
            row = cursor.fetchone()
        return None if row is None else row[0]

    def report(
        self, table: str, id_column: str, park_id: str, item: str, *, missing: Exception
    ) -> dict[str, object]:
        """Return the stored report JSON of one upload or wave; raise ``missing`` without it."""
        value = self.item_value(table, "report", park_id, id_column, item)
        if value is None:
            raise missing
        payload: dict[str, object] = _json(value)
        return payload

    def listed(self, table: str, park_id: str, cursor: Any | None = None) -> list[dict[str, Any]]:
        """Return the ``record`` JSON of a park's uploads or waves, in the order stored."""
        query = f"SELECT record FROM {self.table(table)} WHERE park_id = %s ORDER BY seq"
        if cursor is None:
            with self.transaction() as own:
                own.execute(query, (check_park_id(park_id),))
                return [_json(row[0]) for row in own.fetchall()]
        cursor.execute(query, (check_park_id(park_id),))
        return [_json(row[0]) for row in cursor.fetchall()]

    def describe(self) -> str:
        """Return the database URL without its password."""
        return f"PostgreSQL {self.url_without_password} (schema {self.schema})"


class PostgresStore:
    """Everything ParkLife stores, in one PostgreSQL/PostGIS schema (module docstring).

    Parameters
    ----------
    url
        ``postgresql://user:password@host:port/database`` (``?schema=name`` to choose the
        schema, default ``parklife``).

    Raises
    ------
    StoreConfigurationError
        When the server cannot be reached or the schema is missing or older than this version
        (run ``parklife db upgrade``).
    """

    def __init__(self, url: str) -> None:
        self.db = Database(url)
        found = schema_version(self.db)
        if found != SCHEMA_VERSION:
            remedy = (
                "run 'parklife db upgrade'"
                if found < SCHEMA_VERSION
                else "a newer ParkLife upgraded it; run that version"
            )
            raise SchemaVersionError(
                f"database {self.db.url_without_password} has ParkLife schema version {found}, "
                f"this version needs {SCHEMA_VERSION}; {remedy}",
                found=found,
                needed=SCHEMA_VERSION,
            )
        self.records: RecordStore = PostgresRecords(self.db)
        self.uploads = PostgresUploads(self.db)
        self.waves = PostgresWaves(self.db)

    def close(self) -> None:
        """Close this process's connections (they reopen on the next call)."""
        self.db.close()

    # -- the Store interface ---------------------------------------------------------------------
    def describe(self) -> str:
        """Return the database URL without its password."""
        return self.db.describe()

    def park_ids(self) -> list[str]:
        """Return the ids of the parks with any stored data."""
        with self.db.transaction() as cursor:
            cursor.execute(
                f"SELECT park_id FROM {self.db.table('uploads')} UNION "
                f"SELECT park_id FROM {self.db.table('waves')} UNION "
                f"SELECT park_id FROM {self.db.table('parameters')} UNION "
                f"SELECT scope FROM {self.db.table('records')} WHERE scope <> '' UNION "
                f"SELECT scope FROM {self.db.table('blobs')} WHERE scope <> ''"
            )
            return sorted(str(row[0]) for row in cursor.fetchall())

    def get_parameters_text(self, park_id: str) -> str | None:
        """Return the park's saved parameters text, ``None`` without any."""
        with self.db.transaction() as cursor:
            cursor.execute(
                f"SELECT text FROM {self.db.table('parameters')} WHERE park_id = %s",
                (check_park_id(park_id),),
            )
            row = cursor.fetchone()
        return None if row is None else str(row[0])

    def put_parameters_text(self, park_id: str, text: str, *, expected_version: str) -> str:
        """Save the text in one transaction if nobody saved meanwhile; return the new token."""
        with self.db.transaction(lock=check_park_id(park_id)) as cursor:
            stored = self._parameters_for_update(cursor, park_id)
            check_parameters_token(park_id, stored, expected_version)
            cursor.execute(
                f"INSERT INTO {self.db.table('parameters')} (park_id, text, updated_at) "
                "VALUES (%s, %s, %s) ON CONFLICT (park_id) DO UPDATE SET text = EXCLUDED.text, "
                "updated_at = EXCLUDED.updated_at",
                (park_id, text, now_iso()),
            )
        return parameters_token(text)

    def delete_parameters(self, park_id: str, *, expected_version: str) -> None:
        """Remove the saved parameters if nobody saved meanwhile."""
        with self.db.transaction(lock=check_park_id(park_id)) as cursor:
            stored = self._parameters_for_update(cursor, park_id)
            check_parameters_token(park_id, stored, expected_version)
            cursor.execute(
                f"DELETE FROM {self.db.table('parameters')} WHERE park_id = %s", (park_id,)
            )

    def _parameters_for_update(self, cursor: Any, park_id: str) -> str | None:
        cursor.execute(
            f"SELECT text FROM {self.db.table('parameters')} WHERE park_id = %s FOR UPDATE",
            (park_id,),
        )
        row = cursor.fetchone()
        return None if row is None else str(row[0])


def _close_connections(opened: list[tuple[int, Any]]) -> None:
    """Close the connections this process opened (a forked child leaves its parent's alone)."""
    mine = [item for item in opened if item[0] == os.getpid()]
    for item in mine:
        opened.remove(item)
        with contextlib.suppress(Exception):  # already broken: nothing left to close
            item[1].close()


def _redact(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _scope(park_id: str | None) -> str:
    return DEPLOYMENT_SCOPE if park_id is None else check_park_id(park_id)


class PostgresRecords:
    """Records, logs and blobs in PostgreSQL (``retention.storage.records.RecordStore``)."""

    def __init__(self, db: Database) -> None:
        self._store = db

    def get(self, park_id: str | None, kind: str, key: str) -> Record | None:
        """Return the record, or ``None``."""
        with self._store.transaction() as cursor:
            return self._select(cursor, park_id, kind, key, lock=False)

    def _select(
        self, cursor: Any, park_id: str | None, kind: str, key: str, *, lock: bool
    ) -> Record | None:
        cursor.execute(
            f"SELECT version, updated_at, payload FROM {self._store.table('records')} "
            "WHERE scope = %s AND kind = %s AND key = %s" + (" FOR UPDATE" if lock else ""),
            (_scope(park_id), check_kind(kind), check_key(key)),
        )
        row = cursor.fetchone()
        if row is None:
            return None
        return Record(park_id, kind, key, int(row[0]), str(row[1]), _json(row[2]))

    def list_records(self, park_id: str | None, kind: str) -> list[Record]:
        """Return every record of ``kind``, sorted by key."""
        with self._store.transaction() as cursor:
            cursor.execute(
                f"SELECT key, version, updated_at, payload FROM {self._store.table('records')} "
                "WHERE scope = %s AND kind = %s ORDER BY key",
                (_scope(park_id), check_kind(kind)),
            )
            rows = cursor.fetchall()
        return [Record(park_id, kind, str(r[0]), int(r[1]), str(r[2]), _json(r[3])) for r in rows]

    def put(
        self, park_id: str | None, kind: str, key: str, payload: Any, *, expected_version: int
    ) -> Record:
        """Save ``payload`` as the next version in one transaction; refused if stale."""
        body = json.dumps(payload, ensure_ascii=False)
        with self._store.transaction(lock=_scope(park_id)) as cursor:
            current = self._select(cursor, park_id, kind, key, lock=True)
            stored = 0 if current is None else current.version
            if stored != expected_version:
                raise StaleVersionError(
                    stale_message(park_id, kind, key, expected=expected_version, stored=stored),
                    stored_version=stored,
                )
            record = Record(park_id, kind, key, stored + 1, now_iso(), payload)
            values = (_scope(park_id), kind, key, record.version, record.updated_at, body)
            cursor.execute(
                f"INSERT INTO {self._store.table('records')} "
                "(scope, kind, key, version, updated_at, payload) "
                "VALUES (%s, %s, %s, %s, %s, CAST(%s AS jsonb)) ON CONFLICT (scope, kind, key) "
                "DO UPDATE SET version = EXCLUDED.version, updated_at = EXCLUDED.updated_at, "
                "payload = EXCLUDED.payload",
                values,
            )
            cursor.execute(
                f"INSERT INTO {self._store.table('record_versions')} "
                "(scope, kind, key, version, updated_at, payload) "
                "VALUES (%s, %s, %s, %s, %s, CAST(%s AS jsonb)) ON CONFLICT DO NOTHING",
                values,
            )
            cursor.execute(
                f"DELETE FROM {self._store.table('record_versions')} WHERE scope = %s AND "
                "kind = %s AND key = %s AND version <= %s",
                (_scope(park_id), kind, key, record.version - KEEP_VERSIONS),
            )
        return record

    def delete(self, park_id: str | None, kind: str, key: str, *, expected_version: int) -> None:
        """Delete the record (its kept versions stay) if the stored version is expected."""
        with self._store.transaction(lock=_scope(park_id)) as cursor:
            current = self._select(cursor, park_id, kind, key, lock=True)
            stored = 0 if current is None else current.version
            if stored != expected_version:
                raise StaleVersionError(
                    stale_message(park_id, kind, key, expected=expected_version, stored=stored),
                    stored_version=stored,
                )
            cursor.execute(
                f"DELETE FROM {self._store.table('records')} WHERE scope = %s AND kind = %s "
                "AND key = %s",
                (_scope(park_id), kind, key),
            )

    def previous_versions(self, park_id: str | None, kind: str, key: str) -> list[Record]:
        """Return the kept versions (the stored one included), newest first."""
        with self._store.transaction() as cursor:
            cursor.execute(
                f"SELECT version, updated_at, payload FROM {self._store.table('record_versions')}"
                " WHERE scope = %s AND kind = %s AND key = %s ORDER BY version DESC",
                (_scope(park_id), check_kind(kind), check_key(key)),
            )
            rows = cursor.fetchall()
        return [Record(park_id, kind, key, int(r[0]), str(r[1]), _json(r[2])) for r in rows]

    def append(self, park_id: str | None, kind: str, entry: dict[str, Any]) -> None:
        """Append an entry to the kind's log (committed before this returns)."""
        with self._store.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {self._store.table('logs')} (scope, kind, entry) "
                "VALUES (%s, %s, CAST(%s AS jsonb))",
                (_scope(park_id), check_kind(kind), json.dumps(entry, ensure_ascii=False)),
            )

    def read_log(self, park_id: str | None, kind: str) -> list[dict[str, Any]]:
        """Return the kind's log entries in the order they were appended."""
        with self._store.transaction() as cursor:
            cursor.execute(
                f"SELECT entry FROM {self._store.table('logs')} WHERE scope = %s AND kind = %s "
                "ORDER BY seq",
                (_scope(park_id), check_kind(kind)),
            )
            return [_json(row[0]) for row in cursor.fetchall()]

    def put_blob(self, park_id: str | None, kind: str, key: str, data: bytes) -> None:
        """Store ``data`` under the key (replacing any previous bytes)."""
        with self._store.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {self._store.table('blobs')} (scope, kind, key, data) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (scope, kind, key) "
                "DO UPDATE SET data = EXCLUDED.data, used_at = clock_timestamp()",
                (_scope(park_id), check_kind(kind), check_key(key), bytes(data)),
            )

    def get_blob(self, park_id: str | None, kind: str, key: str) -> bytes | None:
        """Return the blob's bytes, or ``None``."""
        with self._store.transaction() as cursor:
            cursor.execute(
                f"SELECT data FROM {self._store.table('blobs')} WHERE scope = %s AND kind = %s "
                "AND key = %s",
                (_scope(park_id), check_kind(kind), check_key(key)),
            )
            row = cursor.fetchone()
        return None if row is None else bytes(row[0])

    def list_blobs(self, park_id: str | None, kind: str) -> list[str]:
        """Return the keys of the kind's blobs, the most recently used first."""
        with self._store.transaction() as cursor:
            cursor.execute(
                f"SELECT key FROM {self._store.table('blobs')} WHERE scope = %s AND kind = %s "
                "ORDER BY used_at DESC, key",
                (_scope(park_id), check_kind(kind)),
            )
            return [str(row[0]) for row in cursor.fetchall()]

    def touch_blob(self, park_id: str | None, kind: str, key: str) -> None:
        """Mark the blob as used now."""
        self._blob_statement("UPDATE {t} SET used_at = clock_timestamp()", park_id, kind, key)

    def delete_blob(self, park_id: str | None, kind: str, key: str) -> None:
        """Remove the blob."""
        self._blob_statement("DELETE FROM {t}", park_id, kind, key)

    def _blob_statement(self, statement: str, park_id: str | None, kind: str, key: str) -> None:
        with self._store.transaction() as cursor:
            cursor.execute(
                statement.format(t=self._store.table("blobs"))
                + " WHERE scope = %s AND kind = %s AND key = %s",
                (_scope(park_id), check_kind(kind), check_key(key)),
            )


def _delete_row(store: Database, table: str, key_column: str, park_id: str, key: str) -> bool:
    """Delete one park row of ``table`` in a transaction under the park's lock; return whether
    it existed (uploads and waves are removed the same way)."""
    with store.transaction(lock=check_park_id(park_id)) as cursor:
        cursor.execute(
            f"DELETE FROM {store.table(table)} WHERE park_id = %s AND {key_column} = %s",
            (park_id, key),
        )
        return bool(cursor.rowcount)


def _listing_bytes(records: Sequence[Any]) -> bytes:
    """Return records (dataclasses) as JSON bytes, ``b""`` for none: a cache-key input."""
    if not records:
        return b""
    return json.dumps([asdict(r) for r in records], sort_keys=True).encode("utf-8")


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class _NothingDamaged:
    """A database refuses half-written rows: it never notes a damaged file (the file store's
    ``damage_notes`` / ``restore_manifest`` pair, kept so pages need not ask which store)."""

    def damage_notes(self, park_id: str) -> list[DamageNote]:
        """Return ``[]``."""
        return []

    def restore_manifest(self, park_id: str) -> int:
        """Refuse: there is no list file to restore."""
        raise DamagedFileError("a database store keeps no list file to restore", file="-")


class _ParkItemRows(_NothingDamaged):
    """What the uploads and waves tables share: one row per item of a park (an upload, a wave)
    holding its listed record and its report as JSON, read, listed and deleted the same way."""

    _TABLE: str  # "uploads", "waves"
    _ID_COLUMN: str  # "upload_id", "wave_id"
    _RECORD: type[Any]  # UploadRecord, SurveyWaveRecord

    def __init__(self, db: Database) -> None:
        self._store = db

    def _unknown(self, park_id: str, item: str) -> ParkLifeError:
        """The error for an item the park does not have."""
        raise NotImplementedError

    def _records(self, park_id: str, cursor: Any | None = None) -> list[Any]:
        """Return the park's records in the order stored (in ``cursor``'s transaction if given)."""
        return [self._RECORD(**e) for e in self._store.listed(self._TABLE, park_id, cursor)]

    def manifest_bytes(self, park_id: str) -> bytes:
        """Return the park's list as JSON bytes (``b""`` when it has none): a cache-key input."""
        return _listing_bytes(self._records(park_id))

    def raw_report(self, park_id: str, item: str) -> dict[str, object]:
        """Return the stored report payload as saved (for moving a park between stores)."""
        missing = self._unknown(park_id, item)
        return self._store.report(self._TABLE, self._ID_COLUMN, park_id, item, missing=missing)

    def _delete(self, park_id: str, item: str) -> None:
        """Delete the item's row (and, by cascade, its rows) in one transaction."""
        if not _delete_row(self._store, self._TABLE, self._ID_COLUMN, park_id, item):
            raise self._unknown(park_id, item)

    def audit_records(self) -> RecordStore:
        """The database's records (its audit log)."""
        return PostgresRecords(self._store)


class PostgresUploads(_ParkItemRows, UploadsBase):
    """Uploaded layers in PostgreSQL: one row per feature with a PostGIS geometry."""

    _TABLE, _ID_COLUMN, _RECORD = "uploads", "upload_id", UploadRecord

    def _unknown(self, park_id: str, item: str) -> ParkLifeError:
        return UnknownUploadError(f"park {park_id!r} has no upload {item!r}")

    def park_ids_with_uploads(self) -> list[str]:
        """Return the ids of the parks with an upload."""
        with self._store.transaction() as cursor:
            cursor.execute(f"SELECT DISTINCT park_id FROM {self._store.table('uploads')}")
            return sorted(str(row[0]) for row in cursor.fetchall())

    def list_uploads(
        self, park_id: str, *, kind: LayerKind | str | None = None
    ) -> list[UploadRecord]:
        """Return the park's uploads in upload order, optionally only those of ``kind``."""
        records: list[UploadRecord] = self._records(park_id)
        if kind is not None:
            wanted = LayerKind(kind).value
            records = [r for r in records if r.kind == wanted]
        return records

    def import_upload(
        self, record: UploadRecord, report: dict[str, object], rows: gpd.GeoDataFrame
    ) -> None:
        """Store an upload exactly as given (record, report, valid rows) in one transaction."""
        check_park_id(record.park_id)
        check_key(record.upload_id, field="upload id")
        frame = for_storage(rows) if len(rows) else None
        columns = [] if frame is None else [c for c in frame.columns if c != frame.geometry.name]
        with self._store.transaction(lock=record.park_id) as cursor:
            cursor.execute(
                f"INSERT INTO {self._store.table('uploads')} "
                "(park_id, upload_id, record, report, columns) VALUES "
                "(%s, %s, CAST(%s AS jsonb), CAST(%s AS jsonb), CAST(%s AS jsonb))",
                (
                    record.park_id,
                    record.upload_id,
                    json.dumps(asdict(record), ensure_ascii=False),
                    json.dumps(report, ensure_ascii=False),
                    json.dumps(columns, ensure_ascii=False),
                ),
            )
            if frame is not None:
                values = [
                    (
                        record.park_id,
                        record.upload_id,
                        number,
                        json.dumps(attributes, ensure_ascii=False, allow_nan=False),
                        None if geometry is None else shapely.to_wkb(geometry),
                    )
                    for number, (attributes, geometry) in enumerate(
                        zip(_attribute_rows(frame, columns), frame.geometry, strict=True)
                    )
                ]
                cursor.executemany(
                    f"INSERT INTO {self._store.table('upload_rows')} "
                    "(park_id, upload_id, row_number, attributes, geom) VALUES "
                    "(%s, %s, %s, CAST(%s AS jsonb), ST_GeomFromWKB(%s, 4326))",
                    values,
                )

    def _remove_upload(self, park_id: str, upload_id: str) -> UploadRecord:
        """Remove an upload and its rows in one transaction; return its record."""
        removed = self.get_upload(park_id, upload_id)
        self._delete(park_id, upload_id)
        return removed

    def load_upload(self, park_id: str, upload_id: str) -> gpd.GeoDataFrame:
        """Return one upload's valid rows with canonical types and a ``source`` column."""
        record = self.get_upload(park_id, upload_id)
        spec = LAYER_SPECS[LayerKind(record.kind)]
        if record.valid_rows == 0:
            frame = empty_layer(spec.kind)
        else:
            with self._store.transaction() as cursor:
                cursor.execute(
                    f"SELECT columns FROM {self._store.table('uploads')} WHERE park_id = %s "
                    "AND upload_id = %s",
                    (park_id, upload_id),
                )
                columns = _json(cursor.fetchone()[0])
                cursor.execute(
                    f"SELECT attributes, ST_AsBinary(geom) FROM "
                    f"{self._store.table('upload_rows')} WHERE park_id = %s AND upload_id = %s "
                    "ORDER BY row_number",
                    (park_id, upload_id),
                )
                rows = cursor.fetchall()
            attributes = pd.DataFrame([_json(r[0]) for r in rows], columns=columns)
            geometry = [None if r[1] is None else shapely.from_wkb(bytes(r[1])) for r in rows]
            raw = gpd.GeoDataFrame(attributes, geometry=geometry, crs=WGS84)
            frame = conform_layer(
                raw, spec.kind, source_name=f"{self._store.describe()}:{upload_id}"
            )
        frame[SOURCE_COLUMN] = upload_id
        return frame

    def load_layer(self, park_id: str, kind: LayerKind | str) -> gpd.GeoDataFrame:
        """Return all uploaded rows of ``kind`` for the park, in upload order."""
        frames = [
            self.load_upload(park_id, record.upload_id)
            for record in self.list_uploads(park_id, kind=kind)
            if record.valid_rows
        ]
        return uploads_layer(kind, frames)

    def load_report(self, park_id: str, upload_id: str) -> UploadReport:
        """Return an upload's record, issues and rejected rows."""
        record = self.get_upload(park_id, upload_id)
        payload: Any = self.raw_report(park_id, upload_id)
        return UploadReport(
            record=record,
            issues=frame_from_json(payload["issues"]),
            rejected=frame_from_json(payload["rejected"]),
        )


def _attribute_rows(frame: gpd.GeoDataFrame, columns: list[str]) -> list[dict[str, Any]]:
    plain = pd.DataFrame(frame[columns]).astype(object)
    plain = plain.where(plain.notna(), None)
    return [
        {column: _plain(value) for column, value in zip(columns, row, strict=True)}
        for row in plain.itertuples(index=False, name=None)
    ]


def _plain(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)


class PostgresWaves(_ParkItemRows, WavesBase):
    """Survey waves in PostgreSQL: the clean respondent table as Parquet bytes per wave."""

    _TABLE, _ID_COLUMN, _RECORD = "waves", "wave_id", SurveyWaveRecord

    def _unknown(self, park_id: str, item: str) -> ParkLifeError:
        return UnknownWaveError(f"park {park_id!r} has no stored survey wave {item!r}")

    def list_waves(self, park_id: str) -> list[SurveyWaveRecord]:
        """Return the park's stored waves in the order they were stored."""
        records: list[SurveyWaveRecord] = self._records(park_id)
        return records

    def survey_version(self, park_id: str) -> str:
        """Return a hash of the park's stored waves (a cache key)."""
        return hashlib.sha256(b"survey\x1f" + self.manifest_bytes(park_id)).hexdigest()[:20]

    def import_wave(
        self, record: SurveyWaveRecord, report: dict[str, object], survey: pd.DataFrame
    ) -> None:
        """Store a wave exactly as given (record, report, clean respondents), one transaction."""
        park_id = check_park_id(record.park_id)
        check_key(record.wave_id, field="wave id")
        data = survey_parquet_bytes(survey)
        with self._store.transaction(lock=record.park_id) as cursor:
            check_new_label(
                self._records(park_id, cursor), record.wave, source_name=record.source_name
            )
            cursor.execute(
                f"INSERT INTO {self._store.table('waves')} "
                "(park_id, wave_id, wave, record, report, data) VALUES "
                "(%s, %s, %s, CAST(%s AS jsonb), CAST(%s AS jsonb), %s)",
                (
                    record.park_id,
                    record.wave_id,
                    record.wave,
                    json.dumps(asdict(record), ensure_ascii=False),
                    json.dumps(report, ensure_ascii=False),
                    data,
                ),
            )

    def _remove_wave(self, park_id: str, wave_id: str) -> SurveyWaveRecord:
        """Remove a wave in one transaction; return its record."""
        removed = self.get_wave(park_id, wave_id)
        self._delete(park_id, wave_id)
        return removed

    def load(self, park_id: str, *, waves: Any = None) -> pd.DataFrame:
        """Return the stored respondents of the chosen waves (default all), concatenated."""
        records = self.list_waves(park_id)
        chosen = chosen_waves(records, waves, park_id=park_id)
        frames = []
        with self._store.transaction() as cursor:
            for wave_id in chosen:
                cursor.execute(
                    f"SELECT data FROM {self._store.table('waves')} WHERE park_id = %s "
                    "AND wave_id = %s",
                    (park_id, wave_id),
                )
                frames.append(survey_from_parquet(bytes(cursor.fetchone()[0])))
        if not frames:
            from retention.survey.schema import empty_survey_frame

            return empty_survey_frame()
        return conform_survey(pd.concat(frames, ignore_index=True))

    def load_report(self, park_id: str, wave_id: str) -> SurveyWaveReport:
        """Return a wave's record, issue locations and mapping."""
        record = self.get_wave(park_id, wave_id)
        payload: Any = self.raw_report(park_id, wave_id)
        return SurveyWaveReport(
            record=record,
            issues=without_answers(frame_from_json(payload["issues"])),
            mapping=dict(payload["mapping"]),
        )


# --- schema -------------------------------------------------------------------------------------


def schema_version(store: Database) -> int:
    """Return the ParkLife schema version in the database (0 when there is none)."""
    with store.transaction() as cursor:
        return _stored_version(cursor, store.schema)


def _stored_version(cursor: Any, schema: str) -> int:
    cursor.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
        "AND table_name = 'schema_version'",
        (schema,),
    )
    if cursor.fetchone() is None:
        return 0
    cursor.execute(f"SELECT max(version) FROM {schema}.schema_version")
    row = cursor.fetchone()
    return int(row[0] or 0)


def record_before_upgrade(url: str, park_id: str | None, kind: str, key: str) -> Record | None:
    """Return one record of a database whose schema is older than this code needs.

    Only for the accounts that authorise ``parklife db upgrade`` (who may upgrade is decided by
    the accounts stored in the database being upgraded). Records have kept one table layout
    since version 1; at version 0 there are none (``None``). A migration that changes the
    ``records`` table must keep this readable for every older version it upgrades from.
    """
    db = Database(url)
    try:
        if schema_version(db) < 1:
            return None
        return PostgresRecords(db).get(park_id, kind, key)
    finally:
        db.close()


def upgrade(url: str) -> tuple[int, int]:
    """Create or migrate the ParkLife schema (``parklife db upgrade``); return (from, to).

    Assumes the PostGIS extension is installed on the server (Debian:
    ``postgresql-15-postgis-3``); it is enabled in the database if needed, which needs a role
    allowed to create extensions the first time. The whole upgrade is one transaction under
    one advisory lock: the version is read after the lock is held (two upgrades at once run
    one after the other, the second finds nothing to do), and an upgrade that fails or is
    killed part-way changes nothing — the database stays at the version it had.

    Raises
    ------
    StoreConfigurationError
        When the server cannot be reached, or a migration statement fails (the message names
        the version, the statement and the server's error; nothing was changed).
    """
    import pg8000.dbapi

    probe = Database(url)
    schema = probe.schema
    before = after = 0
    statement = "CREATE EXTENSION IF NOT EXISTS postgis"
    try:
        with probe.transaction(lock=UPGRADE_LOCK) as cursor:
            cursor.execute(statement)
            before = after = _stored_version(cursor, schema)
            for statement in (
                f"CREATE SCHEMA IF NOT EXISTS {schema}",
                f"CREATE TABLE IF NOT EXISTS {schema}.schema_version (version integer NOT NULL)",
            ):
                cursor.execute(statement)
            for version in sorted(v for v in _MIGRATIONS if v > before):
                for text in _MIGRATIONS[version]:
                    statement = text.format(s=schema)
                    cursor.execute(statement)
                statement = f"INSERT INTO {schema}.schema_version (version) VALUES ({version})"
                cursor.execute(statement)
                after = version
    except pg8000.dbapi.DatabaseError as err:
        raise StoreConfigurationError(
            f"the upgrade of {probe.describe()} from schema version {before} to {SCHEMA_VERSION} "
            f"failed at {_shortened(statement)!r} ({_server_message(err)}); nothing was changed, "
            f"the database is still at version {before}; remove the cause the server names (an "
            "object ParkLife did not create, a missing right) and run 'parklife db upgrade' again"
        ) from err
    finally:
        probe.close()
    return before, after


def _shortened(statement: str, limit: int = 90) -> str:
    return statement if len(statement) <= limit else statement[: limit - 1] + "…"


def _server_message(err: Exception) -> str:
    """Return the server's message of a pg8000 error (its ``M`` field), else the error text."""
    details = err.args[0] if err.args and isinstance(err.args[0], dict) else {}
    return str(details.get("M", err))


def row_counts(store: PostgresStore, park_id: str) -> dict[str, int]:
    """Return the park's row count per table."""
    out = {}
    db = store.db
    with db.transaction() as cursor:
        for table in ("uploads", "upload_rows", "waves", "parameters"):
            cursor.execute(f"SELECT count(*) FROM {db.table(table)} WHERE park_id = %s", (park_id,))
            out[table] = int(cursor.fetchone()[0])
        cursor.execute(f"SELECT count(*) FROM {db.table('records')} WHERE scope = %s", (park_id,))
        out["records"] = int(cursor.fetchone()[0])
    return out
