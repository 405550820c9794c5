"""Scenarios: named, ordered lists of frozen modifications over a park's baseline.

A scenario never holds or changes data: it is a recipe (add a shuttle, close a clinic, move
workers, ...) that ``retention.scenario.layers`` applies to *copies* of the baseline layers. Every
modification is checked against the park (:class:`ParkContext`) in order — a later modification
may use an id an earlier one created — and a bad one raises :class:`ScenarioError` naming the
modification, the field and what was expected; the scenario it was to be added to is unchanged
(scenarios are immutable values).

JSON export and import carry :data:`SCHEMA_VERSION`; a file of another version is refused rather
than guessed at.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, fields, replace
from typing import Any, ClassVar, Literal, TypeAlias

import geopandas as gpd
import numpy as np
import shapely

from retention.access.origins import park_area
from retention.data.hours import parse_opening_hours, parse_time_minutes
from retention.data.layers import WGS84, AmenityCategory, LayerKind, ResidenceKind, TransitKind
from retention.errors import ScenarioError, ValidationError

SCHEMA_VERSION = 1
"""Version of the scenario JSON layout; bump it when a field changes meaning."""

CostBasis = Literal["vehicle_hour", "vehicle_km"]
COST_BASES: tuple[str, ...] = ("vehicle_hour", "vehicle_km")


@dataclass(frozen=True)
class RouteStop:
    """One stop of a new route, in riding order (WGS84).

    Parameters
    ----------
    lon, lat
        Position in WGS84 degrees.
    name
        Display name.
    ref
        Id of the feature it was picked from (an existing stop id, amenity or residence id), or
        blank for a point clicked on the map. An existing transit stop id is reused as the stop
        id, so riders can change there.
    """

    lon: float
    lat: float
    name: str = ""
    ref: str = ""


@dataclass(frozen=True)
class ServiceWindow:
    """Service of a route in one time window: vehicles every ``headway_minutes`` from start to end.

    Parameters
    ----------
    window
        Time-window key (``retention.access.parameters.TimeWindow.key``), e.g. ``weekday_evening``.
    headway_minutes
        Minutes between departures (> 0).
    start, end
        First and last departure, ``HH:MM`` within one day (00:00 <= start < end <= 24:00); a
        service past midnight is two windows.
    """

    window: str
    headway_minutes: float
    start: str
    end: str

    @property
    def span_minutes(self) -> int:
        """Minutes from first to last departure."""
        return parse_time_minutes(self.end) - parse_time_minutes(self.start)


@dataclass(frozen=True)
class AddRoute:
    """A new shuttle or custom-bus route (班车 / 定制公交).

    Parameters
    ----------
    route_id, name
        New unique id and display name.
    stops
        Stops in riding order (at least two).
    service
        One :class:`ServiceWindow` per time window it runs in.
    kind
        ``shuttle`` or ``custom_bus`` (``retention.data.layers.TransitKind``).
    two_way
        Whether vehicles also run the stops in reverse order.
    snap_to_roads
        Whether the line follows the shortest road path between stops (else straight lines
        times the park's circuity factor).
    speed_kmh
        Commercial speed while moving (PARAMETERS.md item 16: 15 km/h).
    vehicle_capacity
        Places per vehicle.
    cost_basis
        ``vehicle_hour`` or ``vehicle_km``.
    cost_cny_per_unit
        Operating cost per vehicle-hour or vehicle-km; ``None`` uses the park's default rate.
    fare_cny
        Fare per trip (0: free to riders).
    open_to
        Enterprise ids whose employees and dormitory residents may ride; empty: everyone.
    service_days_per_year
        Days a year the service runs (1–366).
    """

    op: ClassVar[str] = "add_route"
    route_id: str
    name: str
    stops: tuple[RouteStop, ...]
    service: tuple[ServiceWindow, ...]
    kind: str = TransitKind.SHUTTLE.value
    two_way: bool = True
    snap_to_roads: bool = True
    speed_kmh: float = 15.0
    vehicle_capacity: int = 35
    cost_basis: CostBasis = "vehicle_hour"
    cost_cny_per_unit: float | None = None
    fare_cny: float = 0.0
    open_to: tuple[str, ...] = ()
    service_days_per_year: int = 250


@dataclass(frozen=True)
class ChangeRouteService:
    """New headways (and optionally a new service span) for an existing route.

    Parameters
    ----------
    route_id
        An existing route (baseline or added earlier in the scenario).
    headways
        ``(window key, minutes)``; ``None`` minutes withdraw the service in that window. Windows
        not listed keep their headway.
    service_start, service_end
        New first / last departure ``HH:MM``; blank keeps the current one.
    """

    op: ClassVar[str] = "change_route_service"
    route_id: str
    headways: tuple[tuple[str, float | None], ...]
    service_start: str = ""
    service_end: str = ""


@dataclass(frozen=True)
class RemoveRoute:
    """Withdraw a route (its stops stay where other routes use them)."""

    op: ClassVar[str] = "remove_route"
    route_id: str


@dataclass(frozen=True)
class AddAmenity:
    """A new amenity (court, canteen, clinic, ...).

    Parameters
    ----------
    amenity_id, name
        New unique id and display name.
    category
        ``retention.data.layers.AmenityCategory`` value.
    lon, lat
        Position (WGS84), inside the park.
    capacity
        Capacity in the category's unit (``CAPACITY_UNITS``), >= 0.
    opening_hours
        Opening-hours expression (``retention.data.hours``), e.g. ``Mo-Su 06:00-22:00``.
    open_to
        Enterprise ids; empty: everyone.
    capital_cost_cny, annual_cost_cny_per_year
        One-off building cost and yearly running cost.
    """

    op: ClassVar[str] = "add_amenity"
    amenity_id: str
    name: str
    category: str
    lon: float
    lat: float
    capacity: float
    opening_hours: str = "Mo-Su 00:00-24:00"
    open_to: tuple[str, ...] = ()
    capital_cost_cny: float = 0.0
    annual_cost_cny_per_year: float = 0.0


@dataclass(frozen=True)
class CloseAmenity:
    """Close an amenity; ``annual_saving_cny_per_year`` is its running cost no longer paid."""

    op: ClassVar[str] = "close_amenity"
    amenity_id: str
    annual_saving_cny_per_year: float = 0.0


@dataclass(frozen=True)
class ResizeAmenity:
    """Change an amenity's capacity and optionally its opening hours.

    Parameters
    ----------
    amenity_id
        An existing amenity.
    capacity
        New capacity (>= 0).
    opening_hours
        New opening hours; blank keeps them.
    capital_cost_cny, annual_cost_cny_per_year
        Cost of the change.
    """

    op: ClassVar[str] = "resize_amenity"
    amenity_id: str
    capacity: float
    opening_hours: str = ""
    capital_cost_cny: float = 0.0
    annual_cost_cny_per_year: float = 0.0


@dataclass(frozen=True)
class AddResidence:
    """A new dormitory or talent apartment, and who moves in.

    Parameters
    ----------
    residence_id, name
        New unique id and display name.
    kind
        ``retention.data.layers.ResidenceKind`` value.
    lon, lat
        Position (WGS84), inside the park.
    beds
        Beds (>= 0); the residents moving in may not exceed them.
    rent_cny_month
        Monthly rent per bed.
    enterprise_id
        Enterprise whose dormitory it is (blank: open to any).
    moves_in
        ``(from residence id, workers)``: who moves in, from where.
    capital_cost_cny, annual_cost_cny_per_year
        Building (or fitting-out) cost and yearly running cost.
    """

    op: ClassVar[str] = "add_residence"
    residence_id: str
    name: str
    kind: str
    lon: float
    lat: float
    beds: int
    rent_cny_month: float = 0.0
    enterprise_id: str = ""
    moves_in: tuple[tuple[str, int], ...] = ()
    capital_cost_cny: float = 0.0
    annual_cost_cny_per_year: float = 0.0


@dataclass(frozen=True)
class MoveWorkers:
    """Move ``workers`` residents from one residence to another."""

    op: ClassVar[str] = "move_workers"
    from_residence_id: str
    to_residence_id: str
    workers: int


Modification: TypeAlias = (
    AddRoute
    | ChangeRouteService
    | RemoveRoute
    | AddAmenity
    | CloseAmenity
    | ResizeAmenity
    | AddResidence
    | MoveWorkers
)
MODIFICATION_TYPES: Mapping[str, type] = {
    cls.op: cls
    for cls in (
        AddRoute,
        ChangeRouteService,
        RemoveRoute,
        AddAmenity,
        CloseAmenity,
        ResizeAmenity,
        AddResidence,
        MoveWorkers,
    )
}
"""Modification class by its JSON ``op`` name."""


PACKAGE_OBJECTIVES: tuple[str, ...] = ("leavers_avoided", "people_newly_in_circle")
"""What a budget package maximises (``retention.scenario.budget``)."""


@dataclass(frozen=True)
class PackageItem:
    """One candidate intervention of a budget package, measured alone.

    Parameters
    ----------
    modification
        The intervention.
    annual_cost_cny
        Its annual cost alone (operating + annualised capital, less savings), CNY per year.
    benefit
        Its benefit alone, in the package's objective (leavers avoided a year, or people newly
        inside the living circle).
    chosen
        Whether the package includes it.
    """

    modification: Modification
    annual_cost_cny: float
    benefit: float
    chosen: bool


@dataclass(frozen=True)
class BudgetPackage:
    """How a scenario was chosen by the budget tool: the budget, the objective, every candidate.

    A scenario carrying a package holds exactly the chosen candidates' modifications, in the
    candidates' order; its figures are those of the package measured as a whole (benefits of
    interventions serving the same people do not add up).

    Parameters
    ----------
    budget_cny_per_year
        The annual budget the package had to fit, CNY.
    objective
        One of :data:`PACKAGE_OBJECTIVES`.
    items
        Every candidate, chosen or not, in the order they were offered.
    """

    budget_cny_per_year: float
    objective: str
    items: tuple[PackageItem, ...]

    def __post_init__(self) -> None:
        if self.objective not in PACKAGE_OBJECTIVES:
            raise ScenarioError(
                f"budget package objective is {self.objective!r}; expected one of "
                f"{', '.join(PACKAGE_OBJECTIVES)}",
                column="objective",
            )
        if not math.isfinite(self.budget_cny_per_year) or self.budget_cny_per_year < 0:
            raise ScenarioError(
                f"budget package budget is {self.budget_cny_per_year!r}; expected CNY >= 0",
                column="budget_cny_per_year",
            )
        for number, item in enumerate(self.items, start=1):
            if not (math.isfinite(item.annual_cost_cny) and math.isfinite(item.benefit)):
                raise ScenarioError(
                    f"budget package item {number}: cost and benefit must be finite numbers",
                    column="items",
                )
        if not any(item.chosen for item in self.items):
            raise ScenarioError(
                "budget package chooses no intervention; expected at least one", column="items"
            )
        slack = 1e-6 * max(1.0, self.budget_cny_per_year)  # float sums of costs, not a policy
        if self.annual_cost_cny > self.budget_cny_per_year + slack:
            raise ScenarioError(
                f"budget package costs {self.annual_cost_cny:,.0f} CNY a year, over its budget "
                f"of {self.budget_cny_per_year:,.0f}",
                column="budget_cny_per_year",
            )

    @property
    def chosen_modifications(self) -> tuple[Modification, ...]:
        """The chosen interventions, in the candidates' order."""
        return tuple(item.modification for item in self.items if item.chosen)

    @property
    def chosen_numbers(self) -> tuple[int, ...]:
        """1-based numbers of the chosen candidates."""
        return tuple(number for number, item in enumerate(self.items, start=1) if item.chosen)

    @property
    def annual_cost_cny(self) -> float:
        """Sum of the chosen candidates' annual costs alone, CNY per year."""
        return float(sum(item.annual_cost_cny for item in self.items if item.chosen))

    @property
    def benefit_alone(self) -> float:
        """Sum of the chosen candidates' benefits measured alone (not the package's benefit)."""
        return float(sum(item.benefit for item in self.items if item.chosen))


@dataclass(frozen=True)
class Scenario:
    """A named what-if: modifications applied in order over the baseline.

    Parameters
    ----------
    name
        Display name.
    modifications
        The modifications, in the order they apply.
    description
        Free text.
    package
        Set when the scenario is a budget package (``retention.scenario.budget``): how it was
        chosen. Its chosen modifications must be ``modifications``; editing the modifications
        (:meth:`with_modification`, :meth:`without_modification`) drops it.
    """

    name: str
    modifications: tuple[Modification, ...] = ()
    description: str = ""
    package: BudgetPackage | None = None

    def __post_init__(self) -> None:
        if self.package is not None and self.package.chosen_modifications != self.modifications:
            raise ScenarioError(
                f"scenario {self.name!r}: its modifications are not its budget package's chosen "
                "interventions; expected exactly those, in the candidates' order",
                column="package",
            )

    def with_modification(self, modification: Modification, context: ParkContext) -> Scenario:
        """Return a new scenario with ``modification`` appended, after checking it all.

        A budget package's record is dropped: the scenario is no longer the chosen package.

        Raises
        ------
        ScenarioError
            If the modification is invalid for the park; ``self`` is unchanged (immutable).
        """
        candidate = replace(self, modifications=(*self.modifications, modification), package=None)
        validate_scenario(candidate, context)
        return candidate

    def without_modification(self, index: int, context: ParkContext) -> Scenario:
        """Return a new scenario without modification number ``index`` (0-based), checked.

        A budget package's record is dropped, as in :meth:`with_modification`.
        """
        if not 0 <= index < len(self.modifications):
            raise ScenarioError(
                f"modification {index + 1} does not exist; the scenario has "
                f"{len(self.modifications)}",
                column="modifications",
            )
        kept = self.modifications[:index] + self.modifications[index + 1 :]
        candidate = replace(self, modifications=kept, package=None)
        validate_scenario(candidate, context)
        return candidate

    def with_route_stops(
        self, index: int, stops: tuple[RouteStop, ...], context: ParkContext
    ) -> Scenario:
        """Return a new scenario whose new route number ``index`` (0-based) runs through
        ``stops`` instead (a route re-drawn on the map), checked; its id, name, timetable,
        vehicles, costs and who may ride are kept, and so is its place in the order.

        Raises
        ------
        ScenarioError
            If modification ``index`` does not exist or is not a new route, or the new stops are
            invalid for the park; ``self`` is unchanged (immutable).
        """
        if not 0 <= index < len(self.modifications):
            raise ScenarioError(
                f"modification {index + 1} does not exist; the scenario has "
                f"{len(self.modifications)}",
                column="modifications",
            )
        route = self.modifications[index]
        if not isinstance(route, AddRoute):
            raise ScenarioError(
                f"modification {index + 1} is not a new route; expected one whose stops to replace",
                column="modifications",
            )
        changed = (
            *self.modifications[:index],
            replace(route, stops=tuple(stops)),
            *self.modifications[index + 1 :],
        )
        candidate = replace(self, modifications=changed, package=None)
        validate_scenario(candidate, context)
        return candidate

    @property
    def is_baseline(self) -> bool:
        """True when the scenario changes nothing."""
        return not self.modifications


# ---------------------------------------------------------------------------------------------
# The park a scenario is checked against
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ParkContext:
    """What a scenario may refer to in one park: ids, residents, window keys and the park area.

    Build it with :func:`park_context`.
    """

    route_ids: frozenset[str]
    stop_ids: frozenset[str]
    amenity_ids: frozenset[str]
    residence_residents: Mapping[str, float]
    enterprise_ids: frozenset[str]
    window_keys: tuple[str, ...]
    area: shapely.Geometry | None
    tolerance_degrees: float = 0.002  # ~200 m: a point on the boundary road still counts

    def contains(self, lon: float, lat: float) -> bool:
        """Whether the point lies in the park area (within the tolerance)."""
        if self.area is None:
            return True
        return bool(shapely.dwithin(self.area, shapely.Point(lon, lat), self.tolerance_degrees))


def park_context(
    layers: Mapping[LayerKind, gpd.GeoDataFrame], *, window_keys: Iterable[str]
) -> ParkContext:
    """Collect the ids, residents and area a scenario of this park may use.

    Assumes WGS84 layers with the canonical id columns (``retention.data.layers``). The park area
    is the union of park-level zones (``retention.access.origins.park_area``), else the convex
    hull of every layer's features.
    """

    def ids(kind: LayerKind, column: str) -> frozenset[str]:
        frame = layers.get(kind)
        if frame is None or frame.empty or column not in frame.columns:
            return frozenset()
        return frozenset(frame[column].astype(str))

    residences = layers.get(LayerKind.RESIDENCES)
    residents: dict[str, float] = {}
    if residences is not None and not residences.empty:
        counts = residences.get("residents")
        values = (
            np.zeros(len(residences))
            if counts is None
            else np.nan_to_num(np.asarray(counts, dtype=float))
        )
        residents = dict(zip(residences["id"].astype(str), values.tolist(), strict=True))
    area = park_area(layers)
    if area is None:
        frames = [f.geometry.to_crs(WGS84) for f in layers.values() if f is not None and len(f)]
        area = shapely.union_all([s.union_all() for s in frames]).convex_hull if frames else None
    return ParkContext(
        route_ids=ids(LayerKind.TRANSIT_ROUTES, "route_id"),
        stop_ids=ids(LayerKind.TRANSIT_STOPS, "stop_id"),
        amenity_ids=ids(LayerKind.AMENITIES, "id"),
        residence_residents=residents,
        enterprise_ids=ids(LayerKind.ENTERPRISES, "id"),
        window_keys=tuple(window_keys),
        area=area,
    )


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


class _State:
    """Ids and residents as they stand after the modifications checked so far."""

    def __init__(self, context: ParkContext) -> None:
        self.context = context
        self.routes = set(context.route_ids)
        self.amenities = set(context.amenity_ids)
        self.residents = dict(context.residence_residents)
        self.beds: dict[str, float] = {}


def validate_scenario(scenario: Scenario, context: ParkContext) -> None:
    """Check every modification of ``scenario`` in order against the park.

    Raises
    ------
    ScenarioError
        Naming the modification (1-based number and kind), the field and what was expected.
    """
    if not scenario.name.strip():
        raise ScenarioError("a scenario needs a name; expected non-blank text", column="name")
    state = _State(context)
    for number, modification in enumerate(scenario.modifications, start=1):
        if type(modification) not in MODIFICATION_TYPES.values():
            raise ScenarioError(
                f"modification {number} is a {type(modification).__name__}; expected one of "
                f"{', '.join(MODIFICATION_TYPES)}",
                column="modifications",
            )
        where = f"modification {number} ({modification.op})"
        try:
            _CHECKS[modification.op](modification, state)
        except _ProblemError as problem:
            raise ScenarioError(f"{where}: {problem.message}", column=problem.field) from None


class _ProblemError(Exception):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def _finite(value: float, name: str, *, minimum: float = 0.0, strict: bool = False) -> None:
    ok = isinstance(value, int | float) and math.isfinite(value)
    ok = ok and (value > minimum if strict else value >= minimum)
    if not ok:
        relation = ">" if strict else ">="
        raise _ProblemError(name, f"{name} is {value!r}; expected a number {relation} {minimum:g}")


def _new_id(value: str, name: str, existing: set[str], what: str) -> None:
    if not str(value).strip():
        raise _ProblemError(name, f"{name} is blank; expected a new {what} id")
    if value in existing:
        raise _ProblemError(name, f"{what} id {value!r} already exists; expected a new id")


def _known(value: str, name: str, existing: set[str] | frozenset[str], what: str) -> None:
    if value not in existing:
        raise _ProblemError(
            name, f"unknown {what} id {value!r}; expected an id of the park's {what}s"
        )


def _inside(lon: float, lat: float, name: str, context: ParkContext) -> None:
    _finite(lon, f"{name} longitude", minimum=-180.0)
    _finite(lat, f"{name} latitude", minimum=-90.0)
    if not context.contains(lon, lat):
        raise _ProblemError(
            name, f"{name} ({lon:.6f}, {lat:.6f}) is outside the park; expected a point inside it"
        )


def _clock(text: str, name: str) -> int:
    try:
        return parse_time_minutes(text)
    except ValidationError as error:
        raise _ProblemError(name, f"{name}: {error}") from None


def _hours(text: str, name: str) -> None:
    try:
        parse_opening_hours(text)
    except ValidationError as error:
        raise _ProblemError(name, f"{name}: {error}") from None


def _whole(value: int, name: str, minimum: int) -> None:
    if not isinstance(value, int) or value < minimum:
        raise _ProblemError(name, f"{name} is {value!r}; expected a whole number >= {minimum}")


def _one_of(value: str, name: str, choices: Iterable[str]) -> None:
    allowed = [str(choice) for choice in choices]
    if value not in allowed:
        raise _ProblemError(name, f"{name} is {value!r}; expected one of {', '.join(allowed)}")


def _window(window: str, name: str, state: _State) -> None:
    if window not in state.context.window_keys:
        raise _ProblemError(
            name,
            f"unknown time window {window!r}; expected one of "
            f"{', '.join(state.context.window_keys)}",
        )


def _span(start_text: str, end_text: str, name: str) -> None:
    if not _clock(start_text, "service start") < _clock(end_text, "service end"):
        raise _ProblemError(
            name,
            f"service span {start_text}-{end_text} is outside one day; expected "
            "00:00 <= start < end <= 24:00 (split a service past midnight into two windows)",
        )


def _costs(mod: AddAmenity | ResizeAmenity | AddResidence) -> None:
    _finite(mod.capital_cost_cny, "capital_cost_cny")
    _finite(mod.annual_cost_cny_per_year, "annual_cost_cny_per_year")


def _enterprises(values: tuple[str, ...], state: _State) -> None:
    for value in values:
        _known(value, "open_to", state.context.enterprise_ids, "enterprise")


def _check_add_route(mod: AddRoute, state: _State) -> None:
    _new_id(mod.route_id, "route_id", state.routes, "route")
    if len(mod.stops) < 2:
        raise _ProblemError("stops", f"route has {len(mod.stops)} stop(s); expected at least 2")
    for number, stop in enumerate(mod.stops, start=1):
        _inside(stop.lon, stop.lat, f"stop {number}", state.context)
    if mod.kind not in (TransitKind.SHUTTLE.value, TransitKind.CUSTOM_BUS.value):
        raise _ProblemError("kind", f"kind is {mod.kind!r}; expected 'shuttle' or 'custom_bus'")
    if not mod.service:
        raise _ProblemError("service", "no service window; expected at least one")
    seen: set[str] = set()
    for service in mod.service:
        _window(service.window, "service.window", state)
        if service.window in seen:
            raise _ProblemError("service.window", f"time window {service.window!r} is listed twice")
        seen.add(service.window)
        _finite(service.headway_minutes, "headway_minutes", strict=True)
        _span(service.start, service.end, "service.end")
    _finite(mod.speed_kmh, "speed_kmh", strict=True)
    _whole(mod.vehicle_capacity, "vehicle_capacity", 1)
    if mod.cost_basis not in COST_BASES:
        raise _ProblemError(
            "cost_basis", f"cost_basis is {mod.cost_basis!r}; expected one of {COST_BASES}"
        )
    if mod.cost_cny_per_unit is not None:
        _finite(mod.cost_cny_per_unit, "cost_cny_per_unit")
    _finite(mod.fare_cny, "fare_cny")
    if not isinstance(mod.service_days_per_year, int) or not 1 <= mod.service_days_per_year <= 366:
        raise _ProblemError(
            "service_days_per_year",
            f"service_days_per_year is {mod.service_days_per_year!r}; expected 1 to 366",
        )
    _enterprises(mod.open_to, state)
    state.routes.add(mod.route_id)


def _check_change_route(mod: ChangeRouteService, state: _State) -> None:
    _known(mod.route_id, "route_id", state.routes, "route")
    if not mod.headways and not mod.service_start and not mod.service_end:
        raise _ProblemError("headways", "nothing to change; expected a headway or a service span")
    for window, minutes in mod.headways:
        _window(window, "headways", state)
        if minutes is not None:
            _finite(minutes, "headway_minutes", strict=True)
    if bool(mod.service_start) != bool(mod.service_end):
        raise _ProblemError("service_end", "give both service start and end, or neither")
    if mod.service_start:
        _span(mod.service_start, mod.service_end, "service_end")


def _check_remove_route(mod: RemoveRoute, state: _State) -> None:
    _known(mod.route_id, "route_id", state.routes, "route")
    state.routes.discard(mod.route_id)


def _check_add_amenity(mod: AddAmenity, state: _State) -> None:
    _new_id(mod.amenity_id, "amenity_id", state.amenities, "amenity")
    _one_of(mod.category, "category", (c.value for c in AmenityCategory))
    _inside(mod.lon, mod.lat, "amenity", state.context)
    _finite(mod.capacity, "capacity")
    _hours(mod.opening_hours, "opening_hours")
    _enterprises(mod.open_to, state)
    _costs(mod)
    state.amenities.add(mod.amenity_id)


def _check_close_amenity(mod: CloseAmenity, state: _State) -> None:
    _known(mod.amenity_id, "amenity_id", state.amenities, "amenity")
    _finite(mod.annual_saving_cny_per_year, "annual_saving_cny_per_year")
    state.amenities.discard(mod.amenity_id)


def _check_resize_amenity(mod: ResizeAmenity, state: _State) -> None:
    _known(mod.amenity_id, "amenity_id", state.amenities, "amenity")
    _finite(mod.capacity, "capacity")
    if mod.opening_hours:
        _hours(mod.opening_hours, "opening_hours")
    _costs(mod)


def _move(state: _State, source: str, target: str, workers: int) -> None:
    _known(source, "from_residence_id", set(state.residents), "residence")
    _whole(workers, "workers", 1)
    if workers > state.residents[source]:
        raise _ProblemError(
            "workers",
            f"{workers} workers cannot move out of residence {source!r}, which has "
            f"{state.residents[source]:g} residents",
        )
    if source == target:
        raise _ProblemError("to_residence_id", f"workers move from {source!r} to itself")
    state.residents[source] -= workers
    state.residents[target] = state.residents.get(target, 0.0) + workers
    if target in state.beds and state.residents[target] > state.beds[target]:
        raise _ProblemError(
            "workers",
            f"residence {target!r} would have {state.residents[target]:g} residents for "
            f"{state.beds[target]:g} beds",
        )


def _check_add_residence(mod: AddResidence, state: _State) -> None:
    _new_id(mod.residence_id, "residence_id", set(state.residents), "residence")
    _one_of(mod.kind, "kind", (k.value for k in ResidenceKind))
    _inside(mod.lon, mod.lat, "residence", state.context)
    _whole(mod.beds, "beds", 0)
    _finite(mod.rent_cny_month, "rent_cny_month")
    if mod.enterprise_id:
        _known(mod.enterprise_id, "enterprise_id", state.context.enterprise_ids, "enterprise")
    _costs(mod)
    state.residents[mod.residence_id] = 0.0
    state.beds[mod.residence_id] = float(mod.beds)
    for source, workers in mod.moves_in:
        _move(state, source, mod.residence_id, workers)


def _check_move_workers(mod: MoveWorkers, state: _State) -> None:
    _known(mod.to_residence_id, "to_residence_id", set(state.residents), "residence")
    _move(state, mod.from_residence_id, mod.to_residence_id, mod.workers)


_CHECKS: Mapping[str, Any] = {
    "add_route": _check_add_route,
    "change_route_service": _check_change_route,
    "remove_route": _check_remove_route,
    "add_amenity": _check_add_amenity,
    "close_amenity": _check_close_amenity,
    "resize_amenity": _check_resize_amenity,
    "add_residence": _check_add_residence,
    "move_workers": _check_move_workers,
}


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------


def _plain(value: object) -> object:
    if isinstance(value, RouteStop | ServiceWindow):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def modification_to_dict(modification: Modification) -> dict[str, object]:
    """Return a modification as a JSON-ready dict with its ``op``."""
    body = {f.name: _plain(getattr(modification, f.name)) for f in fields(modification)}
    return {"op": modification.op, **body}


def package_to_dict(package: BudgetPackage) -> dict[str, object]:
    """Return a budget package as a JSON-ready dict (every candidate with its ``op``)."""
    return {
        "budget_cny_per_year": package.budget_cny_per_year,
        "objective": package.objective,
        "items": [
            {
                "modification": modification_to_dict(item.modification),
                "annual_cost_cny": item.annual_cost_cny,
                "benefit": item.benefit,
                "chosen": item.chosen,
            }
            for item in package.items
        ],
    }


def scenario_to_dict(scenario: Scenario) -> dict[str, object]:
    """Return the scenario as a JSON-ready dict carrying :data:`SCHEMA_VERSION`.

    ``budget_package`` is present only for a budget package (readers of the same schema version
    that do not know it ignore it).
    """
    payload: dict[str, object] = {
        "schema_version": SCHEMA_VERSION,
        "name": scenario.name,
        "description": scenario.description,
        "modifications": [modification_to_dict(m) for m in scenario.modifications],
    }
    if scenario.package is not None:
        payload["budget_package"] = package_to_dict(scenario.package)
    return payload


def scenario_to_json(scenario: Scenario) -> str:
    """Return the scenario as JSON text (UTF-8, Chinese kept as is, keys in a stable order)."""
    return json.dumps(scenario_to_dict(scenario), ensure_ascii=False, indent=2)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _texts(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(item, str) for item in value)


def _pairs(value: Any, second: Any) -> bool:
    return isinstance(value, list | tuple) and all(
        isinstance(pair, list | tuple)
        and len(pair) == 2
        and isinstance(pair[0], str)
        and second(pair[1])
        for pair in value
    )


# What each field type of the modifications accepts from JSON, and the words for it. Checked
# before any dataclass is built, so a hand-edited file with a list for an id or text for a number
# is refused naming the field, never met later as a TypeError.
_FIELD_TYPES: Mapping[str, tuple[Any, str]] = {
    "str": (lambda v: isinstance(v, str), "text"),
    "CostBasis": (lambda v: isinstance(v, str), "text"),
    "float": (_number, "a number"),
    "float | None": (lambda v: v is None or _number(v), "a number or null"),
    "int": (lambda v: _number(v) and float(v).is_integer(), "a whole number"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "tuple[str, ...]": (_texts, "a list of texts"),
    "tuple[RouteStop, ...]": (
        lambda v: isinstance(v, list | tuple) and all(isinstance(i, Mapping) for i in v),
        "a list of stop objects",
    ),
    "tuple[ServiceWindow, ...]": (
        lambda v: isinstance(v, list | tuple) and all(isinstance(i, Mapping) for i in v),
        "a list of service objects",
    ),
    "tuple[tuple[str, float | None], ...]": (
        lambda v: _pairs(v, lambda m: m is None or _number(m)),
        "a list of [time window, minutes or null] pairs",
    ),
    "tuple[tuple[str, int], ...]": (
        lambda v: _pairs(v, lambda n: _number(n) and float(n).is_integer()),
        "a list of [residence id, workers] pairs",
    ),
}


def _checked_fields(cls: type, payload: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Return ``payload``'s fields of dataclass ``cls`` once each has its field's JSON type.

    Raises
    ------
    ScenarioError
        Naming ``where``, an unknown or missing field, or a field of another type.
    """
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(payload) - set(known) - {"op"})
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {unknown}", column=unknown[0])
    values: dict[str, Any] = {}
    for name, field in known.items():
        if name not in payload:
            if field.default is MISSING and field.default_factory is MISSING:
                raise ScenarioError(f"{where}: missing {name}", column=name)
            continue
        value = payload[name]
        accepts, words = _FIELD_TYPES[str(field.type)]
        if not accepts(value):
            raise ScenarioError(f"{where}: {name} is {value!r}; expected {words}", column=name)
        values[name] = int(value) if str(field.type) == "int" else value
    return values


def _nested(cls: type, items: list[Mapping[str, Any]], where: str, what: str) -> tuple[Any, ...]:
    return tuple(
        cls(**_checked_fields(cls, item, f"{where}, {what} {number}"))
        for number, item in enumerate(items, start=1)
    )


_NESTED: Mapping[tuple[str, str], Any] = {
    ("add_route", "stops"): lambda items, where: _nested(RouteStop, items, where, "stop"),
    ("add_route", "service"): lambda items, where: _nested(ServiceWindow, items, where, "service"),
    ("add_route", "open_to"): lambda items, where: tuple(items),
    ("add_amenity", "open_to"): lambda items, where: tuple(items),
    ("change_route_service", "headways"): lambda items, where: tuple(
        (str(window), None if minutes is None else float(minutes)) for window, minutes in items
    ),
    ("add_residence", "moves_in"): lambda items, where: tuple(
        (str(source), int(workers)) for source, workers in items
    ),
}


def modification_from_dict(payload: Mapping[str, Any], *, number: int = 1) -> Modification:
    """Build a modification from its dict (:func:`modification_to_dict`).

    Raises
    ------
    ScenarioError
        For an unknown ``op``, a missing or unknown field, or a field of the wrong shape.
    """
    where = f"modification {number}"
    op = str(payload.get("op"))
    if op not in MODIFICATION_TYPES:
        raise ScenarioError(
            f"{where}: op is {payload.get('op')!r}; expected one of "
            f"{', '.join(MODIFICATION_TYPES)}",
            column="op",
        )
    cls = MODIFICATION_TYPES[op]
    where = f"{where} ({op})"
    values = _checked_fields(cls, payload, where)
    for name, value in values.items():
        convert = _NESTED.get((op, name))
        if convert is not None:
            values[name] = convert(value, where)
    try:
        result: Modification = cls(**values)
    except (TypeError, ValueError) as error:
        raise ScenarioError(f"{where}: {error}", column="modifications") from None
    return result


def scenario_from_dict(payload: Mapping[str, Any]) -> Scenario:
    """Build a scenario from :func:`scenario_to_dict` output (schema version checked first)."""
    if not isinstance(payload, Mapping):
        raise ScenarioError("scenario JSON must be an object", column="schema_version")
    version = payload.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ScenarioError(
            f"scenario schema_version is {version!r}; this ParkLife reads version {SCHEMA_VERSION}",
            column="schema_version",
        )
    items = payload.get("modifications", [])
    if not isinstance(items, list):
        raise ScenarioError("modifications must be a list", column="modifications")
    modifications = tuple(
        modification_from_dict(item if isinstance(item, Mapping) else {}, number=number)
        for number, item in enumerate(items, start=1)
    )
    package = payload.get("budget_package")
    texts = {name: payload.get(name, "") for name in ("name", "description")}
    for name, value in texts.items():
        if not isinstance(value, str):
            raise ScenarioError(f"scenario {name} is {value!r}; expected text", column=name)
    return Scenario(
        name=texts["name"],
        modifications=modifications,
        description=texts["description"],
        package=None if package is None else package_from_dict(package),
    )


def package_from_dict(payload: Any) -> BudgetPackage:
    """Build a budget package from :func:`package_to_dict` output.

    Raises
    ------
    ScenarioError
        For a missing or malformed field (named), or a package that does not fit its budget.
    """
    if not isinstance(payload, Mapping) or not isinstance(payload.get("items"), list):
        raise ScenarioError(
            "budget_package must be an object with a list of items", column="budget_package"
        )
    items = []
    for number, item in enumerate(payload["items"], start=1):
        where = f"budget package item {number}"
        if not isinstance(item, Mapping) or not isinstance(item.get("modification"), Mapping):
            raise ScenarioError(f"{where}: expected an object with a modification", column="items")
        try:
            items.append(
                PackageItem(
                    modification=modification_from_dict(item["modification"], number=number),
                    annual_cost_cny=float(item["annual_cost_cny"]),
                    benefit=float(item["benefit"]),
                    chosen=bool(item["chosen"]),
                )
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ScenarioError(f"{where}: missing or malformed {error}", column="items") from None
    try:
        budget = float(payload["budget_cny_per_year"])
        objective = str(payload["objective"])
    except (KeyError, TypeError, ValueError) as error:
        raise ScenarioError(
            f"budget_package: missing or malformed {error}", column="budget_package"
        ) from None
    return BudgetPackage(budget, objective, tuple(items))


def _json_text(data: bytes) -> str:
    """Decode a JSON file's bytes: UTF-8/16/32 as JSON allows (BOM or not), else GB18030 — a
    file a Chinese editor saved as "ANSI" (GBK) — never a guess that changes a character."""
    try:
        return data.decode(json.detect_encoding(data))
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            f"not valid JSON: byte offset {error.start} is neither UTF-8 nor GBK; expected a "
            "scenario file saved as UTF-8",
            column="schema_version",
        ) from None


def scenario_from_json(text: str | bytes, *, context: ParkContext | None = None) -> Scenario:
    """Read a scenario from JSON text; with ``context``, also check it against the park.

    Raises
    ------
    ScenarioError
        If the text is not JSON, has another schema version, or a modification is invalid.
    """
    if isinstance(text, bytes):
        text = _json_text(text)
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScenarioError(f"not valid JSON: {error}", column="schema_version") from None
    except RecursionError:
        raise ScenarioError(
            "not a scenario: the JSON is nested too deeply; expected the object a scenario "
            "export holds",
            column="schema_version",
        ) from None
    scenario = scenario_from_dict(payload)
    if context is not None:
        validate_scenario(scenario, context)
    return scenario


def scenario_key(scenario: Scenario) -> str:
    """A stable text of the scenario's content (a cache key; equal scenarios, equal keys)."""
    return json.dumps(scenario_to_dict(scenario), ensure_ascii=False, sort_keys=True)


__all__ = [
    "COST_BASES",
    "MODIFICATION_TYPES",
    "PACKAGE_OBJECTIVES",
    "SCHEMA_VERSION",
    "AddAmenity",
    "AddResidence",
    "AddRoute",
    "BudgetPackage",
    "ChangeRouteService",
    "CloseAmenity",
    "Modification",
    "MoveWorkers",
    "PackageItem",
    "ParkContext",
    "RemoveRoute",
    "ResizeAmenity",
    "RouteStop",
    "Scenario",
    "ServiceWindow",
    "modification_from_dict",
    "modification_to_dict",
    "package_from_dict",
    "package_to_dict",
    "park_context",
    "scenario_from_dict",
    "scenario_from_json",
    "scenario_key",
    "scenario_to_dict",
    "scenario_to_json",
    "validate_scenario",
]
