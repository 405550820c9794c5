"""AppTests of the Enterprise (HR) page: both languages, widgets by key, privacy suppression."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from retention.i18n import t
from retention.layers import LayerKind
from retention.park import load_park
from retention.privacy import PrivacyParameters
from retention.survey_import import import_survey, read_survey_file
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
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS)
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
    for key in ("kpi.intent", "kpi.leavers", "kpi.cost", "quality.auc"):
        assert t(f"enterprise.{key}", lang) in labels, key
    assert at.selectbox(key="enterprise.id").value is not None
    assert t("enterprise.privacy_note", lang, k=K) in _texts(at)
    # Charts: access and satisfaction benchmarks, drivers, calibration.
    assert len(at.get("plotly_chart")) == 4


def _number(text: str) -> float:
    return float(text.replace(",", "").split()[0])


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
    assert t("enterprise.suppressed", "zh", k=K) in [i.value for i in at.info]
    labels = [m.label for m in at.metric]
    assert t("enterprise.kpi.leavers", "zh") not in labels
    assert t("enterprise.kpi.intent", "zh") not in labels
    # Park-level model quality is still shown: it describes no single enterprise.
    assert t("enterprise.quality.auc", "zh") in labels
