"""Hostile text in a real browser (issue 10): names with ``<script>``, backticks, ``${...}``,
``](javascript:...)`` and markdown images, uploaded as an amenity layer and as a survey wave label.
The rendered pages must run nothing (no dialog opens, in the page or the map's frame), fetch
nothing off the machine, show the text as typed, and the map must still draw.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from retention.i18n import t
from tests.survey_fixtures import demo_rows, wenjuanxing_csv

from .conftest import new_offline_page, open_page, open_without_tiles, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FOLIUM_IFRAME = 'iframe[data-testid="stIFrame"]'
HOSTILE_NAMES = [
    "${alert(parent.location.href)}",
    "食堂`一号",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "[sign in](javascript:alert(3))",
    "![x](http://attacker.example/pixel.png)",
]
# A file name a browser can upload, carrying a markdown image of its own.
FILE_NAME = "amen![x](https:attacker.example).csv"


def _csv() -> str:
    lines = ["编号,名称,类别,容量,营业时间,经度,纬度"]
    for number, name in enumerate(HOSTILE_NAMES, start=1):
        lon = 113.2356 + number * 0.0004
        lines.append(f"H{number},{name},canteen,50,Mo-Su 06:30-20:00,{lon:.4f},27.9184")
    return "\n".join(lines) + "\n"


def _record_dialogs(page) -> list[str]:
    dialogs: list[str] = []

    def dismiss(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return dialogs


def _assert_inert(page, log, dialogs) -> None:
    assert dialogs == [], dialogs
    assert not log.blocked, log.blocked  # no image or script fetched from attacker.example
    for frame in page.frames:
        assert frame.locator('img[src*="attacker"]').count() == 0
        assert frame.locator('a[href^="javascript"]').count() == 0
        assert frame.locator("img[src='x']").count() == 0


def test_hostile_amenity_names_render_as_text_and_the_map_still_draws(
    app_url: str, browser, tmp_path: Path
) -> None:
    csv_path = tmp_path / FILE_NAME
    csv_path.write_text(_csv(), encoding="utf-8")
    page, log = new_offline_page(browser, locale="en-US")
    dialogs = _record_dialogs(page)

    # No tiles before any map is drawn, so nothing at all may leave the machine.
    nav = open_without_tiles(page, app_url)

    nav.get_by_role("link", name="Data", exact=True).click()
    page.get_by_role("heading", name="Upload layers").wait_for(timeout=60_000)
    wait_until_idle(page)
    page.get_by_role("combobox", name="Layer").click()
    page.get_by_role("option", name="Amenities").click()
    wait_until_idle(page)
    page.get_by_text("GCJ-02 (Amap 高德, Tencent 腾讯)").click()
    wait_until_idle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(csv_path))
    # The file name is shown as typed (markdown escaped), not as an image.
    # Reading and validating the upload is one script run; on a loaded 2-core machine it took
    # over a minute once, so wait as long as the page's own first computation may take.
    page.get_by_role("heading", name=f"Validation report: {FILE_NAME}").wait_for(timeout=180_000)
    add = page.get_by_role("button", name=f"Add {len(HOSTILE_NAMES)} valid rows to")
    add.click()
    added = page.get_by_text(re.compile(rf"^Added {len(HOSTILE_NAMES)} rows"))
    expect(added).to_contain_text(f"from {FILE_NAME}", timeout=180_000)
    _assert_inert(page, log, dialogs)

    nav.get_by_role("link", name="Map", exact=True).click()
    page.get_by_role("heading", name="Park map").wait_for(timeout=60_000)
    frame = page.frame_locator(FOLIUM_IFRAME)
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    frame.locator(".leaflet-marker-icon").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # every tooltip is bound while the map's script runs
    assert frame.locator("path.leaflet-interactive").count() > 50  # the rest of the map drew
    # Every tooltip holds its name as text: read them from Leaflet's own layers.
    map_frame = next(f for f in page.frames if f != page.main_frame and "leaflet" in f.content())
    tooltips = map_frame.evaluate(
        """() => {
            // folium declares every marker as a global; clustered ones are not on the map.
            const texts = [];
            for (const layer of Object.values(window)) {
                const tip = layer instanceof L.Layer && layer.getTooltip && layer.getTooltip();
                if (tip) {
                    const content = tip.getContent();
                    const el = document.createElement('div');
                    el.innerHTML = typeof content === 'string' ? content : content.outerHTML;
                    texts.push(el.textContent);
                }
            }
            return texts;
        }"""
    )
    for name in HOSTILE_NAMES:
        assert any(name in text for text in tooltips), (name, tooltips[:5])
    _assert_inert(page, log, dialogs)
    assert not log.failed_local, log.failed_local
    page.context.close()


WAVE = "![w](http://attacker.example/w.png) [sign in](javascript:alert(4)) $x^2$ `code`"


def test_a_hostile_wave_label_is_shown_as_typed(app_url: str, browser, tmp_path: Path) -> None:
    headers, rows = demo_rows(20, start=400)
    csv_path = tmp_path / "wave.csv"
    csv_path.write_bytes(wenjuanxing_csv(headers, rows, encoding="gbk"))
    page, log = new_offline_page(browser, locale="en-US")
    dialogs = _record_dialogs(page)
    open_page(page, app_url, t("survey.page_title", "en"), t("survey.title", "en"))
    page.get_by_text(t("survey.source.upload", "en"), exact=True).click()
    wait_until_idle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(csv_path))
    page.get_by_role("heading", name=t("survey.validation", "en")).wait_for(timeout=60_000)
    wave_box = page.get_by_role("textbox", name=t("survey.wave", "en"))
    wave_box.fill(WAVE)
    wave_box.press("Enter")
    wait_until_idle(page)
    save = page.get_by_role("button", name=re.compile(r"^Add to the park as wave"))
    expect(save).to_contain_text(f"“{WAVE}”")  # the label as typed, not rendered
    save.click()
    saved = page.get_by_text(re.compile(r"^Stored wave"))
    expect(saved).to_contain_text(f"“{WAVE}”", timeout=60_000)
    expect(page.get_by_text(f"{WAVE} · wave.csv")).to_be_visible()
    assert page.locator(".katex").count() == 0  # no LaTeX rendered from the label
    _assert_inert(page, log, dialogs)
    assert not log.failed_local, log.failed_local
    page.context.close()
