"""A fresh server serves a deep link through app.py's navigation, not the legacy pages/ mode."""

from __future__ import annotations

import pytest

from .conftest import new_offline_page

pytestmark = pytest.mark.browser


def test_first_visit_to_a_page_url_gets_the_app_navigation_and_sidebar(
    browser: object, fresh_app_url: str
) -> None:
    page, _ = new_offline_page(browser)
    page.goto(f"{fresh_app_url}/map", wait_until="domcontentloaded")  # type: ignore[attr-defined]
    page.get_by_role("heading", name="Park map").wait_for(timeout=60_000)  # type: ignore[attr-defined]
    nav = page.get_by_test_id("stSidebarNav")  # type: ignore[attr-defined]
    links = nav.get_by_role("link").all_inner_texts()
    # The legacy mode lists file names ("app", "map", ...) instead of the translated titles.
    assert links[:3] == ["Overview", "Map", "Data"], links
    assert "app" not in links
    sidebar = page.get_by_test_id("stSidebar")  # type: ignore[attr-defined]
    assert sidebar.get_by_text("Synthetic demo data").count() == 1
