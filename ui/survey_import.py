"""The Survey page's import steps: the proposed column mapping and the answers' value map.

Thin wrappers around ``retention.survey.importer``, ``retention.survey.mapping`` and
``retention.survey.coding``. The suggestion for a file is a pure function of its headers and its
template row, so it is cached on those (frozen tuples); the park's known targets come from the
store and the answer table from the user's edits, so what reads them is not cached. Nothing here
mutates a cached object (mappings and value maps are frozen dataclasses).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from retention.survey.answers import ValueMap
from retention.survey.coding import unknown_answers, value_map_from_table
from retention.survey.importer import RawSurvey, suggest_for
from retention.survey.mapping import ColumnMapping, with_known_targets


@st.cache_data(max_entries=16, show_spinner=False)
def _suggested(
    headers: tuple[str, ...], template_targets: tuple[str, ...], _raw: RawSurvey
) -> ColumnMapping:
    # ``suggest_for`` reads only the headers and the template row: they are the key.
    return suggest_for(_raw)


def proposed_mapping(raw: RawSurvey, known_targets: Mapping[str, str]) -> ColumnMapping:
    """Return the mapping to propose for ``raw``: the file's own suggestion, with the targets
    the park gave the same headers in earlier layouts (``known_targets``, ``{header: target}``).
    """
    suggested = _suggested(raw.headers, raw.template_targets, raw)
    return with_known_targets(suggested, known_targets)


def value_map(table: pd.DataFrame) -> ValueMap:
    """Return the ``ValueMap`` of the user's (edited) answer table (``value_map_from_table``).

    Raises
    ------
    ValidationError
        A code its group does not accept (naming the answer, the code and the codes allowed).
    """
    return value_map_from_table(table)


def undecided_answers(table: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of an answer table that have no code yet (``unknown_answers``)."""
    return unknown_answers(table)
