"""Fault injection (bounded, seeded): writers killed with SIGKILL in the middle of a write, and
two writers racing, for every record kind a park keeps and the pseudonymisation key. Afterwards
the store opens, holds the old or the new state, and no acknowledged write is lost.

Kill points are chosen, not only guessed: a writer process counts the steps of one write that
make it durable — file system calls (``os.replace``, ``os.fsync``, ``os.link``, ``os.unlink``,
``os.pwrite``, ``os.ftruncate``, ``os.write``) on the file store, statements and the commit on
PostgreSQL — and kills itself with SIGKILL just before step k. The test runs k = 1, 2, ... until
a write completes, so every step of the write is a kill point once; a few kills at seeded random
moments add points inside C code (GDAL writing a GeoPackage, the server). A writer acknowledges
each write through a pipe only after the store call returned; after each kill the parent checks
the state with a freshly opened store (which also removes the temporary files the kill left).

Races start two writers together (each waits for one go signal after opening its store) and
let each make several writes in a row, so their writes overlap again and again.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import random
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from retention.errors import StaleVersionError
from retention.scenario.model import CloseAmenity, Scenario
from retention.scenario.records import ScenarioStore
from retention.storage.files import is_temp_file
from retention.storage.records import AUDIT, SURVEY_MAPPINGS
from retention.storage.store import Store, parameters_token
from retention.survey.pseudonym_key import key_path, load_or_create_salt
from tests.store_fixtures import enterprise_validation, survey_import

MIN_KILLS = 30
"""Kills per kind (the issue's bound): one before every step of a write, the rest at seeded random
moments (at least RANDOM_KILLS of them)."""
RANDOM_KILLS = 8
MAX_STEPS = 400
"""A write of more steps than this fails the test (the crash-point loop must end)."""
RACE_ROUNDS = 20
RACE_WRITES = 2
"""Two writers per round (20 races per kind), each making this many writes: 80 racing writes."""
KEY_RACES = 20
PARK = "testpark"
FORK = multiprocessing.get_context("fork")

pytestmark = pytest.mark.slow


# --- kill points ------------------------------------------------------------------------------

_FILE_STEPS = ("replace", "fsync", "link", "unlink", "pwrite", "ftruncate", "write", "rename")


def _arm(kill_at_step: int) -> None:
    """In a writer process: SIGKILL this process just before its ``kill_at_step``-th step."""
    count = [0]

    def counted(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def step(*args: Any, **kwargs: Any) -> Any:
            count[0] += 1
            if count[0] == kill_at_step:
                os.kill(os.getpid(), signal.SIGKILL)
            return function(*args, **kwargs)

        return step

    for name in _FILE_STEPS:
        setattr(os, name, counted(getattr(os, name)))
    if "pg8000.dbapi" in sys.modules:  # the PostgreSQL store: each statement and the commit
        dbapi = sys.modules["pg8000.dbapi"]
        for owner, name in ((dbapi.Cursor, "execute"), (dbapi.Cursor, "executemany"),
                            (dbapi.Connection, "commit")):  # fmt: skip
            setattr(owner, name, counted(getattr(owner, name)))


# --- what is written, and how the stored state is counted -------------------------------------


@dataclass(frozen=True)
class Kind:
    """How to write one record kind, and how to read back what is stored.

    ``write(store, n)`` makes the n-th write of a writer (1, 2, ...) on top of whatever is
    stored; ``count(store)`` returns how many writes the stored state holds, and raises if the
    state is not readable and consistent.
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
    label = f"w{os.getpid()}-{n}-{time.monotonic_ns()}"
    store.waves.save_wave(PARK, SURVEY, source_name=f"{n}.csv", wave=label)


def _count_waves(store: Store) -> int:
    records = store.waves.list_waves(PARK)
    newest = [r.wave_id for r in records[-3:]]
    assert len(store.waves.load(PARK, waves=newest)) == len(newest) * len(SURVEY.survey)
    assert store.waves.damage_notes(PARK) == []
    return len(records)


def _write_mapping(store: Store, n: int) -> None:
    current = store.records.get(PARK, SURVEY_MAPPINGS, "k")
    version = 0 if current is None else current.version
    store.records.put(
        PARK, SURVEY_MAPPINGS, "k", {"n": version + 1, "文字": "班车"}, expected_version=version
    )


def _count_mapping(store: Store) -> int:
    record = store.records.get(PARK, SURVEY_MAPPINGS, "k")
    if record is None:
        return 0
    assert record.payload["n"] == record.version  # no update lost, none doubled
    return int(record.version)


def _save_scenario(store: Store, n: int) -> None:
    """Create the park's first scenario, or save the oldest again named after its new version.

    Each write adds one to the sum of the versions (two writers creating at once make two).
    """
    scenarios = ScenarioStore(records=store.records)
    saved = scenarios.list(PARK)
    if not saved:
        scenarios.save(PARK, Scenario("v1", (CloseAmenity("C1"),), "班车"), author="王工")
        return
    oldest = saved[0]  # saved only if nobody saved it since this read (else: read again)
    renamed = replace(oldest.scenario, name=f"v{oldest.version + 1}")
    scenarios.save(PARK, renamed, author="王工", scenario_id=oldest.scenario_id,
                   expected_version=oldest.version)  # fmt: skip


def _count_scenarios(store: Store) -> int:
    saved = ScenarioStore(records=store.records).list(PARK)
    for record in saved:
        assert record.name == f"v{record.version}"  # no save lost, none doubled
    return sum(record.version for record in saved)


def _write_parameters(store: Store, n: int) -> None:
    text = store.get_parameters_text(PARK)
    done = 0 if text is None else int(text.split("=")[1])
    store.put_parameters_text(PARK, f"n = {done + 1}\n", expected_version=parameters_token(text))


def _count_parameters(store: Store) -> int:
    text = store.get_parameters_text(PARK)
    return 0 if text is None else int(text.split("=")[1])


def _log_event(store: Store, n: int) -> None:
    store.records.append(None, AUDIT, {"writer": os.getpid(), "n": n, "park_id": PARK})


def _count_events(store: Store) -> int:
    entries = store.records.read_log(None, AUDIT)
    keys = [(e["writer"], e["n"]) for e in entries]  # every entry whole (a torn one is none)
    assert len(set(keys)) == len(keys)  # none doubled
    return len(entries)


VALIDATION = enterprise_validation()
SURVEY = survey_import()
KINDS = [
    Kind("uploads", _add_upload, _count_uploads, 0.15),  # one upload takes ~50 ms
    Kind("waves", _save_wave, _count_waves, 0.1),
    Kind("mappings", _write_mapping, _count_mapping),
    Kind("scenarios", _save_scenario, _count_scenarios),
    Kind("parameters", _write_parameters, _count_parameters),
    Kind("audit", _log_event, _count_events, 0.03),
]


# --- writer processes --------------------------------------------------------------------------


def _writer(
    open_store: Callable[[], Store],
    kind: Kind,
    conn: Any,
    *,
    writes: int,
    kill_at_step: int | None,
    go: Any | None,
) -> None:  # pragma: no cover (runs in a child process)
    store = open_store()
    conn.send(0)  # ready: the kill comes while writing, not while starting up
    if go is not None:
        go.wait(60)
    for n in range(1, writes + 1):
        if kill_at_step is not None and n == writes:
            _arm(kill_at_step)  # the last write is the one killed
        while True:
            try:
                kind.write(store, n)
                break
            except StaleVersionError:
                continue  # raced: read again and retry, as a user reloading would
        conn.send(n)
    conn.close()
    os._exit(0)  # no clean-up code of the parent's fixtures runs in the child


def _start(open_store: Callable[[], Store], kind: Kind, **options: Any) -> tuple[Any, Any]:
    parent, child = FORK.Pipe(duplex=False)
    process = FORK.Process(
        target=_writer, args=(open_store, kind, child), kwargs=options, daemon=True
    )
    process.start()
    child.close()
    assert parent.poll(60), "the writer did not open its store within 60 s"
    assert parent.recv() == 0
    return process, parent


def _acks(conn: Any) -> int:
    count = 0
    try:
        while conn.poll():
            count += conn.recv() > 0
    except EOFError:
        pass
    return count


def _no_temp_files(store: Store) -> None:
    root = getattr(store, "data_dir", None)
    if root is not None and Path(root).is_dir():
        assert [p for p in Path(root).rglob(".*") if is_temp_file(p)] == []


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_a_writer_killed_at_every_step_loses_no_acknowledged_write(
    store_factory, kind: Kind
) -> None:
    open_store = store_factory()
    tally = _KillTally()
    steps = 0
    for step in range(1, MAX_STEPS + 1):
        process, conn = _start(open_store, kind, writes=1, kill_at_step=step, go=None)
        process.join(60)
        _check_after_kill(open_store, kind, tally, _acks(conn))
        if process.exitcode == 0:  # the write finished: every step was a kill point once
            steps = step - 1
            break
        assert process.exitcode == -signal.SIGKILL, process.exitcode
    assert steps >= 2, f"a {kind.name} write made only {steps} counted steps"
    rng = random.Random(f"kill-{kind.name}")
    for _ in range(max(RANDOM_KILLS, MIN_KILLS - steps)):  # inside C code (GDAL, server) too
        process, conn = _start(open_store, kind, writes=1000, kill_at_step=None, go=None)
        time.sleep(rng.uniform(0.0, kind.max_delay_seconds))
        os.kill(process.pid, signal.SIGKILL)
        process.join(60)
        _check_after_kill(open_store, kind, tally, _acks(conn))
    assert tally.acknowledged > 0


@dataclass
class _KillTally:
    """What the writers killed so far acknowledged, and what the store held after each kill."""

    acknowledged: int = 0
    kills: int = 0
    stored: int = 0


def _check_after_kill(
    open_store: Callable[[], Store], kind: Kind, tally: _KillTally, acks: int
) -> None:
    """Check the reopened store holds every acknowledged write plus at most the one in flight
    per killed writer (killed after it became durable, before its acknowledgement).

    On files the writer's own process makes the write durable, so after each kill the store holds
    at most one write more than acknowledged. A PostgreSQL writer killed after sending COMMIT
    leaves the server to finish that commit on its own time — possibly after this check — so
    there the bound is one unacknowledged write per kill so far. Either way nothing acknowledged
    is missing and nothing once stored disappears.
    """
    tally.acknowledged += acks
    tally.kills += 1
    reopened = open_store()
    stored = kind.count(reopened)
    in_flight = tally.kills if hasattr(reopened, "db") else 1
    floor = tally.acknowledged if in_flight == 1 else max(tally.acknowledged, tally.stored)
    assert floor <= stored <= tally.acknowledged + in_flight, (tally, stored)
    _no_temp_files(reopened)
    if in_flight == 1:  # files: the one in flight is settled, count it as acknowledged
        tally.acknowledged = stored
    tally.stored = stored


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_two_racing_writers_lose_no_update(store_factory, kind: Kind) -> None:
    open_store = store_factory()
    total = 0
    for _ in range(RACE_ROUNDS):
        go = FORK.Event()
        runs = [
            _start(open_store, kind, writes=RACE_WRITES, kill_at_step=None, go=go) for _ in range(2)
        ]
        go.set()  # both have opened their store: they start writing together
        for process, _ in runs:
            process.join(timeout=120)
            assert process.exitcode == 0
        total += sum(_acks(conn) for _, conn in runs)
        assert kind.count(open_store()) == total
    assert total == 2 * RACE_WRITES * RACE_ROUNDS


# --- the pseudonymisation key -------------------------------------------------------------------


def _create_key(secrets_dir: Path, data_dir: Path, conn: Any, kill_at_step: int | None,
                go: Any | None) -> None:  # fmt: skip  # pragma: no cover (child process)
    conn.send("")
    if go is not None:
        go.wait(60)
    if kill_at_step is not None:
        _arm(kill_at_step)
    key = load_or_create_salt(PARK, data_dir=data_dir, secrets_dir=secrets_dir)
    conn.send(key.hex())
    os._exit(0)


def _key_process(tmp_path: Path, *, kill_at_step: int | None, go: Any | None) -> tuple[Any, Any]:
    parent, child = FORK.Pipe(duplex=False)
    args = (tmp_path / "secrets", tmp_path / "data", child, kill_at_step, go)
    process = FORK.Process(target=_create_key, args=args, daemon=True)
    process.start()
    child.close()
    assert parent.poll(60) and parent.recv() == ""
    return process, parent


def _key_sent(conn: Any) -> str | None:
    try:
        return str(conn.recv()) if conn.poll() else None
    except EOFError:
        return None


def test_a_key_creator_killed_at_every_step_leaves_one_good_key_or_none(tmp_path: Path) -> None:
    for step in range(1, MAX_STEPS + 1):  # each kill point from a fresh secrets folder
        folder = tmp_path / f"k{step}"
        secrets_dir, data_dir = folder / "secrets", folder / "data"
        process, conn = _key_process(folder, kill_at_step=step, go=None)
        process.join(60)
        sent = _key_sent(conn)
        assert process.exitcode in (0, -signal.SIGKILL), process.exitcode
        published = key_path(PARK, secrets_dir=secrets_dir)
        before = published.read_bytes() if published.exists() else None
        key = load_or_create_salt(PARK, data_dir=data_dir, secrets_dir=secrets_dir)
        assert sent in (None, key.hex())  # an acknowledged key is the key
        if before is not None:  # published before the kill: whole, and it stays the key
            assert published.read_bytes() == before
        assert sorted(p.name for p in secrets_dir.iterdir()) == [".lock", published.name]
        if process.exitcode == 0:  # the creation finished: every step was a kill point once
            break
    assert step >= 3, f"creating a key made only {step - 1} counted steps"


def test_processes_racing_to_create_the_key_all_get_the_same_one(tmp_path: Path) -> None:
    for trial in range(KEY_RACES):
        folder = tmp_path / f"t{trial}"
        go = FORK.Event()
        runs = [_key_process(folder, kill_at_step=None, go=go) for _ in range(2)]
        go.set()
        for process, _ in runs:
            process.join(60)
            assert process.exitcode == 0
        keys = {_key_sent(conn) for _, conn in runs}
        assert len(keys) == 1 and None not in keys
        stored = load_or_create_salt(PARK, data_dir=folder / "data", secrets_dir=folder / "secrets")
        assert keys == {stored.hex()}
