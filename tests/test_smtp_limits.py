"""SMTP intake limits on loopback: connections (total, per IP), recipients per mail, DATA bytes in flight.

The clients here speak SMTP line by line on the test's own loop, so a test decides exactly which
session is where: every count below follows from the order of commands, never from timing.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mail.smtp_intake import IntakeHandler, start_smtp_server
from mail.smtp_limits import IntakeLimits
from store.mail_models import InboundMail
from tests.test_mail_crash import Service, free_port
from tests.test_smtp_intake import MELDPUNT, NOW, a_mail, send

SENDER = "els@clb-halle.example"


class Client:
    """One SMTP connection driven command by command; replies are (code, text) of the last line."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, greeting: tuple[int, str]) -> None:
        """Keep the streams and the server's first reply."""
        self.reader, self.writer, self.greeting = reader, writer, greeting

    @classmethod
    async def connect(cls, port: int, *, source: str = "127.0.0.1") -> Client:
        """Connect from source (another loopback address counts as another client) and read the greeting."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        client = cls(reader, writer, (0, ""))
        client.greeting = await client.reply()
        return client

    async def reply(self) -> tuple[int, str]:
        """Read one (possibly multi-line) reply."""
        while True:
            line = (await self.reader.readline()).decode("ascii")
            if not line:
                return 0, ""  # the server closed the connection
            if line[3:4] != "-":
                return int(line[:3]), line[4:].strip()

    async def command(self, line: str) -> tuple[int, str]:
        """Send one command and read its reply."""
        self.writer.write(line.encode("ascii") + b"\r\n")
        await self.writer.drain()
        return await self.reply()

    async def envelope(self, *recipients: str) -> None:
        """EHLO, MAIL and RCPT for recipients, each accepted."""
        assert (await self.command("EHLO client.clb-halle.example"))[0] == 250
        assert (await self.command(f"MAIL FROM:<{SENDER}>"))[0] == 250
        for recipient in recipients:
            assert (await self.command(f"RCPT TO:<{recipient}>"))[0] == 250

    async def content(self, raw: bytes) -> tuple[int, str]:
        """After a 354: the mail, dot-stuffed, and the final dot."""
        lines = raw.replace(b"\r\n", b"\n").split(b"\n")
        body = b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines)
        self.writer.write(body + b".\r\n")
        await self.writer.drain()
        return await self.reply()

    async def closed(self) -> bool:
        """Whether the server closed the connection (EOF), read to the end."""
        return await self.reader.read() == b""

    async def quit(self) -> None:
        """QUIT and wait until the server closed: only then has it freed the connection's slot."""
        assert (await self.command("QUIT"))[0] == 221
        assert await self.closed()
        self.writer.close()

    def drop(self) -> None:
        """Close without QUIT (teardown)."""
        self.writer.close()


@asynccontextmanager
async def intake(sessions: sessionmaker[Session], limits: IntakeLimits, *, size_limit: int = 100_000) -> AsyncIterator[int]:
    """A real intake server on loopback with these limits; yields its port."""
    handler = IntakeHandler(sessions, recipients={MELDPUNT}, clock=lambda: NOW)
    server = await start_smtp_server(handler, host="127.0.0.1", port=0, size_limit=size_limit, limits=limits)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def clients() -> AsyncIterator[list[Client]]:
    """Connections a test opens; closed after it (on the test's loop) whatever happens."""
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.drop()


def stored(sessions: sessionmaker[Session]) -> list[InboundMail]:
    """Every stored inbound mail."""
    with sessions() as session:
        return list(session.scalars(select(InboundMail)))


async def test_an_extra_connection_gets_421_and_a_freed_slot_takes_real_mail(
    session_factory: sessionmaker[Session], clients: list[Client]
) -> None:
    """Three held connections fill a limit of three; the fourth gets 421 and is closed; after one
    QUIT a real mail goes through and is stored."""
    async with intake(session_factory, IntakeLimits(max_connections=3, max_connections_per_ip=10)) as port:
        for _ in range(3):
            clients.append(await Client.connect(port))
        assert [client.greeting[0] for client in clients] == [220, 220, 220]

        extra = await Client.connect(port)
        clients.append(extra)
        assert extra.greeting == (421, "4.7.0 Te veel verbindingen; probeer later opnieuw")
        assert await extra.closed()

        await clients[0].quit()
        await asyncio.to_thread(send, port, a_mail())
    assert [mail.message_id for mail in stored(session_factory)] == ["form-1@clb-halle.example"]


async def test_one_address_cannot_take_every_connection(
    session_factory: sessionmaker[Session], clients: list[Client]
) -> None:
    """Two per IP: a third from 127.0.0.1 gets 421, while 127.0.0.2 still gets in."""
    async with intake(session_factory, IntakeLimits(max_connections=50, max_connections_per_ip=2)) as port:
        for _ in range(3):
            clients.append(await Client.connect(port))
        assert [client.greeting[0] for client in clients] == [220, 220, 421]
        other = await Client.connect(port, source="127.0.0.2")
        clients.append(other)
        assert other.greeting[0] == 220


async def test_the_eleventh_recipient_gets_452(session_factory: sessionmaker[Session], clients: list[Client]) -> None:
    """Ten RCPTs (refused unknown ones count too) and the eleventh gets 452 4.5.3; the next mail starts afresh."""
    async with intake(session_factory, IntakeLimits()) as port:
        client = await Client.connect(port)
        clients.append(client)
        await client.envelope(*[MELDPUNT] * 5)
        for number in range(5):
            assert (await client.command(f"RCPT TO:<onbekend{number}@meldpunt.example>"))[0] == 550
        assert await client.command(f"RCPT TO:<{MELDPUNT}>") == (452, "4.5.3 Te veel ontvangers")
        assert (await client.command("DATA"))[0] == 354
        assert (await client.content(a_mail()))[0] == 250
        # A new transaction on the same connection has its own ten.
        assert (await client.command(f"MAIL FROM:<{SENDER}>"))[0] == 250
        assert (await client.command(f"RCPT TO:<{MELDPUNT}>"))[0] == 250
        await client.quit()
    (mail,) = stored(session_factory)
    assert mail.envelope_to == [MELDPUNT] * 5


@pytest.mark.parametrize(("max_data_bytes", "admitted"), [(None, 4), (2 * 100_000, 2)])
async def test_parallel_large_mails_are_bounded_by_the_data_budget(
    session_factory: sessionmaker[Session], clients: list[Client], max_data_bytes: int | None, admitted: int
) -> None:
    """Twenty sessions ask for DATA at once: only the budget's worth (default 4 x the size limit) get
    354, the rest 451 4.3.1; once those are stored, a refused session's retry goes through."""
    size_limit = 100_000
    big = a_mail(message_id="<groot-{n}@clb-halle.example>", body="Hulpvraag: lang verhaal\n" * 3_900)
    assert 0.9 * size_limit < len(big) < size_limit
    limits = IntakeLimits(max_connections=50, max_connections_per_ip=25, max_data_bytes=max_data_bytes)
    async with intake(session_factory, limits, size_limit=size_limit) as port:
        for _ in range(20):
            client = await Client.connect(port)
            clients.append(client)
            await client.envelope(MELDPUNT)
        replies = [await client.command("DATA") for client in clients]  # all twenty before any content

        codes = [code for code, _ in replies]
        assert codes.count(354) == admitted and codes.count(451) == 20 - admitted
        assert (451, "4.3.1 Even geen ruimte voor nog een mail; probeer later opnieuw") in replies
        inside = [client for client, code in zip(clients, codes, strict=True) if code == 354]
        for number, client in enumerate(inside):
            raw = big.replace(b"groot-{n}", f"groot-{number}".encode())
            assert (await client.content(raw))[0] == 250

        waiting = next(client for client, code in zip(clients, codes, strict=True) if code == 451)
        assert (await waiting.command("DATA"))[0] == 354, "the sender's retry finds room again"
        assert (await waiting.content(big.replace(b"groot-{n}", b"groot-laat")))[0] == 250
    assert len(stored(session_factory)) == admitted + 1


def test_a_data_budget_below_the_size_limit_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """MELDPUNT_SMTP_MAX_DATA_BYTES smaller than one mail would refuse large mail for ever: a settings error."""
    from pydantic import ValidationError

    from meldpunt.settings import Settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MELDPUNT_SMTP_MAX_DATA_BYTES", "1000")
    with pytest.raises(ValidationError, match="MELDPUNT_SMTP_MAX_DATA_BYTES moet minstens"):
        Settings()


class LimitedService(Service):
    """`meldpunt serve` with one SMTP connection allowed, to see the settings reach the server."""

    def environment(self) -> dict[str, str]:
        """The service's settings plus the connection limit."""
        return super().environment() | {"MELDPUNT_SMTP_MAX_CONNECTIONS": "1", "MELDPUNT_OUTBOX": "maildir"}


def test_serve_applies_the_connection_limit_from_the_settings(tmp_path: Path) -> None:
    """MELDPUNT_SMTP_MAX_CONNECTIONS=1: with one connection held, the next one reads 421."""
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    service = LimitedService(var_dir, free_port())
    try:
        service.start()
        with smtplib.SMTP("127.0.0.1", service.port, timeout=10) as held:
            assert held.noop()[0] == 250
            with pytest.raises(smtplib.SMTPConnectError) as refused:
                smtplib.SMTP("127.0.0.1", service.port, timeout=10)
            assert refused.value.smtp_code == 421
    finally:
        service.stop()
