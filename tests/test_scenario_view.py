"""The Enterprise page's view of a sidebar scenario (retention.report.scenario_view)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from retention.i18n import label, t
from retention.report.scenario_view import leavers_change_sentence, workforce_change_table


def _workforce(rows: dict[str, tuple[float, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["people", "sites", "clinic", "canteen"]
    )


def test_change_is_scenario_minus_baseline_per_place_and_category() -> None:
    baseline = _workforce({"workplace": (100, 1, 37.6, 1.2)})
    scenario = _workforce({"workplace": (100, 1, 1.25, 1.2), "dormitories": (40, 2, 8.0, 3.0)})
    table = workforce_change_table(baseline, scenario, lang="en")
    work = t("enterprise.workforce.workplace", "en", people="100")
    dorms = t("enterprise.workforce.dormitories", "en", sites=2, people="40")
    assert list(table[t("enterprise.workforce.category", "en")]) == [
        label("category", "clinic", "en"),
        label("category", "canteen", "en"),
    ]
    assert list(table[t("scenario_view.col.baseline", "en", place=work)]) == [37.6, 1.2]
    assert list(table[t("scenario_view.col.scenario", "en", place=work)]) == [1.2, 1.2]
    assert list(table[t("scenario_view.col.change", "en", place=work)]) == [-36.4, 0.0]
    # A dormitory the scenario adds has no baseline figures: blank, not zero.
    assert all(math.isnan(v) for v in table[t("scenario_view.col.baseline", "en", place=dorms)])
    assert list(table[t("scenario_view.col.scenario", "en", place=dorms)]) == [8.0, 3.0]
    assert len(table.columns) == 1 + 3 * 2


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_leavers_sentence_says_fewer_or_more_with_the_interval(lang: str) -> None:
    row = pd.Series(
        {"delta_leavers": -3.46, "delta_low": -5.0, "delta_high": -1.2, "delta_cost_cny": -69_200}
    )
    fewer = leavers_change_sentence(row, level=0.95, lang=lang)
    assert "3.5" in fewer and "-5.0" in fewer and "-1.2" in fewer and "69,200" in fewer
    assert fewer == t(
        "scenario_view.leavers_fewer",
        lang,
        n="3.5",
        low="-5.0",
        high="-1.2",
        level=95,
        cost="69,200",
    )
    more = leavers_change_sentence(row * -1, level=0.9, lang=lang)
    assert more.startswith(
        t("scenario_view.leavers_more", lang, n="", low="", high="", level=90, cost="")[:10]
    )
    assert "+5.0" in more and "90%" in more
