"""Resource limits for uploaded files, checked before any expensive work.

A small file can ask for a lot: a 5 KB XLSX with one cell at XFD1048576 makes openpyxl build a
sheet of 17 billion cells, a 1 MB zip can hold a 1,000 MiB Shapefile, and a million-row CSV takes
minutes and gigabytes. Every reader (``retention.data.io``, ``retention.survey.importer``) calls
these checks at its entry, so a bad file is refused in well under a second with a message that
says what the limit is and how to get under it:

* :func:`check_upload_size` — the file's size, before anything is parsed. The default, 50 MB,
  is also Streamlit's ``server.maxUploadSize`` in ``.streamlit/config.toml``; change both with
  the environment variable ``PARKLIFE_MAX_UPLOAD_MB`` (or Streamlit's own
  ``STREAMLIT_SERVER_MAX_UPLOAD_SIZE``, which sets the upload widget too).
* :func:`check_zip` — every member's declared size, the total, the member count and the
  compression ratio, read from the zip's directory without inflating anything;
  :func:`extract_member` then streams a member to disk with a hard cap on the bytes actually
  produced, so a member that lies about its size is stopped at the cap (nothing beyond it is
  written to /tmp) and a bad CRC is reported.
* :func:`check_xlsx` — the zip checks, then each sheet's extent and cell count, found by
  streaming the sheet's XML (never trusting its declared ``<dimension>``) with bounded memory.
* :func:`check_csv_rows` / :func:`check_row_count` — data rows against ``max_rows`` (default
  200,000; ``PARKLIFE_MAX_ROWS`` changes it).
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from retention.data.text import utf16_text
from retention.errors import FileFormatError, ParameterError

MAX_UPLOAD_ENV = "PARKLIFE_MAX_UPLOAD_MB"
MAX_ROWS_ENV = "PARKLIFE_MAX_ROWS"
STREAMLIT_MAX_UPLOAD_ENV = "STREAMLIT_SERVER_MAX_UPLOAD_SIZE"  # server.maxUploadSize, in MB
DEFAULT_MAX_UPLOAD_MB = 50  # issue 10; .streamlit/config.toml server.maxUploadSize says the same
_MB = 1024 * 1024  # Streamlit's megabyte (it multiplies maxUploadSize by 1024 * 1024)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class UploadLimits:
    """How large an uploaded file and what it unpacks to may be.

    Parameters
    ----------
    max_upload_mb
        Largest file accepted, in MB (1 MB = 1024 × 1024 bytes, as Streamlit counts).
    max_rows
        Most data rows (features) a layer or survey may have. A park has a few thousand
        enterprises, residences and amenities, and a survey a few thousand responses; 200,000 is
        far above both and keeps reading under a few seconds and a few hundred MB.
    max_columns
        Most columns a sheet or table may have.
    max_cells
        Most cells a sheet may hold (rows × columns actually present).
    max_unzipped_mb
        Largest total a zip (or XLSX) may unpack to, in MB.
    max_members
        Most files a zip may hold.
    max_compression_ratio
        Largest uncompressed/compressed ratio of a member bigger than 1 MB; real data compresses
        at most ~20:1, bombs at 1,000:1 and more.
    """

    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB
    max_rows: int = 200_000
    max_columns: int = 1_000
    max_cells: int = 10_000_000
    max_unzipped_mb: float = 1_024
    max_members: int = 10_000
    max_compression_ratio: float = 200.0

    def __post_init__(self) -> None:
        for name in (
            "max_upload_mb",
            "max_rows",
            "max_columns",
            "max_cells",
            "max_unzipped_mb",
            "max_members",
            "max_compression_ratio",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ParameterError(
                    f"{name} must be a positive number, got {value!r}", column=name
                )

    @property
    def max_upload_bytes(self) -> int:
        """``max_upload_mb`` in bytes."""
        return int(self.max_upload_mb * _MB)

    @property
    def max_unzipped_bytes(self) -> int:
        """``max_unzipped_mb`` in bytes."""
        return int(self.max_unzipped_mb * _MB)

    @classmethod
    def from_environment(cls) -> UploadLimits:
        """Return the defaults with ``max_upload_mb`` from ``PARKLIFE_MAX_UPLOAD_MB``, else from
        ``STREAMLIT_SERVER_MAX_UPLOAD_SIZE``, else 50, and ``max_rows`` from
        ``PARKLIFE_MAX_ROWS`` if set."""
        values: dict[str, float] = {}
        for variable in (STREAMLIT_MAX_UPLOAD_ENV, MAX_UPLOAD_ENV):  # the second one wins
            if os.environ.get(variable):
                values["max_upload_mb"] = _number_from(variable)
        if os.environ.get(MAX_ROWS_ENV):
            values["max_rows"] = int(_number_from(MAX_ROWS_ENV))
        return cls(**values)  # type: ignore[arg-type]


def _number_from(variable: str) -> float:
    text = os.environ[variable]
    try:
        return float(text)
    except ValueError as exc:
        raise ParameterError(
            f"{variable}={text!r} is not a number; expected e.g. 50", column=variable
        ) from exc


def _limits(limits: UploadLimits | None) -> UploadLimits:
    return limits if limits is not None else UploadLimits.from_environment()


def check_upload_size(
    data: bytes | bytearray | memoryview | int,
    *,
    file_name: str,
    limits: UploadLimits | None = None,
) -> None:
    """Refuse a file (its bytes, or its size in bytes) larger than ``limits.max_upload_mb``."""
    chosen = _limits(limits)
    size = data if isinstance(data, int) else len(data)
    if size > chosen.max_upload_bytes:
        raise FileFormatError(
            f"the file is {size / _MB:,.1f} MB; expected at most "
            f"{chosen.max_upload_mb:g} MB (split it, or ask the administrator to raise "
            f"{MAX_UPLOAD_ENV})",
            file=file_name,
        )


def check_row_count(rows: int, *, file_name: str, limits: UploadLimits | None = None) -> None:
    """Refuse a file with more than ``limits.max_rows`` data rows (features)."""
    chosen = _limits(limits)
    if rows > chosen.max_rows:
        raise FileFormatError(
            f"the file has {rows:,} data rows (features); expected at most {chosen.max_rows:,} — "
            "split it into smaller files",
            file=file_name,
        )


def check_csv_rows(data: bytes, *, file_name: str, limits: UploadLimits | None = None) -> None:
    """Refuse CSV bytes with more lines than a header plus ``limits.max_rows`` rows (counted
    before parsing; quoted line breaks count too, so this never refuses a file under the limit
    by more than its multi-line cells)."""
    utf16 = utf16_text(data, file_name=file_name)
    if utf16 is not None:  # a byte 0x0A inside a UTF-16 character ends no line
        text = utf16[0]
        lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    else:
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    check_row_count(max(lines - 1, 0), file_name=file_name, limits=limits)


def check_zip(
    archive: zipfile.ZipFile, *, file_name: str, limits: UploadLimits | None = None
) -> None:
    """Refuse a zip whose directory declares too many members, too many bytes, or a member
    compressed beyond ``limits.max_compression_ratio``. Nothing is inflated."""
    chosen = _limits(limits)
    members = archive.infolist()
    if len(members) > chosen.max_members:
        raise FileFormatError(
            f"the zip holds {len(members):,} files; expected at most {chosen.max_members:,}",
            file=file_name,
        )
    total = 0
    for info in members:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _MB and ratio > chosen.max_compression_ratio:
            raise FileFormatError(
                f"zip member {info.filename!r} would unpack from {info.compress_size:,} to "
                f"{info.file_size:,} bytes (ratio {ratio:,.0f}:1); expected at most "
                f"{chosen.max_compression_ratio:g}:1 — this looks like a zip bomb",
                file=file_name,
            )
    if total > chosen.max_unzipped_bytes:
        raise FileFormatError(
            f"the zip would unpack to {total / _MB:,.0f} MB; expected at most "
            f"{chosen.max_unzipped_mb:g} MB",
            file=file_name,
        )


def extract_member(
    archive: zipfile.ZipFile,
    member: str,
    target: Path | IO[bytes],
    *,
    file_name: str,
    limits: UploadLimits | None = None,
) -> int:
    """Stream one zip member into ``target`` (a path or a writable binary file); return its size.

    Stops with an error as soon as more bytes come out than the member declares or than
    ``limits.max_unzipped_mb`` allows, so nothing beyond that is written; a CRC mismatch is
    reported with the member's name.
    """
    chosen = _limits(limits)
    info = archive.getinfo(member)
    cap = min(info.file_size, chosen.max_unzipped_bytes)
    written = 0
    output = open(target, "wb") if isinstance(target, Path) else target  # noqa: SIM115
    try:
        with archive.open(info) as source:
            while True:
                chunk = source.read(min(_CHUNK, cap - written + 1))
                if not chunk:
                    break
                written += len(chunk)
                if written > cap:
                    raise FileFormatError(
                        f"zip member {member!r} unpacks to more than the {cap:,} bytes it "
                        "declares (or the size limit); refused",
                        file=file_name,
                    )
                output.write(chunk)
    except zipfile.BadZipFile as err:
        raise FileFormatError(
            f"the zip archive is corrupt: member {member!r} fails its CRC ({err})", file=file_name
        ) from err
    finally:
        if isinstance(target, Path):
            output.close()
    return written


# Cell references (r="XFD1048576") and row numbers (r="12") in a sheet's XML, in any attribute
# order; no other sheetData attribute is named r.
_CELL_COLUMN = re.compile(rb'\sr="([A-Z]{1,3})[0-9]')
_ROW_NUMBER = re.compile(rb'\sr="[A-Z]{0,3}([0-9]{1,7})"')
# The declared size: openpyxl's read-only reader pads every row to it, so it must be checked too.
_DIMENSION = re.compile(
    rb'<(?:\w+:)?dimension\s[^>]*?ref="(?:[A-Z]{1,3}[0-9]{1,7}:)?([A-Z]{1,3})([0-9]{1,7})"'
)
_CELL_TAGS = (b"<c ", b"<c>", b"<c/>", b":c ", b":c>")  # ":c" for a prefixed namespace
_TAIL = 512  # bytes kept between chunks so no tag is cut in two


@dataclass(frozen=True)
class SheetExtent:
    """What a worksheet's XML holds: its last row and column (1-based) and its cell count."""

    name: str
    max_row: int
    max_column: int
    cells: int

    @property
    def last_cell(self) -> str:
        """The bottom-right cell reference, e.g. ``"XFD1048576"``."""
        return f"{column_letters(self.max_column)}{self.max_row}"


def column_letters(index: int) -> str:
    """Return the spreadsheet letters of 1-based column ``index`` (1 → A, 16384 → XFD)."""
    letters = ""
    while index > 0:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters or "A"


def _column_index(letters: bytes) -> int:
    index = 0
    for byte in letters:
        index = index * 26 + (byte - ord("A") + 1)
    return index


def _scan_sheet(
    stream: IO[bytes], name: str, *, file_name: str, limits: UploadLimits
) -> SheetExtent:
    max_row = max_column = cells = row_tags = 0
    carry = b""
    while True:
        chunk = stream.read(_CHUNK)
        window = carry + chunk
        # Count the tags that end inside the window; a tag cut at its end waits for the next
        # chunk. The carried rest is bounded: only its last _TAIL bytes can hold a cut tag.
        cut = window.rfind(b">") + 1 if chunk else len(window)
        body, carry = window[:cut], window[cut:][-_TAIL:]
        cells += sum(body.count(tag) for tag in _CELL_TAGS)
        row_tags += body.count(b"<row ") + body.count(b"<row>")
        rows = set(_ROW_NUMBER.findall(body))
        columns = set(_CELL_COLUMN.findall(body))
        for letters, row in _DIMENSION.findall(body):
            rows.add(row)
            columns.add(letters)
        max_row = max([max_row, row_tags, *(int(row) for row in rows)])
        max_column = max([max_column, *(_column_index(letters) for letters in columns)])
        extent = SheetExtent(name=name, max_row=max_row, max_column=max_column, cells=cells)
        _check_extent(extent, file_name=file_name, limits=limits)  # stop as soon as it is over
        if not chunk:
            return extent


def _sheet_members(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """Return (sheet name, zip member) for each worksheet, in workbook order where known."""
    names = archive.namelist()
    members = sorted(
        (n for n in names if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)),
        key=lambda n: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", n)],
    )
    titles: dict[str, str] = {}
    if "xl/workbook.xml" in names and "xl/_rels/workbook.xml.rels" in names:
        workbook = _bounded_read(archive, "xl/workbook.xml")
        rels = _bounded_read(archive, "xl/_rels/workbook.xml.rels")
        targets = {
            rel_id.decode(): target.decode()
            for rel_id, target in re.findall(
                rb"<(?:\w+:)?Relationship\s[^>]*?Id=\"([^\"]+)\"[^>]*?Target=\"([^\"]+)\"", rels
            )
        }
        for title, rel_id in re.findall(
            rb"<(?:\w+:)?sheet\s[^>]*?name=\"([^\"]*)\"[^>]*?r:id=\"([^\"]+)\"", workbook
        ):
            target = targets.get(rel_id.decode(), "")
            member = str(PurePosixPath("xl") / target.lstrip("/").removeprefix("xl/"))
            titles[member] = title.decode("utf-8", errors="replace")
    return [(titles.get(member, PurePosixPath(member).stem), member) for member in members]


def _bounded_read(archive: zipfile.ZipFile, member: str, cap: int = 8 * _MB) -> bytes:
    with archive.open(member) as source:
        data = source.read(cap + 1)
    return data[:cap]


def check_xlsx(
    data: bytes,
    *,
    file_name: str,
    sheets: Iterable[str] | None = None,
    limits: UploadLimits | None = None,
) -> list[SheetExtent]:
    """Refuse an XLSX workbook that is too large to load, before openpyxl or pandas sees it.

    Runs :func:`check_upload_size` and :func:`check_zip`, then streams each worksheet's XML (or
    only those named in ``sheets``) to find its last row, last column and cell count — from the
    cells actually present *and* from the ``<dimension>`` it declares (openpyxl pads rows to
    it), so neither a lying dimension nor a far cell gets through — and refuses a sheet beyond
    ``max_rows``, ``max_columns`` or ``max_cells``. Memory stays bounded by the chunk size.

    Returns
    -------
    list of SheetExtent
        The extent of every sheet checked; empty if ``data`` is not a zip at all (the reader
        then reports that the file is not a workbook).
    """
    import io

    chosen = _limits(limits)
    check_upload_size(data, file_name=file_name, limits=chosen)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError):
        return []  # not a workbook at all: the reader says so in its own words
    with archive:
        check_zip(archive, file_name=file_name, limits=chosen)
        wanted = set(sheets) if sheets is not None else None
        extents = []
        for title, member in _sheet_members(archive):
            if wanted is not None and title not in wanted:
                continue
            try:
                with archive.open(member) as stream:
                    extent = _scan_sheet(stream, title, file_name=file_name, limits=chosen)
            except zipfile.BadZipFile as err:
                raise FileFormatError(
                    f"the workbook is corrupt: sheet {title!r} fails its CRC ({err})",
                    file=file_name,
                ) from err
            extents.append(extent)
    return extents


def _check_extent(extent: SheetExtent, *, file_name: str, limits: UploadLimits) -> None:
    too_big = (
        extent.max_row > limits.max_rows + 1  # + the header row
        or extent.max_column > limits.max_columns
        or extent.cells > limits.max_cells
    )
    if too_big:
        raise FileFormatError(
            f"sheet {extent.name!r} reaches cell {extent.last_cell} ({extent.max_row:,} rows × "
            f"{extent.max_column:,} columns, {extent.cells:,} cells); expected at most "
            f"{limits.max_rows:,} data rows, {limits.max_columns:,} columns and "
            f"{limits.max_cells:,} cells — delete the unused rows and columns below and right "
            "of the data (select them, Delete, save) or split the file",
            file=file_name,
        )


__all__ = [
    "DEFAULT_MAX_UPLOAD_MB",
    "MAX_UPLOAD_ENV",
    "SheetExtent",
    "UploadLimits",
    "check_csv_rows",
    "check_row_count",
    "check_upload_size",
    "check_xlsx",
    "check_zip",
    "column_letters",
    "extract_member",
]
