"""Tests for retention.model.peer_benchmark: peer bands, k-anonymity, access features, one
enterprise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geodata.synthetic_respondents import demo_coefficients, simulate_respondents
from retention.errors import ValidationError
from retention.model.intent import default_spec, fit_intent_model
from retention.model.peer_benchmark import (
    MIN_PEERS,
    enterprise_retention,
    model_features,
    peer_benchmark,
    residence_access,
    workforce_access,
)
from retention.survey.privacy import PrivacyParameters


def _respondents(sizes: dict[str, int], values: dict[str, float]) -> pd.DataFrame:
    rows = [
        {"enterprise_id": e, "sat_canteen": values[e], "weight": 1.0}
        for e, n in sizes.items()
        for _ in range(n)
    ]
    return pd.DataFrame(rows)


def test_benchmark_known_answer() -> None:
    frame = _respondents(
        {"A": 6, "B": 5, "C": 5, "D": 5, "E": 2, "F": 3},
        {"A": 4.0, "B": 2.0, "C": 3.0, "D": 5.0, "E": 1.0, "F": 1.0},
    )
    table = peer_benchmark(frame, "A", ["sat_canteen"]).iloc[0]
    assert (table["n"], table["mean"]) == (6, 4.0)
    # E and F (under k, together 5 >= k, so no complement) count in no figure, the park mean
    # included: it is the mean of A-D only.
    assert table["park_mean"] == pytest.approx((24 + 10 + 15 + 25) / 21)
    assert table["park_n"] == 21
    # Peers B, C, D clear k = 5 (E does not): band = 25th/75th percentile of 2, 3, 5.
    assert table["n_peers"] == 3
    assert (table["peer_low"], table["peer_high"]) == pytest.approx((2.5, 4.0))
    assert not table["suppressed"]


def test_small_enterprise_is_blanked_and_band_needs_enough_peers() -> None:
    frame = _respondents({"A": 4, "B": 5, "C": 5}, {"A": 4.0, "B": 2.0, "C": 3.0})
    table = peer_benchmark(frame, "A", ["sat_canteen"]).iloc[0]
    assert table["suppressed"]
    assert np.isnan(table["mean"]) and np.isnan(table["n"])
    # A (4) is left out; 4 < k left out alone would be the park total minus B and C, so the
    # smallest counted enterprise (B) is left out too (complement rule): one peer remains.
    assert table["n_peers"] == 1 < MIN_PEERS
    assert np.isnan(table["peer_low"]) and np.isnan(table["peer_high"])
    strict = peer_benchmark(
        _respondents({"A": 6, "B": 6}, {"A": 1.0, "B": 2.0}),
        "A",
        ["sat_canteen"],
        parameters=None,
    )
    assert not strict["suppressed"].iloc[0]


def test_residence_access_caps_unreachable_and_uses_nearest_open() -> None:
    origins = pd.DataFrame(
        {"origin_set": ["residence", "enterprise", "residence"], "origin_id": ["H1", "X", "H2"]}
    )
    minutes = np.array([[5.0, 3.0, 12.0], [1.0, 1.0, 1.0], [np.inf, 90.0, 7.0]])
    categories = ["canteen", "canteen", "clinic"]
    available = np.array([[True, False, True], [True, True, True], [True, True, True]])
    table = residence_access(
        minutes, categories, origins, available=available, model_categories=["canteen", "clinic"]
    )
    assert table["residence_id"].tolist() == ["H1", "H2"]
    # H1: the 3-minute canteen is closed, so 5; H2: the nearest canteen is 90 min, capped at 60.
    assert table["walk_weekday_evening_minutes_canteen"].tolist() == [5.0, 60.0]
    assert table["walk_weekday_evening_minutes_clinic"].tolist() == [12.0, 7.0]


def test_enterprise_retention_suppresses_small_and_reports_large() -> None:
    frame = simulate_respondents(2500, demo_coefficients(), seed=3, n_enterprises=12)
    model = fit_intent_model(frame, default_spec(weight="weight"), cv_folds=2, n_bootstrap=0)
    big = enterprise_retention(model, frame, "E00", 800, n_draws=100)
    assert not big.suppressed and big.n_respondents > 100
    assert big.leavers["enterprise_id"] == "E00"
    assert (
        big.leavers["leavers_low"] < big.leavers["leavers_per_year"] < big.leavers["leavers_high"]
    )
    assert set(big.drivers["factor"]) == set(model.spec.predictor_columns)
    tiny = frame.loc[frame["enterprise_id"] != "E01"]
    tiny = pd.concat([tiny, frame.loc[frame["enterprise_id"] == "E01"].iloc[:3]])
    small = enterprise_retention(model, tiny, "E01", 100, privacy=PrivacyParameters())
    assert small.suppressed and small.leavers.empty and small.drivers.empty


def test_model_features_joins_access_and_weights() -> None:
    survey = pd.DataFrame({"residence_id": ["H1", None, "H9"], "enterprise_id": ["A"] * 3})
    access = pd.DataFrame({"residence_id": ["H1"], "walk_weekday_evening_minutes_canteen": [4.0]})
    weights = pd.Series([1.0, 2.0, 3.0])
    frame = model_features(survey, access, weights)
    assert frame["walk_weekday_evening_minutes_canteen"].tolist()[0] == 4.0
    assert frame["walk_weekday_evening_minutes_canteen"].isna().tolist() == [False, True, True]
    assert frame["weight"].tolist() == [1.0, 2.0, 3.0]


def _workforce_origins() -> tuple[pd.DataFrame, pd.DataFrame]:
    origins = pd.DataFrame(
        {
            "origin_set": ["enterprise", "residence", "residence", "residence", "enterprise", "h3"],
            "origin_id": ["E1", "D1", "D2", "R9", "E2", "8a"],
            "weight": [100.0, 30.0, 10.0, 500.0, 50.0, 7.0],
            "enterprise_id": ["E1", "E1", "E1", None, "E2", None],
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    nearest = pd.DataFrame(
        {
            "canteen": [5.0, 10.0, 20.0, 1.0, 1.0, 1.0],
            "gym": [np.inf, 70.0, np.inf, 1.0, 1.0, 1.0],
        },
        index=origins.index,
    )
    return nearest, origins


def test_workforce_access_reports_workplace_and_people_weighted_dormitories() -> None:
    nearest, origins = _workforce_origins()
    table = workforce_access(nearest, origins, "E1", categories=["canteen", "gym"])
    assert table.index.tolist() == ["workplace", "dormitories"]
    assert table.loc["workplace"].to_dict() == {
        "people": 100.0,
        "sites": 1,
        "canteen": 5.0,
        "gym": 60.0,  # unreachable counts as the 60-minute cap
    }
    dorms = table.loc["dormitories"]
    assert (dorms["people"], dorms["sites"]) == (40.0, 2)
    assert dorms["canteen"] == pytest.approx((30 * 10 + 10 * 20) / 40)  # 12.5
    assert dorms["gym"] == pytest.approx(60.0)  # 70 and inf both capped at 60


def test_workforce_access_of_an_enterprise_without_dormitories_has_one_row() -> None:
    nearest, origins = _workforce_origins()
    table = workforce_access(nearest, origins, "E2", categories=["canteen"])
    assert table.index.tolist() == ["workplace"]
    assert table.at["workplace", "canteen"] == 1.0
    with pytest.raises(ValidationError, match="same rows"):
        workforce_access(nearest.iloc[::-1], origins, "E1", categories=["canteen"])
