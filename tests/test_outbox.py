"""The outbox against a real aiosmtpd sink on loopback, on SQLite and on PostgreSQL."""

from __future__ import annotations

import email
import logging
import mailbox
import os
import socket
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from alembic import command
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from mail.outbox import (
    DrainReport,
    OutboxConfig,
    OutboxRunner,
    build_message,
    is_loopback,
)
from store import outbox
from store.db import alembic_config, create_db_engine, make_session_factory, upgrade_database
from store.mail_models import AutoReplyLog, OutboxMessage, OutboxStatus
from tests.mail_harness import Clock

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DOMAIN = "meldpunt.example"
SENDER = "intake@meldpunt.example"
COORDINATOR = "coordinator@meldpunt.example"
PROVIDER = "aanbieder@dienst.example"
STAFF = "an.peeters@clb.example"


class Sink:
    """An aiosmtpd handler that keeps what it accepts; `refuse` maps a recipient to an answer."""

    def __init__(self) -> None:
        """Start empty, accepting everyone."""
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        """Accept the recipient unless a refusal is set for it."""
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the envelope and the raw message."""
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        """The accepted messages, parsed."""
        return [_parse(raw) for _, _, raw in self.received]


def _parse(raw: bytes) -> EmailMessage:
    """A raw mail parsed with the modern policy."""
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    """A real SMTP server on loopback (aiosmtpd's threaded controller) and its port."""
    handler, port = Sink(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _config(tmp_path: Path, port: int | None, **changes: Any) -> OutboxConfig:
    """A configuration for the loopback sink on port (None: the Maildir under tmp_path)."""
    values: dict[str, Any] = {
        "from_address": SENDER, "from_name": "Meldpunt Schoolexterne Interventies",
        "domain": DOMAIN, "relay_host": "127.0.0.1" if port else None, "relay_port": port or 587,
        "maildir": tmp_path / "var" / "Maildir", "coordinator_email": COORDINATOR, "timeout": 5,
    }
    return OutboxConfig(**(values | changes))


def _enqueue(sessions: sessionmaker[Session], **fields: Any) -> OutboxMessage:
    """Queue one mail (a dispatch form unless fields say otherwise) and commit it."""
    values: dict[str, Any] = {
        "kind": "formulier", "to_address": PROVIDER, "subject": "Nieuwe aanmelding MSI-2026-0001",
        "body_text": "Er is een nieuwe aanmelding voor jullie aanbod.",
        "domain": DOMAIN, "now": NOW,
    }
    with sessions() as session:
        row = outbox.enqueue(session, **(values | fields))
        session.expunge(row)  # before the commit, so it is not expired and stays readable
        session.commit()
    return row


def _row(sessions: sessionmaker[Session], row_id: int) -> OutboxMessage:
    """The outbox row as stored now."""
    with sessions() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        session.expunge(row)
        return row


def _all_rows(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    """Every outbox row, oldest first."""
    with sessions() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return rows


# --- schema ------------------------------------------------------------------------------------


def test_the_mail_tables_are_migrated(db_engine: Engine) -> None:
    """Revision 0002 creates the outbox, inbound mail, questions and auto-reply tables."""
    tables = set(inspect(db_engine).get_table_names())
    assert {"outbox", "inbound_mail", "questions", "auto_reply_log"} <= tables


def test_a_long_subject_is_stored_whole_and_a_downgrade_cuts_it_to_one_header_line(empty_database_url: str) -> None:
    """Revision 0007 makes the subject text; going back to 0006 cuts what no longer fits instead of failing."""
    upgrade_database(empty_database_url)
    subject = "Re: " + "een heel lang onderwerp " * 100
    engine = create_db_engine(empty_database_url)
    try:
        with make_session_factory(engine)() as session:
            row_id = outbox.enqueue(session, kind="antwoord", to_address=STAFF, subject=subject, body_text="Dag.",
                                    domain=DOMAIN, now=NOW).id
            session.commit()
        with make_session_factory(engine)() as session:
            assert session.get_one(OutboxMessage, row_id).subject == subject
        engine.dispose()
        command.downgrade(alembic_config(empty_database_url), "0006")
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT subject FROM outbox")) == subject[:998]
    finally:
        engine.dispose()


# --- delivery ----------------------------------------------------------------------------------


async def test_a_queued_reply_is_delivered_with_its_headers(
    db_engine: Engine, sink: tuple[Sink, int], tmp_path: Path
) -> None:
    """A reply goes out with our Message-ID, threading and anti-loop headers, text and HTML."""
    handler, port = sink
    # The default expire_on_commit=True: the runner must not depend on the app's factory setting.
    sessions = sessionmaker(bind=db_engine)
    reply = _enqueue(
        sessions, kind="antwoord", to_address=STAFF, subject="Re: Vraag over de coördinatie",
        body_text="Dag,\n\nDe coördinator antwoordt: ja.", body_html="<p>De coördinator: ja.</p>",
        in_reply_to="<vraag-1@clb.example>", references="<start@clb.example> <vraag-1@clb.example>",
    )
    report = await OutboxRunner(sessions, _config(tmp_path, port), clock=Clock(NOW)).drain()

    assert report == DrainReport(sent=1)
    [(mail_from, rcpt_tos, _)] = handler.received
    assert (mail_from, rcpt_tos) == (SENDER, [STAFF])
    [message] = handler.messages()
    assert message["Message-ID"] == reply.message_id == _row(sessions, reply.id).message_id
    assert message["From"] == f"Meldpunt Schoolexterne Interventies <{SENDER}>"
    assert (message["To"], message["Subject"]) == (STAFF, "Re: Vraag over de coördinatie")
    assert message["Date"].datetime == NOW
    assert message["In-Reply-To"] == "<vraag-1@clb.example>"
    assert message["References"] == "<start@clb.example> <vraag-1@clb.example>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["X-Loop"] == f"meldpunt@{DOMAIN}"
    assert message["Precedence"] is None
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and "De coördinator antwoordt: ja." in plain.get_content()
    assert html is not None and "<p>De coördinator: ja.</p>" in html.get_content()
    stored = _row(sessions, reply.id)
    assert (stored.status, stored.attempts, stored.sent_at, stored.last_error) == (
        OutboxStatus.SENT, 1, NOW, None
    )


async def test_a_new_mail_is_auto_generated_plain_text(
    session_factory: sessionmaker[Session], sink: tuple[Sink, int], tmp_path: Path
) -> None:
    """A mail that answers nothing says auto-generated and carries no threading headers."""
    handler, port = sink
    row = _enqueue(session_factory)
    await OutboxRunner(session_factory, _config(tmp_path, port), clock=Clock(NOW)).drain()

    [message] = handler.messages()
    assert message["Message-ID"] == row.message_id
    assert row.message_id.startswith("<") and row.message_id.endswith(f"@{DOMAIN}>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["In-Reply-To"] is None and message["References"] is None
    assert message.get_content_type() == "text/plain"


async def test_without_a_relay_mail_lands_in_a_maildir(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """No relay configured: the mail is filed in a Maildir (made on first use) to read locally."""
    row = _enqueue(session_factory)
    config = _config(tmp_path, None)
    report = await OutboxRunner(session_factory, config, clock=Clock(NOW)).drain()

    assert report == DrainReport(sent=1)
    [stored] = list(mailbox.Maildir(config.maildir, create=False))
    assert stored["Message-ID"] == row.message_id
    assert stored["X-Loop"] == f"meldpunt@{DOMAIN}"
    assert _row(session_factory, row.id).status is OutboxStatus.SENT


async def test_the_maildir_is_for_our_own_account_only(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """Folders 0700 and mails 0600 even under a permissive umask: they hold pupils' identities."""
    _enqueue(session_factory)
    config = _config(tmp_path, None)
    assert config.maildir is not None
    config.maildir.mkdir(parents=True, mode=0o755)  # an older, world-readable folder is tightened
    previous = os.umask(0o022)
    try:
        assert await OutboxRunner(session_factory, config, clock=Clock(NOW)).drain() == DrainReport(sent=1)
    finally:
        os.umask(previous)
    folders = [config.maildir, *(config.maildir / sub for sub in ("tmp", "new", "cur"))]
    assert {oct(stat.S_IMODE(folder.stat().st_mode)) for folder in folders} == {oct(0o700)}
    [filed] = list((config.maildir / "new").iterdir())
    assert oct(stat.S_IMODE(filed.stat().st_mode)) == oct(0o600)


async def test_without_a_relay_or_a_chosen_maildir_nothing_is_sent_and_it_is_said_once(
    session_factory: sessionmaker[Session], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No relay and no MELDPUNT_OUTBOX=maildir: the mail stays queued (not sent, not on disk) and the
    log says so once, not at every drain."""
    row = _enqueue(session_factory)
    config = _config(tmp_path, None, maildir=None)
    runner = OutboxRunner(session_factory, config, clock=Clock(NOW))

    with caplog.at_level(logging.INFO, logger="mail.outbox"):
        reports = [await runner.drain() for _ in range(3)]

    assert reports == [DrainReport()] * 3
    stored = _row(session_factory, row.id)
    assert (stored.status, stored.attempts, stored.sent_at) == (OutboxStatus.QUEUED, 0, None)
    assert not (tmp_path / "var").exists(), "nothing was written to disk"
    notices = [record for record in caplog.records if record.name == "mail.outbox"]
    assert len(notices) == 1 and notices[0].levelno == logging.ERROR
    assert "nergens verstuurd" in notices[0].getMessage() and "MELDPUNT_OUTBOX=maildir" in notices[0].getMessage()


# --- temporary and permanent failures ----------------------------------------------------------


async def test_a_451_is_retried_with_backoff_and_sent_once_the_clock_moves(
    session_factory: sessionmaker[Session], sink: tuple[Sink, int], tmp_path: Path
) -> None:
    """4xx: retry after 1, then 2 minutes; not before it is due; then sent, same Message-ID."""
    handler, port = sink
    handler.refuse[PROVIDER] = f"451 4.2.1 <{PROVIDER}>: mailbox busy, try later"
    row, clock = _enqueue(session_factory), Clock(NOW)
    runner = OutboxRunner(session_factory, _config(tmp_path, port), clock=clock)

    assert await runner.drain() == DrainReport(retried=1)
    first = _row(session_factory, row.id)
    assert (first.status, first.attempts) == (OutboxStatus.RETRY, 1)
    assert first.next_attempt_at == NOW + timedelta(minutes=1)
    assert first.last_error == "SMTP 451: 4.2.1 <adres>: mailbox busy, try later"

    assert await runner.drain() == DrainReport()  # not due yet: nothing is tried
    clock.advance(timedelta(minutes=1))
    assert await runner.drain() == DrainReport(retried=1)
    assert _row(session_factory, row.id).next_attempt_at == clock.now + timedelta(minutes=2)

    del handler.refuse[PROVIDER]
    clock.advance(timedelta(minutes=2))
    assert await runner.drain() == DrainReport(sent=1)
    [message] = handler.messages()
    assert message["Message-ID"] == row.message_id
    done = _row(session_factory, row.id)
    assert (done.status, done.attempts, done.sent_at) == (OutboxStatus.SENT, 3, clock.now)


async def test_a_550_fails_and_the_coordinator_gets_an_alarm(
    session_factory: sessionmaker[Session],
    sink: tuple[Sink, int],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """5xx: failed at once; an alarm naming Message-ID, recipient and reason goes out next drain."""
    caplog.set_level(logging.DEBUG)
    handler, port = sink
    handler.refuse[PROVIDER] = f"550 5.1.1 <{PROVIDER}>: Recipient address rejected"
    row = _enqueue(session_factory, referral_id=None)
    runner = OutboxRunner(session_factory, _config(tmp_path, port), clock=Clock(NOW))

    assert await runner.drain() == DrainReport(failed=1)
    failed, alarm = _all_rows(session_factory)
    assert (failed.status, failed.last_error) == (
        OutboxStatus.FAILED, "SMTP 550: 5.1.1 <adres>: Recipient address rejected"
    )
    assert (alarm.kind, alarm.to_address, alarm.status) == ("alarm", COORDINATOR, "queued")
    assert row.message_id in alarm.body_text and PROVIDER in alarm.body_text
    assert "SMTP 550" in alarm.body_text

    assert await runner.drain() == DrainReport(sent=1)
    [message] = handler.messages()
    assert message["To"] == COORDINATOR
    assert message["Subject"] == "Meldpunt: een e-mail kon niet worden afgeleverd"
    assert message["Message-ID"] == alarm.message_id
    # Our logs name Message-IDs and codes, never an address or a text (aiosmtpd's own do).
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name == "mail.outbox")
    assert row.message_id in ours and "SMTP 550" in ours
    assert PROVIDER not in ours and COORDINATOR not in ours and "aanmelding" not in ours.lower()


async def test_there_is_no_alarm_about_an_alarm(
    session_factory: sessionmaker[Session], sink: tuple[Sink, int], tmp_path: Path
) -> None:
    """When the alarm itself bounces with 5xx, nothing new is queued (no loop)."""
    handler, port = sink
    handler.refuse[COORDINATOR] = "550 5.1.1 No such user"
    _enqueue(session_factory, kind="alarm", to_address=COORDINATOR)
    runner = OutboxRunner(session_factory, _config(tmp_path, port), clock=Clock(NOW))

    assert await runner.drain() == DrainReport(failed=1)
    assert [row.kind for row in _all_rows(session_factory)] == ["alarm"]


async def test_retries_that_run_out_fail_and_raise_an_alarm(
    session_factory: sessionmaker[Session], sink: tuple[Sink, int], tmp_path: Path
) -> None:
    """After max_attempts temporary failures the mail fails for good, with an alarm."""
    handler, port = sink
    handler.refuse[PROVIDER] = "452 4.2.2 Mailbox full"
    _enqueue(session_factory)
    clock = Clock(NOW)
    config = _config(tmp_path, port, max_attempts=2)
    runner = OutboxRunner(session_factory, config, clock=clock)

    assert await runner.drain() == DrainReport(retried=1)
    clock.advance(timedelta(minutes=1))
    assert await runner.drain() == DrainReport(failed=1)
    failed, alarm = _all_rows(session_factory)
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, 2)
    assert alarm.kind == "alarm"


async def test_a_header_injection_fails_without_reaching_the_relay(
    session_factory: sessionmaker[Session], sink: tuple[Sink, int], tmp_path: Path
) -> None:
    """A line break in a stored subject could smuggle in headers: failed for good, nothing sent."""
    handler, port = sink
    row = _enqueue(session_factory, subject="Vraag\r\nBcc: iedereen@example.org")
    runner = OutboxRunner(session_factory, _config(tmp_path, port), clock=Clock(NOW))

    assert await runner.drain() == DrainReport(failed=1)
    assert handler.received == []
    assert _row(session_factory, row.id).last_error == "ongeldig bericht: ValueError"


async def test_a_refused_connection_is_retried(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """Nobody listening on the relay port: a connection error, so retry, not failure."""
    row = _enqueue(session_factory)
    runner = OutboxRunner(session_factory, _config(tmp_path, _free_port()), clock=Clock(NOW))

    assert await runner.drain() == DrainReport(retried=1)
    stored = _row(session_factory, row.id)
    assert stored.status is OutboxStatus.RETRY and stored.last_error


# --- crashes -----------------------------------------------------------------------------------


async def test_a_crash_between_claim_and_finish_resends_the_same_message_id(
    session_factory: sessionmaker[Session], sink: tuple[Sink, int], tmp_path: Path
) -> None:
    """After a crash past the relay's 250, the resend reuses the Message-ID (receiver dedupes)."""
    # A `sending` row younger than STALE_AFTER may still be in another runner's hands: left alone.
    handler, port = sink
    row, config = _enqueue(session_factory), _config(tmp_path, port)
    with session_factory() as session:
        [claimed] = outbox.claim_due(session, now=NOW, limit=10)
        session.commit()
    await aiosmtplib.send(build_message(claimed, config), sender=SENDER, recipients=[PROVIDER],
                          hostname="127.0.0.1", port=port)

    soon = OutboxRunner(session_factory, config, clock=Clock(NOW + timedelta(minutes=5)))
    assert await soon.drain() == DrainReport()  # perhaps still being sent by someone else
    later = OutboxRunner(session_factory, config, clock=Clock(NOW + timedelta(minutes=11)))
    assert await later.drain() == DrainReport(sent=1)

    first, second = handler.messages()
    assert first["Message-ID"] == second["Message-ID"] == row.message_id
    stored = _row(session_factory, row.id)
    assert (stored.status, stored.attempts) == (OutboxStatus.SENT, 2)


async def test_a_mail_that_keeps_crashing_the_runner_fails_with_an_alarm(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """A stale `sending` row out of attempts is failed on recovery, not retried for ever."""
    row, config = _enqueue(session_factory), _config(tmp_path, None, max_attempts=1)
    with session_factory() as session:
        outbox.claim_due(session, now=NOW, limit=10)
        session.commit()
    runner = OutboxRunner(session_factory, config, clock=Clock(NOW + timedelta(minutes=11)))

    assert await runner.drain() == DrainReport(sent=1)  # the alarm, queued and sent at once
    failed, alarm = _all_rows(session_factory)
    assert (failed.id, failed.status, alarm.kind, alarm.status) == (
        row.id, OutboxStatus.FAILED, "alarm", OutboxStatus.SENT
    )
    [delivered] = list(mailbox.Maildir(config.maildir, create=False))
    assert delivered["To"] == COORDINATOR


# --- configuration -----------------------------------------------------------------------------


async def test_a_remote_relay_without_starttls_is_refused(
    session_factory: sessionmaker[Session], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No personal data over an unencrypted link: nothing is claimed, a Dutch error is logged."""
    row = _enqueue(session_factory)
    config = _config(tmp_path, None, relay_host="smtp.provider.example", starttls=False)

    with caplog.at_level(logging.ERROR, logger="mail.outbox"):
        report = await OutboxRunner(session_factory, config, clock=Clock(NOW)).drain()

    assert report == DrainReport()
    assert "STARTTLS staat uit" in caplog.text and "onversleuteld" in caplog.text
    stored = _row(session_factory, row.id)
    assert (stored.status, stored.attempts) == (OutboxStatus.QUEUED, 0)
    assert config.model_copy(update={"starttls": True}).refusal() is None
    assert config.model_copy(update={"relay_host": "127.0.0.1"}).refusal() is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("LOCALHOST.", True), ("smtp.example.org", False),
     ("10.0.0.1", False), ("localhost.example.org", False)],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    """Loopback is decided from the name alone: no DNS lookup can redirect it."""
    assert is_loopback(host) is loopback


# --- store functions ---------------------------------------------------------------------------


def test_backoff_doubles_from_a_minute_up_to_an_hour() -> None:
    """1, 2, 4, … minutes after each failed attempt, never more than an hour."""
    waits = [outbox.backoff(attempts) for attempts in (1, 2, 3, 6, 7, 20)]
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 32, 60, 60)]


def test_claim_takes_due_mails_once(session: Session) -> None:
    """Only queued or retry mails that are due are claimed, each once, attempts counted."""
    due = outbox.enqueue(session, kind="formulier", to_address=PROVIDER, subject="a",
                         body_text="a", domain=DOMAIN, now=NOW)
    later = outbox.enqueue(session, kind="formulier", to_address=PROVIDER, subject="b",
                           body_text="b", domain=DOMAIN, now=NOW + timedelta(hours=1))
    session.commit()

    claimed = outbox.claim_due(session, now=NOW, limit=10)
    session.commit()
    assert [(m.id, m.status, m.attempts) for m in claimed] == [(due.id, OutboxStatus.SENDING, 1)]
    assert outbox.claim_due(session, now=NOW, limit=10) == []
    waiting = session.get(OutboxMessage, later.id)
    assert waiting is not None and waiting.status is OutboxStatus.QUEUED


@pytest.mark.postgresql
@pytest.mark.parametrize("empty_database_url", ["postgresql"], indirect=True)
def test_two_runners_claim_disjoint_mails_on_postgresql(
    session_factory: sessionmaker[Session],
) -> None:
    """SKIP LOCKED: a second claimer skips rows the first holds, instead of waiting for them."""
    with session_factory() as setup:
        ids = [outbox.enqueue(setup, kind="formulier", to_address=PROVIDER, subject=str(n),
                              body_text=str(n), domain=DOMAIN, now=NOW).id for n in range(3)]
        setup.commit()
    with session_factory() as first, session_factory() as second:
        taken_first = [m.id for m in outbox.claim_due(first, now=NOW, limit=2)]
        taken_second = [m.id for m in outbox.claim_due(second, now=NOW, limit=10)]
        first.commit()
        second.commit()
    assert taken_first == ids[:2] and taken_second == ids[2:]


def test_our_message_ids_and_bounces(session: Session) -> None:
    """Our Message-IDs are recognised however they are written; a bounce is noted on the row."""
    sent = outbox.enqueue(session, kind="formulier", to_address=PROVIDER, subject="s",
                          body_text="b", domain=DOMAIN, now=NOW)
    session.commit()
    bare = sent.message_id.strip("<>")

    assert outbox.is_our_message_id(session, sent.message_id)
    assert outbox.is_our_message_id(session, f"  <{bare.upper()}> ")
    assert not outbox.is_our_message_id(session, f"<{'0' * 32}@{DOMAIN}>")
    assert outbox.find_by_message_id(session, bare) is sent

    later = NOW + timedelta(hours=2)
    assert outbox.record_bounce(session, bare, detail=f"5.1.1 <{PROVIDER}> unknown", now=later)
    assert (sent.bounced_at, sent.bounce_detail) == (later, "5.1.1 <adres> unknown")
    assert not outbox.record_bounce(session, "<elders@example.org>", detail="x", now=later)


def test_auto_replies_are_counted_per_address_per_brussels_day(session: Session) -> None:
    """The limit counts today's replies (Brussels calendar day) to one address, any case."""
    # 22:30 UTC on 1 March is 23:30 in Brussels: yesterday. 23:30 UTC is already 2 March there.
    for at in (datetime(2026, 3, 1, 22, 30, tzinfo=UTC), datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
               NOW - timedelta(hours=1)):
        outbox.log_auto_reply(session, "An.Peeters@CLB.example", now=at)
    outbox.log_auto_reply(session, "iemand.anders@clb.example", now=NOW)
    session.commit()

    assert outbox.auto_replies_today(session, STAFF, now=NOW) == 2
    assert outbox.auto_replies_today(session, " AN.PEETERS@clb.example", now=NOW) == 2
    assert outbox.auto_replies_today(session, STAFF, now=NOW + timedelta(days=1)) == 0
    addresses = set(session.scalars(select(AutoReplyLog.address)))
    assert addresses == {STAFF, "iemand.anders@clb.example"}
