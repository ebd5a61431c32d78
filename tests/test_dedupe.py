"""Dedupe of received mail on Message-ID and content (issue 11, point 19).

The same mail delivered twice (SMTP twice, or SMTP and then IMAP, where the mailbox's server added
trace fields) is stored once; a new mail that reuses an earlier Message-ID is stored and processed,
and the log says so at INFO with row ids only. SQLite and PostgreSQL (tests/conftest.py); Dovecot for IMAP.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mail.imap_poller import ImapConfig, ImapPoller, PollReport
from store.inbound import accept, dedupe_key
from store.mail_models import InboundMail
from tests.imap_server import DovecotServer
from tests.mail_harness import running_harness
from tests.test_imap_poller import dovecot  # noqa: F401 — `dovecot` is a fixture, one Dovecot per session

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
PARENT = "ouder.peeters@gezin.example"
MESSAGE_ID = "<vaste-id-42@gezin.example>"


def a_mail(body: str = "Dag, kan mijn zoon bij jullie terecht?", *, date: str = "Wed, 18 Nov 2026 10:00:00 +0100") -> bytes:
    """A mail as the parent's client wrote it, with a fixed Message-ID (as some form tools and scripts do)."""
    return (
        f"From: Ouder Peeters <{PARENT}>\r\nTo: meldpunt@meldpunt.example\r\nSubject: Vraag\r\n"
        f"Date: {date}\r\nMessage-ID: {MESSAGE_ID}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def as_delivered_to_a_mailbox(raw: bytes) -> bytes:
    """The same mail as an IMAP server serves it: trace fields on top, as the delivering MTA and LDA add them."""
    trace = (
        b"Return-Path: <ouder.peeters@gezin.example>\r\n"
        b"Delivered-To: meldpunt@meldpunt.example\r\n"
        b"Received: from mx.meldpunt.example by imap.meldpunt.example with LMTP id 4f2a; Wed, 18 Nov 2026 10:00:03 +0100\r\n"
        b"Received: from mail.gezin.example (mail.gezin.example [192.0.2.7])\r\n\tby mx.meldpunt.example with ESMTPS; Wed, 18 Nov 2026 10:00:02 +0100\r\n"
        b"X-Original-To: meldpunt@meldpunt.example\r\n"
        b"Authentication-Results: mx.meldpunt.example; dmarc=pass header.from=gezin.example\r\n"
    )
    return trace + raw


def _rows(sessions: sessionmaker[Session]) -> list[InboundMail]:
    with sessions() as session:
        return list(session.scalars(select(InboundMail).order_by(InboundMail.id)))


# --- the key ---------------------------------------------------------------------------------------


def test_trace_fields_line_ends_and_trailing_space_do_not_make_a_new_mail() -> None:
    """What relays and mailboxes change (trace fields, CRLF/LF, trailing blanks) keeps the key."""
    raw = a_mail()
    variants = [
        as_delivered_to_a_mailbox(raw),
        raw.replace(b"\r\n", b"\n"),
        raw.replace(b"terecht?\r\n", b"terecht?  \r\n\r\n\r\n"),
        raw.replace(b"Subject: Vraag", b"Subject:   Vraag"),
    ]
    assert {dedupe_key(variant) for variant in variants} == {dedupe_key(raw)}


def test_another_body_or_date_under_the_same_message_id_is_another_mail() -> None:
    """The author's text or the moment of writing differs: a new mail, though the Message-ID is the same."""
    keys = {dedupe_key(a_mail())[0], dedupe_key(a_mail("Dag, een andere vraag."))[0],
            dedupe_key(a_mail(date="Thu, 19 Nov 2026 08:00:00 +0100"))[0]}
    assert len(keys) == 3


def test_a_reused_message_id_is_stored_and_logged_without_personal_data(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """Two rows, one INFO line naming the row ids only; the same mail again adds nothing."""
    first, created_first = accept(session, a_mail(), source="smtp", envelope_from=PARENT, envelope_to=[], now=NOW)
    session.flush()
    with caplog.at_level(logging.INFO, logger="store.inbound"):
        second, created_second = accept(session, a_mail("Dag, een andere vraag."), source="smtp",
                                        envelope_from=PARENT, envelope_to=[], now=NOW)
    again, created_again = accept(session, a_mail(), source="imap", envelope_from=PARENT, envelope_to=[], now=NOW)
    session.commit()
    assert (created_first, created_second, created_again) == (True, True, False)
    assert again.id == first.id != second.id
    (record,) = [r for r in caplog.records if r.name == "store.inbound"]
    assert record.levelno == logging.INFO
    text = record.getMessage()
    assert str(first.id) in text and str(second.id) in text
    assert "gezin.example" not in text and "vaste-id" not in text


# --- on the wire ----------------------------------------------------------------------------------


async def test_a_new_mail_reusing_a_message_id_is_processed_and_answered(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """Through real SMTP and the real desk: the second mail is not silently dropped; it gets its own answer."""
    async with running_harness(session_factory, tmp_path) as h:
        await h.send(a_mail(), mail_from=PARENT)
        await h.process()
        await h.send(a_mail("Dag, nog een andere vraag over mijn dochter."), mail_from=PARENT)
        await h.send(a_mail("Dag, nog een andere vraag over mijn dochter."), mail_from=PARENT)  # a retry: the same mail
        await h.process()
        answers = h.inbox(PARENT)
    assert len(_rows(session_factory)) == 2
    assert len(answers) == 2


async def test_the_same_mail_over_smtp_and_then_imap_is_stored_once(
    session_factory: sessionmaker[Session], tmp_path: Path, dovecot: DovecotServer
) -> None:
    """Handed to the intake and also delivered to the mailbox the poller reads: one row, the IMAP copy a duplicate."""
    username, password = dovecot.new_user()
    config = ImapConfig(host=dovecot.host, port=dovecot.port, username=username, password=SecretStr(password),
                        ssl=False, poll_seconds=60, idle_seconds=30, timeout_seconds=10)
    async with running_harness(session_factory, tmp_path) as h:
        await h.send(a_mail(), mail_from=PARENT)
    with MailBoxUnencrypted(config.host, config.port, timeout=10) as mailbox:
        mailbox.login(username, password)
        mailbox.append(as_delivered_to_a_mailbox(a_mail()), "INBOX")
    report = await asyncio.to_thread(ImapPoller(config, session_factory, clock=lambda: NOW).poll_once)
    assert report == PollReport(fetched=1, stored=0, duplicates=1)
    assert [row.source for row in _rows(session_factory)] == ["smtp"]
