"""Roles, what each may do, and the scope a signed-in user's data reads are restricted to.

Four roles (DESIGN.md "Who may see what"):

* ``admin``: everything a planner may do, plus accounts, deletions and the audit log;
* ``planner``: all data of the park, adds uploads and survey waves, edits parameters;
* ``hr``: its own enterprise(s) — their workforce figures and survey groups — plus anonymous
  park benchmarks; no import, no deletion, no other firm's figures;
* ``viewer``: read-only, park-level figures only: no survey detail (no breakdown by enterprise,
  residence or zone, no survey download).

A :class:`UserScope` is what data reads take (``retention.survey.disclosure``,
``retention.model.peer_benchmark``): it is checked where the data is read, not by hiding widgets,
so a page, a download and a CLI call under one scope see the same thing. ``canonical()`` is the
text the pipeline's run key carries.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from retention.errors import AccessDeniedError, ValidationError


class Role(enum.Enum):
    """A user's role."""

    ADMIN = "admin"
    PLANNER = "planner"
    HR = "hr"
    VIEWER = "viewer"


class Permission(enum.Enum):
    """Something a role may do (checked in ``retention`` where the action happens)."""

    ALL_ENTERPRISES = "all_enterprises"
    """See every enterprise's figures (else only the scope's own enterprises)."""
    SURVEY_DETAIL = "survey_detail"
    """See survey groups below the park level (enterprise, residence, zone) and download them."""
    IMPORT_SURVEY = "import_survey"
    """Read a survey file, map its questions and preview its validation report."""
    ADD_WAVE = "add_wave"
    """Store a survey wave (changes every published survey figure)."""
    DELETE_WAVE = "delete_wave"
    """Remove a stored survey wave."""
    ADD_UPLOAD = "add_upload"
    """Add an uploaded layer to the park."""
    DELETE_UPLOAD = "delete_upload"
    """Remove an uploaded layer."""
    EDIT_PARAMETERS = "edit_parameters"
    """Save the park's planning parameters (Assumptions page) and scenarios."""
    EXPORT = "export"
    """Download exports (aggregate tables, reports)."""
    MANAGE_USERS = "manage_users"
    """Add and remove accounts."""
    VIEW_AUDIT = "view_audit"
    """Read the audit log."""
    MOVE_PARKS = "move_parks"
    """Export, import or migrate whole parks, raw survey rows included (``parklife db``,
    ``export-park``, ``import-park``)."""


_PLANNER = frozenset(
    {
        Permission.ALL_ENTERPRISES,
        Permission.SURVEY_DETAIL,
        Permission.IMPORT_SURVEY,
        Permission.ADD_WAVE,
        Permission.ADD_UPLOAD,
        Permission.EDIT_PARAMETERS,
        Permission.EXPORT,
    }
)
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: _PLANNER
    | {
        Permission.DELETE_WAVE,
        Permission.DELETE_UPLOAD,
        Permission.MANAGE_USERS,
        Permission.VIEW_AUDIT,
        Permission.MOVE_PARKS,
    },
    Role.PLANNER: _PLANNER,
    # HR's survey detail is its own enterprises' groups only (UserScope.visible_enterprises).
    Role.HR: frozenset({Permission.SURVEY_DETAIL, Permission.EXPORT}),
    Role.VIEWER: frozenset(),
}
"""What each role may do."""


@dataclass(frozen=True)
class UserScope:
    """A signed-in user: name, role and, for HR, the enterprises they may see.

    Parameters
    ----------
    user
        Account name (as in the accounts file); recorded in the audit log.
    role
        The user's role.
    enterprise_ids
        HR only: the enterprises whose figures the user may see (at least one). Empty for the
        other roles (planners and admins see all, viewers none).
    """

    user: str
    role: Role
    enterprise_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.role, Role):
            raise ValidationError(
                f"role must be one of {', '.join(r.value for r in Role)}, got {self.role!r}",
                column="role",
            )
        if not str(self.user).strip():
            raise ValidationError("user name is empty; expected an account name", column="user")
        ids = tuple(str(e) for e in self.enterprise_ids)
        if self.role is Role.HR and not ids:
            raise ValidationError(
                f"hr user {self.user!r} has no enterprise ids; expected one or more",
                column="enterprise_ids",
            )
        if self.role is not Role.HR and ids:
            raise ValidationError(
                f"{self.role.value} user {self.user!r} has enterprise ids; only hr users are "
                "restricted to enterprises",
                column="enterprise_ids",
            )
        object.__setattr__(self, "enterprise_ids", tuple(sorted(set(ids))))

    def can(self, permission: Permission) -> bool:
        """Return whether this user's role allows ``permission``."""
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        """Raise ``AccessDeniedError`` unless this user's role allows ``permission``."""
        if not self.can(permission):
            raise AccessDeniedError(
                f"user {self.user!r} (role {self.role.value}) may not {permission.value}; "
                f"expected a role with that right "
                f"({', '.join(r.value for r in Role if permission in ROLE_PERMISSIONS[r])})"
            )

    def sees_enterprise(self, enterprise_id: object) -> bool:
        """Return whether this user may see the figures of one enterprise."""
        if self.can(Permission.ALL_ENTERPRISES):
            return True
        return self.role is Role.HR and str(enterprise_id) in self.enterprise_ids

    def require_enterprise(self, enterprise_id: object) -> None:
        """Raise ``AccessDeniedError`` unless this user may see ``enterprise_id``'s figures."""
        if not self.sees_enterprise(enterprise_id):
            raise AccessDeniedError(
                f"user {self.user!r} (role {self.role.value}) may not see enterprise "
                f"{str(enterprise_id)!r}; expected one of the user's own enterprises"
            )

    def visible_enterprises(self, enterprise_ids: Iterable[object]) -> list[str]:
        """Return the ids among ``enterprise_ids`` this user may see, in their order."""
        return [str(e) for e in enterprise_ids if self.sees_enterprise(e)]

    def canonical(self) -> str:
        """Return the text naming what this user may see (the run key's ``user_scope``).

        Planners and admins see the same data, so they share one text (and one cache entry).
        """
        if self.can(Permission.ALL_ENTERPRISES):
            return "all"
        if self.role is Role.HR:
            return "hr:" + ",".join(self.enterprise_ids)
        return "viewer"


def parse_role(text: str) -> Role:
    """Return the role named ``text`` (``admin``, ``planner``, ``hr``, ``viewer``)."""
    try:
        return Role(str(text).strip().lower())
    except ValueError:
        raise ValidationError(
            f"unknown role {text!r}; expected one of {', '.join(r.value for r in Role)}",
            column="role",
        ) from None


def scope_enterprise_ids(user_scope: str | None) -> frozenset[str] | None:
    """Return the enterprises a run key's ``user_scope`` text may see the figures of one by one:
    ``None`` for every enterprise (``None``: the operator; ``"all"``: planners and admins), an
    HR scope's own ids, or none (viewers)."""
    if user_scope is None or user_scope == "all":
        return None
    if user_scope.startswith("hr:"):
        return frozenset(user_scope[3:].split(","))
    return frozenset()


def require_enterprise_in_scope(user_scope: str | None, enterprise_id: object) -> None:
    """Raise ``AccessDeniedError`` unless a run key's ``user_scope`` text may see an enterprise.

    ``user_scope`` is :meth:`UserScope.canonical` (``"all"``, ``"hr:E1,E2"``, ``"viewer"``) or
    ``None`` for the server operator (CLI, batch), who sees all.
    """
    visible = scope_enterprise_ids(user_scope)
    if visible is None or str(enterprise_id) in visible:
        return
    raise AccessDeniedError(
        f"user scope {user_scope!r} may not see enterprise {str(enterprise_id)!r}; expected one "
        "of the user's own enterprises"
    )
