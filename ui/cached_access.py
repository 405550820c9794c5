"""Cached wrappers for travel times, access indicators and isochrones (``retention.pipeline``).

The engine (``retention.access.engine.ParkEngine``) is built once per run key: travel times,
the scenario lab's deltas share it, and it shares its street graphs with the isochrones.
Each wrapper is keyed on the park's run key narrowed to its stage (``RunKey.for_stage``) plus
the page's display choices; the park is passed unhashed as ``_park`` (the key names its version).
Travel times: once per park version, travel parameters and time windows (``st.cache_resource``:
one shared, read-only result), so choosing another indicator, category or display never
recomputes them while a newly saved walking speed does. Travel times and indicators are also
kept on disk (``ui.cached.warm_store``): a restarted server loads them instead of recomputing.
Cached objects are shared by every session: never mutate them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import geopandas as gpd
import streamlit as st

from retention import pipeline
from retention.access.engine import ParkEngine
from retention.access.indicators import ParkIndicators
from retention.access.travel_times import TravelTimeEngine, TravelTimeResult
from retention.pipeline import RunKey, Stage
from retention.storage.park import ParkData
from ui.cached import run_key, warm_store


@st.cache_resource(max_entries=2, show_spinner=False)
def _streets(key: RunKey, _park: ParkData) -> TravelTimeEngine:
    return pipeline.streets(_park, key)


def streets(park: ParkData, *, key: RunKey | None = None) -> TravelTimeEngine:
    """Return the park's street graphs (no matrix; the engine shares them), built once per
    run key: isochrones and route snapping use them."""
    key = run_key(park) if key is None else key
    return _streets(key.for_stage(Stage.TRAVEL_TIMES), park)


@st.cache_resource(max_entries=2, show_spinner=False)
def _engine(key: RunKey, _park: ParkData) -> ParkEngine:
    return pipeline.engine(_park, key, streets=_streets(key, _park))


def engine(park: ParkData, *, key: RunKey | None = None) -> ParkEngine:
    """Return the park's travel-time engine, built once per run key and shared read-only.

    Travel times computed on this server come from it; the scenario lab's deltas use it too
    (after a restart that loaded travel times from disk, it is built on the first what-if).
    """
    key = run_key(park) if key is None else key
    return _engine(key.for_stage(Stage.TRAVEL_TIMES), park)


@st.cache_resource(max_entries=4, show_spinner=False)
def _travel_times(key: RunKey, _park: ParkData) -> TravelTimeResult:
    return warm_store().get_or_compute(
        Stage.TRAVEL_TIMES,
        key,
        lambda: pipeline.travel_times(_park, key, engine=_engine(key, _park)),
        TravelTimeResult,
    )


def travel_times(park: ParkData, *, key: RunKey | None = None) -> TravelTimeResult:
    """Return the park's travel times (every mode and window), computed once per run key.

    ``key`` defaults to the park's run key with its saved parameters (``ui.cached.run_key``).
    """
    key = run_key(park) if key is None else key
    return _travel_times(key.for_stage(Stage.TRAVEL_TIMES), park)


# Every window of a mode at once (they share the checked matrix and decay weights): one entry
# per mode and display choice, shared read-only.
@st.cache_resource(max_entries=8, show_spinner=False)
def _indicators_by_window(
    key: RunKey,
    mode: str,
    threshold_minutes: float,
    demand: str,
    weights: tuple[tuple[str, float], ...] | None,
    _park: ParkData,
) -> Mapping[str, ParkIndicators]:
    travel = _travel_times(key.for_stage(Stage.TRAVEL_TIMES), _park)
    return MappingProxyType(
        pipeline.indicators_by_window(
            travel,
            key,
            mode=mode,
            threshold_minutes=threshold_minutes,
            demand=demand,
            weights=None if weights is None else dict(weights),
        )
    )


@st.cache_data(max_entries=64, show_spinner=False)
def _indicators(
    key: RunKey,
    mode: str,
    window: str,
    threshold_minutes: float,
    demand: str,
    weights: tuple[tuple[str, float], ...] | None,
    _park: ParkData,
) -> ParkIndicators:
    def compute() -> ParkIndicators:
        return _indicators_by_window(key, mode, threshold_minutes, demand, weights, _park)[window]

    options = (mode, window, threshold_minutes, demand, weights)
    return warm_store().get_or_compute(Stage.INDICATORS, key, compute, ParkIndicators, options)


def indicators(
    park: ParkData,
    *,
    mode: str,
    window: str,
    threshold_minutes: float = 15.0,
    demand: str = "residence",
    weights: Mapping[str, float] | None = None,
    key: RunKey | None = None,
) -> ParkIndicators:
    """Return every indicator for one mode and window (``retention.pipeline.indicators``).

    ``threshold_minutes``, ``demand`` and ``weights`` are the Gaps page's display choices;
    decay, gap targets and living circles come from the run key (the park's saved parameters).
    """
    key = run_key(park) if key is None else key
    pairs = (
        None if weights is None else tuple(sorted((str(k), float(v)) for k, v in weights.items()))
    )
    return _indicators(
        key.for_stage(Stage.INDICATORS),
        mode,
        window,
        float(threshold_minutes),
        demand,
        pairs,
        park,
    )


@st.cache_data(max_entries=64, show_spinner=False)
def _isochrones(
    key: RunKey, lon: float, lat: float, mode: str, _park: ParkData
) -> gpd.GeoDataFrame | None:
    return pipeline.isochrones(_streets(key, _park), key, lon, lat, mode=mode)


def isochrones(
    park: ParkData, lon: float, lat: float, *, mode: str, key: RunKey | None = None
) -> gpd.GeoDataFrame | None:
    """Return 5/10/15-minute street isochrones from a point (walk or e-bike) on the park's
    street graphs (the engine's), or ``None`` when the park has no roads layer; speeds from
    the run key (the park's saved ones)."""
    key = run_key(park) if key is None else key
    return _isochrones(key.for_stage(Stage.TRAVEL_TIMES), lon, lat, mode, park)
