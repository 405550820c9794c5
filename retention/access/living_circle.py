"""Living-circle compliance: the share of people who reach each required category in its tier.

Shares are weighted by people (residents of a residence, employees of an enterprise), never by
points: a dormitory of 2,000 counts 2,000 times more than a house of one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from retention.access.measures import nearest_minutes, people_per_origin
from retention.access.standards import GB50180_2018, THRESHOLD_BASES, LivingCircleTable
from retention.errors import ParameterError


def _basis(basis: str) -> str:
    if basis not in THRESHOLD_BASES:
        raise ParameterError(
            f"must be one of {', '.join(THRESHOLD_BASES)}, got {basis!r}", column="basis"
        )
    return basis


def living_circle_met(
    minutes_or_metres: npt.ArrayLike,
    categories: npt.ArrayLike,
    *,
    table: LivingCircleTable = GB50180_2018,
    basis: str = "minutes",
    available: npt.ArrayLike | None = None,
    origin_ids: Sequence[object] | None = None,
) -> pd.DataFrame:
    """Return, per origin and required category, whether the nearest one is within its tier.

    Assumes a walking matrix origins x amenities in minutes (``basis="minutes"``) or network
    metres (``basis="metres"`` or ``"metres_strict"``), NaN/``inf`` unreachable; a pair counts
    when it is available and ``<=`` the tier threshold.

    Parameters
    ----------
    minutes_or_metres
        Walking minutes or metres, shape ``(n_origins, n_amenities)``.
    categories
        Category of each amenity.
    table
        Tiers and the category requirements.
    basis
        ``"minutes"``, ``"metres"`` or ``"metres_strict"`` (800 m for the 15-min tier).
    available
        Boolean mask, shape ``(n_origins, n_amenities)`` or ``(n_amenities,)``.
    origin_ids
        Labels of the result's rows.

    Returns
    -------
    pandas.DataFrame
        Boolean, rows origins, columns the table's categories.
    """
    basis = _basis(basis)
    nearest = nearest_minutes(
        minutes_or_metres,
        categories,
        available=available,
        origin_ids=origin_ids,
        category_order=table.categories,
    ).xs(1, level="rank", axis=1)
    return living_circle_met_from_nearest(nearest, table=table, basis=basis)


def living_circle_met_from_nearest(
    nearest: pd.DataFrame, *, table: LivingCircleTable = GB50180_2018, basis: str = "minutes"
) -> pd.DataFrame:
    """Return, per origin and required category, whether the nearest one is within its tier.

    Assumes ``nearest`` holds minutes (or metres) to the nearest available amenity, origins x
    categories (``retention.access.measures.nearest_minutes`` at rank 1), with a column for every
    category of ``table``; the same answer as :func:`living_circle_met` on the matrix.

    Parameters
    ----------
    nearest
        Nearest minutes or metres, rows origins, columns categories.
    table
        Tiers and the category requirements.
    basis
        ``"minutes"``, ``"metres"`` or ``"metres_strict"``.

    Returns
    -------
    pandas.DataFrame
        Boolean, rows origins, columns the table's categories.
    """
    basis = _basis(basis)
    missing = [c for c in table.categories if c not in nearest.columns]
    if missing:
        raise ParameterError(f"nearest has no column for {', '.join(missing)}", column="nearest")
    nearest = nearest[list(table.categories)]
    thresholds = pd.Series(
        {category: table.threshold(category, basis=basis) for category in table.categories}
    )
    met = nearest.le(thresholds, axis=1)
    met.columns.name = "category"
    return met


def living_circle_compliance(
    minutes_or_metres: npt.ArrayLike,
    categories: npt.ArrayLike,
    people: npt.ArrayLike,
    *,
    table: LivingCircleTable = GB50180_2018,
    basis: str = "minutes",
    available: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """Return the share of people within each required category's living-circle threshold.

    Assumes the conventions of :func:`living_circle_met`; ``share = Σ people_i [met_i] /
    Σ people_i`` per category (NaN when there are no people).

    Parameters
    ----------
    minutes_or_metres
        Walking minutes or metres, shape ``(n_origins, n_amenities)``.
    categories
        Category of each amenity.
    people
        People at each origin (residents or employees), shape ``(n_origins,)``.
    table
        Tiers and the category requirements.
    basis
        ``"minutes"``, ``"metres"`` or ``"metres_strict"``.
    available
        Boolean mask, shape ``(n_origins, n_amenities)`` or ``(n_amenities,)``.

    Returns
    -------
    pandas.DataFrame
        One row per required category (index ``category``) with columns ``tier``,
        ``threshold``, ``unit``, ``people_within``, ``people_total``, ``share``, ``marker``,
        ``clause``, ``verify``.
    """
    met = living_circle_met(
        minutes_or_metres, categories, table=table, basis=basis, available=available
    )
    return compliance_from_met(met, people, table=table, basis=basis)


def compliance_from_met(
    met: pd.DataFrame,
    people: npt.ArrayLike,
    *,
    table: LivingCircleTable = GB50180_2018,
    basis: str = "minutes",
) -> pd.DataFrame:
    """Return the share of people within each required category's tier, from ``met``.

    Assumes ``met`` is :func:`living_circle_met` (or :func:`living_circle_met_from_nearest`)
    for the same ``table`` and ``basis``; the same answer as :func:`living_circle_compliance`.

    Parameters
    ----------
    met
        Boolean, rows origins, columns the table's categories.
    people
        People at each origin, shape ``(n_origins,)``.
    table
        Tiers and the category requirements.
    basis
        ``"minutes"``, ``"metres"`` or ``"metres_strict"``.

    Returns
    -------
    pandas.DataFrame
        As :func:`living_circle_compliance`.
    """
    basis = _basis(basis)
    weights = people_per_origin(people, len(met))
    total = float(weights.sum())
    rows = []
    for category in table.categories:
        requirement = table.requirement(category)
        tier = table.tier(requirement.tier)
        within = float(weights[met[category].to_numpy()].sum())
        rows.append(
            {
                "category": category,
                "tier": tier.name,
                "threshold": tier.threshold(basis),
                "unit": "minutes" if basis == "minutes" else "metres",
                "people_within": within,
                "people_total": total,
                "share": within / total if total > 0 else np.nan,
                "marker": requirement.marker,
                "clause": requirement.clause,
                "verify": requirement.verify or tier.verify,
            }
        )
    return pd.DataFrame(rows).set_index("category")
