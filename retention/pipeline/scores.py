"""Indicators and gap index of one time window as plain tables, for the CLI and exports.

The same numbers the Gaps page shows (``retention.pipeline.stages.indicators`` with the same run
key and options), one table per place: residences, enterprises, H3 cells (hexagon polygons) and
zones of every level. Column names carry their unit::

    <mode>_nearest_<category>_minutes                 minutes to the nearest available amenity
    <mode>_opportunities_<category>_within_<T>min_count   amenities reachable within T minutes
    <mode>_e2sfca_<category>_per_1000_people          E2SFCA supply per 1,000 people
    <mode>_living_circle_<category>_met               1.0 when within its GB 50180 tier, else 0.0
    <mode>_gap_index_0_100                            gap index (0 = no gap, 100 = worst)
    <mode>_gap_<category>_points                      a category's contribution to the gap index

``inf`` minutes: no available amenity of the category within the engine's limit
(``TravelParameters.max_minutes``). Zone rows are people-weighted means over the residences in
the zone (residents at home, the GB 50180 basis and the Gaps page's default), with unreachable
``nearest`` counted as the engine's limit, as the page's zone ranking does; a zone without
residents has empty (NaN) means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from retention.access.gaps import aggregate_by_group
from retention.access.indicators import ParkIndicators
from retention.access.origins import ZONE_COLUMNS, h3_cell_polygons
from retention.access.travel_times import MODES, TravelTimeResult
from retention.auth.roles import scope_enterprise_ids
from retention.data.layers import WGS84, LayerKind
from retention.errors import ParameterError
from retention.pipeline.run_key import RunKey
from retention.pipeline.stages import indicators
from retention.storage.park import ParkData

_PLACE_COLUMNS = ("origin_id", "name", "people", "enterprise_id", "zone_id", *ZONE_COLUMNS.values())


@dataclass(frozen=True, eq=False)
class ParkScores:
    """Indicator tables of one park for one time window (every frame in WGS84).

    Attributes
    ----------
    window
        The time-window key.
    modes
        The modes whose columns the tables hold.
    threshold_minutes
        T of the cumulative-opportunity columns.
    residences, enterprises
        One row per residence / enterprise: id, name, ``people`` (residents / employees),
        ``enterprise_id``, zone ids, indicator columns, point geometry.
    h3_cells
        One row per H3 cell: ``origin_id`` (the cell), ``people``, indicator columns, hexagon.
    zones
        One row per zone (``zone_id``, ``level``, ``name``, ``residents``, ``workers``): the
        residents-weighted mean of each indicator column, zone polygon.
    """

    window: str
    modes: tuple[str, ...]
    threshold_minutes: float
    residences: gpd.GeoDataFrame
    enterprises: gpd.GeoDataFrame
    h3_cells: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame

    def tables(self) -> dict[str, gpd.GeoDataFrame]:
        """Return the four tables by name (``residences``, ``enterprises``, ``h3_cells``,
        ``zones``), e.g. one GeoPackage layer each."""
        return {
            "residences": self.residences,
            "enterprises": self.enterprises,
            "h3_cells": self.h3_cells,
            "zones": self.zones,
        }


def indicator_columns(
    result: ParkIndicators, *, mode: str, threshold_minutes: float
) -> pd.DataFrame:
    """Return one mode's indicators per origin with unit-named columns (see the module doc)."""
    t = f"{threshold_minutes:g}"
    parts = {
        "nearest": (result.nearest, "{m}_nearest_{c}_minutes"),
        "opportunities": (result.opportunities, "{m}_opportunities_{c}_within_" + t + "min_count"),
        "e2sfca": (result.supply_per_1000, "{m}_e2sfca_{c}_per_1000_people"),
        "living_circle": (result.living_circle, "{m}_living_circle_{c}_met"),
    }
    columns: dict[str, np.ndarray] = {}
    for frame, pattern in parts.values():
        for category in frame.columns:
            name = pattern.format(m=mode, c=category)
            columns[name] = frame[category].to_numpy(dtype=float)
    columns[f"{mode}_gap_index_0_100"] = result.gap["gap_index"].to_numpy(dtype=float)
    for category in result.gap.columns[1:]:
        columns[f"{mode}_gap_{category}_points"] = result.gap[category].to_numpy(dtype=float)
    return pd.DataFrame(columns, index=result.origins.index)


def score_tables(
    park: ParkData,
    travel: TravelTimeResult,
    key: RunKey,
    *,
    window: str,
    modes: tuple[str, ...] = MODES,
    threshold_minutes: float = 15.0,
    demand: str = "residence",
    weights: Mapping[str, float] | None = None,
) -> ParkScores:
    """Return indicators and gap index per residence, enterprise, H3 cell and zone.

    Under an HR run key (``key.user_scope``) the enterprises table holds only its own firms:
    another firm's figures are not the account's (``parklife score`` is open to HR).

    Parameters
    ----------
    park
        The park (``stages.park_inputs``).
    travel
        ``stages.travel_times(park, key)``.
    key
        The run key.
    window
        Time-window key of ``key.parameters.time_windows``.
    modes
        Modes to include (column prefixes).
    threshold_minutes, demand, weights
        As ``stages.indicators`` (the Gaps page's options; ``weights`` from
        ``stages.gap_weights``, ``None`` for equal weights).

    Raises
    ------
    ParameterError
        When ``window`` or a mode is unknown; the message lists the valid ones.
    """
    windows = [w.key for w in key.parameters.time_windows]
    if window not in windows:
        raise ParameterError(
            f"unknown time window {window!r}; expected one of {', '.join(windows)}",
            column="window",
        )
    for mode in modes:
        if mode not in MODES:
            raise ParameterError(
                f"unknown mode {mode!r}; expected one of {', '.join(MODES)}", column="mode"
            )
    origins = travel.origins
    values = pd.concat(
        [
            indicator_columns(
                indicators(
                    travel,
                    key,
                    mode=mode,
                    window=window,
                    threshold_minutes=threshold_minutes,
                    demand=demand,
                    weights=weights,
                ),
                mode=mode,
                threshold_minutes=threshold_minutes,
            )
            for mode in modes
        ],
        axis=1,
    )
    places = pd.DataFrame(origins.drop(columns="geometry")).rename(columns={"weight": "people"})
    places = places[["origin_set", *_PLACE_COLUMNS]]
    table = gpd.GeoDataFrame(
        pd.concat([places, values], axis=1), geometry=origins.geometry.to_numpy(), crs=WGS84
    )

    def rows(origin_set: str) -> gpd.GeoDataFrame:
        chosen = table[table["origin_set"] == origin_set].drop(columns="origin_set")
        return chosen.reset_index(drop=True)

    enterprises = rows("enterprise")
    own = scope_enterprise_ids(key.user_scope)
    if own is not None:  # an HR scope: its own firms' rows only (no other firm's figures)
        enterprises = enterprises[enterprises["origin_id"].astype(str).isin(own)]
        enterprises = enterprises.reset_index(drop=True)

    cells = rows("h3")
    cells = cells.drop(columns=["name", "enterprise_id"]).set_geometry(
        h3_cell_polygons(cells["origin_id"]).geometry.to_numpy(), crs=WGS84
    )
    return ParkScores(
        window=window,
        modes=tuple(modes),
        threshold_minutes=threshold_minutes,
        residences=rows("residence"),
        enterprises=enterprises,
        h3_cells=cells,
        zones=_zone_means(park, places, values, max_minutes=travel.params.max_minutes),
    )


def _zone_means(
    park: ParkData, places: pd.DataFrame, values: pd.DataFrame, *, max_minutes: float
) -> gpd.GeoDataFrame:
    zones = park.layer(LayerKind.ZONES)
    nearest = [c for c in values.columns if "_nearest_" in c]
    capped = values.copy()
    capped[nearest] = capped[nearest].clip(upper=max_minutes)
    sets = places["origin_set"].to_numpy()
    people = places["people"].to_numpy(dtype=float)
    residents = np.where(sets == "residence", people, 0.0)
    workers = np.where(sets == "enterprise", people, 0.0)
    # Only residences weigh in the mean; zeroed elsewhere so an inf cannot make 0 x inf = NaN.
    masked = capped.where(pd.Series(sets == "residence", index=capped.index), 0.0, axis=0)
    frames = []
    for level, column in ZONE_COLUMNS.items():
        groups = places[column].to_numpy(dtype=object)
        means = aggregate_by_group(masked, residents, groups, group_name="zone_id")
        means = means.drop(columns="people")
        counts = (
            pd.DataFrame({"residents": residents, "workers": workers})
            .groupby(pd.Series(groups, name="zone_id"), dropna=True, sort=True)
            .sum()
        )
        joined = counts.join(means, how="left").reset_index()
        joined.insert(1, "level", level.value)
        frames.append(joined)
    out = pd.concat(frames, ignore_index=True)
    names = zones[["id", "name"]].rename(columns={"id": "zone_id"}) if len(zones) else None
    if names is not None:
        out = out.merge(names.astype({"zone_id": str}), on="zone_id", how="left")
        geometry = out["zone_id"].map(
            dict(zip(zones["id"].astype(str), zones.geometry, strict=True))
        )
    else:
        out["name"] = out["zone_id"]
        geometry = pd.Series([None] * len(out))
    ordered = ["zone_id", "level", "name", "residents", "workers", *values.columns]
    return gpd.GeoDataFrame(out[ordered], geometry=geometry.to_numpy(), crs=WGS84)


__all__ = ["ParkScores", "indicator_columns", "score_tables"]
