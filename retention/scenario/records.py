"""Saved scenarios of a park: a small file-backed record store with atomic writes.

Each scenario is one JSON file ``<data_dir>/parks/<park_id>/scenarios/<scenario_id>.json``
holding the scenario (``retention.scenario.model.scenario_to_dict``), its author and UTC
timestamps. Writes go through a temporary file renamed over the old one under the folder's lock
(``retention.storage.files``), so a reader sees a whole record or the previous one. Saving,
duplicating, renaming and deleting never touch another scenario's file or the baseline.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from retention.errors import ScenarioError
from retention.scenario.model import Scenario, scenario_from_dict, scenario_to_dict
from retention.storage.files import atomic_write_json, folder_lock, read_json
from retention.storage.layout import check_park_id

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
    """

    scenario_id: str
    scenario: Scenario
    author: str
    created_utc: str
    updated_utc: str

    @property
    def name(self) -> str:
        """Display name."""
        return self.scenario.name


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class ScenarioStore:
    """The saved scenarios of every park under one data directory.

    Parameters
    ----------
    data_dir
        ParkLife's data directory (``retention.storage.uploads.default_data_dir``).
    """

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = Path(data_dir)

    def folder(self, park_id: str) -> Path:
        """Folder of ``park_id``'s scenarios."""
        check_park_id(park_id)
        return self._data_dir / "parks" / park_id / "scenarios"

    def _path(self, park_id: str, scenario_id: str) -> Path:
        if not _ID.match(scenario_id):
            raise ScenarioError(
                f"scenario id {scenario_id!r} is not a store id; expected 8-32 lower-case letters "
                "or digits",
                column="scenario_id",
            )
        return self.folder(park_id) / f"{scenario_id}.json"

    def list(self, park_id: str) -> list[ScenarioRecord]:
        """Return the park's saved scenarios, oldest first (then by id)."""
        folder = self.folder(park_id)
        if not folder.is_dir():
            return []
        records = [self._read(path) for path in sorted(folder.glob("*.json"))]
        return sorted(records, key=lambda r: (r.created_utc, r.scenario_id))

    def load(self, park_id: str, scenario_id: str) -> ScenarioRecord:
        """Return one saved scenario.

        Raises
        ------
        ScenarioError
            If there is no such scenario.
        """
        path = self._path(park_id, scenario_id)
        if not path.is_file():
            raise ScenarioError(
                f"park {park_id!r} has no saved scenario {scenario_id!r}", column="scenario_id"
            )
        return self._read(path)

    def save(
        self, park_id: str, scenario: Scenario, *, author: str, scenario_id: str | None = None
    ) -> ScenarioRecord:
        """Save a new scenario (no ``scenario_id``) or replace a saved one; return its record."""
        if not author.strip():
            raise ScenarioError("author is blank; expected who saves the scenario", column="author")
        folder = self.folder(park_id)
        with folder_lock(folder):
            if scenario_id is None:
                record = ScenarioRecord(uuid.uuid4().hex[:16], scenario, author, _now(), _now())
            else:
                old = self.load(park_id, scenario_id)
                record = replace(old, scenario=scenario, author=author, updated_utc=_now())
            self._write(park_id, record)
        return record

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
        )

    def delete(self, park_id: str, scenario_id: str) -> None:
        """Delete a saved scenario (the page asks for confirmation first)."""
        path = self._path(park_id, scenario_id)
        with folder_lock(self.folder(park_id)):
            if not path.is_file():
                raise ScenarioError(
                    f"park {park_id!r} has no saved scenario {scenario_id!r}",
                    column="scenario_id",
                )
            path.unlink()

    def version(self, park_id: str) -> str:
        """A cache key that changes whenever a scenario of the park is saved or deleted."""
        folder = self.folder(park_id)
        if not folder.is_dir():
            return "none"
        stamps = [
            f"{p.name}:{p.stat().st_mtime_ns}:{p.stat().st_size}"
            for p in sorted(folder.glob("*.json"))
        ]
        return "|".join(stamps) or "none"

    def _write(self, park_id: str, record: ScenarioRecord) -> None:
        payload = {
            "record_version": RECORD_VERSION,
            "scenario_id": record.scenario_id,
            "author": record.author,
            "created_utc": record.created_utc,
            "updated_utc": record.updated_utc,
            "scenario": scenario_to_dict(record.scenario),
        }
        atomic_write_json(self._path(park_id, record.scenario_id), payload)

    @staticmethod
    def _read(path: Path) -> ScenarioRecord:
        payload: Any = read_json(path)
        found = payload.get("record_version") if isinstance(payload, dict) else None
        if found != RECORD_VERSION:
            raise ScenarioError(
                f"record_version is {found!r}; expected {RECORD_VERSION}",
                file=path.name,
                column="record_version",
            )
        return ScenarioRecord(
            scenario_id=str(payload["scenario_id"]),
            scenario=scenario_from_dict(payload["scenario"]),
            author=str(payload["author"]),
            created_utc=str(payload["created_utc"]),
            updated_utc=str(payload["updated_utc"]),
        )


__all__ = ["RECORD_VERSION", "ScenarioRecord", "ScenarioStore"]
