"""Tests for retention.report.enterprise_tables: names, model-term labels, workforce and odds
tables,
calibration bins under k."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from retention.errors import ParameterError
from retention.i18n import label, t
from retention.model.leavers import ConversionParameters
from retention.report.enterprise_tables import (
    calibration_points,
    drivers_in_words,
    enterprise_names,
    factor_label,
    leavers_figures,
    leavers_sentence,
    leavers_table,
    money_text,
    odds_ratio_table,
    surveyed_first,
    term_category,
    workforce_table,
)
from retention.survey.privacy import PrivacyParameters

REPO = Path(__file__).resolve().parent.parent


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
    assert table.iloc[0, 1:5].tolist() == [0.812, 0.7, 0.9, 0.0001]


def test_odds_ratio_whose_interval_spans_one_carries_a_caution() -> None:
    odds = pd.DataFrame(
        {
            "factor": ["walk_weekday_evening_minutes_canteen", "sat_canteen"],
            "level": ["", ""],
            "reference": ["", ""],
            "odds_ratio": [0.9, 0.8],
            "or_low": [0.6, 0.7],
            "or_high": [1.3, 0.95],
            "p_value": [0.5, 0.01],
        }
    )
    certainty = odds_ratio_table(odds, lang="zh")[t("report.drivers.certainty", "zh")]
    assert certainty.tolist() == [
        t("report.drivers.uncertain", "zh"),
        t("report.drivers.clear", "zh"),
    ]


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


@pytest.mark.parametrize(
    ("cny", "lang", "expected"),
    [
        (6_430_577, "zh", "643 万元"),
        (6_430_577, "en", "CNY 6,431k"),
        (52_000, "zh", "5.2 万元"),
        (12_345_678, "zh", "1,235 万元"),
    ],
)
def test_money_is_in_wan_yuan_or_thousands_with_its_unit(
    cny: float, lang: str, expected: str
) -> None:
    assert money_text(cny, lang=lang) == expected


def _row() -> pd.Series:
    # 1,000 employees, 20 % (15–25 %) intend to leave; 0.45 / 0.20 conversion (defaults):
    # 1,000 × (0.2 × 0.45 + 0.8 × 0.20) = 90 + 160 = 250 leavers a year.
    return pd.Series(
        {
            "headcount": 1000.0,
            "intent_share": 0.20,
            "intent_share_low": 0.15,
            "intent_share_high": 0.25,
            "leavers_per_year": 250.0,
            "leavers_low": 237.5,
            "leavers_high": 262.5,
            "leavers_conversion_low": 135.0,
            "leavers_conversion_high": 298.0,
            "cost_cny": 2_500_000.0,
            "cost_low_cny": 2_375_000.0,
            "cost_high_cny": 2_625_000.0,
            "cost_range_low_cny": 1_250_000.0,
            "cost_range_high_cny": 5_000_000.0,
        }
    )


def test_leavers_are_split_into_stated_intent_and_baseline_by_hand() -> None:
    figures = leavers_figures(_row(), ConversionParameters(), lang="zh")
    assert figures["leavers"] == "250"
    # Stated intent: 1,000 × 0.20 × 0.45 = 90 (0.15 → 67.5, 0.25 → 112.5).
    assert (figures["from_intent"], figures["from_intent_range"]) == ("90", "68–112")
    # Baseline: 1,000 × 0.80 × 0.20 = 160 (0.85 → 170, 0.75 → 150).
    assert (figures["from_no_intent"], figures["from_no_intent_range"]) == ("160", "150–170")
    assert figures["cost"] == "250 万元"
    assert figures["cost_range"] == "238 万元–262 万元"
    sentence = leavers_sentence(figures, lang="zh")
    assert sentence.startswith("约 250 人/年（238–262）预计离职，其中约 90 人")
    assert "160" in sentence and "20%" in sentence


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_estimates_table_prints_every_range_beside_its_value(lang: str) -> None:
    figures = leavers_figures(_row(), ConversionParameters(), lang=lang)
    table = leavers_table(figures, lang=lang, level=95)
    assert table.iloc[:, 1].tolist() == [
        "20%",
        "250",
        "90",
        "160",
        figures["cost"],
    ]
    assert table.iloc[:, 2].tolist() == [
        "15%–25%",
        "238–262",
        "68–112",
        "150–170",
        figures["cost_range"],
    ]
    assert table.iloc[1, 3] == "135–298"
    for value in (figures["leavers"], figures["from_intent"], figures["cost"]):
        assert value in leavers_sentence(figures, lang=lang)


def test_drivers_in_words_caution_where_the_interval_spans_no_effect() -> None:
    drivers = pd.DataFrame(
        {
            "factor": ["walk_weekday_evening_minutes_canteen", "sat_clinic"],
            "contribution": [-0.30, 0.20],
            "contribution_low": [-0.50, 0.05],
            "contribution_high": [0.10, 0.35],
        }
    )
    first, second = drivers_in_words(drivers, lang="en")
    canteen = factor_label("walk_weekday_evening_minutes_canteen", lang="en")
    assert first == t("enterprise.words.lowers", "en", factor=canteen) + t(
        "enterprise.words.caution", "en"
    )
    sports = factor_label("sat_clinic", lang="en")
    assert second == t("enterprise.words.raises", "en", factor=sports)
    assert "log-odds" not in first + second


def test_enterprise_texts_cite_findable_sources_not_internal_files() -> None:
    catalogue = json.loads((REPO / "retention" / "locales" / "enterprise.json").read_text("utf-8"))
    for key, texts in catalogue.items():
        for lang, text in texts.items():
            assert ".md" not in text, (key, lang)
    for key in ("p_intent_help", "p_no_intent_help", "cost_input_help"):
        zh = t(f"enterprise.{key}", "zh")
        assert re.search(r"[\u4e00-\u9fff]", zh), key
    assert "Kraut 1975" in t("enterprise.p_intent_help", "zh")
