"""Render a benchmark results document (``latest.json``) as a markdown table."""

from __future__ import annotations

from typing import Any


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.2f}"
    if value >= 0.01:
        return f"{value:.3f}"
    return f"{value * 1000:.2f} ms"


def _number(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _diff(value: float | None) -> str:
    if value is None:
        return "–"
    if value == 0:
        return "0"
    return f"{value:.1e}"


def _ratio(value: float) -> str:
    if value >= 10:
        return f"{value:.0f}×"
    if value >= 1:
        return f"{value:.1f}×"
    return f"{value:.2g}×"


def one_line(record: dict[str, Any]) -> str:
    """Summarise one implementation's record for the progress log."""
    if record.get("status") != "ok":
        reason = str(record.get("reason", "")).strip().splitlines()
        return f"{record.get('status')}: {reason[-1] if reason else ''}"
    return (
        f"build {_seconds(record['build_s']['median'])}, "
        f"query median {_seconds(record['query_s']['median'])} "
        f"(best {_seconds(record['query_s']['best'])}, {record['repeats']} repeats), "
        f"peak {_number(record.get('peak_rss_mb'), 0)} MB"
    )


def markdown(document: dict[str, Any]) -> str:
    """Return the results as markdown: machine facts, one table per case, then the targets."""
    machine = document["machine"]
    versions = document["versions"]
    lines = [
        f"Run {document['started_utc']} (scale `{document['scale']}`, up to "
        f"{document['repeats']} repeats, {document['isolation']}; whole run "
        f"{document['wall_s']:.0f} s).",
        "",
        f"Machine: {machine['nproc']} cores ({machine['cpu_model']}), "
        f"{machine['mem_total_gib']} GiB RAM, Python {machine['python']}, 1-min load average "
        f"{'→'.join(str(x) for x in machine.get('load_average_1min_start_end', []))} "
        "(start→end). "
        + ", ".join(f"{k} {v}" for k, v in versions.items() if v and k != "parklife_commit")
        + f"; ParkLife commit {versions.get('parklife_commit')}.",
        "",
    ]
    target_rows: list[str] = []
    for case in document["cases"]:
        lines.append(f"### ({case['id']}) {case['title']}")
        lines.append("")
        if case["status"] != "ok":
            reason = str(case.get("reason", "")).strip().splitlines()
            lines.append(f"**Failed:** `{reason[-1] if reason else 'unknown'}`")
            lines.append("")
            continue
        sizes = ", ".join(f"{k} {v}" for k, v in case["sizes"].items())
        lines.append(f"Inputs: {sizes}.")
        lines.append("")
        lines.append(
            "| implementation | build s | query s (median) | query s (best) | repeats "
            "| peak RSS MB | max abs diff vs "
            f"{case['reference']} | agrees | {case['reference']} speed-up (query) |"
        )
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: |")
        reference = case["implementations"][case["reference"]]
        reference_query = (
            reference["query_s"]["median"] if reference.get("status") == "ok" else None
        )
        for name, record in case["implementations"].items():
            label = f"{name}: {record.get('label', '')}"
            if record.get("status") != "ok":
                reason = str(record.get("reason", "")).strip().splitlines()
                lines.append(
                    f"| {label} | {record.get('status')}: {reason[-1] if reason else ''} "
                    "| | | | | | | |"
                )
                continue
            agreement = record.get("agreement", {})
            query = record["query_s"]["median"]
            speedup = (
                _ratio(query / reference_query)
                if reference_query and name != case["reference"]
                else "–"
            )
            agrees = agreement.get("agrees")
            lines.append(
                f"| {label} | {_seconds(record['build_s']['median'])} "
                f"| {_seconds(query)} | {_seconds(record['query_s']['best'])} "
                f"| {record['repeats']} | {_number(record.get('peak_rss_mb'), 0)} "
                f"| {_diff(agreement.get('max_abs_diff'))} "
                f"| {'–' if agrees is None else ('yes' if agrees else '**NO**')} | {speedup} |"
            )
        if len(case["implementations"]) > 1:
            lines.append("")
            lines.append(
                f"Speed-up = peer's median query time / {case['reference']}'s: above 1 the "
                f"{case['reference']} is faster, below 1 slower."
            )
        stages = reference.get("stages_s_last_repeat") or {}
        if stages:
            lines.append("")
            lines.append(
                "Stages of the last repeat: "
                + ", ".join(
                    f"{k} {v:.0f}" if k.endswith(" MB") else f"{k} {_seconds(v)} s"
                    for k, v in stages.items()
                )
                + "."
            )
        for note in case.get("notes", []):
            lines.append("")
            lines.append(f"- {note}")
        lines.append("")
        for target in case["targets"]:
            met = target["met"]
            verdict = "–" if met is None else ("met" if met else "**missed**")
            target_rows.append(
                f"| ({case['id']}) | {target['target']} | {target['measured']} | {verdict} |"
            )
    lines.append("### Targets (issue 3)")
    lines.append("")
    lines.append("| case | target | measured | verdict |")
    lines.append("| --- | --- | --- | :---: |")
    lines.extend(target_rows)
    lines.append("")
    return "\n".join(lines)
