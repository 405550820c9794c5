"""Regenerate the synthetic demo survey: ``python -m geodata.build_survey [--seed N] [--n N]``.

Reads the demo park (``retention.storage.park.load_park("jinshan")``), computes evening walking
minutes
from every residence to the nearest amenity of each category with the travel-time engine
(``retention.access.travel_times``), draws the respondents (``geodata.demo_survey``) and writes

* ``geodata/jinshan/survey_wjx.xlsx`` — a Wenjuanxing-style export (SYNTHETIC, says so inside);
* ``geodata/jinshan/survey_truth.json`` — the known coefficients and model.

Byte-identical output for the same seed, n and demo layers (fixed workbook properties).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.demo_survey import (
    simulate_demo_survey,
    wenjuanxing_workbook,
)
from retention.access.parameters import TravelParameters
from retention.access.travel_times import travel_times_for_park
from retention.data.layers import LayerKind
from retention.storage.park import load_park
from retention.survey.schema import SURVEY_CATEGORIES

DEFAULT_SEED = 20240301
DEFAULT_N = 3200
EVENING_WINDOW = "weekday_evening"
OUT_DIR = Path(__file__).resolve().parent / "jinshan"


def evening_walk_minutes(
    park_id: str = "jinshan", *, geodata_dir: Path | None = None
) -> pd.DataFrame:
    """Return residence id × category walking minutes to the nearest open amenity (evening).

    ``geodata_dir``: where the park's folder lives (default ``<repo>/geodata``). A residence or
    amenity the engine could not attach to a street (farther than the snapping distance: no
    minutes) counts as unreachable, like a closed one; inf where no amenity of a category is
    reachable.
    """
    with tempfile.TemporaryDirectory() as empty_data_dir:
        # An empty data dir: the demo layers only, never a user's uploads.
        park = load_park(park_id, data_dir=Path(empty_data_dir), geodata_dir=geodata_dir)
    result = travel_times_for_park(park, params=TravelParameters(), modes=("walk",))
    minutes = result.masked_minutes("walk", EVENING_WINDOW)
    minutes = np.where(np.isnan(minutes), np.inf, minutes)  # not attached to a street
    is_residence = (result.origins["origin_set"] == "residence").to_numpy()
    ids = result.origins.loc[is_residence, "origin_id"].astype(str).to_numpy()
    categories = result.amenities["category"].astype(str).to_numpy()
    table = pd.DataFrame(index=pd.Index(ids, name="residence_id"))
    for category in SURVEY_CATEGORIES:
        columns = categories == category.value
        block = minutes[is_residence][:, columns]
        table[category.value] = block.min(axis=1) if columns.any() else np.inf
    return table


def build(*, seed: int = DEFAULT_SEED, n: int = DEFAULT_N, out_dir: Path = OUT_DIR) -> None:
    """Write the demo survey workbook and its truth file into ``out_dir``."""
    with tempfile.TemporaryDirectory() as empty_data_dir:
        park = load_park("jinshan", data_dir=Path(empty_data_dir))
    access = evening_walk_minutes()
    frame, truth = simulate_demo_survey(
        park.layers[LayerKind.ENTERPRISES],
        park.layers[LayerKind.RESIDENCES],
        access,
        n=n,
        seed=seed,
        access_source=(
            "retention.access.travel_times walk minutes, weekday_evening window, "
            "closed / not-open-to "
            "amenities excluded; capped at 60 minutes"
        ),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "survey_wjx.xlsx").write_bytes(wenjuanxing_workbook(frame, seed=seed))
    data = truth.to_dict()
    data["observed_intent_share"] = round(float((frame["intent_to_leave"] >= 4).mean()), 4)
    (out_dir / "survey_truth.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--n", type=int, default=DEFAULT_N)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    build(seed=args.seed, n=args.n, out_dir=args.out)


if __name__ == "__main__":
    main()
