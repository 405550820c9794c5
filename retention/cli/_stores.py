"""Naming a store on the command line (``file`` or a ``postgresql://`` URL) and printing a
transfer report (``db migrate``, ``export-park``, ``import-park``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from retention.cli._command import CliError, Context, ExitCode
from retention.cli._output import format_table
from retention.i18n import t

if TYPE_CHECKING:
    from retention.storage.store import Store
    from retention.storage.transfer import TransferReport


def store_named(name: str, context: Context) -> Store:
    """Return the file store (``file``) or the PostgreSQL store at a ``postgresql://`` URL."""
    from retention.errors import StoreConfigurationError
    from retention.storage.store import FileStore, open_store

    if name == "file":
        return FileStore(context.data_dir)
    if not name.startswith(("postgresql://", "postgres://")):
        raise CliError(t("cli_store.store.bad_name", context.lang, name=name), code=ExitCode.USAGE)
    try:
        return open_store(data_dir=context.data_dir, database_url=name)
    except StoreConfigurationError as error:
        raise CliError(
            t("cli_store.store.unusable", context.lang), code=ExitCode.DATA, detail=str(error)
        ) from None


def print_transfer(report: TransferReport, context: Context) -> int:
    """Print the part-by-part counts and checksums; return OK, or DATA if any part differs."""
    lang = context.lang
    headers = [
        t(f"cli_store.transfer.col.{c}", lang) for c in ("part", "source", "target", "sha256")
    ]
    rows = [
        [
            line.part,
            line.source_rows,
            line.target_rows,
            (line.target_sha256[:16] if line.matches else t("cli_store.transfer.differs", lang)),
        ]
        for line in report.lines
    ]
    context.say(format_table(headers, rows))
    park = report.park_id
    if report.ok:
        ok = "cli_store.transfer.ok" if park else "cli_store.transfer.deployment_ok"
        context.say(t(ok, lang, park=park))
        return ExitCode.OK
    differ = "cli_store.transfer.mismatch" if park else "cli_store.transfer.deployment_mismatch"
    context.say(t(differ, lang, park=park))
    return ExitCode.DATA
