"""Tests for retention.data.validate: canonical columns, one issue per problem, nothing dropped."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from retention.data.crs import CoordinateSystem, wgs84_to_bd09, wgs84_to_gcj02
from retention.data.io import read_layer, table_to_csv_bytes
from retention.data.layers import LAYER_SPECS, LayerKind
from retention.data.validate import (
    ISSUE_COLUMNS,
    find_coordinate_columns,
    map_headers,
    parse_bool,
    parse_number,
    validate_layer,
)
from retention.errors import CoordinateSystemError, ValidationError

WGS = CoordinateSystem.WGS84


def _csv(rows: list[dict[str, object]]) -> gpd.GeoDataFrame:
    """Round-trip rows through a real CSV read, as an upload would arrive."""
    data = pd.DataFrame(rows).to_csv(index=False).encode("gbk")
    return read_layer(data, file_name="企业.csv").frame


def _validate(frame, kind=LayerKind.ENTERPRISES, **kwargs):
    kwargs.setdefault("coordinate_system", WGS)
    return validate_layer(frame, kind, source_name="企业.csv", **kwargs)


def test_valid_table_gives_canonical_columns_and_points(enterprises_table):
    result = _validate(_csv(enterprises_table))
    spec = LAYER_SPECS[LayerKind.ENTERPRISES]
    assert list(result.valid.columns) == [*(f.name for f in spec.fields), "geometry"]
    assert result.valid.crs.to_epsg() == 4326
    assert result.valid["id"].tolist() == ["E1", "E2", "E3"]
    assert result.valid["employees"].tolist() == [1200, 800, 300]
    assert result.valid["employees"].dtype == np.int64
    assert result.valid["shift_pattern"].tolist() == ["two_shift", "day", "three_shift"]
    assert result.valid.geometry.iloc[0].equals(Point(113.145, 27.845))
    assert result.valid["name_en"].isna().all()  # optional, absent: present and empty
    assert result.issues.empty and result.rejected.empty
    assert list(result.issues.columns) == list(ISSUE_COLUMNS)


def test_input_is_not_modified(enterprises_table):
    frame = _csv(enterprises_table)
    before = frame.copy()
    _validate(frame, coordinate_system="gcj02")
    pd.testing.assert_frame_equal(pd.DataFrame(frame), pd.DataFrame(before))


def test_missing_required_column_names_it_and_its_aliases(enterprises_table):
    rows = [{k: v for k, v in r.items() if k != "员工数"} for r in enterprises_table]
    with pytest.raises(
        ValidationError,
        match=r"file '企业\.csv', column 'employees': missing required column for layer "
        r"'enterprises': 'employees' \(a header named one of: employees, 员工数, 职工人数, 人数\)",
    ):
        _validate(_csv(rows))


def test_missing_coordinate_columns():
    rows = [{"id": "E1", "name": "a", "industry": "x", "employees": 1, "shift_pattern": "day"}]
    with pytest.raises(ValidationError, match=r"no geometry: expected longitude and latitude"):
        _validate(_csv(rows))


def test_two_headers_for_one_field():
    with pytest.raises(ValidationError, match=r"headers '名称', '名字' all mean field 'name'"):
        map_headers(["id", "名称", "名字"], LAYER_SPECS[LayerKind.ZONES], source_name="z.csv")


def test_headers_case_insensitive_with_units():
    found = map_headers(
        ["ID", "Name", "INDUSTRY", "员工数(人)", "Shift"],
        LAYER_SPECS[LayerKind.ENTERPRISES],
        source_name="e.csv",
    )
    assert found == {
        "id": "ID",
        "name": "Name",
        "industry": "INDUSTRY",
        "employees": "员工数(人)",
        "shift_pattern": "Shift",
    }


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["LON", "LAT"], ("LON", "LAT")),
        (["lng", "Latitude"], ("lng", "Latitude")),
        (["经度(GCJ-02)", "纬度"], ("经度(GCJ-02)", "纬度")),
        (["X", "Y"], ("X", "Y")),
        (["经度"], None),
    ],
)
def test_find_coordinate_columns(headers, expected):
    assert find_coordinate_columns(headers) == expected


def _bad_rows(enterprises_table):
    rows = [dict(r) for r in enterprises_table]
    rows[0]["经度"] = "东经113"  # non-numeric
    rows[1]["经度"], rows[1]["纬度"] = 27.85, 113.15  # swapped
    rows[2]["员工数"] = "很多"  # non-numeric number field
    extra = dict(enterprises_table[0], 编号="E4", 班制="night")  # not in choices
    dup = dict(enterprises_table[1], 员工数=-5)  # below minimum
    ok_dup = dict(enterprises_table[2])  # repeats E3, whose own row is rejected -> kept
    empty = dict(enterprises_table[0], 编号="E5", 经度="")
    return [*rows, extra, dup, ok_dup, empty]


def test_bad_rows_are_rejected_with_specific_issues_and_good_rows_kept(enterprises_table):
    result = _validate(_csv(_bad_rows(enterprises_table)))
    issues = result.issues
    by_row = {row: group for row, group in issues.groupby("row")}
    assert by_row[1]["message"].str.contains(r"longitude '东经113' is not a number").any()
    assert by_row[1]["column"].iloc[0] == "经度"
    assert (
        by_row[2]["message"]
        .str.contains(
            r"longitude 27\.85 and latitude 113\.15 look swapped"
            r".*swap the values of '经度' and '纬度'"
        )
        .any()
    )
    assert (
        by_row[3]["message"].str.contains(r"'很多' is not a number; expected a whole number").any()
    )
    assert (
        by_row[4]["message"]
        .str.contains(
            r"'night' is not an allowed value; expected one of: day, two_shift, three_shift"
        )
        .any()
    )
    assert by_row[5]["message"].str.contains(r"-5 is below the minimum 0").any()
    assert by_row[7]["message"].str.contains("longitude is missing").any()
    # Row 6 repeats E3, whose own row 3 was rejected: the repeat is the only E3, so it is kept;
    # row 5 repeats E2 of rejected row 2, so it only fails its own minimum check.
    assert by_row[5]["message"].tolist() == [
        "-5 is below the minimum 0; expected a whole number >= 0"
    ]
    assert result.valid["id"].tolist() == ["E3"]
    assert result.rejected["row"].tolist() == [1, 2, 3, 4, 5, 7]
    assert result.rejected["编号"].tolist() == ["E1", "E2", "E3", "E4", "E2", "E5"]
    assert len(result.valid) + len(result.rejected) == 7
    assert result.rejected.columns[-1] == "reasons"
    assert (issues["file"] == "企业.csv").all()
    assert set(issues["severity"]) == {"error"}


def test_duplicate_ids(enterprises_table):
    rows = [*enterprises_table, dict(enterprises_table[0], 名称="重复")]
    result = _validate(_csv(rows))
    assert result.valid["id"].tolist() == ["E1", "E2", "E3"]
    (issue,) = result.issues.itertuples()
    assert issue.row == 4
    assert issue.message == "duplicate id 'E1' (first at row 1)"
    assert result.rejected["名称"].tolist() == ["重复"]


def test_missing_required_value_and_optional_kept(enterprises_table):
    rows = [dict(r) for r in enterprises_table]
    rows[0]["名称"] = " "
    rows[1]["所属网格"] = "G1"
    result = _validate(_csv(rows))
    assert result.issues["message"].tolist() == ["required value is missing"]
    assert result.issues["column"].tolist() == ["名称"]
    assert result.valid["zone_id"].tolist() == ["G1", None]


def test_points_outside_park(enterprises_table, park_boundary):
    rows = [*enterprises_table, dict(enterprises_table[0], 编号="far", 经度=113.40)]
    result = _validate(_csv(rows), park_boundary=park_boundary, max_outside_metres=1000)
    assert result.valid["id"].tolist() == ["E1", "E2", "E3"]
    (message,) = result.issues["message"].tolist()
    # 113.40 is 0.24 degrees east of the box edge at 27.845 N: ~23.6 km.
    assert message.startswith("lies 23,")
    assert "m outside the park boundary (tolerance 1,000 m)" in message
    near = [dict(enterprises_table[0], 经度=113.165)]  # ~490 m east of the box: within tolerance
    assert len(_validate(_csv(near), park_boundary=park_boundary, max_outside_metres=1000).valid)


@pytest.mark.parametrize(
    ("system", "forward"),
    [(CoordinateSystem.GCJ02, wgs84_to_gcj02), (CoordinateSystem.BD09, wgs84_to_bd09)],
)
def test_gcj02_and_bd09_tables_are_converted(enterprises_table, system, forward):
    rows = [dict(r) for r in enterprises_table]
    for row in rows:
        lon, lat = forward(row["经度"], row["纬度"])
        row["经度"], row["纬度"] = repr(float(lon)), repr(float(lat))
    result = _validate(_csv(rows), coordinate_system=system)
    expected = [Point(r["经度"], r["纬度"]) for r in enterprises_table]
    for got, want in zip(result.valid.geometry, expected, strict=True):
        assert got.distance(want) < 1e-8  # ~1 mm


def test_bool_time_and_hours_fields():
    roads = pd.DataFrame(
        {
            "编号": ["R1", "R2", "R3"],
            "道路等级": ["Arterial", "local", "path"],
            "可步行": ["是", "yes", "maybe"],
            "可骑行": ["0", "TRUE", "否"],
        }
    )
    frame = gpd.GeoDataFrame(
        roads,
        geometry=[LineString([(113.14, 27.85), (113.15, 27.85)])] * 3,
        crs="EPSG:4326",
    )
    result = validate_layer(frame, "roads", source_name="r.gpkg", coordinate_system="wgs84")
    assert result.valid["walk"].tolist() == [True, True]
    assert result.valid["bike"].tolist() == [False, True]
    assert result.valid["road_class"].tolist() == ["arterial", "local"]
    assert result.issues["message"].iloc[0].startswith("'maybe' is not true/false")

    routes = gpd.GeoDataFrame(
        {
            "route_id": ["B1", "B2"],
            "name": ["1路", "2路"],
            "kind": ["bus", "shuttle"],
            "speed_kmh": [20, 30],
            "首班": ["6:30", "25:00"],
            "末班": ["22:00", "20:00"],
        },
        geometry=[LineString([(113.14, 27.85), (113.15, 27.85)])] * 2,
        crs="EPSG:4326",
    )
    result = validate_layer(
        routes, "transit_routes", source_name="b.geojson", coordinate_system=WGS
    )
    assert result.valid["service_start"].tolist() == ["06:30"]
    (issue,) = result.issues.itertuples()
    assert issue.row == 2 and issue.column == "首班"
    assert "time '25:00' is out of range" in issue.message

    amenities = pd.DataFrame(
        {
            "id": ["A1", "A2"],
            "name": ["食堂", "球场"],
            "category": ["canteen", "sports court"],
            "capacity": ["1,200", "2"],
            "营业时间": ["Mo-Fr 07:00-20:00", "whenever"],
            "lon": [113.15, 113.151],
            "lat": [27.85, 27.851],
        }
    )
    frame = read_layer(table_to_csv_bytes(amenities), file_name="a.csv").frame
    result = validate_layer(frame, "amenities", source_name="a.csv", coordinate_system=WGS)
    assert result.valid["capacity"].tolist() == [1200.0]
    assert result.valid["opening_hours"].tolist() == ["Mo-Fr 07:00-20:00"]
    (issue,) = result.issues.itertuples()
    assert issue.column == "营业时间" and "'whenever' is not understood" in issue.message


def test_wrong_geometry_type_and_broken_geometry():
    bow_tie = Polygon([(113.14, 27.84), (113.15, 27.85), (113.15, 27.84), (113.14, 27.85)])
    frame = gpd.GeoDataFrame(
        {"id": ["Z1", "Z2", "Z3", "Z4"], "name": ["a", "b", "c", "d"], "level": ["grid"] * 4},
        geometry=[
            bow_tie,
            Point(113.15, 27.85),
            Polygon([(113.14, 27.84), (113.15, 27.84), (113.15, 27.85)]),
            None,
        ],
        crs="EPSG:4326",
    )
    result = validate_layer(frame, "zones", source_name="z.gpkg", coordinate_system=WGS)
    assert result.valid["id"].tolist() == ["Z1", "Z3"]
    assert result.valid.geometry.iloc[0].is_valid
    assert result.valid.geometry.iloc[0].geom_type in ("Polygon", "MultiPolygon")
    warning = result.issues[result.issues["severity"] == "warning"]
    assert warning["row"].tolist() == [1]
    assert warning["message"].iloc[0].startswith("geometry was invalid (Self-intersection")
    assert "repaired with make_valid" in warning["message"].iloc[0]
    errors = result.issues[result.issues["severity"] == "error"]
    assert errors["row"].tolist() == [2, 4]
    assert errors["message"].iloc[0] == (
        "geometry type Point is wrong for layer 'zones'; expected Polygon, MultiPolygon"
    )
    assert errors["message"].iloc[1] == "geometry is missing or empty"
    assert result.rejected["geometry"].tolist() == ["POINT (113.15 27.85)", ""]


def test_geometry_that_cannot_be_repaired_is_rejected():
    degenerate = LineString([(113.14, 27.85), (113.14, 27.85)])  # zero length: invalid
    frame = gpd.GeoDataFrame(
        {"id": ["R1"], "road_class": ["local"], "walk": [1], "bike": [0]},
        geometry=[degenerate],
        crs="EPSG:4326",
    )
    result = validate_layer(frame, "roads", source_name="r.geojson", coordinate_system=WGS)
    assert result.valid.empty
    assert result.issues["message"].iloc[0].startswith("geometry is invalid (Too few points")


def test_multipoint_in_point_layer_is_wrong_type():
    frame = gpd.GeoDataFrame(
        {"stop_id": ["S1"], "route_id": ["B1"], "sequence": [1], "name": ["站"]},
        geometry=[MultiPoint([(113.14, 27.85)])],
        crs="EPSG:4326",
    )
    result = validate_layer(frame, "transit_stops", source_name="s.geojson", coordinate_system=WGS)
    assert "geometry type MultiPoint is wrong" in result.issues["message"].iloc[0]


def test_swapped_spatial_file_and_projected_input():
    frame = gpd.GeoDataFrame(
        {"stop_id": ["S1", "S2"], "route_id": ["B1", "B1"], "sequence": [1, 2], "name": ["a", "b"]},
        geometry=[Point(27.85, 113.15), Point(113.15, 27.85)],
        crs="EPSG:4326",
    )
    result = validate_layer(frame, "transit_stops", source_name="s.geojson", coordinate_system=WGS)
    assert result.valid["stop_id"].tolist() == ["S2"]
    assert "coordinates look swapped" in result.issues["message"].iloc[0]

    projected = frame.iloc[[1]].to_crs("EPSG:32649")
    result = validate_layer(projected, "transit_stops", source_name="s.gpkg", coordinate_system=WGS)
    assert result.valid.geometry.iloc[0].distance(Point(113.15, 27.85)) < 1e-7
    with pytest.raises(CoordinateSystemError, match=r"file 's\.gpkg': coordinates said to be"):
        validate_layer(projected, "transit_stops", source_name="s.gpkg", coordinate_system="bd09")


def test_table_cannot_make_lines():
    row = {"route_id": "B1", "name": "1路", "kind": "bus", "speed_kmh": 20}
    row |= {"service_start": "06:00", "service_end": "22:00", "lon": 113.1, "lat": 27.8}
    frame = _csv([row])
    with pytest.raises(ValidationError, match=r"longitude/latitude columns give points, but"):
        validate_layer(frame, "transit_routes", source_name="r.csv", coordinate_system=WGS)


def test_wkt_column_table():
    rows = [
        {
            "id": "R1",
            "road_class": "local",
            "walk": 1,
            "bike": 1,
            "wkt": "LINESTRING (113.1 27.8, 113.2 27.8)",
        },
        {"id": "R2", "road_class": "local", "walk": 1, "bike": 1, "wkt": "LINESTRING (oops"},
    ]
    frame = _csv(rows)
    result = validate_layer(frame, "roads", source_name="r.csv", coordinate_system=WGS)
    assert result.valid["id"].tolist() == ["R1"]
    assert result.issues["message"].iloc[0].startswith("geometry text is not WKT")


def test_xlsx_numbers_and_times(tmp_path):
    import datetime as dt
    import io

    table = pd.DataFrame(
        {
            "线路编号": [1.0],
            "名称": ["班车"],
            "线路类型": ["shuttle"],
            "运营速度": [25],
            "首班": [dt.time(6, 5)],
            "末班": ["21:30"],
            "wkt": ["LINESTRING (113.1 27.8, 113.2 27.8)"],
        }
    )
    buffer = io.BytesIO()
    table.to_excel(buffer, index=False)
    frame = read_layer(buffer.getvalue(), file_name="r.xlsx").frame
    result = validate_layer(frame, "transit_routes", source_name="r.xlsx", coordinate_system=WGS)
    assert result.issues.empty, result.issues.to_dict("records")
    assert result.valid["route_id"].tolist() == ["1"]
    assert result.valid["service_start"].tolist() == ["06:05"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1,200", 1200.0), (" 3.5 ", 3.5), (7, 7.0), ("1，200", 1200.0)],
)
def test_parse_number(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["1,5", "abc", "nan", "inf", True, ""])
def test_parse_number_rejects(text):
    with pytest.raises(ValueError):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("FALSE", False),
        (1, True),
        ("0", False),
        ("Yes", True),
        ("no", False),
        ("是", True),
        ("否", False),
        (np.True_, True),
    ],
)
def test_parse_bool(text, expected):
    assert parse_bool(text) is expected


def test_negative_tolerance_rejected(enterprises_table):
    with pytest.raises(ValidationError, match="max_outside_metres must be >= 0"):
        _validate(_csv(enterprises_table), max_outside_metres=-1)


cell = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.sampled_from(["E1", "E2", "day", "two_shift", "night", "-3", "12", "1e3", "是"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 5000),
)
coordinate = st.one_of(
    st.none(),
    st.floats(min_value=-200, max_value=200),
    st.sampled_from(["113.15", "27.85", "x", "", "nan"]),
    st.floats(min_value=113.14, max_value=113.16),
)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "id": cell,
                "name": cell,
                "industry": cell,
                "employees": cell,
                "shift_pattern": cell,
                "lon": coordinate,
                "lat": coordinate,
            }
        ),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(list(CoordinateSystem)),
)
def test_nothing_is_silently_dropped(rows, system):
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, dtype=object), geometry=[None] * len(rows))
    boundary = Polygon([(113.14, 27.84), (113.16, 27.84), (113.16, 27.86), (113.14, 27.86)])
    result = validate_layer(
        frame,
        LayerKind.ENTERPRISES,
        source_name="p.csv",
        coordinate_system=system,
        park_boundary=boundary,
    )
    assert len(result.valid) + len(result.rejected) == len(rows)
    error_rows = set(result.issues.loc[result.issues["severity"] == "error", "row"])
    assert error_rows == set(result.rejected["row"])
    assert result.valid.crs.to_epsg() == 4326


def test_extra_columns_kept_and_reserved_names_renamed(enterprises_table):
    rows = [dict(r, source="园区台账", 备注="东门") for r in enterprises_table]
    result = _validate(_csv(rows))
    assert result.valid["source_original"].tolist() == ["园区台账"] * 3
    assert result.valid["备注"].tolist() == ["东门"] * 3
    assert "source" not in result.valid.columns
    assert "经度" not in result.valid.columns  # became the geometry


def test_gbk_csv_end_to_end_report_download(enterprises_table):
    import io

    from retention.data.io import table_to_xlsx_bytes

    rows = [*enterprises_table, dict(enterprises_table[0], 编号="E9", 纬度="北纬27")]
    data = pd.DataFrame(rows).to_csv(index=False).encode("gbk")
    raw = read_layer(data, file_name="园区企业.csv")
    result = validate_layer(
        raw.frame, "enterprises", source_name=raw.source.file_name, coordinate_system="gcj02"
    )
    assert len(result.valid) == 3
    report = pd.read_excel(io.BytesIO(table_to_xlsx_bytes(result.rejected)))
    assert report["row"].tolist() == [4]
    assert report["reasons"].tolist() == ["纬度: latitude '北纬27' is not a number"]
    issues = pd.read_csv(io.BytesIO(table_to_csv_bytes(result.issues)), encoding="utf-8-sig")
    assert issues[["file", "row", "column"]].values.tolist() == [["园区企业.csv", 4, "纬度"]]


def test_blank_rows_keep_row_numbers_and_are_reported_once(enterprises_table):
    text = pd.DataFrame(enterprises_table).to_csv(index=False)
    lines = text.splitlines()
    data = "\n".join([lines[0], lines[1], "", lines[2], ",,,,,,", lines[3], "", ""]) + "\n"
    raw = read_layer(data.encode("gb18030"), file_name="e.csv")
    assert len(raw.frame) == 5  # trailing blank lines are not rows; inner ones are
    result = _validate(raw.frame)
    assert result.valid["id"].tolist() == ["E1", "E2", "E3"]
    assert result.issues[["row", "message"]].values.tolist() == [
        [2, "the row is empty"],
        [4, "the row is empty"],
    ]


def test_unknown_layer_kind(enterprises_table):
    with pytest.raises(
        ValidationError, match=r"unknown layer kind 'shops'; expected one of: zones"
    ):
        _validate(_csv(enterprises_table), kind="shops")


def test_rows_repeating_an_id_already_in_the_park_are_rejected_and_others_kept() -> None:
    frame = pd.DataFrame(
        {
            "id": ["e1", "e2"],
            "name": ["甲厂", "乙厂"],
            "industry": ["electronics", "textiles"],
            "employees": [100, 50],
            "shift_pattern": ["day", "day"],
            "lon": [113.2, 113.21],
            "lat": [27.9, 27.91],
        }
    )
    result = validate_layer(
        frame,
        LayerKind.ENTERPRISES,
        source_name="firms.csv",
        coordinate_system="wgs84",
        existing_keys=[("e1",)],
    )
    assert list(result.valid["id"]) == ["e2"]
    assert list(result.rejected.index) == [0] or len(result.rejected) == 1
    message = result.issues.loc[result.issues["severity"] == "error", "message"].iloc[0]
    assert "'e1' is already in the park" in message
