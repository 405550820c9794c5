"""The sample the retention model may be fitted on, weighted and applied to (disclosure rule 5).

A logistic fit is an aggregate like a mean: with every other respondent known, its coefficients
give away the one respondent who changed. So the model never sees the answers of a group under
k: ``retention.survey.disclosure.model_sample`` keeps only complete rows whose enterprise, and
whose age band, shift and wage band, have at least k such rows in the same wave. The survey
weights are fitted to the headcounts over those rows only, and a categorical level nobody is
left in is merged into its factor's reference level (no coefficient is published for it; a
worker of that level is predicted as one of the reference level). Every published model figure —
coefficients, odds ratios, AUC, calibration, drivers, enterprise and park leavers — is then a
function of released answers only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from retention.errors import ValidationError
from retention.model.intent import RetentionModelSpec, build_design
from retention.survey.disclosure import model_sample
from retention.survey.privacy import PrivacyParameters
from retention.survey.weighting import survey_weights


@dataclass(frozen=True, eq=False)
class ReleasedModelInputs:
    """The model's released sample and the spec coarsened to it.

    Attributes
    ----------
    features
        The released respondents (a copy), with weights fitted over them when asked.
    spec
        The spec with every level that has no released respondent merged into the reference.
    withheld
        Respondents left out (incomplete rows included).
    merged
        ``(column, level)`` of the levels merged into their reference.
    """

    features: pd.DataFrame
    spec: RetentionModelSpec
    withheld: int
    merged: tuple[tuple[str, str], ...]


def release_for_model(
    features: pd.DataFrame,
    spec: RetentionModelSpec,
    *,
    privacy: PrivacyParameters | None = None,
    headcounts: Mapping[str, float] | None = None,
) -> ReleasedModelInputs:
    """Return the respondents the model may use, reweighted, and the spec coarsened to them.

    Assumes the model feature table (``peer_benchmark.model_features``: survey columns with
    ``enterprise_id`` and ``wave``, access features, ``spec.weight``).

    Parameters
    ----------
    features
        Every respondent.
    spec
        The model to fit.
    privacy
        The threshold k (default 5).
    headcounts
        Employees per enterprise: when given and the spec is weighted, ``spec.weight`` is
        replaced by ``survey_weights`` fitted over the released rows (else kept as it is).

    Raises
    ------
    ValidationError
        A predictor is missing or invalid (``build_design``), or a released respondent's
        enterprise has no headcount.
    """
    _, complete, _ = build_design(features, spec)
    if spec.outcome not in features.columns:
        raise ValidationError(f"feature column {spec.outcome!r} is missing", column=spec.outcome)
    answered = pd.to_numeric(features[spec.outcome], errors="coerce").notna().to_numpy()
    keep = model_sample(
        features,
        complete & answered,
        cells=[term.column for term in spec.categorical],
        parameters=privacy,
    )
    sample = features.loc[keep].copy()
    if headcounts is not None and spec.weight is not None:
        sample[spec.weight] = survey_weights(sample, headcounts).weights
    merged: list[tuple[str, str]] = []
    terms = []
    for term in spec.categorical:
        present = set(sample[term.column].astype(str))
        empty = tuple(
            level for level in term.levels if level != term.reference and level not in present
        )
        merged += [(term.column, level) for level in empty]
        terms.append(replace(term, merged=tuple(dict.fromkeys((*term.merged, *empty)))))
    return ReleasedModelInputs(
        features=sample,
        spec=replace(spec, categorical=tuple(terms)),
        withheld=int(len(features) - np.count_nonzero(keep)),
        merged=tuple(merged),
    )
