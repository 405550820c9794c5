"""Travel parameters and time windows, with the source of every default.

Both are frozen dataclasses (clean cache keys, no shared mutable state). ``SOURCES`` maps each
field to the citation the UI shows next to it. A park edits its values in a TOML file::

    [travel]
    walk_speed_m_per_min = 60.0
    ...

    [[time_windows]]
    key = "weekday_peak"
    day_type = "weekday"
    start = "07:00"
    end = "09:00"
    label_en = "Weekday morning peak"
    label_zh = "工作日早高峰"
    headway_field = "headway_peak_min"
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from retention.data.hours import MINUTES_PER_DAY, parse_time_minutes
from retention.errors import ParameterError, ValidationError

DAY_TYPES: tuple[str, ...] = ("weekday", "weekend")
# Day whose opening hours stand for the whole day type (the weekend window is a Saturday).
REPRESENTATIVE_DAY: Mapping[str, str] = MappingProxyType({"weekday": "We", "weekend": "Sa"})


@dataclass(frozen=True)
class TimeWindow:
    """A period of the week in which access is evaluated.

    Parameters
    ----------
    key
        Identifier (``weekday_peak``); also names the window in results.
    day_type
        ``"weekday"`` or ``"weekend"``.
    start, end
        ``HH:MM``; an ``end`` at or before ``start`` means the window passes midnight, and a
        window starting at 00:00 is the early morning of the day (after the previous evening's
        shift).
    label_en, label_zh
        Names shown to users.
    headway_field
        Column of the transit_routes layer holding headways for this window; blank means
        ``headway_<key>_min``.
    """

    key: str
    day_type: str
    start: str
    end: str
    label_en: str
    label_zh: str
    headway_field: str = ""

    def __post_init__(self) -> None:
        if not self.key or not self.key.replace("_", "").isalnum():
            raise ParameterError(
                f"time window key {self.key!r} is not an identifier; expected letters, digits "
                "and underscores like 'weekday_peak'",
                column="key",
            )
        if self.day_type not in DAY_TYPES:
            raise ParameterError(
                f"time window {self.key!r}: day_type {self.day_type!r} is not one of "
                f"{', '.join(DAY_TYPES)}",
                column="day_type",
            )
        for name in ("start", "end"):
            try:
                minute = parse_time_minutes(getattr(self, name))
            except ValidationError as error:
                raise ParameterError(f"time window {self.key!r}: {error}", column=name) from error
            if name == "start" and minute == MINUTES_PER_DAY:
                raise ParameterError(
                    f"time window {self.key!r}: start 24:00 is not a start; expected 00:00-23:59",
                    column="start",
                )
        if parse_time_minutes(self.start) == parse_time_minutes(self.end) % MINUTES_PER_DAY:
            raise ParameterError(
                f"time window {self.key!r} is empty ({self.start}-{self.end}); expected an end "
                "different from the start",
                column="end",
            )
        if not self.headway_field:
            object.__setattr__(self, "headway_field", f"headway_{self.key}_min")

    @property
    def start_minute(self) -> int:
        """Minutes after 00:00 of ``day`` when the window opens."""
        return parse_time_minutes(self.start)

    @property
    def end_minute(self) -> int:
        """Minutes after 00:00 of ``day`` when the window closes (past 1440 across midnight)."""
        end = parse_time_minutes(self.end)
        return end if end > self.start_minute else end + MINUTES_PER_DAY

    @property
    def duration_minutes(self) -> int:
        """Length of the window."""
        return self.end_minute - self.start_minute

    @property
    def day(self) -> str:
        """Representative day for opening hours: Wednesday for weekdays, Saturday for weekends."""
        return REPRESENTATIVE_DAY[self.day_type]


DEFAULT_TIME_WINDOWS: tuple[TimeWindow, ...] = (
    TimeWindow(
        "weekday_peak", "weekday", "07:00", "09:00",
        "Weekday morning peak", "工作日早高峰", headway_field="headway_peak_min",
    ),
    # After a day shift (DESIGN.md: "evening 18:00-22:00 after a day shift").
    TimeWindow(
        "weekday_evening", "weekday", "18:00", "22:00",
        "Weekday evening (after day shift)", "工作日晚间（白班后）",
        headway_field="headway_evening_min",
    ),
    TimeWindow(
        "weekend_day", "weekend", "09:00", "18:00",
        "Weekend daytime (Saturday)", "周末白天（周六）", headway_field="headway_weekend_min",
    ),
    # After the 16:00-24:00 shift of three-shift plants; cf. Zhuzhou's 02:00 night-shift custom
    # bus for BAIC (PARAMETERS.md evidence 5.7).
    TimeWindow(
        "night_shift_end", "weekday", "00:00", "02:00",
        "After the night shift (00:00-02:00)", "夜班下班后（0:00–2:00）",
        headway_field="headway_night_min",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class TravelParameters:
    """Speeds, penalties and thresholds of the travel-time engine (sources in ``SOURCES``).

    Parameters
    ----------
    walk_speed_m_per_min
        Walking speed (default 60 m/min, GB 50647-2011; PARAMETERS.md item 14).
    ebike_speed_kmh
        E-bike speed (default 15 km/h; PARAMETERS.md item 15).
    bus_speed_kmh
        Bus commercial speed for routes without a speed of their own (default 15 km/h;
        PARAMETERS.md item 16).
    boarding_penalty_minutes
        Added at every boarding, including a transfer, on top of waiting (assumption).
    max_walk_access_minutes
        Longest walk from an origin to the first boarding stop, and between stops at a transfer.
    max_snap_distance_metres
        Points farther than this from the network are reported and get no travel time.
    circuity_factor
        Network / straight-line distance ratio used when a park has no road network.
    amenity_min_open_minutes
        An amenity counts in a window only if open at least this long within it (capped at the
        window's length); a route counts only if it runs at least this long within it.
    max_minutes
        Travel times above this are reported as unreachable (``inf``).
    """

    walk_speed_m_per_min: float = 60.0  # GB 50647-2011 design speed; PARAMETERS.md item 14
    ebike_speed_kmh: float = 15.0  # 道路交通安全法 Art. 58; PARAMETERS.md item 15
    bus_speed_kmh: float = 15.0  # mid-size city peak; PARAMETERS.md item 16
    boarding_penalty_minutes: float = 2.0  # assumption (see SOURCES)
    max_walk_access_minutes: float = 10.0  # assumption from the 500 m stop catchment (SOURCES)
    max_snap_distance_metres: float = 300.0  # assumption: one block / GB 50180 5-min radius
    circuity_factor: float = 1.3  # Newell 1980 ≈1.2; pedestrian routes higher (Dill 2003)
    amenity_min_open_minutes: float = 60.0  # assumption: time for one visit (see SOURCES)
    max_minutes: float = 60.0  # assumption: beyond the 15-min living circle by a wide margin

    def __post_init__(self) -> None:
        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParameterError(
                    f"{name} must be a number between {low:g} and {high:g}, got {value!r}",
                    column=name,
                )
            if not (math.isfinite(value) and low <= value <= high):
                raise ParameterError(
                    f"{name} = {value!r} is out of range; expected {low:g} to {high:g}",
                    column=name,
                )

    @property
    def ebike_speed_m_per_min(self) -> float:
        """E-bike speed converted to metres per minute."""
        return self.ebike_speed_kmh * 1000.0 / 60.0

    @property
    def bus_speed_m_per_min(self) -> float:
        """Default bus speed converted to metres per minute."""
        return self.bus_speed_kmh * 1000.0 / 60.0

    def min_open_minutes(self, window: TimeWindow) -> float:
        """Minutes an amenity or route must be open within ``window`` to count in it."""
        return min(self.amenity_min_open_minutes, window.duration_minutes)


_RANGES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "walk_speed_m_per_min": (20.0, 150.0),
        "ebike_speed_kmh": (5.0, 40.0),
        "bus_speed_kmh": (3.0, 80.0),
        "boarding_penalty_minutes": (0.0, 30.0),
        "max_walk_access_minutes": (1.0, 60.0),
        "max_snap_distance_metres": (1.0, 5000.0),
        "circuity_factor": (1.0, 3.0),
        "amenity_min_open_minutes": (0.0, 1440.0),
        "max_minutes": (1.0, 240.0),
    }
)
TRAVEL_RANGES = _RANGES
"""Valid range (inclusive) of each ``TravelParameters`` field, shown beside it in the UI."""

SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "walk_speed_m_per_min": (
            "60 m/min (1.0 m/s): pedestrian design speed of GB 50647-2011; matches GB 50180-2018's "
            "300 m per 5 min; conservative against observed 1.2-1.5 m/s (PARAMETERS.md item 14)."
        ),
        "ebike_speed_kmh": (
            "15 km/h: legal maximum for e-bikes in non-motorised lanes, 道路交通安全法 Art. 58; "
            "observed Hangzhou mean 17.1 km/h (PARAMETERS.md item 15)."
        ),
        "bus_speed_kmh": (
            "15 km/h: bus commercial speed at peak in a mid-size city, range 12-20; Kunming "
            "official peak 13-14 km/h (PARAMETERS.md item 16). Used when a route has no speed."
        ),
        "boarding_penalty_minutes": (
            "2 min per boarding: an assumption (walking to the door, boarding, paying), in line "
            "with the transfer penalties commonly used in accessibility studies; added to waiting "
            "= headway / 2 at every boarding including transfers."
        ),
        "max_walk_access_minutes": (
            "10 min: an assumption; Chinese planning uses a 500 m bus-stop catchment "
            "(GB/T 51328-2018, to verify), 8.3 min at 60 m/min, rounded up."
        ),
        "max_snap_distance_metres": (
            "300 m: an assumption, the GB 50180-2018 5-minute walking radius; a point farther "
            "from every road is reported rather than silently moved."
        ),
        "circuity_factor": (
            "1.3: network distance is about 1.2 x straight-line distance in cities (Newell 1980; "
            "O'Sullivan & Morrall 1996: 1.21-1.23 around stations; Ballou et al. 2002; Giacomin "
            "& Levinson 2015), higher for pedestrian routes (Dill 2003). Used only when a park "
            "has no road network; every result is then flagged as approximate."
        ),
        "amenity_min_open_minutes": (
            "60 min: an assumption; an amenity counts in a window if a worker can spend a "
            "typical visit there (a meal, a game, a clinic visit). Requiring the whole window "
            "would drop a shop open 10:00-22:00 from the 09:00-18:00 weekend window. Capped at "
            "the window's length; the same rule decides whether a route runs in a window."
        ),
        "max_minutes": (
            "60 min: an assumption, four times the 15-minute living circle (GB 50180-2018); "
            "longer trips are reported as unreachable."
        ),
    }
)


def travel_parameters_to_toml(
    params: TravelParameters, *, windows: tuple[TimeWindow, ...] = DEFAULT_TIME_WINDOWS
) -> str:
    """Render parameters and windows as TOML text, each travel value with its source as comment.

    Parameters
    ----------
    params
        Travel parameters.
    windows
        Time windows to write as ``[[time_windows]]`` tables.

    Returns
    -------
    str
        TOML text that :func:`travel_parameters_from_toml` reads back unchanged.
    """
    lines = ["# ParkLife travel parameters; edit values, keep the keys.", "", "[travel]"]
    for spec in fields(TravelParameters):
        lines.append(f"# {SOURCES[spec.name]}")
        lines.append(f"{spec.name} = {float(getattr(params, spec.name))!r}")
    for window in windows:
        lines += ["", "[[time_windows]]"]
        for spec in fields(TimeWindow):
            lines.append(f"{spec.name} = {_toml_string(getattr(window, spec.name))}")
    return "\n".join(lines) + "\n"


def travel_parameters_from_toml(
    text: str, *, file: str | None = None
) -> tuple[TravelParameters, tuple[TimeWindow, ...]]:
    """Read parameters and windows from TOML text; missing values keep their defaults.

    Parameters
    ----------
    text
        TOML with an optional ``[travel]`` table and optional ``[[time_windows]]`` tables.
    file
        File name used in error messages.

    Returns
    -------
    tuple[TravelParameters, tuple[TimeWindow, ...]]
        The parameters, and the windows (the defaults if the text has none).
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ParameterError(f"not valid TOML: {error}", file=file) from error
    unknown = set(document) - {"travel", "time_windows"}
    if unknown:
        raise ParameterError(
            f"unknown section(s) {sorted(unknown)}; expected [travel] and [[time_windows]]",
            file=file,
        )
    travel = document.get("travel", {})
    known = {spec.name for spec in fields(TravelParameters)}
    for key in travel:
        if key not in known:
            raise ParameterError(
                f"unknown travel parameter {key!r}; expected one of {', '.join(sorted(known))}",
                file=file,
                column=key,
            )
    try:
        params = TravelParameters(**travel)
    except ParameterError as error:
        raise ParameterError(_bare(error), file=file, column=error.column) from error
    tables = document.get("time_windows")
    if tables is None:
        return params, DEFAULT_TIME_WINDOWS
    windows = []
    window_fields = {spec.name for spec in fields(TimeWindow)}
    for row, table in enumerate(tables, start=1):
        extra = set(table) - window_fields
        missing = {spec.name for spec in fields(TimeWindow) if spec.name != "headway_field"}
        missing -= set(table)
        if extra or missing:
            raise ParameterError(
                f"time window table has unknown keys {sorted(extra)} / misses {sorted(missing)}",
                file=file,
                row=row,
            )
        try:
            windows.append(TimeWindow(**{key: str(value) for key, value in table.items()}))
        except ParameterError as error:
            raise ParameterError(_bare(error), file=file, row=row, column=error.column) from error
    keys = [window.key for window in windows]
    if len(set(keys)) != len(keys):
        raise ParameterError(f"time window keys repeat: {keys}; expected unique keys", file=file)
    return params, tuple(windows)


def load_travel_parameters(path: Path) -> tuple[TravelParameters, tuple[TimeWindow, ...]]:
    """Read a park's travel parameters and time windows from a TOML file."""
    return travel_parameters_from_toml(Path(path).read_text(encoding="utf-8"), file=Path(path).name)


def save_travel_parameters(
    params: TravelParameters,
    path: Path,
    *,
    windows: tuple[TimeWindow, ...] = DEFAULT_TIME_WINDOWS,
) -> None:
    """Write travel parameters and time windows to a TOML file (UTF-8)."""
    Path(path).write_text(travel_parameters_to_toml(params, windows=windows), encoding="utf-8")


def _toml_string(value: Any) -> str:
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _bare(error: ParameterError) -> str:
    """The message of ``error`` without its ``column '...': `` prefix, to re-raise with a file."""
    text = str(error)
    prefix = f"column {error.column!r}: " if error.column else ""
    return text.removeprefix(prefix)
