"""Tests for retention.report.survey_tables: cohort cells, suppression counts, IPA points, reason
bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention.i18n import label, t
from retention.report.survey_tables import (
    cohort_table,
    ipa_points,
    mean_cell,
    padded_range,
    reason_bars,
    suppressed_rows,
)
from retention.survey.privacy import SUPPRESSED_MARKER, suppress_small_groups


def test_mean_cell() -> None:
    assert mean_cell(3.456, 3.2, 3.7, 41.0, suppressed=False) == "3.46 [3.20–3.70] n=41"
    assert mean_cell(3.4, 3.2, 3.7, 41.0, suppressed=True) == SUPPRESSED_MARKER
    assert mean_cell(np.nan, np.nan, np.nan, 0.0, suppressed=False) == SUPPRESSED_MARKER


def test_cohort_table_pivots_groups_by_category() -> None:
    means = pd.DataFrame(
        {
            "group": ["post90", "post90", "post00", "post00"],
            "category": ["canteen", "clinic", "canteen", "clinic"],
            "mean": [3.5, 4.0, np.nan, 2.25],
            "ci_low": [3.0, 3.5, np.nan, 2.0],
            "ci_high": [4.0, 4.5, np.nan, 2.5],
            "n": [20.0, 20.0, np.nan, 8.0],
            "suppressed": [False, False, True, False],
        }
    )
    table = cohort_table(means, lang="zh")
    canteen, clinic = label("category", "canteen", "zh"), label("category", "clinic", "zh")
    assert table.loc["post00", canteen] == SUPPRESSED_MARKER
    assert table.loc["post00", clinic] == "2.25 [2.00–2.50] n=8"
    assert table.loc["post90", canteen] == "3.50 [3.00–4.00] n=20"
    assert set(table.columns) == {canteen, clinic}


def test_suppressed_rows_reads_the_privacy_note() -> None:
    table = pd.DataFrame({"n": [2, 30, 40], "mean": [1.0, 2.0, 3.0]})
    hidden = suppress_small_groups(table, value_columns=["mean"], complementary=False)
    assert suppressed_rows(hidden) == 1
    assert suppressed_rows(table) == 0  # no note: nothing hidden


def test_ipa_points_drop_missing_and_name_quadrants() -> None:
    points = pd.DataFrame(
        {
            "category": ["canteen", "gym", "clinic"],
            "importance": [4.2, np.nan, 3.1],
            "performance": [2.5, 3.0, 4.4],
            "quadrant": ["concentrate_here", "keep_up", "possible_overkill"],
        }
    )
    shown = ipa_points(points, lang="en")
    assert shown["name"].tolist() == [label("category", c, "en") for c in ("canteen", "clinic")]
    assert shown["quadrant_name"].tolist()[0] == t("survey.quadrant.concentrate_here", "en")
    assert shown["performance"].tolist() == [2.5, 4.4]


def test_padded_range() -> None:
    assert padded_range([2.0, 4.0]) == pytest.approx((1.75, 4.25))  # min pad 0.25 > 0.24
    assert padded_range([0.0, 10.0, np.nan]) == pytest.approx((-1.2, 11.2))  # 12 % of 10
    assert padded_range([]) == pytest.approx((-0.25, 1.25))


def test_reason_bars_sorted_with_interval_distances() -> None:
    reasons = pd.DataFrame(
        {
            "reason": ["wage", "commute", "housing"],
            "share": [0.4, np.nan, 0.1],
            "ci_low": [0.3, np.nan, 0.05],
            "ci_high": [0.55, np.nan, 0.2],
        }
    )
    bars = reason_bars(reasons, lang="en")
    assert bars["name"].tolist() == [
        t("survey.reason.housing", "en"),
        t("survey.reason.wage", "en"),
    ]
    assert bars["minus"].tolist() == pytest.approx([0.05, 0.1])
    assert bars["plus"].tolist() == pytest.approx([0.1, 0.15])
