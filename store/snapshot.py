"""A second session that reads the same snapshot of the database as a first: work split over two cores, one answer."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import Connection
from sqlalchemy.orm import Session

READ_AGAIN = {"isolation_level": "REPEATABLE READ"}  # PostgreSQL: every statement of the transaction reads one snapshot
# Any read of the main database's schema table: it starts the transaction's read of the database (its snapshot, in WAL mode).
FIRST_READ = "SELECT count(*) FROM (SELECT 1 FROM main.sqlite_master LIMIT 1)"


@contextmanager
def second_reader(session: Session) -> Iterator[Session | None]:
    """A new session whose reads see exactly what `session`'s reads see from here on; None where that cannot be arranged.

    PostgreSQL: both in REPEATABLE READ, the second on the first's exported snapshot (pg_export_snapshot). SQLite in WAL
    mode on a file: a third connection takes the write lock (BEGIN IMMEDIATE) while both sessions start a read
    transaction, so no commit can fall between their two snapshots; it lets go as soon as both have read, so writers
    wait for milliseconds, not for the work. None when `session` has a transaction open already (its snapshot may be
    older, or hold its own writes), for an in-memory SQLite database (not in WAL mode) and when SQLite's write lock
    stays taken past the busy timeout: the caller then works on `session` alone.
    The second session is closed on leaving, its transaction rolled back (it only read).
    """
    engine = session.get_bind()
    postgresql = engine.dialect.name == "postgresql"
    shareable = not session.in_transaction() if postgresql else _can_share(session.connection())
    if not shareable:
        yield None
        return
    second = Session(bind=engine)
    try:
        yield second if _start_both(session, second, postgresql=postgresql) else None
    finally:
        second.close()


def _start_both(first: Session, second: Session, *, postgresql: bool) -> bool:
    """Start both sessions' reads on one snapshot; False when SQLite's write lock could not be taken."""
    if postgresql:
        _share_exported(first.connection(execution_options=READ_AGAIN), second.connection(execution_options=READ_AGAIN))
        return True
    return _start_together(first.connection(), second.connection())


def _share_exported(first: Connection, second: Connection) -> None:
    """PostgreSQL: start `second`'s transaction on the snapshot of `first`'s (both REPEATABLE READ, so neither moves on)."""
    name = first.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
    # The first statement of second's transaction; the name is the server's own (hex digits and dashes), never outside input.
    second.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{name}'")


def _can_share(connection: Connection) -> bool:
    """SQLite in WAL mode (so on a file), with no transaction open on the connection yet."""
    if connection.dialect.name != "sqlite" or connection.connection.dbapi_connection is None:
        return False
    if connection.connection.dbapi_connection.in_transaction:  # pysqlite opens one at the first write only (store.db)
        return False
    return str(connection.exec_driver_sql("PRAGMA journal_mode").scalar()).lower() == "wal"


def _start_together(first: Connection, second: Connection) -> bool:
    """Start a read transaction on both connections while a third holds the write lock; False when it could not be taken."""
    gate = first.engine.raw_connection()
    try:
        try:
            gate.cursor().execute("BEGIN IMMEDIATE")  # waits for a writer up to busy_timeout (store.db)
        except sqlite3.OperationalError:  # the raw driver's: still locked after busy_timeout
            return False
        for connection in (first, second):
            connection.exec_driver_sql("BEGIN")
            connection.exec_driver_sql(FIRST_READ)
        return True
    finally:
        with suppress(sqlite3.OperationalError):
            gate.rollback()
        gate.close()
