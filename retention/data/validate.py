"""Check a raw layer against its spec: canonical columns, WGS84 geometry, one issue per problem.

``validate_layer`` never drops a row silently: every input row ends up either in ``valid`` or in
``rejected`` (with its reasons), and every problem, including repairs that kept a row, is one row
of ``issues`` naming the file, the 1-based data row (as a spreadsheet user counts it, header
excluded), the user's column header, the offending value and what was expected.

Problems that make the whole file unusable (a required column missing, no coordinates at all, two
headers claiming one field) raise ``ValidationError`` instead.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from retention.data.columns import (
    CLOSES,
    FIELD_DEFAULTS,
    LATITUDE,
    LONGITUDE,
    OPENS,
    LayerColumnMapping,
    choice_code,
    generated_id,
    layer_targets,
    normalise_header,
    normalise_hours,
    suggest_layer_mapping,
)
from retention.data.crs import (
    CoordinateSystem,
    frame_to_wgs84,
    in_china,
    parse_coordinate_system,
    utm_crs_for,
)
from retention.data.hours import parse_opening_hours, parse_time_minutes
from retention.data.io import RAGGED_ROWS_ATTR, TITLE_ROW_ATTR, title_note
from retention.data.layers import LAYER_SPECS, WGS84, FieldSpec, LayerKind, LayerSpec
from retention.errors import CoordinateSystemError, MissingColumnsError, ValidationError

RESERVED_COLUMNS = ("source", "geometry")
ISSUE_COLUMNS = ("file", "row", "column", "value", "expected", "message", "severity")
ERROR = "error"
WARNING = "warning"

# Residences in surrounding villages and shuttle routes from town lie outside a park's boundary,
# but rarely more than a 20-minute e-bike ride away (PARAMETERS.md: e-bike 15 km/h -> 5 km).
# Coordinate mistakes this catches are far larger: swapped or truncated degrees put points
# hundreds of kilometres off. (A wrongly stated GCJ-02/BD-09 system moves points only ~0.5 km.)
DEFAULT_MAX_OUTSIDE_METRES = 5000.0

LON_HEADERS = ("lon", "lng", "long", "longitude", "x", "经度", "东经", "x坐标", "经度坐标")
LAT_HEADERS = ("lat", "latitude", "y", "纬度", "北纬", "y坐标", "纬度坐标")
WKT_HEADERS = ("wkt", "geometry", "geom", "几何", "shape")
LOCATION_HEADERS = ("location", "lnglat", "lng_lat", "经纬度", "坐标", "经纬度坐标", "位置坐标")
"""One "lng,lat" cell per point, as Amap and Tencent POI exports write it."""
_LOCATION_SEPARATOR = re.compile(r"\s*[,，;；]\s*|\s+")

_TRUE = ("true", "1", "yes", "y", "t", "是", "对", "可", "可以")
_FALSE = ("false", "0", "no", "n", "f", "否", "不", "不可", "不可以")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}([,，]\d{3})+(\.\d+)?$")
_CLOCK_WITH_SECONDS = re.compile(r"^\d{1,2}:\d{2}:00$")


@dataclass(frozen=True)
class LayerValidation:
    """The outcome of validating one file as one layer.

    Parameters
    ----------
    valid
        Accepted rows: canonical columns (``LAYER_SPECS``) in spec order, then the file's extra
        columns, then ``geometry``; EPSG:4326; index ``0..n-1``.
    issues
        One row per problem, columns ``ISSUE_COLUMNS``; ``severity`` is ``"error"`` (row
        rejected) or ``"warning"`` (row kept, e.g. a repaired geometry).
    rejected
        The rejected input rows as they were read (geometry as WKT text), with ``row`` (1-based
        data row) first and ``reasons`` last.
    """

    valid: gpd.GeoDataFrame
    issues: pd.DataFrame
    rejected: pd.DataFrame

    @property
    def row_count(self) -> int:
        """Number of input rows (valid plus rejected)."""
        return len(self.valid) + len(self.rejected)


def layer_kind(kind: LayerKind | str) -> LayerKind:
    """Return ``kind`` as a ``LayerKind``; ``ValidationError`` listing the kinds if unknown."""
    try:
        return LayerKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in LayerKind)
        raise ValidationError(
            f"unknown layer kind {kind!r}; expected one of: {kinds}", column="kind"
        ) from None


def map_headers(columns: Iterable[object], spec: LayerSpec, *, source_name: str) -> dict[str, str]:
    """Map a file's headers onto the spec's canonical field names.

    Parameters
    ----------
    columns
        The file's headers.
    spec
        The layer spec whose field names and aliases are matched (case-insensitive, ignoring a
        parenthesised unit).
    source_name
        File name for error messages.

    Returns
    -------
    dict
        Canonical field name -> the file's header, for every field found.

    Raises
    ------
    ValidationError
        If two headers match one field, or a required field has no header (naming the expected
        headers).
    """
    headers = [str(c) for c in columns]
    found: dict[str, str] = {}
    for field_spec in spec.fields:
        accepted = {normalise_header(a) for a in (field_spec.name, *field_spec.aliases)}
        matches = [h for h in headers if normalise_header(h) in accepted]
        if len(matches) > 1:
            exact = [h for h in matches if h == field_spec.name]
            if len(exact) != 1:
                raise ValidationError(
                    f"headers {', '.join(map(repr, matches))} all mean field "
                    f"{field_spec.name!r}; keep only one of them",
                    file=source_name,
                    column=field_spec.name,
                )
            matches = exact
        if matches:
            found[field_spec.name] = matches[0]
    missing = [f for f in spec.fields if f.required and f.name not in found]
    if missing:
        described = "; ".join(
            f"{f.name!r} (a header named one of: {', '.join((f.name, *f.aliases))})"
            for f in missing
        )
        raise ValidationError(
            f"missing required column{'s' if len(missing) > 1 else ''} for layer "
            f"{spec.kind.value!r}: {described}",
            file=source_name,
            column=", ".join(f.name for f in missing),
        )
    return found


def _find_header(headers: Iterable[object], accepted: Iterable[str]) -> str | None:
    wanted = {normalise_header(a) for a in accepted}
    for header in headers:
        if normalise_header(header) in wanted:
            return str(header)
    return None


def find_coordinate_columns(headers: Iterable[object]) -> tuple[str, str] | None:
    """Return the (longitude, latitude) headers of a table, or ``None`` if either is missing.

    Accepts ``LON_HEADERS`` / ``LAT_HEADERS`` case-insensitively, ignoring a parenthesised
    note such as ``经度(GCJ-02)``.
    """
    header_list = list(headers)
    lon = _find_header(header_list, LON_HEADERS)
    lat = _find_header(header_list, LAT_HEADERS)
    if lon is None or lat is None:
        return None
    return lon, lat


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _display(value: object) -> str:
    if _is_missing(value):
        return ""
    if isinstance(value, BaseGeometry):
        text = value.wkt
        return text if len(text) <= 80 else text[:77] + "..."
    return str(value)


def parse_number(value: object) -> float:
    """Parse a number typed in a spreadsheet (``"1,200"``, ``" 3.5 "``, Excel numbers).

    Raises ``ValueError`` for text that is not a finite number.
    """
    if isinstance(value, bool):
        raise ValueError("a true/false value is not a number")
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
    else:
        text = str(value).strip().replace("，", ",").replace("．", ".")
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        number = float(text)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def parse_bool(value: object) -> bool:
    """Parse true/false/1/0/yes/no/是/否 (case-insensitive); ``ValueError`` otherwise."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating) and float(value) in (0.0, 1.0):
        return float(value) == 1.0
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not true/false")


def _text(value: object) -> str:
    # Excel stores an id typed as 1 as the float 1.0; the user meant "1".
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _expected(field_spec: FieldSpec) -> str:
    if field_spec.choices:
        return "one of: " + ", ".join(field_spec.choices)
    base = {
        "str": "text",
        "int": "a whole number",
        "float": "a number",
        "bool": "true/false (also 1/0, yes/no, 是/否)",
        "time": 'a clock time "HH:MM"',
        "hours": 'opening hours like "Mo-Fr 08:00-18:00; Sa 09:00-12:00"',
    }[field_spec.dtype]
    if field_spec.minimum is not None:
        base += f" >= {field_spec.minimum:g}"
    return base


def _convert_value(
    value: object, field_spec: FieldSpec, *, values: dict[str, str] | None = None
) -> object:
    """Return the canonical value of one cell; raise ``ValueError`` with a user message.

    ``values`` is the user's value map of a choice field (text as in the file → code).
    """
    dtype = field_spec.dtype
    if dtype == "str":
        text = _text(value)
        if field_spec.choices:
            code = choice_code(field_spec.name, text, field_spec.choices, values=values or {})
            if code is None:
                raise ValueError(f"{text!r} is not an allowed value")
            return code
        return text
    if dtype in ("int", "float"):
        try:
            number = parse_number(value)
        except ValueError:
            raise ValueError(f"{_display(value)!r} is not a number") from None
        if dtype == "int" and not number.is_integer():
            raise ValueError(f"{number:g} is not a whole number")
        if field_spec.minimum is not None and number < field_spec.minimum:
            raise ValueError(f"{number:g} is below the minimum {field_spec.minimum:g}")
        return int(number) if dtype == "int" else number
    if dtype == "bool":
        return parse_bool(value)
    if dtype == "time":
        if isinstance(value, dt.time | dt.datetime):
            return f"{value.hour:02d}:{value.minute:02d}"
        text = _text(value)
        if _CLOCK_WITH_SECONDS.match(text):
            text = text.rsplit(":", 1)[0]  # Excel writes times as HH:MM:SS
        try:
            minutes = parse_time_minutes(text)
        except ValidationError as err:
            raise ValueError(str(err)) from None
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    if dtype == "hours":
        try:
            return parse_opening_hours(normalise_hours(_text(value))).text
        except ValidationError as err:
            raise ValueError(str(err)) from None
    raise ValueError(f"field type {dtype!r} is unknown")  # a LayerSpec error, not user input


class _Rows:
    """Collects problems per input row position."""

    def __init__(self, source_name: str) -> None:
        self.source_name = source_name
        self.records: list[dict[str, object]] = []
        self.errors: dict[int, list[str]] = {}
        self.blank: set[int] = set()

    def add(
        self,
        position: int,
        column: str,
        value: object,
        expected: str,
        message: str,
        *,
        severity: str = ERROR,
    ) -> None:
        self.records.append(
            {
                "file": self.source_name,
                "row": position + 1,
                "column": column,
                "value": _display(value),
                "expected": expected,
                "message": message,
                "severity": severity,
            }
        )
        if severity == ERROR:
            self.errors.setdefault(position, []).append(
                f"{column}: {message}" if column else message
            )

    def note(self, column: str, expected: str, message: str) -> None:
        """Record a file-level warning (no row): a default or generated value was used."""
        self.records.append(
            {
                "file": self.source_name,
                "row": None,
                "column": column,
                "value": "",
                "expected": expected,
                "message": message,
                "severity": WARNING,
            }
        )

    def rejected(self, position: int) -> bool:
        return position in self.errors


def _boundary_geometry(
    park_boundary: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry | None,
) -> BaseGeometry | None:
    if park_boundary is None:
        return None
    if isinstance(park_boundary, BaseGeometry):
        return park_boundary
    series = (
        park_boundary.geometry if isinstance(park_boundary, gpd.GeoDataFrame) else park_boundary
    )
    if series.crs is not None:
        series = series.to_crs(WGS84)
    return shapely.union_all(series.dropna().to_numpy())


def _swapped(lon: float, lat: float) -> bool:
    if abs(lat) > 90.0 and abs(lon) <= 90.0:
        return True
    # Both values plausible as degrees, but only the swapped pair lies in China.
    return bool(in_china(lat, lon)) and not bool(in_china(lon, lat))


def _table_geometry(
    frame: pd.DataFrame,
    lon_column: str,
    lat_column: str,
    rows: _Rows,
) -> list[BaseGeometry | None]:
    geometries: list[BaseGeometry | None] = []
    degrees = "decimal degrees, e.g. 113.15 / 27.85"
    for position, (lon_raw, lat_raw) in enumerate(
        zip(frame[lon_column].tolist(), frame[lat_column].tolist(), strict=True)
    ):
        if position in rows.blank:
            geometries.append(None)
            continue
        values: dict[str, float] = {}
        for column, raw, name in (
            (lon_column, lon_raw, "longitude"),
            (lat_column, lat_raw, "latitude"),
        ):
            if _is_missing(raw):
                rows.add(position, column, raw, degrees, f"{name} is missing")
                continue
            try:
                values[name] = parse_number(raw)
            except ValueError:
                rows.add(
                    position, column, raw, degrees, f"{name} {_display(raw)!r} is not a number"
                )
        if len(values) < 2:
            geometries.append(None)
            continue
        lon, lat = values["longitude"], values["latitude"]
        if _swapped(lon, lat):
            rows.add(
                position,
                f"{lon_column}/{lat_column}",
                f"{lon_raw}, {lat_raw}",
                "longitude in the longitude column, latitude in the latitude column",
                f"longitude {lon:g} and latitude {lat:g} look swapped (China lies at longitude "
                f"73-135, latitude 4-54); swap the values of {lon_column!r} and {lat_column!r}",
            )
            geometries.append(None)
            continue
        if abs(lon) > 180.0 or abs(lat) > 90.0:
            rows.add(
                position,
                f"{lon_column}/{lat_column}",
                f"{lon_raw}, {lat_raw}",
                "longitude in [-180, 180], latitude in [-90, 90]",
                f"coordinates {lon:g}, {lat:g} are not longitude/latitude degrees (projected "
                "metres? upload the layer as GeoPackage/Shapefile with its .prj instead)",
            )
            geometries.append(None)
            continue
        geometries.append(shapely.Point(lon, lat))
    return geometries


def _split_location(cells: pd.Series, column: str) -> pd.DataFrame:
    """Return a "lng,lat" column as longitude and latitude columns named after it; a cell that
    is not two parts keeps its text as the longitude and no latitude, so its row is rejected
    naming the column and the value."""
    lon, lat = [], []
    for raw in cells.tolist():
        parts = [] if _is_missing(raw) else _LOCATION_SEPARATOR.split(str(raw).strip())
        lon.append(parts[0] if len(parts) == 2 else raw)
        lat.append(parts[1] if len(parts) == 2 else None)
    return pd.DataFrame({f"{column} (longitude)": lon, f"{column} (latitude)": lat})


def _wkt_geometry(frame: pd.DataFrame, column: str, rows: _Rows) -> list[BaseGeometry | None]:
    geometries: list[BaseGeometry | None] = []
    for position, raw in enumerate(frame[column].tolist()):
        if position in rows.blank:
            geometries.append(None)
            continue
        if _is_missing(raw):
            rows.add(position, column, raw, "WKT geometry text", "geometry is missing")
            geometries.append(None)
            continue
        try:
            geometries.append(shapely.from_wkt(str(raw).strip()))
        except shapely.errors.GEOSException as err:
            rows.add(position, column, raw, "WKT geometry text", f"geometry text is not WKT: {err}")
            geometries.append(None)
    return geometries


def _check_geometry(
    geometries: list[BaseGeometry | None],
    spec: LayerSpec,
    rows: _Rows,
    *,
    geographic: bool,
    column: str,
) -> list[BaseGeometry | None]:
    """Check type, emptiness, validity and (if geographic) degree ranges of each geometry."""
    allowed = ", ".join(spec.geometry_types)
    checked: list[BaseGeometry | None] = []
    for position, geometry in enumerate(geometries):
        if rows.rejected(position):
            checked.append(None)
            continue
        if geometry is None or geometry.is_empty:
            rows.add(position, column, geometry, allowed, "geometry is missing or empty")
            checked.append(None)
            continue
        if geometry.geom_type not in spec.geometry_types:
            rows.add(
                position,
                column,
                geometry,
                allowed,
                f"geometry type {geometry.geom_type} is wrong for layer {spec.kind.value!r}; "
                f"expected {allowed}",
            )
            checked.append(None)
            continue
        coords = shapely.get_coordinates(geometry)
        if not np.isfinite(coords).all():
            rows.add(position, column, geometry, allowed, "geometry has non-numeric coordinates")
            checked.append(None)
            continue
        if geographic:
            min_x, min_y, max_x, max_y = geometry.bounds
            if _swapped(min_x, min_y) and _swapped(max_x, max_y):
                rows.add(
                    position,
                    column,
                    geometry,
                    "x = longitude, y = latitude",
                    f"coordinates look swapped (x {min_x:g}, y {min_y:g}: China lies at "
                    "longitude 73-135, latitude 4-54); export the layer with x = longitude",
                )
                checked.append(None)
                continue
            if max(abs(min_x), abs(max_x)) > 180.0 or max(abs(min_y), abs(max_y)) > 90.0:
                rows.add(
                    position,
                    column,
                    geometry,
                    "longitude in [-180, 180], latitude in [-90, 90]",
                    "coordinates are not longitude/latitude degrees; the file's CRS is missing "
                    "or wrong (include the .prj)",
                )
                checked.append(None)
                continue
        if not geometry.is_valid:
            reason = shapely.is_valid_reason(geometry)
            repaired = _repair(geometry, spec)
            if repaired is None:
                rows.add(
                    position,
                    column,
                    geometry,
                    allowed,
                    f"geometry is invalid ({reason}) and cannot be repaired into {allowed}",
                )
                checked.append(None)
                continue
            rows.add(
                position,
                column,
                geometry,
                allowed,
                f"geometry was invalid ({reason}) and was repaired with make_valid; check its "
                "shape on the map",
                severity=WARNING,
            )
            geometry = repaired
        checked.append(geometry)
    return checked


def _repair(geometry: BaseGeometry, spec: LayerSpec) -> BaseGeometry | None:
    fixed = shapely.make_valid(geometry)
    if fixed.geom_type in spec.geometry_types and not fixed.is_empty:
        return fixed
    if fixed.geom_type == "GeometryCollection":
        # make_valid splits a bow-tie into polygons plus stray lines: keep the wanted dimension.
        parts = [g for g in fixed.geoms if g.geom_type in spec.geometry_types and not g.is_empty]
        if parts:
            merged = shapely.union_all(parts)
            if merged.geom_type in spec.geometry_types:
                return merged
    return None


def validate_layer(
    gdf: gpd.GeoDataFrame | pd.DataFrame,
    kind: LayerKind | str,
    *,
    source_name: str,
    coordinate_system: CoordinateSystem | str,
    park_boundary: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry | None = None,
    max_outside_metres: float = DEFAULT_MAX_OUTSIDE_METRES,
    existing_keys: Collection[tuple[object, ...]] = (),
    mapping: LayerColumnMapping | None = None,
) -> LayerValidation:
    """Validate a raw layer and split it into valid rows (canonical, WGS84) and rejected rows.

    Assumes ``gdf`` is as read by ``retention.data.io.read_layer``: the file's headers, row ``i``
    (0-based position) is data row ``i + 1``; for tables (all geometries missing) the geometry
    comes from longitude/latitude columns (``LON_HEADERS``/``LAT_HEADERS``) or a WKT column.
    Coordinates are in ``coordinate_system`` and converted to WGS84. ``gdf`` is not modified.

    Parameters
    ----------
    gdf
        The raw rows.
    kind
        Which layer the rows are.
    source_name
        The user's file name, reported in every issue.
    coordinate_system
        The system the file's coordinates are in (``retention.data.crs.CoordinateSystem``).
    park_boundary
        WGS84 polygon(s); rows farther than ``max_outside_metres`` from it are rejected.
    max_outside_metres
        Tolerance outside ``park_boundary`` (default ``DEFAULT_MAX_OUTSIDE_METRES``).
    existing_keys
        Key tuples (``LayerSpec.key_fields``, as strings) already in the park's layer — demo rows
        and earlier uploads. A row repeating one is rejected, so ids stay unique in the park.
    mapping
        Target field of each column and the choice value map
        (``retention.data.columns.LayerColumnMapping``); ``None`` uses
        ``suggest_layer_mapping`` of the headers. A field without a column takes a generated
        id, its ``FIELD_DEFAULTS`` value or (amenity hours) the ``opens``/``closes`` columns,
        each with one file-level warning (row empty).

    Returns
    -------
    LayerValidation
        ``len(valid) + len(rejected) == len(gdf)``.

    Raises
    ------
    MissingColumnsError
        Required fields without a column (every one named at once).
    ValidationError
        When the file as a whole cannot be used otherwise: a table has no coordinate columns,
        or the mapping names a column the file does not have.
    """
    spec = LAYER_SPECS[layer_kind(kind)]
    system = parse_coordinate_system(coordinate_system)
    if max_outside_metres < 0:
        raise ValidationError(
            f"max_outside_metres must be >= 0, got {max_outside_metres!r}",
            column="max_outside_metres",
        )
    ragged = dict(gdf.attrs.get(RAGGED_ROWS_ATTR, {}))
    original = pd.DataFrame(gdf).reset_index(drop=True)
    geometry_name = gdf.geometry.name if isinstance(gdf, gpd.GeoDataFrame) else None
    attribute_columns = [c for c in original.columns if c != geometry_name]
    if mapping is None:
        mapping = suggest_layer_mapping(attribute_columns, spec.kind)
    rows = _Rows(source_name)
    title = gdf.attrs.get(TITLE_ROW_ATTR)
    if title is not None:
        rows.note("", "the header row", title_note(str(title)))
    skipped = 0
    if len(original) and _english_header_row(original.iloc[0], attribute_columns, spec.kind):
        # ParkLife's templates put the English field names under the Chinese headers.
        original = original.iloc[1:].reset_index(drop=True)
        skipped = 1
        rows.note(
            "",
            "data rows",
            "second header row (English field names, as in the ParkLife template) skipped; "
            "row 1 is the first row under it",
        )
    frame, header_map = _apply_layer_mapping(original, attribute_columns, spec, mapping, rows)
    _reject_blank_rows(original, attribute_columns, geometry_name, rows)
    for position, (line, count, _) in sorted(ragged.items()):
        rows.add(
            position - skipped,
            "",
            f"{count} cells",
            f"{len(attribute_columns)} cells, as many as the header has",
            f"line {line} has {count} cells (a cell with an unquoted comma or a lost cell shifts "
            "every value after it); the row is rejected, not padded or cut",
        )

    raw_geometries: list[BaseGeometry | None]
    if geometry_name is not None and frame[geometry_name].notna().any():
        raw_geometries = list(frame[geometry_name])
        geometry_column = "geometry"
        used_columns: set[str] = set()
        crs = gdf.crs
        geographic = crs is None or crs.is_geographic
    else:
        claimed = set(header_map.values())
        free = [c for c in attribute_columns if c not in claimed]
        mapped_lon, mapped_lat = mapping.header_for(LONGITUDE), mapping.header_for(LATITUDE)
        coordinates = (
            (mapped_lon, mapped_lat)
            if mapped_lon is not None and mapped_lat is not None
            else find_coordinate_columns(free)
        )
        wkt_column = _find_header(free, WKT_HEADERS)
        crs = None
        geographic = True
        if coordinates is not None:
            if "Point" not in spec.geometry_types:
                raise ValidationError(
                    f"longitude/latitude columns give points, but layer {spec.kind.value!r} "
                    f"needs {', '.join(spec.geometry_types)}; upload a GeoJSON, GeoPackage or "
                    "zipped Shapefile, or a table with a 'wkt' column",
                    file=source_name,
                )
            raw_geometries = _table_geometry(frame, *coordinates, rows)
            geometry_column = "/".join(coordinates)
            used_columns = set(coordinates)
        elif wkt_column is not None:
            raw_geometries = _wkt_geometry(frame, wkt_column, rows)
            geometry_column = wkt_column
            used_columns = {wkt_column}
        elif (location := _find_header(free, LOCATION_HEADERS)) is not None and (
            "Point" in spec.geometry_types
        ):
            split = _split_location(frame[location], location)
            lon_column, lat_column = (str(column) for column in split.columns)
            raw_geometries = _table_geometry(split, lon_column, lat_column, rows)
            geometry_column = location
            used_columns = {location}
        else:
            raise ValidationError(
                "no geometry: expected longitude and latitude columns (headers "
                f"{'/'.join(LON_HEADERS)} and {'/'.join(LAT_HEADERS)}), a WKT column "
                f"({'/'.join(WKT_HEADERS)}) or a 'lng,lat' column ({'/'.join(LOCATION_HEADERS)})",
                file=source_name,
                column="longitude, latitude",
            )

    geometries = _check_geometry(
        raw_geometries, spec, rows, geographic=geographic, column=geometry_column
    )
    value_maps = {f.name: mapping.value_map(f.name) for f in spec.fields if f.choices}
    values = _convert_fields(frame, spec, header_map, rows, value_maps)
    try:
        wgs84 = _to_wgs84(geometries, crs, system)
    except CoordinateSystemError as err:
        raise CoordinateSystemError(str(err), file=source_name) from err
    _check_boundary(wgs84, park_boundary, max_outside_metres, rows, geometry_column)
    _check_duplicates(values, spec, header_map, rows, existing_keys=existing_keys)

    consumed = {mapping.header_for(OPENS), mapping.header_for(CLOSES)}
    extras = [
        c
        for c in attribute_columns
        if c not in set(header_map.values())
        and c not in used_columns
        and c not in header_map
        and c not in consumed
    ]
    keep = [p for p in range(len(frame)) if not rows.rejected(p)]
    valid = _assemble_valid(frame, spec, values, wgs84, extras, keep)
    rejected = _assemble_rejected(original, geometry_name, rows)
    if ragged:
        extra = {p - skipped + 1: " | ".join(cells) for p, (_, _, cells) in ragged.items()}
        rejected.insert(
            len(rejected.columns) - 1,
            "extra_cells",
            [extra.get(int(row), "") for row in rejected["row"]],
        )
    # A report reads top to bottom like the file: file-level notes first, then by row, checks
    # in the order they ran.
    issues = (
        pd.DataFrame(rows.records, columns=list(ISSUE_COLUMNS))
        .astype({"row": "Int64"})
        .sort_values("row", kind="stable", na_position="first")
        .reset_index(drop=True)
    )
    return LayerValidation(valid=valid, issues=issues, rejected=rejected)


def _apply_layer_mapping(
    frame: pd.DataFrame,
    attribute_columns: list[str],
    spec: LayerSpec,
    mapping: LayerColumnMapping,
    rows: _Rows,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Return the frame with columns for fields filled without a column, and field -> header.

    A generated id, a default value or hours built from opening and closing times go into a
    new column named in brackets (``"(generated id)"``, ``"开门/关门"``) so that every issue
    still names a column; ``rows`` gets one file-level warning for each.

    Raises
    ------
    ValidationError
        The mapping is for another layer kind or names a column the file does not have.
    MissingColumnsError
        Required fields with no column, no default and no way to build them, all at once.
    """
    if mapping.kind != spec.kind.value:
        raise ValidationError(
            f"the column mapping is for layer {mapping.kind!r}, not {spec.kind.value!r}",
            file=rows.source_name,
        )
    mapped_headers = set(mapping.field_headers().values())
    absent = [c for c in mapping.columns if c in mapped_headers and c not in attribute_columns]
    if absent:
        raise ValidationError(
            f"mapped column(s) {', '.join(map(repr, absent))} are not in the file; expected the "
            "file's headers to match the mapping",
            file=rows.source_name,
            column=", ".join(absent),
        )
    fields = {f.name for f in spec.fields}
    header_map = {t: h for t, h in mapping.field_headers().items() if t in fields}
    out = frame.copy()
    missing: list[FieldSpec] = []
    opens, closes = mapping.header_for(OPENS), mapping.header_for(CLOSES)
    for field_spec in spec.fields:
        name = field_spec.name
        if name in header_map:
            continue
        if name == spec.id_field:
            column = "(generated id)"
            out[column] = [
                generated_id(spec.kind, cells)
                for cells in frame[attribute_columns].itertuples(index=False, name=None)
            ]
            rows.note(
                column,
                f"an id column ({', '.join((name, *field_spec.aliases))})",
                "no id column: each row got a stable id made from its content (the same row "
                "gets the same id on every upload)",
            )
        elif name == "opening_hours" and opens is not None and closes is not None:
            column = f"{opens}/{closes}"
            out[column] = [
                None if _is_missing(a) or _is_missing(b) else f"{_clock(a)}-{_clock(b)}"
                for a, b in zip(frame[opens].tolist(), frame[closes].tolist(), strict=True)
            ]
            rows.note(
                column,
                "an opening-hours column",
                f"opening hours read as every day from {opens!r} to {closes!r}",
            )
        elif (spec.kind.value, name) in FIELD_DEFAULTS:
            default, why = FIELD_DEFAULTS[(spec.kind.value, name)]
            column = f"({name} default)"
            out[column] = [default] * len(frame)
            rows.note(
                column,
                f"a {name} column",
                f"no {name} column: every row takes the default {default!r} ({why})",
            )
        elif field_spec.required:
            missing.append(field_spec)
            continue
        else:
            continue
        header_map[name] = column
    if missing:
        described = "; ".join(
            f"{f.name!r} (a header named one of: {', '.join((f.name, *f.aliases))})"
            for f in missing
        )
        raise MissingColumnsError(
            f"missing required column{'s' if len(missing) > 1 else ''} for layer "
            f"{spec.kind.value!r}: {described}",
            file=rows.source_name,
            kind=spec.kind.value,
            fields=tuple(f.name for f in missing),
        )
    return out, header_map


def _english_header_row(row: pd.Series, columns: list[str], kind: LayerKind) -> bool:
    """Return whether a first data row holds only field names (a template's English row)."""
    names = {*layer_targets(kind), "wkt"}
    cells = [str(row[c]).strip() for c in columns if not _is_missing(row[c])]
    return len(cells) >= 2 and all(cell in names for cell in cells)


def _clock(value: object) -> str:
    """Return an opening or closing time as ``H:MM`` (Excel gives times as time objects)."""
    if isinstance(value, dt.time | dt.datetime):
        return f"{value.hour:02d}:{value.minute:02d}"
    text = _text(value)
    return text.rsplit(":", 1)[0] if _CLOCK_WITH_SECONDS.match(text) else text


def _reject_blank_rows(
    frame: pd.DataFrame, attribute_columns: list[str], geometry_name: str | None, rows: _Rows
) -> None:
    """Reject rows with no value and no geometry once, instead of once per required field."""
    empty = frame[attribute_columns].map(_is_missing).all(axis=1).to_numpy()
    if geometry_name is not None:
        empty &= frame[geometry_name].isna().to_numpy()
    for position in np.flatnonzero(empty).tolist():
        rows.add(position, "", "", "a data row", "the row is empty")
        rows.blank.add(position)


def _convert_fields(
    frame: pd.DataFrame,
    spec: LayerSpec,
    header_map: dict[str, str],
    rows: _Rows,
    value_maps: dict[str, dict[str, str]],
) -> dict[str, list[object]]:
    values: dict[str, list[object]] = {}
    for field_spec in spec.fields:
        header = header_map.get(field_spec.name)
        if header is None:
            values[field_spec.name] = [None] * len(frame)
            continue
        converted: list[object] = []
        expected = _expected(field_spec)
        for position, raw in enumerate(frame[header].tolist()):
            if position in rows.blank:
                converted.append(None)
                continue
            if _is_missing(raw):
                if field_spec.required:
                    rows.add(position, header, raw, expected, "required value is missing")
                converted.append(None)
                continue
            try:
                converted.append(
                    _convert_value(raw, field_spec, values=value_maps.get(field_spec.name))
                )
            except ValueError as err:
                if field_spec.required:
                    rows.add(position, header, raw, expected, f"{err}; expected {expected}")
                else:
                    rows.add(
                        position,
                        header,
                        raw,
                        expected,
                        f"{err}; expected {expected} (optional field: left blank, row kept)",
                        severity=WARNING,
                    )
                converted.append(None)
        values[field_spec.name] = converted
    return values


def _to_wgs84(
    geometries: list[BaseGeometry | None],
    crs: Any,
    system: CoordinateSystem,
) -> list[BaseGeometry | None]:
    present = [g for g in geometries if g is not None]
    if not present:
        return list(geometries)
    converted = iter(
        frame_to_wgs84(gpd.GeoDataFrame(geometry=present, crs=crs), system=system).geometry
    )
    return [None if g is None else next(converted) for g in geometries]


def _check_boundary(
    geometries: list[BaseGeometry | None],
    park_boundary: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry | None,
    max_outside_metres: float,
    rows: _Rows,
    column: str,
) -> None:
    boundary = _boundary_geometry(park_boundary)
    if boundary is None or boundary.is_empty:
        return
    positions = [p for p, g in enumerate(geometries) if g is not None and not rows.rejected(p)]
    if not positions:
        return
    centre = boundary.centroid
    utm = utm_crs_for(centre.x, centre.y)
    local = gpd.GeoSeries([geometries[p] for p in positions], crs=WGS84).to_crs(utm)
    area = gpd.GeoSeries([boundary], crs=WGS84).to_crs(utm).iloc[0]
    distances = local.distance(area).to_numpy()
    for position, metres in zip(positions, distances, strict=True):
        if metres > max_outside_metres:
            rows.add(
                position,
                column,
                geometries[position],
                f"within {max_outside_metres:,.0f} m of the park boundary",
                f"lies {metres:,.0f} m outside the park boundary (tolerance "
                f"{max_outside_metres:,.0f} m); check the coordinates and the coordinate system",
            )


def _check_duplicates(
    values: dict[str, list[object]],
    spec: LayerSpec,
    header_map: dict[str, str],
    rows: _Rows,
    *,
    existing_keys: Collection[tuple[object, ...]] = (),
) -> None:
    existing = {tuple(str(part) for part in key) for key in existing_keys}
    first_row: dict[tuple[object, ...], int] = {}
    keys = spec.key_fields
    if not keys:
        return
    count = len(next(iter(values.values()))) if values else 0
    column = ", ".join(header_map.get(k, k) for k in keys)
    for position in range(count):
        if rows.rejected(position):
            continue
        key = tuple(values[k][position] for k in keys)
        if any(part is None for part in key):
            continue
        shown = ", ".join(map(str, key))
        if tuple(str(part) for part in key) in existing:
            rows.add(
                position,
                column,
                shown,
                f"a {' + '.join(keys)} not already in the park",
                f"{' + '.join(keys)} {shown!r} is already in the park (demo data or an earlier "
                "upload); give the row a new id or remove the earlier upload first",
            )
        elif key in first_row:
            rows.add(
                position,
                column,
                shown,
                f"unique {' + '.join(keys)}",
                f"duplicate {' + '.join(keys)} {shown!r} (first at row {first_row[key] + 1})",
            )
        else:
            first_row[key] = position


def _assemble_valid(
    frame: pd.DataFrame,
    spec: LayerSpec,
    values: dict[str, list[object]],
    geometries: list[BaseGeometry | None],
    extras: list[str],
    keep: list[int],
) -> gpd.GeoDataFrame:
    data: dict[str, object] = {}
    for field_spec in spec.fields:
        column = [values[field_spec.name][p] for p in keep]
        series = pd.Series(column, dtype="object")
        if field_spec.dtype == "float":
            series = series.where(series.notna(), np.nan)
        data[field_spec.name] = series.astype(canonical_dtype(field_spec))
    for extra in extras:
        # "source" is set by retention.storage.park (demo or upload id); keep the user's under a
        # new name.
        name = f"{extra}_original" if extra in RESERVED_COLUMNS else extra
        if name not in data:
            data[name] = pd.Series([frame[extra].iloc[p] for p in keep], dtype="object")
    return gpd.GeoDataFrame(
        data, geometry=gpd.GeoSeries([geometries[p] for p in keep], crs=WGS84), crs=WGS84
    )


def _assemble_rejected(frame: pd.DataFrame, geometry_name: str | None, rows: _Rows) -> pd.DataFrame:
    positions = sorted(rows.errors)
    original = frame.iloc[positions].copy()
    if geometry_name is not None and geometry_name in original.columns:
        original[geometry_name] = [
            g.wkt if isinstance(g, BaseGeometry) else "" for g in original[geometry_name]
        ]
        if not any(original[geometry_name]):
            original = original.drop(columns=[geometry_name])
    original = pd.DataFrame(original)
    original.insert(0, "row", [p + 1 for p in positions])
    original["reasons"] = ["; ".join(rows.errors[p]) for p in positions]
    return original.reset_index(drop=True)


def canonical_dtype(field_spec: FieldSpec) -> str:
    """Return the pandas dtype a valid layer uses for ``field_spec``.

    Required ints are ``int64``, optional ones nullable ``Int64``; floats ``float64`` (NaN when
    missing); required bools ``bool``; everything else (text, optional bools, times, hours)
    ``object`` with ``None`` for missing.
    """
    if field_spec.dtype == "int":
        return "int64" if field_spec.required else "Int64"
    if field_spec.dtype == "float":
        return "float64"
    if field_spec.dtype == "bool" and field_spec.required:
        return "bool"
    return "object"


def empty_layer(kind: LayerKind | str) -> gpd.GeoDataFrame:
    """Return an empty layer of ``kind``: canonical columns and dtypes, EPSG:4326."""
    spec = LAYER_SPECS[LayerKind(kind)]
    data = {f.name: pd.Series(dtype=canonical_dtype(f)) for f in spec.fields}
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)


def conform_layer(
    gdf: gpd.GeoDataFrame, kind: LayerKind | str, *, source_name: str
) -> gpd.GeoDataFrame:
    """Return a copy of an already-valid layer with canonical column order and dtypes.

    Assumes the rows were validated before (demo files, stored uploads): values are only cast,
    not checked row by row; use :func:`validate_layer` for user files. Adds absent optional
    columns (empty), keeps extra columns after the canonical ones, sets EPSG:4326 if unset.

    Parameters
    ----------
    gdf
        Canonical headers already; not modified.
    kind
        The layer kind.
    source_name
        Named in the error if a required column is absent.

    Returns
    -------
    GeoDataFrame
        Canonical columns in spec order, extras, then ``geometry``.

    Raises
    ------
    ValidationError
        If a required column is absent.
    """
    spec = LAYER_SPECS[LayerKind(kind)]
    missing = [f.name for f in spec.fields if f.required and f.name not in gdf.columns]
    if missing:
        raise ValidationError(
            f"layer {spec.kind.value!r} lacks required column(s) {', '.join(missing)}",
            file=source_name,
            column=", ".join(missing),
        )
    out = gdf.copy()
    if out.crs is None:
        out = out.set_crs(WGS84)
    elif out.crs.to_epsg() != 4326:
        out = out.to_crs(WGS84)
    geometry_name = out.geometry.name
    for field_spec in spec.fields:
        if field_spec.name not in out.columns:
            out[field_spec.name] = None
        series = out[field_spec.name]
        if field_spec.dtype == "bool" and series.dtype != bool:
            series = series.map(lambda v: None if _is_missing(v) else parse_bool(v))
        target = canonical_dtype(field_spec)
        if target == "object":
            series = series.astype(object).where(series.notna(), None)
        out[field_spec.name] = series.astype(target)
    canonical = [f.name for f in spec.fields]
    extras = [c for c in out.columns if c not in canonical and c != geometry_name]
    ordered = out[[*canonical, *extras, geometry_name]]
    if geometry_name != "geometry":
        ordered = ordered.rename_geometry("geometry")
    return gpd.GeoDataFrame(ordered, geometry="geometry", crs=WGS84)
