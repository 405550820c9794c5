"""Cached wrappers around ``retention.*`` for the pages, and the park's run key.

Keys are run keys (``retention.pipeline.RunKey``, narrowed to the stage a wrapper computes), ids,
version strings and frozen parameter objects, never GeoDataFrames (arguments starting with ``_``
are not hashed by Streamlit; each such wrapper is keyed by the run key or the park id and data
version passed next to it). Cached objects are shared by every session: callers must never
mutate them (copy first).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from retention.data.columns import LayerColumnMapping, choice_table
from retention.data.crs import CoordinateSystem
from retention.data.io import (
    RawLayer,
    list_layers,
    read_layer,
    table_to_csv_bytes,
    table_to_xlsx_bytes,
)
from retention.data.layers import LayerKind
from retention.data.validate import LayerValidation, validate_layer
from retention.i18n import t
from retention.pipeline import RunKey, park_extent, park_inputs, park_key
from retention.pipeline import run_key as pipeline_run_key
from retention.pipeline.warm import WarmStore
from retention.report.summary import ParkSummary, summarise_park
from retention.report.templates import layer_template_xlsx, survey_template_xlsx
from retention.storage.mappings import MappingStore
from retention.storage.park import ParkData, list_parks
from retention.storage.store import Store, shared_store
from retention.storage.uploads import UploadStore

# The module, not its function: ui.cached_parameters imports this module back (a page that
# imports ui.cached_parameters first must find ui.cached whole).
from ui import cached_parameters, state


def store() -> Store:
    """Return the store the settings name (files under the data directory, or PostgreSQL).

    Opened once per process and setting (``retention.storage.store.shared_store``; opening a
    file store cleans leftover temporary files): a handle shared by every session and by the
    pipeline, which only call its methods.
    """
    return shared_store(state.data_dir(), database_url=state.database_url())


@st.cache_resource(max_entries=8, show_spinner=False)
def _park(key: RunKey, data_dir: str) -> ParkData:
    return park_inputs(key, data_dir=Path(data_dir))


def park(park_id: str) -> ParkData:
    """Return the park (demo files merged with stored uploads), loaded once per data version.

    The version (``retention.storage.park.park_data_version``) is recomputed on every call, so an
    upload
    made by any session shows up on the next rerun of every other session.

    Parameters
    ----------
    park_id
        E.g. ``"jinshan"``.

    Returns
    -------
    ParkData
        Shared and read-only: never mutate its layers.
    """
    data_dir = state.data_dir()
    return _park(park_key(park_id, data_dir=data_dir), str(data_dir))


def warm_store() -> WarmStore:
    """Return the on-disk store of pipeline results (``retention.pipeline.warm``): what a
    restarted server loads instead of recomputing."""
    return WarmStore(state.data_dir())


def run_key(park: ParkData) -> RunKey:
    """Return the park's run key: its data version, saved parameters and current survey version.

    Recomputed on every call (cheap: a few small files are read or hashed), so a parameter saved
    or a wave stored by any session changes the key of every session's next rerun. The key
    carries the signed-in user's scope (``UserScope.canonical``): the pipeline's per-person
    stages refuse an enterprise outside it.
    """
    return pipeline_run_key(
        park.park_id,
        data_dir=state.data_dir(),
        parameters=cached_parameters.current_parameters(park),
        data_version=park.data_version,
        user_scope=state.scope().canonical(),
    )


@st.cache_data(ttl=60, show_spinner=False)
def park_ids(data_dir: str) -> list[str]:
    """Return the ids of every park (bundled demo parks and parks made of uploads)."""
    return [str(item) for item in list_parks(uploads=store().uploads)]


def current_park() -> ParkData | None:
    """Return the park selected in the sidebar, or ``None`` when there is none."""
    park_id = state.park_id()
    return None if park_id is None else park(park_id)


@st.cache_data(max_entries=32, show_spinner=False)
def _summary(park_id: str, data_version: str, _park: ParkData) -> ParkSummary:
    return summarise_park(_park.layers)


def summary(park: ParkData) -> ParkSummary:
    """Return the park's headline counts (``retention.report.summary.summarise_park``), cached."""
    return _summary(park.park_id, park.data_version, park)


@st.cache_data(max_entries=16, show_spinner=False)
def layer_names(data: bytes, file_name: str) -> list[str]:
    """Return the layers/sheets of an uploaded file (``retention.data.io.list_layers``), cached."""
    return list_layers(data, file_name=file_name)


@st.cache_data(max_entries=16, show_spinner=False)
def raw_layer(data: bytes, file_name: str, layer: str | None) -> RawLayer:
    """Return an uploaded file's rows as read (``retention.data.io.read_layer``), cached."""
    return read_layer(data, file_name=file_name, layer=layer)


def layer_headers(raw: RawLayer) -> list[str]:
    """Return the attribute headers of a read file (its geometry column left out)."""
    return [str(c) for c in raw.frame.columns if c != raw.frame.geometry.name]


@st.cache_data(max_entries=16, show_spinner=False)
def choice_values(
    data: bytes, file_name: str, layer: str | None, mapping: LayerColumnMapping
) -> pd.DataFrame:
    """Return the file's choice-field values with counts and codes (``choice_table``)."""
    return choice_table(raw_layer(data, file_name, layer).frame, mapping)


@st.cache_data(max_entries=16, show_spinner=False)
def _validated_upload(
    data: bytes,
    file_name: str,
    kind: str,
    coordinate_system: str,
    layer: str | None,
    park_id: str,
    data_version: str,
    mapping: LayerColumnMapping | None,
    _boundary: gpd.GeoDataFrame | None,
    _existing_keys: frozenset[tuple[str, ...]],
) -> LayerValidation:
    raw = raw_layer(data, file_name, layer)
    return validate_layer(
        raw.frame,
        kind,
        source_name=file_name,
        coordinate_system=coordinate_system,
        park_boundary=_boundary,
        existing_keys=_existing_keys,
        mapping=mapping,
    )


def validated_upload(
    data: bytes,
    *,
    file_name: str,
    kind: LayerKind | str,
    coordinate_system: CoordinateSystem | str,
    layer: str | None,
    park: ParkData,
    mapping: LayerColumnMapping | None = None,
) -> LayerValidation:
    """Read an uploaded file and validate it as a layer of ``park``, cached on the file's bytes.

    ``mapping`` is the user's column mapping and value map (``None``: suggested from headers).

    Rows farther than the validator's tolerance from the park are rejected; the park's extent is
    its park-level zones, else its district boundary, else no check. Rows whose id is already in
    the park (demo data or an earlier upload) are rejected too.

    Raises
    ------
    ValidationError
        (including ``FileFormatError``) when the file as a whole cannot be used; the message
        names the file and what was expected.
    """
    return _validated_upload(
        data,
        file_name,
        LayerKind(kind).value,
        CoordinateSystem(coordinate_system).value,
        layer,
        park.park_id,
        park.data_version,
        mapping,
        park_extent(park),
        park.layer_keys(kind),
    )


@st.cache_data(max_entries=8, show_spinner=False)
def layer_template(kind: str) -> bytes:
    """Return the XLSX template of a layer kind (``retention.report.templates``)."""
    return layer_template_xlsx(kind)


@st.cache_data(max_entries=1, show_spinner=False)
def survey_template() -> bytes:
    """Return the XLSX survey template (``retention.report.templates``)."""
    return survey_template_xlsx()


def mapping_store() -> MappingStore:
    """Return the store of the parks' saved column and value mappings."""
    return MappingStore(store().records)


def upload_store() -> UploadStore:
    """Return the store's uploaded layers (``store().uploads``)."""
    uploads: UploadStore = store().uploads
    return uploads


def boundary_source(park: ParkData, lang: str) -> str:
    """Return where the park's real district boundary comes from, as recorded in ``park.json``."""
    source = park.metadata.get("boundary_source") if park.metadata else None
    if not isinstance(source, Mapping) or not source.get("package"):
        return t("overview.boundary_source_default", lang)
    parts = [
        f"{source.get('package')} {source.get('package_version', '')}".strip(),
        str(source.get("original_provider", "")),
        t(
            "overview.boundary_conversion",
            lang,
            system=str(source.get("original_coordinate_system", "?")),
        )
        if source.get("original_coordinate_system")
        else "",
    ]
    return ", ".join(part for part in parts if part)


def table_csv(table: pd.DataFrame) -> bytes:
    """Return a table as formula-safe CSV bytes (``retention.data.io.table_to_csv_bytes``)."""
    return table_to_csv_bytes(table)


def table_xlsx(table: pd.DataFrame, *, sheet_name: str) -> bytes:
    """Return a table as a formula-safe one-sheet workbook (``table_to_xlsx_bytes``)."""
    return table_to_xlsx_bytes(table, sheet_name=sheet_name)
