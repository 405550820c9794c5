"""AppTests: the pages show people words, never raw codes (Overview, Gaps, Enterprise, Survey,
Scenarios, Map, Data, Reports).

Scans each page's whole element tree (titles, text, captions, metrics, widget labels and options,
table headers and cells) in both languages for the codes the data and model use internally.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from retention.i18n import t
from tests.app_session import open_page
from ui.tables import COUNT_FORMAT

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
TIMEOUT_SECONDS = 300  # cold run: demo park, travel times, survey import and the model fit
PAGES = [
    "pages/overview.py",
    "pages/gaps.py",
    "pages/enterprise.py",
    "pages/survey.py",
    "pages/scenario.py",
    "pages/map.py",
    "pages/data.py",
    "pages/reports.py",
    "pages/assumptions.py",
]
# Not scanned: Park comparison and Audit log (nothing to scan without a batch run or an audit log).
# Codes of data columns, cohorts, enterprise ids and IPA quadrants that a reader must not meet.
RAW_CODES = re.compile(
    r"\b(post[0-9]{2}|age_band|wage_band|tenure_months|e[0-9]{4}|h[0-9]{4}|keep_up|boring_life|"
    r"concentrate_here|possible_overkill|low_priority|gap_index|sports_court|weekday_evening|"
    r"response_number|respondent_id|commute_mode|intent_to_leave|two_shift|three_shift|"
    r"(sat|imp)_[a-z_]+|reason:[a-z_]+|jinshan-g[0-9-m]+)\b"
)


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    return directory


def _nodes(node: object) -> Iterator[object]:
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from _nodes(child)


def _frame_texts(frame: pd.DataFrame) -> Iterator[str]:
    yield from (str(c) for c in frame.columns)
    # The index is shown too (a group table's rows are named by it).
    yield from (str(name) for name in frame.index.names if name is not None)
    if not isinstance(frame.index, pd.RangeIndex):
        yield from (str(v) for v in frame.index.tolist())
    for column in frame.columns:
        yield from (str(v) for v in frame[column].tolist())


def page_texts(at: AppTest) -> list[str]:
    """Return every text a reader of the main area can see, widget options included."""
    texts: list[str] = []
    for node in _nodes(at.main):
        options = getattr(node, "options", None)
        # A choice widget's value is the code it returns, not what it shows: read its options.
        attributes = ("label", "help") if options is not None else ("value", "label", "help")
        for attribute in attributes:
            value = getattr(node, attribute, None)
            if isinstance(value, pd.DataFrame):
                texts.extend(_frame_texts(value))
            elif isinstance(value, str):
                texts.append(value)
        if isinstance(options, list):
            texts.extend(str(o) for o in options)
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "body"):
            texts.append(str(proto.body))
    return texts


def _page(page: str, lang: str) -> AppTest:
    return open_page(APP, page, lang=lang, timeout_seconds=TIMEOUT_SECONDS)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page", PAGES)
def test_no_raw_code_on_the_page(page: str, lang: str) -> None:
    found = _raw_codes(_page(page, lang))
    assert not found, found


def _raw_codes(at: AppTest) -> list[str]:
    texts = page_texts(at)
    assert len(texts) > 10
    return sorted({m.group() for text in texts for m in RAW_CODES.finditer(text)})


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_survey_groups_and_importance_kinds_show_names_never_codes(lang: str) -> None:
    at = _page("pages/survey.py", lang)
    # The validation report says yes/no (是/否), not a programming language's True/False.
    assert not {"True", "False"} & set(page_texts(at))
    # Every breakdown (cohorts, enterprises, residences, zones) and every importance kind.
    groupings = ["age_band", "enterprise_id", "residence_id", "zone_id"]
    for grouping, kind in zip(
        groupings, ["stated", "derived_overall", "derived_intent", "stated"], strict=True
    ):
        at.selectbox(key="survey.group_by").set_value(grouping)
        at.radio(key="survey.importance").set_value(kind)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        title = t(f"survey.group.{grouping}", lang)
        (table,) = [d.value for d in at.dataframe if d.value.index.name == title]
        assert len(table) >= 2, grouping
        assert not _raw_codes(at), (grouping, kind, _raw_codes(at))
        explanation = t(f"survey_words.ipa.explain.{kind}", lang)
        assert explanation in [c.value for c in at.caption]


def _unseparated_counts(at: AppTest) -> list[str]:
    """Return the whole-number columns holding a value of 1,000 or more shown without grouping."""
    bad = []
    for table in at.dataframe:
        frame = table.value
        config = json.loads(table.proto.columns or "{}")
        for column in frame.columns:
            values = pd.to_numeric(frame[column], errors="coerce")
            if not pd.api.types.is_integer_dtype(frame[column].dtype) or values.max() < 1000:
                continue
            shown = config.get(str(column), {}).get("type_config", {}).get("format")
            if shown != COUNT_FORMAT:
                bad.append(str(column))
    return bad


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page", ["pages/overview.py", "pages/gaps.py"])
def test_counts_of_a_thousand_or_more_have_thousands_separators(page: str, lang: str) -> None:
    at = _page(page, lang)
    checked = [t for t in at.dataframe if (t.value.select_dtypes("integer") >= 1000).any().any()]
    assert checked, "the page shows no count of 1,000 or more: nothing to check"
    assert not _unseparated_counts(at)
    # Metrics are short numbers with separators: no truncation at 1366 px.
    for metric in at.metric:
        value = str(metric.value)
        assert len(value) <= 12, value
        digits = re.sub(r"[^0-9,.]", "", value)
        assert not re.search(r"[0-9]{4}", digits.split(".")[0]), value
