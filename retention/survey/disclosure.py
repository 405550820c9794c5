"""Disclosure control: which survey answers a published figure may count, and who may see it.

Every survey aggregate ParkLife publishes — page, download, export, CLI — is computed only from
the answers :func:`releasable` lets through, and only for the breakdowns :func:`check_breakdown`
allows the user's role. The rules, applied per survey item (an answer counts only where the
respondent answered that item):

1. **Release unit** — an answer counts only if its *enterprise* had at least k answers to the
   item *in the same wave*. Answers of smaller enterprise-waves count in **no** published
   figure: not in the park mean, a zone, an age band, a peer band or a download. So no
   difference of published figures (park mean minus the other enterprises, zone minus its
   enterprises) contains them. [attack (a), (d)]
2. **Cells per wave** — a published cell (an age band, zone, residence, enterprise, or the park)
   counts the answers of a wave only if the cell has at least k of them in that wave. Adding a
   wave therefore changes a cell by the answers of ≥ k new respondents or not at all: 5 → 6
   respondents adds nothing, and 4 invented respondents next to 1 real one release nothing.
   [attack (b), (c)]
3. **Complement per wave** — within one wave (and one parent cell, for nested breakdowns) the
   answers left out of a breakdown's cells are either none or at least k, otherwise the
   smallest counted cell is left out too; so a total minus its shown cells never isolates fewer
   than k people. [attack (d)]
4. **Who adds waves** — only planners and admins store waves, and only admins delete them
   (``retention.auth.roles``); every change is in the audit log. [attack (b)]

5. **Model sample** — the retention model is fitted, weighted and applied only to the
   respondents :func:`model_sample` releases: complete rows whose enterprise has at least k of
   them in the same wave, and whose level of every categorical predictor (age band, shift, wage
   band) has at least k of them in the same wave, repeated until no count falls below k. A
   level nobody is left in gets no coefficient (``retention.model.release`` merges it into the
   reference level). So the coefficients, drivers, enterprise and park leavers and the weights
   behind them change with a group's answers only when the group has ≥ k respondents.
   [differencing of model releases]

Rules 1–3 and 5 make every published figure a function of released answers only: changing an
answer that is not released changes no published number (the property the attack tests check).

Not covered (documented on the Assumptions page): the survey tables' weights are fitted to
headcounts over all respondents, so the weights — never the answers — of released respondents
depend on how many respondents an enterprise has (the model's weights do not: rule 5).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from retention.auth.roles import Permission, UserScope
from retention.errors import AccessDeniedError, ValidationError
from retention.survey.privacy import PrivacyParameters

RELEASE_UNIT = "enterprise_id"
"""The column whose small groups never count in any published figure (rule 1)."""
WAVE_COLUMN = "wave"
"""The survey's wave label; a survey without it is one wave."""
PARK_LEVEL_BREAKDOWNS: tuple[str, ...] = ("age_band",)
"""Breakdowns every role may see (cohorts of the whole park)."""
_NA = "\x00na"


def _labels(frame: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series("all", index=frame.index, dtype="string")
    if column not in frame.columns:
        if column == WAVE_COLUMN:
            return pd.Series("", index=frame.index, dtype="string")
        raise ValidationError(f"survey has no column {column!r} to group by", column=column)
    return frame[column].astype("string")


def cell_rule(
    counted: np.ndarray,
    cells: pd.Series,
    partitions: Sequence[pd.Series],
    *,
    k: int,
) -> np.ndarray:
    """Return which counted answers a breakdown may count (rules 2 and 3 of the module).

    Parameters
    ----------
    counted
        Boolean per row: the answer exists and passed earlier rules.
    cells
        The cell of each row (missing = a cell that is never shown).
    partitions
        Keys within which cells add up to a total (the wave, and a parent cell if nested).
    k
        Minimum answers of a cell in one partition.

    Returns
    -------
    numpy.ndarray
        Boolean per row: counted and in a cell with ≥ k answers in its partition, after the
        complement rule.
    """
    counted = np.asarray(counted, dtype=bool)
    if not len(counted):
        return counted.copy()
    keys = pd.DataFrame(
        {f"p{i}": p.astype("string").fillna(_NA).to_numpy() for i, p in enumerate(partitions)}
    )
    keys["cell"] = cells.astype("string").fillna(_NA).to_numpy()
    cell_id = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
    part_columns = [c for c in keys.columns if c != "cell"]
    part_of_row = (
        keys.groupby(part_columns, sort=False).ngroup().to_numpy()
        if part_columns
        else np.zeros(len(keys), dtype=int)
    )
    n_cells = int(cell_id.max()) + 1
    counts = np.bincount(cell_id, weights=counted.astype(float), minlength=n_cells)
    hidden = np.zeros(n_cells, dtype=bool)
    hidden[cell_id[cells.isna().to_numpy()]] = True
    part_of_cell = np.zeros(n_cells, dtype=int)
    part_of_cell[cell_id] = part_of_row
    kept = (counts >= k) & ~hidden
    for part in np.unique(part_of_cell):
        members = np.flatnonzero(part_of_cell == part)
        left_out = counts[members][~kept[members]].sum()
        while 0 < left_out < k:
            candidates = members[kept[members]]
            if not len(candidates):
                break
            smallest = candidates[np.argmin(counts[candidates])]
            kept[smallest] = False
            left_out += counts[smallest]
    return counted & kept[cell_id]


def model_sample(
    survey: pd.DataFrame,
    usable: np.ndarray | pd.Series,
    *,
    cells: Sequence[str] = (),
    parameters: PrivacyParameters | None = None,
) -> np.ndarray:
    """Return which respondents a fitted model may use (rule 5 of the module).

    Assumes the canonical survey table (``enterprise_id``, ``wave``; the ``cells`` columns).

    Parameters
    ----------
    survey
        Respondents.
    usable
        Boolean per respondent: the row has every value the model reads.
    cells
        Columns whose levels become model terms (categorical predictors); a missing level is a
        cell of its own.
    parameters
        The threshold k (default 5).

    Returns
    -------
    numpy.ndarray
        Boolean per respondent: usable, and in an enterprise-wave and, for every ``cells``
        column, a level-wave with at least k such respondents.
    """
    k = (parameters or PrivacyParameters()).min_group_size
    keep = np.asarray(usable, dtype=bool).copy()
    if len(keep) != len(survey):
        raise ValidationError("usable flags are not aligned with the survey rows", column="item")
    wave = _labels(survey, WAVE_COLUMN).fillna(_NA).to_numpy()
    groups = [_labels(survey, RELEASE_UNIT), *(_labels(survey, column) for column in cells)]
    keys = [pd.Series(g.fillna(_NA).to_numpy()) for g in groups]
    changed = True
    while changed:  # dropping one small cell can bring another below k
        changed = False
        for key in keys:
            counts = pd.Series(keep.astype(int)).groupby([wave, key]).transform("sum").to_numpy()
            small = keep & (counts < k)
            if small.any():
                keep &= ~small
                changed = True
    return keep


def releasable(
    survey: pd.DataFrame,
    answered: pd.DataFrame | pd.Series,
    *,
    by: str | None = None,
    split: pd.Series | None = None,
    parameters: PrivacyParameters | None = None,
) -> pd.DataFrame:
    """Return, per item, which respondents' answers a published figure may count.

    Assumes the canonical survey table (``enterprise_id``, ``wave``; ``by`` a column such as
    ``age_band`` or ``zone_id``).

    Parameters
    ----------
    survey
        Respondents.
    answered
        Boolean per respondent and item (a Series is one item): whether the answer exists.
    by
        The breakdown the figure belongs to (``None``: the park as one cell).
    split
        A boolean sub-population the figure is restricted to (e.g. respondents intending to
        leave): nested inside ``by``, with its own complement rule, so the figure for the
        sub-population and the one for everyone do not differ by fewer than k people.
    parameters
        The threshold k (default 5).

    Returns
    -------
    pandas.DataFrame
        Booleans, same index and columns as ``answered`` (a one-column frame for a Series).
    """
    k = (parameters or PrivacyParameters()).min_group_size
    frame = answered.to_frame("item") if isinstance(answered, pd.Series) else answered
    if not frame.index.equals(survey.index):
        raise ValidationError("answered flags are not aligned with the survey rows", column="item")
    unit, wave = _labels(survey, RELEASE_UNIT), _labels(survey, WAVE_COLUMN)
    cells = _labels(survey, by)
    out = {}
    for item in frame.columns:
        flags = frame[item].fillna(False).to_numpy(dtype=bool)
        mask = cell_rule(flags, unit, [wave], k=k)  # rule 1
        mask = cell_rule(mask, cells, [wave], k=k)  # rules 2 and 3
        if split is not None:
            inside = split.reindex(survey.index).fillna(False).astype(bool)
            sub = pd.Series(np.where(inside, "in", "out"), index=survey.index, dtype="string")
            mask = cell_rule(mask, sub, [wave, cells], k=k) & inside.to_numpy()
        out[item] = mask
    return pd.DataFrame(out, index=survey.index)


def check_breakdown(scope: UserScope | None, by: str | None) -> None:
    """Raise ``AccessDeniedError`` unless ``scope`` may see survey figures broken down ``by``.

    Park-level figures and age cohorts: every role. By enterprise: roles with survey detail
    (HR sees its own enterprises only: :func:`restrict_groups`). By residence, zone or anything
    else: roles that see every enterprise. ``scope=None`` is the server operator (CLI, batch).
    """
    if scope is None or by is None or by in PARK_LEVEL_BREAKDOWNS:
        return
    if by == RELEASE_UNIT:
        scope.require(Permission.SURVEY_DETAIL)
        return
    if not scope.can(Permission.ALL_ENTERPRISES):
        raise AccessDeniedError(
            f"user {scope.user!r} (role {scope.role.value}) may not see survey figures by "
            f"{by!r}; expected a planner or admin role"
        )


def restrict_groups(
    table: pd.DataFrame, scope: UserScope | None, *, by: str | None, column: str = "group"
) -> pd.DataFrame:
    """Return ``table`` without rows of enterprises ``scope`` may not see (by-enterprise only)."""
    check_breakdown(scope, by)
    if scope is None or by != RELEASE_UNIT:
        return table
    keep = table[column].astype(str).map(scope.sees_enterprise).to_numpy(dtype=bool)
    out = table.loc[keep].reset_index(drop=True)
    out.attrs = dict(table.attrs)
    return out


def mark_released(table: pd.DataFrame) -> pd.DataFrame:
    """Record on a suppressed table that it counts released answers only (exports check this)."""
    rule = dict(table.attrs.get("suppression", {}))
    if not rule:
        raise ValidationError(
            "table has not passed retention.survey.privacy.suppress_small_groups; expected "
            "suppression before release",
            column="suppressed",
        )
    rule["disclosure"] = True
    rule["rule"] = (
        f"{rule.get('rule', '')}; answers counted only from enterprise-waves and cell-waves "
        f"with at least {rule.get('min_group_size')} answers, complement per wave"
    ).lstrip("; ")
    table.attrs["suppression"] = rule
    return table


def allowed_breakdowns(scope: UserScope | None, candidates: Sequence[str]) -> list[str]:
    """Return the breakdowns among ``candidates`` ``scope`` may see (see ``check_breakdown``)."""
    allowed = []
    for by in candidates:
        try:
            check_breakdown(scope, by)
        except AccessDeniedError:
            continue
        allowed.append(by)
    return allowed
