"""Arguments several sub-commands share, and their checks with specific messages and exit codes.

Values are checked here rather than with argparse ``choices=`` so that an unknown park, layer
kind, coordinate system or time window gets its own message (in the user's language, listing
what is known) and its own exit code instead of argparse's generic usage error.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from retention.cli._command import CliError, Context, ExitCode
from retention.errors import UnknownParkError, ValidationError
from retention.i18n import t

if TYPE_CHECKING:
    from retention.data.crs import CoordinateSystem
    from retention.data.layers import LayerKind
    from retention.park_parameters import ParkParameters
    from retention.storage.park import ParkData

CRS_NAMES = ("wgs84", "gcj02", "bd09")
"""The coordinate-system names the help lists (aliases such as ``amap`` or ``百度`` work too)."""


def add_park(parser: argparse.ArgumentParser, lang: str, *, required: bool = True) -> None:
    """Add ``--park ID``."""
    key = "cli.arg.park" if required else "cli.arg.park_optional"
    parser.add_argument("--park", required=required, metavar="ID", help=t(key, lang))


def add_kind(parser: argparse.ArgumentParser, lang: str) -> None:
    """Add ``--kind KIND`` (a layer kind)."""
    from retention.data.layers import LayerKind

    kinds = ", ".join(kind.value for kind in LayerKind)
    parser.add_argument(
        "--kind", required=True, metavar="KIND", help=t("cli.arg.kind", lang, kinds=kinds)
    )


def add_crs(parser: argparse.ArgumentParser, lang: str) -> None:
    """Add ``--crs SYSTEM`` (the coordinate system the file is in)."""
    parser.add_argument(
        "--crs",
        required=True,
        metavar="SYSTEM",
        help=t("cli.arg.crs", lang, systems=", ".join(CRS_NAMES)),
    )


def add_layer(parser: argparse.ArgumentParser, lang: str) -> None:
    """Add ``--layer NAME`` (GeoPackage layer, XLSX sheet or Shapefile in a zip)."""
    parser.add_argument("--layer", metavar="NAME", help=t("cli.arg.layer", lang))


def add_input_file(parser: argparse.ArgumentParser, lang: str) -> None:
    """Add the positional ``FILE`` to read."""
    parser.add_argument("file", type=Path, metavar="FILE", help=t("cli.arg.file", lang))


def layer_kind(value: str, context: Context) -> LayerKind:
    """Return ``value`` as a layer kind, or raise an ``UNKNOWN_VALUE`` error listing the kinds."""
    from retention.data.layers import LayerKind

    try:
        return LayerKind(value.strip().lower())
    except ValueError:
        kinds = ", ".join(kind.value for kind in LayerKind)
        raise CliError(
            t("cli.error.kind", context.lang, value=value, kinds=kinds),
            code=ExitCode.UNKNOWN_VALUE,
        ) from None


def coordinate_system(value: str, context: Context) -> CoordinateSystem:
    """Return ``value`` as a coordinate system, or raise an ``UNKNOWN_VALUE`` error."""
    from retention.data.crs import parse_coordinate_system
    from retention.errors import CoordinateSystemError

    try:
        return parse_coordinate_system(value)
    except CoordinateSystemError:
        raise CliError(
            t("cli.error.crs", context.lang, value=value, systems=", ".join(CRS_NAMES)),
            code=ExitCode.UNKNOWN_VALUE,
        ) from None


def load_park(park_id: str, context: Context) -> ParkData:
    """Return the park (demo files plus stored uploads), or raise an ``UNKNOWN_PARK`` error."""
    from retention.storage.park import list_parks
    from retention.storage.park import load_park as load

    try:
        return load(park_id, uploads=context.store().uploads)
    except (UnknownParkError, ValidationError) as error:
        if not isinstance(error, UnknownParkError) and error.column != "park_id":
            raise
        known = ", ".join(list_parks(uploads=context.store().uploads)) or "-"
        raise CliError(
            t("cli.error.unknown_park", context.lang, park=park_id, known=known),
            code=ExitCode.UNKNOWN_PARK,
        ) from None


def saved_parameters(park_id: str, context: Context) -> ParkParameters:
    """Return the park's saved parameters (the Assumptions page's), or raise a ``DATA`` error."""
    from retention.errors import ParameterError
    from retention.park_parameters import load_park_parameters

    try:
        return load_park_parameters(park_id, store=context.store())
    except ParameterError as error:
        raise CliError(
            t("cli.error.parameters", context.lang), code=ExitCode.DATA, detail=str(error)
        ) from None


def time_window(value: str, parameters: ParkParameters, context: Context) -> str:
    """Return ``value`` if it is one of the park's time windows, else an ``UNKNOWN_VALUE`` error."""
    keys = [window.key for window in parameters.time_windows]
    if value in keys:
        return value
    raise CliError(
        t("cli.error.window", context.lang, value=value, windows=", ".join(keys)),
        code=ExitCode.UNKNOWN_VALUE,
    )


def read_input(path: Path, context: Context) -> bytes:
    """Return the bytes of the file to read, or raise an ``INPUT`` error naming it."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CliError(
            t("cli.error.no_file", context.lang, path=str(path)), code=ExitCode.INPUT
        ) from None
    except OSError as error:
        raise CliError(
            t("cli.error.unreadable", context.lang, path=str(path)),
            code=ExitCode.INPUT,
            detail=error.strerror,
        ) from None
