"""Tests for retention.survey.importer: Wenjuanxing-style files in, canonical survey table out."""

from __future__ import annotations

import io

import geopandas as gpd
import pandas as pd
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from retention.errors import FileFormatError, ParkLifeError, ValidationError
from retention.survey.importer import (
    decode_text,
    import_survey,
    issues_frame,
    read_survey_file,
    rejected_rows_csv,
    rejected_rows_xlsx,
)
from retention.survey.mapping import suggest_mapping

SALT = b"s" * 32
HEADERS = [
    "序号",
    "提交答卷时间",
    "所用时间",
    "来源",
    "来源详情",
    "来自IP",
    "1、您所在的企业:",
    "2、您居住在哪里:",
    "3、您的年龄段:",
    "4、您在本企业工作了多久:",
    "5、您的班次:",
    "6、您的月收入:",
    "7、您上下班的主要方式:",
    "8、您单程通勤时间大约多少分钟:",
    "9、您对以下设施的满意度:(食堂与餐饮)",
    "9、您对以下设施的满意度:(篮球场等球场)",
    "10、这些设施对您的重要程度:(食堂与餐饮)",
    "10、这些设施对您的重要程度:(篮球场等球场)",
    "11、总体来说，您对园区生活的满意度:",
    "12、未来12个月内您离职的可能性:",
    "13、您考虑离职的原因:(工资待遇)",
    "13、您考虑离职的原因:(业余生活单调)",
    "13、您考虑离职的原因:(通勤不便)",
]
META = ["2024/3/1 8:30:12", "120秒", "微信", "N/A", "111.22.33.44(湖南-株洲)"]
GOOD_ROWS = [
    [
        "1",
        *META,
        "金山电子",
        "1号宿舍",
        "90后",
        "1-3年",
        "两班倒",
        "4000-6000元",
        "电动车",
        "15",
        "满意",
        "不满意",
        "非常重要",
        "重要",
        "一般",
        "可能会离职",
        "1",
        "1",
        "0",
    ],
    [
        "2",
        *META,
        "E02",
        "(跳过)",
        "00后",
        "不满3个月",
        "三班倒",
        "4000元以下",
        "步行",
        "5",
        "非常满意",
        "(跳过)",
        "重要",
        "非常重要",
        "满意",
        "肯定会离职",
        "选中",
        "未选中",
        "未选中",
    ],
    [
        "3",
        *META,
        "湘江机械",
        "2号公寓",
        "80后",
        "5年以上",
        "常白班",
        "8000元以上",
        "私家车",
        "30",
        "4",
        "3",
        "3",
        "3",
        "3",
        "肯定不会离职",
        "0",
        "0",
        "0",
    ],
]


def _enterprises() -> pd.DataFrame:
    return pd.DataFrame({"id": ["E01", "E02"], "name": ["株洲金山电子有限公司", "湘江机械"]})


def _residences() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["R01", "R02"], "name": ["1号宿舍", "2号公寓"]},
        geometry=[Point(113.10, 27.90), Point(113.12, 27.91)],
        crs="EPSG:4326",
    )


def _csv(rows: list[list[str]], *, headers: list[str] = HEADERS, encoding: str = "gbk") -> bytes:
    text = "\n".join(",".join(r) for r in [headers, *rows]) + "\n"
    return text.encode(encoding)


def _xlsx(rows: list[list[object]], *, headers: list[str] = HEADERS) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Sheet1")
    for r, row in enumerate([headers, *rows]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


def _import(data: bytes, name: str = "survey.csv"):
    raw = read_survey_file(data, file_name=name)
    return import_survey(
        raw, enterprises=_enterprises(), residences=_residences(), salt=SALT, wave="2024-spring"
    )


def test_gbk_csv_imports_with_every_quirk() -> None:
    result = _import(_csv(GOOD_ROWS))
    survey = result.survey
    assert len(survey) == 3
    assert list(survey["enterprise_id"]) == ["E01", "E02", "E02"]
    assert survey["residence_id"].fillna("-").tolist() == ["R01", "-", "R02"]
    assert list(survey["age_band"]) == ["post90", "post00", "post80"]
    assert list(survey["tenure_months"]) == [24.0, 1.5, 75.0]
    assert list(survey["shift"]) == ["two_shift", "three_shift", "day"]
    assert list(survey["wage_band"]) == ["4000-6000", "<4000", ">8000"]
    assert list(survey["commute_mode"]) == ["ebike", "walk", "car"]
    assert list(survey["sat_canteen"]) == [4, 5, 4]
    assert pd.isna(survey.loc[1, "sat_sports_court"])
    assert list(survey["imp_sports_court"]) == [4, 5, 3]
    assert list(survey["intent_to_leave"]) == [4, 5, 1]
    assert survey.loc[0, "reasons"] == ["boring_life", "wage"]
    assert survey.loc[2, "reasons"] == []
    # day precision only: the second would link the row back to the platform export (with IPs)
    assert survey.loc[0, "submitted_at"] == pd.Timestamp("2024-03-01")
    # pseudonymous ids: neither the raw 序号 nor the IP survives anywhere
    assert not set(survey["respondent_id"]) & {"1", "2", "3"}
    assert survey["respondent_id"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert "来自IP" not in result.rejected.columns
    assert result.rejected.empty
    assert result.encoding == "gb18030"
    fuzzy = result.links[result.links["value"] == "金山电子"].iloc[0]
    assert fuzzy["matched_id"] == "E01" and fuzzy["needs_confirmation"]


def test_wenjuanxing_xlsx_imports_like_the_csv() -> None:
    rows: list[list[object]] = [list(r) for r in GOOD_ROWS]
    rows[0][0] = 1  # numbers as numbers, as Excel stores them
    rows[2][14] = 4
    from_xlsx = _import(_xlsx(rows), "survey.xlsx").survey
    from_csv = _import(_csv(GOOD_ROWS)).survey
    pd.testing.assert_frame_equal(from_xlsx, from_csv)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_every_supported_encoding_reads_the_same(encoding: str) -> None:
    result = _import(_csv(GOOD_ROWS, encoding=encoding))
    assert len(result.survey) == 3


def test_pseudonyms_are_stable_for_the_same_salt_and_wave() -> None:
    first = _import(_csv(GOOD_ROWS)).survey["respondent_id"]
    again = _import(_csv(GOOD_ROWS)).survey["respondent_id"]
    assert list(first) == list(again)


def _issue_text(result) -> str:
    return "\n".join(
        f"row {r.row} | {r.column} | {r.value} | {r.expected}"
        for r in issues_frame(result.issues).itertuples()
    )


def test_duplicate_respondent_is_rejected_first_kept() -> None:
    rows = [*GOOD_ROWS, list(GOOD_ROWS[0])]
    result = _import(_csv(rows))
    assert len(result.survey) == 3
    assert list(result.rejected["row"]) == [4]
    with pytest.raises(AssertionError, match=r"row 4 \| 序号 \|  \| a respondent id not already"):
        raise AssertionError(_issue_text(result))


def test_out_of_range_optional_likert_is_blanked_with_a_warning_naming_row_column_value() -> None:
    rows = [list(r) for r in GOOD_ROWS]
    rows[1][14] = "7"
    result = _import(_csv(rows))
    # An optional question never rejects the row: the answer becomes missing, with a warning.
    assert len(result.survey) == 3 and result.rejected.empty
    assert pd.isna(result.survey.loc[1, "sat_canteen"])
    assert "row 2 | 9、您对以下设施的满意度:(食堂与餐饮) | 7 | an integer from 1 to 5" in (
        _issue_text(result)
    )
    warning = next(i for i in result.issues if i.value == "7")
    assert not warning.rejected and "left blank, row kept" in warning.expected


def test_out_of_range_required_intent_rejects_the_row() -> None:
    rows = [list(r) for r in GOOD_ROWS]
    rows[1][19] = "7"
    result = _import(_csv(rows))
    assert len(result.survey) == 2
    assert "row 2 | 12、未来12个月内您离职的可能性: | 7 | an integer from 1 to 5" in (
        _issue_text(result)
    )
    assert "an integer from 1 to 5" in result.rejected.loc[0, "reasons"]


def test_unknown_enterprise_is_rejected_with_closest_candidate() -> None:
    rows = [list(r) for r in GOOD_ROWS]
    rows[2][6] = "火星重工"
    result = _import(_csv(rows))
    assert len(result.survey) == 2
    assert "row 3 | 1、您所在的企业: | 火星重工 | an enterprise id or name" in _issue_text(result)


def test_blank_rows_are_reported_and_skipped_row_numbers_kept() -> None:
    blank = [""] * len(HEADERS)
    rows = [GOOD_ROWS[0], blank, GOOD_ROWS[1], blank, list(GOOD_ROWS[2])]
    rows[4][19] = "9"
    result = _import(_csv(rows))
    assert len(result.survey) == 2
    assert result.blank_rows == 2
    assert len(result.survey) + len(result.rejected) + result.blank_rows == len(rows)
    text = _issue_text(result)
    assert "row 2 |  |  | a response (blank row skipped)" in text
    assert "row 5 | 12、未来12个月内您离职的可能性: | 9" in text


def test_two_header_rows_are_detected_and_merged() -> None:
    top, options = [], []
    for header in HEADERS:
        if "(" in header and header.endswith(")"):
            question, option = header[: header.rfind("(")], header[header.rfind("(") + 1 : -1]
            top.append(question if not top or not top[-1] or question not in _previous(top) else "")
            options.append(option)
        else:
            top.append(header)
            options.append("")
    result = _import(_csv([options, *GOOD_ROWS], headers=top))
    assert result.header_rows == 2
    assert len(result.survey) == 3
    assert "second header row" in _issue_text(result)
    assert result.survey.loc[0, "reasons"] == ["boring_life", "wage"]


def _previous(top: list[str]) -> str:
    named = [t for t in top if t]
    return named[-1] if named else ""


def test_mixed_encodings_name_line_and_byte_offset() -> None:
    head = _csv(GOOD_ROWS[:2], encoding="utf-8")
    tail = ("\n".join(",".join(r) for r in GOOD_ROWS[2:]) + "\n").encode("gbk")
    data = head + tail
    offset = len(head) + tail.index("秒".encode("gbk"))  # first non-ASCII byte of line 4
    with pytest.raises(FileFormatError, match=rf"mixed encodings: line 4 \(byte offset {offset}\)"):
        read_survey_file(data, file_name="mixed.csv")


def test_missing_required_question_names_it() -> None:
    keep = [i for i, h in enumerate(HEADERS) if not h.startswith("12、")]
    headers = [HEADERS[i] for i in keep]
    rows = [[r[i] for i in keep] for r in GOOD_ROWS]
    raw = read_survey_file(_csv(rows, headers=headers), file_name="no_intent.csv")
    with pytest.raises(
        ValidationError, match=r"no_intent.csv.*required question 未来12个月内您离职的可能性"
    ):
        import_survey(raw, enterprises=_enterprises(), salt=SALT, wave="w")


def test_rejected_rows_downloads_carry_reasons() -> None:
    rows = [list(r) for r in GOOD_ROWS]
    rows[0][19] = "想走"
    result = _import(_csv(rows))
    csv_bytes = rejected_rows_csv(result)
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(csv_bytes), encoding="utf-8-sig")
    assert list(back["row"]) == [1]
    assert "想走" in back.loc[0, "reasons"]
    book = pd.read_excel(io.BytesIO(rejected_rows_xlsx(result)), sheet_name=None)
    assert set(book) == {"rejected_rows", "issues"}


def test_old_xls_and_empty_files_are_refused_specifically() -> None:
    with pytest.raises(FileFormatError, match=r"old Excel .xls workbook"):
        read_survey_file(b"\xd0\xcf\x11\xe0" + b"\x00" * 100, file_name="a.xls")
    with pytest.raises(FileFormatError, match="file is empty"):
        read_survey_file(b"  \n", file_name="a.csv")
    with pytest.raises(FileFormatError, match="not a readable XLSX"):
        read_survey_file(b"PK\x03\x04garbage", file_name="a.xlsx")


def test_decode_text_rejects_bytes_in_neither_encoding() -> None:
    with pytest.raises(FileFormatError, match=r"byte offset 2 \(line 1\)"):
        decode_text(b"ab\xff\xff\n", file_name="x.csv")


def test_mapping_suggestion_is_reused_verbatim_for_same_headers() -> None:
    raw = read_survey_file(_csv(GOOD_ROWS), file_name="s.csv")
    assert suggest_mapping(raw.headers) == suggest_mapping(raw.headers)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_reader(data: bytes) -> None:
    try:
        raw = read_survey_file(data, file_name="fuzz.csv")
        import_survey(raw, enterprises=_enterprises(), salt=SALT, wave="w")
    except ParkLifeError:
        pass


_cell = st.sampled_from(
    ["", "(跳过)", "(空)", "-3", "1", "7", "满意", "90后", "E01", "金山", "1,2", '"', "\r", "┋"]
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.lists(_cell, min_size=0, max_size=len(HEADERS) + 2), max_size=6))
def test_random_wenjuanxing_like_rows_never_crash_the_import(rows: list[list[str]]) -> None:
    try:
        result = _import(_csv(rows, encoding="utf-8"))
    except ParkLifeError:
        return
    # Nothing is silently dropped: every non-blank row is either kept or rejected with reasons.
    assert len(result.survey) + len(result.rejected) == result.rows_read
    assert all(len(reason) > 0 for reason in result.rejected["reasons"])


INNOCENT_HEADERS = ["Commute trip minutes", "Description", "Relationship", "Equipment", "zip code"]
# HEADERS already holds 来自IP.
PERSONAL_HEADERS = [
    "来自IP",
    "姓名",
    "微信昵称",
    "邮箱",
    "IP地址",
    "手机号码",
    "Source IP",
    "E-mail",
]


def test_personal_columns_are_dropped_by_name_and_innocent_ones_kept() -> None:
    headers = [*HEADERS, *INNOCENT_HEADERS, *PERSONAL_HEADERS[1:]]
    extra = [f"v{i}" for i in range(len(INNOCENT_HEADERS) + len(PERSONAL_HEADERS) - 1)]
    raw = read_survey_file(
        _csv([[*row, *extra] for row in GOOD_ROWS], headers=headers, encoding="utf-8"),
        file_name="survey.csv",
    )
    for header in INNOCENT_HEADERS:
        assert header in raw.headers, header
    assert set(raw.dropped_columns) == set(PERSONAL_HEADERS)
    assert not set(PERSONAL_HEADERS) & set(raw.headers)

    result = import_survey(
        raw, enterprises=_enterprises(), residences=_residences(), salt=SALT, wave="w"
    )
    assert len(result.notes) == len(PERSONAL_HEADERS)
    for header in PERSONAL_HEADERS:
        [note] = [n for n in result.notes if repr(header) in n]
        assert "dropped on reading" in note


def test_wechat_question_is_not_mistaken_for_a_personal_column() -> None:
    headers = [*HEADERS, "14、您是否通过微信群了解园区活动:"]
    raw = read_survey_file(
        _csv([[*row, "是"] for row in GOOD_ROWS], headers=headers, encoding="utf-8"),
        file_name="survey.csv",
    )
    assert "14、您是否通过微信群了解园区活动:" in raw.headers
    assert raw.dropped_columns == ("来自IP",)
