"""``parklife import FILE --park P --kind K --crs C``: add a file's valid rows to a park's store.

The same as the Data page's "Add valid rows": the file is validated against the park (extent,
ids already present), the report is printed, and the valid rows are stored as one upload that
every page (and ``parklife score``) then includes. Exit code 1 when some rows were rejected (the
valid ones are still added); nothing is stored when no row is valid.
"""

from __future__ import annotations

import argparse

from retention.auth.roles import Permission
from retention.cli._arguments import add_crs, add_input_file, add_kind, add_layer, add_park
from retention.cli._command import CliError, Command, Context, ExitCode
from retention.cli._layers import add_report_options, check_file, check_report_paths, print_report
from retention.cli._output import steps
from retention.i18n import t


def _configure(parser: argparse.ArgumentParser, lang: str) -> None:
    add_input_file(parser, lang)
    add_park(parser, lang)
    add_kind(parser, lang)
    add_crs(parser, lang)
    add_layer(parser, lang)
    add_report_options(parser, lang)
    parser.add_argument("--create", action="store_true", help=t("cli.import.create", lang))


def _run(args: argparse.Namespace, context: Context) -> int:

    lang = context.lang
    check_report_paths(args, context)
    with steps(context, 2) as progress:
        progress.step(t("cli.step.validate", lang))
        try:
            checked = check_file(args, context, allow_new_park=args.create)
        except CliError as error:
            if error.code is not ExitCode.UNKNOWN_PARK or args.create:
                raise
            hint = t("cli.import.create_hint", lang)
            raise CliError(
                f"{error.message} {hint}", code=error.code, detail=error.detail
            ) from None
        valid = checked.validation.valid
        upload_id = None
        if len(valid):
            progress.step(t("cli.step.store", lang))
            upload_id = context.store().uploads.add_upload(
                args.park,
                checked.kind,
                checked.validation,
                source_name=args.file.name,
                coordinate_system=checked.system,
                scope=context.scope,  # checked again by the store, named in the audit log
            )
    print_report(checked, args, context)
    if upload_id is None:
        context.say(t("cli.import.nothing", lang))
    else:
        park_name = checked.park.name(lang) if checked.park is not None else args.park
        context.say(
            t("cli.import.added", lang, count=len(valid), park=park_name, upload_id=upload_id)
        )
    return ExitCode.REJECTED_ROWS if len(checked.validation.rejected) else ExitCode.OK


COMMAND = Command(
    name="import", configure=_configure, run=_run, order=40, permission=Permission.ADD_UPLOAD
)
