"""Audit log (admins): who did what, when — read from ``retention.auth.audit``, newest first."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from retention.auth.audit import AuditAction
from retention.i18n import t
from ui import auth, state
from ui.entry import require_app_navigation

require_app_navigation()

lang = state.lang()
auth.require_page("audit")
st.title(t("audit.title", lang))
st.caption(t("audit.intro", lang))
events, unreadable = auth.audit_events()
if unreadable:
    st.warning(t("audit.unreadable", lang, count=unreadable))
if not events:
    st.info(t("audit.empty", lang))
    st.stop()
actions = [a.value for a in AuditAction]
chosen = st.multiselect(
    t("audit.action_filter", lang),
    actions,
    default=actions,
    key="audit.actions",
    format_func=lambda value: t(f"audit.action.{value}", lang),
)
table = pd.DataFrame(
    {
        "time_utc": [e.time_utc for e in events],
        "user": [e.user for e in events],
        "role": [e.role for e in events],
        "action": [e.action for e in events],
        "park_id": [e.park_id for e in events],
        "detail": [json.dumps(dict(e.detail), ensure_ascii=False) for e in events],
    }
).iloc[::-1]
table = table.loc[table["action"].isin(chosen)]
table["action"] = [t(f"audit.action.{a}", lang) if a in actions else a for a in table["action"]]
st.dataframe(
    table.rename(columns={c: t(f"audit.col.{c}", lang) for c in table.columns}),
    hide_index=True,
    key="audit.table",
)
