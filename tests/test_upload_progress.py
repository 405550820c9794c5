"""A large accepted upload shows a progress bar while it is read and validated (issue 10); a file
over the upload limit is refused before any of that starts.

The threshold is lowered for the test (``ui.upload_progress.LARGE_UPLOAD_BYTES``) so that a
three-row file counts as large: what is checked is what the page draws and in which order, not
how long a big file takes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from retention.data.limits import MAX_UPLOAD_ENV
from retention.i18n import t
from tests.app_session import signed_in
from tests.test_app_data import AMENITIES_CSV
from ui import upload_progress

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    return directory


def _uploaded(name: str, content: bytes, page: str, uploader: str) -> AppTest:
    at = signed_in(AppTest.from_file(str(REPO / "app.py"), default_timeout=120))
    at.run()
    at.switch_page(page).run()
    if page.endswith("data.py"):
        at.selectbox(key="data.kind").set_value("amenities")
        at.radio(key="data.crs").set_value("wgs84")
    else:
        at.radio(key="survey.source").set_value("upload").run()
    at.file_uploader(key=uploader).upload(name, content, "text/csv")
    return at.run()


def test_a_large_layer_file_shows_its_progress_to_the_end(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload_progress, "LARGE_UPLOAD_BYTES", 100)
    at = _uploaded("shops.csv", AMENITIES_CSV, "pages/data.py", "data.file")
    assert not at.exception
    (status,) = at.status
    size = f"{len(AMENITIES_CSV) / 1_000_000:,.1f} MB"
    assert status.state == "complete"
    assert status.label == t("upload_progress.done_label", "en", file="shops.csv", size=size,
                             rows="3")  # fmt: skip
    (bar,) = at.get("progress")
    assert bar.value == 100
    assert at.metric[0].value == "2"  # and the page went on to the validation report


def test_a_small_file_shows_no_progress_bar(data_dir: Path) -> None:
    at = _uploaded("shops.csv", AMENITIES_CSV, "pages/data.py", "data.file")
    assert not at.exception and not at.status and not at.get("progress")


def test_an_oversized_file_is_refused_before_reading(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload_progress, "LARGE_UPLOAD_BYTES", 100)
    monkeypatch.setenv(MAX_UPLOAD_ENV, "0.0001")  # about 105 bytes
    at = _uploaded("shops.csv", AMENITIES_CSV, "pages/data.py", "data.file")
    assert not at.exception and not at.status and not at.get("progress")
    shown = [e.value for e in (*at.error, *at.caption)]
    assert any("expected at most 0.0001 MB" in text for text in shown), shown


def test_a_large_survey_file_shows_its_progress(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload_progress, "LARGE_UPLOAD_BYTES", 10)
    survey = b"respondent_id,enterprise_id,intent_to_leave\nr1,e0001,4\nr2,e0002,2\n"
    at = _uploaded("wave.csv", survey, "pages/survey.py", "survey.file")
    (status,) = at.status
    assert (status.state, [bar.value for bar in at.get("progress")]) == ("complete", [100])
    assert status.label == t("upload_progress.done_label", "en", file="wave.csv", size="0.0 MB",
                             rows="2")  # fmt: skip
    assert at.metric[0].value == "2"  # rows read: the import's report follows
