"""Headline counts of a park: enterprises, workers, beds, residents, amenities by category.

Counts only; no travel times. Every figure is a plain sum or count of layer columns, so a number
on the overview page traces straight back to the layer rows it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from retention.data.layers import AmenityCategory, LayerKind, ResidenceKind


@dataclass(frozen=True)
class ParkSummary:
    """Headline counts of a park's layers.

    Parameters
    ----------
    enterprises
        Number of enterprise rows.
    workers
        Sum of ``employees`` over enterprises.
    residences
        Number of residence rows.
    beds
        Sum of ``beds`` over residences.
    residents
        Sum of ``residents`` over residences.
    amenities
        Number of amenity rows.
    amenities_by_category
        Columns ``category``, ``count``; one row per ``AmenityCategory`` (zeros included, so a
        missing category shows as a gap), in enum order, then any unknown categories found.
    residences_by_kind
        Columns ``kind``, ``count``, ``beds``, ``residents``; one row per ``ResidenceKind``.
    """

    enterprises: int
    workers: int
    residences: int
    beds: int
    residents: int
    amenities: int
    amenities_by_category: pd.DataFrame
    residences_by_kind: pd.DataFrame


def _layer(layers: Mapping[LayerKind, gpd.GeoDataFrame], kind: LayerKind) -> pd.DataFrame:
    frame = layers.get(kind)
    return pd.DataFrame() if frame is None else pd.DataFrame(frame)


def _total(frame: pd.DataFrame, column: str) -> int:
    if column not in frame:
        return 0
    return int(pd.to_numeric(frame[column], errors="coerce").fillna(0).sum())


def summarise_park(layers: Mapping[LayerKind, gpd.GeoDataFrame]) -> ParkSummary:
    """Count and sum the park's layers for the overview page.

    Assumes columns per ``retention.data.layers.LAYER_SPECS`` (validated layers); a missing layer
    counts as empty, non-numeric values as zero. ``layers`` is not modified.

    Parameters
    ----------
    layers
        The park's layers by kind.

    Returns
    -------
    ParkSummary
        The counts.
    """
    enterprises = _layer(layers, LayerKind.ENTERPRISES)
    residences = _layer(layers, LayerKind.RESIDENCES)
    amenities = _layer(layers, LayerKind.AMENITIES)

    categories = list(AmenityCategory)
    found = amenities["category"].astype(str) if "category" in amenities else pd.Series([])
    counts = found.value_counts()
    extra = [value for value in counts.index if value not in set(categories)]
    by_category = pd.DataFrame(
        {
            "category": [c.value for c in categories] + extra,
            "count": [int(counts.get(c.value, 0)) for c in categories]
            + [int(counts[value]) for value in extra],
        }
    )

    rows = []
    for kind in ResidenceKind:
        subset = (
            residences[residences["kind"].astype(str) == kind.value]
            if "kind" in residences
            else residences.iloc[0:0]
        )
        rows.append(
            {
                "kind": kind.value,
                "count": len(subset),
                "beds": _total(subset, "beds"),
                "residents": _total(subset, "residents"),
            }
        )
    by_kind = pd.DataFrame(rows, columns=["kind", "count", "beds", "residents"])

    return ParkSummary(
        enterprises=len(enterprises),
        workers=_total(enterprises, "employees"),
        residences=len(residences),
        beds=_total(residences, "beds"),
        residents=_total(residences, "residents"),
        amenities=len(amenities),
        amenities_by_category=by_category,
        residences_by_kind=by_kind,
    )
