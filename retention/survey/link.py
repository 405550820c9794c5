"""Link survey answers to the enterprises and residences layers.

A respondent names an enterprise or residence by id (``E03``), by its exact name, or by a name
typed or chosen slightly differently (``金山电子`` for ``株洲金山电子有限公司``). Exact ids and
names link outright; other names link to the best fuzzy match (rapidfuzz) when its score reaches
the threshold, and are flagged for the user to confirm; below the threshold the value is
unmatched and reported. Residences can also be linked by coordinates: the nearest residence
within a distance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process, utils

from retention.errors import ParameterError, ValidationError

EARTH_RADIUS_METRES = 6_371_008.8  # IUGG mean Earth radius


@dataclass(frozen=True)
class LinkParameters:
    """How answers are linked to layer features.

    Parameters
    ----------
    min_name_score
        Smallest rapidfuzz ``WRatio`` (0–100) at which a name links to a feature; below it the
        answer is unmatched. 85 accepts dropped suffixes such as 有限公司 but not different firms
        sharing one word.
    max_residence_distance_metres
        Largest straight-line distance from a respondent's coordinates to the residence they are
        linked to (roughly one block).
    """

    min_name_score: float = 85.0
    max_residence_distance_metres: float = 300.0

    def __post_init__(self) -> None:
        if not 0 <= self.min_name_score <= 100:
            raise ParameterError(
                f"min_name_score must be within 0–100, got {self.min_name_score}",
                column="min_name_score",
            )
        if not self.max_residence_distance_metres > 0:
            raise ParameterError(
                "max_residence_distance_metres must be > 0, got "
                f"{self.max_residence_distance_metres}",
                column="max_residence_distance_metres",
            )


LINK_COLUMNS = ("value", "matched_id", "matched_name", "score", "method", "needs_confirmation")
"""Columns of a link table: one row per distinct answer."""


def _reference(features: pd.DataFrame, *, layer: str) -> pd.DataFrame:
    for column in ("id", "name"):
        if column not in features.columns:
            raise ValidationError(
                f"{layer} layer lacks column {column!r}; expected id and name to link answers",
                column=column,
            )
    ref = pd.DataFrame(
        {
            "id": features["id"].astype(str).str.strip(),
            "name": features["name"].astype(str).str.strip(),
        }
    )
    if "name_en" in features.columns:
        ref["name_en"] = features["name_en"].fillna("").astype(str).str.strip()
    return ref.reset_index(drop=True)


def link_names(
    values: Sequence[object],
    features: pd.DataFrame,
    *,
    layer: str = "enterprises",
    parameters: LinkParameters = LinkParameters(),
    overrides: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Match each distinct answer to a feature id by id, exact name, or fuzzy name.

    Assumes ``features`` has ``id`` and ``name`` columns (``name_en`` is also tried).

    Parameters
    ----------
    values
        The answers (ids or names); missing values are skipped.
    features
        The layer (GeoDataFrame or DataFrame) to link to.
    layer
        Layer name used in error messages.
    parameters
        Fuzzy threshold.
    overrides
        User decisions from the confirmation step: answer → feature id (``""`` = leave unmatched).

    Returns
    -------
    pandas.DataFrame
        ``LINK_COLUMNS``: ``method`` is ``id``, ``name``, ``fuzzy``, ``override`` or
        ``unmatched``; ``needs_confirmation`` is true for fuzzy matches; ``matched_name`` and
        ``score`` of an unmatched row show the best candidate found.
    """
    ref = _reference(features, layer=layer)
    by_id = dict(zip(ref["id"], ref["name"], strict=True))
    by_name: dict[str, str] = {}
    for column in ("name", "name_en"):
        if column in ref:
            for feature_id, name in zip(ref["id"], ref[column], strict=True):
                if name:
                    by_name.setdefault(name.casefold(), feature_id)
    choices = list(ref["name"]) + (list(ref["name_en"]) if "name_en" in ref else [])
    choice_ids = list(ref["id"]) * (2 if "name_en" in ref else 1)
    overrides = dict(overrides or {})
    rows = []
    seen: set[str] = set()
    for value in values:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        text = str(value).strip()
        if not text or text in seen:
            continue
        seen.add(text)
        if text in overrides:
            chosen = overrides[text]
            if chosen and chosen not in by_id:
                raise ValidationError(
                    f"override for {text!r} names {chosen!r}, which is not an id in the "
                    f"{layer} layer; expected one of its ids or '' to leave it unmatched",
                    column=layer,
                )
            rows.append(
                (
                    text,
                    chosen or None,
                    by_id.get(chosen),
                    100.0 if chosen else 0.0,
                    "override" if chosen else "unmatched",
                    False,
                )
            )
            continue
        if text in by_id:
            rows.append((text, text, by_id[text], 100.0, "id", False))
            continue
        if text.casefold() in by_name:
            feature_id = by_name[text.casefold()]
            rows.append((text, feature_id, by_id[feature_id], 100.0, "name", False))
            continue
        hit = (
            process.extractOne(text, choices, scorer=fuzz.WRatio, processor=utils.default_process)
            if choices
            else None
        )
        if hit is None:
            rows.append((text, None, None, 0.0, "unmatched", False))
            continue
        _, score, index = hit
        feature_id = choice_ids[index]
        if score >= parameters.min_name_score:
            rows.append((text, feature_id, by_id[feature_id], float(score), "fuzzy", True))
        else:
            rows.append((text, None, by_id[feature_id], float(score), "unmatched", False))
    table = pd.DataFrame(rows, columns=list(LINK_COLUMNS))
    return table.astype({"score": "float64", "needs_confirmation": "bool"})


def haversine_metres(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Return great-circle distances in metres between WGS84 points (arrays broadcast)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def link_coordinates(
    longitudes: Sequence[float | None],
    latitudes: Sequence[float | None],
    residences: pd.DataFrame,
    *,
    parameters: LinkParameters = LinkParameters(),
) -> pd.DataFrame:
    """Link each respondent's home coordinates to the nearest residence within the distance.

    Assumes WGS84 degrees; ``residences`` is a point GeoDataFrame in EPSG:4326 with ``id``.
    Straight-line (great-circle) distance, not network distance: this only says which
    residence a home point belongs to.

    Returns
    -------
    pandas.DataFrame
        One row per input: ``residence_id`` (missing when none is near enough or the
        coordinates are missing) and ``distance_metres`` to the nearest residence.
    """
    if len(longitudes) != len(latitudes):
        raise ValidationError(
            f"{len(longitudes)} longitudes but {len(latitudes)} latitudes; expected one pair "
            "per respondent"
        )
    if "id" not in residences.columns or "geometry" not in residences.columns:
        raise ValidationError(
            "residences layer needs id and point geometry to link coordinates", column="id"
        )
    lon = pd.to_numeric(pd.Series(list(longitudes), dtype="object"), errors="coerce").to_numpy(
        dtype=float
    )
    lat = pd.to_numeric(pd.Series(list(latitudes), dtype="object"), errors="coerce").to_numpy(
        dtype=float
    )
    rx = np.asarray(residences.geometry.x, dtype=float)
    ry = np.asarray(residences.geometry.y, dtype=float)
    ids = residences["id"].astype(str).to_numpy()
    matched: list[str | None] = []
    distances: list[float] = []
    for x, y in zip(lon, lat, strict=True):
        if not (np.isfinite(x) and np.isfinite(y)) or len(ids) == 0:
            matched.append(None)
            distances.append(np.nan)
            continue
        d = haversine_metres(np.full(len(ids), x), np.full(len(ids), y), rx, ry)
        nearest = int(np.argmin(d))
        distances.append(float(d[nearest]))
        within = d[nearest] <= parameters.max_residence_distance_metres
        matched.append(str(ids[nearest]) if within else None)
    return pd.DataFrame({"residence_id": matched, "distance_metres": distances})
