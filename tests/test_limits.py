"""Resource limits (retention.data.limits) on the measured bombs of issue 10, each built here:
a 5 KB XLSX with one cell at XFD1048576 (grew past 6 GB in both loaders), a zip holding a
1000 MiB .shp (2.1 GB peak, 1 GB written to /tmp), a zip member lying about its size, files over
the upload size and the row limit. Each must be refused with a specific message before the
expensive work, with bounded memory (measured with resource.getrusage in a fresh interpreter),
and ordinary files must still read.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from retention.data.io import list_layers, read_layer
from retention.data.limits import (
    DEFAULT_MAX_UPLOAD_MB,
    UploadLimits,
    check_xlsx,
    check_zip,
    column_letters,
    extract_member,
)
from retention.errors import FileFormatError, ParameterError
from retention.survey.importer import read_survey_file

REPO = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


def xlsx_bomb() -> bytes:
    """One header and one value, plus a single cell at XFD1048576 (Excel's last cell)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Sheet1")
    sheet.write(0, 0, "名称")
    sheet.write(1, 0, "食堂")
    sheet.write(1_048_575, 16_383, "x")
    book.close()
    return buffer.getvalue()


def _rewrite_member(data: bytes, member: str, edit) -> bytes:
    """Return the zip ``data`` with ``member``'s content replaced by ``edit(content)``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info.filename, edit(content) if info.filename == member else content)
    return out.getvalue()


def xlsx_bomb_with_lying_dimension() -> bytes:
    """The bomb, but its <dimension> claims A1:A2: only streaming the cells finds XFD1048576."""
    return _rewrite_member(
        xlsx_bomb(),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b'<dimension ref="A1:XFD1048576"/>', b'<dimension ref="A1:A2"/>'),
    )


def zip_bomb(megabytes: int = 1000) -> bytes:
    """A zipped Shapefile whose .shp inflates to ``megabytes`` MiB of zeros (about 1 MB zipped)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("park.shp", "w", force_zip64=True) as shp:
            block = b"\0" * MIB
            for _ in range(megabytes):
                shp.write(block)
        archive.writestr("park.shx", b"\0" * 100)
        archive.writestr("park.dbf", b"\0" * 100)
    return buffer.getvalue()


def lying_zip(real_bytes: int = 4 * MIB, declared_bytes: int = 1000) -> bytes:
    """A zip whose one member says it is ``declared_bytes`` long but inflates to ``real_bytes``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("park.shp", b"\1" * real_bytes)
    data = bytearray(buffer.getvalue())
    # Patch the uncompressed size in the local header (offset 22) and the central directory
    # entry (offset 24 from its signature).
    struct.pack_into("<I", data, 22, declared_bytes)
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared_bytes)
    return bytes(data)


# --- XLSX -------------------------------------------------------------------------------------


def test_the_xlsx_bomb_is_small_and_refused_by_every_reader():
    bomb = xlsx_bomb()
    assert len(bomb) < 10_000
    message = r"sheet 'Sheet1' reaches cell XFD1048576 \(1,048,576 rows × 16,384 columns"
    with pytest.raises(FileFormatError, match=message):
        read_layer(bomb, file_name="amenities.xlsx")
    with pytest.raises(FileFormatError, match=message):
        list_layers(bomb, file_name="amenities.xlsx")
    with pytest.raises(FileFormatError, match=r"file 'survey\.xlsx': sheet 'Sheet1' reaches"):
        read_survey_file(bomb, file_name="survey.xlsx")


def test_a_lying_dimension_does_not_hide_the_far_cell():
    bomb = xlsx_bomb_with_lying_dimension()
    assert b'<dimension ref="A1:A2"/>' in bomb or len(bomb) < 10_000
    with pytest.raises(FileFormatError, match="reaches cell XFD1048576"):
        check_xlsx(bomb, file_name="b.xlsx")


def test_a_huge_declared_dimension_is_refused_even_with_few_cells():
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet("Sheet1").write(0, 0, "名称")
    book.close()
    data = _rewrite_member(
        buffer.getvalue(),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b'<dimension ref="A1"/>', b'<dimension ref="A1:XFD1048576"/>'),
    )
    assert b"XFD1048576" in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    with pytest.raises(FileFormatError, match=r"reaches cell XFD1048576 .* 1 cells"):
        read_layer(data, file_name="d.xlsx")


def test_sheet_extents_match_openpyxl_on_an_ordinary_workbook():
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    first = book.add_worksheet("企业")
    for r in range(40):
        for c in range(7):
            first.write(r, c, f"{r}-{c}")
    second = book.add_worksheet("second")
    second.write(9, 29, 1.5)  # AD10
    book.close()
    data = buffer.getvalue()
    extents = {e.name: e for e in check_xlsx(data, file_name="a.xlsx")}
    loaded = openpyxl.load_workbook(io.BytesIO(data))  # independent: full load
    for title in ("企业", "second"):
        sheet = loaded[title]
        assert (extents[title].max_row, extents[title].max_column) == (
            sheet.max_row,
            sheet.max_column,
        )
    assert extents["企业"].cells == 280
    assert extents["second"].last_cell == "AD10"


def test_the_demo_survey_workbook_passes_and_reads():
    demo = REPO / "geodata" / "jinshan" / "survey_wjx.xlsx"
    extents = check_xlsx(demo.read_bytes(), file_name=demo.name)
    assert [e.name for e in extents] == ["Sheet1", "说明 README"]
    assert (extents[0].max_row, extents[0].max_column) == (3201, 54)
    assert len(read_survey_file(demo.read_bytes(), file_name=demo.name).frame) == 3200


@pytest.mark.parametrize(("index", "letters"), [(1, "A"), (26, "Z"), (27, "AA"), (16384, "XFD")])
def test_column_letters(index, letters):
    assert column_letters(index) == letters


# --- zips ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shp_bomb() -> bytes:
    return zip_bomb()


@pytest.mark.slow  # building the 1000 MiB bomb compresses a gigabyte of zeros
def test_the_zip_bomb_is_refused_from_its_directory_without_inflating(shp_bomb, monkeypatch):
    assert len(shp_bomb) < 2 * MIB

    def no_inflating(*args, **kwargs):
        raise AssertionError("a member was opened (inflated) before the refusal")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_inflating)
    with pytest.raises(FileFormatError, match=r"zip member 'park\.shp' would unpack .* zip bomb"):
        read_layer(shp_bomb, file_name="park.zip")
    with pytest.raises(FileFormatError, match="zip bomb"):
        list_layers(shp_bomb, file_name="park.zip")


def test_a_zip_over_the_total_size_is_refused_without_inflating(monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.shp", b"\1" * (3 * MIB))
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("inflated"))
    refused = pytest.raises(FileFormatError, match="would unpack to 3 MB; expected at most 2 MB")
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive, refused:
        check_zip(archive, file_name="z.zip", limits=UploadLimits(max_unzipped_mb=2))


def test_a_member_lying_about_its_size_stops_at_the_declared_size(tmp_path):
    data = lying_zip()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        check_zip(archive, file_name="l.zip")  # the directory looks harmless
        target = tmp_path / "out.shp"
        with pytest.raises(FileFormatError, match=r"member 'park\.shp' fails its CRC"):
            extract_member(archive, "park.shp", target, file_name="l.zip")
    assert target.stat().st_size <= 1000  # nothing past the declared size reached the disk


def test_an_ordinary_member_is_extracted_whole():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", "园区" * 1000)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        assert extract_member(archive, "a.txt", out, file_name="a.zip") == 6000
    assert out.getvalue().decode() == "园区" * 1000


# --- size and rows ----------------------------------------------------------------------------


def test_the_upload_limit_is_checked_before_reading(monkeypatch):
    monkeypatch.setenv("PARKLIFE_MAX_UPLOAD_MB", "1")
    big = b"name,lon,lat\n" + b"x,113.1,27.8\n" * 90_000  # 1.1 MB
    with pytest.raises(FileFormatError, match=r"the file is 1\.1 MB; expected at most 1 MB"):
        read_layer(big, file_name="big.csv")
    with pytest.raises(FileFormatError, match=r"expected at most 1 MB"):
        read_survey_file(big, file_name="big.csv")


def test_the_default_upload_limit_is_streamlits(monkeypatch):
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == DEFAULT_MAX_UPLOAD_MB == 50
    monkeypatch.delenv("PARKLIFE_MAX_UPLOAD_MB", raising=False)
    monkeypatch.delenv("STREAMLIT_SERVER_MAX_UPLOAD_SIZE", raising=False)
    assert UploadLimits.from_environment().max_upload_bytes == 50 * MIB
    monkeypatch.setenv("STREAMLIT_SERVER_MAX_UPLOAD_SIZE", "80")
    assert UploadLimits.from_environment().max_upload_mb == 80
    monkeypatch.setenv("PARKLIFE_MAX_UPLOAD_MB", "lots")
    with pytest.raises(ParameterError, match="PARKLIFE_MAX_UPLOAD_MB='lots' is not a number"):
        UploadLimits.from_environment()
    with pytest.raises(ParameterError, match="max_rows must be a positive number"):
        UploadLimits(max_rows=0)


def _csv(rows: int) -> bytes:
    return (
        "编号,名称,经度,纬度\n" + "".join(f"E{i},n,113.15,27.85\n" for i in range(rows))
    ).encode()


def test_the_row_limit_refuses_with_a_clear_message_and_keeps_files_at_the_limit(monkeypatch):
    monkeypatch.setenv("PARKLIFE_MAX_ROWS", "50")
    assert len(read_layer(_csv(50), file_name="ok.csv").frame) == 50
    message = r"file 'big\.csv': the file has 51 data rows \(features\); expected at most 50"
    with pytest.raises(FileFormatError, match=message):
        read_layer(_csv(51), file_name="big.csv")
    with pytest.raises(FileFormatError, match="expected at most 50 — split it"):
        read_survey_file(_csv(51), file_name="big.csv")


def test_the_row_limit_applies_to_geojson_features_before_reading(monkeypatch):
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"a{i}"},
            "geometry": {"type": "Point", "coordinates": [113.15, 27.85]},
        }
        for i in range(6)
    ]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    monkeypatch.setenv("PARKLIFE_MAX_ROWS", "5")
    with pytest.raises(FileFormatError, match="has 6 data rows"):
        read_layer(data, file_name="a.geojson")
    monkeypatch.setenv("PARKLIFE_MAX_ROWS", "6")
    assert len(read_layer(data, file_name="a.geojson").frame) == 6


# --- memory stays bounded -----------------------------------------------------------------------

_MEASURE = """
import io, json, resource, sys, zipfile
sys.path.insert(0, {repo!r})
sys.path.insert(0, {tests!r})
from retention.data.io import read_layer
from retention.errors import FileFormatError
from retention.survey.importer import read_survey_file
from test_limits import xlsx_bomb, zip_bomb
bombs = [(xlsx_bomb(), "a.xlsx", read_layer), (xlsx_bomb(), "s.xlsx", read_survey_file),
         (zip_bomb(200), "p.zip", read_layer)]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
refused = []
for data, name, reader in bombs:
    try:
        reader(data, file_name=name)
    except FileFormatError as error:
        refused.append(str(error)[:60])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"refused": refused, "growth_kib": after - before}}))
"""


@pytest.mark.slow  # a fresh interpreter importing geopandas and building the bombs
def test_refusing_the_bombs_keeps_memory_bounded():
    script = _MEASURE.format(repo=str(REPO), tests=str(REPO / "tests"))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(report["refused"]) == 3, report
    # Peak resident memory grows by less than 100 MiB while refusing (it was > 6 GB and 2.1 GB).
    assert report["growth_kib"] < 100 * 1024, report
