"""Handled Telegram updates: one transaction around an update's whole effect, and its record in it.

Exactly once = the effect and the record of the update_id are committed together, and an update is
confirmed to Telegram only after that commit; a redelivered update finds its record and is not applied
again. Only the replies not yet sent are sent then (a reply sent just before a crash may go twice:
Telegram has no way to make a send idempotent).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from store.chat_models import TelegramUpdate

# Telegram keeps an unconfirmed update for 24 hours; a record is needed no longer than that.
KEEP = timedelta(days=2)


@contextmanager
def one_transaction(sessions: sessionmaker[Session]) -> Iterator[sessionmaker[Session]]:
    """Sessions like `sessions`, whose commits are savepoints of one transaction, committed when the block ends.

    So code that commits several times (the desk does) becomes all or nothing, together with the record.
    On SQLite the transaction starts with BEGIN IMMEDIATE: pysqlite would otherwise start none before the
    first write, and a SAVEPOINT outside a transaction is itself a transaction its RELEASE commits.
    """
    engine = sessions.kw["bind"]
    assert isinstance(engine, Engine)
    options = {key: value for key, value in sessions.kw.items() if key != "bind"}
    with engine.connect() as connection, connection.begin():
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        yield sessionmaker(bind=connection, join_transaction_mode="create_savepoint", **options)


def find(session: Session, *, bot_id: int, update_id: int) -> TelegramUpdate | None:
    """The record of an update already handled, or None."""
    return session.get(TelegramUpdate, (bot_id, update_id))


def record(session: Session, *, bot_id: int, update_id: int, answer: dict[str, Any], now: datetime) -> None:
    """Record an update as handled, with the answer still to send; forget records older than KEEP."""
    session.execute(delete(TelegramUpdate).where(TelegramUpdate.handled_at < now - KEEP))
    session.add(TelegramUpdate(bot_id=bot_id, update_id=update_id, handled_at=now, answer=answer, sent=0))
    session.flush()


def mark_sent(session: Session, *, bot_id: int, update_id: int, sent: int, done: bool) -> None:
    """Count the replies sent so far; when all are, drop the answer (it may quote what was typed)."""
    row = session.get(TelegramUpdate, (bot_id, update_id))
    if row is None:
        return
    row.sent = sent
    if done:
        row.answer = None

