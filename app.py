"""ParkLife 园区生活圈 — entry point: page setup, shared sidebar, navigation. No computation here.

A new page is registered by adding one ``st.Page(...)`` line to ``PAGES`` below; its title comes
from its own catalogue (``retention/locales/<page>.json``, key ``<page>.page_title``).
"""

from __future__ import annotations

import streamlit as st

from retention.i18n import t
from ui import state
from ui.sidebar import render_sidebar

st.set_page_config(
    page_title=f"{t('common.app_title', 'en')} {t('common.app_title', 'zh')}",
    page_icon=":material/factory:",
    layout="wide",
)
state.init_state()
lang = state.lang()

# fmt: off
PAGES = [
    st.Page("pages/overview.py", title=t("overview.page_title", lang), icon=":material/dashboard:", url_path="overview", default=True),  # noqa: E501
    st.Page("pages/map.py", title=t("map.page_title", lang), icon=":material/map:", url_path="map"),
    st.Page("pages/data.py", title=t("data.page_title", lang), icon=":material/upload_file:", url_path="data"),  # noqa: E501
    st.Page("pages/survey.py", title=t("survey.page_title", lang), icon=":material/checklist:", url_path="survey"),  # noqa: E501
    st.Page("pages/enterprise.py", title=t("enterprise.page_title", lang), icon=":material/badge:", url_path="enterprise"),  # noqa: E501
    st.Page("pages/gaps.py", title=t("gaps.page_title", lang), icon=":material/travel_explore:", url_path="gaps"),  # noqa: E501
]
# fmt: on

page = st.navigation(PAGES)
render_sidebar()
page.run()
