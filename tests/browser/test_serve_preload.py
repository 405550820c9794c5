"""serve.py in a browser: a fresh server's first page view finds the app's modules loaded.

Streamlit runs app.py and the pages in the server process; ``serve.py`` imports their modules
before the port opens, so the first visitor does not wait for the import (~3 s of CPU). The
server profiles its script runs (``PARKLIFE_PROFILE_DIR``): with the preload no module of
``retention/`` or ``ui/`` is executed during a page view; started with ``PARKLIFE_PRELOAD=0`` the
same view executes them (the check can fail).
"""

from __future__ import annotations

import pstats
from pathlib import Path

import pytest

from retention.i18n import t

from .conftest import REPO, new_offline_page, serve_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

APP_PACKAGES = (REPO / "retention", REPO / "ui")


def _modules_run(profile_dir: Path) -> set[str]:
    """Return the app modules (``retention/``, ``ui/``) whose top level ran in a profiled run."""
    ran: set[str] = set()
    for path in sorted(profile_dir.glob("*.prof")):
        for filename, _line, function in pstats.Stats(str(path)).stats:  # type: ignore[attr-defined]
            source = Path(filename)
            if function == "<module>" and any(source.is_relative_to(p) for p in APP_PACKAGES):
                ran.add(source.relative_to(REPO).as_posix())
    return ran


def _first_view(browser: object, tmp_path: Path, *, preload: str) -> set[str]:
    """Open the Data page on a fresh server once; return the app modules its runs executed."""
    profiles = tmp_path / f"profiles-{preload}"
    environment = {"PARKLIFE_PROFILE_DIR": str(profiles), "PARKLIFE_PRELOAD": preload}
    with serve_app(
        tmp_path / f"data-{preload}", tmp_path / f"server-{preload}.log", env=environment
    ) as url:
        page, _ = new_offline_page(browser)
        page.goto(f"{url}/data", wait_until="commit")  # type: ignore[attr-defined]
        heading = page.locator("h1", has_text=t("data.title", "en"))  # type: ignore[attr-defined]
        heading.wait_for(timeout=180_000)
        page.locator(  # type: ignore[attr-defined]
            '[data-testid="stApp"][data-test-script-state="notRunning"]'
        ).wait_for(timeout=180_000)
        assert page.locator('[data-testid="stException"]').count() == 0  # type: ignore[attr-defined]
        page.context.close()  # type: ignore[attr-defined]
    # The server has stopped: every run it made is written.
    assert list(profiles.glob("*.prof")), "the server wrote no profile"
    return _modules_run(profiles)


def test_first_page_view_after_a_start_imports_none_of_the_app(
    browser: object, tmp_path: Path
) -> None:
    assert _first_view(browser, tmp_path, preload="1") == set()


def test_without_the_preload_the_first_page_view_imports_the_app(
    browser: object, tmp_path: Path
) -> None:
    ran = _first_view(browser, tmp_path, preload="0")
    assert {"ui/cached.py", "retention/pipeline/warm.py", "ui/sidebar.py"} <= ran
