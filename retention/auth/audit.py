"""The audit log: who did what, when — uploads, waves, deletions, parameters, scenarios, exports.

The log is the store's append-only ``audit`` log of the deployment
(``retention.storage.records``): with the file store one JSON object per line in
``<data dir>/deployment/logs/audit.jsonl`` (mode 0600), each appended and fsync'd under the
deployment's lock, a torn last line from a crash cut off before the next; with the PostgreSQL
store (``$PARKLIFE_DATABASE_URL``) one row per event, committed before :func:`record` returns.
Events are never rewritten or deleted by ParkLife. Details hold ids, labels and counts only —
never a respondent's answer. A log of the older layout (``<data dir>/audit.jsonl``) is read into
the store when the file store opens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from retention.auth.events import (
    AuditAction,
    AuditEvent,
    event_entry,
    event_from_entry,
    new_event,
)
from retention.auth.roles import UserScope
from retention.storage.records import AUDIT
from retention.storage.store import FileStore, shared_store

AUDIT_FILE = "audit.jsonl"
"""The log's file in the older layout (``<data dir>/audit.jsonl``)."""

__all__ = ["AUDIT_FILE", "AuditAction", "AuditEvent", "audit_path", "read_events", "record"]


def audit_path(data_dir: Path) -> Path:
    """Return the file store's audit log file for a data directory."""
    return FileStore.deployment_log_path(Path(data_dir), AUDIT)


def record(
    data_dir: Path,
    scope: UserScope,
    action: AuditAction,
    *,
    park_id: str = "",
    detail: Mapping[str, object] | None = None,
    now: dt.datetime | None = None,
) -> AuditEvent:
    """Append one event to the audit log and return it (once it is durable).

    Parameters
    ----------
    data_dir
        The ParkLife data directory (its store: ``retention.storage.store.shared_store``).
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
    event = new_event(scope, action, park_id=park_id, detail=detail, now=now)
    shared_store(data_dir).records.append(None, AUDIT, event_entry(event))
    return event


def read_events(data_dir: Path) -> tuple[list[AuditEvent], int]:
    """Return the audit log's events, oldest first, and the number of unreadable entries."""
    events, bad = [], 0
    for entry in shared_store(data_dir).records.read_log(None, AUDIT):
        try:
            events.append(event_from_entry(entry))
        except ValueError:
            bad += 1
    events.sort(key=lambda event: event.time_utc)  # parks moved in keep their own order
    return events, bad
