"""The Data page in a real browser: upload a CSV, pick layer and CRS, see the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import new_offline_page, open_page, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CSV = (
    "编号,名称,类别,容量,营业时间,经度,纬度\n"
    "B1,浏览器食堂,canteen,120,Mo-Su 06:30-20:00,113.2356,27.9184\n"
    "B2,浏览器球场,sports_court,2,Mo-Su 06:00-22:00,113.2400,27.9200\n"
    "B3,未知设施,karaoke,10,Mo-Su 10:00-22:00,113.2380,27.9190\n"
)


def test_upload_csv_shows_validation_report(app_url: str, browser, tmp_path: Path) -> None:
    csv_path = tmp_path / "amenities.csv"
    csv_path.write_text(CSV, encoding="utf-8")
    page, log = new_offline_page(browser, locale="en-US")
    open_page(page, app_url, "Data", "Upload layers")

    page.get_by_role("combobox", name="Layer").click()
    page.get_by_role("option", name="Amenities").click()
    expect(page.get_by_role("combobox", name="Layer")).to_have_value("Amenities")
    wait_until_idle(page)
    page.get_by_text("GCJ-02 (Amap 高德, Tencent 腾讯)").click()
    wait_until_idle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(csv_path))

    page.get_by_role("heading", name="Validation report: amenities.csv").wait_for(timeout=60_000)
    metrics = page.get_by_test_id("stMetric")
    expect(metrics.filter(has_text="Valid rows")).to_contain_text("2")
    expect(metrics.filter(has_text="Rejected rows")).to_contain_text("1")
    expect(
        page.get_by_test_id("stDownloadButton").filter(has_text="Rejected rows (CSV)")
    ).to_be_visible()
    add = page.get_by_role("button", name="Add 2 valid rows to")
    expect(add).to_be_visible()
    add.click()
    expect(page.get_by_text("Added 2 rows of Amenities from amenities.csv")).to_be_visible(
        timeout=60_000
    )
    # The next step is offered instead of checking the same file again (issue 8).
    expect(page.get_by_text("See it on the map")).to_be_visible()
    expect(page.get_by_role("heading", name="Validation report: amenities.csv")).to_have_count(0)
    expect(page.get_by_text("amenities.csv · GCJ02 · 2 valid, 1 rejected")).to_be_visible()
    assert not log.blocked, log.blocked
    assert not log.failed_local, log.failed_local
    page.context.close()
