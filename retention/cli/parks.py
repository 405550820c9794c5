"""``parklife parks``: list the parks — bundled demo parks and parks made of uploads."""

from __future__ import annotations

import argparse
import json

from retention.cli._command import Command, Context, ExitCode
from retention.cli._output import format_table
from retention.i18n import label, t

_COUNTED = ("enterprises", "residences", "amenities")


def _configure(parser: argparse.ArgumentParser, lang: str) -> None:
    parser.add_argument("--json", action="store_true", help=t("cli.parks.json", lang))


def _run(args: argparse.Namespace, context: Context) -> int:
    from retention.storage.park import list_parks, load_park

    store = context.store().uploads
    rows = []
    for park_id in list_parks(uploads=store):
        park = load_park(park_id, uploads=store)
        counts = {kind: len(park.layer(kind)) for kind in _COUNTED}
        rows.append(
            {
                "id": park_id,
                "name": park.name(context.lang),
                "synthetic": park.synthetic,
                "uploads": len(store.list_uploads(park_id)),
                **counts,
            }
        )
    if args.json:
        context.say(json.dumps(rows, ensure_ascii=False, indent=1))
        return ExitCode.OK
    if not rows:
        context.say(t("cli.parks.none", context.lang, data_dir=str(context.data_dir)))
        return ExitCode.OK
    lang = context.lang
    yes, no = t("cli.yes", lang), t("cli.no", lang)
    headers = [
        t("cli.parks.col.id", lang),
        t("cli.parks.col.name", lang),
        t("cli.parks.col.synthetic", lang),
        t("cli.parks.col.uploads", lang),
        *(label("layer", kind, lang) for kind in _COUNTED),
    ]
    table = [
        [row["id"], row["name"], yes if row["synthetic"] else no, row["uploads"]]
        + [row[kind] for kind in _COUNTED]
        for row in rows
    ]
    context.say(format_table(headers, table))
    return ExitCode.OK


COMMAND = Command(name="parks", configure=_configure, run=_run, order=10)
