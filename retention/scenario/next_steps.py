"""What to do next about the worst gaps: a short list of candidate amenities, where, for whom.

From the gap index (``retention.access.gaps.gap_index``: each category's contribution per
origin) of the ``worst`` worst-served residences (or enterprises), for each amenity category:

- the places lacking it are those among the worst where the category contributes to the gap
  (its shortfall is above zero: too far, or too small for the people who share it);
- its people are the people at those places (residents or workers);
- its weight is ``Σ people × contribution`` over those places (gap points carried by people);
- it is put near the place where ``people × contribution`` is largest, preferring a place no
  higher-ranked suggestion went to (the worst places often lack several categories: the list
  then spreads over several places instead of piling up at one; ties: smaller origin id).

Categories are ranked by weight, largest first (ties: the gap table's column order); the first
``limit`` with a positive weight are suggested. Each suggestion is one new amenity of that
category near that place: the Scenario page opens with it pre-filled, and the lab then measures
what it really changes (a suggestion is a place to start, not a computed effect).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from retention.auth.roles import scope_enterprise_ids
from retention.errors import ParameterError, ValidationError

ORIGIN_SETS: tuple[str, ...] = ("residence", "enterprise")
"""Whose gaps a suggestion answers: residents at home or workers at work."""


@dataclass(frozen=True)
class NextStep:
    """One candidate intervention: a new amenity of ``category`` near ``near_id``.

    Attributes
    ----------
    category
        Amenity category (``retention.data.layers.AmenityCategory`` value).
    origin_set
        ``residence`` or ``enterprise``: the kind of place ``near_id`` is.
    near_id
        Id of the place to put it near (a residence or enterprise id).
    people
        People at the worst-served places that lack the category.
    places
        How many of the worst-served places lack it.
    worst
        How many worst-served places were looked at.
    weight
        ``Σ people × contribution`` (gap points × people), the ranking key.
    """

    category: str
    origin_set: str
    near_id: str
    people: float
    places: int
    worst: int
    weight: float


def next_steps(
    origins: pd.DataFrame,
    gap: pd.DataFrame,
    *,
    origin_set: str = "residence",
    worst: int = 10,
    limit: int = 3,
    user_scope: str | None = None,
) -> list[NextStep]:
    """Suggest up to ``limit`` new amenities for the ``worst`` worst-served places.

    Assumes ``origins`` has ``origin_set``, ``origin_id`` and ``weight`` (people) and ``gap`` is
    ``ParkIndicators.gap`` (``gap_index`` then one contribution column per category) with the
    same index. Method in the module docstring.

    Parameters
    ----------
    origins
        The park's origins (rows of ``gap``).
    gap
        Gap index and each category's contribution (0–100 points) per origin.
    origin_set
        ``residence`` or ``enterprise``.
    worst
        How many worst-served places (highest gap index, people > 0) to look at.
    limit
        Most suggestions.
    user_scope
        The run key's ``user_scope``: under an HR scope only its own enterprises, under a viewer
        none, are places to look at when ``origin_set`` is ``enterprise`` (another firm's name
        and headcount are its figures; ``None`` and ``"all"``: every enterprise).

    Returns
    -------
    list of NextStep
        Best first; empty when the worst places have no gap.
    """
    if origin_set not in ORIGIN_SETS:
        raise ParameterError(
            f"origin_set is {origin_set!r}; expected one of {', '.join(ORIGIN_SETS)}",
            column="origin_set",
        )
    if worst < 1 or limit < 1:
        raise ParameterError(
            f"worst is {worst} and limit {limit}; expected both at least 1", column="worst"
        )
    if "gap_index" not in gap.columns or not gap.index.equals(origins.index):
        raise ValidationError(
            "gap must hold gap_index and category contributions, one row per origin in the "
            "same order as origins",
            column="gap",
        )
    rows = origins[
        (origins["origin_set"] == origin_set) & (origins["weight"].to_numpy(dtype=float) > 0)
    ]
    own = scope_enterprise_ids(user_scope)
    if origin_set == "enterprise" and own is not None:
        rows = rows[rows["origin_id"].astype(str).isin(own)]
    if rows.empty:
        return []
    ranked = pd.DataFrame(
        {
            "origin_id": rows["origin_id"].astype(str),
            "people": rows["weight"].to_numpy(dtype=float),
            "gap_index": gap.loc[rows.index, "gap_index"].to_numpy(dtype=float),
        },
        index=rows.index,
    ).sort_values(["gap_index", "origin_id"], ascending=[False, True], kind="stable")
    chosen = ranked.head(worst)
    people = chosen["people"].to_numpy()
    ids = chosen["origin_id"].to_numpy()
    carried_by: dict[str, np.ndarray] = {}
    for category in (str(c) for c in gap.columns if c != "gap_index"):
        contribution = np.nan_to_num(gap.loc[chosen.index, category].to_numpy(dtype=float))
        if (contribution > 0).any():
            carried_by[category] = people * contribution
    # Largest weight first; a stable sort keeps the gap table's column order on ties.
    order = sorted(carried_by, key=lambda c: -float(carried_by[c].sum()))
    steps: list[NextStep] = []
    used: set[str] = set()
    for category in order[:limit]:
        carried = carried_by[category]
        # Near the place carrying most of this gap, preferring a place no earlier suggestion
        # went to (ties: the smaller id).
        fresh = np.array([i not in used for i in ids]) & (carried > 0)
        pool = fresh if fresh.any() else carried > 0
        best = min((int(j) for j in np.flatnonzero(pool)), key=lambda j: (-carried[j], str(ids[j])))
        used.add(str(ids[best]))
        steps.append(
            NextStep(
                category=category,
                origin_set=origin_set,
                near_id=str(ids[best]),
                people=float(people[carried > 0].sum()),
                places=int((carried > 0).sum()),
                worst=len(chosen),
                weight=float(carried.sum()),
            )
        )
    return steps


__all__ = ["ORIGIN_SETS", "NextStep", "next_steps"]
