"""Snapshot export of the Park comparison (``report.park_comparison.comparison_snapshot``).

On the hand-built batch summary of tests/test_app_compare.py (three scored parks with gap
indices 70 > 55 > 40, one failed park, one park with a survey estimate), plus a park named like
a spreadsheet formula: the snapshot ranks the parks as the page does, honours the page's
filters, carries the batch's own figures (compliance shares as percentages), names the failed
park with its error; the XLSX has no live formula and numbers as numbers; the HTML file escapes
names and can make no request (CSP, no external source).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from retention.batch import ParkOutcome, summary_frame, write_summary
from retention.i18n import t
from retention.pipeline.snapshot import write_snapshot
from retention.report.park_comparison import comparison_snapshot
from retention.report.snapshot import MapBlock, TableBlock
from tests.app_session import signed_in
from tests.test_app_compare import APP, HOSTILE, PAGE, _row
from ui import state
from ui.map_view import VENDOR_DIR

FORMULA = '=HYPERLINK("http://example.invalid","click")'


def _summary() -> pd.DataFrame:
    outcomes = [
        ParkOutcome("pa", "scored", "k1", _row("pa", HOSTILE, "Hangzhou", "Xiaoshan", 40.0,
                                               canteen=0.25, clinic=0.75)),
        ParkOutcome("pb", "skipped", "k2", _row("pb", "Beta", "Hangzhou", "Yuhang", 70.0,
                                                leavers=120.0, turnover=0.2)),
        ParkOutcome("pc", "scored", "k3", _row("pc", FORMULA, "Ningbo", "Beilun", 55.0)),
        ParkOutcome("pd", "failed", "", {}, "ValidationError: amenities.geojson unreadable"),
    ]  # fmt: skip
    return summary_frame(outcomes)


def _tables(snapshot) -> dict[str, pd.DataFrame]:  # type: ignore[no-untyped-def]
    return {
        block.title: block.frame
        for section in snapshot.sections
        for block in section.blocks
        if isinstance(block, TableBlock)
    }


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_snapshot_ranks_as_the_page_with_the_batch_figures(lang: str) -> None:
    snapshot = comparison_snapshot(_summary(), batch_name="province", lang=lang)
    tables = _tables(snapshot)
    ranking = tables[t("compare.ranking", lang)]

    def col(key: str, **fmt: object) -> str:
        return t(f"compare_snapshot.col.{key}", lang, **fmt)

    assert ranking[col("park_id")].tolist() == ["pb", "pc", "pa"]
    assert ranking[col("rank")].tolist() == [1, 2, 3]
    assert ranking[col("gap_index")].tolist() == [70.0, 55.0, 40.0]
    # Mean of the two categories' shares, in percent: (0.25 + 0.75) / 2 for pa.
    assert ranking[col("compliance_mean")].tolist() == [50.0, 50.0, 50.0]
    turnover = ranking[col("turnover")].to_numpy()
    assert turnover[0] == pytest.approx(20.0) and np.isnan(turnover[1:]).all()
    per_category = tables[t("compare_snapshot.section.compliance", lang)]
    canteen = next(c for c in per_category.columns if "(%)" in c or "（%）" in c)
    assert per_category[canteen].tolist() == [50.0, 50.0, 25.0]
    failed = tables[t("compare_snapshot.section.failed", lang)]
    assert failed.iloc[0].tolist() == ["pd", "ValidationError: amenities.geojson unreadable"]
    kpis = {kpi.label: kpi.value for kpi in snapshot.kpis}
    assert kpis[t("compare_snapshot.kpi.parks", lang)] == 3
    assert kpis[t("compare_snapshot.kpi.failed", lang)] == 1
    assert kpis[t("compare_snapshot.kpi.median_gap", lang)] == 55.0
    assert kpis[t("compare_snapshot.kpi.leavers", lang)] == 120.0
    assert snapshot.synthetic_notice == t("compare.synthetic", lang)
    maps = [b for s in snapshot.sections for b in s.blocks if isinstance(b, MapBlock)]
    assert len(maps) == 1 and len(maps[0].layers[0].frame) == 3


def test_snapshot_keeps_the_page_filters() -> None:
    snapshot = comparison_snapshot(
        _summary(),
        batch_name="province",
        lang="en",
        cities=["Hangzhou"],
        indicator="turnover_share",
    )
    ranking = _tables(snapshot)[t("compare.ranking", "en")]
    assert ranking[t("compare_snapshot.col.park_id", "en")].tolist() == ["pb", "pa"]
    assert snapshot.park_name == t("compare_snapshot.subject", "en", batch="province", parks=2)
    layer = next(b for s in snapshot.sections for b in s.blocks if isinstance(b, MapBlock)).layers[
        0
    ]
    assert layer.value_column == t("compare.indicator.turnover_share", "en")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_workbook_is_formula_safe_with_numbers_as_numbers(lang: str) -> None:
    snapshot = comparison_snapshot(_summary(), batch_name="province", lang=lang)
    book = openpyxl.load_workbook(
        io.BytesIO(write_snapshot(snapshot, "xlsx", assets_dir=VENDOR_DIR))
    )
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [str(c.value) for c in cells if isinstance(c.value, str)]
    assert not [text for text in texts if text.startswith("=")]
    assert "'" + FORMULA + ("" if lang == "en" else "园") in texts  # the zh name ends in 园
    sheet = next(
        ws for ws in book.worksheets if ws.title.startswith(t("compare.ranking", lang)[:10])
    )
    header = [cell.value for cell in sheet[1]]
    gap = header.index(t("compare_snapshot.col.gap_index", lang)) + 1
    assert [sheet.cell(row=r, column=gap).value for r in (2, 3, 4)] == [70, 55, 40]


def test_html_file_escapes_names_and_cannot_call_out() -> None:
    snapshot = comparison_snapshot(_summary(), batch_name="province", lang="en")
    page = write_snapshot(snapshot, "html", assets_dir=VENDOR_DIR).decode("utf-8")
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "default-src 'none'" in page
    # Nothing loads from elsewhere (Leaflet's own attribution link is a link, not a load).
    loads = r"""<(?:script|link|img|iframe)\b[^>]*(?:src|href)\s*=\s*["']?(?:https?:)?//"""
    assert not re.findall(loads, page)
    assert "Beta" in page and "pd" in page


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_offers_the_comparison_as_xlsx_and_html(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(data_dir))
    write_summary(_summary(), data_dir / "batches" / "province")
    at = signed_in(AppTest.from_file(APP, default_timeout=300))
    at.session_state[state.LANG] = lang
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    # Every category's compliance and evening minutes per park, in ranking order (pb, pc, pa).
    categories = at.dataframe[1].value
    assert categories[t("compare_snapshot.col.rank", lang)].tolist() == [1, 2, 3]
    canteen = next(c for c in categories.columns if c.endswith(("(%)", "（%）")))
    assert categories[canteen].tolist() == [50.0, 50.0, 25.0]
    assert sum(c.endswith(("(%)", "（%）")) for c in categories.columns) == 2
    assert sum(c.endswith(("(min)", "（分钟）")) for c in categories.columns) == 1
    labels = [button.proto.label for button in at.get("download_button")]
    assert labels == [
        t("compare_snapshot.download_xlsx", lang),
        t("compare_snapshot.download_html", lang),
    ]
    at.multiselect(key="compare.city").set_value([at.multiselect(key="compare.city").options[0]])
    at.run()
    assert not at.exception, at.exception
    assert len(at.get("download_button")) == 2
