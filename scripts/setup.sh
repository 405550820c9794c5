#!/usr/bin/env bash
# Set up everything ParkLife needs on a fresh Debian machine with Python 3.11.
#   scripts/setup.sh run    -> runtime: venv + requirements, front-end assets, CJK font
#   scripts/setup.sh test   -> the above + test tools and Debian chromium for browser tests
# Idempotent: each step is skipped when its inputs have not changed since it last succeeded.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-run}"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), "ParkLife needs Python 3.11, found %s" % sys.version.split()[0]'

log() { printf '[setup] %s\n' "$*"; }
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# 1. Debian packages: a CJK font (Chinese labels in charts, PDFs and the browser) and chromium
#    (kaleido draws the snapshot charts with it; Playwright drives it in tests; nothing downloads
#    a browser build); for tests, poppler-utils (pdftoppm renders snapshot PDF pages) and
#    PostgreSQL + PostGIS (the store tests start a throwaway cluster: tests/postgres_cluster.py)
#    and LibreOffice Impress without GUI (a second OOXML reader opens the snapshot PowerPoint:
#    tests/test_pptx_compat.py; about 50 packages, 180 MB).
apt_pkgs=(fonts-wqy-microhei chromium)
[ "$target" = test ] && apt_pkgs+=(poppler-utils postgresql postgresql-15-postgis-3 libreoffice-impress-nogui)
missing=()
for p in "${apt_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# 2. Python virtual environment with pinned requirements.
[ -x .venv/bin/python ] || { log "creating .venv"; "$PY" -m venv .venv; }
reqs=requirements.txt; [ "$target" = test ] && reqs=requirements-dev.txt
want="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)-$target"
if ! stamp_ok .venv/.setup-stamp-$target "$want"; then
  log "installing Python packages from $reqs"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$reqs"
  echo "$want" > .venv/.setup-stamp-$target
fi

# 3. The project itself, editable, so that `.venv/bin/parklife` (the command line) runs this
#    checkout's code; no dependencies here (step 2 pinned them).
want_pkg="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)-$(pwd)"
if [ ! -x .venv/bin/parklife ] || ! stamp_ok .venv/.setup-stamp-package "$want_pkg"; then
  log "installing the parklife command"
  .venv/bin/python -m pip install -q --no-deps -e .
  echo "$want_pkg" > .venv/.setup-stamp-package
fi

# 4. Front-end assets (Leaflet and the plugins folium uses) from the npm registry, served by the
#    app itself so that the map works on an intranet with no internet access. npm installs into
#    frontend/ (Streamlit serves static/ whole, so node_modules must not be there); only the files
#    the maps load are copied into static/vendor. The stamp lives outside static/ (not served).
# A node_modules left in static/ by the earlier layout would be served whole: remove it.
if [ -d static/node_modules ] && [ ! -L static/node_modules ]; then
  log "removing static/node_modules (npm now installs into frontend/)"
  rm -rf static/node_modules static/package.json static/package-lock.json
fi
if [ -f frontend/package.json ]; then
  want_js="$(cat frontend/package.json frontend/package-lock.json scripts/vendor_assets.py 2>/dev/null | sha256sum | cut -d' ' -f1)"
  if ! stamp_ok .venv/.setup-stamp-frontend "$want_js" || [ ! -f static/vendor/leaflet/leaflet.js ]; then
    log "installing front-end assets with npm"
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
    .venv/bin/python scripts/vendor_assets.py
    rm -f static/vendor/.setup-stamp  # from the earlier layout, where it was served
    echo "$want_js" > .venv/.setup-stamp-frontend
  fi
fi
log "ready ($target)"
