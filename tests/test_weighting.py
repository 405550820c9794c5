"""Tests for retention.survey.weighting: post-stratification, raking, Kish n, trimming."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retention.errors import ParameterError, ValidationError
from retention.survey.weighting import (
    WeightingParameters,
    enterprise_headcounts,
    kish_effective_n,
    survey_weights,
)


def _survey(enterprises: list[str], ages: list[str | None] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"enterprise_id": pd.array(enterprises, dtype="string")})
    if ages is not None:
        frame["age_band"] = pd.array(ages, dtype="string")
    return frame


def test_post_stratification_known_answer() -> None:
    # A: 2 respondents for 100 workers -> 50 each; B: 1 respondent for 30 workers -> 30
    result = survey_weights(_survey(["A", "A", "B"]), {"A": 100, "B": 30, "C": 10})
    assert result.weights.tolist() == pytest.approx([50.0, 50.0, 30.0])
    assert result.uncovered_enterprises == ("C",)
    # Kish: (130)^2 / (2500 + 2500 + 900) = 16900 / 5900
    assert result.effective_n == pytest.approx(16900 / 5900)
    assert result.design_effect == pytest.approx(3 / (16900 / 5900))


def test_raking_matches_both_margins() -> None:
    survey = _survey(
        ["A", "A", "A", "B", "B", "B"], ["post90", "post90", "post80", "post90", "post80", None]
    )
    result = survey_weights(survey, {"A": 60, "B": 40}, age_shares={"post90": 0.5, "post80": 0.5})
    w = result.weights
    assert result.converged and result.margins == ("enterprise", "age_band")
    assert w[survey["enterprise_id"] == "A"].sum() == pytest.approx(60)
    assert w[survey["enterprise_id"] == "B"].sum() == pytest.approx(40)
    with_age = survey["age_band"].notna()
    target = 100 * with_age.mean() / 2
    assert w[survey["age_band"] == "post90"].sum() == pytest.approx(target, rel=1e-6)
    assert w[survey["age_band"] == "post80"].sum() == pytest.approx(target, rel=1e-6)


def test_trimming_caps_weights_and_keeps_total() -> None:
    survey = _survey(["A"] * 10 + ["B"])
    raw = survey_weights(survey, {"A": 10, "B": 100})
    trimmed = survey_weights(survey, {"A": 10, "B": 100}, parameters=WeightingParameters(3.0))
    assert raw.weights.max() == pytest.approx(100)
    assert trimmed.weights.sum() == pytest.approx(110)
    assert trimmed.weights.max() <= 3.0 * trimmed.weights.median() + 1e-9
    assert trimmed.trimmed == 1
    assert trimmed.effective_n > raw.effective_n


def test_missing_headcount_is_a_specific_error() -> None:
    with pytest.raises(
        ValidationError, match=r"row 2, column 'enterprise_id'.*'Z' has no headcount"
    ):
        survey_weights(_survey(["A", "Z"]), {"A": 5})
    with pytest.raises(ParameterError, match="trim_max_ratio must be > 1"):
        WeightingParameters(trim_max_ratio=0.5)


def test_headcounts_from_layer_skip_zero_and_missing() -> None:
    layer = pd.DataFrame({"id": ["A", "B", "C"], "employees": [10, 0, None]})
    assert enterprise_headcounts(layer) == {"A": 10.0}


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.floats(0.01, 1000), min_size=1, max_size=50))
def test_kish_is_between_one_and_n(weights: list[float]) -> None:
    n_eff = kish_effective_n(np.array(weights))
    assert 1.0 - 1e-9 <= n_eff <= len(weights) + 1e-9
    assert kish_effective_n(np.ones(len(weights))) == pytest.approx(len(weights))
