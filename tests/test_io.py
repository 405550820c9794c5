"""Tests for retention.data.io: every format and encoding, and every unreadable-file error."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from retention.data.io import (
    dbf_encoding,
    decode_text,
    list_layers,
    read_layer,
    table_to_csv_bytes,
    table_to_xlsx_bytes,
)
from retention.errors import FileFormatError

CSV_TEXT = "编号,名称,经度,纬度\nE1,金山电机,113.145,27.845\nE2,湘江轨道,113.150,27.850\n"


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"编号": ["E1", "E2"], "名称": ["金山电机", "湘江轨道"], "员工数": [1200, 800]},
        geometry=[Point(113.145, 27.845), Point(113.15, 27.85)],
        crs="EPSG:4326",
    )


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _shapefile_parts(tmp_path: Path, *, encoding: str, keep_cpg: bool) -> dict[str, bytes]:
    folder = tmp_path / f"shp-{encoding}-{keep_cpg}"
    folder.mkdir()
    _points().to_file(folder / "企业.shp", encoding=encoding, engine="pyogrio")
    parts = {p.name: p.read_bytes() for p in folder.iterdir()}
    if not keep_cpg:
        parts = {n: b for n, b in parts.items() if not n.endswith(".cpg")}
    return parts


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8-sig"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
    ],
)
def test_csv_encodings(encoding, expected):
    raw = read_layer(CSV_TEXT.encode(encoding), file_name="企业.csv")
    assert raw.source.encoding == expected
    assert raw.source.format == "csv"
    assert list(raw.frame.columns) == ["编号", "名称", "经度", "纬度", "geometry"]
    assert list(raw.frame["名称"]) == ["金山电机", "湘江轨道"]
    assert list(raw.frame["经度"]) == ["113.145", "113.150"]  # text: validate parses it
    assert raw.frame.geometry.isna().all()
    assert raw.source.row_count == 2


def test_csv_keeps_empty_cells_as_empty_text_and_sniffs_delimiter():
    text = "id;lon;lat\nE1;;27.8\nE2;113.1;\n"
    raw = read_layer(text.encode(), file_name="x.csv")
    assert list(raw.frame["lon"]) == ["", "113.1"]
    assert list(raw.frame["lat"]) == ["27.8", ""]


def test_csv_from_path(tmp_path):
    path = tmp_path / "企业.csv"
    path.write_bytes(CSV_TEXT.encode("gbk"))
    raw = read_layer(path)
    assert raw.source.file_name == "企业.csv"
    assert len(raw.frame) == 2


def test_csv_wrong_encoding_names_file_and_encodings():
    data = CSV_TEXT.encode("gbk")[:-4] + b"\xff\xfe\xff\n"  # neither UTF-8 nor GB18030
    with pytest.raises(
        FileFormatError, match=r"file '企业\.csv': .*tried encodings utf-8-sig, gb18030"
    ):
        read_layer(data, file_name="企业.csv")


def test_decode_text_prefers_utf8():
    assert decode_text("经度".encode(), file_name="a.csv") == ("经度", "utf-8-sig")
    assert decode_text("经度".encode("gbk"), file_name="a.csv") == ("经度", "gb18030")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"file 'e\.csv': the file is empty"),
        (b"  \n\n", r"the file is empty"),
        (b"\xef\xbb\xbf", r"the file is empty \(only a byte-order mark\)"),
        (b"id,lon,lat\n", r"file 'e\.csv': the file has no data rows"),
    ],
)
def test_empty_csv(data, message):
    with pytest.raises(FileFormatError, match=message):
        read_layer(data, file_name="e.csv")


def test_xlsx_reads_first_sheet_and_named_sheet():
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        pd.DataFrame({"名称": ["A"], "经度": [113.1], "纬度": [27.8]}).to_excel(
            writer, sheet_name="企业", index=False
        )
        pd.DataFrame({"名称": ["B", "C"], "lng": [113.2, 113.3], "lat": [27.9, 27.7]}).to_excel(
            writer, sheet_name="宿舍", index=False
        )
    data = buffer.getvalue()
    assert list_layers(data, file_name="park.xlsx") == ["企业", "宿舍"]
    first = read_layer(data, file_name="park.xlsx")
    assert first.source.layer == "企业"
    assert first.frame["经度"].tolist() == [113.1]
    second = read_layer(data, file_name="park.xlsx", layer="宿舍")
    assert second.frame["名称"].tolist() == ["B", "C"]
    with pytest.raises(
        FileFormatError, match=r"sheet '食堂' is not in the file; it holds: 企业, 宿舍"
    ):
        read_layer(data, file_name="park.xlsx", layer="食堂")


def test_xlsx_that_is_not_a_workbook():
    with pytest.raises(FileFormatError, match=r"file 'a\.xlsx': the file is not a readable \.xlsx"):
        read_layer(b"not a zip at all", file_name="a.xlsx")


def test_geojson_from_bytes_keeps_crs_and_columns(tmp_path):
    path = tmp_path / "e.geojson"
    _points().to_file(path, driver="GeoJSON", engine="pyogrio")
    raw = read_layer(path.read_bytes(), file_name="企业.geojson")
    assert raw.source.format == "geojson"
    assert raw.source.declared_crs == "EPSG:4326"
    assert raw.frame["名称"].tolist() == ["金山电机", "湘江轨道"]
    assert raw.frame.geometry.iloc[0].equals(Point(113.145, 27.845))


def test_broken_geojson():
    with pytest.raises(FileFormatError, match=r"file 'b\.geojson': the file cannot be read"):
        read_layer(b'{"type": "FeatureCollection", "features": [', file_name="b.geojson")


def test_geojson_without_features():
    data = b'{"type": "FeatureCollection", "features": []}'
    with pytest.raises(FileFormatError, match="has no data rows"):
        read_layer(data, file_name="none.geojson")


def test_gpkg_layer_choice(tmp_path):
    path = tmp_path / "park.gpkg"
    _points().to_file(path, layer="enterprises", driver="GPKG", engine="pyogrio")
    _points().iloc[:1].to_file(path, layer="dorms", driver="GPKG", engine="pyogrio")
    data = path.read_bytes()
    assert sorted(list_layers(data, file_name="park.gpkg")) == ["dorms", "enterprises"]
    raw = read_layer(data, file_name="park.gpkg", layer="dorms")
    assert len(raw.frame) == 1 and raw.source.layer == "dorms"
    assert raw.frame.geometry.name == "geometry"
    with pytest.raises(FileFormatError, match=r"holds 2 layers \(.*\); choose one"):
        read_layer(data, file_name="park.gpkg")
    with pytest.raises(FileFormatError, match=r"layer 'x' is not in the file"):
        read_layer(path, layer="x")


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
@pytest.mark.parametrize("keep_cpg", [True, False])
def test_zipped_shapefile_encodings(tmp_path, encoding, keep_cpg):
    data = _zip(_shapefile_parts(tmp_path, encoding=encoding, keep_cpg=keep_cpg))
    raw = read_layer(data, file_name="企业.zip")
    assert raw.source.format == "shapefile"
    assert raw.source.layer == "企业"
    assert raw.frame["名称"].tolist() == ["金山电机", "湘江轨道"]
    assert "员工数" in raw.frame.columns
    assert raw.source.declared_crs == "EPSG:4326"
    if not keep_cpg:
        assert raw.source.encoding == {"utf-8": "UTF-8", "gbk": "GB18030"}[encoding]


def test_zipped_shapefile_in_a_folder_and_layer_choice(tmp_path):
    parts = _shapefile_parts(tmp_path, encoding="utf-8", keep_cpg=True)
    files = {f"导出/{n}": b for n, b in parts.items()}
    files.update({f"导出/{n.replace('企业', '宿舍')}": b for n, b in parts.items()})
    data = _zip(files)
    assert sorted(list_layers(data, file_name="p.zip")) == ["企业", "宿舍"]
    assert len(read_layer(data, file_name="p.zip", layer="宿舍").frame) == 2
    with pytest.raises(FileFormatError, match=r"holds 2 Shapefiles"):
        read_layer(data, file_name="p.zip")


def test_shapefile_path(tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    _points().to_file(folder / "e.shp", encoding="gbk", engine="pyogrio")
    assert read_layer(folder / "e.shp").frame["名称"].tolist() == ["金山电机", "湘江轨道"]
    with pytest.raises(FileFormatError, match=r"zip the \.shp, \.shx, \.dbf"):
        read_layer((folder / "e.shp").read_bytes(), file_name="e.shp")


def test_corrupt_zip():
    with pytest.raises(FileFormatError, match=r"file 'c\.zip': the zip archive is corrupt"):
        read_layer(b"PK\x03\x04 this is not really a zip", file_name="c.zip")


def test_zip_without_shp():
    data = _zip({"readme.txt": b"hello", "data.csv": b"a,b\n1,2\n"})
    with pytest.raises(
        FileFormatError,
        match=r"the zip contains no \.shp file \(it holds: readme\.txt, data\.csv\)",
    ):
        read_layer(data, file_name="n.zip")


def test_zip_with_shp_but_no_dbf(tmp_path):
    parts = _shapefile_parts(tmp_path, encoding="utf-8", keep_cpg=True)
    del parts["企业.dbf"]
    with pytest.raises(FileFormatError, match=r"has '企业\.shp' but no 企业\.dbf"):
        read_layer(_zip(parts), file_name="s.zip")


def test_dbf_encoding_undecodable():
    header = bytearray(32)
    header[4:8] = (1).to_bytes(4, "little")
    header[8:10] = (65).to_bytes(2, "little")
    header[10:12] = (3).to_bytes(2, "little")
    field = bytearray(32)
    field[0:4] = b"NAME"
    field[11] = ord("C")
    field[16] = 2
    dbf = bytes(header) + bytes(field) + b"\x0d" + b" \xff\xff"
    with pytest.raises(FileFormatError, match=r"\(\.dbf\) cannot be decoded; tried encodings"):
        dbf_encoding(dbf, file_name="x.zip")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("park.xls", r"unknown file type '\.xls'.*save the workbook as \.xlsx"),
        ("park.kml", r"unknown file type '\.kml'.*GeoJSON or GeoPackage"),
        ("park", r"unknown file type '\(no extension\)'"),
        ("park.dbf", r"zip the \.shp"),
    ],
)
def test_unknown_extensions(name, message):
    with pytest.raises(FileFormatError, match=message):
        read_layer(b"whatever", file_name=name)


def test_bytes_without_name_and_missing_path(tmp_path):
    with pytest.raises(FileFormatError, match="needs its file name"):
        read_layer(b"a,b\n1,2\n")
    with pytest.raises(FileFormatError, match="file not found"):
        read_layer(tmp_path / "nope.csv")


def test_table_writers_round_trip_chinese_and_geometry():
    table = pd.DataFrame({"名称": ["金山"], "reasons": ["经度 missing"]})
    csv_bytes = table_to_csv_bytes(table)
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    assert pd.read_csv(io.BytesIO(csv_bytes), encoding="utf-8-sig")["名称"].tolist() == ["金山"]
    xlsx = table_to_xlsx_bytes(_points(), sheet_name="rejected")
    back = pd.read_excel(io.BytesIO(xlsx), sheet_name="rejected")
    assert back["geometry"].tolist() == ["POINT (113.145 27.845)", "POINT (113.15 27.85)"]


def test_xlsx_keeps_inner_blank_rows_and_drops_trailing_ones():
    table = pd.DataFrame({"名称": ["A", None, "C", None], "经度": [113.1, None, 113.3, None]})
    buffer = io.BytesIO()
    table.to_excel(buffer, index=False)
    raw = read_layer(buffer.getvalue(), file_name="a.xlsx")
    assert raw.frame["名称"].tolist()[0::2] == ["A", "C"]
    assert len(raw.frame) == 3
