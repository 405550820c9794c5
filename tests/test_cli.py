"""The ``parklife`` command line end to end on the demo park, in English and Chinese.

Most tests call :func:`retention.cli.main` in-process with a temporary data directory (fast);
two run the real entry points (``python -m retention`` and the ``[project.scripts]`` target).
Fixture files are written here, from the demo park's own coordinates converted to GCJ-02.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from retention.cli import _main, main
from retention.cli._command import Command, ExitCode, discover_commands
from retention.cli._output import display_width, format_table, wrap
from retention.data.crs import wgs84_to_gcj02
from retention.i18n import LANGUAGES, catalogue, t
from retention.report.issue_text import translate_issue_text
from retention.storage.park import load_park

REPO = Path(__file__).resolve().parent.parent
COMMANDS = ("parks", "validate", "import")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(*args: str, env: dict[str, str] | None = None, tty: bool = False) -> tuple[int, str, str]:
    """Run ``parklife args`` in-process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), (_Terminal() if tty else io.StringIO())
    code = main(list(args), stdout=out, stderr=err, environ={} if env is None else env)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(scope="module")
def demo_amenity() -> tuple[float, float]:
    """A demo amenity's position in GCJ-02 (as a planner copies it from Amap)."""
    point = load_park("jinshan").layer("amenities").geometry.iloc[0]
    lon, lat = wgs84_to_gcj02(point.x, point.y)
    return float(lon), float(lat)


def _amenities_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    fields = ["id", "name", "category", "capacity", "opening_hours", "lon", "lat"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def mixed_file(tmp_path: Path, demo_amenity: tuple[float, float]) -> Path:
    """Four amenities: two valid, one unknown category, one id the demo park already has."""
    lon, lat = demo_amenity
    base = {"capacity": 80, "opening_hours": "06:00-22:00", "lon": lon + 0.001, "lat": lat}
    return _amenities_csv(
        tmp_path / "amenities.csv",
        [
            {**base, "id": "cli1", "name": "新球场", "category": "sports_court"},
            {**base, "id": "cli2", "name": "夜宵食堂", "category": "canteen"},
            {**base, "id": "cli3", "name": '=HYPERLINK("http://x")', "category": "bowling"},
            {**base, "id": "a00001", "name": "重复编号", "category": "canteen"},
        ],
    )


@pytest.fixture
def valid_file(tmp_path: Path, demo_amenity: tuple[float, float]) -> Path:
    lon, lat = demo_amenity
    row = {"capacity": 30, "opening_hours": "07:00-23:00", "lon": lon, "lat": lat + 0.001}
    return _amenities_csv(
        tmp_path / "ok.csv",
        [{**row, "id": "ok1", "name": "快递驿站", "category": "express_delivery"}],
    )


# --- the command set and its help -------------------------------------------------------------


def test_every_public_cli_module_registers_one_named_command() -> None:
    commands = discover_commands()
    names = [command.name for command in commands]
    assert set(COMMANDS) <= set(names)
    assert len(names) == len(set(names))
    assert all(isinstance(command, Command) for command in commands)


def test_a_public_module_without_command_is_refused(tmp_path: Path, monkeypatch) -> None:
    package = tmp_path / "fakecli"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "stray.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(TypeError, match=r"fakecli\.stray .*defines no COMMAND"):
        discover_commands("fakecli")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_command_has_help_texts_in_both_languages(lang: str) -> None:
    for command in discover_commands():
        assert t(command.help_key, lang)
        assert t(command.description_key, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("command", [None, *(c.name for c in discover_commands())])
def test_help_of_every_command_in_both_languages(lang: str, command: str | None) -> None:
    args = ["--lang", lang] + ([command] if command else []) + ["--help"]
    code, out, err = run(*args)
    assert code == ExitCode.OK and err == ""
    assert out.startswith(t("cli.usage_prefix", lang) + "parklife")
    assert t("cli.options", lang) in out
    assert t("cli.exit_codes", lang) in out
    if lang == "zh":  # argparse's English headings are replaced
        for english in ("usage:", "options:", "show this help"):
            assert english not in out


def test_language_comes_from_the_locale_unless_given() -> None:
    zh = run("--help", env={"LANG": "zh_CN.UTF-8"})[1]
    assert zh.startswith(t("cli.usage_prefix", "zh"))
    # LC_ALL wins over LANG (POSIX), and --lang over both, wherever it stands.
    assert run("--help", env={"LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"})[1].startswith("usage")
    _, out, _ = run("parks", "--lang", "en", "--help", env={"LANG": "zh_CN.UTF-8"})
    assert out.startswith("usage: parklife parks")


def test_help_never_imports_the_heavy_libraries() -> None:
    # ``parklife --help`` builds every sub-command's parser: they must import their work lazily.
    script = (
        "import sys\nfrom retention.cli import main\n"
        "from retention.cli._command import discover_commands\n"
        "runs = [['--help']] + [[c.name, '--help'] for c in discover_commands()]\n"
        "codes = [main(args, stdout=open('/dev/null', 'w')) for args in runs]\n"
        "heavy = [m for m in ('geopandas', 'pandas', 'scipy', 'retention.access.travel_times') "
        "if m in sys.modules]\nprint(len(runs), heavy)\nsys.exit(max(codes))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    count, heavy = done.stdout.strip().split(" ", 1)
    assert int(count) == 1 + len(discover_commands())
    assert heavy == "[]"


# --- parks --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_parks_lists_the_demo_park_with_its_counts(lang: str, data_dir: Path) -> None:
    park = load_park("jinshan", data_dir=data_dir)
    code, out, err = run("parks", "--lang", lang, "--data-dir", str(data_dir))
    assert code == ExitCode.OK, err
    header, _, line = out.splitlines()
    assert header.split()[:2] == [t("cli.parks.col.id", lang), t("cli.parks.col.name", lang)]
    assert line.startswith("jinshan")
    assert park.name(lang) in line
    assert line.split()[-3:] == [
        str(len(park.layer(kind))) for kind in ("enterprises", "residences", "amenities")
    ]


def test_parks_json(data_dir: Path) -> None:
    code, out, _ = run("parks", "--json", "--data-dir", str(data_dir))
    assert code == ExitCode.OK
    (row,) = json.loads(out)
    assert row["id"] == "jinshan" and row["synthetic"] is True and row["uploads"] == 0
    assert row["amenities"] == len(load_park("jinshan", data_dir=data_dir).layer("amenities"))


# --- validate -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_validate_reports_rows_like_the_data_page(lang: str, data_dir: Path, mixed_file: Path):
    code, out, err = run(
        "validate", str(mixed_file), "--kind", "amenities", "--crs", "gcj02",
        "--park", "jinshan", "--lang", lang, "--data-dir", str(data_dir),
    )  # fmt: skip
    assert code == ExitCode.REJECTED_ROWS, err
    lines = out.splitlines()
    assert lines[0] == t(
        "cli.validate.summary",
        lang,
        file=str(mixed_file),
        layer=t("common.layer.amenities", lang),
        system=t("common.crs.gcj02", lang),
        valid=2,
        rejected=2,
        warnings=0,
    )
    issues = lines[1:]
    assert len(issues) == 2
    assert issues[0].startswith("  " + t("cli.severity.error", lang) + " · ")
    assert t("cli.issue.row", lang, row=3) in issues[0] and "bowling" in issues[0]
    assert t("cli.issue.row", lang, row=4) in issues[1] and "a00001" in issues[1]
    if lang == "zh":  # the validator's messages too, as on the Data page
        assert "is not an allowed value" not in issues[0]
        assert translate_issue_text("'bowling' is not an allowed value", "zh") in issues[0]
    assert not (data_dir / "parks").exists()  # validate stores nothing


def test_validate_all_valid_exits_zero(data_dir: Path, valid_file: Path) -> None:
    code, out, _ = run(
        "validate", str(valid_file), "--kind", "amenities", "--crs", "amap",
        "--park", "jinshan", "--data-dir", str(data_dir),
    )  # fmt: skip
    assert code == ExitCode.OK
    assert out.splitlines()[-1] == t("cli.validate.all_valid", "en")


def test_validate_without_a_park_skips_the_park_checks(mixed_file: Path, data_dir: Path):
    code, out, err = run(
        "validate", str(mixed_file), "--kind", "amenities", "--crs", "gcj02",
        "--data-dir", str(data_dir),
    )  # fmt: skip
    assert code == ExitCode.REJECTED_ROWS
    assert "3 valid rows, 1 rejected" in out  # the repeated id is only caught against a park
    assert t("cli.validate.no_park", "en") in err


def test_validate_saves_formula_safe_reports(tmp_path: Path, data_dir: Path, mixed_file: Path):
    rejected, issues = tmp_path / "rejected.csv", tmp_path / "issues.xlsx"
    code, _, err = run(
        "validate", str(mixed_file), "--kind", "amenities", "--crs", "gcj02",
        "--park", "jinshan", "--data-dir", str(data_dir),
        "--rejected-out", str(rejected), "--issues-out", str(issues), "--max-issues", "0",
    )  # fmt: skip
    assert code == ExitCode.REJECTED_ROWS
    assert t("cli.saved", "en", path=str(rejected)) in err
    rows = list(csv.DictReader(rejected.read_text(encoding="utf-8-sig").splitlines()))
    assert [row["id"] for row in rows] == ["cli3", "a00001"]
    assert rows[0]["name"] == '\'=HYPERLINK("http://x")'  # a spreadsheet shows it as text
    assert issues.read_bytes()[:2] == b"PK"  # an XLSX workbook
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left behind


# --- import -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_import_adds_the_valid_rows_to_the_park(lang: str, data_dir: Path, mixed_file: Path):
    before = len(load_park("jinshan", data_dir=data_dir).layer("amenities"))
    code, out, err = run(
        "import", str(mixed_file), "--park", "jinshan", "--kind", "amenities",
        "--crs", "gcj02", "--lang", lang, "--data-dir", str(data_dir),
    )  # fmt: skip
    assert code == ExitCode.REJECTED_ROWS, err
    park = load_park("jinshan", data_dir=data_dir)
    amenities = park.layer("amenities")
    assert len(amenities) == before + 2
    added = amenities[amenities["source"] != "demo"]
    assert sorted(added["id"]) == ["cli1", "cli2"]
    upload_id = str(added["source"].iloc[0])
    assert out.splitlines()[-1] == t(
        "cli.import.added", lang, count=2, park=park.name(lang), upload_id=upload_id
    )
    # The pages see it too: the same store, and ``parks`` counts the upload.
    listed = json.loads(run("parks", "--json", "--data-dir", str(data_dir))[1])
    assert listed[0]["uploads"] == 1


def test_import_twice_rejects_the_ids_it_already_added(data_dir: Path, valid_file: Path):
    args = ("import", str(valid_file), "--park", "jinshan", "--kind", "amenities",
            "--crs", "gcj02", "--data-dir", str(data_dir))  # fmt: skip
    assert run(*args)[0] == ExitCode.OK
    code, out, _ = run(*args)
    assert code == ExitCode.REJECTED_ROWS
    assert out.splitlines()[-1] == t("cli.import.nothing", "en")
    assert len(load_park("jinshan", data_dir=data_dir).layer("amenities").query("id == 'ok1'")) == 1


def test_import_creates_a_new_park_only_when_asked(data_dir: Path, valid_file: Path):
    args = ("import", str(valid_file), "--park", "newpark", "--kind", "amenities",
            "--crs", "gcj02", "--data-dir", str(data_dir))  # fmt: skip
    code, _, err = run(*args)
    assert code == ExitCode.UNKNOWN_PARK
    assert t("cli.import.create_hint", "en") in err
    assert run(*args, "--create")[0] == ExitCode.OK
    assert "newpark" in [
        row["id"] for row in json.loads(run("parks", "--json", "--data-dir", str(data_dir))[1])
    ]
    assert load_park("newpark", data_dir=data_dir).layer("amenities")["id"].tolist() == ["ok1"]


def test_import_shows_progress_on_a_terminal(data_dir: Path, valid_file: Path) -> None:
    args = ("import", str(valid_file), "--park", "jinshan", "--kind", "amenities",
            "--crs", "gcj02", "--data-dir", str(data_dir), "--lang", "zh")  # fmt: skip
    _, _, err = run(*args, tty=True)
    assert t("cli.step.validate", "zh") in err and t("cli.step.store", "zh") in err
    _, _, quiet = run(*args, "--quiet", tty=True)
    assert t("cli.step.validate", "zh") not in quiet


# --- user errors: specific messages and exit codes, never a traceback ---------------------------


def _bad(tmp_path: Path, mixed_file: Path) -> list[tuple[list[str], ExitCode, str]]:
    common = ["--data-dir", str(tmp_path / "data")]
    v = ["validate", str(mixed_file)]
    return [
        ([*v, "--kind", "amenities", "--crs", "gcj02", "--park", "nowhere", *common],
         ExitCode.UNKNOWN_PARK, "cli.error.unknown_park"),
        ([*v, "--kind", "shops", "--crs", "gcj02", *common],
         ExitCode.UNKNOWN_VALUE, "cli.error.kind"),
        ([*v, "--kind", "amenities", "--crs", "mars", *common],
         ExitCode.UNKNOWN_VALUE, "cli.error.crs"),
        (["validate", str(tmp_path / "missing.csv"), "--kind", "amenities", "--crs", "gcj02",
          *common], ExitCode.INPUT, "cli.error.no_file"),
        (["validate", str(_empty(tmp_path)), "--kind", "amenities", "--crs", "gcj02", *common],
         ExitCode.INPUT, "cli.error.file"),
        ([*v, "--kind", "amenities", "--crs", "gcj02", "--issues-out",
          str(tmp_path / "no" / "such" / "issues.csv"), *common],
         ExitCode.OUTPUT, "cli.error.out_no_folder"),
        ([*v, "--kind", "amenities", "--crs", "gcj02", "--issues-out", str(tmp_path / "x.txt"),
          *common], ExitCode.UNKNOWN_VALUE, "cli.error.out_format"),
        ([*v, "--kind", "amenities", *common], ExitCode.USAGE, "cli.error.required"),
        (["parks", "--colour", *common], ExitCode.USAGE, "cli.error.unrecognized"),
        (["frobnicate", *common], ExitCode.USAGE, "cli.error.invalid_choice"),
        ([*v, "--kind", "amenities", "--crs", "gcj02", "--max-issues", "many", *common],
         ExitCode.USAGE, "cli.error.invalid_value"),
        ([*v, "--kind", *common], ExitCode.USAGE, "cli.error.expects_value"),
    ]  # fmt: skip


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    return path


def _lead(key: str, lang: str) -> str:
    """The message's text before its first placeholder."""
    return catalogue()[key][lang].split("{")[0]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_bad_arguments_give_specific_messages_and_exit_codes(
    lang: str, tmp_path: Path, mixed_file: Path
) -> None:
    for args, expected, key in _bad(tmp_path, mixed_file):
        code, _, err = run(*args, "--lang", lang)
        assert code == expected, (args, err)
        assert "Traceback" not in err, args
        assert _lead(key, lang) in err, (args, err)


def test_an_unknown_language_is_a_usage_error_in_the_locale_language() -> None:
    code, _, err = run("parks", "--lang", "fr", env={"LANG": "zh_CN.UTF-8"})
    assert code == ExitCode.USAGE
    assert _lead("cli.error.invalid_choice", "zh") in err and "'fr'" in err


def _unwritable_folder(tmp_path: Path) -> Path:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    probe = locked / "probe"
    try:
        probe.touch()
    except OSError:
        return locked
    probe.unlink()  # root ignores modes; a read-only mount (sysfs) still refuses it
    try:
        (Path("/sys") / "parklife-probe").touch()
    except OSError:
        return Path("/sys")
    pytest.skip("no folder this user cannot write to")


def test_unwritable_report_fails_before_reading_the_input(tmp_path: Path) -> None:
    target = _unwritable_folder(tmp_path) / "issues.csv"
    code, _, err = run(
        "validate", str(tmp_path / "never-read.csv"), "--kind", "amenities", "--crs",
        "gcj02", "--issues-out", str(target),
    )  # fmt: skip
    assert code == ExitCode.OUTPUT
    assert t("cli.error.out_denied", "en", path=str(target)) in err


def test_a_folder_as_output_is_refused(tmp_path: Path, mixed_file: Path) -> None:
    folder = tmp_path / "out.csv"
    folder.mkdir()
    code, _, err = run(
        "validate", str(mixed_file), "--kind", "amenities", "--crs", "gcj02",
        "--rejected-out", str(folder),
    )  # fmt: skip
    assert code == ExitCode.OUTPUT
    assert t("cli.error.out_is_dir", "en", path=str(folder)) in err


def test_every_argparse_message_we_translate_is_what_python_says() -> None:
    # If argparse rewords a message, the pattern stops matching and users get the lead-in only.
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--n", type=int)
    parser.add_argument("--c", choices=["a", "b"])
    parser.add_argument("--req", required=True)
    messages = []
    for argv in (["--n", "x", "--req", "1"], ["--c", "z", "--req", "1"], ["--n"], []):
        try:
            parser.parse_args(argv)
        except argparse.ArgumentError as error:
            messages.append(str(error))
        except SystemExit:  # 3.11 still exits for a missing required argument
            messages.append("the following arguments are required: --req")
    _, extras = parser.parse_known_args(["--req", "1", "--zzz"])
    messages.append(f"unrecognized arguments: {' '.join(extras)}")
    for message in messages:
        translated = _main.translate_argparse_error(message, "zh")
        assert not translated.startswith(t("cli.error.arguments", "zh", message="")), message


# --- output helpers -----------------------------------------------------------------------------


def test_tables_align_by_display_width() -> None:
    table = format_table(["id", "名称", "n"], [["a", "金山", 5], ["bb", "x", 12]])
    lines = table.splitlines()
    assert lines[0] == "id  名称   n"
    assert lines[2] == "a   金山   5"
    assert lines[3] == "bb  x     12"
    assert {display_width(line) for line in lines} == {display_width(lines[0])}


def test_wrap_breaks_chinese_between_characters_and_english_between_words() -> None:
    assert wrap("alpha beta gamma", 11) == ["alpha beta", "gamma"]
    lines = wrap("园区生活圈命令行工具", 10)
    assert lines == ["园区生活圈", "命令行工具"]


# --- the real entry points ----------------------------------------------------------------------


def test_python_dash_m_retention_runs_the_cli(tmp_path: Path) -> None:
    env = {**os.environ, "PARKLIFE_DATA_DIR": str(tmp_path), "LANG": "zh_CN.UTF-8"}
    env.pop("LC_ALL", None)
    done = subprocess.run(
        [sys.executable, "-m", "retention", "parks"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split()[:2] == ["编号", "名称"]
    assert "jinshan" in done.stdout


def test_console_script_points_at_main() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    target = project["project"]["scripts"]["parklife"]
    module, _, attribute = target.partition(":")
    assert (module, attribute) == ("retention.cli", "main")
    assert project["build-system"]["build-backend"] == "setuptools.build_meta"
    assert "locales/*.json" in project["tool"]["setuptools"]["package-data"]["retention"]


def test_validate_uses_the_column_mapping_saved_on_the_data_page(
    tmp_path: Path, data_dir: Path, demo_amenity: tuple[float, float]
) -> None:
    from retention.data.columns import LayerColumnMapping
    from retention.storage.mappings import MappingStore

    lon, lat = demo_amenity
    path = tmp_path / "odd.csv"
    path.write_text(
        "id,name,what,capacity,opening_hours,lon,lat\n"
        f"m1,篮球场A,sports_court,2,06:00-22:00,{lon},{lat}\n",
        encoding="utf-8",
    )
    args = ("validate", str(path), "--kind", "amenities", "--crs", "gcj02", "--park", "jinshan",
            "--data-dir", str(data_dir))  # fmt: skip
    code, _, err = run(*args)
    assert code == ExitCode.INPUT  # "what" is no known name for the category column
    assert "category" in err
    headers = ("id", "name", "what", "capacity", "opening_hours", "lon", "lat")
    targets = ("id", "name", "category", "capacity", "opening_hours", "longitude", "latitude")
    MappingStore(data_dir).save_layer_mapping(
        "jinshan", LayerColumnMapping("amenities", headers, targets)
    )
    code, out, err = run(*args)
    assert code == ExitCode.OK, err
    assert t("cli.validate.saved_mapping", "en") in err
    assert "1 valid rows, 0 rejected" in out
