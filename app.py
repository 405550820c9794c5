"""ParkLife 园区生活圈 — entry point: page setup, sign-in, sidebar, navigation. No computation.

Sign-in comes first (``ui.auth``): without a signed-in user no page runs; the navigation lists
only the pages the user's role may open (``ui.auth.PAGE_PERMISSIONS``).

A new page is registered by adding one ``st.Page(...)`` line to ``PAGES`` below; its title comes
from its own catalogue (``retention/locales/<page>.json``, key ``<page>.page_title``). Pages have
no ``icon=``: a page's icon becomes the browser favicon, and for ``:material/...:`` icons the
browser fetches it from fonts.gstatic.com (fails offline), while emoji need an emoji font the
intranet machines may lack. The app-wide emoji favicon below is drawn locally as an SVG.
"""

from __future__ import annotations

import streamlit as st

from retention.i18n import t
from ui import auth, state
from ui.entry import require_app_navigation
from ui.errors import run_reporting_errors
from ui.sidebar import render_sidebar

require_app_navigation()

st.set_page_config(
    page_title=f"{t('common.app_title', 'en')} {t('common.app_title', 'zh')}",
    page_icon="🏭",
    layout="wide",
)
state.init_state()
# Nobody reaches a page, a download or a query parameter before signing in (ui.auth).
user = auth.require_sign_in()
state.restore_from_url()  # a reload or a shared link: the language, background and park
state.relabel_widgets()  # the language is settled: after a switch, relabel before any widget
lang = state.lang()

# fmt: off
PAGES = [
    st.Page("pages/overview.py", title=t("overview.page_title", lang), url_path="overview", default=True),  # noqa: E501
    st.Page("pages/map.py", title=t("map.page_title", lang), url_path="map"),
    st.Page("pages/data.py", title=t("data.page_title", lang), url_path="data"),
    st.Page("pages/survey.py", title=t("survey.page_title", lang), url_path="survey"),
    st.Page("pages/enterprise.py", title=t("enterprise.page_title", lang), url_path="enterprise"),
    st.Page("pages/gaps.py", title=t("gaps.page_title", lang), url_path="gaps"),
    st.Page("pages/scenario.py", title=t("scenario.page_title", lang), url_path="scenario"),
    st.Page("pages/reports.py", title=t("reports.page_title", lang), url_path="reports"),
    st.Page("pages/compare.py", title=t("compare.page_title", lang), url_path="compare"),
    st.Page("pages/assumptions.py", title=t("assumptions.page_title", lang), url_path="assumptions"),  # noqa: E501
    st.Page("pages/audit.py", title=t("audit.page_title", lang), url_path="audit"),
]
# fmt: on
# Only the pages the user's role may open exist in this session (each also checks on its own).
PAGES = [p for p in PAGES if auth.may_open(user, p.url_path)]

# Hidden: ui.sidebar draws the menu itself (translated titles from the first paint, DESIGN.md).
page = st.navigation(PAGES, position="hidden")
render_sidebar(PAGES)
# An error no page handled: the user sees a reference id, the server log the traceback.
run_reporting_errors(page.run, where=page.url_path)
