"""Cached wrappers for travel times, access indicators and isochrones.

Travel times are computed once per park id + data version + travel parameters and time windows
(``st.cache_resource``: one shared, read-only result); indicators per mode, window and indicator
options (``st.cache_data``). Parameters not passed are the park's saved ones
(``ui.cached_parameters``): saving a new walking speed changes the key and recomputes, while
choosing another indicator, category or display never recomputes travel times. Keys are ids,
version strings and frozen parameter objects; the park itself is passed as ``_park`` (not hashed).
Cached objects are shared by every session: never mutate them.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import streamlit as st

from retention.access import travel_times as travel_times_module
from retention.access.indicators import IndicatorParameters, ParkIndicators, indicators_for_window
from retention.access.indicators import isochrones as isochrones_from_point
from retention.access.network import StreetNetwork, network_from_roads
from retention.access.parameters import TimeWindow, TravelParameters
from retention.data.layers import LayerKind
from retention.storage.park import ParkData
from ui.cached_parameters import current_parameters


@st.cache_resource(max_entries=4, show_spinner=False)
def _travel_times(
    park_id: str,
    data_version: str,
    params: TravelParameters,
    windows: tuple[TimeWindow, ...],
    _park: ParkData,
) -> travel_times_module.TravelTimeResult:
    # Looked up on the module at call time so tests can count calls of the engine.
    return travel_times_module.travel_times_for_park(_park, params=params, windows=windows)


def travel_times(
    park: ParkData,
    *,
    params: TravelParameters | None = None,
    windows: tuple[TimeWindow, ...] | None = None,
) -> travel_times_module.TravelTimeResult:
    """Return the park's travel times (every mode and window), computed once per version.

    ``params`` and ``windows`` default to the park's saved ones.
    """
    saved = current_parameters(park)
    params = saved.travel if params is None else params
    windows = saved.time_windows if windows is None else windows
    return _travel_times(park.park_id, park.data_version, params, windows, park)


@st.cache_data(max_entries=64, show_spinner=False)
def _indicators(
    park_id: str,
    data_version: str,
    params: TravelParameters,
    windows: tuple[TimeWindow, ...],
    mode: str,
    window: str,
    parameters: IndicatorParameters,
    weights: tuple[tuple[str, float], ...] | None,
    _park: ParkData,
) -> ParkIndicators:
    result = _travel_times(park_id, data_version, params, windows, _park)
    return indicators_for_window(
        result,
        mode=mode,
        window=window,
        parameters=parameters,
        weights=None if weights is None else dict(weights),
    )


def indicators(
    park: ParkData,
    *,
    mode: str,
    window: str,
    parameters: IndicatorParameters | None = None,
    weights: Mapping[str, float] | None = None,
    params: TravelParameters | None = None,
    windows: tuple[TimeWindow, ...] | None = None,
) -> ParkIndicators:
    """Return every indicator for one mode and window (``retention.access.indicators``), cached.

    ``parameters`` (decay, gap targets, living circles), ``params`` and ``windows`` default to
    the park's saved ones.
    """
    saved = current_parameters(park)
    parameters = saved.indicator_parameters() if parameters is None else parameters
    params = saved.travel if params is None else params
    windows = saved.time_windows if windows is None else windows
    key = None if weights is None else tuple(sorted((str(k), float(v)) for k, v in weights.items()))
    return _indicators(
        park.park_id, park.data_version, params, windows, mode, window, parameters, key, park
    )


@st.cache_resource(max_entries=4, show_spinner=False)
def _network(park_id: str, data_version: str, _park: ParkData) -> StreetNetwork | None:
    roads = _park.layers.get(LayerKind.ROADS)
    return None if roads is None or roads.empty else network_from_roads(roads)


@st.cache_data(max_entries=64, show_spinner=False)
def _isochrones(
    park_id: str,
    data_version: str,
    lon: float,
    lat: float,
    mode: str,
    params: TravelParameters,
    _park: ParkData,
) -> gpd.GeoDataFrame | None:
    network = _network(park_id, data_version, _park)
    if network is None:
        return None
    bike = mode == "ebike"
    return isochrones_from_point(
        network,
        lon,
        lat,
        network_mode="bike" if bike else "walk",
        speed_m_per_min=params.ebike_speed_m_per_min if bike else params.walk_speed_m_per_min,
        walk_speed_m_per_min=params.walk_speed_m_per_min,
        max_snap_distance_metres=params.max_snap_distance_metres,
    )


def isochrones(
    park: ParkData,
    lon: float,
    lat: float,
    *,
    mode: str,
    params: TravelParameters | None = None,
) -> gpd.GeoDataFrame | None:
    """Return 5/10/15-minute street isochrones from a point (walk or e-bike), or ``None``
    when the park has no roads layer; ``params`` default to the park's saved ones."""
    params = current_parameters(park).travel if params is None else params
    return _isochrones(park.park_id, park.data_version, lon, lat, mode, params, park)
