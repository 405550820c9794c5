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
from retention.model.leavers import ConversionParameters, leavers_by_source
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
    if "+" in level:  # a reference with the levels merged into it (retention.model.release)
        return " / ".join(_level_label(factor, part, lang) for part in level.split("+"))
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
            t("report.drivers.certainty", lang): [
                t("report.drivers.uncertain" if lo <= 1 <= hi else "report.drivers.clear", lang)
                for lo, hi in zip(odds["or_low"], odds["or_high"], strict=True)
            ],
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


def drivers_in_words(drivers: pd.DataFrame, *, lang: str, top: int = 3) -> list[str]:
    """Return what would change intent most here, one plain sentence per driver.

    The largest ``top`` drivers of ``drivers_table`` (same order): the factor, whether it raises
    or lowers intent to leave at this enterprise compared with the park average, and a caution
    where its interval includes no effect.

    Parameters
    ----------
    drivers
        ``FittedRetentionModel.drivers`` rows for one enterprise, largest first.
    lang
        ``"en"`` or ``"zh"``.
    top
        How many drivers to describe.

    Returns
    -------
    list of str
        Markdown-free sentences (the factor names come from the catalogue, not from users).
    """
    table = drivers_table(drivers.head(top), lang=lang)
    factor, direction, certainty = (
        t("report.drivers.factor", lang),
        t("report.drivers.direction", lang),
        t("report.drivers.certainty", lang),
    )
    uncertain = t("report.drivers.uncertain", lang)
    sentences = []
    for _, row in table.iterrows():
        key = "raises" if row[direction] == t("report.drivers.raises", lang) else "lowers"
        sentence = t(f"enterprise.words.{key}", lang, factor=row[factor])
        if row[certainty] == uncertain:
            sentence += t("enterprise.words.caution", lang)
        sentences.append(sentence)
    return sentences


def money_text(cny: float, *, lang: str) -> str:
    """Return an amount of money for managers: 万元 in Chinese, thousands of CNY in English.

    ``6,430,577`` CNY is ``"643 万元"`` or ``"CNY 6,431k"``; amounts under 100 万元 keep one
    decimal (``"5.2 万元"``). The unit is always part of the text.
    """
    if lang == "zh":
        wan = cny / 10_000
        return t("enterprise.wan_yuan", lang, value=f"{wan:,.0f}" if wan >= 100 else f"{wan:,.1f}")
    return t("enterprise.k_cny", lang, value=f"{cny / 1_000:,.0f}")


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _span(low: str, high: str) -> str:
    return f"{low}–{high}"


def leavers_figures(
    row: pd.Series, conversion: ConversionParameters, *, lang: str
) -> dict[str, str]:
    """Return the Enterprise page's estimates as the texts it prints, each with its range.

    Assumes ``row`` is one ``LeaversEstimate.by_enterprise`` row (or its ``total``) computed
    with ``conversion``. The leavers are split (``leavers_by_source``) into those from workers
    who state intent and the baseline share who leave without stating it; each part's range
    follows the interval of the intent share.

    Parameters
    ----------
    row
        ``headcount``, ``intent_share`` (+ ``_low``/``_high``), ``leavers_per_year``,
        ``leavers_low``/``_high``, ``leavers_conversion_low``/``_high``, ``cost_cny``,
        ``cost_low_cny``/``cost_high_cny``, ``cost_range_low_cny``/``cost_range_high_cny``.
    conversion
        The conversion probabilities the row was computed with.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    dict
        Keys ``intent``, ``intent_range``, ``leavers``, ``leavers_range``,
        ``leavers_conversion_range``, ``from_intent``, ``from_intent_range``,
        ``from_no_intent``, ``from_no_intent_range``, ``cost``, ``cost_range``,
        ``cost_unit_range``.
    """
    heads = float(row["headcount"])
    share, share_low, share_high = (
        float(row["intent_share"]),
        float(row["intent_share_low"]),
        float(row["intent_share_high"]),
    )
    from_intent, from_no_intent = leavers_by_source(heads, share, conversion)
    intent_low, no_intent_high = leavers_by_source(heads, share_low, conversion)
    intent_high, no_intent_low = leavers_by_source(heads, share_high, conversion)
    return {
        "intent": f"{share:.0%}",
        "intent_range": _span(f"{share_low:.0%}", f"{share_high:.0%}"),
        "leavers": _count(row["leavers_per_year"]),
        "leavers_range": _span(_count(row["leavers_low"]), _count(row["leavers_high"])),
        "leavers_conversion_range": _span(
            _count(row["leavers_conversion_low"]), _count(row["leavers_conversion_high"])
        ),
        "from_intent": _count(from_intent),
        "from_intent_range": _span(_count(intent_low), _count(intent_high)),
        "from_no_intent": _count(from_no_intent),
        "from_no_intent_range": _span(_count(no_intent_low), _count(no_intent_high)),
        "cost": money_text(float(row["cost_cny"]), lang=lang),
        "cost_range": _span(
            money_text(float(row["cost_low_cny"]), lang=lang),
            money_text(float(row["cost_high_cny"]), lang=lang),
        ),
        "cost_unit_range": _span(
            money_text(float(row["cost_range_low_cny"]), lang=lang),
            money_text(float(row["cost_range_high_cny"]), lang=lang),
        ),
    }


def leavers_sentence(figures: Mapping[str, str], *, lang: str) -> str:
    """Return the page's lead sentence: leavers a year, their range and where they come from.

    ``figures`` is ``leavers_figures``'s output, so the sentence and the estimates table print
    the same numbers.
    """
    return t("enterprise.lead", lang, **figures)


def leavers_table(figures: Mapping[str, str], *, lang: str, level: int) -> pd.DataFrame:
    """Return the estimates with their ranges printed next to them (not only in tooltips).

    Parameters
    ----------
    figures
        ``leavers_figures``'s output.
    lang
        ``"en"`` or ``"zh"``.
    level
        The interval's level in percent.

    Returns
    -------
    pandas.DataFrame
        Columns: estimate, value, interval (model and sampling), range under the published
        conversion rates or replacement costs (blank where it does not apply).
    """
    rows = [
        ("intent", figures["intent"], figures["intent_range"], ""),
        (
            "leavers",
            figures["leavers"],
            figures["leavers_range"],
            figures["leavers_conversion_range"],
        ),
        ("from_intent", figures["from_intent"], figures["from_intent_range"], ""),
        ("from_no_intent", figures["from_no_intent"], figures["from_no_intent_range"], ""),
        ("cost", figures["cost"], figures["cost_range"], figures["cost_unit_range"]),
    ]
    return pd.DataFrame(
        {
            t("enterprise.est.estimate", lang): [
                t(f"enterprise.est.{name}", lang) for name, *_ in rows
            ],
            t("enterprise.est.value", lang): [value for _, value, _, _ in rows],
            t("enterprise.est.interval", lang, level=level): [span for *_, span, _ in rows],
            t("enterprise.est.sensitivity", lang): [other for *_, other in rows],
        }
    )
