"""The Data page's import steps: a layer file's column mapping and choice value map.

Thin wrappers around ``retention.data.columns``. What is a pure function of frozen inputs (the
targets of a layer kind, the suggestion for a tuple of headers) is cached; what depends on the
user's edits (an edited choice table) or on the store (a saved mapping) is not. Cached mappings
are frozen dataclasses; nothing here mutates a cached object.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from retention.data.columns import (
    LayerColumnMapping,
    layer_targets,
    suggest_layer_mapping,
    values_from_choice_table,
)
from retention.data.layers import LayerKind
from retention.storage.mappings import MappingStore


@st.cache_data(max_entries=8, show_spinner=False)
def targets(kind: str) -> tuple[str, ...]:
    """Return every target a header of a ``kind`` file can be mapped to (``layer_targets``)."""
    return layer_targets(LayerKind(kind))


@st.cache_data(max_entries=16, show_spinner=False)
def _suggested(headers: tuple[str, ...], kind: str) -> LayerColumnMapping:
    return suggest_layer_mapping(headers, kind)


def proposed_mapping(
    mappings: MappingStore, park_id: str, kind: str, headers: Sequence[str]
) -> tuple[LayerColumnMapping, bool]:
    """Return the mapping to propose for a file of ``kind`` and whether the park had saved it.

    The park's saved mapping of this header layout wins (read from the store on every call);
    otherwise ``retention.data.columns.suggest_layer_mapping`` of the headers (cached on them).
    """
    saved = mappings.load_layer_mapping(park_id, kind, list(headers))
    if saved is not None:
        return saved, True
    return _suggested(tuple(str(h) for h in headers), LayerKind(kind).value), False


def values_from_choices(table: pd.DataFrame, kind: str) -> tuple[tuple[str, str, str], ...]:
    """Return the value map of the user's edited choice table (``values_from_choice_table``).

    Raises
    ------
    ValidationError
        A code the field does not accept, naming the value, the code and the codes allowed.
    """
    return values_from_choice_table(table, kind)
