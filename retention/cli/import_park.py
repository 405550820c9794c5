"""``parklife import-park FILE.zip``: check an exported archive's checksums, then add the park."""

from __future__ import annotations

import argparse
from pathlib import Path

from retention.auth.roles import Permission
from retention.cli._command import CliError, Command, Context, ExitCode
from retention.i18n import t


def _configure(parser: argparse.ArgumentParser, lang: str) -> None:
    parser.add_argument(
        "archive", type=Path, metavar="FILE", help=t("cli_store.import-park.file", lang)
    )


def _run(args: argparse.Namespace, context: Context) -> int:
    from retention.cli._stores import print_transfer
    from retention.errors import ValidationError
    from retention.storage.transfer import import_archive

    if not args.archive.is_file():
        raise CliError(
            t("cli_store.import-park.missing", context.lang, file=str(args.archive)),
            code=ExitCode.INPUT,
        )
    try:
        report = import_archive(args.archive, context.store())
    except ValidationError as error:
        raise CliError(
            t("cli_store.import-park.failed", context.lang), code=ExitCode.INPUT, detail=str(error)
        ) from None
    return print_transfer(report, context)


COMMAND = Command(
    name="import-park",
    configure=_configure,
    run=_run,
    order=93,
    texts="cli_store",
    permission=Permission.MOVE_PARKS,
)
