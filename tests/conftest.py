"""Shared fixtures: tiny hand-made layers around a point in Zhuzhou, and a tiny park on disk.

Coordinates sit near (113.15 E, 27.85 N), inside UTM 49N (EPSG:32649), so answers can be
worked by hand: 0.001 degree of latitude is about 111 m.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, box

# AppTests must see a page's exception as an exception (``at.exception``), not as the reference
# id production users get (.streamlit/config.toml showErrorDetails = "none", ui/errors.py).
os.environ.setdefault("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")

PARK_CENTRE = (113.15, 27.85)
# The tiny park: a 0.02 x 0.02 degree box (~2 km x 2.2 km) around PARK_CENTRE.
PARK_BOX = (113.14, 27.84, 113.16, 27.86)


@pytest.fixture
def park_boundary() -> gpd.GeoDataFrame:
    """The tiny park's boundary polygon in WGS84."""
    return gpd.GeoDataFrame({"name": ["tiny park"]}, geometry=[box(*PARK_BOX)], crs="EPSG:4326")


@pytest.fixture
def enterprises_table() -> list[dict[str, object]]:
    """Three valid enterprise rows as a user's spreadsheet has them (Chinese headers)."""
    return [
        {
            "编号": "E1",
            "名称": "金山电机",
            "行业": "electrical",
            "员工数": 1200,
            "班制": "two_shift",
            "经度": 113.145,
            "纬度": 27.845,
        },
        {
            "编号": "E2",
            "名称": "湘江轨道",
            "行业": "rail",
            "员工数": 800,
            "班制": "day",
            "经度": 113.150,
            "纬度": 27.850,
        },
        {
            "编号": "E3",
            "名称": "株洲陶瓷",
            "行业": "ceramics",
            "员工数": 300,
            "班制": "three_shift",
            "经度": 113.155,
            "纬度": 27.855,
        },
    ]


def tiny_layers() -> dict[str, gpd.GeoDataFrame]:
    """Return canonical, valid demo layers of the tiny park, keyed by layer kind value."""
    crs = "EPSG:4326"
    return {
        "zones": gpd.GeoDataFrame(
            {"id": ["Z0"], "name": ["小园区"], "level": ["park"], "parent": [None]},
            geometry=[box(*PARK_BOX)],
            crs=crs,
        ),
        "enterprises": gpd.GeoDataFrame(
            {
                "id": ["E1", "E2"],
                "name": ["金山电机", "湘江轨道"],
                "industry": ["electrical", "rail"],
                "employees": [1200, 800],
                "shift_pattern": ["two_shift", "day"],
            },
            geometry=[Point(113.145, 27.845), Point(113.15, 27.85)],
            crs=crs,
        ),
        "amenities": gpd.GeoDataFrame(
            {
                "id": ["A1"],
                "name": ["职工食堂"],
                "category": ["canteen"],
                "capacity": [200.0],
                "opening_hours": ["Mo-Su 06:30-21:00"],
            },
            geometry=[Point(113.152, 27.851)],
            crs=crs,
        ),
        "roads": gpd.GeoDataFrame(
            {
                "id": ["R1"],
                "name": ["金山路"],
                "road_class": ["arterial"],
                "walk": [True],
                "bike": [True],
            },
            geometry=[LineString([(113.14, 27.85), (113.16, 27.85)])],
            crs=crs,
        ),
    }


def write_tiny_park(geodata_dir: Path, park_id: str = "tiny") -> Path:
    """Write the tiny park's demo files (layers, park.json, district boundary); return its dir."""
    park_dir = geodata_dir / park_id
    park_dir.mkdir(parents=True, exist_ok=True)
    for kind, frame in tiny_layers().items():
        frame.to_file(park_dir / f"{kind}.geojson", driver="GeoJSON", engine="pyogrio")
    (park_dir / "park.json").write_text(
        json.dumps(
            {"name_zh": "小园区", "name_en": "Tiny Park", "synthetic": True}, ensure_ascii=False
        ),
        encoding="utf-8",
    )
    district = gpd.GeoDataFrame(
        {"name": ["小区县"]}, geometry=[box(113.1, 27.8, 113.2, 27.9)], crs="EPSG:4326"
    )
    district.to_file(park_dir / "district_boundary.geojson", driver="GeoJSON", engine="pyogrio")
    return park_dir


@pytest.fixture
def tiny_geodata(tmp_path: Path) -> Path:
    """A geodata directory holding one tiny synthetic park, id ``"tiny"``."""
    geodata = tmp_path / "geodata"
    write_tiny_park(geodata)
    return geodata


@pytest.fixture
def make_tiny_park():
    """Return ``write_tiny_park(geodata_dir, park_id="tiny")`` for tests needing more parks."""
    return write_tiny_park


@pytest.fixture
def tiny_park_layers() -> dict[str, gpd.GeoDataFrame]:
    """Fresh copies of the tiny park's canonical demo layers, keyed by layer kind value."""
    return tiny_layers()


@pytest.fixture(autouse=True)
def private_secrets_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test keeps pseudonymisation keys in its own folder, never in the user's home."""
    directory = tmp_path_factory.mktemp("secrets")
    monkeypatch.setenv("PARKLIFE_SECRETS_DIR", str(directory))
    monkeypatch.delenv("PARKLIFE_PSEUDONYM_KEY", raising=False)
    return directory


@pytest.fixture(autouse=True)
def no_background_warmup(monkeypatch: pytest.MonkeyPatch) -> None:
    """No background warm-up thread (ui.warmup): counts of engine runs and fits stay exact."""
    monkeypatch.setenv("PARKLIFE_BACKGROUND_WARMUP", "0")


STORE_KINDS = ["file", "postgres"]


@pytest.fixture(scope="session")
def postgres_url():
    """URL of a throwaway PostgreSQL/PostGIS database for this session (see postgres_cluster)."""
    import os

    from tests.postgres_cluster import REQUIRE_ENV, ClusterUnavailableError, running_cluster

    try:
        with running_cluster() as url:
            yield url
    except ClusterUnavailableError as err:
        if os.environ.get(REQUIRE_ENV):
            raise
        pytest.skip(f"PostgreSQL store tests need a local PostgreSQL + PostGIS: {err}")


def _fresh_store_opener(kind: str, tmp_path: Path, request):
    """Return a function opening one fresh, empty store of ``kind`` again and again."""
    from retention.storage.store import FileStore

    if kind == "file":
        return lambda: FileStore(tmp_path / "data")
    import uuid

    from retention.storage.postgres import PostgresStore, upgrade

    url = request.getfixturevalue("postgres_url")
    scoped = f"{url}?schema=t_{uuid.uuid4().hex[:12]}"
    upgrade(scoped)
    return lambda: PostgresStore(scoped)


@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path):
    """A fresh, empty store of each kind (files in a temp folder; a new PostgreSQL schema)."""
    return _fresh_store_opener(request.param, tmp_path, request)()


@pytest.fixture(params=STORE_KINDS)
def store_factory(request, tmp_path):
    """Return a maker of a store opener: each opener opens the same fresh store again."""
    return lambda: _fresh_store_opener(request.param, tmp_path, request)


@pytest.fixture(autouse=True)
def _main_module_restored():
    """Put back the real ``__main__`` after each test.

    Streamlit's script runner (AppTest) installs the page it runs as ``sys.modules["__main__"]``
    and leaves it there; a process started later (the Dask workers of the batch, the engine's
    search helper) would then re-import that page in the child, which dies on start
    ("Nanny failed to start", BrokenProcessPool) — only when an AppTest ran earlier in the same
    session.
    """
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main
