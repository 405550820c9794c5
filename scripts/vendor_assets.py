"""Copy the front-end files folium needs from static/node_modules into static/vendor.

Run after ``npm ci`` in ``static/`` (scripts/setup.sh does both). Streamlit serves ``static/`` at
``/app/static/`` and ``retention.report.maps`` links the copies there, so maps work without internet
access. The script then checks that every asset ``retention.report.maps.VENDORED_ASSETS`` names
exists and
that every ``url(...)`` a copied style sheet refers to (fonts, marker images) resolves to a file.

Usage: ``.venv/bin/python scripts/vendor_assets.py [--node-modules DIR] [--dest DIR]``
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make the repository's package importable
    sys.path.insert(0, str(REPO))

from retention.report.maps import VENDORED_ASSETS  # noqa: E402

# (path under node_modules, path under vendor). Directories are copied whole so that images and
# fonts referenced by the style sheets come along.
COPIES: tuple[tuple[str, str], ...] = (
    ("leaflet/dist", "leaflet"),
    ("leaflet/LICENSE", "leaflet/LICENSE"),
    ("jquery/dist/jquery.min.js", "jquery/jquery.min.js"),
    ("jquery/LICENSE.txt", "jquery/LICENSE.txt"),
    ("bootstrap/dist/js/bootstrap.bundle.min.js", "bootstrap/js/bootstrap.bundle.min.js"),
    ("bootstrap/dist/css/bootstrap.min.css", "bootstrap/css/bootstrap.min.css"),
    ("bootstrap/LICENSE", "bootstrap/LICENSE"),
    ("@fortawesome/fontawesome-free/css/all.min.css", "fontawesome/css/all.min.css"),
    ("@fortawesome/fontawesome-free/webfonts", "fontawesome/webfonts"),
    ("@fortawesome/fontawesome-free/LICENSE.txt", "fontawesome/LICENSE.txt"),
    ("leaflet.awesome-markers/dist", "leaflet.awesome-markers"),
    ("leaflet.awesome-markers/LICENSE", "leaflet.awesome-markers/LICENSE"),
    ("leaflet.markercluster/dist", "leaflet.markercluster"),
    ("leaflet.markercluster/MIT-LICENCE.txt", "leaflet.markercluster/MIT-LICENCE.txt"),
)

_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+?)['\"]?\s*\)")


def copy_assets(node_modules: Path, dest: Path) -> list[Path]:
    """Copy ``COPIES`` from ``node_modules`` to ``dest``; return the files written.

    Parameters
    ----------
    node_modules
        ``static/node_modules`` after ``npm ci``.
    dest
        The vendor directory; replaced entry by entry (other files are left alone).

    Returns
    -------
    list of Path
        Every file now under ``dest`` that came from ``node_modules``.
    """
    written: list[Path] = []
    for source_rel, target_rel in COPIES:
        source = node_modules / source_rel
        target = dest / target_rel
        if not source.exists():
            raise FileNotFoundError(
                f"{source} is missing: run `npm ci` in static/ (scripts/setup.sh does)"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
            written.extend(path for path in target.rglob("*") if path.is_file())
        else:
            shutil.copy2(source, target)
            written.append(target)
    return written


def missing_references(dest: Path) -> list[str]:
    """Return problems: vendored assets that are absent and CSS ``url()`` targets that are absent.

    Parameters
    ----------
    dest
        The vendor directory.

    Returns
    -------
    list of str
        One line per problem; empty when everything resolves.
    """
    problems = [
        f"asset {name!r}: {dest / path} does not exist"
        for name, path in VENDORED_ASSETS.items()
        if not (dest / path).is_file()
    ]
    for sheet in sorted(dest.rglob("*.css")):
        for reference in _CSS_URL.findall(sheet.read_text(encoding="utf-8")):
            if reference.startswith(("data:", "#")):
                continue
            if reference.startswith(("http:", "https:", "//")):
                problems.append(f"{sheet}: refers to remote {reference}")
                continue
            target = (sheet.parent / reference.split("?")[0].split("#")[0]).resolve()
            if not target.is_file():
                problems.append(f"{sheet}: url({reference}) -> {target} does not exist")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Copy and check the assets; return the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, default=REPO / "static" / "node_modules")
    parser.add_argument("--dest", type=Path, default=REPO / "static" / "vendor")
    args = parser.parse_args(argv)
    written = copy_assets(args.node_modules, args.dest)
    problems = missing_references(args.dest)
    for problem in problems:
        print(f"vendor_assets: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"vendor_assets: {len(written)} files in {args.dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
