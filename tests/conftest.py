"""Shared fixtures: a real PostgreSQL server per test session, fresh migrated databases per test.

Use `database_url` (or `session_factory` / `session` built on it) and the test runs twice: on a
fresh SQLite file under tmp_path (`[sqlite]`) and on a fresh database of the shared PostgreSQL
server (`[postgresql]`), both migrated to head by store.db.upgrade_database. `empty_database_url`
gives the same two databases unmigrated. Deselect PostgreSQL with `-m "not postgresql"`.

Without PostgreSQL binaries the PostgreSQL variants skip, unless the CI variable is set: then fail.
"""

from __future__ import annotations

import os

# Set before anything imports httpx: it honours proxy variables, and tests only talk to loopback.
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
# One fixed key for the test session, so databases, CLI runs and child processes all open each other's data.
os.environ.setdefault("MELDPUNT_ENCRYPTION_KEY", "dGVzdC1rZXktZm9yLXRoZS1tZWxkcHVudC1zdWl0ZSE=")
# And one fixed secret for the figures' pupil key (store.figures), so every process counts the same pupil the same.
os.environ.setdefault("MELDPUNT_RAPPORT_SLEUTEL", "test-rapport-sleutel-voor-de-meldpunt-suite")
# The website listens on a fixed port by default: a test of serve that is not about the website leaves it off, so
# runs never contend for 8080; tests/test_site_serve.py turns it on, on a free port.
os.environ.setdefault("MELDPUNT_SITE_LISTEN", "")

import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from store.db import create_db_engine, make_session_factory, upgrade_database

POSTGRES_ROOT = Path("/usr/lib/postgresql")
POSTGRES_USER = "postgres"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker the PostgreSQL variants carry."""
    config.addinivalue_line("markers", "postgresql: runs against the real PostgreSQL test server")


@dataclass(frozen=True)
class PostgresServer:
    """A running test server: trust authentication for the postgres superuser, loopback only."""

    port: int
    host: str = "127.0.0.1"
    user: str = POSTGRES_USER
    started_in: float = 0.0

    def url(self, database: str) -> str:
        """SQLAlchemy URL of one database on this server."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def admin_connection(self) -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit connection to the maintenance database (CREATE/DROP DATABASE)."""
        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        )


def _unavailable(reason: str) -> NoReturn:
    """Skip the PostgreSQL tests, or fail them in CI, which must never skip them."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (the CI variable is set: PostgreSQL tests must run)", pytrace=False)
    pytest.skip(reason)


def _postgres_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin with initdb and pg_ctl, else one on PATH, else None."""
    candidates = sorted(
        POSTGRES_ROOT.glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for bin_dir in candidates:
        if (bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists():
            return bin_dir
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def _as_server_user(args: list[str]) -> list[str]:
    """Root may not run postgres: run the command as the postgres user then."""
    return ["runuser", "-u", POSTGRES_USER, "--", *args] if os.geteuid() == 0 else args


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(args: list[str], log: Path | None = None) -> None:
    """Run a server command; on failure raise with its output and the server log."""
    result = subprocess.run(_as_server_user(args), capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        server_log = log.read_text(errors="replace") if log and log.exists() else ""
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}{server_log}")


def _start_postgres(bin_dir: Path, base: Path) -> PostgresServer:
    """initdb and start a throwaway cluster in base; durability off, it is thrown away anyway."""
    started = time.monotonic()
    data, log, port = base / "data", base / "server.log", _free_port()
    _run([str(bin_dir / "initdb"), "-D", str(data), "-U", POSTGRES_USER, "--auth=trust",
          "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options,
          "start"], log)
    return PostgresServer(port=port, started_in=time.monotonic() - started)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole test session, started on first use."""
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        _unavailable(f"PostgreSQL server binaries (initdb, pg_ctl) not found under "
                     f"{POSTGRES_ROOT}/*/bin or on PATH")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _unavailable("running as root without runuser: cannot start postgres as its own user")
    # Not under pytest's tmp dirs: they are 0700 root-owned, so postgres could not reach them.
    base = Path(tempfile.mkdtemp(prefix="meldpunt-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, user=POSTGRES_USER, group=POSTGRES_USER)
    try:
        server = _start_postgres(bin_dir, base)
        try:
            yield server
        finally:
            # immediate: no checkpoint needed for a cluster we delete next.
            _run([str(bin_dir / "pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "stop"])
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh empty database: a SQLite file (folder not made yet) or a PostgreSQL one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'meldpunt.sqlite3'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"test_{uuid.uuid4().hex[:16]}"
    with server.admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield server.url(name)
    with server.admin_connection() as admin:
        # FORCE: a test may leave connections open (an engine it never disposed).
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """URL of a fresh database migrated to head (SQLite and PostgreSQL variants)."""
    upgrade_database(empty_database_url)
    return empty_database_url


@pytest.fixture
def db_engine(database_url: str) -> Iterator[Engine]:
    """An engine on the migrated test database, disposed after the test."""
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(db_engine: Engine) -> sessionmaker[Session]:
    """The application's session factory on the migrated test database."""
    return make_session_factory(db_engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session on the migrated test database; the test commits, teardown closes (rolls back)."""
    with session_factory() as opened:
        yield opened
