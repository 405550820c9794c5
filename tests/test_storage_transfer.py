"""Moving a park: file store -> PostgreSQL (``db migrate``) and an archive round trip
(``export-park`` / ``import-park``) keep every row, with matching counts and checksums."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from retention.errors import ValidationError
from retention.storage.records import AUDIT, SCENARIOS, SURVEY_MAPPINGS, USERS
from retention.storage.transfer import (
    copy_deployment,
    copy_park,
    deployment_contents,
    export_archive,
    import_archive,
    park_contents,
)
from tests.store_fixtures import enterprise_validation, survey_import


def _fill(store, park_id: str = "tiny") -> None:
    store.uploads.add_upload(
        park_id, "enterprises", enterprise_validation(), source_name="企业.csv",
        coordinate_system="wgs84",
    )  # fmt: skip
    store.waves.save_wave(park_id, survey_import(), source_name="问卷.csv", wave="2024-春")
    store.put_parameters_text(park_id, "[travel]\nwalk_speed_m_per_min = 70.0\n",
                              expected_version="default")  # fmt: skip
    store.records.put(park_id, SCENARIOS, "s1", {"名称": "班车"}, expected_version=0)
    store.records.put(park_id, SURVEY_MAPPINGS, "abc", {"columns": []}, expected_version=0)
    store.records.append(None, AUDIT, _event(park_id, "export", file="报告.pdf"))


def _event(park_id: str, action: str, **detail: object) -> dict[str, object]:
    return {"time_utc": "2026-03-01T08:00:00+00:00", "user": "王工", "role": "planner",
            "action": action, "park_id": park_id, "detail": detail}  # fmt: skip


def _fill_deployment(store) -> None:
    """Accounts and events about no park: what ``db migrate`` of a whole store also moves."""
    users = {"format": 1, "users": {"ana": {"role": "admin", "enterprise_ids": [],
                                            "password": "scrypt$16384$8$1$00$00"}}}  # fmt: skip
    store.records.put(None, USERS, "accounts", users, expected_version=0)
    store.records.append(None, AUDIT, _event("", "user_add", name="ana"))


@pytest.fixture
def two_stores(tmp_path, request):
    from tests.conftest import _fresh_store_opener

    source = _fresh_store_opener("file", tmp_path / "a", request)()
    target = _fresh_store_opener("postgres", tmp_path / "b", request)()
    return source, target


def test_migrating_a_park_from_files_to_postgres_keeps_every_row(two_stores) -> None:
    source, target = two_stores
    _fill(source)
    report = copy_park(source, target, "tiny")
    assert report.ok, [line for line in report.lines if not line.matches]
    counts = {line.part: line.target_rows for line in report.lines}
    assert counts["uploads"] == 1 and counts["upload_rows"] == 2 and counts["waves"] == 1
    assert counts["respondents"] == len(survey_import().survey)
    assert counts["records:scenarios"] == 1 and counts["parameters"] == 1
    assert counts["audit"] == 1
    assert park_contents(target, "tiny") == park_contents(source, "tiny")
    with pytest.raises(ValidationError, match="already holds park 'tiny'"):
        copy_park(source, target, "tiny")  # never two copies mixed


def test_migrating_a_whole_store_moves_accounts_and_every_audit_event(two_stores) -> None:
    source, target = two_stores
    _fill(source)
    _fill(source, "other")
    _fill_deployment(source)
    for park_id in ("tiny", "other"):
        assert copy_park(source, target, park_id).ok
    report = copy_deployment(source, target, parks=["tiny", "other"])
    assert report.ok and report.park_id == ""
    assert {line.part: line.target_rows for line in report.lines} == {
        "records:users": 1,
        "audit": 1,
    }
    assert target.records.read_log(None, AUDIT) == source.records.read_log(None, AUDIT)
    assert deployment_contents(target, parks=[]) == deployment_contents(source, parks=[])
    with pytest.raises(ValidationError, match="already holds users 'accounts'"):
        copy_deployment(source, target, parks=["tiny", "other"])


def test_an_archive_round_trip_is_exact_and_a_changed_archive_is_refused(
    store, tmp_path: Path
) -> None:
    _fill(store)
    archive = tmp_path / "tiny.zip"
    assert export_archive(store, "tiny", archive).ok
    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read("manifest.json"))
        assert manifest["park_id"] == "tiny" and manifest["files"]
        members = {n: opened.read(n) for n in opened.namelist()}

    from retention.storage.store import FileStore

    fresh = FileStore(tmp_path / "laptop")
    report = import_archive(archive, fresh)
    assert report.ok
    assert park_contents(fresh, "tiny") == park_contents(store, "tiny")
    assert [e["detail"] for e in fresh.records.read_log(None, AUDIT)] == [{"file": "报告.pdf"}]

    name = next(n for n in members if n.endswith(".json") and n != "manifest.json")
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as out:
        for member, data in members.items():
            out.writestr(member, data + b" " if member == name else data)
    with pytest.raises(ValidationError, match="does not match its SHA-256"):
        import_archive(tampered, FileStore(tmp_path / "other"))
    assert not (tmp_path / "other" / "parks" / "tiny").exists()


# --- batch results (``parklife batch --format store``) ------------------------------------------
def _batch_output(out_dir: Path, park_id: str, digest: str, gap_index: float) -> None:
    """One park's result folder as a batch worker leaves it: four GeoParquet tables and the
    summary (``retention.batch.park_task``), made here from tiny tables."""
    import geopandas as gpd
    from shapely.geometry import Point, box

    from retention.batch import PLACES, result_dir

    folder = result_dir(out_dir, park_id, digest)
    folder.mkdir(parents=True)
    for number, name in enumerate(PLACES):
        frame = gpd.GeoDataFrame(
            {"id": [f"{name[:1]}1", f"{name[:1]}2"], "名称": ["湖畔", "金山"],
             "minutes": [4.5 + number, float("nan")]},
            geometry=[Point(113.14, 27.84), box(113.14, 27.84, 113.15, 27.85)], crs="EPSG:4326",
        )  # fmt: skip
        frame.to_parquet(folder / f"{name}.parquet")
    summary = {"park_id": park_id, "run_key": digest, "name_zh": "金山园区",
               "gap_index": gap_index, "expected_leavers": None, "synthetic": True}  # fmt: skip
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), "utf-8")


def _fill_batch(store, out_dir: Path, park_id: str = "tiny") -> list[str]:
    """Two batch results of the park (two run keys) written to ``store`` as ``parklife batch
    --format store`` does; return their run key digests."""
    import pandas as pd

    from retention.batch.export import write_to_store

    digests = [f"{park_id}{n}".encode().hex().ljust(40, "0")[:40] for n in (1, 2)]
    for digest, gap in zip(digests, (0.42, 0.57), strict=True):
        _batch_output(out_dir, park_id, digest, gap)
    summary = pd.DataFrame(
        {"park_id": [park_id] * 2, "run_key": digests, "status": ["scored", "skipped"]}
    )
    assert write_to_store(summary, out_dir, store) == 2
    return digests


def _same_batch_results(one, other, park_id: str, digests: list[str]) -> None:
    import math

    from geopandas.testing import assert_geodataframe_equal

    from retention.batch.export import read_stored_result, stored_digests

    assert stored_digests(one, park_id) == stored_digests(other, park_id) == sorted(digests)
    for digest in digests:
        a, b = read_stored_result(one, park_id, digest), read_stored_result(other, park_id, digest)
        assert a is not None and b is not None
        assert a.summary.keys() == b.summary.keys() and a.summary["run_key"] == digest
        for key, value in a.summary.items():
            same_nan = isinstance(value, float) and math.isnan(value) and math.isnan(b.summary[key])
            assert same_nan or b.summary[key] == value, key
        assert a.tables.keys() == b.tables.keys()
        for name, table in a.tables.items():
            assert_geodataframe_equal(table, b.tables[name])


def test_migrating_a_park_carries_its_batch_results_by_run_key(two_stores, tmp_path) -> None:
    source, target = two_stores
    _fill(source)
    digests = _fill_batch(source, tmp_path / "batch")
    report = copy_park(source, target, "tiny")
    assert report.ok, [line for line in report.lines if not line.matches]
    counts = {line.part: line.target_rows for line in report.lines}
    assert counts["records:batch_results"] == 2 and counts["blobs:batch_results"] == 8
    _same_batch_results(source, target, "tiny", digests)
    # The other way (db migrate --from URL --to file) gives the same back.
    from retention.storage.store import FileStore

    back = FileStore(tmp_path / "back")
    assert copy_park(target, back, "tiny").ok
    _same_batch_results(back, source, "tiny", digests)
    assert park_contents(back, "tiny") == park_contents(source, "tiny")


def test_a_park_archive_carries_its_batch_results(store, tmp_path: Path, request) -> None:
    from retention.storage.records import RESULTS
    from retention.storage.store import FileStore
    from tests.conftest import _fresh_store_opener

    _fill(store)
    digests = _fill_batch(store, tmp_path / "batch")
    store.records.put_blob("tiny", RESULTS, "travel.0123", b"cached, recomputed anywhere")
    archive = tmp_path / "tiny.zip"
    assert export_archive(store, "tiny", archive).ok
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
    assert sum("/blobs/batch_results/" in n for n in names) == 8
    assert not [n for n in names if "/blobs/results/" in n]  # the cache is never archived
    laptop = FileStore(tmp_path / "laptop")
    assert import_archive(archive, laptop).ok
    _same_batch_results(laptop, store, "tiny", digests)
    assert park_contents(laptop, "tiny") == park_contents(store, "tiny")
    # Into a database too (an intranet server taking the laptop's park).
    server = _fresh_store_opener("postgres", tmp_path / "server", request)()
    assert import_archive(archive, server).ok
    _same_batch_results(server, store, "tiny", digests)
