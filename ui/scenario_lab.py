"""The Scenarios page's steps around the cached results: the draft as text, places to pick,
modifications in words, the KPI comparison, gains on the map, winners and losers, a suggested
site as a modification, and the budget packages.

Thin wrappers around ``retention.scenario`` (``model``, ``display``, ``compare``, ``siting``,
``budget``); the results they read come from ``ui.cached_scenario`` (shared, never mutated: every
function here returns new tables). The places of a park are a pure function of its id, data
version and the language, so they are cached on those; the rest is cheap or depends on the
session's draft and is computed on each run.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import pandas as pd
import streamlit as st

from retention.model.leavers import ReplacementCost
from retention.scenario.budget import Package, best_packages
from retention.scenario.compare import kpi_table, origin_gains, winners_and_losers
from retention.scenario.display import describe_modification, kpi_display_table, pickable_places
from retention.scenario.evaluate import RetentionBasis, ScenarioResult
from retention.scenario.model import (
    AddAmenity,
    Modification,
    ParkContext,
    Scenario,
    scenario_from_json,
    scenario_to_json,
)
from retention.scenario.siting import suggestion_modification
from retention.storage.park import ParkData
from retention.survey.privacy import PrivacyParameters


def to_json(scenario: Scenario) -> str:
    """Return the scenario as JSON text (``scenario_to_json``): the draft kept in the session."""
    return scenario_to_json(scenario)


def from_json(text: str | bytes, *, context: ParkContext | None = None) -> Scenario:
    """Read a scenario from JSON text (``scenario_from_json``); with ``context``, check it.

    Raises
    ------
    ScenarioError
        If the text is not JSON, has another schema version, or a modification is invalid.
    """
    return scenario_from_json(text, context=context)


@st.cache_data(max_entries=8, show_spinner=False)
def _places(park_id: str, data_version: str, lang: str, _park: ParkData) -> pd.DataFrame:
    return pickable_places(_park.layers, lang)


def places(park: ParkData, lang: str) -> pd.DataFrame:
    """Return the places a stop or an amenity can be put at (``pickable_places``), cached."""
    return _places(park.park_id, park.data_version, lang, park)


def describe(modification: Modification, lang: str) -> str:
    """Return one line saying what a modification does (``describe_modification``)."""
    return describe_modification(modification, lang)


def kpi_comparison(
    compared: Sequence[tuple[str, ScenarioResult]], *, cost: ReplacementCost, lang: str
) -> pd.DataFrame:
    """Return the labelled KPI table of the baseline and each named result, for display.

    The baseline is the first result's (every result of one park shares it).
    """
    table = kpi_table(compared[0][1].baseline, compared, cost=cost)
    return kpi_display_table(table, [name for name, _ in compared], lang)


def gains(result: ScenarioResult) -> gpd.GeoDataFrame:
    """Return the minutes saved per residence and enterprise (``origin_gains``)."""
    return origin_gains(result)


def winners(
    result: ScenarioResult, *, retention: RetentionBasis | None, privacy: PrivacyParameters
) -> pd.DataFrame:
    """Return who gains and who loses, groups under k left out (``winners_and_losers``)."""
    return winners_and_losers(result, retention=retention, privacy=privacy)


def suggested_amenity(
    row: pd.Series, *, amenity_id: str, name: str, category: str, capacity: float
) -> AddAmenity:
    """Return a suggested site as a new amenity (``suggestion_modification``)."""
    return suggestion_modification(
        row, amenity_id=amenity_id, name=name, category=category, capacity=capacity
    )


def packages(measured: pd.DataFrame, budget_cny_per_year: float) -> list[Package]:
    """Return the best packages of the measured interventions within the budget."""
    return best_packages(measured["annual_cost_cny"], measured["benefit"], budget_cny_per_year)
