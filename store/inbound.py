"""Durable intake of raw mail: store first (deduplicated on Message-ID and content), process later, quarantine what fails.

Mailman's switchboard semantics in SQL: a mail is accepted only once its bytes are committed; a mail
that is being processed when the process dies goes back to the queue; after three failed attempts it
goes to quarantine ("bad") instead of looping forever.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.mail_models import InboundMail, InboundStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# The Message-ID is looked for in this much of the raw mail only: a header block is far smaller
# (mail/limits.py quarantines a larger one), and a 10 MB mail without a blank line must not be scanned whole.
HEADER_SCAN_BYTES = 256 * 1024
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
# No control character belongs in a Message-ID (RFC 5322 §3.6.4), and PostgreSQL text cannot hold NUL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The fields an author writes and no relay or mailbox rewrites: what DKIM signs (RFC 6376 §5.4.1).
# Trace fields (Received, Return-Path, Delivered-To, X-Original-To, Authentication-Results, spam
# scores) differ between an SMTP delivery and the IMAP copy of one mail, so they are left out.
_AUTHOR_FIELDS = frozenset({
    b"from", b"sender", b"reply-to", b"to", b"cc", b"subject", b"date", b"message-id", b"in-reply-to",
    b"references", b"mime-version", b"content-type", b"content-transfer-encoding",
})
# Lines end in CRLF, CR or LF, as email.feedparser (and mail/limits.py) split them.
_FOLD = re.compile(rb"(?:\r\n|\r|\n)(?=[ \t])")
_LINE_END = re.compile(rb"\r\n|\r|\n")
_FIELD = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:")  # a field name (RFC 5322 §2.2) and its colon
# Left out of the digest: relays and mailboxes change line ends, folding and trailing blanks (why DKIM
# has a "relaxed" canonicalisation, RFC 6376 §3.4); deleting all of it is the cheapest linear way to be
# blind to that (10 MB in about 10 ms). Two mails differing in whitespace alone count as one.
_WHITESPACE = b" \t\r\n"


def _bounds(raw: bytes) -> tuple[int, int]:
    """Where the header block ends and where the body starts (HEADER_SCAN_BYTES when no blank line is seen)."""
    end = _HEADER_END.search(raw, 0, HEADER_SCAN_BYTES)
    return (end.start(), end.end()) if end else (HEADER_SCAN_BYTES, HEADER_SCAN_BYTES)


def header_block(raw: bytes) -> bytes:
    """The raw header block, read no further than HEADER_SCAN_BYTES."""
    return raw[: _bounds(raw)[0]]


def message_id_of(raw: bytes) -> str | None:
    """The Message-ID from the raw header block, without brackets, spelled as its author did, or None.

    Not lower-cased: a reply must name it byte for byte, or mail clients do not thread it (RFC 5322
    §3.6.4 leaves the id-left case-sensitive).
    """
    return _message_id_in(header_block(raw))


def _message_id_in(head: bytes) -> str | None:
    """The Message-ID field's value in a header block, trimmed and without brackets, or None."""
    found = _MESSAGE_ID.search(head)
    if not found:
        return None
    value = _CONTROL.sub("", b" ".join(found[1].split()).decode("ascii", "replace")).strip().strip("<>").strip()
    return value[:500] or None


def _author_lines(head: bytes) -> bytes:
    """What the author wrote in the header block, one line each, whitespace left out.

    The fields in _AUTHOR_FIELDS (name in lower case) and every line that is no field at all (a
    broken mail's text must count); any other field is a relay's or a mailbox's and is skipped.
    """
    kept: list[bytes] = []
    for line in _LINE_END.split(_FOLD.sub(b"", head)):
        field = _FIELD.match(line)
        if field is None:
            kept.append(line.translate(None, _WHITESPACE))
        elif (name := field[1].lower()) in _AUTHOR_FIELDS:
            kept.append(name + b":" + line[field.end():].translate(None, _WHITESPACE))
    return b"\n".join(line for line in kept if line)


def dedupe_key(raw: bytes) -> tuple[str, str | None]:
    """(key, message_id): one key per mail, however often and by whichever way it is delivered.

    Keyed on the Message-ID alone, a new mail reusing one (form tools and scripts do) vanished as a
    duplicate. The key is a digest of the author's fields (the Message-ID among them) and the body,
    whitespace left out: trace fields, CRLF or LF and trailing blanks leave it unchanged, another
    text or Date makes it another mail. A mail with nothing of an author's (trace fields or
    whitespace only) is keyed on its exact bytes. Linear in the mail's size.
    """
    head_end, body_start = _bounds(raw)
    head = raw[:head_end]
    author, body = _author_lines(head), raw[body_start:].translate(None, _WHITESPACE)
    if author or body:
        # "\n\n" is never inside either part: whitespace is gone from the body, blank lines from the head.
        digest = hashlib.sha256(b"author\n" + author + b"\n\n")
        digest.update(body)
    else:
        digest = hashlib.sha256(b"raw\n")
        digest.update(raw)
    return digest.hexdigest(), _message_id_in(head)


def accept(
    session: Session, raw: bytes, *, source: str, envelope_from: str | None, envelope_to: list[str], now: datetime,
    trusted_client: bool = True,
) -> tuple[InboundMail, bool]:
    """Store a raw mail unless it is already here; True when newly stored. The caller commits.

    trusted_client: False when an SMTP client other than our relays handed it over (see mail.safety).
    """
    key, message_id = dedupe_key(raw)
    existing = session.scalar(select(InboundMail).where(InboundMail.dedupe_key == key))
    if existing is not None:
        return existing, False
    earlier = None if message_id is None else session.scalar(
        select(InboundMail.id).where(InboundMail.message_id == message_id).order_by(InboundMail.id).limit(1)
    )
    mail = InboundMail(
        dedupe_key=key, message_id=message_id, source=source, envelope_from=envelope_from,
        envelope_to=list(envelope_to), raw=raw, size=len(raw), received_at=now, status=InboundStatus.RECEIVED, attempts=0,
        trusted_client=trusted_client,
    )
    session.add(mail)
    session.flush()
    if earlier is not None:
        # Row ids only: a Message-ID may hold the sender's address.
        log.info("mail %s heeft de Message-ID van mail %s maar een andere inhoud: bewaard als nieuwe mail", mail.id, earlier)
    return mail, True


def claim_next(session: Session, *, now: datetime, by: str | None = None) -> InboundMail | None:
    """The oldest received mail, marked as processing by `by` with one more attempt; None when idle.

    One UPDATE … WHERE id = (SELECT …) RETURNING, so only one transaction wins a mail: on SQLite the
    write lock is taken before the row is chosen (a SELECT first let two processes pick the same
    mail), on PostgreSQL SKIP LOCKED lets two processors claim different mails without waiting.
    `=`, not `IN`: PostgreSQL may rescan an IN subquery per row, and a rescan skips the row this
    statement just locked and returns the next one, claiming two mails at once.
    """
    oldest = select(InboundMail.id).where(InboundMail.status == InboundStatus.RECEIVED).order_by(InboundMail.id).limit(1)
    if _is_postgresql(session):
        oldest = oldest.with_for_update(skip_locked=True)
    claim = (
        update(InboundMail)
        .where(InboundMail.id == oldest.scalar_subquery(), InboundMail.status == InboundStatus.RECEIVED)
        .values(status=InboundStatus.PROCESSING, attempts=InboundMail.attempts + 1, claimed_by=by, claimed_at=now)
        .returning(InboundMail)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return session.scalars(claim).first()


def hold(session: Session, mail_id: int, *, by: str | None) -> InboundMail | None:
    """The claimed mail, locked for this transaction on PostgreSQL; None when the claim is no longer `by`'s.

    The processing transaction starts with this: while it holds the row lock, another instance's
    recovery skips the mail (SKIP LOCKED); if that recovery took the claim back first, this one
    sees it and leaves the mail to whoever claims it next.
    """
    owner = InboundMail.claimed_by.is_(None) if by is None else InboundMail.claimed_by == by
    query = select(InboundMail).where(InboundMail.id == mail_id, InboundMail.status == InboundStatus.PROCESSING, owner)
    if _is_postgresql(session):
        query = query.with_for_update()
    return session.scalar(query.execution_options(populate_existing=True))


def release(session: Session, mail_id: int, *, by: str | None) -> bool:
    """Give a claim back without counting the attempt (the database failed, not the mail); True if it was ours."""
    owner = InboundMail.claimed_by.is_(None) if by is None else InboundMail.claimed_by == by
    give_back = update(InboundMail).where(InboundMail.id == mail_id, InboundMail.status == InboundStatus.PROCESSING, owner).values(
        status=InboundStatus.RECEIVED, attempts=InboundMail.attempts - 1, claimed_by=None, claimed_at=None,
    )
    return bool(getattr(session.execute(give_back.execution_options(synchronize_session=False)), "rowcount", 0))


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


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


def recover_interrupted(session: Session, *, now: datetime, older_than: timedelta | None = None) -> int:
    """Mails left 'processing' by a crash go back to the queue, or to quarantine after 3 attempts.

    Only claims no live transaction holds (store.inbound.hold locks them on PostgreSQL), so one
    instance's recovery never takes a mail another instance is processing; older_than leaves
    claims younger than that alone (a periodic recovery then only takes orphans).
    """
    orphans = select(InboundMail.id).where(InboundMail.status == InboundStatus.PROCESSING)
    if older_than is not None:
        orphans = orphans.where(InboundMail.claimed_at.is_(None) | (InboundMail.claimed_at <= now - older_than))
    if _is_postgresql(session):
        orphans = orphans.with_for_update(skip_locked=True)
    orphan_ids = list(session.scalars(orphans))
    if not orphan_ids:
        return 0
    taken = InboundMail.id.in_(orphan_ids)
    too_often = update(InboundMail).where(taken, InboundMail.status == InboundStatus.PROCESSING, InboundMail.attempts >= MAX_ATTEMPTS).values(
        status=InboundStatus.QUARANTINED, outcome="quarantaine", processed_at=now, claimed_by=None,
        reason=f"De verwerking mislukte {MAX_ATTEMPTS} keer; de coördinator bekijkt deze mail.",
    )
    again = update(InboundMail).where(taken, InboundMail.status == InboundStatus.PROCESSING).values(
        status=InboundStatus.RECEIVED, claimed_by=None, claimed_at=None,
    )
    session.execute(too_often.execution_options(synchronize_session=False))
    return int(getattr(session.execute(again.execution_options(synchronize_session=False)), "rowcount", 0) or 0)


def quarantined(session: Session) -> list[InboundMail]:
    """Quarantined mails, newest first."""
    return list(session.scalars(select(InboundMail).where(InboundMail.status == InboundStatus.QUARANTINED).order_by(InboundMail.id.desc())))
