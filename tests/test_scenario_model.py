"""Tests for retention.scenario.model: validation with specific errors, immutability, JSON."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retention.errors import ScenarioError
from retention.scenario.model import (
    SCHEMA_VERSION,
    AddAmenity,
    AddResidence,
    AddRoute,
    ChangeRouteService,
    CloseAmenity,
    MoveWorkers,
    RemoveRoute,
    ResizeAmenity,
    RouteStop,
    Scenario,
    ServiceWindow,
    scenario_from_json,
    scenario_to_json,
    validate_scenario,
)
from tests.scenario_fixtures import LAT, line_context

EVENING = (ServiceWindow("weekday_evening", 10.0, "18:00", "22:00"),)
STOPS = (RouteStop(113.140, LAT, "west", "R1"), RouteStop(113.159, LAT, "east", "P1"))


def _route(**changes) -> AddRoute:
    values = {"route_id": "S1", "name": "晚班车", "stops": STOPS, "service": EVENING}
    values.update(changes)
    return AddRoute(**values)


def _full_scenario() -> Scenario:
    return Scenario(
        "全部",
        (
            _route(open_to=("E1",), cost_basis="vehicle_km", cost_cny_per_unit=6.0, fare_cny=1.5),
            ChangeRouteService("S1", (("weekday_evening", 15.0), ("weekday_peak", None))),
            AddAmenity(
                "C2", "新诊所", "clinic", 113.150, LAT, 80.0, "Mo-Su 08:00-20:00", (), 1e5, 2e4
            ),
            ResizeAmenity("P1", 4.0, "Mo-Su 06:00-22:00", 5e4, 1e3),
            AddResidence(
                "R3", "人才公寓", "talent_apartment", 113.151, LAT, 40, 800.0, "E1", (("R1", 30),)
            ),
            MoveWorkers("R2", "R3", 10),
            CloseAmenity("C1", 1e4),
            RemoveRoute("S1"),
        ),
        "每种修改各一个",
    )


def test_a_full_scenario_is_valid():
    validate_scenario(_full_scenario(), line_context())


@pytest.mark.parametrize(
    ("modification", "match"),
    [
        (_route(stops=STOPS[:1]), r"route has 1 stop\(s\); expected at least 2"),
        (
            _route(service=(ServiceWindow("weekday_evening", 0.0, "18:00", "22:00"),)),
            r"headway_minutes is 0.0; expected a number > 0",
        ),
        (
            _route(service=(ServiceWindow("weekday_evening", -5.0, "18:00", "22:00"),)),
            r"headway_minutes is -5.0",
        ),
        (
            _route(service=(ServiceWindow("weekday_evening", 10.0, "22:00", "18:00"),)),
            r"service span 22:00-18:00 is outside one day",
        ),
        (
            _route(service=(ServiceWindow("weekday_evening", 10.0, "18:00", "25:00"),)),
            r"service end: .*out of range",
        ),
        (
            _route(service=(ServiceWindow("midnight_snack", 10.0, "18:00", "22:00"),)),
            r"unknown time window 'midnight_snack'",
        ),
        (_route(vehicle_capacity=0), r"vehicle_capacity is 0; expected a whole number >= 1"),
        (
            AddAmenity("C2", "x", "clinic", 113.150, LAT, -1.0),
            r"capacity is -1.0; expected a number >= 0",
        ),
        (
            AddAmenity("C2", "x", "clinic", 113.300, LAT, 10.0),
            r"amenity \(113.300000, 27.850000\) is outside the park",
        ),
        (
            _route(stops=(STOPS[0], RouteStop(113.3, 27.9))),
            r"stop 2 \(113.300000, 27.900000\) is outside the park",
        ),
        (RemoveRoute("nope"), r"unknown route id 'nope'"),
        (CloseAmenity("A404"), r"unknown amenity id 'A404'"),
        (ResizeAmenity("A404", 3.0), r"unknown amenity id 'A404'"),
        (ChangeRouteService("nope", (("weekday_evening", 5.0),)), r"unknown route id 'nope'"),
        (AddAmenity("C1", "x", "clinic", 113.150, LAT, 1.0), r"amenity id 'C1' already exists"),
        (AddAmenity("C2", "x", "spa", 113.150, LAT, 1.0), r"category is 'spa'"),
        (MoveWorkers("R1", "R2", 101), r"101 workers cannot move out of residence 'R1'"),
        (MoveWorkers("R1", "R9", 1), r"unknown residence id 'R9'"),
        (_route(open_to=("E9",)), r"unknown enterprise id 'E9'"),
    ],
)
def test_a_bad_modification_names_what_is_wrong_and_leaves_the_scenario_unchanged(
    modification, match
):
    context = line_context()
    scenario = Scenario("晚间", (_route(route_id="S0"),))
    with pytest.raises(ScenarioError, match=match) as raised:
        scenario.with_modification(modification, context)
    assert "modification 2" in str(raised.value)
    assert scenario.modifications == (_route(route_id="S0"),)


def test_a_later_modification_may_use_an_id_an_earlier_one_created_but_not_a_removed_one():
    context = line_context()
    scenario = Scenario("s").with_modification(_route(), context)
    scenario = scenario.with_modification(
        ChangeRouteService("S1", (("weekday_evening", 5.0),)), context
    )
    scenario = scenario.with_modification(RemoveRoute("S1"), context)
    with pytest.raises(ScenarioError, match=r"modification 4 .*unknown route id 'S1'"):
        scenario.with_modification(RemoveRoute("S1"), context)


def test_new_residence_beds_bound_who_moves_in():
    with pytest.raises(ScenarioError, match=r"would have 45 residents for 40 beds"):
        validate_scenario(
            Scenario(
                "s",
                (AddResidence("R3", "n", "dorm", 113.15, LAT, 40, moves_in=(("R1", 45),)),),
            ),
            line_context(),
        )


def test_removing_a_modification_rechecks_what_depends_on_it():
    context = line_context()
    scenario = Scenario("s", (_route(), RemoveRoute("S1")))
    with pytest.raises(ScenarioError, match="unknown route id 'S1'"):
        scenario.without_modification(0, context)
    assert scenario.without_modification(1, context).modifications == (_route(),)


def test_json_round_trip_is_identical():
    scenario = _full_scenario()
    text = scenario_to_json(scenario)
    again = scenario_from_json(text, context=line_context())
    assert again == scenario
    assert scenario_to_json(again) == text
    assert json.loads(text)["schema_version"] == SCHEMA_VERSION
    assert "晚班车" in text  # Chinese kept readable


def test_json_of_another_schema_version_is_refused():
    payload = json.loads(scenario_to_json(_full_scenario()))
    payload["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(ScenarioError, match=r"schema_version is 2; this ParkLife reads version 1"):
        scenario_from_json(json.dumps(payload))


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ("{not json", "not valid JSON"),
        (
            '{"schema_version": 1, "name": "x", "modifications": [{"op": "teleport"}]}',
            "op is 'teleport'",
        ),
        (
            '{"schema_version": 1, "name": "x", "modifications": '
            '[{"op": "remove_route", "route_id": "S", "colour": 1}]}',
            r"unknown field\(s\) \['colour'\]",
        ),
        (
            '{"schema_version": 1, "name": "x", "modifications": [{"op": "remove_route"}]}',
            "modification 1 \\(remove_route\\)",
        ),
    ],
)
def test_malformed_json_gives_a_specific_error(payload, match):
    with pytest.raises(ScenarioError, match=match):
        scenario_from_json(payload)


@settings(max_examples=40, deadline=None)
@given(
    headway=st.floats(min_value=0.5, max_value=120, allow_nan=False),
    start=st.integers(min_value=0, max_value=1438),
    length=st.integers(min_value=1, max_value=1440),
    name=st.text(min_size=1, max_size=12).filter(lambda s: s.strip()),
)
def test_any_valid_route_survives_the_json_round_trip(headway, start, length, name):
    end = min(start + length, 1440)
    clock = f"{start // 60:02d}:{start % 60:02d}"
    finish = f"{end // 60:02d}:{end % 60:02d}"
    scenario = Scenario(
        name,
        (_route(name=name, service=(ServiceWindow("weekday_evening", headway, clock, finish),)),),
    )
    validate_scenario(scenario, line_context())
    assert scenario_from_json(scenario_to_json(scenario)) == scenario


def test_a_redrawn_route_gets_the_new_stops_and_keeps_everything_else() -> None:
    context = line_context()
    scenario = Scenario("重画", (_route(fare_cny=1.5, vehicle_capacity=20), CloseAmenity("C1")))
    stops = (RouteStop(113.145, LAT, "Stop 1"), RouteStop(113.152, LAT, "Stop 2"))
    redrawn = scenario.with_route_stops(0, stops, context)
    route = redrawn.modifications[0]
    assert isinstance(route, AddRoute) and route.stops == stops
    assert route == _route(fare_cny=1.5, vehicle_capacity=20, stops=stops)  # timetable kept
    assert redrawn.modifications[1:] == scenario.modifications[1:]
    assert scenario.modifications[0].stops == STOPS  # the old scenario is unchanged


@pytest.mark.parametrize(
    ("index", "stops", "match"),
    [
        (1, STOPS, r"modification 2 is not a new route"),
        (2, STOPS, r"modification 3 does not exist; the scenario has 2"),
        (0, STOPS[:1], r"route has 1 stop\(s\); expected at least 2"),
    ],
)
def test_a_bad_redrawing_is_refused_naming_what_is_wrong(index, stops, match) -> None:
    scenario = Scenario("重画", (_route(), CloseAmenity("C1")))
    with pytest.raises(ScenarioError, match=match):
        scenario.with_route_stops(index, stops, line_context())
