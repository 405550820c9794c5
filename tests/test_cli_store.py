"""``parklife db upgrade``, ``db migrate``, ``export-park`` and ``import-park`` end to end."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest

from retention.cli._main import main
from retention.storage.postgres import PostgresStore
from retention.storage.store import FileStore
from retention.storage.transfer import park_contents
from tests.test_storage_transfer import _fill


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err, environ={})
    return code, out.getvalue(), err.getvalue()


def test_upgrade_then_migrate_files_to_postgres(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(tmp_path / "data"))
    url = f"{postgres_url}?schema=cli_{uuid.uuid4().hex[:8]}"
    code, out, err = _run("db", "upgrade", "--database-url", url)
    assert (code, err) == (0, "") and "0 -> 2" in out
    assert "2 -> 2" in _run("db", "upgrade", "--database-url", url)[1]  # idempotent
    _fill(FileStore(tmp_path / "data"))
    code, out, err = _run("db", "migrate", "--from", "file", "--to", url)
    assert code == 0, err
    assert "upload_rows" in out and "every row count and checksum matches" in out
    assert park_contents(PostgresStore(url), "tiny") == park_contents(
        FileStore(tmp_path / "data"), "tiny"
    )
    code, out, err = _run("db", "migrate", "--from", "file", "--to", url)
    assert code == 7 and "already holds park 'tiny'" in err  # never mixed twice


def test_export_and_import_a_park(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(tmp_path / "intranet"))
    _fill(FileStore(tmp_path / "intranet"))
    archive = tmp_path / "tiny.zip"
    code, out, err = _run("export-park", "tiny", "--output", str(archive))
    assert code == 0 and archive.is_file(), err
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(tmp_path / "laptop"))
    code, out, err = _run("import-park", str(archive))
    assert code == 0 and "every row count and checksum matches" in out, err
    laptop = dict(park_contents(FileStore(tmp_path / "laptop"), "tiny"))
    intranet = dict(park_contents(FileStore(tmp_path / "intranet"), "tiny"))
    # The intranet's audit log has one line more: the export itself, written after the archive.
    assert intranet.pop("audit")[0] == laptop.pop("audit")[0] + 1
    assert laptop == intranet
    code, out, err = _run("import-park", str(tmp_path / "missing.zip"))
    assert code == 5 and "missing.zip" in err


def test_db_migrate_carries_batch_results_even_of_a_park_with_nothing_else(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``parklife batch --format store`` results (summary records by run key, their tables) move
    with ``db migrate``; a corpus park scored only by the batch has nothing else, and moves too."""
    from tests.test_storage_transfer import _fill_batch, _same_batch_results

    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(tmp_path / "data"))
    url = f"{postgres_url}?schema=cli_{uuid.uuid4().hex[:8]}"
    assert _run("db", "upgrade", "--database-url", url)[0] == 0
    files = FileStore(tmp_path / "data")
    _fill(files)
    tiny = _fill_batch(files, tmp_path / "batch")
    corpus = _fill_batch(files, tmp_path / "batch", park_id="syn_0001")
    files.records.put_blob("syn_0002", "results", "travel.01", b"only a cache: not a park to move")
    code, out, err = _run("db", "migrate", "--from", "file", "--to", url)
    assert code == 0, err
    assert "blobs:batch_results" in out and "park syn_0001: every row count" in out
    database = PostgresStore(url)
    assert database.park_ids() == ["syn_0001", "tiny"]
    _same_batch_results(database, files, "tiny", tiny)
    _same_batch_results(database, files, "syn_0001", corpus)
