"""The UI-free pipeline: run keys name every input, equal keys give equal numbers, nothing a stage
is given is changed, and the score tables hold the Gaps page's numbers with units in names."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from retention.access.indicators import ParkIndicators
from retention.access.parameters import TravelParameters
from retention.access.travel_times import TravelTimeResult
from retention.errors import ParameterError
from retention.model.leavers import ConversionParameters, ReplacementCost
from retention.park_parameters import ParkParameters, park_parameters_version, save_park_parameters
from retention.pipeline import (
    ACCESS_MODE,
    ACCESS_WINDOW,
    RunKey,
    RunKeyMismatchError,
    Stage,
    current_survey,
    enterprise_view,
    gap_weights,
    indicators,
    park_inputs,
    park_key,
    peer_bands,
    retention_inputs,
    run_key,
    score_tables,
    travel_times,
    workforce_access,
)
from retention.storage.store import FileStore
from retention.survey.privacy import PrivacyParameters
from tests.app_session import signed_in

REPO = Path(__file__).resolve().parent.parent
PARK = "jinshan"
WINDOW = "weekday_evening"

DEFAULTS = ParkParameters()
WINDOWS = DEFAULTS.time_windows
CHANGED: dict[str, ParkParameters] = {
    "walk speed": replace(DEFAULTS, travel=TravelParameters(walk_speed_m_per_min=30.0)),
    "e-bike speed": replace(DEFAULTS, travel=TravelParameters(ebike_speed_kmh=12.0)),
    "engine limit": replace(DEFAULTS, travel=TravelParameters(max_minutes=45.0)),
    "evening hours": replace(
        DEFAULTS,
        time_windows=tuple(
            replace(w, end="21:00") if w.key == WINDOW else w for w in DEFAULTS.time_windows
        ),
    ),
    "decay bandwidth": replace(DEFAULTS, decay=replace(DEFAULTS.decay, source="other source")),
    "conversion": replace(DEFAULTS, conversion=ConversionParameters(p_leave_given_intent=0.5)),
    "replacement cost": replace(
        DEFAULTS, replacement_cost=ReplacementCost(cost_cny_per_leaver=12_000.0)
    ),
    "k": replace(DEFAULTS, privacy=PrivacyParameters(min_group_size=6)),
}


def _key(parameters: ParkParameters = DEFAULTS, **fields: object) -> RunKey:
    values: dict[str, object] = {
        "park_id": PARK,
        "data_version": "a" * 64,
        "parameters": parameters,
        "survey_version": "demo:1",
    }
    values.update(fields)
    return RunKey(**values)  # type: ignore[arg-type]


# --- the key ------------------------------------------------------------------------------------


def test_equal_inputs_give_equal_keys_and_digests(tmp_path: Path) -> None:
    first = run_key(PARK, data_dir=tmp_path)
    second = run_key(PARK, data_dir=tmp_path)
    assert first == second
    assert hash(first) == hash(second)
    assert first.digest() == second.digest()
    assert first.parameters == ParkParameters()  # no parameters file: the sourced defaults
    assert first.survey_version.startswith("demo:")
    assert first.scenario_id is None and first.user_scope is None


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_changing_any_parameter_changes_the_key(name: str) -> None:
    base, changed = _key(), _key(CHANGED[name])
    assert changed != base
    assert changed.digest() != base.digest()
    assert changed.for_stage(Stage.ENTERPRISE).digest() != base.digest()


@pytest.mark.parametrize(
    "field, value",
    [
        ("park_id", "other"),
        ("data_version", "b" * 64),
        ("survey_version", "stored:2"),
        ("scenario_id", "shuttle-a"),
        ("user_scope", "hr:E001"),
    ],
)
def test_changing_any_other_field_changes_the_key(field: str, value: str) -> None:
    base, changed = _key(), _key(**{field: value})
    assert changed != base
    assert changed.digest() != base.digest()


@settings(max_examples=40, deadline=None)
@given(
    first=hst.floats(min_value=20.0, max_value=150.0, allow_nan=False),
    second=hst.floats(min_value=20.0, max_value=150.0, allow_nan=False),
)
def test_digests_differ_exactly_when_walking_speeds_differ(first: float, second: float) -> None:
    a = _key(replace(DEFAULTS, travel=TravelParameters(walk_speed_m_per_min=first)))
    b = _key(replace(DEFAULTS, travel=TravelParameters(walk_speed_m_per_min=second)))
    assert (a.digest() == b.digest()) == (first == second)


def test_a_stage_key_keeps_what_the_stage_reads_and_nothing_else() -> None:
    base = _key(user_scope="hr:E001")
    cost = _key(CHANGED["replacement cost"], user_scope="hr:E001")
    walk = _key(CHANGED["walk speed"], user_scope="hr:E001")
    decay = _key(CHANGED["decay bandwidth"], user_scope="hr:E001")
    k = _key(CHANGED["k"], user_scope="hr:E001")
    for stage in (Stage.PARK, Stage.TRAVEL_TIMES, Stage.INDICATORS, Stage.SURVEY, Stage.MODEL):
        assert cost.for_stage(stage) == base.for_stage(stage), stage
    assert cost.for_stage(Stage.ENTERPRISE) != base.for_stage(Stage.ENTERPRISE)
    assert walk.for_stage(Stage.PARK) == base.for_stage(Stage.PARK)
    for stage in (Stage.TRAVEL_TIMES, Stage.INDICATORS, Stage.MODEL, Stage.ENTERPRISE):
        assert walk.for_stage(stage) != base.for_stage(stage), stage
    assert decay.for_stage(Stage.TRAVEL_TIMES) == base.for_stage(Stage.TRAVEL_TIMES)
    assert decay.for_stage(Stage.INDICATORS) != base.for_stage(Stage.INDICATORS)
    assert k.for_stage(Stage.SURVEY) != base.for_stage(Stage.SURVEY)
    # the survey version matters to the survey and the model only; the scope to the survey only
    other_survey = _key(survey_version="stored:9", user_scope="hr:E001")
    assert other_survey.for_stage(Stage.INDICATORS) == base.for_stage(Stage.INDICATORS)
    assert other_survey.for_stage(Stage.MODEL) != base.for_stage(Stage.MODEL)
    assert base.for_stage(Stage.MODEL).user_scope is None
    assert base.for_stage(Stage.SURVEY).user_scope == "hr:E001"
    # narrowing twice is narrowing once, and the park key is the park stage of the run key
    for stage in Stage:
        assert base.for_stage(stage).for_stage(stage) == base.for_stage(stage)


def test_saving_a_parameter_changes_the_key_of_the_park(tmp_path: Path) -> None:
    before = run_key(PARK, data_dir=tmp_path)
    save_park_parameters(
        CHANGED["walk speed"],
        PARK,
        store=FileStore(tmp_path),
        expected_version=park_parameters_version(PARK, store=FileStore(tmp_path)),
    )
    after = run_key(PARK, data_dir=tmp_path)
    assert after.parameters == CHANGED["walk speed"]
    assert after.digest() != before.digest()
    assert park_key(PARK, data_dir=tmp_path) == after.for_stage(Stage.PARK)


def test_the_digest_is_the_same_in_another_process(tmp_path: Path) -> None:
    save_park_parameters(
        CHANGED["evening hours"],
        PARK,
        store=FileStore(tmp_path),
        expected_version=park_parameters_version(PARK, store=FileStore(tmp_path)),
    )
    script = (
        "from pathlib import Path; from retention.pipeline import run_key; "
        f"print(run_key({PARK!r}, data_dir=Path({str(tmp_path)!r})).digest())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == run_key(PARK, data_dir=tmp_path).digest()


# --- stages -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunKey, object, TravelTimeResult]:
    data_dir = tmp_path_factory.mktemp("data")
    key = run_key(PARK, data_dir=data_dir)
    park = park_inputs(key, data_dir=data_dir)
    return data_dir, key, park, travel_times(park, key)


def test_a_stage_refuses_data_its_key_does_not_name(demo) -> None:
    data_dir, key, park, travel = demo
    stale = replace(key, data_version="0" * 64)
    with pytest.raises(RunKeyMismatchError, match="data version"):
        travel_times(park, stale)
    with pytest.raises(RunKeyMismatchError, match="data version"):
        park_inputs(stale, data_dir=data_dir)
    slower = replace(key, parameters=CHANGED["walk speed"])
    with pytest.raises(RunKeyMismatchError, match="travel parameters"):
        indicators(travel, slower, mode="walk", window=WINDOW)


def _frame_digest(frame: pd.DataFrame) -> str:
    data = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    for column in data.select_dtypes(include="object").columns:
        data[column] = data[column].map(repr)  # lists (reasons for leaving) are not hashable
    hashed = pd.util.hash_pandas_object(data, index=True).to_numpy()
    names = repr(list(data.columns)) + repr(list(data.dtypes.astype(str)))
    return hashlib.sha256(hashed.tobytes() + names.encode()).hexdigest()


def _travel_digest(travel: TravelTimeResult) -> str:
    parts = [_frame_digest(travel.origins), _frame_digest(travel.amenities)]
    parts += [
        hashlib.sha256(np.ascontiguousarray(travel.minutes[k]).tobytes()).hexdigest()
        for k in sorted(travel.minutes)
    ]
    parts.append(hashlib.sha256(travel.open_minutes.tobytes()).hexdigest())
    parts.append(hashlib.sha256(travel.origins.geometry.to_wkb().sum()).hexdigest())
    return "".join(parts)


def _indicator_digest(result: ParkIndicators) -> str:
    return "".join(
        _frame_digest(frame)
        for frame in (
            result.origins,
            result.nearest,
            result.opportunities,
            result.supply_per_1000,
            result.living_circle,
            result.compliance,
            result.gap,
        )
    )


def test_the_same_key_gives_the_same_numbers_on_a_fresh_run(demo) -> None:
    data_dir, key, _, travel = demo
    again_key = run_key(PARK, data_dir=data_dir)
    again_park = park_inputs(again_key, data_dir=data_dir)
    again = travel_times(again_park, again_key)
    assert again_key == key
    assert _travel_digest(again) == _travel_digest(travel)
    for mode in ("walk", "ebike", "transit"):
        first = indicators(travel, key, mode=mode, window=WINDOW, threshold_minutes=10.0)
        second = indicators(again, again_key, mode=mode, window=WINDOW, threshold_minutes=10.0)
        assert _indicator_digest(first) == _indicator_digest(second)


def test_score_tables_hold_the_indicators_with_units_and_hand_worked_zone_means(demo) -> None:
    _, key, park, travel = demo
    scores = score_tables(park, travel, key, window=WINDOW, threshold_minutes=10.0)
    walk = indicators(travel, key, mode="walk", window=WINDOW, threshold_minutes=10.0)
    rows = np.flatnonzero((walk.origins["origin_set"] == "residence").to_numpy())
    residences = scores.residences
    assert residences["origin_id"].tolist() == walk.origins["origin_id"].iloc[rows].tolist()
    np.testing.assert_array_equal(
        residences["walk_nearest_canteen_minutes"].to_numpy(),
        walk.nearest["canteen"].iloc[rows].to_numpy(dtype=float),
    )
    np.testing.assert_array_equal(
        residences["walk_gap_index_0_100"].to_numpy(),
        walk.gap["gap_index"].iloc[rows].to_numpy(dtype=float),
    )
    assert "transit_opportunities_clinic_within_10min_count" in residences.columns
    assert "ebike_e2sfca_grocery_per_1000_people" in scores.enterprises.columns
    assert "walk_living_circle_canteen_met" in scores.h3_cells.columns
    assert set(scores.h3_cells.geometry.geom_type) == {"Polygon"}
    assert len(scores.enterprises) == int((walk.origins["origin_set"] == "enterprise").sum())
    # one grid zone by hand: residents-weighted mean, unreachable counted as the engine's limit
    zone = scores.zones[(scores.zones["level"] == "grid") & (scores.zones["residents"] > 0)].iloc[0]
    inside = residences[residences["grid_zone_id"] == zone["zone_id"]]
    minutes = inside["walk_nearest_sports_court_minutes"].clip(upper=travel.params.max_minutes)
    expected = float((minutes * inside["people"]).sum() / inside["people"].sum())
    assert zone["walk_nearest_sports_court_minutes"] == pytest.approx(expected, rel=1e-9)
    assert zone["residents"] == pytest.approx(float(inside["people"].sum()))


def test_score_tables_name_the_valid_windows_and_modes(demo) -> None:
    _, key, park, travel = demo
    with pytest.raises(ParameterError, match="weekday_evening"):
        score_tables(park, travel, key, window="midnight")
    with pytest.raises(ParameterError, match="walk, ebike, transit"):
        score_tables(park, travel, key, window=WINDOW, modes=("car",))


@pytest.mark.slow  # imports the demo survey and fits the model (~10 s)
def test_no_stage_changes_what_it_is_given(demo) -> None:
    data_dir, key, park, travel = demo
    layers_before = {kind: _frame_digest(frame) for kind, frame in park.layers.items()}
    travel_before = _travel_digest(travel)
    survey = current_survey(park, key, data_dir=data_dir)
    survey_before = _frame_digest(survey.survey)
    weights = gap_weights(park, survey, key, method="stated")
    walk = indicators(
        travel, key, mode=ACCESS_MODE, window=ACCESS_WINDOW, weights=dict(weights.weights or ())
    )
    walk_before = _indicator_digest(walk)
    inputs = retention_inputs(park, travel, survey, key)
    features_before = _frame_digest(inputs.features)
    coefficients = None if inputs.model is None else inputs.model.coefficients.copy()
    enterprise_id = str(inputs.features["enterprise_id"].value_counts().index[0])
    view = enterprise_view(inputs, key, enterprise_id)
    access_table, sat_table = peer_bands(inputs, key, enterprise_id)
    workforce = workforce_access(walk, enterprise_id)
    score_tables(park, travel, key, window=ACCESS_WINDOW)
    assert not view.suppressed and len(access_table) and len(sat_table) and len(workforce)
    assert {kind: _frame_digest(frame) for kind, frame in park.layers.items()} == layers_before
    assert _travel_digest(travel) == travel_before
    assert _frame_digest(survey.survey) == survey_before
    assert _indicator_digest(walk) == walk_before
    assert _frame_digest(inputs.features) == features_before
    assert inputs.model is not None and coefficients is not None
    np.testing.assert_array_equal(inputs.model.coefficients, coefficients)
    # the enterprise figures follow the key's saved cost; the page's slider overrides it
    dearer = replace(key, parameters=CHANGED["replacement cost"])
    with pytest.raises(RunKeyMismatchError):
        retention_inputs(park, travel, survey, replace(key, survey_version="stored:0"))
    priced = enterprise_view(inputs, dearer, enterprise_id)
    assert priced.leavers["cost_cny"] == pytest.approx(1.2 * view.leavers["cost_cny"], rel=1e-9)
    assert priced.leavers["leavers_per_year"] == view.leavers["leavers_per_year"]


@pytest.mark.slow  # a cold AppTest run of the Gaps page
def test_the_gaps_page_shows_the_numbers_of_a_direct_pipeline_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from retention.i18n import t
    from ui import state

    data_dir = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(data_dir))
    save_park_parameters(
        CHANGED["walk speed"],
        PARK,
        store=FileStore(data_dir),
        expected_version=park_parameters_version(PARK, store=FileStore(data_dir)),
    )  # not the defaults
    st.cache_resource.clear()
    st.cache_data.clear()
    at = signed_in(AppTest.from_file(str(REPO / "app.py"), default_timeout=180))
    at.session_state[state.LANG] = "en"
    at.run()
    at.switch_page("pages/gaps.py").run()
    at.selectbox(key="gaps.mode").set_value("walk").run()
    at.selectbox(key="gaps.window").set_value(WINDOW).run()
    assert not at.exception, [e.value for e in at.exception]
    residence = str(at.selectbox(key="gaps.residence").value)
    shown = {m.label: m.value for m in at.metric}[t("gaps.indicator.gap_index", "en")]

    key = run_key(PARK, data_dir=data_dir)
    assert key.parameters == CHANGED["walk speed"]
    park = park_inputs(key, data_dir=data_dir)
    walk = indicators(travel_times(park, key), key, mode="walk", window=WINDOW)
    row = np.flatnonzero(
        (walk.origins["origin_set"] == "residence").to_numpy()
        & (walk.origins["origin_id"].astype(str) == residence).to_numpy()
    )
    assert len(row) == 1
    assert shown == f"{walk.gap['gap_index'].iloc[row[0]]:.1f}"
    st.cache_resource.clear()
    st.cache_data.clear()


# --- the engine: built once, shared by travel times, isochrones and every window's indicators ---


def test_the_engine_gives_the_travel_times_and_shares_its_streets(demo) -> None:
    from retention.access.indicators import isochrones as network_isochrones
    from retention.access.network import network_from_roads
    from retention.data.layers import LayerKind
    from retention.pipeline import engine, isochrones, streets

    _, key, park, travel = demo
    graphs = streets(park, key)
    built = engine(park, key, streets=graphs)
    assert built.travel is graphs  # one street network, not a second build
    assert travel_times(park, key, engine=built) is built.result
    for pair, expected in travel.minutes.items():
        np.testing.assert_array_equal(built.result.minutes[pair], expected, err_msg=str(pair))
    home = park.layer(LayerKind.RESIDENCES).geometry.iloc[0]
    params = key.parameters.travel
    for mode, speed in (
        ("walk", params.walk_speed_m_per_min),
        ("ebike", params.ebike_speed_m_per_min),
    ):
        areas = isochrones(graphs, key, home.x, home.y, mode=mode)
        expected = network_isochrones(
            network_from_roads(park.layer(LayerKind.ROADS)),
            home.x,
            home.y,
            network_mode="bike" if mode == "ebike" else "walk",
            speed_m_per_min=speed,
            walk_speed_m_per_min=params.walk_speed_m_per_min,
            max_snap_distance_metres=params.max_snap_distance_metres,
        )
        assert areas is not None and len(areas) == 3
        assert areas["cells"].tolist() == expected["cells"].tolist()
    other = replace(key, parameters=CHANGED["walk speed"])
    with pytest.raises(RunKeyMismatchError, match="travel parameters"):
        travel_times(park, other, engine=built)
    with pytest.raises(RunKeyMismatchError, match="travel parameters"):
        isochrones(graphs, other, home.x, home.y, mode="walk")


def test_every_window_at_once_gives_each_window_s_indicators(demo) -> None:
    from retention.pipeline import indicators_by_window

    _, key, _, travel = demo
    for mode in ("walk", "transit"):
        together = indicators_by_window(travel, key, mode=mode, demand="both")
        assert list(together) == [w.key for w in WINDOWS]
        for window, got in together.items():
            alone = indicators(travel, key, mode=mode, window=window, demand="both")
            for name in ("nearest", "opportunities", "supply_per_1000", "gap", "compliance"):
                pd.testing.assert_frame_equal(
                    getattr(got, name), getattr(alone, name), check_exact=True, obj=name
                )
