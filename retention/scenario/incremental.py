"""A scenario's travel times through the engine's delta operations (no full rebuild).

``retention.access.engine.ParkEngine`` answers "what if" by recomputing only what a change
touches: route changes recompute transit legs, new amenities their columns, closed amenities drop
theirs, new residences their rows. This module turns an applied scenario
(``retention.scenario.layers.AppliedScenario``, whose layers say what the scenario's park is)
into those operations on the baseline engine. The full recomputation
(``travel_times_for_park`` on the scenario's layers) is the oracle: tests compare both, origin
by origin and amenity by amenity.

Moves between existing residences change people, not minutes: the origin table is rebuilt from
the scenario's layers and must list the same origins in the same order (else
:class:`IncrementalUnsupported` is raised and the caller recomputes in full).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from retention.access.engine import ParkEngine
from retention.access.origins import origin_points
from retention.access.transit import transit_model_from_layers
from retention.access.travel_times import TravelTimeResult
from retention.data.layers import WGS84, LayerKind
from retention.errors import ValidationError
from retention.scenario.layers import SCENARIO_SOURCE, AppliedScenario
from retention.scenario.model import ChangeRouteService, RemoveRoute


class IncrementalUnsupported(ValidationError):  # noqa: N818 - reads as the condition it is
    """The scenario changes something the engine's delta operations do not cover."""


def _scenario_rows(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.empty or "source" not in frame.columns:
        return frame.iloc[:0]
    return frame.loc[frame["source"].astype(str) == SCENARIO_SOURCE]


def scenario_engine(engine: ParkEngine, applied: AppliedScenario) -> ParkEngine:
    """Return the baseline ``engine`` changed into the scenario's (only touched parts computed).

    Parameters
    ----------
    engine
        The baseline park's engine (``ParkEngine.build`` on ``applied.baseline.layers``).
    applied
        The scenario applied to that park.

    Returns
    -------
    ParkEngine

    Raises
    ------
    IncrementalUnsupported
        When a move of workers changes which origins exist (then recompute in full).
    """
    layers = applied.park.layers
    base_layers = applied.baseline.layers
    params, windows = engine.params, engine.windows
    # --- routes: withdrawn, changed, added ------------------------------------------------
    removed = [m.route_id for m in applied.scenario.modifications if isinstance(m, RemoveRoute)]
    known = {route.route_id for route in engine.transit.routes}
    gone = [route_id for route_id in removed if route_id in known]
    if gone:
        engine = engine.without_routes(gone)
    changed = {
        m.route_id
        for m in applied.scenario.modifications
        if isinstance(m, ChangeRouteService) and m.route_id in known and m.route_id not in gone
    }
    routes_layer = layers.get(LayerKind.TRANSIT_ROUTES, gpd.GeoDataFrame(geometry=[], crs=WGS84))
    stops_layer = layers.get(LayerKind.TRANSIT_STOPS, gpd.GeoDataFrame(geometry=[], crs=WGS84))
    new_rows = _scenario_rows(routes_layer)
    wanted = set(new_rows["route_id"].astype(str)) | changed
    if wanted:
        rows = routes_layer.loc[routes_layer["route_id"].astype(str).isin(wanted)]
        stops = stops_layer.loc[stops_layer["route_id"].astype(str).isin(wanted)]
        model = transit_model_from_layers(rows, stops, windows=windows, params=params)
        known_stops = set(engine.transit.stop_ids)
        fresh = model.stops_frame()
        fresh = fresh.loc[~fresh["stop_id"].isin(known_stops)]
        engine = engine.with_routes(list(model.routes), stops=fresh if len(fresh) else None)
    # --- amenities: closed, re-opened with new hours, resized, added -----------------------
    base_amenities = base_layers[LayerKind.AMENITIES]
    amenities = layers[LayerKind.AMENITIES]
    base_ids = base_amenities["id"].astype(str)
    ids = amenities["id"].astype(str)
    closed = sorted(set(base_ids) - set(ids))
    kept = amenities.loc[ids.isin(set(base_ids))].set_index(ids[ids.isin(set(base_ids))])
    before = base_amenities.set_index(base_ids).loc[kept.index]
    rehoured = kept.index[
        before["opening_hours"].astype(str).to_numpy()
        != kept["opening_hours"].astype(str).to_numpy()
    ].tolist()
    if closed or rehoured:
        engine = engine.without_amenities([*closed, *rehoured])
    capacity_before = pd.to_numeric(before["capacity"], errors="coerce").to_numpy()
    capacity_after = pd.to_numeric(kept["capacity"], errors="coerce").to_numpy()
    resized = ~np.isclose(capacity_before, capacity_after, equal_nan=True)
    sizes = {
        amenity_id: float(capacity)
        for amenity_id, capacity, changed_size in zip(
            kept.index, capacity_after, resized, strict=True
        )
        if changed_size and amenity_id not in rehoured
    }
    if sizes:
        engine = engine.with_capacities(sizes)
    added = pd.concat(
        [_scenario_rows(amenities), kept.loc[rehoured].reset_index(drop=True)], ignore_index=True
    )
    if len(added):
        engine = engine.with_amenities(gpd.GeoDataFrame(added, geometry="geometry", crs=WGS84))
    # --- residences: new ones, then the people who moved ---------------------------------
    new_homes = _scenario_rows(layers[LayerKind.RESIDENCES])
    if len(new_homes):
        engine = engine.with_residences(new_homes)
    return engine


def scenario_travel_times(engine: ParkEngine, applied: AppliedScenario) -> TravelTimeResult:
    """The scenario's travel times from the baseline engine (see :func:`scenario_engine`).

    People who moved between residences are reflected in the origin weights.

    Raises
    ------
    IncrementalUnsupported
        When the moves change which origins exist.
    """
    changed = scenario_engine(engine, applied)
    result = changed.result
    if not applied.moves:
        return result
    origins = origin_points(applied.park.layers, h3_resolution=_h3_resolution(result))
    keys = (origins["origin_set"] + ":" + origins["origin_id"].astype(str)).to_numpy()
    engine_keys = (
        result.origins["origin_set"] + ":" + result.origins["origin_id"].astype(str)
    ).to_numpy()
    if len(keys) != len(engine_keys) or not (keys == engine_keys).all():
        raise IncrementalUnsupported(
            "the moves change which origins exist (an H3 cell empties or fills); recompute in full"
        )
    return TravelTimeResult(
        origins=origins,
        amenities=result.amenities,
        windows=result.windows,
        minutes=result.minutes,
        open_minutes=result.open_minutes,
        params=result.params,
        approximate=result.approximate,
        snap_report=result.snap_report,
        notes=result.notes,
    )


def _h3_resolution(result: TravelTimeResult) -> int:
    import h3

    cells = result.origins.loc[result.origins["origin_set"] == "h3", "origin_id"]
    return int(h3.get_resolution(str(cells.iloc[0]))) if len(cells) else 9


__all__ = ["IncrementalUnsupported", "scenario_engine", "scenario_travel_times"]
