"""First visit: a fresh server shows the app's own navigation from the first paint.

On a fresh server Streamlit treats ``pages/`` as a legacy multipage app until ``app.py``'s
``st.navigation`` runs, and its automatic menu then lists the file names (app, map, data, ...);
clicking one lands on a page without the app's sidebar. The app hides that menu
(``client.showSidebarNavigation = false``) and draws its own (``ui.sidebar``).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from retention.i18n import t
from ui.sidebar import NAVIGATION_KEY

from .conftest import REPO, app_nav, new_offline_page

pytestmark = pytest.mark.browser

PAGE_FILES = [*sorted(path.stem for path in (REPO / "pages").glob("*.py")), "app"]
# The menu's pages in app.py's order; each page's title is "<file stem>.page_title".
TILE_HOSTS = frozenset({"tile.openstreetmap.org"})
PAGE_NAMESPACES = tuple(
    re.findall(r'st\.Page\("pages/(\w+)\.py"', (REPO / "app.py").read_text(encoding="utf-8"))
)
SAMPLE_MS = 300
MAX_SAMPLES = 400  # 2 minutes at most: a cold server's first run on 2 shared cores
SAMPLES_AFTER_READY = 10  # keep watching through the rerun a fresh server makes (ui/entry.py)

# Everything the sidebar shows, in one round trip: Streamlit's own menu (if any) and the links.
_SIDEBAR_STATE = f"""() => {{
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  if (!sidebar) return {{streamlit_nav: 0, links: [], ours: [], text: ""}};
  const ours = sidebar.querySelector('.st-key-{NAVIGATION_KEY}');
  return {{
    streamlit_nav: sidebar.querySelectorAll('[data-testid="stSidebarNav"]').length,
    links: Array.from(sidebar.querySelectorAll('a')).map(a => a.innerText.trim()),
    ours: ours ? Array.from(ours.querySelectorAll('a')).map(a => a.innerText.trim()) : [],
    text: sidebar.innerText,
  }};
}}"""


def test_the_menu_lists_every_page_file() -> None:
    assert sorted(PAGE_NAMESPACES) == sorted(PAGE_FILES[:-1])


def _sample_sidebar(page: object) -> list[dict[str, object]]:
    """Return the sidebar's state every 0.3 s from the first paint until well after it is ready."""
    samples: list[dict[str, object]] = []
    ready_at = None
    for _ in range(MAX_SAMPLES):
        state = page.evaluate(_SIDEBAR_STATE)  # type: ignore[attr-defined]
        samples.append(state)
        if ready_at is None and len(state["ours"]) == len(PAGE_NAMESPACES):
            ready_at = len(samples)
        if ready_at is not None and len(samples) >= ready_at + SAMPLES_AFTER_READY:
            return samples
        page.wait_for_timeout(SAMPLE_MS)  # type: ignore[attr-defined]
    raise AssertionError(f"the app's navigation never appeared; last sidebar: {samples[-1]}")


@pytest.mark.parametrize(("path", "locale", "lang"), [("", "en-US", "en"), ("/map", "zh-CN", "zh")])
def test_a_fresh_server_never_shows_file_names_in_the_sidebar(
    browser: object, fresh_app_url: str, path: str, locale: str, lang: str, output_dir: Path
) -> None:
    page, log = new_offline_page(browser, locale=locale)
    page.goto(f"{fresh_app_url}{path}", wait_until="commit")  # type: ignore[attr-defined]
    samples = _sample_sidebar(page)
    titles = [t(f"{namespace}.page_title", lang) for namespace in PAGE_NAMESPACES]
    for number, sample in enumerate(samples):
        assert sample["streamlit_nav"] == 0, (number, sample)
        shown = set(sample["links"]) | set(str(sample["text"]).split("\n"))
        assert not shown & set(PAGE_FILES), (number, sample)
        assert set(sample["ours"]) <= set(titles), (number, sample)
    assert samples[-1]["ours"] == titles
    assert len(samples) > SAMPLES_AFTER_READY
    page.screenshot(path=str(output_dir / f"first_visit_{lang}.png"))  # type: ignore[attr-defined]
    # Map tiles (OpenStreetMap by default) are the one thing allowed to fail offline (README).
    assert not [url for url in log.blocked if urlsplit(url).hostname not in TILE_HOSTS], log.blocked
    page.context.close()  # type: ignore[attr-defined]


def test_first_visit_to_a_page_url_gets_the_app_navigation_and_sidebar(
    browser: object, fresh_app_url: str
) -> None:
    page, _ = new_offline_page(browser)
    page.goto(f"{fresh_app_url}/map", wait_until="domcontentloaded")  # type: ignore[attr-defined]
    page.get_by_role("heading", name="Park map").wait_for(timeout=60_000)  # type: ignore[attr-defined]
    # The sidebar and the page arrive as separate parts of one run: wait for the menu, not for
    # whichever part the browser happened to draw first (CI once read the links too early).
    app_nav(page).get_by_role("link", name="Data", exact=True).wait_for(timeout=60_000)  # type: ignore[attr-defined]
    links = app_nav(page).get_by_role("link").all_inner_texts()
    assert links[:3] == ["Overview", "Map", "Data"], links
    sidebar = page.get_by_test_id("stSidebar")  # type: ignore[attr-defined]
    sidebar.get_by_text("Synthetic demo data").wait_for(timeout=60_000)
    assert sidebar.get_by_text("Synthetic demo data").count() == 1
    # The menu works: another page through it, with the shared sidebar still there.
    app_nav(page).get_by_role("link", name="Data", exact=True).click()
    page.get_by_role("heading", name=t("data.title", "en")).wait_for(timeout=60_000)  # type: ignore[attr-defined]
    assert sidebar.get_by_text("Synthetic demo data").count() == 1
    page.context.close()  # type: ignore[attr-defined]
