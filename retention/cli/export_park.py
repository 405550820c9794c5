"""``parklife export-park ID --output FILE.zip``: one archive of a park (manifest + checksums)."""

from __future__ import annotations

import argparse
from pathlib import Path

from retention.auth.roles import Permission
from retention.cli._command import CliError, Command, Context, ExitCode
from retention.i18n import t


def _configure(parser: argparse.ArgumentParser, lang: str) -> None:
    parser.add_argument("park", metavar="ID", help=t("cli.arg.park", lang))
    parser.add_argument("--output", required=True, type=Path, metavar="FILE",
                        help=t("cli_store.export-park.output", lang))  # fmt: skip


def _run(args: argparse.Namespace, context: Context) -> int:
    from retention.auth.export_audit import record_export  # the store: not for --help
    from retention.cli._stores import print_transfer
    from retention.errors import ValidationError
    from retention.storage.transfer import export_archive

    try:
        report = export_archive(context.store(), args.park, args.output)
    except ValidationError as error:
        raise CliError(
            t("cli_store.export-park.failed", context.lang), code=ExitCode.DATA, detail=str(error)
        ) from None
    except OSError as error:
        raise CliError(
            t("cli_store.export-park.failed", context.lang), code=ExitCode.OUTPUT, detail=str(error)
        ) from None
    record_export(
        context.data_dir, context.scope, "park_archive", args.output.name, park_id=args.park
    )
    code = print_transfer(report, context)
    context.say(t("cli_store.export-park.written", context.lang, file=str(args.output)))
    return code


COMMAND = Command(
    name="export-park",
    configure=_configure,
    run=_run,
    order=92,
    texts="cli_store",
    permission=Permission.MOVE_PARKS,
)
