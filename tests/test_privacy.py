"""Tests for retention.survey.privacy, and the k-anonymity walk over every survey aggregate."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention.errors import ParameterError
from retention.survey.analysis import (
    aggregate_csv,
    aggregates_xlsx,
    category_means,
    group_summary,
    ipa,
    reason_shares,
    weighting_table,
)
from retention.survey.privacy import (
    PrivacyParameters,
    load_or_create_salt,
    pseudonymise_ids,
    suppress_small_groups,
)
from retention.survey.weighting import survey_weights
from tests.survey_fixtures import make_survey

TINY = "TINY"


def test_pseudonyms_are_keyed_stable_and_not_the_raw_id() -> None:
    salt = b"k" * 32
    first = pseudonymise_ids(["1001", 1001.0, " 1001 ", None, ""], salt=salt)
    assert first[0] == first[1] == first[2] and first[3] is None and first[4] is None
    assert first[0] != "1001" and len(first[0]) == 16
    assert pseudonymise_ids(["1001"], salt=b"j" * 32)[0] != first[0]
    with pytest.raises(ParameterError, match="salt must hold at least 16 bytes"):
        pseudonymise_ids(["1"], salt=b"short")


def test_salt_is_created_once_per_park(tmp_path: Path) -> None:
    salt = load_or_create_salt("jinshan", data_dir=tmp_path)
    assert load_or_create_salt("jinshan", data_dir=tmp_path) == salt
    assert load_or_create_salt("other", data_dir=tmp_path) != salt


def test_suppression_with_complementary_cell_known_answer() -> None:
    table = pd.DataFrame({"group": ["a", "b", "c", "d"], "n": [50, 9, 3, 20], "mean": [1.0] * 4})
    out = suppress_small_groups(table, value_columns=["mean"])
    assert out["suppressed"].tolist() == [False, True, True, False]  # b hides c
    assert out["n"].isna().tolist() == [False, True, True, False]
    assert out.attrs["suppression"]["suppressed_rows"] == 2
    alone = suppress_small_groups(table, value_columns=["mean"], complementary=False)
    assert alone["suppressed"].tolist() == [False, False, True, False]
    k3 = suppress_small_groups(
        table, value_columns=["mean"], parameters=PrivacyParameters(min_group_size=3)
    )
    assert not k3["suppressed"].any()
    with pytest.raises(ParameterError, match="min_group_size must be >= 1"):
        PrivacyParameters(min_group_size=0)


# ---------------------------------------------------------------------------------------------
# The walk: every aggregate, chart-data and download function, with a tiny enterprise.
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return make_survey({"A": 40, "B": 12, TINY: 3}, seed=11)


@pytest.fixture(scope="module")
def weights(survey: pd.DataFrame) -> pd.Series:
    return survey_weights(survey, {"A": 400, "B": 100, TINY: 30}).weights


def _aggregates(survey: pd.DataFrame, weights: pd.Series) -> dict[str, pd.DataFrame]:
    return {
        "sat_by_enterprise": category_means(survey, weights, by="enterprise_id"),
        "imp_by_enterprise": category_means(survey, weights, measure="imp", by="enterprise_id"),
        "groups_by_enterprise": group_summary(survey, weights, by="enterprise_id"),
        "reasons_by_enterprise": reason_shares(survey, weights, by="enterprise_id"),
        "reasons_intending": reason_shares(
            survey, weights, by="enterprise_id", only_intending=True
        ),
        "weighting": weighting_table(survey, weights, {"A": 400, "B": 100, TINY: 30}),
    }


def _assert_tiny_hidden(name: str, table: pd.DataFrame) -> None:
    rows = table[table["group"] == TINY]
    assert len(rows), name
    assert rows["suppressed"].all(), name
    stats_columns = [
        c
        for c in rows.columns
        if c not in ("group", "category", "reason", "suppressed", "employees")
    ]
    assert rows[stats_columns].isna().all().all(), (name, rows[stats_columns])


def test_no_aggregate_reveals_the_tiny_enterprise(survey: pd.DataFrame, weights: pd.Series) -> None:
    for name, table in _aggregates(survey, weights).items():
        _assert_tiny_hidden(name, table)


def test_complementary_suppression_blocks_subtraction_from_the_park_total(
    survey: pd.DataFrame, weights: pd.Series
) -> None:
    park = category_means(survey, weights)  # the park total a page shows beside the breakdown
    assert not park["suppressed"].any()
    for name, table in _aggregates(survey, weights).items():
        partition = next((c for c in ("category", "reason") if c in table.columns), None)
        groups = table.groupby(partition) if partition else [(None, table)]
        for _, part in groups:
            # one hidden cell next to a total could be recovered; two cannot
            assert part["suppressed"].sum() != 1, name
        if name.endswith("_by_enterprise"):
            assert table.loc[table["group"] == "B", "suppressed"].all(), name


def test_ipa_for_the_tiny_enterprise_is_suppressed(
    survey: pd.DataFrame, weights: pd.Series
) -> None:
    for kind in ("stated", "derived_overall", "derived_intent"):
        result = ipa(survey, weights, importance=kind, group_column="enterprise_id", group=TINY)
        assert result.suppressed
        assert result.points["suppressed"].all()
        assert result.points[["importance", "performance", "n"]].isna().all().all()
        assert np.isnan(result.importance_mean) and np.isnan(result.performance_mean)
        assert result.points["quadrant"].isna().all()


def test_downloads_carry_only_the_marker_for_the_tiny_enterprise(
    survey: pd.DataFrame, weights: pd.Series
) -> None:
    tables = _aggregates(survey, weights)
    book = pd.read_excel(
        io.BytesIO(aggregates_xlsx(tables, note="SYNTHETIC demo data")), sheet_name=None
    )
    assert "SYNTHETIC" in book["note"].iloc[0, 0]
    for name, table in tables.items():
        for frame in (book[name], pd.read_csv(io.BytesIO(aggregate_csv(table, name=name)))):
            rows = frame[frame["group"] == TINY]
            values = rows.drop(
                columns=[
                    c
                    for c in ("group", "category", "reason", "suppressed", "employees")
                    if c in rows.columns
                ]
            )
            assert (values == "<k").all().all(), name
