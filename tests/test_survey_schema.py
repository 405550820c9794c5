"""Tests for retention.survey.schema: the canonical survey table and its validator."""

from __future__ import annotations

import pandas as pd
import pytest

from retention.data.layers import AmenityCategory
from retention.errors import ValidationError
from retention.survey.schema import (
    IMP_COLUMNS,
    SAT_COLUMNS,
    SURVEY_COLUMNS,
    cast_survey_frame,
    empty_survey_frame,
    imp_column,
    sat_column,
    survey_dtypes,
    validate_survey_frame,
)


def _row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "respondent_id": "r1",
        "enterprise_id": "E01",
        "residence_id": None,
        "age_band": "post90",
        "tenure_months": 14.0,
        "shift": "two_shift",
        "wage_band": "4000-6000",
        "commute_mode": "ebike",
        "commute_minutes": 12.0,
        "overall_satisfaction": 3,
        "intent_to_leave": 4,
        "reasons": ["wage", "boring_life"],
        "submitted_at": "2024-03-01 08:30:00",
        "wave": "2024-spring",
    }
    for column in (*SAT_COLUMNS, *IMP_COLUMNS):
        row[column] = 3
    row.update(overrides)
    return row


def test_columns_cover_every_category_twice() -> None:
    assert len(SAT_COLUMNS) == len(AmenityCategory) == len(IMP_COLUMNS)
    assert sat_column(AmenityCategory.CANTEEN) == "sat_canteen"
    assert imp_column("gym") == "imp_gym"
    assert list(empty_survey_frame().columns) == list(SURVEY_COLUMNS)
    assert set(survey_dtypes()) == set(SURVEY_COLUMNS)


def test_valid_row_is_cast_to_canonical_dtypes() -> None:
    clean = cast_survey_frame(pd.DataFrame([_row()]))
    assert str(clean["sat_canteen"].dtype) == "Int64"
    assert clean["age_band"].cat.ordered
    assert clean.loc[0, "reasons"] == ["wage", "boring_life"][::-1]  # canonical order
    assert clean.loc[0, "submitted_at"] == pd.Timestamp("2024-03-01")  # day precision
    assert pd.isna(clean.loc[0, "residence_id"])


def test_bad_rows_are_reported_and_dropped_valid_rows_kept() -> None:
    frame = pd.DataFrame(
        [
            _row(respondent_id="a"),
            _row(respondent_id="b", sat_gym=7),
            _row(respondent_id="a"),
            _row(respondent_id="c", age_band="post60"),
            _row(respondent_id="d", intent_to_leave=None),
            _row(respondent_id="e", reasons=["wage", "aliens"]),
            _row(respondent_id="f", commute_minutes=-3),
        ]
    )
    valid, issues = validate_survey_frame(frame, file="s.csv", source_rows=[2, 3, 4, 5, 6, 7, 8])
    assert list(valid["respondent_id"]) == ["a"]
    found = {(i.row, i.column) for i in issues}
    assert found == {
        (3, "sat_gym"),
        (4, "respondent_id"),
        (5, "age_band"),
        (6, "intent_to_leave"),
        (7, "reasons"),
        (8, "commute_minutes"),
    }
    dup = next(i for i in issues if i.column == "respondent_id")
    assert "first used in row 2" in dup.expected
    assert all(i.file == "s.csv" for i in issues)


def test_missing_required_column_is_a_specific_error() -> None:
    frame = pd.DataFrame([_row()]).drop(columns=["intent_to_leave"])
    with pytest.raises(ValidationError, match="required survey column 'intent_to_leave'"):
        validate_survey_frame(frame)


def test_cast_raises_naming_row_and_column() -> None:
    frame = pd.DataFrame([_row(), _row(respondent_id="r2", imp_mall="6")])
    with pytest.raises(ValidationError, match=r"row 2, column 'imp_mall'.*'6'.*1 to 5"):
        cast_survey_frame(frame)


def test_input_is_not_mutated() -> None:
    frame = pd.DataFrame([_row()])
    before = frame.copy()
    validate_survey_frame(frame)
    pd.testing.assert_frame_equal(frame, before)
