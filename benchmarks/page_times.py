"""Cold and warm page times in a browser: how long each page takes to show on a fresh server.

    .venv/bin/python -m benchmarks.page_times            # every page, writes results/page_times.*
    .venv/bin/python -m benchmarks.page_times --pages enterprise,gaps --repeats 1

For each page and repeat:

- **cold**: a new server started as ``make run`` starts it (``serve.py``: the app's modules and
  default park loaded before the port opens) with an empty data directory (nothing on disk,
  every in-memory cache empty), one browser visit straight to the page's URL;
- **warm**: the same, but the data directory already holds the pipeline results a previous
  server stored (``retention.pipeline.warm``): a restart;
- **warm_plain**: the warm restart on plain ``streamlit run app.py`` (no preload), to show what
  ``serve.py``'s preload takes off a page view.

The time is from the browser's navigation to the page's last change before it stayed unchanged
for 1 s with its own title shown and Streamlit's script state ``notRunning``, so it includes the
server's work and the browser's drawing, not the server's start-up (measured apart: from the
process start to ``/_stcore/health`` answering, with the server's CPU seconds until then). The
background warm-up (``ui.warmup``) is on, as in production. Debian chromium via Playwright,
offline (requests to other hosts are aborted), as the browser tests run it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, new_offline_page, serve_app

RESULTS = Path(__file__).resolve().parent / "results"
PAGES = (
    "overview",
    "map",
    "data",
    "survey",
    "enterprise",
    "gaps",
    "scenario",
    "reports",
    "compare",
    "assumptions",
    "audit",
)
POLL_SECONDS = 0.1
TIMEOUT_SECONDS = 300.0

STABLE_SECONDS = 1.0

_STATE = """() => {
  const title = document.querySelector('h1');
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  return {
    title: title ? title.innerText.trim() : '',
    // Streamlit's own script state on the app root: "notRunning" once the script has finished.
    running: (document.querySelector('[data-testid="stApp"]') || document.body)
      .getAttribute('data-test-script-state') !== 'notRunning',
    error: document.querySelector('[data-testid="stException"]') !== null,
    text: main.innerText.length + ':' + main.querySelectorAll('*').length,
  };
}"""


def _server_cpu_seconds(url: str) -> float:
    """Return the CPU seconds (user + system) used so far by the app server serving ``url``."""
    port = url.rsplit(":", 1)[1]
    ticks = os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
            if b"--server.port" in command and command[command.index(b"--server.port") + 1] == (
                port.encode()
            ):
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, ValueError, IndexError):
            continue
    raise RuntimeError(f"no app server process found for {url}")


def time_page(browser: object, url: str, title: str) -> tuple[float, bool]:
    """Return (seconds until the page at ``url`` has finished showing, whether it raised).

    Finished: its own title is shown, the app root's ``data-test-script-state`` is
    ``notRunning`` and the page has not changed for :data:`STABLE_SECONDS`; the time is that of
    its last change.
    """
    page, _ = new_offline_page(browser)
    start = time.perf_counter()
    page.goto(url, wait_until="commit")  # type: ignore[attr-defined]
    last_text, changed_at = None, start
    while time.perf_counter() - start < TIMEOUT_SECONDS:
        state = page.evaluate(_STATE)  # type: ignore[attr-defined]
        now = time.perf_counter()
        if state["text"] != last_text or state["running"] or state["title"] != title:
            last_text, changed_at = state["text"], now
        elif now - changed_at >= STABLE_SECONDS:
            page.context.close()  # type: ignore[attr-defined]
            return changed_at - start, bool(state["error"])
        time.sleep(POLL_SECONDS)
    shot = RESULTS / f"timeout-{url.rsplit('/', 1)[-1]}.png"
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)  # type: ignore[attr-defined]
    page.context.close()  # type: ignore[attr-defined]
    raise TimeoutError(
        f"{url} did not finish within {TIMEOUT_SECONDS:.0f} s; last state {state}; "
        f"screenshot {shot.name}"
    )


MODES = ("cold", "warm", "warm_plain")
"""Cold start and warm restart on ``serve.py`` (the run command), and the warm restart on plain
``streamlit run app.py`` (no preload) for comparison."""
MODE_TITLES = {
    "cold": "cold s (server CPU s)",
    "warm": "warm restart s (server CPU s)",
    "warm_plain": "warm restart, plain `streamlit run` s (server CPU s)",
}


def _priority() -> str:
    """Return how this process is scheduled (the README notes real-time runs)."""
    if os.sched_getscheduler(0) == os.SCHED_RR:
        return f"real-time round-robin priority {os.sched_getparam(0).sched_priority}"
    return "normal priority"


def measure(pages: tuple[str, ...], repeats: int) -> dict[str, object]:
    """Return cold and warm seconds per page (``repeats`` fresh servers each), and start-ups."""
    from playwright.sync_api import sync_playwright

    from retention.i18n import t

    titles = {name: t(f"{name}.title", "en") for name in pages}

    os.environ["PARKLIFE_BACKGROUND_WARMUP"] = "1"
    results: dict[str, dict[str, list[float]]] = {
        p: {key: [] for mode in MODES for key in (mode, mode + "_cpu")} for p in pages
    }
    startups: dict[str, list[float]] = {
        key: [] for key in ("serve", "serve_cpu", "plain", "plain_cpu")
    }
    errors: list[str] = []
    load_before = os.getloadavg()
    with (
        tempfile.TemporaryDirectory() as scratch,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        root = Path(scratch)
        warm_dir = root / "warm-data"

        def run(mode: str, page_name: str, repeat: int) -> None:
            data_dir = root / f"cold-{page_name}-{repeat}" if mode == "cold" else warm_dir
            preload = mode != "warm_plain"
            started = time.perf_counter()
            with serve_app(
                data_dir, root / f"{mode}-{page_name}-{repeat}.log", preload=preload
            ) as url:
                startup = time.perf_counter() - started
                startup_cpu = _server_cpu_seconds(url)
                try:
                    seconds, failed = time_page(browser, f"{url}/{page_name}", titles[page_name])
                except TimeoutError as error:  # recorded, and the run goes on
                    errors.append(f"{mode} {page_name} (repeat {repeat + 1}): {error}")
                    print(errors[-1], flush=True)
                    return
                cpu = _server_cpu_seconds(url) - startup_cpu
            launcher = "serve" if preload else "plain"
            startups[launcher].append(startup)
            startups[launcher + "_cpu"].append(startup_cpu)
            results[page_name][mode].append(seconds)
            results[page_name][mode + "_cpu"].append(cpu)
            if failed:
                errors.append(f"{mode} {page_name}")
            print(
                f"{mode} {page_name}: {seconds:.2f} s, server CPU {cpu:.2f} s "
                f"(start-up {startup:.1f} s, {startup_cpu:.1f} s CPU)",
                flush=True,
            )

        for repeat in range(repeats):
            for page_name in pages:
                run("cold", page_name, repeat)
        # Fill the warm data directory as a user would: visit every page once, let the
        # background warm-up finish, stop the server.
        with serve_app(warm_dir, root / "fill.log") as url:
            for page_name in pages:
                time_page(browser, f"{url}/{page_name}", titles[page_name])
        for repeat in range(repeats):
            for mode in ("warm", "warm_plain"):
                for page_name in pages:
                    run(mode, page_name, repeat)
        browser.close()
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "priority": _priority(),
        "repeats": repeats,
        "pages": results,
        "startup": startups,
        "errors": errors,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


def markdown(report: dict[str, object]) -> str:
    """Return the results as the README's table (medians of the repeats, seconds)."""
    lines = [
        "| page | " + " | ".join(MODE_TITLES[mode] for mode in MODES) + " |",
        "| --- |" + " ---: |" * len(MODES),
    ]
    pages = report["pages"]
    assert isinstance(pages, dict)
    for name, times in pages.items():
        cells = [
            f"{statistics.median(times[mode]):.1f} ({statistics.median(times[mode + '_cpu']):.1f})"
            if times[mode]
            else "–"
            for mode in MODES
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    startup = report["startup"]
    assert isinstance(startup, dict)
    lines.append("")
    median = {name: statistics.median(values) for name, values in startup.items()}
    lines.append(
        "Server start-up to healthy (median, not in the page times): `serve.py` "
        f"{median['serve']:.1f} s ({median['serve_cpu']:.1f} s CPU), plain `streamlit run` "
        f"{median['plain']:.1f} s ({median['plain_cpu']:.1f} s CPU)."
    )
    before, after = report["load_average_before"], report["load_average_after"]
    lines.append("")
    lines.append(
        f"{report['machine']}; {report['priority']}; {report['repeats']} repeat(s); load average "
        f"(1 min) before / after the run {before[0]:.1f} / {after[0]:.1f} (other work on the "  # type: ignore[index]
        f"machine); pages that raised or did not finish: {', '.join(report['errors']) or 'none'}."  # type: ignore[arg-type]
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated page paths")
    parser.add_argument("--repeats", type=int, default=1, help="fresh servers per page and mode")
    args = parser.parse_args()
    pages = tuple(p for p in args.pages.split(",") if p)
    unknown = sorted(set(pages) - set(PAGES))
    if unknown:
        parser.error(f"unknown page(s) {unknown}; expected some of {', '.join(PAGES)}")
    report = measure(pages, args.repeats)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "page_times.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    table = markdown(report)
    (RESULTS / "page_times.md").write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
