"""Tests for retention.scenario.shuttle: hand-worked operations of simple routes."""

from __future__ import annotations

import math

import pytest

from retention.errors import ParameterError
from retention.scenario.model import AddRoute, RouteStop, ServiceWindow
from retention.scenario.shuttle import (
    RouteGeometry,
    ShuttleParameters,
    cumulative_run_minutes,
    cycle_minutes,
    route_operations,
    route_riders,
)

STOPS = (RouteStop(113.14, 27.85), RouteStop(113.15, 27.85), RouteStop(113.16, 27.85))


def _route(**changes) -> AddRoute:
    values = {
        "route_id": "S1",
        "name": "s",
        "stops": STOPS[::2],
        "service": (ServiceWindow("weekday_evening", 10.0, "18:00", "22:00"),),
    }
    values.update(changes)
    return AddRoute(**values)


def test_two_way_route_of_3_km_at_15_kmh_every_10_minutes():
    # Run 3 km / 250 m/min = 12 min; cycle 2 x 12 + 2 x 5 layover = 34 min; ceil(34/10) = 4
    # vehicles; 240/10 + 1 = 25 departures; 25 x 34 / 60 = 14.1667 vehicle-hours and 25 x 6 =
    # 150 vehicle-km a day; 14.1667 x 120 = 1,700 CNY a day, x 250 days = 425,000 CNY a year.
    ops = route_operations(
        _route(), RouteGeometry((3000.0,)), parameters=ShuttleParameters(dwell_minutes_per_stop=0.5)
    )
    assert ops.run_minutes == pytest.approx(12.0)
    assert ops.cycle_minutes == pytest.approx(34.0)
    assert ops.vehicles == 4
    assert ops.windows["departures"].tolist() == [25]
    assert ops.vehicle_hours_per_day == pytest.approx(25 * 34 / 60)
    assert ops.vehicle_km_per_day == pytest.approx(150.0)
    assert ops.cost_cny_per_day == pytest.approx(1700.0)
    assert ops.cost_cny_per_year == pytest.approx(425_000.0)


def test_dwell_counts_at_intermediate_stops_only():
    geometry = RouteGeometry((1000.0, 2000.0))
    # 1 km at 250 m/min = 4 min, then 1 min dwell, then 8 min: arrivals 0, 4, 13.
    assert cumulative_run_minutes(geometry, speed_kmh=15.0, dwell_minutes_per_stop=1.0) == (
        0.0,
        4.0,
        13.0,
    )


def test_one_way_route_pays_the_empty_run_back_and_its_kilometres():
    # 2 km out (8 min), 1 km back empty (4 min), layovers 2 x 3: cycle 18 min; headway 6 ->
    # 3 vehicles; 60/6 + 1 = 11 departures x 3 km = 33 vehicle-km at 5.7 CNY = 188.1 CNY a day.
    route = _route(
        two_way=False,
        cost_basis="vehicle_km",
        service=(ServiceWindow("weekday_peak", 6.0, "07:00", "08:00"),),
        service_days_per_year=300,
    )
    geometry = RouteGeometry((2000.0,), deadhead_metres=1000.0)
    parameters = ShuttleParameters(layover_minutes=3.0)
    assert cycle_minutes(
        geometry, two_way=False, speed_kmh=15.0, dwell_minutes_per_stop=0.0, layover_minutes=3.0
    ) == pytest.approx(18.0)
    ops = route_operations(route, geometry, parameters=parameters)
    assert ops.vehicles == 3
    assert ops.vehicle_km_per_day == pytest.approx(33.0)
    assert ops.cost_cny_per_day == pytest.approx(33 * 5.7)
    assert ops.cost_cny_per_year == pytest.approx(33 * 5.7 * 300)


def test_a_cycle_that_is_an_exact_multiple_of_the_headway_needs_no_extra_vehicle():
    ops = route_operations(
        _route(service=(ServiceWindow("weekday_evening", 17.0, "18:00", "19:00"),)),
        RouteGeometry((3000.0,)),
        parameters=ShuttleParameters(),
    )
    assert ops.cycle_minutes == pytest.approx(34.0)
    assert ops.vehicles == 2


def test_the_route_rate_overrides_the_park_default_and_windows_add_up():
    route = _route(
        cost_cny_per_unit=100.0,
        service=(
            ServiceWindow("weekday_peak", 10.0, "07:00", "09:00"),
            ServiceWindow("weekday_evening", 20.0, "18:00", "22:00"),
        ),
    )
    ops = route_operations(route, RouteGeometry((3000.0,)), parameters=ShuttleParameters())
    # peak: 13 departures, 4 vehicles; evening: 13 departures, 2 vehicles; fleet 4.
    assert ops.windows["departures"].tolist() == [13, 13]
    assert ops.windows["vehicles"].tolist() == [4, 2]
    assert ops.vehicles == 4
    assert ops.cost_cny_per_day == pytest.approx(26 * 34 / 60 * 100.0)


def test_riders_load_and_fares():
    # 500 people improved x 30 % = 150 riders over 25 departures = 6 per departure, x 1.5 = 9 at
    # the peak, over a capacity of 8 (flagged); fares 150 riders x 2 trips x 2 CNY x 250 days.
    route = _route(vehicle_capacity=8, fare_cny=2.0)
    ops = route_operations(route, RouteGeometry((3000.0,)), parameters=ShuttleParameters())
    riders = route_riders(route, ops, {"weekday_evening": 500.0}, parameters=ShuttleParameters())
    row = riders.by_window.iloc[0]
    assert row["riders"] == pytest.approx(150.0)
    assert row["mean_load"] == pytest.approx(6.0)
    assert row["peak_load"] == pytest.approx(9.0)
    assert bool(row["over_capacity"]) and riders.over_capacity
    assert riders.fare_revenue_cny_per_year == pytest.approx(150 * 2 * 2.0 * 250)
    roomy = route_riders(
        _route(vehicle_capacity=9), ops, {"weekday_evening": 500.0}, parameters=ShuttleParameters()
    )
    assert not roomy.over_capacity


def test_capital_is_annualised_with_the_capital_recovery_factor():
    parameters = ShuttleParameters(discount_rate=0.05, asset_life_years=10)
    factor = 0.05 / (1 - 1.05**-10)
    assert parameters.annualised_capital(1_000_000) == pytest.approx(1_000_000 * factor)
    assert ShuttleParameters(discount_rate=0.0, asset_life_years=20).annualised_capital(
        200_000
    ) == pytest.approx(10_000)


@pytest.mark.parametrize(
    ("field", "value"),
    [("mode_shift_share", 1.5), ("cost_cny_per_vehicle_hour", -1.0), ("layover_minutes", math.nan)],
)
def test_parameters_out_of_range_are_refused(field, value):
    with pytest.raises(ParameterError, match=f"{field} is"):
        ShuttleParameters(**{field: value})


def test_shuttle_defaults_are_park_parameters_with_their_sources():
    from retention.park_parameters import (
        ParkParameters,
        parameter_table,
        park_parameters_from_document,
        park_parameters_from_toml,
        park_parameters_to_toml,
    )

    edited = ParkParameters(shuttle=ShuttleParameters(mode_shift_share=0.5, layover_minutes=8.0))
    text = park_parameters_to_toml(edited)
    assert "[shuttle]" in text and "PARAMETERS.md item 12" in text
    assert park_parameters_from_toml(text) == edited
    table = parameter_table(edited, "en").set_index("key")
    row = table.loc["shuttle.cost_cny_per_vehicle_hour"]
    assert row["value"] == "120" and "per vehicle-hour" in row["source"]
    assert bool(table.loc["shuttle.mode_shift_share", "changed"])
    with pytest.raises(ParameterError, match=r"1\.5") as raised:
        park_parameters_from_document({"shuttle": {"mode_shift_share": 1.5}}, file="p.toml")
    assert raised.value.column == "shuttle.mode_shift_share"
