"""Tests for retention.report.survey_tables: cohort cells, suppression counts, IPA points, reason
bars, words for codes, label placement and the labelled results workbook."""

from __future__ import annotations

import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from retention.i18n import label, t
from retention.report.survey_tables import (
    code_label,
    cohort_table,
    group_names,
    ipa_figure,
    ipa_legend,
    ipa_points,
    label_boxes,
    labels_to_codes,
    mean_cell,
    padded_range,
    place_labels,
    reason_bars,
    results_workbook,
    suppressed_rows,
    target_label,
)
from retention.survey.analysis import (
    QUADRANTS,
    category_means,
    ipa,
    reason_shares,
    weighting_table,
)
from retention.survey.coding import CODE_OPTIONS
from retention.survey.mapping import MAPPING_TARGETS
from retention.survey.privacy import SUPPRESSED_MARKER, suppress_small_groups
from tests.survey_fixtures import make_survey


def test_mean_cell() -> None:
    assert mean_cell(3.456, 3.2, 3.7, 41.0, suppressed=False) == "3.46 [3.20–3.70] n=41"
    assert mean_cell(3.4, 3.2, 3.7, 41.0, suppressed=True) == SUPPRESSED_MARKER
    assert mean_cell(np.nan, np.nan, np.nan, 0.0, suppressed=False) == SUPPRESSED_MARKER


def test_cohort_table_pivots_groups_by_category() -> None:
    means = pd.DataFrame(
        {
            "group": ["post90", "post90", "post00", "post00"],
            "category": ["canteen", "clinic", "canteen", "clinic"],
            "mean": [3.5, 4.0, np.nan, 2.25],
            "ci_low": [3.0, 3.5, np.nan, 2.0],
            "ci_high": [4.0, 4.5, np.nan, 2.5],
            "n": [20.0, 20.0, np.nan, 8.0],
            "suppressed": [False, False, True, False],
        }
    )
    table = cohort_table(means, lang="zh")
    canteen, clinic = label("category", "canteen", "zh"), label("category", "clinic", "zh")
    assert table.loc["00后", canteen] == SUPPRESSED_MARKER
    assert table.loc["00后", clinic] == "2.25 [2.00–2.50] n=8"
    assert table.loc["90后", canteen] == "3.50 [3.00–4.00] n=20"
    assert set(table.columns) == {canteen, clinic}


def test_suppressed_rows_reads_the_privacy_note() -> None:
    table = pd.DataFrame({"n": [2, 30, 40], "mean": [1.0, 2.0, 3.0]})
    hidden = suppress_small_groups(table, value_columns=["mean"], complementary=False)
    assert suppressed_rows(hidden) == 1
    assert suppressed_rows(table) == 0  # no note: nothing hidden


def test_ipa_points_drop_missing_and_name_quadrants() -> None:
    points = pd.DataFrame(
        {
            "category": ["canteen", "gym", "clinic"],
            "importance": [4.2, np.nan, 3.1],
            "performance": [2.5, 3.0, 4.4],
            "quadrant": ["concentrate_here", "keep_up", "possible_overkill"],
        }
    )
    shown = ipa_points(points, lang="en")
    assert shown["name"].tolist() == [label("category", c, "en") for c in ("canteen", "clinic")]
    assert shown["quadrant_name"].tolist()[0] == t("survey.quadrant.concentrate_here", "en")
    assert shown["performance"].tolist() == [2.5, 4.4]


def test_padded_range() -> None:
    assert padded_range([2.0, 4.0]) == pytest.approx((1.75, 4.25))  # min pad 0.25 > 0.24
    assert padded_range([0.0, 10.0, np.nan]) == pytest.approx((-1.2, 11.2))  # 12 % of 10
    assert padded_range([]) == pytest.approx((-0.25, 1.25))


def test_reason_bars_sorted_with_interval_distances() -> None:
    reasons = pd.DataFrame(
        {
            "reason": ["wage", "commute", "housing"],
            "share": [0.4, np.nan, 0.1],
            "ci_low": [0.3, np.nan, 0.05],
            "ci_high": [0.55, np.nan, 0.2],
        }
    )
    bars = reason_bars(reasons, lang="en")
    assert bars["name"].tolist() == [
        t("survey.reason.housing", "en"),
        t("survey.reason.wage", "en"),
    ]
    assert bars["minus"].tolist() == pytest.approx([0.05, 0.1])
    assert bars["plus"].tolist() == pytest.approx([0.1, 0.15])


# --- plain words (issue 13, item 2) ------------------------------------------------------------


def test_mapping_targets_and_answer_codes_read_as_words_in_both_languages() -> None:
    assert target_label("age_band", "zh") == "年龄段（几零后）"
    assert target_label("response_number", "en") == "Response number in this wave"
    assert target_label("sat_canteen", "zh") == "满意度：" + label("category", "canteen", "zh")
    assert target_label("imp_sports_court", "en") == "Importance: " + label(
        "category", "sports_court", "en"
    )
    assert target_label("reason:boring_life", "zh").endswith(t("survey.reason.boring_life", "zh"))
    assert code_label("post00", "zh") == "00后"
    assert code_label("post00", "en") == "Born 2000s"
    assert code_label("two_shift", "en") == label("shift_pattern", "two_shift", "en")
    assert code_label("4000-6000", "zh") == "4000-6000 元/月"
    assert code_label("missing", "zh") == "未作答"
    assert code_label("3", "zh") == "3"  # a Likert score stays a digit


def test_every_target_and_code_has_its_own_name_and_reads_back() -> None:
    for codes, name_of in ((MAPPING_TARGETS, target_label), (CODE_OPTIONS, code_label)):
        lookup = labels_to_codes(codes, name_of)
        for lang in ("en", "zh"):
            names = [name_of(c, lang) for c in codes]
            assert len(set(names)) == len(names), lang  # one name, one code
            assert [lookup[n] for n in names] == list(codes)
            raw = [n for n, c in zip(names, codes, strict=True) if n == c and not c.isdigit()]
            assert not raw, raw


def test_group_names_use_cohort_and_enterprise_names_never_codes() -> None:
    assert group_names(["post70", "post00"], by="age_band", lang="zh") == {
        "post70": "70后及以前",
        "post00": "00后",
    }
    names = {"e0001": "荷鑫轨道", "e0002": "驰博服饰", "e0003": "荷鑫轨道"}
    shown = group_names(["e0001", "e0002", "e0003", "e0999"], by="enterprise_id", lang="zh",
                        names=names)  # fmt: skip
    assert shown == {
        "e0001": "荷鑫轨道",
        "e0002": "驰博服饰",
        "e0003": "荷鑫轨道 #2",  # same name: told apart by a number, not by the id
        "e0999": t("survey_words.group.unknown", "zh"),
    }


def test_cohort_table_rows_are_named_after_the_grouping() -> None:
    means = pd.DataFrame(
        {
            "group": ["e0001", "e0002"],
            "category": ["canteen", "canteen"],
            "mean": [3.5, 4.0],
            "ci_low": [3.0, 3.5],
            "ci_high": [4.0, 4.5],
            "n": [20.0, 30.0],
            "suppressed": [False, False],
        }
    )
    table = cohort_table(
        means, lang="en", by="enterprise_id", names={"e0001": "Hexin", "e0002": "Chibo"}
    )
    assert table.index.tolist() == ["Chibo", "Hexin"]
    assert table.index.name == t("survey.group.enterprise_id", "en")


def test_ipa_points_are_numbered_in_the_order_to_act() -> None:
    points = pd.DataFrame(
        {
            "category": ["canteen", "gym", "clinic", "park", "mall"],
            "importance": [4.2, 2.0, 4.5, 2.5, 3.0],
            "performance": [4.0, 2.0, 2.5, 4.0, 2.2],
            "quadrant": [
                "keep_up",
                "low_priority",
                "concentrate_here",
                "possible_overkill",
                "concentrate_here",
            ],
        }
    )
    shown = ipa_points(points, lang="zh")
    # Concentrate here first (clinic before mall: more important), then keep up, low priority,
    # possible overkill.
    assert shown["category"].tolist() == ["clinic", "mall", "canteen", "gym", "park"]
    assert shown["number"].tolist() == [1, 2, 3, 4, 5]
    legend = ipa_legend(shown, lang="zh", importance_kind="stated")
    assert legend.iloc[0].tolist() == [1, label("category", "clinic", "zh"), "重点改进", 4.5, 2.5]


def _boxes_overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def test_labels_of_points_close_together_do_not_cover_each_other() -> None:
    # Three categories almost on top of each other (as 幼儿园, 中小学, 就业驿站 in the demo) and
    # one far away: every label finds a place of its own.
    x = [1.29, 1.31, 1.30, 3.5]
    y = [2.55, 2.55, 2.59, 3.9]
    texts = ["10", "11", "12", "1"]
    ranges = {"x_range": (1.0, 4.5), "y_range": (2.3, 4.6)}
    positions = place_labels(x, y, texts, **ranges)
    boxes = label_boxes(x, y, texts, positions, **ranges)
    assert len(set(positions[:3])) == 3
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not _boxes_overlap(boxes[i], boxes[j]), (i, j, positions)
    # A lone point keeps the default place, above its marker.
    assert positions[3] == "top center"


def test_ipa_figure_names_the_four_quadrants_and_explains_its_axes() -> None:
    survey = make_survey({"A": 30, "B": 25})
    chart = ipa(survey, importance="derived_intent")
    figure = ipa_figure(chart, lang="zh")
    corners = {a.text for a in figure.layout.annotations}
    assert {t(f"survey.quadrant.{q}", "zh") for q in QUADRANTS} <= corners
    assert figure.layout.yaxis.title.text == t("survey_words.ipa.axis.derived_intent", "zh")
    assert list(figure.data[0].text) == [str(n) for n in range(1, len(figure.data[0].text) + 1)]


def test_results_workbook_is_labelled_rounded_and_formula_safe() -> None:
    survey = make_survey({"e0001": 30, "e0002": 25, "e0004": 20, "e0003": 2})
    weights = pd.Series(1.0, index=survey.index)
    chart = ipa(survey, weights, importance="stated")
    means = category_means(survey, weights, measure="sat", by="enterprise_id")
    reasons = reason_shares(survey, weights)
    weighting = weighting_table(
        survey, weights, {"e0001": 100, "e0002": 80, "e0003": 40, "e0004": 60}
    )
    names = {"enterprise_id": {"e0001": '=HYPERLINK("http://x")', "e0002": "驰博服饰"}}
    data = results_workbook(
        ipa=chart,
        means=means,
        measure="sat",
        by="enterprise_id",
        reasons=reasons,
        weighting=weighting,
        names=names,
        lang="zh",
        note="合成演示问卷",
    )
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["说明", "重要性-满意度", "满意度-按企业", "离职原因", "加权"]
    sheet = book["满意度-按企业"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:4] == ["分组", "分组代码", "设施", "设施代码"]
    by_code = {(r[1], r[3]): r for r in rows[1:]}
    canteen = by_code[("e0002", "canteen")]
    assert canteen[0] == "驰博服饰" and canteen[2] == label("category", "canteen", "zh")
    expected = means.set_index(["group", "category"]).loc[("e0002", "canteen"), "mean"]
    assert canteen[header.index("均值（1–5）")] == round(float(expected), 2)
    # The name that looks like a formula is text, never a formula.
    hyperlink = by_code[("e0001", "canteen")]
    assert isinstance(hyperlink[0], str) and not hyperlink[0].startswith("=")
    # Too few answers: the marker, and the row says why.
    hidden = by_code[("e0003", "canteen")]
    assert hidden[header.index("均值（1–5）")] == SUPPRESSED_MARKER
    assert hidden[-1] == t("survey_words.shown.no", "zh")
    # Shares as percentages with one decimal.
    reason_rows = list(book["离职原因"].iter_rows(values_only=True))
    share_column = reason_rows[0].index("占比（%）")
    share = reasons.set_index("reason").loc[reason_rows[1][3], "share"]
    assert reason_rows[1][share_column] == round(float(share) * 100, 1)
    # Quadrants by name, chart numbers kept.
    ipa_rows = list(book["重要性-满意度"].iter_rows(values_only=True))
    assert ipa_rows[0][0] == "编号"
    named = {r[ipa_rows[0].index("建议")] for r in ipa_rows[1:]}
    assert named <= {t(f"survey.quadrant.{q}", "zh") for q in QUADRANTS} | {SUPPRESSED_MARKER}
