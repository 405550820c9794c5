"""Scenario lab timings: one-modification scenarios next to a full recomputation of the park.

Measures, on the demo park (with its synthetic survey and fitted model) and on the Beilun-scale
generated park (no survey: access only), how long ``retention.scenario.evaluate.evaluate_scenario``
takes for one modification (apply to layer copies, travel times, indicators, riders, leavers),
by full recomputation and through the engine's delta operations (``ParkEngine``), next to
``evaluate_park`` on the baseline (travel times and indicators from scratch).

Run::

    .venv/bin/python benchmarks/scenario.py            # demo and Beilun, writes results/scenario.md
    .venv/bin/python benchmarks/scenario.py --demo-only

On the shared 2-core machine, take the CPU the run needs at real-time priority (its children
inherit it) while holding the benchmark lock, so that only one such run goes at a time::

    flock /tmp/work/bench.lock chrt -r 10 .venv/bin/python benchmarks/scenario.py

Timings are medians of ``--repeats`` runs (1 on Beilun) in this one process, after one warm-up
run of each; the results file says whether the run was at real-time priority and the load
average of the other work (memory bandwidth and caches are shared either way).
"""

from __future__ import annotations

import argparse
import os
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


def _timed(call: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    """Best and median wall seconds, and median CPU seconds of this process (the machine is
    shared: CPU seconds are what compares across runs)."""
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(times), statistics.median(times), statistics.median(cpu)


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


def run(which: str, *, repeats: int, full: bool = True) -> list[str]:
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
    base_best, base_median, base_cpu = _timed(baseline, repeats)
    rows = [
        f"| {which} | baseline: travel times + indicators from scratch | {base_best:.2f} | "
        f"{base_median:.2f} | {base_cpu:.2f} | 1.00 | – | – |"
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
        full_wall = full_cpu = 0.0
        paths = (("full recomputation", one), ("engine deltas", delta))
        for path, call in paths if full else paths[1:]:
            call()  # warm-up
            best, median, cpu = _timed(call, repeats)
            ratios = (
                "– | –" if not full_cpu else f"**{median / full_wall:.2f}** | {cpu / full_cpu:.2f}"
            )
            full_wall, full_cpu = median, cpu
            rows.append(
                f"| {which} | {label} ({path}{leavers}) | "
                f"{best:.2f} | {median:.2f} | {cpu:.2f} | {median / base_median:.2f} | {ratios} |"
            )
            print(rows[-1], flush=True)
    return rows


def _conditions() -> str:
    """How this process is scheduled and how busy the machine is (for the results file)."""
    policy = os.sched_getscheduler(0)
    if policy in (os.SCHED_RR, os.SCHED_FIFO):
        name = "SCHED_RR" if policy == os.SCHED_RR else "SCHED_FIFO"
        priority = os.sched_getparam(0).sched_priority
        scheduling = f"real-time priority ({name} {priority})"
    else:
        scheduling = "normal priority (not real-time)"
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{scheduling}, load average {load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demo-only", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--dense-deltas",
        action="store_true",
        help="only the engine deltas on the dense Beilun park of case b2 (no full recomputation)",
    )
    args = parser.parse_args()
    before = _conditions()
    if args.dense_deltas:
        global RESULTS
        RESULTS = RESULTS.with_name("scenario_dense.md")
        rows = run("beilun_dense", repeats=1, full=False)
    else:
        rows = run("demo", repeats=args.repeats)
    if not args.demo_only and not args.dense_deltas:
        rows += run("beilun", repeats=1)
    table = [
        "| park | what | best wall s | median wall s | median CPU s | wall / baseline | "
        "wall deltas / wall full | CPU deltas / CPU full |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
    ]
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    RESULTS.write_text(
        f"Scenario lab timings, {stamp} (benchmarks/scenario.py). At the start: {before}; "
        f"at the end: {_conditions()}. Memory bandwidth and caches are shared with the "
        "other work.\n\n" + "\n".join(table) + "\n",
        encoding="utf-8",
    )
    print("\n".join(table))


if __name__ == "__main__":
    main()
