"""Validate a layer file the way the Data page does, for ``validate`` and ``import``."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from retention.cli._arguments import coordinate_system, layer_kind, load_park, read_input
from retention.cli._command import CliError, Context, ExitCode
from retention.cli._output import check_writable, write_bytes, write_csv
from retention.errors import ValidationError
from retention.i18n import label, t

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from retention.data.columns import LayerColumnMapping
    from retention.data.crs import CoordinateSystem
    from retention.data.layers import LayerKind
    from retention.data.validate import LayerValidation
    from retention.storage.park import ParkData

REPORT_SUFFIXES = (".csv", ".xlsx")


@dataclass(frozen=True)
class CheckedFile:
    """A file validated as one layer of a park (or of no park)."""

    path: Path
    kind: LayerKind
    system: CoordinateSystem
    park: ParkData | None
    validation: LayerValidation

    @property
    def warnings(self) -> int:
        """Number of warnings (rows kept)."""
        issues = self.validation.issues
        return int((issues["severity"] == "warning").sum()) if "severity" in issues else 0


def _saved_mapping(
    park: ParkData, kind: LayerKind, frame: gpd.GeoDataFrame, context: Context
) -> LayerColumnMapping | None:
    """Return the column mapping saved on the Data page for this file layout, if any.

    ``None`` lets the validator suggest one from the headers, as the Data page does.
    """
    from retention.storage.mappings import MappingStore

    headers = [str(column) for column in frame.columns if column != frame.geometry.name]
    mappings = MappingStore(context.store().records)
    saved = mappings.load_layer_mapping(park.park_id, kind.value, headers)
    if saved is not None:
        context.note(t("cli.validate.saved_mapping", context.lang))
    return saved


def _park_or_new(park_id: str, context: Context, *, allow_new: bool) -> ParkData | None:
    """Return the park; ``None`` for an id not yet used when ``allow_new`` (a new park)."""
    from retention.storage.layout import check_park_id
    from retention.storage.park import list_parks

    if allow_new and park_id not in list_parks(uploads=context.store().uploads):
        try:
            check_park_id(park_id)
        except ValidationError as error:
            raise CliError(
                t("cli.error.park_id", context.lang, park=park_id),
                code=ExitCode.UNKNOWN_PARK,
                detail=str(error),
            ) from None
        return None
    return load_park(park_id, context)


def check_file(
    args: argparse.Namespace, context: Context, *, allow_new_park: bool = False
) -> CheckedFile:
    """Read ``args.file`` and validate it as ``args.kind`` in ``args.crs`` for ``args.park``.

    With a park, rows far outside its extent and ids already in it are rejected, as on the Data
    page; without one (or for a new park, ``allow_new_park``) those two checks are skipped.

    Raises
    ------
    CliError
        Unknown kind, system or park; the file missing, unreadable or unusable as a whole.
    """
    from retention.data.io import read_layer
    from retention.data.validate import validate_layer
    from retention.pipeline import park_extent

    kind = layer_kind(args.kind, context)
    system = coordinate_system(args.crs, context)
    park = _park_or_new(args.park, context, allow_new=allow_new_park) if args.park else None
    data = read_input(args.file, context)
    try:
        raw = read_layer(data, file_name=args.file.name, layer=args.layer)
        validation = validate_layer(
            raw.frame,
            kind,
            source_name=args.file.name,
            coordinate_system=system,
            park_boundary=None if park is None else park_extent(park),
            existing_keys=() if park is None else park.layer_keys(kind),
            mapping=None if park is None else _saved_mapping(park, kind, raw.frame, context),
        )
    except ValidationError as error:
        from retention.report.issue_text import translate_issue_text

        raise CliError(
            t("cli.error.file", context.lang, path=str(args.file)),
            code=ExitCode.INPUT,
            detail=translate_issue_text(str(error), context.lang),
        ) from None
    return CheckedFile(args.file, kind, system, park, validation)


def add_report_options(parser: argparse.ArgumentParser, lang: str) -> None:
    """Add ``--rejected-out``, ``--issues-out`` and ``--max-issues``."""
    parser.add_argument(
        "--rejected-out", type=Path, metavar="FILE", help=t("cli.arg.rejected_out", lang)
    )
    parser.add_argument(
        "--issues-out", type=Path, metavar="FILE", help=t("cli.arg.issues_out", lang)
    )
    parser.add_argument(
        "--max-issues",
        type=int,
        default=20,
        metavar="N",
        help=t("cli.arg.max_issues", lang),
    )


def check_report_paths(args: argparse.Namespace, context: Context) -> None:
    """Fail early (exit code ``OUTPUT``) when a report file cannot be written."""
    for path in (args.rejected_out, args.issues_out):
        if path is not None:
            check_writable(path, context, suffixes=REPORT_SUFFIXES)


def _write_table(table: pd.DataFrame, path: Path, context: Context, *, sheet: str) -> None:
    if path.suffix.lower() == ".csv":
        write_csv(table, path, context)
        return
    from retention.data.io import table_to_xlsx_bytes

    write_bytes(table_to_xlsx_bytes(table, sheet_name=sheet), path, context)


def issue_line(issue: dict[str, object], lang: str) -> str:
    """Return one issue as one line: severity, row, column and the message, in ``lang``."""
    from retention.report.issue_text import translate_issue_text

    def present(value: object) -> bool:
        return value is not None and value == value and str(value) != ""

    parts = [t(f"cli.severity.{issue.get('severity', 'error')}", lang)]
    if present(issue.get("row")):
        parts.append(t("cli.issue.row", lang, row=int(issue["row"])))  # type: ignore[call-overload]
    if present(issue.get("column")):
        parts.append(t("cli.issue.column", lang, column=issue["column"]))
    message = translate_issue_text(str(issue.get("message", "")), lang)
    return "  " + " · ".join(parts) + t("cli.issue.colon", lang) + message


def print_report(checked: CheckedFile, args: argparse.Namespace, context: Context) -> None:
    """Print the Data page's report (counts, issues) and save the requested report files."""
    lang = context.lang
    validation = checked.validation
    context.say(
        t(
            "cli.validate.summary",
            lang,
            file=str(checked.path),
            layer=label("layer", checked.kind.value, lang),
            system=t(f"common.crs.{checked.system.value}", lang),
            valid=len(validation.valid),
            rejected=len(validation.rejected),
            warnings=checked.warnings,
        )
    )
    if checked.park is None:
        context.note(t("cli.validate.no_park", lang))
    issues = validation.issues
    if issues.empty:
        context.say(t("cli.validate.all_valid", lang))
    else:
        shown = issues.head(max(args.max_issues, 0))
        for issue in shown.to_dict("records"):
            context.say(issue_line(issue, lang))
        if len(issues) > len(shown):
            context.say(t("cli.validate.more_issues", lang, count=len(issues) - len(shown)))
    from retention.auth.export_audit import record_export  # the store: not for --help

    for what, table, path, sheet in (
        ("layer_rejected_rows", validation.rejected, args.rejected_out, "rejected"),
        ("layer_issues", issues, args.issues_out, "issues"),
    ):
        if path is None:
            continue
        _write_table(table, path, context, sheet=sheet)
        record_export(  # as the Data page's downloads of the same tables
            context.data_dir, context.scope, what, path.name, park_id=args.park or "",
            kind=checked.kind.value, rows=len(table),
        )  # fmt: skip
        context.note(t("cli.saved", lang, path=str(path)))
