"""What the running server hands out (issue 10): the vendored map assets, but not the npm tree,
its package files or source maps."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from .conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_only_the_vendored_assets_are_served(app_url: str) -> None:
    leftover = REPO / "static" / "node_modules"
    if leftover.is_symlink():
        pytest.skip(
            "static/node_modules is a symlink left in this worktree from the old layout; "
            "remove it (npm now installs into frontend/)"
        )
    if not (REPO / "static" / "vendor" / "leaflet" / "leaflet.js").is_file():
        pytest.skip("static/vendor is absent: run scripts/setup.sh")
    base = f"{app_url}/app/static"
    assert _status(f"{base}/vendor/leaflet/leaflet.js") == 200  # static serving is on
    for path in (
        "node_modules/leaflet/package.json",
        "node_modules/leaflet/dist/leaflet.js",
        "node_modules/.package-lock.json",
        "package.json",
        "package-lock.json",
    ):
        assert _status(f"{base}/{path}") == 404, path
    vendor = REPO / "static" / "vendor"
    if not any(vendor.rglob("*.map")):  # a vendor copy made by today's scripts/vendor_assets.py
        assert _status(f"{base}/vendor/leaflet/leaflet.js.map") == 404
        assert _status(f"{base}/vendor/leaflet/leaflet-src.js") == 404
        assert _status(f"{base}/vendor/.setup-stamp") == 404
