"""Warm restart: pipeline results kept on disk by run key, read back exactly, never by pickle,
and a restarted app loads them instead of running the engine and the model fit again."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention.access import travel_times as travel_times_module
from retention.access.indicators import ParkIndicators
from retention.access.parameters import TravelParameters
from retention.access.travel_times import TravelTimeResult
from retention.park_parameters import ParkParameters
from retention.pipeline import (
    RetentionInputs,
    RunKey,
    Stage,
    current_survey,
    enterprise_view,
    indicators,
    park_inputs,
    retention_inputs,
    run_key,
    travel_times,
)
from retention.pipeline import stages as pipeline_stages
from retention.pipeline.warm import FORMAT_VERSION, WarmCacheError, WarmStore
from retention.storage.records import RESULTS
from retention.storage.waves import CurrentSurvey
from tests.app_session import signed_in

REPO = Path(__file__).resolve().parent.parent
PARK = "jinshan"
WINDOW = "weekday_evening"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("data")
    key = run_key(PARK, data_dir=data_dir)
    park = park_inputs(key, data_dir=data_dir)
    return data_dir, key, park, travel_times(park, key)


def _assert_travel_equal(a: TravelTimeResult, b: TravelTimeResult) -> None:
    assert sorted(a.minutes) == sorted(b.minutes)
    for name in a.minutes:
        np.testing.assert_array_equal(a.minutes[name], b.minutes[name])
        assert a.minutes[name].dtype == b.minutes[name].dtype
    np.testing.assert_array_equal(a.open_minutes, b.open_minutes)
    for left, right in ((a.origins, b.origins), (a.amenities, b.amenities)):
        pd.testing.assert_frame_equal(
            pd.DataFrame(left).drop(columns="geometry").astype(object).where(left.notna(), None),
            pd.DataFrame(right).drop(columns="geometry").astype(object).where(right.notna(), None),
        )
        assert left.geometry.equals(right.geometry) and left.crs == right.crs
    assert (a.params, a.windows, a.approximate, a.notes) == (
        b.params,
        b.windows,
        b.approximate,
        b.notes,
    )


def test_travel_times_and_indicators_come_back_exactly(demo, tmp_path: Path) -> None:
    _, key, _, travel = demo
    store = WarmStore(tmp_path)
    store.save(Stage.TRAVEL_TIMES, key, travel)
    back = store.load(Stage.TRAVEL_TIMES, key, TravelTimeResult)
    assert back is not None and back is not travel
    _assert_travel_equal(travel, back)
    for name in back.minutes:
        assert not back.minutes[name].flags.writeable  # shared results stay read-only
    # walking does not depend on the window: one array serves every window, stored once
    walks = [back.minutes[name] for name in back.minutes if name[0] == "walk"]
    assert len(walks) == len(travel.windows) and all(w is walks[0] for w in walks)
    for mode in ("walk", "transit"):
        fresh = indicators(travel, key, mode=mode, window=WINDOW)
        again = indicators(back, key, mode=mode, window=WINDOW)
        for field in ("nearest", "opportunities", "supply_per_1000", "compliance", "gap"):
            pd.testing.assert_frame_equal(getattr(fresh, field), getattr(again, field))
    walk = indicators(travel, key, mode="walk", window=WINDOW)
    store.save(Stage.INDICATORS, key, walk, options=("walk", WINDOW))
    stored = store.load(Stage.INDICATORS, key, ParkIndicators, options=("walk", WINDOW))
    assert stored is not None and stored.parameters == walk.parameters
    pd.testing.assert_frame_equal(stored.gap, walk.gap)
    pd.testing.assert_frame_equal(stored.living_circle, walk.living_circle)
    assert store.load(Stage.INDICATORS, key, ParkIndicators, options=("ebike", WINDOW)) is None


@pytest.mark.slow  # imports the demo survey and fits the model (~10 s)
def test_the_survey_and_the_fitted_model_come_back_exactly(demo, tmp_path: Path) -> None:
    data_dir, key, park, travel = demo
    store = WarmStore(tmp_path)
    survey = current_survey(park, key, data_dir=data_dir)
    store.save(Stage.SURVEY, key, survey)
    survey_back = store.load(Stage.SURVEY, key, CurrentSurvey)
    assert survey_back is not None
    pd.testing.assert_frame_equal(survey.survey, survey_back.survey)
    assert (survey_back.origin, survey_back.version) == (survey.origin, survey.version)
    inputs = retention_inputs(park, travel, survey, key)
    store.save(Stage.MODEL, key, inputs)
    back = store.load(Stage.MODEL, key, RetentionInputs)
    assert back is not None and back.model is not None and inputs.model is not None
    pd.testing.assert_frame_equal(inputs.features, back.features)
    np.testing.assert_array_equal(inputs.model.coefficients, back.model.coefficients)
    np.testing.assert_array_equal(inputs.model.covariance, back.model.covariance)
    assert back.model.spec == inputs.model.spec
    enterprise_id = str(inputs.features["enterprise_id"].value_counts().index[0])
    first, second = (enterprise_view(i, key, enterprise_id) for i in (inputs, back))
    pd.testing.assert_series_equal(first.leavers, second.leavers)
    pd.testing.assert_frame_equal(first.drivers, second.drivers)


def test_entries_are_named_by_the_stage_key(demo, tmp_path: Path) -> None:
    _, key, _, travel = demo
    store = WarmStore(tmp_path)
    calls: list[int] = []

    def compute() -> TravelTimeResult:
        calls.append(1)
        return travel

    store.get_or_compute(Stage.TRAVEL_TIMES, key, compute, TravelTimeResult)
    # a saved replacement cost does not touch travel times: the same entry serves
    dearer = replace(
        key,
        parameters=replace(
            key.parameters,
            replacement_cost=replace(key.parameters.replacement_cost, cost_cny_per_leaver=12_000.0),
        ),
    )
    store.get_or_compute(Stage.TRAVEL_TIMES, dearer, compute, TravelTimeResult)
    assert calls == [1]
    slower = replace(
        key, parameters=replace(key.parameters, travel=TravelParameters(walk_speed_m_per_min=30.0))
    )
    assert not store.has(Stage.TRAVEL_TIMES, slower)
    # one blob in the park's results cache of the file store, no leftovers
    folder = tmp_path / "parks" / PARK / "blobs" / RESULTS
    assert [p.name for p in folder.iterdir()] == [store.blob_key(Stage.TRAVEL_TIMES, key)]


def _members(warm: WarmStore, stage: Stage, key: RunKey) -> dict[str, bytes]:
    data = warm.store.records.get_blob(key.park_id, RESULTS, warm.blob_key(stage, key))
    assert data is not None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rewrite_header(warm: WarmStore, stage: Stage, key: RunKey, header: dict) -> None:
    members = {**_members(warm, stage, key), "entry.json": json.dumps(header).encode()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    warm.store.records.put_blob(key.park_id, RESULTS, warm.blob_key(stage, key), buffer.getvalue())


def _small_key() -> RunKey:
    return RunKey(PARK, "v" * 64, ParkParameters(), "demo:1")


def test_a_damaged_entry_is_recomputed_and_reported(store, tmp_path: Path, caplog) -> None:
    warm = WarmStore(tmp_path, store=store)
    key = _small_key()
    warm.save(Stage.PARK, key, (1.5, "a"))
    store.records.put_blob(PARK, RESULTS, warm.blob_key(Stage.PARK, key), b"PK\x03\x04 cut")
    store = warm
    with pytest.raises(WarmCacheError, match="damaged"):
        store.load(Stage.PARK, key, tuple)
    with caplog.at_level(logging.WARNING, logger="retention.pipeline.warm"):
        value = store.get_or_compute(Stage.PARK, key, lambda: (2.5, "b"), tuple)
    assert value == (2.5, "b")
    assert "damaged" in caplog.text
    assert store.load(Stage.PARK, key, tuple) == (2.5, "b")


def test_an_entry_can_name_only_retention_classes(tmp_path: Path) -> None:
    store = WarmStore(tmp_path)
    key = _small_key()
    store.save(Stage.PARK, key, TravelParameters())
    header = json.loads(_members(store, Stage.PARK, key)["entry.json"])
    assert header["value"]["__dataclass__"] == "retention.access.parameters:TravelParameters"
    assert store.load(Stage.PARK, key, TravelParameters) == TravelParameters()
    for name in ("os:system", "subprocess:Popen", "retention.access.parameters:os.system"):
        header["value"] = {"__dataclass__": name, "fields": {}}
        _rewrite_header(store, Stage.PARK, key, header)
        with pytest.raises(WarmCacheError, match="only retention's own classes"):
            store.load(Stage.PARK, key, TravelParameters)
    with pytest.raises(TypeError, match="object arrays"):
        store.save(Stage.PARK, key, np.array([object()]))
    with pytest.raises(TypeError, match="cannot store a set"):
        store.save(Stage.PARK, key, {1, 2})


def test_an_entry_of_another_format_version_is_ignored(store, tmp_path: Path) -> None:
    store = WarmStore(tmp_path, store=store)
    key = _small_key()
    store.save(Stage.PARK, key, (1.0, float("inf"), float("nan"), None, True, {"a": (1, 2)}))
    value = store.load(Stage.PARK, key, tuple)
    assert value is not None and value[:2] == (1.0, float("inf")) and np.isnan(value[2])
    assert value[3:] == (None, True, {"a": (1, 2)})
    header = json.loads(_members(store, Stage.PARK, key)["entry.json"])
    header["format"] = FORMAT_VERSION + 1
    _rewrite_header(store, Stage.PARK, key, header)
    assert store.load(Stage.PARK, key, tuple) is None
    assert store.has(Stage.PARK, key)
    assert store.prune(keep={}) == 1 and not store.has(Stage.PARK, key)


# --- the app ------------------------------------------------------------------------------------


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Count engine runs and model fits; a fresh data dir and empty in-memory caches."""
    import streamlit as st

    calls: dict[str, int] = {"engine": 0, "fit": 0}
    engine = travel_times_module.park_engine
    fit = pipeline_stages.fit_intent_model

    def counted_engine(park, **kwargs):
        calls["engine"] += 1
        return engine(park, **kwargs)

    def counted_fit(*args, **kwargs):
        calls["fit"] += 1
        return fit(*args, **kwargs)

    monkeypatch.setattr(travel_times_module, "park_engine", counted_engine)
    monkeypatch.setattr(pipeline_stages, "fit_intent_model", counted_fit)
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(tmp_path / "data"))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield calls
    st.cache_resource.clear()
    st.cache_data.clear()


def _run(page: str):
    from streamlit.testing.v1 import AppTest

    from ui import state

    at = signed_in(AppTest.from_file(str(REPO / "app.py"), default_timeout=240))
    at.session_state[state.LANG] = "en"
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow  # two cold AppTest runs of the Enterprise page (engine, survey, model fit)
def test_a_restarted_app_loads_results_from_disk_instead_of_recomputing(counted) -> None:
    import streamlit as st

    first = _run("pages/enterprise.py")
    assert counted == {"engine": 1, "fit": 1}
    shown = [m.value for m in first.metric]
    # a restart: the server process is new, so every in-memory cache is empty
    st.cache_resource.clear()
    st.cache_data.clear()
    second = _run("pages/enterprise.py")
    assert counted == {"engine": 1, "fit": 1}  # loaded from the data directory, not recomputed
    assert [m.value for m in second.metric] == shown
    _run("pages/gaps.py")
    assert counted == {"engine": 1, "fit": 1}


def test_old_entries_are_trimmed_and_the_newest_kept(store, tmp_path: Path) -> None:
    warm = WarmStore(tmp_path, store=store)
    keys = [replace(_small_key(), data_version=f"{i:064d}") for i in range(20)]
    for value, key in enumerate(keys):
        warm.save(Stage.PARK, key, (value,))
        if value == 10:
            assert warm.get_or_compute(Stage.PARK, keys[0], tuple, tuple) == (0,)  # used again
    kept = [warm.has(Stage.PARK, key) for key in keys]
    assert sum(kept) == 16 and kept[0] and not any(kept[1:5])  # least recently used go first
    assert warm.load(Stage.PARK, keys[-1], tuple) == (19,)


@pytest.mark.slow  # the background thread computes the demo park's travel times, survey and model
def test_the_sidebar_warms_missing_results_in_the_background(
    counted, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from retention.i18n import t
    from ui import state, warmup

    monkeypatch.setenv("PARKLIFE_BACKGROUND_WARMUP", "1")
    preparing = t("pipeline.warmup.preparing", "en", stages="").split(":")[0]
    first = signed_in(AppTest.from_file(str(REPO / "app.py"), default_timeout=240))
    first.session_state[state.LANG] = "en"
    first.run()  # the Overview page: needs no pipeline result itself
    assert not first.exception, [e.value for e in first.exception]
    assert any(c.value.startswith(preparing) for c in first.sidebar.caption)
    warmup.wait(timeout_seconds=600)
    assert counted == {"engine": 1, "fit": 1}
    _run("pages/enterprise.py")  # loads what the thread stored
    assert counted == {"engine": 1, "fit": 1}
    first.run()
    assert not any(c.value.startswith(preparing) for c in first.sidebar.caption)


@pytest.mark.slow  # two cold AppTest runs of the Survey page (reads and imports the demo survey)
def test_a_restarted_app_shows_the_survey_page_without_reading_the_file_again(
    counted, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st

    from ui import cached_survey

    calls: list[str] = []
    read, imported = cached_survey.read_survey_file, cached_survey.import_survey

    def counted_read(*args, **kwargs):
        calls.append("read")
        return read(*args, **kwargs)

    def counted_import(*args, **kwargs):
        calls.append("import")
        return imported(*args, **kwargs)

    monkeypatch.setattr(cached_survey, "read_survey_file", counted_read)
    monkeypatch.setattr(cached_survey, "import_survey", counted_import)
    first = _run("pages/survey.py")
    assert calls == ["read", "import"]
    shown = [m.value for m in first.metric]
    st.cache_resource.clear()
    st.cache_data.clear()
    second = _run("pages/survey.py")
    assert calls == ["read", "import"]  # the file's reading and import came from disk
    assert [m.value for m in second.metric] == shown
