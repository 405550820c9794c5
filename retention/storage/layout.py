"""Where ParkLife keeps its data: one setting, one folder layout, ids checked before use.

The data directory is ``$PARKLIFE_DATA_DIR`` (default ``<repo>/data``); every park lives in
``<data_dir>/parks/<park_id>/`` and deployment-wide records (users, audit log) in
``<data_dir>/deployment/``. A shared deployment sets ``$PARKLIFE_DATABASE_URL`` to a
``postgresql://`` URL instead (``retention.storage.store.open_store``).

Every id (park, record key, upload, wave) is checked against a pattern here before it becomes a
path or a query parameter, so no user text can name a file outside its folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from retention.errors import ValidationError

DATA_DIR_ENV = "PARKLIFE_DATA_DIR"
DATABASE_URL_ENV = "PARKLIFE_DATABASE_URL"
PARKS_FOLDER = "parks"
DEPLOYMENT_FOLDER = "deployment"

_PARK_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_NOTHING = re.compile(r"(?!)")  # matches no text (a key with '..')


def default_data_dir() -> Path:
    """Return ``$PARKLIFE_DATA_DIR`` if set, else ``<repo>/data`` (the one definition)."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "data"


def configured_database_url() -> str:
    """Return ``$PARKLIFE_DATABASE_URL`` (``""`` when unset: the file store)."""
    return os.environ.get(DATABASE_URL_ENV, "").strip()


def checked_name(
    value: str,
    pattern: re.Pattern[str],
    *,
    what: str,
    expected: str,
    column: str,
    problem: str = "is not allowed",
    error: type[ValidationError] = ValidationError,
) -> str:
    """Return ``value`` if it is text that ``pattern`` matches in full, else raise ``error``.

    The message names the value as ``what`` (``"park id"``), says ``problem`` and what was
    ``expected``; ``column`` is the error's field. Every id that becomes a path or a record key
    is checked here.
    """
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise error(f"{what} {value!r} {problem}; expected {expected}", column=column)
    return value


def check_park_id(park_id: str) -> str:
    """Return ``park_id`` if it is a safe folder name (lowercase letters, digits, ``_``, ``-``)."""
    return checked_name(
        park_id,
        _PARK_ID,
        what="park id",
        expected="1-64 lowercase letters, digits, '_' or '-', starting with a letter or digit",
        column="park_id",
    )


def check_key(key: str, *, field: str = "key") -> str:
    """Return ``key`` if it is a safe record key (letters, digits, ``_ . -``; no ``..``).

    Parameters
    ----------
    key
        A record key, upload id or wave id.
    field
        What the key is, for the error message (``"scenario id"``, ``"upload id"``).
    """
    pattern = _KEY if not (isinstance(key, str) and ".." in key) else _NOTHING
    return checked_name(
        key,
        pattern,
        what=field,
        expected="1-128 letters, digits, '_', '.' or '-', starting with a letter or digit and "
        "without '..'",
        column=field,
    )


def check_kind(kind: str) -> str:
    """Return a record kind (``"scenarios"``, ``"survey_mappings"``) if it is a safe name."""
    return checked_name(
        kind,
        _KIND,
        what="record kind",
        expected="1-32 lowercase letters, digits or '_', starting with a letter",
        column="kind",
    )


def park_dir(data_dir: Path, park_id: str) -> Path:
    """Return ``<data_dir>/parks/<park_id>`` (the park id checked)."""
    return Path(data_dir) / PARKS_FOLDER / check_park_id(park_id)


def scope_dir(data_dir: Path, park_id: str | None) -> Path:
    """Return a park's folder, or the deployment folder for ``park_id=None``."""
    if park_id is None:
        return Path(data_dir) / DEPLOYMENT_FOLDER
    return park_dir(data_dir, park_id)


def scope_label(park_id: str | None) -> str:
    """Return ``"park 'x'"`` or ``"the deployment"`` for messages."""
    return "the deployment" if park_id is None else f"park {park_id!r}"
