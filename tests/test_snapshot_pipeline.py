"""Snapshots of the demo park: the pipeline's numbers, in every format, from the page and the CLI.

One snapshot per language is built once per module (the travel-time engine and the model fit
take a while) and checked against the pipeline stages called directly with the same run key.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from retention.cli import main
from retention.cli._command import ExitCode
from retention.data.io import read_layer
from retention.data.layers import LayerKind
from retention.data.validate import validate_layer
from retention.park_parameters import parameter_table
from retention.pipeline import park_inputs, park_key, run_key, stages
from retention.pipeline.snapshot import UnknownEnterpriseError, build_snapshot, write_snapshot
from retention.report.snapshot import Kpi, TableBlock
from retention.storage.uploads import UploadStore

from .test_snapshot_formats import _Collector

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "static" / "vendor"
ENTERPRISE = "e0001"
HOSTILE = '=HYPERLINK("http://evil.example/x","点我")'


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module", autouse=True)
def _secrets(tmp_path_factory: pytest.TempPathFactory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARKLIFE_SECRETS_DIR", str(tmp_path_factory.mktemp("secrets")))
        yield


@pytest.fixture(scope="module")
def park_and_key(data_dir: Path):
    # A planner uploads a residence whose name is a spreadsheet formula, beside the worst-served
    # residence (same gap index, listed right after it in the snapshot's worst-served table).
    park = park_inputs(park_key("jinshan", data_dir=data_dir), data_dir=data_dir)
    key = run_key("jinshan", data_dir=data_dir, data_version=park.data_version)
    travel = stages.travel_times(park, key)
    indicators = stages.indicators(travel, key, mode="walk", window="weekday_evening")
    residences = indicators.origins["origin_set"] == "residence"
    worst = indicators.gap.loc[residences, "gap_index"].idxmax()
    point = travel.origins.geometry.loc[worst]
    far = (point.x, point.y)
    rows = pd.DataFrame(
        {
            "id": ["r-evil"],
            "name": [HOSTILE],
            "kind": ["dorm"],
            "beds": [400],
            "residents": [400],
            "lon": [far[0]],
            "lat": [far[1]],
        }
    )
    frame = read_layer(rows.to_csv(index=False).encode("utf-8"), file_name="宿舍.csv").frame
    validation = validate_layer(
        frame, LayerKind.RESIDENCES, source_name="宿舍.csv", coordinate_system="wgs84"
    )
    assert len(validation.valid) == 1, validation.issues
    UploadStore(data_dir).add_upload(
        "jinshan", "residences", validation, source_name="宿舍.csv", coordinate_system="wgs84"
    )
    park = park_inputs(park_key("jinshan", data_dir=data_dir), data_dir=data_dir)
    return park, run_key("jinshan", data_dir=data_dir, data_version=park.data_version)


@pytest.fixture(scope="module")
def snapshot_en(park_and_key, data_dir):
    park, key = park_and_key
    return build_snapshot(park, key, lang="en", data_dir=data_dir, enterprise_id=ENTERPRISE)


def _kpi(snapshot, start: str) -> Kpi:
    return next(k for k in snapshot.kpis if k.label.startswith(start))


def test_gap_kpi_is_the_people_weighted_mean_of_the_pipeline_gap_index(snapshot_en, park_and_key):
    park, key = park_and_key
    travel = stages.travel_times(park, key)
    indicators = stages.indicators(travel, key, mode="walk", window="weekday_evening")
    rows = indicators.origins["origin_set"] == "residence"
    expected = np.average(
        indicators.gap.loc[rows, "gap_index"], weights=indicators.origins.loc[rows, "weight"]
    )
    assert _kpi(snapshot_en, "Mean gap index").value == pytest.approx(expected, rel=1e-12)


def test_enterprise_leavers_equal_the_enterprise_view(snapshot_en, park_and_key, data_dir):
    park, key = park_and_key
    travel = stages.travel_times(park, key)
    survey = stages.current_survey(park, key, data_dir=data_dir)
    view = stages.enterprise_view(
        stages.retention_inputs(park, travel, survey, key), key, ENTERPRISE
    )
    kpi = _kpi(snapshot_en, "Expected leavers")
    assert (kpi.value, kpi.low, kpi.high) == (
        view.leavers["leavers_per_year"],
        view.leavers["leavers_low"],
        view.leavers["leavers_high"],
    )
    section = snapshot_en.sections[0]
    assert "not a proven cause" in section.message


def test_assumptions_hold_every_parameter_with_its_source(snapshot_en, park_and_key):
    _, key = park_and_key
    table = parameter_table(key.parameters, "en")
    assert list(snapshot_en.assumptions.frame["Source"]) == list(table["source"])
    assert len(snapshot_en.assumptions.frame) == len(table)


def test_snapshot_states_what_it_was_computed_from(snapshot_en, park_and_key):
    park, key = park_and_key
    assert snapshot_en.data_version == park.data_version
    assert snapshot_en.survey_version == key.survey_version
    assert snapshot_en.scenario is None
    assert "synthetic" in snapshot_en.synthetic_notice


def test_xlsx_holds_the_tables_with_the_uploaded_formula_name_inert(snapshot_en):
    book = openpyxl.load_workbook(
        io.BytesIO(write_snapshot(snapshot_en, "xlsx", assets_dir=ASSETS))
    )
    worst = book["Worst-served residences"]
    names = [row[0] for row in worst.iter_rows(min_row=2, values_only=True)]
    assert "'" + HOSTILE in names and HOSTILE not in names
    assert all(cell.data_type != "f" for sheet in book for row in sheet.iter_rows() for cell in row)
    tables = {block.title: block for block in snapshot_en.tables()}
    expected = tables["Worst-served residences"].frame
    assert len(names) == len(expected)


def test_html_escapes_the_uploaded_name_and_requests_nothing(snapshot_en):
    page = write_snapshot(snapshot_en, "html", assets_dir=ASSETS).decode("utf-8")
    assert "Content-Security-Policy" in page
    parser = _Collector()
    parser.feed(page)
    assert parser.external == []  # no script, style, image or link loads from anywhere
    assert HOSTILE.replace('"', "&quot;") in page or "=HYPERLINK(&quot;" in page


def test_unknown_enterprise_is_refused_before_any_computation(park_and_key, data_dir):
    park, key = park_and_key
    with pytest.raises(UnknownEnterpriseError, match="e9999"):
        build_snapshot(park, key, lang="en", data_dir=data_dir, enterprise_id="e9999")


def test_every_table_has_a_header_row_and_no_raw_codes(snapshot_en):
    for block in snapshot_en.tables():
        assert isinstance(block, TableBlock)
        headers = [str(c) for c in block.frame.columns]
        assert not {"origin_id", "enterprise_id", "contribution_low", "sat_canteen"} & set(headers)


# --- the CLI ----------------------------------------------------------------------------------


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err, environ={})
    return code, out.getvalue(), err.getvalue()


def test_cli_writes_a_chinese_pdf_with_the_same_key_figures(tmp_path, park_and_key, data_dir):
    park, key = park_and_key
    out = tmp_path / "快照.pdf"
    code, _, err = _run(
        "report",
        "--park",
        "jinshan",
        "--format",
        "pdf",
        "--lang",
        "zh",
        "--data-dir",
        str(data_dir),
        "--out",
        str(out),
    )
    assert code == ExitCode.OK, err
    assert "已写入" in err
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    snapshot = build_snapshot(park, key, lang="zh", data_dir=data_dir)
    assert snapshot.version_hash in text
    gap = next(k for k in snapshot.kpis if k.label.startswith("住户平均短板指数"))
    assert gap.value_text() in text
    assert "演示" in text or "合成" in text


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--park", "nowhere", "--format", "xlsx"), ExitCode.UNKNOWN_PARK, "nowhere"),
        (
            ("--park", "jinshan", "--format", "xlsx", "--window", "midnight"),
            ExitCode.UNKNOWN_VALUE,
            "midnight",
        ),
        (
            ("--park", "jinshan", "--format", "xlsx", "--enterprise", "e9999"),
            ExitCode.UNKNOWN_VALUE,
            "e9999",
        ),
    ],
)
def test_cli_report_errors_are_specific(tmp_path, data_dir, args, code, message):
    got, _, err = _run(
        "report",
        *args,
        "--data-dir",
        str(data_dir),
        "--lang",
        "en",
        "--out",
        str(tmp_path / "s.xlsx"),
    )
    assert got == code and message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("out", "code"),
    [(Path("none") / "s.pdf", ExitCode.OUTPUT), (Path("s.xlsx"), ExitCode.UNKNOWN_VALUE)],
)
def test_cli_report_refuses_an_unwritable_path_and_a_wrong_suffix(tmp_path, data_dir, out, code):
    args = ("--park", "jinshan", "--format", "pdf", "--lang", "en", "--data-dir", str(data_dir))
    got, _, err = _run("report", *args, "--out", str(tmp_path / out))
    assert got == code and str(out.parent if out.parent != Path(".") else out) in err


# --- a saved scenario ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_clinic(park_and_key, data_dir):
    from retention.scenario.model import AddAmenity, Scenario
    from retention.scenario.records import ScenarioStore

    scenario = Scenario(
        "Lake clinic", (AddAmenity("X1", "Lake clinic", "clinic", 113.24, 27.92, 50.0),)
    )
    return ScenarioStore(data_dir).save("jinshan", scenario, author="test")


def test_scenario_section_equals_the_lab_kpi_table(saved_clinic, park_and_key, data_dir):
    from retention.pipeline.scenarios import evaluate_saved_scenario
    from retention.scenario.compare import kpi_table

    park, key = park_and_key
    name, result = evaluate_saved_scenario(park, key, "Lake clinic", data_dir=data_dir)
    snapshot = build_snapshot(park, key, lang="en", data_dir=data_dir, scenario=(name, result))
    assert snapshot.scenario == "Lake clinic"
    assert "Lake clinic" in snapshot.header_lines()[1]
    section = snapshot.sections[0]
    assert section.title == "Scenario: Lake clinic"
    table = kpi_table(result.baseline, [(name, result)], cost=key.parameters.replacement_cost)
    avoided = next(k for k in snapshot.kpis if k.label.startswith("Leavers avoided"))
    assert avoided.value == pytest.approx(table.loc[("leavers_avoided", ""), name])
    reached = next(k for k in snapshot.kpis if k.label.startswith("People who gain time"))
    assert reached.value == result.people_reached
    assert "not a proven cause" in section.message
    baseline = build_snapshot(park, key, lang="en", data_dir=data_dir)
    assert baseline.version_hash != snapshot.version_hash


def test_cli_report_of_a_scenario_and_of_an_unknown_one(saved_clinic, tmp_path, data_dir):
    out = tmp_path / "s.xlsx"
    args = ("--park", "jinshan", "--format", "xlsx", "--lang", "en", "--data-dir", str(data_dir))
    code, _, err = _run("report", *args, "--scenario", "Lake clinic", "--out", str(out))
    assert code == ExitCode.OK, err
    book = openpyxl.load_workbook(out)
    assert "What the scenario changes" in book.sheetnames
    code, _, err = _run("report", *args, "--scenario", "Night bus", "--out", str(out))
    assert code == ExitCode.UNKNOWN_VALUE and "Night bus" in err and "Lake clinic" in err


def test_survey_section_is_the_k_anonymous_ipa_of_the_current_survey(
    snapshot_en, park_and_key, data_dir
):
    from retention.survey.analysis import AnalysisParameters, ipa
    from retention.survey.weighting import enterprise_headcounts, survey_weights

    park, key = park_and_key
    survey = stages.current_survey(park, key, data_dir=data_dir).survey
    weights = survey_weights(survey, enterprise_headcounts(park.layer(LayerKind.ENTERPRISES)))
    chart = ipa(
        survey,
        weights.weights,
        importance="stated",
        parameters=AnalysisParameters(privacy=key.parameters.privacy),
    )
    section = next(s for s in snapshot_en.sections if s.title == "What workers say")
    table = next(b for b in section.blocks if isinstance(b, TableBlock)).frame
    shown = chart.points.dropna(subset=["importance", "performance"])
    # Listed in the order to act on (the chart's numbers), the same values as the chart's.
    assert sorted(table["Importance (1–5)"]) == sorted(shown["importance"].astype(float).round(2))
    assert list(table["No."]) == list(range(1, len(shown) + 1))
    assert "Synthetic demo survey" in section.blocks[0].note


def test_enterprise_section_compares_with_anonymous_peers(snapshot_en):
    section = snapshot_en.sections[0]
    titles = [block.title for block in section.blocks if isinstance(block, TableBlock)]
    assert "Satisfaction against anonymous peers" in titles
    peers = next(b for b in section.blocks if b.title == "Satisfaction against anonymous peers")
    assert "e0002" not in peers.frame.to_string()  # peers are never named


def test_cli_exports_the_saved_scenario_as_json(saved_clinic, tmp_path, data_dir):
    from retention.scenario.model import scenario_from_json

    out = tmp_path / "clinic.json"
    args = ("--park", "jinshan", "--format", "json", "--lang", "en", "--data-dir", str(data_dir))
    code, _, err = _run("report", *args, "--scenario", "Lake clinic", "--out", str(out))
    assert code == ExitCode.OK, err
    assert scenario_from_json(out.read_text(encoding="utf-8")) == saved_clinic.scenario
    code, _, err = _run("report", *args, "--out", str(out))
    assert code == ExitCode.USAGE and "--scenario" in err


# --- a saved budget package -----------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_package(park_and_key, data_dir):
    """A budget package as the Scenario page saves it: the lake clinic chosen, the court not."""
    from retention.scenario.model import AddAmenity, BudgetPackage, PackageItem, Scenario
    from retention.scenario.records import ScenarioStore

    clinic = AddAmenity(
        "X1", "Lake clinic", "clinic", 113.24, 27.92, 50.0, annual_cost_cny_per_year=200_000.0
    )
    court = AddAmenity(
        "X2", "Lake court", "sports_court", 113.241, 27.921, 1.0, annual_cost_cny_per_year=80_000.0
    )
    package = BudgetPackage(
        250_000.0,
        "leavers_avoided",
        (PackageItem(clinic, 200_000.0, 3.0, True), PackageItem(court, 80_000.0, 1.0, False)),
    )
    scenario = Scenario("Lake package", (clinic,), package=package)
    return ScenarioStore(data_dir).save("jinshan", scenario, author="test")


def test_cli_report_of_a_budget_package_shows_its_candidates_and_whole_figures(
    saved_package, park_and_key, tmp_path, data_dir
):
    from retention.pipeline.scenarios import evaluate_saved_scenario

    out = tmp_path / "package.xlsx"
    args = ("--park", "jinshan", "--format", "xlsx", "--lang", "en", "--data-dir", str(data_dir))
    code, _, err = _run("report", *args, "--scenario", "Lake package", "--out", str(out))
    assert code == ExitCode.OK, err
    book = openpyxl.load_workbook(out)
    rows = list(book["Budget package candidates"].iter_rows(values_only=True))
    candidates = [row for row in rows[1:] if isinstance(row[0], int)]
    assert [row[-1] for row in candidates] == ["yes", "no"]
    assert [row[2] for row in candidates] == [20.0, 8.0]  # 10,000 CNY a year, each alone
    assert any("do not add up" in str(row[0]) for row in rows)  # the note under the table
    park, key = park_and_key
    name, result = evaluate_saved_scenario(park, key, "Lake package", data_dir=data_dir)
    snapshot = build_snapshot(park, key, lang="en", data_dir=data_dir, scenario=(name, result))
    section = snapshot.sections[0]
    assert "interventions 1, about 20.0 (10,000 CNY) a year" in section.message
    total = result.leavers.total
    assert f"{-float(total['delta_leavers']):,.1f}" in section.message
    assert (
        f"({-float(total['delta_high']):,.1f}–{-float(total['delta_low']):,.1f})" in section.message
    )
    assert "conversion range" in section.message and "not a proven cause" in section.message
    avoided = next(k for k in snapshot.kpis if k.label.startswith("Leavers avoided"))
    assert (avoided.low, avoided.high) == (-float(total["delta_high"]), -float(total["delta_low"]))


def test_cli_report_compares_saved_scenarios_side_by_side(
    saved_package, saved_clinic, tmp_path, data_dir
):
    out = tmp_path / "compared.xlsx"
    args = ("--park", "jinshan", "--format", "xlsx", "--lang", "en", "--data-dir", str(data_dir))
    code, _, err = _run(
        "report", *args, "--scenario", "Lake package", "--compare", "Lake clinic", "--out", str(out)
    )
    assert code == ExitCode.OK, err
    book = openpyxl.load_workbook(out)
    (sheet,) = [name for name in book.sheetnames if name.startswith("Baseline, the scenario")]
    header = next(book[sheet].iter_rows(max_row=1, values_only=True))
    assert "Lake package" in header and "Lake clinic" in header
    code, _, err = _run("report", *args, "--compare", "Lake clinic", "--out", str(out))
    assert code == ExitCode.USAGE and "--scenario" in err
    code, _, err = _run(
        "report", *args, "--scenario", "Lake package", "--compare", "Night bus", "--out", str(out)
    )
    assert code == ExitCode.UNKNOWN_VALUE and "Night bus" in err
