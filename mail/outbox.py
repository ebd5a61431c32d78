"""The outbox runner: claims due mails, sends them (SMTP relay or Maildir), records the outcome.

Where mail goes is chosen, never guessed: the relay (over verified TLS, plaintext only to this
machine), a local Maildir chosen on purpose (MELDPUNT_OUTBOX=maildir), or nowhere: then nothing is
claimed and every mail waits, queued, until one of the two is configured.

The database is the truth (ARCHITECTURE principle 4): a schedule only calls `drain`. Each mail is
claimed and committed before it is sent, and its outcome is committed after, so a crash in between
leaves it `sending`; the next drain puts it back after STALE_AFTER and resends the same Message-ID.
Logs carry Message-ID, kind, status and SMTP code only, never an address or a text.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import mailbox
import os
import ssl
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from enum import Enum
from pathlib import Path

import aiosmtplib
from pydantic import BaseModel, ConfigDict, SecretStr
from sqlalchemy.orm import Session

from intake.clock import Clock
from intake.texts import compose_mail
from mail.tls import ca_file_problem, client_context, is_loopback
from store.mail_models import MailKind, OutboxMessage, OutboxStatus
from store.outbox import (
    DEFAULT_MAX_ATTEMPTS,
    claim_due,
    enqueue_mail,
    mark_failed,
    mark_retry,
    mark_sent,
    recover_stale,
    safe_error,
)

log = logging.getLogger(__name__)

# Far longer than one SMTP transaction (timeout below): a row `sending` this long was orphaned.
STALE_AFTER = timedelta(minutes=10)
ALARM_TEMPLATE = "mail/alarm.txt.j2"
# Relay refused the credentials: the relay's configuration is at fault, not this mail.
_AUTH_CODES = frozenset({530, 534, 535, 538})


class Destination(Enum):
    """Where the runner hands mail over."""

    RELAY = "relay"
    MAILDIR = "maildir"
    NOWHERE = "nowhere"


class OutboxConfig(BaseModel):
    """How the runner sends: through an SMTP relay; else into maildir, if given; else nowhere."""

    model_config = ConfigDict(frozen=True)

    from_address: str
    from_name: str
    domain: str
    relay_host: str | None = None
    relay_port: int = 587
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = True
    implicit_tls: bool = False  # TLS from the first byte (port 465, RFC 8314) instead of STARTTLS
    ca_file: Path | None = None  # a private CA (PEM) to trust instead of the system's CAs
    # Only without a relay, and only when chosen (MELDPUNT_OUTBOX=maildir): provider mails carry a
    # pupil's identity, so they never land on this disk just because no relay was configured.
    maildir: Path | None = None
    coordinator_email: str | None = None
    timeout: float = 30.0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    # Relays cap mails per mailbox (Exchange Online: 30 a minute); None sends as fast as it can.
    rate_per_minute: float | None = None

    @property
    def destination(self) -> Destination:
        """The relay when there is one, else the Maildir when chosen, else nowhere."""
        if self.relay_host is not None:
            return Destination.RELAY
        return Destination.NOWHERE if self.maildir is None else Destination.MAILDIR

    def refusal(self) -> str | None:
        """Why sending must not start (in Dutch, for the log), or None if the setup is safe."""
        if self.relay_host is None:
            return None
        if not (self.starttls or self.implicit_tls or is_loopback(self.relay_host)):
            return (
                f"E-mail wordt niet verstuurd: de mailserver {self.relay_host} is geen lokale server "
                "en STARTTLS staat uit. Persoonsgegevens gaan nooit onversleuteld over het netwerk. "
                "Zet starttls aan, gebruik poort 465 (TLS) of een relay op deze machine; "
                "de mails blijven in de wachtrij."
            )
        problem = ca_file_problem(self.ca_file, "MELDPUNT_SMTP_CA_FILE")
        return None if problem is None else f"E-mail wordt niet verstuurd: {problem} De mails blijven in de wachtrij."


NOWHERE_NOTICE = (
    "E-mail wordt nergens verstuurd: er is geen relay (MELDPUNT_SMTP_RELAY) en MELDPUNT_OUTBOX=maildir "
    "is niet gekozen. De mails blijven in de wachtrij tot een van beide ingesteld is."
)


class DrainReport(BaseModel):
    """What one drain did: how many mails went out, wait for a retry, or failed for good."""

    model_config = ConfigDict(frozen=True)

    sent: int = 0
    retried: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Attempt:
    """The outcome of one try to hand a mail over; error is a code and short text, never data."""

    status: OutboxStatus
    error: str = ""
    code: int | None = None


def build_message(row: OutboxMessage, config: OutboxConfig) -> EmailMessage:
    """The mail as it goes out; the same row always gives the same Message-ID and Date."""
    message = EmailMessage()
    message["From"] = Address(display_name=config.from_name, addr_spec=config.from_address)
    message["To"] = row.to_address
    message["Subject"] = row.subject
    # RFC 5322 §3.6.1: the moment the message was complete, i.e. enqueued; stable across retries.
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = row.message_id
    if row.in_reply_to:
        message["In-Reply-To"] = row.in_reply_to
    if row.references:
        message["References"] = row.references
    # RFC 3834: keeps vacation responders and other robots from answering us (mail loops).
    message["Auto-Submitted"] = "auto-replied" if row.in_reply_to else "auto-generated"
    # Exchange/Outlook ignore Auto-Submitted; this is their switch for out-of-office replies.
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Loop"] = f"meldpunt@{config.domain}"
    # No Precedence: bulk: these are person-to-person mails, and bulk hurts their delivery.
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    for attachment in row.attachments or ():
        maintype, _, subtype = attachment["content_type"].partition("/")
        if "base64" in attachment:  # a binary file (the report's XLSX), kept as base64 because the column is JSON
            message.add_attachment(base64.b64decode(attachment["base64"]), maintype=maintype, subtype=subtype, filename=attachment["filename"])
            continue
        # Bytes, not str: set_content would re-encode str and drop the charset parameter.
        message.add_attachment(attachment["text"].encode("utf-8"), maintype=maintype, subtype=subtype,
                               filename=attachment["filename"], params={"charset": "utf-8"})
    return message


def _classify(error: BaseException) -> _Attempt:
    """Turn a sending error into retry (4xx, connection, timeout) or failed (5xx)."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        refused = error.recipients[0]
        code, text = refused.code, refused.message
    elif isinstance(error, aiosmtplib.SMTPResponseException):
        code, text = error.code, error.message
    else:
        # Connection refused or lost, timeouts, no STARTTLS offered, a full disk: all may pass.
        return _Attempt(OutboxStatus.RETRY, safe_error(f"{type(error).__name__}: {error}"))
    permanent = 500 <= code < 600 and code not in _AUTH_CODES
    status = OutboxStatus.FAILED if permanent else OutboxStatus.RETRY
    return _Attempt(status, safe_error(f"SMTP {code}: {text}"), code)


class OutboxRunner:
    """Drains the outbox: claim due mails, hand each to the relay or Maildir, record the outcome."""

    def __init__(
        self, sessions: Callable[[], Session], config: OutboxConfig, *, clock: Clock,
        monotonic: Callable[[], float] = time.monotonic, pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Keep the session factory, configuration and clocks (injected, so tests fix time).

        monotonic and pause keep the sending rate; a test passes a fake pair, so the rate is checked
        without depending on how fast the machine is.
        """
        self.sessions = sessions
        self.config = config
        self.clock = clock
        self.monotonic = monotonic
        self.pause = pause
        self._last_handover: float | None = None
        self._tls: ssl.SSLContext | None = None
        self._said: str | None = None

    async def drain(self, limit: int = 100) -> DrainReport:
        """Send up to limit due mails once each; a temporary failure waits for a later drain."""
        held = self.config.refusal()
        if held is None and self.config.destination is Destination.NOWHERE:
            held = NOWHERE_NOTICE
        if held is not None:
            # Nothing is claimed: the mails stay queued, untouched, until the setup is fixed.
            # Said once, not at every drain (every few seconds): one clear line, no log flood.
            if held != self._said:
                log.error(held)
                self._said = held
            return DrainReport()
        if self.config.destination is Destination.RELAY and self._tls is None:
            # Our own context, so a private CA (ca_file) replaces the system's CAs; host names are
            # checked either way, so a relay with a self-made certificate gets nothing. Made once,
            # off the loop and before the rate keeping starts: loading CAs takes tens of milliseconds.
            self._tls = await asyncio.to_thread(client_context, self.config.ca_file)
        if self.config.rate_per_minute:
            # Claim no more than a minute's sending: a claimed row waiting its turn longer than
            # STALE_AFTER would look crashed to another runner and go out twice.
            limit = min(limit, max(1, int(self.config.rate_per_minute)))
        counts: Counter[OutboxStatus] = Counter()
        for row in self._claim(limit):
            await self._keep_rate()
            attempt = await self._attempt(row)
            counts[self._finish(row, attempt)] += 1
        return DrainReport(
            sent=counts[OutboxStatus.SENT],
            retried=counts[OutboxStatus.RETRY],
            failed=counts[OutboxStatus.FAILED],
        )

    async def _keep_rate(self) -> None:
        """Wait until the configured rate allows the next hand-over (monotonic time, not the clock)."""
        rate = self.config.rate_per_minute
        if rate and self._last_handover is not None:
            await self.pause(max(0.0, self._last_handover + 60.0 / rate - self.monotonic()))
        self._last_handover = self.monotonic()

    def _claim(self, limit: int) -> list[OutboxMessage]:
        """Recover orphaned mails, claim due ones and commit, so no other runner takes them."""
        now = self.clock()
        with self.sessions() as session:
            recovered = recover_stale(
                session, now=now, older_than=STALE_AFTER, max_attempts=self.config.max_attempts
            )
            for row in recovered:
                log.warning("Mail %s (%s) bleef hangen tijdens het versturen: nu %s.",
                            row.message_id, row.kind, row.status.value)
                if row.status is OutboxStatus.FAILED:
                    self._enqueue_alarm(session, row, now=now)
            claimed = claim_due(session, now=now, limit=limit)
            # Detached before the commit, so they stay readable whatever expire_on_commit says.
            for row in claimed:
                session.expunge(row)
            session.commit()
        return claimed

    async def _attempt(self, row: OutboxMessage) -> _Attempt:
        """Build and hand over one mail; every error becomes an outcome, none escapes."""
        try:
            message = build_message(row, self.config)
        except (ValueError, TypeError, IndexError, MessageError) as error:
            # The email package rejected a header (a line break in a subject, say): no retry
            # can fix the stored row, and sending it anyway could smuggle in headers.
            return _Attempt(OutboxStatus.FAILED, f"ongeldig bericht: {type(error).__name__}")
        try:
            await self._hand_over(message, row.to_address)
        except Exception as error:  # noqa: BLE001 — every failure must end in retry or failed
            return _classify(error)
        return _Attempt(OutboxStatus.SENT)

    async def _hand_over(self, message: EmailMessage, recipient: str) -> None:
        """Send message to the relay, or file it in the Maildir chosen instead of a relay."""
        config = self.config
        if config.relay_host is None:
            if config.maildir is None:  # drain() claims nothing then; a guard for other callers
                raise RuntimeError("geen bestemming voor e-mail ingesteld")
            await asyncio.to_thread(_deliver_to_maildir, config.maildir, message)
            return
        loopback = is_loopback(config.relay_host)
        # Implicit TLS, or STARTTLS: required (True) off this machine, opportunistic (None) on
        # loopback; False only on loopback, since refusal() stopped the drain otherwise.
        start_tls = False if config.implicit_tls else (None if loopback else True) if config.starttls else False
        await aiosmtplib.send(
            message,
            sender=config.from_address,
            recipients=[recipient],
            hostname=config.relay_host,
            port=config.relay_port,
            username=config.username,
            password=config.password.get_secret_value() if config.password else None,
            use_tls=config.implicit_tls,
            start_tls=start_tls,
            tls_context=self._tls,
            timeout=config.timeout,
        )

    def _finish(self, row: OutboxMessage, attempt: _Attempt) -> OutboxStatus:
        """Record the attempt's outcome (and an alarm for a permanent failure) in one commit."""
        now = self.clock()
        with self.sessions() as session:
            message = session.get(OutboxMessage, row.id)
            # Gone (retention), or already sent by a runner that took over a stale claim: a
            # late retry or failure must not turn a delivered mail back into an undelivered one.
            if message is None or message.status is OutboxStatus.SENT:
                return attempt.status
            if attempt.status is OutboxStatus.SENT:
                mark_sent(session, message, now=now)
                final = OutboxStatus.SENT
            elif attempt.status is OutboxStatus.RETRY:
                final = mark_retry(session, message, error=attempt.error, now=now,
                                   max_attempts=self.config.max_attempts)
            else:
                mark_failed(session, message, error=attempt.error, now=now)
                final = OutboxStatus.FAILED
            if final is OutboxStatus.FAILED:
                self._enqueue_alarm(session, message, now=now)
            session.commit()
            _log_outcome(message, final, attempt)
        return final

    def _enqueue_alarm(self, session: Session, failed: OutboxMessage, *, now: datetime) -> None:
        """Tell the coordinator a mail is lost for good; never about an alarm (it would loop)."""
        coordinator = self.config.coordinator_email
        if coordinator is None or failed.kind == MailKind.ALARM:
            return
        alarm = compose_mail(
            ALARM_TEMPLATE, kind=failed.kind, recipient=failed.to_address, message_id=failed.message_id,
            attempts=failed.attempts, reason=failed.last_error or "onbekend",
        )
        enqueue_mail(session, alarm, kind=MailKind.ALARM, to=coordinator, domain=self.config.domain, now=now, referral_id=failed.referral_id)


def _deliver_to_maildir(path: Path, message: EmailMessage) -> None:
    """File message in the Maildir at path (made if missing), readable by our own account only."""
    # Made here: Maildir(create=True) makes only the last folder, and fills no existing one.
    # 0700 folders and 0600 files whatever the umask: these mails hold pupils' identities.
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(mode=0o700, exist_ok=True)
        (path / sub).chmod(0o700)
    key = mailbox.Maildir(path, create=False).add(message)
    # mailbox creates the file 0666 minus the umask; the 0700 folder keeps others out meanwhile.
    os.chmod(path / "new" / key, 0o600)


def _log_outcome(message: OutboxMessage, final: OutboxStatus, attempt: _Attempt) -> None:
    """Log one mail's outcome: Message-ID, kind, status and SMTP code, nothing personal."""
    code = f", SMTP {attempt.code}" if attempt.code is not None else ""
    level = {OutboxStatus.SENT: logging.INFO, OutboxStatus.RETRY: logging.WARNING}.get(
        final, logging.ERROR
    )
    log.log(level, "Mail %s (%s): %s na %d poging(en)%s.",
            message.message_id, message.kind, final.value, message.attempts, code)
