"""mypy on the domain package (STYLE.md), with the configuration in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"

# Every module of retention/ is type-checked except these, each with the reason it is left out.
# A module leaves this list as soon as mypy reports no errors in it (a test below says when).
UNTYPED_MODULES: dict[str, str] = {}
TYPED_MODULES = tuple(
    sorted(
        name
        for name in (
            path.relative_to(ROOT / "retention").with_suffix("").as_posix()
            for path in (ROOT / "retention").rglob("*.py")
        )
        if name not in UNTYPED_MODULES
    )
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


def test_exclusion_list_names_existing_modules() -> None:
    retention = ROOT / "retention"
    missing = [name for name in UNTYPED_MODULES if not (retention / f"{name}.py").is_file()]
    assert missing == []
    assert "storage/uploads" in TYPED_MODULES  # the glob found the sub-packages


@pytest.fixture(scope="module")
def package_report() -> tuple[str, int]:
    # One run over every module, excluded ones too, so the exclusions can be checked as well.
    # The repository's own cache (it ignores itself in git) keeps repeat runs fast.
    paths = sorted((ROOT / "retention").rglob("*.py"))
    return _run_mypy(paths, cache_dir=ROOT / ".mypy_cache")


def _errors_in(report: str, module: str) -> list[str]:
    prefix = f"retention/{module}.py:"
    return [line for line in report.splitlines() if ": error:" in line and prefix in line]


@pytest.mark.slow
def test_typed_modules_have_no_mypy_errors(package_report: tuple[str, int]) -> None:
    report, status = package_report
    assert status in (0, 1), f"mypy did not run (exit {status}):\n{report}"
    errors = [line for name in TYPED_MODULES for line in _errors_in(report, name)]
    unattributed = [
        line for line in report.splitlines() if ": error:" in line and "retention/" not in line
    ]
    assert errors == [] and unattributed == [], (
        f"mypy found {len(errors) + len(unattributed)} error(s):\n{report}"
    )


@pytest.mark.slow
def test_excluded_modules_still_have_errors(package_report: tuple[str, int]) -> None:
    # Keeps the exclusion list honest: a module that now type-checks must join the typed ones.
    report, _status = package_report
    clean = [name for name in UNTYPED_MODULES if not _errors_in(report, name)]
    assert clean == [], f"remove {clean} from UNTYPED_MODULES: mypy reports no errors in them"


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
