"""Scenario JSON written by hand or by another tool: each file is read right or refused with a
ScenarioError naming the modification, the field and what was expected — never a TypeError or
RecursionError (which the page could only show as an unexpected error).

The files are written here by hand from the format ``scenario_to_json`` documents.
"""

from __future__ import annotations

import json

import pytest

from retention.errors import ScenarioError
from retention.scenario.model import SCHEMA_VERSION, scenario_from_json
from tests.scenario_fixtures import LAT, line_context

CLINIC = {
    "op": "add_amenity",
    "amenity_id": "N1",
    "name": "新诊所",
    "category": "clinic",
    "lon": 113.15,
    "lat": LAT,
    "capacity": 10,
    "opening_hours": "Mo-Su 08:00-20:00",
}
ROUTE = {
    "op": "add_route",
    "route_id": "S1",
    "name": "夜班车",
    "stops": [
        {"lon": 113.141, "lat": LAT, "name": "西"},
        {"lon": 113.159, "lat": LAT, "name": "东"},
    ],
    "service": [
        {"window": "weekday_evening", "headway_minutes": 20, "start": "18:00", "end": "22:00"}
    ],
}


def _text(*modifications: dict, **top: object) -> str:
    payload = {"schema_version": SCHEMA_VERSION, "name": "手工情景", "modifications": []}
    payload.update(top)
    payload["modifications"] = list(modifications)
    return json.dumps(payload, ensure_ascii=False)


def test_the_hand_written_files_are_read() -> None:
    scenario = scenario_from_json(_text(CLINIC, ROUTE), context=line_context())
    assert [m.op for m in scenario.modifications] == ["add_amenity", "add_route"]
    # A whole number written as 10.0 is the same number.
    again = scenario_from_json(_text({**CLINIC, "capacity": 10.0}), context=line_context())
    assert again.modifications[0].capacity == 10.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # 1 MB of brackets (the page's upload limit) nests deeper than Python's parser recurses.
        ("[" * 200_000, "nested too deeply"),
        (_text({**CLINIC, "amenity_id": ["N1"]}), r"modification 1 \(add_amenity\): amenity_id"),
        (
            _text({**CLINIC, "category": {"zh": "诊所"}}),
            "category is {'zh': '诊所'}; expected text",
        ),
        (_text({**CLINIC, "name": 5}), "name is 5; expected text"),
        (_text({**CLINIC, "lon": True}), "lon is True; expected a number"),
        (_text({**CLINIC, "open_to": [["E1"]]}), "open_to .*expected a list of texts"),
        (_text({**CLINIC, "open_to": "E1"}), "open_to is 'E1'; expected a list of texts"),
        (
            _text({"op": "close_amenity", "amenity_id": {"id": "C1"}}),
            r"modification 1 \(close_amenity\): amenity_id",
        ),
        (_text({**ROUTE, "stops": [1, 2]}), r"modification 1 \(add_route\): stops"),
        (
            _text(
                {**ROUTE, "stops": [{"lon": "113.141", "lat": LAT}, {"lon": 113.159, "lat": LAT}]}
            ),
            "stop 1: lon is '113.141'; expected a number",
        ),
        (
            _text({**ROUTE, "service": [{"window": "weekday_evening", "headway_minutes": 20}]}),
            "service 1: missing start",
        ),
        (_text(CLINIC, name=["x"]), "name is \\['x'\\]; expected text"),
        (_text(CLINIC, description=7), "description is 7; expected text"),
        (
            _text(
                {
                    "op": "add_residence",
                    "residence_id": "RN",
                    "name": "新宿舍",
                    "kind": "dorm",
                    "lon": 113.15,
                    "lat": LAT,
                    "beds": 10,
                    "moves_in": {"R1": 5},
                }
            ),
            r"modification 1 \(add_residence\): moves_in",
        ),
    ],
)
def test_a_malformed_file_is_refused_with_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        scenario_from_json(text, context=line_context())


def test_a_file_saved_as_gbk_by_a_chinese_editor_is_read() -> None:
    data = _text(CLINIC).encode("gbk")
    scenario = scenario_from_json(data, context=line_context())
    assert scenario.name == "手工情景" and scenario.modifications[0].name == "新诊所"
