"""Cached wrappers around the survey modules for ``pages/survey.py``.

Keys are a hash of the file bytes, the park id and data version, and frozen parameter objects;
the park itself and the bytes are passed as unhashed ``_`` arguments next to their keys.
Returned objects are shared between sessions: never mutate them.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from retention.layers import LayerKind
from retention.park import ParkData
from retention.privacy import load_or_create_salt
from retention.survey_import import RawSurvey, SurveyImport, import_survey, read_survey_file
from retention.survey_link import LinkParameters
from retention.survey_mapping import ColumnMapping
from retention.weighting import (
    WeightingParameters,
    WeightingResult,
    enterprise_headcounts,
    survey_weights,
)
from ui import state

DEMO_SURVEY = state.REPO / "geodata" / "jinshan" / "survey_wjx.xlsx"


def digest(data: bytes) -> str:
    """Return a short content hash used as a cache key for file bytes."""
    return hashlib.sha256(data).hexdigest()[:20]


@st.cache_data(max_entries=4, show_spinner=False)
def demo_survey_bytes() -> bytes:
    """Return the bundled synthetic demo survey workbook."""
    return DEMO_SURVEY.read_bytes()


@st.cache_data(max_entries=8, show_spinner=False)
def _raw(key: str, file_name: str, _data: bytes) -> RawSurvey:
    return read_survey_file(_data, file_name=file_name)


def raw_survey(data: bytes, file_name: str) -> RawSurvey:
    """Return the file's cells as text (read once per content)."""
    return _raw(digest(data), file_name, data)


@st.cache_data(max_entries=8, show_spinner=False)
def _imported(
    key: str,
    file_name: str,
    mapping: ColumnMapping,
    park_id: str,
    data_version: str,
    wave: str,
    link_parameters: LinkParameters,
    _data: bytes,
    _park: ParkData,
) -> SurveyImport:
    raw = _raw(key, file_name, _data)
    salt = load_or_create_salt(park_id, data_dir=state.data_dir())
    return import_survey(
        raw,
        mapping,
        enterprises=_park.layers[LayerKind.ENTERPRISES],
        residences=_park.layers.get(LayerKind.RESIDENCES),
        salt=salt,
        wave=wave,
        link_parameters=link_parameters,
    )


def imported_survey(
    data: bytes,
    file_name: str,
    mapping: ColumnMapping,
    park: ParkData,
    *,
    wave: str,
    link_parameters: LinkParameters,
) -> SurveyImport:
    """Return the imported survey (pseudonymised, linked, validated)."""
    return _imported(
        digest(data),
        file_name,
        mapping,
        park.park_id,
        park.data_version,
        wave,
        link_parameters,
        data,
        park,
    )


@st.cache_data(max_entries=16, show_spinner=False)
def _weights(
    key: str,
    mapping: ColumnMapping,
    park_id: str,
    data_version: str,
    wave: str,
    parameters: WeightingParameters,
    _survey: object,
    _park: ParkData,
) -> WeightingResult:
    headcounts = enterprise_headcounts(_park.layers[LayerKind.ENTERPRISES])
    return survey_weights(_survey, headcounts, parameters=parameters)  # type: ignore[arg-type]


def weights(
    data: bytes,
    result: SurveyImport,
    park: ParkData,
    *,
    wave: str,
    parameters: WeightingParameters,
) -> WeightingResult:
    """Return weights of the imported survey to the park's enterprise headcounts."""
    return _weights(
        digest(data),
        result.mapping,
        park.park_id,
        park.data_version,
        wave,
        parameters,
        result.survey,
        park,
    )
