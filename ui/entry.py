"""Make every page run through ``app.py``, even on a freshly started server.

Streamlit treats a ``pages/`` folder next to the entry script as a legacy (v1) multipage app until
``st.navigation`` has run once in the process: the first session's pages then run on their own,
without ``app.py`` — no shared state, no sidebar, a menu of file names. Each page and ``app.py``
call :func:`require_app_navigation` first; in that legacy state it switches Streamlit to
``st.navigation`` mode and reruns, so the same URL is served by ``app.py``'s navigation.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from retention.i18n import t
from retention.storage.park import ParkData
from ui import auth, cached, state
from ui.notices import synthetic_notice
from ui.store_check import require_usable_store


def require_app_navigation() -> None:
    """Rerun through ``app.py`` if Streamlit is still in its legacy pages-folder mode.

    ``PagesManager.uses_pages_directory`` is the flag ``st.navigation`` itself clears (Streamlit
    1.67, ``commands/navigation.py``); a browser test on a fresh server pins this behaviour. On a
    server the flag never returns once cleared, so this reruns at most once per process. AppTest
    resets the flag before every run; rerunning there each time would swallow button clicks, so a
    session reruns only once and later runs just clear the flag.

    The configured store must open first (``ui.store_check``: a database at an older schema
    version names the upgrade command and stops the run).

    A page that runs on its own (not through ``app.py``) still requires a signed-in user: it
    draws the sign-in form and stops otherwise (``ui.auth.require_sign_in``), so no path to a
    page skips the sign-in.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if not st.session_state.get(state.LEGACY_RERUN_DONE, False):
            st.session_state[state.LEGACY_RERUN_DONE] = True
            st.rerun()
    require_usable_store()  # an older database schema says so here, before any sign-in
    if state.signed_in() is None:
        auth.require_sign_in()
    state.relabel_widgets()  # after a language switch, every widget in the new language


def page_park(page: str, *, no_park: str | None = None) -> ParkData:
    """Show the page's title and return the sidebar's park, noting synthetic demo data.

    Without a park the page shows its ``no_park`` message (default ``"<page>.no_park"``) and
    stops there.
    """
    lang = state.lang()
    park = cached.current_park()
    st.title(t(f"{page}.title", lang))
    if park is None:
        st.info(t(no_park or f"{page}.no_park", lang))
        st.stop()
    synthetic_notice(park)
    return park
