"""While the Enterprise, Survey and Map pages compute, a message in the user's language shows.

Each expensive ``ui`` wrapper these pages call is watched: when it is called, the message shown
at that moment (``st.spinner``, drawn by ``ui.busy``) is recorded. On a fresh data directory
(nothing in the results cache, as after new data) every one of them runs under a message that
says what is being prepared, so the page is never blank while it waits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from retention.i18n import t
from tests.app_session import open_page
from ui import cached_maps, cached_model, cached_survey

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
TIMEOUT_SECONDS = 600  # cold: travel times, survey import and the model fit on a shared machine


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    return directory


class Watch:
    """The spinner messages open now, and the message open when each watched wrapper ran."""

    def __init__(self) -> None:
        self.open: list[str] = []
        self.calls: dict[str, list[str | None]] = {}

    @contextmanager
    def spinner(self, text: str = "", **_: Any) -> Iterator[None]:
        self.open.append(text)
        try:
            yield
        finally:
            self.open.pop()

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def watched(*args: Any, **kwargs: Any) -> Any:
            self.calls.setdefault(name, []).append(self.open[-1] if self.open else None)
            return function(*args, **kwargs)

        return watched


def _watch(monkeypatch: pytest.MonkeyPatch, module: object, names: tuple[str, ...]) -> Watch:
    watch = Watch()
    monkeypatch.setattr(streamlit, "spinner", watch.spinner)
    for name in names:
        monkeypatch.setattr(module, name, watch.wrap(name, getattr(module, name)))
    return watch


def _run(page: str, lang: str) -> AppTest:
    return open_page(APP, page, lang=lang, timeout_seconds=TIMEOUT_SECONDS)


@pytest.mark.slow  # a cold Enterprise page: travel times, survey and model fit
def test_enterprise_page_says_what_it_prepares_while_it_computes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = ("retention_inputs", "peer_bands", "enterprise", "workforce_access")
    watch = _watch(monkeypatch, cached_model, names)
    _run("pages/enterprise.py", "zh")
    stages = ", ".join(
        t(f"pipeline.warmup.stage.{stage}", "zh") for stage in ("travel_times", "survey", "model")
    )
    assert watch.calls == {
        "retention_inputs": [t("progress.preparing_results", "zh", stages=stages)],
        "peer_bands": [t("progress.enterprise_figures", "zh")],
        "enterprise": [t("progress.enterprise_figures", "zh")],
        "workforce_access": [t("progress.workforce", "zh")],
    }


@pytest.mark.slow  # reads, maps, imports and analyses the demo survey
def test_survey_page_says_what_it_does_while_it_reads_and_analyses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = (
        "raw_survey",
        "answers",
        "imported_survey",
        "weights",
        "analysis_key",
        "ipa_chart",
        "cohort_means",
        "reasons",
    )
    watch = _watch(monkeypatch, cached_survey, names)
    _run("pages/survey.py", "en")
    expected = {
        "raw_survey": "read_survey",
        "answers": "survey_answers",
        "imported_survey": "import_survey",
        "weights": "survey_weights",
        "analysis_key": "survey_analysis",
        "ipa_chart": "survey_analysis",
        "cohort_means": "survey_analysis",
        "reasons": "survey_analysis",
    }
    assert set(watch.calls) == set(expected)
    for name, step in expected.items():
        assert set(watch.calls[name]) == {t(f"progress.{step}", "en")}, name


@pytest.mark.slow  # draws the demo park's map
def test_map_page_says_it_draws_the_map() -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        watch = _watch(monkeypatch, cached_maps, ("park_map_page",))
        _run("pages/map.py", "zh")
    assert watch.calls == {"park_map_page": [t("progress.map", "zh")]}
