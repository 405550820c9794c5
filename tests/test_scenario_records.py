"""Tests for retention.scenario.records: save, reload, duplicate, rename, delete."""

from __future__ import annotations

import json

import pytest

from retention.errors import ScenarioError, ValidationError
from retention.scenario.model import AddAmenity, CloseAmenity, Scenario
from retention.scenario.records import ScenarioStore
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


def test_save_and_reload_give_back_the_same_scenario(tmp_path):
    store = ScenarioStore(tmp_path)
    record = store.save("line", _scenario(), author="王工")
    again = ScenarioStore(tmp_path).load("line", record.scenario_id)
    assert again == record
    assert again.scenario == _scenario()
    assert [r.scenario_id for r in store.list("line")] == [record.scenario_id]
    assert store.list("other") == []


def test_duplicate_rename_and_delete_touch_only_their_own_record(tmp_path):
    store = ScenarioStore(tmp_path)
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


def test_the_version_changes_on_every_write(tmp_path):
    store = ScenarioStore(tmp_path)
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


def test_a_record_of_another_version_is_refused(tmp_path):
    store = ScenarioStore(tmp_path)
    record = store.save("line", _scenario(), author="a")
    path = store.folder("line") / f"{record.scenario_id}.json"
    payload = json.loads(path.read_text(encoding="utf-8"))
    payload["record_version"] = 99
    path.write_text(json.dumps(payload), encoding="utf-8")
    with pytest.raises(ScenarioError, match="record_version is 99; expected 1"):
        store.load("line", record.scenario_id)
