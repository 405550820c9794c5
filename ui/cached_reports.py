"""Cached wrappers for meeting snapshots (``retention.pipeline.snapshot``).

The content is built once per run key and options from the same cached travel times and fitted
model the other pages use, so a snapshot shows the pages' numbers and building one after
visiting Gaps or Enterprise takes seconds. PDF and PowerPoint files are written by a worker
process (other sessions keep running), and every file is kept per format for the sessions that
ask for the same options. Cached objects are shared by every session: never mutate them.
"""

from __future__ import annotations

import streamlit as st

from retention.pipeline import RunKey
from retention.pipeline.snapshot import build_snapshot, write_snapshot
from retention.pipeline.snapshot_process import SUBPROCESS_FORMATS, write_snapshot_in_subprocess
from retention.report.pictures import Progress
from retention.report.snapshot import Snapshot, SnapshotFormat
from retention.scenario.model import scenario_to_json
from retention.storage.park import ParkData
from ui import cached_access, cached_model, cached_scenario, cached_survey, state
from ui.cached import run_key
from ui.map_view import VENDOR_DIR


@st.cache_resource(max_entries=4, show_spinner=False)
def _snapshot(
    key: RunKey,
    lang: str,
    window: str,
    enterprise_id: str | None,
    scenario_text: str | None,
    compared_texts: tuple[str, ...],
    _park: ParkData,
) -> Snapshot:
    travel = cached_access.travel_times(_park, key=key)
    inputs = None if enterprise_id is None else cached_model.retention_inputs(_park, key=key)
    has_survey = key.survey_version not in ("", "none")
    survey = cached_survey.current_survey(_park, key=key) if has_survey else None
    scenario = None
    if scenario_text is not None:
        result = cached_scenario.result(_park, scenario_text)
        scenario = (result.applied.scenario.name, result)
    compared = [cached_scenario.result(_park, text) for text in compared_texts]
    return build_snapshot(
        _park,
        key,
        lang=lang,
        data_dir=state.data_dir(),
        window=window,
        enterprise_id=enterprise_id,
        travel=travel,
        inputs=inputs,
        survey=survey,
        scenario=scenario,
        compared=[(result.applied.scenario.name, result) for result in compared],
    )


def scenario_text(park: ParkData) -> str | None:
    """Return the sidebar's saved scenario as JSON text (its cache key), or ``None``."""
    scenario_id = state.scenario_id()
    if not scenario_id:
        return None
    return scenario_to_json(cached_scenario.store().load(park.park_id, scenario_id).scenario)


def snapshot(
    park: ParkData,
    *,
    lang: str,
    window: str,
    enterprise_id: str | None,
    scenario: str | None = None,
    compared: tuple[str, ...] = (),
) -> tuple[RunKey, Snapshot]:
    """Return the park's run key and its snapshot content for these options, cached.

    ``scenario`` is a scenario's JSON text (``scenario_text``): its comparison with the baseline
    is added, measured by the Scenario page's cached evaluation; ``compared`` are other saved
    scenarios' JSON texts shown beside it in its side-by-side table.
    """
    key = run_key(park)
    return key, _snapshot(key, lang, window, enterprise_id, scenario, compared, park)


def saved_texts(park: ParkData, scenario_ids: list[str]) -> tuple[str, ...]:
    """Return saved scenarios (by id) as JSON texts, in order (``snapshot``'s ``compared``)."""
    store = cached_scenario.store()
    return tuple(scenario_to_json(store.load(park.park_id, i).scenario) for i in scenario_ids)


@st.cache_data(max_entries=8, show_spinner=False)
def _kept(
    key: RunKey,
    lang: str,
    window: str,
    enterprise_id: str | None,
    scenario: str | None,
    compared: tuple[str, ...],
    fmt: str,
    _built: bytes | None = None,
) -> bytes | None:
    # A bounded store shared by every session: the first call for these options keeps the file
    # it is given (``build_file``); later calls return it. A lookup that finds nothing is not kept.
    return _built


def built_file(
    *,
    key: RunKey,
    lang: str,
    window: str,
    enterprise_id: str | None,
    fmt: str,
    scenario: str | None = None,
    compared: tuple[str, ...] = (),
) -> bytes | None:
    """Return the file a session built for these options, or ``None`` (not built, or evicted)."""
    options = (key, lang, window, enterprise_id, scenario, compared, fmt)
    data = _kept(*options)
    if data is None:
        _kept.clear(*options)
    return data


def build_file(
    park: ParkData,
    *,
    key: RunKey,
    lang: str,
    window: str,
    enterprise_id: str | None,
    fmt: str,
    scenario: str | None = None,
    compared: tuple[str, ...] = (),
    progress: Progress | None = None,
) -> bytes:
    """Write the snapshot as ``fmt`` (pdf, pptx, xlsx, html), keep it for ``built_file``, return it.

    PDF and PowerPoint are written by a worker process (``retention.pipeline.snapshot_process``),
    so the seconds of drawing and layout do not hold up other sessions; ``progress`` is told its
    steps. ``SnapshotWriteError`` when the worker fails (its error named).
    """
    content = _snapshot(key, lang, window, enterprise_id, scenario, compared, park)
    if SnapshotFormat(fmt) in SUBPROCESS_FORMATS:
        data = write_snapshot_in_subprocess(content, fmt, assets_dir=VENDOR_DIR, progress=progress)
    else:
        data = write_snapshot(content, fmt, assets_dir=VENDOR_DIR)
    options = (key, lang, window, enterprise_id, scenario, compared, fmt)
    _kept.clear(*options)
    _kept(*options, _built=data)
    return data
