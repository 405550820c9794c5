"""The same store tests on both stores: uploads of every layer kind and geometry type with
Chinese text round-trip exactly, survey waves round-trip, and the demo park loaded through either
store gives identical numbers."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from pandas.testing import assert_frame_equal

from retention.data.layers import LayerKind
from retention.data.validate import validate_layer
from retention.errors import ValidationError
from retention.report.summary import summarise_park
from retention.storage.park import default_geodata_dir, load_park
from tests.store_fixtures import survey_import

DEMO = default_geodata_dir() / "jinshan"


def _demo_validation(kind: LayerKind, rows: int | None = None):
    frame = pyogrio.read_dataframe(DEMO / f"{kind.value}.geojson")
    if rows is not None:
        frame = frame.iloc[:rows]
    return validate_layer(
        frame, kind, source_name=f"{kind.value}.geojson", coordinate_system="wgs84"
    )


@pytest.mark.parametrize("kind", list(LayerKind), ids=lambda k: k.value)
def test_every_layer_kind_round_trips_exactly(store, kind: LayerKind) -> None:
    validation = _demo_validation(kind, rows=6)
    assert len(validation.valid), "the demo layer must give valid rows"
    upload_id = store.uploads.add_upload(
        "copy", kind, validation, source_name=f"{kind.value}.geojson", coordinate_system="wgs84"
    )
    loaded = store.uploads.load_upload("copy", upload_id)
    expected = validation.valid.reset_index(drop=True)
    assert set(loaded.columns) == {*expected.columns, "source"}
    assert loaded.geometry.geom_type.tolist() == expected.geometry.geom_type.tolist()
    assert loaded.geometry.geom_equals_exact(expected.geometry, tolerance=1e-12).all()
    for column in expected.columns:
        if column != "geometry":
            pd.testing.assert_series_equal(loaded[column], expected[column], check_exact=True)
    report = store.uploads.load_report("copy", upload_id)
    assert report.record.valid_rows == len(validation.valid)
    store.uploads.remove_upload("copy", upload_id)
    assert store.uploads.list_uploads("copy") == []


def test_chinese_text_and_missing_values_survive(store) -> None:
    frame = gpd.GeoDataFrame(
        {
            "id": ["H1", "H2"],
            "name": ["金山宿舍（一期）", "人才公寓·东区"],
            "kind": ["dorm", "talent_apartment"],
            "beds": [100, 50],
            "residents": [90, 40],
            "备注": ["东门 '引号' \"双引号\"", None],
        },
        geometry=gpd.points_from_xy([113.15, 113.151], [27.85, 27.851]),
        crs="EPSG:4326",
    )
    validation = validate_layer(
        frame, "residences", source_name="宿舍.gpkg", coordinate_system="wgs84"
    )
    upload_id = store.uploads.add_upload(
        "tiny", "residences", validation, source_name="宿舍.gpkg", coordinate_system="wgs84"
    )
    layer = store.uploads.load_layer("tiny", "residences")
    assert layer["name"].tolist() == ["金山宿舍（一期）", "人才公寓·东区"]
    assert layer["备注"].tolist() == ["东门 '引号' \"双引号\"", None]
    assert set(layer["source"]) == {upload_id}
    assert store.uploads.get_upload("tiny", upload_id).source_name == "宿舍.gpkg"


def test_waves_round_trip(store) -> None:
    imported = survey_import()
    wave_id = store.waves.save_wave("tiny", imported, source_name="问卷.csv", wave="2024-春")
    (record,) = store.waves.list_waves("tiny")
    assert record.wave_id == wave_id and record.wave == "2024-春"
    loaded = store.waves.load("tiny")
    expected = imported.survey.reset_index(drop=True)
    assert loaded["respondent_id"].tolist() == expected["respondent_id"].tolist()
    assert loaded["reasons"].tolist() == [list(v) for v in expected["reasons"]]
    with pytest.raises(ValidationError, match="already stored"):
        store.waves.save_wave("tiny", imported, source_name="again.csv", wave="2024-春")
    assert store.waves.load_report("tiny", wave_id).record == record
    store.waves.remove_wave("tiny", wave_id)
    assert store.waves.list_waves("tiny") == []


@pytest.mark.slow
def test_the_demo_park_gives_identical_numbers_on_both_stores(tmp_path, request) -> None:
    from tests.conftest import _fresh_store_opener

    parks = {}
    for kind_name in ("file", "postgres"):
        store = _fresh_store_opener(kind_name, tmp_path / kind_name, request)()
        for kind in LayerKind:
            validation = _demo_validation(kind)
            store.uploads.add_upload(
                "jinshan-copy", kind, validation, source_name=f"{kind.value}.geojson",
                coordinate_system="wgs84",
            )  # fmt: skip
        parks[kind_name] = load_park("jinshan-copy", uploads=store.uploads)
    file_park, pg_park = parks["file"], parks["postgres"]
    for kind in LayerKind:
        left = file_park.layer(kind).drop(columns="source")
        right = pg_park.layer(kind).drop(columns="source")
        assert len(left) == len(_demo_validation(kind).valid) > 0
        assert_frame_equal(pd.DataFrame(left), pd.DataFrame(right), check_exact=True)
    left_summary, right_summary = summarise_park(file_park.layers), summarise_park(pg_park.layers)
    for field in dataclasses.fields(left_summary):
        left_value = getattr(left_summary, field.name)
        right_value = getattr(right_summary, field.name)
        if isinstance(left_value, pd.DataFrame):
            assert_frame_equal(left_value, right_value, check_exact=True)
        else:
            assert left_value == right_value > 0, field.name
