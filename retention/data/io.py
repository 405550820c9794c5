"""Read a user's layer file (GeoPackage, GeoJSON, zipped Shapefile, CSV, XLSX) and write tables.

This module only does I/O: it turns bytes into a *raw* GeoDataFrame with the file's own headers and
values, and says what it found (:class:`SourceInfo`). Checking the rows against a layer's spec,
converting coordinate systems and mapping header aliases is ``retention.data.validate``'s job.

Tables (CSV, XLSX) are read with every cell as text (CSV) or as Excel stored it (XLSX) and an empty
geometry column: ``retention.data.validate`` finds the longitude/latitude columns and reports each
bad value with its row, so nothing is coerced or dropped here.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

import geopandas as gpd
import pandas as pd
import pyogrio

from retention.data.limits import (
    check_csv_rows,
    check_row_count,
    check_upload_size,
    check_xlsx,
    check_zip,
    extract_member,
)
from retention.data.text import refuse_nul_bytes, utf16_text
from retention.errors import FileFormatError
from retention.safe_cells import csv_bytes, xlsx_bytes

_T = TypeVar("_T")

TABLE_FORMATS = ("csv", "xlsx")
SPATIAL_FORMATS = ("gpkg", "geojson", "shapefile")
SUPPORTED_EXTENSIONS = (".gpkg", ".geojson", ".json", ".zip", ".shp", ".csv", ".xlsx")

# Encodings tried, in order, for CSV files and Shapefile .dbf files without a .cpg. UTF-8 first
# because a GBK byte sequence is almost never valid UTF-8, while many UTF-8 sequences are valid
# GB18030; GB18030 is a superset of GBK and GB2312, so it also reads files saved as "GBK".
TRIED_ENCODINGS = ("utf-8-sig", "gb18030")
_CSV_DELIMITERS = (",", "\t", ";", "|")
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf")
TITLE_ROW_ATTR = "parklife_title_row"
"""``frame.attrs`` key of a title line found above the header and skipped (its text);
``validate_layer`` notes it."""
RAGGED_ROWS_ATTR = "parklife_ragged_rows"
"""``frame.attrs`` key of a CSV's rows whose cell count differs from the header's:
``{position: (line, cell count, cells beyond the header)}``; ``validate_layer`` rejects them."""


@dataclass(frozen=True)
class SourceInfo:
    """What was read and how.

    Parameters
    ----------
    file_name
        The user's file name (as uploaded), used in every error message.
    format
        ``"gpkg"``, ``"geojson"``, ``"shapefile"``, ``"csv"`` or ``"xlsx"``.
    layer
        GeoPackage layer, Shapefile name inside the zip, or XLSX sheet; ``None`` otherwise.
    encoding
        Text encoding used (CSV, Shapefile); ``None`` where the format fixes it.
    declared_crs
        The CRS the file declares (e.g. ``"EPSG:4326"``), ``None`` if it declares none.
    row_count
        Number of data rows (features) read.
    """

    file_name: str
    format: str
    layer: str | None
    encoding: str | None
    declared_crs: str | None
    row_count: int

    @property
    def is_table(self) -> bool:
        """Whether geometry must come from coordinate columns (CSV, XLSX)."""
        return self.format in TABLE_FORMATS


@dataclass(frozen=True)
class RawLayer:
    """A file's rows as read, before validation.

    Parameters
    ----------
    frame
        One row per data row/feature, index ``0..n-1`` (data row ``i + 1`` as a spreadsheet user
        counts it), original headers, geometry column ``"geometry"`` (all missing for tables).
    source
        What was read.
    """

    frame: gpd.GeoDataFrame
    source: SourceInfo


def _load_bytes(source: Path | str | bytes, file_name: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        if not file_name:
            raise FileFormatError(
                "a file given as bytes needs its file name (to tell the format from its extension)"
            )
        check_upload_size(source, file_name=file_name)
        return bytes(source), file_name
    path = Path(source)
    name = file_name or path.name
    if not path.is_file():
        raise FileFormatError(f"file not found: {path}", file=name)
    check_upload_size(path.stat().st_size, file_name=name)  # before reading it into memory
    return path.read_bytes(), name


def _format_of(file_name: str) -> str:
    suffix = PurePosixPath(file_name.lower()).suffix
    formats = {
        ".gpkg": "gpkg",
        ".geojson": "geojson",
        ".json": "geojson",
        ".zip": "shapefile",
        ".shp": "shapefile",
        ".csv": "csv",
        ".xlsx": "xlsx",
    }
    if suffix in formats:
        return formats[suffix]
    hint = ""
    if suffix == ".xls":
        hint = "; save the workbook as .xlsx (Excel 2007 or later)"
    elif suffix in (".dbf", ".shx", ".prj", ".cpg"):
        hint = "; zip the .shp, .shx, .dbf, .prj (and .cpg) files together and upload the .zip"
    elif suffix in (".kml", ".kmz"):
        hint = "; export the layer as GeoJSON or GeoPackage"
    raise FileFormatError(
        f"unknown file type {suffix or '(no extension)'!r}; expected one of "
        f"{', '.join(SUPPORTED_EXTENSIONS)}{hint}",
        file=file_name,
    )


def list_layers(source: Path | str | bytes, *, file_name: str | None = None) -> list[str]:
    """Return the layer names a user can choose from (GeoPackage layers, XLSX sheets, zip .shp).

    Parameters
    ----------
    source
        A path, or the file's bytes (then ``file_name`` is required).
    file_name
        The file's name; defaults to the path's name.

    Returns
    -------
    list of str
        Layer names in file order; a single-layer format gives one name (its stem).
    """
    data, name = _load_bytes(source, file_name)
    fmt = _format_of(name)
    _require_non_empty(data, name)
    if fmt == "gpkg":
        with tempfile.TemporaryDirectory(prefix="parklife-") as tmp:
            path = Path(tmp) / "upload.gpkg"
            path.write_bytes(data)
            return [str(row[0]) for row in _gdal_call(pyogrio.list_layers, path, file_name=name)]
    if fmt == "xlsx":
        return [str(sheet) for sheet in _excel_file(data, name).sheet_names]
    if fmt == "shapefile" and name.lower().endswith(".zip"):
        return [PurePosixPath(member).stem for member in _shp_members(_open_zip(data, name), name)]
    return [PurePosixPath(name).stem]


def read_layer(
    source: Path | str | bytes,
    *,
    file_name: str | None = None,
    layer: str | None = None,
) -> RawLayer:
    """Read a user's layer file into a raw GeoDataFrame.

    Assumes nothing about columns or coordinate system: the result keeps the file's headers and
    values; ``retention.data.validate.validate_layer`` checks them.

    Parameters
    ----------
    source
        A path, or the file's bytes as uploaded (then ``file_name`` is required).
    file_name
        The user's name for the file (its extension picks the reader); defaults to the path's
        name.
    layer
        GeoPackage layer, XLSX sheet or Shapefile (inside a zip) to read; required when a
        GeoPackage or zip holds several, optional otherwise (first sheet).

    Returns
    -------
    RawLayer
        The rows and a description of the source.

    Raises
    ------
    FileFormatError
        Unknown extension, empty file, undecodable text (naming the encodings tried), corrupt
        zip, zip without a complete Shapefile, unknown layer or a file GDAL cannot read.
    """
    data, name = _load_bytes(source, file_name)
    fmt = _format_of(name)
    _require_non_empty(data, name)
    if fmt == "csv":
        return _read_csv(data, name)
    if fmt == "xlsx":
        return _read_xlsx(data, name, sheet=layer)
    if fmt == "shapefile":
        if name.lower().endswith(".shp"):
            if isinstance(source, bytes | bytearray | memoryview):
                raise FileFormatError(
                    "a Shapefile is several files; zip the .shp, .shx, .dbf, .prj (and .cpg) "
                    "together and upload the .zip",
                    file=name,
                )
            return _read_shapefile_dir(Path(source), name, layer_label=Path(source).stem)
        return _read_zipped_shapefile(data, name, layer=layer)
    suffix = ".gpkg" if fmt == "gpkg" else ".geojson"
    with tempfile.TemporaryDirectory(prefix="parklife-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        chosen: str | None = None
        if fmt == "gpkg":
            names = [str(row[0]) for row in _gdal_call(pyogrio.list_layers, path, file_name=name)]
            chosen = _choose_layer(names, layer, name, what="layer")
        frame = _read_features(path, file_name=name, layer=chosen)
    return _raw(frame, name, fmt, layer=chosen, encoding=None)


def _require_non_empty(data: bytes, name: str) -> None:
    if not data.strip():
        raise FileFormatError("the file is empty (0 bytes of content)", file=name)


def _gdal_call(func: Callable[..., _T], path: Path, *, file_name: str, **kwargs: Any) -> _T:
    """Call a pyogrio function, turning GDAL's errors into a FileFormatError for ``file_name``."""
    try:
        return func(path, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
        raise FileFormatError(
            f"the file cannot be read as {path.suffix.lstrip('.')}: {err}", file=file_name
        ) from err


def _read_features(path: Path, *, file_name: str, **kwargs: Any) -> pd.DataFrame:
    """Read a GDAL layer after checking its feature count against the row limit."""
    info_kwargs = {key: value for key, value in kwargs.items() if key in ("layer", "encoding")}
    info = _gdal_call(pyogrio.read_info, path, file_name=file_name, **info_kwargs)
    check_row_count(int(info.get("features") or 0), file_name=file_name)
    return _gdal_call(pyogrio.read_dataframe, path, file_name=file_name, **kwargs)


def _choose_layer(names: list[str], wanted: str | None, file_name: str, *, what: str) -> str:
    if not names:
        raise FileFormatError(f"the file contains no {what}", file=file_name)
    if wanted is None:
        if len(names) == 1:
            return names[0]
        raise FileFormatError(
            f"the file holds {len(names)} {what}s ({', '.join(names)}); choose one", file=file_name
        )
    if wanted not in names:
        raise FileFormatError(
            f"{what} {wanted!r} is not in the file; it holds: {', '.join(names)}", file=file_name
        )
    return wanted


def _raw(
    frame: pd.DataFrame,
    file_name: str,
    fmt: str,
    *,
    layer: str | None,
    encoding: str | None,
) -> RawLayer:
    if len(frame) == 0:
        raise FileFormatError("the file has no data rows (features)", file=file_name)
    if isinstance(frame, gpd.GeoDataFrame):
        declared = frame.crs.to_string() if frame.crs is not None else None
        geometry_name = frame.geometry.name
        out = frame.reset_index(drop=True)
        if geometry_name != "geometry":
            out = out.rename_geometry("geometry")
    else:
        declared = None
        table = frame.reset_index(drop=True)
        # A text column called "geometry" (e.g. WKT) would collide with the geometry column.
        if "geometry" in table.columns:
            table = table.rename(columns={"geometry": "wkt"})
        out = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries([None] * len(table)), crs=None)
    source = SourceInfo(
        file_name=file_name,
        format=fmt,
        layer=layer,
        encoding=encoding,
        declared_crs=declared,
        row_count=len(out),
    )
    return RawLayer(frame=out, source=source)


def decode_text(data: bytes, *, file_name: str) -> tuple[str, str]:
    """Decode a text file as UTF-16 (with its BOM), UTF-8 (with or without BOM) or else
    GB18030/GBK.

    Parameters
    ----------
    data
        The file's bytes.
    file_name
        Used in the error message.

    Returns
    -------
    tuple of str
        The text and the encoding that decoded it (``"utf-16-le"``, ``"utf-16-be"``,
        ``"utf-8-sig"`` or ``"gb18030"``).

    Raises
    ------
    FileFormatError
        Naming the file and the encodings tried, if none decodes every byte strictly; NUL
        bytes without a UTF-16 byte-order mark.
    """
    utf16 = utf16_text(data, file_name=file_name)
    if utf16 is not None:
        return utf16
    refuse_nul_bytes(data, file_name=file_name)
    for encoding in TRIED_ENCODINGS:
        try:
            return data.decode(encoding, errors="strict"), encoding
        except UnicodeDecodeError:
            continue
    raise FileFormatError(
        f"the text cannot be decoded; tried encodings {', '.join(TRIED_ENCODINGS)} (GB18030 "
        "also covers GBK/GB2312); save the file as 'CSV UTF-8' and upload it again",
        file=file_name,
    )


def _read_csv(data: bytes, name: str) -> RawLayer:
    check_csv_rows(data, file_name=name)
    text, encoding = decode_text(data, file_name=name)
    if not text.lstrip("\ufeff").strip():
        raise FileFormatError("the file is empty (only a byte-order mark)", file=name)
    delimiter = sniff_delimiter(text.lstrip("\ufeff"))
    # Blank lines inside the data stay rows (validate reports them) so that row numbers match
    # what the user sees in a spreadsheet; trailing blank lines are only the file's end.
    text = text.lstrip("\ufeff").rstrip("\r\n\t ") + "\n"
    records = csv_records(text, delimiter=delimiter, file_name=name)
    while records and not any(cell.strip() for cell in records[0][1]):
        records.pop(0)
    title = title_cell(*(row for _, row in records[:2])) if len(records) > 1 else None
    if title is not None:
        records.pop(0)
    if not records:
        raise FileFormatError("the file is empty (no header row)", file=name)
    header = unique_headers([cell.strip() for cell in records[0][1]])
    width = len(header)
    cells: list[list[str]] = []
    ragged: dict[int, tuple[int, int, tuple[str, ...]]] = {}
    for position, (line, row) in enumerate(records[1:]):
        if row and len(row) != width:
            # Never padded or cut silently: validate rejects the row, naming line and counts.
            ragged[position] = (line, len(row), tuple(row[width:]))
        cells.append((row + [""] * width)[:width])
    frame = pd.DataFrame(cells, columns=header, dtype=object)
    raw = _raw(frame, name, "csv", layer=None, encoding=encoding)
    raw.frame.attrs[RAGGED_ROWS_ATTR] = ragged
    if title is not None:
        raw.frame.attrs[TITLE_ROW_ATTR] = title
    return raw


def title_note(title: str) -> str:
    """Say that a title line above the header was skipped (a warning: nothing is lost)."""
    return f"a title above the header ({title!r}) was skipped; the header is the next row"


def title_cell(first: Sequence[object], second: Sequence[object]) -> str | None:
    """Return the text of ``first`` when it is a title above a header: one filled cell (a
    caption typed or merged across the top) over a row of at least two, else ``None``."""

    def filled(row: Sequence[object]) -> list[str]:
        return [str(cell).strip() for cell in row if not pd.isna(cell) and str(cell).strip()]

    cells = filled(first)
    return cells[0] if len(cells) == 1 and len(filled(second)) >= 2 else None


def sniff_delimiter(text: str) -> str:
    """Return the separator a CSV's first five non-blank lines use most: comma, tab, semicolon
    or pipe (five, so that a title line above the header does not decide alone)."""
    lines = [line for line in text[:65536].splitlines() if line.strip()][:5]
    return max(_CSV_DELIMITERS, key=lambda separator: sum(line.count(separator) for line in lines))


def unique_headers(
    header: Sequence[str], *, repeat: str = "{name}.{repeats}", blank: str = "{name}"
) -> list[str]:
    """Return headers with repeats renamed, so every column has its own name.

    Parameters
    ----------
    header
        The header cells.
    repeat
        Template of a repeated name: ``{name}``, ``{repeats}`` (earlier occurrences, 1 for the
        first repeat) and ``{occurrence}`` (2 for the first repeat). The default numbers
        repeats ``name.1``, ``name.2`` as pandas does.
    blank
        Template of an empty header: ``{name}`` (itself, empty) or e.g. ``_column_{position}``.
    """
    seen: dict[str, int] = {}
    out = []
    for position, name in enumerate(header, start=1):
        name = name or blank.format(name=name, position=position)
        if name in seen:
            seen[name] += 1
            out.append(repeat.format(name=name, repeats=seen[name], occurrence=seen[name] + 1))
        else:
            seen[name] = 0
            out.append(name)
    return out


def csv_records(text: str, *, delimiter: str, file_name: str) -> list[tuple[int, list[str]]]:
    """Return every CSV record with the file line it starts on (a quoted cell may span lines).

    Raises
    ------
    FileFormatError
        The text is not CSV, naming the line.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    previous = 0
    try:
        for row in reader:
            records.append((previous + 1, row))
            previous = reader.line_num
    except csv.Error as err:
        raise FileFormatError(
            f"the CSV cannot be parsed at line {reader.line_num}: {err}", file=file_name
        ) from err
    return records


def _excel_file(data: bytes, name: str) -> pd.ExcelFile:
    check_xlsx(data, file_name=name)  # sheet extents streamed before openpyxl sizes anything
    try:
        return pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
    except (zipfile.BadZipFile, ValueError, KeyError, OSError) as err:
        raise FileFormatError(
            f"the file is not a readable .xlsx workbook: {err}", file=name
        ) from err


def _read_xlsx(data: bytes, name: str, *, sheet: str | None) -> RawLayer:
    with _excel_file(data, name) as workbook:
        sheets = [str(s) for s in workbook.sheet_names]
        chosen = sheets[0] if sheet is None and sheets else sheet
        chosen = _choose_layer(sheets, chosen, name, what="sheet")
        frame = workbook.parse(sheet_name=chosen, dtype=object)
        named = [c for c in frame.columns if not str(c).startswith("Unnamed:")]
        first = frame.iloc[0].tolist() if len(frame) else []
        title = title_cell(named, first) if len(named) == 1 else None
        if title is not None:  # the header is the row under the title
            frame = workbook.parse(sheet_name=chosen, dtype=object, header=1)
    # Drop only trailing empty rows (formatted but unused cells); empty rows inside the data
    # stay, so row numbers match the sheet and validate reports them.
    filled = frame.notna().any(axis=1).to_numpy()
    last = int(filled.nonzero()[0].max()) + 1 if filled.any() else 0
    frame = frame.iloc[:last].reset_index(drop=True)
    frame.columns = [str(column).strip() for column in frame.columns]
    raw = _raw(frame, name, "xlsx", layer=chosen, encoding=None)
    if title is not None:
        raw.frame.attrs[TITLE_ROW_ATTR] = title
    return raw


def _open_zip(data: bytes, name: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as err:
        raise FileFormatError(f"the zip archive is corrupt: {err}", file=name) from err
    # Declared sizes and ratios only: nothing is inflated here. Members are streamed with a cap
    # and their CRC checked when they are extracted (``extract_member``).
    check_zip(archive, file_name=name)
    return archive


def _shp_members(archive: zipfile.ZipFile, name: str) -> list[str]:
    members = [
        m
        for m in archive.namelist()
        if m.lower().endswith(".shp") and not PurePosixPath(m).name.startswith("._")
    ]
    if not members:
        listed = ", ".join(archive.namelist()[:10]) or "nothing"
        raise FileFormatError(
            f"the zip contains no .shp file (it holds: {listed}); expected a Shapefile's .shp, "
            ".shx, .dbf and .prj files",
            file=name,
        )
    return members


def _read_zipped_shapefile(data: bytes, name: str, *, layer: str | None) -> RawLayer:
    with _open_zip(data, name) as archive:
        members = _shp_members(archive, name)
        stems = [PurePosixPath(m).stem for m in members]
        chosen = _choose_layer(stems, layer, name, what="Shapefile")
        shp_member = members[stems.index(chosen)]
        base = shp_member[: -len(".shp")]
        by_lower = {m.lower(): m for m in archive.namelist()}
        with tempfile.TemporaryDirectory(prefix="parklife-") as tmp:
            for part in (*_SHAPEFILE_PARTS, ".prj", ".cpg"):
                member = by_lower.get((base + part).lower())
                if member is None:
                    if part in _SHAPEFILE_PARTS:
                        raise FileFormatError(
                            f"the zip has {shp_member!r} but no {chosen}{part}; a Shapefile "
                            "needs its .shp, .shx and .dbf files together",
                            file=name,
                        )
                    continue
                # Write under a fixed flat name: member paths never reach the file system.
                extract_member(archive, member, Path(tmp) / f"layer{part}", file_name=name)
            return _read_shapefile_dir(Path(tmp) / "layer.shp", name, layer_label=chosen)


def _read_shapefile_dir(shp_path: Path, name: str, *, layer_label: str) -> RawLayer:
    stem = shp_path.with_suffix("")
    for part in _SHAPEFILE_PARTS:
        if not stem.with_suffix(part).is_file() and not stem.with_suffix(part.upper()).is_file():
            raise FileFormatError(
                f"the Shapefile has no {part} file beside it; a Shapefile needs its .shp, .shx "
                "and .dbf files together",
                file=name,
            )
    cpg = stem.with_suffix(".cpg")
    if cpg.is_file():
        encoding = cpg.read_text(encoding="ascii", errors="replace").strip() or None
        frame = _read_features(shp_path, file_name=name, encoding=encoding)
        return _raw(frame, name, "shapefile", layer=layer_label, encoding=encoding)
    dbf = stem.with_suffix(".dbf")
    guessed = dbf_encoding(dbf.read_bytes(), file_name=name)
    frame = _read_features(
        shp_path, file_name=name, encoding=None if guessed == "ascii" else guessed
    )
    return _raw(frame, name, "shapefile", layer=layer_label, encoding=guessed)


def dbf_encoding(dbf: bytes, *, file_name: str) -> str:
    """Guess the text encoding of a dBASE (.dbf) file that came without a .cpg file.

    Assumes a dBASE III-style layout (what Shapefiles use): a 32-byte header, 32-byte field
    descriptors ending with 0x0D, then fixed-length records. Only the field names and record
    bytes are decoded, never the binary header.

    Parameters
    ----------
    dbf
        The .dbf file's bytes.
    file_name
        Used in the error message.

    Returns
    -------
    str
        ``"ascii"`` if all text is ASCII, else ``"UTF-8"`` or ``"GB18030"``.

    Raises
    ------
    FileFormatError
        If the text decodes as neither, naming the encodings tried.
    """
    if len(dbf) < 32:
        raise FileFormatError(
            "the .dbf file is truncated (shorter than its header)", file=file_name
        )
    record_count = int.from_bytes(dbf[4:8], "little")
    header_length = int.from_bytes(dbf[8:10], "little")
    record_length = int.from_bytes(dbf[10:12], "little")
    names = bytearray()
    offset = 32
    while offset + 32 <= min(header_length, len(dbf)) and dbf[offset] != 0x0D:
        names += dbf[offset : offset + 11].rstrip(b"\x00") + b" "
        offset += 32
    records = dbf[header_length : header_length + record_count * record_length]
    text = bytes(names) + records
    if text.isascii():
        return "ascii"
    for encoding, label in (("utf-8", "UTF-8"), ("gb18030", "GB18030")):
        try:
            text.decode(encoding, errors="strict")
        except UnicodeDecodeError:
            continue
        return label
    raise FileFormatError(
        "the Shapefile's attribute table (.dbf) cannot be decoded; tried encodings utf-8, "
        "gb18030 (GB18030 also covers GBK); add a .cpg file naming its encoding",
        file=file_name,
    )


def table_to_csv_bytes(table: pd.DataFrame) -> bytes:
    """Return ``table`` as formula-safe CSV bytes in UTF-8 with a BOM (Excel shows Chinese).

    A geometry column, if any, is written as WKT text; text cells that a spreadsheet would run as
    a formula are neutralised (``retention.safe_cells``).
    """
    return csv_bytes(_plain(table))


def table_to_xlsx_bytes(table: pd.DataFrame, *, sheet_name: str = "rows") -> bytes:
    """Return ``table`` as a formula-safe .xlsx workbook (one sheet) in memory.

    A geometry column, if any, is written as WKT text; text cells that a spreadsheet would run as
    a formula are neutralised (``retention.safe_cells``).
    """
    return xlsx_bytes({sheet_name: _plain(table)})


def _plain(table: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(table).copy()
    for column in out.columns:
        if isinstance(out[column].dtype, gpd.array.GeometryDtype):
            out[column] = gpd.GeoSeries(out[column]).to_wkt()
    return out
