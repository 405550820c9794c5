"""Read survey files (Wenjuanxing exports, CSV or XLSX) into the canonical survey table.

Two steps, so the user can check the column mapping in between:

1. ``read_survey_file(data, file_name=...)`` decodes the bytes (UTF-8, UTF-8 with BOM,
   GBK/GB18030; XLSX), finds the header row(s), drops blank rows and personal-data columns
   (source IP) at once, and returns every cell as text;
2. ``import_survey(raw, mapping, ...)`` converts the answers with the mapping
   (``retention.survey.mapping``), pseudonymises respondent ids (``retention.survey.privacy``),
   links
   enterprises and residences (``retention.survey.link``) and validates every row
   (``retention.survey.schema``). Valid rows are kept; rejected rows are kept aside with their
   reasons and can be downloaded (``rejected_rows_csv`` / ``rejected_rows_xlsx``).

Wenjuanxing conventions handled: question-text headers (``3、您的年龄段:``), one column per
multi-select option (``8、…原因:(工资待遇)`` with 1/0 or 选中/未选中), Likert answers as text or
numbers, ``(跳过)``/``(空)``/``-3``/``-2`` for skipped, ``提交答卷时间``, ``序号``, ``所用时间``,
``来源``, ``来源详情`` and ``来自IP``; a second header row holding option texts under merged
question cells; blank rows.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from retention.data.io import (
    csv_records,
    sniff_delimiter,
    title_cell,
    title_note,
    unique_headers,
)
from retention.data.limits import check_csv_rows, check_upload_size, check_xlsx
from retention.data.text import refuse_nul_bytes, utf16_text
from retention.errors import FileFormatError, ValidationError
from retention.safe_cells import csv_bytes, xlsx_bytes
from retention.survey.answers import ValueMap
from retention.survey.layouts import SurveyLayout, detect_layout, layout_hint
from retention.survey.link import LinkParameters, link_coordinates, link_names
from retention.survey.mapping import (
    IGNORE,
    MAPPING_TARGETS,
    REQUIRED_TARGETS,
    ColumnMapping,
    apply_mapping,
    parse_header,
    suggest_mapping,
)
from retention.survey.privacy import pseudonymise_ids
from retention.survey.schema import SURVEY_COLUMNS, SurveyIssue, validate_survey_frame

_UTF8_BOM = b"\xef\xbb\xbf"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_META_HEADERS = ("序号", "提交答卷时间", "答卷编号")
PERSONAL_HEADER_PATTERN = re.compile(
    # Latin words only as whole tokens, so "zip code", "Description", "Equipment" or "Commute
    # trip minutes" survive; "来自IP", "IP地址", "Source IP" and "ip_address" do not.
    r"(?<![a-z])(?:ip(?:v[46])?|e-?mail|phone|mobile|full ?name|real ?name)(?![a-z])"
    # Chinese labels of personal fields; 微信 alone would also hit questions about WeChat use.
    r"|手机|电话|身份证|姓名|邮箱|电子邮件|昵称|提交人|填写人"
    r"|微信(?:号|名|账号|open ?id|union ?id)",
    re.IGNORECASE,
)
"""Headers of personal-data columns dropped as soon as a file is read.

IP address, phone, ID card, name, WeChat account or nickname, e-mail. English "name" alone is not
matched: "enterprise name" is an answer the survey needs.
"""


@dataclass(frozen=True)
class RaggedRow:
    """A CSV row whose cell count differs from the header's.

    Parameters
    ----------
    row
        1-based data row (header rows excluded, blank rows counted).
    line
        Line of the file the row starts on.
    cell_count
        Cells the row has.
    cells
        Its cells as read, in the order of ``RawSurvey.frame``'s columns (personal-data
        columns left out), then any cells beyond the header's width.
    """

    row: int
    line: int
    cell_count: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class RawSurvey:
    """A survey file's cells as text, before mapping.

    Parameters
    ----------
    file_name
        Name of the uploaded file.
    frame
        One column per (unique) header, one row per non-blank data row, every cell text.
    source_rows
        1-based data-row number of each row of ``frame`` (header rows excluded, blank rows
        counted), as a spreadsheet user finds it.
    issues
        Problems found while reading (blank rows, a second header row, dropped columns).
    dropped_columns
        Personal-data columns removed on reading.
    encoding
        Detected text encoding (``"xlsx"`` for workbooks).
    header_rows
        1 or 2.
    ragged
        CSV rows whose cell count differs from the header's (rejected on import).
    blank_rows
        Blank data rows skipped (each reported in ``issues``).
    layout
        The export layout told from the headers (``retention.survey.layouts``).
    template_targets
        The ParkLife template's English target per column of ``frame`` (empty otherwise).
    """

    file_name: str
    frame: pd.DataFrame
    source_rows: tuple[int, ...]
    issues: tuple[SurveyIssue, ...]
    dropped_columns: tuple[str, ...]
    encoding: str
    header_rows: int
    ragged: tuple[RaggedRow, ...] = ()
    blank_rows: int = 0
    layout: SurveyLayout = field(default_factory=lambda: SurveyLayout("unknown"))
    template_targets: tuple[str, ...] = ()

    @property
    def headers(self) -> tuple[str, ...]:
        """Column headers in file order."""
        return tuple(str(c) for c in self.frame.columns)


@dataclass(frozen=True)
class SurveyImport:
    """Result of importing one survey file.

    Parameters
    ----------
    survey
        Valid rows in the canonical schema (``retention.survey.schema``).
    issues
        Every problem found, in file order; ``rejected`` says whether it dropped the row.
    rejected
        Rejected rows: data row, reasons, and the original cells (personal columns removed).
    links
        Link table for enterprises and residences (``retention.survey.link.LINK_COLUMNS`` plus
        ``layer``): fuzzy matches await confirmation there.
    mapping
        The column mapping used.
    rows_read
        Non-blank data rows in the file.
    header_rows, encoding
        As read (``RawSurvey``).
    notes
        One line per personal-data column dropped on reading, naming it.
    blank_rows
        Blank data rows skipped: ``len(survey) + len(rejected) + blank_rows`` is every data
        row of the file.
    layout
        The export layout told from the headers.
    values
        The value map used.
    """

    survey: pd.DataFrame
    issues: tuple[SurveyIssue, ...]
    rejected: pd.DataFrame
    links: pd.DataFrame
    mapping: ColumnMapping
    rows_read: int
    header_rows: int = 1
    encoding: str = ""
    notes: tuple[str, ...] = field(default=())
    blank_rows: int = 0
    layout: SurveyLayout = field(default_factory=lambda: SurveyLayout("unknown"))
    values: ValueMap = field(default_factory=ValueMap)


# ---------------------------------------------------------------------------------------------
# Reading bytes
# ---------------------------------------------------------------------------------------------


def decode_text(data: bytes, *, file_name: str) -> tuple[str, str]:
    """Decode CSV bytes as UTF-16 (with its BOM), UTF-8 (with or without BOM) or GBK/GB18030,
    never a mix.

    Assumes lines end in ``\\n`` (GBK never uses byte 0x0A inside a character, so splitting
    the raw bytes on it is safe). A file in which some lines are UTF-8 and others GBK is
    rejected, naming the first line and byte offset in the minority encoding.

    Returns
    -------
    tuple[str, str]
        The text and the encoding name (``utf-8``, ``utf-8-sig`` or ``gb18030``).

    Raises
    ------
    FileFormatError
        Mixed encodings, or bytes valid in neither encoding (naming line and byte offset).
    """
    utf16 = utf16_text(data, file_name=file_name)
    if utf16 is not None:
        return utf16
    refuse_nul_bytes(data, file_name=file_name)
    body, encoding = (data[3:], "utf-8-sig") if data.startswith(_UTF8_BOM) else (data, "utf-8")
    offset = len(data) - len(body)
    utf8_lines: list[tuple[int, int]] = []  # (line number, byte offset of its first non-ASCII)
    other_lines: list[tuple[int, int]] = []
    for number, line in enumerate(body.split(b"\n"), start=1):
        if any(b >= 0x80 for b in line):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                other_lines.append((number, offset + exc.start))
            else:
                first = next(i for i, b in enumerate(line) if b >= 0x80)
                utf8_lines.append((number, offset + first))
        offset += len(line) + 1
    if utf8_lines and other_lines:
        utf8_first = utf8_lines[0][0] < other_lines[0][0]
        minority, majority, kind = (
            (other_lines, utf8_lines, "not UTF-8 (GBK?)")
            if len(other_lines) <= len(utf8_lines)
            else (utf8_lines, other_lines, "UTF-8")
        )
        line_number, byte_offset = minority[0]
        first_kind = "UTF-8" if utf8_first else "GBK"
        raise FileFormatError(
            f"mixed encodings: line {line_number} (byte offset {byte_offset}) is {kind} while "
            f"line {majority[0][0]} is {'not UTF-8' if kind == 'UTF-8' else 'UTF-8'} (the "
            f"file starts as {first_kind}); expected one encoding for the whole file — re-save "
            "it as UTF-8 (CSV UTF-8 in Excel)",
            file=file_name,
        )
    if not other_lines:
        return body.decode("utf-8"), encoding
    try:
        return body.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        position = exc.start + (len(data) - len(body))
        line_number = data[:position].count(b"\n") + 1
        raise FileFormatError(
            f"byte offset {position} (line {line_number}) is neither UTF-8 nor GBK/GB18030; "
            "expected a CSV saved as UTF-8 or GBK",
            file=file_name,
        ) from exc


def _csv_rows(text: str, *, file_name: str) -> tuple[list[list[str]], list[int]]:
    """Return the CSV's rows and the line each starts on (a quoted cell may span lines)."""
    delimiter = sniff_delimiter(text)
    records = csv_records(text, delimiter=delimiter, file_name=file_name)
    return [row for _, row in records], [line for line, _ in records]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_rows(data: bytes, *, file_name: str) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files; all mean the same
        raise FileFormatError(
            f"not a readable XLSX workbook ({type(exc).__name__}: {exc})", file=file_name
        ) from exc
    try:
        if not book.worksheets:
            raise FileFormatError("workbook has no sheets", file=file_name)
        sheet = book.worksheets[0]
        try:
            return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        except Exception as exc:  # corrupt sheet XML surfaces only while iterating
            raise FileFormatError(
                f"first sheet cannot be read ({type(exc).__name__}: {exc})", file=file_name
            ) from exc
    finally:
        book.close()


def read_survey_file(data: bytes, *, file_name: str) -> RawSurvey:
    """Read a survey export (CSV or XLSX bytes) into text cells.

    Assumes the first non-blank row is the header row; a second header row (option texts under
    merged question cells, as Wenjuanxing's two-row layout has) is detected and merged into
    ``question(option)`` headers. Personal-data columns (IP, phone, ID card) are dropped at once.

    Parameters
    ----------
    data
        File contents.
    file_name
        Name used in messages; ``.xlsx`` / ``.csv`` / ``.txt`` (the content decides, not the name).

    Returns
    -------
    RawSurvey
        Text cells with data-row numbers and reading issues.

    Raises
    ------
    FileFormatError
        Empty file, old ``.xls`` workbook, unreadable workbook, mixed or unknown encoding.
    """
    if not data or not data.strip():
        raise FileFormatError("file is empty; expected a survey export", file=file_name)
    # Size, and below XLSX extents / CSV rows, are checked before anything is parsed.
    check_upload_size(data, file_name=file_name)
    if data.startswith(_OLE_MAGIC):
        raise FileFormatError(
            "old Excel .xls workbook; expected .xlsx or CSV — open it in Excel/WPS and save as "
            ".xlsx",
            file=file_name,
        )
    if data.startswith(_ZIP_MAGIC):
        check_xlsx(data, file_name=file_name)
        rows, encoding = _xlsx_rows(data, file_name=file_name), "xlsx"
        lines = None
    else:
        check_csv_rows(data, file_name=file_name)
        text, encoding = decode_text(data, file_name=file_name)
        rows, csv_lines = _csv_rows(text, file_name=file_name)
        lines = csv_lines
    return _table_from_rows(rows, file_name=file_name, encoding=encoding, lines=lines)


def _is_blank(row: Sequence[str]) -> bool:
    return all(not str(cell).strip() for cell in row)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _second_header(header: list[str], candidate: list[str]) -> bool:
    """Return whether ``candidate`` (the row after the header) is a second header row."""
    if _is_blank(candidate):
        return False
    meta = [i for i, h in enumerate(header) if h.strip() in _META_HEADERS]
    if meta:
        # Every real response has a response number and a submission time.
        return all(not candidate[i].strip() for i in meta)
    under_blank = [i for i, h in enumerate(header) if not h.strip() and candidate[i].strip()]
    return bool(under_blank) and not any(_looks_numeric(candidate[i]) for i in under_blank)


def _template_row(candidate: list[str]) -> bool:
    """Return whether the row under the header is the ParkLife template's English targets."""
    cells = [c.strip() for c in candidate if c.strip()]
    return bool(cells) and all(c in MAPPING_TARGETS for c in cells) and len(cells) >= 2


def _table_from_rows(
    rows: list[list[str]], *, file_name: str, encoding: str, lines: list[int] | None = None
) -> RawSurvey:
    """Turn rows of cells into a ``RawSurvey``.

    ``lines`` (CSV only) is the file line each row starts on; a CSV row whose cell count differs
    from the header's is rejected and reported with that line, never padded or cut. Workbook
    rows have the sheet's width and are padded.
    """
    issues: list[SurveyIssue] = []
    line_of = list(lines) if lines is not None else list(range(1, len(rows) + 1))
    while rows and _is_blank(rows[0]):
        rows, line_of = rows[1:], line_of[1:]
    title = title_cell(rows[0], rows[1]) if len(rows) > 1 else None
    if title is not None:
        rows, line_of = rows[1:], line_of[1:]
        issues.append(SurveyIssue(file_name, None, "", "", title_note(title), rejected=False))
    if not rows:
        raise FileFormatError("file has no header row; expected question headers", file=file_name)
    header_width = len(rows[0])
    width = header_width if lines is not None else max(len(r) for r in rows)
    cells_read = [len(r) for r in rows]
    original = [[str(c) for c in r] for r in rows]
    rows = [[str(c) for c in r][:width] + [""] * (width - len(r)) for r in rows]
    header = [h.strip() for h in rows[0]]
    header_rows = 1
    template_targets: tuple[str, ...] = ()
    if len(rows) > 1 and _template_row(rows[1]):
        template_targets = tuple(c.strip() or IGNORE for c in rows[1])
        header_rows = 2
        issues.append(
            SurveyIssue(
                file_name,
                None,
                "",
                "",
                "ParkLife template: the second header row (English targets) sets the mapping",
                rejected=False,
            )
        )
    elif len(rows) > 1 and _second_header(header, rows[1]):
        header = _merge_headers(header, rows[1])
        header_rows = 2
        issues.append(
            SurveyIssue(
                file_name,
                None,
                "",
                "",
                "one header row: a second header row (option texts) was found and merged into "
                "question(option) headers",
                rejected=False,
            )
        )
    layout = detect_layout(header, header_rows=header_rows, template=bool(template_targets))
    header = _unique_headers(header)
    body = rows[header_rows:]
    body_cells = cells_read[header_rows:]
    body_lines = line_of[header_rows:]
    keep_rows: list[list[str]] = []
    numbers: list[int] = []
    ragged: list[RaggedRow] = []
    for index, row in enumerate(body):
        number = index + 1
        if _is_blank(row) and (lines is None or body_cells[index] <= header_width):
            issues.append(
                SurveyIssue(
                    file_name, number, "", "", "a response (blank row skipped)", rejected=False
                )
            )
            continue
        if lines is not None and body_cells[index] != header_width:
            ragged.append(
                RaggedRow(
                    number,
                    body_lines[index],
                    body_cells[index],
                    tuple(original[header_rows + index]),
                )
            )
            issues.append(
                SurveyIssue(
                    file_name,
                    number,
                    "",
                    f"{body_cells[index]} cells",
                    f"{header_width} cells on line {body_lines[index]}, as many as the header "
                    "has (a cell with an unquoted comma or a lost cell shifts every answer "
                    "after it); row rejected",
                )
            )
            continue
        keep_rows.append(row)
        numbers.append(number)
    # Trailing columns with neither header nor data are spreadsheet noise.
    used = [
        i
        for i, h in enumerate(header)
        if not h.startswith("_column_") or any(r[i].strip() for r in keep_rows)
    ]
    frame = pd.DataFrame(
        [[r[i] for i in used] for r in keep_rows],
        columns=[header[i] for i in used],
        dtype="object",
    )
    if frame.empty and not len(frame.columns):
        frame = pd.DataFrame(columns=[header[i] for i in used], dtype="object")
    dropped = tuple(c for c in frame.columns if PERSONAL_HEADER_PATTERN.search(str(c)))
    # A ragged row's cells are lined up with the columns kept (personal columns left out) and
    # its cells beyond the header's width follow them.
    kept_positions = [i for i in used if header[i] not in dropped]
    ragged = [
        RaggedRow(
            r.row,
            r.line,
            r.cell_count,
            (
                *(r.cells[i] for i in kept_positions if i < len(r.cells)),
                *r.cells[header_width:],
            ),
        )
        for r in ragged
    ]
    if dropped:
        frame = frame.drop(columns=list(dropped))
        issues.append(
            SurveyIssue(
                file_name,
                None,
                ", ".join(dropped),
                "",
                "no personal data: the column(s) were dropped on reading",
                rejected=False,
            )
        )
    return RawSurvey(
        file_name=file_name,
        frame=frame.reset_index(drop=True),
        source_rows=tuple(numbers),
        issues=tuple(issues),
        dropped_columns=dropped,
        encoding=encoding,
        header_rows=header_rows,
        ragged=tuple(ragged),
        blank_rows=len(body) - len(keep_rows) - len(ragged),
        layout=layout,
        template_targets=tuple(
            t for t, h in zip(template_targets, header, strict=False) if h in set(frame.columns)
        )
        if template_targets
        else (),
    )


def _merge_headers(first: list[str], second: list[str]) -> list[str]:
    merged: list[str] = []
    current = ""
    for top, sub in zip(first, second, strict=True):
        top, sub = top.strip(), sub.strip()
        if top:
            current = top
        question = top or current
        if sub and sub != question:
            stem = parse_header(question)
            base = question if not stem.option else question[: question.rfind("(")]
            merged.append(f"{base}({sub})")
        else:
            merged.append(question)
    return merged


def _unique_headers(header: list[str]) -> list[str]:
    return unique_headers(header, repeat="{name} [{occurrence}]", blank="_column_{position}")


# ---------------------------------------------------------------------------------------------
# Import pipeline
# ---------------------------------------------------------------------------------------------


def suggest_for(raw: RawSurvey) -> ColumnMapping:
    """Return the mapping to propose for a file: its template row's targets, else a suggestion.

    A ParkLife template names each column's target in its second header row; those are taken
    as they are (score 100, unknown names as ``ignore``). Any other file gets
    ``retention.survey.mapping.suggest_mapping`` of its headers.
    """
    if raw.template_targets:
        targets = [t if t in MAPPING_TARGETS else IGNORE for t in raw.template_targets]
        seen: set[str] = set()
        unique = []
        for target in targets:
            unique.append(IGNORE if target in seen and target != IGNORE else target)
            seen.add(target)
        return ColumnMapping(raw.headers, tuple(unique), tuple(100.0 for _ in unique))
    return suggest_mapping(raw.headers)


def import_survey(
    raw: RawSurvey,
    mapping: ColumnMapping | None = None,
    *,
    enterprises: pd.DataFrame,
    residences: pd.DataFrame | None = None,
    salt: bytes,
    wave: str,
    link_parameters: LinkParameters | None = None,
    enterprise_overrides: Mapping[str, str] | None = None,
    residence_overrides: Mapping[str, str] | None = None,
    values: ValueMap | None = None,
) -> SurveyImport:
    """Convert, pseudonymise, link and validate a survey file; keep the valid rows.

    Assumes ``enterprises`` (and ``residences``) are the park's layers with ``id`` and ``name``.
    A row is rejected when a cell cannot be read, its enterprise is unknown, its respondent id
    repeats an earlier row's, or a required answer is missing. An unknown residence only blanks
    ``residence_id`` (a warning): the answer is still usable for enterprise-level analysis.

    Parameters
    ----------
    raw
        Output of ``read_survey_file``.
    mapping
        Column mapping; ``None`` uses ``suggest_mapping(raw.headers)``.
    enterprises, residences
        Layers to link answers to.
    salt
        Pseudonymisation key of the park (``retention.survey.privacy.load_or_create_salt``).
    wave
        Wave label stored in every row (unless a wave column is mapped).
    link_parameters
        Fuzzy-match threshold and residence distance (default ``LinkParameters()``).
    enterprise_overrides, residence_overrides
        User confirmations from the link table: answer → id (``""`` = unmatched).
    values
        The user's codes for answer texts (``retention.survey.coding``); ``None`` reads
        answers with the built-in dictionaries only.

    Returns
    -------
    SurveyImport
        Valid rows, issues, rejected rows and link table.

    Raises
    ------
    ValidationError
        A required question is not mapped, or the wave label is empty.
    """
    if not str(wave).strip():
        raise ValidationError("wave label is empty; expected e.g. '2024-spring'", column="wave")
    mapping = mapping if mapping is not None else suggest_for(raw)
    link_parameters = link_parameters if link_parameters is not None else LinkParameters()
    file = raw.file_name
    unmapped = [t for t in REQUIRED_TARGETS if mapping.column_for(t) is None]
    if unmapped:
        raise ValidationError(
            f"required question{'s' if len(unmapped) > 1 else ''} "
            f"{'; '.join(REQUIRED_TARGETS[t] for t in unmapped)} not found: no column is mapped "
            f"to {', '.join(repr(t) for t in unmapped)}; {layout_hint(raw.layout)}",
            file=file,
            column=", ".join(unmapped),
        )
    mapped = apply_mapping(
        raw.frame, mapping, file=file, source_rows=raw.source_rows, values=values
    )
    frame = mapped.frame.copy()
    issues = list(mapped.issues)
    bad = set(mapped.bad_rows)
    rows = list(raw.source_rows)

    # Pseudonymise first; the raw id column never leaves this function.
    per_wave = bool(frame["raw_id_is_per_wave"].iloc[0]) if len(frame) else False
    raw_ids = [
        None if v is None else (f"{wave}\x1f{v}" if per_wave else v) for v in frame["raw_id"]
    ]
    frame["respondent_id"] = pseudonymise_ids(raw_ids, salt=salt)
    frame = frame.drop(columns=["raw_id", "raw_id_is_per_wave"])

    enterprise_column = mapping.column_for("enterprise") or "enterprise"
    links = link_names(
        frame["enterprise"].tolist(),
        enterprises,
        layer="enterprises",
        parameters=link_parameters,
        overrides=enterprise_overrides,
    )
    links.insert(0, "layer", "enterprises")
    enterprise_ids = dict(zip(links["value"], links["matched_id"], strict=True))
    best = dict(zip(links["value"], links["matched_name"], strict=True))
    scores = dict(zip(links["value"], links["score"], strict=True))
    ids: list[str | None] = []
    for position, value in enumerate(frame["enterprise"].tolist()):
        text = None if value is None else str(value).strip()
        matched = enterprise_ids.get(text) if text else None
        if text and matched is None:
            bad.add(position)
            hint = (
                f" (closest: {best[text]!r}, score {scores[text]:.0f} < "
                f"{link_parameters.min_name_score:.0f})"
                if best.get(text)
                else ""
            )
            issues.append(
                SurveyIssue(
                    file,
                    rows[position],
                    enterprise_column,
                    text,
                    f"an enterprise id or name from the enterprises layer{hint}",
                )
            )
        ids.append(matched)
    frame["enterprise_id"] = ids
    frame = frame.drop(columns=["enterprise"])

    residence_ids: list[str | None] = [None] * len(frame)
    if residences is not None and "residence" in frame.columns:
        residence_column = mapping.column_for("residence") or "residence"
        res_links = link_names(
            frame["residence"].tolist(),
            residences,
            layer="residences",
            parameters=link_parameters,
            overrides=residence_overrides,
        )
        res_links.insert(0, "layer", "residences")
        links = pd.concat([links, res_links], ignore_index=True)
        matched_res = dict(zip(res_links["value"], res_links["matched_id"], strict=True))
        for position, value in enumerate(frame["residence"].tolist()):
            text = None if value is None else str(value).strip()
            if not text:
                continue
            residence_ids[position] = matched_res.get(text)
            if residence_ids[position] is None:
                issues.append(
                    SurveyIssue(
                        file,
                        rows[position],
                        residence_column,
                        text,
                        "a residence id or name from the residences layer (left blank)",
                        rejected=False,
                    )
                )
    if residences is not None and {"longitude", "latitude"} <= set(frame.columns):
        near = link_coordinates(
            frame["longitude"].tolist(),
            frame["latitude"].tolist(),
            residences,
            parameters=link_parameters,
        )
        for position, residence_id in enumerate(near["residence_id"]):
            if residence_ids[position] is None and residence_id is not None:
                residence_ids[position] = residence_id
    frame["residence_id"] = residence_ids
    frame = frame.drop(columns=[c for c in ("residence", "longitude", "latitude") if c in frame])
    if "wave" not in frame.columns:
        frame["wave"] = str(wave)
    else:
        frame["wave"] = [str(wave) if v is None else v for v in frame["wave"]]
    if "reasons" not in frame.columns:
        frame["reasons"] = pd.Series([[] for _ in range(len(frame))], dtype="object")

    # Rows already known bad are validated too, so every problem in them is reported at once.
    valid, row_issues = validate_survey_frame(
        frame[[c for c in SURVEY_COLUMNS if c in frame.columns]],
        file=file,
        source_rows=rows,
    )
    row_to_position = {row: position for position, row in enumerate(rows)}
    # A cell already reported as unreadable is not reported again as "missing".
    reported = {(i.row, i.column) for i in issues}
    source_column = {"enterprise_id": "enterprise", "residence_id": "residence"}
    for issue in row_issues:
        bad.add(row_to_position[issue.row])  # type: ignore[index]
        target = source_column.get(issue.column, issue.column)
        issue_column = mapping.column_for(target) or issue.column
        if (issue.row, issue_column) in reported:
            continue
        if issue.column == "respondent_id":
            issue_column = (
                mapping.column_for("respondent_id")
                or mapping.column_for("response_number")
                or issue.column
            )
            # Never echo the pseudonym (or the raw id) back: the row number locates it.
            issue = SurveyIssue(issue.file, issue.row, issue_column, "", issue.expected)
        else:
            issue = SurveyIssue(issue.file, issue.row, issue_column, issue.value, issue.expected)
        issues.append(issue)
    keep = np.array([p not in bad for p in range(len(frame))], dtype=bool)
    kept_ids = set(frame.loc[keep, "respondent_id"].dropna()) if len(frame) else set()
    survey = valid[valid["respondent_id"].isin(kept_ids)].reset_index(drop=True)
    # validate_survey_frame keeps the first of two duplicates even when that row was bad for
    # another reason; the position filter above is the authority.
    survey = survey.drop_duplicates("respondent_id").reset_index(drop=True)
    all_issues = sorted([*raw.issues, *issues], key=lambda i: i.row if i.row is not None else 0)
    rejected = _rejected_table(raw, sorted(bad), all_issues)
    return SurveyImport(
        blank_rows=raw.blank_rows,
        layout=raw.layout,
        values=values if values is not None else ValueMap(),
        survey=survey,
        issues=tuple(all_issues),
        rejected=rejected,
        links=links.reset_index(drop=True),
        mapping=mapping,
        rows_read=len(raw.frame) + len(raw.ragged),
        header_rows=raw.header_rows,
        encoding=raw.encoding,
        notes=tuple(
            f"personal-data column {column!r} was dropped on reading and is never stored"
            for column in raw.dropped_columns
        ),
    )


def _rejected_table(
    raw: RawSurvey, positions: Sequence[int], issues: Sequence[SurveyIssue]
) -> pd.DataFrame:
    reasons: dict[int, list[str]] = {}
    for issue in issues:
        if issue.row is not None and issue.rejected:
            detail = f"{issue.column}: {issue.value!r} — expected {issue.expected}"
            reasons.setdefault(issue.row, []).append(detail)
    rows = [raw.source_rows[p] for p in positions]
    table = raw.frame.iloc[list(positions)].copy()
    table.insert(0, "reasons", ["; ".join(reasons.get(r, [])) for r in rows])
    table.insert(0, "row", rows)
    if raw.ragged:
        # Cells of a ragged row go under the headers in order; cells beyond the header's
        # width are kept, joined, in extra_cells, so nothing the user uploaded is lost.
        columns = list(raw.frame.columns)
        extra = []
        for ragged in raw.ragged:
            record: dict[str, object] = dict(
                zip(columns, ragged.cells[: len(columns)], strict=False)
            )
            record["row"] = ragged.row
            record["reasons"] = "; ".join(reasons.get(ragged.row, []))
            record["extra_cells"] = " | ".join(ragged.cells[len(columns) :])
            extra.append(record)
        table["extra_cells"] = ""
        table = pd.concat([table, pd.DataFrame(extra)], ignore_index=True)
        table = table.sort_values("row", kind="stable")
        table = table[["row", "reasons", *columns, "extra_cells"]].fillna("")
        table["row"] = table["row"].astype("int64")
    return table.reset_index(drop=True)


def issues_frame(issues: Sequence[SurveyIssue]) -> pd.DataFrame:
    """Return issues as a table: file, row, column, value, expected, rejected."""
    return pd.DataFrame(
        [(i.file, i.row, i.column, i.value, i.expected, i.rejected) for i in issues],
        columns=["file", "row", "column", "value", "expected", "rejected"],
    ).astype({"row": "Int64", "rejected": "bool"})


def rejected_rows_csv(result: SurveyImport) -> bytes:
    """Return the rejected rows with their reasons as UTF-8-BOM CSV (Excel opens it in Chinese).

    These are the user's own uploaded rows handed back for correction, not an aggregate; the
    personal-data columns were already removed on reading.
    """
    return csv_bytes(result.rejected)


def rejected_rows_xlsx(result: SurveyImport) -> bytes:
    """Return the rejected rows and the full issue list as an XLSX workbook (two sheets).

    Cells a spreadsheet would run as a formula are neutralised (``retention.safe_cells``).
    """
    return xlsx_bytes({"rejected_rows": result.rejected, "issues": issues_frame(result.issues)})
