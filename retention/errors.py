"""Exception classes raised at ParkLife's public boundaries.

Every error names what was wrong (the file, row, column or field) and what was expected, so that
a planner can fix the input without reading code.
"""

from __future__ import annotations


class ParkLifeError(Exception):
    """Base class for every error ParkLife raises on purpose."""


class ValidationError(ParkLifeError, ValueError):
    """Input data does not match what a layer, survey or parameter requires.

    Parameters
    ----------
    message
        Human-readable explanation naming the field and what was expected.
    file
        Name of the file the problem was found in, if any.
    row
        1-based data row (as a spreadsheet user counts it, header excluded), if any.
    column
        Column or field name, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        where = ", ".join(
            part
            for part in (
                f"file {file!r}" if file else "",
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class MissingColumnsError(ValidationError):
    """A file lacks columns its layer requires; ``fields`` names every one of them.

    Parameters
    ----------
    message
        Human-readable explanation naming the fields and the headers accepted for each.
    file
        Name of the file.
    kind
        The layer (or ``"survey"``) the file was read as.
    fields
        Canonical names of the missing fields, in spec order.
    """

    def __init__(
        self, message: str, *, file: str | None = None, kind: str, fields: tuple[str, ...]
    ) -> None:
        self.kind = kind
        self.fields = fields
        super().__init__(message, file=file, column=", ".join(fields))


class FileFormatError(ValidationError):
    """A file cannot be read at all: unknown format, wrong encoding, empty or corrupt."""


class CoordinateSystemError(ValidationError):
    """A coordinate system is unknown or coordinates are impossible in the stated system."""


class ParameterError(ValidationError):
    """A planning parameter is out of its valid range or has the wrong type."""


class UnknownParkError(ParkLifeError, KeyError):
    """A park id is not in the data directory or the bundled demo data."""


class ScenarioError(ValidationError):
    """A scenario modification is invalid for the park (the scenario is left unchanged)."""


class AccessDeniedError(ParkLifeError, PermissionError):
    """The signed-in user's role or enterprise scope does not allow what was asked.

    The message names the user, their role and the action or enterprise refused.
    """


class AuthenticationError(ParkLifeError):
    """A sign-in failed: unknown user or wrong password (the message does not say which)."""


class StaleVersionError(ParkLifeError):
    """A save was based on an older version of a stored record than the one now stored.

    Nothing was written: the stored record is kept as it is, and the caller still holds its
    edit, so the user can reload and apply the change again.

    Parameters
    ----------
    message
        Which record, the version the save was based on and the version now stored.
    stored_version
        The version now stored (0 when the record has been deleted).
    """

    def __init__(self, message: str, *, stored_version: int) -> None:
        self.stored_version = stored_version
        super().__init__(message)


class DamagedFileError(ParkLifeError):
    """A stored file cannot be read (truncated, garbled, missing); it was moved to quarantine.

    Parameters
    ----------
    message
        What is wrong with the file and what the user can do (restore, remove).
    file
        The damaged file, relative to the data directory.
    quarantined_to
        Where the damaged bytes were moved (relative to the data directory), if they existed.
    """

    def __init__(self, message: str, *, file: str, quarantined_to: str | None = None) -> None:
        self.file = file
        self.quarantined_to = quarantined_to
        super().__init__(f"file {file!r}: {message}")


class StoreConfigurationError(ParkLifeError):
    """The storage setting (data directory or database URL) is unusable."""


class SchemaVersionError(StoreConfigurationError):
    """The database's ParkLife schema is older (or newer) than this version of ParkLife needs.

    Parameters
    ----------
    message
        Names the database (no password), both versions and the command that upgrades it.
    found, needed
        The schema version in the database (0: none) and the one this code needs.
    """

    def __init__(self, message: str, *, found: int, needed: int) -> None:
        self.found = found
        self.needed = needed
        super().__init__(message)


class SnapshotWriteError(ParkLifeError, RuntimeError):
    """Writing a snapshot file in its worker process failed (``pipeline.snapshot_process``).

    Parameters
    ----------
    message
        Names the format and the worker's error type and message (or how the worker ended).
    detail
        The worker's traceback or last output, for the server log (not for visitors).
    """

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail
