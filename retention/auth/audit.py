"""The audit log: who did what, when — uploads, waves, deletions, parameters, scenarios, exports.

One JSON object per line in ``<data dir>/audit.jsonl`` (mode 0600). Each event is appended with
a single ``write`` on a descriptor opened with ``O_APPEND`` while holding an exclusive ``flock``,
so concurrent sessions never interleave or lose a line, and a crash leaves at most one
incomplete last line (skipped, and counted, when read). Events are never rewritten or deleted by
ParkLife. Details hold ids, labels and counts only — never a respondent's answer.
"""

from __future__ import annotations

import datetime as dt
import enum
import fcntl
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from retention.auth.roles import UserScope

AUDIT_FILE = "audit.jsonl"


class AuditAction(enum.Enum):
    """What was done."""

    SIGN_IN = "sign_in"
    UPLOAD_ADD = "upload_add"
    UPLOAD_DELETE = "upload_delete"
    WAVE_ADD = "wave_add"
    WAVE_DELETE = "wave_delete"
    PARAMETERS_SAVE = "parameters_save"
    SCENARIO_CHANGE = "scenario_change"
    EXPORT = "export"
    USER_ADD = "user_add"
    USER_REMOVE = "user_remove"


@dataclass(frozen=True)
class AuditEvent:
    """One line of the audit log."""

    time_utc: str
    user: str
    role: str
    action: str
    park_id: str
    detail: Mapping[str, object]


def audit_path(data_dir: Path) -> Path:
    """Return the audit log file of a data directory."""
    return Path(data_dir) / AUDIT_FILE


def record(
    data_dir: Path,
    scope: UserScope,
    action: AuditAction,
    *,
    park_id: str = "",
    detail: Mapping[str, object] | None = None,
    now: dt.datetime | None = None,
) -> AuditEvent:
    """Append one event to the audit log and return it.

    Parameters
    ----------
    data_dir
        The ParkLife data directory.
    scope
        Who did it.
    action
        What was done.
    park_id
        The park it was done to ("" for account changes).
    detail
        Ids, labels, file names, counts (JSON-serialisable; never survey answers).
    now
        Time of the event (default: now, UTC).
    """
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    event = AuditEvent(
        time_utc=when.isoformat(timespec="seconds"),
        user=scope.user,
        role=scope.role.value,
        action=AuditAction(action).value,
        park_id=str(park_id),
        detail=dict(detail or {}),
    )
    line = json.dumps(
        {
            "time_utc": event.time_utc,
            "user": event.user,
            "role": event.role,
            "action": event.action,
            "park_id": event.park_id,
            "detail": event.detail,
        },
        ensure_ascii=False,
        default=str,
    )
    path = audit_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = (line + "\n").encode("utf-8")
        written = os.write(fd, data)
        while written < len(data):  # a short write on a full disk: finish the line or raise
            written += os.write(fd, data[written:])
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the lock
    return event


def read_events(data_dir: Path) -> tuple[list[AuditEvent], int]:
    """Return the audit log's events, oldest first, and the number of unreadable lines."""
    path = audit_path(data_dir)
    if not path.exists():
        return [], 0
    events, bad = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            events.append(
                AuditEvent(
                    str(item["time_utc"]),
                    str(item["user"]),
                    str(item["role"]),
                    str(item["action"]),
                    str(item["park_id"]),
                    dict(item.get("detail") or {}),
                )
            )
        except (ValueError, KeyError, TypeError):
            bad += 1
    return events, bad
