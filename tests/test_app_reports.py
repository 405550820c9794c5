"""AppTests of the Reports page: build a snapshot, download it, both languages, safe text."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from retention.i18n import t
from tests.app_session import signed_in
from ui import state

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
PAGE = "pages/reports.py"
TIMEOUT_SECONDS = 300  # cold: demo park, travel times and (with an enterprise) the model fit

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    return directory


def _reports_page(lang: str) -> AppTest:
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS))
    at.session_state[state.LANG] = lang
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reports_page_asks_for_a_build_first(lang):
    at = _reports_page(lang)
    assert at.title[0].value == t("reports.title", lang)
    assert at.selectbox(key="reports.format").value == "pdf"
    assert at.selectbox(key="reports.lang").value == lang  # the file's language follows the UI
    assert any(t("reports.not_built", lang) in info.value for info in at.info)
    assert not at.get("download_button")


def test_build_shows_the_snapshot_and_offers_its_download():
    at = _reports_page("zh")
    at.selectbox(key="reports.format").set_value("xlsx").run()
    at.button(key="reports.build").click().run()
    assert not at.exception, at.exception
    downloads = at.get("download_button")
    assert len(downloads) == 1
    label = downloads[0].proto.label
    assert "XLSX" in label
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics[t("report.kpi.enterprises", "zh")] == "320"
    assert any(m.startswith("住户平均短板指数") for m in metrics)
    # A rerun (e.g. the download click) keeps the built snapshot without building it again.
    at.run()
    assert len(at.get("download_button")) == 1
    # Another choice asks for a new build.
    at.selectbox(key="reports.lang").set_value("en").run()
    assert not at.get("download_button")


def test_downloaded_workbook_is_the_snapshot(data_dir):
    from retention.pipeline import park_inputs, park_key, run_key
    from retention.pipeline.snapshot import build_snapshot, write_snapshot
    from ui.map_view import VENDOR_DIR

    park = park_inputs(park_key("jinshan", data_dir=data_dir), data_dir=data_dir)
    key = run_key("jinshan", data_dir=data_dir, data_version=park.data_version)
    content = build_snapshot(park, key, lang="en", data_dir=data_dir)
    book = openpyxl.load_workbook(
        io.BytesIO(write_snapshot(content, "xlsx", assets_dir=VENDOR_DIR))
    )
    assert "Worst-served residences" in book.sheetnames
    at = _reports_page("en")
    at.selectbox(key="reports.format").set_value("xlsx").run()
    at.button(key="reports.build").click().run()
    metrics = {metric.label: metric.value for metric in at.metric}
    gap = next(k for k in content.kpis if k.label.startswith("Mean gap index"))
    assert metrics[gap.label].startswith(gap.value_text())


def test_snapshot_of_the_scenario_chosen_in_the_sidebar(data_dir):
    from retention.scenario.model import AddAmenity, Scenario
    from retention.scenario.records import ScenarioStore

    record = ScenarioStore(data_dir).save(
        "jinshan",
        Scenario("Lake clinic", (AddAmenity("X1", "Lake clinic", "clinic", 113.24, 27.92, 50.0),)),
        author="test",
    )
    other = ScenarioStore(data_dir).save(
        "jinshan",
        Scenario("Lake court", (AddAmenity("X2", "Court", "sports_court", 113.24, 27.92, 1.0),)),
        author="test",
    )
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS))
    at.session_state[state.LANG] = "en"
    at.run()
    at.selectbox(key=state.WIDGET_SCENARIO).set_value(record.scenario_id).run()
    at.switch_page(PAGE).run()
    assert any(t("reports.with_scenario", "en") in info.value for info in at.info)
    assert at.get("download_button")[0].proto.label == t("reports.scenario_json", "en")
    at.selectbox(key="reports.format").set_value("xlsx").run()
    at.button(key="reports.build").click().run()
    assert not at.exception, at.exception
    assert any("Lake clinic" in markdown.value for markdown in at.markdown)
    assert any(metric.label.startswith("People who gain time") for metric in at.metric)
    # Another saved scenario beside it: a new build, its column in the side-by-side table.
    compare = at.multiselect(key="reports.compare")
    assert compare.options == ["Lake court"]  # not the sidebar's own scenario
    compare.set_value([other.scenario_id]).run()
    assert not at.get("download_button")[1:]  # the snapshot file must be built again
    at.button(key="reports.build").click().run()
    assert not at.exception, at.exception
    tables = [frame.value for frame in at.dataframe]
    assert any({"Lake clinic", "Lake court"} <= set(map(str, t.columns)) for t in tables)


def test_hr_exports_a_snapshot_of_its_own_enterprise_only(data_dir):
    from retention.auth.roles import Role, UserScope
    from retention.data.layers import LayerKind
    from retention.errors import AccessDeniedError
    from retention.pipeline import park_inputs, park_key, run_key
    from retention.pipeline.snapshot import build_snapshot
    from retention.report.enterprise_tables import enterprise_names

    park = park_inputs(park_key("jinshan", data_dir=data_dir), data_dir=data_dir)
    firms = park.layer(LayerKind.ENTERPRISES).sort_values("employees", ascending=False)
    own, other = firms["id"].astype(str).tolist()[:2]
    names = enterprise_names(park.layer(LayerKind.ENTERPRISES), lang="en")
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS), Role.HR, (own,))
    at.session_state[state.LANG] = "en"
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert any(t("reports.hr_scope", "en") in info.value for info in at.info)
    box = at.selectbox(key="reports.enterprise")
    assert box.value == own and box.options == [names[own]]  # no other firm, no park-only file
    at.selectbox(key="reports.format").set_value("xlsx").run()
    at.button(key="reports.build").click().run()
    assert not at.exception, at.exception
    assert len(at.get("download_button")) == 1
    headings = [markdown.value for markdown in at.markdown]
    assert any(names[own] in heading for heading in headings)
    assert not any(names[other] in heading for heading in headings)
    # Attacks: a forged kept choice is not one of the widget's options: the page shows the
    # user's own firm again (ui.state.kept checks every value against the options) ...
    at.session_state[state.REPORTS_ENTERPRISE.key] = other
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="reports.enterprise").value == own
    # ... a forged widget value is not a choice of the widget ...
    at.session_state["reports.enterprise"] = other
    with pytest.raises(ValueError, match="is not in list"):
        at.run()
    # ... and the pipeline, given the session's run key, refuses the other firm before any work.
    hr_key = run_key(
        "jinshan",
        data_dir=data_dir,
        data_version=park.data_version,
        user_scope=UserScope("test-hr", Role.HR, (own,)).canonical(),
    )
    with pytest.raises(AccessDeniedError, match=f"may not see enterprise '{other}'"):
        build_snapshot(park, hr_key, lang="en", data_dir=data_dir, enterprise_id=other)
    with pytest.raises(AccessDeniedError, match="own enterprises only"):
        build_snapshot(park, hr_key, lang="en", data_dir=data_dir)


def test_a_pdf_is_written_by_a_worker_process_with_its_steps_shown(monkeypatch):
    import ui.cached_reports as cached_reports
    from retention.pipeline import snapshot_process

    seen: list[tuple[str, int, int]] = []
    real = snapshot_process.write_snapshot_in_subprocess

    def spy(content, fmt, *, assets_dir, progress=None):
        def passed_on(step: str, done: int, total: int) -> None:
            seen.append((step, done, total))
            assert progress is not None
            progress(step, done, total)  # the page's bar, drawn in the session's thread

        return real(content, fmt, assets_dir=assets_dir, progress=passed_on)

    monkeypatch.setattr(cached_reports, "write_snapshot_in_subprocess", spy)
    at = _reports_page("en")
    at.selectbox(key="reports.format").set_value("pdf").run()
    at.button(key="reports.build").click().run()
    assert not at.exception, at.exception
    assert [step for step, _, _ in seen][:1] == ["charts"] and seen[-1][0] == "layout"
    total = seen[-1][2]
    assert [done for _, done, _ in seen] == list(range(total))  # every step, in order
    bars = at.get("progress")
    assert [(bar.value, bar.text) for bar in bars] == [(100, t("reports.progress.done", "en"))]
    downloads = at.get("download_button")
    assert len(downloads) == 1 and "PDF" in downloads[0].proto.label


def test_a_failed_worker_is_reported_and_nothing_is_offered(monkeypatch):
    import ui.cached_reports as cached_reports
    from retention.errors import SnapshotWriteError

    def failing(content, fmt, *, assets_dir, progress=None):
        raise SnapshotWriteError(
            "writing the PPTX snapshot in its worker process failed: OSError: disk full",
            detail="Traceback (most recent call last): ...",
        )

    monkeypatch.setattr(cached_reports, "write_snapshot_in_subprocess", failing)
    at = _reports_page("zh")
    at.selectbox(key="reports.format").set_value("pptx").run()
    at.button(key="reports.build").click().run()
    assert not at.exception, at.exception
    errors = [error.value for error in at.error]
    assert len(errors) == 1 and "disk full" in errors[0] and "写入文件失败" in errors[0]
    assert not at.get("download_button")
    at.run()  # a rerun does not offer a file that was never written
    assert not at.get("download_button")
    assert any(t("reports.not_built", "zh") in info.value for info in at.info)
