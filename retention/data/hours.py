"""Opening hours: the subset of the OSM ``opening_hours`` syntax ParkLife reads.

Grammar (whitespace-tolerant; full-width ``：；，～－`` are accepted as typed in Chinese sheets)::

    text      := "24/7" | rule (";" rule)*
    rule      := "24/7" | [days " "] span ("," span)* | days " off"
    days      := dayrange ("," dayrange)*          e.g. "Mo-Fr", "Sa-Su", "Mo,We,Fr"
    dayrange  := day | day "-" day                 day in Mo Tu We Th Fr Sa Su (ranges may wrap)
    span      := HH:MM "-" HH:MM                   end up to 24:00; end <= start passes midnight

Semantics follow OSM: a rule without days applies to every day; a later rule *replaces* what
earlier rules said for the days it names. A span that passes midnight ("Fr 18:00-02:00") belongs
to the day it starts on, so it runs into the next morning and is only replaced by a later rule
naming the day it starts on (as in the reference ``opening_hours.js`` evaluator).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retention.errors import ValidationError

DAYS: tuple[str, ...] = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

_FORMAT_HINT = (
    'expected OSM opening hours such as "24/7", "Mo-Fr 08:00-18:00; Sa 09:00-12:00", '
    '"Mo,We,Fr 18:00-02:00" or "Su off"'
)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_SPAN = re.compile(r"^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")
_DAY_TOKEN = re.compile(r"^[A-Za-z]{2}(-[A-Za-z]{2})?(,[A-Za-z]{2}(-[A-Za-z]{2})?)*$")
_FULL_WIDTH = str.maketrans(
    {"：": ":", "；": ";", "，": ",", "～": "-", "~": "-", "－": "-", "–": "-", "—": "-"}
)


@dataclass(frozen=True)
class OpeningHours:
    """A weekly opening schedule.

    Parameters
    ----------
    text
        The expression as written (normalised whitespace).
    intervals
        Open intervals in minutes since Monday 00:00, sorted, merged, within ``[0, 10080]``;
        a Sunday span passing midnight is split and its tail starts at Monday 00:00.
    """

    text: str
    intervals: tuple[tuple[int, int], ...]

    @property
    def weekly_open_minutes(self) -> int:
        """Minutes open per week."""
        return sum(end - start for start, end in self.intervals)

    def open_minutes(self, day: str, start_minute: int, end_minute: int) -> int:
        """Return the minutes open within a window starting on ``day``.

        Assumptions: ``start_minute`` is minutes after 00:00 of ``day`` in ``[0, 1440)``; if
        ``end_minute <= start_minute`` the window passes midnight into the next day (so
        ``(1320, 120)`` is 22:00-02:00). ``end_minute`` may also be given past 1440.

        Parameters
        ----------
        day
            Day the window starts on: one of ``Mo Tu We Th Fr Sa Su``.
        start_minute, end_minute
            Window bounds in minutes after 00:00 of ``day``.

        Returns
        -------
        int
            Minutes within the window during which the place is open.
        """
        week_start = _day_index(day) * MINUTES_PER_DAY + _window_start(start_minute)
        length = _window_length(start_minute, end_minute)
        return _overlap_with_week(self.intervals, week_start, week_start + length)

    def is_open_at(self, day: str, minute: int) -> bool:
        """Return whether the place is open during the minute starting at ``minute`` of ``day``.

        Parameters
        ----------
        day
            One of ``Mo Tu We Th Fr Sa Su``.
        minute
            Minutes after 00:00 of ``day``, in ``[0, 1440)``.
        """
        week_minute = _day_index(day) * MINUTES_PER_DAY + _window_start(minute)
        return any(start <= week_minute < end for start, end in self.intervals)

    def __str__(self) -> str:
        return self.text


def parse_time_minutes(text: str) -> int:
    """Parse ``HH:MM`` (00:00-24:00) into minutes after midnight.

    Parameters
    ----------
    text
        A clock time such as ``"07:30"``; ``"24:00"`` means the end of the day.

    Returns
    -------
    int
        Minutes after 00:00, in ``[0, 1440]``.
    """
    match = _TIME.match(str(text).strip().translate(_FULL_WIDTH))
    if match is None:
        raise ValidationError(f'time {text!r} is not a clock time; expected "HH:MM" like "07:30"')
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes != 0):
        raise ValidationError(
            f'time {text!r} is out of range; expected "HH:MM" between 00:00 and 24:00'
        )
    return hours * 60 + minutes


def parse_opening_hours(text: str) -> OpeningHours:
    """Parse an opening-hours expression (see the module docstring for the grammar).

    Parameters
    ----------
    text
        The expression, e.g. ``"Mo-Fr 08:00-20:00; Sa-Su 09:00-22:00"``.

    Returns
    -------
    OpeningHours
        The weekly schedule.

    Raises
    ------
    ValidationError
        Naming the offending token and the expected format. The message carries no file or row:
        callers that know them catch and re-raise with that context.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(f"opening hours {text!r} are empty; {_FORMAT_HINT}")
    normalised = " ".join(text.translate(_FULL_WIDTH).split())
    # Each day owns the spans that start on it; spans may end up to 48:00 (next morning).
    spans_by_day: list[tuple[tuple[int, int], ...]] = [() for _ in DAYS]
    rules = [rule.strip() for rule in normalised.split(";")]
    if not any(rules):
        raise ValidationError(f"opening hours {text!r} contain no rule; {_FORMAT_HINT}")
    for rule in rules:
        if not rule:
            continue  # tolerate "a;" and "a;;b" as typed in spreadsheets
        days, spans = _parse_rule(rule)
        for day in days:
            spans_by_day[day] = spans
    return OpeningHours(text=normalised, intervals=_week_intervals(spans_by_day))


def _parse_rule(rule: str) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    if rule == "24/7":
        return tuple(range(len(DAYS))), ((0, MINUTES_PER_DAY),)
    # Allow "Mo-Fr 08:00 - 12:00 , 14:00-18:00" by gluing the tokens around "-" and ",".
    compact = re.sub(r"\s*([-,])\s*", r"\1", rule)
    head, _, tail = compact.partition(" ")
    if _DAY_TOKEN.match(head) and not _SPAN.match(head):
        days = _parse_days(head)
        selector = tail.strip()
    else:
        days = tuple(range(len(DAYS)))
        selector = compact
    if not selector:
        raise ValidationError(
            f"opening-hours rule {rule!r} names days but no times; "
            f'expected e.g. "{head} 08:00-18:00" or "{head} off"'
        )
    if selector.lower() in {"off", "closed"}:
        return days, ()
    tokens = selector.split(" ")
    if len(tokens) > 1:
        bad = next((token for token in tokens if not _SPAN.match(token)), tokens[1])
        raise ValidationError(f"opening-hours token {bad!r} is not understood; {_FORMAT_HINT}")
    return days, tuple(_parse_span(token) for token in selector.split(","))


def _parse_days(token: str) -> tuple[int, ...]:
    chosen: list[int] = []
    for part in token.split(","):
        first, _, last = part.partition("-")
        start = _day_index(first, context=token)
        end = _day_index(last, context=token) if last else start
        count = (end - start) % len(DAYS) + 1
        chosen.extend((start + offset) % len(DAYS) for offset in range(count))
    return tuple(dict.fromkeys(chosen))


def _parse_span(token: str) -> tuple[int, int]:
    match = _SPAN.match(token)
    if match is None:
        raise ValidationError(
            f'opening-hours time span {token!r} is not understood; expected "HH:MM-HH:MM" '
            f'like "08:00-18:00" (or "18:00-02:00" past midnight)'
        )
    try:
        start = parse_time_minutes(match.group(1))
        end = parse_time_minutes(match.group(2))
    except ValidationError as error:
        raise ValidationError(
            f"opening-hours time span {token!r}: {error}; an end of 24:00 is the latest"
        ) from error
    if start == MINUTES_PER_DAY:
        raise ValidationError(
            f"opening-hours time span {token!r} starts at 24:00; expected a start of 00:00-23:59"
        )
    if end == start:
        raise ValidationError(
            f'opening-hours time span {token!r} is empty; use "00:00-24:00" for all day'
        )
    if end < start:
        end += MINUTES_PER_DAY  # passes midnight into the next day
    return start, end


def _day_index(day: str, *, context: str | None = None) -> int:
    normalised = str(day).strip().capitalize()
    if normalised not in DAYS:
        where = f" in {context!r}" if context else ""
        raise ValidationError(
            f"day {day!r}{where} is not a day; expected one of {' '.join(DAYS)}, "
            'as a range ("Mo-Fr") or a list ("Mo,We,Fr")'
        )
    return DAYS.index(normalised)


def _window_start(minute: int) -> int:
    if not 0 <= int(minute) < MINUTES_PER_DAY:
        raise ValidationError(f"minute {minute!r} is out of range; expected 0-1439 after 00:00")
    return int(minute)


def _window_length(start_minute: int, end_minute: int) -> int:
    if not 0 <= int(end_minute) <= 2 * MINUTES_PER_DAY:
        raise ValidationError(
            f"window end minute {end_minute!r} is out of range; expected 0-2880 after 00:00"
        )
    end = int(end_minute)
    if end <= start_minute:
        end += MINUTES_PER_DAY
    return min(end - int(start_minute), MINUTES_PER_WEEK)


def _week_intervals(spans_by_day: list[tuple[tuple[int, int], ...]]) -> tuple[tuple[int, int], ...]:
    pieces: list[tuple[int, int]] = []
    for day, spans in enumerate(spans_by_day):
        for start, end in spans:
            begin, finish = day * MINUTES_PER_DAY + start, day * MINUTES_PER_DAY + end
            if finish > MINUTES_PER_WEEK:  # Sunday night runs into Monday morning
                pieces.append((begin, MINUTES_PER_WEEK))
                pieces.append((0, finish - MINUTES_PER_WEEK))
            else:
                pieces.append((begin, finish))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _overlap_with_week(intervals: tuple[tuple[int, int], ...], start: int, end: int) -> int:
    """Overlap of ``[start, end)`` (may run past the week's end) with the weekly intervals."""
    total = 0
    for shift in (0, MINUTES_PER_WEEK):
        for open_start, open_end in intervals:
            low = max(open_start + shift, start)
            high = min(open_end + shift, end)
            if high > low:
                total += high - low
    return total
