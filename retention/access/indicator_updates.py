"""Indicators of a changed park from the baseline's: only what the change touches is recomputed.

After an engine delta (a route, an amenity, a residence: ``retention.access.engine``), most
travel times are the baseline's. :func:`update_indicators` compares the two results and
recomputes:

- every indicator of an origin whose row changed (a new origin, other people or employer,
  or any changed minutes);
- for the other origins, nearest minutes, opportunities and capacity within the budget only in
  the categories of added, closed or changed amenities, and only for origins that reach one of
  them (nearest is a minimum and counts are whole numbers: the same values as in full);
- E2SFCA step 1 (``R_j = S_j / Σ_i P_i W_ij``) only for amenities whose catchment changed, and
  step 2 for the other origins as the baseline's supply plus the change of the ratios they
  reach (so supply and the gap index equal a full recomputation up to float summation order,
  ~1e-12 relative);
- living circle, compliance and the gap index from those tables (cheap, in full).

When most origins changed (or the baseline carries no :class:`IndicatorBasis`) everything is
computed in full: that is never slower. ``retention.access.indicators.indicators_for_window``
on the changed result is the oracle (tests compare both, hypothesis).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from retention.access.engine import _origin_ids
from retention.access.indicators import (
    DEMAND_SETS,
    IndicatorBasis,
    ParkIndicators,
    category_order,
    indicators_for_window,
    indicators_from_parts,
    row_indicators,
    weight_key,
)
from retention.access.measures import _category_frame
from retention.access.travel_times import TravelTimeResult

FULL_SHARE = 0.5
"""Above this share of changed origins, recomputing everything is cheaper than an update."""
_CHUNK_ROWS = 512  # rows compared at a time (a few tens of MB on Beilun-scale parks)


def update_indicators(
    previous: ParkIndicators,
    before: TravelTimeResult,
    after: TravelTimeResult,
    *,
    mode: str,
    window: str,
    weights: Mapping[str, float] | None = None,
) -> ParkIndicators:
    """Return the indicators of ``after`` for one mode and window, updated from ``previous``.

    Assumes ``previous`` is ``indicators_for_window(before, mode=mode, window=window, ...)``
    (its :class:`IndicatorBasis` names the mode and window; otherwise, or with other
    ``weights``, everything is computed in full). Origins are matched by ``origin_set`` +
    ``origin_id``, amenities by ``id``; the indicator options are ``previous.parameters``.

    Parameters
    ----------
    previous
        The baseline's indicators.
    before, after
        The baseline's and the changed park's travel times.
    mode, window
        E.g. ``"transit"``, ``"weekday_evening"``.
    weights
        Gap-index category weights (as for ``previous``).

    Returns
    -------
    ParkIndicators
        The same numbers as ``indicators_for_window(after, ...)`` (see the module docstring).
    """
    parameters = previous.parameters
    basis = previous.basis

    def full() -> ParkIndicators:
        return indicators_for_window(
            after, mode=mode, window=window, parameters=parameters, weights=weights
        )

    if (
        basis is None
        or basis.source != (mode, window)
        or basis.weights != weight_key(weights)
        or len(basis.nearest_all) != len(before.origins)
        or len(basis.ratio) != len(before.amenities)
    ):
        return full()
    change = _Change(before, after, mode=mode, window=window)
    if change.rows.sum() > FULL_SHARE * max(len(after.origins), 1):
        return full()
    return _updated(previous, basis, change, weights=weights)


class _Change:
    """How ``after`` differs from ``before`` for one mode and window (new-index arrays)."""

    def __init__(
        self,
        before: TravelTimeResult,
        after: TravelTimeResult,
        *,
        mode: str,
        window: str,
    ) -> None:
        self.before, self.after, self.window = before, after, window
        self.old_minutes = before.minutes_for(mode, window)  # type: ignore[arg-type]
        self.new_minutes = after.minutes_for(mode, window)  # type: ignore[arg-type]
        self.row_map = _keys(before.origins).get_indexer(_keys(after.origins))
        old_ids = pd.Index(before.amenities["id"].astype(str))
        self.col_map = old_ids.get_indexer(after.amenities["id"].astype(str))
        same_row = self.row_map >= 0
        for column in ("origin_set", "weight", "enterprise_id"):
            same_row &= _same(before.origins, after.origins, column, self.row_map)
        same_col = self.col_map >= 0
        for column in ("category", "capacity", "open_to"):
            same_col &= _same(before.amenities, after.amenities, column, self.col_map)
        open_before = before.is_open(window)
        open_after = after.is_open(window)
        mapped = np.flatnonzero(same_col)
        same_col[mapped] &= open_before[self.col_map[mapped]] == open_after[mapped]
        self.kept_rows = np.flatnonzero(same_row)
        self.kept_cols = np.flatnonzero(same_col)
        self.new_rows = ~same_row  # new origins, or other people / employer
        self.new_cols = ~same_col  # new amenities, or other category / capacity / hours
        still_there = np.zeros(len(before.amenities), dtype=bool)
        still_there[self.col_map[self.kept_cols]] = True
        self.gone_cols = np.flatnonzero(~still_there)  # old index: closed or changed amenities
        row_gone = np.ones(len(before.origins), dtype=bool)
        row_gone[self.row_map[self.kept_rows]] = False
        self.gone_rows = np.flatnonzero(row_gone)  # old index: vanished or changed origins
        self.pair_rows, self.pair_cols = self._changed_pairs()
        self.rows = self.new_rows | self.pair_rows  # recomputed in full

    def _changed_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows and columns (new index) of kept origins x kept amenities whose minutes differ."""
        rows = np.zeros(len(self.row_map), dtype=bool)
        cols = np.zeros(len(self.col_map), dtype=bool)
        old_rows, old_cols = self.row_map[self.kept_rows], self.col_map[self.kept_cols]
        identity = (
            np.array_equal(self.kept_rows, old_rows)
            and np.array_equal(self.kept_cols, old_cols)
            and np.array_equal(self.kept_cols, np.arange(len(self.kept_cols)))
        )
        if identity and self.new_minutes is self.old_minutes:
            return rows, cols
        n_cols = len(self.kept_cols)
        for start in range(0, len(self.kept_rows), _CHUNK_ROWS):
            chunk = self.kept_rows[start : start + _CHUNK_ROWS]
            if identity:
                a = self.new_minutes[chunk[0] : chunk[-1] + 1, :n_cols]
                b = self.old_minutes[chunk[0] : chunk[-1] + 1, :n_cols]
            else:
                a = self.new_minutes[chunk][:, self.kept_cols]
                b = self.old_minutes[old_rows[start : start + _CHUNK_ROWS]][:, old_cols]
            differ = (a != b) & ~(np.isnan(a) & np.isnan(b))
            rows[chunk] = differ.any(axis=1)
            cols[self.kept_cols] |= differ.any(axis=0)
        return rows, cols

    def effective(self, rows: np.ndarray, cols: np.ndarray, *, old: bool = False) -> np.ndarray:
        """Effective minutes of a block (``inf``: unreachable or unavailable), as the full path
        computes them (float32 stays float32)."""
        result = self.before if old else self.after
        minutes = self.old_minutes if old else self.new_minutes
        dtype = np.float32 if minutes.dtype == np.float32 else np.float64
        block = np.array(minutes[np.ix_(rows, cols)], dtype=dtype)
        available = result.is_open(self.window)[cols][None, :] & result.open_to[np.ix_(rows, cols)]
        block[np.isnan(block) | ~available] = np.inf
        return block


def _updated(
    previous: ParkIndicators,
    basis: IndicatorBasis,
    change: _Change,
    *,
    weights: Mapping[str, float] | None,
) -> ParkIndicators:
    parameters = previous.parameters
    after, before = change.after, change.before
    origins, amenities = after.origins, after.amenities
    n_rows, n_cols = len(origins), len(amenities)
    order = category_order(parameters)
    categories = amenities["category"].astype(str).to_numpy()
    old_categories = before.amenities["category"].astype(str).to_numpy()
    capacity = pd.to_numeric(amenities["capacity"], errors="coerce").fillna(0.0).to_numpy()
    threshold = parameters.threshold_minutes
    all_cols = np.arange(n_cols)
    redo = np.flatnonzero(change.rows)
    keep = np.flatnonzero(~change.rows)
    old_keep = change.row_map[keep]

    # --- per-origin tables: kept rows from the baseline, changed rows in full ----------------
    nearest = _mapped(basis.nearest_all, order, change.row_map, keep)
    opportunities = _mapped(
        _all_columns(previous.opportunities, order), order, change.row_map, keep
    )
    capacity_within = _mapped(
        _all_columns(previous.capacity_within, order), order, change.row_map, keep
    )
    redo_effective = change.effective(redo, all_cols) if len(redo) else None
    if redo_effective is not None:
        parts = row_indicators(
            redo_effective,
            categories,
            capacity,
            order=order,
            threshold_minutes=threshold,
            origin_ids=list(redo),
        )
        for table, part in zip((nearest, opportunities, capacity_within), parts, strict=True):
            table[redo] = part[order].to_numpy()
    # Kept rows, in the categories of new / changed / closed amenities they reach.
    position = {category: k for k, category in enumerate(order)}
    new_cols = np.flatnonzero(change.new_cols)
    touched = {categories[j] for j in new_cols} | {old_categories[j] for j in change.gone_cols}
    for category in sorted(touched & set(order)):
        reach = np.zeros(len(keep), dtype=bool)
        added = new_cols[categories[new_cols] == category]
        gone = change.gone_cols[old_categories[change.gone_cols] == category]
        if len(added) and len(keep):
            reach |= np.isfinite(change.effective(keep, added)).any(axis=1)
        if len(gone) and len(keep):
            reach |= np.isfinite(change.effective(old_keep, gone, old=True)).any(axis=1)
        rows = keep[reach]
        if not len(rows):
            continue
        mine = np.flatnonzero(categories == category)
        # The full computation's passes on this block: the same sums in the same order.
        parts = row_indicators(
            change.effective(rows, mine),
            categories[mine],
            capacity[mine],
            order=[category],
            threshold_minutes=threshold,
            origin_ids=list(rows),
        )
        k = position[category]
        for table, part in zip((nearest, opportunities, capacity_within), parts, strict=True):
            table[rows, k] = part[category].to_numpy()

    # --- E2SFCA ----------------------------------------------------------------------------
    decay, catchment = parameters.decay, parameters.catchment_minutes
    people = _demand(origins, parameters.demand)
    listed = np.isin(categories, order)
    # Step 1 again for amenities whose catchment changed: new or changed amenities, changed
    # minutes, and any amenity a changed or vanished origin reaches.
    again = change.new_cols | change.pair_cols
    if redo_effective is not None and change.new_rows.any():
        newcomers = redo_effective[change.new_rows[redo]]
        again |= (decay.weight(newcomers, catchment_minutes=catchment) > 0).any(axis=0)
    if len(change.gone_rows):
        old_cols = change.col_map[change.kept_cols]
        reached = change.effective(change.gone_rows, old_cols, old=True)
        again[change.kept_cols] |= (decay.weight(reached, catchment_minutes=catchment) > 0).any(
            axis=0
        )
    demand = np.zeros(n_cols)
    demand[change.kept_cols] = basis.weighted_demand[change.col_map[change.kept_cols]]
    again_cols = np.flatnonzero(again & listed)
    if len(again_cols):
        weight = decay.weight(
            change.effective(np.arange(n_rows), again_cols), catchment_minutes=catchment
        )
        demand[again_cols] = people @ weight
    demand[~listed] = 0.0
    ratio = np.zeros(n_cols)
    served = listed & (demand > 0)
    ratio[served] = capacity[served] / demand[served]
    old_ratio = np.zeros(n_cols)
    old_ratio[change.kept_cols] = basis.ratio[change.col_map[change.kept_cols]]
    # Step 2: changed rows in full, kept rows as the baseline plus the ratios that moved.
    supply = _mapped(_all_columns(previous.supply_per_1000, order), order, change.row_map, keep)
    if redo_effective is not None:
        weight = decay.weight(redo_effective, catchment_minutes=catchment)
        supply[redo] = 1000.0 * (weight @ _by_category(ratio, categories, position))
    moved = np.flatnonzero(ratio != old_ratio)
    gone = change.gone_cols[basis.ratio[change.gone_cols] != 0]
    if len(keep) and (len(moved) or len(gone)):
        delta = np.zeros((len(keep), len(order)))
        if len(moved):
            weight = decay.weight(change.effective(keep, moved), catchment_minutes=catchment)
            delta += weight @ _by_category(
                ratio[moved] - old_ratio[moved], categories[moved], position
            )
        if len(gone):
            weight = decay.weight(
                change.effective(old_keep, gone, old=True), catchment_minutes=catchment
            )
            delta -= weight @ _by_category(basis.ratio[gone], old_categories[gone], position)
        supply[keep] += 1000.0 * delta

    def frame(values: np.ndarray) -> pd.DataFrame:
        return _category_frame(
            {category: values[:, k] for k, category in enumerate(order)}, origins.index, n_rows
        )

    nearest_all = frame(nearest)
    new_basis = IndicatorBasis(
        source=basis.source,
        nearest_all=nearest_all,
        weighted_demand=demand,
        ratio=ratio,
        weights=weight_key(weights),
    )
    return indicators_from_parts(
        origins,
        nearest_all,
        frame(opportunities),
        frame(capacity_within),
        frame(supply),
        parameters,
        weights,
        new_basis,
    )


# --- small helpers ---------------------------------------------------------------------------


def _keys(origins: pd.DataFrame) -> pd.Index:
    return pd.Index(_origin_ids(origins))


def _same(
    before: pd.DataFrame, after: pd.DataFrame, column: str, mapping: np.ndarray
) -> np.ndarray:
    """Whether each row of ``after`` has the same ``column`` as its ``before`` row (False when
    unmapped); numbers compare as numbers, blanks (None, NaN, "") as equal."""
    result = np.zeros(len(after), dtype=bool)
    mapped = np.flatnonzero(mapping >= 0)
    if column not in after.columns and column not in before.columns:
        result[mapped] = True
        return result
    if column not in after.columns or column not in before.columns:
        return result
    old = before[column].iloc[mapping[mapped]].reset_index(drop=True)
    new = after[column].iloc[mapped].reset_index(drop=True)
    if column in _NUMERIC:
        a = pd.to_numeric(old, errors="coerce").to_numpy(dtype=float)
        b = pd.to_numeric(new, errors="coerce").to_numpy(dtype=float)
        result[mapped] = (a == b) | (np.isnan(a) & np.isnan(b))
    else:
        result[mapped] = (_text(old) == _text(new)).to_numpy()
    return result


_NUMERIC = frozenset({"weight", "capacity"})


def _text(values: pd.Series) -> pd.Series:
    """Values as stripped text, blanks (None, NaN) as ""."""
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


def _all_columns(table: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """``table`` with a column for every category of ``order`` (NaN where it had none; those
    columns are never read from the baseline: they are not reported)."""
    return table.reindex(columns=order)


def _mapped(
    table: pd.DataFrame, order: list[str], row_map: np.ndarray, keep: np.ndarray
) -> np.ndarray:
    """A new-row array of ``table``'s ``order`` columns: kept rows from their baseline rows."""
    values = np.full((len(row_map), len(order)), np.nan)
    values[keep] = table[order].to_numpy(dtype=float)[row_map[keep]]
    return values


def _demand(origins: pd.DataFrame, demand: str) -> np.ndarray:
    people = origins["weight"].to_numpy(dtype=float)
    return np.where(origins["origin_set"].isin(DEMAND_SETS[demand]).to_numpy(), people, 0.0)


def _by_category(ratio: np.ndarray, categories: np.ndarray, position: dict[str, int]) -> np.ndarray:
    """Amenities x categories matrix holding each amenity's ratio in its category's column."""
    matrix = np.zeros((len(ratio), len(position)))
    for row, category in enumerate(categories.tolist()):
        if category in position:
            matrix[row, position[category]] = ratio[row]
    return matrix


__all__ = ["FULL_SHARE", "update_indicators"]
