"""The canonical clean survey table: one row per respondent.

Every survey source (a Wenjuanxing export, a CSV from an HR system, the synthetic demo) is turned
into this one pandas DataFrame by ``retention.survey.importer``; everything downstream (weighting,
IPA, the retention model) reads only this table. Respondent ids in it are already pseudonymous
(a salted hash, see ``retention.survey.privacy``); raw ids never reach it.

Columns (``SURVEY_COLUMNS`` in order):

================== ================= ===========================================================
column             dtype             meaning
================== ================= ===========================================================
respondent_id      string            salted hash of the raw respondent id (required, unique)
enterprise_id      string            id in the enterprises layer (required)
residence_id       string            id in the residences layer (nullable)
age_band           ordered category  ``AgeBand`` values (nullable)
tenure_months      float64           months with the current employer (nullable, >= 0)
shift              category          ``ShiftPattern`` values (nullable)
wage_band          ordered category  ``WageBand`` values, CNY per month (nullable)
commute_mode       category          ``CommuteMode`` values (nullable)
commute_minutes    float64           one-way commute, minutes (nullable, >= 0)
sat_<category>     Int64             satisfaction 1–5 per ``AmenityCategory`` (nullable: skipped)
imp_<category>     Int64             importance 1–5 per ``AmenityCategory`` (nullable: skipped)
overall_satisfaction Int64           overall satisfaction with life in the park, 1–5 (nullable)
intent_to_leave    Int64             1 = definitely staying … 5 = definitely leaving within
                                     12 months (required)
reasons            object            list of ``LeaveReason`` values (empty list when none)
submitted_at       datetime64[ns]    submission day, time of day dropped (nullable)
wave               string            survey wave label, e.g. ``"2024-spring"`` (required)
================== ================= ===========================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeGuard

import numpy as np
import pandas as pd

from retention.data.layers import AmenityCategory, ShiftPattern
from retention.errors import ValidationError


class AgeBand(StrEnum):
    """Birth-decade cohorts as Chinese HR reports them (PARAMETERS.md item 2)."""

    POST70 = "post70"  # 70后及以前
    POST80 = "post80"  # 80后
    POST90 = "post90"  # 90后
    POST00 = "post00"  # 00后


class WageBand(StrEnum):
    """Monthly take-home wage bands, CNY per month (ordered low to high)."""

    BELOW_4000 = "<4000"
    FROM_4000_TO_6000 = "4000-6000"
    FROM_6000_TO_8000 = "6000-8000"
    ABOVE_8000 = ">8000"


class CommuteMode(StrEnum):
    """Main mode of the daily commute."""

    WALK = "walk"
    EBIKE = "ebike"
    BUS = "bus"
    SHUTTLE = "shuttle"
    CAR = "car"
    OTHER = "other"


class LeaveReason(StrEnum):
    """Reasons a respondent would consider leaving (multi-select)."""

    BORING_LIFE = "boring_life"
    COMMUTE = "commute"
    WAGE = "wage"
    WORKLOAD = "workload"
    HOUSING = "housing"
    FAMILY = "family"
    CAREER = "career"
    OTHER = "other"


SURVEY_CATEGORIES: tuple[AmenityCategory, ...] = tuple(AmenityCategory)
"""Amenity categories that have a satisfaction and an importance column, in column order."""

LIKERT_MIN = 1
LIKERT_MAX = 5


def sat_column(category: AmenityCategory | str) -> str:
    """Return the satisfaction column name for ``category`` (e.g. ``"sat_canteen"``)."""
    return f"sat_{AmenityCategory(category).value}"


def imp_column(category: AmenityCategory | str) -> str:
    """Return the importance column name for ``category`` (e.g. ``"imp_canteen"``)."""
    return f"imp_{AmenityCategory(category).value}"


SAT_COLUMNS: tuple[str, ...] = tuple(sat_column(c) for c in SURVEY_CATEGORIES)
IMP_COLUMNS: tuple[str, ...] = tuple(imp_column(c) for c in SURVEY_CATEGORIES)
LIKERT_COLUMNS: tuple[str, ...] = (
    *SAT_COLUMNS,
    *IMP_COLUMNS,
    "overall_satisfaction",
    "intent_to_leave",
)

SURVEY_COLUMNS: tuple[str, ...] = (
    "respondent_id",
    "enterprise_id",
    "residence_id",
    "age_band",
    "tenure_months",
    "shift",
    "wage_band",
    "commute_mode",
    "commute_minutes",
    *SAT_COLUMNS,
    *IMP_COLUMNS,
    "overall_satisfaction",
    "intent_to_leave",
    "reasons",
    "submitted_at",
    "wave",
)

REQUIRED_COLUMNS: tuple[str, ...] = ("respondent_id", "enterprise_id", "intent_to_leave", "wave")
"""Columns that must hold a value in every row; all others are nullable (skipped questions)."""

AGE_BAND_DTYPE = pd.CategoricalDtype([b.value for b in AgeBand], ordered=True)
WAGE_BAND_DTYPE = pd.CategoricalDtype([b.value for b in WageBand], ordered=True)
SHIFT_DTYPE = pd.CategoricalDtype([s.value for s in ShiftPattern], ordered=False)
COMMUTE_MODE_DTYPE = pd.CategoricalDtype([m.value for m in CommuteMode], ordered=False)

_CATEGORICAL_DTYPES: Mapping[str, pd.CategoricalDtype] = MappingProxyType(
    {
        "age_band": AGE_BAND_DTYPE,
        "shift": SHIFT_DTYPE,
        "wage_band": WAGE_BAND_DTYPE,
        "commute_mode": COMMUTE_MODE_DTYPE,
    }
)
_STRING_COLUMNS = ("respondent_id", "enterprise_id", "residence_id", "wave")
_FLOAT_COLUMNS = ("tenure_months", "commute_minutes")


def survey_dtypes() -> dict[str, Any]:
    """Return the dtype of every survey column (a fresh dict, safe to modify)."""
    dtypes: dict[str, Any] = {}
    for column in SURVEY_COLUMNS:
        if column in _STRING_COLUMNS:
            dtypes[column] = pd.StringDtype()
        elif column in _CATEGORICAL_DTYPES:
            dtypes[column] = _CATEGORICAL_DTYPES[column]
        elif column in _FLOAT_COLUMNS:
            dtypes[column] = np.dtype("float64")
        elif column in LIKERT_COLUMNS:
            dtypes[column] = pd.Int64Dtype()
        elif column == "submitted_at":
            dtypes[column] = np.dtype("datetime64[ns]")
        else:  # reasons: lists
            dtypes[column] = np.dtype("object")
    return dtypes


# ---------------------------------------------------------------------------------------------
# Chinese answer texts as they appear in Wenjuanxing exports (and the demo survey).
# The first text per value is the one the demo writes; the others are accepted synonyms.
# ---------------------------------------------------------------------------------------------

SATISFACTION_TEXT: Mapping[str, int] = MappingProxyType(
    {
        "非常满意": 5,
        "满意": 4,
        "比较满意": 4,
        "一般": 3,
        "不满意": 2,
        "不太满意": 2,
        "比较不满意": 2,
        "非常不满意": 1,
    }
)
IMPORTANCE_TEXT: Mapping[str, int] = MappingProxyType(
    {
        "非常重要": 5,
        "重要": 4,
        "比较重要": 4,
        "一般": 3,
        "不重要": 2,
        "不太重要": 2,
        "比较不重要": 2,
        "非常不重要": 1,
        "很不重要": 1,
    }
)
INTENT_TEXT: Mapping[str, int] = MappingProxyType(
    {
        "肯定会离职": 5,
        "肯定会离开": 5,
        "可能会离职": 4,
        "可能会离开": 4,
        "说不清": 3,
        "不确定": 3,
        "一般": 3,
        "可能不会离职": 2,
        "可能会留下": 2,
        "肯定不会离职": 1,
        "肯定会留下": 1,
    }
)

# Text the demo writes for each Likert value (inverse of the maps above, first synonym wins).
SATISFACTION_LABELS_ZH: Mapping[int, str] = MappingProxyType(
    {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "非常不满意"}
)
IMPORTANCE_LABELS_ZH: Mapping[int, str] = MappingProxyType(
    {5: "非常重要", 4: "重要", 3: "一般", 2: "不重要", 1: "非常不重要"}
)
INTENT_LABELS_ZH: Mapping[int, str] = MappingProxyType(
    {5: "肯定会离职", 4: "可能会离职", 3: "说不清", 2: "可能不会离职", 1: "肯定不会离职"}
)

AGE_BAND_LABELS_ZH: Mapping[str, str] = MappingProxyType(
    {"post70": "70后及以前", "post80": "80后", "post90": "90后", "post00": "00后"}
)
WAGE_BAND_LABELS_ZH: Mapping[str, str] = MappingProxyType(
    {
        "<4000": "4000元以下",
        "4000-6000": "4000-6000元",
        "6000-8000": "6000-8000元",
        ">8000": "8000元以上",
    }
)
SHIFT_LABELS_ZH: Mapping[str, str] = MappingProxyType(
    {"day": "常白班", "two_shift": "两班倒", "three_shift": "三班倒"}
)
COMMUTE_MODE_LABELS_ZH: Mapping[str, str] = MappingProxyType(
    {
        "walk": "步行",
        "ebike": "电动车",
        "bus": "公交车",
        "shuttle": "企业班车",
        "car": "私家车",
        "other": "其他",
    }
)
REASON_LABELS_ZH: Mapping[str, str] = MappingProxyType(
    {
        "boring_life": "业余生活单调",
        "commute": "通勤不便",
        "wage": "工资待遇",
        "workload": "工作强度大",
        "housing": "住宿条件差",
        "family": "家庭原因",
        "career": "职业发展",
        "other": "其他",
    }
)
CATEGORY_LABELS_ZH: Mapping[str, str] = MappingProxyType(
    {
        "canteen": "食堂与餐饮",
        "grocery": "超市便利店",
        "clinic": "诊所卫生站",
        "hospital": "医院",
        "sports_court": "篮球场等球场",
        "gym": "健身房",
        "park": "公园绿地",
        "library_culture": "图书馆文化活动中心",
        "cafe_leisure": "咖啡与夜间休闲",
        "mall": "商场",
        "kindergarten": "幼儿园",
        "school": "中小学",
        "training": "技能培训",
        "employment_service": "就业驿站",
        "express_delivery": "快递驿站",
    }
)


@dataclass(frozen=True)
class SurveyIssue:
    """One problem found in a survey file or frame: where it is and what was expected.

    Parameters
    ----------
    file
        File name the row came from (``""`` when validating an in-memory frame).
    row
        1-based data row as a spreadsheet user counts it (header rows excluded); ``None`` for a
        problem with the whole file or a whole column.
    column
        Column (canonical name or original header) the problem is in, or ``""``.
    value
        The offending value as text (``""`` when none).
    expected
        What would have been valid.
    rejected
        Whether the row was dropped from the clean table (``False``: a warning only).
    """

    file: str
    row: int | None
    column: str
    value: str
    expected: str
    rejected: bool = True


def empty_survey_frame() -> pd.DataFrame:
    """Return an empty survey table with every canonical column and dtype."""
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in survey_dtypes().items()})


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _row_label(rows: Sequence[int] | None, position: int) -> int:
    return int(rows[position]) if rows is not None else position + 1


def validate_survey_frame(
    df: pd.DataFrame,
    *,
    file: str = "",
    source_rows: Sequence[int] | None = None,
) -> tuple[pd.DataFrame, list[SurveyIssue]]:
    """Check a survey table row by row and split it into valid rows and issues.

    Assumes column names are already canonical (``SURVEY_COLUMNS``); extra columns are dropped.
    A row is rejected when a required value is missing, a Likert value is outside 1–5 or not an
    integer, a category is not one of its codes, a number is negative or not a number, a reason
    code is unknown, or its respondent id repeats an earlier row's (the first occurrence is kept).

    Parameters
    ----------
    df
        Respondent-level table; may hold raw values (text numbers, object columns).
    file
        File name to put in each issue.
    source_rows
        1-based data-row number of each row in ``df`` (default: position + 1).

    Returns
    -------
    tuple[pandas.DataFrame, list[SurveyIssue]]
        The valid rows coerced to ``survey_dtypes()`` with a fresh ``RangeIndex``, and one
        issue per problem found (a row may have several).

    Raises
    ------
    ValidationError
        If a required column is absent altogether, or ``source_rows`` has the wrong length.
    """
    for column in REQUIRED_COLUMNS:
        if column not in df.columns:
            raise ValidationError(
                f"required survey column {column!r} is missing; expected columns "
                f"{', '.join(REQUIRED_COLUMNS)}",
                file=file or None,
                column=column,
            )
    if source_rows is not None and len(source_rows) != len(df):
        raise ValidationError(
            f"source_rows has {len(source_rows)} entries for {len(df)} rows; expected one per row",
            file=file or None,
        )
    frame = df.reset_index(drop=True)
    issues: list[SurveyIssue] = []
    bad = np.zeros(len(frame), dtype=bool)
    out: dict[str, list[Any]] = {c: [] for c in SURVEY_COLUMNS}

    def flag(position: int, column: str, value: object, expected: str) -> None:
        bad[position] = True
        issues.append(
            SurveyIssue(file, _row_label(source_rows, position), column, _text(value), expected)
        )

    seen_ids: dict[str, int] = {}
    for position in range(len(frame)):
        record = frame.iloc[position]
        for column in SURVEY_COLUMNS:
            value = record[column] if column in frame.columns else None
            out[column].append(_coerce(column, value, position, flag))
        rid = out["respondent_id"][-1]
        if rid is not None and rid is not pd.NA:
            if rid in seen_ids:
                flag(
                    position,
                    "respondent_id",
                    rid,
                    f"a respondent id not already used (first used in row "
                    f"{_row_label(source_rows, seen_ids[rid])})",
                )
            else:
                seen_ids[rid] = position
    clean = pd.DataFrame(out)
    clean = clean.loc[~bad].reset_index(drop=True)
    return _cast(clean), issues


def _text(value: object) -> str:
    if _is_missing(value):
        return ""
    return str(value)


def _coerce(column: str, value: object, position: int, flag: Any) -> Any:
    """Return ``value`` converted for ``column``, or ``None`` after flagging the row."""
    if column == "reasons":
        return _coerce_reasons(value, position, flag)
    if _is_list_like(value):
        flag(position, column, value, "a single value")
        return None
    if _is_missing(value):
        if column in REQUIRED_COLUMNS:
            flag(position, column, value, "a value (this question is required)")
        return None
    if column in _STRING_COLUMNS:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()
    if column in _CATEGORICAL_DTYPES:
        codes = list(_CATEGORICAL_DTYPES[column].categories)
        text = str(value).strip()
        if text not in codes:
            flag(position, column, value, f"one of {', '.join(codes)}")
            return None
        return text
    if column in _FLOAT_COLUMNS:
        number = _to_float(value)
        if number is None or number < 0 or not np.isfinite(number):
            flag(position, column, value, "a number >= 0")
            return None
        return number
    if column in LIKERT_COLUMNS:
        number = _to_float(value)
        if number is None or not number.is_integer() or not LIKERT_MIN <= number <= LIKERT_MAX:
            flag(position, column, value, f"an integer from {LIKERT_MIN} to {LIKERT_MAX}")
            return None
        return int(number)
    if column == "submitted_at":
        stamp = pd.to_datetime(value, errors="coerce") if not isinstance(value, bool) else pd.NaT
        if stamp is pd.NaT or pd.isna(stamp):
            flag(position, column, value, "a date and time such as 2024-03-01 08:30:00")
            return None
        if stamp.tzinfo is not None:
            stamp = stamp.tz_localize(None)
        # Day precision only: a submission second is nearly unique and would link a row back to
        # the survey platform's export, which holds IP addresses (retention.survey.privacy).
        return stamp.normalize()
    raise ValidationError(f"no coercion rule for survey column {column!r}", column=column)


def _is_list_like(value: object) -> TypeGuard[Iterable[object]]:
    return isinstance(value, list | tuple | set | frozenset | np.ndarray)


def _to_float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _coerce_reasons(value: object, position: int, flag: Any) -> list[str]:
    if _is_list_like(value):
        items = [str(v).strip() for v in value if not _is_missing(v)]
    elif _is_missing(value):
        items = []
    else:
        items = [part.strip() for part in str(value).replace(";", ",").split(",") if part.strip()]
    codes = {r.value for r in LeaveReason}
    unknown = [item for item in items if item not in codes]
    if unknown:
        flag(position, "reasons", ",".join(unknown), f"reason codes from {', '.join(codes)}")
        return []
    # Canonical order, no repeats: the same set always gives the same list.
    return [r.value for r in LeaveReason if r.value in items]


def _cast(frame: pd.DataFrame) -> pd.DataFrame:
    result = pd.DataFrame(index=frame.index)
    for column, dtype in survey_dtypes().items():
        values = frame[column]
        if column == "reasons":
            result[column] = pd.Series([list(v) for v in values], index=frame.index, dtype="object")
        elif column == "submitted_at":
            result[column] = pd.to_datetime(values, errors="raise").dt.normalize().astype(dtype)
        else:
            result[column] = values.astype("object").where(values.notna(), None).astype(dtype)
    return result


def cast_survey_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` cast to the canonical dtypes, raising on the first bad row.

    Use this for frames built in code (the demo, tests); use ``validate_survey_frame`` for
    anything a user uploaded.

    Raises
    ------
    ValidationError
        Naming the first invalid row, column, value and what was expected.
    """
    valid, issues = validate_survey_frame(df)
    if issues:
        first = issues[0]
        raise ValidationError(
            f"value {first.value!r} is invalid; expected {first.expected}",
            row=first.row,
            column=first.column,
        )
    return valid
