"""Tests for retention.storage.park: demo layers merged with uploads, data_version, unknown
parks."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from retention.data.io import read_layer
from retention.data.layers import LAYER_SPECS, LayerKind
from retention.data.validate import validate_layer
from retention.errors import UnknownParkError
from retention.storage.park import (
    default_geodata_dir,
    list_parks,
    load_park,
    park_data_version,
    park_outline,
)
from retention.storage.uploads import UploadStore


def _upload(data_dir, rows, *, park_id="tiny"):
    data = pd.DataFrame(rows).to_csv(index=False).encode("utf-8")
    frame = read_layer(data, file_name="企业.csv").frame
    validation = validate_layer(
        frame, LayerKind.ENTERPRISES, source_name="企业.csv", coordinate_system="wgs84"
    )
    return UploadStore(data_dir).add_upload(
        park_id, "enterprises", validation, source_name="企业.csv", coordinate_system="wgs84"
    )


def test_load_demo_park(tmp_path, tiny_geodata):
    park = load_park("tiny", data_dir=tmp_path / "data", geodata_dir=tiny_geodata)
    assert (park.park_id, park.name_zh, park.name_en, park.synthetic) == (
        "tiny",
        "小园区",
        "Tiny Park",
        True,
    )
    assert set(park.layers) == set(LayerKind)
    enterprises = park.layer("enterprises")
    assert enterprises["id"].tolist() == ["E1", "E2"]
    assert enterprises["source"].tolist() == ["demo", "demo"]
    assert enterprises.crs.to_epsg() == 4326
    assert enterprises["employees"].dtype == "int64"
    spec = LAYER_SPECS[LayerKind.ENTERPRISES]
    assert list(enterprises.columns)[: len(spec.fields)] == [f.name for f in spec.fields]
    assert park.layer("roads")["walk"].tolist() == [True]
    # Absent layers are present and empty, with canonical columns.
    assert park.layer("residences").empty
    assert "beds" in park.layer("residences").columns
    assert len(park.boundary) == 1
    assert park.metadata["name_en"] == "Tiny Park"
    assert park_outline(park)["id"].tolist() == ["Z0"]
    assert park.name("en") == "Tiny Park"


def test_uploads_add_rows_with_their_source(tmp_path, tiny_geodata, enterprises_table):
    data_dir = tmp_path / "data"
    before = load_park("tiny", data_dir=data_dir, geodata_dir=tiny_geodata)
    upload_id = _upload(data_dir, [dict(enterprises_table[2])])
    park = load_park("tiny", data_dir=data_dir, geodata_dir=tiny_geodata)
    enterprises = park.layer("enterprises")
    assert enterprises["id"].tolist() == ["E1", "E2", "E3"]
    assert enterprises["source"].tolist() == ["demo", "demo", upload_id]
    assert enterprises["employees"].tolist() == [1200, 800, 300]
    assert enterprises["employees"].dtype == "int64"
    assert park.data_version != before.data_version
    # Other layers untouched.
    assert park.layer("amenities")["source"].tolist() == ["demo"]


def test_data_version_tracks_every_input(tmp_path, tiny_geodata, enterprises_table):
    data_dir = tmp_path / "data"
    first = park_data_version("tiny", data_dir=data_dir, geodata_dir=tiny_geodata)
    assert first == park_data_version("tiny", data_dir=data_dir, geodata_dir=tiny_geodata)
    assert len(first) == 64
    meta = tiny_geodata / "tiny" / "park.json"
    meta.write_text(json.dumps({"name_zh": "改", "name_en": "x", "synthetic": True}), "utf-8")
    second = park_data_version("tiny", data_dir=data_dir, geodata_dir=tiny_geodata)
    assert second != first
    upload_id = _upload(data_dir, [dict(enterprises_table[2])])
    third = park_data_version("tiny", data_dir=data_dir, geodata_dir=tiny_geodata)
    assert third != second
    UploadStore(data_dir).remove_upload("tiny", upload_id)
    assert park_data_version("tiny", data_dir=data_dir, geodata_dir=tiny_geodata) != third


def test_unknown_park(tmp_path, tiny_geodata):
    with pytest.raises(UnknownParkError, match=r"unknown park 'nowhere'; known parks: tiny"):
        load_park("nowhere", data_dir=tmp_path / "data", geodata_dir=tiny_geodata)


def test_list_parks_includes_demo_and_upload_only_parks(
    tmp_path, tiny_geodata, make_tiny_park, enterprises_table
):
    data_dir = tmp_path / "data"
    make_tiny_park(tiny_geodata, "second")
    assert list_parks(data_dir=data_dir, geodata_dir=tiny_geodata) == ["second", "tiny"]
    _upload(data_dir, enterprises_table, park_id="mine")
    assert list_parks(data_dir=data_dir, geodata_dir=tiny_geodata) == ["mine", "second", "tiny"]
    mine = load_park("mine", data_dir=data_dir, geodata_dir=tiny_geodata)
    assert (mine.name_zh, mine.synthetic) == ("mine", False)
    assert mine.layer("enterprises")["id"].tolist() == ["E1", "E2", "E3"]
    assert mine.boundary.empty and park_outline(mine) is None


def test_load_park_does_not_write_to_geodata(tmp_path, tiny_geodata, enterprises_table):
    before = sorted((p.name, p.stat().st_mtime_ns) for p in (tiny_geodata / "tiny").iterdir())
    _upload(tmp_path / "data", enterprises_table)
    load_park("tiny", data_dir=tmp_path / "data", geodata_dir=tiny_geodata)
    after = sorted((p.name, p.stat().st_mtime_ns) for p in (tiny_geodata / "tiny").iterdir())
    assert after == before


@pytest.mark.skipif(
    not (default_geodata_dir() / "jinshan" / "park.json").is_file(),
    reason="bundled demo data not generated yet",
)
def test_bundled_jinshan_demo_is_clean(tmp_path):
    """Cross-check the generated demo data against the validator: no row may be rejected."""
    park = load_park("jinshan", data_dir=tmp_path / "data")
    assert park.synthetic is True
    assert "合成" in park.name_zh
    assert not park.boundary.empty
    for kind in LayerKind:
        layer = park.layer(kind)
        assert len(layer), kind
        result = validate_layer(
            layer.drop(columns="source"),
            kind,
            source_name=f"{kind.value}.geojson",
            coordinate_system="wgs84",
        )
        errors = result.issues[result.issues["severity"] == "error"]
        assert errors.empty, errors.head().to_dict("records")


def test_park_data_pickles(tmp_path, tiny_geodata):
    import pickle

    park = load_park("tiny", data_dir=tmp_path / "data", geodata_dir=tiny_geodata)
    again = pickle.loads(pickle.dumps(park))
    assert again.data_version == park.data_version
    assert again.layer("enterprises")["id"].tolist() == ["E1", "E2"]


def test_layer_keys_lists_the_ids_already_in_each_layer(tmp_path, tiny_geodata):
    park = load_park("tiny", data_dir=tmp_path / "data", geodata_dir=tiny_geodata)
    assert park.layer_keys("enterprises") == {("E1",), ("E2",)}
    demo = load_park("jinshan", data_dir=tmp_path / "data")
    stops = demo.layer("transit_stops")
    expected = {(str(s), str(r)) for s, r in zip(stops["stop_id"], stops["route_id"], strict=True)}
    assert demo.layer_keys("transit_stops") == expected
    assert len(expected) == len(stops)
