"""Cached wrappers for the retention model and the enterprise view (``retention.pipeline``).

The fitted model is also kept on disk (``ui.cached.warm_store``) for a restarted server. Keyed on
the park's run key narrowed to the stage (``RunKey.for_stage``): the fitted model on
the data version, the travel parameters and time windows of its access features and the current
survey's version (a stored wave replaces the demo survey; saving or removing one refits); the
enterprise figures on the whole key (conversion, cost and k too) plus the page's sensitivity
choices. The park and the fitted inputs are passed unhashed as ``_`` arguments next to the key
that names them. Cached objects are shared by every session: never mutate them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from retention import pipeline
from retention.auth.roles import require_enterprise_in_scope
from retention.model.leavers import ConversionParameters, ReplacementCost
from retention.model.peer_benchmark import EnterpriseRetention
from retention.pipeline import ACCESS_MODE, ACCESS_WINDOW, RetentionInputs, RunKey, Stage
from retention.storage.park import ParkData
from ui import cached_access, cached_survey
from ui.cached import run_key, warm_store

__all__ = [
    "RetentionInputs",
    "enterprise",
    "has_survey",
    "peer_bands",
    "retention_inputs",
    "workforce_access",
]


def has_survey(park: ParkData) -> bool:
    """Return whether the park has a worker survey to analyse (stored waves or the demo)."""
    return cached_survey.survey_version(park) != "none"


@st.cache_resource(max_entries=4, show_spinner=False)
def _inputs(key: RunKey, _park: ParkData) -> RetentionInputs:
    def compute() -> RetentionInputs:
        # The same cached engine run and survey as the Gaps and Survey pages.
        travel = cached_access.travel_times(_park, key=key)
        survey = cached_survey.current_survey(_park, key=key)
        return pipeline.retention_inputs(_park, travel, survey, key)

    return warm_store().get_or_compute(Stage.MODEL, key, compute, RetentionInputs)


def retention_inputs(park: ParkData, *, key: RunKey | None = None) -> RetentionInputs:
    """Return the park's survey features and fitted intent model, once per run key."""
    key = run_key(park) if key is None else key
    return _inputs(key.for_stage(Stage.MODEL), park)


@st.cache_data(max_entries=64, show_spinner=False)
def _enterprise(
    key: RunKey,
    enterprise_id: str,
    conversion: ConversionParameters,
    cost: ReplacementCost,
    _inputs: RetentionInputs,
) -> EnterpriseRetention:
    return pipeline.enterprise_view(_inputs, key, enterprise_id, conversion=conversion, cost=cost)


def enterprise(
    park: ParkData,
    inputs: RetentionInputs,
    enterprise_id: str,
    *,
    conversion: ConversionParameters,
    cost: ReplacementCost,
    key: RunKey | None = None,
) -> EnterpriseRetention:
    """Return one enterprise's intent, leavers and drivers (``retention.pipeline.enterprise_view``).

    ``inputs`` must be ``retention_inputs(park)`` of the same key; ``conversion`` and ``cost``
    are the page's sensitivity choices, k is the park's saved one.
    """
    key = run_key(park) if key is None else key
    return _enterprise(key, enterprise_id, conversion, cost, inputs)


@st.cache_data(max_entries=64, show_spinner=False)
def _peer_bands(
    key: RunKey, enterprise_id: str, _inputs: RetentionInputs
) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pipeline.peer_bands(_inputs, key, enterprise_id)


def peer_bands(
    park: ParkData, inputs: RetentionInputs, enterprise_id: str, *, key: RunKey | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the enterprise's (access, satisfaction) against anonymous peer bands, cached."""
    key = run_key(park) if key is None else key
    return _peer_bands(key, enterprise_id, inputs)


@st.cache_data(max_entries=64, show_spinner=False)
def _workforce(key: RunKey, enterprise_id: str, _park: ParkData) -> pd.DataFrame:
    access = cached_access.indicators(_park, mode=ACCESS_MODE, window=ACCESS_WINDOW, key=key)
    return pipeline.workforce_access(access, enterprise_id)


def workforce_access(
    park: ParkData, enterprise_id: str, *, key: RunKey | None = None
) -> pd.DataFrame:
    """Return evening walking minutes at the enterprise and in its dormitories, cached.

    ``retention.pipeline.workforce_access`` on the Gaps page's cached indicators (walk, weekday
    evening) with the park's saved parameters, so no travel times are recomputed.
    """
    key = run_key(park) if key is None else key
    # The indicators are shared by every user; the enterprise is checked against the user's scope.
    require_enterprise_in_scope(key.user_scope, enterprise_id)
    return _workforce(key.for_stage(Stage.INDICATORS), enterprise_id, park)
