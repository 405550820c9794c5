"""Browser-test fixtures: the app served by ``serve.py`` (as ``make run`` does) and Debian chromium
via Playwright.

The app runs with a temporary ``PARKLIFE_DATA_DIR``; every request the page makes to a host other
than the app's own is aborted and recorded, which proves the app works without internet access.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
STARTUP_SECONDS = 180  # serve.py loads the app before the port opens (~3 s CPU, more on CI)
OUTPUT_DIR = REPO / "test-output"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"streamlit not healthy after {STARTUP_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def app_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app server's (temporary) data directory."""
    return tmp_path_factory.mktemp("browser-data")


@contextmanager
def serve_app(
    data_dir: Path,
    log: Path,
    *,
    preload: bool = True,
    env: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """Serve the app on a free port as a user would (``serve.py``); yield its base URL.

    ``preload=False`` runs plain ``streamlit run app.py`` instead (the benchmark compares the
    two); ``env`` adds environment variables for the server.
    """
    port = _free_port()
    # Browser tests check what only a browser shows (maps, first visit, downloads); they run in
    # the explicit single-user mode. Roles and sign-in are tested with AppTest (test_app_roles).
    environment = {
        **os.environ,
        "PARKLIFE_DATA_DIR": str(data_dir),
        "PARKLIFE_AUTH": "local",
        **(env or {}),
    }
    if preload:
        command = [sys.executable, str(REPO / "serve.py")]
    else:
        command = [str(Path(sys.executable).with_name("streamlit")), "run", "app.py"]
    options = ["--server.port", str(port), "--server.address", "127.0.0.1"]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*command, *options, "--server.headless", "true"],
            cwd=REPO,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def app_url(app_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start the app on a free port and return its base URL; stop it after the session."""
    log = tmp_path_factory.mktemp("browser-log") / "streamlit.log"
    with serve_app(app_data_dir, log) as url:
        yield url


@pytest.fixture
def fresh_app_url(tmp_path: Path) -> Iterator[str]:
    """A newly started app server that no browser has visited yet."""
    with serve_app(tmp_path / "data", tmp_path / "streamlit.log") as url:
        yield url


@dataclass
class RequestLog:
    """Requests the page tried to send off the machine, and local requests that failed."""

    blocked: list[str] = field(default_factory=list)
    failed_local: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian chromium driven by Playwright (no browser download)."""
    if not CHROMIUM.is_file():
        pytest.skip("Debian chromium is not installed: run `scripts/setup.sh test`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def new_offline_page(
    browser: object, *, locale: str = "en-US", viewport: tuple[int, int] = (1400, 1000)
) -> tuple[object, RequestLog]:
    """Return a page whose non-local requests are aborted and logged, plus the log."""
    width, height = viewport
    context = browser.new_context(  # type: ignore[attr-defined]
        locale=locale, viewport={"width": width, "height": height}
    )
    log = RequestLog()

    def route(route: object) -> None:
        host = urlsplit(route.request.url).hostname  # type: ignore[attr-defined]
        if host in LOCAL_HOSTS:
            route.continue_()  # type: ignore[attr-defined]
        else:
            log.blocked.append(route.request.url)  # type: ignore[attr-defined]
            route.abort()  # type: ignore[attr-defined]

    def response(response: object) -> None:
        if response.status >= 400:  # type: ignore[attr-defined]
            log.failed_local.append(f"{response.status} {response.url}")  # type: ignore[attr-defined]

    context.route("**/*", route)
    page = context.new_page()
    page.on("response", response)
    return page, log


def wait_until_idle(page: object, *, settle_ms: int = 300) -> None:
    """Wait until the app has finished the rerun an interaction started.

    A widget changed while a rerun is still running can be overtaken by it (an upload made during
    the rerun of a radio click is dropped), so tests act like a user who waits for the page.
    """
    page.wait_for_timeout(settle_ms)  # type: ignore[attr-defined]
    running = page.get_by_test_id("stStatusWidgetRunningIcon")  # type: ignore[attr-defined]
    running.wait_for(state="hidden", timeout=60_000)


def app_nav(page: object) -> object:
    """Return the app's own navigation menu in the sidebar (``ui.sidebar``)."""
    from ui.sidebar import NAVIGATION_KEY

    return page.locator(f".st-key-{NAVIGATION_KEY}")  # type: ignore[attr-defined]


def open_page(page: object, app_url: str, nav_label: str, heading: str) -> None:
    """Open the app at its root, then go to a page through the sidebar navigation."""
    page.goto(app_url, wait_until="domcontentloaded")  # type: ignore[attr-defined]
    nav = app_nav(page)
    nav.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    # Let the root page finish its first run (a fresh server reruns it once, ui/entry.py) so the
    # navigation click is not overtaken by that rerun.
    page.locator("h1").first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    nav.get_by_role("link", name=nav_label, exact=True).click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name=heading).wait_for(timeout=60_000)  # type: ignore[attr-defined]
    wait_until_idle(page)


def open_without_tiles(page: object, app_url: str) -> object:
    """Open the app at its root and choose no map tiles in the sidebar; return the menu.

    Done on the first page, before any map is drawn, so no tile is ever requested.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import expect

    from retention.i18n import t

    page.goto(app_url, wait_until="domcontentloaded")  # type: ignore[attr-defined]
    nav = app_nav(page)
    nav.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    page.locator("h1").first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    background = page.get_by_role("combobox", name=t("common.sidebar.tiles", "en"))  # type: ignore[attr-defined]
    none = t("common.tiles.none", "en")
    # A fresh session's first runs may redraw the sidebar (the URL takes the session's choices),
    # closing an open dropdown: open it again until the choice is made.
    for _ in range(5):
        wait_until_idle(page)
        background.click()
        try:
            page.get_by_role("option", name=none).click(timeout=15_000)  # type: ignore[attr-defined]
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")  # type: ignore[attr-defined]
    expect(background).to_have_value(none)
    wait_until_idle(page)
    return nav


@pytest.fixture
def output_dir() -> Path:
    """Where screenshots go (git-ignored)."""
    OUTPUT_DIR.mkdir(exist_ok=True)
    return OUTPUT_DIR
