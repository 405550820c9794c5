"""Signing an AppTest session in (not a test module).

The page tests run as a signed-in user, as a deployment does: ``signed_in`` puts a user in the
session before the first run (what ``ui.auth``'s sign-in form does after checking the password;
the form itself is tested in ``test_app_roles.py``). Admin by default: it may do everything the
page tests exercise (add and delete uploads and waves, save parameters).
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from retention.auth.roles import Role, UserScope
from ui import state


def signed_in(
    at: AppTest, role: Role = Role.ADMIN, enterprise_ids: tuple[str, ...] = ()
) -> AppTest:
    """Return ``at`` with a user of ``role`` (HR: of ``enterprise_ids``) signed in."""
    at.session_state[state.USER] = UserScope(f"test-{role.value}", role, enterprise_ids)
    return at


def open_page(app: str, page: str, *, lang: str = "en", timeout_seconds: float) -> AppTest:
    """Return an AppTest of ``app`` signed in as an admin, in ``lang``, switched to ``page``
    (e.g. ``"pages/survey.py"``) and run; the page raised nothing."""
    at = signed_in(AppTest.from_file(app, default_timeout=timeout_seconds))
    at.session_state[state.LANG] = lang
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at
