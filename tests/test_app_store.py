"""AppTests of stored-data damage and of the PostgreSQL store: a damaged file gives a specific
message on the pages that use it (with restore where the fix lives) and the rest of the app
works; a park stored in PostgreSQL shows on the Data page like a file-stored one."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from retention.i18n import t
from retention.storage.store import FileStore
from tests.app_session import open_page
from tests.store_fixtures import enterprise_validation, survey_import

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
TIMEOUT_SECONDS = 180

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    monkeypatch.delenv("PARKLIFE_DATABASE_URL", raising=False)
    return directory


def _page(page: str, lang: str = "en") -> AppTest:
    return open_page(APP, page, lang=lang, timeout_seconds=TIMEOUT_SECONDS)


def _upload(store) -> str:
    """Two enterprises (new ids, inside the demo park) added to Jinshan; return the upload id."""
    validation = enterprise_validation()
    valid = validation.valid.copy()
    valid["id"] = ["X1", "X2"]
    return str(
        store.uploads.add_upload(
            "jinshan", "enterprises", dataclasses.replace(validation, valid=valid),
            source_name="企业.csv", coordinate_system="wgs84",
        )
    )  # fmt: skip


def test_a_damaged_upload_list_is_named_on_the_data_page_and_restored(data_dir: Path) -> None:
    store = FileStore(data_dir)
    _upload(store)
    manifest = data_dir / "parks" / "jinshan" / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:40])  # truncated by a crash of another tool

    overview = _page("pages/overview.py")  # the rest of the app works
    assert not overview.exception
    at = _page("pages/data.py")
    errors = [e.value for e in at.error]
    assert t("store.damaged_uploads", "en") in errors
    assert any("parks/jinshan/manifest.json" in c.value for c in at.caption)
    at.button(key="data.restore").click().run()
    assert not at.exception
    assert t("store.damaged_uploads", "en") not in [e.value for e in at.error]
    assert len(FileStore(data_dir).uploads.list_uploads("jinshan")) == 1


def test_a_missing_report_only_disables_that_download(data_dir: Path) -> None:
    store = FileStore(data_dir)
    upload_id = _upload(store)
    (data_dir / "parks" / "jinshan" / "reports" / f"{upload_id}.json").unlink()
    at = _page("pages/data.py", lang="zh")
    assert any(t("store.report_damaged", "zh") in c.value for c in at.caption)
    assert f"data.remove.{upload_id}" in [b.key for b in at.button]


def test_a_damaged_survey_list_is_named_on_survey_pages_only(data_dir: Path) -> None:
    store = FileStore(data_dir)
    store.waves.save_wave("jinshan", survey_import(), source_name="问卷.csv", wave="2024-春")
    survey_manifest = data_dir / "parks" / "jinshan" / "survey" / "manifest.json"
    survey_manifest.write_bytes(b"")

    at = _page("pages/survey.py")
    assert t("store.damaged_survey", "en") in [e.value for e in at.error]
    assert any("parks/jinshan/survey/manifest.json" in c.value for c in at.caption)
    data_page = _page("pages/data.py")  # uploads are unaffected: no survey message there
    assert t("store.damaged_survey", "en") not in [e.value for e in data_page.error]
    at.button(key="survey_store.restore").click().run()
    assert not at.exception
    assert [w.wave for w in FileStore(data_dir).waves.list_waves("jinshan")] == ["2024-春"]


def test_the_data_page_works_on_the_postgres_store(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retention.storage.postgres import PostgresStore, upgrade

    url = f"{postgres_url}?schema=app_{uuid.uuid4().hex[:8]}"
    upgrade(url)
    upload_id = _upload(PostgresStore(url))
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(tmp_path / "unused"))
    monkeypatch.setenv("PARKLIFE_DATABASE_URL", url)
    at = _page("pages/data.py")
    assert f"data.remove.{upload_id}" in [b.key for b in at.button]
    at.button(key=f"data.remove.{upload_id}").click().run()
    assert not at.exception
    assert PostgresStore(url).uploads.list_uploads("jinshan") == []
    assert not (tmp_path / "unused" / "parks").exists()  # nothing went to files
