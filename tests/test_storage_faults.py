"""Fault injection (bounded, seeded): writers killed with SIGKILL at random moments, and two
writers racing, for every record kind a park keeps. Afterwards the store opens, holds the old or
the new state, and no acknowledged write is lost.

A writer is a forked process that writes in a loop and acknowledges each write through a pipe
only after the store call returned; the parent kills it after a random delay (``random.Random``
seeded per case), then checks the state with a freshly opened store (which also removes the
temporary files the kill left).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from retention.errors import StaleVersionError
from retention.storage.files import is_temp_file
from retention.storage.records import SCENARIOS, SURVEY_MAPPINGS
from retention.storage.store import Store, parameters_token
from tests.store_fixtures import enterprise_validation, survey_import

KILL_TRIALS = 30
RACE_TRIALS = 20
PARK = "testpark"
FORK = multiprocessing.get_context("fork")

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Kind:
    """How to write one record kind, and how to read back what is stored.

    ``write(store, n)`` makes the n-th write (1, 2, ...); ``count(store)`` returns how many
    writes the stored state holds, and raises if the state is not readable and consistent.
    ``increment(store)`` (for races) adds one write on top of whatever is stored.
    """

    name: str
    write: Callable[[Store, int], None]
    count: Callable[[Store], int]
    max_delay_seconds: float = 0.08


def _add_upload(store: Store, n: int) -> None:
    store.uploads.add_upload(
        PARK, "enterprises", VALIDATION, source_name=f"{n}.csv", coordinate_system="wgs84"
    )


def _count_uploads(store: Store) -> int:
    records = store.uploads.list_uploads(PARK)
    for record in records[-3:]:  # the newest listed uploads (any a kill may touch) are whole
        assert len(store.uploads.load_upload(PARK, record.upload_id)) == 2
        store.uploads.load_report(PARK, record.upload_id)
    assert store.uploads.damage_notes(PARK) == []
    return len(records)


def _save_wave(store: Store, n: int) -> None:
    store.waves.save_wave(PARK, SURVEY, source_name=f"{n}.csv", wave=f"w{os.getpid()}-{n}")


def _count_waves(store: Store) -> int:
    records = store.waves.list_waves(PARK)
    newest = [r.wave_id for r in records[-3:]]
    assert len(store.waves.load(PARK, waves=newest)) == len(newest) * len(SURVEY.survey)
    assert store.waves.damage_notes(PARK) == []
    return len(records)


def _record_kind(kind: str) -> tuple[Callable[[Store, int], None], Callable[[Store], int]]:
    def write(store: Store, n: int) -> None:
        current = store.records.get(PARK, kind, "k")
        version = 0 if current is None else current.version
        store.records.put(
            PARK, kind, "k", {"n": version + 1, "文字": "班车"}, expected_version=version
        )

    def count(store: Store) -> int:
        record = store.records.get(PARK, kind, "k")
        if record is None:
            return 0
        assert record.payload["n"] == record.version  # no update lost, none doubled
        return int(record.version)

    return write, count


def _write_parameters(store: Store, n: int) -> None:
    text = store.get_parameters_text(PARK)
    done = 0 if text is None else int(text.split("=")[1])
    store.put_parameters_text(PARK, f"n = {done + 1}\n", expected_version=parameters_token(text))


def _count_parameters(store: Store) -> int:
    text = store.get_parameters_text(PARK)
    return 0 if text is None else int(text.split("=")[1])


VALIDATION = enterprise_validation()
SURVEY = survey_import()
KINDS = [
    Kind("uploads", _add_upload, _count_uploads, 0.15),  # one upload takes ~50 ms
    Kind("waves", _save_wave, _count_waves, 0.1),
    Kind("mappings", *_record_kind(SURVEY_MAPPINGS)),
    Kind("scenarios", *_record_kind(SCENARIOS)),
    Kind("parameters", _write_parameters, _count_parameters),
]


def _writer(open_store: Callable[[], Store], kind: Kind, conn: Any, limit: int) -> None:
    store = open_store()
    conn.send(0)  # ready: the kill comes while writing, not while starting up
    for n in range(1, limit + 1):
        while True:
            try:
                kind.write(store, n)
                break
            except StaleVersionError:
                continue  # raced: read again and retry, as a user reloading would
        conn.send(n)
    conn.close()


def _run(open_store: Callable[[], Store], kind: Kind, *, limit: int) -> tuple[Any, Any]:
    parent, child = FORK.Pipe(duplex=False)
    process = FORK.Process(target=_writer, args=(open_store, kind, child, limit), daemon=True)
    process.start()
    child.close()
    return process, parent


def _acks(conn: Any) -> int:
    count = 0
    try:
        while conn.poll():
            count += conn.recv() > 0
    except EOFError:
        pass
    return count


def _wait_acks(conn: Any, count: int) -> int:
    for _ in range(count):
        assert conn.poll(60), "the writer acknowledged no write within 60 s"
        assert conn.recv() > 0
    return count


def _wait_ready(conn: Any) -> None:
    assert conn.poll(60), "the writer did not open its store within 60 s"
    assert conn.recv() == 0


def _no_temp_files(store: Store) -> None:
    root = getattr(store, "data_dir", None)
    if root is not None and Path(root).is_dir():
        assert [p for p in Path(root).rglob(".*") if is_temp_file(p)] == []


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_a_killed_writer_loses_no_acknowledged_write(store_factory, kind: Kind) -> None:
    rng = random.Random(f"kill-{kind.name}")
    open_store = store_factory()
    acknowledged = 0
    for _ in range(KILL_TRIALS):
        process, conn = _run(open_store, kind, limit=1000)
        _wait_ready(conn)
        # Let 0-2 writes complete (however slow the machine), then kill at a random moment
        # within the next write or so.
        waited = _wait_acks(conn, rng.randint(0, 2))
        time.sleep(rng.uniform(0.0, kind.max_delay_seconds))
        os.kill(process.pid, signal.SIGKILL)
        process.join()
        acknowledged += waited + _acks(conn)
        reopened = open_store()
        stored = kind.count(reopened)
        # old or new state: every acknowledged write, plus at most the one in flight
        assert acknowledged <= stored <= acknowledged + 1, (acknowledged, stored)
        acknowledged = stored
        _no_temp_files(reopened)
    assert acknowledged > 0


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_two_racing_writers_lose_no_update(store_factory, kind: Kind) -> None:
    open_store = store_factory()
    total = 0
    for _ in range(RACE_TRIALS):
        runs = [_run(open_store, kind, limit=1) for _ in range(2)]
        for process, _ in runs:
            process.join(timeout=60)
            assert process.exitcode == 0
        total += sum(_acks(conn) for _, conn in runs)
        assert kind.count(open_store()) == total
    assert total == 2 * RACE_TRIALS
