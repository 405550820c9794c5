"""Unexpected errors: a short reference for the user, the traceback in the server log.

``client.showErrorDetails`` is ``"none"`` in ``.streamlit/config.toml``, so Streamlit never shows
a traceback (server paths, file names, values) to a visitor. An error no page handled is logged
with a short random reference id and the page shows only that id, in the visitor's language, so
an administrator can find the traceback (``grep <id>`` in the server log). Developers who run with
``--client.showErrorDetails full`` get Streamlit's own error display instead: the exception is
re-raised. Streamlit's control flow (``st.rerun``, ``st.stop``) derives from ``BaseException``
and passes through untouched.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import streamlit as st
from streamlit.logger import get_logger

from retention.i18n import t
from ui import state

LOGGER = get_logger("parklife")
_SHOWN = frozenset({"full", "stacktrace", "type", "true", "True", True})


def run_reporting_errors(run: Callable[[], object], *, where: str) -> None:
    """Call ``run``; on an unexpected error, log it with a reference id and show only the id.

    Parameters
    ----------
    run
        The page to run (``st.navigation(...).run``).
    where
        What was running (the page's URL path), written to the log.
    """
    try:
        run()
    except Exception as error:
        if st.get_option("client.showErrorDetails") in _SHOWN:
            raise
        reference = secrets.token_hex(4)
        LOGGER.exception(
            "error reference %s on page %r: %s", reference, where, type(error).__name__
        )
        st.error(t("security.error_reference", state.lang(), reference=reference))
