"""Background warm-up: compute a park's missing pipeline results while the user reads a page.

On a fresh server (or after an upload, a saved parameter or a new survey wave) the park's travel
times, current survey and fitted model may not be on disk yet (``retention.pipeline.warm``). The
sidebar starts one background thread per run key that computes what is missing and stores it,
and says so; pages that need a result meanwhile wait for that thread's entry (the store's lock)
and then load it, so nothing is computed twice. After a restart everything is on disk and no
thread starts.

The thread calls the pipeline only (no Streamlit); it is skipped when
``PARKLIFE_BACKGROUND_WARMUP=0`` (the test suite sets this so that counts of engine runs stay
exact; one test turns it on and waits for it).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import streamlit as st

from retention import pipeline
from retention.access.travel_times import TravelTimeResult
from retention.i18n import t
from retention.pipeline import RetentionInputs, RunKey, Stage
from retention.pipeline.warm import WarmStore
from retention.storage.park import ParkData
from retention.storage.waves import CurrentSurvey
from ui import state
from ui.cached import run_key, warm_store

ENABLED_VARIABLE = "PARKLIFE_BACKGROUND_WARMUP"
STAGES: tuple[Stage, ...] = (Stage.TRAVEL_TIMES, Stage.SURVEY, Stage.MODEL)
"""The expensive stages warmed, in order (each uses the one before)."""


@st.cache_resource(show_spinner=False)
def _threads() -> dict[str, threading.Thread]:
    # One registry per server process: run-key digest -> its warm-up thread.
    return {}


def enabled() -> bool:
    """Return whether background warm-up is on (``PARKLIFE_BACKGROUND_WARMUP`` not ``0``)."""
    return os.environ.get(ENABLED_VARIABLE, "1") != "0"


def missing(park: ParkData, key: RunKey | None = None) -> list[Stage]:
    """Return the expensive stages of the park's run key that are not on disk yet."""
    key = run_key(park) if key is None else key
    store = warm_store()
    stages = [Stage.TRAVEL_TIMES]
    if key.survey_version != "none":
        stages += [Stage.SURVEY, Stage.MODEL]
    return [stage for stage in stages if not store.has(stage, _stage_key(key, stage))]


def _stage_key(key: RunKey, stage: Stage) -> RunKey:
    # The keys the ui wrappers use: the survey is read under the model's key (no user scope).
    return key.for_stage(Stage.MODEL) if stage is Stage.SURVEY else key.for_stage(stage)


def warm(park: ParkData, key: RunKey, *, data_dir: Path) -> None:
    """Compute and store every missing expensive stage of ``key`` (the thread's work)."""
    store = WarmStore(data_dir)
    travel = store.get_or_compute(
        Stage.TRAVEL_TIMES,
        key.for_stage(Stage.TRAVEL_TIMES),
        lambda: pipeline.travel_times(park, key.for_stage(Stage.TRAVEL_TIMES)),
        TravelTimeResult,
    )
    if key.survey_version == "none":
        return
    model_key = key.for_stage(Stage.MODEL)
    survey = store.get_or_compute(
        Stage.SURVEY,
        model_key,
        lambda: pipeline.current_survey(park, model_key, data_dir=data_dir),
        CurrentSurvey,
    )
    store.get_or_compute(
        Stage.MODEL,
        model_key,
        lambda: pipeline.retention_inputs(park, travel, survey, model_key),
        RetentionInputs,
    )


def start(park: ParkData) -> bool:
    """Start warming the park's missing stages in the background; return whether work is left.

    A thread already warming the same run key is not started twice.
    """
    key = run_key(park)
    if not missing(park, key):
        return False
    if not enabled():
        return True
    threads = _threads()
    digest = key.digest()
    running = threads.get(digest)
    if running is None or not running.is_alive():
        thread = threading.Thread(
            target=warm,
            args=(park, key),
            kwargs={"data_dir": state.data_dir()},
            name=f"parklife-warmup-{digest[:8]}",
            daemon=True,
        )
        threads[digest] = thread
        thread.start()
    return True


def wait(timeout_seconds: float | None = None) -> None:
    """Wait for every warm-up thread of this process to finish (tests, benchmarks)."""
    for thread in list(_threads().values()):
        thread.join(timeout_seconds)


def show_progress(park: ParkData, lang: str) -> None:
    """Start the warm-up and say in the sidebar which results are still being prepared."""
    if not start(park):
        return
    names = ", ".join(t(f"pipeline.warmup.stage.{stage.value}", lang) for stage in missing(park))
    st.caption(t("pipeline.warmup.preparing", lang, stages=names))
