"""Scenario text and tables as the page shows them (no computation): modification summaries,
the KPI table with labels and intervals, and the places a route stop can be picked from."""

from __future__ import annotations

import math
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from retention.data.layers import WGS84, LayerKind
from retention.i18n import label, t
from retention.scenario.model import (
    AddAmenity,
    AddResidence,
    AddRoute,
    ChangeRouteService,
    CloseAmenity,
    Modification,
    MoveWorkers,
    RemoveRoute,
    ResizeAmenity,
)

_PLACE_LAYERS: tuple[tuple[LayerKind, str, str], ...] = (
    (LayerKind.TRANSIT_STOPS, "stop_id", "stop"),
    (LayerKind.RESIDENCES, "id", "residence"),
    (LayerKind.AMENITIES, "id", "amenity"),
    (LayerKind.ENTERPRISES, "id", "enterprise"),
)


def pickable_places(layers: Mapping[LayerKind, gpd.GeoDataFrame], lang: str) -> pd.DataFrame:
    """Places a route stop or a new amenity can be put at: stops, residences, amenities, firms.

    Returns
    -------
    pandas.DataFrame
        ``ref`` (the feature id), ``kind``, ``label`` (kind and name; ``#2``, ``#3`` … after
        a name already taken, never the id), ``lon``, ``lat`` (WGS84; polygon centroids), one
        row per feature id.
    """
    frames = []
    for kind, column, name in _PLACE_LAYERS:
        frame = layers.get(kind)
        if frame is None or frame.empty or column not in frame.columns:
            continue
        frame = frame.drop_duplicates(subset=column)
        points = frame.geometry.to_crs(WGS84)
        centres = np.where(points.geom_type == "Point", points, points.representative_point())
        names = frame.get("name_en" if lang == "en" else "name", frame[column]).fillna(
            frame[column]
        )
        frames.append(
            pd.DataFrame(
                {
                    "ref": frame[column].astype(str).to_numpy(),
                    "kind": name,
                    "label": [
                        f"{t(f'scenario.place.{name}', lang)} · {n}" for n in names.astype(str)
                    ],
                    "lon": [p.x for p in centres],
                    "lat": [p.y for p in centres],
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["ref", "kind", "label", "lon", "lat"])
    places = pd.concat(frames, ignore_index=True).drop_duplicates(subset="ref")
    # Places are shown by name, never by id: two places of one name are told apart by a number.
    repeat = places.groupby("label").cumcount().to_numpy()
    places["label"] = [
        text if n == 0 else f"{text} #{n + 1}"
        for text, n in zip(places["label"], repeat, strict=True)
    ]
    return places


def describe_modification(modification: Modification, lang: str) -> str:
    """One line saying what a modification does, in ``lang``."""
    if isinstance(modification, AddRoute):
        windows = ", ".join(
            f"{s.window} {s.start}-{s.end} /{s.headway_minutes:g} min" for s in modification.service
        )
        return t(
            "scenario.describe.add_route",
            lang,
            name=modification.name,
            stops=len(modification.stops),
            windows=windows,
            direction=t("scenario.two_way" if modification.two_way else "scenario.one_way", lang),
        )
    if isinstance(modification, ChangeRouteService):
        changes = ", ".join(
            f"{window}: {'—' if minutes is None else f'{minutes:g} min'}"
            for window, minutes in modification.headways
        )
        return t(
            "scenario.describe.change_route", lang, route=modification.route_id, changes=changes
        )
    if isinstance(modification, RemoveRoute):
        return t("scenario.describe.remove_route", lang, route=modification.route_id)
    if isinstance(modification, AddAmenity):
        return t(
            "scenario.describe.add_amenity",
            lang,
            name=modification.name,
            category=label("category", modification.category, lang),
            capacity=f"{modification.capacity:g}",
        )
    if isinstance(modification, CloseAmenity):
        return t("scenario.describe.close_amenity", lang, amenity=modification.amenity_id)
    if isinstance(modification, ResizeAmenity):
        return t(
            "scenario.describe.resize_amenity",
            lang,
            amenity=modification.amenity_id,
            capacity=f"{modification.capacity:g}",
        )
    if isinstance(modification, AddResidence):
        moved = sum(workers for _, workers in modification.moves_in)
        return t(
            "scenario.describe.add_residence",
            lang,
            name=modification.name,
            beds=modification.beds,
            moved=moved,
        )
    if isinstance(modification, MoveWorkers):
        return t(
            "scenario.describe.move_workers",
            lang,
            workers=modification.workers,
            source=modification.from_residence_id,
            target=modification.to_residence_id,
        )
    raise TypeError(f"not a modification: {type(modification).__name__}")


def _number(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "∞"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def kpi_display_table(table: pd.DataFrame, names: list[str], lang: str) -> pd.DataFrame:
    """Label the KPI table (``retention.scenario.compare.kpi_table``) for display.

    Each state's value is text, with ``low–high`` after it where an interval exists; the last
    column is the change of the first scenario from the baseline.
    """
    rows = []
    for (kpi, category), values in table.iterrows():
        name = t(f"scenario.kpi.{kpi}", lang)
        if category:
            name = f"{name} · {label('category', category, lang)}"
        row = {t("scenario.col.kpi", lang): name}
        for column in ["baseline", *names]:
            value = values.get(column, math.nan)
            text = _number(float(value))
            low, high = values.get(f"{column}_low"), values.get(f"{column}_high")
            if low is not None and high is not None and not (pd.isna(low) or pd.isna(high)):
                text += f" ({_number(float(low))} – {_number(float(high))})"
            heading = t("scenario.col.baseline", lang) if column == "baseline" else column
            row[heading] = text
        if names:
            change = float(values.get(names[0], math.nan)) - float(values.get("baseline", math.nan))
            row[t("scenario.col.change", lang)] = _number(change)
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["describe_modification", "kpi_display_table", "pickable_places"]
