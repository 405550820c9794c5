"""``parklife users add|remove|list``: accounts of the app, from the server's command line.

The first admin is created here, before anyone can sign in::

    parklife users add ana --role admin
    parklife users add hr-e1 --role hr --enterprise E1 --enterprise E7

The password is asked twice on the terminal, or read from standard input with
``--password-stdin`` (scripts). Accounts live in the store (``retention.auth.accounts``: the
accounts file, or the database with ``$PARKLIFE_DATABASE_URL``); every change is in the audit
log. Once accounts exist, only an admin (``--user NAME``) may change them — or the operator in
single-user mode (``PARKLIFE_AUTH=local``); the first admin is attributed to ``cli``
(``retention.auth.deployment``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from retention.auth.roles import Permission, parse_role
from retention.cli._command import CliError, Command, Context, ExitCode
from retention.cli._output import format_table
from retention.i18n import t


def _configure(parser: argparse.ArgumentParser, lang: str) -> None:
    actions = parser.add_subparsers(dest="users_action", required=True, metavar="add|remove|list")
    # The CLI's parsers speak the user's language and write to the given streams: pass those on.
    streams: dict[str, Any] = {
        "lang": lang,
        "out": getattr(parser, "out", None),
        "err": getattr(parser, "err", None),
    }
    add = actions.add_parser("add", help=t("cli.users.add", lang), **streams)
    add.add_argument("name", help=t("cli.users.arg.name", lang))
    add.add_argument("--role", required=True, type=parse_role, help=t("cli.users.arg.role", lang))
    add.add_argument(
        "--enterprise", action="append", default=[], help=t("cli.users.arg.enterprise", lang)
    )
    add.add_argument(
        "--password-stdin", action="store_true", help=t("cli.users.arg.password_stdin", lang)
    )
    add.add_argument("--replace", action="store_true", help=t("cli.users.arg.replace", lang))
    remove = actions.add_parser("remove", help=t("cli.users.remove", lang), **streams)
    remove.add_argument("name", help=t("cli.users.arg.name", lang))
    actions.add_parser("list", help=t("cli.users.list", lang), **streams)


def _password(from_stdin: bool, lang: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(t("cli.users.prompt", lang))
    if getpass.getpass(t("cli.users.prompt_again", lang)) != first:
        raise CliError(t("cli.users.mismatch", lang), code=ExitCode.USAGE)
    return first


def _run(args: argparse.Namespace, context: Context) -> int:
    from retention.auth import accounts, audit  # the store: not needed for --help

    path = accounts.accounts_path(context.data_dir)
    where = accounts.describe_location(path)
    lang = context.lang
    if args.users_action == "add":
        scope = accounts.add_user(
            path,
            args.name,
            _password(args.password_stdin, lang),
            role=args.role,
            enterprise_ids=args.enterprise,
            replace=args.replace,
        )
        audit.record(
            context.data_dir,
            context.scope,
            audit.AuditAction.USER_ADD,
            detail={
                "name": scope.user,
                "role": scope.role.value,
                "enterprise_ids": list(scope.enterprise_ids),
            },
        )
        context.say(t("cli.users.saved", lang, name=scope.user, role=scope.role.value, path=where))
    elif args.users_action == "remove":
        accounts.remove_user(path, args.name)
        audit.record(
            context.data_dir,
            context.scope,
            audit.AuditAction.USER_REMOVE,
            detail={"name": args.name},
        )
        context.say(t("cli.users.removed", lang, name=args.name, path=where))
    else:
        rows = [
            [name, account.scope.role.value, ", ".join(account.scope.enterprise_ids)]
            for name, account in sorted(accounts.load_accounts(path).items())
        ]
        headers = [t(f"cli.users.col.{c}", lang) for c in ("name", "role", "enterprises")]
        context.say(format_table(headers, rows))
    return ExitCode.OK


COMMAND = Command(
    name="users", configure=_configure, run=_run, order=90, permission=Permission.MANAGE_USERS
)
