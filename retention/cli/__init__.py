"""The ``parklife`` command line: the pipeline's numbers without a browser.

``parklife`` (a ``[project.scripts]`` entry point) and ``python -m retention`` both run
:func:`main`. Each sub-command lives in its own module of this package and registers itself by
defining ``COMMAND`` (a :class:`retention.cli._command.Command`); :func:`main` finds every public
module here, so adding a sub-command is adding one file (see ``parks.py`` for the smallest one).
Private modules (``_*.py``) hold what the sub-commands share: the parser, the exit codes, the
argument checks (``_arguments``), the output helpers (``_output``: tables, progress, safe files).

To add a sub-command: write ``retention/cli/<name>.py`` with ``configure`` (add its arguments,
help texts from the catalogue), ``run`` (import heavy modules inside it; return an ``ExitCode``,
raise ``CliError`` for a user's mistake) and ``COMMAND = Command(name, configure, run,
texts="cli_<area>")``; put its texts in ``retention/locales/cli_<area>.json``; add its tests.

Every message comes from the catalogue (``retention/locales/cli*.json``) in English or Chinese
(``--lang``, default from ``LC_ALL``/``LC_MESSAGES``/``LANG``).
"""

from __future__ import annotations

from retention.cli._main import main

__all__ = ["main"]
