"""Shuttle and custom-bus operations: run time, cycle, vehicles, vehicle-hours, cost, riders, load.

Hand-checkable arithmetic on one route (:class:`RouteGeometry` from
``retention.scenario.layers``)::

    run minutes    = route km / speed × 60 + dwell × intermediate stops
    cycle minutes  = two-way: 2 × run + 2 × layover;  one-way: run + deadhead back + 2 × layover
    vehicles       = ceil(cycle / headway)                           (per service window)
    departures     = floor(span / headway) + 1                       (first to last departure)
    vehicle-hours  = departures × cycle / 60;   vehicle-km = departures × km per cycle
    annual cost    = daily (vehicle-hours × rate, or vehicle-km × rate) × service days

Riders are people (workers at work, residents at home) within walking reach of one of the route's
stops whose best minutes to some amenity category improve in a window the route runs, times an
editable mode-shift share; boardings per departure at the peak are compared with the vehicle
capacity and flagged when over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from retention.errors import ParameterError
from retention.scenario.model import AddRoute

SHUTTLE_SOURCES = MappingProxyType(
    {
        "cost_cny_per_vehicle_hour": (
            "PARAMETERS.md item 12: urban bus operating cost 120 CNY per vehicle-hour "
            "(range 85-170, evidence 5.15 DER)"
        ),
        "cost_cny_per_vehicle_km": (
            "PARAMETERS.md item 12 / evidence 5.12: 5.7 CNY per vehicle-km (Chinese urban bus, "
            "2024, aggregator)"
        ),
        "dwell_minutes_per_stop": (
            "ParkLife assumption: 0.5 min per intermediate stop (no published source)"
        ),
        "layover_minutes": "ParkLife assumption: 5 min at each terminus (no published source)",
        "mode_shift_share": (
            "ParkLife assumption: 30 % of the people whose access improves ride (no published "
            "source; PARAMETERS.md item 9 warns against vendor turnover claims)"
        ),
        "peak_factor": (
            "ParkLife assumption: the busiest departure carries 1.5 x the window's mean load "
            "(riders bunch at shift end)"
        ),
        "discount_rate": (
            "ParkLife assumption: 4 % a year to annualise capital (close to long-term "
            "government bond yields; no published source for parks)"
        ),
        "asset_life_years": "ParkLife assumption: 20 years for buildings and courts",
        "min_gain_minutes": "ParkLife assumption: a gain under 1 minute is noise, not access",
    }
)
"""Where each default of :class:`ShuttleParameters` comes from."""

SHUTTLE_RANGES = MappingProxyType(
    {
        "cost_cny_per_vehicle_hour": (0.0, 2000.0),
        "cost_cny_per_vehicle_km": (0.0, 200.0),
        "dwell_minutes_per_stop": (0.0, 10.0),
        "layover_minutes": (0.0, 60.0),
        "mode_shift_share": (0.0, 1.0),
        "peak_factor": (1.0, 10.0),
        "discount_rate": (0.0, 0.3),
        "asset_life_years": (1.0, 100.0),
        "min_gain_minutes": (0.0, 30.0),
    }
)
"""Valid range of each field of :class:`ShuttleParameters`, both ends included."""


@dataclass(frozen=True)
class ShuttleParameters:
    """Operating-cost rates and rider assumptions of scenario interventions (sources above).

    Parameters
    ----------
    cost_cny_per_vehicle_hour, cost_cny_per_vehicle_km
        Default operating-cost rates, used when a route gives none.
    dwell_minutes_per_stop
        Stop time at each intermediate stop.
    layover_minutes
        Recovery time at each end of a trip.
    mode_shift_share
        Share of the people whose access improves who ride.
    peak_factor
        Busiest departure's load over the window's mean load per departure.
    discount_rate, asset_life_years
        Capital recovery: capital × r / (1 − (1 + r)^−n) per year.
    min_gain_minutes
        Smallest improvement in minutes that counts as "reached".
    """

    cost_cny_per_vehicle_hour: float = 120.0
    cost_cny_per_vehicle_km: float = 5.7
    dwell_minutes_per_stop: float = 0.5
    layover_minutes: float = 5.0
    mode_shift_share: float = 0.3
    peak_factor: float = 1.5
    discount_rate: float = 0.04
    asset_life_years: float = 20.0
    min_gain_minutes: float = 1.0

    def __post_init__(self) -> None:
        for name, (low, high) in SHUTTLE_RANGES.items():
            value = getattr(self, name)
            if not (
                isinstance(value, int | float) and math.isfinite(value) and low <= value <= high
            ):
                raise ParameterError(
                    f"{name} is {value!r}; expected a number from {low:g} to {high:g}",
                    column=f"shuttle.{name}",
                )

    def annualised_capital(self, capital_cny: float) -> float:
        """Return the yearly payment that repays ``capital_cny`` over the asset life."""
        r, n = self.discount_rate, self.asset_life_years
        if capital_cny == 0:
            return 0.0
        if r == 0:
            return capital_cny / n
        return capital_cny * r / (1 - (1 + r) ** -n)


@dataclass(frozen=True)
class RouteGeometry:
    """Lengths of a new route's legs (between consecutive stops) and of the return deadhead.

    Parameters
    ----------
    leg_metres
        One length per pair of consecutive stops, metres (along roads, or straight × circuity).
    deadhead_metres
        Empty return from the last stop to the first (used by one-way routes only).
    snapped
        Whether the lengths follow the road network.
    """

    leg_metres: tuple[float, ...]
    deadhead_metres: float = 0.0
    snapped: bool = False

    @property
    def length_metres(self) -> float:
        """Length from the first stop to the last."""
        return float(sum(self.leg_metres))


def cumulative_run_minutes(
    geometry: RouteGeometry, *, speed_kmh: float, dwell_minutes_per_stop: float
) -> tuple[float, ...]:
    """Return in-vehicle minutes from the first stop to each stop (dwell at intermediate stops).

    Parameters
    ----------
    geometry
        Leg lengths.
    speed_kmh
        Commercial speed while moving.
    dwell_minutes_per_stop
        Minutes stopped at each intermediate stop (before leaving it).
    """
    if speed_kmh <= 0:
        raise ParameterError(f"speed_kmh is {speed_kmh!r}; expected > 0", column="speed_kmh")
    metres_per_minute = speed_kmh * 1000.0 / 60.0
    moving = np.cumsum([0.0, *geometry.leg_metres]) / metres_per_minute
    dwell = np.concatenate([[0.0], np.arange(len(geometry.leg_metres)) * dwell_minutes_per_stop])
    return tuple(float(v) for v in moving + dwell)


def run_minutes(
    geometry: RouteGeometry, *, speed_kmh: float, dwell_minutes_per_stop: float
) -> float:
    """Return minutes from the first stop to the last, dwell at intermediate stops included."""
    return cumulative_run_minutes(
        geometry, speed_kmh=speed_kmh, dwell_minutes_per_stop=dwell_minutes_per_stop
    )[-1]


def cycle_minutes(
    geometry: RouteGeometry,
    *,
    two_way: bool,
    speed_kmh: float,
    dwell_minutes_per_stop: float,
    layover_minutes: float,
) -> float:
    """Return the minutes a vehicle needs before it can start the next trip from the first stop.

    Two-way: out and back with a layover at each end. One-way: the trip, an empty run back
    (``geometry.deadhead_metres`` at ``speed_kmh``) and a layover at each end.
    """
    run = run_minutes(geometry, speed_kmh=speed_kmh, dwell_minutes_per_stop=dwell_minutes_per_stop)
    if two_way:
        return 2 * run + 2 * layover_minutes
    back = geometry.deadhead_metres / (speed_kmh * 1000.0 / 60.0)
    return run + back + 2 * layover_minutes


@dataclass(frozen=True, eq=False)
class RouteOperations:
    """Operations of one new route: per service window and per day and year.

    Attributes
    ----------
    route_id
        The route.
    run_minutes, cycle_minutes
        One-direction run time and full cycle.
    km_per_cycle
        Vehicle-km driven per cycle (both directions, or trip plus deadhead).
    windows
        One row per service window: ``window``, ``headway_minutes``, ``span_minutes``,
        ``departures``, ``vehicles``, ``vehicle_hours``, ``vehicle_km``.
    vehicles
        Fleet needed: the most vehicles any window needs.
    vehicle_hours_per_day, vehicle_km_per_day
        Sums over windows.
    cost_cny_per_day, cost_cny_per_year
        Operating cost.
    cost_basis, cost_rate_cny
        Which rate was used and its value.
    """

    route_id: str
    run_minutes: float
    cycle_minutes: float
    km_per_cycle: float
    windows: pd.DataFrame
    vehicles: int
    vehicle_hours_per_day: float
    vehicle_km_per_day: float
    cost_cny_per_day: float
    cost_cny_per_year: float
    cost_basis: str
    cost_rate_cny: float


def route_operations(
    route: AddRoute, geometry: RouteGeometry, *, parameters: ShuttleParameters
) -> RouteOperations:
    """Compute vehicles, vehicle-hours, vehicle-km and operating cost of a new route.

    Assumes ``route`` passed scenario validation (headways > 0, spans within the day).

    Parameters
    ----------
    route
        The route modification.
    geometry
        Its leg lengths (``retention.scenario.layers.route_geometry``).
    parameters
        Dwell, layover and default cost rates.

    Returns
    -------
    RouteOperations
    """
    run = run_minutes(
        geometry,
        speed_kmh=route.speed_kmh,
        dwell_minutes_per_stop=parameters.dwell_minutes_per_stop,
    )
    cycle = cycle_minutes(
        geometry,
        two_way=route.two_way,
        speed_kmh=route.speed_kmh,
        dwell_minutes_per_stop=parameters.dwell_minutes_per_stop,
        layover_minutes=parameters.layover_minutes,
    )
    km = (
        2 * geometry.length_metres
        if route.two_way
        else geometry.length_metres + geometry.deadhead_metres
    ) / 1000.0
    rows = []
    for service in route.service:
        span = service.span_minutes
        departures = math.floor(span / service.headway_minutes) + 1
        rows.append(
            {
                "window": service.window,
                "headway_minutes": float(service.headway_minutes),
                "span_minutes": float(span),
                "departures": departures,
                "vehicles": math.ceil(cycle / service.headway_minutes - 1e-9),
                "vehicle_hours": departures * cycle / 60.0,
                "vehicle_km": departures * km,
            }
        )
    windows = pd.DataFrame(rows)
    hours = float(windows["vehicle_hours"].sum())
    kms = float(windows["vehicle_km"].sum())
    if route.cost_basis == "vehicle_km":
        rate = (
            parameters.cost_cny_per_vehicle_km
            if route.cost_cny_per_unit is None
            else route.cost_cny_per_unit
        )
        daily = kms * rate
    else:
        rate = (
            parameters.cost_cny_per_vehicle_hour
            if route.cost_cny_per_unit is None
            else route.cost_cny_per_unit
        )
        daily = hours * rate
    return RouteOperations(
        route_id=route.route_id,
        run_minutes=run,
        cycle_minutes=cycle,
        km_per_cycle=km,
        windows=windows,
        vehicles=int(windows["vehicles"].max()),
        vehicle_hours_per_day=hours,
        vehicle_km_per_day=kms,
        cost_cny_per_day=daily,
        cost_cny_per_year=daily * route.service_days_per_year,
        cost_basis=route.cost_basis,
        cost_rate_cny=float(rate),
    )


@dataclass(frozen=True, eq=False)
class RouteRiders:
    """Expected riders of one new route and its peak load.

    Attributes
    ----------
    route_id
        The route.
    people_reached
        People near its stops whose best minutes improve (before the mode-shift share).
    by_window
        ``window``, ``people_improved``, ``riders``, ``departures_per_direction``,
        ``mean_load``, ``peak_load``, ``capacity``, ``over_capacity``.
    riders_per_day
        Riders summed over windows (each rider counted once per window).
    fare_revenue_cny_per_year
        Riders × trips × fare × service days (two-way riders ride back).
    over_capacity
        Whether any window's peak load exceeds the vehicle capacity.
    """

    route_id: str
    people_reached: float
    by_window: pd.DataFrame
    riders_per_day: float
    fare_revenue_cny_per_year: float
    over_capacity: bool = field(default=False)


def route_riders(
    route: AddRoute,
    operations: RouteOperations,
    improved_people_by_window: dict[str, float],
    *,
    parameters: ShuttleParameters,
) -> RouteRiders:
    """Turn the people whose access a route improves into riders, load and fare revenue.

    Parameters
    ----------
    route
        The route.
    operations
        Its operations (departures per window).
    improved_people_by_window
        People near the route's stops whose best minutes improve, per window key it runs in.
    parameters
        Mode-shift share and peak factor.

    Returns
    -------
    RouteRiders
    """
    rows = []
    for _, window in operations.windows.iterrows():
        people = float(improved_people_by_window.get(window["window"], 0.0))
        riders = people * parameters.mode_shift_share
        # Two-way riders go out in one direction and back in the other; both carry them.
        per_direction = int(window["departures"])
        mean_load = riders / per_direction if per_direction else 0.0
        peak = mean_load * parameters.peak_factor
        rows.append(
            {
                "window": window["window"],
                "people_improved": people,
                "riders": riders,
                "departures_per_direction": per_direction,
                "mean_load": mean_load,
                "peak_load": peak,
                "capacity": route.vehicle_capacity,
                "over_capacity": peak > route.vehicle_capacity,
            }
        )
    table = pd.DataFrame(rows)
    riders_per_day = float(table["riders"].sum()) if len(table) else 0.0
    trips = 2 if route.two_way else 1
    return RouteRiders(
        route_id=route.route_id,
        people_reached=float(table["people_improved"].max()) if len(table) else 0.0,
        by_window=table,
        riders_per_day=riders_per_day,
        fare_revenue_cny_per_year=riders_per_day
        * trips
        * route.fare_cny
        * route.service_days_per_year,
        over_capacity=bool(table["over_capacity"].any()) if len(table) else False,
    )


__all__ = [
    "SHUTTLE_RANGES",
    "SHUTTLE_SOURCES",
    "RouteGeometry",
    "RouteOperations",
    "RouteRiders",
    "ShuttleParameters",
    "cumulative_run_minutes",
    "cycle_minutes",
    "route_operations",
    "route_riders",
    "run_minutes",
]
