"""Role matrix (issue 10): sign-in, what each role sees on each page and download, and an HR user
who cannot reach another enterprise's figures by any widget, URL or query parameter.

Sessions are signed in through the sign-in form (its tests) or by putting the user in session
state (``tests.app_session``), as the form does after checking the password.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

from retention.auth import accounts, audit
from retention.auth.roles import Role, UserScope
from retention.errors import AccessDeniedError
from retention.i18n import t
from retention.model.peer_benchmark import peer_benchmark
from retention.report.gap_tables import feature_names
from retention.storage.park import load_park
from tests.app_session import signed_in
from ui import auth, state

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
TIMEOUT_SECONDS = 300  # cold runs: demo park, survey import, travel times, the model fit
PASSWORD = "a long enough password"
ALL_PAGES = {
    "overview", "map", "data", "survey", "enterprise", "gaps", "scenario", "reports",
    "compare", "assumptions", "audit",
}  # fmt: skip
PAGES_OF_ROLE = {
    Role.ADMIN: ALL_PAGES,
    Role.PLANNER: ALL_PAGES - {"audit"},
    Role.HR: ALL_PAGES - {"audit", "data", "scenario", "compare"},  # reports: own firms only
    Role.VIEWER: ALL_PAGES - {"audit", "data", "enterprise", "scenario", "reports", "compare"},
}


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    monkeypatch.delenv(auth.AUTH_ENV, raising=False)
    monkeypatch.delenv(accounts.ACCOUNTS_ENV, raising=False)
    return directory


def _fresh() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS)


def _hr_firm() -> tuple[str, str]:
    """Two enterprises of the demo park that both have k+ survey respondents: own and other."""
    enterprises = load_park("jinshan").layer("enterprises")
    ids = enterprises.sort_values("employees", ascending=False)["id"].astype(str).tolist()
    return ids[0], ids[1]


def _as(role: Role, page: str | None = None, ids: tuple[str, ...] = ()) -> AppTest:
    at = signed_in(_fresh(), role, ids)
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def _page_links(at: AppTest) -> set[str]:
    """The pages the sidebar links to, by name (their titles are ``<page>.page_title``)."""
    titles = {t(f"{page}.page_title", "en"): page for page in ALL_PAGES}
    return {titles[link.proto.label] for link in at.get("page_link")}


def _texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.subheader, *at.markdown, *at.caption)]
    parts += [e.value for e in (*at.warning, *at.info, *at.success, *at.error)]
    return "\n".join(str(p) for p in parts)


# --- sign-in ---


def test_no_page_runs_before_sign_in_and_the_form_checks_the_password(data_dir: Path) -> None:
    at = _fresh().run()
    assert not at.exception
    assert at.title[0].value == t("auth.title", "en")
    assert t("auth.no_accounts", "en") in _texts(at)  # no account yet: how to create the admin
    assert at.get("page_link") == [] and not at.metric
    accounts.add_user(accounts.accounts_path(data_dir), "pat", PASSWORD, role=Role.PLANNER)
    at = _fresh().run()
    at.text_input(key=auth.USER_KEY).input("pat")
    at.text_input(key=auth.PASSWORD_KEY).input("wrong password!")
    at.button(key="FormSubmitter:auth.form-" + t("auth.submit", "en")).click().run()
    assert t("auth.failed", "en") in [e.value for e in at.error]
    assert state.USER not in at.session_state or at.session_state[state.USER] is None
    at.text_input(key=auth.USER_KEY).input("pat")
    at.text_input(key=auth.PASSWORD_KEY).input(PASSWORD)
    at.button(key="FormSubmitter:auth.form-" + t("auth.submit", "en")).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[state.USER].role is Role.PLANNER
    assert at.title[0].value == t("overview.title", "en")
    assert at.session_state[auth.PASSWORD_KEY] == ""  # the password is not kept
    events, _ = audit.read_events(data_dir)
    assert [(e.user, e.action) for e in events] == [("pat", "sign_in")]
    at.button(key=auth.SIGN_OUT_KEY).click().run()
    assert at.title[0].value == t("auth.title", "en")


def test_local_mode_is_explicit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(auth.AUTH_ENV, "local")
    at = _fresh().run()
    assert at.title[0].value == t("overview.title", "en")
    assert at.session_state[state.USER] == auth.LOCAL_USER
    assert t("auth.local_mode", "en") in _texts(at)


# --- pages each role reaches ----------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_navigation_lists_the_pages_of_the_role(role: Role) -> None:
    ids = (_hr_firm()[0],) if role is Role.HR else ()
    at = _as(role, ids=ids)
    assert not at.exception, [e.value for e in at.exception]
    assert _page_links(at) == PAGES_OF_ROLE[role]


@pytest.mark.parametrize(
    ("role", "page"),
    [
        (Role.HR, "data"),
        (Role.HR, "scenario"),
        (Role.HR, "compare"),
        (Role.VIEWER, "data"),
        (Role.VIEWER, "reports"),
        (Role.VIEWER, "enterprise"),
        (Role.PLANNER, "audit"),
    ],
)
def test_a_page_outside_the_role_is_refused_even_by_url(role: Role, page: str) -> None:
    ids = (_hr_firm()[0],) if role is Role.HR else ()
    at = _as(role, ids=ids)
    # The page is not registered in this session: its URL leads nowhere ...
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(f"pages/{page}.py")
    # ... and the page script run on its own (as Streamlit may before app.py has run) refuses.
    alone = signed_in(
        AppTest.from_file(str(REPO / "pages" / f"{page}.py"), default_timeout=TIMEOUT_SECONDS),
        role,
        ids,
    ).run()
    assert not alone.exception, [e.value for e in alone.exception]
    role_name = t(f"auth.role.{role.value}", "en")
    assert [e.value for e in alone.error] == [t("auth.denied", "en", role=role_name)]
    assert not alone.title and not alone.metric and not alone.get("download_button")


def test_admin_reads_the_audit_log(data_dir: Path) -> None:
    at = _as(Role.ADMIN, "pages/audit.py")
    assert not at.exception
    assert at.title[0].value == t("audit.title", "en")
    assert t("audit.empty", "en") in _texts(at)
    # A sign-in and a wave deletion recorded elsewhere show up, newest first.
    audit.record(data_dir, UserScope("pat", Role.PLANNER), audit.AuditAction.SIGN_IN)
    audit.record(data_dir, UserScope("ana", Role.ADMIN), audit.AuditAction.WAVE_DELETE,
                 park_id="jinshan", detail={"wave": "2024-spring"})  # fmt: skip
    at.run()
    table = at.dataframe[0].value
    assert table.iloc[:, 1].tolist() == ["ana", "pat"]
    assert t("audit.action.wave_delete", "en") in table.iloc[:, 3].tolist()


# --- survey page by role ---


@pytest.mark.slow
@pytest.mark.parametrize("role", list(Role))
def test_survey_page_detail_and_downloads_by_role(role: Role) -> None:
    own, other = _hr_firm()
    at = _as(role, "pages/survey.py", ids=(own,) if role is Role.HR else ())
    assert not at.exception, [e.value for e in at.exception]
    importer = role in (Role.ADMIN, Role.PLANNER)
    radio_keys = {r.key for r in at.radio}
    assert ("survey.source" in radio_keys) is importer  # HR and viewers import nothing
    options = at.selectbox(key="survey.group_by").options
    expected = {
        Role.ADMIN: ["age_band", "enterprise_id", "residence_id", "zone_id"],
        Role.PLANNER: ["age_band", "enterprise_id", "residence_id", "zone_id"],
        Role.HR: ["age_band", "enterprise_id"],
        Role.VIEWER: ["age_band"],
    }[role]
    assert [o for o in options] == [t(f"survey.group.{g}", "en") for g in expected]
    downloads = {d.key for d in at.get("download_button")}
    assert ("survey.download_aggregates" in downloads) is (role is not Role.VIEWER)
    if role is Role.HR:
        at.selectbox(key="survey.group_by").select("enterprise_id").run()
        # The cohort table (rows named by enterprise) has the own firm only.
        names = feature_names(load_park("jinshan").layer("enterprises"), "en")
        title = t("survey.group.enterprise_id", "en")
        [table] = [d.value for d in at.dataframe if d.value.index.name == title]
        assert list(table.index.astype(str)) == [names[own]]
        assert names[other] not in table.to_string() and other not in table.to_string()


# --- enterprise page: an HR user and another firm ----------------------------------------------


@pytest.mark.slow
def test_hr_sees_only_its_own_enterprise_by_widget_url_or_query(data_dir: Path) -> None:
    own, other = _hr_firm()
    at = _as(Role.HR, "pages/enterprise.py", ids=(own,))
    assert not at.exception, [e.value for e in at.exception]
    box = at.selectbox(key="enterprise.id")
    assert box.options == [box.format_func(own)] if hasattr(box, "format_func") else True
    assert box.value == own and len(box.options) == 1
    # A query parameter or a forged widget value does not switch the firm ...
    at.query_params["enterprise.id"] = other
    at.query_params["enterprise"] = other  # the kept choice's parameter (ui.state)
    at.run()
    assert at.selectbox(key="enterprise.id").value == own
    # ... not even in a new session opened on that URL (a choice outside the options is ignored)
    opened = signed_in(_fresh(), Role.HR, (own,))
    opened.query_params["enterprise"] = other
    opened.run()
    opened.switch_page("pages/enterprise.py").run()
    assert opened.selectbox(key="enterprise.id").value == own
    assert "enterprise" not in opened.query_params  # own firm: the default, not in the URL
    # ... a forged widget value is not even a possible choice of the widget ...
    at.session_state["enterprise.id"] = other
    with pytest.raises(ValueError, match="is not in list"):
        at.run()
    # ... and where the data is read, the scope refuses the other firm (the page's own calls).
    hr = UserScope("test-hr", Role.HR, (own,))
    with pytest.raises(AccessDeniedError, match=f"may not see enterprise '{other}'"):
        peer_benchmark(pd.DataFrame({"enterprise_id": [own]}), other, [], scope=hr)
    with pytest.raises(AccessDeniedError, match=f"may not see enterprise '{other}'"):
        hr.require_enterprise(other)  # what cached_model.enterprise/workforce_access check


def click_download(at: AppTest, key: str) -> AppTest:
    """Click the download button ``key`` as a browser does (AppTest has no download widget)."""
    (button,) = [b for b in at.get("download_button") if b.key == key]
    states = WidgetStates()
    state = states.widgets.add()
    state.id = button.proto.id
    state.trigger_value = True
    return at._run(states)


def test_downloading_the_parameters_writes_an_export_line(data_dir: Path) -> None:
    at = _as(Role.PLANNER, "pages/assumptions.py")
    assert not at.exception
    assert audit.read_events(data_dir)[0] == []  # showing the button records nothing
    click_download(at, "assumptions.download_table")
    assert not at.exception
    events = audit.read_events(data_dir)[0]
    assert [(e.user, e.role, e.action, e.park_id) for e in events] == [
        ("test-planner", "planner", "export", "jinshan")
    ]
    assert events[0].detail == {
        "what": "parameters",
        "file": "jinshan_parameters.csv",
        "scope": "all",
        "version": events[0].detail["version"],
    }
