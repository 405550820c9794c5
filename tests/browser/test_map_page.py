"""The Map page in a real browser with no internet: the map renders with every demo layer."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from retention.data.layers import AmenityCategory
from retention.i18n import label

from .conftest import new_offline_page, open_page, open_without_tiles

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The park map is a cached HTML page shown with st.iframe (ui.map_view.show_map_page).
FOLIUM_IFRAME = 'iframe[data-testid="stIFrame"]'
TILE_HOSTS = frozenset({"tile.openstreetmap.org"})


def test_map_renders_offline_with_all_layers(app_url: str, browser, output_dir: Path) -> None:
    # A Chinese browser locale: the app should default to Chinese.
    page, log = new_offline_page(browser, locale="zh-CN")
    open_page(page, app_url, "地图", "园区地图")
    frame = page.frame_locator(FOLIUM_IFRAME)
    container = frame.locator(".leaflet-container")
    container.wait_for(timeout=60_000)
    frame.locator(".leaflet-marker-icon").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)  # let clusters and paths settle before measuring

    box = container.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 300, box
    paths = frame.locator("path.leaflet-interactive").count()
    markers = frame.locator(".leaflet-marker-icon").count()
    # Zones, routes, stops, residences and the district boundary are SVG paths; enterprises and
    # amenities are markers or cluster icons.
    assert paths > 50, paths
    assert markers > 30, markers
    assert frame.locator(".pl-marker .fa-solid").count() > 10  # Font Awesome icons, local copy
    # Layers are chosen above the map (kept across reruns), one per amenity category.
    page.get_by_test_id("stExpander").filter(has_text="显示的图层").locator("summary").click()
    layer_list = page.get_by_test_id("stButtonGroup")
    for category in (AmenityCategory.CANTEEN, AmenityCategory.GROCERY, AmenityCategory.CLINIC):
        expect(
            layer_list.get_by_role("button", name=label("category", category.value, "zh"))
        ).to_be_visible()
    assert frame.locator(".pl-legend").inner_text().count("合成演示数据") == 1

    # Font Awesome's web font must have loaded from the app (icons are not empty boxes).
    font_loaded = frame.locator("body").evaluate(
        "() => document.fonts.check('900 12px \"Font Awesome 6 Free\"')"
    )
    assert font_loaded

    off_machine = {urlsplit(url).hostname for url in log.blocked}
    assert off_machine <= TILE_HOSTS, [u for u in log.blocked if "openstreetmap" not in u]
    assert not log.failed_local, log.failed_local
    page.screenshot(path=str(output_dir / "map.png"), full_page=False)
    page.context.close()


def test_map_without_tiles_requests_nothing_off_machine(app_url: str, browser) -> None:
    page, log = new_offline_page(browser, locale="en-US")
    # Choose no tiles on the first page, before any map is drawn: the map page's cached map
    # appears at once, and with OSM tiles it would request some before the switch.
    nav = open_without_tiles(page, app_url)
    nav.get_by_role("link", name="Map", exact=True).click()
    page.get_by_role("heading", name="Park map").wait_for(timeout=60_000)
    frame = page.frame_locator(FOLIUM_IFRAME)
    frame.locator(".leaflet-marker-icon").first.wait_for(timeout=60_000)
    expect(frame.locator(".leaflet-tile")).to_have_count(0, timeout=30_000)
    assert frame.locator("path.leaflet-interactive").count() > 50
    expect(frame.locator(".pl-tile-note")).to_have_count(0)  # no tiles, so none failed
    assert not log.blocked, log.blocked
    assert not log.failed_local, log.failed_local
    page.context.close()
