"""A real version-1 PostgreSQL database, as ParkLife's first PostgreSQL store made and filled it,
upgraded to version 2 by ``parklife db upgrade``.

The version-1 schema below is the DDL of ``retention/storage/postgres.py`` before schema 2 (git
history, commits b8bed95..0be46ae: the statements never changed while the version was 1), and
the rows are written here with plain SQL in the shapes the version-1 code wrote them (upload
records and reports as JSON, one row per feature with a PostGIS geometry, the survey table as
Parquet bytes, versioned records with their kept versions, the audit log, a results-cache blob
without ``used_at``). Nothing of the current writers is used to fill it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import shapely

from retention.cli._main import main
from retention.errors import StoreConfigurationError
from retention.storage import postgres
from retention.storage.postgres import PostgresStore, schema_version, upgrade
from retention.storage.records import AUDIT, RESULTS, SCENARIOS, SURVEY_MAPPINGS, USERS
from retention.storage.transfer import park_contents
from tests.store_fixtures import survey_import

REPO = Path(__file__).resolve().parent.parent

# --- the version-1 database ----------------------------------------------------------------------
# What version 1's upgrade() ran, in order (its setup transaction, then migration 1).
V1_UPGRADE = (
    "CREATE EXTENSION IF NOT EXISTS postgis",
    "CREATE SCHEMA IF NOT EXISTS {s}",
    "CREATE TABLE IF NOT EXISTS {s}.schema_version (version integer NOT NULL)",
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
    "INSERT INTO {s}.schema_version (version) VALUES (1)",
)
TABLES = ("schema_version", "records", "record_versions", "logs", "blobs", "parameters",
          "uploads", "upload_rows", "waves")  # fmt: skip

PARK = "tiny"
ISSUE_COLUMNS = ["file", "row", "column", "value", "expected", "message", "severity"]
ENTERPRISE_UPLOAD = {
    "upload_id": "u_0a1b2c3d4e5f", "park_id": PARK, "kind": "enterprises",
    "source_name": "企业名录.csv", "coordinate_system": "gcj02",
    "uploaded_at": "2026-11-20T09:30:00+00:00", "valid_rows": 2, "rejected_rows": 1,
    "warning_count": 1,
}  # fmt: skip
ENTERPRISE_REPORT = {
    "issues": {"columns": ISSUE_COLUMNS, "data": [
        ["企业名录.csv", 4, "员工数", "很多", "a whole number", "员工数 is not a number", "error"],
    ]},
    "rejected": {"columns": ["row", "编号", "名称", "员工数", "reasons"],
                 "data": [[4, "E3", "坏行", "很多", "员工数 is not a number"]]},
}  # fmt: skip
ENTERPRISE_COLUMNS = ["id", "name", "name_en", "industry", "employees", "shift_pattern", "zone_id"]
ENTERPRISE_ROWS = [
    ({"id": "E1", "name": "金山电机", "name_en": None, "industry": "electrical",
      "employees": 1200, "shift_pattern": "two_shift", "zone_id": None},
     "POINT (113.145 27.845)"),
    ({"id": "E2", "name": "湘江轨道 \"南厂\"", "name_en": "Xiangjiang Rail", "industry": "rail",
      "employees": 800, "shift_pattern": "day", "zone_id": "Z1"},
     "POINT (113.15 27.85)"),
]  # fmt: skip
ZONE_UPLOAD = {
    "upload_id": "u_5f4e3d2c1b0a", "park_id": PARK, "kind": "zones", "source_name": "网格.geojson",
    "coordinate_system": "wgs84", "uploaded_at": "2026-11-20T09:31:00+00:00", "valid_rows": 1,
    "rejected_rows": 0, "warning_count": 0,
}  # fmt: skip
ZONE_COLUMNS = ["id", "name", "name_en", "level", "parent"]
ZONE_ROWS = [
    ({"id": "Z1", "name": "湖畔网格", "name_en": None, "level": "grid", "parent": None},
     "MULTIPOLYGON (((113.14 27.84, 113.16 27.84, 113.16 27.86, 113.14 27.86, 113.14 27.84), "
     "(113.145 27.845, 113.146 27.845, 113.146 27.846, 113.145 27.845)))"),
]  # fmt: skip
ROAD_UPLOAD = {
    "upload_id": "u_roads0000001", "park_id": PARK, "kind": "roads", "source_name": "路网.shp",
    "coordinate_system": "wgs84", "uploaded_at": "2026-11-20T09:32:00+00:00", "valid_rows": 1,
    "rejected_rows": 0, "warning_count": 0,
}  # fmt: skip
ROAD_COLUMNS = ["id", "name", "road_class", "walk", "bike"]
ROAD_ROWS = [
    ({"id": "R1", "name": "金山路", "road_class": "collector", "walk": True, "bike": False},
     "LINESTRING (113.14 27.845, 113.15 27.846, 113.16 27.85)"),
]  # fmt: skip
EMPTY_REPORT = {"issues": {"columns": ISSUE_COLUMNS, "data": []},
                "rejected": {"columns": ["row", "reasons"], "data": []}}  # fmt: skip

WAVE = {
    "wave_id": "w_00aa11bb22cc", "park_id": PARK, "wave": "2024-春", "source_name": "问卷.csv",
    "imported_at": "2026-11-21T02:00:00+00:00", "mapping_signature": "e335fe498bd12945",
    "rows_read": 4, "valid_rows": 3, "rejected_rows": 1, "warning_count": 1, "encoding": "gb18030",
}  # fmt: skip
WAVE_REPORT = {
    "issues": {"columns": ["row", "column", "value", "expected", "rejected"],
               "data": [[4, "1、您所在的企业:", "", "an enterprise id or name", True]]},
    "mapping": {"1、您所在的企业:": "enterprise", "3、您的年龄段:": "age_band", "序号": "ignore"},
}  # fmt: skip

SCENARIO_ID = "5c3a9e01d2b4f687"
SCENARIO_V1 = {"name": "湖边诊所", "description": "", "schema_version": 1, "modifications": []}
SCENARIO_V2 = {"name": "湖边诊所（关闭）", "description": "王工 \"草案\"", "schema_version": 1,
               "modifications": [{"op": "close_amenity", "amenity_id": "A3",
                                  "annual_saving_cny_per_year": 50000.0}]}  # fmt: skip
PASSWORD = "湖边-密码-2026"
SALT = bytes(range(16))
MAPPING = {"columns": [["1、您所在的企业:", "enterprise"]], "headers": ["序号", "1、您所在的企业:"]}
PARAMETERS_TEXT = "# 金山园区\n[travel]\nwalk_speed_m_per_min = 70.0\n"
CACHE_BLOB = bytes(range(256)) * 3
EVENTS = [
    {"time_utc": "2026-11-20T09:00:00+00:00", "user": "ana", "role": "admin",
     "action": "user_add", "park_id": "", "detail": {"name": "wang"}},
    {"time_utc": "2026-11-20T09:30:00+00:00", "user": "wang", "role": "planner",
     "action": "upload_add", "park_id": PARK,
     "detail": {"upload_id": "u_0a1b2c3d4e5f", "kind": "enterprises", "file": "企业名录.csv"}},
    {"time_utc": "2026-11-22T10:00:00+00:00", "user": "wang", "role": "planner",
     "action": "scenario_change", "park_id": PARK,
     "detail": {"scenario_id": SCENARIO_ID, "name": "湖边诊所（关闭）", "how": "save"}},
    {"time_utc": "2026-11-22T10:05:00+00:00", "user": "wang", "role": "planner",
     "action": "export", "park_id": PARK, "detail": {"file": "报告.pdf", "format": "pdf"}},
]  # fmt: skip


def _scrypt_hash(password: str) -> str:
    """The account hash format (scrypt$N$r$p$salt$key), made here with a fixed salt."""
    key = hashlib.scrypt(password.encode("utf-8"), salt=SALT, n=16384, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${SALT.hex()}${key.hex()}"


ACCOUNTS = {"format": 1, "users": {
    "ana": {"role": "admin", "enterprise_ids": [], "password": _scrypt_hash(PASSWORD)},
    "hr.e1": {"role": "hr", "enterprise_ids": ["E1"], "password": _scrypt_hash("另一个")},
}}  # fmt: skip
# (scope, kind, key) -> the kept versions, oldest first: (version, updated_at, payload)
RECORDS = {
    (PARK, SCENARIOS, SCENARIO_ID): [
        (1, "2026-11-22T09:00:00+00:00", {"record_version": 1, "scenario_id": SCENARIO_ID,
         "author": "王工", "created_utc": "2026-11-22T09:00:00+00:00",
         "updated_utc": "2026-11-22T09:00:00+00:00", "scenario": SCENARIO_V1}),
        (2, "2026-11-22T10:00:00+00:00", {"record_version": 1, "scenario_id": SCENARIO_ID,
         "author": "王工", "created_utc": "2026-11-22T09:00:00+00:00",
         "updated_utc": "2026-11-22T10:00:00+00:00", "scenario": SCENARIO_V2}),
    ],
    (PARK, SURVEY_MAPPINGS, "e335fe498bd12945"): [(1, "2026-11-21T02:00:00+00:00", MAPPING)],
    ("", USERS, "accounts"): [(1, "2026-11-20T08:00:00+00:00", {**ACCOUNTS, "users": {
        "ana": ACCOUNTS["users"]["ana"]}}), (2, "2026-11-20T09:00:00+00:00", ACCOUNTS)],
}  # fmt: skip


def _survey() -> pd.DataFrame:
    from retention.survey.schema import SURVEY_COLUMNS

    return survey_import().survey[list(SURVEY_COLUMNS)].reset_index(drop=True)


def _parquet(frame: pd.DataFrame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()


def _fill_v1(cursor, s: str) -> None:
    """Write a park, accounts and audit events as version 1 stored them (plain SQL)."""
    for record, report, columns, rows in (
        (ENTERPRISE_UPLOAD, ENTERPRISE_REPORT, ENTERPRISE_COLUMNS, ENTERPRISE_ROWS),
        (ZONE_UPLOAD, EMPTY_REPORT, ZONE_COLUMNS, ZONE_ROWS),
        (ROAD_UPLOAD, EMPTY_REPORT, ROAD_COLUMNS, ROAD_ROWS),
    ):
        cursor.execute(
            f"INSERT INTO {s}.uploads (park_id, upload_id, record, report, columns) VALUES "
            "(%s, %s, CAST(%s AS jsonb), CAST(%s AS jsonb), CAST(%s AS jsonb))",
            (PARK, record["upload_id"], json.dumps(record, ensure_ascii=False),
             json.dumps(report, ensure_ascii=False), json.dumps(columns)),
        )  # fmt: skip
        for number, (attributes, wkt) in enumerate(rows):
            cursor.execute(
                f"INSERT INTO {s}.upload_rows (park_id, upload_id, row_number, attributes, geom) "
                "VALUES (%s, %s, %s, CAST(%s AS jsonb), ST_GeomFromText(%s, 4326))",
                (PARK, record["upload_id"], number, json.dumps(attributes, ensure_ascii=False),
                 wkt),
            )  # fmt: skip
    cursor.execute(
        f"INSERT INTO {s}.waves (park_id, wave_id, wave, record, report, data) VALUES "
        "(%s, %s, %s, CAST(%s AS jsonb), CAST(%s AS jsonb), %s)",
        (PARK, WAVE["wave_id"], WAVE["wave"], json.dumps(WAVE, ensure_ascii=False),
         json.dumps(WAVE_REPORT, ensure_ascii=False), _parquet(_survey())),
    )  # fmt: skip
    for (scope, kind, key), versions in RECORDS.items():
        for version, updated_at, payload in versions:
            values = (
                scope,
                kind,
                key,
                version,
                updated_at,
                json.dumps(payload, ensure_ascii=False),
            )
            cursor.execute(
                f"INSERT INTO {s}.record_versions (scope, kind, key, version, updated_at, payload)"
                " VALUES (%s, %s, %s, %s, %s, CAST(%s AS jsonb))",
                values,
            )
        cursor.execute(
            f"INSERT INTO {s}.records (scope, kind, key, version, updated_at, payload) VALUES "
            "(%s, %s, %s, %s, %s, CAST(%s AS jsonb))",
            values,
        )
    for event in EVENTS:
        cursor.execute(
            f"INSERT INTO {s}.logs (scope, kind, entry) VALUES ('', 'audit', CAST(%s AS jsonb))",
            (json.dumps(event, ensure_ascii=False),),
        )
    cursor.execute(
        f"INSERT INTO {s}.blobs (scope, kind, key, data) VALUES (%s, %s, %s, %s)",
        (PARK, RESULTS, "travel.0123456789abcdef", CACHE_BLOB),
    )
    cursor.execute(
        f"INSERT INTO {s}.parameters (park_id, text, updated_at) VALUES (%s, %s, %s)",
        (PARK, PARAMETERS_TEXT, "2026-11-20T10:00:00+00:00"),
    )


def _connect(url: str):
    args = postgres.connect_parameters(url)
    args.pop("schema")
    import pg8000.dbapi

    return pg8000.dbapi.connect(**args)


@pytest.fixture
def v1_url(postgres_url: str) -> Iterator[str]:
    """A fresh schema made and filled as version 1 did; yields its URL."""
    schema = f"v1_{uuid.uuid4().hex[:10]}"
    connection = _connect(postgres_url)
    try:
        cursor = connection.cursor()
        for statement in V1_UPGRADE:
            cursor.execute(statement.format(s=schema))
        _fill_v1(cursor, schema)
        connection.commit()
    finally:
        connection.close()
    yield f"{postgres_url}?schema={schema}"


def _dump(url: str) -> dict[str, list[str]]:
    """Every row of every table, as sorted JSON text: equal dumps, equal databases."""
    schema = postgres.connect_parameters(url)["schema"]
    connection = _connect(url)
    try:
        cursor = connection.cursor()
        out = {}
        for table in TABLES:
            cursor.execute(f"SELECT to_jsonb(t)::text FROM {schema}.{table} t")
            out[table] = sorted(row[0] for row in cursor.fetchall())
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE "
            "table_schema = %s AND table_name = 'blobs' ORDER BY column_name",
            (schema,),
        )
        out["blobs columns"] = [f"{name} {kind}" for name, kind in cursor.fetchall()]
        return out
    finally:
        connection.close()


ADMIN = {"PARKLIFE_USER": "ana", "PARKLIFE_PASSWORD": PASSWORD}


def _run(*args: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err, environ=environ or {})
    return code, out.getvalue(), err.getvalue()


# --- before the upgrade --------------------------------------------------------------------------
def test_a_version_1_database_is_refused_with_the_upgrade_command(
    v1_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(StoreConfigurationError) as refused:
        PostgresStore(v1_url)
    message = str(refused.value)
    assert "schema version 1" in message and "needs 2" in message
    assert "run 'parklife db upgrade'" in message
    monkeypatch.setenv("PARKLIFE_DATABASE_URL", v1_url)
    code, out, err = _run("parks", environ=ADMIN)
    assert code != 0 and out == ""
    assert "schema version 1" in err and "parklife db upgrade" in err and "Traceback" not in err
    assert _dump(v1_url)["schema_version"] == ['{"version": 1}']  # refusing changed nothing


# --- the upgrade ---------------------------------------------------------------------------------
def test_the_accounts_of_the_version_1_database_decide_who_may_upgrade_it(
    v1_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``PARKLIFE_DATABASE_URL`` set (a deployment), ``parklife db upgrade`` signs the user
    in against the accounts in the database it upgrades: only an admin may run it."""
    monkeypatch.setenv("PARKLIFE_DATABASE_URL", v1_url)
    before = _dump(v1_url)
    hr = {"PARKLIFE_USER": "hr.e1", "PARKLIFE_PASSWORD": "另一个"}
    wrong = {**ADMIN, "PARKLIFE_PASSWORD": "wrong password"}
    for environ in ({}, hr, wrong):
        code, out, err = _run("db", "upgrade", environ=environ)
        assert code == 8 and out == "", (environ, err)
    assert _dump(v1_url) == before
    code, out, err = _run("db", "upgrade", environ=ADMIN)
    assert (code, err) == (0, "") and "1 -> 2" in out
    assert _run("db", "upgrade", environ=ADMIN)[1] == out.replace("1 -> 2", "2 -> 2")


def test_upgrading_a_version_1_database_keeps_every_record(
    v1_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = _run("db", "upgrade", "--database-url", v1_url)
    assert (code, err) == (0, ""), err
    assert "1 -> 2" in out
    store = PostgresStore(v1_url)

    # Layers: records, reports and every feature with its exact geometry.
    from retention.storage.uploads import UploadRecord

    assert store.uploads.list_uploads(PARK) == [
        UploadRecord(**ENTERPRISE_UPLOAD), UploadRecord(**ZONE_UPLOAD), UploadRecord(**ROAD_UPLOAD)
    ]  # fmt: skip
    for record, rows in ((ENTERPRISE_UPLOAD, ENTERPRISE_ROWS), (ZONE_UPLOAD, ZONE_ROWS),
                         (ROAD_UPLOAD, ROAD_ROWS)):  # fmt: skip
        frame = store.uploads.load_upload(PARK, record["upload_id"])
        assert len(frame) == len(rows)
        for (_, row), (attributes, wkt) in zip(frame.iterrows(), rows, strict=True):
            assert row.geometry.equals_exact(shapely.from_wkt(wkt), tolerance=0)
            for column, value in attributes.items():
                assert (None if pd.isna(row[column]) else row[column]) == value, column
    report = store.uploads.load_report(PARK, ENTERPRISE_UPLOAD["upload_id"])
    assert report.issues["message"].tolist() == ["员工数 is not a number"]
    assert report.rejected["名称"].tolist() == ["坏行"]
    assert store.uploads.raw_report(PARK, ENTERPRISE_UPLOAD["upload_id"]) == ENTERPRISE_REPORT
    assert len(store.uploads.load_layer(PARK, "enterprises")) == 2

    # The survey wave: record, report and every respondent.
    (wave,) = store.waves.list_waves(PARK)
    assert wave.__dict__ == WAVE
    from retention.storage.waves import conform_survey

    pd.testing.assert_frame_equal(store.waves.load(PARK), conform_survey(_survey()))
    assert store.waves.load_report(PARK, WAVE["wave_id"]).mapping == WAVE_REPORT["mapping"]

    # Records with their versions and kept versions; the scenario still opens.
    for (scope, kind, key), versions in RECORDS.items():
        park_id = scope or None
        version, updated_at, payload = versions[-1]
        stored = store.records.get(park_id, kind, key)
        assert (stored.version, stored.updated_at, stored.payload) == (version, updated_at, payload)
        kept = [(r.version, r.updated_at, r.payload) for r in store.records.previous_versions(
            park_id, kind, key)]  # fmt: skip
        assert kept == versions[::-1]
    from retention.scenario.model import CloseAmenity
    from retention.scenario.records import ScenarioStore

    (scenario,) = ScenarioStore(records=store.records).list(PARK)
    assert (scenario.name, scenario.author, scenario.version) == ("湖边诊所（关闭）", "王工", 2)
    assert scenario.scenario.modifications == (CloseAmenity("A3", 50000.0),)
    assert store.get_parameters_text(PARK) == PARAMETERS_TEXT
    assert store.records.read_log(None, AUDIT) == EVENTS
    assert store.records.get_blob(PARK, RESULTS, "travel.0123456789abcdef") == CACHE_BLOB
    assert store.records.list_blobs(PARK, RESULTS) == ["travel.0123456789abcdef"]
    assert store.park_ids() == [PARK]

    # The accounts still sign in (through the app's accounts module on this database).
    from retention.auth.accounts import authenticate
    from retention.errors import AuthenticationError

    monkeypatch.setenv("PARKLIFE_DATABASE_URL", v1_url)
    assert authenticate(tmp_path / "accounts.json", "ana", PASSWORD).role.value == "admin"
    with pytest.raises(AuthenticationError):
        authenticate(tmp_path / "accounts.json", "hr.e1", PASSWORD)

    # Upgrading again changes nothing.
    dumped = _dump(v1_url)
    assert dumped["schema_version"] == ['{"version": 1}', '{"version": 2}']
    assert "used_at timestamp with time zone" in dumped["blobs columns"]
    assert upgrade(v1_url) == (2, 2)
    assert _dump(v1_url) == dumped
    contents = park_contents(store, PARK)

    # And the upgraded database takes new writes after the old rows, with versions going on.
    from retention.errors import StaleVersionError

    payload = RECORDS[(PARK, SCENARIOS, SCENARIO_ID)][-1][2]
    assert store.records.put(PARK, SCENARIOS, SCENARIO_ID, payload, expected_version=2).version == 3
    with pytest.raises(StaleVersionError):
        store.records.put(PARK, SCENARIOS, SCENARIO_ID, payload, expected_version=2)
    store.records.append(None, AUDIT, {"action": "after", "park_id": PARK})
    assert store.records.read_log(None, AUDIT)[-1] == {"action": "after", "park_id": PARK}
    store.records.touch_blob(PARK, RESULTS, "travel.0123456789abcdef")
    store.records.put_blob(PARK, RESULTS, "travel.fedcba9876543210", b"new")
    assert store.records.list_blobs(PARK, RESULTS)[0] == "travel.fedcba9876543210"
    from tests.store_fixtures import enterprise_validation

    validation = enterprise_validation()
    added = store.uploads.add_upload(
        PARK, "enterprises", validation, source_name="新企业.csv", coordinate_system="wgs84"
    )
    assert [r.upload_id for r in store.uploads.list_uploads(PARK)][-1] == added
    assert park_contents(store, PARK)["uploads"][0] == contents["uploads"][0] + 1


def test_two_upgrades_at_once_run_one_after_the_other(v1_url: str) -> None:
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(upgrade(v1_url))
        except BaseException as err:  # collected for the assertion below
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(results) == [(1, 2), (2, 2)]
    assert _dump(v1_url)["schema_version"] == ['{"version": 1}', '{"version": 2}']


# --- a failed upgrade leaves version 1 as it was ------------------------------------------------
def test_a_conflicting_object_stops_the_upgrade_and_leaves_version_1_intact(v1_url: str) -> None:
    schema = postgres.connect_parameters(v1_url)["schema"]
    connection = _connect(v1_url)
    connection.cursor().execute(f"ALTER TABLE {schema}.blobs ADD COLUMN used_at text")
    connection.commit()
    connection.close()
    before = _dump(v1_url)
    with pytest.raises(StoreConfigurationError) as failed:
        upgrade(v1_url)
    message = str(failed.value)
    assert "from schema version 1 to 2" in message and "ADD COLUMN used_at" in message
    assert '"used_at" of relation "blobs" already exists' in message
    assert "nothing was changed, the database is still at version 1" in message
    assert _dump(v1_url) == before
    code, _, err = _run("db", "upgrade", "--database-url", v1_url)
    assert code != 0 and "already exists" in err and "Traceback" not in err
    with pytest.raises(StoreConfigurationError, match="schema version 1"):
        PostgresStore(v1_url)


def test_an_error_midway_through_the_upgrade_undoes_its_earlier_statements(
    v1_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _dump(v1_url)
    failing = [*postgres._MIGRATIONS[2], "CREATE TABLE {s}.uploads (clash integer)"]
    monkeypatch.setitem(postgres._MIGRATIONS, 2, failing)
    with pytest.raises(StoreConfigurationError, match='relation "uploads" already exists'):
        upgrade(v1_url)
    assert _dump(v1_url) == before  # the blobs column added before the failure is gone too
    monkeypatch.undo()
    assert upgrade(v1_url) == (1, 2)


def _upgrade_backend(url: str) -> tuple[int, str] | None:
    """The server process of an upgrade waiting for a lock: (pid, query), or None."""
    connection = _connect(url)
    try:
        cursor = connection.cursor()
        cursor.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE 'ALTER TABLE%%used_at%%'"
        )
        row = cursor.fetchone()
        connection.commit()
        return None if row is None else (int(row[0]), str(row[1]))
    finally:
        connection.close()


def _backend_alive(url: str, pid: int) -> bool:
    connection = _connect(url)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
        return bool(cursor.fetchone()[0])
    finally:
        connection.close()


def _wait_for(condition, *, what: str, limit_seconds: float = 120.0):
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.mark.slow
def test_an_upgrade_killed_midway_leaves_version_1_intact(v1_url: str) -> None:
    """``kill -9`` of ``parklife db upgrade`` while its migration runs (held at the ALTER by a
    reader of the table): the server rolls the transaction back, version 1 stays as it was."""
    schema = postgres.connect_parameters(v1_url)["schema"]
    before = _dump(v1_url)
    reader = _connect(v1_url)
    reader.cursor().execute(f"LOCK TABLE {schema}.blobs IN ACCESS SHARE MODE")
    script = "import sys; from retention.cli._main import main; sys.exit(main(sys.argv[1:]))"
    process = subprocess.Popen(
        [sys.executable, "-c", script, "db", "upgrade", "--database-url", v1_url],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        pid, _ = _wait_for(lambda: _upgrade_backend(v1_url), what="the upgrade's ALTER TABLE")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        reader.rollback()  # the ALTER may now run, but its client is gone: no commit comes
        reader.close()
    _wait_for(lambda: not _backend_alive(v1_url, pid), what="the killed upgrade's session to end")
    assert schema_version(postgres.Database(v1_url)) == 1
    assert _dump(v1_url) == before
    assert upgrade(v1_url) == (1, 2)


# --- the app ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_app_refuses_a_version_1_database_with_the_upgrade_command_then_opens_it(
    v1_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from retention.i18n import t
    from tests.app_session import signed_in
    from ui import state

    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(tmp_path / "unused"))
    monkeypatch.setenv("PARKLIFE_DATABASE_URL", v1_url)
    monkeypatch.delenv("PARKLIFE_AUTH", raising=False)
    for lang, signed in (("en", False), ("zh", True)):
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
        if signed:
            signed_in(at)
        at.session_state[state.LANG] = lang
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert [e.value for e in at.error] == [t("store_check.older", lang, found=1, needed=2)]
        assert [c.value for c in at.code] == ["parklife db upgrade"]
        assert not at.text_input  # no sign-in form, no page
    code, _, err = _run("db", "upgrade", environ=ADMIN)  # the URL from the setting
    assert code == 0, err
    at.run()  # the same session, after the upgrade: the page opens
    assert not at.exception, [e.value for e in at.exception]
    assert t("store_check.title", "zh") not in [h.value for h in at.title]
    assert not [e.value for e in at.error]


def _app_first_run(lang: str = "en"):
    from streamlit.testing.v1 import AppTest

    from ui import state

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
    at.session_state[state.LANG] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
def test_a_database_of_a_newer_parklife_is_named_as_such(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retention.i18n import t

    url = f"{postgres_url}?schema=v3_{uuid.uuid4().hex[:10]}"
    upgrade(url)
    connection = _connect(url)
    schema = postgres.connect_parameters(url)["schema"]
    connection.cursor().execute(f"INSERT INTO {schema}.schema_version (version) VALUES (3)")
    connection.commit()
    connection.close()
    with pytest.raises(StoreConfigurationError, match="needs 2; a newer ParkLife upgraded it"):
        PostgresStore(url)
    assert upgrade(url) == (3, 3)  # an older ParkLife never touches a newer schema
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(tmp_path / "unused"))
    monkeypatch.setenv("PARKLIFE_DATABASE_URL", url)
    at = _app_first_run("zh")
    assert [e.value for e in at.error] == [t("store_check.newer", "zh", found=3, needed=2)]
    assert not at.code and not at.text_input


@pytest.mark.slow
def test_an_unreachable_database_shows_a_reference_not_the_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://parklife:secret-pw@127.0.0.1:{port}/parklife"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(tmp_path / "unused"))
    monkeypatch.setenv("PARKLIFE_DATABASE_URL", url)
    at = _app_first_run()
    (error,) = [e.value for e in at.error]
    assert error.startswith("The data store configured for this server cannot be opened")
    assert str(port) not in error and "secret-pw" not in error
    assert not at.text_input  # no sign-in form under a store that does not open
    reference = error.rsplit("reference ", 1)[1].rstrip(".")
    logged = [r.getMessage() for r in caplog.records if reference in r.getMessage()]
    assert logged and f"127.0.0.1:{port}" in logged[0] and "secret-pw" not in logged[0]
