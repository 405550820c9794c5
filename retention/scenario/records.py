"""Saved scenarios of a park, kept in the store (``retention.storage``) as versioned records.

Each scenario is one record of kind ``scenarios`` keyed by its id in the park's scope
(``retention.storage.records``): on the file store a JSON file written through a temporary file,
fsync and rename under the park's lock, on the PostgreSQL store a row changed in one transaction
under the park's advisory lock. The record holds the scenario
(``retention.scenario.model.scenario_to_dict``), its author and UTC timestamps. Every save names
the version it was based on, so a save over someone else's newer save is refused
(:class:`~retention.errors.StaleVersionError`) and nothing is lost; saving, duplicating,
renaming and deleting never touch another scenario or the baseline. ``parklife db migrate`` and
``export-park`` / ``import-park`` carry them with the park's other records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from retention.errors import ScenarioError
from retention.scenario.model import Scenario, scenario_from_dict, scenario_to_dict
from retention.storage.layout import check_park_id, checked_name
from retention.storage.records import SCENARIOS, Record, RecordStore
from retention.storage.store import shared_store

RECORD_VERSION = 1
_ID = re.compile(r"^[a-z0-9]{8,32}$")


@dataclass(frozen=True)
class ScenarioRecord:
    """One saved scenario.

    Parameters
    ----------
    scenario_id
        Store id (lower-case hex).
    scenario
        The scenario (its ``name`` is the display name).
    author
        Who saved it last.
    created_utc, updated_utc
        ISO 8601 UTC timestamps.
    version
        The stored record's version (1 for the first save, +1 per save; 0: not saved yet). A
        save based on this record is refused if the stored version has moved on.
    """

    scenario_id: str
    scenario: Scenario
    author: str
    created_utc: str
    updated_utc: str
    version: int = 0

    @property
    def name(self) -> str:
        """Display name."""
        return self.scenario.name


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class ScenarioStore:
    """The saved scenarios of every park of one store.

    Parameters
    ----------
    data_dir
        ParkLife's data directory: the store is ``retention.storage.store.shared_store`` for it
        (the PostgreSQL store when ``$PARKLIFE_DATABASE_URL`` is set).
    records
        The record store to use instead (a test, or a store opened by the caller).
    """

    def __init__(self, data_dir: Path | str | None = None, *, records: RecordStore | None = None):
        self._records = records if records is not None else shared_store(data_dir).records

    def list(self, park_id: str) -> list[ScenarioRecord]:
        """Return the park's saved scenarios, oldest first (then by id)."""
        stored = self._records.list_records(check_park_id(park_id), SCENARIOS)
        records = [_from_record(park_id, r) for r in stored]
        return sorted(records, key=lambda r: (r.created_utc, r.scenario_id))

    def load(self, park_id: str, scenario_id: str) -> ScenarioRecord:
        """Return one saved scenario.

        Raises
        ------
        ScenarioError
            If there is no such scenario.
        """
        stored = self._records.get(check_park_id(park_id), SCENARIOS, _check_id(scenario_id))
        if stored is None:
            raise ScenarioError(
                f"park {park_id!r} has no saved scenario {scenario_id!r}", column="scenario_id"
            )
        return _from_record(park_id, stored)

    def save(
        self,
        park_id: str,
        scenario: Scenario,
        *,
        author: str,
        scenario_id: str | None = None,
        expected_version: int | None = None,
    ) -> ScenarioRecord:
        """Save a new scenario (no ``scenario_id``) or replace a saved one; return its record.

        Parameters
        ----------
        expected_version
            The version the edit started from (``ScenarioRecord.version``); default: the version
            stored now (the replacement is still refused if another save lands in between).

        Raises
        ------
        ScenarioError
            Blank author, bad ids, or no saved scenario ``scenario_id``.
        StaleVersionError
            Someone saved or deleted the scenario after the version the edit started from.
        """
        if not author.strip():
            raise ScenarioError("author is blank; expected who saves the scenario", column="author")
        check_park_id(park_id)
        if scenario_id is None:
            record = ScenarioRecord(uuid.uuid4().hex[:16], scenario, author, _now(), _now())
            expected = 0
        else:
            old = self.load(park_id, scenario_id)
            record = replace(old, scenario=scenario, author=author, updated_utc=_now())
            expected = old.version if expected_version is None else expected_version
        stored = self._records.put(
            park_id, SCENARIOS, record.scenario_id, _payload(record), expected_version=expected
        )
        return replace(record, version=stored.version)

    def duplicate(
        self, park_id: str, scenario_id: str, *, name: str, author: str
    ) -> ScenarioRecord:
        """Save a copy of a scenario under a new id and ``name``."""
        original = self.load(park_id, scenario_id)
        return self.save(park_id, replace(original.scenario, name=name), author=author)

    def rename(self, park_id: str, scenario_id: str, *, name: str, author: str) -> ScenarioRecord:
        """Give a saved scenario a new name."""
        if not name.strip():
            raise ScenarioError("a scenario needs a name; expected non-blank text", column="name")
        original = self.load(park_id, scenario_id)
        return self.save(
            park_id,
            replace(original.scenario, name=name),
            author=author,
            scenario_id=scenario_id,
            expected_version=original.version,
        )

    def delete(
        self, park_id: str, scenario_id: str, *, expected_version: int | None = None
    ) -> None:
        """Delete a saved scenario (the page asks for confirmation first).

        ``expected_version`` as in :meth:`save`: a scenario saved again since is not deleted.
        """
        current = self.load(park_id, scenario_id)
        expected = current.version if expected_version is None else expected_version
        self._records.delete(park_id, SCENARIOS, scenario_id, expected_version=expected)

    def version(self, park_id: str) -> str:
        """A cache key that changes whenever a scenario of the park is saved or deleted."""
        stored = self._records.list_records(check_park_id(park_id), SCENARIOS)
        if not stored:
            return "none"
        text = json.dumps(
            [[r.key, r.version, r.updated_at, r.payload] for r in stored],
            ensure_ascii=False,
            sort_keys=True,
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _check_id(scenario_id: str) -> str:
    return checked_name(
        scenario_id,
        _ID,
        what="scenario id",
        problem="is not a store id",
        expected="8-32 lower-case letters or digits",
        column="scenario_id",
        error=ScenarioError,
    )


def _payload(record: ScenarioRecord) -> dict[str, Any]:
    return {
        "record_version": RECORD_VERSION,
        "scenario_id": record.scenario_id,
        "author": record.author,
        "created_utc": record.created_utc,
        "updated_utc": record.updated_utc,
        "scenario": scenario_to_dict(record.scenario),
    }


def _from_record(park_id: str, stored: Record) -> ScenarioRecord:
    payload: Any = stored.payload
    found = payload.get("record_version") if isinstance(payload, dict) else None
    if found != RECORD_VERSION:
        raise ScenarioError(
            f"scenario {stored.key!r} of park {park_id!r}: record_version is {found!r}; "
            f"expected {RECORD_VERSION}",
            column="record_version",
        )
    return ScenarioRecord(
        scenario_id=str(payload["scenario_id"]),
        scenario=scenario_from_dict(payload["scenario"]),
        author=str(payload["author"]),
        created_utc=str(payload["created_utc"]),
        updated_utc=str(payload["updated_utc"]),
        version=stored.version,
    )


__all__ = ["RECORD_VERSION", "ScenarioRecord", "ScenarioStore"]
