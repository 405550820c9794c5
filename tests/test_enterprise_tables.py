"""Tests for retention.report.enterprise_tables: names, model-term labels, workforce and odds
tables,
calibration bins under k."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from retention.errors import ParameterError
from retention.i18n import label, t
from retention.report.enterprise_tables import (
    calibration_points,
    enterprise_names,
    factor_label,
    odds_ratio_table,
    surveyed_first,
    term_category,
    workforce_table,
)
from retention.survey.privacy import PrivacyParameters


@pytest.fixture
def enterprises() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["e1", "e2", "e3"],
            "name": ["金山电机", "湘江轨道", "株洲陶瓷"],
            "name_en": ["Jinshan Motors", None, "  "],
        },
        geometry=[Point(0, 0), Point(1, 1), Point(2, 2)],
        crs="EPSG:4326",
    )


def test_enterprise_names_fall_back_to_chinese(enterprises) -> None:
    assert enterprise_names(enterprises, lang="en") == {
        "e1": "Jinshan Motors",
        "e2": "湘江轨道",
        "e3": "株洲陶瓷",
    }
    assert enterprise_names(enterprises, lang="zh")["e1"] == "金山电机"
    without = enterprises.drop(columns="name_en")
    assert enterprise_names(without, lang="en")["e1"] == "金山电机"


def test_surveyed_enterprises_first_else_all() -> None:
    names = {"e1": "a", "e2": "b", "e3": "c"}
    assert surveyed_first(names, ["e3", "e1", "x9"]) == ["e1", "e3"]  # layer order kept
    assert surveyed_first(names, []) == ["e1", "e2", "e3"]


def test_term_category_and_factor_labels() -> None:
    assert term_category("walk_weekday_evening_minutes_sports_court") == "sports_court"
    assert term_category("sat_canteen") == "canteen"
    with pytest.raises(ParameterError, match=re.escape("satisfaction term (sat_<category>)")):
        term_category("age_band")
    court = label("category", "sports_court", "en")
    assert factor_label("walk_weekday_evening_minutes_sports_court", lang="en") == t(
        "enterprise.factor.access", "en", category=court
    )
    assert factor_label("sat_canteen", lang="zh") == t(
        "enterprise.factor.sat", "zh", category=label("category", "canteen", "zh")
    )
    assert factor_label("shift", lang="en") == t("enterprise.factor.shift", "en")
    level = factor_label("shift", lang="en", level="three_shift", reference="day")
    assert level == t(
        "enterprise.factor.level",
        "en",
        factor=t("enterprise.factor.shift", "en"),
        level=label("shift_pattern", "three_shift", "en"),
        reference=label("shift_pattern", "day", "en"),
    )


def test_workforce_table_names_places_with_people() -> None:
    workforce = pd.DataFrame(
        {"people": [1200.0, 380.0], "sites": [1.0, 2.0], "canteen": [3.04, 12.96]},
        index=pd.Index(["workplace", "dormitories"]),
    )
    table = workforce_table(workforce, lang="en")
    workplace = t("enterprise.workforce.workplace", "en", people="1,200")
    dorms = t("enterprise.workforce.dormitories", "en", sites=2, people="380")
    assert list(table.columns) == [t("enterprise.workforce.category", "en"), workplace, dorms]
    assert table.iloc[0].tolist() == [label("category", "canteen", "en"), 3.0, 13.0]
    only_work = workforce_table(workforce.loc[["workplace"]], lang="zh")
    assert only_work.shape == (1, 2)


def test_odds_ratio_table_labels_levels() -> None:
    odds = pd.DataFrame(
        {
            "factor": ["sat_canteen", "shift"],
            "level": ["", "three_shift"],
            "reference": ["", "day"],
            "odds_ratio": [0.81234, 1.5],
            "or_low": [0.7, 1.1],
            "or_high": [0.9, 2.0],
            "p_value": [0.000123, 0.04],
        }
    )
    table = odds_ratio_table(odds, lang="en")
    assert table.iloc[:, 0].tolist()[0] == factor_label("sat_canteen", lang="en")
    assert table.iloc[1, 0] == factor_label(
        "shift", lang="en", level="three_shift", reference="day"
    )
    assert table.iloc[0, 1:].tolist() == [0.812, 0.7, 0.9, 0.0001]


def test_calibration_bins_under_k_are_not_shown() -> None:
    bins = pd.DataFrame(
        {
            "n": [3, 40, 60],
            "mean_predicted": [0.1, 0.2, 0.3],
            "observed_rate": [0.0, 0.25, 0.28],
            "observed_low": [0.0, 0.1, 0.2],
            "observed_high": [0.5, 0.4, 0.4],
        }
    )
    shown = calibration_points(bins)
    assert shown["mean_predicted"].tolist() == [0.2, 0.3]  # 3 < k = 5: hidden
    assert bins["observed_rate"].notna().all()  # input untouched
    stricter = calibration_points(bins, privacy=PrivacyParameters(min_group_size=50))
    assert stricter["mean_predicted"].tolist() == [0.3]
    # No complementary suppression: bins mix enterprises, so no other bin is hidden with it.
    assert not np.isnan(shown["observed_rate"]).any()
