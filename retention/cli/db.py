"""``parklife db upgrade`` (create or migrate the PostgreSQL schema) and ``parklife db migrate
--from file --to URL`` (move parks between stores with a row-count and checksum report)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from retention.auth.roles import Permission
from retention.cli._command import CliError, Command, Context, ExitCode
from retention.i18n import t


def _configure(parser: argparse.ArgumentParser, lang: str) -> None:
    actions = parser.add_subparsers(dest="db_action", required=True, metavar="ACTION")
    # Nested parsers speak the same language and write to the same streams as this one.
    same: dict[str, Any] = {
        "lang": lang,
        "out": getattr(parser, "out", None),
        "err": getattr(parser, "err", None),
    }
    upgrade = actions.add_parser("upgrade", help=t("cli_store.db.upgrade_help", lang), **same)
    upgrade.add_argument("--database-url", metavar="URL", help=t("cli_store.db.url_help", lang))
    migrate = actions.add_parser("migrate", help=t("cli_store.db.migrate_help", lang), **same)
    migrate.add_argument("--from", dest="source", required=True, metavar="STORE",
                         help=t("cli_store.db.from_help", lang))  # fmt: skip
    migrate.add_argument("--to", dest="target", required=True, metavar="STORE",
                         help=t("cli_store.db.to_help", lang))  # fmt: skip
    migrate.add_argument(
        "--park", action="append", metavar="ID", help=t("cli_store.db.park_help", lang)
    )


def _run(args: argparse.Namespace, context: Context) -> int:
    if args.db_action == "upgrade":
        return _upgrade(args, context)
    return _migrate(args, context)


def _upgrade(args: argparse.Namespace, context: Context) -> int:
    from retention.errors import StoreConfigurationError
    from retention.storage.layout import DATABASE_URL_ENV
    from retention.storage.postgres import upgrade

    url = args.database_url or os.environ.get(DATABASE_URL_ENV, "")
    if not url:
        raise CliError(t("cli_store.db.no_url", context.lang), code=ExitCode.USAGE)
    try:
        before, after = upgrade(url)
    except StoreConfigurationError as error:
        raise CliError(
            t("cli_store.store.unusable", context.lang), code=ExitCode.DATA, detail=str(error)
        ) from None
    context.say(t("cli_store.db.upgraded", context.lang, before=before, after=after))
    return ExitCode.OK


def _migrate(args: argparse.Namespace, context: Context) -> int:
    from retention.cli._stores import print_transfer, store_named
    from retention.errors import ValidationError
    from retention.storage.transfer import copy_deployment, copy_park, park_contents

    source = store_named(args.source, context)
    target = store_named(args.target, context)
    parks = args.park or source.park_ids()
    if not parks and args.park is None and not source.records.list_records(None, "users"):
        context.say(t("cli_store.db.nothing", context.lang))
        return ExitCode.OK
    worst = ExitCode.OK
    for park_id in parks:
        if args.park is None and not any(n for n, _ in park_contents(source, park_id).values()):
            continue  # only computed results (the results cache): nothing of the park to move
        try:
            report = copy_park(source, target, park_id)
        except ValidationError as error:
            raise CliError(
                t("cli_store.db.migrate_failed", context.lang, park=park_id),
                code=ExitCode.DATA,
                detail=str(error),
            ) from None
        worst = max(worst, ExitCode(print_transfer(report, context)))
    if args.park is None:  # the whole store moves: its accounts and other audit events too
        try:
            report = copy_deployment(source, target, parks=parks)
        except ValidationError as error:
            raise CliError(
                t("cli_store.db.deployment_failed", context.lang),
                code=ExitCode.DATA,
                detail=str(error),
            ) from None
        worst = max(worst, ExitCode(print_transfer(report, context)))
    return worst


COMMAND = Command(
    name="db",
    configure=_configure,
    run=_run,
    order=80,
    texts="cli_store",
    permission=Permission.MOVE_PARKS,
)
