"""Accounts, roles and the audit log: hashed passwords, mode 0600, scopes, append-only events."""

from __future__ import annotations

import io
import json
import stat
import threading
from pathlib import Path

import pytest

from retention.auth import accounts, audit
from retention.auth.roles import Permission, Role, UserScope, parse_role
from retention.cli import main as cli_main
from retention.errors import AccessDeniedError, AuthenticationError, ValidationError

PASSWORD = "correct horse battery"


def test_password_hash_is_salted_scrypt_and_verifies() -> None:
    first, second = accounts.hash_password(PASSWORD), accounts.hash_password(PASSWORD)
    assert first.startswith("scrypt$16384$8$1$")
    assert first != second  # a fresh salt each time
    assert PASSWORD not in first
    assert accounts.verify_password(PASSWORD, first)
    assert not accounts.verify_password(PASSWORD + "x", first)
    assert not accounts.verify_password(PASSWORD, "plain-text")


def test_accounts_file_is_written_0600_and_authenticates(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    accounts.add_user(path, "hr-e1", PASSWORD, role=Role.HR, enterprise_ids=["E2", "E1"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert PASSWORD not in path.read_text()
    scope = accounts.authenticate(path, "hr-e1", PASSWORD)
    assert scope == UserScope("hr-e1", Role.HR, ("E1", "E2"))
    with pytest.raises(AuthenticationError, match="unknown user or wrong password"):
        accounts.authenticate(path, "hr-e1", "wrong password!")
    with pytest.raises(AuthenticationError, match="unknown user or wrong password"):
        accounts.authenticate(path, "nobody", PASSWORD)


def test_accounts_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    accounts.add_user(path, "ana", PASSWORD, role=Role.ADMIN)
    path.chmod(0o644)
    with pytest.raises(ValidationError, match=r"mode 0644.*expected mode 0600"):
        accounts.authenticate(path, "ana", PASSWORD)


def test_account_rules(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    with pytest.raises(ValidationError, match="at least 10"):
        accounts.add_user(path, "ana", "short", role=Role.ADMIN)
    with pytest.raises(ValidationError, match="no enterprise ids"):
        accounts.add_user(path, "hr", PASSWORD, role=Role.HR)
    with pytest.raises(ValidationError, match="not valid"):
        accounts.add_user(path, "Ana Smith", PASSWORD, role=Role.ADMIN)
    accounts.add_user(path, "ana", PASSWORD, role=Role.ADMIN)
    with pytest.raises(ValidationError, match="already exists"):
        accounts.add_user(path, "ana", PASSWORD, role=Role.VIEWER)
    with pytest.raises(ValidationError, match="last admin"):
        accounts.remove_user(path, "ana")
    with pytest.raises(ValidationError, match="unknown role 'boss'"):
        parse_role("boss")


def test_role_permissions_and_enterprise_scope() -> None:
    admin = UserScope("a", Role.ADMIN)
    planner = UserScope("p", Role.PLANNER)
    hr = UserScope("h", Role.HR, ("E1",))
    viewer = UserScope("v", Role.VIEWER)
    assert admin.can(Permission.DELETE_WAVE) and not planner.can(Permission.DELETE_WAVE)
    assert planner.can(Permission.ADD_WAVE)
    assert not hr.can(Permission.ADD_WAVE) and not viewer.can(Permission.ADD_WAVE)
    assert not viewer.can(Permission.SURVEY_DETAIL) and not viewer.can(Permission.EXPORT)
    with pytest.raises(AccessDeniedError, match=r"'p' \(role planner\) may not delete_wave"):
        planner.require(Permission.DELETE_WAVE)
    assert hr.visible_enterprises(["E1", "E2", "E3"]) == ["E1"]
    assert viewer.visible_enterprises(["E1"]) == []
    assert planner.visible_enterprises(["E1", "E2"]) == ["E1", "E2"]
    with pytest.raises(AccessDeniedError, match="may not see enterprise 'E2'"):
        hr.require_enterprise("E2")
    assert {s.canonical() for s in (admin, planner)} == {"all"}
    assert hr.canonical() == "hr:E1" and viewer.canonical() == "viewer"
    with pytest.raises(ValidationError, match="only hr users"):
        UserScope("p", Role.PLANNER, ("E1",))


def test_cli_creates_first_admin_and_records_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(accounts.ACCOUNTS_ENV, raising=False)

    def users(*args: str, password: str, as_ana: bool = True) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        out, err = io.StringIO(), io.StringIO()
        code = cli_main(
            ["--data-dir", str(tmp_path), "--lang", "en", "users", *args], stdout=out, stderr=err,
            environ={"PARKLIFE_USER": "ana", "PARKLIFE_PASSWORD": PASSWORD} if as_ana else {},
        )  # fmt: skip
        return code, out.getvalue(), err.getvalue()

    first = ("add", "ana", "--role", "admin", "--password-stdin")
    code, out, _ = users(*first, password=PASSWORD, as_ana=False)
    assert code == 0 and "ana: admin, saved in" in out
    assert accounts.authenticate(tmp_path / "accounts.json", "ana", PASSWORD).role is Role.ADMIN
    events, bad = audit.read_events(tmp_path)
    assert bad == 0 and [e.action for e in events] == ["user_add"]
    assert events[0].detail["name"] == "ana" and events[0].user == "cli"
    # From now on the deployment is shared: account changes name an admin (test_cli_roles.py).
    assert users("add", "bo", "--role", "viewer", "--password-stdin", password=PASSWORD,
                 as_ana=False)[0] == 8  # fmt: skip
    code, _, err = users("add", "bo", "--role", "viewer", "--password-stdin", password="short")
    assert code == 7 and "at least 10" in err
    code, _, err = users("add", "bo", "--role", "boss", "--password-stdin", password=PASSWORD)
    assert code == 2 and "boss" in err
    code, out, _ = users("list", password="")
    assert "ana" in out and "admin" in out and "scrypt" not in out


def test_audit_log_appends_every_event_from_concurrent_writers(tmp_path: Path) -> None:
    scope = UserScope("p", Role.PLANNER)

    def write(worker: int) -> None:
        for i in range(25):
            audit.record(
                tmp_path, scope, audit.AuditAction.EXPORT, park_id="jinshan",
                detail={"worker": worker, "i": i},
            )  # fmt: skip

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events, bad = audit.read_events(tmp_path)
    assert bad == 0 and len(events) == 100
    assert {(e.detail["worker"], e.detail["i"]) for e in events} == {
        (w, i) for w in range(4) for i in range(25)
    }
    assert stat.S_IMODE(audit.audit_path(tmp_path).stat().st_mode) == 0o600
    # A crash mid-line leaves a torn last line: not an event, and cut off by the next append.
    with audit.audit_path(tmp_path).open("a") as handle:
        handle.write('{"time_utc": "2026-')
    events, bad = audit.read_events(tmp_path)
    assert (len(events), bad) == (100, 0)
    audit.record(tmp_path, scope, audit.AuditAction.SIGN_IN)
    lines = audit.audit_path(tmp_path).read_text().splitlines()
    assert len(lines) == 101 and json.loads(lines[-1])["action"] == "sign_in"
    assert json.loads(lines[0])["user"] == "p"
    # A line edited into garbage is counted as unreadable; every other event still reads.
    lines[3] = "garbage"
    audit.audit_path(tmp_path).write_text("\n".join(lines) + "\n")
    events, bad = audit.read_events(tmp_path)
    assert (len(events), bad) == (100, 1)


def test_an_audit_log_of_the_old_layout_is_read_in_first(tmp_path: Path) -> None:
    old = {"time_utc": "2026-01-01T00:00:00+00:00", "user": "ana", "role": "admin",
           "action": "user_add", "park_id": "", "detail": {"name": "pat"}}  # fmt: skip
    (tmp_path / "audit.jsonl").write_text(json.dumps(old) + "\n" + '{"torn', encoding="utf-8")
    audit.record(tmp_path, UserScope("p", Role.PLANNER), audit.AuditAction.SIGN_IN)
    events, bad = audit.read_events(tmp_path)
    assert bad == 0 and [(e.user, e.action) for e in events] == [
        ("ana", "user_add"),
        ("p", "sign_in"),
    ]
    assert not (tmp_path / "audit.jsonl").exists()
    assert stat.S_IMODE(audit.audit_path(tmp_path).stat().st_mode) == 0o600
