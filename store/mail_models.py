"""SQLAlchemy tables of the mail channel: outbox, durable inbound mail, questions, auto-reply log,
and the health of the service's runners with the watchdog's open alerts.

Statuses are StrEnums stored as plain strings (store.models.EnumValue): a new one needs no
migration. Timestamps are UTCDateTime. Nothing here holds more personal data than a mail needs.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from store.encryption import EncryptedBytes, EncryptedJSON, EncryptedText
from store.models import Base, EnumValue, UTCDateTime

# RFC 5322 §2.1.1: a header line is at most 998 characters, so no Message-ID is longer.
HEADER_LENGTH = 998
ADDRESS_LENGTH = 254


class OutboxStatus(StrEnum):
    """Where an outgoing mail is: queued → sending → sent | retry | failed."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


class MailKind(StrEnum):
    """Why we send a mail; stored in the outbox (values never change), and a reply's token names its purpose."""

    REPLY = "antwoord"  # an automatic reply, or the coordinator's answer relayed
    ESCALATION = "escalatie"  # to the coordinator: a question, a quarantine, a set-aside or overdue referral
    DETAILS = "gegevens"  # the prefilled form asking a minimal referral's identity
    LINK_CODE = "koppelcode"  # the code that links a Telegram account
    DISPATCH = "verzending"  # a batch's mail to a provider
    DISPATCH_NOTICE = "verzonden"  # to the referrer: when and where their referrals went
    PROVIDER_REMINDER = "herinnering-aanbieder"
    DECISION_NOTICE = "terugkoppeling"  # to the referrer: what a provider or the coordinator decided
    OFFER_CHANGE = "aanbod-wijziging"  # to the coordinator: a provider's proposed offer change
    OFFER_DECISION = "aanbod-besluit"  # to the provider: the coordinator's decision on it
    ALARM = "alarm"  # to the coordinator: a mail could not be delivered
    ALERT = "alert"  # to the coordinator: something urgent that cannot wait (desk/alerts.py)
    WATCHDOG = "waakhond"  # to the coordinator: a runner is stuck
    RETENTION_WARNING = "bewaartermijn"  # to a staff member: a paused referral will be removed in a week
    ERASE_REQUEST = "wisverzoek"  # to a provider: erase a referral you received, the pupil asked us to
    REPORT = "rapport"  # to the coordinator (or whom they name): the figures report, as XLSX and HTML attachments
    SURVEY = "bevraging"  # to a staff member: the yearly under-12 survey, a form to reply to
    SURVEY_REMINDER = "bevraging-herinnering"  # to a staff member who did not answer it yet
    DIGEST = "digest"  # to the coordinator: the morning digest of what waits for her


class InboundStatus(StrEnum):
    """Where a received mail is: received → processing → done | quarantined."""

    RECEIVED = "received"
    PROCESSING = "processing"
    DONE = "done"
    QUARANTINED = "quarantined"


class QuestionStatus(StrEnum):
    """Whether a question to the coordinator still waits for an answer."""

    OPEN = "open"
    ANSWERED = "answered"


class OutboxMessage(Base):
    """One mail we send; the row exists (with its Message-ID) before any attempt to send it.

    While `sending`, next_attempt_at holds the moment the attempt began, so a crashed attempt
    can be found by its age (store.outbox.recover_stale).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(HEADER_LENGTH), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    to_address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    # Text, not one header line: a long subject is folded over several lines when sent (RFC 5322 §2.2.3).
    subject: Mapped[str] = mapped_column(EncryptedText())
    body_text: Mapped[str] = mapped_column(EncryptedText())
    body_html: Mapped[str | None] = mapped_column(EncryptedText())
    in_reply_to: Mapped[str | None] = mapped_column(String(HEADER_LENGTH))
    references: Mapped[str | None] = mapped_column(Text)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    status: Mapped[OutboxStatus] = mapped_column(EnumValue(OutboxStatus))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bounce_detail: Mapped[str | None] = mapped_column(Text)
    # [{"filename", "content_type", "text"}]: small text attachments, such as a dispatch's CSV; a binary one
    # (the report's XLSX) has "base64" instead of "text", as JSON holds no bytes.
    attachments: Mapped[list[dict[str, str]] | None] = mapped_column(EncryptedJSON())
    # When the retention purge emptied subject, bodies and attachments; the row stays for threading and bounces.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A failed mail the coordinator settled ("Mail #9: afgehandeld"): it leaves her agenda.
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH))


class InboundMail(Base):
    """A received mail, stored raw before we answer 250 (SMTP) or mark it seen (IMAP)."""

    __tablename__ = "inbound_mail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    # As its author spelled it; indexed to notice a new mail reusing an earlier one's Message-ID.
    message_id: Mapped[str | None] = mapped_column(String(HEADER_LENGTH), index=True)
    source: Mapped[str] = mapped_column(String(8))
    envelope_from: Mapped[str | None] = mapped_column(EncryptedText())
    envelope_to: Mapped[list[str]] = mapped_column(JSON)
    raw: Mapped[bytes] = mapped_column(EncryptedBytes())  # encrypted at rest, like every column that can name a pupil
    size: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[InboundStatus] = mapped_column(EnumValue(InboundStatus), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # False when the SMTP client was not one of our relays: its Authentication-Results prove nothing.
    trusted_client: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Who is processing it (one processor's random id) and since when: a recovery takes back only
    # claims no live transaction holds (store.inbound.hold), so two instances never process one mail.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the retention purge emptied raw and the sender; the row stays so a redelivery is still recognised.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A quarantined mail the coordinator settled ("Quarantaine #5: afgehandeld"): kept for its retention, off her agenda.
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH))


class Question(Base):
    """A question a staff member asked that the assistant passed on to the coordinator."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asker_email: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    asker_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(EncryptedText())
    context: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON())  # None is SQL NULL
    status: Mapped[QuestionStatus] = mapped_column(EnumValue(QuestionStatus), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(EncryptedText())
    answered_by: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH))
    # The outbox Message-ID of the mail to the coordinator: their reply's In-Reply-To finds it.
    escalation_message_id: Mapped[str | None] = mapped_column(String(HEADER_LENGTH), index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Asked in chat: the answer goes back to this chat.
    asker_chat_id: Mapped[int | None] = mapped_column(BigInteger)


class AutoReplyLog(Base):
    """One automatic reply sent to an address: the per-address daily limit counts these."""

    __tablename__ = "auto_reply_log"
    __table_args__ = (Index(None, "address", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RunnerHealth(Base):
    """How one runner of `meldpunt serve` fares: its last success and last failure (type and place, no data).

    One row per runner name; with several instances the row holds the latest report of any of them.
    """

    __tablename__ = "runners"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    instance: Mapped[str] = mapped_column(String(128))
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_type: Mapped[str | None] = mapped_column(String(128))
    last_failure_place: Mapped[str | None] = mapped_column(String(300))
    consecutive_failures: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WatchdogAlert(Base):
    """An incident the coordinator was alerted to and that is not over yet: the key makes it once per incident."""

    __tablename__ = "watchdog_alerts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
