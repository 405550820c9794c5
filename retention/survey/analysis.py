"""Survey statistics: weighted means with intervals, IPA, reasons for leaving, category weights.

Every table returned here counts only the answers ``retention.survey.disclosure.releasable``
lets through (release unit, cells per wave, complement per wave: see that module) and has passed
``retention.survey.privacy.suppress_small_groups`` (cells without k released answers are blanked
and marked); by-enterprise tables hold only the enterprises the user's scope may see
(``retention.survey.disclosure.restrict_groups``). Weights come from
``retention.survey.weighting`` (``None`` = unweighted).

Statistical choices:

- Weighted means use the normalised weights; their 95 % interval is ``mean ± t · SE`` with
  ``SE = sqrt(s²_w / (n_eff − 1))``, ``s²_w`` the weighted variance and ``n_eff`` Kish's
  effective sample size, t with ``n_eff − 1`` degrees of freedom. With equal weights this is
  the textbook ``sd / sqrt(n)`` interval.
- Shares (reasons, intent) use the Wilson score interval at the effective sample size, which
  behaves at shares near 0 or 1 where the Wald interval fails.
- IPA quadrants split at the grand means of the plotted importance and performance (Martilla &
  James 1977). Importance is stated (mean 1–5 importance answer) or derived: the weighted
  correlation of the category's satisfaction with overall satisfaction, or with *not* intending
  to leave (6 − intent), across respondents who answered both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from retention.auth.roles import UserScope
from retention.errors import ParameterError, ValidationError
from retention.safe_cells import csv_bytes, xlsx_bytes
from retention.survey.disclosure import mark_released, releasable, restrict_groups
from retention.survey.privacy import SUPPRESSED_MARKER, PrivacyParameters, suppress_small_groups
from retention.survey.schema import SURVEY_CATEGORIES, LeaveReason, imp_column, sat_column

Measure = Literal["sat", "imp"]
ImportanceKind = Literal["stated", "derived_overall", "derived_intent"]
INTENT_THRESHOLD = 4  # 4 = "probably leaving", 5 = "definitely leaving" (survey_schema)

QUADRANTS = ("concentrate_here", "keep_up", "low_priority", "possible_overkill")
"""IPA quadrants: high importance & low performance first (where to act)."""


@dataclass(frozen=True)
class AnalysisParameters:
    """Options shared by the survey statistics.

    Parameters
    ----------
    level
        Confidence level of every interval (0.95).
    privacy
        Anonymity threshold (k) applied to every table.
    """

    level: float = 0.95
    privacy: PrivacyParameters = PrivacyParameters()  # noqa: RUF009 - frozen, hashable value

    def __post_init__(self) -> None:
        if not 0.5 < self.level < 1:
            raise ParameterError(f"level must be in (0.5, 1), got {self.level}", column="level")


def _categories(categories: Sequence[str] | None) -> list[str]:
    chosen = [c.value for c in SURVEY_CATEGORIES] if categories is None else list(categories)
    valid = {c.value for c in SURVEY_CATEGORIES}
    unknown = [c for c in chosen if c not in valid]
    if unknown:
        raise ParameterError(
            f"unknown amenity category {unknown[0]!r}; expected AmenityCategory values",
            column="categories",
        )
    return chosen


def _weights(survey: pd.DataFrame, weights: pd.Series | None) -> pd.Series:
    if weights is None:
        return pd.Series(1.0, index=survey.index)
    if not weights.index.equals(survey.index):
        raise ValidationError(
            "weights are not aligned with the survey rows; expected the index of the survey "
            "(use the weights returned by retention.survey.weighting.survey_weights for "
            "this survey)",
            column="weight",
        )
    values = pd.to_numeric(weights, errors="coerce").astype(float)
    if (values < 0).any() or values.isna().any():
        raise ValidationError("weights must be non-negative numbers", column="weight")
    return values


def _numeric(survey: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(survey[column], errors="coerce").to_numpy(dtype=float)


def _everyone(survey: pd.DataFrame) -> pd.Series:
    return pd.Series(True, index=survey.index)


def weighted_mean_ci(
    values: np.ndarray, weights: np.ndarray, *, level: float = 0.95
) -> tuple[float, float, float, int, float]:
    """Return (mean, low, high, n, n_eff) of ``values`` with weights, ignoring NaN values.

    Assumes non-negative weights. The interval is NaN when fewer than 2 effective respondents.
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    ok = np.isfinite(x) & np.isfinite(w) & (w > 0)
    x, w = x[ok], w[ok]
    n = len(x)
    if n == 0:
        return (np.nan, np.nan, np.nan, 0, 0.0)
    mean = float(np.sum(w * x) / np.sum(w))
    n_eff = float(np.sum(w) ** 2 / np.sum(w**2))
    if n_eff <= 1.0 + 1e-9:
        return (mean, np.nan, np.nan, n, n_eff)
    variance = float(np.sum(w * (x - mean) ** 2) / np.sum(w))
    se = np.sqrt(variance / (n_eff - 1.0))
    half = float(stats.t.ppf(0.5 + level / 2, n_eff - 1.0)) * se
    return (mean, mean - half, mean + half, n, n_eff)


def wilson_interval(share: float, n_eff: float, *, level: float = 0.95) -> tuple[float, float]:
    """Return the Wilson score interval of a proportion at effective sample size ``n_eff``."""
    if not n_eff > 0 or not np.isfinite(share):
        return (np.nan, np.nan)
    z = float(stats.norm.ppf(0.5 + level / 2))
    denominator = 1 + z**2 / n_eff
    centre = (share + z**2 / (2 * n_eff)) / denominator
    half = z * np.sqrt(share * (1 - share) / n_eff + z**2 / (4 * n_eff**2)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def _weighted_share_ci(
    indicator: np.ndarray, weights: np.ndarray, *, level: float
) -> tuple[float, float, float, int, float]:
    """Return (share, low, high, n, n_eff) of a 0/1 indicator: weighted share, Wilson interval."""
    share, _, _, n, n_eff = weighted_mean_ci(indicator, weights)
    low, high = wilson_interval(share, n_eff, level=level)
    return (share, low, high, n, n_eff)


def _groups(survey: pd.DataFrame, by: str | None) -> list[tuple[str, np.ndarray]]:
    if by is None:
        return [("all", np.arange(len(survey)))]
    if by not in survey.columns:
        raise ValidationError(f"survey has no column {by!r} to group by", column=by)
    labels = survey[by].astype("string")
    out = []
    for label in sorted(labels.dropna().unique()):
        out.append((str(label), np.flatnonzero(labels.eq(label).fillna(False).to_numpy())))
    return out


def category_means(
    survey: pd.DataFrame,
    weights: pd.Series | None = None,
    *,
    measure: Measure = "sat",
    by: str | None = None,
    categories: Sequence[str] | None = None,
    parameters: AnalysisParameters | None = None,
    scope: UserScope | None = None,
) -> pd.DataFrame:
    """Return weighted mean satisfaction (or importance) per category and group, with 95 % CIs.

    Assumes the canonical survey table; ``by`` is a column such as ``age_band``,
    ``enterprise_id``, ``residence_id`` or ``zone_id`` (see ``with_zone``). ``scope`` is the
    signed-in user (``None``: the server operator): it decides which breakdowns and enterprises
    may be returned.

    Returns
    -------
    pandas.DataFrame
        Columns ``group``, ``category``, ``mean``, ``ci_low``, ``ci_high``, ``n`` (answers),
        ``n_eff``, ``suppressed``; groups with fewer than k answers are blanked.
    """
    parameters = parameters if parameters is not None else AnalysisParameters()
    if measure not in ("sat", "imp"):
        raise ParameterError(f"measure must be 'sat' or 'imp', got {measure!r}", column="measure")
    column_of = sat_column if measure == "sat" else imp_column
    w = _weights(survey, weights).to_numpy()
    chosen = _categories(categories)
    values_of = {c: _numeric(survey, column_of(c)) for c in chosen}
    released = releasable(
        survey,
        pd.DataFrame({c: ~np.isnan(v) for c, v in values_of.items()}, index=survey.index),
        by=by,
        parameters=parameters.privacy,
    )
    rows = []
    for category in chosen:
        values = np.where(released[category].to_numpy(), values_of[category], np.nan)
        for label, positions in _groups(survey, by):
            mean, low, high, n, n_eff = weighted_mean_ci(
                values[positions], w[positions], level=parameters.level
            )
            rows.append((label, category, mean, low, high, n, n_eff))
    table = pd.DataFrame(
        rows, columns=["group", "category", "mean", "ci_low", "ci_high", "n", "n_eff"]
    )
    table = suppress_small_groups(
        table,
        value_columns=["mean", "ci_low", "ci_high", "n_eff"],
        partition_columns=["category"],
        parameters=parameters.privacy,
        complementary=False,  # the complement rule of retention.survey.disclosure applied above
    )
    return restrict_groups(mark_released(table), scope, by=by)


def group_summary(
    survey: pd.DataFrame,
    weights: pd.Series | None = None,
    *,
    by: str,
    parameters: AnalysisParameters | None = None,
    scope: UserScope | None = None,
) -> pd.DataFrame:
    """Return respondents, overall satisfaction and the share intending to leave per group.

    ``n`` counts released respondents; each figure counts only released answers.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``n``, ``n_eff``, ``overall_mean``, ``overall_ci_low``, ``overall_ci_high``,
        ``intent_share`` (intent 4–5), ``intent_ci_low``, ``intent_ci_high``, ``suppressed``.
    """
    parameters = parameters if parameters is not None else AnalysisParameters()
    w = _weights(survey, weights).to_numpy()
    overall = _numeric(survey, "overall_satisfaction")
    intent = _numeric(survey, "intent_to_leave")
    leaving = np.where(np.isnan(intent), np.nan, (intent >= INTENT_THRESHOLD).astype(float))
    released = releasable(
        survey,
        pd.DataFrame(
            {"n": True, "overall": ~np.isnan(overall), "leaving": ~np.isnan(leaving)},
            index=survey.index,
        ),
        by=by,
        parameters=parameters.privacy,
    )
    overall = np.where(released["overall"].to_numpy(), overall, np.nan)
    leaving = np.where(released["leaving"].to_numpy(), leaving, np.nan)
    counted = released["n"].to_numpy()
    rows = []
    for label, positions in _groups(survey, by):
        mean, low, high, _, _ = weighted_mean_ci(
            overall[positions], w[positions], level=parameters.level
        )
        share, s_low, s_high, _, n_eff = _weighted_share_ci(
            leaving[positions], w[positions], level=parameters.level
        )
        n = int(counted[positions].sum())
        rows.append((label, n, n_eff, mean, low, high, share, s_low, s_high))
    table = pd.DataFrame(
        rows,
        columns=[
            "group",
            "n",
            "n_eff",
            "overall_mean",
            "overall_ci_low",
            "overall_ci_high",
            "intent_share",
            "intent_ci_low",
            "intent_ci_high",
        ],
    )
    table = suppress_small_groups(
        table,
        value_columns=[c for c in table.columns if c not in ("group", "n")],
        parameters=parameters.privacy,
        complementary=False,  # the complement rule of retention.survey.disclosure applied above
    )
    return restrict_groups(mark_released(table), scope, by=by)


def _weighted_corr(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    ok = np.isfinite(x) & np.isfinite(y) & (w > 0)
    if ok.sum() < 3:
        return np.nan
    x, y, w = x[ok], y[ok], w[ok]
    mx, my = np.average(x, weights=w), np.average(y, weights=w)
    cov = np.average((x - mx) * (y - my), weights=w)
    vx, vy = np.average((x - mx) ** 2, weights=w), np.average((y - my) ** 2, weights=w)
    if vx <= 0 or vy <= 0:
        return np.nan
    return float(cov / np.sqrt(vx * vy))


@dataclass(frozen=True)
class IPAResult:
    """Importance–performance chart data.

    Parameters
    ----------
    points
        One row per category: ``category``, ``importance``, ``performance`` (mean
        satisfaction), ``n`` (respondents answering the satisfaction item), ``quadrant``,
        ``suppressed``.
    importance_mean, performance_mean
        Where the quadrant lines cross (grand means over the shown categories).
    importance_kind
        ``stated``, ``derived_overall`` or ``derived_intent``.
    suppressed
        Whether the whole chart is suppressed (the group has fewer than k respondents).
    """

    points: pd.DataFrame
    importance_mean: float
    performance_mean: float
    importance_kind: str
    suppressed: bool


def ipa(
    survey: pd.DataFrame,
    weights: pd.Series | None = None,
    *,
    importance: ImportanceKind = "stated",
    group_column: str | None = None,
    group: str | None = None,
    categories: Sequence[str] | None = None,
    parameters: AnalysisParameters | None = None,
) -> IPAResult:
    """Return importance–performance analysis points for the park or one group.

    Parameters
    ----------
    survey, weights
        Respondents and their weights.
    importance
        ``stated`` (mean importance answer) or ``derived_overall`` / ``derived_intent``
        (correlation of the category's satisfaction with overall satisfaction / with staying).
    group_column, group
        Restrict to respondents whose ``group_column`` equals ``group`` (e.g. an age band).
    categories
        Categories to plot (default all).
    parameters
        Confidence level and anonymity threshold.
    """
    parameters = parameters if parameters is not None else AnalysisParameters()
    if importance not in ("stated", "derived_overall", "derived_intent"):
        raise ParameterError(
            f"importance must be stated, derived_overall or derived_intent, got {importance!r}",
            column="importance",
        )
    w = _weights(survey, weights).to_numpy(dtype=float)
    if group_column is not None:
        if group_column not in survey.columns:
            raise ValidationError(f"survey has no column {group_column!r}", column=group_column)
        inside = survey[group_column].astype("string").eq(str(group)).fillna(False).to_numpy()
    else:
        inside = np.ones(len(survey), dtype=bool)
    overall = _numeric(survey, "overall_satisfaction")
    staying = 6.0 - _numeric(survey, "intent_to_leave")
    other = overall if importance == "derived_overall" else staying
    chosen = _categories(categories)
    # Released answers per item, in the breakdown the chart belongs to (the park or one cohort
    # of group_column): performance counts released satisfaction answers, importance the
    # released importance answers (stated) or released (satisfaction, other) pairs (derived).
    sat_of = {c: _numeric(survey, sat_column(c)) for c in chosen}
    imp_of = {
        c: _numeric(survey, imp_column(c)) if importance == "stated" else other for c in chosen
    }
    flags = {f"sat:{c}": ~np.isnan(sat_of[c]) for c in chosen}
    for c in chosen:
        imp_answered = ~np.isnan(imp_of[c])
        flags[f"imp:{c}"] = (
            imp_answered if importance == "stated" else imp_answered & flags[f"sat:{c}"]
        )
    released = releasable(
        survey,
        pd.DataFrame(flags, index=survey.index),
        by=group_column,
        parameters=parameters.privacy,
    )
    rows = []
    for category in chosen:
        sat_mask = released[f"sat:{category}"].to_numpy() & inside
        imp_mask = released[f"imp:{category}"].to_numpy() & inside
        sat = np.where(sat_mask, sat_of[category], np.nan)
        performance, _, _, n, _ = weighted_mean_ci(sat, w)
        if importance == "stated":
            value = weighted_mean_ci(np.where(imp_mask, imp_of[category], np.nan), w)[0]
        else:
            pair_sat = np.where(imp_mask, sat_of[category], np.nan)
            value = _weighted_corr(pair_sat, np.where(imp_mask, imp_of[category], np.nan), w)
        rows.append((category, value, performance, n))
    points = pd.DataFrame(rows, columns=["category", "importance", "performance", "n"])
    k = parameters.privacy.min_group_size
    whole_suppressed = (int(points["n"].max()) if len(points) else 0) < k
    if whole_suppressed:
        points["n"] = 0  # the group's size itself must not show
    points = mark_released(
        suppress_small_groups(
            points,
            value_columns=["importance", "performance"],
            parameters=parameters.privacy,
            complementary=False,
        )
    )
    shown = points.loc[~points["suppressed"]].dropna(subset=["importance", "performance"])
    imp_mean = float(shown["importance"].mean()) if len(shown) else np.nan
    perf_mean = float(shown["performance"].mean()) if len(shown) else np.nan
    quadrant: list[str | None] = []
    for row in points.itertuples():
        if row.suppressed or pd.isna(row.importance) or pd.isna(row.performance):
            quadrant.append(None)
            continue
        high_imp, high_perf = row.importance >= imp_mean, row.performance >= perf_mean
        quadrant.append(
            ("keep_up" if high_perf else "concentrate_here")
            if high_imp
            else ("possible_overkill" if high_perf else "low_priority")
        )
    points["quadrant"] = quadrant
    return IPAResult(points, imp_mean, perf_mean, importance, whole_suppressed)


def reason_shares(
    survey: pd.DataFrame,
    weights: pd.Series | None = None,
    *,
    by: str | None = None,
    only_intending: bool = False,
    parameters: AnalysisParameters | None = None,
    scope: UserScope | None = None,
) -> pd.DataFrame:
    """Return the weighted share of respondents naming each reason, with Wilson intervals.

    Assumes ``reasons`` holds lists of reason codes (an empty list: no reason named).

    Parameters
    ----------
    only_intending
        Restrict to respondents intending to leave (intent 4–5).

    Returns
    -------
    pandas.DataFrame
        ``group``, ``reason``, ``share``, ``ci_low``, ``ci_high``, ``n`` (respondents in the
        group), ``n_eff``, ``suppressed``.
    """
    parameters = parameters if parameters is not None else AnalysisParameters()
    w_all = _weights(survey, weights)
    split = None
    if only_intending:
        intent = pd.to_numeric(survey["intent_to_leave"], errors="coerce")
        split = (intent >= INTENT_THRESHOLD).fillna(False)
    # Intending respondents are a cell nested in each group (disclosure rule 3), so the shares
    # of everyone and of those intending to leave never differ by fewer than k people.
    keep = releasable(survey, _everyone(survey), by=by, split=split, parameters=parameters.privacy)[
        "item"
    ].to_numpy()
    w = w_all.to_numpy(dtype=float)
    reasons = [set(r) if isinstance(r, list | tuple) else set() for r in survey["reasons"]]
    # Every group of the survey is listed, also with only_intending: whether a group appears
    # must not tell whether any of its respondents intends to leave. Each group's figures count
    # its released respondents only.
    rows = []
    for label, all_positions in _groups(survey, by):
        positions = all_positions[keep[all_positions]]
        for reason in LeaveReason:
            chosen = np.array([reason.value in reasons[p] for p in positions], dtype=float)
            share, low, high, n, n_eff = _weighted_share_ci(
                chosen, w[positions], level=parameters.level
            )
            rows.append((label, reason.value, share, low, high, n, n_eff))
    table = pd.DataFrame(
        rows, columns=["group", "reason", "share", "ci_low", "ci_high", "n", "n_eff"]
    )
    table = suppress_small_groups(
        table,
        value_columns=["share", "ci_low", "ci_high", "n_eff"],
        partition_columns=["reason"],
        parameters=parameters.privacy,
        complementary=False,  # the complement rule of retention.survey.disclosure applied above
    )
    return restrict_groups(mark_released(table), scope, by=by)


def importance_weights(
    survey: pd.DataFrame,
    weights: pd.Series | None = None,
    *,
    categories: Sequence[str] | None = None,
    method: ImportanceKind = "stated",
    parameters: AnalysisParameters | None = None,
) -> dict[str, float]:
    """Return category weights for the gap index, normalised to sum to 1.

    Stated importance is rescaled from the 1–5 answer to 0–4 before normalising, so a category
    everyone calls 非常不重要 (1) weighs 0; derived importance uses the correlation, negative
    correlations counting as 0. Categories nobody answered weigh 0.

    Raises
    ------
    ValidationError
        If the survey has fewer than k respondents, or no category has positive importance.
    """
    parameters = parameters if parameters is not None else AnalysisParameters()
    k = parameters.privacy.min_group_size
    if len(survey) < k:
        raise ValidationError(
            f"the survey has {len(survey)} respondents, fewer than the anonymity threshold {k}; "
            "expected at least k respondents to derive importance weights"
        )
    result = ipa(survey, weights, importance=method, categories=categories, parameters=parameters)
    raw: dict[str, float] = {}
    for row in result.points.itertuples():
        value = float(row.importance) if pd.notna(row.importance) else 0.0
        raw[str(row.category)] = max(value - 1.0, 0.0) if method == "stated" else max(value, 0.0)
    total = sum(raw.values())
    if total <= 0:
        raise ValidationError(
            "no category has positive importance; expected importance answers or a positive "
            "satisfaction correlation for at least one category"
        )
    return {c: v / total for c, v in raw.items()}


def importance_weight_table(
    survey: pd.DataFrame,
    weights: pd.Series | None = None,
    *,
    categories: Sequence[str] | None = None,
    method: ImportanceKind = "stated",
    parameters: AnalysisParameters | None = None,
) -> pd.DataFrame:
    """Return the gap-index category weights with the answers behind each, k-anonymous.

    Assumes the canonical survey table. ``n`` counts the respondents the weight rests on: those
    who answered the importance item (stated), or both the satisfaction item and the overall
    satisfaction / intent question (derived). A category with fewer than k such respondents is
    suppressed *and* weighs 0 (the other weights are renormalised), so no weight shown or used
    rests on fewer than k people; otherwise the weights are those of :func:`importance_weights`.

    Returns
    -------
    pandas.DataFrame
        ``category``, ``weight`` (sums to 1 over the shown rows), ``n``, ``suppressed``.

    Raises
    ------
    ValidationError
        As :func:`importance_weights`, or when every category is suppressed.
    """
    parameters = parameters if parameters is not None else AnalysisParameters()
    chosen = _categories(categories)
    raw = importance_weights(
        survey, weights, categories=chosen, method=method, parameters=parameters
    )
    flags = {}
    for category in chosen:
        if method == "stated":
            flags[category] = survey[imp_column(category)].notna()
        else:
            other = "overall_satisfaction" if method == "derived_overall" else "intent_to_leave"
            flags[category] = survey[sat_column(category)].notna() & survey[other].notna()
    released = releasable(survey, pd.DataFrame(flags), parameters=parameters.privacy)
    counts = [int(released[c].sum()) for c in chosen]
    table = pd.DataFrame({"category": chosen, "weight": [raw[c] for c in chosen], "n": counts})
    table = mark_released(
        suppress_small_groups(
            table, value_columns=["weight"], parameters=parameters.privacy, complementary=False
        )
    )
    total = float(table["weight"].sum(skipna=True))
    if not total > 0:
        raise ValidationError(
            "every category has fewer answers than the anonymity threshold "
            f"{parameters.privacy.min_group_size}; expected at least k answers for one category"
        )
    table["weight"] = table["weight"] / total
    return table


def with_zone(survey: pd.DataFrame, enterprises: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``survey`` with ``zone_id`` taken from each respondent's enterprise."""
    if "zone_id" not in enterprises.columns:
        raise ValidationError("enterprises layer has no zone_id column", column="zone_id")
    zones = dict(
        zip(enterprises["id"].astype(str), enterprises["zone_id"].astype("string"), strict=True)
    )
    out = survey.copy()
    out["zone_id"] = pd.array(
        [zones.get(str(e)) if pd.notna(e) else None for e in out["enterprise_id"]], dtype="string"
    )
    return out


def weighting_table(
    survey: pd.DataFrame,
    weights: pd.Series,
    headcounts: Mapping[str, float],
    *,
    parameters: AnalysisParameters | None = None,
    scope: UserScope | None = None,
) -> pd.DataFrame:
    """Return per-enterprise released respondents, headcount and response rate.

    ``n`` counts released respondents (``retention.survey.disclosure``), so the sheet's counts
    add up to what the other tables count and no total minus the shown rows isolates fewer
    than k people. The weights themselves are not shown: post-stratification weights are
    headcount / respondents and would give away each enterprise's full respondent count.

    Returns
    -------
    pandas.DataFrame
        ``group`` (enterprise id), ``employees``, ``n``, ``response_rate``, ``suppressed``;
        enterprises without k released respondents show only their (public) headcount.
    """
    parameters = parameters if parameters is not None else AnalysisParameters()
    _weights(survey, weights)  # the same alignment check as every other table
    released = releasable(
        survey, _everyone(survey), by="enterprise_id", parameters=parameters.privacy
    )["item"].to_numpy()
    counts = survey["enterprise_id"].astype("string")
    rows = []
    for enterprise_id, employees in sorted(headcounts.items()):
        n = int((counts.eq(str(enterprise_id)).fillna(False).to_numpy() & released).sum())
        rows.append(
            (str(enterprise_id), float(employees), n, n / employees if employees > 0 else np.nan)
        )
    table = pd.DataFrame(rows, columns=["group", "employees", "n", "response_rate"])
    table = suppress_small_groups(
        table,
        value_columns=["response_rate"],
        parameters=parameters.privacy,
        complementary=False,  # the complement rule of retention.survey.disclosure applied above
    )
    return restrict_groups(mark_released(table), scope, by="enterprise_id")


def _require_suppressed(table: pd.DataFrame, name: str) -> None:
    rule = table.attrs.get("suppression", {})
    if not rule.get("disclosure") or "suppressed" not in table.columns:
        raise ValidationError(
            f"table {name!r} has not passed retention.survey.disclosure (released answers) and "
            "retention.survey.privacy.suppress_small_groups; expected every exported aggregate "
            "to be k-anonymous",
            column=name,
        )


def _with_marker(table: pd.DataFrame) -> pd.DataFrame:
    out = table.astype(object).copy()
    value_columns = [
        c for c in out.columns if c not in ("group", "category", "reason", "suppressed")
    ]
    mask = table["suppressed"].to_numpy(dtype=bool)
    for column in value_columns:
        out.loc[mask, column] = SUPPRESSED_MARKER
    return out


def released_table(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """Return a k-anonymous aggregate ready to export: suppressed cells hold the marker ``<k``.

    Raises
    ------
    ValidationError
        If ``table`` did not pass ``retention.survey.disclosure`` and ``suppress_small_groups``.
    """
    _require_suppressed(table, name)
    return _with_marker(table)


def aggregates_xlsx(tables: Mapping[str, pd.DataFrame], *, note: str) -> bytes:
    """Return k-anonymous aggregate tables as one XLSX workbook (one sheet each, plus a note).

    Suppressed cells are written as the marker ``<k``; the ``note`` sheet states the rule, k,
    and what ``note`` says (e.g. that the demo data are synthetic).

    Raises
    ------
    ValidationError
        If a table did not pass ``suppress_small_groups``.
    """
    notes = [note]
    for name, table in tables.items():
        _require_suppressed(table, name)
        rule = table.attrs["suppression"]
        notes.append(f"{name}: {rule['rule']}; {rule['suppressed_rows']} row(s) suppressed")
    sheets = {"note": pd.DataFrame({"note": notes})}
    sheets.update({name: released_table(table, name) for name, table in tables.items()})
    return xlsx_bytes(sheets)


def aggregate_csv(table: pd.DataFrame, *, name: str = "table") -> bytes:
    """Return one k-anonymous aggregate table as UTF-8-BOM CSV (suppressed cells ``<k``)."""
    return csv_bytes(released_table(table, name))
