"""SMTP intake (aiosmtpd): answer 250 only after the raw mail is committed; processing comes later.

RFC 5321 makes the receiver responsible for a message once it said 250, so the commit must come
first: a crash after 250 can then never lose a mail, only delay its processing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SMTPSession
from sqlalchemy.orm import Session, sessionmaker

from intake.clock import Clock
from mail.smtp_limits import Gate, IntakeLimits, LimitedSMTP
from store.inbound import accept

log = logging.getLogger(__name__)

DEFAULT_SIZE_LIMIT = 10 * 1024 * 1024  # 10 MiB: a form with an attachment fits; a mail bomb does not
LOOPBACK_RELAYS = frozenset({"127.0.0.1", "::1"})


def _peer_host(session: SMTPSession) -> str:
    """The client's IP address as text ("" when unknown); IPv4-mapped IPv6 reads as IPv4."""
    peer: object = session.peer  # aiosmtpd annotates it as str; it holds the transport's (host, port) tuple
    host = str(peer[0]) if isinstance(peer, tuple) and peer else ""
    return host.removeprefix("::ffff:")


class IntakeHandler:
    """aiosmtpd handler: known recipients only, durable store, then wake the processor."""

    def __init__(
        self, sessions: sessionmaker[Session], *, recipients: set[str], clock: Clock,
        on_stored: Callable[[], None] | None = None, trusted_relays: frozenset[str] = LOOPBACK_RELAYS,
    ) -> None:
        self.sessions = sessions
        self.recipients = {r.lower() for r in recipients}
        # Clients whose Authentication-Results we believe: the MTA in front of us (RFC 8601 §5).
        self.trusted_relays = trusted_relays
        self.clock = clock
        self.on_stored = on_stored

    async def handle_RCPT(self, server: SMTP, session: SMTPSession, envelope: Envelope, address: str, rcpt_options: list[str]) -> str:
        """Refuse unknown recipients now, so nobody gets a bounce for a mail we never took."""
        if address.lower() not in self.recipients:
            return "550 5.1.1 Onbekende ontvanger: dit adres bestaat hier niet"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SMTPSession, envelope: Envelope) -> str:
        """Commit the raw bytes, then say 250; a database problem is a temporary failure (451)."""
        raw = envelope.original_content or b""
        try:
            trusted = _peer_host(session) in self.trusted_relays
            created = await asyncio.to_thread(self._store, raw, envelope, trusted)
        except Exception:
            log.exception("mail kon niet bewaard worden (%d bytes); afzender krijgt 451", len(raw))
            return "451 4.3.0 Tijdelijke fout bij het bewaren; probeer later opnieuw"
        if created and self.on_stored is not None:
            self.on_stored()
        return "250 OK: bewaard"

    def _store(self, raw: bytes, envelope: Envelope, trusted_client: bool) -> bool:
        with self.sessions.begin() as session:
            mail, created = accept(
                session, raw, source="smtp", envelope_from=envelope.mail_from,
                envelope_to=list(envelope.rcpt_tos), now=self.clock(), trusted_client=trusted_client,
            )
            log.info("mail %s ontvangen via SMTP (%d bytes)%s", mail.id, len(raw), "" if created else ", dubbel")
            return created


async def start_smtp_server(
    handler: IntakeHandler, *, host: str, port: int, size_limit: int = DEFAULT_SIZE_LIMIT,
    limits: IntakeLimits | None = None,
) -> asyncio.Server:
    """Listen on host:port in the running loop; SIZE is advertised and enforced during DATA (552).

    A line over RFC 5322's 998 bytes is taken (up to SIZE), not refused: the processor reads it, or
    mail/limits.py quarantines the mail with a Dutch reason. Refusing would bounce real mail.

    limits (mail/smtp_limits.py) bound connections, recipients and DATA bytes across all sessions.
    """
    loop = asyncio.get_running_loop()
    gate = Gate(limits or IntakeLimits(), size_limit=size_limit)  # one per server, shared by its sessions
    return await loop.create_server(
        lambda: LimitedSMTP(handler, gate=gate, data_size_limit=size_limit, hostname=host, ident="Meldpunt SI"),
        host=host, port=port,
    )
