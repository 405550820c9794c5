"""The accounts file: user names, roles, HR enterprise scopes and scrypt password hashes.

Where: ``$PARKLIFE_ACCOUNTS_FILE`` if set, else ``<data dir>/accounts.json``. The file is
written with mode 0600 (owner read/write only) through a temporary file renamed over the old
one, and refused when it is readable by group or others — it holds password hashes. Passwords
are hashed with scrypt from the standard library (``hashlib.scrypt``; N = 2**14, r = 8, p = 1,
a 16-byte random salt per password, RFC 7914 parameters for interactive logins); a hash is
``scrypt$N$r$p$<salt hex>$<key hex>`` so stronger parameters can be introduced later.

The first admin is created from the command line (no sign-in exists yet)::

    python -m retention.auth users add NAME --role admin

Layout of the file::

    {"format": 1, "users": {"ana": {"role": "hr", "enterprise_ids": ["E1"],
                                    "password": "scrypt$16384$8$1$..."}}}
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retention.auth.roles import Role, UserScope
from retention.errors import AuthenticationError, ValidationError

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


def load_accounts(path: Path) -> dict[str, Account]:
    """Return the accounts in ``path`` (none if the file does not exist yet).

    Raises
    ------
    ValidationError
        If the file is readable by group or others, or is not an accounts file.
    """
    path = Path(path)
    if not path.exists():
        return {}
    _check_mode(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        users = payload["users"]
        if payload.get("format") != ACCOUNTS_FORMAT or not isinstance(users, dict):
            raise KeyError("format")
        accounts = {}
        for name, entry in users.items():
            scope = UserScope(
                check_user_name(name),
                Role(entry["role"]),
                tuple(entry.get("enterprise_ids", ())),
            )
            accounts[name] = Account(scope, str(entry["password"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError(
            f"not a ParkLife accounts file ({exc}); expected "
            '{"format": 1, "users": {name: {"role", "enterprise_ids", "password"}}}',
            file=str(path),
        ) from exc
    return accounts


def _write_accounts(path: Path, accounts: Mapping[str, Account]) -> None:
    document: dict[str, Any] = {
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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    # Created 0600 from the start: the hashes are never readable by others, not even briefly.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
    accounts = load_accounts(path)
    if name in accounts and not replace:
        raise ValidationError(
            f"account {name!r} already exists; expected a new name (or replace it)",
            column="name",
        )
    accounts[name] = Account(scope, hash_password(password))
    _write_accounts(Path(path), accounts)
    return scope


def remove_user(path: Path, name: str) -> None:
    """Remove an account; refuses to remove the last admin (nobody could manage accounts)."""
    accounts = load_accounts(path)
    if name not in accounts:
        raise ValidationError(f"no account {name!r}; expected an existing name", column="name")
    admins = [a for a in accounts.values() if a.scope.role is Role.ADMIN]
    if accounts[name].scope.role is Role.ADMIN and len(admins) == 1:
        raise ValidationError(
            f"{name!r} is the last admin; expected another admin to exist first", column="name"
        )
    del accounts[name]
    _write_accounts(Path(path), accounts)


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
