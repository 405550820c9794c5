"""Only the front-end files the maps load are served (issue 10: static/node_modules, 45 MB and
~3,000 files including source maps, was served whole). npm installs into frontend/, outside the
folder Streamlit serves; scripts/vendor_assets.py copies the linked assets, their CSS references,
Leaflet's marker images and the licences — nothing else — and removes what an earlier copy left."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from retention.report.maps import VENDORED_ASSETS
from scripts.vendor_assets import missing_packages

REPO = Path(__file__).resolve().parent.parent
NODE_MODULES_CURRENT = (REPO / "frontend" / "node_modules").is_dir() and not missing_packages(
    REPO / "frontend" / "node_modules"
)
NODE_MODULES = REPO / "frontend" / "node_modules"


def test_nothing_npm_installs_lives_in_the_served_folder():
    tracked = subprocess.run(
        ["git", "ls-files", "static"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked == []  # static/ holds only the generated vendor copy
    assert (REPO / "frontend" / "package.json").is_file()
    assert (REPO / "frontend" / "package-lock.json").is_file()
    setup = (REPO / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert "(cd frontend && npm ci" in setup and "(cd static" not in setup


@pytest.mark.skipif(
    not NODE_MODULES_CURRENT,
    reason="frontend/node_modules absent or older than frontend/package.json: run `npm ci` in "
    "frontend/ (scripts/setup.sh does)",
)
def test_the_vendor_copy_holds_only_what_the_maps_load(tmp_path: Path) -> None:
    dest = tmp_path / "vendor"
    stale = [dest / "leaflet" / "leaflet.js.map", dest / "leaflet" / "leaflet-src.js"]
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("left from an earlier copy")
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "vendor_assets.py"), "--dest", str(dest)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert not [f for f in files if f.endswith(".map") or "-src." in f or "package.json" in f]
    assert not any(path.exists() for path in stale)
    assert set(VENDORED_ASSETS.values()) <= set(files)
    others = set(files) - set(VENDORED_ASSETS.values())
    kinds = {Path(f).suffix for f in others}
    # images (leaflet-draw's toolbar sprite also as SVG), fonts, licences
    assert kinds <= {".png", ".svg", ".woff2", ".ttf", ""} | {".txt"}, others
    # leaflet-draw's npm package has no licence file: its MIT notice heads the copied script.
    header = (dest / VENDORED_ASSETS["leaflet_draw_js"]).read_text(encoding="utf-8")[:300]
    assert "Leaflet.draw 1.0.2" in header and "(c) 2012-2017" in header
    assert sum((dest / f).stat().st_size for f in files) < 5 * 1024 * 1024
    assert len(files) < 60
