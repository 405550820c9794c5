"""Saved scenarios (retention.scenario.records) on every store: save, reload, duplicate, rename,
delete, versions that refuse a stale save, and the old one-file-per-scenario layout read in."""

from __future__ import annotations

import json

import pytest

from retention.errors import ScenarioError, StaleVersionError, ValidationError
from retention.scenario.model import AddAmenity, CloseAmenity, Scenario
from retention.scenario.records import RECORD_VERSION, ScenarioStore
from retention.storage.records import SCENARIOS
from retention.storage.store import FileStore
from tests.scenario_fixtures import LAT


def _scenario(name: str = "新诊所") -> Scenario:
    return Scenario(
        name,
        (
            AddAmenity("C2", "东诊所", "clinic", 113.16, LAT, 10.0, capital_cost_cny=1e5),
            CloseAmenity("C1"),
        ),
        "测试",
    )


def test_save_and_reload_give_back_the_same_scenario(store):
    records = store.records
    store = ScenarioStore(records=records)
    record = store.save("line", _scenario(), author="王工")
    assert record.version == 1
    again = ScenarioStore(records=records).load("line", record.scenario_id)
    assert again == record
    assert again.scenario == _scenario()
    assert [r.scenario_id for r in store.list("line")] == [record.scenario_id]
    assert store.list("other") == []


def test_duplicate_rename_and_delete_touch_only_their_own_record(store):
    store = ScenarioStore(records=store.records)
    first = store.save("line", _scenario(), author="王工")
    copy = store.duplicate("line", first.scenario_id, name="副本", author="李工")
    assert copy.scenario_id != first.scenario_id
    assert copy.scenario.modifications == first.scenario.modifications
    assert copy.author == "李工"
    renamed = store.rename("line", copy.scenario_id, name="方案B", author="李工")
    assert renamed.created_utc == copy.created_utc
    assert store.load("line", first.scenario_id) == first
    store.delete("line", copy.scenario_id)
    assert [r.scenario_id for r in store.list("line")] == [first.scenario_id]
    with pytest.raises(ScenarioError, match="has no saved scenario"):
        store.load("line", copy.scenario_id)
    with pytest.raises(ScenarioError, match="has no saved scenario"):
        store.delete("line", copy.scenario_id)


def test_the_version_changes_on_every_write(store):
    store = ScenarioStore(records=store.records)
    assert store.version("line") == "none"
    record = store.save("line", _scenario(), author="a")
    saved = store.version("line")
    store.rename("line", record.scenario_id, name="另一个名字也更长", author="a")
    assert store.version("line") != saved


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda s: s.load("line", "../../etc"), "is not a store id"),
        (lambda s: s.save("../x", _scenario(), author="a"), "park"),
        (lambda s: s.save("line", _scenario(), author=" "), "author is blank"),
    ],
)
def test_bad_ids_and_blank_authors_are_refused(tmp_path, call, match):
    with pytest.raises(ValidationError, match=match):
        call(ScenarioStore(tmp_path))


def test_a_record_of_another_version_is_refused(store):
    scenarios = ScenarioStore(records=store.records)
    record = scenarios.save("line", _scenario(), author="a")
    stored = store.records.get("line", SCENARIOS, record.scenario_id)
    payload = {**stored.payload, "record_version": 99}
    store.records.put("line", SCENARIOS, record.scenario_id, payload, expected_version=1)
    with pytest.raises(ScenarioError, match="record_version is 99; expected 1"):
        scenarios.load("line", record.scenario_id)


def test_a_save_based_on_an_older_version_is_refused_and_loses_nothing(store):
    scenarios = ScenarioStore(records=store.records)
    mine = scenarios.save("line", _scenario(), author="王工")
    theirs = scenarios.rename("line", mine.scenario_id, name="李工的方案", author="李工")
    assert theirs.version == 2
    with pytest.raises(StaleVersionError, match="based on version 1, but someone else saved "
                       "version 2 meanwhile"):  # fmt: skip
        scenarios.save("line", _scenario("我的改动"), author="王工", scenario_id=mine.scenario_id,
                       expected_version=mine.version)  # fmt: skip
    with pytest.raises(StaleVersionError, match="version 2 meanwhile"):
        scenarios.delete("line", mine.scenario_id, expected_version=mine.version)
    assert scenarios.load("line", mine.scenario_id).name == "李工的方案"


def test_scenarios_of_the_old_file_layout_are_read_into_the_store(tmp_path):
    data_dir = tmp_path / "data"
    first = ScenarioStore(records=FileStore(data_dir).records).save(
        "line", _scenario(), author="王工"
    )
    old = data_dir / "parks" / "line" / "scenarios"
    old.mkdir(parents=True)
    payload = {
        "record_version": RECORD_VERSION,
        "scenario_id": "0123456789abcdef",
        "author": "李工",
        "created_utc": "2026-01-02T03:04:05+00:00",
        "updated_utc": "2026-01-02T03:04:05+00:00",
        "scenario": json.loads(json.dumps(_scenario_dict("旧方案"))),
    }
    (old / "0123456789abcdef.json").write_text(json.dumps(payload), encoding="utf-8")
    (old / "broken0000000000.json").write_text("{", encoding="utf-8")
    scenarios = ScenarioStore(records=FileStore(data_dir).records)
    listed = scenarios.list("line")
    assert [r.name for r in listed] == ["旧方案", "新诊所"]  # oldest first
    assert listed[0].author == "李工" and listed[1] == first
    assert not (old / "0123456789abcdef.json").exists()  # read in once
    assert list((data_dir / "quarantine").iterdir())  # the unreadable file is kept aside


def _scenario_dict(name):
    from retention.scenario.model import scenario_to_dict

    return scenario_to_dict(_scenario(name))
