"""The Enterprise (HR) page's labels and tables: model terms, workforce access, odds ratios.

Turns the outputs of ``retention.model.peer_benchmark`` and ``retention.model.intent`` into what
the page
shows, in the interface language; survey figures keep the k-anonymity rule of
``retention.survey.privacy``. Inputs are never modified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import geopandas as gpd
import pandas as pd

from retention.errors import ParameterError
from retention.i18n import label, t
from retention.survey.privacy import PrivacyParameters, suppress_small_groups

_ACCESS_MARK = "_minutes_"  # model access terms are "<mode>_<window>_minutes_<category>"
_SATISFACTION_PREFIX = "sat_"  # satisfaction terms are "sat_<category>"
_CALIBRATION_VALUES = ("mean_predicted", "observed_rate", "observed_low", "observed_high")


def enterprise_names(enterprises: gpd.GeoDataFrame, *, lang: str) -> dict[str, str]:
    """Return each enterprise's name by id: ``name_en`` in English when it has one, else ``name``.

    Parameters
    ----------
    enterprises
        The enterprises layer (``id``, ``name``, optional ``name_en``).
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    dict
        ``{id: name}`` in layer order.
    """
    english = (
        enterprises["name_en"] if "name_en" in enterprises.columns else [None] * len(enterprises)
    )
    names: dict[str, str] = {}
    for enterprise_id, name, name_en in zip(
        enterprises["id"], enterprises["name"], english, strict=True
    ):
        use_english = lang == "en" and isinstance(name_en, str) and name_en.strip()
        names[str(enterprise_id)] = str(name_en) if use_english else str(name)
    return names


def surveyed_first(names: Mapping[str, str], surveyed: Iterable[str]) -> list[str]:
    """Return the ids of enterprises with survey answers, or every id when none has any."""
    answered = {str(item) for item in surveyed}
    return [eid for eid in names if eid in answered] or list(names)


def term_category(term: str) -> str:
    """Return the amenity category of a model term (``..._minutes_<category>``, ``sat_<c>``)."""
    if _ACCESS_MARK in term:
        return term.rsplit(_ACCESS_MARK, 1)[-1]
    if term.startswith(_SATISFACTION_PREFIX):
        return term[len(_SATISFACTION_PREFIX) :]
    raise ParameterError(
        f"is neither an access term (…{_ACCESS_MARK}<category>) nor a satisfaction term "
        f"({_SATISFACTION_PREFIX}<category>): {term!r}",
        column="term",
    )


def factor_label(factor: str, *, lang: str, level: str = "", reference: str = "") -> str:
    """Return a model factor's name for people: access, satisfaction or a control's level.

    Parameters
    ----------
    factor
        The factor (``..._minutes_<category>``, ``sat_<category>``, ``age_band``, ``shift``,
        ``wage_band``, ...).
    lang
        ``"en"`` or ``"zh"``.
    level, reference
        For a level of a categorical control, the level and the reference level it is compared
        with.

    Returns
    -------
    str
    """
    if _ACCESS_MARK in factor:
        category = label("category", term_category(factor), lang)
        return t("enterprise.factor.access", lang, category=category)
    if factor.startswith(_SATISFACTION_PREFIX):
        category = label("category", term_category(factor), lang)
        return t("enterprise.factor.sat", lang, category=category)
    name = t(f"enterprise.factor.{factor}", lang)
    if not level:
        return name
    return t(
        "enterprise.factor.level",
        lang,
        factor=name,
        level=_level_label(factor, level, lang),
        reference=_level_label(factor, reference, lang),
    )


def _level_label(factor: str, level: str, lang: str) -> str:
    if factor == "age_band":
        return t(f"enterprise.level.{level}", lang)
    if factor == "shift":
        return label("shift_pattern", level, lang)
    return t("enterprise.level.wage", lang, band=level)


def workforce_table(workforce: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """Return minutes per amenity category at the workplace and in the dormitories, as shown.

    Assumes ``workforce`` is ``retention.model.peer_benchmark.workforce_access``'s output: rows
    ``workplace`` and (if the enterprise has dormitories) ``dormitories``; one column per
    category plus ``people`` and ``sites``.

    Parameters
    ----------
    workforce
        Access of one enterprise's workforce.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    pandas.DataFrame
        A category column, then one column per place named with its people (and sites), minutes
        rounded to one decimal.
    """
    headers = []
    for place in workforce.index:
        people = f"{workforce.at[place, 'people']:,.0f}"
        if place == "dormitories":
            sites = int(workforce.at[place, "sites"])
            headers.append(t("enterprise.workforce.dormitories", lang, sites=sites, people=people))
        else:
            headers.append(t(f"enterprise.workforce.{place}", lang, people=people))
    minutes = workforce.drop(columns=["people", "sites"]).T.astype(float).round(1)
    minutes.columns = headers
    minutes.insert(
        0,
        t("enterprise.workforce.category", lang),
        [label("category", str(c), lang) for c in minutes.index],
    )
    return minutes.reset_index(drop=True)


def odds_ratio_table(odds: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """Return the model's odds ratios with intervals and p-values under translated headers.

    Assumes ``odds`` is ``FittedRetentionModel.odds_ratios()`` (``factor``, ``level``,
    ``reference``, ``odds_ratio``, ``or_low``, ``or_high``, ``p_value``).
    """
    return pd.DataFrame(
        {
            t("enterprise.col.factor", lang): [
                factor_label(str(f), lang=lang, level=_text(lvl), reference=_text(ref))
                for f, lvl, ref in zip(
                    odds["factor"], odds["level"], odds["reference"], strict=True
                )
            ],
            t("enterprise.col.odds_ratio", lang): odds["odds_ratio"].round(3).to_numpy(),
            t("enterprise.col.low", lang): odds["or_low"].round(3).to_numpy(),
            t("enterprise.col.high", lang): odds["or_high"].round(3).to_numpy(),
            t("enterprise.col.p", lang): odds["p_value"].round(4).to_numpy(),
        }
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def calibration_points(
    table: pd.DataFrame, *, privacy: PrivacyParameters | None = None
) -> pd.DataFrame:
    """Return the calibration bins that may be shown: bins under k respondents are dropped.

    Assumes ``table`` is ``FittedRetentionModel.calibration.table`` (one row per bin with ``n``,
    ``mean_predicted``, ``observed_rate``, ``observed_low``, ``observed_high``). A bin mixes
    enterprises, so hiding it does not reveal another cell: no complementary suppression.

    Parameters
    ----------
    table
        Calibration bins.
    privacy
        The anonymity threshold (default k = 5).

    Returns
    -------
    pandas.DataFrame
        The shown bins.
    """
    shown = suppress_small_groups(
        table,
        value_columns=list(_CALIBRATION_VALUES),
        parameters=privacy or PrivacyParameters(),
        complementary=False,
    )
    return shown.dropna(subset=["observed_rate"])


def drivers_table(drivers: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """Return the drivers of intent to leave in words: factor, direction, size, certainty.

    Assumes ``drivers`` is ``FittedRetentionModel.drivers`` (largest first). The size is the
    contribution to the log-odds of intending to leave, relative to the park average, with its
    interval; a driver whose interval spans zero is marked uncertain.

    Parameters
    ----------
    drivers
        Columns ``factor``, ``contribution``, ``contribution_low``, ``contribution_high``.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    pandas.DataFrame
        One row per driver, in the given order.
    """
    low = drivers["contribution_low"].astype(float)
    high = drivers["contribution_high"].astype(float)
    value = drivers["contribution"].astype(float)
    uncertain = (low <= 0) & (high >= 0)
    return pd.DataFrame(
        {
            t("report.drivers.factor", lang): [
                factor_label(str(f), lang=lang) for f in drivers["factor"]
            ],
            t("report.drivers.direction", lang): [
                t("report.drivers.raises" if v > 0 else "report.drivers.lowers", lang)
                for v in value
            ],
            t("report.drivers.size", lang): [
                f"{v:+.2f} ({lo:+.2f} – {hi:+.2f})"
                for v, lo, hi in zip(value, low, high, strict=True)
            ],
            t("report.drivers.certainty", lang): [
                t("report.drivers.uncertain" if u else "report.drivers.clear", lang)
                for u in uncertain
            ],
        }
    )
