"""``parklife validate FILE --kind K --crs C``: the Data page's row-by-row report, nothing stored.

Exit code 0 when every row is valid (warnings allowed), 1 when some rows are rejected.
"""

from __future__ import annotations

import argparse

from retention.auth.roles import Permission
from retention.cli._arguments import add_crs, add_input_file, add_kind, add_layer, add_park
from retention.cli._command import Command, Context, ExitCode
from retention.cli._layers import add_report_options, check_file, check_report_paths, print_report


def _configure(parser: argparse.ArgumentParser, lang: str) -> None:
    add_input_file(parser, lang)
    add_kind(parser, lang)
    add_crs(parser, lang)
    add_park(parser, lang, required=False)
    add_layer(parser, lang)
    add_report_options(parser, lang)


def _run(args: argparse.Namespace, context: Context) -> int:
    check_report_paths(args, context)
    checked = check_file(args, context)
    print_report(checked, args, context)
    return ExitCode.REJECTED_ROWS if len(checked.validation.rejected) else ExitCode.OK


COMMAND = Command(
    name="validate", configure=_configure, run=_run, order=20, permission=Permission.ADD_UPLOAD
)
