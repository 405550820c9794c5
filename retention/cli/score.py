"""``parklife score --park P --window W --out FILE``: the Gaps page's numbers as a file.

Indicators and gap index of one time window per residence, enterprise, H3 cell and zone, from
the UI-free pipeline (``retention.pipeline``) with the park's saved parameters — the run key the
app uses, so the numbers are the page's. Column names carry units
(``walk_nearest_canteen_minutes``, ``walk_gap_index_0_100``; see
``retention.pipeline.scores``). Formats, by the file's suffix:

- ``.gpkg``: one layer per place (``residences``, ``enterprises``, ``h3_cells``, ``zones``);
- ``.parquet``: one GeoParquet table, ``place`` says which;
- ``.csv``: one table, ``place`` first, ``lon``/``lat`` (a point inside each place, WGS84)
  instead of the geometry; formula-safe, UTF-8 with a BOM.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from retention.auth.roles import Permission
from retention.cli._arguments import add_park, load_park, saved_parameters, time_window
from retention.cli._command import CliError, Command, Context, ExitCode
from retention.cli._output import check_writable, steps, write_atomically, write_csv
from retention.i18n import t

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from retention.pipeline.scores import ParkScores

OUT_SUFFIXES = (".gpkg", ".csv", ".parquet")
# Listed in --help without importing the engine (``parklife --help`` stays fast); values are
# checked against the real constants (``MODES``, ``DEMAND_SETS``, ``GAP_WEIGHT_METHODS``), and a
# test keeps these lists equal to them.
HELP_MODES = ("walk", "ebike", "transit")
HELP_DEMANDS = ("residence", "enterprise", "both")
HELP_WEIGHTS = ("equal", "stated", "derived")
DEFAULT_THRESHOLD_MINUTES = 15.0  # the Gaps page's default time budget


def _configure(parser: argparse.ArgumentParser, lang: str) -> None:
    add_park(parser, lang)
    parser.add_argument(
        "--window", required=True, metavar="WINDOW", help=t("cli.score.window", lang)
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="FILE",
        help=t("cli.score.out", lang, formats=", ".join(OUT_SUFFIXES)),
    )
    parser.add_argument(
        "--mode",
        action="append",
        metavar="MODE",
        help=t("cli.score.mode", lang, modes=", ".join(HELP_MODES)),
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD_MINUTES,
        metavar="MINUTES",
        help=t("cli.score.threshold", lang),
    )
    parser.add_argument(
        "--demand",
        default="residence",
        metavar="SET",
        help=t("cli.score.demand", lang, sets=", ".join(HELP_DEMANDS)),
    )
    parser.add_argument(
        "--weights",
        default="equal",
        metavar="METHOD",
        help=t("cli.score.weights", lang, methods=", ".join(HELP_WEIGHTS)),
    )


def _choice(value: str, allowed: tuple[str, ...], what: str, context: Context) -> str:
    if value in allowed:
        return value
    raise CliError(
        t(f"cli.error.{what}", context.lang, value=value, allowed=", ".join(allowed)),
        code=ExitCode.UNKNOWN_VALUE,
    )


def _run(args: argparse.Namespace, context: Context) -> int:
    from retention.access.indicators import DEMAND_SETS
    from retention.access.travel_times import MODES
    from retention.auth.export_audit import record_export  # the store: not for --help
    from retention.pipeline import (
        GAP_WEIGHT_METHODS,
        current_survey,
        gap_weights,
        run_key,
        score_tables,
        travel_times,
    )

    lang = context.lang
    out = check_writable(args.out, context, suffixes=OUT_SUFFIXES)
    modes = tuple(dict.fromkeys(_choice(m, MODES, "mode", context) for m in args.mode or MODES))
    demand = _choice(args.demand, tuple(DEMAND_SETS), "demand", context)
    method = _choice(args.weights, GAP_WEIGHT_METHODS, "weights", context)
    if not 0 < args.threshold <= 120:
        raise CliError(
            t("cli.error.threshold", lang, value=f"{args.threshold:g}"), code=ExitCode.USAGE
        )
    with steps(context, 5) as progress:
        progress.step(t("cli.step.park", lang))
        park = load_park(args.park, context)
        parameters = saved_parameters(park.park_id, context)
        window = time_window(args.window, parameters, context)
        key = run_key(
            park.park_id,
            data_dir=context.data_dir,
            parameters=parameters,
            data_version=park.data_version,
            user_scope=context.scope.canonical(),
        )
        progress.step(t("cli.step.weights", lang))
        survey = None if method == "equal" else current_survey(park, key, data_dir=context.data_dir)
        weights = gap_weights(park, survey, key, method=method)
        if method != "equal" and weights.weights is None:
            context.note(t("cli.score.no_weights", lang, reason=weights.error or "-"))
        progress.step(t("cli.step.travel_times", lang))
        travel = travel_times(park, key)
        progress.step(t("cli.step.indicators", lang))
        scores = score_tables(
            park,
            travel,
            key,
            window=window,
            modes=modes,
            threshold_minutes=float(args.threshold),
            demand=demand,
            weights=None if weights.weights is None else dict(weights.weights),
        )
        progress.step(t("cli.step.write", lang))
        _write(scores, out, context)
    record_export(
        context.data_dir, context.scope, "scores", out.name, park_id=park.park_id, window=window
    )
    if travel.approximate:
        context.note(t("cli.score.approximate", lang))
    counts = {name: len(frame) for name, frame in scores.tables().items()}
    context.say(
        t(
            "cli.score.done",
            lang,
            path=str(out),
            park=park.name(lang),
            window=window,
            modes=", ".join(modes),
            **counts,
        )
    )
    context.say(t("cli.score.key", lang, digest=key.digest()[:16], version=key.data_version[:12]))
    if park.synthetic:
        context.note(t("cli.score.synthetic", lang))
    return ExitCode.OK


def long_table(scores: ParkScores) -> gpd.GeoDataFrame:
    """Return the four place tables stacked, ``place`` first (columns a place lacks are empty)."""
    import geopandas as gpd
    import pandas as pd

    frames = []
    for name, frame in scores.tables().items():
        plain = pd.DataFrame(frame).copy()
        plain.insert(0, "place", name)
        frames.append(plain)
    stacked = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(stacked, geometry="geometry", crs=scores.residences.crs)


def _with_lon_lat(table: gpd.GeoDataFrame) -> pd.DataFrame:
    import pandas as pd

    points = table.geometry.representative_point()
    plain = pd.DataFrame(table.drop(columns="geometry"))
    plain["lon"] = points.x.to_numpy()
    plain["lat"] = points.y.to_numpy()
    return plain


def _write(scores: ParkScores, path: Path, context: Context) -> None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        write_csv(_with_lon_lat(long_table(scores)), path, context)
    elif suffix == ".parquet":
        write_atomically(path, lambda tmp: long_table(scores).to_parquet(tmp), context)
    else:
        import pyogrio

        def write_layers(tmp: Path) -> None:
            for name, frame in scores.tables().items():
                pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", append=False)

        write_atomically(path, write_layers, context)


# Writing the scores to a file is an export (viewers have none); the Gaps page is open to all.
COMMAND = Command(
    name="score", configure=_configure, run=_run, order=30, permission=Permission.EXPORT
)
