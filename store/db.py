"""Opening the database: engines with the right SQLite pragmas, sessions, and Alembic migrations.

Alembic is configured in code (no alembic.ini): `alembic_config(url)` gives a `Config` for
`alembic.command` calls, e.g. `command.revision(alembic_config(url), "...", autogenerate=True)`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:  # Alembic is imported where a migration runs: a command on a current database never loads it
    from alembic.config import Config
    from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# busy_timeout first: switching to WAL needs a lock another connection may briefly hold.
# WAL lets readers read while one writer commits; synchronous=FULL because "accepted" must mean
# durable, even after a power cut; SQLite enforces foreign keys only if asked, per connection.
SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout=5000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    # Deleted and overwritten content is zeroed, not left in free pages: purged or re-encrypted data must not linger.
    "PRAGMA secure_delete=ON",
    # The report copies a period's figures into temporary tables (store.figure_queries): kept in memory, not a temp file,
    # and a page cache large enough (64 MiB) that grouping them does not read the same pages from disk again.
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-65536",
)


def create_db_engine(url: str) -> Engine:
    """An engine for url; for SQLite the file's folder is made and each connection gets pragmas."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, json_serializer=_json_dumps, pool_pre_ping=True, hide_parameters=True)
    _ensure_parent_dir(parsed)
    # pysqlite's default transaction handling is relied on: it sends BEGIN only before the first
    # write, so a writer's transaction starts by taking the write lock and busy_timeout queues it
    # (a transaction that read first could fail at once with SQLITE_BUSY_SNAPSHOT under WAL).
    # hide_parameters: database errors are logged, and their parameters are answers and raw mails.
    engine = create_engine(parsed, json_serializer=_json_dumps, hide_parameters=True)
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on engine; objects stay readable after commit (adapters reply after committing)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration pointing at the bundled migrations (and at url, if given)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolates '%': a percent-encoded password must be doubled to survive.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, *, revision: str = "head") -> None:
    """Migrate the database at url to revision (head by default), in one transaction if possible."""
    from alembic import command

    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        fold_wal(engine)  # the log still holds pages from before (migration 0011: plaintext)
    finally:
        # env.py switches SQLite foreign keys off on this connection: it must not return to a pool.
        engine.dispose()


def fold_wal(engine: Engine) -> None:
    """On SQLite, copy the write-ahead log into the database file and empty it, so no older page version lingers there."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def database_revision(url: str) -> str | None:
    """The migration revision the database at url is at, or None if it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest migration revision shipped with this code."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


_REVISION_LINE = re.compile(r'^(down_revision|revision)\b[^=]*=\s*"([^"]*)"', re.MULTILINE)


def is_current(url: str) -> bool:
    """Whether the database at url is at the newest shipped revision, read without loading Alembic.

    A quick check before a command; any doubt (no version table, several heads, an unread file)
    answers False, and the caller migrates with Alembic as before.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for kind, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            (revisions if kind == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        return False
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:
        return False  # no version table yet: a new database
    finally:
        engine.dispose()
    return current == list(heads)


def _json_dumps(value: Any) -> str:
    """Serialise JSON keeping non-ASCII readable in the database ("Zoë", not "Zo\\u00eb")."""
    return json.dumps(value, ensure_ascii=False)


def _ensure_parent_dir(url: URL) -> None:
    """Create the folder and the file of a SQLite database, private (0700, 0600), so a fresh install can start.

    Private whatever the umask: SQLite gives the WAL and shared-memory files the mode of the
    database file, and all three hold minors' data. An empty file is a valid empty database.
    """
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _set_sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Set SQLITE_PRAGMAS on a new DBAPI connection (pragmas are per connection, not per file)."""
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def upsert_into(dialect: str, table: Any) -> PostgresqlInsert | SqliteInsert:
    """An INSERT into table that takes ON CONFLICT, in the dialect's spelling (PostgreSQL or SQLite).

    The dialect's module is imported here, on the paths that write: read commands never load it.
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise NotImplementedError(f"ON CONFLICT is not implemented for {dialect}")
