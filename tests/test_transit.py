"""Tests for retention.access.transit: the model, the layers loader and the GTFS loader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point

from retention.access.parameters import DEFAULT_TIME_WINDOWS, TimeWindow, TravelParameters
from retention.access.transit import (
    TransitModel,
    TransitRoute,
    transit_model_from_gtfs,
    transit_model_from_layers,
)
from retention.errors import ValidationError

UTM = "EPSG:32649"
X0, Y0 = 712_000.0, 3_083_000.0
PEAK, EVENING, WEEKEND, NIGHT = DEFAULT_TIME_WINDOWS
PARAMS = TravelParameters()


def _route_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "route_id": "R1",
        "name": "Line 1",
        "kind": "bus",
        "speed_kmh": 30.0,
        "headway_peak_min": 10.0,
        "headway_evening_min": None,
        "headway_weekend_min": 15.0,
        "headway_night_min": None,
        "service_start": "06:00",
        "service_end": "22:00",
    }
    return row | overrides


def _layers(
    route_rows: list[dict[str, object]],
    lines: list[list[tuple[float, float]]],
    stop_rows: list[tuple[str, str, int, float, float]],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    routes = gpd.GeoDataFrame(
        route_rows,
        geometry=[LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines],
        crs=UTM,
    ).to_crs("EPSG:4326")
    stops = gpd.GeoDataFrame(
        [{"stop_id": s, "route_id": r, "sequence": q, "name": s} for s, r, q, _, _ in stop_rows],
        geometry=[Point(X0 + x, Y0 + y) for *_, x, y in stop_rows],
        crs=UTM,
    ).to_crs("EPSG:4326")
    return routes, stops


BENT = [(0.0, 0.0), (1000.0, 0.0), (1000.0, 1000.0)]
BENT_STOPS = [
    ("C", "R1", 3, 1000.0, 1000.0),  # rows out of order: the sequence column decides
    ("A", "R1", 1, 0.0, 0.0),
    ("B", "R1", 2, 1000.0, 0.0),
]


def test_ride_time_follows_the_route_line() -> None:
    routes, stops = _layers([_route_row()], [BENT], BENT_STOPS)
    model = transit_model_from_layers(routes, stops, windows=DEFAULT_TIME_WINDOWS, params=PARAMS)
    route = model.routes[0]
    assert route.stop_ids == ("A", "B", "C")
    # 1000 m then 1000 m along the bend at 500 m/min (not the 1414 m diagonal).
    assert route.cumulative_minutes == pytest.approx((0.0, 2.0, 4.0), abs=1e-6)
    assert dict(route.headways) == {"weekday_peak": 10.0, "weekend_day": 15.0}
    assert model.notes == ()
    assert set(model.stop_ids) == {"A", "B", "C"}


def test_blank_speed_uses_default_bus_speed() -> None:
    routes, stops = _layers([_route_row(speed_kmh=None)], [BENT], BENT_STOPS)
    model = transit_model_from_layers(routes, stops, windows=DEFAULT_TIME_WINDOWS, params=PARAMS)
    assert model.routes[0].cumulative_minutes[-1] == pytest.approx(2000 / 250, abs=1e-6)


def test_given_run_minutes_win_over_geometry() -> None:
    routes, stops = _layers([_route_row()], [BENT], BENT_STOPS)
    stops["minutes_from_start"] = [9.0, 0.0, 4.0]
    model = transit_model_from_layers(routes, stops, windows=DEFAULT_TIME_WINDOWS, params=PARAMS)
    assert model.routes[0].cumulative_minutes == (0.0, 4.0, 9.0)


def test_stop_far_from_its_line_is_noted_and_measured_straight() -> None:
    far_stops = [("A", "R1", 1, 0.0, 0.0), ("B", "R1", 2, 1000.0, 600.0)]
    routes, stops = _layers([_route_row()], [[(0.0, 0.0), (1000.0, 0.0)]], far_stops)
    model = transit_model_from_layers(routes, stops, windows=DEFAULT_TIME_WINDOWS, params=PARAMS)
    straight = (1000**2 + 600**2) ** 0.5 * 1.3 / 500
    assert model.routes[0].cumulative_minutes[-1] == pytest.approx(straight, abs=1e-6)
    assert len(model.notes) == 1
    assert "stop 'B' is more than 300 m from route 'R1'" in model.notes[0]


def test_times_from_datetime_objects_and_shuttle_owner() -> None:
    row = _route_row(service_start=dt.time(6, 30), service_end=dt.time(23, 0))
    routes, stops = _layers([row | {"enterprise_id": "E7"}], [BENT], BENT_STOPS)
    model = transit_model_from_layers(routes, stops, windows=DEFAULT_TIME_WINDOWS, params=PARAMS)
    assert model.routes[0].service_start == "06:30"
    assert model.routes[0].enterprise_id == "E7"
    assert model.active_routes(PEAK, params=PARAMS) == ()
    assert len(model.active_routes(PEAK, params=PARAMS, enterprise_id="E7")) == 1


def test_route_with_one_stop_is_rejected_with_its_row() -> None:
    routes, stops = _layers(
        [_route_row(), _route_row(route_id="R2")],
        [BENT, BENT],
        [*BENT_STOPS, ("D", "R2", 1, 0.0, 0.0)],
    )
    with pytest.raises(ValidationError, match=r"row 2, column 'route_id': route 'R2' has 1 stop"):
        transit_model_from_layers(routes, stops, windows=DEFAULT_TIME_WINDOWS, params=PARAMS)


def test_bad_service_time_names_the_route_and_row() -> None:
    routes, stops = _layers([_route_row(service_end="late")], [BENT], BENT_STOPS)
    with pytest.raises(
        ValidationError, match=r"row 1: route 'R1', service_end: time 'late' is not a clock"
    ):
        transit_model_from_layers(routes, stops, windows=DEFAULT_TIME_WINDOWS, params=PARAMS)


def _route(**overrides: object) -> TransitRoute:
    values: dict[str, object] = {
        "route_id": "R",
        "name": "R",
        "kind": "bus",
        "stop_ids": ("A", "B"),
        "cumulative_minutes": (0.0, 5.0),
        "headways": (("weekday_peak", 10.0), ("night_shift_end", 30.0)),
    }
    return TransitRoute(**(values | overrides))  # type: ignore[arg-type]


def test_service_span_against_windows() -> None:
    day = _route(service_start="06:00", service_end="08:00")
    assert day.service_minutes(PEAK) == 60
    assert day.runs_in(PEAK, params=PARAMS)  # 60 of 120 minutes: enough
    assert not _route(service_start="06:00", service_end="07:59").runs_in(PEAK, params=PARAMS)
    night = _route(service_start="16:00", service_end="02:30")  # night-shift custom bus
    assert night.service_minutes(NIGHT) == 120
    assert night.runs_in(NIGHT, params=PARAMS)
    assert not night.runs_in(EVENING, params=PARAMS)  # no evening headway
    around_the_clock = _route(service_start="00:00", service_end="24:00")
    assert around_the_clock.service_minutes(WEEKEND) == 540


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"stop_ids": ("A",), "cumulative_minutes": (0.0,)}, r"route 'R' has 1 stop"),
        ({"cumulative_minutes": (0.0, -1.0)}, r"run times must start at 0 and never decrease"),
        ({"headways": (("weekday_peak", 0.0),)}, r"headway 0.0 for window 'weekday_peak'"),
    ],
)
def test_bad_routes_are_rejected(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _route(**overrides)


def test_model_checks_stops_and_ids() -> None:
    with pytest.raises(ValidationError, match=r"route 'R' uses stop\(s\) \['B'\] that have no"):
        TransitModel(routes=(_route(),), stop_ids=("A",), stop_lon=(113.0,), stop_lat=(27.0,))
    model = TransitModel(
        routes=(_route(),), stop_ids=("A", "B"), stop_lon=(113.0, 113.1), stop_lat=(27.0, 27.1)
    )
    assert model.without_route("R").routes == ()
    with pytest.raises(ValidationError, match=r"route 'X' is not in the transit model"):
        model.without_route("X")


# --- GTFS --------------------------------------------------------------------------------------


def _write_gtfs(folder: Path) -> Path:
    folder.mkdir()
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
        "ZZ,Zhuzhou Bus,http://example.invalid,Asia/Shanghai\n",
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n"
        "A,Dorm,27.850,113.150\nB,Market,27.855,113.150\nC,Plant,27.860,113.155\n",
        "routes.txt": "route_id,agency_id,route_short_name,route_type\nL1,ZZ,D169,3\n",
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
        "start_date,end_date\n"
        "WD,1,1,1,1,1,0,0,20250101,20251231\nWE,0,0,0,0,0,1,1,20250101,20251231\n",
    }
    # Weekday direction 0: four departures in the 07:00-09:00 peak, one after midnight (24:30,
    # the previous service day's last trip); direction 1: two. Weekend: one trip.
    trips = [("t1", "WD", 0, "07:00"), ("t2", "WD", 0, "07:30"), ("t3", "WD", 0, "08:00")]
    trips += [("t4", "WD", 0, "08:30"), ("t5", "WD", 0, "24:30"), ("t6", "WD", 1, "17:00")]
    trips += [("t7", "WD", 1, "17:30"), ("t8", "WE", 0, "10:00")]
    trip_lines = ["route_id,service_id,trip_id,direction_id"]
    stop_time_lines = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for trip_id, service, direction, start in trips:
        trip_lines.append(f"L1,{service},{trip_id},{direction}")
        hours, minutes = map(int, start.split(":"))
        sequence = ["A", "B", "C"] if direction == 0 else ["C", "B", "A"]
        for number, (stop, offset) in enumerate(zip(sequence, (0, 5, 12), strict=True)):
            total = hours * 60 + minutes + offset
            clock = f"{total // 60:02d}:{total % 60:02d}:00"
            stop_time_lines.append(f"{trip_id},{clock},{clock},{stop},{number + 1}")
    files["trips.txt"] = "\n".join(trip_lines) + "\n"
    files["stop_times.txt"] = "\n".join(stop_time_lines) + "\n"
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_gtfs_feed_becomes_the_same_model(tmp_path: Path) -> None:
    model = transit_model_from_gtfs(
        _write_gtfs(tmp_path / "feed"), windows=DEFAULT_TIME_WINDOWS, params=PARAMS
    )
    assert len(model.routes) == 1
    route = model.routes[0]
    assert route.route_id == "L1" and route.name == "D169"
    assert route.stop_ids == ("A", "B", "C")
    assert route.cumulative_minutes == (0.0, 5.0, 12.0)
    assert not route.one_way
    headways = dict(route.headways)
    assert headways["weekday_peak"] == 30.0  # 120 min / 4 departures
    assert "weekday_evening" not in headways  # the 17:00 and 17:30 trips miss 18:00-22:00
    assert headways["weekend_day"] == 540.0  # one Saturday trip in 09:00-18:00
    assert headways["night_shift_end"] == 120.0  # the 24:30 trip is 00:30 on the clock
    assert route.service_start == "07:00"
    assert route.service_end == "00:42"  # the 24:30 trip arrives at 24:42
    assert set(model.stop_ids) == {"A", "B", "C"}


def test_gtfs_route_in_one_direction_is_one_way(tmp_path: Path) -> None:
    import gtfs_kit

    feed = gtfs_kit.read_feed(_write_gtfs(tmp_path / "feed"), dist_units="km")
    feed.trips = feed.trips[feed.trips["direction_id"] == 0]
    feed.stop_times = feed.stop_times[feed.stop_times["trip_id"].isin(feed.trips["trip_id"])]
    lunch = TimeWindow("lunch", "weekday", "11:00", "13:00", "Lunch", "午间")
    model = transit_model_from_gtfs(feed, windows=(lunch, PEAK), params=PARAMS)
    route = model.routes[0]
    assert route.one_way
    assert dict(route.headways) == {"weekday_peak": 30.0}  # no lunch departures: not running
