"""Saved scenarios measured by the pipeline, as the Scenario page measures them.

``parklife report --scenario`` and batch exports evaluate a park's saved scenario here; the app's
Scenario page does the same through its caches (``ui.cached_scenario``), with the same fitted
model basis (:func:`retention_basis`).
"""

from __future__ import annotations

from pathlib import Path

from retention.access.engine import ParkEngine
from retention.data.layers import LayerKind
from retention.errors import ParkLifeError
from retention.pipeline import stages
from retention.pipeline.run_key import RunKey
from retention.scenario.evaluate import (
    Evaluation,
    EvaluationOptions,
    RetentionBasis,
    ScenarioResult,
)
from retention.scenario.records import ScenarioRecord, ScenarioStore
from retention.storage.park import ParkData

LAB_OPTIONS = EvaluationOptions()
"""How the scenario lab measures (page and CLI alike): walk or ride, weekday evening."""


class UnknownScenarioError(ParkLifeError, ValueError):
    """The park has no saved scenario with the id or name asked for."""


def saved_scenario(park_id: str, scenario_ref: str, *, data_dir: Path) -> ScenarioRecord:
    """Return the park's saved scenario whose id or name is ``scenario_ref``.

    Raises
    ------
    UnknownScenarioError
        No saved scenario of the park has that id or name (the message lists the saved ones).
    """
    records = ScenarioStore(data_dir).list(park_id)
    record = next((r for r in records if scenario_ref in (r.scenario_id, r.scenario.name)), None)
    if record is None:
        known = ", ".join(r.scenario.name for r in records) or "-"
        raise UnknownScenarioError(
            f"park {park_id!r} has no saved scenario {scenario_ref!r}; saved: {known}"
        )
    return record


def evaluate_saved_scenario(
    park: ParkData,
    key: RunKey,
    scenario_ref: str,
    *,
    data_dir: Path,
    geodata_dir: Path | None = None,
    engine: ParkEngine | None = None,
    inputs: stages.RetentionInputs | None = None,
) -> tuple[str, ScenarioResult]:
    """Measure a saved scenario (by id or name) against the park, as the Scenario page does.

    The same path as the page (``ui.cached_scenario``): the baseline is the park engine's
    travel times and the lab's indicators (walk or ride, weekday evening), and the scenario's
    travel times come from the engine's delta operations (``evaluate_scenario(...,
    engine=)``), with the engine's own street network for snapping drawn routes.

    Parameters
    ----------
    park, key
        The park and its run key.
    scenario_ref
        The saved scenario's id or name.
    data_dir, geodata_dir
        Where the park's stored data and demo files live (scenarios, survey).
    engine
        ``stages.engine(park, key)`` when the caller already has it (several scenarios of one
        report share one); built here otherwise.
    inputs
        ``stages.retention_inputs(...)`` when the caller already has them.

    Raises
    ------
    UnknownScenarioError
        No saved scenario of the park has that id or name.
    """
    from retention.scenario.evaluate import evaluate_scenario

    record = saved_scenario(park.park_id, scenario_ref, data_dir=data_dir)
    engine = stages.engine(park, key) if engine is None else engine
    baseline = lab_baseline(park, key, engine=engine)
    basis = None
    survey_present = key.survey_version not in ("", "none")
    if inputs is None and survey_present:
        survey = stages.current_survey(park, key, data_dir=data_dir, geodata_dir=geodata_dir)
        inputs = stages.retention_inputs(park, baseline.travel, survey, key)
    if inputs is not None:
        basis = retention_basis(inputs)
    parameters = key.parameters
    roads = park.layers.get(LayerKind.ROADS)
    result = evaluate_scenario(
        baseline,
        record.scenario,
        indicator_parameters=parameters.indicator_parameters(),
        retention=basis,
        shuttle=parameters.shuttle,
        conversion=parameters.conversion,
        cost=parameters.replacement_cost,
        network=None if roads is None or roads.empty else engine.travel.network("walk"),
        engine=engine,
    )
    return record.scenario.name, result


def lab_baseline(park: ParkData, key: RunKey, *, engine: ParkEngine) -> Evaluation:
    """The baseline as the scenario lab measures it: the engine's travel times and the
    indicators of ``LAB_OPTIONS`` (walk or ride, weekday evening) for the key."""
    travel = stages.travel_times(park, key, engine=engine)
    return Evaluation(
        park=park,
        travel=travel,
        indicators=stages.indicators(travel, key, mode=LAB_OPTIONS.mode, window=LAB_OPTIONS.window),
        options=LAB_OPTIONS,
    )


def retention_basis(inputs: stages.RetentionInputs) -> RetentionBasis | None:
    """Return the fitted model and respondents a scenario's leavers estimate rests on.

    ``None`` when the park's survey could not support a model (``inputs.error`` says why).
    """
    from retention.model.intent import DEFAULT_MODEL_CATEGORIES

    if inputs.model is None:
        return None
    return RetentionBasis(
        model=inputs.model,
        features=inputs.features,
        headcounts=inputs.headcounts,
        model_categories=tuple(c.value for c in DEFAULT_MODEL_CATEGORIES),
    )
