"""A seeded corpus of many synthetic parks for batch runs and benchmarks.

``python -m geodata.build_corpus --n 20 --out DIR [--scale mixed|demo] [--seed N]
[--survey-share 0.5]`` writes ``DIR/<park_id>/`` folders in the layout of the bundled demo park
(one GeoJSON file per layer kind and ``park.json``), so
``retention.storage.park.load_park(park_id, geodata_dir=DIR)`` reads them and
``parklife batch --parks DIR`` scores them.

Two scales:

- ``mixed`` (default; ids ``syn_0001``...): small and mid-size parks — about two in three small
  (1.5–3 km², 15–40 firms), the rest mid-size (3–8 km², 40–120 firms), street blocks 160–320 m.
- ``demo`` (ids ``syn_demo_0001``...): parks at the scale and density of the bundled demo park
  (``geodata.synthetic.JINSHAN_DEMO``: 12 km², 320 firms, 32,000 workers, 430 amenities,
  32 residences, 190 m street blocks). Stated bounds, relative to the demo's values: area, firms,
  amenities and workforce per firm within ±10 %; residences within ±15 %; street block spacing
  within ±8 % (road length per km² within ±20 % of the demo's ~10 km/km²); 4–8 large firms (demo
  6). Outline, amenity centres (2–4) and their spread, street removal, arterials, bus routes,
  lake park (25–50 ha; the demo's 53.3 ha lake park is the largest whose centre still lies
  within the 300 m snapping distance of a street node) and which side faces the city are drawn
  per park. The survey, where a park has one,
  has the demo's rate of 100 respondents per 1,000 workers (the demo: 3,200 for 32,000).

Every park is synthetic and says so (``park.json`` ``synthetic: true``, names end with
"synthetic"). Parks vary in area, shape (the generator's seeded outline), street density, firm
and workforce density, residences and amenity mix (number of amenity centres, their spread, how
far amenities lean towards the city). Centres are scattered a few kilometres around real
Zhejiang city centres so a map of the corpus looks like a province; the city and district labels
say where a park is placed, not a real park there. A share of the parks gets a synthetic
Wenjuanxing-style survey (``survey_wjx.xlsx``, drawn by ``geodata.demo_survey`` from the park's
own evening walking minutes), so the batch's retention model runs on them.

The same ``--scale``, ``--seed`` and ``--survey-share`` give the same parks; a larger ``--n``
adds parks.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from geodata.build_demo import geojson_text
from geodata.synthetic import JINSHAN_DEMO, SyntheticParkSpec, generate_park, spec_as_dict
from retention.data.layers import AmenityCategory, LayerKind

DEFAULT_SEED = 20260312
METADATA_FILE = "park.json"
SURVEY_FILE = "survey_wjx.xlsx"

# (city zh, city en, lon, lat, ((district zh, district en), ...)): approximate WGS84 centres of
# Zhejiang cities; parks are placed a few km around them. Labels only: the parks are synthetic.
ZHEJIANG_CITIES: tuple[tuple[str, str, float, float, tuple[tuple[str, str], ...]], ...] = (
    ("杭州市", "Hangzhou", 120.16, 30.27, (("萧山区", "Xiaoshan"), ("余杭区", "Yuhang"))),
    ("宁波市", "Ningbo", 121.55, 29.87, (("北仑区", "Beilun"), ("鄞州区", "Yinzhou"))),
    ("温州市", "Wenzhou", 120.70, 28.00, (("龙湾区", "Longwan"), ("瓯海区", "Ouhai"))),
    ("嘉兴市", "Jiaxing", 120.76, 30.75, (("南湖区", "Nanhu"), ("秀洲区", "Xiuzhou"))),
    ("绍兴市", "Shaoxing", 120.58, 30.00, (("柯桥区", "Keqiao"), ("上虞区", "Shangyu"))),
    ("金华市", "Jinhua", 119.65, 29.08, (("婺城区", "Wucheng"), ("金东区", "Jindong"))),
    ("台州市", "Taizhou", 121.42, 28.66, (("椒江区", "Jiaojiang"), ("黄岩区", "Huangyan"))),
    ("湖州市", "Huzhou", 120.09, 30.89, (("吴兴区", "Wuxing"), ("南浔区", "Nanxun"))),
)  # fmt: skip

SIZES = ("small", "mid", "demo")
SCALES = ("mixed", "demo")
"""``mixed``: small and mid-size parks; ``demo``: parks at the bundled demo park's scale."""

DEMO_SCALE_SPREAD = 0.10
"""Demo-scale parks: area, firms, amenities and workforce per firm within ± this share."""
DEMO_SCALE_RESIDENCE_SPREAD = 0.15
"""Demo-scale parks: residences within ± this share of the demo's."""
DEMO_SCALE_BLOCK_SPREAD = 0.08
"""Demo-scale parks: street block spacing (hence street density) within ± this share."""

RESPONDENTS_PER_1000_WORKERS = {"mixed": 40.0, "demo": 100.0}
"""Survey size per scale (at least 1,200 respondents); the demo's own survey is 3,200 / 32,000."""


@dataclasses.dataclass(frozen=True)
class CorpusPark:
    """One park of the corpus: its generator spec, seed and where it is placed."""

    spec: SyntheticParkSpec
    seed: int
    size: str
    city_zh: str
    city_en: str
    district_zh: str
    district_en: str
    survey: bool


def corpus_specs(
    n: int, *, seed: int = DEFAULT_SEED, survey_share: float = 0.5, scale: str = "mixed"
) -> list[CorpusPark]:
    """Return ``n`` varied park specs, deterministic for ``seed`` and ``scale``.

    ``scale="mixed"``: about two parks in three are small (1.5–3 km², 15–40 firms), the rest
    mid-size (3–8 km², 40–120 firms). ``scale="demo"``: every park near the demo park's scale and
    density, within the bounds ``DEMO_SCALE_*`` (see the module docstring). Densities and amenity
    mixes are drawn per park, and a park gets a survey with probability ``survey_share``. Park
    ``i`` depends on ``seed``, ``scale`` and ``i`` only, so a larger corpus starts with the parks
    of a smaller one.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"expected a positive number of parks, got {n!r}")
    if not 0.0 <= survey_share <= 1.0:
        raise ValueError(f"expected a survey share in [0, 1], got {survey_share!r}")
    if scale not in SCALES:
        raise ValueError(f"expected a scale in {SCALES}, got {scale!r}")
    parks = []
    for i in range(n):
        # One generator per park: park i is the same in a corpus of any size. The demo scale
        # has its own stream (and ids), so it never reshuffles the mixed corpus.
        rng = np.random.default_rng([seed, i] if scale == "mixed" else [seed, i, 1])
        size = "demo" if scale == "demo" else ("small" if rng.random() < 2 / 3 else "mid")
        city_zh, city_en, lon, lat, districts = ZHEJIANG_CITIES[
            int(rng.integers(len(ZHEJIANG_CITIES)))
        ]
        district_zh, district_en = districts[int(rng.integers(len(districts)))]
        distance_km = rng.uniform(4.0, 15.0)
        bearing = rng.uniform(0.0, 2 * math.pi)
        centre_lon = lon + distance_km * math.sin(bearing) / (111.32 * math.cos(math.radians(lat)))
        centre_lat = lat + distance_km * math.cos(bearing) / 110.57
        centre = (round(centre_lon, 5), round(centre_lat, 5))
        if size == "demo":
            spec = _demo_scale_spec(
                rng, park_number=i + 1, district=(district_zh, district_en), centre=centre
            )
        else:
            spec = _mixed_scale_spec(
                rng, size, park_number=i + 1, district=(district_zh, district_en), centre=centre
            )
        parks.append(
            CorpusPark(
                spec=spec,
                seed=int(rng.integers(1, 2**31)),
                size=size,
                city_zh=city_zh,
                city_en=city_en,
                district_zh=district_zh,
                district_en=district_en,
                survey=bool(rng.random() < survey_share),
            )
        )
    return parks


def _identity(
    park_id: str, label: tuple[str, str], park_number: int, centre: tuple[float, float]
) -> dict[str, Any]:
    """Spec fields naming and placing a corpus park: id, names labelled synthetic, centre."""
    return {
        "park_id": park_id,
        "name_zh": f"{label[0]}{park_number}号（合成数据）",
        "name_en": f"{label[1]} {park_number} (synthetic)",
        "centre_lon": centre[0],
        "centre_lat": centre[1],
    }


def _mixed_scale_spec(
    rng: np.random.Generator,
    size: str,
    *,
    park_number: int,
    district: tuple[str, str],
    centre: tuple[float, float],
) -> SyntheticParkSpec:
    """A small or mid-size park (draws in the order the first corpora were built with)."""
    if size == "small":
        area = float(rng.uniform(1.5, 3.0))
        enterprises = int(rng.integers(15, 41))
    else:
        area = float(rng.uniform(3.0, 8.0))
        enterprises = int(rng.integers(40, 121))
    large = int(rng.integers(0, 3))
    per_firm = float(rng.uniform(60.0, 160.0))
    workforce = max(int(enterprises * per_firm), 3000 * large + 5 * enterprises + 500)
    grids = int(rng.integers(2, 5))
    return dataclasses.replace(
        JINSHAN_DEMO,
        **_identity(
            f"syn_{park_number:04d}",
            (f"{district[0]}合成园区", f"{district[1]} park"),
            park_number,
            centre,
        ),
        area_km2=round(area, 2),
        enterprises=enterprises,
        large_enterprises=large,
        workforce=workforce,
        residences=int(rng.integers(6, 7 + int(4 * area))),
        amenities=int(rng.integers(len(AmenityCategory) + 5, 40 + int(25 * area))),
        grids=grids,
        micro_grids=grids * int(rng.integers(2, 5)),
        centres=int(rng.integers(2, 5)),
        centre_radius_metres=float(round(rng.uniform(150.0, 450.0), 1)),
        block_metres=float(round(rng.uniform(160.0, 320.0), 1)),
        street_removal_share=float(round(rng.uniform(0.05, 0.3), 3)),
        arterials=int(rng.integers(2, 4)),
        bus_routes=int(rng.integers(1, 4)),
        lake_park_ha=float(round(rng.uniform(2.0, 0.08 * area * 100), 1)),
        city_bearing_deg=float(round(rng.uniform(0.0, 360.0), 1)),
    )


def _around(rng: np.random.Generator, value: float, spread: float) -> float:
    """``value`` times a uniform factor in ``[1 - spread, 1 + spread]``."""
    return value * float(rng.uniform(1.0 - spread, 1.0 + spread))


def _demo_scale_spec(
    rng: np.random.Generator,
    *,
    park_number: int,
    district: tuple[str, str],
    centre: tuple[float, float],
) -> SyntheticParkSpec:
    """A park at the demo park's scale and density (bounds: ``DEMO_SCALE_*``)."""
    demo = JINSHAN_DEMO
    area = round(_around(rng, demo.area_km2, DEMO_SCALE_SPREAD), 2)
    enterprises = round(_around(rng, demo.enterprises, DEMO_SCALE_SPREAD))
    large = int(rng.integers(4, 9))
    per_firm = _around(rng, demo.workforce / demo.enterprises, DEMO_SCALE_SPREAD)
    workforce = max(round(enterprises * per_firm), 3000 * large + 5 * enterprises + 500)
    grids = int(rng.integers(6, 11))
    return dataclasses.replace(
        demo,
        **_identity(
            f"syn_demo_{park_number:04d}",
            (f"{district[0]}演示规模合成园区", f"{district[1]} demo-scale park"),
            park_number,
            centre,
        ),
        area_km2=area,
        enterprises=enterprises,
        large_enterprises=large,
        workforce=workforce,
        residences=round(_around(rng, demo.residences, DEMO_SCALE_RESIDENCE_SPREAD)),
        amenities=round(_around(rng, demo.amenities, DEMO_SCALE_SPREAD)),
        grids=grids,
        micro_grids=grids * int(rng.integers(6, 9)),
        centres=int(rng.integers(2, 5)),
        centre_radius_metres=round(_around(rng, demo.centre_radius_metres, 0.2), 1),
        block_metres=round(_around(rng, demo.block_metres, DEMO_SCALE_BLOCK_SPREAD), 1),
        street_removal_share=round(float(rng.uniform(0.14, 0.22)), 3),
        arterials=int(rng.integers(2, 4)),
        bus_routes=int(rng.integers(2, 5)),
        lake_park_ha=round(float(rng.uniform(25.0, 50.0)), 1),
        city_bearing_deg=round(float(rng.uniform(0.0, 360.0)), 1),
    )


def _metadata(
    park: CorpusPark, layers: dict[LayerKind, Any], *, corpus_seed: int, scale: str
) -> dict[str, Any]:
    spec = park.spec
    return {
        "park_id": spec.park_id,
        "name_zh": spec.name_zh,
        "name_en": spec.name_en,
        "synthetic": True,
        "size": park.size,
        "district": {
            "name_zh": park.district_zh,
            "name_en": park.district_en,
            "city_zh": park.city_zh,
            "city_en": park.city_en,
            "province_zh": "浙江省",
            "province_en": "Zhejiang",
        },
        "centre": {"lon": spec.centre_lon, "lat": spec.centre_lat},
        "generator": {
            "module": "geodata.synthetic",
            "function": "generate_park",
            "corpus": "geodata.build_corpus",
            "corpus_seed": corpus_seed,
            "corpus_scale": scale,
            "spec_fields": spec_as_dict(spec),
        },
        "seed": park.seed,
        "survey": park.survey,
        "crs": "EPSG:4326",
        "layers": {kind.value: len(layers[kind]) for kind in LayerKind},
        "note": (
            "Everything is synthetic: generated, not surveyed. The city and district say where "
            "the generator placed the park; no real park is described."
        ),
    }


def _survey_bytes(park_id: str, geodata_dir: Path, *, seed: int, n: int) -> bytes:
    from geodata.build_survey import evening_walk_minutes
    from geodata.demo_survey import simulate_demo_survey, wenjuanxing_workbook
    from retention.storage.park import load_park

    with tempfile.TemporaryDirectory() as empty_data_dir:
        park = load_park(park_id, data_dir=Path(empty_data_dir), geodata_dir=geodata_dir)
    frame, _ = simulate_demo_survey(
        park.layers[LayerKind.ENTERPRISES],
        park.layers[LayerKind.RESIDENCES],
        evening_walk_minutes(park_id, geodata_dir=geodata_dir),
        n=n,
        seed=seed,
        access_source="retention.access.travel_times walk minutes, weekday_evening window",
    )
    return wenjuanxing_workbook(frame, seed=seed)


def build_corpus(
    out_dir: Path,
    n: int,
    *,
    seed: int = DEFAULT_SEED,
    survey_share: float = 0.5,
    scale: str = "mixed",
    respondents_per_1000_workers: float | None = None,
) -> list[str]:
    """Write ``n`` synthetic parks into ``out_dir`` (one folder each); return their ids.

    Parameters
    ----------
    out_dir
        The corpus folder (created if missing); a park folder of the same id is overwritten.
    n
        Number of parks.
    seed
        Corpus seed (specs, placement, generator seeds, which parks get a survey).
    survey_share
        Share of parks with a synthetic survey.
    scale
        ``"mixed"`` (small and mid-size parks) or ``"demo"`` (the demo park's scale).
    respondents_per_1000_workers
        Survey size (at least 1,200 respondents, enough for the intent model); by default the
        scale's rate (``RESPONDENTS_PER_1000_WORKERS``).
    """
    if respondents_per_1000_workers is None:
        if scale not in RESPONDENTS_PER_1000_WORKERS:
            raise ValueError(f"expected a scale in {SCALES}, got {scale!r}")
        respondents_per_1000_workers = RESPONDENTS_PER_1000_WORKERS[scale]
    parks = corpus_specs(n, seed=seed, survey_share=survey_share, scale=scale)
    out_dir.mkdir(parents=True, exist_ok=True)
    ids = []
    for park in parks:
        layers = generate_park(park.spec, seed=park.seed)
        folder = out_dir / park.spec.park_id
        folder.mkdir(parents=True, exist_ok=True)
        for kind in LayerKind:
            (folder / f"{kind.value}.geojson").write_text(
                geojson_text(layers[kind]), encoding="utf-8"
            )
        metadata = _metadata(park, layers, corpus_seed=seed, scale=scale)
        (folder / METADATA_FILE).write_text(
            json.dumps(metadata, ensure_ascii=False, sort_keys=True, indent=2) + "\n",
            encoding="utf-8",
        )
        if park.survey:
            respondents = max(
                1200, round(park.spec.workforce * respondents_per_1000_workers / 1000)
            )
            (folder / SURVEY_FILE).write_bytes(
                _survey_bytes(park.spec.park_id, out_dir, seed=park.seed, n=respondents)
            )
        ids.append(park.spec.park_id)
    return ids


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m geodata.build_corpus",
        description="Write N seeded synthetic parks (demo-park folder layout) for batch runs.",
    )
    parser.add_argument("--n", type=int, required=True, help="number of parks")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--scale",
        choices=SCALES,
        default="mixed",
        help="mixed: small and mid-size parks; demo: parks at the bundled demo park's scale",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="corpus seed")
    parser.add_argument(
        "--survey-share", type=float, default=0.5, help="share of parks with a survey (0-1)"
    )
    args = parser.parse_args(argv)
    ids = build_corpus(
        args.out, args.n, seed=args.seed, survey_share=args.survey_share, scale=args.scale
    )
    for park_id in ids:
        print(args.out / park_id)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
