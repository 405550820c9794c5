"""Snapshots per user scope (issue 12): an HR account exports its own enterprises only.

The scope is the run key's ``user_scope`` (``UserScope.canonical``), checked by the pipeline
before any computation, so a forged page value, a cached wrapper or the CLI all meet the same
refusal. These run on the tiny line park: a refusal computes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from retention.auth.roles import Role, UserScope
from retention.errors import AccessDeniedError
from retention.park_parameters import ParkParameters
from retention.pipeline.run_key import RunKey
from retention.pipeline.snapshot import build_snapshot, require_snapshot_scope
from tests.scenario_fixtures import line_park


def _key(scope: UserScope | None) -> RunKey:
    return RunKey(
        "line",
        "line-v1",
        ParkParameters(),
        "none",
        user_scope=None if scope is None else scope.canonical(),
    )


HR = UserScope("hr-e1", Role.HR, ("E1",))


@pytest.mark.parametrize(
    ("scope", "enterprise", "message"),
    [
        # Another firm's id: refused whether or not the park has it (ids cannot be probed).
        (HR, "E2", "may not see enterprise 'E2'"),
        (HR, None, "own enterprises only; expected one of E1"),  # the whole park's snapshot
        (UserScope("v", Role.VIEWER), None, "may not export snapshots"),
        (UserScope("v", Role.VIEWER), "E1", "may not export snapshots"),
    ],
)
def test_a_snapshot_outside_the_scope_is_refused_before_any_computation(
    scope: UserScope, enterprise: str | None, message: str, tmp_path: Path
) -> None:
    with pytest.raises(AccessDeniedError, match=message):
        build_snapshot(
            line_park(), _key(scope), lang="en", data_dir=tmp_path, enterprise_id=enterprise
        )


@pytest.mark.parametrize(
    ("scope", "enterprise"),
    [
        (None, None),  # the server operator (CLI without accounts, batch)
        (None, "E2"),
        (UserScope("p", Role.PLANNER), None),
        (UserScope("p", Role.PLANNER), "E2"),
        (UserScope("a", Role.ADMIN), "E1"),
        (HR, "E1"),
        (UserScope("hr-2", Role.HR, ("E1", "E2")), "E2"),
    ],
)
def test_planners_export_any_snapshot_and_hr_its_own_enterprises(
    scope: UserScope | None, enterprise: str | None
) -> None:
    require_snapshot_scope(_key(scope).user_scope, enterprise)  # no error
