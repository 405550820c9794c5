"""Sign-in before any page, the signed-in user's pages, and audit lines for what pages do.

Accounts come from the accounts file (``retention.auth.accounts``; the first admin is created
with ``parklife users add NAME --role admin``). ``PARKLIFE_AUTH=local`` is the explicit
single-user mode for a laptop (``make run`` sets it): everyone who can open the app is the
``local`` admin. Any other value, or none, requires a sign-in (``retention.auth.deployment``,
which the ``parklife`` command follows too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from retention.auth import accounts, audit
from retention.auth.deployment import AUTH_ENV as AUTH_ENV  # tests switch the mode by name
from retention.auth.deployment import LOCAL_USER, local_mode
from retention.auth.export_audit import export_detail, record_export
from retention.auth.roles import Permission, UserScope
from retention.errors import AuthenticationError
from retention.i18n import t
from retention.survey.disclosure import allowed_breakdowns
from ui import state

FORM_KEY = "auth.form"
USER_KEY = "auth.user"
PASSWORD_KEY = "auth.password"
SUBMIT_KEY = "auth.submit"
SIGN_OUT_KEY = "auth.sign_out"
ERROR_KEY = "auth.error"


def _sign_in() -> None:
    name = str(st.session_state.get(USER_KEY, "")).strip()
    password = str(st.session_state.get(PASSWORD_KEY, ""))
    st.session_state[PASSWORD_KEY] = ""  # never kept in the session
    try:
        user = accounts.authenticate(accounts.accounts_path(state.data_dir()), name, password)
    except AuthenticationError:
        st.session_state[ERROR_KEY] = True
        return
    state.set_scope(user)
    audit.record(state.data_dir(), user, audit.AuditAction.SIGN_IN)


def sign_out() -> None:
    """Sign the session's user out (button callback)."""
    state.set_scope(None)


def require_sign_in() -> UserScope:
    """Return the signed-in user; otherwise draw the sign-in form and stop the run.

    Runs in ``app.py`` before navigation, so no page, download or query parameter is reached
    without a user.
    """
    if local_mode():
        state.set_scope(LOCAL_USER)
    user = state.signed_in()
    if user is not None:
        return user
    lang = state.lang()
    st.title(t("auth.title", lang))
    path = accounts.accounts_path(state.data_dir())
    if not accounts.load_accounts(path):
        st.info(t("auth.no_accounts", lang))
        st.code("parklife users add NAME --role admin", language="bash")
        st.stop()
    with st.form(FORM_KEY):
        st.text_input(t("auth.user", lang), key=USER_KEY)
        st.text_input(t("auth.password", lang), type="password", key=PASSWORD_KEY)
        st.form_submit_button(t("auth.submit", lang), on_click=_sign_in, type="primary")
    if st.session_state.pop(ERROR_KEY, False):
        st.error(t("auth.failed", lang))
    st.stop()
    raise AssertionError("unreachable: st.stop() ends the run")  # pragma: no cover


def record(
    action: audit.AuditAction, *, park_id: str = "", detail: Mapping[str, object] | None = None
) -> None:
    """Append an audit line for the signed-in user (downloads, parameter saves, ...)."""
    audit.record(state.data_dir(), state.scope(), action, park_id=park_id, detail=detail)


def _record_export(what: str, file_name: str, park_id: str, options: Mapping[str, Any]) -> None:
    record_export(state.data_dir(), state.scope(), what, file_name, park_id=park_id, **options)


def audited(what: str, file_name: str, *, park_id: str, **options: object) -> dict[str, Any]:
    """Return ``st.download_button`` keyword arguments that put the download in the audit log.

    ``what`` is one of ``retention.auth.export_audit.EXPORT_KINDS``; ``options`` are what
    decides the file's content (enterprise, format, ...). Use as
    ``st.download_button(label, data, file_name=name, key=..., **auth.audited(what, name, ...))``.
    """
    export_detail(state.scope(), what, file_name, **options)  # an unknown kind fails at once
    return {
        "file_name": file_name,
        "on_click": _record_export,
        "args": (what, file_name, park_id, options),
    }


PAGE_PERMISSIONS: Mapping[str, Permission] = {
    "data": Permission.ADD_UPLOAD,
    "enterprise": Permission.SURVEY_DETAIL,
    "scenario": Permission.EDIT_PARAMETERS,
    # Snapshots: planners and admins of the whole park, HR of its own enterprises only (the
    # pipeline refuses any other: retention.pipeline.snapshot.require_snapshot_scope).
    "reports": Permission.EXPORT,
    # Batch results: park-level figures of every park, expected turnover included.
    "compare": Permission.ALL_ENTERPRISES,
    "audit": Permission.VIEW_AUDIT,
}
"""Pages (by url path) only some roles may open; every other page is open to every role."""


def may_open(user: UserScope, url_path: str) -> bool:
    """Return whether ``user`` may open the page at ``url_path``."""
    permission = PAGE_PERMISSIONS.get(url_path)
    return permission is None or user.can(permission)


def require_page(url_path: str) -> UserScope:
    """Stop a page the signed-in user's role may not open (after saying so); return the user.

    ``app.py`` lists only the pages a role may open, so this is the server-side second check
    for a page reached some other way.
    """
    user = state.scope()
    if not may_open(user, url_path):
        lang = state.lang()
        st.error(t("auth.denied", lang, role=t(f"auth.role.{user.role.value}", lang)))
        st.stop()
    return user


def render_user(lang: str) -> None:
    """Draw who is signed in and the sign-out button (sidebar)."""
    user = state.scope()
    if local_mode():
        st.caption(t("auth.local_mode", lang))
        return
    role = t(f"auth.role.{user.role.value}", lang)
    st.caption(t("auth.signed_in", lang, user=user.user, role=role))
    st.button(t("auth.sign_out", lang), key=SIGN_OUT_KEY, on_click=sign_out)


def survey_breakdowns(candidates: Sequence[str]) -> list[str]:
    """Return the survey breakdowns the signed-in user may see (``disclosure.check_breakdown``)."""
    return allowed_breakdowns(state.scope(), candidates)


def audit_events() -> tuple[list[audit.AuditEvent], int]:
    """Return the audit log (oldest first) and its unreadable line count; admins only."""
    state.scope().require(Permission.VIEW_AUDIT)
    return audit.read_events(state.data_dir())
