"""One enterprise against anonymised park peers: access, satisfaction, intent and its drivers.

What an HR manager sees of their own workforce, next to the park mean and the band of peer
enterprises (25th–75th percentile of enterprise means). Other enterprises are never named.
Every statistic counts only the answers ``retention.survey.disclosure.releasable`` releases
(enterprise-waves with at least k answers, complement per wave): the park mean leaves out exactly
the enterprises whose own figures are suppressed, so park mean, peers and headcounts never give
a suppressed firm's answers. An enterprise without k released answers gets no figures at all
(``retention.survey.privacy.suppress_small_groups``); a peer band needs at least ``MIN_PEERS``
peer enterprises that themselves clear k, so that it cannot reveal one firm; a user sees only
the enterprises their scope allows (``retention.auth.roles.UserScope``).

Also builds the model's feature table: survey respondents joined with access minutes per
residence from the travel-time engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from retention.access.gaps import aggregate_by_group
from retention.access.measures import nearest_minutes
from retention.auth.roles import UserScope
from retention.data.layers import AmenityCategory
from retention.errors import ValidationError
from retention.model.intent import (
    ACCESS_MODE,
    ACCESS_WINDOW,
    FittedRetentionModel,
    access_column,
    merge_access,
)
from retention.model.leavers import (
    ConversionParameters,
    LeaversEstimate,
    ReplacementCost,
    leavers_by_enterprise,
)
from retention.survey.disclosure import mark_released, releasable
from retention.survey.privacy import PrivacyParameters, suppress_small_groups
from retention.survey.schema import sat_column

MIN_PEERS = 3  # a band over fewer firms would let a reader bound a single firm's figure
CAP_MINUTES = 60.0  # beyond an hour's walk an amenity is "not reachable"; the model sees 60

WEIGHT_COLUMN = "weight"


def residence_access(
    minutes: np.ndarray,
    categories: Sequence[str],
    origins: pd.DataFrame,
    *,
    available: np.ndarray | None = None,
    mode: str = ACCESS_MODE,
    window: str = ACCESS_WINDOW,
    model_categories: Sequence[AmenityCategory | str],
    cap_minutes: float = CAP_MINUTES,
) -> pd.DataFrame:
    """Return minutes to the nearest amenity of each category per residence, as model features.

    Assumes ``minutes`` is the engine's origins × amenities matrix for ``mode`` in ``window``
    (``TravelTimeResult.minutes_for``) with ``available`` its mask, and ``origins`` its origin
    table (``origin_set``, ``origin_id``). Unreachable or absent categories are capped at
    ``cap_minutes`` (the model needs a finite value; "more than an hour" is treated as an hour).

    Parameters
    ----------
    minutes, categories, origins, available
        Engine output: matrix, amenity category per column, origin rows, availability mask.
    mode, window
        Which matrix this is (names the columns, see ``retention.model.intent.access_column``).
    model_categories
        Categories to report.
    cap_minutes
        Upper cap.

    Returns
    -------
    pandas.DataFrame
        ``residence_id`` and one ``<mode>_<window>_minutes_<category>`` column per category.
    """
    if "origin_set" not in origins.columns or "origin_id" not in origins.columns:
        raise ValidationError("origins lack 'origin_set'/'origin_id'", column="origin_set")
    rows = np.flatnonzero((origins["origin_set"] == "residence").to_numpy())
    order = [AmenityCategory(c).value for c in model_categories]
    mask = None
    if available is not None:
        mask = available[rows] if np.ndim(available) == 2 else available
    nearest = nearest_minutes(
        np.asarray(minutes)[rows],
        np.asarray(categories, dtype=object),
        available=mask,
        category_order=order,
    )
    table = pd.DataFrame({"residence_id": origins["origin_id"].iloc[rows].astype(str).to_numpy()})
    for category in order:
        values = nearest[(category, 1)].to_numpy(dtype=float)
        values = np.where(np.isfinite(values), values, cap_minutes)
        table[access_column(category, mode=mode, window=window)] = np.minimum(values, cap_minutes)
    return table


def model_features(
    survey: pd.DataFrame, access: pd.DataFrame, weights: pd.Series | None = None
) -> pd.DataFrame:
    """Return survey respondents with access features (by residence) and a ``weight`` column.

    Respondents without a residence, or with one the access table lacks, get missing access
    features and are left out of a complete-case fit (and counted there).
    """
    frame = merge_access(survey, access, key="residence_id")
    frame[WEIGHT_COLUMN] = 1.0 if weights is None else weights.reindex(survey.index).to_numpy()
    return frame


@dataclass(frozen=True)
class BenchmarkParameters:
    """Options of the peer benchmark.

    Parameters
    ----------
    privacy
        Anonymity threshold k (DESIGN.md: default 5).
    band
        Lower and upper percentile of the peer band.
    """

    privacy: PrivacyParameters = PrivacyParameters()  # noqa: RUF009 - frozen, hashable value
    band: tuple[float, float] = (25.0, 75.0)


def _group_means(frame: pd.DataFrame, columns: Sequence[str], weights: np.ndarray) -> pd.DataFrame:
    """Weighted mean and respondent count of each column per enterprise (long table)."""
    rows = []
    ids = frame["enterprise_id"].astype(str).to_numpy()
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        answered = ~np.isnan(values)
        for enterprise in np.unique(ids):
            members = (ids == enterprise) & answered
            n = int(members.sum())
            mean = float(np.average(values[members], weights=weights[members])) if n else np.nan
            rows.append((column, enterprise, n, mean))
    return pd.DataFrame(rows, columns=["item", "enterprise_id", "n", "mean"])


def peer_benchmark(
    frame: pd.DataFrame,
    enterprise_id: str,
    columns: Sequence[str],
    *,
    parameters: BenchmarkParameters | None = None,
    scope: UserScope | None = None,
) -> pd.DataFrame:
    """Compare one enterprise's mean of each column with the park mean and the peer band.

    Assumes one row per respondent with ``enterprise_id``, optionally ``wave`` and ``weight``.
    Every mean counts released answers only (module docstring).

    Parameters
    ----------
    frame
        Respondents (survey answers or model features).
    enterprise_id
        The enterprise shown.
    columns
        Numeric columns to compare (e.g. ``sat_<category>`` or access minutes).
    parameters
        Privacy threshold and band.
    scope
        The signed-in user (``None``: the server operator); ``AccessDeniedError`` if they may
        not see ``enterprise_id``.

    Returns
    -------
    pandas.DataFrame
        One row per column: ``item``, ``n`` (this enterprise's answers), ``mean``, ``park_mean``,
        ``park_n``, ``peer_low``, ``peer_high``, ``n_peers``, ``suppressed`` (this enterprise
        below k: ``n`` and ``mean`` blanked). The band is NaN with fewer than ``MIN_PEERS``
        peers at or above k.
    """
    parameters = BenchmarkParameters() if parameters is None else parameters
    if scope is not None:
        scope.require_enterprise(enterprise_id)
    k = parameters.privacy.min_group_size
    if "enterprise_id" not in frame.columns:
        raise ValidationError("respondents lack 'enterprise_id'", column="enterprise_id")
    columns = list(columns)
    values_of = {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in columns}
    answered = pd.DataFrame({c: ~np.isnan(v) for c, v in values_of.items()}, index=frame.index)
    # Enterprise means and peers: enterprise cells; park mean: the park as one cell. Both count
    # released answers only, so the park mean leaves out exactly the suppressed enterprises.
    by_enterprise = releasable(frame, answered, by="enterprise_id", parameters=parameters.privacy)
    park_level = releasable(frame, answered, parameters=parameters.privacy)
    released = frame.copy()
    for column in columns:
        released[column] = np.where(by_enterprise[column], values_of[column], np.nan)
    weights = (
        pd.to_numeric(frame[WEIGHT_COLUMN], errors="coerce").fillna(1.0).to_numpy(dtype=float)
        if WEIGHT_COLUMN in frame.columns
        else np.ones(len(frame))
    )
    means = _group_means(released, columns, weights)
    rows = []
    for column in columns:
        of_item = means.loc[means["item"] == column]
        own = of_item.loc[of_item["enterprise_id"] == str(enterprise_id)]
        peers = of_item.loc[(of_item["enterprise_id"] != str(enterprise_id)) & (of_item["n"] >= k)]
        values = values_of[column]
        counted = park_level[column].to_numpy()
        park_n = int(counted.sum())
        park_mean = (
            float(np.average(values[counted], weights=weights[counted])) if park_n else np.nan
        )
        band = (
            np.percentile(peers["mean"].to_numpy(), parameters.band)
            if len(peers) >= MIN_PEERS
            else (np.nan, np.nan)
        )
        rows.append(
            {
                "item": column,
                "n": int(own["n"].iloc[0]) if len(own) else 0,
                "mean": float(own["mean"].iloc[0]) if len(own) else np.nan,
                "park_mean": park_mean,
                "park_n": park_n,
                "peer_low": float(band[0]),
                "peer_high": float(band[1]),
                "n_peers": len(peers),
            }
        )
    table = pd.DataFrame(rows)
    # The park mean counts released answers only, so no complement is needed: the blanked cell
    # is one enterprise's own figure, and its answers are in no other published figure.
    return mark_released(
        suppress_small_groups(
            table, value_columns=["mean"], parameters=parameters.privacy, complementary=False
        )
    )


def satisfaction_columns(categories: Sequence[AmenityCategory | str]) -> list[str]:
    """Return ``sat_<category>`` columns for ``categories``."""
    return [sat_column(c) for c in categories]


@dataclass(frozen=True, eq=False)
class EnterpriseRetention:
    """Predicted intent, expected leavers and drivers of one enterprise (privacy applied).

    Attributes
    ----------
    enterprise_id
        The enterprise.
    n_respondents
        Its respondents with every predictor present.
    suppressed
        True when ``n_respondents`` is below k: no figure below may be shown.
    leavers
        ``leavers_by_enterprise`` row of this enterprise (empty when suppressed).
    drivers
        ``FittedRetentionModel.drivers`` of its respondents (empty when suppressed).
    """

    enterprise_id: str
    n_respondents: int
    suppressed: bool
    leavers: pd.Series
    drivers: pd.DataFrame


def enterprise_retention(
    model: FittedRetentionModel,
    features: pd.DataFrame,
    enterprise_id: str,
    headcount: float,
    *,
    conversion: ConversionParameters | None = None,
    cost: ReplacementCost | None = None,
    privacy: PrivacyParameters | None = None,
    n_draws: int = 1000,
    seed: int = 0,
    scope: UserScope | None = None,
) -> EnterpriseRetention:
    """Return one enterprise's predicted intent share, leavers per year with cost, and drivers.

    Assumes ``features`` is the park's model feature table (``model_features``). The drivers
    compare the enterprise with the park average the model was fitted on.

    ``scope`` is the signed-in user (``None``: the server operator); ``AccessDeniedError`` if
    they may not see ``enterprise_id``.

    Returns
    -------
    EnterpriseRetention
        Suppressed (no figures) when fewer than k of its respondents have every predictor.
    """
    if scope is not None:
        scope.require_enterprise(enterprise_id)
    privacy = PrivacyParameters() if privacy is None else privacy
    own = features.loc[features["enterprise_id"].astype(str) == str(enterprise_id)]
    _, complete = model.design(own)
    n = int(complete.sum())
    if n < privacy.min_group_size:
        return EnterpriseRetention(
            str(enterprise_id), n, True, pd.Series(dtype=float), pd.DataFrame()
        )
    estimate: LeaversEstimate = leavers_by_enterprise(
        model,
        own,
        {str(enterprise_id): headcount},
        conversion=conversion,
        cost=cost,
        n_draws=n_draws,
        seed=seed,
    )
    return EnterpriseRetention(
        enterprise_id=str(enterprise_id),
        n_respondents=n,
        suppressed=False,
        leavers=estimate.by_enterprise.iloc[0],
        drivers=model.drivers(own),
    )


WORKFORCE_PLACES: tuple[str, ...] = ("workplace", "dormitories")
"""Where an enterprise's workforce is: the workplace itself and the residences it houses."""


def workforce_access(
    nearest: pd.DataFrame,
    origins: pd.DataFrame,
    enterprise_id: str,
    *,
    categories: Sequence[AmenityCategory | str],
    cap_minutes: float = CAP_MINUTES,
) -> pd.DataFrame:
    """Return minutes to the nearest amenity of each category at an enterprise and its dorms.

    Assumes ``nearest`` is ``ParkIndicators.nearest`` (origins x categories, ``inf`` when none is
    reachable) with the rows of ``origins`` (``origin_set``, ``origin_id``, ``weight`` people,
    ``enterprise_id``: a residence's ``enterprise_id`` marks it as that enterprise's dormitory).
    Unreachable is capped at ``cap_minutes`` (as for the model, see ``residence_access``) so the
    people-weighted mean over dormitories (``retention.access.gaps.aggregate_by_group``) stays
    finite.
    These are layer figures, not survey answers: no k-anonymity applies.

    Parameters
    ----------
    nearest
        Minutes to the nearest available amenity per origin and category.
    origins
        The origin table of the same indicators.
    enterprise_id
        The enterprise.
    categories
        Categories to report, in order.
    cap_minutes
        Upper cap of a travel time.

    Returns
    -------
    pandas.DataFrame
        Index ``WORKFORCE_PLACES`` (a place the enterprise lacks is absent); columns ``people``
        (employees at the workplace, residents of the dormitories), ``sites`` and one column of
        minutes per category.
    """
    for column in ("origin_set", "origin_id", "weight", "enterprise_id"):
        if column not in origins.columns:
            raise ValidationError(f"origins lack {column!r}", column=column)
    if not nearest.index.equals(origins.index):
        raise ValidationError(
            "nearest minutes and origins must have the same rows in the same order",
            column="nearest",
        )
    order = [AmenityCategory(c).value for c in categories]
    linked = origins["enterprise_id"].astype("string").eq(str(enterprise_id)).fillna(False)
    workplace = (origins["origin_set"] == "enterprise") & (
        origins["origin_id"].astype(str) == str(enterprise_id)
    )
    dormitory = (origins["origin_set"] == "residence") & linked
    place = np.where(workplace, WORKFORCE_PLACES[0], np.where(dormitory, WORKFORCE_PLACES[1], ""))
    rows = place != ""
    minutes = nearest.loc[rows, order].astype(float).clip(upper=cap_minutes)
    minutes = minutes.where(np.isfinite(minutes), cap_minutes)
    people = origins.loc[rows, "weight"].astype(float).to_numpy()
    table = aggregate_by_group(minutes, people, place[rows], group_name="place")
    table["sites"] = pd.Series(place[rows]).value_counts().reindex(table.index).to_numpy()
    ordered = [p for p in WORKFORCE_PLACES if p in table.index]
    return table.loc[ordered, ["people", "sites", *order]]
