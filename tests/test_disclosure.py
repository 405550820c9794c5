"""Disclosure control (retention.survey.disclosure): the four measured differencing attacks of
issue 10 and the rules that defeat them.

Each attack is written as an attacker would run it against the published figures; the test
asserts it recovers nothing. The proof-style tests show more: every published figure is the
same whatever the protected respondents answered, so *no* combination of published figures can
recover their answers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retention.auth.roles import Role, UserScope
from retention.errors import AccessDeniedError
from retention.model.peer_benchmark import peer_benchmark
from retention.survey.analysis import (
    aggregates_xlsx,
    category_means,
    group_summary,
    ipa,
    reason_shares,
    weighting_table,
)
from retention.survey.disclosure import cell_rule, check_breakdown, releasable
from retention.survey.privacy import PrivacyParameters
from retention.survey.schema import SAT_COLUMNS, cast_survey_frame
from tests.survey_fixtures import make_survey

K = PrivacyParameters().min_group_size
HEADCOUNTS = {"A": 400.0, "B": 250.0, "C": 120.0, "T": 30.0, "T2": 40.0}
ZONES = {"A": "Z1", "B": "Z1", "C": "Z2", "T": "Z2", "T2": "Z1"}


def _survey(sizes: dict[str, int], *, wave: str = "w1", seed: int = 5) -> pd.DataFrame:
    frame = make_survey(sizes, seed=seed)
    frame["wave"] = pd.array([wave] * len(frame), dtype="string")
    frame["respondent_id"] = frame["respondent_id"] + f"-{wave}"
    frame["zone_id"] = pd.array([ZONES[e] for e in frame["enterprise_id"]], dtype="string")
    return frame


def _join(*frames: pd.DataFrame) -> pd.DataFrame:
    zone = pd.concat([f["zone_id"] for f in frames], ignore_index=True)
    out = cast_survey_frame(pd.concat(frames, ignore_index=True).drop(columns="zone_id"))
    out["zone_id"] = zone
    return out


def _post_stratified(survey: pd.DataFrame) -> pd.Series:
    """Weights N_e / n_e (public headcounts over respondent counts), as the pages use."""
    counts = survey["enterprise_id"].map(survey["enterprise_id"].value_counts())
    return survey["enterprise_id"].map(HEADCOUNTS).astype(float) / counts.astype(float)


def _published(survey: pd.DataFrame, *, weighted: bool = True) -> dict[str, pd.DataFrame]:
    """Every survey figure a page, download or export publishes, for every enterprise choice."""
    weights = _post_stratified(survey) if weighted else pd.Series(1.0, index=survey.index)
    features = survey.assign(weight=weights.to_numpy())
    out: dict[str, pd.DataFrame] = {}
    for by in (None, "enterprise_id", "zone_id", "age_band", "residence_id"):
        for measure in ("sat", "imp"):
            out[f"{measure}_{by}"] = category_means(survey, weights, measure=measure, by=by)
        out[f"reasons_{by}"] = reason_shares(survey, weights, by=by)
        out[f"reasons_leaving_{by}"] = reason_shares(survey, weights, by=by, only_intending=True)
    out["groups"] = group_summary(survey, weights, by="enterprise_id")
    out["weighting"] = weighting_table(survey, weights, HEADCOUNTS)
    for kind in ("stated", "derived_overall", "derived_intent"):
        out[f"ipa_{kind}"] = ipa(survey, weights, importance=kind).points  # type: ignore[arg-type]
    for kind in ("stated", "derived_intent"):
        for band in ("post70", "post80", "post90", "post00"):
            out[f"ipa_{kind}_{band}"] = ipa(
                survey,
                weights,
                importance=kind,
                group_column="age_band",
                group=band,  # type: ignore[arg-type]
            ).points
    for enterprise in sorted(set(survey["enterprise_id"])):
        out[f"enterprise_{enterprise}"] = peer_benchmark(features, enterprise, list(SAT_COLUMNS))
    return out


def _assert_same(first: dict[str, pd.DataFrame], second: dict[str, pd.DataFrame]) -> None:
    assert first.keys() == second.keys()
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name], obj=name)


def _perturb(survey: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The same survey with every answer of ``rows`` changed (1-5 scales reversed, reasons)."""
    out = survey.copy()
    answer_columns = [c for c in out.columns if c.startswith(("sat_", "imp_"))]
    for column in [*answer_columns, "overall_satisfaction", "intent_to_leave"]:
        values = out[column].astype("float64")
        values.iloc[rows] = 6.0 - values.iloc[rows] + 0.5 * (values.iloc[rows] == 3)
        out[column] = values.round().clip(1, 5).astype(survey[column].dtype)
    for row in rows:
        out.at[out.index[row], "reasons"] = ["wage", "commute"]
    return out


def _rows(survey: pd.DataFrame, enterprise: str, wave: str | None = None) -> np.ndarray:
    mask = survey["enterprise_id"].eq(enterprise)
    if wave is not None:
        mask &= survey["wave"].eq(wave)
    return np.flatnonzero(mask.to_numpy())


# --- the rule, worked by hand ------------------------------------------------------------------


def test_cell_rule_known_answer_with_complement() -> None:
    cells = pd.Series(["a"] * 6 + ["b"] * 5 + ["c"] * 2 + ["d"] * 7, dtype="string")
    wave = pd.Series(["w1"] * 20, dtype="string")
    kept = cell_rule(np.ones(20, dtype=bool), cells, [wave], k=5)
    # c (2) alone left out would be the total minus a, b, d: b (5, the smallest counted) goes too.
    assert kept.tolist() == [True] * 6 + [False] * 7 + [True] * 7
    # In another wave, a cell counts per wave: a's 3 answers of w2 do not count, and the
    # complement of w2 (3 left out) takes b's 5 of w2 with it.
    cells2 = pd.Series(["a"] * 3 + ["b"] * 5 + ["d"] * 6, dtype="string")
    both = cell_rule(
        np.ones(34, dtype=bool),
        pd.concat([cells, cells2], ignore_index=True),
        [pd.Series(["w1"] * 20 + ["w2"] * 14, dtype="string")],
        k=5,
    )
    assert both[20:].tolist() == [False] * 8 + [True] * 6
    # Missing labels are a cell that is never shown; an answer not given is never counted.
    flags = np.ones(12, dtype=bool)
    flags[0] = False
    na_cells = pd.Series(["a"] * 6 + [None] * 6, dtype="string")
    assert (
        cell_rule(flags, na_cells, [wave[:12]], k=5).tolist() == [False] + [True] * 5 + [False] * 6
    )


# --- attack (a): park mean + other enterprises' means + headcounts ---------------------------


@pytest.mark.slow  # every published table, twice
def test_attack_a_park_mean_minus_peers_recovers_nothing() -> None:
    survey = _join(_survey({"A": 12, "B": 8, "C": 6, "T": 1}))
    weights = _post_stratified(survey)
    features = survey.assign(weight=weights.to_numpy())
    secret = survey.iloc[_rows(survey, "T")[0]]
    # The attacker reads T's page (suppressed), then every other enterprise's page ...
    own = peer_benchmark(features, "T", list(SAT_COLUMNS))
    assert own["suppressed"].all() and own["mean"].isna().all()
    others = {e: peer_benchmark(features, e, list(SAT_COLUMNS)) for e in ("A", "B", "C")}
    # C (6) is left out with T (the complement rule: T alone would be the total minus A, B, C).
    assert others["C"]["suppressed"].all() and not others["A"]["suppressed"].any()
    shown_firms = [e for e in others if not others[e]["suppressed"].any()]
    for position, column in enumerate(SAT_COLUMNS):
        park = own.iloc[position]
        # ... and solves park_mean * N_park = sum over shown firms + N_T * answer_T.
        shown = sum(HEADCOUNTS[e] * others[e].iloc[position]["mean"] for e in shown_firms)
        n_park = sum(HEADCOUNTS[e] for e in ("A", "B", "C", "T"))
        recovered = (park["park_mean"] * n_park - shown) / HEADCOUNTS["T"]
        assert np.isfinite(recovered)
        assert recovered != pytest.approx(float(secret[column]), abs=0.5)
        # The park mean is the headcount-weighted mean of the shown firms exactly: T adds
        # nothing to it, so what the attacker "recovers" is only the shown firms' mean again.
        assert park["park_mean"] * sum(HEADCOUNTS[e] for e in shown_firms) == pytest.approx(shown)
    # Proof: whatever T's respondent answered, every published figure is the same.
    _assert_same(_published(survey), _published(_perturb(survey, _rows(survey, "T"))))


# --- attack (b): 4 invented respondents + 1 real one --------------------------------------------


@pytest.mark.slow  # every published table, twice
def test_attack_b_invented_respondents_release_nothing() -> None:
    real = _survey({"A": 12, "B": 8, "C": 6, "T": 1}, wave="w1")
    invented = _survey({"T": 4}, wave="w2", seed=99)
    survey = _join(real, invented)
    features = survey.assign(weight=_post_stratified(survey).to_numpy())
    table = peer_benchmark(features, "T", list(SAT_COLUMNS))
    assert table["suppressed"].all(), "T has 5 respondents but no wave where it had k"
    by_enterprise = category_means(survey, by="enterprise_id")
    assert by_enterprise.loc[by_enterprise["group"] == "T", "suppressed"].all()
    # Whatever the real respondent answered, nothing published changes.
    _assert_same(_published(survey), _published(_perturb(survey, _rows(survey, "T", "w1"))))
    # And only planners and admins may store a wave at all (then only admins remove it).
    for role in (Role.HR, Role.VIEWER):
        user = UserScope("u", role, ("T",) if role is Role.HR else ())
        with pytest.raises(AccessDeniedError, match="may not add_wave"):
            user.require(__import__("retention.auth.roles").auth.roles.Permission.ADD_WAVE)


# --- attack (c): 5 -> 6 respondents ---------------------------------------------------------------


@pytest.mark.slow  # every published table, twice
def test_attack_c_one_new_respondent_changes_no_published_figure() -> None:
    first = _join(_survey({"A": 12, "B": 8, "T": 5}, wave="w1"))
    second = _join(_survey({"A": 12, "B": 8, "T": 5}, wave="w1"), _survey({"T": 1}, wave="w2"))
    # Unweighted, the release after the sixth respondent is the release before it, figure for
    # figure: nothing changed, so there is no difference to take.
    _assert_same(_published(first, weighted=False), _published(second, weighted=False))
    # Weighted to headcounts, T's weight is 30/6 instead of 30/5 (weights count every
    # respondent), which moves the park means; but still no figure depends on what the sixth
    # respondent answered:
    sixth = _rows(second, "T", "w2")
    _assert_same(_published(second), _published(_perturb(second, sixth)))


# --- attack (d): by-enterprise and by-zone downloads, weighting sheet --------------------------


@pytest.mark.slow  # every published table, twice
def test_attack_d_zone_minus_enterprises_and_weighting_total_recover_nothing() -> None:
    survey = _join(_survey({"A": 12, "B": 8, "T2": 2, "C": 9}))
    weights = _post_stratified(survey)
    by_enterprise = category_means(survey, weights, by="enterprise_id")
    by_zone = category_means(survey, weights, by="zone_id")
    workbook = aggregates_xlsx({"by_enterprise": by_enterprise, "by_zone": by_zone}, note="")
    assert workbook[:2] == b"PK"
    for category, zone_rows in by_zone.groupby("category"):
        z1 = zone_rows.loc[zone_rows["group"] == "Z1"].iloc[0]
        firms = by_enterprise.loc[by_enterprise["category"] == category].set_index("group")
        shown = [e for e in ("A", "B") if not firms.loc[e, "suppressed"]]
        # zone n minus its shown enterprises' n: no respondent is left over to recover.
        if not z1["suppressed"]:
            assert z1["n"] == sum(firms.loc[e, "n"] for e in shown)
    sheet = weighting_table(survey, weights, HEADCOUNTS)
    left_over = len(survey) - sheet["n"].sum(skipna=True)
    assert left_over == 0 or left_over >= K  # never one small firm's count on its own
    assert "mean_weight" not in sheet.columns  # headcount / weight would give n again
    _assert_same(_published(survey), _published(_perturb(survey, _rows(survey, "T2"))))


# --- properties over random surveys --------------------------------------------------------------


@st.composite
def _surveys(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 80))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return pd.DataFrame(
        {
            "enterprise_id": pd.array(rng.choice(["A", "B", "C", "D"], n), dtype="string"),
            "wave": pd.array(rng.choice(["w1", "w2", "w3"], n), dtype="string"),
            "cohort": pd.array(rng.choice(["x", "y", "z", None], n), dtype="string"),
            "answered": rng.random(n) < 0.9,
        }
    )


@settings(max_examples=150, deadline=None)
@given(_surveys())
def test_every_total_minus_its_cells_is_empty_or_at_least_k(survey: pd.DataFrame) -> None:
    answered = survey["answered"]
    park = releasable(survey, answered)["item"]
    for by in ("enterprise_id", "cohort"):
        cells = releasable(survey, answered, by=by)["item"]
        assert not (cells & ~park).any()  # a cell never counts what the park total does not
        for wave in ("w1", "w2", "w3"):
            in_wave = survey["wave"].eq("wave").to_numpy() | survey["wave"].eq(wave).to_numpy()
            left_out = int((park & ~cells)[in_wave].sum())
            assert left_out == 0 or left_out >= K
            for _, rows in survey.loc[in_wave & cells.to_numpy()].groupby(by):
                assert len(rows) >= K  # every counted cell of a wave has k answers


@settings(max_examples=100, deadline=None)
@given(_surveys(), _surveys())
def test_a_new_wave_changes_each_cell_by_zero_or_at_least_k(
    old: pd.DataFrame, new: pd.DataFrame
) -> None:
    old = old.assign(wave=pd.array(["w1"] * len(old), dtype="string"))
    new = new.assign(wave=pd.array(["w2"] * len(new), dtype="string"))
    both = pd.concat([old, new], ignore_index=True)
    for by in (None, "enterprise_id", "cohort"):
        before = releasable(old, old["answered"], by=by)["item"]
        after = releasable(both, both["answered"], by=by)["item"]
        assert after.iloc[: len(old)].tolist() == before.tolist()  # old answers: same release
        labels = both[by] if by else pd.Series("all", index=both.index)
        added = after.iloc[len(old) :]
        for _, count in labels.iloc[len(old) :][added.to_numpy()].value_counts().items():
            assert count >= K


def test_breakdowns_each_role_may_see() -> None:
    hr = UserScope("h", Role.HR, ("A",))
    viewer = UserScope("v", Role.VIEWER)
    survey = _join(_survey({"A": 12, "B": 8}))
    table = category_means(survey, by="enterprise_id", scope=hr)
    assert set(table["group"]) == {"A"}
    for scope in (hr, viewer):
        check_breakdown(scope, "age_band")
        with pytest.raises(AccessDeniedError, match="zone_id"):
            category_means(survey, by="zone_id", scope=scope)
    with pytest.raises(AccessDeniedError, match="survey_detail"):
        category_means(survey, by="enterprise_id", scope=viewer)
    with pytest.raises(AccessDeniedError, match="may not see enterprise 'B'"):
        peer_benchmark(survey, "B", list(SAT_COLUMNS), scope=hr)
