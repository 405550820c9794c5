"""The CLI's report of a saved scenario shows the Scenario page's figures, through the engine.

``parklife report --scenario NAME`` measures the saved scenario with
``retention.pipeline.scenarios.evaluate_saved_scenario``: the park engine's travel times as the
baseline and its delta operations for the scenario, as the Scenario page does through its
caches. The oracle is the page itself (AppTest): the KPI table the page shows for the opened
scenario equals, cell for cell, the side-by-side table of the CLI's workbook.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

import retention.scenario.evaluate as evaluate_module
from retention.cli import main
from retention.cli._command import ExitCode
from retention.data.layers import LayerKind
from retention.i18n import t
from retention.pipeline import park_inputs, park_key
from retention.scenario.model import (
    AddAmenity,
    AddRoute,
    ChangeRouteService,
    RouteStop,
    Scenario,
    ServiceWindow,
)
from retention.scenario.records import ScenarioRecord, ScenarioStore
from tests.app_session import signed_in
from ui import state

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
PAGE = "pages/scenario.py"
TIMEOUT_SECONDS = 300  # cold run: demo park, travel times, survey import and the model fit
NAME = "Evening shuttle and clinic"


def _save_scenario(data_dir: Path) -> ScenarioRecord:
    """An evening shuttle from a dormitory, a faster evening bus and a clinic beside the
    dormitory: route and amenity deltas of the engine, and a leavers estimate."""
    park = park_inputs(park_key("jinshan", data_dir=data_dir), data_dir=data_dir)
    residences = park.layer(LayerKind.RESIDENCES)
    amenities = park.layer(LayerKind.AMENITIES)
    home = residences.geometry.iloc[len(residences) // 2]
    target = amenities.geometry.iloc[len(amenities) // 3].representative_point()
    bus = str(park.layer(LayerKind.TRANSIT_ROUTES)["route_id"].iloc[0])
    scenario = Scenario(
        NAME,
        (
            AddRoute(
                "S1",
                "Evening shuttle",
                (RouteStop(home.x, home.y), RouteStop(target.x, target.y)),
                (ServiceWindow("weekday_evening", 10.0, "18:00", "22:00"),),
            ),
            ChangeRouteService(bus, (("weekday_evening", 5.0),)),
            AddAmenity("X1", "Night clinic", "clinic", home.x + 0.0005, home.y, 50.0),
        ),
    )
    return ScenarioStore(data_dir).save("jinshan", scenario, author="test")


def _page_kpis(record: ScenarioRecord) -> list[tuple[str, ...]]:
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS))
    at.session_state[state.LANG] = "en"
    at.run()
    at.switch_page(PAGE).run()
    at.selectbox(key="scenario.open").set_value(record.scenario_id)
    at.button(key="scenario.open_button").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # The name field shows the opened scenario's name (it used to keep "New scenario" and
    # rename the scenario just opened).
    assert at.text_input(key=state.SCENARIO_NAME).value == NAME
    kpi = t("scenario.col.kpi", "en")
    (table,) = [frame.value for frame in at.dataframe if kpi in frame.value.columns]
    assert list(table.columns)[1:3] == [t("scenario.col.baseline", "en"), NAME]
    return [tuple(str(value) for value in row) for row in table.itertuples(index=False)]


def _cli_kpis(data_dir: Path, out: Path) -> list[tuple[str, ...]]:
    stdout, stderr = io.StringIO(), io.StringIO()
    arguments = ["report", "--park", "jinshan", "--format", "xlsx", "--lang", "en"]
    arguments += ["--data-dir", str(data_dir), "--scenario", NAME, "--out", str(out)]
    code = main(arguments, stdout=stdout, stderr=stderr, environ={})
    assert code == ExitCode.OK, stderr.getvalue()
    book = openpyxl.load_workbook(out, read_only=True)
    heading = (t("scenario.col.kpi", "en"), t("scenario.col.baseline", "en"), NAME)
    for sheet in book.worksheets:
        rows = [row for row in sheet.iter_rows(values_only=True) if any(row)]
        if rows and tuple(rows[0][:3]) == heading:
            return [tuple("" if v is None else str(v) for v in row) for row in rows[1:]]
    raise AssertionError(f"no sheet of the workbook starts with {heading}: {book.sheetnames}")


@pytest.mark.slow  # the page's cold run and the CLI's: demo travel times and model fit twice
def test_the_cli_report_of_a_saved_scenario_shows_the_page_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(data_dir))
    record = _save_scenario(data_dir)

    def no_full_recomputation(*args: object, **kwargs: object) -> None:
        raise AssertionError("the scenario was recomputed in full, not through the engine")

    # Both measure through the engine's deltas: a full recomputation would fail here.
    monkeypatch.setattr(evaluate_module, "travel_times_for_park", no_full_recomputation)
    page = _page_kpis(record)
    cli = _cli_kpis(data_dir, tmp_path / "scenario.xlsx")
    assert cli == page
    labels = [row[0] for row in page]
    avoided = t("scenario.kpi.leavers_avoided", "en")
    assert avoided in labels  # the leavers estimate is among the figures compared
    changed = [row for row in page if row[-1] not in ("0.00", "0", "")]
    assert changed, "the scenario changes none of the figures compared"
