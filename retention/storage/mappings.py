"""A park's saved mappings: how its files' columns and answer texts are read, kept for next time.

One record kind, three payloads, all under ``<data_dir>/<park_id>/`` (the folder the survey
salt already uses), each JSON file replaced atomically under the folder's lock
(``retention.storage.files``):

* ``survey_mappings.json`` — ``{header signature: {"columns": [...], "targets": [...]}}``: the
  column mapping of each survey layout seen, reused when a file with the same headers arrives;
  a new layout gets, for every header already mapped in an earlier layout, that target;
* ``survey_values.json`` — ``{"values": [[group, answer, code], ...]}``: every answer text the
  user coded (``retention.survey.answers.ValueMap``), reused for every later wave, whatever its
  headers;
* ``layer_mappings.json`` — ``{kind: {header signature: LayerColumnMapping JSON}}``: the column
  mapping and category value map of each layer file layout.

This module is the only place these are read and written (pages, CLI and tests call it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retention.data.columns import LayerColumnMapping
from retention.errors import ValidationError
from retention.storage.files import atomic_write_json, folder_lock, read_json
from retention.storage.uploads import check_park_id, default_data_dir
from retention.survey.answers import ValueMap
from retention.survey.mapping import IGNORE, ColumnMapping, headers_signature

SURVEY_MAPPINGS_FILE = "survey_mappings.json"
SURVEY_VALUES_FILE = "survey_values.json"
LAYER_MAPPINGS_FILE = "layer_mappings.json"


class MappingStore:
    """Saved survey and layer mappings of every park under ``data_dir``.

    Parameters
    ----------
    data_dir
        Root folder; created on first write. Defaults to ``PARKLIFE_DATA_DIR`` or ``<repo>/data``.
    """

    def __init__(self, data_dir: Path | str | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()

    def park_dir(self, park_id: str) -> Path:
        """Folder holding one park's mappings."""
        return self.data_dir / check_park_id(park_id)

    def _read(self, park_id: str, name: str) -> dict[str, Any]:
        path = self.park_dir(park_id) / name
        if not path.exists():
            return {}
        try:
            data = read_json(path)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"saved mappings are not valid JSON ({exc})", file=str(path)
            ) from exc
        if not isinstance(data, dict):
            raise ValidationError("saved mappings must be a JSON object", file=str(path))
        return data

    def _update(self, park_id: str, name: str, change: Any) -> None:
        folder = self.park_dir(park_id)
        with folder_lock(folder):
            data = self._read(park_id, name)
            change(data)
            atomic_write_json(folder / name, data)

    # -- survey --------------------------------------------------------------------------------
    def save_survey_mapping(
        self, park_id: str, mapping: ColumnMapping, *, values: ValueMap | None = None
    ) -> None:
        """Store a survey column mapping (by its headers) and merge ``values`` into the park's."""

        def change(data: dict[str, Any]) -> None:
            data[mapping.signature] = json.loads(mapping.to_json())

        self._update(park_id, SURVEY_MAPPINGS_FILE, change)
        if values is not None:
            merged = self.load_value_map(park_id).merged(values)

            def change_values(data: dict[str, Any]) -> None:
                data["values"] = merged.to_json()

            self._update(park_id, SURVEY_VALUES_FILE, change_values)

    def load_survey_mapping(self, park_id: str, headers: Sequence[str]) -> ColumnMapping | None:
        """Return the saved mapping for exactly these headers, or ``None`` if there is none."""
        entry = self._read(park_id, SURVEY_MAPPINGS_FILE).get(headers_signature(headers))
        if entry is None:
            return None
        mapping = ColumnMapping.from_json(json.dumps(entry))
        if mapping.columns != tuple(str(h) for h in headers):
            return None
        return mapping

    def known_survey_targets(self, park_id: str) -> dict[str, str]:
        """Return ``{header: target}`` from every saved survey mapping (later layouts win)."""
        known: dict[str, str] = {}
        for key, entry in self._read(park_id, SURVEY_MAPPINGS_FILE).items():
            if not isinstance(entry, dict) or key.startswith("_"):
                continue
            for column, target in zip(
                entry.get("columns", []), entry.get("targets", []), strict=False
            ):
                if target != IGNORE:
                    known[str(column)] = str(target)
        return known

    def load_value_map(self, park_id: str) -> ValueMap:
        """Return every answer code the park saved (empty when none)."""
        payload = self._read(park_id, SURVEY_VALUES_FILE).get("values", [])
        try:
            return ValueMap.from_json(payload)
        except ValueError as exc:
            raise ValidationError(
                f"saved answer codes are malformed ({exc})",
                file=str(self.park_dir(park_id) / SURVEY_VALUES_FILE),
            ) from exc

    # -- layers --------------------------------------------------------------------------------
    def save_layer_mapping(self, park_id: str, mapping: LayerColumnMapping) -> None:
        """Store a layer file layout's column mapping and category value map."""

        def change(data: dict[str, Any]) -> None:
            data.setdefault(mapping.kind, {})[mapping.signature] = mapping.to_json()

        self._update(park_id, LAYER_MAPPINGS_FILE, change)

    def load_layer_mapping(
        self, park_id: str, kind: str, headers: Sequence[str]
    ) -> LayerColumnMapping | None:
        """Return the saved layer mapping for these headers and layer kind, or ``None``."""
        entry = (
            self._read(park_id, LAYER_MAPPINGS_FILE)
            .get(str(kind), {})
            .get(headers_signature(headers))
        )
        if entry is None:
            return None
        try:
            mapping = LayerColumnMapping.from_json(entry)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(
                f"saved layer mapping is malformed ({exc})",
                file=str(self.park_dir(park_id) / LAYER_MAPPINGS_FILE),
            ) from exc
        return mapping if mapping.columns == tuple(str(h) for h in headers) else None
