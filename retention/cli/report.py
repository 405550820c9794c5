"""``parklife report``: a meeting snapshot (PDF, PowerPoint, Excel or offline HTML) of a park.

The same content as the Reports page for the same park, parameters, survey, scenario and
enterprise (``retention.pipeline.snapshot.build_snapshot``), written atomically to ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from retention.auth.roles import Permission
from retention.cli._arguments import add_park, load_park, saved_parameters, time_window
from retention.cli._command import CliError, Command, Context, ExitCode
from retention.cli._output import check_writable, steps, write_bytes
from retention.i18n import t

FORMATS = ("pdf", "pptx", "xlsx", "html", "json")
"""``json``: the saved scenario itself (``--scenario``), as the Scenario page exports it."""
ASSETS_DIR = Path(__file__).resolve().parents[2] / "static" / "vendor"
"""The vendored front-end assets the offline HTML inlines (installed by scripts/setup.sh)."""


def _configure(parser: argparse.ArgumentParser, lang: str) -> None:
    add_park(parser, lang)
    parser.add_argument(
        "--format", required=True, choices=FORMATS, help=t("cli_report.report.format", lang)
    )
    parser.add_argument("--out", required=True, type=Path, help=t("cli_report.report.out", lang))
    parser.add_argument(
        "--window", default="weekday_evening", help=t("cli_report.report.window", lang)
    )
    parser.add_argument("--enterprise", default=None, help=t("cli_report.report.enterprise", lang))
    parser.add_argument("--scenario", default=None, help=t("cli_report.report.scenario", lang))
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="NAME",
        help=t("cli_report.report.compare", lang),
    )


def _run(args: argparse.Namespace, context: Context) -> int:
    from retention.auth.export_audit import record_export  # the store: not for --help
    from retention.pipeline import stages
    from retention.pipeline.run_key import run_key
    from retention.pipeline.scenarios import (
        UnknownScenarioError,
        evaluate_saved_scenario,
        saved_scenario,
    )
    from retention.pipeline.snapshot import (
        UnknownEnterpriseError,
        build_snapshot,
        require_snapshot_scope,
        write_snapshot,
    )
    from retention.scenario.model import scenario_to_json

    lang = context.lang
    out = check_writable(args.out, context, suffixes=(f".{args.format}",))
    park = load_park(args.park, context)
    parameters = saved_parameters(args.park, context)
    window = time_window(args.window, parameters, context)
    if args.format == "json":
        if args.scenario is None:
            raise CliError(t("cli_report.report.json_needs_scenario", lang), code=ExitCode.USAGE)
        try:
            record = saved_scenario(args.park, args.scenario, data_dir=context.data_dir)
        except UnknownScenarioError as error:
            raise CliError(
                t("cli_report.report.unknown_scenario", lang, scenario=args.scenario),
                code=ExitCode.UNKNOWN_VALUE,
                detail=str(error),
            ) from None
        write_bytes(scenario_to_json(record.scenario).encode("utf-8"), out, context)
        record_export(
            context.data_dir, context.scope, "scenario", out.name, park_id=args.park,
            scenario=args.scenario,
        )  # fmt: skip
        context.note(t("cli_report.report.done", lang, path=str(out), version=record.scenario_id))
        return ExitCode.OK
    key = run_key(
        args.park,
        data_dir=context.data_dir,
        parameters=parameters,
        data_version=park.data_version,
        user_scope=context.scope.canonical(),
    )
    if args.compare and args.scenario is None:
        raise CliError(t("cli_report.report.compare_needs_scenario", lang), code=ExitCode.USAGE)
    require_snapshot_scope(key.user_scope, args.enterprise)  # before any scenario is measured
    with steps(context, total=3 + len(args.compare)) as progress:
        scenario = None
        compared = []
        # One engine for the baseline and every scenario's deltas, as on the Scenario page.
        engine = stages.engine(park, key) if args.scenario is not None else None
        for name in [args.scenario, *args.compare] if args.scenario is not None else []:
            progress.step(t("cli_report.report.step_scenario", lang, scenario=name))
            try:
                measured = evaluate_saved_scenario(
                    park, key, name, data_dir=context.data_dir, engine=engine
                )
            except UnknownScenarioError as error:
                raise CliError(
                    t("cli_report.report.unknown_scenario", lang, scenario=name),
                    code=ExitCode.UNKNOWN_VALUE,
                    detail=str(error),
                ) from None
            if scenario is None:
                scenario = measured
            else:
                compared.append(measured)
        progress.step(t("cli_report.report.step_content", lang))
        try:
            snapshot = build_snapshot(
                park,
                key,
                lang=lang,
                data_dir=context.data_dir,
                window=window,
                enterprise_id=args.enterprise,
                scenario=scenario,
                compared=compared,
                travel=None if engine is None else engine.result,
            )
        except UnknownEnterpriseError:
            raise CliError(
                t(
                    "cli_report.report.unknown_enterprise",
                    lang,
                    enterprise=args.enterprise,
                    park=args.park,
                ),
                code=ExitCode.UNKNOWN_VALUE,
            ) from None
        progress.step(t("cli_report.report.step_write", lang, format=args.format.upper()))
        data = write_snapshot(snapshot, args.format, assets_dir=ASSETS_DIR)
    write_bytes(data, out, context)
    record_export(
        context.data_dir, context.scope, "snapshot", out.name, park_id=args.park,
        format=args.format, enterprise=args.enterprise, scenario=args.scenario, lang=lang,
        compare=", ".join(args.compare) or None,
    )  # fmt: skip
    context.note(t("cli_report.report.done", lang, path=str(out), version=snapshot.version_hash))
    return ExitCode.OK


# As the Reports page: planners and admins export any snapshot, HR only one of its own
# enterprises — refused where the data is read (the run key's user scope, require_snapshot_scope).
COMMAND = Command(
    name="report",
    configure=_configure,
    run=_run,
    order=50,
    texts="cli_report",
    permission=Permission.EXPORT,
)
