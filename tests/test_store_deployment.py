"""Accounts, the audit log and saved scenarios go through the store: with
``PARKLIFE_DATABASE_URL`` set they live in PostgreSQL (no file is written), with the same
guarantees as the file store (versions, no lost update when two admins save at once)."""

from __future__ import annotations

import json
import os
import stat
import threading
import uuid
from pathlib import Path

import pytest

from retention.auth import accounts, audit
from retention.auth.roles import Role, UserScope
from retention.errors import ValidationError
from retention.scenario.model import CloseAmenity, Scenario
from retention.scenario.records import ScenarioStore
from retention.storage.layout import DATABASE_URL_ENV
from retention.storage.records import AUDIT, SCENARIOS, USERS
from retention.storage.store import shared_store

PASSWORD = "correct horse battery"


@pytest.fixture(params=["file", "postgres"])
def deployment(request, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory; for ``postgres`` the database URL is set to a fresh schema."""
    monkeypatch.delenv(accounts.ACCOUNTS_ENV, raising=False)
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    if request.param == "postgres":
        from retention.storage.postgres import upgrade

        url = f"{request.getfixturevalue('postgres_url')}?schema=d_{uuid.uuid4().hex[:12]}"
        upgrade(url)
        monkeypatch.setenv(DATABASE_URL_ENV, url)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return data_dir


def test_accounts_audit_and_scenarios_live_in_the_configured_store(deployment: Path) -> None:
    path = accounts.accounts_path(deployment)
    accounts.add_user(path, "ana", PASSWORD, role=Role.ADMIN)
    accounts.add_user(path, "hr-1", PASSWORD, role=Role.HR, enterprise_ids=["E1"])
    scope = accounts.authenticate(path, "hr-1", PASSWORD)
    assert scope == UserScope("hr-1", Role.HR, ("E1",))
    audit.record(deployment, scope, audit.AuditAction.SIGN_IN)
    audit.record(deployment, scope, audit.AuditAction.EXPORT, park_id="jinshan",
                 detail={"file": "调查.xlsx"})  # fmt: skip
    saved = ScenarioStore(deployment).save(
        "jinshan", Scenario("关闭诊所", (CloseAmenity("C1"),), ""), author="ana"
    )
    store = shared_store(deployment)
    events, bad = audit.read_events(deployment)
    assert bad == 0 and [(e.action, e.park_id) for e in events] == [
        ("sign_in", ""),
        ("export", "jinshan"),
    ]
    assert events[1].detail == {"file": "调查.xlsx"}
    assert [e["user"] for e in store.records.read_log(None, AUDIT)] == ["hr-1", "hr-1"]
    assert store.records.get("jinshan", SCENARIOS, saved.scenario_id).version == 1
    if not os.environ.get(DATABASE_URL_ENV):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(audit.audit_path(deployment).stat().st_mode) == 0o600
        assert PASSWORD not in path.read_text(encoding="utf-8")
    else:  # PostgreSQL: nothing of it is a file in the data directory
        assert sorted(p.name for p in deployment.rglob("*")) == []
        stored = store.records.get(None, USERS, accounts.ACCOUNTS_KEY)
        assert sorted(stored.payload["users"]) == ["ana", "hr-1"]
        assert PASSWORD not in json.dumps(stored.payload)


def test_admins_adding_users_at_once_lose_none(deployment: Path) -> None:
    path = accounts.accounts_path(deployment)
    accounts.add_user(path, "ana", PASSWORD, role=Role.ADMIN)
    names = [f"user{n}" for n in range(6)]
    errors: list[BaseException] = []

    def add(name: str) -> None:
        try:
            accounts.add_user(path, name, PASSWORD, role=Role.VIEWER)
        except BaseException as err:  # reported below: a thread cannot fail the test itself
            errors.append(err)

    threads = [threading.Thread(target=add, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(accounts.load_accounts(path)) == sorted(["ana", *names])
    with pytest.raises(ValidationError, match="last admin"):
        accounts.remove_user(path, "ana")
    accounts.remove_user(path, "user0")
    assert "user0" not in accounts.load_accounts(path)


def test_an_accounts_file_of_the_old_layout_is_read_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    ana = {"role": "admin", "enterprise_ids": [], "password": accounts.hash_password(PASSWORD)}
    old = {"format": 1, "users": {"ana": ana}}
    path.write_text(json.dumps(old), encoding="utf-8")
    path.chmod(0o600)
    assert accounts.authenticate(path, "ana", PASSWORD).role is Role.ADMIN
    accounts.add_user(path, "pat", PASSWORD, role=Role.PLANNER)
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["version"] == 1 and sorted(stored["payload"]["users"]) == ["ana", "pat"]
    assert accounts.authenticate(path, "ana", PASSWORD).role is Role.ADMIN
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
