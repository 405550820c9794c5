"""Two signed-in users saving the same scenario or survey mapping on the PostgreSQL store, through
the pages (AppTest sessions side by side, each opened before the other saved).

The later save must be refused with the page's message and overwrite nothing, and the audit log
must hold both attempts: the save that went in (``scenario_change`` / ``mapping_save``) and the
refused one (``save_refused``: who, what, the version the edit started from and the version
stored when it was refused). An administrator sees both on the Audit page.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from retention.auth.roles import Role, UserScope
from retention.escaping import markdown_text
from retention.i18n import t
from retention.storage.records import AUDIT, SURVEY_MAPPINGS
from tests.test_app_scenario import _submit
from ui import state

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
TIMEOUT_SECONDS = 300  # cold runs: the demo park's travel times, survey import and model fit
WANG = UserScope("wang", Role.PLANNER, ())
LI = UserScope("li", Role.PLANNER, ())

pytestmark = pytest.mark.slow


@pytest.fixture
def database(postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh ParkLife schema the app runs on (``PARKLIFE_DATABASE_URL``); nothing in files."""
    from retention.storage.postgres import upgrade

    url = f"{postgres_url}?schema=saves_{uuid.uuid4().hex[:10]}"
    upgrade(url)
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(tmp_path / "unused"))
    monkeypatch.setenv("PARKLIFE_DATABASE_URL", url)
    return url


def _session(page: str, user: UserScope) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS)
    at.session_state[state.USER] = user
    at.session_state[state.LANG] = "en"
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _events(url: str, *actions: str) -> list[dict]:
    from retention.storage.postgres import PostgresStore

    log = PostgresStore(url).records.read_log(None, AUDIT)
    return [e for e in log if e["action"] in actions]


def _audit_page_shows(*labels: str) -> None:
    at = _session("pages/audit.py", UserScope("ana", Role.ADMIN, ()))
    (table,) = [frame.value for frame in at.dataframe]
    shown = set(table[t("audit.col.action", "en")])
    assert set(labels) <= shown, shown


def test_two_users_saving_the_same_scenario_one_is_refused_and_both_are_audited(
    database: str,
) -> None:
    from retention.scenario.model import Scenario
    from retention.scenario.records import ScenarioStore
    from retention.storage.postgres import PostgresStore

    scenarios = ScenarioStore(records=PostgresStore(database).records)
    shared = scenarios.save("jinshan", Scenario("Shared plan"), author="ana")
    wang, li = _session("pages/scenario.py", WANG), _session("pages/scenario.py", LI)
    for at, name, author in ((wang, "Wang's plan", "Wang"), (li, "Li's plan", "Li")):
        at.selectbox(key="scenario.open").set_value(shared.scenario_id)
        _submit(at, "scenario.open_button")
        at.text_input(key="scenario.name").set_value(name)
        at.text_input(key="scenario.author").set_value(author)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    _submit(wang, "scenario.save")
    assert not wang.exception and not wang.error, [e.value for e in wang.error]
    _submit(li, "scenario.save")  # opened version 1; Wang's save made version 2
    assert not li.exception, [e.value for e in li.exception]
    stale = t("scenario_store.stale", "en", name=markdown_text("Wang's plan"))
    assert [e.value for e in li.error] == [stale]

    (stored,) = scenarios.list("jinshan")
    assert (stored.name, stored.author, stored.version) == ("Wang's plan", "Wang", 2)
    events = _events(database, "scenario_change", "save_refused")
    assert [(e["user"], e["action"]) for e in events] == [
        ("wang", "scenario_change"),
        ("li", "save_refused"),
    ]
    assert events[0]["detail"] == {"scenario_id": shared.scenario_id, "name": "Wang's plan",
                                   "how": "save", "version": 2}  # fmt: skip
    assert events[1]["detail"] == {"what": "scenario", "scenario_id": shared.scenario_id,
                                   "name": "Li's plan", "how": "save", "based_on_version": 1,
                                   "stored_version": 2}  # fmt: skip
    assert {e["park_id"] for e in events} == {"jinshan"}

    # Li's delete, still based on version 1, is refused and audited as well.
    li.checkbox(key="scenario.delete_confirm").check()
    li.run()
    _submit(li, "scenario.delete")
    assert [e.value for e in li.error] == [stale]
    assert [s.version for s in scenarios.list("jinshan")] == [2]
    refused = _events(database, "save_refused")[-1]
    assert (refused["user"], refused["detail"]["how"]) == ("li", "delete")
    _audit_page_shows(t("audit.action.scenario_change", "en"), t("audit.action.save_refused", "en"))


def test_two_users_saving_the_same_survey_mapping_one_is_refused_and_both_are_audited(
    database: str,
) -> None:
    from retention.storage.postgres import PostgresStore

    wang, li = _session("pages/survey.py", WANG), _session("pages/survey.py", LI)
    wang.button(key="survey.save_mapping").click().run()
    assert not wang.exception, [e.value for e in wang.exception]
    assert t("survey.mapping_saved", "en") in [s.value for s in wang.success]
    li.button(key="survey.save_mapping").click().run()  # opened when none was saved
    assert not li.exception, [e.value for e in li.exception]
    assert t("store.stale", "en") in [e.value for e in li.error]
    assert t("survey.mapping_saved", "en") not in [s.value for s in li.success]

    (mapping,) = PostgresStore(database).records.list_records("jinshan", SURVEY_MAPPINGS)
    assert mapping.version == 1
    events = _events(database, "mapping_save", "save_refused")
    assert [(e["user"], e["action"]) for e in events] == [
        ("wang", "mapping_save"),
        ("li", "save_refused"),
    ]
    assert events[0]["detail"] == {"mapping": mapping.key}
    assert events[1]["detail"] == {"what": "survey_mapping", "mapping": mapping.key,
                                   "based_on_version": 0, "stored_version": 1}  # fmt: skip
    _audit_page_shows(t("audit.action.mapping_save", "en"), t("audit.action.save_refused", "en"))


def test_two_users_saving_the_same_layer_mapping_one_is_refused_and_both_are_audited(
    database: str,
) -> None:
    """The Data page's mapping used to be saved over whatever was stored (the later save won
    silently); it now starts from the version the user saw, like the survey mapping."""
    from retention.storage.postgres import PostgresStore
    from retention.storage.records import LAYER_MAPPINGS

    csv = (
        "编号,名称,类别,容量,营业时间,经度,纬度\n"
        "U1,测试食堂,canteen,120,Mo-Su 06:30-20:00,113.2356,27.9184\n"
    )
    sessions = []
    for user in (WANG, LI):
        at = _session("pages/data.py", user)
        at.selectbox(key="data.kind").set_value("amenities")
        at.file_uploader(key="data.file").upload("食堂.csv", csv.encode(), "text/csv")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        sessions.append(at)
    wang, li = sessions
    wang.button(key="data.save_mapping").click().run()
    assert t("import.data.mapping_saved", "en") in [s.value for s in wang.success]
    li.button(key="data.save_mapping").click().run()  # opened when none was saved
    assert not li.exception, [e.value for e in li.exception]
    assert t("store.stale", "en") in [e.value for e in li.error]
    assert t("import.data.mapping_saved", "en") not in [s.value for s in li.success]

    (mapping,) = PostgresStore(database).records.list_records("jinshan", LAYER_MAPPINGS)
    assert mapping.version == 1 and mapping.key.startswith("amenities.")
    events = _events(database, "mapping_save", "save_refused")
    assert [(e["user"], e["action"]) for e in events] == [
        ("wang", "mapping_save"),
        ("li", "save_refused"),
    ]
    assert events[1]["detail"] == {"what": "layer_mapping", "mapping": mapping.key,
                                   "based_on_version": 0, "stored_version": 1}  # fmt: skip
    # Li reloads (the page draws the stored version) and saves again: accepted as version 2.
    li.run()
    li.button(key="data.save_mapping").click().run()
    assert t("import.data.mapping_saved", "en") in [s.value for s in li.success]
    (mapping,) = PostgresStore(database).records.list_records("jinshan", LAYER_MAPPINGS)
    assert mapping.version == 2


def _parameters_save_script() -> None:
    """Save the park's default parameters through ``ui.cached_parameters`` (as the Assumptions
    page does), based on the version the session read when it opened."""
    import streamlit as st

    import ui.cached  # noqa: F401  (first, as the pages do: it imports ui.cached_parameters)
    from retention.errors import StaleVersionError
    from retention.park_parameters import ParkParameters
    from ui import cached_parameters

    opened = st.session_state.setdefault("opened", cached_parameters.parameters_version("jinshan"))
    if st.session_state.get("save"):
        try:
            cached_parameters.save(ParkParameters(), "jinshan", expected_version=opened)
        except StaleVersionError:
            st.write("refused")
        else:
            st.write("saved")


def test_a_parameters_save_over_a_newer_one_is_refused_and_both_are_audited(
    database: str,
) -> None:
    sessions = []
    for user in (WANG, LI):
        at = AppTest.from_function(_parameters_save_script, default_timeout=TIMEOUT_SECONDS)
        at.session_state[state.USER] = user
        sessions.append(at.run())  # both open the park's defaults
    for at in sessions:
        at.session_state["save"] = True
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    assert [[m.value for m in at.markdown] for at in sessions] == [["saved"], ["refused"]]
    events = _events(database, "parameters_save", "save_refused")
    assert [(e["user"], e["action"]) for e in events] == [
        ("wang", "parameters_save"),
        ("li", "save_refused"),
    ]
    assert events[1]["detail"] == {"what": "parameters", "how": "save",
                                   "based_on_version": "default", "stored_version": 1}  # fmt: skip
