"""Durable intake of raw mail: store first (deduplicated on Message-ID), process later, quarantine what fails.

Mailman's switchboard semantics in SQL: a mail is accepted only once its bytes are committed; a mail
that is being processed when the process dies goes back to the queue; after three failed attempts it
goes to quarantine ("bad") instead of looping forever.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.mail_models import InboundMail, InboundStatus

MAX_ATTEMPTS = 3
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
# No control character belongs in a Message-ID (RFC 5322 §3.6.4), and PostgreSQL text cannot hold NUL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def message_id_of(raw: bytes) -> str | None:
    """The Message-ID from the raw header block, normalised (no brackets, lower case), or None."""
    end = _HEADER_END.search(raw)
    headers = raw[: end.start()] if end else raw[:65536]
    found = _MESSAGE_ID.search(headers)
    if not found:
        return None
    value = _CONTROL.sub("", b" ".join(found[1].split()).decode("ascii", "replace")).strip().strip("<>").strip().lower()
    return value[:500] or None


def dedupe_key(raw: bytes) -> tuple[str, str | None]:
    """(key, message_id): the same mail delivered twice gets the same key."""
    message_id = message_id_of(raw)
    basis = f"mid:{message_id}".encode() if message_id else b"raw:" + raw
    return hashlib.sha256(basis).hexdigest(), message_id


def accept(
    session: Session, raw: bytes, *, source: str, envelope_from: str | None, envelope_to: list[str], now: datetime
) -> tuple[InboundMail, bool]:
    """Store a raw mail unless it is already here; True when newly stored. The caller commits."""
    key, message_id = dedupe_key(raw)
    existing = session.scalar(select(InboundMail).where(InboundMail.dedupe_key == key))
    if existing is not None:
        return existing, False
    mail = InboundMail(
        dedupe_key=key, message_id=message_id, source=source, envelope_from=envelope_from,
        envelope_to=list(envelope_to), raw=raw, size=len(raw), received_at=now, status=InboundStatus.RECEIVED, attempts=0,
    )
    session.add(mail)
    session.flush()
    return mail, True


def claim_next(session: Session, *, now: datetime) -> InboundMail | None:
    """The oldest received mail, marked as processing with one more attempt; None when idle."""
    query = select(InboundMail).where(InboundMail.status == InboundStatus.RECEIVED).order_by(InboundMail.id).limit(1)
    mail = session.scalar(query.with_for_update(skip_locked=True))
    if mail is None:
        return None
    mail.status = InboundStatus.PROCESSING
    mail.attempts += 1
    session.flush()
    return mail


def finish(session: Session, mail: InboundMail, *, outcome: str, now: datetime, reason: str | None = None) -> None:
    """Mark a mail as handled, with a short outcome code (and an optional Dutch explanation)."""
    mail.status, mail.outcome, mail.reason, mail.processed_at = InboundStatus.DONE, outcome, _storable(reason), now
    session.flush()


def quarantine(session: Session, mail: InboundMail, *, reason: str, now: datetime) -> None:
    """Set a mail aside for the coordinator with a Dutch reason; it is never processed again by itself."""
    mail.status, mail.outcome, mail.reason, mail.processed_at = InboundStatus.QUARANTINED, "quarantaine", _storable(reason), now
    session.flush()


def _storable(reason: str | None) -> str | None:
    """A reason fit to store: it may quote a raw header, whose undecodable bytes (lone surrogates)
    no database can encode and whose NUL PostgreSQL text cannot hold."""
    if reason is None:
        return None
    return reason.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def recover_interrupted(session: Session, *, now: datetime) -> int:
    """After a crash: mails left 'processing' go back to the queue, or to quarantine after 3 attempts."""
    too_often = update(InboundMail).where(
        InboundMail.status == InboundStatus.PROCESSING, InboundMail.attempts >= MAX_ATTEMPTS
    ).values(status=InboundStatus.QUARANTINED, outcome="quarantaine", processed_at=now,
             reason=f"De verwerking mislukte {MAX_ATTEMPTS} keer; de coördinator bekijkt deze mail.")
    again = update(InboundMail).where(InboundMail.status == InboundStatus.PROCESSING).values(status=InboundStatus.RECEIVED)
    session.execute(too_often)
    return int(getattr(session.execute(again), "rowcount", 0) or 0)


def quarantined(session: Session) -> list[InboundMail]:
    """Quarantined mails, newest first."""
    return list(session.scalars(select(InboundMail).where(InboundMail.status == InboundStatus.QUARANTINED).order_by(InboundMail.id.desc())))
