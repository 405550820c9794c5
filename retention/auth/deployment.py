"""Single-user or shared deployment, and who a command-line call acts as.

The app and the ``parklife`` command decide the same way who is acting:

* ``PARKLIFE_AUTH=local`` is the explicit single-user mode (``make run`` sets it): one trusted
  person on their own machine, the ``local`` admin, with no sign-in.
* Otherwise a data directory whose accounts file holds accounts is a **shared deployment**: the
  app signs users in, and a command acting on the park's data names its account
  (``--user NAME`` or ``PARKLIFE_USER``, password from ``PARKLIFE_PASSWORD`` or a prompt). The
  command then reads and writes with that account's role and enterprise scope, exactly as the
  app does (``retention.auth.roles.UserScope`` in the run key and the stores).
* A data directory without accounts has nobody to name: the command line acts as the server's
  operator (``cli``, admin) — the only way to create the first admin.

This protects the data against a user of a shared deployment who runs ``parklife`` under their
own account; it is no barrier against someone who can read the data directory or set
``PARKLIFE_AUTH=local`` on the server (file permissions are: the accounts file is 0600).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from retention.auth import accounts
from retention.auth.roles import Role, UserScope
from retention.errors import AuthenticationError

AUTH_ENV = "PARKLIFE_AUTH"
"""``local`` turns on the single-user mode; any other value, or none, signs users in."""
LOCAL_MODE = "local"
USER_ENV = "PARKLIFE_USER"
"""The account a command-line call acts as (``--user`` wins)."""
PASSWORD_ENV = "PARKLIFE_PASSWORD"
"""The password of ``PARKLIFE_USER`` for scripts (else the command asks for it)."""
LOCAL_USER = UserScope("local", Role.ADMIN)
"""Who ``PARKLIFE_AUTH=local`` acts as: one trusted person on their own machine."""
OPERATOR = UserScope("cli", Role.ADMIN)
"""Who the command line acts as in a data directory without accounts (first admin, laptops)."""


class SignInRequiredError(AuthenticationError):
    """A shared deployment was asked to act without naming an account."""


def local_mode(environ: Mapping[str, str] | None = None) -> bool:
    """Return whether the explicit single-user mode is on (``PARKLIFE_AUTH=local``)."""
    env = os.environ if environ is None else environ
    return env.get(AUTH_ENV, "").strip().lower() == LOCAL_MODE


def shared(data_dir: Path) -> bool:
    """Return whether ``data_dir``'s accounts file holds any account (a shared deployment)."""
    return bool(accounts.load_accounts(accounts.accounts_path(data_dir)))


def command_line_user(
    data_dir: Path,
    *,
    name: str | None,
    password: str | None,
    environ: Mapping[str, str] | None = None,
) -> UserScope:
    """Return who a command-line call acts as (module docstring).

    Parameters
    ----------
    data_dir
        The data directory (its accounts file decides single-user or shared).
    name
        The account named with ``--user`` or ``PARKLIFE_USER`` (``None``: none named).
    password
        Its password (only read when ``name`` is given).
    environ
        Environment (default ``os.environ``) for ``PARKLIFE_AUTH``.

    Raises
    ------
    AuthenticationError
        Unknown account or wrong password.
    SignInRequiredError
        No account named in a shared deployment.
    """
    if local_mode(environ):
        return LOCAL_USER
    if name:
        return accounts.authenticate(
            accounts.accounts_path(data_dir), name, "" if password is None else password
        )
    if shared(data_dir):
        raise SignInRequiredError(
            f"the data directory {data_dir} has accounts (a shared deployment); expected an "
            f"account named with --user NAME or {USER_ENV}"
        )
    return OPERATOR
