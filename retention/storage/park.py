"""A park's data bundle: bundled demo layers merged with the user's stored uploads.

Demo files live in ``geodata/<park_id>/``: one ``<layer kind>.geojson`` per layer, ``park.json``
(``name_zh``, ``name_en``, ``synthetic`` and provenance) and optionally
``district_boundary.geojson`` (the real administrative boundary around the park). Uploads come
from ``retention.storage.uploads.UploadStore`` under the data directory. An uploaded layer *adds*
rows to the demo layer of its kind; every row says where it came from in its ``source`` column
(``"demo"`` or the upload id). A park made only of uploads (no demo folder) is a park too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from retention.data.layers import LAYER_SPECS, WGS84, LayerKind, ZoneLevel
from retention.data.validate import conform_layer, empty_layer
from retention.errors import UnknownParkError, ValidationError
from retention.storage.layout import check_park_id, default_data_dir
from retention.storage.uploads import SOURCE_COLUMN, UploadStore

DEMO_SOURCE = "demo"
METADATA_FILE = "park.json"
DISTRICT_BOUNDARY_FILE = "district_boundary.geojson"


def default_geodata_dir() -> Path:
    """Return ``<repo>/geodata``, where the bundled demo parks live."""
    return Path(__file__).resolve().parents[2] / "geodata"


# eq=False: comparing GeoDataFrames field by field is ambiguous; identity is what caches need.
@dataclass(frozen=True, eq=False)
class ParkData:
    """Everything known about one park, as the pages and indicators use it.

    Parameters
    ----------
    park_id
        Folder name, e.g. ``"jinshan"``.
    name_zh, name_en
        Display names (from ``park.json``; the id when there is none).
    synthetic
        Whether the demo layers are synthetic (every screen showing them must say so).
    layers
        Every ``LayerKind`` -> a GeoDataFrame in EPSG:4326 with the canonical columns, extra
        columns, and ``source`` (``"demo"`` or an upload id); empty frames for absent layers.
    boundary
        The real district boundary around the park (may be empty), EPSG:4326.
    data_version
        SHA-256 over every input file's bytes and the upload manifest: equal versions mean equal
        data, so it is the cache key for everything computed from the park.
    metadata
        The parsed ``park.json`` (empty if none).

    Mappings are plain dicts so the bundle pickles (process pools, disk caches); treat them and
    the frames as read-only, since cached bundles are shared by every session.
    """

    park_id: str
    name_zh: str
    name_en: str
    synthetic: bool
    layers: Mapping[LayerKind, gpd.GeoDataFrame]
    boundary: gpd.GeoDataFrame
    data_version: str
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def layer(self, kind: LayerKind | str) -> gpd.GeoDataFrame:
        """Return the layer of ``kind`` (shared: copy before modifying)."""
        return self.layers[LayerKind(kind)]

    def name(self, lang: str) -> str:
        """Return the display name in ``lang`` (``"zh"`` or ``"en"``)."""
        return self.name_zh if lang == "zh" else self.name_en

    def layer_keys(self, kind: LayerKind | str) -> frozenset[tuple[str, ...]]:
        """Return the key tuples (``LayerSpec.key_fields``, as strings) already in a layer.

        ``validate_layer(..., existing_keys=...)`` rejects uploaded rows that repeat one, so an id
        names one feature in the park whichever file it came from.
        """
        frame = self.layer(kind)
        fields = list(LAYER_SPECS[LayerKind(kind)].key_fields)
        if frame.empty or not set(fields) <= set(frame.columns):
            return frozenset()
        return frozenset(
            tuple(str(value) for value in row)
            for row in frame[fields].itertuples(index=False, name=None)
        )


def _demo_dir(park_id: str, geodata_dir: Path) -> Path:
    return geodata_dir / park_id


def _is_demo_park(park_id: str, geodata_dir: Path) -> bool:
    return (_demo_dir(park_id, geodata_dir) / METADATA_FILE).is_file()


def list_parks(
    *,
    data_dir: Path | None = None,
    geodata_dir: Path | None = None,
    uploads: UploadStore | None = None,
) -> list[str]:
    """Return the ids of every park: bundled demo parks and parks that have uploads.

    Parameters
    ----------
    data_dir
        The data directory (default ``$PARKLIFE_DATA_DIR`` or ``<repo>/data``).
    geodata_dir
        Where demo parks live (default ``<repo>/geodata``).

    Returns
    -------
    list of str
        Sorted park ids.
    """
    geodata = geodata_dir if geodata_dir is not None else default_geodata_dir()
    store = _uploads(uploads, data_dir)
    ids: set[str] = set()
    if geodata.is_dir():
        ids.update(p.parent.name for p in geodata.glob(f"*/{METADATA_FILE}"))
    ids.update(store.park_ids_with_uploads())
    return sorted(ids)


def _uploads(uploads: UploadStore | None, data_dir: Path | None) -> UploadStore:
    if uploads is not None:
        return uploads
    return UploadStore(data_dir if data_dir is not None else default_data_dir())


def _input_files(park_id: str, geodata_dir: Path) -> list[Path]:
    folder = _demo_dir(park_id, geodata_dir)
    if not folder.is_dir():
        return []
    names = [METADATA_FILE, DISTRICT_BOUNDARY_FILE, *(f"{k.value}.geojson" for k in LayerKind)]
    return [folder / name for name in names if (folder / name).is_file()]


def park_data_version(
    park_id: str,
    *,
    data_dir: Path | None = None,
    geodata_dir: Path | None = None,
    uploads: UploadStore | None = None,
) -> str:
    """Return the SHA-256 (hex) over the park's demo files and its upload manifest.

    Cheap enough to call on every page run (reads a few MB); uploads are immutable and named by
    unique ids, so the manifest stands for their content.
    """
    geodata = geodata_dir if geodata_dir is not None else default_geodata_dir()
    store = _uploads(uploads, data_dir)
    digest = hashlib.sha256()
    for path in _input_files(check_park_id(park_id), geodata):
        name = path.name.encode("utf-8")
        content = path.read_bytes()
        digest.update(len(name).to_bytes(8, "little") + name)
        digest.update(len(content).to_bytes(8, "little") + content)
    manifest = store.manifest_bytes(park_id)
    digest.update(b"manifest" + len(manifest).to_bytes(8, "little") + manifest)
    return digest.hexdigest()


def load_park(
    park_id: str,
    *,
    data_dir: Path | None = None,
    geodata_dir: Path | None = None,
    uploads: UploadStore | None = None,
) -> ParkData:
    """Load a park: demo layers from ``geodata/<park_id>/`` plus the stored uploads.

    Assumes demo files are already canonical (they are generated and tested, not typed by
    users), so they are conformed, not validated row by row; uploads were validated when stored.

    Parameters
    ----------
    park_id
        The park's id.
    data_dir
        The data directory holding uploads (default ``$PARKLIFE_DATA_DIR`` or ``<repo>/data``).
    geodata_dir
        Where demo parks live (default ``<repo>/geodata``).
    uploads
        The store's uploads (``store.uploads``); overrides ``data_dir``.

    Returns
    -------
    ParkData
        Every layer kind present (possibly empty), rows tagged with ``source``.

    Raises
    ------
    UnknownParkError
        If there is neither a demo folder with ``park.json`` nor any upload for ``park_id``.
    """
    geodata = geodata_dir if geodata_dir is not None else default_geodata_dir()
    store = _uploads(uploads, data_dir)
    check_park_id(park_id)
    is_demo = _is_demo_park(park_id, geodata)
    if not is_demo and not store.list_uploads(park_id):
        known = ", ".join(list_parks(geodata_dir=geodata, uploads=store)) or "none"
        raise UnknownParkError(f"unknown park {park_id!r}; known parks: {known}")
    version = park_data_version(park_id, geodata_dir=geodata, uploads=store)
    folder = _demo_dir(park_id, geodata)
    metadata: dict[str, Any] = {}
    if is_demo:
        metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    layers: dict[LayerKind, gpd.GeoDataFrame] = {}
    for kind in LayerKind:
        demo_path = folder / f"{kind.value}.geojson"
        demo = _read_demo_layer(demo_path, kind) if demo_path.is_file() else None
        uploaded = store.load_layer(park_id, kind)
        layers[kind] = _merge(kind, demo, uploaded)
    boundary_path = folder / DISTRICT_BOUNDARY_FILE
    if boundary_path.is_file():
        boundary = pyogrio.read_dataframe(boundary_path)
        boundary = boundary.to_crs(WGS84) if boundary.crs is not None else boundary.set_crs(WGS84)
    else:
        boundary = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)
    return ParkData(
        park_id=park_id,
        name_zh=str(metadata.get("name_zh", park_id)),
        name_en=str(metadata.get("name_en", park_id)),
        synthetic=bool(metadata.get("synthetic", False)),
        layers=layers,
        boundary=boundary,
        data_version=version,
        metadata=metadata,
    )


def _read_demo_layer(path: Path, kind: LayerKind) -> gpd.GeoDataFrame:
    try:
        frame = pyogrio.read_dataframe(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
        raise ValidationError(f"demo layer cannot be read: {err}", file=str(path)) from err
    out = conform_layer(frame, kind, source_name=str(path))
    out[SOURCE_COLUMN] = DEMO_SOURCE
    return out


def _merge(
    kind: LayerKind, demo: gpd.GeoDataFrame | None, uploaded: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    frames = [f for f in (demo, uploaded) if f is not None and len(f)]
    if not frames:
        empty = empty_layer(kind)
        empty[SOURCE_COLUMN] = pd.Series(dtype="object")
        return empty
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    merged = pd.concat(frames, ignore_index=True)
    # Re-conform: concat of an int column with a frame lacking it would otherwise go float.
    conformed = conform_layer(gpd.GeoDataFrame(merged, crs=WGS84), kind, source_name=kind.value)
    columns = [c for c in conformed.columns if c not in (SOURCE_COLUMN, "geometry")]
    return conformed[[*columns, SOURCE_COLUMN, "geometry"]]


def park_outline(park: ParkData) -> gpd.GeoDataFrame | None:
    """Return the park-level zone polygon(s) (``level == "park"``), or ``None`` if there are none.

    This is the boundary uploads are checked against (``validate_layer(park_boundary=...)``).
    """
    zones = park.layers[LayerKind.ZONES]
    outline = zones[zones["level"] == ZoneLevel.PARK.value]
    return None if outline.empty else outline
