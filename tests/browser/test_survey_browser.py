"""The Survey page in a real browser: upload a GBK CSV, see the mapping, the report and the IPA."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from retention.i18n import t
from tests.survey_fixtures import demo_rows, wenjuanxing_csv

from .conftest import new_offline_page, open_page, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROWS = 80
WAVE = "browser-wave"


def test_upload_mapping_report_ipa_and_add_to_park(
    app_url: str, browser, tmp_path: Path, output_dir: Path, app_data_dir: Path
) -> None:
    headers, rows = demo_rows(ROWS, start=200)
    rows[5][headers.index("1、您所在的企业:")] = "不存在的企业"  # one row to reject
    csv_path = tmp_path / "问卷星导出.csv"
    csv_path.write_bytes(wenjuanxing_csv(headers, rows, encoding="gbk"))

    page, log = new_offline_page(browser, locale="en-US")
    open_page(page, app_url, t("survey.page_title", "en"), t("survey.title", "en"))
    page.get_by_text(t("survey.source.upload", "en"), exact=True).click()
    wait_until_idle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(csv_path))

    # The mapping editor shows every column with its suggested target.
    page.get_by_role("heading", name=t("survey.mapping", "en")).wait_for(timeout=60_000)
    editor = page.get_by_test_id("stDataFrame").first
    expect(editor).to_be_visible()
    expect(editor).to_contain_text("1、您所在的企业:")

    page.get_by_role("heading", name=t("survey.validation", "en")).wait_for(timeout=60_000)
    metrics = page.get_by_test_id("stMetric")
    expect(metrics.filter(has_text=t("survey.rows_read", "en"))).to_contain_text(str(ROWS))
    expect(metrics.filter(has_text=t("survey.rows_kept", "en"))).to_contain_text(str(ROWS - 1))
    expect(metrics.filter(has_text=t("survey.rows_rejected", "en"))).to_contain_text("1")

    # The IPA chart is drawn: a plotly plot with one point per amenity category shown.
    page.get_by_role("heading", name=t("survey.ipa", "en")).wait_for(timeout=60_000)
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for(timeout=60_000)
    points = chart.locator(".scatterlayer .point")
    expect(points.first).to_be_visible(timeout=30_000)
    assert points.count() >= 10, points.count()

    page.get_by_role("textbox", name=t("survey.wave", "en")).fill(WAVE)
    page.get_by_role("textbox", name=t("survey.wave", "en")).press("Enter")
    wait_until_idle(page)
    save = page.get_by_role("button", name=t("survey.save", "en", wave=WAVE, n=ROWS - 1))
    expect(save).to_be_visible(timeout=60_000)
    save.click()
    expect(page.get_by_text(t("survey.saved", "en", wave=WAVE, n=ROWS - 1))).to_be_visible(
        timeout=60_000
    )
    expect(page.get_by_text(f"{WAVE} · {csv_path.name}")).to_be_visible()
    assert (app_data_dir / "parks" / "jinshan" / "survey" / "manifest.json").is_file()

    page.get_by_text(t("survey.stored_title", "en")).scroll_into_view_if_needed()
    page.screenshot(path=str(output_dir / "survey_stored.png"))
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)  # let the chart finish its transition before the picture
    page.screenshot(path=str(output_dir / "survey.png"))
    assert not log.blocked, log.blocked
    assert not log.failed_local, log.failed_local
    page.context.close()
