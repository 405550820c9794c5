"""The storage interface's records (mappings, parameters, scenarios, users, audit, results):
versions refuse stale saves, nothing is lost, ids are checked — on every store."""

from __future__ import annotations

import time

import pytest

from retention.errors import StaleVersionError, ValidationError
from retention.storage.mappings import MappingStore
from retention.storage.records import AUDIT, RESULTS, SCENARIOS, USERS
from retention.survey.mapping import ColumnMapping, suggest_mapping

HEADERS = ("序号", "1、您所在的企业:", "3、您的年龄段:", "12、未来12个月内您离职的可能性:")


def test_a_record_counts_its_versions_and_refuses_a_stale_save(store) -> None:
    records = store.records
    assert records.get("tiny", SCENARIOS, "shuttle") is None
    first = records.put("tiny", SCENARIOS, "shuttle", {"名称": "班车", "n": 1}, expected_version=0)
    assert first.version == 1
    second = records.put("tiny", SCENARIOS, "shuttle", {"名称": "班车", "n": 2}, expected_version=1)
    assert second.version == 2
    with pytest.raises(StaleVersionError, match=r"based on version 1, but someone else saved "
                       r"version 2 meanwhile; reload it") as caught:  # fmt: skip
        records.put("tiny", SCENARIOS, "shuttle", {"n": 99}, expected_version=1)
    assert caught.value.stored_version == 2
    with pytest.raises(StaleVersionError, match="someone else created it meanwhile"):
        records.put("tiny", SCENARIOS, "shuttle", {"n": 99}, expected_version=0)
    stored = records.get("tiny", SCENARIOS, "shuttle")
    assert stored is not None and stored.payload == {"名称": "班车", "n": 2}  # nothing lost
    assert [r.version for r in records.previous_versions("tiny", SCENARIOS, "shuttle")][:2] == [
        2,
        1,
    ]


def test_records_are_listed_by_key_and_kept_apart_by_park_and_kind(store) -> None:
    records = store.records
    records.put("tiny", SCENARIOS, "b", {"x": 1}, expected_version=0)
    records.put("tiny", SCENARIOS, "a", {"x": 2}, expected_version=0)
    records.put("other", SCENARIOS, "a", {"x": 3}, expected_version=0)
    records.put(None, USERS, "a", {"role": "planner"}, expected_version=0)
    assert [r.key for r in records.list_records("tiny", SCENARIOS)] == ["a", "b"]
    assert [r.payload for r in records.list_records("other", SCENARIOS)] == [{"x": 3}]
    assert [r.payload for r in records.list_records(None, USERS)] == [{"role": "planner"}]
    records.delete("tiny", SCENARIOS, "a", expected_version=1)
    assert [r.key for r in records.list_records("tiny", SCENARIOS)] == ["b"]
    with pytest.raises(StaleVersionError, match="it has since been deleted"):
        records.put("tiny", SCENARIOS, "a", {"x": 4}, expected_version=1)


def test_the_audit_log_keeps_every_entry_in_order(store) -> None:
    for number in range(5):
        store.records.append(None, AUDIT, {"n": number, "who": "张三"})
    assert [e["n"] for e in store.records.read_log(None, AUDIT)] == [0, 1, 2, 3, 4]
    assert store.records.read_log("tiny", AUDIT) == []


def test_results_cache_blobs_round_trip(store) -> None:
    assert store.records.get_blob("tiny", RESULTS, "abc123") is None
    store.records.put_blob("tiny", RESULTS, "abc123", b"\x00\x01bytes")
    store.records.put_blob("tiny", RESULTS, "abc123", b"newer")
    assert store.records.get_blob("tiny", RESULTS, "abc123") == b"newer"


def test_results_cache_blobs_are_listed_most_recently_used_first(store) -> None:
    records = store.records
    for key in ("a", "b", "c"):
        records.put_blob("tiny", RESULTS, key, key.encode())
        time.sleep(0.02)  # distinct times (file modification times, clock_timestamp)
    assert records.list_blobs("tiny", RESULTS) == ["c", "b", "a"]
    records.touch_blob("tiny", RESULTS, "a")
    assert records.list_blobs("tiny", RESULTS) == ["a", "c", "b"]
    records.delete_blob("tiny", RESULTS, "c")
    records.delete_blob("tiny", RESULTS, "missing")
    assert records.list_blobs("tiny", RESULTS) == ["a", "b"]
    assert records.get_blob("tiny", RESULTS, "c") is None
    assert records.list_blobs("other", RESULTS) == [] and records.list_blobs(None, RESULTS) == []
    assert "tiny" in store.park_ids()


@pytest.mark.parametrize("key", ["../x", "a/b", "", ".hidden", "a..b", "x" * 129])
def test_unsafe_keys_never_reach_a_path_or_query(store, key) -> None:
    with pytest.raises(ValidationError, match="is not allowed"):
        store.records.put("tiny", SCENARIOS, key, {}, expected_version=0)
    with pytest.raises(ValidationError, match="park id"):
        store.records.get("../tiny", SCENARIOS, "a")


def test_saved_mapping_is_reused_for_same_headers_only(store) -> None:
    edited = suggest_mapping(HEADERS).to_frame()
    edited.loc[edited["column"] == "3、您的年龄段:", "target"] = "ignore"
    mapping = ColumnMapping.from_frame(edited)
    mappings = MappingStore(store.records)
    assert mappings.load_survey_mapping("jinshan", HEADERS) is None
    assert mappings.survey_mapping_version("jinshan", HEADERS) == 0
    mappings.save_survey_mapping("jinshan", mapping, expected_version=0)
    again = mappings.load_survey_mapping("jinshan", HEADERS)
    assert again is not None and again.as_dict() == mapping.as_dict()
    assert mappings.survey_mapping_version("jinshan", HEADERS) == 1
    assert mappings.load_survey_mapping("jinshan", (*HEADERS, "extra")) is None
    assert mappings.load_survey_mapping("other", HEADERS) is None
    # a second user who opened the file before the first saved is told, not silently overwritten
    with pytest.raises(StaleVersionError, match="someone else created it meanwhile"):
        mappings.save_survey_mapping("jinshan", mapping, expected_version=0)


def test_parameters_text_refuses_a_save_from_an_older_version(store) -> None:
    assert store.get_parameters_text("tiny") is None
    token = store.put_parameters_text("tiny", "[travel]\n", expected_version="default")
    with pytest.raises(StaleVersionError, match="someone else saved parameters"):
        store.put_parameters_text("tiny", "[privacy]\n", expected_version="default")
    assert store.get_parameters_text("tiny") == "[travel]\n"
    store.delete_parameters("tiny", expected_version=token)
    assert store.get_parameters_text("tiny") is None
