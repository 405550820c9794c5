"""What a scenario chosen in the sidebar changes, as another page shows it (the Enterprise page).

Turns ``retention.scenario.compare.EnterpriseChange``'s parts (workforce access before and after,
the enterprise's leavers row) into the table and sentence the page shows, in the interface
language. Inputs are never modified.
"""

from __future__ import annotations

import pandas as pd

from retention.i18n import label, t

_NOT_CATEGORIES = ("people", "sites")


def _place_header(workforce: pd.DataFrame, place: str, lang: str) -> str:
    people = f"{workforce.at[place, 'people']:,.0f}"
    if place == "dormitories":
        sites = int(workforce.at[place, "sites"])
        return t("enterprise.workforce.dormitories", lang, sites=sites, people=people)
    return t(f"enterprise.workforce.{place}", lang, people=people)


def workforce_change_table(
    baseline: pd.DataFrame, scenario: pd.DataFrame, *, lang: str
) -> pd.DataFrame:
    """Return minutes per category at each workforce place: baseline, scenario and the change.

    Assumes both frames are ``retention.model.peer_benchmark.workforce_access`` outputs for the
    same enterprise (rows ``workplace`` / ``dormitories``; ``people``, ``sites`` and one column
    of minutes per category). A place present in only one of them (a scenario that gives the
    enterprise its first dormitory) shows blanks on the other side.

    Parameters
    ----------
    baseline, scenario
        Workforce access without and with the scenario.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    pandas.DataFrame
        A category column, then for each place three columns (baseline, scenario, change),
        minutes rounded to one decimal; a negative change is minutes saved.
    """
    categories = [c for c in scenario.columns if c not in _NOT_CATEGORIES]
    table = pd.DataFrame(
        {
            t("enterprise.workforce.category", lang): [
                label("category", str(c), lang) for c in categories
            ]
        }
    )
    places = list(dict.fromkeys([*baseline.index, *scenario.index]))
    for place in places:
        source = scenario if place in scenario.index else baseline
        header = _place_header(source, str(place), lang)
        before = (
            baseline.loc[place, categories].astype(float).to_numpy()
            if place in baseline.index
            else [float("nan")] * len(categories)
        )
        after = (
            scenario.loc[place, categories].astype(float).to_numpy()
            if place in scenario.index
            else [float("nan")] * len(categories)
        )
        before_series = pd.Series(before, dtype=float)
        after_series = pd.Series(after, dtype=float)
        table[t("scenario_view.col.baseline", lang, place=header)] = before_series.round(1)
        table[t("scenario_view.col.scenario", lang, place=header)] = after_series.round(1)
        table[t("scenario_view.col.change", lang, place=header)] = (
            after_series - before_series
        ).round(1)
    return table


def leavers_change_sentence(row: pd.Series, *, level: float, lang: str) -> str:
    """Return the enterprise's change in expected leavers per year under the scenario, in words.

    Parameters
    ----------
    row
        The enterprise's row of ``ScenarioDelta.by_enterprise`` (``delta_leavers``,
        ``delta_low``, ``delta_high``, ``delta_cost_cny``; negative = fewer leavers).
    level
        Interval level (e.g. 0.95).
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    str
        One sentence with the change, its interval and the replacement cost it implies.
    """
    delta = float(row["delta_leavers"])
    key = "fewer" if delta < 0 else "more"
    return t(
        f"scenario_view.leavers_{key}",
        lang,
        n=f"{abs(delta):,.1f}",
        low=f"{float(row['delta_low']):+,.1f}",
        high=f"{float(row['delta_high']):+,.1f}",
        level=round(100 * level),
        cost=f"{abs(float(row['delta_cost_cny'])):,.0f}",
    )


__all__ = ["leavers_change_sentence", "workforce_change_table"]
