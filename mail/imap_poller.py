"""IMAP intake (imap-tools): store each unseen mail durably, and only then mark it seen or move it.

Principle 3 of the architecture: a mail counts as accepted once its raw bytes are committed. The
order per message is therefore fetch (BODY.PEEK, the server keeps it unseen) → accept → COMMIT →
\\Seen (and move to the processed folder). A crash after the commit leaves the mail unseen; the next
poll fetches it again and `accept` recognises it by Message-ID and content (store.inbound.dedupe_key:
trace fields the mailbox's server added do not count), so it is marked without a second row; so is
the IMAP copy of a mail the SMTP intake already took.
Dedupe never uses UIDs, so a UIDVALIDITY change (a recreated mailbox) cannot store anything twice.
TLS (implicit or STARTTLS) verifies the server's certificate and host name before LOGIN is sent;
plaintext IMAP is allowed only to this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import cast

from imap_tools import (
    AND,
    BaseMailBox,
    MailBox,
    MailBoxStartTls,
    MailBoxUnencrypted,
    MailMessage,
)
from imap_tools.errors import ImapToolsError, UnexpectedCommandStatusError
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from sqlalchemy.orm import Session, sessionmaker

from intake.clock import Clock
from mail.tls import ca_file_problem, client_context, describe_tls_error, is_loopback
from store.inbound import accept, header_block
from store.mail_models import ADDRESS_LENGTH

log = logging.getLogger(__name__)

SOURCE = "imap"
MAX_BACKOFF_SECONDS = 300
IDLE_SLICE_SECONDS = 1.0  # how often an IDLE wait looks at the stop flag: bounds shutdown latency
# RFC 2177: a client should re-issue IDLE at least every 29 minutes or the server may log it out.
MAX_IDLE_SECONDS = 29 * 60


class ImapConfig(BaseModel):
    """Where the intake mailbox is and how to read it."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int = Field(default=993, gt=0, lt=65536)
    username: str
    password: SecretStr
    ssl: bool = True
    starttls: bool = False
    ca_file: Path | None = None  # a private CA (PEM) to trust instead of the system's CAs
    folder: str = "INBOX"
    processed_folder: str | None = "Verwerkt"
    poll_seconds: int = Field(default=60, gt=0)
    idle_seconds: int = Field(default=300, gt=0, le=MAX_IDLE_SECONDS)
    timeout_seconds: float = Field(default=60.0, gt=0)  # socket timeout: a hung server must not hang us

    @model_validator(mode="after")
    def _one_kind_of_tls(self) -> ImapConfig:
        """Implicit TLS (993) and STARTTLS exclude each other."""
        if self.ssl and self.starttls:
            raise ValueError("ssl en starttls sluiten elkaar uit: kies er één")
        return self

    def refusal(self) -> str | None:
        """Why polling must not start (in Dutch), or None when the setup is safe."""
        if not (self.ssl or self.starttls or is_loopback(self.host)):
            return (
                f"IMAP zonder TLS naar {self.host} weigert de dienst: het wachtwoord en de mails met "
                "persoonsgegevens zouden onversleuteld over het netwerk gaan. Zet MELDPUNT_IMAP_SSL=true "
                "(poort 993) of MELDPUNT_IMAP_STARTTLS=true (poort 143); zonder TLS enkel naar 127.0.0.1."
            )
        return ca_file_problem(self.ca_file, "MELDPUNT_IMAP_CA_FILE")


class ImapRefused(RuntimeError):
    """The configuration is unsafe (plaintext beyond loopback, an unusable CA file): no connection."""


@dataclass(frozen=True)
class PollReport:
    """What one poll did: messages fetched, newly stored, and recognised as already stored."""

    fetched: int = 0
    stored: int = 0
    duplicates: int = 0


class _RawMailMessage(MailMessage):
    """A fetched message that keeps its exact raw bytes (imap-tools only keeps the parsed form)."""

    def __init__(self, fetch_data: list) -> None:  # type: ignore[type-arg]
        """Keep the bytes the server sent, and parse only their header block (bounded), for the envelope.

        imap-tools parses the whole mail, and the standard parser recurses once per MIME level: one
        hostile mail would fail every poll while it stays unseen. Storing needs only two headers;
        the processor checks the limits (mail/limits.py) before it parses the rest.
        """
        raw, self._raw_uid_data, self._raw_flag_data = self._get_message_data_parts(fetch_data)
        self.raw: bytes = raw
        self.obj = BytesHeaderParser().parsebytes(header_block(raw))


class ImapPoller:
    """Polls one IMAP folder into the inbound_mail table; `run` adds IDLE, backoff and stop."""

    def __init__(
        self, config: ImapConfig, sessions: sessionmaker[Session], *, clock: Clock,
        on_stored: Callable[[], None] | None = None,
    ) -> None:
        """on_stored is called on the event loop after a round stored (or re-found) mail."""
        self.config = config
        self.sessions = sessions
        self.clock = clock
        self.on_stored = on_stored

    def poll_once(self) -> PollReport:
        """Connect, store every unseen message (commit first, then mark), disconnect."""
        with self._connection() as mailbox:
            return self._poll(mailbox)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll, then wait (IDLE or sleep), until stop is set; errors back off 1, 2, 4 … 300 s."""
        halt = threading.Event()  # the blocking IDLE thread cannot await an asyncio.Event
        mirror = asyncio.create_task(_set_when(stop, halt))
        failures = 0
        try:
            while not stop.is_set():
                try:
                    await self._cycle(stop, halt)
                    failures = 0
                except Exception as exc:  # noqa: BLE001 - a poller that dies stops all IMAP intake
                    failures += 1
                    delay = min(2 ** (failures - 1), MAX_BACKOFF_SECONDS)
                    log.warning("IMAP-poll mislukt, poging %d: %s; opnieuw over %d s",
                                failures, _describe(exc), delay)
                    await _sleep_unless_stopped(stop, delay)
        finally:
            halt.set()  # also on cancellation: a running IDLE thread then ends within a second
            mirror.cancel()

    async def _cycle(self, stop: asyncio.Event, halt: threading.Event) -> None:
        """One round in one worker thread (it owns the connection); sleep after it if no IDLE."""
        loop = asyncio.get_running_loop()

        def wake() -> None:
            """Tell the processor, from the worker thread, that mail is waiting."""
            if self.on_stored is not None:
                # on_stored may set an asyncio.Event: only the loop's own thread may do that.
                with contextlib.suppress(RuntimeError):  # the loop closed while we polled
                    loop.call_soon_threadsafe(self.on_stored)

        # One thread for the whole round, not one per step: if run() is cancelled, the thread
        # still finishes its round (halt ends the IDLE) and logs out, never sharing the socket.
        idled = await asyncio.to_thread(self._poll_then_idle, halt, wake)
        if not idled:
            await _sleep_unless_stopped(stop, self.config.poll_seconds)

    def _poll_then_idle(self, halt: threading.Event, wake: Callable[[], None]) -> bool:
        """Poll on a fresh connection, wake the processor, then IDLE; False if IDLE is unsupported."""
        with self._connection() as mailbox:
            report = self._poll(mailbox)
            # Duplicates wake the processor too: after a crash between commit and \Seen they are
            # the only sign of a stored mail it may not have seen yet. A spurious wake is harmless.
            if report.stored or report.duplicates:
                wake()
            if "IDLE" not in mailbox.client.capabilities:
                return False
            if not halt.is_set():
                self._idle(mailbox, halt)
            return True

    @contextlib.contextmanager
    def _connection(self) -> Iterator[BaseMailBox]:
        """A logged-in mailbox with the folder selected, logged out afterwards whatever happens."""
        mailbox = self._open()
        try:
            yield mailbox
        finally:
            _logout_quietly(mailbox)

    def _open(self) -> BaseMailBox:
        """Connect, log in, select the folder and make sure the processed folder exists."""
        config = self.config
        refusal = config.refusal()
        if refusal is not None:  # serve refuses to start; this guards every other caller
            raise ImapRefused(refusal)
        mailbox: BaseMailBox
        # Our own context: imaplib's default one accepts any certificate. A failed check raises
        # here, in the constructor, before LOGIN (or any command after STARTTLS) is sent.
        if config.ssl:
            mailbox = MailBox(config.host, config.port, timeout=config.timeout_seconds,
                              ssl_context=client_context(config.ca_file))
        elif config.starttls:
            mailbox = MailBoxStartTls(config.host, config.port, timeout=config.timeout_seconds,
                                      ssl_context=client_context(config.ca_file))
        else:
            mailbox = MailBoxUnencrypted(config.host, config.port, timeout=config.timeout_seconds)
        try:
            mailbox.login(config.username, config.password.get_secret_value(), initial_folder=None)
            _refresh_capabilities(mailbox)
            if config.processed_folder and not mailbox.folder.exists(config.processed_folder):
                mailbox.folder.create(config.processed_folder)
            mailbox.folder.set(config.folder)
        except BaseException:
            _logout_quietly(mailbox)
            raise
        mailbox.email_message_class = _RawMailMessage
        return mailbox

    def _poll(self, mailbox: BaseMailBox) -> PollReport:
        """Store unseen messages one by one; a storage error stops the poll, the rest stays unseen."""
        fetched = stored = duplicates = 0
        # bulk=False: one UID FETCH per message, so a large mailbox never sits in memory at once.
        for fetched_message in mailbox.fetch(AND(seen=False), mark_seen=False, bulk=False):
            message = cast(_RawMailMessage, fetched_message)  # _open set email_message_class
            if message.uid is None:
                raise RuntimeError("de IMAP-server gaf geen UID: kan het bericht niet markeren")
            fetched += 1
            if self._store(message):
                stored += 1
            else:
                duplicates += 1
            self._mark_processed(mailbox, message.uid)
        if fetched:
            log.info("IMAP-poll: %d opgehaald, %d bewaard, %d dubbel", fetched, stored, duplicates)
        return PollReport(fetched=fetched, stored=stored, duplicates=duplicates)

    def _store(self, message: _RawMailMessage) -> bool:
        """accept() in its own transaction, committed before we return; True when newly stored."""
        envelope_from, envelope_to = _envelope(message.obj)
        with self.sessions.begin() as session:
            mail, created = accept(session, message.raw, source=SOURCE, envelope_from=envelope_from,
                                   envelope_to=envelope_to, now=self.clock())
            mail_id = mail.id
        log.info("mail %s ontvangen via IMAP (uid %s, %d bytes)%s",
                 mail_id, message.uid, len(message.raw), "" if created else ", dubbel")
        return created

    def _mark_processed(self, mailbox: BaseMailBox, uid: str) -> None:
        """Only after the commit: set \\Seen, then move the message out of the way if configured."""
        # A plain UID STORE: imap-tools' flag() also EXPUNGEs the whole folder, which would
        # silently purge messages somebody else marked \Deleted.
        result = mailbox.client.uid("STORE", uid, "+FLAGS", r"(\Seen)")
        if result[0] != "OK":
            raise UnexpectedCommandStatusError(result, "OK")
        if self.config.processed_folder:
            mailbox.move(uid, self.config.processed_folder)

    def _idle(self, mailbox: BaseMailBox, halt: threading.Event) -> None:
        """IDLE until the server reports a change, idle_seconds pass, or halt is set."""
        deadline = time.monotonic() + self.config.idle_seconds
        mailbox.idle.start()
        try:
            while not halt.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                # Short slices instead of one long wait, so a stop request is seen within a second.
                slice_seconds = min(IDLE_SLICE_SECONDS, remaining)
                started = time.monotonic()
                if mailbox.idle.poll(timeout=slice_seconds):
                    return
                # Woken early with nothing to read: imap-tools swallows EOF, so this is how a
                # closed connection looks. Leaving IDLE (DONE) then fails loudly instead of spinning.
                if time.monotonic() - started < slice_seconds / 2:
                    return
        finally:
            mailbox.idle.stop()


def _envelope(message: Message) -> tuple[str | None, list[str]]:
    """The SMTP envelope as the delivering server recorded it (Return-Path, Delivered-To)."""
    # RFC 5321 §4.4: the final delivery adds Return-Path; the topmost one is ours.
    return_path = message.get("Return-Path")
    envelope_from: str | None = None
    if return_path is not None:
        envelope_from = parseaddr(str(return_path))[1]  # "<>" (a bounce) becomes ""
        if len(envelope_from) > ADDRESS_LENGTH:  # longer is not a valid address (RFC 5321 §4.5.3.1)
            envelope_from = None
    headers = message.get_all("Delivered-To") or message.get_all("X-Original-To") or []
    recipients = [address for _, address in getaddresses([str(h) for h in headers]) if address]
    return envelope_from, list(dict.fromkeys(recipients))


def _refresh_capabilities(mailbox: BaseMailBox) -> None:
    """Ask again after login: imaplib keeps the pre-login list, which lacks MOVE on Dovecot."""
    status, data = mailbox.client.capability()
    if status == "OK" and data and isinstance(data[-1], bytes):
        mailbox.client.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())


def _logout_quietly(mailbox: BaseMailBox) -> None:
    """Log out, ignoring errors: the connection may already be gone, and the real error matters."""
    try:
        mailbox.logout()
    except (OSError, imaplib.IMAP4.error, ImapToolsError):
        with contextlib.suppress(OSError):
            mailbox.client.shutdown()


def _describe(exc: BaseException) -> str:
    """An error for the log without personal data: only network and IMAP errors show their text."""
    tls = describe_tls_error(exc, server="IMAP-server", setting="MELDPUNT_IMAP_CA_FILE")
    if tls is not None:
        return tls
    if isinstance(exc, ImapRefused):
        return str(exc)
    # Database errors carry the mail itself in their statement parameters; others may quote it.
    if isinstance(exc, (OSError, imaplib.IMAP4.error, ImapToolsError)):
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return type(exc).__name__


async def _set_when(stop: asyncio.Event, halt: threading.Event) -> None:
    """Mirror the asyncio stop event into a threading event the IDLE thread can check."""
    await stop.wait()
    halt.set()


async def _sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    """Sleep for seconds, returning early when stop is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
