"""The value-mapping step: every distinct answer of the coded questions, its count and code.

After the columns are mapped, ``answer_table`` lists each distinct answer text of every mapped
ordinal question (satisfaction, importance, intent to leave) and categorical question (age
band, shift, wage band, commute mode) with how often it occurs and a suggested code:

* ``saved`` — the park's earlier decision for that answer (``ValueMap`` from the store);
* ``number`` — a plain number 1–5 (or a code already);
* ``dictionary`` — a known wording (``retention.survey.answers.LIKERT_SCALES``, the category
  parsers of ``retention.survey.mapping``);
* ``skip`` — a skip marker (``(跳过)``, ``(空)``, ``-3``): coded as missing;
* ``option_order`` — an answer prefixed by its option letter or number (``C. 还行``), coded by
  its position in the option list, oriented by the prefixed answers the dictionary knows;
* ``unknown`` — no code: the user must decide. Until then the cell is reported, never coded.

The user edits the ``code`` column; ``value_map_from_table`` turns the table into the
``ValueMap`` that ``retention.survey.importer.import_survey`` applies and the store saves.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

from retention.errors import ValidationError
from retention.survey.answers import (
    CODED_TARGETS,
    MISSING,
    ValueMap,
    is_skipped,
    likert_text_map,
    value_group,
)
from retention.survey.mapping import IGNORE, CellError, ColumnMapping, parse_likert, read_cell
from retention.survey.schema import (
    AGE_BAND_DTYPE,
    COMMUTE_MODE_DTYPE,
    SHIFT_DTYPE,
    WAGE_BAND_DTYPE,
)

VALUE_TABLE_COLUMNS = ("group", "answer", "count", "columns", "code", "source")
MISSING_CODE = "missing"
"""How the table writes the code of an answer to treat as not given."""
LIKERT_GROUPS = ("satisfaction", "importance", "intent_to_leave")
GROUP_CODES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        **{g: ("1", "2", "3", "4", "5") for g in LIKERT_GROUPS},
        "age_band": tuple(AGE_BAND_DTYPE.categories),
        "shift": tuple(SHIFT_DTYPE.categories),
        "wage_band": tuple(WAGE_BAND_DTYPE.categories),
        "commute_mode": tuple(COMMUTE_MODE_DTYPE.categories),
    }
)
"""Codes each group accepts (plus ``MISSING_CODE``)."""
CODE_OPTIONS: tuple[str, ...] = tuple(
    dict.fromkeys([MISSING_CODE, *(c for codes in GROUP_CODES.values() for c in codes)])
)
"""Every code the editor offers."""

_OPTION_PREFIX = re.compile(r"^\s*(?P<key>[A-Ea-e1-5①②③④⑤])\s*[.、．:：)）]\s*(?P<text>.+?)\s*$")
_CIRCLED = "①②③④⑤"


def _option_index(key: str) -> int:
    if key in _CIRCLED:
        return _CIRCLED.index(key) + 1
    if key.isdigit():
        return int(key)
    return "abcde".index(key.lower()) + 1


def _dictionary_code(group: str, text: str) -> str | None:
    try:
        if group in LIKERT_GROUPS:
            return str(parse_likert(text, likert_text_map(group)))
        value = read_cell(group, text)
    except CellError:
        return None
    return None if value is None else str(value)


def _orientation(group: str, answers: list[str]) -> int | None:
    """Return +1 if option A is code 1, -1 if option A is code 5, ``None`` if unknown."""
    votes: Counter[int] = Counter()
    for answer in answers:
        match = _OPTION_PREFIX.match(answer)
        if not match:
            continue
        known = likert_text_map(group).get(match.group("text"))
        if known is None:
            continue
        index = _option_index(match.group("key"))
        votes[1 if known == index else -1 if known == 6 - index else 0] += 1
    if not votes:
        return None
    best, count = votes.most_common(1)[0]
    return best if best and count == sum(votes.values()) else None


def suggest_code(
    group: str, answer: str, *, siblings: list[str] | None = None
) -> tuple[str | None, str]:
    """Return the suggested code of ``answer`` in ``group`` and where it came from.

    Parameters
    ----------
    group
        A value-mapping group (``retention.survey.answers.value_group``).
    answer
        The answer text as exported.
    siblings
        The group's other answers, to orient option-order suggestions.

    Returns
    -------
    tuple
        ``(code or None, source)``; see the module docstring for the sources.
    """
    text = answer.strip()
    if is_skipped(text):
        return MISSING_CODE, "skip"
    code = _dictionary_code(group, text)
    if code is not None:
        number = re.fullmatch(r"[1-5](?:\.0)?", text) or text in GROUP_CODES.get(group, ())
        return code, "number" if number else "dictionary"
    match = _OPTION_PREFIX.match(text)
    if match and group in LIKERT_GROUPS:
        direction = _orientation(group, siblings or [])
        if direction is not None:
            index = _option_index(match.group("key"))
            return str(index if direction > 0 else 6 - index), "option_order"
    return None, "unknown"


def answer_table(
    frame: pd.DataFrame, mapping: ColumnMapping, *, saved: ValueMap | None = None
) -> pd.DataFrame:
    """List every distinct answer of the mapped coded questions with its count and code.

    Assumes ``frame`` holds the raw text cells (``RawSurvey.frame``) under the mapping's
    headers. Blank cells are not answers and are not listed.

    Parameters
    ----------
    frame
        Raw cells.
    mapping
        Column targets; columns mapped to ordinal or categorical targets are listed.
    saved
        The park's saved value map: its codes win over suggestions.

    Returns
    -------
    pandas.DataFrame
        ``VALUE_TABLE_COLUMNS``, one row per (group, answer), by group then count (most frequent
        first); ``code`` is ``None`` for an answer awaiting a decision.
    """
    counts: dict[tuple[str, str], int] = {}
    columns: dict[tuple[str, str], set[str]] = {}
    for column, target in mapping.as_dict().items():
        group = value_group(target) if target != IGNORE else None
        if group is None or column not in frame.columns:
            continue
        for value in frame[column].tolist():
            text = "" if value is None else str(value).strip()
            if not text:
                continue
            counts[(group, text)] = counts.get((group, text), 0) + 1
            columns.setdefault((group, text), set()).add(column)
    saved_codes = saved.as_dict() if saved is not None else {}
    by_group: dict[str, list[str]] = {}
    for group, text in counts:
        by_group.setdefault(group, []).append(text)
    records = []
    for (group, text), count in counts.items():
        code: str | None
        if (group, text) in saved_codes:
            stored = saved_codes[(group, text)]
            code, source = (MISSING_CODE if stored == MISSING else stored), "saved"
        else:
            code, source = suggest_code(group, text, siblings=by_group[group])
        records.append((group, text, count, len(columns[(group, text)]), code, source))
    order = {g: i for i, g in enumerate((*LIKERT_GROUPS, *CODED_TARGETS))}
    records.sort(key=lambda r: (order.get(r[0], 99), -r[2], r[1]))
    return pd.DataFrame(records, columns=list(VALUE_TABLE_COLUMNS)).astype(
        {"count": "int64", "columns": "int64", "code": "object"}
    )


def unknown_answers(table: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of an answer table that have no code yet (awaiting a decision)."""
    codes = table["code"]
    return table[codes.isna() | (codes.astype("string").str.strip() == "")]


def value_map_from_table(table: pd.DataFrame) -> ValueMap:
    """Build the ``ValueMap`` of an (edited) answer table.

    Rows without a code are left out, so those answers stay unreadable (reported, never
    coded); ``MISSING_CODE`` becomes ``retention.survey.answers.MISSING``.

    Raises
    ------
    ValidationError
        A code its group does not accept (naming the answer, the code and the codes allowed).
    """
    entries = []
    for row in table.itertuples(index=False):
        code = row.code
        if code is None or (isinstance(code, float) and pd.isna(code)) or not str(code).strip():
            continue
        group, answer, text = str(row.group), str(row.answer), str(code).strip()
        allowed = GROUP_CODES.get(group)
        if allowed is None:
            raise ValidationError(f"unknown value group {group!r}", column="group")
        if text != MISSING_CODE and text not in allowed:
            raise ValidationError(
                f"code {text!r} for answer {answer!r} is not allowed in {group}; expected one "
                f"of {', '.join((*allowed, MISSING_CODE))}",
                column=answer,
            )
        entries.append((group, answer, MISSING if text == MISSING_CODE else text))
    return ValueMap(tuple(sorted(entries)))
