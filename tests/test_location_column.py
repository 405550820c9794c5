"""Amap and Tencent POI exports give a point as one "lng,lat" cell (``location``, ``经纬度``,
``坐标``): read like separate longitude and latitude columns, and a cell that is not one
longitude and one latitude rejects its row naming the column. Files written here by hand.
"""

from __future__ import annotations

import pytest

from retention.data.io import read_layer
from retention.data.validate import validate_layer

ROWS = [
    ("x1", "食堂一", "canteen", "100", "Mo-Su 06:00-22:00", 113.23, 27.92),
    ("x2", "超市二", "grocery", "50", "Mo-Su 08:00-22:00", 113.24, 27.915),
]


def _csv(header: str, cells: list[str]) -> bytes:
    lines = [f"id,name,category,capacity,opening_hours,{header}"]
    lines += [",".join(row[:5]) + f',"{cell}"' for row, cell in zip(ROWS, cells, strict=True)]
    return "\n".join(lines).encode("utf-8")


def _plain() -> bytes:
    lines = ["id,name,category,capacity,opening_hours,lng,lat"]
    lines += [",".join(map(str, row)) for row in ROWS]
    return "\n".join(lines).encode("utf-8")


def _check(data: bytes):
    raw = read_layer(data, file_name="poi.csv")
    return validate_layer(raw.frame, "amenities", source_name="poi.csv", coordinate_system="gcj02")


@pytest.mark.parametrize("header", ["location", "经纬度", "坐标"])
@pytest.mark.parametrize("separator", [",", "，", " "])
def test_one_lng_lat_cell_reads_like_two_columns(header: str, separator: str) -> None:
    cells = [f"{lon}{separator}{lat}" for *_, lon, lat in ROWS]
    checked = _check(_csv(header, cells))
    expected = _check(_plain())
    assert checked.rejected.empty and len(checked.valid) == 2
    assert list(checked.valid.geometry) == list(expected.valid.geometry)


def test_a_cell_that_is_not_one_longitude_and_one_latitude_rejects_its_row() -> None:
    checked = _check(_csv("location", ["113.23,27.92", "113.24"]))
    assert len(checked.valid) == 1
    issues = checked.issues[checked.issues["severity"] == "error"]
    assert issues["row"].tolist() == [2]
    assert issues["column"].iloc[0].startswith("location")
