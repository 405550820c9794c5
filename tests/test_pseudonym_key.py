"""The pseudonymisation key (retention.survey.pseudonym_key): outside the data directory, private,
created once atomically, damaged files refused, an old salt beside the data migrated; submission
times kept to the day.

The measured attack (issue 10): the salt sat beside the data (mode 0644), so anyone with a copy of
the data directory could reverse every pseudonym to its row number. Here the attacker's view is the
data directory after an import and a saved wave; the key must not be anywhere in it.
"""

from __future__ import annotations

import hashlib
import hmac
import multiprocessing
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from retention.errors import ParameterError
from retention.survey import pseudonym_key
from retention.survey.importer import import_survey, read_survey_file
from retention.survey.privacy import load_or_create_salt, pseudonymise_ids
from retention.survey.pseudonym_key import KEY_ENV, key_path
from tests.test_survey_import import GOOD_ROWS, _csv, _enterprises


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_key_lives_outside_the_data_directory_private_and_once(tmp_path, private_secrets_dir):
    data_dir = tmp_path / "data"
    key = load_or_create_salt("jinshan", data_dir=data_dir)
    assert len(key) == 32
    path = key_path("jinshan", secrets_dir=private_secrets_dir)
    assert path.is_file() and _mode(path) == 0o600
    assert not data_dir.exists() or not any(data_dir.rglob("*"))
    assert load_or_create_salt("jinshan", data_dir=data_dir) == key
    assert load_or_create_salt("other", data_dir=data_dir) != key
    assert sorted(p.name for p in private_secrets_dir.iterdir() if p.name != ".lock") == [
        "pseudonym-jinshan.key",
        "pseudonym-other.key",
    ]


def test_a_new_secrets_folder_is_created_private(tmp_path):
    secrets = tmp_path / "new" / "secrets"
    load_or_create_salt("jinshan", data_dir=tmp_path / "data", secrets_dir=secrets)
    assert _mode(secrets) == 0o700


def test_a_secrets_folder_inside_the_data_directory_is_refused(tmp_path):
    data_dir = tmp_path / "data"
    for inside in (data_dir, data_dir / "secrets", data_dir / "a" / ".." / "keys"):
        with pytest.raises(ParameterError, match="inside the data directory"):
            load_or_create_salt("jinshan", data_dir=data_dir, secrets_dir=inside)
    assert not data_dir.exists()


def test_the_default_secrets_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PARKLIFE_SECRETS_DIR", str(tmp_path / "s"))
    assert pseudonym_key.default_secrets_dir() == tmp_path / "s"
    monkeypatch.delenv("PARKLIFE_SECRETS_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert pseudonym_key.default_secrets_dir() == tmp_path / "cfg" / "parklife"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert pseudonym_key.default_secrets_dir() == tmp_path / "home" / ".config" / "parklife"


def test_a_key_from_the_environment_writes_nothing_and_separates_parks(
    tmp_path, monkeypatch, private_secrets_dir
):
    master = "ab" * 32
    monkeypatch.setenv(KEY_ENV, master)
    key = load_or_create_salt("jinshan", data_dir=tmp_path)
    expected = hmac.new(
        bytes.fromhex(master), b"parklife-pseudonym-key-v1\x00jinshan", hashlib.sha256
    ).digest()
    assert key == expected
    assert load_or_create_salt("other", data_dir=tmp_path) != key
    assert list(private_secrets_dir.iterdir()) == []
    monkeypatch.setenv(KEY_ENV, "not hex")
    with pytest.raises(ParameterError, match="PARKLIFE_PSEUDONYM_KEY is not hexadecimal"):
        load_or_create_salt("jinshan", data_dir=tmp_path)
    monkeypatch.setenv(KEY_ENV, "ab" * 8)
    with pytest.raises(ParameterError, match="holds 8 bytes; expected at least 16"):
        load_or_create_salt("jinshan", data_dir=tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        b"",  # created but nothing written yet
        b"parklife-pseudonym-key-v1 " + b"ab" * 16,  # cut short mid-write
        b"parklife-pseudonym-key-v1 " + b"ab" * 32 + b" 0000000000000000\n",  # edited key
        b"ab" * 32 + b"\n",  # an old bare salt copied in by hand
    ],
    ids=["empty", "partial", "edited", "bare"],
)
def test_an_empty_partial_or_edited_key_file_is_never_used(tmp_path, private_secrets_dir, content):
    path = key_path("jinshan", secrets_dir=private_secrets_dir)
    path.write_bytes(content)
    with pytest.raises(ParameterError, match="key file is damaged") as error:
        load_or_create_salt("jinshan", data_dir=tmp_path / "data")
    assert str(path) in str(error.value)
    assert path.read_bytes() == content  # refused, not overwritten: nothing lost


def test_a_crash_before_publishing_leaves_no_key_and_no_temporary_file(
    tmp_path, private_secrets_dir, monkeypatch
):
    def crash(*args: object) -> None:
        raise OSError("disk went away")

    monkeypatch.setattr(pseudonym_key.os, "link", crash)
    with pytest.raises(OSError, match="disk went away"):
        load_or_create_salt("jinshan", data_dir=tmp_path)
    assert [p.name for p in private_secrets_dir.iterdir()] == [".lock"]  # no key, no temp file
    monkeypatch.undo()
    os.environ["PARKLIFE_SECRETS_DIR"] = str(private_secrets_dir)  # undo() dropped it as well
    key = load_or_create_salt("jinshan", data_dir=tmp_path)
    assert load_or_create_salt("jinshan", data_dir=tmp_path) == key


def _race(secrets_dir: str, data_dir: str, barrier, queue) -> None:  # pragma: no cover (child)
    barrier.wait()
    key = load_or_create_salt("jinshan", data_dir=Path(data_dir), secrets_dir=Path(secrets_dir))
    queue.put(key.hex())


def test_racing_processes_end_with_the_same_key(tmp_path):
    secrets_dir = tmp_path / "secrets"
    context = multiprocessing.get_context("fork")
    count = 6
    barrier = context.Barrier(count)
    queue = context.Queue()
    workers = [
        context.Process(target=_race, args=(str(secrets_dir), str(tmp_path / "d"), barrier, queue))
        for _ in range(count)
    ]
    for worker in workers:
        worker.start()
    keys = {queue.get(timeout=120) for _ in workers}
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert len(keys) == 1
    assert sorted(p.name for p in secrets_dir.iterdir()) == [".lock", "pseudonym-jinshan.key"]
    again = load_or_create_salt("jinshan", data_dir=tmp_path / "d", secrets_dir=secrets_dir)
    assert again.hex() in keys


@pytest.mark.parametrize("layout", ["{park}", "parks/{park}"])
def test_an_old_salt_beside_the_data_is_moved_out_keeping_every_pseudonym(
    tmp_path, private_secrets_dir, layout
):
    data_dir = tmp_path / "data"
    old = data_dir / layout.format(park="jinshan") / "survey_salt.hex"
    old.parent.mkdir(parents=True)
    salt = bytes(range(32))
    old.write_text(salt.hex(), encoding="ascii")
    before = pseudonymise_ids(["1", "2", "3"], salt=salt)
    key = load_or_create_salt("jinshan", data_dir=data_dir)
    assert key == salt
    assert pseudonymise_ids(["1", "2", "3"], salt=key) == before
    assert not old.exists()
    assert key_path("jinshan", secrets_dir=private_secrets_dir).is_file()
    assert load_or_create_salt("jinshan", data_dir=data_dir) == salt


def test_a_copy_of_the_data_directory_cannot_reverse_the_pseudonyms(tmp_path):
    """The attack: search everything under the data directory for the key after an import and a
    saved wave (hex, raw bytes or any 32-byte window); with the key absent, the HMAC cannot be
    recomputed to map pseudonyms back to row numbers."""
    from retention.storage.waves import SurveyStore

    data_dir = tmp_path / "data"
    key = load_or_create_salt("jinshan", data_dir=data_dir)
    raw = read_survey_file(_csv(GOOD_ROWS), file_name="survey.csv")
    result = import_survey(raw, enterprises=_enterprises(), salt=key, wave="w1")
    SurveyStore(data_dir).save_wave("jinshan", result, source_name="survey.csv", wave="w1")
    files = [path for path in data_dir.rglob("*") if path.is_file()]
    assert files, "the wave was saved"
    for path in files:
        content = path.read_bytes()
        assert key not in content and key.hex().encode() not in content, path
        assert key.hex().upper().encode() not in content, path
    # what the attacker would try: rows 1..n hashed with every candidate key found in the files
    candidates = {content[i : i + 32] for path in files for content in [path.read_bytes()]
                  for i in range(0, max(len(content) - 31, 0), 4096)}  # fmt: skip
    wanted = set(result.survey["respondent_id"])
    for candidate in candidates:
        assert not wanted & set(pseudonymise_ids(["1", "2", "3"], salt=candidate))


def test_submission_times_are_kept_to_the_day_only():
    rows = [list(row) for row in GOOD_ROWS]
    rows[1][1] = "2024/3/2 23:59:59"
    raw = read_survey_file(_csv(rows), file_name="survey.csv")
    survey = import_survey(raw, enterprises=_enterprises(), salt=b"k" * 32, wave="w").survey
    stamps = survey["submitted_at"]
    assert (stamps == stamps.dt.normalize()).all()
    assert list(stamps) == pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-01"]).tolist()
