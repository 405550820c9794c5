"""mypy on the domain package (STYLE.md), with the configuration in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"

# Modules that type-check cleanly. Other retention/ modules join this list once `mypy` reports
# no errors in them; the goal is the whole package (then this list becomes ["retention"]).
TYPED_MODULES = (
    "crs",
    "errors",
    "hours",
    "io",
    "layers",
    "network",
    "origins",
    "parameters",
    "park",
    "store",
    "synthetic",
    "transit",
    "travel_times",
    "validate",
)


def _run_mypy(paths: list[Path], *, cache_dir: Path) -> tuple[str, int]:
    # follow-imports=silent: imported modules are analysed for their types, but errors are
    # reported only for the listed files, so a module not yet listed cannot fail this test.
    stdout, stderr, status = api.run(
        [
            "--config-file",
            str(CONFIG),
            "--follow-imports=silent",
            "--cache-dir",
            str(cache_dir),
            "--no-error-summary",
            "--show-error-codes",
            *(str(path) for path in paths),
        ]
    )
    return stdout + stderr, status


def test_typed_module_list_names_existing_modules() -> None:
    missing = [name for name in TYPED_MODULES if not (ROOT / "retention" / f"{name}.py").is_file()]
    assert missing == []


@pytest.mark.slow
def test_typed_modules_have_no_mypy_errors() -> None:
    paths = [ROOT / "retention" / f"{name}.py" for name in TYPED_MODULES]
    # The repository's own cache (it ignores itself in git) keeps repeat runs fast.
    report, status = _run_mypy(paths, cache_dir=ROOT / ".mypy_cache")
    errors = [line for line in report.splitlines() if ": error:" in line]
    assert status == 0 and errors == [], f"mypy found {len(errors)} error(s):\n{report}"


@pytest.mark.slow
def test_config_rejects_an_unannotated_function_in_the_package(tmp_path: Path) -> None:
    # A stand-in package named like ours, so the per-module override for retention.* applies:
    # this proves the test above runs with the strict settings, not mypy's lenient defaults.
    package = tmp_path / "retention"
    package.mkdir()
    (package / "__init__.py").write_text("")
    module = package / "untyped.py"
    module.write_text("def double(value):\n    return value * 2\n\n\nx: int = 'text'\n")
    report, status = _run_mypy([module], cache_dir=tmp_path / "cache")
    assert status == 1
    assert "[no-untyped-def]" in report
    assert "[assignment]" in report
