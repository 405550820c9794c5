"""Cached batch results for the Park comparison page (``retention.batch``, its summary table).

Keyed on the batch folder and its summary file's modification time, so a batch that runs again
into the same folder is read again.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import streamlit as st

from retention.batch import batch_runs, read_summary_table
from retention.batch.run import SUMMARY_PARQUET
from retention.pipeline.snapshot import write_snapshot
from retention.report.maps import TileSource, standalone_html, use_local_assets
from retention.report.park_comparison import comparison_map, comparison_snapshot
from retention.report.snapshot import SnapshotFormat
from ui import state
from ui.map_view import VENDOR_DIR, asset_base_url

BATCHES_FOLDER = "batches"


def batches_root() -> Path:
    """Return where the page looks for batch runs: ``<data dir>/batches``."""
    return state.data_dir() / BATCHES_FOLDER


def runs() -> list[Path]:
    """Return the batch output folders under :func:`batches_root`."""
    return batch_runs(batches_root())


@st.cache_data(max_entries=8, show_spinner=False)
def _summary(folder: str, modified_ns: int) -> pd.DataFrame:
    return read_summary_table(Path(folder))


def summary(folder: Path) -> pd.DataFrame:
    """Return a batch's summary table (one row per park), cached on the file's mtime."""
    return _summary(str(folder), (folder / SUMMARY_PARQUET).stat().st_mtime_ns)


@st.cache_resource(max_entries=16, show_spinner=False)
def _map_page(
    folder: str,
    modified_ns: int,
    park_ids: tuple[str, ...],
    indicator: str,
    lang: str,
    tiles: str,
    base_url: str,
    _ranked: pd.DataFrame,
) -> str:
    m = comparison_map(_ranked, indicator, lang=lang, tiles=tiles)
    use_local_assets(m, asset_base_url=base_url)
    return standalone_html(m)


def map_page(
    folder: Path, ranked: pd.DataFrame, indicator: str, *, lang: str, tiles: TileSource
) -> str:
    """Return the parks map (``comparison_map``) as an HTML page, cached on what it shows."""
    return _map_page(
        str(folder),
        (folder / SUMMARY_PARQUET).stat().st_mtime_ns,
        tuple(ranked["park_id"]),
        indicator,
        lang,
        TileSource(tiles).value,
        asset_base_url(),
        ranked,
    )


@st.cache_data(max_entries=8, show_spinner=False)
def _snapshot_file(
    folder: str,
    modified_ns: int,
    cities: tuple[str, ...],
    districts: tuple[str, ...],
    indicator: str,
    lang: str,
    fmt: str,
    day: str,
) -> bytes:
    snapshot = comparison_snapshot(
        _summary(folder, modified_ns),
        batch_name=Path(folder).name,
        lang=lang,
        cities=cities,
        districts=districts,
        indicator=indicator,
        created=dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC),
    )
    return write_snapshot(snapshot, fmt, assets_dir=VENDOR_DIR)


def snapshot_file(
    folder: Path,
    *,
    cities: list[str],
    districts: list[str],
    indicator: str,
    lang: str,
    fmt: SnapshotFormat,
) -> bytes:
    """Return the comparison as shown (filters, map indicator) as an XLSX or HTML snapshot.

    ``comparison_snapshot`` written by the snapshot writers; cached on the batch, the filters,
    the language and the day (the file prints its date).
    """
    return _snapshot_file(
        str(folder),
        (folder / SUMMARY_PARQUET).stat().st_mtime_ns,
        tuple(cities),
        tuple(districts),
        indicator,
        lang,
        SnapshotFormat(fmt).value,
        dt.datetime.now(dt.UTC).date().isoformat(),
    )
