"""Tests for retention.survey.analysis: means with CIs, IPA, reasons, importance weights."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from retention.errors import ValidationError
from retention.survey.analysis import (
    aggregate_csv,
    category_means,
    group_summary,
    importance_weight_table,
    importance_weights,
    ipa,
    reason_shares,
    weighted_mean_ci,
    wilson_interval,
)
from retention.survey.schema import IMP_COLUMNS, SAT_COLUMNS
from tests.survey_fixtures import make_survey


def test_equal_weight_interval_is_the_t_interval() -> None:
    x = np.array([1.0, 2.0, 4.0, 5.0, 5.0, 3.0])
    mean, low, high, n, n_eff = weighted_mean_ci(x, np.full(6, 2.5))
    expected = stats.t.interval(0.95, 5, loc=x.mean(), scale=stats.sem(x))
    assert (mean, n, n_eff) == (pytest.approx(x.mean()), 6, pytest.approx(6.0))
    assert (low, high) == (pytest.approx(expected[0]), pytest.approx(expected[1]))


def test_wilson_matches_statsmodels() -> None:
    low, high = wilson_interval(0.3, 50)
    expected = proportion_confint(15, 50, alpha=0.05, method="wilson")
    assert (low, high) == (pytest.approx(expected[0]), pytest.approx(expected[1]))


def _hand_survey() -> pd.DataFrame:
    survey = make_survey({"A": 6})
    for column in (*SAT_COLUMNS, *IMP_COLUMNS):
        survey[column] = pd.array([pd.NA] * 6, dtype="Int64")
    # canteen: important (5) and poor (2); gym: unimportant (2) and good (5)
    survey["sat_canteen"] = pd.array([2] * 6, dtype="Int64")
    survey["imp_canteen"] = pd.array([5] * 6, dtype="Int64")
    survey["sat_gym"] = pd.array([5] * 6, dtype="Int64")
    survey["imp_gym"] = pd.array([2] * 6, dtype="Int64")
    return survey


def test_ipa_quadrants_known_answer() -> None:
    result = ipa(_hand_survey(), categories=["canteen", "gym"])
    points = result.points.set_index("category")
    assert (result.importance_mean, result.performance_mean) == (3.5, 3.5)
    assert points.loc["canteen", "quadrant"] == "concentrate_here"
    assert points.loc["gym", "quadrant"] == "possible_overkill"


def test_importance_weights_rescale_and_normalise() -> None:
    weights = importance_weights(_hand_survey(), categories=["canteen", "gym"])
    # (5-1) : (2-1) -> 0.8 : 0.2
    assert weights == {"canteen": pytest.approx(0.8), "gym": pytest.approx(0.2)}


def test_weight_table_matches_importance_weights_when_every_category_clears_k() -> None:
    survey = make_survey({"A": 30, "B": 20}, seed=5)
    categories = ["canteen", "gym", "park"]
    expected = importance_weights(survey, categories=categories)
    table = importance_weight_table(survey, categories=categories).set_index("category")
    assert table["weight"].to_dict() == pytest.approx(expected)
    assert table["n"].tolist() == [50, 50, 50]
    assert not table["suppressed"].any()


def test_weight_table_drops_a_category_answered_by_fewer_than_k() -> None:
    survey = make_survey({"A": 30}, seed=5)
    survey["imp_gym"] = survey["imp_gym"].where(survey.index < 4)  # 4 answers < k = 5
    categories = ["canteen", "gym", "park"]
    table = importance_weight_table(survey, categories=categories).set_index("category")
    assert bool(table.at["gym", "suppressed"]) and pd.isna(table.at["gym", "weight"])
    assert pd.isna(table.at["gym", "n"])  # the small count itself is hidden too
    both = importance_weights(survey, categories=["canteen", "park"])
    shown = table["weight"].dropna()
    assert shown.sum() == pytest.approx(1.0)
    assert shown.to_dict() == pytest.approx(both)  # the rest renormalised without gym


def test_weight_table_counts_pairs_for_derived_importance() -> None:
    survey = make_survey({"A": 30}, seed=5)
    survey["intent_to_leave"] = (6 - survey["sat_canteen"]).astype("Int64")
    survey["sat_canteen"] = survey["sat_canteen"].where(survey.index >= 10)
    table = importance_weight_table(
        survey, categories=["canteen", "gym"], method="derived_intent"
    ).set_index("category")
    assert table.at["canteen", "n"] == 20
    assert table.at["canteen", "weight"] > table.at["gym", "weight"]


def test_derived_importance_follows_the_correlation() -> None:
    survey = make_survey({"A": 40}, seed=3)
    survey["overall_satisfaction"] = survey["sat_canteen"]
    result = ipa(survey, importance="derived_overall", categories=["canteen", "gym"])
    assert result.points.set_index("category").loc["canteen", "importance"] == pytest.approx(1.0)


def test_category_means_by_cohort_have_cis_and_n() -> None:
    survey = make_survey({"A": 80, "B": 70})
    table = category_means(survey, by="enterprise_id", categories=["canteen"])
    assert list(table["group"]) == ["A", "B"]
    assert (table["ci_low"] < table["mean"]).all() and (table["mean"] < table["ci_high"]).all()
    assert list(table["n"]) == [80, 70]


def test_reason_shares_are_weighted_shares() -> None:
    survey = make_survey({"A": 30})
    table = reason_shares(survey).set_index("reason")
    expected = np.mean(["wage" in r for r in survey["reasons"]])
    assert table.loc["wage", "share"] == pytest.approx(expected)


def test_group_summary_and_csv_marker() -> None:
    survey = make_survey({"A": 30, "B": 2, "C": 20})
    table = group_summary(survey, by="enterprise_id")
    text = aggregate_csv(table, name="groups").decode("utf-8-sig")
    frame = pd.read_csv(io.StringIO(text))
    assert frame.set_index("group").loc["B", "overall_mean"] == "<k"


def test_export_refuses_tables_that_skipped_suppression() -> None:
    with pytest.raises(ValidationError, match=r"has not passed retention\.survey\.disclosure"):
        aggregate_csv(pd.DataFrame({"group": ["A"], "n": [1]}), name="raw")
