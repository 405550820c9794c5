"""The pseudonymisation key: kept outside the data directory, created once, atomically.

What is kept and why
--------------------
* **The key** (32 random bytes per park) turns a respondent's raw id into a pseudonym with
  HMAC-SHA256 (``retention.survey.privacy.pseudonymise_ids``), so the same person has the same
  pseudonym in the next wave and waves can be linked. Anyone holding the key *and* the raw ids of
  a platform export can re-identify rows, so the key never sits beside the survey data: it lives
  in a secrets directory (``$PARKLIFE_SECRETS_DIR``, default ``$XDG_CONFIG_HOME/parklife`` or
  ``~/.config/parklife``), which must not be inside ``PARKLIFE_DATA_DIR``, as one file per park,
  ``pseudonym-<park id>.key``, mode 0600 in a 0700 folder. A copy or backup of the data directory
  therefore carries no key. Losing the key only means the next wave's pseudonyms no longer match
  earlier ones.
* Alternatively the deployment gives one master key in ``$PARKLIFE_PSEUDONYM_KEY`` (at least 32
  hexadecimal digits, i.e. 16 bytes); each park's key is then derived from it (HMAC-SHA256 of the
  park id), nothing is written, and parks still cannot be cross-linked.
* **Not kept**: raw respondent ids, IP addresses, names, phone numbers (dropped on reading, see
  ``retention.survey.importer``); the submission *time* — only the day is stored
  (``retention.survey.schema``), since a time to the second is nearly unique and links a row back
  to the platform export.

Creation is atomic: under the secrets folder's lock (``.lock``, ``flock``) the key is written to a
private temporary file, flushed to disk (fsync) and then published with a hard link, which fails
if the key file already exists. Two processes racing to create the key therefore end with the
same key (the loser reads the winner's), a reader never sees an empty or half-written file, and
a temporary file a killed creator left behind is removed by the next reader or creator. A key
file also carries a check value, so a damaged one is refused with its path instead of being used.

A salt from earlier versions (``survey_salt.hex`` beside the data) is moved into the secrets
directory on first use, keeping every pseudonym, and deleted from the data directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

from retention.errors import ParameterError

SECRETS_DIR_ENV = "PARKLIFE_SECRETS_DIR"
KEY_ENV = "PARKLIFE_PSEUDONYM_KEY"
KEY_BYTES = 32
MIN_KEY_BYTES = 16
LEGACY_SALT_FILE = "survey_salt.hex"
_FORMAT = "parklife-pseudonym-key-v1"
_TEMP_PREFIX = ".pseudonym-"
_PARK_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def default_secrets_dir() -> Path:
    """Return ``$PARKLIFE_SECRETS_DIR``, else ``$XDG_CONFIG_HOME/parklife``, else
    ``~/.config/parklife``."""
    configured = os.environ.get(SECRETS_DIR_ENV)
    if configured:
        return Path(configured)
    config_home = os.environ.get("XDG_CONFIG_HOME")
    base = Path(config_home) if config_home else Path.home() / ".config"
    return base / "parklife"


def key_path(park_id: str, *, secrets_dir: Path) -> Path:
    """Return the file holding ``park_id``'s key inside ``secrets_dir``."""
    if not isinstance(park_id, str) or not _PARK_ID.fullmatch(park_id):
        raise ParameterError(
            f"park id {park_id!r} is not allowed; expected 1-64 lowercase letters, digits, "
            "'_' or '-', starting with a letter or digit",
            column="park_id",
        )
    return Path(secrets_dir) / f"pseudonym-{park_id}.key"


def load_or_create_salt(park_id: str, *, data_dir: Path, secrets_dir: Path | None = None) -> bytes:
    """Return the park's pseudonymisation key, creating it once on first use.

    Order: the park's key file in the secrets directory; else a legacy ``survey_salt.hex`` in the
    data directory, moved into the secrets directory; else a key derived from
    ``$PARKLIFE_PSEUDONYM_KEY``; else a new random key, created atomically.

    Parameters
    ----------
    park_id
        Park whose key to return; one key per park so parks cannot be cross-linked.
    data_dir
        The ParkLife data directory (``PARKLIFE_DATA_DIR``); only searched for a legacy salt.
    secrets_dir
        Where key files live; defaults to :func:`default_secrets_dir`. Must not be inside
        ``data_dir``.

    Returns
    -------
    bytes
        The key.

    Raises
    ------
    ParameterError
        If the secrets directory is inside the data directory, a key file is damaged, or
        ``$PARKLIFE_PSEUDONYM_KEY`` is not at least 32 hexadecimal digits.
    """
    directory = Path(secrets_dir) if secrets_dir is not None else default_secrets_dir()
    _require_outside(directory, Path(data_dir))
    path = key_path(park_id, secrets_dir=directory)
    legacy = _legacy_salt_path(park_id, Path(data_dir))
    if path.exists():
        key = _read_key(path)
        _remove_temporary_files(path.parent)
    elif legacy is not None:
        key = _publish(path, _read_legacy_salt(legacy))
    else:
        key = None
    if legacy is not None and key is not None and _read_legacy_salt(legacy) == key:
        legacy.unlink(missing_ok=True)  # the key file holds it now; no key beside the data
    if key is not None:
        return key
    master = os.environ.get(KEY_ENV)
    if master:
        return _derived_key(master, park_id)
    return _publish(path, secrets.token_bytes(KEY_BYTES))


def _require_outside(secrets_dir: Path, data_dir: Path) -> None:
    secrets_resolved = secrets_dir.expanduser().resolve()
    data_resolved = data_dir.expanduser().resolve()
    if secrets_resolved == data_resolved or data_resolved in secrets_resolved.parents:
        raise ParameterError(
            f"the secrets directory {str(secrets_dir)!r} is inside the data directory "
            f"{str(data_dir)!r}; expected a folder outside it (set {SECRETS_DIR_ENV}), so that a "
            "copy of the data carries no pseudonymisation key",
            column=SECRETS_DIR_ENV,
        )


def _derived_key(master_hex: str, park_id: str) -> bytes:
    try:
        master = bytes.fromhex(master_hex.strip())
    except ValueError as exc:
        raise ParameterError(
            f"{KEY_ENV} is not hexadecimal; expected at least {2 * MIN_KEY_BYTES} hex digits",
            column=KEY_ENV,
        ) from exc
    if len(master) < MIN_KEY_BYTES:
        raise ParameterError(
            f"{KEY_ENV} holds {len(master)} bytes; expected at least {MIN_KEY_BYTES} "
            f"({2 * MIN_KEY_BYTES} hex digits)",
            column=KEY_ENV,
        )
    return hmac.new(master, f"{_FORMAT}\x00{park_id}".encode(), hashlib.sha256).digest()


def _encode(key: bytes) -> bytes:
    check = hashlib.sha256(key).hexdigest()[:16]
    return f"{_FORMAT} {key.hex()} {check}\n".encode("ascii")


def _read_key(path: Path) -> bytes:
    if path.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):
            path.chmod(0o600)  # copied in with wider permissions: make it private again
    text = path.read_bytes().decode("ascii", errors="replace")
    parts = text.split()
    if len(parts) == 3 and parts[0] == _FORMAT and text.endswith("\n"):
        with contextlib.suppress(ValueError):
            key = bytes.fromhex(parts[1])
            if len(key) >= MIN_KEY_BYTES and hashlib.sha256(key).hexdigest()[:16] == parts[2]:
                return key
    raise ParameterError(
        "the pseudonymisation key file is damaged (empty, cut short or edited); restore it from "
        "a backup, or delete it to start a new pseudonym series (earlier waves then no longer "
        "link to new ones)",
        file=str(path),
    )


def _publish(path: Path, key: bytes) -> bytes:
    """Create ``path`` holding ``key`` unless it exists; return the key the file holds.

    Runs under the secrets folder's lock, which every creator holds while its temporary file
    exists, so temporary files a killed creator left behind are removed first.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _folder_lock(path.parent):
        _unlink_temporary_files(path.parent)
        if path.exists():
            return _read_key(path)
        descriptor, temporary = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(descriptor, "wb") as handle:  # mkstemp: O_CREAT|O_EXCL, mode 0600
                handle.write(_encode(key))
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, path)  # atomic: fails if the key was published meanwhile
            except FileExistsError:
                return _read_key(path)
            _fsync_directory(path.parent)
            return key
        finally:
            Path(temporary).unlink(missing_ok=True)


def _remove_temporary_files(folder: Path) -> None:
    """Remove the temporary files of creators killed before they cleaned up (under the lock:
    a live creator holds it while its temporary file exists)."""
    if any(folder.glob(f"{_TEMP_PREFIX}*")):
        with _folder_lock(folder):
            _unlink_temporary_files(folder)


def _unlink_temporary_files(folder: Path) -> None:
    """Remove every temporary key file in ``folder``; the caller holds the folder's lock."""
    for stale in folder.glob(f"{_TEMP_PREFIX}*"):
        stale.unlink(missing_ok=True)


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder/.lock`` (released when the process dies)."""
    descriptor = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _legacy_salt_path(park_id: str, data_dir: Path) -> Path | None:
    for folder in (data_dir / park_id, data_dir / "parks" / park_id):
        candidate = folder / LEGACY_SALT_FILE
        if candidate.is_file():
            return candidate
    return None


def _read_legacy_salt(path: Path) -> bytes:
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        salt = bytes.fromhex(text)
    except ValueError as exc:
        raise ParameterError(
            f"the old salt file is not hexadecimal ({exc}); delete it to start a new pseudonym "
            "series",
            file=str(path),
        ) from exc
    if len(salt) < MIN_KEY_BYTES:
        raise ParameterError(
            f"the old salt file holds {len(salt)} bytes; expected at least {MIN_KEY_BYTES}",
            file=str(path),
        )
    return salt
