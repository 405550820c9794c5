"""Cached wrappers for the scenario lab: the baseline, scenario results, siting and packages.

The baseline reuses the Gaps page's cached travel times and indicators. A scenario result is
keyed on the park id and data version, the scenario's content (its JSON text), the saved
parameters and the survey version; it is computed once and shared by every session showing the
same scenario (``st.cache_resource`` with ``max_entries``: never mutate it). A scenario's park
copy has a data version of its own, so the other pages' caches key it apart from the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import streamlit as st

from retention.access.engine import ParkEngine
from retention.access.indicators import ParkIndicators
from retention.access.network import StreetNetwork
from retention.access.parameters import TravelParameters
from retention.auth.roles import require_enterprise_in_scope
from retention.data.crs import CoordinateSystem
from retention.data.layers import LayerKind
from retention.errors import ScenarioError
from retention.escaping import markdown_text
from retention.i18n import t
from retention.park_parameters import ParkParameters
from retention.pipeline.scenarios import LAB_OPTIONS
from retention.pipeline.scenarios import retention_basis as pipeline_retention_basis
from retention.report.maps import TileSource
from retention.scenario.budget import Package, intervention_table
from retention.scenario.budget import recorded_package as budget_recorded_package
from retention.scenario.compare import EnterpriseChange, enterprise_change
from retention.scenario.display import pickable_places
from retention.scenario.drawing import DrawnRoute, route_from_drawing
from retention.scenario.evaluate import (
    Evaluation,
    RetentionBasis,
    ScenarioResult,
    evaluate_scenario,
)
from retention.scenario.layers import AppliedScenario, apply_scenario
from retention.scenario.model import (
    ParkContext,
    Scenario,
    park_context,
    scenario_from_json,
    scenario_to_json,
)
from retention.scenario.next_steps import NextStep
from retention.scenario.next_steps import next_steps as suggest_next_steps
from retention.scenario.records import ScenarioRecord, ScenarioStore
from retention.scenario.siting import candidate_sites, suggest_sites
from retention.storage.park import ParkData
from ui import cached_access, cached_model, cached_survey, state
from ui.cached_parameters import current_parameters

OPTIONS = LAB_OPTIONS
"""How the lab measures: walk or ride, weekday evening (the model's window); the CLI's
``parklife report --scenario`` measures the same way (``retention.pipeline.scenarios``)."""


def store() -> ScenarioStore:
    """The scenarios saved under the data directory."""
    return ScenarioStore(state.data_dir())


def saved(park: ParkData) -> list[ScenarioRecord]:
    """The park's saved scenarios (read from disk on every call: small files)."""
    return store().list(park.park_id)


@st.cache_resource(max_entries=8, show_spinner=False)
def _context(
    park_id: str, data_version: str, windows: tuple[str, ...], _park: ParkData
) -> ParkContext:
    return park_context(_park.layers, window_keys=windows)


def context(park: ParkData) -> ParkContext:
    """What a scenario of the park may refer to (ids, residents, windows, area), cached."""
    windows = tuple(w.key for w in current_parameters(park).time_windows)
    return _context(park.park_id, park.data_version, windows, park)


def _network(park_id: str, data_version: str, _park: ParkData) -> StreetNetwork | None:
    """The park's walking street network: the engine's own (None without a roads layer)."""
    roads = _park.layers.get(LayerKind.ROADS)
    return None if roads is None or roads.empty else cached_access.streets(_park).network("walk")


def engine(park: ParkData) -> ParkEngine:
    """The baseline park's travel-time engine (scenarios use its delta operations): the one
    ``ui.cached_access`` builds for the Gaps page's travel times."""
    return cached_access.engine(park)


def baseline(park: ParkData) -> Evaluation:
    """The baseline as the lab measures it, from the Gaps page's cached travel times."""
    travel = cached_access.travel_times(park)
    indicators = cached_access.indicators(park, mode=OPTIONS.mode, window=OPTIONS.window)
    return Evaluation(park=park, travel=travel, indicators=indicators, options=OPTIONS)


def retention_basis(park: ParkData) -> RetentionBasis | None:
    """The fitted intent model and its respondents, or ``None`` without a survey or a fit."""
    if not cached_model.has_survey(park):
        return None
    return pipeline_retention_basis(cached_model.retention_inputs(park))


def _survey_key(park: ParkData) -> str:
    return cached_survey.survey_version(park) if cached_model.has_survey(park) else ""


# Each result holds a full set of travel-time matrices: few entries (memory on big parks).
@st.cache_resource(max_entries=4, show_spinner=False)
def _result(
    park_id: str,
    data_version: str,
    scenario_text: str,
    parameters: ParkParameters,
    survey_key: str,
    _park: ParkData,
) -> ScenarioResult:
    scenario = scenario_from_json(scenario_text)
    return evaluate_scenario(
        baseline(_park),
        scenario,
        indicator_parameters=parameters.indicator_parameters(),
        retention=retention_basis(_park),
        shuttle=parameters.shuttle,
        conversion=parameters.conversion,
        cost=parameters.replacement_cost,
        network=_network(park_id, data_version, _park),
        engine=engine(_park),
    )


def result(park: ParkData, scenario_text: str) -> ScenarioResult:
    """The scenario (JSON text) measured against the baseline, cached per content."""
    return _result(
        park.park_id,
        park.data_version,
        scenario_text,
        current_parameters(park),
        _survey_key(park),
        park,
    )


@st.cache_resource(max_entries=8, show_spinner=False)
def _applied(
    park_id: str, data_version: str, scenario_text: str, parameters: ParkParameters, _park: ParkData
) -> AppliedScenario:
    return apply_scenario(
        _park,
        scenario_from_json(scenario_text),
        params=parameters.travel,
        windows=parameters.time_windows,
        shuttle=parameters.shuttle,
        network=_network(park_id, data_version, _park),
    )


@dataclass(frozen=True, eq=False)
class ShownScenario:
    """The saved scenario the sidebar shows instead of the baseline.

    Attributes
    ----------
    scenario_id, name
        Its id and display name.
    text
        Its JSON text (the key of ``result``).
    park
        The park with the scenario applied (shared and read-only).
    """

    scenario_id: str
    name: str
    text: str
    park: ParkData


def shown_scenario(park: ParkData) -> ShownScenario | None:
    """Return the sidebar's saved scenario applied to the park, or ``None`` for the baseline.

    A scenario that no longer fits the park (an id it uses was removed by an upload) is reported
    and ``None`` returned, so the page shows the baseline.
    """
    scenario_id = state.scenario_id()
    if not scenario_id:
        return None
    try:
        record = store().load(park.park_id, scenario_id)
        text = _json(record.scenario)
        scenario_from_json(text, context=context(park))
    except ScenarioError as error:
        st.error(t("scenario.shown_error", state.lang(), message=markdown_text(error)))
        return None
    applied = _applied(park.park_id, park.data_version, text, current_parameters(park), park)
    return ShownScenario(scenario_id, record.name, text, applied.park)


def scenario_banner(shown: ShownScenario) -> None:
    """Say plainly, above a page's figures, which scenario they show."""
    st.info(
        t("scenario.shown", state.lang(), name=markdown_text(shown.name)),
        icon=":material/alt_route:",
    )


def shown_park(park: ParkData) -> ParkData:
    """The park the pages show: the baseline, or the sidebar's saved scenario applied to it.

    With a scenario, a banner names it; a scenario that no longer fits the park is reported and
    the baseline is shown.
    """
    shown = shown_scenario(park)
    if shown is None:
        return park
    scenario_banner(shown)
    return shown.park


@st.cache_data(max_entries=16, show_spinner=False)
def _enterprise_change(
    park_id: str,
    data_version: str,
    scenario_text: str,
    parameters: ParkParameters,
    survey_key: str,
    enterprise_id: str,
    _park: ParkData,
) -> EnterpriseChange:
    return enterprise_change(
        result(_park, scenario_text), enterprise_id, privacy=parameters.privacy
    )


def enterprise_scenario_change(
    park: ParkData, shown: ShownScenario, enterprise_id: str
) -> EnterpriseChange:
    """What the shown scenario changes for one enterprise (``enterprise_change``), cached.

    Raises ``AccessDeniedError`` when the signed-in user may not see ``enterprise_id``.
    """
    require_enterprise_in_scope(state.scope().canonical(), enterprise_id)
    return _enterprise_change(
        park.park_id,
        park.data_version,
        shown.text,
        current_parameters(park),
        _survey_key(park),
        enterprise_id,
        park,
    )


@st.cache_data(max_entries=16, show_spinner=False)
def _drawn_route(
    park_id: str,
    data_version: str,
    drawing: str,
    tiles: str,
    lang: str,
    params: TravelParameters,
    _park: ParkData,
) -> DrawnRoute:
    return route_from_drawing(
        drawing,
        _network(park_id, data_version, _park),
        pickable_places(_park.layers, lang),
        params=params,
        display_system=CoordinateSystem.GCJ02
        if tiles == TileSource.AMAP
        else CoordinateSystem.WGS84,
        stop_name=t("scenario_draw.stop_name", lang, n="{n}"),
    )


def drawn_route(park: ParkData, drawing: str) -> DrawnRoute:
    """The route drawn on the map (``retention.scenario.drawing.route_from_drawing``), cached.

    Keyed on the drawing's GeoJSON text, the tiles it was drawn over (Amap: GCJ-02), the
    language (stop names) and the travel parameters (snap distance); a bad drawing raises
    ``ScenarioError`` saying what was expected.
    """
    return _drawn_route(
        park.park_id,
        park.data_version,
        drawing,
        state.tiles().value,
        state.lang(),
        current_parameters(park).travel,
        park,
    )


def _json(scenario: Scenario) -> str:
    return scenario_to_json(scenario)


@st.cache_data(max_entries=16, show_spinner=False)
def _sites(
    park_id: str,
    data_version: str,
    category: str,
    threshold_minutes: float,
    k: int,
    demand: str,
    capacity_people: float | None,
    windows: tuple[str, ...],
    _park: ParkData,
) -> pd.DataFrame:
    network = _network(park_id, data_version, _park)
    if network is None:
        return pd.DataFrame(columns=["candidate_id", "lon", "lat", "newly_covered"])
    candidates: gpd.GeoDataFrame = candidate_sites(
        network, _context(park_id, data_version, windows, _park)
    )
    return suggest_sites(
        baseline(_park),
        candidates,
        category=category,
        threshold_minutes=threshold_minutes,
        k=k,
        demand=demand,
        capacity_people=capacity_people,
    )


def sites(
    park: ParkData,
    *,
    category: str,
    threshold_minutes: float,
    k: int,
    demand: str,
    capacity_people: float | None,
) -> pd.DataFrame:
    """Suggested sites for a category (``retention.scenario.siting.suggest_sites``), cached."""
    windows = tuple(w.key for w in current_parameters(park).time_windows)
    return _sites(
        park.park_id,
        park.data_version,
        category,
        float(threshold_minutes),
        int(k),
        demand,
        capacity_people,
        windows,
        park,
    )


@st.cache_data(max_entries=16, show_spinner=False)
def _interventions(
    park_id: str,
    data_version: str,
    scenario_text: str,
    objective: str,
    parameters: ParkParameters,
    survey_key: str,
    _park: ParkData,
) -> pd.DataFrame:
    scenario = scenario_from_json(scenario_text)
    return intervention_table(
        baseline(_park),
        scenario.modifications,
        context(_park),
        objective=objective,
        indicator_parameters=parameters.indicator_parameters(),
        retention=retention_basis(_park),
        shuttle=parameters.shuttle,
        conversion=parameters.conversion,
        cost=parameters.replacement_cost,
    )


def interventions(park: ParkData, scenario_text: str, objective: str) -> pd.DataFrame:
    """Each modification of the scenario measured alone (cost and benefit), cached."""
    return _interventions(
        park.park_id,
        park.data_version,
        scenario_text,
        objective,
        current_parameters(park),
        _survey_key(park),
        park,
    )


def recorded_package(
    draft: Scenario,
    package: Package,
    measured: pd.DataFrame,
    *,
    name: str,
    budget_cny_per_year: float,
    objective: str,
) -> Scenario:
    """The chosen package of the draft's modifications as a scenario recording how it was chosen.

    ``measured`` is :func:`interventions` of the draft. The scenario holds the chosen
    modifications and a ``BudgetPackage`` (budget, objective, every candidate's cost and
    benefit alone): measured as a whole on the page, saved like any scenario, and reported by a
    snapshot (``retention.scenario.budget.recorded_package``).
    """
    return budget_recorded_package(
        name,
        draft.modifications,
        package,
        measured,
        budget_cny_per_year=budget_cny_per_year,
        objective=objective,
    )


__all__ = [
    "OPTIONS",
    "ShownScenario",
    "baseline",
    "context",
    "drawn_route",
    "enterprise_scenario_change",
    "interventions",
    "recorded_package",
    "result",
    "retention_basis",
    "saved",
    "scenario_banner",
    "shown_park",
    "shown_scenario",
    "sites",
    "store",
]


def next_steps(
    indicators: ParkIndicators, *, origin_set: str, worst: int, user_scope: str
) -> list[NextStep]:
    """Return the Gaps page's candidate amenities for the worst-served places (from the gap
    index the page shows; ``retention.scenario.next_steps``, cheap: no cache needed)."""
    return suggest_next_steps(
        indicators.origins,
        indicators.gap,
        origin_set=origin_set,
        worst=worst,
        user_scope=user_scope,
    )
