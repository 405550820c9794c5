"""A throwaway PostgreSQL + PostGIS cluster for the store tests (started once per test session).

``make test`` installs the Debian packages (``scripts/setup.sh``); this module finds
``initdb``/``pg_ctl`` under ``/usr/lib/postgresql/<version>/bin``, creates a cluster in a temp
folder, starts it on a free loopback port (and a socket in the same folder), and stops and
removes it at the end. PostgreSQL refuses to run as root, so as root (CI) the cluster belongs to
the ``postgres`` user the Debian package creates, and the commands run through ``runuser``.

``PARKLIFE_TEST_DATABASE_URL`` points the tests at an existing server instead.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

TEST_URL_ENV = "PARKLIFE_TEST_DATABASE_URL"
REQUIRE_ENV = "PARKLIFE_REQUIRE_POSTGRES"
"""Set (by ``make test``) so a missing PostgreSQL fails the run instead of skipping its tests."""
DATABASE = "parklife_test"


class ClusterUnavailableError(RuntimeError):
    """PostgreSQL or PostGIS is not installed here."""


def _bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    if not found:
        raise ClusterUnavailableError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin)")
    bindir = found[-1].parent
    version = bindir.parent.name
    if not list(Path(f"/usr/share/postgresql/{version}/extension").glob("postgis.control")):
        raise ClusterUnavailableError(
            f"PostGIS is not installed for PostgreSQL {version} (postgresql-{version}-postgis-3)"
        )
    return bindir


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_cluster() -> Iterator[str]:
    """Start a cluster, yield the URL of its ``parklife_test`` database, stop and remove it."""
    configured = os.environ.get(TEST_URL_ENV)
    if configured:
        yield configured
        return
    bindir = _bindir()
    base = Path(tempfile.mkdtemp(prefix="parklife-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError as err:
            raise ClusterUnavailableError(
                "running as root and there is no 'postgres' user"
            ) from err
        os.chown(base, owner.pw_uid, owner.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log = base / "data", base / "server.log"
    port = _free_port()

    def run(*command: str) -> None:
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        options = f"-p {port} -c listen_addresses=127.0.0.1 -k {base} -c max_connections=300"
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
        import pg8000.dbapi

        admin = pg8000.dbapi.connect(user="postgres", host="127.0.0.1", port=port)
        admin.autocommit = True
        admin.cursor().execute(f"CREATE DATABASE {DATABASE}")
        admin.close()
        yield f"postgresql://postgres@127.0.0.1:{port}/{DATABASE}"
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)
