"""AppTests of the Enterprise (HR) page: both languages, widgets by key, privacy suppression."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from retention.data.layers import LayerKind
from retention.i18n import label, t
from retention.storage.park import load_park
from retention.storage.waves import SurveyStore
from retention.survey.importer import import_survey, read_survey_file
from retention.survey.privacy import PrivacyParameters
from tests.app_session import signed_in
from tests.survey_fixtures import demo_rows, wenjuanxing_xlsx
from ui import state

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
PAGE = "pages/enterprise.py"
TIMEOUT_SECONDS = 300  # cold run: demo park, survey import, travel times and the model fit
K = PrivacyParameters().min_group_size


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    return directory


def _page(lang: str) -> AppTest:
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS))
    at.session_state[state.LANG] = lang
    at.run()
    at.switch_page(PAGE).run()
    return at


def _texts(at: AppTest) -> list[str]:
    elements = (*at.title, *at.subheader, *at.markdown, *at.caption, *at.warning, *at.info)
    return [str(e.value) for e in elements]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_enterprise_page_runs_in_both_languages(lang: str) -> None:
    at = _page(lang)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == t("enterprise.title", lang)
    warnings = [w.value for w in at.warning]
    assert t("common.synthetic_notice", lang) in warnings
    assert t("enterprise.synthetic_survey", lang) in warnings
    labels = [m.label for m in at.metric]
    for key in ("kpi.leavers", "kpi.cost", "quality.auc"):
        assert t(f"enterprise.{key}", lang) in labels, key
    assert at.selectbox(key="enterprise.id").value is not None
    assert t("enterprise.intro", lang, k=K) in _texts(at)
    # Charts: access and satisfaction benchmarks, calibration (drivers are a table in words).
    assert len(at.get("plotly_chart")) == 3


def _number(text: str) -> float:
    match = re.search(r"-?[0-9][0-9,]*(?:\.[0-9]+)?", text)
    assert match is not None, text
    return float(match.group().replace(",", ""))


def _small_enterprise() -> str:
    """Return an enterprise with fewer than k respondents in the demo survey."""
    survey_bytes = (REPO / "geodata" / "jinshan" / "survey_wjx.xlsx").read_bytes()
    park = load_park("jinshan", data_dir=REPO / "nonexistent-data-dir")
    imported = import_survey(
        read_survey_file(survey_bytes, file_name="survey_wjx.xlsx"),
        enterprises=park.layer(LayerKind.ENTERPRISES),
        residences=park.layer(LayerKind.RESIDENCES),
        salt=b"0" * 32,
        wave="test",
    )
    counts = imported.survey["enterprise_id"].astype(str).value_counts()
    return str(counts.loc[counts < K].index.sort_values()[0])


@pytest.mark.slow
def test_enterprise_choice_and_assumptions_change_the_figures() -> None:
    at = _page("en")
    leavers = t("enterprise.kpi.leavers", "en")
    cost = t("enterprise.kpi.cost", "en")
    first = {m.label: m.value for m in at.metric}
    selectbox = at.selectbox(key="enterprise.id")
    chosen = "e0002"
    assert selectbox.value != chosen
    selectbox.set_value(chosen).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="enterprise.id").value == chosen
    second = {m.label: m.value for m in at.metric}
    assert second[leavers] != first[leavers]
    at.number_input(key="enterprise.cost_cny").set_value(20_000.0).run()
    doubled = {m.label: m.value for m in at.metric}
    assert doubled[leavers] == second[leavers]
    assert _number(doubled[cost]) == pytest.approx(2 * _number(second[cost]), abs=2)
    at.slider(key="enterprise.p_intent").set_value(0.57).run()
    more = {m.label: m.value for m in at.metric}
    assert _number(more[leavers]) > _number(second[leavers])


@pytest.mark.slow
def test_small_enterprise_is_suppressed() -> None:
    small = _small_enterprise()
    at = _page("zh")
    at.selectbox(key="enterprise.id").set_value(small).run()
    assert not at.exception, [e.value for e in at.exception]
    # The small-group notice once, however many sections it hides.
    assert [i.value for i in at.info].count(t("enterprise.suppressed", "zh", k=K)) == 1
    labels = [m.label for m in at.metric]
    assert t("enterprise.kpi.leavers", "zh") not in labels
    header = t("enterprise.est.estimate", "zh")
    assert not [d for d in at.dataframe if header in d.value.columns]
    # Park-level model quality is still shown: it describes no single enterprise.
    assert t("enterprise.quality.auc", "zh") in labels


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _enterprise_texts(at: AppTest) -> list[str]:
    return [str(c.value) for c in at.caption] + [str(w.value) for w in at.warning]


@pytest.mark.slow
def test_a_survey_saved_on_the_survey_page_is_what_the_enterprise_page_uses(
    data_dir: Path,
) -> None:
    headers, rows = demo_rows(900, start=1000)
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS))
    at.session_state[state.LANG] = "en"
    at.run()
    at.switch_page("pages/survey.py").run()
    at.radio(key="survey.source").set_value("upload").run()
    at.file_uploader(key="survey.file").upload(
        "wave_autumn.xlsx", wenjuanxing_xlsx(headers, rows), XLSX_MIME
    ).run()
    at.text_input(key="survey.wave").set_value("2025-autumn").run()
    assert not at.exception, [e.value for e in at.exception]
    kept = int({m.label: m.value for m in at.metric}[t("survey.rows_kept", "en")])
    assert 0 < kept <= 900
    at.button(key="survey.save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert t("survey.saved", "en", wave="2025-autumn", n=kept) in [s.value for s in at.success]
    [record] = SurveyStore(data_dir).list_waves("jinshan")
    assert (record.wave, record.source_name, record.valid_rows) == (
        "2025-autumn",
        "wave_autumn.xlsx",
        kept,
    )

    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    texts = _enterprise_texts(at)
    assert t("enterprise.survey_stored", "en", waves="2025-autumn", n=f"{kept:,}") in texts
    assert t("enterprise.synthetic_survey", "en") not in texts
    # The model is fitted on the stored wave, not the 3,200 demo answers. Spread over the park's
    # ~300 firms, few of this wave's 900 answers are released to the model (disclosure rule 6:
    # an enterprise needs k complete answers in the wave), too few to fit: the page says so.
    assert t("enterprise.quality.n", "en") not in [m.label for m in at.metric]
    (error,) = [e.value for e in at.error]
    among = re.search(r"among ([0-9,]+) complete rows", error)
    assert among is not None and 0 < int(among.group(1).replace(",", "")) < kept, error
    assert any("are not in the model" in text for text in _enterprise_texts(at))

    # Removing the wave brings the synthetic demo survey back.
    at.switch_page("pages/survey.py").run()
    at.button(key=f"survey.remove.{record.wave_id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert SurveyStore(data_dir).list_waves("jinshan") == []
    at.switch_page(PAGE).run()
    assert t("enterprise.synthetic_survey", "en") in _enterprise_texts(at)


@pytest.mark.slow
def test_workforce_access_shows_workplace_and_dormitories() -> None:
    at = _page("en")
    at.selectbox(key="enterprise.id").set_value("e0001").run()
    assert not at.exception, [e.value for e in at.exception]
    park = load_park("jinshan", data_dir=REPO / "nonexistent-data-dir")
    residences = park.layer(LayerKind.RESIDENCES)
    dorms = residences[residences["enterprise_id"] == "e0001"]
    employees = park.layer(LayerKind.ENTERPRISES).set_index("id").at["e0001", "employees"]
    [table] = [
        d.value for d in at.dataframe if t("enterprise.workforce.category", "en") in d.value.columns
    ]
    workplace = t("enterprise.workforce.workplace", "en", people=f"{employees:,.0f}")
    dormitories = t(
        "enterprise.workforce.dormitories",
        "en",
        sites=len(dorms),
        people=f"{dorms['residents'].sum():,.0f}",
    )
    assert list(table.columns) == [t("enterprise.workforce.category", "en"), workplace, dormitories]
    assert table[workplace].between(0, 60).all() and table[dormitories].between(0, 60).all()


def _estimates(at: AppTest, lang: str) -> pd.DataFrame:
    header = t("enterprise.est.estimate", lang)
    [table] = [d.value for d in at.dataframe if header in d.value.columns]
    return table


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_lead_sentence_holds_the_numbers_of_the_estimates_table(lang: str) -> None:
    at = _page(lang)
    assert not at.exception, [e.value for e in at.exception]
    table = _estimates(at, lang)
    value = table[t("enterprise.est.value", lang)].tolist()
    interval = table[t("enterprise.est.interval", lang, level=95)].tolist()
    intent, leavers, from_intent, from_no_intent, cost = value
    assert _number(leavers) == pytest.approx(_number(from_intent) + _number(from_no_intent), abs=1)
    unit = "万元" if lang == "zh" else "CNY"
    assert unit in cost
    lead = t(
        "enterprise.lead",
        lang,
        leavers=leavers,
        leavers_range=interval[1],
        intent=intent,
        from_intent=from_intent,
        from_intent_range=interval[2],
        from_no_intent=from_no_intent,
        from_no_intent_range=interval[3],
        cost=cost,
        cost_range=interval[4],
    )
    assert lead in [m.value for m in at.markdown]
    # The metrics print the same leavers and cost, each with its interval beside it.
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("enterprise.kpi.leavers", lang)] == leavers
    assert metrics[t("enterprise.kpi.cost", lang)] == cost
    captions = [c.value for c in at.caption]
    assert interval[1] in captions and interval[4] in captions
    # The small-group notice appears at most once; model quality sits in an expander.
    assert [i.value for i in at.info].count(t("enterprise.suppressed", lang, k=K)) <= 1
    assert t("enterprise.quality.expander", lang) in [e.label for e in at.expander]


@pytest.mark.slow
def test_hr_sees_the_sidebar_scenario_for_their_enterprise_with_a_banner() -> None:
    """Issue 9: the Enterprise page shows the scenario chosen in the sidebar, like Gaps and Map."""
    from retention.auth.roles import Role
    from retention.scenario.model import AddAmenity, Scenario
    from retention.scenario.records import ScenarioStore

    park = load_park("jinshan", data_dir=REPO / "nonexistent-data-dir")
    site = park.layer(LayerKind.ENTERPRISES).set_index("id").geometry["e0001"]
    # e0001's workplace is ~38 walking minutes from a clinic on the demo park.
    clinic = AddAmenity("X1", "Gate clinic", "clinic", site.x, site.y, 50.0)
    record = ScenarioStore(state.data_dir()).save(
        "jinshan", Scenario("Clinic at the gate", (clinic,)), author="test"
    )
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS), Role.HR, ("e0001",))
    at.session_state[state.LANG] = "en"
    at.run()
    at.selectbox(key=state.WIDGET_SCENARIO).set_value(record.scenario_id).run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    banner = t("scenario.shown", "en", name="Clinic at the gate")
    assert banner in [i.value for i in at.info]
    assert t("scenario_view.enterprise.title", "en", name="Clinic at the gate") in [
        s.value for s in at.subheader
    ]
    [table] = [d.value for d in at.dataframe if any("change" in c for c in d.value.columns)]
    category = t("enterprise.workforce.category", "en")
    clinic_row = table[table[category] == label("category", "clinic", "en")].iloc[0]
    employees = park.layer(LayerKind.ENTERPRISES).set_index("id").at["e0001", "employees"]
    workplace = t("enterprise.workforce.workplace", "en", people=f"{employees:,.0f}")
    before = clinic_row[t("scenario_view.col.baseline", "en", place=workplace)]
    after = clinic_row[t("scenario_view.col.scenario", "en", place=workplace)]
    change = clinic_row[t("scenario_view.col.change", "en", place=workplace)]
    # A clinic at the enterprise's own gate: minutes there fall to the walk onto the street.
    assert before > 20.0 and after < 3.0
    assert change == pytest.approx(after - before, abs=0.11)
    # Other categories are untouched by a clinic.
    canteen = table[table[category] == label("category", "canteen", "en")].iloc[0]
    assert canteen[t("scenario_view.col.change", "en", place=workplace)] == 0.0
    sentences = [m.value for m in at.markdown if "leavers a year from this enterprise" in m.value]
    assert len(sentences) == 1 and "fewer" in sentences[0], sentences
    assert t("scenario_view.enterprise.baseline_below", "en") in [i.value for i in at.info]

    # Back to the baseline: no banner, no scenario section.
    at.session_state[state.SCENARIO] = ""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert banner not in [i.value for i in at.info]
    assert not [d for d in at.dataframe if any("change" in c for c in d.value.columns)]
