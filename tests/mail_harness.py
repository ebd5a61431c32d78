"""Real mail parts wired on loopback: SMTP intake → database → MailProcessor → OutboxRunner → aiosmtpd sink.

Everything runs on the test's event loop: the intake server (`start_smtp_server`), the sink (an
aiosmtpd `SMTP` server the runner delivers to with aiosmtplib) and the runner. The blocking parts
(smtplib, the processor) run in threads, so they never block the loop the servers answer on.
One fixed clock, moved by hand, is shared by intake, processor and runner.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import default
from email.utils import format_datetime, getaddresses, make_msgid
from functools import lru_cache
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SMTPSession
from sqlalchemy.orm import Session, sessionmaker

from desk.workflow import IntakeWorkflow
from intake.catalogue_loader import load_catalogue
from intake.dialogue import Intake
from intake.questionnaire import load_questionnaire
from mail.outbox import OutboxConfig, OutboxRunner
from mail.processor import MailProcessor
from mail.replies import ProcessorConfig
from mail.smtp_intake import IntakeHandler, start_smtp_server
from store import outbox
from store import staff as staff_repo

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday morning
DOMAIN = "meldpunt.example"
COORDINATOR = "coordinator@provincie-vlaamsbrabant.example"
_LINE_END = re.compile(rb"\r?\n")


@lru_cache(maxsize=1)
def shared_intake() -> Intake:
    """The questionnaire and catalogue, loaded once per test session."""
    return Intake(load_questionnaire(), load_catalogue())


class Clock:
    """A fixed clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        """Stand still at now."""
        self.now = now

    def __call__(self) -> datetime:
        """The current fixed time."""
        return self.now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self.now += delta


@dataclass(frozen=True)
class Delivery:
    """One message the sink accepted: envelope sender, envelope recipients and the raw bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    def parsed(self) -> EmailMessage:
        """The message parsed with the modern policy, as a mail client shows it."""
        message = message_from_bytes(self.raw, policy=default)
        assert isinstance(message, EmailMessage)
        return message


class Sink:
    """aiosmtpd handler standing in for the relay: accepts everything and keeps it."""

    def __init__(self) -> None:
        """Start with nothing received."""
        self.deliveries: list[Delivery] = []

    async def handle_DATA(self, server: SMTP, session: SMTPSession, envelope: Envelope) -> str:
        """Keep the envelope and the bytes exactly as received."""
        raw = envelope.original_content or b""
        self.deliveries.append(Delivery(str(envelope.mail_from), tuple(envelope.rcpt_tos), raw))
        return "250 OK: afgeleverd"


class SinkThread:
    """An aiosmtpd sink on its own loop in a daemon thread, so the caller's thread may block (crash test, benchmark)."""

    def __init__(self) -> None:
        """Start the loop and the server on a free loopback port."""
        self.sink = Sink()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        create = self.loop.create_server(lambda: SMTP(self.sink, hostname="127.0.0.1"), "127.0.0.1", 0)
        self.server = asyncio.run_coroutine_threadsafe(create, self.loop).result(timeout=10)
        self.port = int(self.server.sockets[0].getsockname()[1])

    @property
    def count(self) -> int:
        """How many mails the sink accepted so far."""
        return len(self.sink.deliveries)

    def close(self) -> None:
        """Stop the server and the loop."""
        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


def _as_bytes(mail: bytes | EmailMessage) -> bytes:
    """The mail as a client puts it on the wire: CRLF line ends."""
    raw = mail.as_bytes(policy=SMTP_POLICY) if isinstance(mail, EmailMessage) else mail
    return _LINE_END.sub(b"\r\n", raw)


def _from_address(raw: bytes) -> str:
    """The From address of a raw mail, for the envelope; empty when there is none readable."""
    try:
        message = message_from_bytes(raw, policy=default)
        pairs = getaddresses([str(value) for value in message.get_all("From") or []])
    except Exception:  # noqa: BLE001 - a broken From: send with an empty envelope sender then
        return ""
    addresses = [address for _, address in pairs if "@" in address]
    return addresses[0] if addresses else ""


def _plain_text(message: EmailMessage) -> str:
    """The text/plain body of one of our mails."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, "our mails always have a text/plain body"
    return str(body.get_content()).replace("\r\n", "\n")


@dataclass
class MailHarness:
    """The wired parts and the helpers a test drives them with."""

    sessions: sessionmaker[Session]
    clock: Clock
    address: str
    processor: MailProcessor
    runner: OutboxRunner
    sink: Sink
    intake_port: int
    servers: list[asyncio.Server] = field(default_factory=list)

    @property
    def config(self) -> ProcessorConfig:
        """The processor's configuration."""
        return self.processor.config

    @property
    def workflow(self) -> IntakeWorkflow:
        """The referral workflow the processor submits through."""
        return self.processor.workflow

    # --- people ------------------------------------------------------------------------------
    def add_staff(self, email: str, name: str, clb: str) -> None:
        """Register a CLB staff member."""
        with self.sessions.begin() as session:
            staff_repo.add_staff(session, email=email, name=name, clb=clb, now=self.clock())

    def new_mail(self, sender: str, subject: str, body: str, **headers: str) -> EmailMessage:
        """A new mail from sender to the Meldpunt, as a mail client writes it."""
        message = EmailMessage()
        message["From"] = sender
        message["To"] = f"Meldpunt Schoolexterne Interventies <{self.address}>"
        message["Subject"] = subject
        message["Date"] = format_datetime(self.clock())
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or "client.example")
        for name, value in headers.items():
            message[name.replace("_", "-")] = value
        message.set_content(body)
        return message

    def reply_to(
        self, mail: EmailMessage, body: str, *, sender: str | None = None, style: str = "gmail",
        history: str | None = None, **headers: str,
    ) -> EmailMessage:
        """A reply as a mail client builds it: "Re: " subject, In-Reply-To, References, the original below.

        style "gmail" quotes the original with "> " under an "Op … schreef …:" line; "outlook" puts
        it unquoted under a "Van:/Verzonden:/Aan:/Onderwerp:" block; "none" leaves it out. history
        replaces the original's text, for a person who typed their answers into it.
        """
        if sender is None:
            sender = getaddresses([str(mail["To"])])[0][1]
        original_id = str(mail["Message-ID"]).strip()
        subject = str(mail["Subject"] or "")
        reply = EmailMessage()
        reply["From"] = sender
        reply["To"] = str(mail["Reply-To"] or mail["From"])
        reply["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
        reply["Date"] = format_datetime(self.clock())
        reply["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
        reply["In-Reply-To"] = original_id
        reply["References"] = " ".join([*str(mail["References"] or "").split(), original_id])
        for name, value in headers.items():
            reply[name.replace("_", "-")] = value
        original = _plain_text(mail) if history is None else history
        when = mail["Date"].datetime if mail["Date"] is not None else self.clock()
        if style == "gmail":
            quoted = "\n".join(f"> {line}" if line else ">" for line in original.splitlines())
            text = f"{body.rstrip()}\n\nOp {when:%d-%m-%Y} om {when:%H:%M} schreef {mail['From']}:\n\n{quoted}\n"
        elif style == "outlook":
            block = (
                f"Van: {mail['From']}\nVerzonden: {when:%d-%m-%Y %H:%M}\nAan: {mail['To']}\n"
                f"Onderwerp: {subject}\n"
            )
            text = f"{body.rstrip()}\n\n{block}\n{original}\n"
        else:
            text = body
        reply.set_content(text)
        return reply

    # --- wire --------------------------------------------------------------------------------
    async def send(self, mail: bytes | EmailMessage, *, mail_from: str | None = None, to: str | None = None) -> dict[str, tuple[int, bytes]]:
        """Hand a mail to the intake with smtplib (in a thread); raises when the intake refuses it."""
        raw = _as_bytes(mail)
        envelope_from = _from_address(raw) if mail_from is None else mail_from

        def deliver() -> dict[str, tuple[int, bytes]]:
            with smtplib.SMTP("127.0.0.1", self.intake_port, timeout=30) as client:
                return client.sendmail(envelope_from, [to or self.address], raw)

        return await asyncio.to_thread(deliver)

    async def process(self) -> None:
        """Process every stored mail, ask for missing details, and deliver the outbox to the sink."""
        await asyncio.to_thread(self.processor.process_all)
        await asyncio.to_thread(self.processor.request_missing_details)
        while (await self.runner.drain()).sent:
            pass  # an alarm queued during a drain goes out in the next one

    async def our_mail_to(self, address: str, *, kind: str = "verzending", subject: str = "Meldpunt: aanmeldingen") -> EmailMessage:
        """A mail the Meldpunt sends address (a dispatch mail by default), as it arrives there: to reply to."""
        with self.sessions.begin() as session:
            row = outbox.enqueue(session, kind=kind, to_address=address, subject=subject, body_text="Dag,\n\nHier is het Meldpunt.",
                                 domain=self.config.domain, now=self.clock())
            message_id = row.message_id
        while (await self.runner.drain()).sent:
            pass
        return next(m for m in self.inbox(address) if m["Message-ID"] == message_id)

    def inbox(self, address: str) -> list[EmailMessage]:
        """The mails the sink received for address (envelope recipient), oldest first."""
        wanted = address.lower()
        return [d.parsed() for d in self.sink.deliveries if wanted in (r.lower() for r in d.rcpt_tos)]

    def all_deliveries(self) -> list[Delivery]:
        """Everything the sink received."""
        return list(self.sink.deliveries)


@asynccontextmanager
async def running_harness(
    sessions: sessionmaker[Session], tmp_path: Path, *, domain: str = DOMAIN, coordinator: str | None = COORDINATOR,
    allowed_domains: tuple[str, ...] = (), trusted_authserv_id: str | None = None, auto_reply_limit: int = 10,
    now: datetime = NOW, reminder_hours: float | None = None, trusted_relays: frozenset[str] = frozenset({"127.0.0.1"}),
) -> AsyncIterator[MailHarness]:
    """Start the intake and the sink on loopback, wire processor and runner, and stop them after."""
    clock = Clock(now)
    address = f"meldpunt@{domain}"
    sink = Sink()
    loop = asyncio.get_running_loop()
    sink_server = await loop.create_server(lambda: SMTP(sink, hostname="127.0.0.1"), host="127.0.0.1", port=0)
    handler = IntakeHandler(sessions, recipients={address}, clock=clock, trusted_relays=trusted_relays)
    intake_server = await start_smtp_server(handler, host="127.0.0.1", port=0)
    config = ProcessorConfig(
        address=address, domain=domain, coordinator_email=coordinator, allowed_domains=allowed_domains,
        trusted_authserv_id=trusted_authserv_id, auto_reply_limit=auto_reply_limit, reminder_hours=reminder_hours,
    )
    processor = MailProcessor(sessions, IntakeWorkflow(shared_intake(), sessions), config, clock=clock)
    outbox_config = OutboxConfig(
        from_address=address, from_name="Meldpunt Schoolexterne Interventies", domain=domain,
        relay_host="127.0.0.1", relay_port=sink_server.sockets[0].getsockname()[1], starttls=False,
        maildir=tmp_path / "Maildir", coordinator_email=coordinator, timeout=10,
    )
    harness = MailHarness(
        sessions=sessions, clock=clock, address=address, processor=processor,
        runner=OutboxRunner(sessions, outbox_config, clock=clock), sink=sink,
        intake_port=intake_server.sockets[0].getsockname()[1], servers=[intake_server, sink_server],
    )
    try:
        yield harness
    finally:
        for server in harness.servers:
            server.close()
        for server in harness.servers:
            await server.wait_closed()


def with_headers(raw: bytes, **headers: str) -> bytes:
    """The raw mail with these headers (underscores for dashes) replaced, or added on top; the rest untouched."""
    head, separator, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    head += b"\n"
    for name, value in headers.items():
        field_name = name.replace("_", "-").encode()
        line = field_name + b": " + value.encode() + b"\n"
        pattern = re.compile(rb"^" + re.escape(field_name) + rb":[^\n]*\n(?:[ \t][^\n]*\n)*", re.IGNORECASE | re.MULTILINE)
        found = pattern.search(head)
        head = head[:found.start()] + line + head[found.end():] if found else line + head
    return head.rstrip(b"\n") + separator + body
