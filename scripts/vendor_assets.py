"""Copy the front-end files folium needs from frontend/node_modules into static/vendor.

Run after ``npm ci`` in ``frontend/`` (scripts/setup.sh does both). Streamlit serves ``static/``
at ``/app/static/``, every file in it, so ``node_modules`` lives outside it and only the files the
maps load are copied in: each asset ``retention.report.maps.VENDORED_ASSETS`` names, the images
and fonts their style sheets refer to (``url(...)``), Leaflet's marker images, and each package's
licence — no source maps, no unminified sources, no package metadata. Files left in the vendor
directory from an earlier copy are removed. The script then checks that every asset and every
``url(...)`` resolves to a file.

Usage: ``.venv/bin/python scripts/vendor_assets.py [--node-modules DIR] [--dest DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make the repository's package importable
    sys.path.insert(0, str(REPO))

from retention.report.maps import VENDORED_ASSETS  # noqa: E402

# Vendor folder -> its package folder under node_modules (the files the app links live there).
SOURCES: tuple[tuple[str, str], ...] = (
    ("leaflet/", "leaflet/dist/"),
    ("jquery/", "jquery/dist/"),
    ("bootstrap/", "bootstrap/dist/"),
    ("fontawesome/", "@fortawesome/fontawesome-free/"),
    ("leaflet.awesome-markers/", "leaflet.awesome-markers/dist/"),
    ("leaflet.markercluster/", "leaflet.markercluster/dist/"),
    ("leaflet-draw/", "leaflet-draw/dist/"),
)
# Copied besides the linked assets and their url() references: Leaflet's default marker images
# (its JavaScript derives their names from the CSS one) and each package's licence.
EXTRA: tuple[tuple[str, str], ...] = (
    ("leaflet/dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"),
    ("leaflet/dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"),
    ("leaflet/LICENSE", "leaflet/LICENSE"),
    ("jquery/LICENSE.txt", "jquery/LICENSE.txt"),
    ("bootstrap/LICENSE", "bootstrap/LICENSE"),
    ("@fortawesome/fontawesome-free/LICENSE.txt", "fontawesome/LICENSE.txt"),
    ("leaflet.awesome-markers/LICENSE", "leaflet.awesome-markers/LICENSE"),
    ("leaflet.markercluster/MIT-LICENCE.txt", "leaflet.markercluster/MIT-LICENCE.txt"),
    # leaflet-draw's npm package ships no licence file: its MIT notice is the header comment of
    # leaflet.draw.js, which is copied as it is.
)

_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+?)['\"]?\s*\)")


def missing_packages(node_modules: Path) -> list[str]:
    """Return the packages ``frontend/package.json`` names that ``node_modules`` lacks.

    An empty list means ``npm ci`` has been run since the last change of the package list.

    Parameters
    ----------
    node_modules
        ``frontend/node_modules``.

    Returns
    -------
    list of str
        Package names, in the order package.json lists them.
    """
    package = json.loads((REPO / "frontend" / "package.json").read_text(encoding="utf-8"))
    return [
        name
        for name in package["dependencies"]
        if not (node_modules / name / "package.json").is_file()
    ]


def _source_of(vendor_path: str) -> str:
    for vendor_prefix, source_prefix in SOURCES:
        if vendor_path.startswith(vendor_prefix):
            return source_prefix + vendor_path[len(vendor_prefix) :]
    raise ValueError(f"no package folder is known for vendored path {vendor_path!r}")


def _css_references(sheet: Path) -> list[str]:
    references = []
    for reference in _CSS_URL.findall(sheet.read_text(encoding="utf-8")):
        if reference.startswith(("data:", "#", "http:", "https:", "//")):
            continue
        references.append(reference.split("?")[0].split("#")[0])
    return references


def copy_assets(node_modules: Path, dest: Path) -> list[Path]:
    """Copy the files the maps load from ``node_modules`` to ``dest``; return the files written.

    Parameters
    ----------
    node_modules
        ``frontend/node_modules`` after ``npm ci``.
    dest
        The vendor directory; afterwards it holds exactly the returned files.

    Returns
    -------
    list of Path
        Every file now under ``dest``.
    """
    wanted: dict[str, str] = {}  # vendor path -> node_modules path
    for vendor_path in VENDORED_ASSETS.values():
        wanted[vendor_path] = _source_of(vendor_path)
    for source_rel, vendor_path in EXTRA:
        wanted[vendor_path] = source_rel
    for vendor_path, source_rel in list(wanted.items()):
        if not vendor_path.endswith(".css"):
            continue
        sheet = node_modules / source_rel
        if not sheet.is_file():
            continue  # reported below
        for reference in _css_references(sheet):
            referenced = (PurePosixPath(vendor_path).parent / reference).as_posix()
            target = os.path.normpath(referenced)
            wanted[target] = os.path.normpath(
                (PurePosixPath(source_rel).parent / reference).as_posix()
            )
    written: list[Path] = []
    for vendor_path, source_rel in sorted(wanted.items()):
        source = node_modules / source_rel
        if not source.is_file():
            raise FileNotFoundError(
                f"{source} is missing: run `npm ci` in frontend/ (scripts/setup.sh does)"
            )
        target = dest / vendor_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        written.append(target)
    keep = {path.resolve() for path in written}
    for path in sorted(dest.rglob("*"), reverse=True):  # files first, then emptied folders
        if path.is_file() and path.resolve() not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
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
    parser.add_argument("--node-modules", type=Path, default=REPO / "frontend" / "node_modules")
    parser.add_argument("--dest", type=Path, default=REPO / "static" / "vendor")
    args = parser.parse_args(argv)
    stale = missing_packages(args.node_modules)
    if stale:
        print(
            f"vendor_assets: {args.node_modules} lacks {', '.join(stale)}: run `npm ci` in "
            "frontend/ (scripts/setup.sh does)",
            file=sys.stderr,
        )
        return 1
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
