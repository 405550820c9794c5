"""The ``parklife`` command line: the pipeline's numbers without a browser.

``parklife`` (a ``[project.scripts]`` entry point) and ``python -m retention`` both run
:func:`main`. Each sub-command lives in its own module of this package and registers itself by
defining ``COMMAND`` (a :class:`retention.cli._command.Command`); :func:`main` finds every public
module here, so adding a sub-command is adding one file (see ``parks.py`` for the smallest one).
Private modules (``_*.py``) hold what the sub-commands share: the parser, the exit codes, the
output helpers. Every message comes from the ``cli`` catalogue (``retention/locales/cli.json``) in
English or Chinese (``--lang``, default from ``LC_ALL``/``LC_MESSAGES``/``LANG``).
"""

from __future__ import annotations

from retention.cli._main import main

__all__ = ["main"]
