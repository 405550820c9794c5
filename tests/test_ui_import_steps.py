"""The import steps the Data and Survey pages reach through ``ui.layer_import`` and
``ui.survey_import``: what is proposed for a file, and the user's decisions read back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from retention.data.columns import LayerColumnMapping
from retention.data.layers import LayerKind
from retention.errors import ValidationError
from retention.i18n import t
from retention.report.templates import survey_template_xlsx
from retention.storage.mappings import MappingStore
from retention.survey.importer import read_survey_file
from tests.app_session import signed_in
from ui import layer_import, state, survey_import

REPO = Path(__file__).resolve().parent.parent
HEADERS = ["编号", "名称", "类别", "容量", "营业时间", "经度", "纬度"]


def test_a_layer_file_gets_the_suggestion_until_the_park_saves_its_own(tmp_path: Path) -> None:
    store = MappingStore(tmp_path)
    proposal, saved = layer_import.proposed_mapping(store, "park1", "amenities", HEADERS)
    assert not saved
    assert dict(zip(proposal.columns, proposal.targets, strict=True))["类别"] == "category"
    assert "category" in layer_import.targets("amenities")
    assert layer_import.targets("amenities")[0] == "ignore"

    # The park decides: 类别 is ignored and 餐饮 means cafe_leisure; its next file of this layout
    # is proposed that mapping, another park's still the suggestion.
    pairs = zip(proposal.columns, proposal.targets, strict=True)
    targets = tuple("ignore" if column == "类别" else target for column, target in pairs)
    decided = LayerColumnMapping(
        proposal.kind, proposal.columns, targets, (("category", "餐饮", "cafe_leisure"),)
    )
    store.save_layer_mapping("park1", decided)
    again, saved = layer_import.proposed_mapping(store, "park1", "amenities", HEADERS)
    assert saved and again == decided
    other, saved = layer_import.proposed_mapping(store, "park2", "amenities", HEADERS)
    assert not saved and other == proposal


def test_layer_value_codes_are_checked_when_read_back() -> None:
    table = pd.DataFrame(
        {"field": ["category", "category"], "value": ["食堂", "网吧"], "code": ["canteen", None]}
    )
    assert layer_import.values_from_choices(table, LayerKind.AMENITIES.value) == (
        ("category", "食堂", "canteen"),
    )
    wrong = table.assign(code=["canteen", "karaoke"])
    with pytest.raises(ValidationError, match=r"'karaoke' for value '网吧'.*category"):
        layer_import.values_from_choices(wrong, "amenities")


def test_a_survey_file_takes_the_targets_the_park_gave_its_headers() -> None:
    raw = read_survey_file(survey_template_xlsx(), file_name="survey.xlsx")
    own = survey_import.proposed_mapping(raw, {})
    assert own.column_for("enterprise") == "您所在的企业"
    assert own.column_for("residence") == "您居住在哪里"
    # Earlier layouts of this park read 您所在的企业 as the residence: that wins, and the header
    # suggested for the residence is ignored (one header per target).
    known = survey_import.proposed_mapping(raw, {"您所在的企业": "residence"})
    assert known.column_for("residence") == "您所在的企业"
    assert known.column_for("enterprise") is None
    assert dict(zip(known.columns, known.targets, strict=True))["您居住在哪里"] == "ignore"
    # An unknown target from the store is not taken.
    assert survey_import.proposed_mapping(raw, {"您所在的企业": "salary<script>"}) == own


def test_survey_answers_without_a_code_await_a_decision() -> None:
    table = pd.DataFrame(
        {
            "group": ["intent_to_leave", "intent_to_leave", "intent_to_leave"],
            "answer": ["很可能", "其他", "不知道"],
            "code": ["5", None, "missing"],
        }
    )
    assert survey_import.undecided_answers(table)["answer"].tolist() == ["其他"]
    values = survey_import.value_map(table)
    assert [entry[:2] for entry in values.entries] == [
        ("intent_to_leave", "不知道"),
        ("intent_to_leave", "很可能"),
    ]
    with pytest.raises(ValidationError, match=r"'9' for answer '其他'"):
        survey_import.value_map(table.assign(code=["5", "9", "missing"]))


@pytest.mark.slow
def test_the_data_page_proposes_the_mapping_the_park_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(tmp_path / "data"))
    csv = (
        "编号,名称,类别,容量,营业时间,经度,纬度\n"
        "U1,测试食堂,canteen,120,Mo-Su 06:30-20:00,113.2356,27.9184\n"
    ).encode()

    def upload() -> AppTest:
        at = signed_in(AppTest.from_file(str(REPO / "app.py"), default_timeout=120))
        at.session_state[state.LANG] = "en"
        at.run()
        at.switch_page("pages/data.py").run()
        at.selectbox(key="data.kind").set_value("amenities")
        at.file_uploader(key="data.file").upload("a.csv", csv, "text/csv")
        return at.run()

    first = upload()
    assert not first.exception, [e.value for e in first.exception]
    found = t("import.data.mapping_saved_found", "en")
    assert found not in [i.value for i in first.info]
    first.button(key="data.save_mapping").click().run()
    assert t("import.data.mapping_saved", "en") in [s.value for s in first.success]
    second = upload()
    assert not second.exception
    assert found in [i.value for i in second.info]
