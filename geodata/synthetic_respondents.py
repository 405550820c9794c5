"""Synthetic survey respondents drawn from a known intent model (for tests, demos, power checks).

SYNTHETIC DATA: every table this module returns is invented from a stated model; it is never a
survey. The outcome is drawn from exactly the logistic model ``retention.model.intent`` fits, so a
correct estimator recovers the coefficients given here up to sampling error.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import special

from retention.errors import ParameterError
from retention.model.intent import INTERCEPT, RetentionModelSpec, build_design, default_spec
from retention.survey.schema import AgeBand, WageBand

# Coefficients (log-odds) of the default spec used by the demo and the tests. The commute term is
# ln(1.15) per 10 minutes above 10 (PARAMETERS.md item 8); the rest are invented but plausible in
# sign and size (PARAMETERS.md item 10: no sourced amenity effect exists). The intercept gives
# an intent share of about 30 %.
DEMO_COEFFICIENTS: Mapping[str, float] = {
    INTERCEPT: 0.2,
    "walk_weekday_evening_minutes_canteen": 0.15,
    "walk_weekday_evening_minutes_grocery": 0.10,
    "walk_weekday_evening_minutes_clinic": 0.05,
    "walk_weekday_evening_minutes_sports_court": 0.20,
    "sat_canteen": -0.25,
    "sat_grocery": -0.10,
    "sat_clinic": -0.05,
    "sat_sports_court": -0.20,
    "tenure_months": -0.15,
    "commute_minutes": float(np.log(1.15)),
    "age_band[post70]": -0.60,
    "age_band[post80]": -0.30,
    "age_band[post00]": 0.35,
    "shift[two_shift]": 0.20,
    "shift[three_shift]": 0.40,
    "wage_band[4000-6000]": -0.20,
    "wage_band[6000-8000]": -0.40,
    "wage_band[>8000]": -0.60,
}


def demo_coefficients() -> dict[str, float]:
    """Return a fresh copy of the known coefficients of the default spec (see module note)."""
    return dict(DEMO_COEFFICIENTS)


def simulate_respondents(
    n: int,
    coefficients: Mapping[str, float],
    *,
    seed: int,
    spec: RetentionModelSpec | None = None,
    n_enterprises: int = 40,
    n_residences: int = 60,
    missing_share: float = 0.02,
    weighted: bool = True,
) -> pd.DataFrame:
    """Draw synthetic respondents whose intent follows a logistic model with known coefficients.

    Assumes ``spec`` uses the survey's column names for controls and satisfaction
    (``default_spec()`` by default); any numeric column not known here is drawn as minutes of
    access (uniform 2–40). Access minutes are a property of the residence: respondents of one
    residence share them. Satisfaction falls with access minutes, as it would in a real park, so
    the predictors are correlated. Intent is drawn as ``y ~ Bernoulli(expit(X·β))`` and written
    as a Likert answer (4–5 if ``y`` else 1–3), so thresholding at 4 recovers ``y`` exactly.

    Parameters
    ----------
    n
        Respondents to draw.
    coefficients
        Log-odds coefficient per term of ``spec.terms`` (every term required).
    seed
        Random seed; the same arguments always give the same table.
    spec
        Model whose predictors to generate (default ``default_spec()``).
    n_enterprises, n_residences
        Number of distinct enterprise and residence ids.
    missing_share
        Share of satisfaction answers left blank (skipped questions), independently per item.
    weighted
        Whether to add a ``weight`` column (log-normal, independent of the outcome).

    Returns
    -------
    pandas.DataFrame
        One row per respondent: ``respondent_id``, ``enterprise_id``, ``residence_id``, the
        predictor columns, ``intent_to_leave`` (Int64 1–5), ``wave``, ``weight`` (if
        ``weighted``), and ``true_probability`` (the probability the answer was drawn with).

    Raises
    ------
    ParameterError
        If a term has no coefficient or an argument is out of range.
    """
    spec = default_spec() if spec is None else spec
    missing_terms = [t for t in spec.terms if t not in coefficients]
    if missing_terms:
        raise ParameterError(
            f"no coefficient for terms {missing_terms}; expected one per term of the spec",
            column=missing_terms[0],
        )
    if n < 1 or n_enterprises < 1 or n_residences < 1:
        raise ParameterError("n, n_enterprises and n_residences must be at least 1", column="n")
    if not 0 <= missing_share < 1:
        raise ParameterError(f"missing_share must be in [0, 1), got {missing_share}")
    rng = np.random.default_rng(seed)
    residence = rng.integers(0, n_residences, n)
    frame = pd.DataFrame(
        {
            "respondent_id": pd.array([f"R{i:05d}" for i in range(n)], dtype="string"),
            "enterprise_id": pd.array(
                [f"E{e:02d}" for e in rng.integers(0, n_enterprises, n)], dtype="string"
            ),
            "residence_id": pd.array([f"H{r:02d}" for r in residence], dtype="string"),
        }
    )
    residence_minutes: dict[str, np.ndarray] = {}
    categorical = {t.column: t for t in spec.categorical}
    for column in spec.predictor_columns:
        if column in categorical:
            frame[column] = _categorical(column, categorical[column].levels, n, rng)
        elif column == "tenure_months":
            frame[column] = np.minimum(rng.exponential(24.0, n), 240.0).round(1)
        elif column == "commute_minutes":
            frame[column] = rng.gamma(2.0, 9.0, n).round(0)
        elif column.startswith("sat_"):
            frame[column] = pd.array([pd.NA] * n, dtype="Int64")  # filled below
        else:
            per_residence = rng.uniform(2.0, 40.0, n_residences)
            residence_minutes[column] = per_residence
            frame[column] = per_residence[residence].round(1)
    for column in spec.predictor_columns:
        if not column.startswith("sat_"):
            continue
        category = column.removeprefix("sat_")
        minutes = next(
            (v[residence] for k, v in residence_minutes.items() if k.endswith(f"_{category}")),
            np.full(n, 15.0),
        )
        latent = 3.6 - 0.04 * (minutes - 15.0) + rng.normal(0.0, 0.9, n)
        answers = np.clip(np.rint(latent), 1, 5).astype(float)
        answers[rng.random(n) < missing_share] = np.nan
        frame[column] = pd.array([pd.NA if np.isnan(a) else int(a) for a in answers], dtype="Int64")
    design, complete, _ = build_design(frame, spec)
    beta = np.array([coefficients[t] for t in spec.terms], dtype=float)
    # Rows with a skipped item still need an answer: draw them from the row's complete-item
    # probability with the skipped items at their mean (they are dropped by a complete-case fit).
    filled = np.where(np.isnan(design), np.nanmean(design, axis=0), design)
    probability = special.expit(filled @ beta)
    intends = rng.random(n) < probability
    likert = np.where(intends, rng.choice([4, 5], n, p=[0.6, 0.4]), rng.choice([1, 2, 3], n))
    frame[spec.outcome] = pd.array(likert, dtype="Int64")
    frame["wave"] = pd.array(["synthetic"] * n, dtype="string")
    if weighted:
        frame["weight"] = np.exp(rng.normal(0.0, 0.3, n))
    frame["true_probability"] = np.where(complete, probability, np.nan)
    return frame


def _categorical(column: str, levels: tuple[str, ...], n: int, rng: np.random.Generator) -> object:
    shares = {
        "age_band": {
            AgeBand.POST70.value: 0.10,
            AgeBand.POST80.value: 0.25,
            AgeBand.POST90.value: 0.40,
            AgeBand.POST00.value: 0.25,
        },
        "wage_band": {
            WageBand.BELOW_4000.value: 0.30,
            WageBand.FROM_4000_TO_6000.value: 0.40,
            WageBand.FROM_6000_TO_8000.value: 0.20,
            WageBand.ABOVE_8000.value: 0.10,
        },
        "shift": {"day": 0.4, "two_shift": 0.4, "three_shift": 0.2},
    }.get(column)
    p = (
        np.array([shares[level] for level in levels])
        if shares is not None and set(shares) == set(levels)
        else np.full(len(levels), 1 / len(levels))
    )
    values = rng.choice(np.array(levels, dtype=object), n, p=p / p.sum())
    return pd.Categorical(values, categories=list(levels))
