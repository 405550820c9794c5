"""Before any page: the configured store must open, or the app says why and stops.

A PostgreSQL database whose ParkLife schema is older than this code needs (after an update of
ParkLife) would otherwise fail on the first page with only an error reference: the app names
both versions and the command an administrator runs (``parklife db upgrade``). Any other
unusable store setting (an unreachable server, a bad URL) is logged with a reference id for the
administrator; visitors see the id, not the server's address. The check is not cached: once the
database is upgraded, the next run of any session opens it.
"""

from __future__ import annotations

import secrets

import streamlit as st

from retention.errors import SchemaVersionError, StoreConfigurationError
from retention.i18n import t
from ui import cached, state
from ui.errors import LOGGER

UPGRADE_COMMAND = "parklife db upgrade"


def require_usable_store() -> None:
    """Open the configured store (``ui.cached.store``); on failure, explain and stop the run."""
    lang = state.lang()
    try:
        cached.store()
    except SchemaVersionError as error:
        st.title(t("store_check.title", lang))
        if error.found < error.needed:
            st.error(t("store_check.older", lang, found=error.found, needed=error.needed))
            st.code(UPGRADE_COMMAND, language="bash")
        else:
            st.error(t("store_check.newer", lang, found=error.found, needed=error.needed))
        st.stop()
    except StoreConfigurationError as error:
        reference = secrets.token_hex(4)
        LOGGER.error("error reference %s: the store cannot be opened: %s", reference, error)
        st.title(t("store_check.title", lang))
        st.error(t("store_check.unusable", lang, reference=reference))
        st.stop()
