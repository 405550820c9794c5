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
