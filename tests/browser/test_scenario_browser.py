"""The Scenario page in a real browser with no internet (issue 9): a route drawn with the mouse
is snapped to the roads, added and evaluated; a siting suggestion is added in one click.

Each step waits for exactly what it reads next (Playwright ``expect``/``wait_for``), never for
some other element that happens to appear first.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import geopandas as gpd
import numpy as np
import pytest
from playwright.sync_api import expect
from scipy.spatial import cKDTree

from retention.data.crs import utm_crs_for_frame
from retention.data.layers import WGS84, LayerKind
from retention.i18n import label, t
from retention.report.maps import ROUTE_PREVIEW_COLOUR
from retention.scenario.display import pickable_places
from retention.storage.park import load_park

from .conftest import RequestLog, new_offline_page, open_page, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DRAW_MAP = 'iframe[title="streamlit_folium.st_folium"]'  # the drawing map comes first
FIRST_VISIT_SECONDS = 300_000  # the first visit computes the park's travel times and model
TILE_HOSTS = frozenset({"tile.openstreetmap.org"})  # background tiles: the one thing offline lacks
FINISH = {"en": "Finish", "zh": "完成"}  # Leaflet.draw's finish action (Chinese: maps.py)


def _open_scenario_page(page: object, app_url: str, lang: str = "en") -> None:
    open_page(page, app_url, t("scenario.page_title", lang), t("scenario.title", lang))


def _off_machine(log: RequestLog) -> list[str]:
    """Requests that left the machine other than map tiles (which may fail offline)."""
    return [url for url in log.blocked if urlsplit(url).hostname not in TILE_HOSTS]


def _places(app_data_dir: Path) -> tuple[dict, dict]:
    """A residence and the lake park of the demo park (as the page offers them as stops)."""
    places = pickable_places(load_park("jinshan", data_dir=app_data_dir).layers, "en")
    residence = places[places["kind"] == "residence"].iloc[0].to_dict()
    lake = places[places["label"].str.contains("Lake Park")].iloc[0].to_dict()
    return residence, lake


def _draw_line(page: object, points: list[tuple[float, float]], lang: str) -> object:
    """Draw a line through ``points`` (lon, lat) with the mouse on the drawing map, one click per
    stop, and finish it; return the map's frame."""
    frame = page.frame_locator(DRAW_MAP).first  # type: ignore[attr-defined]
    tool = frame.locator("a.leaflet-draw-draw-polyline")
    tool.wait_for(timeout=FIRST_VISIT_SECONDS)  # Leaflet.draw loaded from the app
    wait_until_idle(page, settle_ms=1000)  # the map's first value reruns the page once
    # The whole map in view: the map takes focus on mouse-down and the browser would scroll a
    # partly hidden map between mouse-down and mouse-up, losing the click.
    page.locator(DRAW_MAP).first.evaluate("e => e.scrollIntoView({block: 'center'})")  # type: ignore[attr-defined]
    container = frame.locator(".leaflet-container")
    tool.click()
    finish = frame.locator(".leaflet-draw-actions a", has_text=FINISH[lang])
    finish.wait_for()
    box = container.bounding_box()
    assert box is not None
    for lon, lat in points:
        # Where the point is on screen, asked of the map itself (streamlit-folium: window.map).
        x, y = container.evaluate(
            "(el, ll) => { const p = window.map.latLngToContainerPoint(ll); return [p.x, p.y]; }",
            [lat, lon],
        )
        page.mouse.click(box["x"] + x, box["y"] + y)  # type: ignore[attr-defined]
        page.wait_for_timeout(400)  # type: ignore[attr-defined]  # Leaflet.draw's double-click
    finish.click()
    return frame


def _mid_block(app_data_dir: Path, near: dict) -> tuple[float, float]:
    """The middle of a rideable road segment (between two vertices) at least 120 m from every
    place a click could pick, the nearest such to ``near``: (lon, lat)."""
    park = load_park("jinshan", data_dir=app_data_dir)
    places = pickable_places(park.layers, "en")
    roads = park.layer(LayerKind.ROADS)
    roads = roads[roads["bike"].astype(bool)]
    crs = utm_crs_for_frame(roads)
    where = gpd.GeoSeries(gpd.points_from_xy(places["lon"], places["lat"]), crs=WGS84).to_crs(crs)
    tree = cKDTree(np.column_stack([where.x, where.y]))
    home = gpd.GeoSeries(gpd.points_from_xy([near["lon"]], [near["lat"]]), crs=WGS84).to_crs(crs)
    middles = np.concatenate(
        [(c[1:] + c[:-1]) / 2 for c in (np.asarray(g.coords) for g in roads.to_crs(crs).geometry)]
    )
    clear = middles[tree.query(middles)[0] >= 120.0]
    chosen = clear[np.argmin(np.hypot(*(clear - [home.x.iloc[0], home.y.iloc[0]]).T))]
    point = gpd.GeoSeries(gpd.points_from_xy([chosen[0]], [chosen[1]]), crs=crs).to_crs(WGS84)
    return float(point.x.iloc[0]), float(point.y.iloc[0])


def test_a_route_drawn_with_the_mouse_is_snapped_evaluated_and_its_kpis_shown(
    app_url: str, browser, output_dir: Path, app_data_dir: Path
) -> None:
    residence, lake = _places(app_data_dir)
    page, log = new_offline_page(browser, locale="en-US")
    _open_scenario_page(page, app_url)
    frame = _draw_line(page, [(p["lon"] + 0.0002, p["lat"]) for p in (residence, lake)], "en")
    # The page answers with the route snapped to the places and the roads between them.
    summary = page.get_by_text(re.compile(r"Drawn route:"))
    expect(summary).to_be_visible(timeout=120_000)
    expect(page.get_by_text(re.compile(r"2 stops \(2 at existing places\)"))).to_be_visible()
    preview = frame.locator(f'path.leaflet-interactive[stroke="{ROUTE_PREVIEW_COLOUR}"]')
    expect(preview.first).to_be_attached(timeout=60_000)
    road_line = preview.first.get_attribute("d") or ""
    assert road_line.count("L") > 2, road_line  # it follows the roads: more than one segment
    expect(page.get_by_role("checkbox", name=t("scenario_draw.use", "en", n=2))).to_be_checked()
    page.screenshot(path=str(output_dir / "scenario_drawn.png"), full_page=False)

    wait_until_idle(page)
    page.get_by_role("button", name=t("scenario.route.add", "en")).click()
    added = page.get_by_text(re.compile(r"^1\. New route .*: 2 stops"))
    expect(added).to_be_visible(timeout=120_000)
    # The drawing is used up: the form offers the list again and the next route starts on a
    # blank drawing map (the rerun redraws the form and the map after the list of changes).
    use = page.get_by_role("checkbox", name=t("scenario_draw.use", "en", n=2))
    expect(use).to_have_count(0, timeout=120_000)
    blank = page.frame_locator(DRAW_MAP).first
    expect(blank.locator(f'path[stroke="{ROUTE_PREVIEW_COLOUR}"]')).to_have_count(0, timeout=60_000)
    blank.locator("a.leaflet-draw-draw-polyline").wait_for(timeout=60_000)
    # Evaluated: the route's operations and the KPI table with the baseline beside it.
    expect(page.get_by_text(re.compile(r"vehicle-hours"))).to_be_visible(timeout=300_000)
    kpis = page.get_by_test_id("stDataFrame").filter(has_text=t("scenario.col.baseline", "en"))
    expect(kpis.first).to_be_visible(timeout=60_000)
    kpis.first.scroll_into_view_if_needed()
    page.screenshot(path=str(output_dir / "scenario_evaluated.png"), full_page=False)

    assert not _off_machine(log), log.blocked
    assert not log.failed_local, log.failed_local
    page.context.close()


def test_a_court_from_the_siting_suggestion_appears_in_the_scenario(app_url: str, browser) -> None:
    page, log = new_offline_page(browser, locale="en-US")
    _open_scenario_page(page, app_url)
    # The drawing map sends its first value once loaded, which reruns the page: let that happen
    # before opening a dropdown the rerun would close.
    draw_tool = page.frame_locator(DRAW_MAP).first.locator("a.leaflet-draw-draw-polyline")
    draw_tool.wait_for(timeout=FIRST_VISIT_SECONDS)
    wait_until_idle(page, settle_ms=1000)
    court = label("category", "sports_court", "en")
    category = page.locator(".st-key-scenario-siting-category")
    category.wait_for(timeout=FIRST_VISIT_SECONDS)
    category.scroll_into_view_if_needed()
    category.get_by_role("combobox").click()
    page.keyboard.type(court)  # the selectbox filters its options by what is typed
    page.get_by_role("option", name=court, exact=True).wait_for()
    page.keyboard.press("Enter")
    expect(category.get_by_role("combobox")).to_have_value(court)
    wait_until_idle(page)
    page.locator(".st-key-scenario-siting-run").get_by_text(t("scenario.siting.run", "en")).click()
    add = page.get_by_role("button", name=t("scenario.siting.add", "en", n=1))
    add.wait_for(timeout=FIRST_VISIT_SECONDS)
    wait_until_idle(page)
    add.click()
    name = t("scenario.siting.suggested", "en", category=court)
    line = "1. " + t("scenario.describe.add_amenity", "en", name=name, category=court, capacity="1")
    expect(page.get_by_text(line, exact=True)).to_be_visible(timeout=120_000)
    assert not _off_machine(log), log.blocked
    assert not log.failed_local, log.failed_local
    page.context.close()


def test_a_route_drawn_in_chinese_takes_a_place_and_a_mid_block_stop(
    app_url: str, browser, output_dir: Path, app_data_dir: Path
) -> None:
    """The interface in Chinese: Leaflet.draw's toolbar speaks Chinese, a click beside a
    residence takes it and a click in the middle of a block becomes a stop on that road (the
    page states the tolerance), and the route is added."""
    residence, _ = _places(app_data_dir)
    middle = _mid_block(app_data_dir, residence)
    page, log = new_offline_page(browser, locale="zh-CN")
    _open_scenario_page(page, app_url, "zh")
    frame = _draw_line(page, [(residence["lon"] + 0.0002, residence["lat"]), middle], "zh")
    summary = page.get_by_text(re.compile(r"所画线路："))
    expect(summary).to_be_visible(timeout=120_000)
    expect(page.get_by_text(re.compile(r"2 个站点（其中 1 个为现有地点）"))).to_be_visible()
    tolerance = t("scenario_draw.tolerance", "zh", moved="0", vertex="0").split("：")[0]
    expect(page.get_by_text(re.compile(re.escape(tolerance)))).to_be_visible(timeout=60_000)
    preview = frame.locator(f'path.leaflet-interactive[stroke="{ROUTE_PREVIEW_COLOUR}"]')
    expect(preview.first).to_be_attached(timeout=60_000)
    use = page.get_by_role("checkbox", name=t("scenario_draw.use", "zh", n=2))
    expect(use).to_be_checked()
    page.screenshot(path=str(output_dir / "scenario_drawn_zh.png"), full_page=False)
    wait_until_idle(page)
    page.get_by_role("button", name=t("scenario.route.add", "zh")).click()
    added = page.get_by_text(re.compile(r"^1\. 新线路.*：2 个站点"))
    expect(added).to_be_visible(timeout=120_000)
    assert not _off_machine(log), log.blocked
    assert not log.failed_local, log.failed_local
    page.context.close()
