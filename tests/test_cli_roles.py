"""The command line under roles (issue 10): who a call acts as, what each role may run, and an
export line in the audit log for every file a command hands out.

A data directory with accounts is a shared deployment: a command names its account
(``--user`` / ``PARKLIFE_USER``, password from ``PARKLIFE_PASSWORD``) and runs with that
account's role and scope, as the app does. ``PARKLIFE_AUTH=local`` and a data directory without
accounts stay frictionless.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from retention.auth import accounts, audit
from retention.auth.roles import Role
from retention.cli._command import ExitCode
from retention.cli._main import main
from retention.i18n import t
from retention.scenario.model import Scenario
from retention.scenario.records import ScenarioStore
from retention.storage.park import load_park
from retention.storage.store import FileStore
from tests.test_cli import _amenities_csv
from tests.test_storage_transfer import _fill

PASSWORD = "correct horse battery"
USERS = {
    "ana": (Role.ADMIN, ()),
    "pat": (Role.PLANNER, ()),
    "hr-e1": (Role.HR, ("e0001",)),
    "vic": (Role.VIEWER, ()),
}


def run(data_dir: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """Run ``parklife args`` in-process with ``env`` as the whole environment."""
    out, err = io.StringIO(), io.StringIO()
    code = main(["--data-dir", str(data_dir), "--lang", "en", *args], stdout=out, stderr=err,
                environ=env)  # fmt: skip
    return code, out.getvalue(), err.getvalue()


def as_user(data_dir: Path, name: str, *args: str) -> tuple[int, str, str]:
    return run(data_dir, "--user", name, *args, PARKLIFE_PASSWORD=PASSWORD)


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory with one account per role (a shared deployment)."""
    monkeypatch.delenv(accounts.ACCOUNTS_ENV, raising=False)
    monkeypatch.delenv("PARKLIFE_DATABASE_URL", raising=False)
    data_dir = tmp_path / "data"
    for name, (role, enterprises) in USERS.items():
        accounts.add_user(
            accounts.accounts_path(data_dir), name, PASSWORD, role=role,
            enterprise_ids=enterprises,
        )  # fmt: skip
    return data_dir


def test_without_accounts_the_command_line_needs_no_sign_in(tmp_path: Path) -> None:
    code, out, err = run(tmp_path / "data", "parks")
    assert code == ExitCode.OK and "jinshan" in out, err


def test_a_shared_deployment_asks_who_is_acting(shared: Path) -> None:
    code, out, err = run(shared, "parks")
    assert code == ExitCode.DENIED and out == ""
    assert t("cli_auth.required", "en") in err
    # Named but no password and no terminal to ask on: refused, nothing read.
    code, _, err = run(shared, "--user", "pat", "parks")
    assert code == ExitCode.DENIED and t("cli_auth.no_password", "en", user="pat") in err
    code, _, err = run(shared, "--user", "pat", "parks", PARKLIFE_PASSWORD="wrong password!")
    assert code == ExitCode.DENIED and t("cli_auth.failed", "en") in err
    code, _, err = run(shared, "--user", "nobody", "parks", PARKLIFE_PASSWORD=PASSWORD)
    assert code == ExitCode.DENIED and t("cli_auth.failed", "en") in err
    # The account from the environment, or the option after the sub-command.
    code, out, err = run(shared, "parks", PARKLIFE_USER="vic", PARKLIFE_PASSWORD=PASSWORD)
    assert code == ExitCode.OK and "jinshan" in out, err
    code, out, err = run(shared, "parks", "--user", "vic", PARKLIFE_PASSWORD=PASSWORD)
    assert code == ExitCode.OK and "jinshan" in out, err


def test_single_user_mode_stays_frictionless_beside_accounts(shared: Path) -> None:
    code, out, err = run(shared, "parks", PARKLIFE_AUTH="local")
    assert code == ExitCode.OK and "jinshan" in out, err


# Command -> the roles that may run it (the app's page rights: Data page = add uploads, Reports
# = exports, Park comparison = every enterprise, whole-park transfers and accounts = admins).
MATRIX = {
    ("validate", "X.csv", "--kind", "amenities", "--crs", "gcj02"): {Role.ADMIN, Role.PLANNER},
    ("report", "--park", "jinshan", "--format", "pdf", "--out", "X.pdf"): {
        Role.ADMIN,
        Role.PLANNER,
        Role.HR,  # its own enterprises only: test_hr_reports_only_its_own_enterprise
    },
    ("score", "--park", "jinshan", "--window", "weekday_evening", "--out", "X.gpkg"): {
        Role.ADMIN,
        Role.PLANNER,
        Role.HR,
    },
    ("export-park", "jinshan", "--output", "X.zip"): {Role.ADMIN},
    ("users", "list"): {Role.ADMIN},
    ("parks",): set(Role),
}


@pytest.mark.parametrize("name", list(USERS))
def test_each_role_runs_only_the_commands_its_app_pages_allow(shared: Path, name: str) -> None:
    role = USERS[name][0]
    for command, allowed in MATRIX.items():
        if role in allowed:
            continue
        code, out, err = as_user(shared, name, *command)
        assert code == ExitCode.DENIED, (command, err)
        assert t("cli_auth.denied", "en", user=name, role=role.value) in err
        assert out == ""
    # Refused before any work: nothing was written, nothing exported.
    assert not [e for e in audit.read_events(shared)[0] if e.action == "export"]


def test_hr_reports_only_its_own_enterprise(shared: Path, tmp_path: Path) -> None:
    """The command lets HR in; the run key's scope refuses everything but its own firm."""
    out = tmp_path / "hr.pdf"
    report = ("report", "--park", "jinshan", "--format", "pdf", "--out", str(out))
    refusals = {}
    for extra in ((), ("--enterprise", "e0002"), ("--enterprise", "no-such-firm")):
        code, _, err = as_user(shared, "hr-e1", *report, *extra)
        assert code == ExitCode.DENIED, err
        assert t("cli.exit.denied", "en") in err and "own enterprises" in err
        refusals[extra[1:]] = err
    # Another firm and a firm that does not exist are refused alike: no probing of ids.
    assert refusals[("e0002",)].replace("e0002", "X") == refusals[("no-such-firm",)].replace(
        "no-such-firm", "X"
    )
    assert not out.exists()
    assert not [e for e in audit.read_events(shared)[0] if e.action == "export"]


def test_import_is_stored_and_audited_as_the_named_planner(shared: Path, tmp_path: Path) -> None:
    point = load_park("jinshan").layer("amenities").geometry.iloc[0]
    layer = _amenities_csv(
        tmp_path / "shop.csv",
        [{"id": "r1", "name": "便利店", "category": "grocery", "capacity": 20,
          "opening_hours": "07:00-23:00", "lon": point.x, "lat": point.y + 0.001}],
    )  # fmt: skip
    args = ("import", str(layer), "--park", "jinshan", "--kind", "amenities", "--crs", "wgs84")
    assert as_user(shared, "hr-e1", *args)[0] == ExitCode.DENIED
    code, _, err = as_user(shared, "pat", *args)
    assert code == ExitCode.OK, err
    added = [e for e in audit.read_events(shared)[0] if e.action == "upload_add"]
    assert [(e.user, e.role, e.park_id) for e in added] == [("pat", "planner", "jinshan")]
    # The report files validate writes are exports, as the Data page's downloads are.
    issues = tmp_path / "issues.csv"
    code, _, err = as_user(shared, "pat", "validate", *args[1:], "--issues-out", str(issues))
    assert code == ExitCode.REJECTED_ROWS and issues.is_file(), err  # r1 is in the park now
    (export,) = [e for e in audit.read_events(shared)[0] if e.action == "export"]
    assert (export.user, export.park_id, export.detail["what"], export.detail["file"]) == (
        "pat", "jinshan", "layer_issues", "issues.csv",
    )  # fmt: skip


def test_exports_name_who_what_park_and_scope(shared: Path, tmp_path: Path) -> None:
    ScenarioStore(shared).save("jinshan", Scenario("Lake clinic"), author="pat")
    out = tmp_path / "lab.json"
    code, _, err = as_user(
        shared, "pat", "report", "--park", "jinshan", "--scenario", "Lake clinic",
        "--format", "json", "--out", str(out),
    )  # fmt: skip
    assert code == ExitCode.OK and out.is_file(), err
    _fill(FileStore(shared))
    archive = tmp_path / "tiny.zip"
    code, _, err = as_user(shared, "ana", "export-park", "tiny", "--output", str(archive))
    assert code == ExitCode.OK and archive.is_file(), err
    exports = [  # _fill's park brings its own audit lines: only ours
        e for e in audit.read_events(shared)[0] if e.action == "export" and e.user in USERS
    ]
    assert [(e.user, e.park_id, dict(e.detail)) for e in exports] == [
        ("pat", "jinshan",
         {"what": "scenario", "file": "lab.json", "scope": "all", "scenario": "Lake clinic"}),
        ("ana", "tiny", {"what": "park_archive", "file": "tiny.zip", "scope": "all"}),
    ]  # fmt: skip
    assert exports[0].time_utc[:10] == exports[1].time_utc[:10]  # the day, in UTC


def test_account_changes_need_an_admin_once_accounts_exist(shared: Path) -> None:
    add = ("users", "add", "new-hr", "--role", "hr", "--enterprise", "e0002", "--password-stdin")
    assert as_user(shared, "pat", *add)[0] == ExitCode.DENIED
    assert "new-hr" not in accounts.load_accounts(accounts.accounts_path(shared))
    stdin = io.StringIO(PASSWORD + "\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", stdin)
        code, _, err = as_user(shared, "ana", *add)
    assert code == ExitCode.OK, err
    event = audit.read_events(shared)[0][-1]
    assert (event.user, event.action, event.detail["name"]) == ("ana", "user_add", "new-hr")
