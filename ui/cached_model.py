"""Cached wrappers for the retention model and the enterprise view.

Keyed on park id + ``data_version`` and frozen parameter objects; the park bundle is passed as an
unhashed ``_park`` argument next to its key. Cached objects are shared by every session: never
mutate them.

The survey is the park's current survey (``ui.cached_survey.current_survey``: its stored waves,
else the bundled synthetic demo workbook), so the model is keyed on its version too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from retention.access.indicators import IndicatorParameters
from retention.access.parameters import TimeWindow, TravelParameters
from retention.data.layers import LayerKind
from retention.errors import ValidationError
from retention.model.intent import DEFAULT_MODEL_CATEGORIES, FittedRetentionModel, default_spec
from retention.model.intent import fit_intent_model as _fit_intent_model
from retention.model.leavers import ConversionParameters, ReplacementCost
from retention.model.peer_benchmark import (
    EnterpriseRetention,
    enterprise_retention,
    model_features,
    residence_access,
)
from retention.model.peer_benchmark import workforce_access as _workforce_access
from retention.storage.park import ParkData
from retention.survey.privacy import PrivacyParameters
from retention.survey.weighting import enterprise_headcounts, survey_weights
from ui import cached_access, cached_survey, state
from ui.cached_parameters import current_parameters

ACCESS_WINDOW = "weekday_evening"


@dataclass(frozen=True, eq=False)
class RetentionInputs:
    """Everything the enterprise view needs for one park.

    Attributes
    ----------
    features
        Respondents with access features and survey weights (``peer_benchmark.model_features``).
    headcounts
        Employees per enterprise id.
    access_columns, sat_columns
        Feature columns of the access and satisfaction terms.
    model
        The fitted intent model, or ``None`` with ``error`` saying why not.
    error
        Why the model could not be fitted (empty when it was).
    survey_origin, survey_waves, survey_version
        Where the survey came from (``stored`` or ``demo``), the stored wave labels used, and
        the survey's version (a cache key).
    travel_parameters, time_windows
        The saved travel parameters and time windows the access features were computed with
        (cache keys of everything derived from these inputs).
    """

    features: pd.DataFrame
    headcounts: dict[str, float]
    access_columns: tuple[str, ...]
    sat_columns: tuple[str, ...]
    model: FittedRetentionModel | None
    error: str
    survey_origin: str = "demo"
    survey_waves: tuple[str, ...] = ()
    survey_version: str = ""
    travel_parameters: TravelParameters = field(default_factory=TravelParameters)
    time_windows: tuple[TimeWindow, ...] = ()


def has_survey(park: ParkData) -> bool:
    """Return whether the park has a worker survey to analyse (stored waves or the demo)."""
    return cached_survey.survey_version(park) != "none"


@st.cache_resource(max_entries=4, show_spinner=False)
def _inputs(
    park_id: str,
    data_version: str,
    survey_version: str,
    data_dir: str,
    travel_parameters: TravelParameters,
    windows: tuple[TimeWindow, ...],
    _park: ParkData,
) -> RetentionInputs:
    current = cached_survey.current_survey(_park)
    survey = current.survey
    enterprises = _park.layer(LayerKind.ENTERPRISES)
    headcounts = enterprise_headcounts(enterprises)
    weights = survey_weights(survey, headcounts).weights
    # The same cached engine run as the Gaps page: computed once per park version.
    travel = cached_access.travel_times(_park, params=travel_parameters, windows=windows)
    access = residence_access(
        travel.minutes_for("walk", ACCESS_WINDOW),
        travel.amenities["category"].to_numpy(),
        travel.origins,
        available=travel.available_mask(ACCESS_WINDOW),
        window=ACCESS_WINDOW,
        model_categories=DEFAULT_MODEL_CATEGORIES,
    )
    features = model_features(survey, access, weights)
    spec = default_spec(weight="weight")
    model: FittedRetentionModel | None = None
    error = ""
    try:
        model = _fit_intent_model(features, spec)
    except ValidationError as exc:  # includes ModelFitError; the page shows the message
        error = str(exc)
    return RetentionInputs(
        features=features,
        headcounts=headcounts,
        access_columns=tuple(c for c in access.columns if c != "residence_id"),
        sat_columns=tuple(f"sat_{c.value}" for c in DEFAULT_MODEL_CATEGORIES),
        model=model,
        error=error,
        survey_origin=current.origin,
        survey_waves=tuple(record.wave for record in current.waves),
        survey_version=current.version,
        travel_parameters=travel_parameters,
        time_windows=windows,
    )


def retention_inputs(park: ParkData) -> RetentionInputs:
    """Return the park's survey features and fitted intent model.

    Built once per park data version, current-survey version (a stored wave replaces the
    demo survey; saving or removing a wave refits the model) and the park's saved travel
    parameters and time windows (``ui.cached_parameters``).
    """
    parameters = current_parameters(park)
    return _inputs(
        park.park_id,
        park.data_version,
        cached_survey.survey_version(park),
        str(state.data_dir()),
        parameters.travel,
        parameters.time_windows,
        park,
    )


@st.cache_data(max_entries=64, show_spinner=False)
def _enterprise(
    park_id: str,
    data_version: str,
    survey_key: str,
    travel_parameters: TravelParameters,
    windows: tuple[TimeWindow, ...],
    enterprise_id: str,
    conversion: ConversionParameters,
    cost: ReplacementCost,
    privacy: PrivacyParameters,
    _inputs: RetentionInputs,
) -> EnterpriseRetention:
    # The travel parameters and windows are keys because ``_inputs`` (its features and model)
    # depends on them and is not hashed: a new saved walking speed must refit, not hit.
    if _inputs.model is None:
        raise ValueError("no fitted model")
    return enterprise_retention(
        _inputs.model,
        _inputs.features,
        enterprise_id,
        _inputs.headcounts.get(enterprise_id, 0.0),
        conversion=conversion,
        cost=cost,
        privacy=privacy,
    )


def enterprise(
    park: ParkData,
    inputs: RetentionInputs,
    enterprise_id: str,
    *,
    conversion: ConversionParameters,
    cost: ReplacementCost,
    privacy: PrivacyParameters | None = None,
) -> EnterpriseRetention:
    """Return one enterprise's intent, leavers and drivers (``enterprise_retention``), cached.

    ``privacy`` defaults to the park's saved anonymity threshold (``ui.cached_parameters``).
    Keyed on everything ``inputs`` was built from (data and survey versions, travel parameters
    and time windows), so figures follow a newly saved parameter.
    """
    if privacy is None:
        privacy = current_parameters(park).privacy
    return _enterprise(
        park.park_id,
        park.data_version,
        inputs.survey_version,
        inputs.travel_parameters,
        inputs.time_windows,
        enterprise_id,
        conversion,
        cost,
        privacy,
        inputs,
    )


@st.cache_data(max_entries=64, show_spinner=False)
def _workforce(
    park_id: str,
    data_version: str,
    enterprise_id: str,
    parameters: IndicatorParameters,
    travel_parameters: TravelParameters,
    windows: tuple[TimeWindow, ...],
    _park: ParkData,
) -> pd.DataFrame:
    indicators = cached_access.indicators(
        _park,
        mode="walk",
        window=ACCESS_WINDOW,
        parameters=parameters,
        params=travel_parameters,
        windows=windows,
    )
    return _workforce_access(
        indicators.nearest,
        indicators.origins,
        enterprise_id,
        categories=DEFAULT_MODEL_CATEGORIES,
    )


def workforce_access(park: ParkData, enterprise_id: str) -> pd.DataFrame:
    """Return evening walking minutes at the enterprise and in its dormitories, cached.

    ``retention.model.peer_benchmark.workforce_access`` on the Gaps page's cached indicators (walk,
    weekday evening) with the park's saved parameters, so no travel times are recomputed.
    """
    saved = current_parameters(park)
    return _workforce(
        park.park_id,
        park.data_version,
        enterprise_id,
        saved.indicator_parameters(),
        saved.travel,
        saved.time_windows,
        park,
    )
