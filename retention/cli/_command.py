"""What a sub-command is, what it is given, and how it reports a user's mistake.

A sub-command module defines ``COMMAND = Command(...)``; :func:`discover_commands` imports every
public module of ``retention.cli`` and collects them. Modules import their heavy dependencies
(geopandas, the engine) inside ``run`` so that ``parklife --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from retention.errors import ParkLifeError


class ExitCode(IntEnum):
    """Exit codes of ``parklife``; the same for every sub-command (listed in ``--help``)."""

    OK = 0
    REJECTED_ROWS = 1  # validate/import: some rows were rejected (import still adds the valid ones)
    USAGE = 2  # missing or malformed arguments (argparse's convention)
    UNKNOWN_PARK = 3
    UNKNOWN_VALUE = 4  # unknown layer kind, coordinate system, time window, mode or format
    INPUT = 5  # the input file is missing or cannot be read as a layer
    OUTPUT = 6  # the output path cannot be written
    DATA = 7  # the park's stored data or saved parameters are invalid
    DENIED = 8  # no account named in a shared deployment, wrong password, or the role may not
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class CliError(ParkLifeError):
    """A user error a sub-command reports as one message and an exit code, never a traceback.

    Parameters
    ----------
    message
        Already translated into the user's language; names the value and what was expected.
    code
        The exit code.
    detail
        The underlying error's own text (English), shown on a second line, if any.
    """

    def __init__(self, message: str, *, code: ExitCode, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.detail = detail


if TYPE_CHECKING:
    from retention.auth.roles import Permission, UserScope
    from retention.storage.store import Store


@dataclass(frozen=True)
class Context:
    """What a running sub-command is given besides its arguments.

    Parameters
    ----------
    lang
        ``"en"`` or ``"zh"``: every message is printed in it.
    data_dir
        The data directory (``--data-dir``, else ``$PARKLIFE_DATA_DIR``, else ``<repo>/data``).
    stdout, stderr
        Where results and messages/progress go.
    show_progress
        Whether long work draws a progress bar on ``stderr`` (a terminal and no ``--quiet``).
    user
        Who the call acts as (``retention.auth.deployment.command_line_user``): its role and
        enterprise scope go into the run key and the stores, and the audit log names it.
        ``None`` only for a context built outside ``main`` (the operator).
    """

    lang: str
    data_dir: Path
    stdout: TextIO
    stderr: TextIO
    show_progress: bool
    user: UserScope | None = None

    @property
    def scope(self) -> UserScope:
        """Return who the call acts as (the operator, ``cli``, when none was resolved)."""
        from retention.auth.deployment import OPERATOR

        return OPERATOR if self.user is None else self.user

    def store(self) -> Store:
        """Return the store the settings name (files under ``data_dir``, or PostgreSQL when
        ``$PARKLIFE_DATABASE_URL`` is set)."""
        from retention.storage.store import shared_store

        return shared_store(self.data_dir)

    def say(self, text: str) -> None:
        """Print ``text`` (a result) on standard output."""
        print(text, file=self.stdout)

    def note(self, text: str) -> None:
        """Print ``text`` (a remark about the work, not a result) on standard error."""
        print(text, file=self.stderr)


Configure = Callable[[argparse.ArgumentParser, str], None]
Run = Callable[[argparse.Namespace, Context], int]


@dataclass(frozen=True)
class Command:
    """One ``parklife`` sub-command.

    Parameters
    ----------
    name
        What the user types (``"parks"``).
    configure
        Adds the sub-command's arguments to its parser, with help texts in the given language.
    run
        Does the work; returns an :class:`ExitCode` (or raises :class:`CliError`).
    order
        Position in the command list of ``parklife --help`` (lower first, then by name).
    permission
        What the user's role must allow for the command to run at all (``None``: every role),
        checked before ``run``; the data it reads is scoped again where it is read.
    texts
        Catalogue namespace of the command's texts: ``<texts>.<name>.help`` (one line for the
        command list) and ``<texts>.<name>.description``. A sub-command added later keeps its
        texts in its own file (``locales/cli_users.json`` with ``texts="cli_users"``), so that
        parallel work never edits the same catalogue.
    """

    name: str
    configure: Configure
    run: Run
    order: int = 100
    texts: str = "cli"
    permission: Permission | None = None

    @property
    def help_key(self) -> str:
        """Catalogue key of the one-line help."""
        return f"{self.texts}.{self.name}.help"

    @property
    def description_key(self) -> str:
        """Catalogue key of the description shown by ``parklife <name> --help``."""
        return f"{self.texts}.{self.name}.description"


def discover_commands(package: str = "retention.cli") -> list[Command]:
    """Return the ``COMMAND`` of every public module of ``package``, in help order.

    Raises
    ------
    TypeError
        If a public module defines no ``COMMAND`` of type :class:`Command`.
    ValueError
        If two modules register the same command name.
    """
    module = importlib.import_module(package)
    found: dict[str, Command] = {}
    for info in pkgutil.iter_modules(module.__path__):
        if info.name.startswith("_"):
            continue
        submodule = importlib.import_module(f"{package}.{info.name}")
        command = getattr(submodule, "COMMAND", None)
        if not isinstance(command, Command):
            raise TypeError(
                f"{package}.{info.name} is a public module of the CLI package but defines no "
                "COMMAND = Command(...); make it private (_name.py) or register a sub-command"
            )
        if command.name in found:
            raise ValueError(f"two CLI modules register the sub-command {command.name!r}")
        found[command.name] = command
    return sorted(found.values(), key=lambda command: (command.order, command.name))
