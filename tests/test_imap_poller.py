"""The IMAP poller against a real Dovecot: stored once and durably, only then marked seen or moved.

One Dovecot per test session (start ~0.1 s, stop 1-3 s), a fresh mail user per test. The database
tests run on SQLite and PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted
from pydantic import SecretStr, ValidationError
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from mail.imap_poller import ImapConfig, ImapPoller, PollReport
from store.db import create_db_engine, make_session_factory
from store.inbound import accept
from store.mail_models import InboundMail
from tests.imap_server import DovecotServer, free_port, require_dovecot, start_dovecot
from tests.test_runners import until

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
GUARD = 60.0  # seconds: a guard against a hang, never a speed limit (the waits end on events)
PROCESSED = "Verwerkt"


def _clock() -> datetime:
    """The fixed clock every poller here gets."""
    return NOW


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A real Dovecot for the whole session; skipped when not installed, but never in CI."""
    require_dovecot()
    server = start_dovecot()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap_config(dovecot: DovecotServer) -> ImapConfig:
    """Settings for a fresh mail user on the test Dovecot (plain IMAP on loopback)."""
    username, password = dovecot.new_user()
    return ImapConfig(host=dovecot.host, port=dovecot.port, username=username, password=SecretStr(password),
                      ssl=False, poll_seconds=60, idle_seconds=30, timeout_seconds=10)


@contextmanager
def _imap(config: ImapConfig, folder: str | None = "INBOX") -> Iterator[MailBoxUnencrypted]:
    """A separate client, as a person or the mail server would have, to put mail in and look."""
    with MailBoxUnencrypted(config.host, config.port, timeout=10) as mailbox:
        mailbox.login(config.username, config.password.get_secret_value(), initial_folder=folder)
        yield mailbox


def _mail(n: int, *, message_id: str | None = None, body: str = "Graag een interventie.") -> bytes:
    """A small raw mail with CRLF line ends, as it travels over IMAP."""
    message_id = message_id or f"<aanmelding-{n}@school.test>"
    return (
        f"Return-Path: <leerkracht{n}@school.test>\r\n"
        f"Delivered-To: meldpunt@example.test\r\n"
        f"From: Leerkracht {n} <leerkracht{n}@school.test>\r\n"
        f"To: meldpunt@example.test\r\n"
        f"Subject: Aanmelding {n}\r\n"
        f"Message-ID: {message_id}\r\n"
        f"Date: Mon, 02 Mar 2026 10:30:00 +0100\r\n"
        f"\r\n{body}\r\n"
    ).encode()


def _append(config: ImapConfig, *raws: bytes, folder: str = "INBOX") -> None:
    """Deliver mails into a folder with IMAP APPEND."""
    with _imap(config) as mailbox:
        for raw in raws:
            mailbox.append(raw, folder)


def _flags(config: ImapConfig, folder: str) -> list[tuple[str, ...]]:
    """The flags of every message in a folder, read without changing them."""
    with _imap(config, folder) as mailbox:
        return [m.flags for m in mailbox.fetch(mark_seen=False, headers_only=True)]


def _stored(sessions: sessionmaker[Session]) -> list[InboundMail]:
    """All inbound mail rows, oldest first."""
    with sessions() as session:
        return list(session.scalars(select(InboundMail).order_by(InboundMail.id)))


def _read_only_sessions(database_url: str) -> sessionmaker[Session]:
    """Sessions on the same database, opened read-only: every INSERT fails, as on a broken disk."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # SQLite's own read-only mode: root ignores file permissions, SQLite does not ignore this.
        return make_session_factory(create_db_engine(f"sqlite:///file:{url.database}?mode=ro&uri=true"))
    engine = create_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})
    return make_session_factory(engine)


# --- configuration ---------------------------------------------------------------------------


def test_config_defaults_and_secret() -> None:
    """Defaults follow the brief; the password never shows in a repr or a log line."""
    config = ImapConfig(host="imap.example.test", username="meldpunt", password=SecretStr("s3cret"))
    assert (config.port, config.ssl, config.starttls) == (993, True, False)
    assert (config.folder, config.processed_folder) == ("INBOX", PROCESSED)
    assert (config.poll_seconds, config.idle_seconds) == (60, 300)
    assert "s3cret" not in repr(config)
    with pytest.raises(ValidationError):
        ImapConfig(host="h", username="u", password=SecretStr("p"), ssl=True, starttls=True)
    with pytest.raises(ValidationError):
        ImapConfig(host="h", username="u", password=SecretStr("p"), idle_seconds=30 * 60)  # RFC 2177: < 29 min


# --- poll_once -------------------------------------------------------------------------------


def test_unseen_mail_is_stored_once_then_moved(
    imap_config: ImapConfig, session_factory: sessionmaker[Session]
) -> None:
    """Each unseen mail becomes one row with its exact bytes, then sits seen in Verwerkt."""
    raws = [_mail(1), _mail(2)]
    _append(imap_config, *raws)
    poller = ImapPoller(imap_config, session_factory, clock=_clock)

    assert poller.poll_once() == PollReport(fetched=2, stored=2, duplicates=0)

    rows = _stored(session_factory)
    assert [row.raw for row in rows] == raws
    assert {row.source for row in rows} == {"imap"}
    assert rows[0].message_id == "aanmelding-1@school.test"
    assert rows[0].envelope_from == "leerkracht1@school.test"
    assert rows[0].envelope_to == ["meldpunt@example.test"]
    assert rows[0].received_at == NOW
    assert _flags(imap_config, "INBOX") == []
    assert all("\\Seen" in flags for flags in _flags(imap_config, PROCESSED))
    assert len(_flags(imap_config, PROCESSED)) == 2
    assert poller.poll_once() == PollReport()


def test_without_processed_folder_mail_is_marked_seen_in_place(
    imap_config: ImapConfig, session_factory: sessionmaker[Session]
) -> None:
    """With processed_folder=None the mail stays in INBOX, marked seen, and is not fetched again."""
    config = imap_config.model_copy(update={"processed_folder": None})
    _append(config, _mail(1))
    poller = ImapPoller(config, session_factory, clock=_clock)

    assert poller.poll_once() == PollReport(fetched=1, stored=1)
    assert [("\\Seen" in flags) for flags in _flags(config, "INBOX")] == [True]
    with _imap(config) as mailbox:
        assert not mailbox.folder.exists(PROCESSED)
    assert poller.poll_once() == PollReport()
    assert len(_stored(session_factory)) == 1


def test_mail_stays_unseen_when_storing_fails(
    imap_config: ImapConfig, database_url: str, session_factory: sessionmaker[Session]
) -> None:
    """A database that refuses the write: the poll fails and the mail stays unseen in INBOX."""
    _append(imap_config, _mail(1))
    broken = _read_only_sessions(database_url)
    try:
        with pytest.raises(SQLAlchemyError):
            ImapPoller(imap_config, broken, clock=_clock).poll_once()
    finally:
        broken.kw["bind"].dispose()

    assert [("\\Seen" in flags) for flags in _flags(imap_config, "INBOX")] == [False]
    assert _flags(imap_config, PROCESSED) == []
    assert _stored(session_factory) == []
    # Once the database works again the next poll takes it.
    assert ImapPoller(imap_config, session_factory, clock=_clock).poll_once().stored == 1


def test_same_message_id_twice_is_stored_once(
    imap_config: ImapConfig, session_factory: sessionmaker[Session]
) -> None:
    """Two copies of one mail (the second with other trace fields) give one row; both are moved."""
    poller = ImapPoller(imap_config, session_factory, clock=_clock)
    second_route = b"Received: from relay2.school.test by mx.example.test; Mon, 02 Mar 2026 10:31:00 +0100\r\n" + _mail(1)
    _append(imap_config, _mail(1), second_route)
    assert poller.poll_once() == PollReport(fetched=2, stored=1, duplicates=1)
    _append(imap_config, _mail(1))  # again later, in a separate poll
    assert poller.poll_once() == PollReport(fetched=1, stored=0, duplicates=1)

    assert len(_stored(session_factory)) == 1
    assert _flags(imap_config, "INBOX") == []
    assert len(_flags(imap_config, PROCESSED)) == 3


def test_crash_between_commit_and_mark_seen_is_not_stored_twice(
    imap_config: ImapConfig, session_factory: sessionmaker[Session]
) -> None:
    """A mail committed by a poll that died before \\Seen is recognised and only marked now."""
    raw = _mail(1)
    _append(imap_config, raw)
    with session_factory.begin() as session:  # what the crashed poll had already committed
        accept(session, raw, source="imap", envelope_from=None, envelope_to=[], now=NOW)

    report = ImapPoller(imap_config, session_factory, clock=_clock).poll_once()

    assert report == PollReport(fetched=1, stored=0, duplicates=1)
    assert len(_stored(session_factory)) == 1
    assert _flags(imap_config, "INBOX") == []


def test_uidvalidity_change_stores_nothing_new(
    imap_config: ImapConfig, session_factory: sessionmaker[Session]
) -> None:
    """A recreated folder (new UIDVALIDITY, UIDs from 1 again) with the same mails adds no rows."""
    config = imap_config.model_copy(update={"folder": "Intake", "processed_folder": None})
    raws = [_mail(1), _mail(2)]
    with _imap(config, folder=None) as mailbox:
        mailbox.folder.create("Intake")
        before = mailbox.folder.status("Intake")["UIDVALIDITY"]
    _append(config, *raws, folder="Intake")
    poller = ImapPoller(config, session_factory, clock=_clock)
    assert poller.poll_once().stored == 2

    with _imap(config, folder=None) as mailbox:
        mailbox.folder.delete("Intake")
        mailbox.folder.create("Intake")
        assert mailbox.folder.status("Intake")["UIDVALIDITY"] != before
    _append(config, *raws, folder="Intake")

    assert poller.poll_once() == PollReport(fetched=2, stored=0, duplicates=2)
    assert len(_stored(session_factory)) == 2
    assert all("\\Seen" in flags for flags in _flags(config, "Intake"))


def test_processed_folder_is_created_when_missing(
    imap_config: ImapConfig, session_factory: sessionmaker[Session]
) -> None:
    """A processed folder that does not exist yet (a name with spaces) is created on first use."""
    config = imap_config.model_copy(update={"processed_folder": "Verwerkt door Meldpunt"})
    _append(config, _mail(1))
    assert ImapPoller(config, session_factory, clock=_clock).poll_once().stored == 1
    assert len(_flags(config, "Verwerkt door Meldpunt")) == 1


# --- run -------------------------------------------------------------------------------------


async def test_run_picks_up_new_mail_via_idle_and_stops(
    dovecot: DovecotServer, imap_config: ImapConfig, session_factory: sessionmaker[Session]
) -> None:
    """With an hour between polls and an IDLE renewed only after 29 minutes, only IDLE can explain a pickup,
    and only the stop flag an end, within the guard."""
    config = imap_config.model_copy(update={"poll_seconds": 3600, "idle_seconds": 29 * 60 - 1})
    woken = asyncio.Event()
    poller = ImapPoller(config, session_factory, clock=_clock, on_stored=woken.set)
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    await until(lambda: dovecot.idling(config.username) == 1, timeout=GUARD, what="the first poll found nothing and IDLEs")
    assert not woken.is_set()

    await asyncio.to_thread(_append, config, _mail(1))
    await asyncio.wait_for(woken.wait(), timeout=GUARD)

    stop.set()
    await asyncio.wait_for(task, timeout=GUARD)
    assert len(_stored(session_factory)) == 1
    assert _flags(imap_config, "INBOX") == []


async def test_run_stores_waiting_mail_at_start(
    imap_config: ImapConfig, session_factory: sessionmaker[Session]
) -> None:
    """Mail that arrived while the assistant was down is taken at once, and the processor woken."""
    _append(imap_config, _mail(1), _mail(2))
    woken = asyncio.Event()
    stop = asyncio.Event()
    poller = ImapPoller(imap_config, session_factory, clock=_clock, on_stored=woken.set)
    task = asyncio.create_task(poller.run(stop))
    await asyncio.wait_for(woken.wait(), timeout=GUARD)
    stop.set()
    await asyncio.wait_for(task, timeout=GUARD)
    assert len(_stored(session_factory)) == 2


async def test_run_recovers_when_the_connection_drops_during_idle(
    dovecot: DovecotServer, imap_config: ImapConfig, session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A connection killed mid-IDLE (no BYE): one warning, a reconnect after 1 s, mail still taken."""
    caplog.set_level(logging.WARNING, logger="mail.imap_poller")
    woken = asyncio.Event()
    stop = asyncio.Event()
    poller = ImapPoller(imap_config, session_factory, clock=_clock, on_stored=woken.set)
    task = asyncio.create_task(poller.run(stop))
    await until(lambda: dovecot.idling(imap_config.username) == 1, timeout=GUARD, what="the poller IDLEs")
    assert dovecot.drop_connections(imap_config.username) == 1

    await asyncio.to_thread(_append, imap_config, _mail(1))
    await asyncio.wait_for(woken.wait(), timeout=GUARD)
    stop.set()
    await asyncio.wait_for(task, timeout=GUARD)
    assert len(_stored(session_factory)) == 1
    failures = [r for r in caplog.records if "IMAP-poll mislukt" in r.getMessage()]
    assert len(failures) == 1


async def test_run_backs_off_on_connection_errors_without_crashing(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """A server that is down: logged (no credentials), retried after 1 s, 2 s …; stop still works."""
    config = ImapConfig(host="127.0.0.1", port=free_port(), username="meldpunt@example.test",
                        password=SecretStr("s3cret"), ssl=False, timeout_seconds=2)
    sessions = make_session_factory(create_db_engine(f"sqlite:///{tmp_path / 'unused.sqlite3'}"))
    stop = asyncio.Event()
    caplog.set_level(logging.WARNING, logger="mail.imap_poller")
    task = asyncio.create_task(ImapPoller(config, sessions, clock=_clock).run(stop))

    def failures() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "IMAP-poll mislukt" in r.getMessage()]

    # Attempts at 0 s and 1 s; stopped during the 2 s backoff that follows, so no third one.
    await until(lambda: len(failures()) >= 2, timeout=GUARD, what="two failed attempts")
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, timeout=GUARD)

    assert len(failures()) == 2
    assert "opnieuw over 1 s" in failures()[0].getMessage()
    assert "opnieuw over 2 s" in failures()[1].getMessage()
    assert not any("s3cret" in r.getMessage() or "meldpunt@" in r.getMessage() for r in caplog.records)



def _nested(depth: int) -> bytes:
    """A mail of depth nested multiparts: the standard parser recurses once per level."""
    head = _mail(9).split(b"\r\n\r\n", 1)[0] + b"\r\nMIME-Version: 1.0\r\n"
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(depth))
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return head + opening + b"Content-Type: text/plain\r\n\r\nDiep.\r\n" + closing


def test_a_hostile_mail_does_not_stop_the_poll(imap_config: ImapConfig, session_factory: sessionmaker[Session]) -> None:
    """A 1000-deep mail is stored as bytes for the processor to quarantine; the mail after it still arrives."""
    deep = _nested(1000)
    _append(imap_config, deep, _mail(10))
    poller = ImapPoller(imap_config, session_factory, clock=_clock)

    assert poller.poll_once() == PollReport(fetched=2, stored=2, duplicates=0)
    rows = _stored(session_factory)
    assert rows[0].raw == deep and rows[0].envelope_from == "leerkracht9@school.test"
    assert rows[1].message_id == "aanmelding-10@school.test"
