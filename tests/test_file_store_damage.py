"""The file store under damage: a truncated, empty or keyless manifest, a garbled or deleted
layer file, a missing report, a damaged survey list or wave, leftover temporary files, the old
folder layout. Each is named, set aside and recoverable; everything else stays usable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retention.data.layers import LayerKind
from retention.errors import DamagedFileError
from retention.storage.damage import DamageLog
from retention.storage.mappings import MappingStore
from retention.storage.records import SCENARIOS
from retention.storage.store import FileStore
from retention.survey.mapping import suggest_mapping
from tests.store_fixtures import enterprise_validation


def _two_uploads(store: FileStore) -> list[str]:
    return [
        store.uploads.add_upload(
            "tiny", "enterprises", enterprise_validation(), source_name=name,
            coordinate_system="wgs84",
        )
        for name in ("a.csv", "b.csv")
    ]  # fmt: skip


MANIFEST_DAMAGE = {
    "truncated": lambda raw: raw[: len(raw) // 2],
    "empty": lambda raw: b"",
    "keyless": lambda raw: json.dumps({"version": 1}).encode(),
    "entry without fields": lambda raw: json.dumps({"uploads": [{"upload_id": "u_x"}]}).encode(),
    "garbled": lambda raw: b"\xff\xfe" + raw[5:],
}


@pytest.mark.parametrize("case", sorted(MANIFEST_DAMAGE))
def test_a_damaged_upload_list_is_set_aside_and_restored(tmp_path: Path, case: str) -> None:
    store = FileStore(tmp_path)
    ids = _two_uploads(store)
    manifest = store.uploads.manifest_path("tiny")
    manifest.write_bytes(MANIFEST_DAMAGE[case](manifest.read_bytes()))

    assert store.uploads.list_uploads("tiny") == []  # no traceback, nothing half-read
    (note,) = store.uploads.damage_notes("tiny")
    assert note.file == "parks/tiny/manifest.json" and note.item == ""
    assert "the upload list cannot be read" in note.problem
    if case == "empty":
        assert "the file is empty" in note.problem  # never silently "no uploads"
    assert note.quarantined_to is not None and (tmp_path / note.quarantined_to).is_file()
    assert store.uploads.load_layer("tiny", LayerKind.ENTERPRISES).empty

    assert store.uploads.restore_manifest("tiny") == 2
    assert [r.upload_id for r in store.uploads.list_uploads("tiny")] == ids
    assert len(store.uploads.load_layer("tiny", LayerKind.ENTERPRISES)) == 4
    assert store.uploads.damage_notes("tiny") == []


@pytest.mark.parametrize("case", ["garbled", "deleted"])
def test_a_damaged_layer_file_leaves_the_other_uploads_usable(tmp_path: Path, case: str) -> None:
    store = FileStore(tmp_path)
    first, second = _two_uploads(store)
    layer = tmp_path / "parks" / "tiny" / "layers" / f"{first}.gpkg"
    if case == "garbled":
        layer.write_bytes(b"not a geopackage" * 100)
    else:
        layer.unlink()

    frame = store.uploads.load_layer("tiny", LayerKind.ENTERPRISES)
    assert set(frame["source"]) == {second}  # the other upload still counts
    (note,) = store.uploads.damage_notes("tiny")
    assert note.item == first and note.file == f"parks/tiny/layers/{first}.gpkg"
    assert ("cannot be read" if case == "garbled" else "are missing") in note.problem
    assert (note.quarantined_to is not None) == (case == "garbled")
    with pytest.raises(DamagedFileError, match="remove the upload on the Data page"):
        store.uploads.load_upload("tiny", first)
    store.uploads.remove_upload("tiny", first)  # the fix works despite the broken file
    assert store.uploads.damage_notes("tiny") == []


def test_a_missing_report_names_the_upload_and_keeps_its_rows(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    first, _ = _two_uploads(store)
    (tmp_path / "parks" / "tiny" / "reports" / f"{first}.json").unlink()
    with pytest.raises(DamagedFileError, match=rf"report of upload {first} \(a.csv\) is missing"):
        store.uploads.load_report("tiny", first)
    assert len(store.uploads.load_upload("tiny", first)) == 2


def test_leftover_temporary_files_are_removed_when_the_store_opens(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    _two_uploads(store)
    park = tmp_path / "parks" / "tiny"
    left = [
        park / f".manifest.json.{'a' * 32}.tmp",
        park / "layers" / f".u_1.gpkg.{'b' * 32}.tmp.gpkg",
        park / "records" / "scenarios" / f".x.json.{'c' * 32}.tmp",
    ]
    for path in left:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    keep = park / ".not-a-temp-file"
    keep.write_bytes(b"x")
    removed = FileStore(tmp_path).clean_temp_files()
    assert removed == []  # opening already cleaned
    assert not any(p.exists() for p in left) and keep.exists()


def test_a_damaged_record_is_quarantined_and_its_last_good_copy_restored(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.records.put("tiny", SCENARIOS, "s1", {"n": 1}, expected_version=0)
    store.records.put("tiny", SCENARIOS, "s1", {"n": 2}, expected_version=1)
    path = tmp_path / "parks" / "tiny" / "records" / "scenarios" / "s1.json"
    path.write_bytes(path.read_bytes()[:10])
    with pytest.raises(DamagedFileError, match=r"records/scenarios/s1.json.*restore the last"):
        store.records.get("tiny", SCENARIOS, "s1")
    restored = store.records.restore("tiny", SCENARIOS, "s1")
    assert restored.payload == {"n": 2} and restored.version == 3


def test_the_old_mappings_file_moves_into_the_one_layout(tmp_path: Path) -> None:
    headers = ["1、您所在的企业:", "12、未来12个月内您离职的可能性:"]
    mapping = suggest_mapping(headers)
    legacy = tmp_path / "jinshan" / "survey_mappings.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(json.dumps({mapping.signature: json.loads(mapping.to_json())}), "utf-8")
    (legacy.parent / "layer_mappings.json").write_text(
        "{not json", "utf-8"
    )  # unreadable: set aside
    store = FileStore(tmp_path)
    mappings = MappingStore(store.records)
    found = mappings.load_survey_mapping("jinshan", headers)
    assert found is not None and found.as_dict() == mapping.as_dict()
    assert mappings.survey_mapping_version("jinshan", headers) == 1
    assert not legacy.exists() and len(list((tmp_path / "quarantine").iterdir())) == 2


def test_damage_notes_are_one_per_file(tmp_path: Path) -> None:
    log = DamageLog(tmp_path)
    for problem in ("first", "second"):
        log.add("tiny", area="uploads", file="parks/tiny/x", problem=problem, quarantined_to=None)
    assert [n.problem for n in log.notes("tiny")] == ["second"]
    log.resolve("tiny", file="parks/tiny/x")
    assert log.notes("tiny") == []
