"""Architecture rules (DESIGN.md): the domain package ``retention`` never imports streamlit, and its
stage sub-packages depend on each other in one direction only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "retention"
MODULES = sorted(PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _streamlit_imports(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else []
        else:
            continue
        if any(name == "streamlit" or name.startswith("streamlit.") for name in names):
            lines.append(node.lineno)
    return lines


def test_there_are_modules_to_check():
    assert len(MODULES) >= 5
    assert PACKAGE / "data" / "crs.py" in MODULES


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_no_streamlit_import_in_source(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    assert _streamlit_imports(tree) == [], f"{path.name} imports streamlit"


def test_detector_finds_streamlit_imports():
    source = "import os\nimport streamlit as st\nfrom streamlit.runtime import x\nfrom . import y\n"
    assert _streamlit_imports(ast.parse(source)) == [2, 3]


@pytest.mark.slow  # imports every module (geopandas, scipy, sklearn, ...) in a fresh interpreter
def test_importing_every_module_does_not_load_streamlit():
    names = [_module_name(path) for path in MODULES]
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit')\n"
        "print(loaded[:5])\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# The stages of the pipeline, each allowed to import only the stages listed for it (and the
# shared foundation: ``retention.errors``, ``retention.i18n``, ``retention.safe_cells``, the
# formula-safe CSV/XLSX writer, ``retention.escaping`` for user text in HTML, JS and markdown,
# and ``retention.auth``'s roles and audit events, importing only the foundation, so that every
# stage may read a user's scope and name what it did). Top-level modules of the package
# (``park_parameters``, ...) and the joining sub-packages in JOINERS may import any stage.
FOUNDATION = frozenset({"errors", "i18n", "safe_cells", "escaping", "auth"})
# ...except these modules of ``retention.auth``: the accounts and the audit log are kept in the
# store, so they import ``storage`` and no stage may import them (only joiners, ui/ and pages).
AUTH_ON_STORAGE = frozenset({"retention.auth.accounts", "retention.auth.audit"})
ALLOWED_STAGE_IMPORTS: dict[str, frozenset[str]] = {
    "auth": frozenset(),  # roles, events; AUTH_ON_STORAGE modules may import "storage" too
    "data": frozenset(),
    "survey": frozenset({"data"}),
    "storage": frozenset({"data", "survey"}),
    "access": frozenset({"data", "storage"}),
    "model": frozenset({"data", "survey", "access"}),
    "report": frozenset({"data", "survey", "access", "model"}),
    "scenario": frozenset({"data", "survey", "storage", "access", "model"}),
}


def _retention_imports(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    """Return (line, imported retention module) for every import of the package in ``tree``."""
    found = []
    package_parts = module.split(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level]
                names = [".".join([*base, *([node.module] if node.module else [])])]
            else:
                names = [node.module or ""]
            # ``from retention import data`` imports the sub-package ``retention.data``, and
            # ``from retention.auth import audit`` the module ``retention.auth.audit``.
            if names == ["retention"]:
                names = [f"retention.{alias.name}" for alias in node.names]
            elif names == ["retention.auth"]:
                names = [f"retention.auth.{alias.name}" for alias in node.names]
        else:
            continue
        found.extend((node.lineno, name) for name in names if name.split(".")[0] == "retention")
    return found


JOINERS: dict[str, frozenset[str]] = {
    # joining sub-package -> joiners it must not import (the pipeline never calls a front end)
    "pipeline": frozenset({"cli", "batch"}),
    "batch": frozenset({"cli"}),
    "cli": frozenset(),
}


def test_every_sub_package_is_a_known_stage():
    packages = {p.parent.name for p in MODULES if p.name == "__init__.py" and p.parent != PACKAGE}
    assert packages <= set(ALLOWED_STAGE_IMPORTS) | set(JOINERS)
    assert set(ALLOWED_STAGE_IMPORTS) <= packages


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_stages_import_only_earlier_stages(path):
    module = _module_name(path)
    parts = module.split(".")
    stage = parts[1] if len(parts) > 1 else None
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if stage in JOINERS:
        forbidden = JOINERS[stage]
        bad = [
            f"line {line}: {name}"
            for line, name in _retention_imports(tree, module)
            if len(name.split(".")) > 1 and name.split(".")[1] in forbidden
        ]
        assert bad == [], f"{module} imports a front end: {bad}"
        return
    if stage not in ALLOWED_STAGE_IMPORTS:
        return  # a top-level joining module (park_parameters, ...) may import every stage
    allowed = ALLOWED_STAGE_IMPORTS[stage] | {stage}
    if module in AUTH_ON_STORAGE:
        allowed |= {"storage"}
    bad = []
    for line, name in _retention_imports(tree, module):
        parts = name.split(".")
        target = parts[1] if len(parts) > 1 else ""
        on_storage = ".".join(parts[:3]) in AUTH_ON_STORAGE and stage != "auth"
        if (target in FOUNDATION or target in allowed) and not on_storage:
            continue
        bad.append(f"line {line}: {name}")
    assert bad == [], f"{module} (stage {stage!r}) imports outside {sorted(allowed)}: {bad}"


def test_auth_roles_and_events_stay_foundation():
    """Every stage may import roles and events: they must not import storage (a cycle)."""
    for name in ("roles", "events", "__init__"):
        path = PACKAGE / "auth" / f"{name}.py"
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {n.split(".")[1] for _, n in _retention_imports(tree, module) if "." in n}
        assert imported <= FOUNDATION, (module, imported)
    tree = ast.parse("from retention.auth import audit, roles\n")
    assert _retention_imports(tree, "retention.storage.uploads") == [
        (1, "retention.auth.audit"),
        (1, "retention.auth.roles"),
    ]


def test_stage_checker_flags_a_backward_import():
    tree = ast.parse("from retention.model.intent import x\nfrom retention.errors import E\n")
    imports = _retention_imports(tree, "retention.data.crs")
    assert imports == [(1, "retention.model.intent"), (2, "retention.errors")]
    relative = ast.parse("from ..access import network\nfrom . import layers\n")
    assert _retention_imports(relative, "retention.data.io") == [
        (1, "retention.access"),
        (2, "retention.data"),
    ]


# --- pages -> ui -> retention ---------------------------------------------------------------------
# Pages read widgets, call ``ui`` (cached wrappers around ``retention.pipeline`` and the stage
# modules) and render. From ``retention`` a page may import only what presents or names things:
PAGES = [*sorted((PACKAGE.parent / "pages").glob("*.py")), PACKAGE.parent / "app.py"]
PAGE_MODULES = frozenset(
    {
        "retention.i18n",  # the catalogue: t(), label()
        "retention.errors",  # exception classes to catch and show
        "retention.escaping",  # user text escaped where it lands (markdown, HTML)
        "retention.safe_cells",  # formula-safe CSV/XLSX bytes of a table the page shows
    }
)
PAGE_PACKAGES = ("retention.report.",)  # presentation modules (tables, maps): no compute
# ...and these plain types and constants (enums, frozen option dataclasses, id lists) by name:
PAGE_NAMES: dict[str, frozenset[str]] = {
    "retention.access.gaps": frozenset({"GAP_INDEX_METHOD"}),
    "retention.auth.audit": frozenset({"AuditAction"}),  # what an audit line records
    "retention.auth.roles": frozenset({"Permission"}),  # what a role may do
    "retention.access.indicators": frozenset({"DEMAND_SETS", "INDICATORS"}),
    "retention.access.parameters": frozenset({"DAY_TYPES"}),
    "retention.access.travel_times": frozenset({"MODES"}),
    "retention.data.columns": frozenset({"IGNORE", "LayerColumnMapping"}),
    "retention.data.crs": frozenset({"CoordinateSystem"}),
    "retention.data.io": frozenset({"RawLayer"}),
    "retention.data.layers": frozenset(
        {
            "CAPACITY_UNITS",
            "LAYER_SPECS",
            "AmenityCategory",
            "LayerKind",
            "ResidenceKind",
            "ZoneLevel",
        }
    ),
    "retention.park_parameters": frozenset(
        {
            "DECAY_KINDS",
            "DEFAULT_VERSION",
            "PARAMETERS_FILE",
            "SCALARS",
            "WINDOW_SOURCES",
            "ParkParameters",
            "ScalarSpec",
        }
    ),
    "retention.pipeline": frozenset({"GAP_WEIGHT_METHODS", "RunKey"}),
    "retention.scenario.budget": frozenset({"OBJECTIVES"}),
    "retention.scenario.model": frozenset(
        {
            "AddAmenity",
            "AddResidence",
            "AddRoute",
            "CloseAmenity",
            "Modification",
            "MoveWorkers",
            "RouteStop",
            "Scenario",
            "ServiceWindow",
        }
    ),
    "retention.scenario.siting": frozenset({"DEMANDS"}),
    "retention.survey.analysis": frozenset({"AnalysisParameters"}),
    "retention.survey.answers": frozenset({"ValueMap"}),
    "retention.survey.coding": frozenset({"CODE_OPTIONS"}),
    "retention.survey.importer": frozenset({"SurveyImport"}),
    "retention.survey.link": frozenset({"LinkParameters"}),
    "retention.survey.mapping": frozenset({"MAPPING_TARGETS", "ColumnMapping"}),
    "retention.survey.privacy": frozenset({"PrivacyParameters"}),
    "retention.survey.schema": frozenset({"AgeBand"}),
    "retention.survey.weighting": frozenset({"WeightingParameters"}),
}
ENGINE_MODULES = (
    "retention.access.network",
    "retention.access.transit",
    "retention.access.travel_times",
)


def _page_violations(tree: ast.AST) -> list[str]:
    """Return every import in a page's ``tree`` outside the pages' allow list."""
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bad += [
                f"line {node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.split(".")[0] == "retention" and alias.name not in PAGE_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            module = node.module
            if module.split(".")[0] != "retention":
                continue
            if module in PAGE_MODULES or module.startswith(PAGE_PACKAGES):
                continue
            allowed = PAGE_NAMES.get(module, frozenset())
            bad += [
                f"line {node.lineno}: from {module} import {alias.name}"
                for alias in node.names
                if alias.name not in allowed
            ]
    return bad


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_pages_reach_retention_only_through_ui(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    assert _page_violations(tree) == [], f"{path.name} calls the domain directly; go through ui/"


def test_page_checker_flags_compute_and_allows_types():
    source = (
        "from retention.i18n import t\n"
        "from retention.report.gap_tables import worst_served\n"
        "from retention.data.layers import LayerKind\n"
        "from retention.survey.analysis import AnalysisParameters, ipa\n"
        "import retention.access.travel_times\n"
        "from ui import cached\n"
    )
    assert _page_violations(ast.parse(source)) == [
        "line 4: from retention.survey.analysis import ipa",
        "line 5: import retention.access.travel_times",
    ]


@pytest.mark.parametrize(
    "path",
    [p for p in MODULES if _module_name(p).startswith("retention.report")],
    ids=lambda p: _module_name(p),
)
def test_report_modules_do_not_import_the_engine(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    engine = [
        f"line {line}: {name}"
        for line, name in _retention_imports(tree, _module_name(path))
        if name.startswith(ENGINE_MODULES)
    ]
    assert engine == [], f"{_module_name(path)} (presentation) imports the engine: {engine}"
