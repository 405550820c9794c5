"""The Gaps page in a real browser with no internet: choropleth, points and legend render offline,
and a click on a residence selects it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from retention.i18n import t

from .conftest import new_offline_page, open_without_tiles

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FOLIUM_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
# retention.report.gap_map: residences are the only dark-outlined circles
RESIDENCE_OUTLINE = "#222222"


def test_gaps_map_renders_offline_and_a_click_selects_a_residence(
    app_url: str, browser, output_dir: Path
) -> None:
    page, log = new_offline_page(browser, locale="en-US")
    # No tiles before the first map is drawn, so nothing at all may leave the machine.
    nav = open_without_tiles(page, app_url)
    nav.get_by_role("link", name=t("gaps.page_title", "en"), exact=True).click()
    page.get_by_role("heading", name=t("gaps.title", "en")).wait_for(timeout=60_000)

    frame = page.frame_locator(FOLIUM_IFRAME)
    container = frame.locator(".leaflet-container")
    container.wait_for(timeout=180_000)  # the first visit computes the park's travel times
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    box = container.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 300, box
    # H3 hexagons, residences, enterprises and the chosen category's amenities are SVG paths.
    paths = frame.locator("path.leaflet-interactive").count()
    assert paths > 50, paths
    legend = frame.locator(".pl-legend")
    expect(legend).to_contain_text(t("gaps.unit.nearest", "en"))
    expect(legend).to_contain_text(t("gaps.unreachable", "en"))
    expect(legend).to_contain_text(t("map.legend.synthetic", "en"))
    assert frame.locator(".pl-legend .pl-gradient").count() == 1
    expect(frame.locator(".leaflet-tile")).to_have_count(0)
    page.locator(FOLIUM_IFRAME).evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(500)
    page.screenshot(path=str(output_dir / "gaps.png"), full_page=False)

    # Clicking a residence other than the selected one selects it (via last_object_clicked).
    residence_box = page.get_by_test_id("stSelectbox").filter(has_text=t("gaps.residence", "en"))
    before = residence_box.locator("input").input_value()
    circles = frame.locator(f'path.leaflet-interactive[stroke="{RESIDENCE_OUTLINE}"]')
    assert circles.count() > 5
    # The whole map in view first: the map takes focus on mouse-down, and the browser would
    # scroll a partly hidden map into view between mouse-down and mouse-up, losing the click.
    page.locator(FOLIUM_IFRAME).evaluate("e => e.scrollIntoView({block: 'center'})")
    circles.nth(circles.count() // 2).click(force=True)
    expect(residence_box.locator("input")).not_to_have_value(before, timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(output_dir / "gaps_clicked.png"), full_page=False)

    assert not log.blocked, log.blocked
    assert not log.failed_local, log.failed_local
    page.context.close()
