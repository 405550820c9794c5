"""Serve ParkLife: load what the first visitor would wait for, then start Streamlit.

    .venv/bin/python serve.py                         # as `streamlit run app.py`
    .venv/bin/python serve.py --server.port 8502      # any `streamlit run` option

Streamlit runs ``app.py`` and the pages inside this process, so modules imported here before the
server starts are already loaded when the first visitor arrives. Without this, the first page
view of a fresh server paid for importing the app's modules (pandas, geopandas, scipy.stats,
plotly, folium, the whole of ``retention``): about 3 s of CPU, several times that in wall time on
a busy machine (benchmarks/README.md, "Page times in a browser"). Here the server's port opens
only once that is done, so a health check (``/_stcore/health``) says ready when the app is.

What is loaded (:func:`preload`): every module ``app.py``, ``pages/*.py`` and ``ui/*.py`` import
(read from their source, so a new page's imports are included without a list to keep), the few
modules Streamlit itself imports on a page's first run, and the default park's layers into the
app's park cache (``ui.cached.park``). Results a park's pages need (travel times, survey, model)
are not loaded here: after a restart the pages read them from the results cache on disk
(``retention.pipeline.warm``), and the sidebar's background warm-up (``ui.warmup``) computes what
is missing.

Developers: ``PARKLIFE_PROFILE_DIR=/some/dir`` profiles every script run with cProfile into
``<dir>/run-<n>-<page>.prof`` (``<page>``: the start of Streamlit's page script hash; read them
with ``python -m pstats``); ``PARKLIFE_PRELOAD=0`` starts without preloading.
"""

from __future__ import annotations

import ast
import cProfile
import importlib
import importlib.util
import itertools
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent
APP = REPO / "app.py"
PROFILE_DIR_VARIABLE = "PARKLIFE_PROFILE_DIR"
PRELOAD_VARIABLE = "PARKLIFE_PRELOAD"
"""``0``: start without preloading (developers restarting often; the tests' counter-check)."""
STREAMLIT_MODULES = ("streamlit.emojis",)
"""Imported by Streamlit on a session's first run (``st.set_page_config``'s emoji favicon)."""


def app_modules(repo: Path = REPO) -> list[str]:
    """Return the absolute modules ``app.py``, ``pages/*.py`` and ``ui/*.py`` import, sorted.

    Read from the source (module level and inside functions), so the list follows the pages;
    ``from ui import cached`` names the module ``ui.cached`` (a name that is not a submodule,
    as in ``from pandas import DataFrame``, names only its module). Finding a submodule imports
    its parent packages.
    """
    names: set[str] = set()
    sources = [repo / "app.py", *sorted((repo / "pages").glob("*.py"))]
    for path in [*sources, *sorted((repo / "ui").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
                names.update(
                    f"{node.module}.{alias.name}"
                    for alias in node.names
                    if _is_submodule(node.module, alias.name)
                )
    names.discard("__future__")
    return sorted(names)


def _is_submodule(package: str, name: str) -> bool:
    if package == "__future__":
        return False
    parent = importlib.import_module(package)
    if not hasattr(parent, "__path__"):  # a module, not a package: ``name`` is in it
        return False
    return importlib.util.find_spec(f"{package}.{name}") is not None


@dataclass(frozen=True)
class Preloaded:
    """What :func:`preload` loaded, and the seconds it took (wall and this process's CPU)."""

    modules: tuple[str, ...]
    park_id: str | None
    wall_seconds: float
    cpu_seconds: float


class _ErrorsOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR


@contextmanager
def _quiet_bare_mode() -> Iterator[None]:
    # Before the server starts there is no Streamlit runtime: each st.cache_data decorator logs
    # "No runtime found, using MemoryCacheStorageManager" (its parameters are checked against an
    # in-memory store; the cache itself is created on first use, under the runtime) and a module
    # that touches st.* logs "missing ScriptRunContext". Both are expected here and only here.
    from streamlit.runtime.caching import cache_data_api
    from streamlit.runtime.scriptrunner_utils import script_run_context

    # A filter, not a level: Streamlit resets its loggers' levels when it reads its config.
    loggers = [
        logging.getLogger(cache_data_api.__name__),
        logging.getLogger(script_run_context.__name__),
    ]
    quiet = _ErrorsOnly()
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)


def preload(*, repo: Path = REPO, park: bool = True) -> Preloaded:
    """Import the app's modules and load the default park, as the first page view would.

    Parameters
    ----------
    repo
        The checkout whose ``app.py``, ``pages/`` and ``ui/`` are scanned (this one).
    park
        Also load the first park the sidebar offers into ``ui.cached``'s park cache.

    Returns
    -------
    Preloaded
        The modules imported, the park loaded (``None``: none) and the time taken.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    park_id = None
    with _quiet_bare_mode():
        modules = (*app_modules(repo), *STREAMLIT_MODULES)
        for name in modules:
            importlib.import_module(name)
        if park:
            park_id = load_default_park()
    return Preloaded(
        modules=modules,
        park_id=park_id,
        wall_seconds=time.perf_counter() - wall,
        cpu_seconds=time.process_time() - cpu,
    )


def load_default_park() -> str | None:
    """Load the park the sidebar selects first into ``ui.cached``'s park cache; return its id.

    The same ``st.cache_resource`` entry ``ui.cached.park`` fills; nothing else is cached. When
    the store cannot be opened or the park cannot be loaded (``ParkLifeError``: an unreachable
    database, a damaged upload), nothing is loaded and the reason is printed: the server starts
    anyway and the pages report the error where it concerns the user, as without a preload.
    """
    from retention.errors import ParkLifeError
    from retention.storage.park import list_parks
    from ui import cached

    try:
        park_ids = [str(item) for item in list_parks(uploads=cached.store().uploads)]
        return cached.park(park_ids[0]).park_id if park_ids else None
    except ParkLifeError as error:
        print(f"ParkLife: no park loaded in advance: {error}", file=sys.stderr, flush=True)
        return None


def _profile_script_runs(directory: Path) -> None:
    """Profile every script run of this server into ``directory`` (developers only)."""
    from streamlit.runtime.scriptrunner import script_runner

    directory.mkdir(parents=True, exist_ok=True)
    run = script_runner.exec_func_with_error_handling
    counter = itertools.count()

    def profiled(func: Callable[[], Any], ctx: Any) -> Any:
        profile = cProfile.Profile()
        profile.enable()
        try:
            return run(func, ctx)
        finally:
            profile.disable()
            page = str(getattr(ctx, "page_script_hash", ""))[:8] or "app"
            profile.dump_stats(directory / f"run-{next(counter):03d}-{page}.prof")

    script_runner.exec_func_with_error_handling = profiled


def main(argv: list[str] | None = None) -> None:
    """Preload (:func:`preload`), then run ``streamlit run app.py`` with ``argv``'s options."""
    from streamlit.web import cli

    arguments = sys.argv[1:] if argv is None else argv
    if os.environ.get(PRELOAD_VARIABLE, "1") != "0":
        loaded = preload()
        print(
            f"ParkLife: {len(loaded.modules)} modules and park {loaded.park_id or '-'} loaded in "
            f"{loaded.wall_seconds:.1f} s ({loaded.cpu_seconds:.1f} s CPU); starting the server",
            flush=True,
        )
    profile_dir = os.environ.get(PROFILE_DIR_VARIABLE, "")
    if profile_dir:
        _profile_script_runs(Path(profile_dir))
    sys.argv = ["streamlit", "run", str(APP), *arguments]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":  # the engine's helper processes re-import this file: keep the guard
    main()
