"""The Gaps page's tables: indicator values in the interface language, ranked worst first.

Every function takes the origin table of a ``retention.access.travel_times.TravelTimeResult`` (or of
``retention.access.indicators.ParkIndicators``, the same rows) and one indicator value per origin,
and
returns a frame ready to display: column names and cells are translated, numbers formatted.
Inputs are never modified.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from retention.access.gaps import aggregate_by_group
from retention.access.origins import ZONE_COLUMNS
from retention.auth.roles import scope_enterprise_ids
from retention.data.layers import ZoneLevel
from retention.errors import ParameterError
from retention.i18n import label, t
from retention.survey.privacy import SUPPRESSED_MARKER

LOWER_IS_BETTER: frozenset[str] = frozenset({"nearest", "gap_index"})
"""Indicators where a smaller value is better; for the others (counts, supply, compliance) a
larger value is better."""

PEOPLE_SETS: tuple[str, ...] = ("residence", "enterprise")
"""Origin sets that stand for people: residents at home (the GB 50180 living-circle basis, the
default) and employees at their workplace. The two are the same people seen twice (a worker in a
dormitory is both), so people-weighted figures use one set at a time, never their sum; H3 cells
are a map grid and stand for nobody."""

_NO_DATA = "–"
_UNRANKED = 1e12  # sorts unreachable origins (inf) after every finite value


def format_value(value: float, indicator: str, *, lang: str) -> str:
    """Return one indicator value as the page shows it.

    Assumes NaN means "no value" (an origin that could not be placed) and ``inf`` unreachable.

    Parameters
    ----------
    value
        The indicator value.
    indicator
        One of ``retention.access.indicators.INDICATORS``.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    str
        ``"–"``, "unreachable", yes/no for living-circle compliance, 3 decimals for E2SFCA supply,
        else 1 decimal with thousands separators.
    """
    number = float(value)
    if np.isnan(number):
        return _NO_DATA
    if np.isinf(number):
        return t("gaps.unreachable", lang)
    if indicator == "living_circle":
        return t("gaps.yes", lang) if number >= 0.5 else t("gaps.no", lang)
    return f"{number:,.3f}" if indicator == "e2sfca" else f"{number:,.1f}"


def _aligned(origins: pd.DataFrame, values: pd.Series) -> pd.Series:
    if not values.index.equals(origins.index):
        raise ParameterError(
            f"needs one value per origin with the origins' index ({len(origins)} rows), "
            f"got {len(values)} values",
            column="values",
        )
    return values.astype(float)


def worst_served(
    origins: pd.DataFrame,
    values: pd.Series,
    *,
    origin_set: str,
    indicator: str,
    unit: str,
    lang: str,
    user_scope: str | None,
    min_group_size: int,
    limit: int = 10,
) -> pd.DataFrame:
    """Return the worst-served origins of one set: name, people and the formatted value.

    Assumes ``origins`` has ``origin_set``, ``origin_id``, ``name`` and ``weight`` (people) and
    ``values`` shares its index. Unreachable origins rank worst when lower is better and best
    otherwise, as their value (``inf``) says; NaN values rank last.

    Enterprises follow the user's scope: an HR scope sees its own enterprises' rows and a viewer
    none; every other firm counts only in one last row, their people-weighted median and
    people summed, shown when there are at least ``min_group_size`` of them (no firm is named
    or can be told apart). Planners, admins (``"all"``) and the operator (``None``) see all.

    Parameters
    ----------
    origins
        Origins of the park.
    values
        One indicator value per origin.
    origin_set
        ``"residence"`` or ``"enterprise"``.
    indicator
        The indicator the values are (sets the order and the format).
    unit
        Header of the value column (the indicator's unit).
    lang
        ``"en"`` or ``"zh"``.
    user_scope
        The run key's ``user_scope`` (``retention.auth.roles.UserScope.canonical``).
    min_group_size
        The anonymity threshold k: fewest other firms in the aggregate row.
    limit
        Rows to return.

    Returns
    -------
    pandas.DataFrame
        At most ``limit`` rows, worst first (the aggregate of other firms last).
    """
    values = _aligned(origins, values)
    rows = origins[origins["origin_set"] == origin_set]
    hidden = rows.iloc[:0]
    own = scope_enterprise_ids(user_scope)
    if origin_set == "enterprise" and own is not None:
        mine = rows["origin_id"].astype(str).isin(own).to_numpy()
        rows, hidden = rows.loc[mine], rows.loc[~mine]
    chosen = values.loc[rows.index]
    order = chosen.replace(np.inf, _UNRANKED).sort_values(
        ascending=indicator not in LOWER_IS_BETTER, kind="stable"
    )
    ranked = rows.loc[order.index]
    names = ranked["name"].astype(str).tolist()
    people = ranked["weight"].astype(int).tolist()
    shown = [format_value(v, indicator, lang=lang) for v in chosen.loc[order.index]]
    if len(hidden) >= max(min_group_size, 1):
        names.append(t("scope.other_enterprises", lang, n=len(hidden)))
        people.append(int(hidden["weight"].sum()))
        median = weighted_median(values.loc[hidden.index], hidden["weight"])
        shown.append(format_value(median, indicator, lang=lang))
    return pd.DataFrame(
        {
            t("gaps.column.name", lang): names,
            t("gaps.column.people", lang): pd.array(people, dtype="int64"),
            unit: shown,
        }
    ).head(limit)


def weighted_median(values: pd.Series, weights: pd.Series) -> float:
    """Return the smallest value at which the weights reached, in value order, are half the
    total (NaN values are left out; ``inf`` sorts last; NaN when nothing is left)."""
    frame = pd.DataFrame(
        {"value": values.astype(float).to_numpy(), "weight": weights.astype(float).to_numpy()}
    ).dropna()
    if frame.empty or frame["weight"].sum() <= 0:
        return float("nan")
    frame = frame.sort_values("value", kind="stable")
    reached = frame["weight"].cumsum().to_numpy()
    return float(frame["value"].to_numpy()[np.searchsorted(reached, reached[-1] / 2)])


def _people_set(origin_set: str) -> str:
    if origin_set not in PEOPLE_SETS:
        raise ParameterError(
            f"unknown people basis {origin_set!r}; expected one of {', '.join(PEOPLE_SETS)}",
            column="origin_set",
        )
    return origin_set


def people_values(
    origins: pd.DataFrame, values: pd.Series, *, origin_set: str = "residence"
) -> pd.DataFrame:
    """Return the value and people of every origin of one people set (``PEOPLE_SETS``).

    Assumes residents and employees are the same people counted at home and at work, so only
    one set is returned: residents at home by default (the GB 50180 living-circle basis).

    Parameters
    ----------
    origins
        Origins of the park (``origin_set``, ``weight``).
    values
        One indicator value per origin (same index).
    origin_set
        ``"residence"`` (residents at home) or ``"enterprise"`` (employees at their workplace).

    Returns
    -------
    pandas.DataFrame
        ``value``, ``people``, indexed like ``origins``.

    Raises
    ------
    ParameterError
        When ``origin_set`` is not a people set or ``values`` does not align with ``origins``.
    """
    chosen = _people_set(origin_set)
    values = _aligned(origins, values)
    rows = origins[origins["origin_set"] == chosen]
    return pd.DataFrame(
        {"value": values.loc[rows.index], "people": rows["weight"].astype(float)},
        index=rows.index,
    )


def distribution(
    origins: pd.DataFrame, values: pd.Series, *, origin_set: str = "residence"
) -> tuple[pd.DataFrame, int]:
    """Return the people-weighted distribution of reachable values and who cannot reach at all.

    Assumes one people set at a time (see :func:`people_values`), so nobody is counted twice.

    Parameters
    ----------
    origins
        Origins of the park.
    values
        One indicator value per origin (same index).
    origin_set
        ``"residence"`` (residents at home, the default) or ``"enterprise"`` (employees at their
        workplace).

    Returns
    -------
    tuple
        ``value``, ``people`` of every origin of the set with a finite value, and the number of
        its people (rounded down) whose value is not finite (unreachable or unplaced).
    """
    frame = people_values(origins, values, origin_set=origin_set)
    finite = np.isfinite(frame["value"].to_numpy())
    return frame.loc[finite], int(frame.loc[~finite, "people"].sum())


def zone_ranking(
    origins: pd.DataFrame,
    values: pd.Series,
    *,
    indicator: str,
    zone_level: ZoneLevel | str,
    zones: gpd.GeoDataFrame | None,
    unit: str,
    lang: str,
    max_minutes: float,
    origin_set: str = "residence",
    limit: int = 10,
) -> pd.DataFrame:
    """Return the zones of one level, worst first, by the people-weighted mean of the indicator.

    Assumes residents count at home and employees at work, and that they are largely the same
    people: the mean is weighted by one set (``origin_set``) and the zone's residents and
    workers are shown side by side, never summed. For ``nearest`` an unreachable category
    counts as ``max_minutes`` (the engine's limit), so a zone's mean stays finite; compliance
    means are shown as the share of people. A zone without people of the chosen set has no
    mean ("–") and ranks last.

    Parameters
    ----------
    origins
        Origins of the park with the zone columns of ``retention.access.origins.ZONE_COLUMNS``.
    values
        One indicator value per origin (same index).
    indicator
        The indicator the values are.
    zone_level
        Which zone level to rank.
    zones
        The zones layer (``id``, ``name``, optional ``name_en``) for zone names, if any.
    unit
        Header of the value column.
    lang
        ``"en"`` or ``"zh"``.
    max_minutes
        Minutes an unreachable category counts as for ``nearest``.
    origin_set
        People the mean is weighted by: ``"residence"`` (residents at home, the default) or
        ``"enterprise"`` (employees at their workplace).
    limit
        Rows to return.

    Returns
    -------
    pandas.DataFrame
        Zone name (origins outside every zone form one row), residents, workers and the
        formatted mean.
    """
    chosen = _people_set(origin_set)
    values = _aligned(origins, values)
    column = ZONE_COLUMNS[ZoneLevel(zone_level)]
    rows = origins[origins["origin_set"].isin(PEOPLE_SETS)]
    capped = values.loc[rows.index]
    if indicator == "nearest":
        capped = capped.clip(upper=max_minutes)
    sets = rows["origin_set"].to_numpy()
    in_basis = sets == chosen
    people = rows["weight"].astype(float).to_numpy()
    # The other set weighs 0 in the mean but still makes its zone a row (with no mean); its
    # values are zeroed so an unreachable (inf) one cannot turn 0 x inf into NaN.
    means = aggregate_by_group(
        pd.DataFrame({"value": np.where(in_basis, capped.to_numpy(), 0.0)}),
        np.where(in_basis, people, 0.0),
        rows[column].to_numpy(),
        group_name="zone",
    )
    totals = (
        pd.DataFrame(
            {people_set: np.where(sets == people_set, people, 0.0) for people_set in PEOPLE_SETS}
        )
        .groupby(pd.Series(rows[column].to_numpy(), name="zone"), dropna=False, sort=True)
        .sum()
    )
    names = feature_names(zones, lang)
    outside = t("gaps.no_zone", lang)
    ascending = indicator not in LOWER_IS_BETTER
    order = (
        means["value"]
        .fillna(_UNRANKED if ascending else -1.0)
        .reset_index(drop=True)
        .sort_values(ascending=ascending, kind="stable")
        .index
    )
    ranked = means.iloc[order]
    residents, workers = (totals[people_set].iloc[order] for people_set in PEOPLE_SETS)
    return pd.DataFrame(
        {
            t("gaps.column.zone", lang): [
                names.get(str(zone), outside) if isinstance(zone, str) else outside
                for zone in ranked.index
            ],
            t("gaps.column.residents", lang): residents.astype(int).to_numpy(),
            t("gaps.column.workers", lang): workers.astype(int).to_numpy(),
            unit: [
                f"{value:.0%}"
                if indicator == "living_circle" and np.isfinite(value)
                else format_value(value, indicator, lang=lang)
                for value in ranked["value"]
            ],
        }
    ).head(limit)


def feature_names(layer: gpd.GeoDataFrame | None, lang: str) -> Mapping[str, str]:
    """Return each feature's display name by id (``name_en`` in English when given, else ``name``).

    Works for any layer with ``id`` and ``name`` columns (zones, enterprises, residences).
    """
    if layer is None or layer.empty:
        return {}
    names: dict[str, str] = {}
    english = layer["name_en"] if "name_en" in layer.columns else [None] * len(layer)
    for feature_id, name, name_en in zip(layer["id"], layer["name"], english, strict=True):
        use_english = lang == "en" and isinstance(name_en, str) and name_en.strip()
        names[str(feature_id)] = str(name_en) if use_english else str(name)
    return names


def compliance_table(compliance: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """Return the living-circle compliance table: category, tier, share, people, clause.

    Assumes ``compliance`` is ``ParkIndicators.compliance`` (index: category; ``tier``,
    ``share``, ``people_within``, ``clause``, ``verify``). A clause to verify against the official
    text of the standard is flagged with ✱.

    Parameters
    ----------
    compliance
        People-weighted compliance per category.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    pandas.DataFrame
        One row per category.
    """
    return pd.DataFrame(
        {
            t("gaps.column.category", lang): [
                label("category", str(c), lang) for c in compliance.index
            ],
            t("gaps.column.tier", lang): [
                t(f"gaps.tier.{tier}", lang) for tier in compliance["tier"]
            ],
            t("gaps.column.share", lang): [
                _NO_DATA if np.isnan(share) else f"{share:.0%}" for share in compliance["share"]
            ],
            t("gaps.column.people_within", lang): compliance["people_within"]
            .astype(int)
            .to_numpy(),
            t("gaps.column.clause", lang): [
                str(clause) + (" ✱" if verify else "")
                for clause, verify in zip(compliance["clause"], compliance["verify"], strict=True)
            ],
        }
    )


def weights_table(
    table: pd.DataFrame | None,
    *,
    categories: tuple[str, ...] | list[str],
    method: str,
    origin: str,
    respondents: int,
    min_group_size: int,
    lang: str,
) -> pd.DataFrame:
    """Return the gap index's category weights with the answers behind each and their source.

    Assumes ``table`` is ``retention.survey.analysis.importance_weight_table``'s output
    (``category``, ``weight``, ``n``, ``suppressed``), or ``None`` for equal weights. Categories
    under the anonymity threshold show the suppression marker and weigh 0.

    Parameters
    ----------
    table
        Survey weights, or ``None`` for equal weights.
    categories
        Every category (equal weights are 1 / their number).
    method
        ``"equal"``, ``"stated"`` or ``"derived"``.
    origin
        Where the survey came from: ``"stored"`` or ``"demo"``.
    respondents
        Respondents the weights rest on.
    min_group_size
        The anonymity threshold k (named in the note of hidden rows).
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    pandas.DataFrame
        Columns category, weight, n, source (translated headers).
    """
    if table is None:
        count = len(categories)
        rows = pd.DataFrame(
            {
                "category": list(categories),
                "weight": [f"{1 / count:.3f}"] * count,
                "n": [_NO_DATA] * count,
                "source": [t("gaps.weights.source.equal", lang)] * count,
            }
        )
    else:
        survey_name = t(f"gaps.weights.survey.{origin}", lang, n=f"{respondents:,}")
        source = t(f"gaps.weights.source.{method}", lang, survey=survey_name)
        hidden = table["suppressed"].to_numpy(dtype=bool)
        rows = pd.DataFrame(
            {
                "category": table["category"].astype(str).to_numpy(),
                "weight": np.where(
                    hidden, SUPPRESSED_MARKER, [f"{w:.3f}" for w in table["weight"].fillna(0.0)]
                ),
                "n": np.where(
                    hidden, SUPPRESSED_MARKER, [f"{n:,.0f}" for n in table["n"].fillna(0)]
                ),
                "source": np.where(
                    hidden, t("gaps.weights.hidden", lang, k=min_group_size), source
                ),
            }
        )
    rows["category"] = [label("category", c, lang) for c in rows["category"]]
    return rows.rename(columns={c: t(f"gaps.weights.col.{c}", lang) for c in rows.columns})


def origin_row(origins: pd.DataFrame, origin_set: str, origin_id: str) -> int:
    """Return the row label of one origin.

    Raises
    ------
    ParameterError
        When no origin of ``origin_set`` has ``origin_id``.
    """
    match = origins.index[
        (origins["origin_set"] == origin_set) & (origins["origin_id"].astype(str) == origin_id)
    ]
    if not len(match):
        raise ParameterError(f"no {origin_set} with id {origin_id!r}", column="origin_id")
    return int(match[0])


def reached_amenities(
    amenities: pd.DataFrame,
    minutes: np.ndarray,
    *,
    lang: str,
    within_minutes: float = 15.0,
) -> pd.DataFrame:
    """Return the amenities one origin reaches within ``within_minutes``, nearest first.

    Parameters
    ----------
    amenities
        The amenities table of the travel-time result (``name``, ``category``).
    minutes
        Minutes from the origin to each amenity, ``inf`` where the amenity does not count
        (closed in the window, reserved for another enterprise, unreachable).
    lang
        ``"en"`` or ``"zh"``.
    within_minutes
        Time budget; 15 minutes is the largest GB 50180-2018 living circle.

    Returns
    -------
    pandas.DataFrame
        Name, category and minutes (one decimal).
    """
    minutes = np.asarray(minutes, dtype=float)
    if minutes.shape != (len(amenities),):
        raise ParameterError(
            f"needs one travel time per amenity ({len(amenities)}), got shape {minutes.shape}",
            column="minutes",
        )
    reached = amenities.assign(minutes=minutes)[minutes <= within_minutes]
    reached = reached.sort_values("minutes", kind="stable")
    return pd.DataFrame(
        {
            t("gaps.column.name", lang): reached["name"].astype(str).to_numpy(),
            t("gaps.column.category", lang): [
                label("category", str(c), lang) for c in reached["category"]
            ],
            t("gaps.column.minutes", lang): reached["minutes"].round(1).to_numpy(),
        }
    )


def gap_contributions(gap: pd.DataFrame, row: int, *, lang: str) -> pd.Series:
    """Return one origin's weighted contribution per category to its gap index.

    Parameters
    ----------
    gap
        ``ParkIndicators.gap``: ``gap_index`` then one contribution column per category.
    row
        The origin's row label.
    lang
        ``"en"`` or ``"zh"`` (category names in the index).

    Returns
    -------
    pandas.Series
        Contributions indexed by category name.
    """
    contributions = gap.loc[row].drop("gap_index")
    return pd.Series(
        contributions.to_numpy(dtype=float),
        index=[label("category", str(c), lang) for c in contributions.index],
        name=t("gaps.contribution", lang),
    )
