"""SMTP intake on loopback: unknown recipients refused, SIZE enforced, 250 only once the mail is stored."""

from __future__ import annotations

import asyncio
import smtplib
from email import message_from_bytes
from email.policy import SMTP, default
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mail.smtp_intake import IntakeHandler, start_smtp_server
from store.db import create_db_engine, make_session_factory
from store.mail_models import InboundMail

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
