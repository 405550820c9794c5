"""Tests of the stores' shared file primitives (retention.storage.files)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from retention.storage.files import (
    atomic_write_bytes,
    atomic_write_json,
    folder_lock,
    frame_from_json,
    frame_to_json,
    manifest_bytes,
    read_json,
    read_manifest_entries,
    replacing,
    write_manifest,
)


@dataclass(frozen=True)
class _Entry:
    entry_id: str
    rows: int


def test_atomic_write_creates_folders_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.bin"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]


def test_a_failing_block_keeps_the_old_file_and_removes_the_temporary_one(tmp_path: Path) -> None:
    target = tmp_path / "layers.gpkg"
    target.write_bytes(b"old")
    with pytest.raises(OSError, match="disk full"), replacing(target, suffix=".tmp.gpkg") as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".tmp.gpkg")
        tmp.write_bytes(b"half")
        raise OSError("disk full")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["layers.gpkg"]


def test_manifest_round_trip_with_stable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    assert manifest_bytes(path) == b""
    assert read_manifest_entries(path, key="waves") == []
    entries = [_Entry("w_1", 3), _Entry("w_2", 0)]
    write_manifest(path, entries, key="waves", version=1)
    first = manifest_bytes(path)
    assert json.loads(first) == {
        "version": 1,
        "waves": [{"entry_id": "w_1", "rows": 3}, {"entry_id": "w_2", "rows": 0}],
    }
    assert [_Entry(**e) for e in read_manifest_entries(path, key="waves")] == entries
    write_manifest(path, entries, key="waves", version=1)
    assert manifest_bytes(path) == first  # equal contents, equal cache key


def test_frame_json_keeps_text_numbers_missing_values_and_geometry_as_wkt(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {
            "名称": ["宿舍 A", None],
            "count": np.array([2, 5], dtype="int64"),
            "share": [0.5, np.nan],
        },
        geometry=[Point(113.1, 27.8), Point(113.2, 27.9)],
        crs="EPSG:4326",
    )
    path = tmp_path / "report.json"
    atomic_write_json(path, {"issues": frame_to_json(frame)})
    assert "宿舍 A" in path.read_text(encoding="utf-8")  # not \u-escaped
    back = frame_from_json(read_json(path)["issues"])
    expected = pd.DataFrame(
        {
            "名称": ["宿舍 A", None],
            "count": [2, 5],
            "share": [0.5, None],
            "geometry": ["POINT (113.1 27.8)", "POINT (113.2 27.9)"],
        }
    )
    pd.testing.assert_frame_equal(back, expected)
    assert frame["count"].dtype == "int64"  # the input is not changed


def test_folder_lock_creates_the_folder_and_its_lock_file(tmp_path: Path) -> None:
    folder = tmp_path / "parks" / "p1"
    with folder_lock(folder):
        assert (folder / ".lock").is_file()
