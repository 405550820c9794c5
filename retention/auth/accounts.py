"""The accounts: user names, roles, HR enterprise scopes and scrypt password hashes.

Where: with the PostgreSQL store (``$PARKLIFE_DATABASE_URL``) a deployment-wide record of the
database (``retention.storage.records``, kind ``users``); with the file store the file
``$PARKLIFE_ACCOUNTS_FILE`` if set, else ``<data dir>/accounts.json``. Either way the accounts
are one versioned record: every change reads it, changes it and saves it only if nobody saved
in between (the file store under the folder's lock, atomically, earlier versions kept; the
database in one transaction under the deployment's lock), and is redone on the new version
otherwise, so two admins adding users at once both succeed and nothing is lost. The file and
its kept copies are written with mode 0600 (owner read/write only), and the file is refused
when it is readable by group or others — it holds password hashes. Passwords
are hashed with scrypt from the standard library (``hashlib.scrypt``; N = 2**14, r = 8, p = 1,
a 16-byte random salt per password, RFC 7914 parameters for interactive logins); a hash is
``scrypt$N$r$p$<salt hex>$<key hex>`` so stronger parameters can be introduced later.

The first admin is created from the command line (no sign-in exists yet)::

    python -m retention.auth users add NAME --role admin

Layout of the record's payload (a file of the older layout holds just this, and is read as
version 0 and replaced by the next change)::

    {"format": 1, "users": {"ana": {"role": "hr", "enterprise_ids": ["E1"],
                                    "password": "scrypt$16384$8$1$..."}}}
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retention.auth.roles import Role, UserScope
from retention.errors import (
    AuthenticationError,
    SchemaVersionError,
    StaleVersionError,
    ValidationError,
)
from retention.storage.layout import configured_database_url
from retention.storage.records import USERS, FileRecord, Record
from retention.storage.store import shared_store

ACCOUNTS_FILE = "accounts.json"
ACCOUNTS_ENV = "PARKLIFE_ACCOUNTS_FILE"
ACCOUNTS_FORMAT = 1
FILE_MODE = 0o600
SCRYPT_N = 2**14  # RFC 7914 section 2: 2**14 for interactive logins
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
MIN_PASSWORD_LENGTH = 10
ACCOUNTS_KEY = "accounts"
"""Key of the accounts record (kind ``users``, deployment-wide)."""
SAVE_ATTEMPTS = 20
"""How often a change is redone on a newer version before giving up (concurrent admins)."""
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-@")


def accounts_path(data_dir: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Return the accounts file: ``$PARKLIFE_ACCOUNTS_FILE`` or ``<data_dir>/accounts.json``."""
    env = os.environ if environ is None else environ
    configured = env.get(ACCOUNTS_ENV)
    return Path(configured) if configured else Path(data_dir) / ACCOUNTS_FILE


def hash_password(password: str) -> str:
    """Return the scrypt hash of ``password`` with a fresh random salt (module docstring)."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=KEY_BYTES
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${key.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Return whether ``password`` matches a hash from :func:`hash_password` (constant time)."""
    parts = str(stored).split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, expected = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
    except ValueError:
        return False
    key = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=len(expected),
        maxmem=256 * 1024 * 1024,
    )
    return hmac.compare_digest(key, expected)


@dataclass(frozen=True)
class Account:
    """One account as stored (the password only as its hash)."""

    scope: UserScope
    password_hash: str


def check_user_name(name: str) -> str:
    """Return ``name`` if it is a valid account name (lower-case letters, digits, ``._-@``)."""
    text = str(name).strip()
    if not text or len(text) > 64 or not set(text) <= _NAME_CHARS:
        raise ValidationError(
            f"account name {name!r} is not valid; expected 1-64 lower-case letters, digits or "
            "'._-@'",
            column="name",
        )
    return text


def _check_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ValidationError(
            f"accounts file is readable by others (mode {mode:04o}); expected mode 0600 "
            f"(run: chmod 600 {path})",
            file=str(path),
        )


class _StoredAccounts:
    """The accounts record: the database's when a database URL is configured, else the file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.file: FileRecord | None = None
        if not configured_database_url():
            self.file = FileRecord(
                self.path, root=self.path.parent, park_id=None, kind=USERS, key=ACCOUNTS_KEY,
                private=True, legacy=_legacy_document,
            )  # fmt: skip

    def get(self) -> Record | None:
        if self.file is None:
            try:
                records = shared_store(self.path.parent).records
            except SchemaVersionError as error:
                if error.found > error.needed:
                    raise
                # An older schema: the accounts still authorise 'parklife db upgrade'.
                from retention.storage.postgres import record_before_upgrade

                url = configured_database_url()
                return record_before_upgrade(url, None, USERS, ACCOUNTS_KEY)
            return records.get(None, USERS, ACCOUNTS_KEY)
        if self.path.exists():
            _check_mode(self.path)
        return self.file.get()

    def put(self, document: dict[str, Any], *, expected_version: int) -> None:
        if self.file is None:
            records = shared_store(self.path.parent).records
            records.put(None, USERS, ACCOUNTS_KEY, document, expected_version=expected_version)
        else:
            self.file.put(document, expected_version=expected_version)


def describe_location(path: Path) -> str:
    """Return where the accounts are kept, for messages: the file, or the database (no
    password)."""
    if configured_database_url():
        return shared_store(Path(path).parent).describe()
    return str(path)


def _legacy_document(body: Any) -> Any:
    """The accounts file of the older layout: the document itself, without a version."""
    return body if isinstance(body, dict) and {"format", "users"} <= set(body) else None


def _parse(document: Any, where: Path) -> dict[str, Account]:
    try:
        users = document["users"]
        if document.get("format") != ACCOUNTS_FORMAT or not isinstance(users, dict):
            raise KeyError("format")
        accounts = {}
        for name, entry in users.items():
            scope = UserScope(
                check_user_name(name),
                Role(entry["role"]),
                tuple(entry.get("enterprise_ids", ())),
            )
            accounts[name] = Account(scope, str(entry["password"]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValidationError(
            f"not a ParkLife accounts record ({exc}); expected "
            '{"format": 1, "users": {name: {"role", "enterprise_ids", "password"}}}',
            file=str(where),
        ) from exc
    return accounts


def _document(accounts: Mapping[str, Account]) -> dict[str, Any]:
    return {
        "format": ACCOUNTS_FORMAT,
        "users": {
            name: {
                "role": account.scope.role.value,
                "enterprise_ids": list(account.scope.enterprise_ids),
                "password": account.password_hash,
            }
            for name, account in sorted(accounts.items())
        },
    }


def load_accounts(path: Path) -> dict[str, Account]:
    """Return the accounts (none if none are saved yet).

    Parameters
    ----------
    path
        :func:`accounts_path` (the file store's file; with a database it names only where its
        folder is).

    Raises
    ------
    ValidationError
        If the file is readable by group or others, or the record is not an accounts record.
    DamagedFileError
        If the file cannot be read (it is moved to quarantine; restore the last good copy).
    """
    stored = _StoredAccounts(path).get()
    return {} if stored is None else _parse(stored.payload, Path(path))


def _change(path: Path, change: Callable[[dict[str, Account]], None]) -> None:
    """Apply ``change`` to the stored accounts and save them, redone on a newer version."""
    book = _StoredAccounts(path)
    for _ in range(SAVE_ATTEMPTS):
        stored = book.get()
        accounts = {} if stored is None else _parse(stored.payload, Path(path))
        change(accounts)
        try:
            book.put(_document(accounts), expected_version=0 if stored is None else stored.version)
            return
        except StaleVersionError:
            continue  # another admin saved in between: redo the change on their version
    raise StaleVersionError(
        f"the accounts were changed {SAVE_ATTEMPTS} times while this change was being saved; "
        "try again (nothing was overwritten)",
        stored_version=0,
    )


def add_user(
    path: Path,
    name: str,
    password: str,
    *,
    role: Role,
    enterprise_ids: Sequence[str] = (),
    replace: bool = False,
) -> UserScope:
    """Add an account (or, with ``replace``, change an existing one's role and password).

    Raises
    ------
    ValidationError
        Invalid name, a password shorter than ``MIN_PASSWORD_LENGTH``, an HR user without
        enterprises, or an existing account without ``replace``.
    """
    name = check_user_name(name)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"password for {name!r} has {len(password)} characters; expected at least "
            f"{MIN_PASSWORD_LENGTH}",
            column="password",
        )
    scope = UserScope(name, role, tuple(enterprise_ids))
    account = Account(scope, hash_password(password))

    def add(accounts: dict[str, Account]) -> None:
        if name in accounts and not replace:
            raise ValidationError(
                f"account {name!r} already exists; expected a new name (or replace it)",
                column="name",
            )
        accounts[name] = account

    _change(path, add)
    return scope


def remove_user(path: Path, name: str) -> None:
    """Remove an account; refuses to remove the last admin (nobody could manage accounts)."""

    def remove(accounts: dict[str, Account]) -> None:
        if name not in accounts:
            raise ValidationError(f"no account {name!r}; expected an existing name", column="name")
        admins = [a for a in accounts.values() if a.scope.role is Role.ADMIN]
        if accounts[name].scope.role is Role.ADMIN and len(admins) == 1:
            raise ValidationError(
                f"{name!r} is the last admin; expected another admin to exist first",
                column="name",
            )
        del accounts[name]

    _change(path, remove)


def authenticate(path: Path, name: str, password: str) -> UserScope:
    """Return the scope of the account ``name`` if ``password`` is its password.

    Raises
    ------
    AuthenticationError
        Unknown name or wrong password (the message does not say which). A password is hashed
        even for an unknown name, so timing does not tell them apart either.
    """
    accounts = load_accounts(path)
    account = accounts.get(str(name).strip())
    stored = account.password_hash if account is not None else _DUMMY_HASH
    if not verify_password(password, stored) or account is None:
        raise AuthenticationError("unknown user or wrong password")
    return account.scope


_DUMMY_HASH = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${'00' * SALT_BYTES}${'00' * KEY_BYTES}"
