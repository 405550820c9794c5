"""Gap index (0-100) per origin from per-category shortfalls, and its aggregation by people.

For origin ``i`` and category ``c`` with weight ``w_c`` (survey importance or the defaults):

- time shortfall ``s_time = min(1, max(0, (t_ic - target_c) / (cap_c - target_c)))`` where
  ``t_ic`` is the minutes to the nearest available amenity (``inf`` → 1);
- supply shortfall ``s_supply = min(1, max(0, 1 - A_ic / norm_c))`` where ``A_ic`` is E2SFCA
  supply per 1,000 people and ``norm_c`` the category's norm (0 when the category has no norm);
- category shortfall ``s_ic = max(s_time, s_supply)``: a category is served only when it is both
  near enough and big enough for the people who share it;
- contribution ``g_ic = 100 · w_c · s_ic / Σ_c w_c`` and gap index ``G_i = Σ_c g_ic``.

0 means no gap, 100 means every weighted category is missing or far beyond its cap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import pandas as pd

from retention.access.measures import (
    DEFAULT_SUPPLY_NORMS,
    non_negative_values,
    supply_norms_by_category,
)
from retention.access.standards import GB50180_2018
from retention.data.layers import AmenityCategory
from retention.errors import ParameterError

GAP_INDEX_METHOD: Mapping[str, str] = MappingProxyType(
    {
        "en": (
            "Gap index (0 = no gap, 100 = worst). For each category: time shortfall = "
            "min(1, max(0, (nearest minutes − target) / (cap − target))), unreachable = 1; "
            "supply shortfall = min(1, max(0, 1 − E2SFCA supply per 1,000 people / norm)) for "
            "categories with a supply norm; category shortfall = the larger of the two. "
            "Index = 100 × Σ weight × shortfall / Σ weight; each category's contribution is "
            "its term of that sum, so the contributions add up to the index. Targets are the "
            "GB 50180-2018 living-circle tiers (5/10/15 min), caps three times the target, "
            "weights equal unless survey importance is used. Zones and enterprises are "
            "averaged weighted by people."
        ),
        "zh": (
            "缺口指数（0 = 无缺口，100 = 最差）。每类设施：时间缺口 = "
            "min(1, max(0, (最近设施分钟数 − 目标) / (上限 − 目标)))，不可达记为 1；"
            "有供给标准的类别另算供给缺口 = min(1, max(0, 1 − 每千人E2SFCA供给 / 标准))；"
            "类别缺口取两者中较大者。指数 = 100 × Σ 权重 × 缺口 / Σ 权重；"
            "各类别的贡献即该求和中的一项，贡献之和等于指数。目标取 GB 50180-2018 "
            "生活圈分级（5/10/15 分钟），上限为目标的三倍；未采用问卷重要性时各类权重相等。"
            "园区、网格和企业按人数加权平均。"
        ),
    }
)
"""How the gap index is computed, shown beside it in the UI (en and zh)."""


@dataclass(frozen=True)
class CategoryTarget:
    """Travel-time target and supply norm of one category for the gap index.

    Parameters
    ----------
    category
        ``retention.data.layers.AmenityCategory`` value.
    target_minutes
        No time shortfall at or below this.
    cap_minutes
        Full time shortfall (1) at or beyond this; must exceed the target.
    supply_norm_per_1000
        Supply per 1,000 people below which there is a supply shortfall; ``None`` for none.
    source
        Where the target and norm come from.
    """

    category: str
    target_minutes: float
    cap_minutes: float
    supply_norm_per_1000: float | None
    source: str

    def __post_init__(self) -> None:
        if not math.isfinite(self.target_minutes) or self.target_minutes < 0:
            raise ParameterError(
                f"{self.category!r}: must be a non-negative number of minutes, got "
                f"{self.target_minutes!r}",
                column="target_minutes",
            )
        if not math.isfinite(self.cap_minutes) or self.cap_minutes <= self.target_minutes:
            raise ParameterError(
                f"{self.category!r}: must be a finite number of minutes above the target "
                f"({self.target_minutes!r}), got {self.cap_minutes!r}",
                column="cap_minutes",
            )
        norm = self.supply_norm_per_1000
        if norm is not None and (not math.isfinite(norm) or norm <= 0):
            raise ParameterError(
                f"{self.category!r}: must be a positive number or empty, got {norm!r}",
                column="supply_norm_per_1000",
            )


@dataclass(frozen=True)
class GapParameters:
    """Targets of every category the gap index can use."""

    targets: tuple[CategoryTarget, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for row, target in enumerate(self.targets, start=1):
            if target.category in seen:
                raise ParameterError(
                    f"category {target.category!r} has more than one target",
                    row=row,
                    column="category",
                )
            seen.add(target.category)

    def target(self, category: str) -> CategoryTarget:
        """Return the target of ``category``."""
        for target in self.targets:
            if target.category == category:
                return target
        raise ParameterError(f"no gap-index target for category {category!r}", column="category")

    @property
    def categories(self) -> tuple[str, ...]:
        """Categories with a target, in order."""
        return tuple(target.category for target in self.targets)


# No standard sets a cap; at three times the living-circle time a category is treated as absent
# (an assumption, editable: 15 min for a 5-min category, 45 min for a 15-min one).
CAP_TO_TARGET_RATIO = 3.0


def _default_gap_parameters() -> GapParameters:
    norms = supply_norms_by_category(DEFAULT_SUPPLY_NORMS)
    norm_sources = {norm.category: norm.source for norm in DEFAULT_SUPPLY_NORMS}
    targets = []
    for category in AmenityCategory:
        if category.value in GB50180_2018.categories:
            requirement = GB50180_2018.requirement(category.value)
            minutes = GB50180_2018.threshold(category.value)
            time_source = f"{requirement.clause} ({requirement.tier})"
        else:
            # training has no GB 50180 counterpart: treated like the 15-min street-level services.
            minutes = 15.0
            time_source = "ParkLife assumption: 15-min tier like street-level services"
        norm = norms.get(category.value)
        source = time_source + (f"; norm: {norm_sources[category.value]}" if norm else "")
        targets.append(
            CategoryTarget(category.value, minutes, minutes * CAP_TO_TARGET_RATIO, norm, source)
        )
    return GapParameters(tuple(targets))


DEFAULT_GAP_PARAMETERS = _default_gap_parameters()
"""Targets from GB 50180-2018 tiers (``retention.access.standards``), norms from
``retention.access.measures.DEFAULT_SUPPLY_NORMS``."""


def default_category_weights() -> dict[str, float]:
    """Return equal weights (1.0) for every category: the default before survey importance."""
    return {category.value: 1.0 for category in AmenityCategory}


def _first_rank(nearest: pd.DataFrame) -> pd.DataFrame:
    if isinstance(nearest.columns, pd.MultiIndex):
        return nearest.xs(1, level="rank", axis=1)
    return nearest


def _weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    chosen = default_category_weights() if weights is None else dict(weights)
    for category, weight in chosen.items():
        if not isinstance(weight, int | float) or not math.isfinite(weight) or weight < 0:
            raise ParameterError(
                f"weight of {category!r} must be a non-negative number, got {weight!r}",
                column="weights",
            )
    positive = {category: float(w) for category, w in chosen.items() if w > 0}
    if not positive:
        raise ParameterError("at least one category weight must be positive", column="weights")
    return positive


def category_shortfalls(
    nearest_minutes: pd.DataFrame,
    *,
    supply_per_1000: pd.DataFrame | None = None,
    parameters: GapParameters = DEFAULT_GAP_PARAMETERS,
    categories: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Return the time, supply and combined shortfall (0-1) per origin and category.

    Assumes ``nearest_minutes`` rows are origins and columns categories (or the
    ``(category, rank)`` output of ``retention.access.measures.nearest_minutes``; rank 1 is used),
    NaN or
    ``inf`` meaning none reachable; ``supply_per_1000`` is E2SFCA supply per 1,000 people with the
    same rows. Formulas in the module docstring.

    Parameters
    ----------
    nearest_minutes
        Minutes to the nearest available amenity of each category.
    supply_per_1000
        E2SFCA supply per 1,000 people per category; ``None`` judges on time only.
    parameters
        Targets, caps and norms.
    categories
        Categories to report; default every column of ``nearest_minutes``.

    Returns
    -------
    pandas.DataFrame
        Columns a MultiIndex ``(category, part)`` with part ``time``, ``supply``, ``combined``.
    """
    nearest = _first_rank(nearest_minutes)
    chosen = tuple(str(c) for c in nearest.columns) if categories is None else categories
    if supply_per_1000 is not None and not supply_per_1000.index.equals(nearest.index):
        raise ParameterError(
            "supply_per_1000 must have the same origins, in the same order, as nearest_minutes",
            column="supply_per_1000",
        )
    blocks = {}
    for category in chosen:
        if category not in nearest.columns:
            raise ParameterError(
                f"no nearest minutes for category {category!r}", column="nearest_minutes"
            )
        target = parameters.target(category)
        minutes = nearest[category].to_numpy(dtype=float)
        minutes = np.where(np.isnan(minutes), np.inf, minutes)
        span = target.cap_minutes - target.target_minutes
        time_part = np.clip((minutes - target.target_minutes) / span, 0.0, 1.0)
        supply_part = np.zeros(len(nearest))
        norm = target.supply_norm_per_1000
        if norm is not None and supply_per_1000 is not None and category in supply_per_1000:
            supply = supply_per_1000[category].to_numpy(dtype=float)
            supply_part = np.clip(1.0 - np.nan_to_num(supply, nan=0.0) / norm, 0.0, 1.0)
        blocks[(category, "time")] = time_part
        blocks[(category, "supply")] = supply_part
        blocks[(category, "combined")] = np.maximum(time_part, supply_part)
    frame = pd.DataFrame(blocks, index=nearest.index)
    frame.columns = pd.MultiIndex.from_tuples(list(blocks), names=["category", "part"])
    return frame


def gap_index(
    nearest_minutes: pd.DataFrame,
    *,
    supply_per_1000: pd.DataFrame | None = None,
    parameters: GapParameters = DEFAULT_GAP_PARAMETERS,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Return the gap index (0-100) of each origin and each category's contribution to it.

    Assumes the inputs of :func:`category_shortfalls`; formula in the module docstring and
    :data:`GAP_INDEX_METHOD`. Categories missing from ``weights`` weigh 0; every category with a
    positive weight needs a column in ``nearest_minutes`` and a target in ``parameters``.

    Parameters
    ----------
    nearest_minutes
        Minutes to the nearest available amenity of each category.
    supply_per_1000
        E2SFCA supply per 1,000 people per category; ``None`` judges on time only.
    parameters
        Targets, caps and norms.
    weights
        Importance of each category (e.g. survey importance); default equal weights.

    Returns
    -------
    pandas.DataFrame
        Rows origins; column ``gap_index`` then one column per weighted category holding its
        contribution (the contributions sum to ``gap_index``).
    """
    positive = _weights(weights)
    categories = tuple(positive)
    shortfall = category_shortfalls(
        nearest_minutes,
        supply_per_1000=supply_per_1000,
        parameters=parameters,
        categories=categories,
    )
    total_weight = sum(positive.values())
    contributions = pd.DataFrame(
        {
            category: 100.0 * positive[category] / total_weight * shortfall[(category, "combined")]
            for category in categories
        },
        index=shortfall.index,
    )
    result = contributions.copy()
    result.insert(0, "gap_index", contributions.sum(axis=1))
    return result


def finite_weighted_mean(values: npt.ArrayLike, people: npt.ArrayLike) -> float:
    """Return the people-weighted mean of the finite ``values`` (NaN when no one is counted).

    ``inf`` (no amenity reachable) and NaN rows are left out of the mean and of the weights.
    """
    v = np.asarray(values, dtype=float)
    w = np.asarray(people, dtype=float)
    finite = np.isfinite(v)
    if w[finite].sum() <= 0:
        return float("nan")
    return float(np.average(v[finite], weights=w[finite]))


def aggregate_by_group(
    frame: pd.DataFrame,
    people: npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    group_name: str = "group",
) -> pd.DataFrame:
    """Return the people-weighted mean of every column of ``frame`` per group.

    Assumes ``people`` and ``groups`` align with ``frame``'s rows (e.g. a zone id or enterprise
    id per origin; a missing group is kept as its own NaN group, never dropped). Because the mean
    is linear, aggregated contributions still sum to the aggregated gap index.

    Parameters
    ----------
    frame
        Numeric indicators per origin (e.g. the output of :func:`gap_index`).
    people
        People at each origin.
    groups
        Group of each origin.
    group_name
        Name of the result's index.

    Returns
    -------
    pandas.DataFrame
        One row per group: the weighted means plus ``people`` (NaN means for a group of 0).
    """
    weights = np.asarray(people, dtype=float)
    labels = np.asarray(groups, dtype=object)
    if weights.shape != (len(frame),) or labels.shape != (len(frame),):
        raise ParameterError(
            f"people and groups need one value per row ({len(frame)}), got shapes "
            f"{weights.shape} and {labels.shape}",
            column="people",
        )
    weights = non_negative_values(weights, column="people")
    values = frame.to_numpy(dtype=float)
    weighted = pd.DataFrame(values * weights[:, None], columns=frame.columns)
    weighted["people"] = weights
    key = pd.Series(labels, name=group_name)
    sums = weighted.groupby(key, dropna=False, sort=True).sum()
    totals = sums.pop("people")
    means = sums.div(totals.where(totals > 0), axis=0)
    means["people"] = totals
    return means
