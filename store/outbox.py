"""The outbox in the store: enqueue, claim, finish and recover mails; bounces and auto-reply counts.

Every mail is a row before it is sent, with a Message-ID fixed at enqueue time: a retry after a
crash resends the same Message-ID, so a receiver can drop the duplicate. Functions flush but never
commit; the caller owns the transaction. Errors stored here are SMTP codes and short texts only.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from intake.brussels import BRUSSELS
from store.mail_models import AutoReplyLog, MailKind, OutboxMessage, OutboxStatus
from store.models import normalise_email

DEFAULT_MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)
ERROR_LENGTH = 300
DUE_STATUSES = (OutboxStatus.QUEUED, OutboxStatus.RETRY)
_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>@]+>?")
# A msg-id in a References or In-Reply-To value (RFC 5322 §3.6.4); comments and stray words are no IDs.
_MESSAGE_IDS = re.compile(r"<[^<>\s]+>")
_CHUNK = 1000
# A reply names its thread; more IDs than this is no real thread (mail/limits.py caps the header anyway).
_MAX_THREAD_IDS = 5000


def new_message_id(domain: str) -> str:
    """A fresh, globally unique Message-ID on our domain (RFC 5322 §3.6.4), in angle brackets."""
    return f"<{uuid.uuid4().hex}@{domain.strip().lower()}>"


def normalise_message_id(message_id: str) -> str:
    """A Message-ID as we store ours: trimmed, lowercase, in angle brackets (NUL, never valid, dropped)."""
    bare = message_id.replace("\x00", "").strip().strip("<>").strip().lower()
    return f"<{bare}>"


def unique_ids(message_ids: Iterable[str]) -> list[str]:
    """Message-IDs in their order and spelling, each once: a later one differing only in case is dropped."""
    seen: set[str] = set()
    kept: list[str] = []
    for message_id in message_ids:
        if (folded := message_id.lower()) not in seen:
            seen.add(folded)
            kept.append(message_id)
    return kept


def reply_thread(message_id: str | None, *, references: str | None, in_reply_to: str | None) -> tuple[str | None, str | None]:
    """(In-Reply-To, References) of a reply to the mail with this Message-ID, each ID spelled as its author did.

    RFC 5322 §3.6.4: the parent's References, or else its In-Reply-To when that names one ID, then
    the parent's own ID. Mail clients thread by comparing IDs byte for byte (the id-left is case
    sensitive), so nothing here is lower-cased; only the comparison that drops repeats ignores case.
    """
    bare = (message_id or "").strip().strip("<>").strip()
    if not bare:
        return None, None
    own = f"<{bare}>"
    parents = _MESSAGE_IDS.findall(references or "")
    if not parents and len(replied := _MESSAGE_IDS.findall(in_reply_to or "")) == 1:
        parents = replied
    return own, " ".join(unique_ids([*parents, own]))


def safe_error(text: str) -> str:
    """An error text fit to store and log: addresses a server quoted removed, and short."""
    return _ADDRESS.sub("<adres>", " ".join(text.split()))[:ERROR_LENGTH]


def enqueue(
    session: Session,
    *,
    kind: str,
    to_address: str,
    subject: str,
    body_text: str,
    body_html: str | None = None,
    domain: str,
    now: datetime,
    in_reply_to: str | None = None,
    references: str | None = None,
    referral_id: int | None = None,
    attachments: list[dict[str, str]] | None = None,
) -> OutboxMessage:
    """Queue a mail for the runner, due now, with its Message-ID fixed from this moment on.

    NUL characters (quoted from a received mail) are dropped: RFC 5322 forbids them and PostgreSQL
    text cannot hold them. A subject is kept whole, however long: mail.outbox folds it into lines
    RFC 5322 allows. References lists each Message-ID once.
    """
    message = OutboxMessage(
        message_id=new_message_id(domain), kind=kind, to_address=to_address.strip(),
        subject=subject.replace("\x00", ""), body_text=body_text.replace("\x00", ""),
        body_html=body_html.replace("\x00", "") if body_html is not None else None, in_reply_to=in_reply_to,
        references=" ".join(unique_ids(references.split())) if references else None, referral_id=referral_id,
        attachments=attachments, status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=now, created_at=now,
    )
    session.add(message)
    session.flush()
    return message


class ComposedMail(Protocol):
    """A mail already written (intake.texts.Composed): the store keeps it, it renders nothing."""

    @property
    def subject(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def html(self) -> str: ...


def enqueue_mail(
    session: Session, composed: ComposedMail, *, kind: MailKind, to: str, domain: str, now: datetime,
    in_reply_to: str | None = None, references: str | None = None, referral_id: int | None = None,
    attachments: list[dict[str, str]] | None = None,
) -> OutboxMessage:
    """Queue a composed mail (subject, text and its HTML alternative) for the runner: enqueue() for a written mail."""
    return enqueue(
        session, kind=kind, to_address=to, subject=composed.subject, body_text=composed.text, body_html=composed.html,
        domain=domain, now=now, in_reply_to=in_reply_to, references=references, referral_id=referral_id, attachments=attachments,
    )


def claim_due(session: Session, *, now: datetime, limit: int) -> list[OutboxMessage]:
    """Mark up to limit due mails `sending` (attempts + 1) and return them, oldest due first.

    One UPDATE … WHERE id IN (SELECT …): on SQLite the write lock is taken before the rows are
    chosen, on PostgreSQL SKIP LOCKED lets two runners claim disjoint rows without waiting.
    While `sending`, next_attempt_at records when the attempt began (see recover_stale).
    """
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status.in_(DUE_STATUSES), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claim = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(
            status=OutboxStatus.SENDING, attempts=OutboxMessage.attempts + 1, next_attempt_at=now
        )
        .returning(OutboxMessage)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    claimed = list(session.scalars(claim))
    # RETURNING promises no order.
    return sorted(claimed, key=lambda message: (message.created_at, message.id))


def mark_sent(session: Session, message: OutboxMessage, *, now: datetime) -> None:
    """Record that the relay (or the Maildir) accepted the mail."""
    message.status = OutboxStatus.SENT
    message.sent_at = now
    message.last_error = None
    session.flush()


def backoff(attempts: int) -> timedelta:
    """The wait after the attempts-th failed attempt: 1, 2, 4, … minutes, at most an hour."""
    doublings: int = 2 ** max(attempts - 1, 0)  # typeshed types int ** int as Any (a negative power is a float)
    return min(FIRST_BACKOFF * doublings, MAX_BACKOFF)


def mark_retry(
    session: Session,
    message: OutboxMessage,
    *,
    error: str,
    now: datetime,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> OutboxStatus:
    """Schedule another attempt after a temporary failure, or fail it once attempts run out."""
    if message.attempts >= max_attempts:
        mark_failed(session, message, error=error, now=now)
        return OutboxStatus.FAILED
    message.status = OutboxStatus.RETRY
    message.next_attempt_at = now + backoff(message.attempts)
    message.last_error = safe_error(error)
    session.flush()
    return OutboxStatus.RETRY


def mark_failed(session: Session, message: OutboxMessage, *, error: str, now: datetime) -> None:
    """Give up on the mail for good (a 5xx, or too many attempts); the row and its text stay."""
    message.status = OutboxStatus.FAILED
    message.next_attempt_at = now
    message.last_error = safe_error(error)
    session.flush()


def recover_stale(
    session: Session,
    *,
    now: datetime,
    older_than: timedelta,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> list[OutboxMessage]:
    """Put mails left `sending` by a crash back to `retry`, keeping their Message-ID.

    The crash may have come after the relay accepted the mail, so the receiver may see it twice:
    the unchanged Message-ID is what lets it drop the duplicate. A mail that crashed the runner
    max_attempts times fails instead of looping forever.
    """
    query = select(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.SENDING,
        OutboxMessage.next_attempt_at <= now - older_than,
    )
    stale = list(session.scalars(query.order_by(OutboxMessage.id)))
    for message in stale:
        error = "onderbroken tijdens het versturen (herstart)"
        if message.attempts >= max_attempts:
            mark_failed(session, message, error=error, now=now)
            continue
        message.status, message.next_attempt_at, message.last_error = (
            OutboxStatus.RETRY, now, error
        )
    session.flush()
    return stale


def find_by_message_id(session: Session, message_id: str) -> OutboxMessage | None:
    """Our outgoing mail with this Message-ID (brackets, case and spaces forgiven), or None."""
    wanted = normalise_message_id(message_id)
    return session.scalar(select(OutboxMessage).where(OutboxMessage.message_id == wanted))


def is_our_message_id(session: Session, message_id: str) -> bool:
    """Whether we sent a mail with this Message-ID (to recognise replies, bounces and loops)."""
    return find_by_message_id(session, message_id) is not None


def record_bounce(session: Session, message_id: str, *, detail: str, now: datetime) -> bool:
    """Note that a mail we sent bounced; False if the Message-ID is not ours."""
    message = find_by_message_id(session, message_id)
    if message is None:
        return False
    message.bounced_at = now
    message.bounce_detail = safe_error(detail)
    session.flush()
    return True


def start_of_local_day(now: datetime) -> datetime:
    """Midnight in Brussels of the day now falls on (a timezone-aware datetime)."""
    # "Today" for the auto-reply limit is the Flemish calendar day, not the UTC one.
    local = now.astimezone(BRUSSELS)
    return datetime.combine(local.date(), time(0), tzinfo=BRUSSELS)


def auto_replies_today(session: Session, address: str, *, now: datetime) -> int:
    """How many automatic replies went to address since midnight (Brussels) of now's day."""
    query = select(func.count()).select_from(AutoReplyLog).where(
        AutoReplyLog.address == normalise_email(address),
        AutoReplyLog.sent_at >= start_of_local_day(now),
        AutoReplyLog.sent_at <= now,
    )
    return int(session.scalar(query) or 0)


def referral_replies_today(session: Session, address: str, *, now: datetime) -> int:
    """How many replies about a referral (confirmations, form problems: kind "antwoord" with a referral) went to address today."""
    query = select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.referral_id.is_not(None),
        OutboxMessage.kind == MailKind.REPLY,
        func.lower(OutboxMessage.to_address) == normalise_email(address),
        OutboxMessage.created_at >= start_of_local_day(now),
        OutboxMessage.created_at <= now,
    )
    return int(session.scalar(query) or 0)


def log_auto_reply(session: Session, address: str, *, now: datetime) -> AutoReplyLog:
    """Count one automatic reply to address (stored lowercase)."""
    entry = AutoReplyLog(address=normalise_email(address), sent_at=now)
    session.add(entry)
    session.flush()
    return entry


def has_kind_for_referral(session: Session, referral_id: int, *, kind: MailKind) -> bool:
    """Whether a mail of this kind was ever queued for this referral (so it is not queued twice)."""
    query = select(OutboxMessage.id).where(OutboxMessage.referral_id == referral_id, OutboxMessage.kind == kind)
    return session.scalar(query.limit(1)) is not None


def answers_mail_to(session: Session, message_ids: list[str], address: str, *, kinds: frozenset[MailKind] | None = None) -> bool:
    """Whether one of these Message-IDs (a reply's In-Reply-To/References) is a mail we sent to address.

    Our Message-IDs are random (122 bits), so naming one proves the sender read a mail we sent to that
    address: the token that lets a reply act. `kinds`, when given, binds it to those purposes too.
    """
    wanted = sorted({normalise_message_id(m) for m in message_ids if m.strip()})[:_MAX_THREAD_IDS]
    query = select(OutboxMessage.id).where(func.lower(OutboxMessage.to_address) == normalise_email(address))
    if kinds is not None:
        query = query.where(OutboxMessage.kind.in_(sorted(kinds)))
    # In chunks: a References header can name more Message-IDs than one statement may bind.
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        if session.scalar(query.where(OutboxMessage.message_id.in_(chunk)).limit(1)) is not None:
            return True
    return False
