"""Tests for retention.access.parameters: defaults and sources, window arithmetic, TOML round
trip."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pytest

from retention.access.parameters import (
    DEFAULT_TIME_WINDOWS,
    SOURCES,
    TimeWindow,
    TravelParameters,
    load_travel_parameters,
    save_travel_parameters,
    travel_parameters_from_toml,
    travel_parameters_to_toml,
)
from retention.errors import ParameterError


def test_defaults_follow_parameters_md() -> None:
    params = TravelParameters()
    assert params.walk_speed_m_per_min == 60.0
    assert params.ebike_speed_kmh == 15.0
    assert params.bus_speed_kmh == 15.0
    assert params.ebike_speed_m_per_min == pytest.approx(250.0)


def test_every_field_has_a_source() -> None:
    names = {spec.name for spec in dataclasses.fields(TravelParameters)}
    assert set(SOURCES) == names
    assert "item 14" in SOURCES["walk_speed_m_per_min"]
    assert "assumption" in SOURCES["boarding_penalty_minutes"]


def test_default_windows() -> None:
    by_key = {window.key: window for window in DEFAULT_TIME_WINDOWS}
    assert list(by_key) == ["weekday_peak", "weekday_evening", "weekend_day", "night_shift_end"]
    assert by_key["weekday_evening"].duration_minutes == 240
    assert by_key["weekend_day"].day == "Sa"
    assert by_key["night_shift_end"].start_minute == 0
    assert by_key["night_shift_end"].end_minute == 120
    assert by_key["weekday_peak"].headway_field == "headway_peak_min"


def test_window_across_midnight_and_derived_headway_field() -> None:
    window = TimeWindow("late", "weekday", "22:00", "02:00", "Late", "深夜")
    assert window.end_minute == 26 * 60
    assert window.duration_minutes == 240
    assert window.headway_field == "headway_late_min"


def test_min_open_minutes_is_capped_by_window() -> None:
    params = TravelParameters(amenity_min_open_minutes=90)
    short = TimeWindow("short", "weekday", "12:00", "12:30", "Lunch", "午休")
    assert params.min_open_minutes(short) == 30
    assert params.min_open_minutes(DEFAULT_TIME_WINDOWS[0]) == 90


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"day_type": "holiday"}, r"day_type 'holiday' is not one of weekday, weekend"),
        ({"start": "7am"}, r"time '7am' is not a clock time"),
        ({"end": "07:00"}, r"is empty \(07:00-07:00\)"),
        ({"key": "peak hour"}, r"key 'peak hour' is not an identifier"),
    ],
)
def test_bad_windows_are_rejected(kwargs: dict[str, str], message: str) -> None:
    base = {
        "key": "w",
        "day_type": "weekday",
        "start": "07:00",
        "end": "09:00",
        "label_en": "W",
        "label_zh": "窗",
    }
    with pytest.raises(ParameterError, match=message):
        TimeWindow(**(base | kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"walk_speed_m_per_min": 0}, r"walk_speed_m_per_min = 0 is out of range; expected 20"),
        ({"circuity_factor": 0.9}, r"circuity_factor = 0.9 is out of range; expected 1 to 3"),
        ({"max_minutes": float("nan")}, r"max_minutes = nan is out of range"),
        ({"ebike_speed_kmh": "fast"}, r"ebike_speed_kmh must be a number between 5 and 40"),
        ({"boarding_penalty_minutes": True}, r"boarding_penalty_minutes must be a number"),
    ],
)
def test_bad_parameters_are_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        TravelParameters(**kwargs)  # type: ignore[arg-type]


def test_toml_round_trip(tmp_path: Path) -> None:
    params = TravelParameters(walk_speed_m_per_min=72.5, boarding_penalty_minutes=0.0)
    windows = (
        *DEFAULT_TIME_WINDOWS[:2],
        TimeWindow("lunch", "weekday", "11:30", "13:00", 'Lunch "break"', "午休"),
    )
    path = tmp_path / "travel.toml"
    save_travel_parameters(params, path, windows=windows)
    assert load_travel_parameters(path) == (params, windows)
    assert "GB 50647" in path.read_text(encoding="utf-8")


def test_toml_text_has_sources_as_comments() -> None:
    text = travel_parameters_to_toml(TravelParameters(), windows=())
    assert "[travel]\n# 60 m/min" in text
    assert "[[time_windows]]" not in text


def test_toml_partial_keeps_defaults() -> None:
    params, windows = travel_parameters_from_toml("[travel]\nmax_minutes = 45\n")
    assert params == TravelParameters(max_minutes=45)
    assert windows == DEFAULT_TIME_WINDOWS


def test_toml_errors_name_file_row_and_column() -> None:
    with pytest.raises(
        ParameterError,
        match=r"^file 'p.toml', column 'ebike_speed_kmh': ebike_speed_kmh = 99 is out of range",
    ):
        travel_parameters_from_toml("[travel]\nebike_speed_kmh = 99\n", file="p.toml")
    with pytest.raises(ParameterError, match=r"unknown travel parameter 'walk_kmh'"):
        travel_parameters_from_toml("[travel]\nwalk_kmh = 4\n", file="p.toml")
    bad_window = (
        '[[time_windows]]\nkey = "a"\nday_type = "weekday"\nstart = "07:00"\nend = "09:00"\n'
        'label_en = "A"\nlabel_zh = "甲"\n'
        '[[time_windows]]\nkey = "b"\nday_type = "sunday"\nstart = "07:00"\nend = "09:00"\n'
        'label_en = "B"\nlabel_zh = "乙"\n'
    )
    with pytest.raises(ParameterError, match=r"^file 'p.toml', row 2, column 'day_type'"):
        travel_parameters_from_toml(bad_window, file="p.toml")
    with pytest.raises(ParameterError, match=r"not valid TOML"):
        travel_parameters_from_toml("[travel\n", file="p.toml")


@pytest.mark.parametrize(
    ("field", "unit"),
    [("walk_speed_m_per_min", "m/min"), ("ebike_speed_kmh", "km/h"), ("bus_speed_kmh", "km/h")],
)
def test_travel_docstring_states_the_default_speeds(field: str, unit: str) -> None:
    doc = inspect.getdoc(TravelParameters) or ""
    entry = re.search(rf"^{field}\n((?: {{4}}.*\n)+)", doc, flags=re.MULTILINE)
    assert entry is not None, field
    stated = re.search(rf"default (\d+(?:\.\d+)?) {re.escape(unit)}", entry.group(1))
    assert stated is not None, entry.group(1)
    assert float(stated.group(1)) == getattr(TravelParameters(), field)
