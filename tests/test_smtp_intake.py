"""SMTP intake on loopback: unknown recipients refused, SIZE enforced, 250 only once the mail is stored."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mail.smtp_intake import IntakeHandler, start_smtp_server
from store.db import create_db_engine, make_session_factory
from store.mail_models import InboundMail, InboundStatus
from tests.mail_harness import running_harness, with_headers

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)
MELDPUNT = "meldpunt@meldpunt.example"


def a_mail(message_id: str = "<form-1@clb-halle.example>", body: str = "Naam aanmelder: Els") -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "els@clb-halle.example", MELDPUNT, "formulier"
    message["Message-ID"] = message_id
    message.set_content(body)
    return message.as_bytes(policy=SMTP)  # CRLF line ends, as real mail clients send


async def serve(sessions: sessionmaker[Session], wakes: list[int], size_limit: int = 100_000) -> tuple[asyncio.Server, int]:
    handler = IntakeHandler(sessions, recipients={MELDPUNT}, clock=lambda: NOW, on_stored=lambda: wakes.append(1))
    server = await start_smtp_server(handler, host="127.0.0.1", port=0, size_limit=size_limit)
    return server, server.sockets[0].getsockname()[1]


@pytest.fixture
async def intake(session_factory: sessionmaker[Session]) -> AsyncIterator[tuple[int, list[int]]]:
    wakes: list[int] = []
    server, port = await serve(session_factory, wakes)
    yield port, wakes
    server.close()
    await server.wait_closed()


def send(port: int, raw: bytes, to: str = MELDPUNT) -> dict[str, tuple[int, bytes]]:
    """Blocking smtplib client (run in a thread: the server shares the test's loop)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.sendmail("els@clb-halle.example", [to], raw)


async def test_a_mail_is_stored_once_and_the_processor_woken(intake: tuple[int, list[int]], session_factory: sessionmaker[Session]) -> None:
    port, wakes = intake
    await asyncio.to_thread(send, port, a_mail())
    await asyncio.to_thread(send, port, a_mail())  # the same Message-ID again: accepted, not stored twice
    with session_factory() as session:
        (stored,) = session.scalars(select(InboundMail)).all()
        parsed = message_from_bytes(stored.raw, policy=default)
        assert parsed["Subject"] == "formulier" and "Naam aanmelder: Els" in parsed.get_content()
        assert stored.status == "received" and stored.source == "smtp"
        assert stored.envelope_to == [MELDPUNT] and stored.message_id == "form-1@clb-halle.example"
    assert wakes == [1]


async def test_unknown_recipient_is_refused_at_rcpt(intake: tuple[int, list[int]], session_factory: sessionmaker[Session]) -> None:
    port, _ = intake
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await asyncio.to_thread(send, port, a_mail(), "iemand@meldpunt.example")
    assert refused.value.recipients["iemand@meldpunt.example"][0] == 550
    with session_factory() as session:
        assert session.scalars(select(InboundMail)).all() == []


async def test_size_is_advertised_and_enforced(intake: tuple[int, list[int]], session_factory: sessionmaker[Session]) -> None:
    port, _ = intake

    def ehlo_and_send_big() -> tuple[str, int]:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            advertised = client.esmtp_features.get("size", "")
            client.mail("els@clb-halle.example")  # no SIZE parameter: the limit must bite during DATA
            client.rcpt(MELDPUNT)
            code, _ = client.data(a_mail(body="Hulpvraag: lang verhaal\n" * 10_000))
            return advertised, code

    advertised, code = await asyncio.to_thread(ehlo_and_send_big)
    assert advertised == "100000" and code == 552
    with session_factory() as session:
        assert session.scalars(select(InboundMail)).all() == []


async def test_a_database_failure_is_a_temporary_error_not_a_lost_mail(tmp_path: Path) -> None:
    # An unmigrated database: storing fails for real, so the sender must keep the mail and retry.
    broken = make_session_factory(create_db_engine(f"sqlite:///{tmp_path / 'leeg.db'}"))
    server, port = await serve(broken, [])
    try:
        with pytest.raises(smtplib.SMTPDataError) as failed:
            await asyncio.to_thread(send, port, a_mail())
        assert failed.value.smtp_code == 451
    finally:
        server.close()
        await server.wait_closed()


# --- lines over 1,000 bytes (issue 11, point 19) --------------------------------------------------

# One line of HTML as web forms and some mailers send it: 6,000 bytes without a line break.
LONG_LINE = "<p>" + " ".join(f"Hulpvraag-deel-{n}" for n in range(350)) + "</p>"


def a_mail_with_a_long_line(line: str = LONG_LINE) -> bytes:
    """A mail whose body is one line far over RFC 5322's 998 bytes, sent as is (8bit, not folded)."""
    head = f"From: els@clb-halle.example\r\nTo: {MELDPUNT}\r\nSubject: formulier\r\nMessage-ID: <lang-1@clb-halle.example>\r\n"
    return (head + "Content-Type: text/html; charset=utf-8\r\n\r\n" + line + "\r\n").encode()


async def test_a_line_over_1000_bytes_is_accepted_and_stored_whole(
    intake: tuple[int, list[int]], session_factory: sessionmaker[Session]
) -> None:
    """A sending server would bounce a permanent 500; the mail is taken (250) and kept byte for byte."""
    port, wakes = intake
    assert len(LONG_LINE) > 6_000
    refused = await asyncio.to_thread(send, port, a_mail_with_a_long_line())
    assert refused == {}
    with session_factory() as session:
        (stored,) = session.scalars(select(InboundMail)).all()
        assert stored.raw == a_mail_with_a_long_line()
    assert wakes == [1]


async def test_command_lines_stay_bounded_before_and_after_a_long_data_line(intake: tuple[int, list[int]]) -> None:
    """Only DATA lines may be long: a 2,000-byte command is refused, also right after a long DATA line."""
    port, _ = intake
    long_command = b"NOOP " + b"x" * 2_000

    def session() -> tuple[list[tuple[int, bytes]], tuple[int, bytes], list[tuple[int, bytes]]]:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            before = []
            for line in (long_command, b"NOOP"):
                client.send(line + b"\r\n")
                before.append(client.getreply())
            client.mail("els@clb-halle.example")
            client.rcpt(MELDPUNT)
            data = client.data(a_mail_with_a_long_line())
            after = []
            for line in (long_command, b"NOOP"):
                client.send(line + b"\r\n")
                after.append(client.getreply())
            return before, data, after

    before, data, after = await asyncio.to_thread(session)
    assert data[0] == 250
    for answers in (before, after):
        assert [code for code, _ in answers] == [500, 250], answers


async def test_a_line_longer_than_the_size_limit_is_refused_and_not_stored(
    intake: tuple[int, list[int]], session_factory: sessionmaker[Session]
) -> None:
    """A single line over SIZE (100,000 here) is a mail over SIZE: refused for good, nothing kept."""
    port, wakes = intake

    def send_without_size() -> int:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            client.mail("els@clb-halle.example")  # no SIZE parameter: the limit must bite during DATA
            client.rcpt(MELDPUNT)
            code, _ = client.data(a_mail_with_a_long_line("x" * 150_000))
            return code

    assert 500 <= await asyncio.to_thread(send_without_size) < 600
    with session_factory() as session:
        assert session.scalars(select(InboundMail)).all() == []
    assert wakes == []


async def test_a_mail_with_a_long_line_is_processed_and_one_over_the_header_limit_quarantined(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """Through the real desk: a long body line is read and answered; a 40 KB header line goes to quarantine.

    Python's parser reads lines of any length; what costs is bounded by mail/limits.py, which sets a
    mail aside with a Dutch reason instead of refusing it on the wire.
    """
    parent = "ouder.peeters@gezin.example"
    async with running_harness(session_factory, tmp_path) as h:
        readable = h.new_mail(parent, "Vraag", "x")
        readable.set_content(LONG_LINE, subtype="html", cte="8bit")
        unreadable = h.new_mail(parent, "Vraag", "Dag, zie het onderwerp.")
        await h.send(readable)
        await h.send(with_headers(unreadable.as_bytes(), Subject="Vraag " + "x" * 40_000))
        await h.process()
        with session_factory() as session:
            first, second = session.scalars(select(InboundMail).order_by(InboundMail.id)).all()
            assert LONG_LINE.encode() in first.raw and first.status is InboundStatus.DONE
            assert second.status is InboundStatus.QUARANTINED and "Subject" in (second.reason or ""), second.reason
        (answer,) = h.inbox(parent)
    assert answer["In-Reply-To"] == readable["Message-ID"]
