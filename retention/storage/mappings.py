"""A park's saved mappings: how its files' columns and answer texts are read, kept for next time.

Kept as versioned records (``retention.storage.records``) in whichever store the deployment uses,
one record per thing saved, so two users saving mappings for different files never touch each
other's record:

* kind ``survey_mappings``, key = header signature — ``{"columns": [...], "targets": [...]}``:
  the column mapping of each survey layout seen, reused when a file with the same headers
  arrives; a new layout gets, for every header already mapped in an earlier layout, that target;
* kind ``value_mappings``, key ``survey`` — ``{"values": [[group, answer, code], ...]}``: every
  answer text the user coded (``retention.survey.answers.ValueMap``), reused for every later
  wave whatever its headers; saves merge (a lost race is retried on the newer version, so no
  code is lost);
* kind ``layer_mappings``, key ``<kind>.<header signature>`` — the column mapping and category
  value map of each layer file layout.

A save may name the version it started from (``expected_version``): if someone saved the same
record since, it is refused with ``StaleVersionError`` and nothing is overwritten.

Earlier versions kept these as whole JSON files in ``<data_dir>/<park_id>/`` (written in place
before that); :func:`import_legacy_mappings` moves them into records once, when the file store
opens. This module is the only place mappings are read and written (pages, CLI and tests call it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retention.data.columns import LayerColumnMapping
from retention.errors import StaleVersionError, ValidationError
from retention.storage.files import quarantine
from retention.storage.layout import check_park_id, park_dir
from retention.storage.records import (
    LAYER_MAPPINGS,
    SURVEY_MAPPINGS,
    VALUE_MAPPINGS,
    FileRecordStore,
    RecordStore,
)
from retention.survey.answers import ValueMap
from retention.survey.mapping import IGNORE, ColumnMapping, headers_signature

SURVEY_MAPPINGS_FILE = "survey_mappings.json"
SURVEY_VALUES_FILE = "survey_values.json"
LAYER_MAPPINGS_FILE = "layer_mappings.json"
LEGACY_FILES = (SURVEY_MAPPINGS_FILE, SURVEY_VALUES_FILE, LAYER_MAPPINGS_FILE)
VALUES_KEY = "survey"


class MappingStore:
    """Saved survey and layer mappings of every park.

    Parameters
    ----------
    records
        The store's records (``store.records``); a data directory means the file store's
        records there.
    """

    def __init__(self, records: RecordStore | Path | str) -> None:
        self.records: RecordStore = (
            FileRecordStore(records) if isinstance(records, Path | str) else records
        )

    # -- survey --------------------------------------------------------------------------------
    def save_survey_mapping(
        self,
        park_id: str,
        mapping: ColumnMapping,
        *,
        values: ValueMap | None = None,
        expected_version: int | None = None,
    ) -> None:
        """Store a survey column mapping (by its headers) and merge ``values`` into the park's.

        Parameters
        ----------
        park_id, mapping
            The park and the mapping to keep.
        values
            Answer codes to merge into the park's.
        expected_version
            :meth:`survey_mapping_version` when the user started editing; ``None`` saves over
            whatever is stored.

        Raises
        ------
        StaleVersionError
            ``expected_version`` is given and someone saved this layout's mapping since.
        """
        park_id = check_park_id(park_id)
        key = mapping.signature
        if expected_version is None:
            current = self.records.get(park_id, SURVEY_MAPPINGS, key)
            expected_version = 0 if current is None else current.version
        payload = json.loads(mapping.to_json())
        self.records.put(park_id, SURVEY_MAPPINGS, key, payload, expected_version=expected_version)
        if values is not None:
            self._merge_values(park_id, values)

    def _merge_values(self, park_id: str, values: ValueMap) -> None:
        while True:  # merging commutes: on a lost race, merge into the newer version
            current = self.records.get(park_id, VALUE_MAPPINGS, VALUES_KEY)
            stored = self._value_map(current.payload if current else {}, park_id)
            merged = stored.merged(values)
            try:
                self.records.put(
                    park_id,
                    VALUE_MAPPINGS,
                    VALUES_KEY,
                    {"values": merged.to_json()},
                    expected_version=0 if current is None else current.version,
                )
                return
            except StaleVersionError:
                continue

    def survey_mapping_version(self, park_id: str, headers: Sequence[str]) -> int:
        """Return the stored version of this layout's mapping (0 when none is saved)."""
        key = headers_signature(headers)
        current = self.records.get(check_park_id(park_id), SURVEY_MAPPINGS, key)
        return 0 if current is None else current.version

    def load_survey_mapping(self, park_id: str, headers: Sequence[str]) -> ColumnMapping | None:
        """Return the saved mapping for exactly these headers, or ``None`` if there is none."""
        key = headers_signature(headers)
        record = self.records.get(check_park_id(park_id), SURVEY_MAPPINGS, key)
        if record is None:
            return None
        mapping = ColumnMapping.from_json(json.dumps(record.payload))
        if mapping.columns != tuple(str(h) for h in headers):
            return None
        return mapping

    def known_survey_targets(self, park_id: str) -> dict[str, str]:
        """Return ``{header: target}`` from every saved survey mapping (later saves win)."""
        known: dict[str, str] = {}
        records = self.records.list_records(check_park_id(park_id), SURVEY_MAPPINGS)
        for record in sorted(records, key=lambda r: r.updated_at):
            entry = record.payload
            if not isinstance(entry, dict):
                continue
            for column, target in zip(
                entry.get("columns", []), entry.get("targets", []), strict=False
            ):
                if target != IGNORE:
                    known[str(column)] = str(target)
        return known

    def load_value_map(self, park_id: str) -> ValueMap:
        """Return every answer code the park saved (empty when none)."""
        current = self.records.get(check_park_id(park_id), VALUE_MAPPINGS, VALUES_KEY)
        return self._value_map(current.payload if current else {}, park_id)

    def _value_map(self, payload: Any, park_id: str) -> ValueMap:
        try:
            values = payload.get("values", []) if isinstance(payload, dict) else []
            return ValueMap.from_json(values)
        except ValueError as exc:
            raise ValidationError(
                f"saved answer codes are malformed ({exc})",
                file=f"parks/{park_id}/records/{VALUE_MAPPINGS}/{VALUES_KEY}.json",
            ) from exc

    # -- layers --------------------------------------------------------------------------------
    def save_layer_mapping(
        self, park_id: str, mapping: LayerColumnMapping, *, expected_version: int | None = None
    ) -> None:
        """Store a layer file layout's column mapping and category value map."""
        park_id = check_park_id(park_id)
        key = f"{mapping.kind}.{mapping.signature}"
        if expected_version is None:
            current = self.records.get(park_id, LAYER_MAPPINGS, key)
            expected_version = 0 if current is None else current.version
        self.records.put(
            park_id, LAYER_MAPPINGS, key, mapping.to_json(), expected_version=expected_version
        )

    def layer_mapping_version(self, park_id: str, kind: str, headers: Sequence[str]) -> int:
        """Return the stored version of this layout's layer mapping (0 when none is saved)."""
        key = f"{kind}.{headers_signature(headers)}"
        current = self.records.get(check_park_id(park_id), LAYER_MAPPINGS, key)
        return 0 if current is None else current.version

    def load_layer_mapping(
        self, park_id: str, kind: str, headers: Sequence[str]
    ) -> LayerColumnMapping | None:
        """Return the saved layer mapping for these headers and layer kind, or ``None``."""
        key = f"{kind}.{headers_signature(headers)}"
        record = self.records.get(check_park_id(park_id), LAYER_MAPPINGS, key)
        if record is None:
            return None
        try:
            mapping = LayerColumnMapping.from_json(record.payload)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(
                f"saved layer mapping is malformed ({exc})",
                file=f"parks/{park_id}/records/{LAYER_MAPPINGS}/{key}.json",
            ) from exc
        return mapping if mapping.columns == tuple(str(h) for h in headers) else None


def import_legacy_mappings(data_dir: Path, records: RecordStore, park_id: str) -> int:
    """Move the old ``<data_dir>/<park_id>/`` mapping files into records; return how many.

    Records already saved win. Each old file then goes to the data directory's quarantine
    folder (kept, never read again); an unreadable old file is moved there too, unread.
    """
    folder = Path(data_dir) / check_park_id(park_id)
    count = 0
    for name in LEGACY_FILES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            stored = None
        for kind, key, payload in _legacy_entries(name, stored):
            if records.get(park_id, kind, key) is None:
                records.put(park_id, kind, key, payload, expected_version=0)
                count += 1
        park_dir(data_dir, park_id).mkdir(parents=True, exist_ok=True)
        quarantine(path, root=Path(data_dir))
    return count


def _legacy_entries(name: str, stored: object) -> list[tuple[str, str, Any]]:
    if not isinstance(stored, dict):
        return []
    if name == SURVEY_MAPPINGS_FILE:
        return [(SURVEY_MAPPINGS, str(k), v) for k, v in stored.items() if not k.startswith("_")]
    if name == SURVEY_VALUES_FILE:
        return [(VALUE_MAPPINGS, VALUES_KEY, {"values": stored.get("values", [])})]
    return [
        (LAYER_MAPPINGS, f"{kind}.{signature}", payload)
        for kind, by_signature in stored.items()
        if isinstance(by_signature, dict)
        for signature, payload in by_signature.items()
    ]
