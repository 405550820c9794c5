"""Tests for retention.data.hours: known answers, error messages, and a minute-by-minute
reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retention.data.hours import DAYS, MINUTES_PER_WEEK, parse_opening_hours, parse_time_minutes
from retention.errors import ValidationError


def test_24_7_is_always_open() -> None:
    hours = parse_opening_hours("24/7")
    assert hours.intervals == ((0, MINUTES_PER_WEEK),)
    assert hours.open_minutes("Su", 22 * 60, 2 * 60) == 240
    assert hours.is_open_at("We", 3 * 60)


def test_weekday_rule_and_weekend_closed() -> None:
    hours = parse_opening_hours("Mo-Fr 08:00-18:00")
    assert hours.open_minutes("Mo", 7 * 60, 9 * 60) == 60
    assert hours.open_minutes("Fr", 18 * 60, 22 * 60) == 0
    assert hours.open_minutes("Sa", 9 * 60, 18 * 60) == 0
    assert hours.weekly_open_minutes == 5 * 600


def test_split_spans_and_day_list() -> None:
    hours = parse_opening_hours("Mo,We,Fr 08:00-12:00,14:00-18:00")
    assert hours.open_minutes("We", 11 * 60, 15 * 60) == 120  # 11-12 and 14-15
    assert hours.open_minutes("Tu", 0, 1440) == 0
    assert not hours.is_open_at("Mo", 12 * 60 + 30)
    assert hours.is_open_at("Mo", 14 * 60)
    assert not hours.is_open_at("Mo", 18 * 60)  # the end minute is closed


def test_span_past_midnight_runs_into_next_day() -> None:
    hours = parse_opening_hours("Mo-Sa 18:00-02:00")
    # Night-shift window 00:00-02:00 on Tuesday is served by Monday's evening opening.
    assert hours.open_minutes("Tu", 0, 120) == 120
    # Monday 00:00-02:00 would need Sunday's opening, and Sunday is closed.
    assert hours.open_minutes("Mo", 0, 120) == 0
    assert hours.open_minutes("Su", 0, 120) == 120  # Saturday night spills into Sunday
    assert hours.open_minutes("Sa", 22 * 60, 6 * 60) == 240


def test_sunday_night_wraps_to_monday_morning() -> None:
    hours = parse_opening_hours("Su 22:00-03:00")
    assert hours.intervals == ((0, 180), (MINUTES_PER_WEEK - 120, MINUTES_PER_WEEK))
    assert hours.open_minutes("Mo", 0, 120) == 120
    assert hours.is_open_at("Mo", 179)
    assert not hours.is_open_at("Mo", 180)


def test_window_crossing_midnight() -> None:
    hours = parse_opening_hours("Mo-Su 06:00-24:00")
    assert hours.open_minutes("Mo", 22 * 60, 2 * 60) == 120  # 22:00-24:00 only
    assert hours.open_minutes("Mo", 22 * 60, 26 * 60) == 120  # same window written past 24:00


def test_later_rule_overrides_named_days() -> None:
    hours = parse_opening_hours("Mo-Su 08:00-22:00; Sa-Su 10:00-16:00; Su off")
    assert hours.open_minutes("Fr", 0, 1440) == 14 * 60
    assert hours.open_minutes("Sa", 0, 1440) == 6 * 60
    assert hours.open_minutes("Su", 0, 1440) == 0


def test_override_keeps_spill_from_previous_day() -> None:
    # Friday's 22:00-02:00 belongs to Friday; "Sa off" replaces Saturday's own spans only.
    hours = parse_opening_hours("Mo-Su 22:00-02:00; Sa off")
    assert hours.open_minutes("Sa", 0, 1440) == 120
    assert hours.open_minutes("Su", 0, 1440) == 120  # nothing spills from Saturday


def test_rule_without_days_applies_to_every_day() -> None:
    hours = parse_opening_hours("06:30-21:00")
    assert all(hours.open_minutes(day, 0, 1440) == 870 for day in DAYS)


def test_wrapping_day_range() -> None:
    hours = parse_opening_hours("Fr-Mo 10:00-11:00")
    assert [hours.open_minutes(day, 0, 1440) for day in DAYS] == [60, 0, 0, 0, 60, 60, 60]


def test_full_width_punctuation_and_spaces_are_accepted() -> None:
    hours = parse_opening_hours("Mo-Fr 08：00～12：00， 14:00 - 18:00；Sa off")
    assert hours.open_minutes("Mo", 0, 1440) == 480
    assert hours.text == "Mo-Fr 08:00-12:00, 14:00 - 18:00;Sa off"


def test_end_24_00_and_trailing_semicolon() -> None:
    hours = parse_opening_hours("Mo-Fr 00:00-24:00;")
    assert hours.open_minutes("Fr", 0, 1440) == 1440
    assert hours.open_minutes("Sa", 0, 1440) == 0


def test_parse_time_minutes() -> None:
    assert parse_time_minutes("07:30") == 450
    assert parse_time_minutes("24:00") == 1440
    with pytest.raises(ValidationError, match=r"time '25:00' is out of range; expected \"HH:MM\""):
        parse_time_minutes("25:00")
    with pytest.raises(ValidationError, match=r"time '7h30' is not a clock time"):
        parse_time_minutes("7h30")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"opening hours '' are empty; expected OSM opening hours such as \"24/7\""),
        ("Mon-Fri 08:00-18:00", r"token 'Mon-Fri' is not understood; expected OSM opening hours"),
        ("Xy 08:00-18:00", r"day 'Xy' in 'Xy' is not a day; expected one of Mo Tu We Th Fr"),
        ("Mo-Fr 8-18", r"time span '8-18' is not understood; expected \"HH:MM-HH:MM\""),
        ("Mo-Fr 08:00-25:00", r"time span '08:00-25:00': time '25:00' is out of range"),
        ("Mo-Fr 24:00-02:00", r"time span '24:00-02:00' starts at 24:00"),
        ("Mo-Fr 08:00-08:00", r"time span '08:00-08:00' is empty; use \"00:00-24:00\""),
        ("Mo-Fr", r"rule 'Mo-Fr' names days but no times; expected e.g. \"Mo-Fr 08:00-18:00\""),
        (";", r"opening hours ';' contain no rule"),
        ("Mo 08:00-09:00 10:00-11:00", r"token '10:00-11:00' is not understood"),
    ],
)
def test_bad_expressions_name_the_token(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_opening_hours(text)


def test_query_validates_day_and_minutes() -> None:
    hours = parse_opening_hours("24/7")
    with pytest.raises(ValidationError, match=r"day 'Monday' is not a day"):
        hours.open_minutes("Monday", 0, 60)
    with pytest.raises(ValidationError, match=r"minute 1440 is out of range"):
        hours.is_open_at("Mo", 1440)


def test_result_is_frozen() -> None:
    hours = parse_opening_hours("24/7")
    with pytest.raises(AttributeError):
        hours.text = "Mo off"  # type: ignore[misc]


# --- property tests against an independent minute-by-minute reference -----------------------

_span = st.tuples(st.integers(0, 1439), st.integers(1, 1440)).filter(lambda s: s[0] != s[1] % 1440)
_rule = st.tuples(
    st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True),
    st.one_of(st.none(), st.lists(_span, min_size=1, max_size=3)),
)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _render(rules: list[tuple[list[int], list[tuple[int, int]] | None]]) -> str:
    parts = []
    for days, spans in rules:
        day_text = ",".join(DAYS[d] for d in days)
        if spans is None:
            parts.append(f"{day_text} off")
        else:
            parts.append(day_text + " " + ",".join(f"{_clock(a)}-{_clock(b)}" for a, b in spans))
    return "; ".join(parts)


def _reference_week(rules: list[tuple[list[int], list[tuple[int, int]] | None]]) -> np.ndarray:
    owned: dict[int, list[tuple[int, int]]] = {}
    for days, spans in rules:
        for day in days:
            owned[day] = list(spans or [])
    week = np.zeros(MINUTES_PER_WEEK, dtype=bool)
    for day, spans in owned.items():
        for start, end in spans:
            length = end - start if end > start else end + 1440 - start
            minutes = (day * 1440 + start + np.arange(length)) % MINUTES_PER_WEEK
            week[minutes] = True
    return week


@settings(max_examples=150, derandomize=True, deadline=None)
@given(
    rules=st.lists(_rule, min_size=1, max_size=4),
    day=st.integers(0, 6),
    start=st.integers(0, 1439),
    end=st.integers(0, 2880),
)
def test_open_minutes_match_minute_reference(
    rules: list[tuple[list[int], list[tuple[int, int]] | None]], day: int, start: int, end: int
) -> None:
    hours = parse_opening_hours(_render(rules))
    week = _reference_week(rules)
    length = (end if end > start else end + 1440) - start
    minutes = (day * 1440 + start + np.arange(length)) % MINUTES_PER_WEEK
    assert hours.open_minutes(DAYS[day], start, end) == int(week[minutes].sum())
    assert hours.is_open_at(DAYS[day], start) == bool(week[day * 1440 + start])
    assert hours.weekly_open_minutes == int(week.sum())


@settings(max_examples=100, derandomize=True, deadline=None)
@given(
    rules=st.lists(_rule, min_size=1, max_size=4),
    day=st.integers(0, 6),
    start=st.integers(0, 1439),
    first=st.integers(1, 600),
    second=st.integers(1, 600),
)
def test_open_minutes_add_up_over_split_windows(
    rules: list[tuple[list[int], list[tuple[int, int]] | None]],
    day: int,
    start: int,
    first: int,
    second: int,
) -> None:
    hours = parse_opening_hours(_render(rules))
    middle = start + first
    next_day, middle_of_day = divmod(middle, 1440)
    whole = hours.open_minutes(DAYS[day], start, start + first + second)
    part_one = hours.open_minutes(DAYS[day], start, middle)
    part_two = hours.open_minutes(DAYS[(day + next_day) % 7], middle_of_day, middle_of_day + second)
    assert whole == part_one + part_two
    assert 0 <= whole <= first + second
