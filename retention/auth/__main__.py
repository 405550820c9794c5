"""``python -m retention.auth users add|remove|list``: manage accounts from the command line.

The first admin is created here, before anyone can sign in::

    python -m retention.auth users add ana --role admin
    python -m retention.auth users add hr-e1 --role hr --enterprise E1 --enterprise E7

The password is asked twice on the terminal (or read from standard input with
``--password-stdin``, for scripts). Every change is recorded in the audit log.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from retention.auth import accounts, audit
from retention.auth.roles import Role, UserScope, parse_role
from retention.errors import ParkLifeError

REPO = Path(__file__).resolve().parents[2]
CLI_USER = UserScope("cli", Role.ADMIN)
"""Who the audit log names for changes made on the server's command line."""


def default_data_dir() -> Path:
    """Return ``$PARKLIFE_DATA_DIR`` or ``<repo>/data`` (as the app does)."""
    configured = os.environ.get("PARKLIFE_DATA_DIR")
    return Path(configured) if configured else REPO / "data"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ParkLifeError("the two passwords differ; nothing was changed")
    return first


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``users`` command."""
    parser = argparse.ArgumentParser(prog="python -m retention.auth")
    parser.add_argument("--data-dir", type=Path, default=None, help="ParkLife data directory")
    commands = parser.add_subparsers(dest="group", required=True)
    users = commands.add_parser("users", help="manage accounts").add_subparsers(
        dest="action", required=True
    )
    add = users.add_parser("add", help="add an account (or --replace one)")
    add.add_argument("name")
    add.add_argument("--role", required=True, type=parse_role, help="admin, planner, hr, viewer")
    add.add_argument("--enterprise", action="append", default=[], help="hr: an enterprise id")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--replace", action="store_true", help="change an existing account")
    remove = users.add_parser("remove", help="remove an account")
    remove.add_argument("name")
    users.add_parser("list", help="list accounts (names, roles, enterprises)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the process exit code (0 success, 2 refused)."""
    args = build_parser().parse_args(argv)
    data_dir = args.data_dir if args.data_dir is not None else default_data_dir()
    path = accounts.accounts_path(data_dir)
    try:
        if args.action == "add":
            scope = accounts.add_user(
                path,
                args.name,
                _password(args.password_stdin),
                role=args.role,
                enterprise_ids=args.enterprise,
                replace=args.replace,
            )
            audit.record(
                data_dir,
                CLI_USER,
                audit.AuditAction.USER_ADD,
                detail={
                    "name": scope.user,
                    "role": scope.role.value,
                    "enterprise_ids": list(scope.enterprise_ids),
                },
            )
            print(f"{scope.user}: {scope.role.value} saved in {path}")
        elif args.action == "remove":
            accounts.remove_user(path, args.name)
            audit.record(
                data_dir, CLI_USER, audit.AuditAction.USER_REMOVE, detail={"name": args.name}
            )
            print(f"{args.name}: removed from {path}")
        else:
            for name, account in sorted(accounts.load_accounts(path).items()):
                ids = ",".join(account.scope.enterprise_ids)
                print(f"{name}\t{account.scope.role.value}\t{ids}")
    except ParkLifeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
