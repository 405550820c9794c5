"""serve.py, the run command: it loads the app's modules and the default park before serving.

Also: every page's imports work when that page is the first thing a fresh process runs (plain
``streamlit run app.py`` runs the visited page before ``app.py`` on a fresh server), whatever
order serve.py's preload happens to use.

The browser side (a server started by serve.py renders pages, and its first page view imports
none of the app's modules) is tests/browser/test_serve_preload.py.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import serve

REPO = Path(__file__).resolve().parents[1]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_app_modules_are_read_from_app_pages_and_ui(tmp_path: Path) -> None:
    _write(tmp_path / "app.py", "from __future__ import annotations\nimport streamlit as st\n")
    _write(
        tmp_path / "pages" / "one.py",
        "import pandas as pd, json\nfrom retention.i18n import t\n"
        "def later():\n    from retention.report import maps\n",  # a submodule, imported late
    )
    _write(
        tmp_path / "ui" / "helper.py",
        "from . import sibling\nfrom ui.state import lang\nfrom ui import cached, state\n"
        "from pandas import DataFrame\n",
    )
    _write(tmp_path / "other" / "skipped.py", "import folium\n")  # not served: not scanned
    assert serve.app_modules(tmp_path) == [
        "json",
        "pandas",
        "retention.i18n",
        "retention.report",
        "retention.report.maps",
        "streamlit",
        "ui",
        "ui.cached",
        "ui.state",
    ]


def test_app_modules_cover_every_page_of_this_app() -> None:
    modules = set(serve.app_modules())
    # One module each page imports and no other page or ui module does (read from the pages).
    assert {
        "retention.report.enterprise_tables",  # enterprise
        "retention.report.survey_tables",  # survey
        "retention.scenario.model",  # scenario
        "ui.map_view",  # map
        "ui.cached_maps",  # map: from ui import cached_maps
        "ui.cached_model",  # enterprise
        "ui.warmup",  # ui.sidebar
        "folium",
    } <= modules
    assert "__future__" not in modules


@pytest.mark.slow  # imports the whole app in a fresh interpreter (~3 s of CPU)
def test_preload_imports_the_app_and_loads_the_default_park_quietly(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "import serve\n"
        "before = set(sys.modules)\n"
        "loaded = serve.preload()\n"
        "print(json.dumps({'park': loaded.park_id, 'modules': list(loaded.modules),\n"
        "    'missing': [m for m in loaded.modules if m not in sys.modules],\n"
        "    'new': len(set(sys.modules) - before)}))\n"
    )
    environment = {**os.environ, "PARKLIFE_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["park"] == "jinshan"  # the bundled demo park, the sidebar's first
    assert report["missing"] == []
    assert set(serve.app_modules()) | set(serve.STREAMLIT_MODULES) == set(report["modules"])
    assert report["new"] > 500  # pandas, geopandas, scipy, plotly, folium, retention, ui ...
    # Bare-mode notices that are expected before the server exists are not logged.
    assert "No runtime found" not in result.stderr
    assert "missing ScriptRunContext" not in result.stderr


def test_a_store_that_cannot_be_opened_does_not_stop_the_server_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PARKLIFE_DATABASE_URL", "mysql://nowhere/parklife")  # not PostgreSQL
    assert serve.load_default_park() is None
    printed = capsys.readouterr().err
    assert "no park loaded in advance" in printed
    assert "PARKLIFE_DATABASE_URL must be a postgresql:// URL" in printed  # the store's reason


PAGE_FILES = sorted((REPO / "pages").glob("*.py"))


def _import_statements(path: Path) -> str:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    return "\n".join(ast.unparse(node) for node in imports)


@pytest.mark.slow  # one fresh interpreter per page (~3 s of imports each)
@pytest.mark.parametrize("page", PAGE_FILES, ids=lambda path: path.stem)
def test_a_page_imported_first_in_a_fresh_process_finds_its_modules(page: Path) -> None:
    # No circular import may depend on which module a process imports first.
    result = subprocess.run(
        [sys.executable, "-c", _import_statements(page)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
