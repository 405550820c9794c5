"""Output the sub-commands share: text tables, progress bars and files written safely.

Text tables are aligned by display width (a Chinese character takes two columns). Progress bars
(tqdm) go to standard error and only when it is a terminal, so piped output stays clean. Files
are checked for writability *before* long work starts, and written through a temporary file
renamed into place, so a failed run never leaves half a file behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from retention.cli._command import CliError, Context, ExitCode
from retention.i18n import t

if TYPE_CHECKING:
    import pandas as pd


def display_width(text: str) -> int:
    """Return how many terminal columns ``text`` takes (wide East Asian characters take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


# One wide (CJK, full-width) character, a run of other non-space characters, or spaces.
_WIDE = "\u2e80-\u9fff\u3000-\u303f\uff00-\uffef"
_TOKENS = re.compile(rf"[{_WIDE}]|[^\s{_WIDE}]+|\s+")


def wrap(text: str, width: int) -> list[str]:
    """Return ``text`` broken into lines of at most ``width`` display columns.

    Latin words are kept whole; Chinese text, which has no spaces, breaks between characters.
    """
    width = max(width, 10)
    tokens = _TOKENS.findall(text)
    lines: list[str] = []
    current = ""
    for token in tokens:
        if token.isspace():
            if current:
                current += " "
            continue
        candidate = current + token
        if current and display_width(candidate.rstrip()) > width:
            lines.append(current.rstrip())
            current = token
        else:
            current = candidate
    if current.strip():
        lines.append(current.rstrip())
    return lines or [""]


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Return ``rows`` under ``headers`` as aligned plain text, two spaces between columns.

    Numbers (int, float) are right-aligned, everything else left-aligned.
    """
    cells = [[str(value) for value in row] for row in rows]
    widths = [
        max([display_width(header)] + [display_width(row[i]) for row in cells])
        for i, header in enumerate(headers)
    ]
    numeric = [
        bool(rows) and all(isinstance(row[i], int | float) for row in rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = []
        for i, value in enumerate(values):
            pad = " " * (widths[i] - display_width(value))
            parts.append(pad + value if numeric[i] else value + pad)
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(list(headers)), rule, *(line(row) for row in cells)])


class Steps(Protocol):
    """A progress bar over named steps."""

    def step(self, label: str) -> None:
        """Mark the previous step done and show ``label`` as the current one."""


class _Bar:
    def __init__(self, bar: object) -> None:
        self._bar = bar
        self._started = False

    def step(self, label: str) -> None:
        bar = self._bar
        if self._started:
            bar.update(1)  # type: ignore[attr-defined]
        self._started = True
        bar.set_description_str(label)  # type: ignore[attr-defined]


@contextlib.contextmanager
def steps(context: Context, total: int) -> Iterator[Steps]:
    """Yield a progress bar over ``total`` steps on standard error (when it is a terminal).

    Parameters
    ----------
    context
        ``context.show_progress`` decides whether anything is drawn.
    total
        Number of :meth:`Steps.step` calls the work makes.
    """
    from tqdm import tqdm

    bar = tqdm(
        total=total,
        file=context.stderr,
        disable=not context.show_progress,
        leave=False,
        bar_format="{desc} {bar} {n_fmt}/{total_fmt} [{elapsed}]",
        dynamic_ncols=True,
    )
    try:
        yield _Bar(bar)
        bar.update(bar.total - bar.n)
    finally:
        bar.close()


def check_writable(path: Path, context: Context, *, suffixes: Sequence[str]) -> Path:
    """Return ``path`` if a file can be written there with one of ``suffixes``.

    Checked before long work, so a mistyped folder fails in a second, not after the computation.

    Raises
    ------
    CliError
        ``UNKNOWN_VALUE`` for another suffix; ``OUTPUT`` when the folder is missing or read-only
        or the path is a folder.
    """
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        raise CliError(
            t("cli.error.out_format", context.lang, path=str(path), formats=", ".join(suffixes)),
            code=ExitCode.UNKNOWN_VALUE,
        )
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise CliError(
            t("cli.error.out_is_dir", context.lang, path=str(path)), code=ExitCode.OUTPUT
        )
    if not folder.is_dir():
        raise CliError(
            t("cli.error.out_no_folder", context.lang, path=str(path), folder=str(folder)),
            code=ExitCode.OUTPUT,
        )
    # A probe file, not os.access: root passes os.access on read-only mounts (e.g. /sys).
    try:
        handle, probe = tempfile.mkstemp(prefix=".parklife-probe-", dir=folder)
    except OSError as error:
        raise CliError(
            t("cli.error.out_denied", context.lang, path=str(path)),
            code=ExitCode.OUTPUT,
            detail=error.strerror,
        ) from None
    os.close(handle)
    os.unlink(probe)
    return path


def write_atomically(path: Path, write: Callable[[Path], None], context: Context) -> None:
    """Call ``write(temporary path)`` and rename the result over ``path``.

    The temporary file sits beside ``path`` with the same suffix (GDAL picks its driver from it)
    and is removed if writing fails.

    Raises
    ------
    CliError
        ``OUTPUT`` when the operating system refuses the write or the rename.
    """
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as error:
        raise CliError(
            t("cli.error.out_failed", context.lang, path=str(path)),
            code=ExitCode.OUTPUT,
            detail=error.strerror or str(error),
        ) from None
    finally:
        tmp.unlink(missing_ok=True)


def write_csv(table: pd.DataFrame, path: Path, context: Context) -> None:
    """Write a (Geo)DataFrame as formula-safe UTF-8 CSV with a BOM (Excel shows Chinese).

    Uses the same writer as the pages' CSV downloads (geometry as WKT text).
    """
    from retention.data.io import table_to_csv_bytes

    data = table_to_csv_bytes(table)
    write_atomically(path, lambda tmp: _write_bytes(tmp, data), context)


def write_bytes(data: bytes, path: Path, context: Context) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`write_atomically`)."""
    write_atomically(path, lambda tmp: _write_bytes(tmp, data), context)


def _write_bytes(path: Path, data: bytes) -> None:
    path.write_bytes(data)
