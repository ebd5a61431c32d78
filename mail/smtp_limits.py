"""Limits of the SMTP intake: connections (total, per IP), recipients per mail, DATA bytes in flight.

Without them 115 idle connections blocked real mail, one mail took 10,000 recipients and 20 parallel
9.5 MB mails took 520 MB. Each limit answers the way RFC 5321 lets a sender recover: 421 closes an
extra connection (§3.8), 452 refuses a recipient too many (§4.5.3.1.10), 451 a DATA for which no
bytes are left; all are temporary, so a real mail server simply tries again later. They mirror what
a mail server in front would do (Postfix: smtpd_client_connection_count_limit, smtpd_recipient_limit).
A line of DATA may be as long as the size limit (Postfix, too, accepts long lines); command lines stay short.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

DATA_BUDGET_FACTOR = 4  # without a setting: four mails of the largest size may arrive at once
LOG_EVERY_SECONDS = 60.0  # a flood of refusals is one log line a minute, not one per connection

TOO_MANY_CONNECTIONS = b"421 4.7.0 Te veel verbindingen; probeer later opnieuw\r\n"
TOO_MANY_RECIPIENTS = "452 4.5.3 Te veel ontvangers"
NO_ROOM_FOR_DATA = "451 4.3.1 Even geen ruimte voor nog een mail; probeer later opnieuw"


class IntakeLimits(BaseModel):
    """How much the intake takes at once; None for max_data_bytes means 4 x the size limit."""

    model_config = ConfigDict(frozen=True)

    max_connections: int = Field(default=50, ge=1)
    max_connections_per_ip: int = Field(default=10, ge=1)
    max_recipients: int = Field(default=10, ge=1)
    max_data_bytes: int | None = Field(default=None, gt=0)


class Gate:
    """What all sessions of one server hold: open connections (total, per IP) and reserved DATA bytes."""

    def __init__(self, limits: IntakeLimits, *, size_limit: int) -> None:
        """Start empty; the DATA budget must hold at least one mail of the largest size."""
        self.limits = limits
        self.size_limit = size_limit
        self.data_budget = limits.max_data_bytes or DATA_BUDGET_FACTOR * size_limit
        if self.data_budget < size_limit:
            raise ValueError("max_data_bytes moet minstens de grootte-limiet zijn")
        self.connections = 0
        self.per_ip: Counter[str] = Counter()
        self.data_reserved = 0
        self._refusals: Counter[str] = Counter()
        self._logged_at: float | None = None

    def admit(self, ip: str) -> bool:
        """Count a new connection from ip, or False when a limit is reached (it is not counted)."""
        if self.connections >= self.limits.max_connections or self.per_ip[ip] >= self.limits.max_connections_per_ip:
            self._refused("verbinding(en) (421)")
            return False
        self.connections += 1
        self.per_ip[ip] += 1
        return True

    def leave(self, ip: str) -> None:
        """Forget a connection that closed."""
        self.connections -= 1
        self.per_ip[ip] -= 1
        if self.per_ip[ip] <= 0:
            del self.per_ip[ip]  # no counter left behind for every address that ever connected

    def reserve(self) -> int:
        """Bytes reserved for one DATA (the size limit: the most it may hold), or 0 when none are left."""
        if self.data_reserved + self.size_limit > self.data_budget:
            self._refused("DATA (451)")
            return 0
        self.data_reserved += self.size_limit
        return self.size_limit

    def release(self, reserved: int) -> None:
        """Give back what reserve() took."""
        self.data_reserved -= reserved

    def _refused(self, what: str) -> None:
        """Count a refusal; log the counts at most once a minute (counts only: no address, no IP)."""
        self._refusals[what] += 1
        now = asyncio.get_running_loop().time()
        if self._logged_at is not None and now - self._logged_at < LOG_EVERY_SECONDS:
            return
        self._logged_at = now
        counts = ", ".join(f"{number} {kind}" for kind, number in sorted(self._refusals.items()))
        log.warning("SMTP-limiet bereikt: geweigerd %s; open: %d verbinding(en), %d bytes DATA", counts,
                    self.connections, self.data_reserved)
        self._refusals.clear()


def peer_ip(peername: Any) -> str:
    """The client's IP address as text ("" when unknown); IPv4-mapped IPv6 counts as its IPv4."""
    host = str(peername[0]) if isinstance(peername, tuple) and peername else ""
    return host.removeprefix("::ffff:")


class LimitedSMTP(SMTP):
    """aiosmtpd's SMTP with the gate's limits; one instance per connection, as aiosmtpd makes them."""

    def __init__(self, handler: Any, *, gate: Gate, **kwargs: Any) -> None:
        """kwargs go to aiosmtpd's SMTP (data_size_limit, hostname, ident, …)."""
        super().__init__(handler, **kwargs)
        self.gate = gate
        self.gate_ip: str | None = None  # set once admitted: released exactly once, at connection_lost
        self.refused = False
        self._counted: Envelope | None = None
        self._rcpt_attempts = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Admit the connection, or answer 421 and close it before aiosmtpd starts a session."""
        # After STARTTLS aiosmtpd calls this again for the same connection: count it only once.
        if self.gate_ip is None and self.transport is None:
            ip = peer_ip(transport.get_extra_info("peername"))
            if not self.gate.admit(ip):
                self.refused = True
                assert isinstance(transport, asyncio.WriteTransport)
                transport.write(TOO_MANY_CONNECTIONS)
                transport.close()  # flushes the 421 first
                return
            self.gate_ip = ip
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        """Free the connection's slot; a refused one never had a session to end."""
        if self.refused:
            return
        if self.gate_ip is not None:
            self.gate.leave(self.gate_ip)
            self.gate_ip = None
        super().connection_lost(error)

    async def smtp_RCPT(self, arg: str | None) -> None:
        """452 once this mail had max_recipients RCPT commands (refused ones count: they cost work too)."""
        if self.envelope is not None and self.envelope.mail_from:
            if self._counted is not self.envelope:  # a new transaction (after MAIL, RSET or DATA)
                self._counted, self._rcpt_attempts = self.envelope, 0
            if self._rcpt_attempts >= self.gate.limits.max_recipients:
                await self.push(TOO_MANY_RECIPIENTS)
                return
            self._rcpt_attempts += 1
        await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg: str) -> None:
        """Reserve the size limit from the shared budget before 354; none left → 451, the sender retries."""
        if arg or self.envelope is None or not self.envelope.rcpt_tos:
            await super().smtp_DATA(arg)  # aiosmtpd answers the syntax or sequence error
            return
        reserved = self.gate.reserve()
        if not reserved:
            await self.push(NO_ROOM_FOR_DATA)
            return
        try:
            # Held until the handler has stored the mail: that is when aiosmtpd lets go of the bytes.
            with self._long_data_lines():
                await super().smtp_DATA(arg)
        finally:
            self.gate.release(reserved)

    @contextmanager
    def _long_data_lines(self) -> Iterator[None]:
        """For this DATA only, let a line be as long as the size limit; commands keep aiosmtpd's 1,001 bytes.

        aiosmtpd refuses a DATA line over 1,001 bytes with a permanent 500, so the sending server
        bounces a real mail (an HTML form on one line) we could read. The size limit still bounds
        the mail, and the gate has reserved that much for it. Both bounds move: aiosmtpd's per-line
        check and the stream reader's own limit, which is fixed when the connection is made.
        """
        reader = self._reader
        previous = (self.line_length_limit, reader._limit)  # type: ignore[attr-defined]
        limit = max(self.data_size_limit or 0, previous[0])
        self.line_length_limit = reader._limit = limit  # type: ignore[attr-defined]
        try:
            yield
        finally:
            self.line_length_limit, reader._limit = previous  # type: ignore[attr-defined]
