"""Cached wrappers around the survey modules for ``pages/survey.py``.

Keys are a hash of the file bytes, the park id and data version, and frozen parameter objects;
the park itself and the bytes are passed as unhashed ``_`` arguments next to their keys.
Returned objects are shared between sessions: never mutate them.

The park's *current survey* (``retention.pipeline.current_survey``: its stored waves, else the
bundled synthetic demo survey) is cached on the park's run key, which holds the survey's version,
so a wave saved or removed by any session shows up on every session's next rerun.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from retention import pipeline
from retention.auth.roles import UserScope
from retention.data.layers import LayerKind
from retention.pipeline import GAP_WEIGHT_METHODS, GapWeights, RunKey, Stage
from retention.pipeline.warm import WarmStore
from retention.storage.park import ParkData
from retention.storage.waves import (
    CurrentSurvey,
    SurveyStore,
    current_survey_version,
    demo_survey_path,
    wave_report_xlsx,
)
from retention.survey.analysis import (
    AnalysisParameters,
    IPAResult,
    category_means,
    ipa,
    reason_shares,
    weighting_table,
    with_zone,
)
from retention.survey.answers import ValueMap
from retention.survey.coding import answer_table
from retention.survey.importer import (
    RawSurvey,
    SurveyImport,
    import_survey,
    issues_frame,
    read_survey_file,
    rejected_rows_csv,
    rejected_rows_xlsx,
)
from retention.survey.link import LinkParameters
from retention.survey.mapping import ColumnMapping, headers_signature
from retention.survey.privacy import PrivacyParameters, load_or_create_salt
from retention.survey.weighting import (
    WeightingParameters,
    WeightingResult,
    enterprise_headcounts,
    survey_weights,
)
from ui import cached, state
from ui.cached import run_key, warm_store

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
    # Kept on disk by content (a restarted server does not parse the workbook again).
    return warm_store().get_or_compute(
        Stage.SURVEY_FILE,
        None,
        lambda: read_survey_file(_data, file_name=file_name),
        RawSurvey,
        ("raw", key, file_name),
    )


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
    values: ValueMap,
    _data: bytes,
    _park: ParkData,
) -> SurveyImport:
    salt = load_or_create_salt(park_id, data_dir=state.data_dir())

    def compute() -> SurveyImport:
        return import_survey(
            _raw(key, file_name, _data),
            mapping,
            enterprises=_park.layers[LayerKind.ENTERPRISES],
            residences=_park.layers.get(LayerKind.RESIDENCES),
            salt=salt,
            wave=wave,
            link_parameters=link_parameters,
            values=values,
        )

    # Kept on disk too, named by everything the import reads (the park's pseudonymisation key
    # by its hash: pseudonyms made with another key are never reused).
    options = (key, file_name, mapping, wave, link_parameters, values, digest(salt))
    return warm_store().get_or_compute(
        Stage.SURVEY_FILE, run_key(_park), compute, SurveyImport, options
    )


def imported_survey(
    data: bytes,
    file_name: str,
    mapping: ColumnMapping,
    park: ParkData,
    *,
    wave: str,
    link_parameters: LinkParameters,
    values: ValueMap | None = None,
) -> SurveyImport:
    """Return the imported survey (pseudonymised, linked, validated; answers coded by values)."""
    return _imported(
        digest(data),
        file_name,
        mapping,
        park.park_id,
        park.data_version,
        wave,
        link_parameters,
        values if values is not None else ValueMap(),
        data,
        park,
    )


@st.cache_data(max_entries=8, show_spinner=False)
def _answers(
    key: str, file_name: str, mapping: ColumnMapping, saved: ValueMap, _data: bytes
) -> pd.DataFrame:
    return answer_table(_raw(key, file_name, _data).frame, mapping, saved=saved)


def answers_key(data: bytes, mapping: ColumnMapping) -> str:
    """Return a widget-key suffix naming one answer-codes table: the file and its targets.

    The editor keeps edits by row position, so a new file or mapping needs a fresh editor.
    """
    return f"{digest(data)}.{headers_signature(mapping.targets)}"


def answers(data: bytes, file_name: str, mapping: ColumnMapping, saved: ValueMap) -> pd.DataFrame:
    """Return the value-mapping table of the file (``retention.survey.coding.answer_table``)."""
    return _answers(digest(data), file_name, mapping, saved, data).copy()


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


# ---------------------------------------------------------------------------------------------
# The park's current survey and the gap-index weights it gives (``retention.pipeline``)
# ---------------------------------------------------------------------------------------------


def survey_store() -> SurveyStore:
    """Return the store's survey waves (``ui.cached.store().waves``)."""
    waves: SurveyStore = cached.store().waves
    return waves


def survey_version(park: ParkData) -> str:
    """Return the version of the park's current survey (stored waves, else demo file)."""
    return current_survey_version(park.park_id, store=survey_store())


@st.cache_data(max_entries=8, show_spinner=False)
def _current(key: RunKey, data_dir: str, _park: ParkData) -> CurrentSurvey:
    return WarmStore(Path(data_dir)).get_or_compute(
        Stage.SURVEY,
        key,
        lambda: pipeline.current_survey(_park, key, data_dir=Path(data_dir)),
        CurrentSurvey,
    )


def current_survey(park: ParkData, *, key: RunKey | None = None) -> CurrentSurvey:
    """Return the park's current survey (stored waves, else the demo workbook), once per key."""
    key = run_key(park) if key is None else key
    return _current(key.for_stage(Stage.SURVEY), str(state.data_dir()), park)


@st.cache_data(max_entries=8, show_spinner=False)
def _current_weights(
    key: RunKey, data_dir: str, parameters: WeightingParameters, _park: ParkData
) -> WeightingResult:
    current = _current(key, data_dir, _park)
    headcounts = enterprise_headcounts(_park.layers[LayerKind.ENTERPRISES])
    return survey_weights(current.survey, headcounts, parameters=parameters)


def current_weights(
    park: ParkData, *, parameters: WeightingParameters, key: RunKey | None = None
) -> WeightingResult:
    """Return weights of the park's current survey to its enterprise headcounts, cached."""
    key = run_key(park) if key is None else key
    return _current_weights(key.for_stage(Stage.SURVEY), str(state.data_dir()), parameters, park)


@st.cache_data(max_entries=16, show_spinner=False)
def _gap_weights(key: RunKey, method: str, data_dir: str, _park: ParkData) -> GapWeights:
    survey = None if method == "equal" else _current(key, data_dir, _park)
    return pipeline.gap_weights(_park, survey, key, method=method)


def gap_weights(park: ParkData, method: str, *, key: RunKey | None = None) -> GapWeights:
    """Return gap-index weights: equal, or survey importance (``retention.pipeline.gap_weights``).

    Survey importance comes from the park's current survey weighted to enterprise headcounts;
    categories with fewer than the park's k answers are hidden and weigh 0.
    """
    if method not in GAP_WEIGHT_METHODS:
        raise ValueError(f"unknown weights {method!r}; expected one of {GAP_WEIGHT_METHODS}")
    key = run_key(park) if key is None else key
    return _gap_weights(key.for_stage(Stage.SURVEY), method, str(state.data_dir()), park)


# ---------------------------------------------------------------------------------------------
# The Survey page: mapping, reports and k-anonymous analyses of the file being imported
# ---------------------------------------------------------------------------------------------


def has_demo_survey(park: ParkData) -> bool:
    """Return whether the park ships a synthetic demo survey workbook."""
    return demo_survey_path(park.park_id) is not None


def wave_report(park: ParkData, wave_id: str) -> bytes:
    """Return a stored wave's import report as XLSX (counts and issue locations only)."""
    return wave_report_xlsx(survey_store().load_report(park.park_id, wave_id))


def issues(result: SurveyImport) -> pd.DataFrame:
    """Return the import's issues as a table (row, column, value, expected, rejected)."""
    return issues_frame(result.issues)


def rejected_downloads(result: SurveyImport) -> tuple[bytes, bytes]:
    """Return the rejected rows as formula-safe (CSV, XLSX) bytes, for this session only."""
    return rejected_rows_csv(result), rejected_rows_xlsx(result)


@dataclass(frozen=True)
class AnalysisKey:
    """What a Survey-page analysis depends on: the file, its mapping, the park, the weighting
    and k (a hashable cache key; the survey and weights themselves are passed unhashed)."""

    file_key: str
    mapping: ColumnMapping | None  # None: the park's current survey (no file read here)
    values: ValueMap
    park_id: str
    data_version: str
    wave: str
    weighting: WeightingParameters
    min_group_size: int

    @property
    def parameters(self) -> AnalysisParameters:
        """Analysis options with this key's k."""
        return AnalysisParameters(privacy=PrivacyParameters(min_group_size=self.min_group_size))


def analysis_key(
    data: bytes,
    result: SurveyImport,
    park: ParkData,
    *,
    wave: str,
    weighting: WeightingParameters,
    min_group_size: int,
    values: ValueMap | None = None,
) -> AnalysisKey:
    """Return the cache key of the analyses of ``result`` (imported from ``data`` with the
    answer codes ``values``)."""
    return AnalysisKey(
        digest(data),
        result.mapping,
        values if values is not None else ValueMap(),
        park.park_id,
        park.data_version,
        wave,
        weighting,
        int(min_group_size),
    )


@dataclass(frozen=True, eq=False)
class CurrentRows:
    """The park's current survey in the place of an import (``survey`` only): what HR and viewers
    analyse on the Survey page."""

    survey: pd.DataFrame


def current_analysis(
    park: ParkData, *, weighting: WeightingParameters, min_group_size: int
) -> tuple[AnalysisKey, CurrentRows]:
    """Return the analysis key and rows of the park's current survey (stored waves, else demo)."""
    key = AnalysisKey(
        f"current:{survey_version(park)}",
        None,
        ValueMap(),
        park.park_id,
        park.data_version,
        "",
        weighting,
        int(min_group_size),
    )
    return key, CurrentRows(current_survey(park).survey)


@st.cache_data(max_entries=8, show_spinner=False)
def _zoned(key: AnalysisKey, _result: SurveyImport, _park: ParkData) -> pd.DataFrame:
    return with_zone(_result.survey, _park.layers[LayerKind.ENTERPRISES])


@st.cache_data(max_entries=32, show_spinner=False)
def ipa_chart(
    key: AnalysisKey,
    importance: str,
    cohort: str | None,
    _result: SurveyImport,
    _weights: pd.Series,
    _park: ParkData,
) -> IPAResult:
    """Return IPA points for the park (``cohort=None``) or one age band, k-anonymous."""
    return ipa(
        _zoned(key, _result, _park),
        _weights,
        importance=importance,  # type: ignore[arg-type]
        group_column=None if cohort is None else "age_band",
        group=cohort,
        parameters=key.parameters,
    )


@st.cache_data(max_entries=32, show_spinner=False)
def cohort_means(
    key: AnalysisKey,
    measure: str,
    by: str,
    _result: SurveyImport,
    _weights: pd.Series,
    _park: ParkData,
    scope: UserScope | None = None,
) -> pd.DataFrame:
    """Return weighted satisfaction or importance means by a grouping, k-anonymous."""
    return category_means(
        _zoned(key, _result, _park),
        _weights,
        measure=measure,  # type: ignore[arg-type]
        by=by,
        parameters=key.parameters,
        scope=scope,
    )


@st.cache_data(max_entries=16, show_spinner=False)
def reasons(
    key: AnalysisKey,
    only_intending: bool,
    _result: SurveyImport,
    _weights: pd.Series,
    _park: ParkData,
    scope: UserScope | None = None,
) -> pd.DataFrame:
    """Return weighted shares of the reasons for leaving, k-anonymous."""
    return reason_shares(
        _zoned(key, _result, _park),
        _weights,
        only_intending=only_intending,
        parameters=key.parameters,
        scope=scope,
    )


@st.cache_data(max_entries=8, show_spinner=False)
def weighting_sheet(
    key: AnalysisKey,
    _result: SurveyImport,
    _weights: pd.Series,
    _park: ParkData,
    scope: UserScope | None = None,
) -> pd.DataFrame:
    """Return respondents, weights and headcounts per enterprise, k-anonymous."""
    headcounts = enterprise_headcounts(_park.layers[LayerKind.ENTERPRISES])
    return weighting_table(
        _zoned(key, _result, _park), _weights, headcounts, parameters=key.parameters, scope=scope
    )
