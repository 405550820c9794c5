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
# and ``retention.auth``: roles, accounts and audit, importing only the foundation, so that every
# stage may read a user's scope). Top-level modules of the package (``park_parameters``, ...) and
# the joining sub-packages in JOINERS may import any stage.
FOUNDATION = frozenset({"errors", "i18n", "safe_cells", "escaping", "auth"})
ALLOWED_STAGE_IMPORTS: dict[str, frozenset[str]] = {
    "auth": frozenset(),
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
            # ``from retention import data`` imports the sub-package ``retention.data``.
            if names == ["retention"]:
                names = [f"retention.{alias.name}" for alias in node.names]
        else:
            continue
        found.extend((node.lineno, name) for name in names if name.split(".")[0] == "retention")
    return found


JOINERS: dict[str, frozenset[str]] = {
    # joining sub-package -> joiners it must not import (the pipeline never calls a front end)
    "pipeline": frozenset({"cli"}),
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
    bad = []
    for line, name in _retention_imports(tree, module):
        parts = name.split(".")
        target = parts[1] if len(parts) > 1 else ""
        if target in FOUNDATION or target in allowed:
            continue
        bad.append(f"line {line}: {name}")
    assert bad == [], f"{module} (stage {stage!r}) imports outside {sorted(allowed)}: {bad}"


def test_stage_checker_flags_a_backward_import():
    tree = ast.parse("from retention.model.intent import x\nfrom retention.errors import E\n")
    imports = _retention_imports(tree, "retention.data.crs")
    assert imports == [(1, "retention.model.intent"), (2, "retention.errors")]
    relative = ast.parse("from ..access import network\nfrom . import layers\n")
    assert _retention_imports(relative, "retention.data.io") == [
        (1, "retention.access"),
        (2, "retention.data"),
    ]
