"""Excel's "Unicode text" (另存为 Unicode 文本) and other UTF-16 CSV exports, with a byte-order
mark: read like the same table saved as UTF-8, for layers and survey waves alike.

The files are written here: UTF-16 little- or big-endian with its BOM, tab-separated as Excel
writes them (or comma-separated). A UTF-16 file without a BOM cannot be told from other bytes
for sure and stays refused with a message saying how to save it.
"""

from __future__ import annotations

import pytest

from retention.data.io import read_layer
from retention.data.limits import UploadLimits, check_csv_rows
from retention.errors import FileFormatError
from retention.survey.importer import read_survey_file

LAYER = (
    "编号\t名称\t经度\t纬度\r\nE1\t上海电机\t113.145\t27.845\r\nE2\t湘江轨道\t113.150\t27.850\r\n"
)
SURVEY = "序号\t所在企业\t您的年龄段\r\n1\t金山电子有限公司\t90后\r\n2\t湘江机械厂\t00后\r\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("separator", ["\t", ","])
def test_a_utf16_layer_reads_like_utf8(encoding: str, separator: str) -> None:
    text = LAYER.replace("\t", separator)
    data = ("\ufeff" + text if encoding != "utf-16" else text).encode(encoding)
    raw = read_layer(data, file_name="企业.csv")
    expected = read_layer(text.encode("utf-8"), file_name="企业.csv")
    assert raw.source.encoding.startswith("utf-16")
    assert raw.frame.drop(columns="geometry").equals(expected.frame.drop(columns="geometry"))
    assert list(raw.frame["名称"]) == ["上海电机", "湘江轨道"]


def test_a_utf16_survey_reads_like_utf8() -> None:
    raw = read_survey_file(SURVEY.encode("utf-16"), file_name="问卷.txt")
    expected = read_survey_file(SURVEY.encode("utf-8"), file_name="问卷.txt")
    assert list(raw.headers) == list(expected.headers) == ["序号", "所在企业", "您的年龄段"]
    assert raw.frame.equals(expected.frame)
    assert raw.encoding.startswith("utf-16")


def test_utf16_without_a_byte_order_mark_is_refused_with_how_to_save_it() -> None:
    with pytest.raises(FileFormatError, match=r"UTF-16 .* without a byte-order mark"):
        read_layer(LAYER.encode("utf-16-le"), file_name="企业.csv")
    with pytest.raises(FileFormatError, match=r"UTF-16 .* without a byte-order mark"):
        read_survey_file(SURVEY.encode("utf-16-le"), file_name="问卷.csv")


def test_rows_of_a_utf16_file_are_counted_as_characters_not_bytes() -> None:
    # "上" is U+4E0A: its little-endian bytes hold 0x0A, which a byte count takes for a line end.
    text = "名称\n" + "上上上上\n" * 3
    check_csv_rows(text.encode("utf-16"), file_name="x.csv", limits=UploadLimits(max_rows=3))
    with pytest.raises(FileFormatError, match="rows"):
        check_csv_rows(
            (text + "上\n").encode("utf-16"), file_name="x.csv", limits=UploadLimits(max_rows=3)
        )
