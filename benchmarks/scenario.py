"""Scenario lab timings: one-modification scenarios next to a full recomputation of the park.

Measures, on the demo park (with its synthetic survey and fitted model) and on the Beilun-scale
generated park (no survey: access only), how long ``retention.scenario.evaluate.evaluate_scenario``
takes for one modification (apply to layer copies, travel times, indicators, riders, leavers),
by full recomputation and through the engine's delta operations (``ParkEngine``), next to
``evaluate_park`` on the baseline (travel times and indicators from scratch).

Run::

    .venv/bin/python benchmarks/scenario.py            # demo and Beilun, writes results/scenario.md
    .venv/bin/python benchmarks/scenario.py --demo-only

Timings are medians of ``--repeats`` runs (1 on Beilun) in this one process, after one warm-up
run on the demo park; the machine is shared, so read ratios, not absolute seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # cases.py imports measure, peers

from benchmarks.cases import _park_for
from retention.access.engine import ParkEngine
from retention.access.indicators import IndicatorParameters
from retention.access.network import network_from_roads
from retention.access.parameters import DEFAULT_TIME_WINDOWS, TravelParameters
from retention.data.layers import LayerKind
from retention.scenario.evaluate import (
    EvaluationOptions,
    RetentionBasis,
    evaluate_park,
    evaluate_scenario,
)
from retention.scenario.model import (
    AddAmenity,
    AddRoute,
    ChangeRouteService,
    CloseAmenity,
    Modification,
    RouteStop,
    Scenario,
    ServiceWindow,
    park_context,
)

RESULTS = Path(__file__).resolve().parent / "results" / "scenario.md"


def _timed(call: Callable[[], object], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def _retention(park, travel) -> RetentionBasis:  # type: ignore[no-untyped-def]
    from retention.model.intent import DEFAULT_MODEL_CATEGORIES, default_spec, fit_intent_model
    from retention.model.peer_benchmark import model_features, residence_access
    from retention.storage.waves import SurveyStore, load_current_survey
    from retention.survey.weighting import enterprise_headcounts, survey_weights

    with tempfile.TemporaryDirectory() as empty:
        survey = load_current_survey(park, store=SurveyStore(Path(empty)), salt=b"bench" * 4).survey
    heads = enterprise_headcounts(park.layer(LayerKind.ENTERPRISES))
    weights = survey_weights(survey, heads).weights
    access = residence_access(
        travel.minutes_for("walk", "weekday_evening"),
        travel.amenities["category"].to_numpy(),
        travel.origins,
        available=travel.available_mask("weekday_evening"),
        window="weekday_evening",
        model_categories=DEFAULT_MODEL_CATEGORIES,
    )
    features = model_features(survey, access, weights)
    model = fit_intent_model(features, default_spec(weight="weight"), n_bootstrap=0)
    return RetentionBasis(model, features, heads, tuple(c.value for c in DEFAULT_MODEL_CATEGORIES))


def _modifications(park) -> dict[str, Modification]:  # type: ignore[no-untyped-def]
    residences = park.layer(LayerKind.RESIDENCES)
    amenities = park.layer(LayerKind.AMENITIES)
    home = residences.geometry.iloc[len(residences) // 2]
    clinics = amenities[amenities["category"].astype(str) == "clinic"]
    target = amenities.geometry.iloc[len(amenities) // 3].representative_point()
    chosen: dict[str, Modification] = {
        "add a clinic": AddAmenity(
            "BENCH1", "bench clinic", "clinic", home.x + 0.0005, home.y, 50.0
        ),
        "close a clinic": CloseAmenity(str(clinics["id"].iloc[0])),
        "add an evening shuttle": AddRoute(
            "BENCHS",
            "bench shuttle",
            (RouteStop(home.x, home.y), RouteStop(target.x, target.y)),
            (ServiceWindow("weekday_evening", 10.0, "18:00", "22:00"),),
        ),
    }
    routes = park.layer(LayerKind.TRANSIT_ROUTES)
    if len(routes):
        chosen["halve a bus headway"] = ChangeRouteService(
            str(routes["route_id"].iloc[0]), (("weekday_evening", 5.0),)
        )
    return chosen


def run(which: str, *, repeats: int) -> list[str]:
    """Time the baseline and each one-modification scenario on one park; return table rows."""
    park = _park_for("full", which)
    params = TravelParameters()
    indicator_parameters = IndicatorParameters()
    options = EvaluationOptions()
    network = network_from_roads(park.layer(LayerKind.ROADS))
    context = park_context(park.layers, window_keys=[w.key for w in DEFAULT_TIME_WINDOWS])

    def baseline():  # type: ignore[no-untyped-def]
        return evaluate_park(
            park,
            params=params,
            windows=DEFAULT_TIME_WINDOWS,
            indicator_parameters=indicator_parameters,
            options=options,
        )

    base = baseline()
    engine = ParkEngine.build(park.layers, params=params, windows=DEFAULT_TIME_WINDOWS)
    retention = _retention(park, base.travel) if which == "demo" else None
    base_best, base_median = _timed(baseline, repeats)
    rows = [
        f"| {which} | baseline: travel times + indicators from scratch | {base_best:.2f} | "
        f"{base_median:.2f} | 1.00 |"
    ]
    for label, modification in _modifications(park).items():
        scenario = Scenario(label, ()).with_modification(modification, context)

        def one(scenario: Scenario = scenario, via: ParkEngine | None = None) -> object:
            return evaluate_scenario(
                base,
                scenario,
                indicator_parameters=indicator_parameters,
                retention=retention,
                network=network,
                engine=via,
            )

        def delta(scenario: Scenario = scenario) -> object:
            return one(scenario, engine)

        leavers = ", leavers" if retention else ""
        for path, call in (("full recomputation", one), ("engine deltas", delta)):
            call()  # warm-up
            best, median = _timed(call, repeats)
            rows.append(
                f"| {which} | {label} ({path}{leavers}) | "
                f"{best:.2f} | {median:.2f} | {median / base_median:.2f} |"
            )
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demo-only", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = run("demo", repeats=args.repeats)
    if not args.demo_only:
        rows += run("beilun", repeats=1)
    table = [
        "| park | what | best s | median s | median / baseline |",
        "| --- | --- | --- | --- | --- |",
        *rows,
    ]
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    RESULTS.write_text(
        f"Scenario lab timings, {stamp} (benchmarks/scenario.py)\n\n" + "\n".join(table) + "\n",
        encoding="utf-8",
    )
    print("\n".join(table))


if __name__ == "__main__":
    main()
