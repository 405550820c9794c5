"""Cached wrappers for the retention model and the enterprise view.

Keyed on park id + ``data_version`` and frozen parameter objects; the park bundle is passed as an
unhashed ``_park`` argument next to its key. Cached objects are shared by every session: never
mutate them.

The survey is the park's demo workbook (``geodata/<park_id>/survey_wjx.xlsx``) when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from retention.errors import ValidationError
from retention.layers import LayerKind
from retention.leavers import ConversionParameters, ReplacementCost
from retention.model import DEFAULT_MODEL_CATEGORIES, FittedRetentionModel, default_spec
from retention.model import fit_intent_model as _fit_intent_model
from retention.park import ParkData
from retention.peer_benchmark import (
    EnterpriseRetention,
    enterprise_retention,
    model_features,
    residence_access,
)
from retention.privacy import load_or_create_salt
from retention.survey_import import import_survey, read_survey_file
from retention.weighting import enterprise_headcounts, survey_weights
from ui import cached_access, state

DEMO_SURVEY_FILE = "survey_wjx.xlsx"
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
    """

    features: pd.DataFrame
    headcounts: dict[str, float]
    access_columns: tuple[str, ...]
    sat_columns: tuple[str, ...]
    model: FittedRetentionModel | None
    error: str


def _survey_path(park_id: str) -> Path:
    return state.REPO / "geodata" / park_id / DEMO_SURVEY_FILE


def has_survey(park: ParkData) -> bool:
    """Return whether the park has a worker survey to analyse."""
    return _survey_path(park.park_id).exists()


@st.cache_resource(max_entries=4, show_spinner=False)
def _inputs(park_id: str, data_version: str, data_dir: str, _park: ParkData) -> RetentionInputs:
    data = _survey_path(park_id).read_bytes()
    raw = read_survey_file(data, file_name=DEMO_SURVEY_FILE)
    enterprises = _park.layer(LayerKind.ENTERPRISES)
    imported = import_survey(
        raw,
        enterprises=enterprises,
        residences=_park.layers.get(LayerKind.RESIDENCES),
        salt=load_or_create_salt(park_id, data_dir=Path(data_dir)),
        wave="demo",
    )
    survey = imported.survey
    headcounts = enterprise_headcounts(enterprises)
    weights = survey_weights(survey, headcounts).weights
    # The same cached engine run as the Gaps page: computed once per park version.
    travel = cached_access.travel_times(_park)
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
    )


def retention_inputs(park: ParkData) -> RetentionInputs:
    """Return the park's survey features and fitted intent model (built once per data version)."""
    return _inputs(park.park_id, park.data_version, str(state.data_dir()), park)


@st.cache_data(max_entries=64, show_spinner=False)
def _enterprise(
    park_id: str,
    data_version: str,
    enterprise_id: str,
    conversion: ConversionParameters,
    cost: ReplacementCost,
    _inputs: RetentionInputs,
) -> EnterpriseRetention:
    if _inputs.model is None:
        raise ValueError("no fitted model")
    return enterprise_retention(
        _inputs.model,
        _inputs.features,
        enterprise_id,
        _inputs.headcounts.get(enterprise_id, 0.0),
        conversion=conversion,
        cost=cost,
    )


def enterprise(
    park: ParkData,
    inputs: RetentionInputs,
    enterprise_id: str,
    *,
    conversion: ConversionParameters,
    cost: ReplacementCost,
) -> EnterpriseRetention:
    """Return one enterprise's intent, leavers and drivers (``enterprise_retention``), cached."""
    return _enterprise(park.park_id, park.data_version, enterprise_id, conversion, cost, inputs)
