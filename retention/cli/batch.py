"""``parklife batch --parks DIR|all --out DIR``: score many parks on Dask, one task per park.

Each park goes through the UI-free pipeline with its saved parameters (the app's run key):
indicators and gap index of the evening window for every place, and the survey model's expected
leavers where the park has a survey (``retention.batch``). Results are written per park under
``DIR/parks/<park>/<run key digest>/`` (GeoParquet per place) and one summary table
(``summary.parquet`` and ``summary.csv``, one row per park). A park already scored for the same
run key is skipped, so an interrupted batch resumes; a failed park is listed with its error and
the others finish.

``--parks DIR``: every park folder in DIR (the layout of ``geodata/<park>/``, as
``python -m geodata.build_corpus`` writes); ``--parks all``: every park the app knows.
``--scheduler tcp://HOST:PORT`` sends the tasks to a running Dask scheduler instead of starting
a local cluster of ``--workers`` processes.

``--format csv|gpkg|store`` (comma-separated for several; default ``csv``) gathers the results
after the batch (``retention.batch.export``): ``csv`` one formula-safe CSV per result table,
``gpkg`` ``DIR/results.gpkg`` with one layer per result table and a ``parks`` layer (park
geometry with its summary row), ``store`` each park's result into the app's store under its run
key (files under the data directory, or PostgreSQL when ``PARKLIFE_DATABASE_URL`` is set).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from retention.auth.roles import Permission
from retention.cli._command import CliError, Command, Context, ExitCode
from retention.i18n import t

if TYPE_CHECKING:
    from retention.batch import BatchReport
    from retention.batch.export import BatchFormat

TEXTS = "cli_batch"
DEFAULT_WORKERS = 2
DEFAULT_FORMAT = "csv"


def _configure(parser: argparse.ArgumentParser, lang: str) -> None:
    parser.add_argument(
        "--parks", required=True, metavar="DIR|all", help=t("cli_batch.batch.parks", lang)
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help=t("cli_batch.batch.out", lang)
    )
    parser.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help=t("cli_batch.batch.scheduler", lang),
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        metavar="N",
        help=t("cli_batch.batch.workers", lang, default=DEFAULT_WORKERS),
    )
    parser.add_argument(
        "--format",
        default=DEFAULT_FORMAT,
        metavar="csv|gpkg|store",
        help=t("cli_batch.batch.format", lang, default=DEFAULT_FORMAT),
    )


def _parks(value: str, context: Context) -> tuple[list[str], Path | None]:
    """Return the park ids and the folder they live in (``None``: the app's geodata)."""
    from retention.storage.park import list_parks

    if value == "all":
        ids = list_parks(uploads=context.store().uploads)
        folder = None
    else:
        folder = Path(value)
        if not folder.is_dir():
            raise CliError(
                t("cli_batch.batch.no_folder", context.lang, path=value), code=ExitCode.INPUT
            )
        ids = sorted(p.parent.name for p in folder.glob("*/park.json"))
    if not ids:
        raise CliError(t("cli_batch.batch.no_parks", context.lang, path=value), code=ExitCode.INPUT)
    return ids, folder


def _formats(value: str, lang: str) -> tuple[BatchFormat, ...]:
    from retention.batch.export import BatchFormat

    names = [name.strip().lower() for name in value.split(",") if name.strip()]
    allowed = [fmt.value for fmt in BatchFormat]
    if not names or any(name not in allowed for name in names):
        raise CliError(
            t("cli_batch.batch.bad_format", lang, value=value, allowed="|".join(allowed)),
            code=ExitCode.USAGE,
        )
    return tuple(BatchFormat(name) for name in dict.fromkeys(names))


def _export(
    report: BatchReport, out: Path, formats: tuple[BatchFormat, ...], context: Context
) -> None:
    """Write the results in ``formats`` and say where they went."""
    from retention.batch.export import BatchFormat, export_results

    lang = context.lang
    store = context.store() if BatchFormat.STORE in formats else None
    try:
        done = export_results(report.summary, out, formats, store=store)
    except OSError as error:
        raise CliError(
            t("cli_batch.batch.out_failed", lang, path=str(out)),
            code=ExitCode.OUTPUT,
            detail=error.strerror or str(error),
        ) from None
    for fmt, what in done.items():
        if fmt is BatchFormat.CSV:
            context.say(t("cli_batch.export.csv", lang, count=len(what), folder=str(out)))
        elif fmt is BatchFormat.GPKG:
            context.say(t("cli_batch.export.gpkg", lang, path=str(what)))
        else:
            assert store is not None
            context.say(t("cli_batch.export.store", lang, count=what, where=store.describe()))


def _check_out(path: Path, context: Context) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".parklife-write-check"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise CliError(
            t("cli_batch.batch.out_failed", context.lang, path=str(path)),
            code=ExitCode.OUTPUT,
            detail=error.strerror or str(error),
        ) from None
    return path


def _run(args: argparse.Namespace, context: Context) -> int:
    from tqdm import tqdm

    from retention.batch import ParkOutcome, SchedulerError, run_batch

    lang = context.lang
    if args.workers < 1:
        raise CliError(
            t("cli_batch.batch.bad_workers", lang, value=args.workers), code=ExitCode.USAGE
        )
    if args.scheduler is not None and not args.scheduler.startswith(("tcp://", "tls://")):
        raise CliError(
            t("cli_batch.batch.bad_scheduler", lang, value=args.scheduler), code=ExitCode.USAGE
        )
    formats = _formats(args.format, lang)
    ids, folder = _parks(args.parks, context)
    out = _check_out(args.out, context)
    bar = tqdm(
        total=len(ids),
        file=context.stderr,
        disable=not context.show_progress,
        leave=False,
        unit=t("cli_batch.batch.unit", lang),
        dynamic_ncols=True,
    )
    bar.set_description(t("cli_batch.batch.starting", lang))

    finished: list[str] = []

    def progress(outcome: ParkOutcome) -> None:
        if outcome.status != "failed":
            finished.append(outcome.park_id)
        bar.set_description(f"{outcome.park_id} {t(f'cli_batch.status.{outcome.status}', lang)}")
        bar.update(1)

    try:
        report = run_batch(
            ids,
            out_dir=out,
            data_dir=context.data_dir,
            geodata_dir=folder,
            scheduler=args.scheduler,
            workers=args.workers,
            on_park=progress,
        )
    except KeyboardInterrupt:
        # Every park finished so far is complete on disk; the next run skips it.
        bar.close()
        context.note(t("cli_batch.batch.interrupted", lang, done=len(finished), parks=len(ids)))
        return ExitCode.INTERRUPTED
    except SchedulerError as error:
        raise CliError(
            t("cli_batch.batch.scheduler_failed", lang, address=args.scheduler),
            code=ExitCode.INPUT,
            detail=str(error),
        ) from None
    finally:
        bar.close()
    for outcome in report.outcomes:
        if outcome.status == "failed":
            context.note(t("cli_batch.batch.failed_park", lang, park=outcome.park_id))
            context.note(f"  {outcome.error}")
    context.say(
        t(
            "cli_batch.batch.done",
            lang,
            parks=len(report.outcomes),
            scored=report.count("scored"),
            skipped=report.count("skipped"),
            failed=report.count("failed"),
            workers=report.workers,
            path=str(report.summary_path),
        )
    )
    _export(report, out, formats, context)
    if any(bool(row) for row in report.summary.get("synthetic", [])):
        context.note(t("cli_batch.batch.synthetic", lang))
    return ExitCode.DATA if report.count("failed") else ExitCode.OK


# As the Park comparison page: park-level figures of every park, expected turnover included.
COMMAND = Command(
    name="batch",
    configure=_configure,
    run=_run,
    order=50,
    texts=TEXTS,
    permission=Permission.ALL_ENTERPRISES,
)
