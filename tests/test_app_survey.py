"""AppTest for pages/survey.py: demo survey in both languages, widgets by key, k-anonymity."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from retention.errors import ValidationError
from retention.i18n import t
from retention.park_parameters import ParkParameters, save_park_parameters
from retention.storage.store import FileStore
from retention.survey.privacy import PrivacyParameters
from tests.app_session import signed_in
from tests.markdown_shown import shown
from ui import cached_survey, state

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
TIMEOUT_SECONDS = 240  # cold run: demo park, 3,200-row workbook, import and weighting


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    return directory


def _survey_page(lang: str) -> AppTest:
    at = signed_in(AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS))
    at.session_state[state.LANG] = lang
    at.run()
    at.switch_page("pages/survey.py").run()
    return at


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_survey_page_runs_on_the_demo_survey(lang: str, data_dir: Path) -> None:
    at = _survey_page(lang)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == t("survey.title", lang)
    warnings = [w.value for w in at.warning]
    assert t("survey.synthetic_survey", lang) in warnings
    assert t("common.synthetic_notice", lang) in warnings
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics[t("survey.rows_kept", lang)]) >= 3000
    assert at.radio(key="survey.importance").value == "stated"

    # Interactions by key: derived importance, a cohort, grouping by enterprise, a larger k.
    at.radio(key="survey.importance").set_value("derived_intent")
    at.selectbox(key="survey.cohort").set_value("post00")
    at.selectbox(key="survey.group_by").set_value("enterprise_id")
    at.number_input(key="survey.k").set_value(30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[-1].value  # the cohort table is the page's last table
    assert (table == "<k").any().any()  # small enterprises are hidden at k = 30
    # The page says how many cells it hid: exactly the "<k" cells of the table.
    hidden = int((table == "<k").sum().sum())
    assert t("survey.suppressed_note", lang, count=hidden, k=30) in [c.value for c in at.caption]

    at.button(key="survey.save_mapping").click().run()
    saved = list((data_dir / "parks" / "jinshan" / "records" / "survey_mappings").glob("*.json"))
    assert len(saved) == 1 and not (data_dir / "jinshan" / "survey_mappings.json").exists()


@pytest.mark.slow
def test_k_cannot_go_below_the_parks_saved_k(data_dir: Path) -> None:
    saved = ParkParameters(privacy=PrivacyParameters(min_group_size=10))
    save_park_parameters(saved, "jinshan", store=FileStore(data_dir), expected_version="default")
    at = _survey_page("zh")
    assert not at.exception, [e.value for e in at.exception]
    k_input = at.number_input(key="survey.k")
    assert (k_input.min, k_input.max, k_input.value) == (10, 100, 10)
    # Even a smaller value forced into the session (the browser clamps; a stale session may
    # not) is not used: the page still hides groups below 10.
    at.number_input(key="survey.k").set_value(5)
    at.selectbox(key="survey.group_by").set_value("enterprise_id")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    captions = [c.value for c in at.caption]
    assert not [c for c in captions if "少于 5 人" in c]
    table = at.dataframe[-1].value
    hidden = int((table == "<k").sum().sum())
    assert hidden > 0  # the demo park has enterprises with fewer than 10 respondents
    assert t("survey.suppressed_note", "zh", count=hidden, k=10) in captions


@pytest.mark.slow
def test_an_error_is_told_in_the_users_language_with_the_detail_below(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    detail = "enterprise 'E99' has no headcount; expected employees > 0"

    def failing(*args: object, **kwargs: object) -> None:
        raise ValidationError(detail, column="enterprise_id")

    monkeypatch.setattr(cached_survey, "weights", failing)
    at = _survey_page("zh")
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [t("survey.weights_error", "zh")]
    assert any(c.value.startswith("技术详情") and detail in shown(c.value) for c in at.caption)


@pytest.mark.slow
def test_an_uploaded_tencent_export_shows_its_layout_answer_codes_and_unknown_answers(
    data_dir: Path,
) -> None:
    from retention.storage.park import load_park
    from tests.survey_exports import export_bytes, respondent

    names = list(load_park("jinshan", data_dir=data_dir).layer("enterprises")["name"][:3])
    rows = [respondent(i, "bad_intent" if i == 2 else "good") for i in range(1, 9)]
    content, name = export_bytes("tencent", rows, "gbk", names=names)
    at = _survey_page("zh")
    at.radio(key="survey.source").set_value("upload").run()
    at.file_uploader(key="survey.file").upload(name, content, "text/csv")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    captions = [c.value for c in at.caption]
    assert t("import.survey.layout", "zh", layout=t("import.layout.tencent", "zh")) in captions
    # The likelihood wordings were coded from the dictionary; 想走就走 awaits a decision.
    warnings = [w.value for w in at.warning]
    assert t("import.values.unknown", "zh", n=1, answers="想走就走") in warnings
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("survey.rows_kept", "zh")] == "7"
    assert metrics[t("survey.rows_rejected", "zh")] == "1"
    assert metrics[t("import.survey.blank_rows", "zh")] == "0"
    labels = [b.label for b in at.get("download_button")]
    assert t("import.survey.template", "zh") in labels
    at.button(key="survey.save_mapping").click().run()
    assert (data_dir / "parks" / "jinshan" / "records" / "value_mappings" / "survey.json").exists()
