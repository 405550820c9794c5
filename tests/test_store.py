"""Tests for retention.storage.uploads: uploads survive restarts, removal, atomic writes,
reports."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from retention.data.io import read_layer
from retention.data.layers import LayerKind
from retention.data.validate import validate_layer
from retention.errors import ValidationError
from retention.storage.uploads import (
    DATA_DIR_ENV,
    UnknownUploadError,
    UploadStore,
    check_park_id,
    default_data_dir,
)


def _enterprise_validation(rows):
    data = pd.DataFrame(rows).to_csv(index=False).encode("utf-8")
    frame = read_layer(data, file_name="企业.csv").frame
    return validate_layer(
        frame, LayerKind.ENTERPRISES, source_name="企业.csv", coordinate_system="wgs84"
    )


def _add_enterprises(store, rows, *, source_name, coordinate_system="wgs84"):
    return store.add_upload(
        "tiny",
        "enterprises",
        _enterprise_validation(rows),
        source_name=source_name,
        coordinate_system=coordinate_system,
    )


def _road_validation():
    frame = gpd.GeoDataFrame(
        {"id": ["R1", "R2"], "road_class": ["local", "path"], "walk": [1, 1], "bike": ["是", "否"]},
        geometry=[LineString([(113.14, 27.85), (113.15, 27.85)])] * 2,
        crs="EPSG:4326",
    )
    return validate_layer(frame, "roads", source_name="路.geojson", coordinate_system="gcj02")


def test_add_list_load_round_trip_and_restart(tmp_path, enterprises_table):
    rows = [*enterprises_table, dict(enterprises_table[0], 编号="bad", 员工数="x")]
    validation = _enterprise_validation(rows)
    store = UploadStore(tmp_path)
    upload_id = store.add_upload(
        "tiny", "enterprises", validation, source_name="企业.csv", coordinate_system="wgs84"
    )
    # A new object on the same directory (an app restart) sees everything.
    again = UploadStore(tmp_path)
    (record,) = again.list_uploads("tiny")
    assert record.upload_id == upload_id
    assert (record.kind, record.source_name, record.coordinate_system) == (
        "enterprises",
        "企业.csv",
        "wgs84",
    )
    assert (record.valid_rows, record.rejected_rows, record.warning_count) == (3, 1, 0)
    layer = again.load_layer("tiny", LayerKind.ENTERPRISES)
    expected = validation.valid.assign(source=upload_id)
    pd.testing.assert_frame_equal(
        pd.DataFrame(layer.drop(columns="geometry")),
        pd.DataFrame(expected.drop(columns="geometry")),
    )
    assert layer.geom_equals(expected.geometry).all()
    assert layer.crs.to_epsg() == 4326
    report = again.load_report("tiny", upload_id)
    assert report.rejected["编号"].tolist() == ["bad"]
    assert report.rejected["reasons"].iloc[0].startswith("员工数: 'x' is not a number")
    assert report.issues[["row", "column"]].to_dict("records") == [{"row": 4, "column": "员工数"}]


def test_uploads_of_a_kind_are_concatenated_and_kinds_kept_apart(tmp_path, enterprises_table):
    store = UploadStore(tmp_path)
    first = _add_enterprises(store, enterprises_table[:1], source_name="a.csv")
    second = _add_enterprises(store, enterprises_table[1:], source_name="b.csv")
    roads = store.add_upload(
        "tiny", "roads", _road_validation(), source_name="路.geojson", coordinate_system="gcj02"
    )
    layer = store.load_layer("tiny", "enterprises")
    assert layer["id"].tolist() == ["E1", "E2", "E3"]
    assert layer["source"].tolist() == [first, second, second]
    road_layer = store.load_layer("tiny", "roads")
    assert road_layer["source"].tolist() == [roads, roads]
    assert road_layer["walk"].tolist() == [True, True]
    assert road_layer["bike"].tolist() == [True, False]
    assert road_layer["bike"].dtype == bool
    assert [r.upload_id for r in store.list_uploads("tiny", kind="roads")] == [roads]
    assert store.load_layer("other", "roads").empty


def test_remove_upload(tmp_path, enterprises_table):
    store = UploadStore(tmp_path)
    keep = _add_enterprises(store, enterprises_table[:1], source_name="a.csv")
    gone = _add_enterprises(store, enterprises_table[1:], source_name="b.csv")
    store.remove_upload("tiny", gone)
    fresh = UploadStore(tmp_path)
    assert [r.upload_id for r in fresh.list_uploads("tiny")] == [keep]
    assert fresh.load_layer("tiny", "enterprises")["id"].tolist() == ["E1"]
    with pytest.raises(UnknownUploadError, match=f"park 'tiny' has no upload '{gone}'"):
        fresh.load_report("tiny", gone)
    with pytest.raises(UnknownUploadError):
        fresh.remove_upload("tiny", gone)
    store.remove_upload("tiny", keep)
    assert fresh.load_layer("tiny", "enterprises").empty
    assert not (tmp_path / "parks" / "tiny" / "uploads.gpkg").exists()


def test_all_rejected_upload_keeps_its_report(tmp_path, enterprises_table):
    rows = [dict(enterprises_table[0], 员工数=-1)]
    store = UploadStore(tmp_path)
    upload_id = _add_enterprises(store, rows, source_name="bad.csv")
    assert store.load_layer("tiny", "enterprises").empty
    assert list(store.load_layer("tiny", "enterprises").columns)[:2] == ["id", "name"]
    assert len(store.load_report("tiny", upload_id).rejected) == 1


def test_failed_write_leaves_previous_state(tmp_path, enterprises_table, monkeypatch):
    store = UploadStore(tmp_path)
    _add_enterprises(store, enterprises_table, source_name="a.csv")
    manifest_before = store.manifest_bytes("tiny")
    layers = tmp_path / "parks" / "tiny" / "layers"
    before = {p.name: p.read_bytes() for p in layers.iterdir()}

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("retention.storage.uploads.pyogrio.write_dataframe", crash)
    with pytest.raises(OSError, match="disk full"):
        _add_enterprises(store, enterprises_table, source_name="b.csv")
    assert store.manifest_bytes("tiny") == manifest_before
    assert {p.name: p.read_bytes() for p in layers.iterdir()} == before  # no temp file left
    assert len(UploadStore(tmp_path).load_layer("tiny", "enterprises")) == 3


def test_manifest_is_json_with_version(tmp_path, enterprises_table):
    store = UploadStore(tmp_path)
    _add_enterprises(store, enterprises_table, source_name="a.csv", coordinate_system="bd09")
    manifest = json.loads(store.manifest_bytes("tiny"))
    assert manifest["version"] == 1
    assert manifest["uploads"][0]["coordinate_system"] == "bd09"
    assert store.manifest_bytes("nothing-here") == b""


def test_extra_columns_and_optional_values_survive(tmp_path):
    frame = gpd.GeoDataFrame(
        {
            "id": ["H1", "H2"],
            "name": ["宿舍", "公寓"],
            "kind": ["dorm", "talent_apartment"],
            "beds": [100, 50],
            "residents": [90, 40],
            "月租金": [None, 1500],
            "备注": ["东门", None],
        },
        geometry=[Point(113.15, 27.85), Point(113.151, 27.851)],
        crs="EPSG:4326",
    )
    validation = validate_layer(
        frame, "residences", source_name="r.gpkg", coordinate_system="wgs84"
    )
    store = UploadStore(tmp_path)
    store.add_upload(
        "tiny", "residences", validation, source_name="r.gpkg", coordinate_system="wgs84"
    )
    layer = store.load_layer("tiny", "residences")
    assert np.isnan(layer["rent_cny_month"].iloc[0])
    assert layer["rent_cny_month"].iloc[1] == 1500.0
    assert layer["备注"].tolist() == ["东门", None]
    assert layer["beds"].dtype == np.int64


@pytest.mark.parametrize("bad", ["../etc", "Jinshan", "", "a/b", "x" * 65])
def test_unsafe_park_ids_rejected(bad):
    with pytest.raises(ValidationError, match="is not allowed; expected 1-64 lowercase"):
        check_park_id(bad)


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert default_data_dir() == tmp_path
    assert UploadStore().data_dir == tmp_path
    monkeypatch.delenv(DATA_DIR_ENV)
    assert default_data_dir().name == "data"
    assert (default_data_dir().parent / "retention").is_dir()
