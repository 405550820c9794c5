"""``parklife score`` end to end on the demo park: the Gaps page's numbers, in every format.

The central test saves non-default parameters for the park, runs ``parklife score`` and then
reads the same numbers off the Gaps page with AppTest (worst-served residences and enterprises,
zone ranking) for three indicators: the command line and the page must agree to the digit the
page shows.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from retention.access.parameters import TravelParameters
from retention.cli import main
from retention.cli._command import ExitCode
from retention.i18n import LANGUAGES, catalogue, t
from retention.park_parameters import ParkParameters, park_parameters_version, save_park_parameters
from retention.report.gap_tables import format_value
from retention.storage.park import load_park
from retention.storage.store import FileStore
from tests.app_session import signed_in

REPO = Path(__file__).resolve().parent.parent
PARK = "jinshan"
WINDOW = "weekday_evening"
PLACES = {"residences": 32, "enterprises": 320, "zones": 69}  # the demo park's counts


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err, environ={})
    return code, out.getvalue(), err.getvalue()


def _lead(key: str, lang: str) -> str:
    """The message's text before its first placeholder."""
    return catalogue()[key][lang].split("{")[0]


def test_help_lists_what_score_accepts_without_importing_the_engine() -> None:
    from retention.access.indicators import DEMAND_SETS
    from retention.access.travel_times import MODES
    from retention.cli import score
    from retention.pipeline import GAP_WEIGHT_METHODS

    assert score.HELP_MODES == MODES
    assert tuple(DEMAND_SETS) == score.HELP_DEMANDS
    assert tuple(GAP_WEIGHT_METHODS) == score.HELP_WEIGHTS
    for lang in LANGUAGES:
        code, out, _ = run("score", "--help", "--lang", lang)
        assert code == ExitCode.OK
        assert "--window" in out and "--out" in out and ".gpkg" in out


@pytest.mark.parametrize(
    ("args", "expected", "key"),
    [
        (["--window", "evening"], ExitCode.UNKNOWN_VALUE, "cli.error.window"),
        (["--window", WINDOW, "--mode", "bus"], ExitCode.UNKNOWN_VALUE, "cli.error.mode"),
        (["--window", WINDOW, "--weights", "mine"], ExitCode.UNKNOWN_VALUE, "cli.error.weights"),
        (["--window", WINDOW, "--demand", "cats"], ExitCode.UNKNOWN_VALUE, "cli.error.demand"),
        (["--window", WINDOW, "--threshold", "0"], ExitCode.USAGE, "cli.error.threshold"),
    ],
)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_score_refuses_unknown_values_before_computing(
    args: list[str], expected: ExitCode, key: str, lang: str, tmp_path: Path, monkeypatch
) -> None:
    from retention.access import travel_times

    def never(*_args, **_kwargs):
        raise AssertionError("the engine ran for a command that was going to fail")

    monkeypatch.setattr(travel_times, "travel_times_for_park", never)
    code, _, err = run(
        "score", "--park", PARK, "--out", str(tmp_path / "s.gpkg"), "--lang", lang,
        "--data-dir", str(tmp_path / "data"), *args,
    )  # fmt: skip
    assert code == expected, err
    assert _lead(key, lang) in err
    assert "Traceback" not in err
    assert not (tmp_path / "s.gpkg").exists()


@pytest.mark.parametrize(
    ("out", "expected", "key"),
    [
        ("results.txt", ExitCode.UNKNOWN_VALUE, "cli.error.out_format"),
        ("missing/results.csv", ExitCode.OUTPUT, "cli.error.out_no_folder"),
    ],
)
def test_score_checks_the_output_path_first(
    out: str, expected: ExitCode, key: str, tmp_path: Path
) -> None:
    code, _, err = run(
        "score", "--park", "nowhere", "--window", WINDOW, "--out", str(tmp_path / out),
        "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert code == expected  # not UNKNOWN_PARK: the path is checked before anything is loaded
    assert _lead(key, "en") in err


def test_score_an_unknown_park(tmp_path: Path) -> None:
    code, _, err = run(
        "score", "--park", "nowhere", "--window", WINDOW, "--out", str(tmp_path / "s.csv"),
        "--data-dir", str(tmp_path / "data"), "--lang", "zh",
    )  # fmt: skip
    assert code == ExitCode.UNKNOWN_PARK
    assert t("cli.error.unknown_park", "zh", park="nowhere", known=PARK) in err


@pytest.mark.slow  # computes the demo park's travel times (~10 s on 2 cores)
def test_score_writes_a_geopackage_layer_per_place(tmp_path: Path) -> None:
    path = tmp_path / "scores.gpkg"
    code, out, err = run(
        "score", "--park", PARK, "--window", WINDOW, "--out", str(path),
        "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert code == ExitCode.OK, err
    assert out.startswith(f"Wrote {path}:")
    layers = dict(pyogrio.list_layers(path))
    assert layers == {
        "residences": "Point",
        "enterprises": "Point",
        "h3_cells": "Polygon",
        "zones": "Polygon",
    }
    for name, rows in PLACES.items():
        assert len(gpd.read_file(path, layer=name)) == rows
    residences = gpd.read_file(path, layer="residences")
    for mode in ("walk", "ebike", "transit"):
        assert f"{mode}_gap_index_0_100" in residences
        assert f"{mode}_nearest_canteen_minutes" in residences
        assert f"{mode}_opportunities_canteen_within_15min_count" in residences
    assert residences.crs.to_epsg() == 4326
    assert not list(tmp_path.glob(".*tmp*"))


@pytest.mark.slow
def test_score_writes_csv_and_parquet_with_the_same_numbers(tmp_path: Path) -> None:
    csv_path, parquet_path = tmp_path / "s.csv", tmp_path / "s.parquet"
    common = ["--park", PARK, "--window", WINDOW, "--mode", "ebike", "--data-dir", str(tmp_path)]
    code, out, err = run("score", *common, "--out", str(csv_path), "--lang", "zh")
    assert code == ExitCode.OK, err
    assert out.startswith(f"已写入 {csv_path}")
    assert run("score", *common, "--out", str(parquet_path), "-q")[0] == ExitCode.OK
    table = pd.read_csv(csv_path, encoding="utf-8-sig", float_precision="round_trip")
    geo = gpd.read_parquet(parquet_path)
    assert list(table["place"].value_counts().sort_index().items()) == sorted(
        {**PLACES, "h3_cells": int((geo["place"] == "h3_cells").sum())}.items()
    )
    assert {"lon", "lat"} <= set(table.columns) and "geometry" not in table
    assert not any(c.startswith(("walk_", "transit_")) for c in table.columns)
    numbers = [c for c in table.columns if c.startswith("ebike_")]
    assert numbers
    np.testing.assert_array_equal(table[numbers].to_numpy(), geo[numbers].to_numpy())
    # Points inside their places: the CSV's lon/lat lie in each parquet geometry.
    points = gpd.GeoSeries(gpd.points_from_xy(table["lon"], table["lat"]), crs=geo.crs)
    assert geo.geometry.intersects(points, align=False).all()


@pytest.mark.slow  # one score run and a cold AppTest of the Gaps page, same saved parameters
def test_score_gives_the_numbers_the_gaps_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from ui import state

    data_dir = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(data_dir))
    # Not the defaults, so both must read the park's saved parameters to agree.
    defaults = ParkParameters()
    saved = replace(defaults, travel=TravelParameters(walk_speed_m_per_min=50.0))
    save_park_parameters(
        saved,
        PARK,
        store=FileStore(data_dir),
        expected_version=park_parameters_version(PARK, store=FileStore(data_dir)),
    )
    path = tmp_path / "scores.csv"
    code, _, err = run(
        "score", "--park", PARK, "--window", WINDOW, "--mode", "walk", "--weights", "stated",
        "--out", str(path), "--data-dir", str(data_dir),
    )  # fmt: skip
    assert code == ExitCode.OK, err
    scores = pd.read_csv(path, encoding="utf-8-sig", dtype={"origin_id": str, "zone_id": str})

    st.cache_resource.clear()
    st.cache_data.clear()
    at = signed_in(AppTest.from_file(str(REPO / "app.py"), default_timeout=240))
    at.session_state[state.LANG] = "en"
    at.run()
    at.switch_page("pages/gaps.py").run()
    at.selectbox(key="gaps.mode").set_value("walk").run()
    at.selectbox(key="gaps.window").set_value(WINDOW).run()
    at.radio(key="gaps.weights").set_value("stated").run()
    assert not at.exception, [e.value for e in at.exception]

    zones = load_park(PARK, data_dir=data_dir).layer("zones")
    zone_ids = dict(zip(zones["name_en"].astype(str), zones["id"].astype(str), strict=True))
    compared = 0
    for indicator, category, column in [
        ("gap_index", None, "walk_gap_index_0_100"),
        ("nearest", "canteen", "walk_nearest_canteen_minutes"),
        ("e2sfca", "sports_court", "walk_e2sfca_sports_court_per_1000_people"),
    ]:
        at.selectbox(key="gaps.indicator").set_value(indicator).run()
        if category is not None:
            at.selectbox(key="gaps.category").set_value(category).run()
        assert not at.exception, [e.value for e in at.exception]
        name_column = t("gaps.column.name", "en")
        worst = [df.value for df in at.dataframe if df.value.columns[0] == name_column]
        for table, place in zip(worst[:2], ("residences", "enterprises"), strict=True):
            rows = scores[scores["place"] == place]
            for name, people, shown in table.itertuples(index=False):
                match = rows[rows["name"] == name]
                assert len(match) >= 1, name
                values = {format_value(v, indicator, lang="en") for v in match[column]}
                assert shown in values, (indicator, place, name, shown, values)
                assert int(people) in set(match["people"].astype(int))
                compared += 1
        (ranking,) = [
            df.value for df in at.dataframe if df.value.columns[0] == t("gaps.column.zone", "en")
        ]
        zone_rows = scores[scores["place"] == "zones"].set_index("zone_id")
        for zone, residents, _workers, shown in ranking.itertuples(index=False):
            zone_id = zone_ids[zone]
            assert format_value(zone_rows.at[zone_id, column], indicator, lang="en") == shown
            assert int(zone_rows.at[zone_id, "residents"]) == int(residents)
            compared += 1
    assert compared >= 3 * (10 + 10 + 5)
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_score_with_a_hand_broken_parameters_file_names_it(lang: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    path = data_dir / "parks" / PARK / "parameters.toml"
    path.parent.mkdir(parents=True)
    path.write_text("[travel]\nwalk_speed_m_per_min = -3\n", encoding="utf-8")
    code, _, err = run(
        "score", "--park", PARK, "--window", WINDOW, "--out", str(tmp_path / "s.csv"),
        "--data-dir", str(data_dir), "--lang", lang,
    )  # fmt: skip
    assert code == ExitCode.DATA
    assert t("cli.error.parameters", lang) in err
    assert "walk_speed_m_per_min" in err and "Traceback" not in err


def test_ctrl_c_is_reported_with_its_exit_code(tmp_path: Path, monkeypatch) -> None:
    from retention.access import travel_times

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(travel_times, "travel_times_for_park", interrupted)
    out = tmp_path / "s.gpkg"
    code, _, err = run(
        "score", "--park", PARK, "--window", WINDOW, "--out", str(out),
        "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert code == ExitCode.INTERRUPTED == 130
    assert t("cli.interrupted", "en") in err
    assert not out.exists() and not list(tmp_path.glob(".*tmp*"))
