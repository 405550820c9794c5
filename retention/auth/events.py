"""What an audit event is: the actions, the event, and its one JSON form (used by every store).

This module depends on nothing but the roles, so the stores can write the events of what they
do (uploads, waves) while :mod:`retention.auth.audit` reads and writes the log through the store.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from retention.auth.roles import UserScope

EVENT_FIELDS = ("time_utc", "user", "role", "action", "park_id", "detail")


class AuditAction(enum.Enum):
    """What was done."""

    SIGN_IN = "sign_in"
    UPLOAD_ADD = "upload_add"
    UPLOAD_DELETE = "upload_delete"
    WAVE_ADD = "wave_add"
    WAVE_DELETE = "wave_delete"
    PARAMETERS_SAVE = "parameters_save"
    SCENARIO_CHANGE = "scenario_change"
    MAPPING_SAVE = "mapping_save"
    SAVE_REFUSED = "save_refused"
    """A save based on an older version than the stored one, refused (nothing overwritten)."""
    EXPORT = "export"
    USER_ADD = "user_add"
    USER_REMOVE = "user_remove"


@dataclass(frozen=True)
class AuditEvent:
    """One entry of the audit log."""

    time_utc: str
    user: str
    role: str
    action: str
    park_id: str
    detail: Mapping[str, object]


def new_event(
    scope: UserScope,
    action: AuditAction,
    *,
    park_id: str = "",
    detail: Mapping[str, object] | None = None,
    now: dt.datetime | None = None,
) -> AuditEvent:
    """Return the event of ``scope`` doing ``action`` (time: ``now`` or the current UTC second).

    ``detail`` holds ids, labels, file names and counts only — never a respondent's answer.
    """
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return AuditEvent(
        time_utc=when.isoformat(timespec="seconds"),
        user=scope.user,
        role=scope.role.value,
        action=AuditAction(action).value,
        park_id=str(park_id),
        detail=dict(detail or {}),
    )


def event_entry(event: AuditEvent) -> dict[str, Any]:
    """Return the event as the JSON object a store's log keeps."""
    return {name: (dict(event.detail) if name == "detail" else getattr(event, name))
            for name in EVENT_FIELDS}  # fmt: skip


def event_from_entry(entry: Mapping[str, Any]) -> AuditEvent:
    """Return the event a log entry holds.

    Raises
    ------
    ValueError
        When the entry lacks a field or its detail is not an object (a damaged line).
    """
    missing = [name for name in EVENT_FIELDS[:-1] if name not in entry]
    detail = entry.get("detail") or {}
    if missing or not isinstance(detail, Mapping):
        raise ValueError(f"not an audit event (missing {', '.join(missing) or 'detail'})")
    return AuditEvent(
        str(entry["time_utc"]),
        str(entry["user"]),
        str(entry["role"]),
        str(entry["action"]),
        str(entry["park_id"]),
        dict(detail),
    )
