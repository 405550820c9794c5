"""What a meeting snapshot holds, independent of the file format it is written in.

A :class:`Snapshot` is plain content — key figures, tables, charts and a map, grouped in
sections — plus what a reader needs to trust it: the park, the data version, the scenario, the
assumptions with their sources, a version hash of data + parameters + survey + scenario, the
date, and the synthetic-data notice where it applies. The writers (``report.pdf_report``,
``report.slides``, ``report.workbook``, ``report.html_snapshot``) only lay this content out; they
compute nothing, so every format shows the same numbers. Content is built by the pipeline
(``retention.pipeline.snapshot``) from one run key.

Survey figures in a snapshot must already have passed disclosure control: the writers publish
what they are given.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import geopandas as gpd
import pandas as pd

from retention.errors import ValidationError


class SnapshotFormat(StrEnum):
    """File formats a snapshot can be written in."""

    PDF = "pdf"
    PPTX = "pptx"
    XLSX = "xlsx"
    HTML = "html"


MEDIA_TYPES: Mapping[SnapshotFormat, str] = {
    SnapshotFormat.PDF: "application/pdf",
    SnapshotFormat.PPTX: (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
    SnapshotFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    SnapshotFormat.HTML: "text/html",
}
"""The media type of each format (for downloads)."""


@dataclass(frozen=True)
class Kpi:
    """One key figure: a label, a value with its unit, and its interval where there is one.

    Attributes
    ----------
    label
        What the figure is, in the snapshot's language.
    value
        The figure; ``None`` when it cannot be given (the note says why).
    unit
        Its unit in words ("people", "min", "万元/年"); empty for a plain count.
    low, high
        Interval bounds where the figure is uncertain (both or neither).
    decimals
        Decimals to print.
    note
        A short caution or source printed under the figure.
    """

    label: str
    value: float | None
    unit: str = ""
    low: float | None = None
    high: float | None = None
    decimals: int = 0
    note: str = ""

    def __post_init__(self) -> None:
        if (self.low is None) != (self.high is None):
            raise ValidationError(
                f"KPI {self.label!r}: give both interval bounds or neither", column="low/high"
            )
        if self.decimals < 0:
            raise ValidationError(f"KPI {self.label!r}: decimals must be >= 0", column="decimals")

    def value_text(self) -> str:
        """Return the value with thousands separators (and its interval), without the unit."""
        if self.value is None:
            return "—"
        text = f"{self.value:,.{self.decimals}f}"
        if self.low is not None and self.high is not None:
            text += f" ({self.low:,.{self.decimals}f}–{self.high:,.{self.decimals}f})"
        return text


@dataclass(frozen=True, eq=False)
class TableBlock:
    """A table: column headers carry their units; values are numbers or text.

    ``number_formats`` maps a column to its decimals (columns not listed: integers print without
    decimals, floats with one).
    """

    title: str
    frame: pd.DataFrame
    note: str = ""
    number_formats: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class ChartBlock:
    """A chart as a plotly figure (drawn interactive in HTML, as a picture elsewhere)."""

    title: str
    figure: Any  # plotly.graph_objects.Figure; typed loosely: plotly ships no type information
    note: str = ""


@dataclass(frozen=True, eq=False)
class MapLayer:
    """One vector layer of a snapshot map, drawn in a fixed colour (or coloured by ``value``)."""

    name: str
    frame: gpd.GeoDataFrame
    colour: str = "#555555"
    value_column: str | None = None


@dataclass(frozen=True, eq=False)
class MapBlock:
    """A map drawn without internet: vector layers, legend, scale bar and north arrow.

    Layers are drawn in order (first underneath). At most one layer is coloured by a value
    (``MapLayer.value_column``); ``legend_title`` names it with its unit.
    """

    title: str
    layers: tuple[MapLayer, ...]
    legend_title: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        valued = [layer for layer in self.layers if layer.value_column is not None]
        if len(valued) > 1:
            raise ValidationError(
                f"map {self.title!r}: at most one layer may be coloured by a value",
                column="value_column",
            )
        for layer in valued:
            if layer.value_column not in layer.frame.columns:
                raise ValidationError(
                    f"map {self.title!r}: layer {layer.name!r} has no column "
                    f"{layer.value_column!r}",
                    column="value_column",
                )

    @property
    def valued_layer(self) -> MapLayer | None:
        """The layer coloured by a value, if any."""
        return next((layer for layer in self.layers if layer.value_column is not None), None)


Block = Kpi | TableBlock | ChartBlock | MapBlock


@dataclass(frozen=True, eq=False)
class Section:
    """A titled group of blocks with its one message (a slide's headline)."""

    title: str
    message: str
    blocks: tuple[Block, ...]
    sources: str = ""


@dataclass(frozen=True, eq=False)
class Snapshot:
    """A meeting snapshot: content plus everything a reader needs to trust it.

    Attributes
    ----------
    title, park_name, lang
        Headline, the park's name, and the language every text is in (``"zh"``/``"en"``).
    created
        When the snapshot was made (printed at day precision).
    data_version, parameters_version, survey_version, scenario
        What the figures were computed from; ``scenario`` is ``None`` for the baseline.
    scenario_version
        A digest of the scenario's content (its modifications and budget package), so that two
        scenarios of the same name get different version hashes; empty for the baseline.
    synthetic_notice
        The synthetic-data notice, empty for a park with real data only.
    kpis
        The key-figure summary.
    sections
        Content sections in reading order.
    assumptions
        Every parameter with its value, unit and source.
    provenance
        Lines on where the data came from.
    labels
        Fixed captions in the snapshot's language (``"contents"``, ``"page"``, ``"version"``,
        ``"scenario"``, ``"baseline"``, ``"created"``, ``"assumptions"``, ``"provenance"``,
        ``"key_figures"``, ``"sources"``, ``"data_version"``). Missing ones fall back to English.
    """

    title: str
    park_name: str
    lang: str
    created: dt.datetime
    data_version: str
    parameters_version: str
    survey_version: str
    scenario: str | None
    synthetic_notice: str
    kpis: tuple[Kpi, ...]
    sections: tuple[Section, ...]
    assumptions: TableBlock
    provenance: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    scenario_version: str = ""

    def __post_init__(self) -> None:
        if self.lang not in ("zh", "en"):
            raise ValidationError(
                f"snapshot language must be 'zh' or 'en', got {self.lang!r}", column="lang"
            )

    @property
    def version_hash(self) -> str:
        """A short hash of data + parameters + survey + scenario: equal hashes, equal inputs."""
        return version_hash(
            self.data_version,
            self.parameters_version,
            self.survey_version,
            self.scenario,
            scenario_version=self.scenario_version,
        )

    def label(self, key: str) -> str:
        """Return a fixed caption in the snapshot's language."""
        return self.labels.get(key, _ENGLISH_LABELS.get(key, key))

    def tables(self) -> Iterable[TableBlock]:
        """Every table of the snapshot, sections first, assumptions last."""
        for section in self.sections:
            yield from (block for block in section.blocks if isinstance(block, TableBlock))
        yield self.assumptions

    def header_lines(self) -> tuple[str, ...]:
        """The lines that state what the snapshot was computed from, for every format."""
        scenario = self.scenario if self.scenario else self.label("baseline")
        lines = [
            f"{self.label('created')}: {self.created:%Y-%m-%d}",
            f"{self.label('scenario')}: {scenario}",
            f"{self.label('data_version')}: {self.data_version}",
            f"{self.label('version')}: {self.version_hash}",
        ]
        return tuple(lines)


_ENGLISH_LABELS: Mapping[str, str] = {
    "contents": "Contents",
    "page": "Page {n}",
    "version": "Version hash (data + parameters + survey + scenario)",
    "data_version": "Data version",
    "scenario": "Scenario",
    "baseline": "baseline (no intervention)",
    "created": "Created",
    "assumptions": "Assumptions",
    "provenance": "Data provenance",
    "key_figures": "Key figures",
    "sources": "Sources",
}


def snapshot_labels(lang: str) -> dict[str, str]:
    """Return the snapshot's fixed captions (``Snapshot.labels``) in ``lang`` from the catalogue."""
    from retention.i18n import t

    return {name: t(f"report.{name}", lang) for name in _ENGLISH_LABELS}


def version_hash(
    data_version: str,
    parameters_version: str,
    survey_version: str,
    scenario: str | None,
    *,
    scenario_version: str = "",
) -> str:
    """Return a 12-hex-digit hash of the inputs a snapshot's figures depend on.

    ``scenario`` is the scenario's name, ``scenario_version`` a digest of its content (left out
    of the hash when empty, so baseline hashes are as before).
    """
    parts = [data_version, parameters_version, survey_version, scenario or ""]
    if scenario_version:
        parts.append(scenario_version)
    payload = json.dumps(parts, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]


def cell_text(value: object, *, decimals: int | None = None) -> str:
    """Return a table cell as text: thousands separators for numbers, blank for missing."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (hasattr(value, "dtype") and "int" in str(value.dtype)):
        return f"{int(value):,}"  # type: ignore[call-overload]
    if isinstance(value, float) or (hasattr(value, "dtype") and "float" in str(value.dtype)):
        places = 1 if decimals is None else decimals
        return f"{float(value):,.{places}f}"  # type: ignore[arg-type]
    return str(value)


def table_rows(table: TableBlock) -> list[list[str]]:
    """Return a table's header and rows as text, each column with its number format."""
    frame = table.frame
    header = [str(column) for column in frame.columns]
    rows = [header]
    for record in frame.itertuples(index=False, name=None):
        rows.append(
            [
                cell_text(value, decimals=table.number_formats.get(str(column)))
                for column, value in zip(frame.columns, record, strict=True)
            ]
        )
    return rows
