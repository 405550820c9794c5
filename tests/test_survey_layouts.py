"""Survey exports of Wenjuanxing (both layouts), Tencent Survey and Jinshuju import fully.

Fixtures are built here from the layouts documented in ``tests/survey_exports.py``, in XLSX,
UTF-8 and GBK CSV, with known answers and injected defects.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retention.errors import ValidationError
from retention.storage.mappings import MappingStore
from retention.survey.answers import ValueMap
from retention.survey.coding import answer_table, unknown_answers, value_map_from_table
from retention.survey.importer import (
    import_survey,
    read_survey_file,
    rejected_rows_csv,
    suggest_for,
)
from retention.survey.mapping import ColumnMapping, suggest_mapping
from tests.survey_exports import (
    DEFECTS,
    ENTERPRISES,
    FORMATS,
    LAYOUTS,
    REJECTING,
    WARNING_ONLY,
    export_bytes,
    export_rows,
    respondent,
)

SALT = b"k" * 32
LAYOUT_NAMES = {
    "wjx_two": "wenjuanxing_two_header",
    "wjx_one": "wenjuanxing_one_header",
    "tencent": "tencent",
    "jinshuju": "jinshuju",
}


def _import(data: bytes, name: str, **kwargs):
    raw = read_survey_file(data, file_name=name)
    return raw, import_survey(raw, enterprises=ENTERPRISES, salt=SALT, wave="w1", **kwargs)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_valid_row_is_accepted_with_its_known_answers(layout: str, fmt: str) -> None:
    respondents = [respondent(i) for i in range(1, 13)]
    raw, result = _import(*export_bytes(layout, respondents, fmt))
    assert raw.layout.name == LAYOUT_NAMES[layout]
    assert result.rejected.empty and len(result.survey) == len(respondents)
    survey = result.survey
    assert survey["enterprise_id"].tolist() == [
        ENTERPRISES["id"][r.enterprise] for r in respondents
    ]
    # The likelihood scale (很不可能 … 很可能) is read as intent 1 … 5.
    assert survey["intent_to_leave"].tolist() == [r.intent for r in respondents]
    assert survey["sat_canteen"].tolist() == [r.sat[0] for r in respondents]
    assert survey["sat_sports_court"].tolist() == [r.sat[1] for r in respondents]
    assert survey["imp_sports_court"].tolist() == [r.imp[1] for r in respondents]
    assert survey["age_band"].astype(str).tolist() == [r.age for r in respondents]
    assert survey["shift"].astype(str).tolist() == [r.shift for r in respondents]
    assert survey["commute_minutes"].tolist() == [float(r.commute_minutes) for r in respondents]
    assert [sorted(x) for x in survey["reasons"]] == [sorted(r.reasons) for r in respondents]
    assert not any(i.rejected for i in result.issues)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_injected_defect_is_reported_with_row_and_column(layout: str, fmt: str) -> None:
    defects = ["good", *DEFECTS[1:], *(["ragged"] if fmt != "xlsx" else []), "good"]
    respondents = [respondent(i, d) for i, d in enumerate(defects, start=1)]
    _raw, result = _import(*export_bytes(layout, respondents, fmt))
    by_row = {}
    for issue in result.issues:
        by_row.setdefault(issue.row, []).append(issue)
    column = {
        "unknown_enterprise": result.mapping.column_for("enterprise"),
        "bad_intent": result.mapping.column_for("intent_to_leave"),
        "bad_age": result.mapping.column_for("age_band"),
        "range_commute": result.mapping.column_for("commute_minutes"),
        "ragged": "",
        "blank": "",
    }
    for row, r in enumerate(respondents, start=1):
        if r.defect == "good":
            assert row not in by_row
            continue
        (issue,) = by_row[row]
        assert issue.column == column[r.defect]
        assert issue.rejected == (r.defect in REJECTING)
    commute = result.survey["commute_minutes"].tolist()
    assert 15.0 in commute  # "10-20" read as its midpoint, with a warning saying so
    (range_issue,) = [i for i in result.issues if i.value == "10-20"]
    assert range_issue.expected == "read as 15 minutes (the midpoint of 10-20)"
    assert result.survey["age_band"].isna().sum() == 1  # "其他": blank, row kept


def test_a_ragged_csv_row_is_rejected_with_its_line_and_its_cells_downloadable() -> None:
    respondents = [respondent(i) for i in (1, 2, 3)]
    rows, _ = export_rows("wjx_one", respondents)
    rows[2] = [*rows[2], "extra"]  # one cell too many, as an unquoted comma makes
    text = "\r\n".join(",".join(r) for r in rows) + "\r\n"
    _raw, result = _import(text.encode("gbk"), "wjx.csv")
    width = len(rows[0])
    (issue,) = [i for i in result.issues if i.row == 2]
    assert issue.rejected and issue.value == f"{width + 1} cells"
    assert f"{width} cells on line 3" in issue.expected
    assert len(result.survey) == 2 and result.rows_read == 3
    download = pd.read_csv(pd.io.common.BytesIO(rejected_rows_csv(result)), dtype=str)
    assert download["row"].tolist() == ["2"]
    assert download["extra_cells"].tolist() == ["extra"]
    # The personal column (来自IP) is blanked in a ragged row too.
    assert "111.22.33.44" not in rejected_rows_csv(result).decode("utf-8-sig")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    layout=st.sampled_from(LAYOUTS),
    fmt=st.sampled_from(FORMATS),
    defects=st.lists(st.sampled_from([*DEFECTS, "ragged"]), min_size=1, max_size=12),
)
def test_accepted_rejected_and_blank_rows_add_up_to_the_rows_read(
    layout: str, fmt: str, defects: list[str]
) -> None:
    if fmt == "xlsx":
        defects = [d for d in defects if d != "ragged"] or ["good"]
    if all(d == "blank" for d in defects):
        defects = [*defects, "good"]
    respondents = [respondent(i, d) for i, d in enumerate(defects, start=1)]
    _raw, result = _import(*export_bytes(layout, respondents, fmt))
    assert len(result.survey) + len(result.rejected) + result.blank_rows == len(defects)
    assert result.blank_rows == defects.count("blank")
    assert len(result.rejected) == sum(d in REJECTING for d in defects)
    assert len(result.survey) == sum(d in ("good", *WARNING_ONLY) for d in defects)
    warned_rows = {i.row for i in result.issues if not i.rejected and i.row is not None}
    assert {n for n, d in enumerate(defects, start=1) if d in WARNING_ONLY} <= warned_rows


def test_value_mapping_round_trip_flags_new_unknown_answers(tmp_path) -> None:
    store = MappingStore(tmp_path)
    first = [respondent(i, "bad_age" if i == 2 else "good") for i in range(1, 8)]
    data, name = export_bytes("wjx_one", first, "gbk")
    raw = read_survey_file(data, file_name=name)
    mapping = suggest_for(raw)
    table = answer_table(raw.frame, mapping)
    # The likelihood wordings are suggested from the dictionary; 其他 awaits a decision.
    intent = table[table["group"] == "intent_to_leave"].set_index("answer")
    assert intent.loc["很不可能", "code"] == "1" and intent.loc["很可能", "code"] == "5"
    assert unknown_answers(table)["answer"].tolist() == ["其他"]
    assert table.set_index(["group", "answer"]).loc[("age_band", "其他"), "count"] == 1
    # The user decides: 其他 is missing. Saved with the park's mapping.
    table.loc[table["answer"] == "其他", "code"] = "missing"
    values = value_map_from_table(table)
    store.save_survey_mapping("park1", mapping, values=values)
    result = import_survey(
        raw, mapping, enterprises=ENTERPRISES, salt=SALT, wave="w1", values=values
    )
    assert not [i for i in result.issues if i.value == "其他"]  # decided: no warning any more

    # Next wave: a new answer text 想走就走 and the known 其他.
    second = [respondent(i, d) for i, d in enumerate(["bad_intent", "bad_age", "good"], start=20)]
    data2, _ = export_bytes("wjx_one", second, "utf8")
    raw2 = read_survey_file(data2, file_name="wave2.csv")
    saved = store.load_value_map("park1")
    assert saved == values
    table2 = answer_table(raw2.frame, suggest_for(raw2), saved=saved)
    sources = table2.set_index("answer")["source"]
    assert sources["其他"] == "saved"
    assert unknown_answers(table2)["answer"].tolist() == ["想走就走"]
    result2 = import_survey(
        raw2, suggest_for(raw2), enterprises=ENTERPRISES, salt=SALT, wave="w2", values=saved
    )
    (unknown,) = [i for i in result2.issues if i.value == "想走就走"]
    assert unknown.rejected  # never coded silently


def test_user_codes_an_unknown_intent_answer_and_the_row_is_accepted() -> None:
    respondents = [respondent(i, d) for i, d in enumerate(["bad_intent", "good"], start=1)]
    data, name = export_bytes("tencent", respondents, "xlsx")
    raw = read_survey_file(data, file_name=name)
    table = answer_table(raw.frame, suggest_for(raw))
    table.loc[table["answer"] == "想走就走", "code"] = "5"
    result = import_survey(
        raw, enterprises=ENTERPRISES, salt=SALT, wave="w", values=value_map_from_table(table)
    )
    assert result.survey["intent_to_leave"].tolist() == [5, respondents[1].intent]


def test_option_order_codes_are_suggested_oriented_by_the_known_wordings() -> None:
    frame = pd.DataFrame(
        {
            "序号": ["1", "2", "3", "4"],
            "1、您所在的企业:": ["湘江机械厂"] * 4,
            "2、未来12个月内您离职的可能性:": ["A.很不可能", "B.有点悬", "D.待定中", "E.很可能"],
        }
    )
    mapping = suggest_mapping(list(frame.columns))
    table = answer_table(frame, mapping).set_index("answer")
    assert table.loc["B.有点悬", ["code", "source"]].tolist() == ["2", "option_order"]
    assert table.loc["D.待定中", ["code", "source"]].tolist() == ["4", "option_order"]


def test_a_code_outside_its_group_is_refused_naming_the_answer() -> None:
    table = pd.DataFrame(
        [("satisfaction", "还行吧", 3, 1, "post90", "unknown")],
        columns=["group", "answer", "count", "columns", "code", "source"],
    )
    with pytest.raises(ValidationError, match=r"code 'post90' for answer '还行吧'"):
        value_map_from_table(table)


def test_missing_required_questions_are_all_named_with_the_layout() -> None:
    data, name = export_bytes("jinshuju", [respondent(1)], "utf8")
    raw = read_survey_file(data, file_name=name)
    mapping = suggest_for(raw)
    targets = tuple(
        "ignore" if t in ("enterprise", "intent_to_leave") else t for t in mapping.targets
    )
    with pytest.raises(
        ValidationError,
        match=r"required questions .*enterprise.*intent to leave.* not found.*"
        r"looks like a Jinshuju \(金数据\) export",
    ):
        import_survey(
            raw,
            ColumnMapping(mapping.columns, targets, mapping.scores),
            enterprises=ENTERPRISES,
            salt=SALT,
            wave="w",
        )


def test_an_unknown_layout_is_named_as_such() -> None:
    text = "a,b,c\n1,2,3\n"
    raw = read_survey_file(text.encode(), file_name="x.csv")
    assert raw.layout.name == "unknown"
    with pytest.raises(ValidationError, match=r"match none of the known layouts \(Wenjuanxing"):
        import_survey(raw, enterprises=ENTERPRISES, salt=SALT, wave="w")


def test_value_map_json_round_trip_and_merge() -> None:
    old = ValueMap((("age_band", "其他", ""), ("satisfaction", "还行", "3")))
    new = ValueMap((("satisfaction", "还行", "4"),))
    merged = old.merged(new)
    assert merged.code("satisfaction", "还行") == "4" and merged.code("age_band", "其他") == ""
    assert ValueMap.from_json(merged.to_json()) == merged
