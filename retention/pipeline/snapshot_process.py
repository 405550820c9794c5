"""Write a snapshot file in a separate process, so that a server's other sessions keep running.

A PDF or PowerPoint snapshot draws its maps with matplotlib, its charts with kaleido and lays
pages out with reportlab or python-pptx: seconds of CPU under the interpreter lock, which every
session of a Streamlit server shares. :func:`write_snapshot_in_subprocess` hands the finished
content to ``python -m retention.pipeline.snapshot_process`` and waits (waiting releases the
lock), passing the worker's steps on to a progress callback. A failure in the worker is raised
here as :class:`SnapshotWriteError` naming the format, the worker's error type and message; its
traceback is kept in ``detail`` for the server log. Nothing is swallowed.

A plain subprocess rather than a multiprocessing pool: the spawn and forkserver start methods
re-import the parent's ``__main__``, which under Streamlit's AppTest is a page script.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path

import retention
from retention.errors import SnapshotWriteError
from retention.report.pictures import Progress
from retention.report.snapshot import Snapshot, SnapshotFormat

SUBPROCESS_FORMATS: frozenset[SnapshotFormat] = frozenset({SnapshotFormat.PDF, SnapshotFormat.PPTX})
"""Formats worth a process of their own (seconds of CPU); Excel and HTML take a fraction of one."""

TIMEOUT_SECONDS = 900.0
"""A worker still running after this long is stopped (a hung Chromium under kaleido)."""

_INPUT = "input.pickle"
_OUTPUT = "output.bin"
_ERROR = "error.json"
_LOG = "worker.log"


def write_snapshot_in_subprocess(
    snapshot: Snapshot,
    fmt: SnapshotFormat | str,
    *,
    assets_dir: Path,
    progress: Progress | None = None,
    timeout_seconds: float = TIMEOUT_SECONDS,
) -> bytes:
    """Return the snapshot written as ``fmt`` by a worker process (``write_snapshot`` there).

    Parameters
    ----------
    snapshot
        The content (``build_snapshot``); pickled to the worker.
    fmt
        A ``SnapshotFormat``.
    assets_dir
        The vendored front-end assets (HTML only).
    progress
        Called with the worker's steps (``report.pictures.Progress``), in this thread.
    timeout_seconds
        Stop the worker after this long.

    Raises
    ------
    SnapshotWriteError
        The worker failed (its error type and message), was killed, or ran out of time.
    """
    fmt = SnapshotFormat(fmt)
    with tempfile.TemporaryDirectory(prefix="parklife-snapshot-") as name:
        folder = Path(name)
        (folder / _INPUT).write_bytes(
            pickle.dumps(
                (snapshot, fmt.value, str(Path(assets_dir).resolve())),
                protocol=pickle.HIGHEST_PROTOCOL,
            )
        )
        source_root = str(Path(retention.__file__).resolve().parents[1])
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            [source_root, *filter(None, [environment.get("PYTHONPATH")])]
        )
        expired = threading.Event()
        with (
            (folder / _LOG).open("wb") as log,
            subprocess.Popen(
                [sys.executable, "-m", __name__, str(folder)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=environment,
                cwd=source_root,
            ) as worker,
        ):

            def stop() -> None:
                expired.set()
                worker.kill()

            timer = threading.Timer(timeout_seconds, stop)
            timer.start()
            try:
                for line in worker.stdout or ():
                    _report(line, progress)
                code = worker.wait()
            finally:
                timer.cancel()
                if worker.poll() is None:  # this thread was interrupted: leave no worker behind
                    worker.kill()
        return _result(
            folder, fmt, code, timed_out=expired.is_set(), timeout_seconds=timeout_seconds
        )


def _report(line: bytes, progress: Progress | None) -> None:
    if progress is None:
        return
    try:
        step = json.loads(line)
        values = (str(step["step"]), int(step["done"]), int(step["total"]))
    except (ValueError, KeyError, TypeError):
        return  # a stray line printed by a library in the worker is not a step
    progress(*values)


def _result(
    folder: Path, fmt: SnapshotFormat, code: int, *, timed_out: bool, timeout_seconds: float
) -> bytes:
    log = (folder / _LOG).read_text(encoding="utf-8", errors="replace")
    what = f"writing the {fmt.value.upper()} snapshot in its worker process"
    if code == 0 and (folder / _OUTPUT).is_file():
        return (folder / _OUTPUT).read_bytes()
    if (folder / _ERROR).is_file():
        error = json.loads((folder / _ERROR).read_text(encoding="utf-8"))
        raise SnapshotWriteError(f"{what} failed: {error['type']}: {error['message']}", detail=log)
    if timed_out:
        raise SnapshotWriteError(
            f"{what} took longer than {timeout_seconds:.0f} s and was stopped", detail=log
        )
    last = log.strip().splitlines()[-1:] or ["no output"]
    raise SnapshotWriteError(f"{what} ended with exit code {code}: {last[0]}", detail=log)


def _worker(folder: Path) -> int:
    """Run in the worker: read the content, write the file, report steps on stdout."""
    from retention.pipeline.snapshot import write_snapshot

    def step(name: str, done: int, total: int) -> None:
        print(json.dumps({"step": name, "done": done, "total": total}), flush=True)

    try:
        # Written by the parent process a moment ago in its own temporary folder.
        snapshot, fmt, assets_dir = pickle.loads((folder / _INPUT).read_bytes())
        data = write_snapshot(snapshot, fmt, assets_dir=Path(assets_dir), progress=step)
        partial = folder / (_OUTPUT + ".part")
        partial.write_bytes(data)
        partial.replace(folder / _OUTPUT)
    except Exception as error:  # reported to the parent, which raises it: not swallowed
        (folder / _ERROR).write_text(
            json.dumps({"type": type(error).__name__, "message": str(error)}), encoding="utf-8"
        )
        traceback.print_exc()
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m retention.pipeline.snapshot_process FOLDER``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m retention.pipeline.snapshot_process FOLDER", file=sys.stderr)
        return 2
    return _worker(Path(args[0]))


if __name__ == "__main__":
    sys.exit(main())
